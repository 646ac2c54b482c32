// Reads a file line by line through one reusable buffer, filled by large
// read() calls, while counting the bytes and computing their CRC-32.
//
// Contract:
//  - Lines are returned as string_views into the buffer, valid until the
//    next Next() call, without the "\n" or "\r\n" terminator. A last line
//    without a terminator is returned too.
//  - Memory use is the buffer, whatever the file size; a line longer than
//    the buffer stops reading with InvalidArgument "FILE:LINE: ...".
//  - After Next() returns false, status() says whether the end of the file
//    was reached (OK) or reading failed; bytes_read() and crc32() then cover
//    every byte read.
#ifndef AFFINITY_TRAINER_DATA_LINE_READER_H_
#define AFFINITY_TRAINER_DATA_LINE_READER_H_

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trainer/data/huge_pages.h"

namespace affinity {

class LineReader {
 public:
  // NotFound for a missing file, the errno's code for other failures; the
  // message names the file.
  static absl::StatusOr<std::unique_ptr<LineReader>> Open(
      const std::string& path, size_t buffer_bytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  bool Next(absl::string_view* line) {
    while (true) {
      const char* start = buffer_.get() + pos_;
      const char* newline =
          static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      if (newline != nullptr) {
        pos_ = newline + 1 - buffer_.get();
        return Emit(start, newline, line);
      }
      if (eof_) {
        if (pos_ == end_) return false;
        pos_ = end_;
        return Emit(start, buffer_.get() + end_, line);
      }
      if (!Refill()) return false;
    }
  }

  const absl::Status& status() const { return status_; }
  int64_t line_number() const { return line_number_; }  // of the last line
  int64_t bytes_read() const { return bytes_read_; }
  // Offset just past the last returned line.
  int64_t position() const {
    return bytes_read_ - static_cast<int64_t>(end_ - pos_);
  }
  // Size of a regular file when opened, else 0.
  int64_t file_size() const { return file_size_; }
  uint32_t crc32() const { return crc32_; }
  const std::string& path() const { return path_; }

 private:
  LineReader(std::string path, int fd, int64_t file_size, size_t buffer_bytes);
  bool Emit(const char* start, const char* stop, absl::string_view* line) {
    if (stop > start && stop[-1] == '\r') --stop;
    *line = absl::string_view(start, stop - start);
    ++line_number_;
    return true;
  }
  bool Refill();

  std::string path_;
  int fd_;
  int64_t file_size_;
  size_t capacity_;
  HugeArray<char> buffer_;
  size_t pos_ = 0;  // next unread byte
  size_t end_ = 0;  // end of valid bytes
  bool eof_ = false;
  absl::Status status_;
  int64_t line_number_ = 0;
  int64_t bytes_read_ = 0;
  uint32_t crc32_ = 0;
};

}  // namespace affinity

#endif  // AFFINITY_TRAINER_DATA_LINE_READER_H_
