// Helpers shared by the fuzz targets: a reader that takes option bytes from
// the front of a fuzz input, and FUZZ_CHECK, which aborts (a finding for
// libFuzzer, a failure for replay_main) when an invariant does not hold.
// Header-only; no state outside the objects.
#ifndef AFFINITY_TESTS_FUZZ_FUZZ_INPUT_H_
#define AFFINITY_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"

#define FUZZ_CHECK(cond, ...)                                                       \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, "  %s\n", std::string(__VA_ARGS__).c_str());             \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace affinity::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  // The next byte (0 once the input is used up).
  uint8_t TakeByte() {
    if (rest_.empty()) return 0;
    const uint8_t b = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }
  // One of `n` choices (n >= 1).
  size_t TakeChoice(size_t n) { return TakeByte() % n; }

  // The bytes up to the first `separator` (or all), which is consumed.
  absl::string_view TakeUntil(char separator) {
    const size_t at = rest_.find(separator);
    absl::string_view head = rest_.substr(0, at);
    rest_.remove_prefix(at == absl::string_view::npos ? rest_.size() : at + 1);
    return head;
  }

  absl::string_view rest() const { return rest_; }

 private:
  absl::string_view rest_;
};

}  // namespace affinity::fuzz

#endif  // AFFINITY_TESTS_FUZZ_FUZZ_INPUT_H_
