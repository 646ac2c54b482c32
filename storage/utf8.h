// UTF-8 validation of the text the stores keep. Every id and attribute that
// reaches a client travels in a proto3 `string`, which must be valid UTF-8:
// one invalid byte makes every answer that carries it unreadable.
//
// Contract: pure functions, thread-safe, no allocation except the message
// of InvalidUtf8Position. Well-formed means Unicode's Table 3-7: no
// overlong forms (C0, C1, E0 80..9F, F0 80..8F), no surrogates (ED A0..BF),
// nothing above U+10FFFF (F4 90.., F5..FF), no truncated sequence and no
// stray continuation byte. NUL (U+0000) is well-formed UTF-8; callers that
// forbid it in ids check it themselves (FindNul).
#ifndef AFFINITY_STORAGE_UTF8_H_
#define AFFINITY_STORAGE_UTF8_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace affinity::storage {

// Offset of the first byte of the first ill-formed sequence, or npos when
// the whole text is well-formed UTF-8.
size_t FindInvalidUtf8(absl::string_view text);

inline bool IsValidUtf8(absl::string_view text) {
  return FindInvalidUtf8(text) == absl::string_view::npos;
}

// Offset of the first NUL byte, or npos.
inline size_t FindNul(absl::string_view text) { return text.find('\0'); }

// Where the first ill-formed sequence of `text` starts, for messages:
// "byte 0xE9 at offset 3" ("" when the text is well-formed).
std::string InvalidUtf8Position(absl::string_view text);

// The hint that ends every invalid-UTF-8 error of a file reader.
inline constexpr absl::string_view kUtf8Expectation =
    "expected valid UTF-8 (convert the file first, e.g. iconv -f WINDOWS-1252 -t UTF-8)";

}  // namespace affinity::storage

#endif  // AFFINITY_STORAGE_UTF8_H_
