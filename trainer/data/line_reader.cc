#include "trainer/data/line_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"

namespace affinity {

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Open(
    const std::string& path, size_t buffer_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return absl::ErrnoToStatus(err, absl::StrCat(path, ": cannot open"));
  }
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  struct stat info;
  const int64_t size =
      ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) ? info.st_size : 0;
  return std::unique_ptr<LineReader>(
      new LineReader(path, fd, size, buffer_bytes < 16 ? 16 : buffer_bytes));
}

LineReader::LineReader(std::string path, int fd, int64_t file_size,
                       size_t buffer_bytes)
    : path_(std::move(path)),
      fd_(fd),
      file_size_(file_size),
      capacity_(buffer_bytes),
      buffer_(AllocateHugeArray<char>(buffer_bytes)),
      crc32_(static_cast<uint32_t>(::crc32(0L, Z_NULL, 0))) {}

LineReader::~LineReader() { ::close(fd_); }

bool LineReader::Refill() {
  if (!status_.ok()) return false;
  if (pos_ > 0) {
    std::memmove(buffer_.get(), buffer_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == capacity_) {
    status_ = absl::InvalidArgumentError(absl::StrCat(
        path_, ":", line_number_ + 1, ": line longer than ", capacity_,
        " bytes, expected one short interaction row per line"));
    return false;
  }
  while (true) {
    const ssize_t n = ::read(fd_, buffer_.get() + end_, capacity_ - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      status_ = absl::ErrnoToStatus(
          err,
          absl::StrCat(path_, ": read failed after ", bytes_read_, " bytes"));
      return false;
    }
    if (n == 0) {
      eof_ = true;
      return true;
    }
    crc32_ = static_cast<uint32_t>(
        ::crc32(crc32_, reinterpret_cast<const Bytef*>(buffer_.get() + end_),
                static_cast<uInt>(n)));
    bytes_read_ += n;
    end_ += static_cast<size_t>(n);
    return true;
  }
}

}  // namespace affinity
