// UTF-8 validation: the standard edge cases (overlongs, surrogates, code
// points above U+10FFFF, truncated sequences, stray continuation bytes), and
// every sequence of up to three bytes checked against a decoder that
// applies the definition (shortest form, no surrogate, at most U+10FFFF).
#include "storage/utf8.h"

#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace affinity::storage {
namespace {

constexpr size_t kValid = absl::string_view::npos;

// The definition, independently of the validator's byte-range table:
// decode each sequence from its lead byte's length, then reject
// non-continuation bytes, non-shortest forms, surrogates and > U+10FFFF.
bool ReferenceValid(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int length;
    uint32_t cp;
    if (c < 0x80) {
      length = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      length = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      length = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      length = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + length > s.size()) return false;
    for (int k = 1; k < length; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinimum[length]) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    if (cp > 0x10FFFF) return false;
    i += length;
  }
  return true;
}

TEST(Utf8Test, WellFormedText) {
  EXPECT_EQ(FindInvalidUtf8(""), kValid);
  EXPECT_EQ(FindInvalidUtf8("plain ascii, long enough for the 8-byte path"), kValid);
  EXPECT_EQ(FindInvalidUtf8("caf\xC3\xA9"), kValid);                 // U+00E9
  EXPECT_EQ(FindInvalidUtf8("\xE2\x82\xAC 5"), kValid);              // U+20AC
  EXPECT_EQ(FindInvalidUtf8("\xF0\x9F\x8E\xAC"), kValid);            // U+1F3AC
  EXPECT_EQ(FindInvalidUtf8("\xC2\x80"), kValid);                    // U+0080
  EXPECT_EQ(FindInvalidUtf8("\xDF\xBF"), kValid);                    // U+07FF
  EXPECT_EQ(FindInvalidUtf8("\xE0\xA0\x80"), kValid);                // U+0800
  EXPECT_EQ(FindInvalidUtf8("\xED\x9F\xBF"), kValid);                // U+D7FF
  EXPECT_EQ(FindInvalidUtf8("\xEE\x80\x80"), kValid);                // U+E000
  EXPECT_EQ(FindInvalidUtf8("\xEF\xBF\xBF"), kValid);                // U+FFFF
  EXPECT_EQ(FindInvalidUtf8("\xF0\x90\x80\x80"), kValid);            // U+10000
  EXPECT_EQ(FindInvalidUtf8("\xF4\x8F\xBF\xBF"), kValid);            // U+10FFFF
  EXPECT_EQ(FindInvalidUtf8(std::string("a\0b", 3)), kValid);        // NUL is UTF-8
}

TEST(Utf8Test, IllFormedSequencesAreFoundAtTheirFirstByte) {
  struct Case {
    std::string text;
    size_t offset;
  };
  const Case cases[] = {
      {"caf\xE9", 3},                          // Windows-1252 e-acute
      {"\x80", 0},                             // stray continuation byte
      {"ab\xBF" "cd", 2},
      {"\xC0\xAF", 0},                         // overlong '/'
      {"\xC1\xBF", 0},                         // overlong U+007F
      {"\xE0\x80\xAF", 0},                     // overlong, 3 bytes
      {"\xE0\x9F\xBF", 0},                     // overlong U+07FF
      {"\xF0\x80\x80\xAF", 0},                 // overlong, 4 bytes
      {"\xF0\x8F\xBF\xBF", 0},                 // overlong U+FFFF
      {"\xED\xA0\x80", 0},                     // U+D800, a surrogate
      {"\xED\xBF\xBF", 0},                     // U+DFFF
      {"\xED\xA0\xBD\xED\xB2\xA9", 0},         // CESU-8 surrogate pair
      {"\xF4\x90\x80\x80", 0},                 // U+110000
      {"\xF5\x80\x80\x80", 0},
      {"\xFF", 0},
      {"\xFE\xFF", 0},
      {"ok\xC3", 2},                           // truncated at the end
      {"\xE2\x82", 0},
      {"\xF0\x9F\x8E", 0},
      {"\xE2\x82" "x", 0},                     // cut short by ASCII
      {"\xC3\xA9\xC3", 2},
      {"0123456789abcdef\xE9", 16},            // after the 8-byte path
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FindInvalidUtf8(c.text), c.offset) << absl::CHexEscape(c.text);
    EXPECT_FALSE(IsValidUtf8(c.text));
  }
}

TEST(Utf8Test, EverySequenceUpToThreeBytesAgreesWithTheDefinition) {
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(IsValidUtf8(s), ReferenceValid(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(IsValidUtf8(s), ReferenceValid(s)) << a << " " << b;
      if (a < 0xC0) continue;  // no three-byte sequence starts below C0
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(IsValidUtf8(s), ReferenceValid(s)) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8Test, FourByteSequencesAgreeWithTheDefinition) {
  std::string s;
  for (int a = 0xF0; a < 0x100; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c : {0x00, 0x7F, 0x80, 0xBF, 0xC0}) {
        for (int d : {0x41, 0x80, 0x9F, 0xBF, 0xFF}) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          ASSERT_EQ(IsValidUtf8(s), ReferenceValid(s)) << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

TEST(Utf8Test, DescribesTheFirstBadByte) {
  EXPECT_EQ(InvalidUtf8Position("caf\xE9"), "byte 0xE9 at offset 3");
  EXPECT_EQ(InvalidUtf8Position("ok\xC3\xA9\xFF"), "byte 0xFF at offset 4");
  EXPECT_EQ(InvalidUtf8Position("caf\xC3\xA9"), "");
  EXPECT_EQ(FindNul(std::string("ab\0c", 4)), 2u);
  EXPECT_EQ(FindNul("abc"), absl::string_view::npos);
}

}  // namespace
}  // namespace affinity::storage
