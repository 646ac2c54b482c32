#include "tests/fuzz/scratch_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace affinity::fuzz {
namespace {

std::string* created = nullptr;

void RemoveScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(*created, ec);
}

std::string MakeDir() {
  std::string parent = "/dev/shm";
  if (::access(parent.c_str(), W_OK | X_OK) != 0) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    if (tmp == nullptr) tmp = std::getenv("TMPDIR");
    parent = tmp != nullptr ? tmp : "/tmp";
  }
  std::string pattern = parent + "/affinity_fuzz.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror(pattern.c_str());
    std::abort();
  }
  return pattern;
}

}  // namespace

const std::string& ScratchDir() {
  if (created == nullptr) {
    created = new std::string(MakeDir());
    std::atexit(RemoveScratchDir);
  }
  return *created;
}

void WriteScratchFile(const std::string& path, absl::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::abort();
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      std::perror(path.c_str());
      std::abort();
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace affinity::fuzz
