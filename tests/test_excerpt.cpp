// Excerpts of input in messages (cut, escaped) and the control-byte test of customer ids.

#include <gtest/gtest.h>

#include <string>

#include "rfmseg/core/excerpt.hpp"
#include "rfmseg/io/ingest.hpp"

using rfmseg::has_control_byte;
using rfmseg::printable_excerpt;

TEST(Excerpt, printable_text_is_kept) {
  EXPECT_EQ(printable_excerpt("536365,A,WHITE HEART,6"), "536365,A,WHITE HEART,6");
  EXPECT_EQ(printable_excerpt("\xC2\xA3 5, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80"),
            "\xC2\xA3 5, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80");  // valid UTF-8 stays
  EXPECT_EQ(printable_excerpt(""), "");
}

TEST(Excerpt, unprintable_bytes_are_escaped) {
  EXPECT_EQ(printable_excerpt(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable_excerpt("\x1b[2J\t\r\n\x7f"), "\\x1b[2J\\x09\\x0d\\x0a\\x7f");
  EXPECT_EQ(printable_excerpt("back\\slash"), "back\\\\slash");
  EXPECT_EQ(printable_excerpt("\xA3 Latin-1"), "\\xa3 Latin-1");  // invalid UTF-8
  EXPECT_EQ(printable_excerpt("\xC2\x9B"
                              "31m"),
            "\\xc2\\x9b31m");                                       // C1 control CSI
  EXPECT_EQ(printable_excerpt("\xE0\x80\xAF"), "\\xe0\\x80\\xaf");  // overlong
  EXPECT_EQ(printable_excerpt("\xED\xA0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(printable_excerpt("\xE2\x82"), "\\xe2\\x82");           // truncated
}

TEST(Excerpt, long_input_is_cut_and_the_rest_counted) {
  const std::string line(10 << 20, '"');
  const std::string text = printable_excerpt(line);
  EXPECT_EQ(text, std::string(200, '"') + "... (+10485560 bytes)");
  EXPECT_EQ(printable_excerpt("abcdef", 3), "abc... (+3 bytes)");
  EXPECT_EQ(printable_excerpt("ab\x01"
                              "def",
                              3),
            "ab\\x01... (+3 bytes)");                                  // escaped bytes count once
  EXPECT_EQ(printable_excerpt("ab\xC3\xA9z", 3), "ab... (+3 bytes)");  // never inside a character
  EXPECT_EQ(printable_excerpt("abc", 3), "abc");
}

TEST(CustomerId, control_bytes_anywhere_in_any_length) {
  for (std::size_t length = 1; length <= 40; ++length) {
    std::string id(length, 'x');
    EXPECT_FALSE(has_control_byte(id)) << length;
    for (std::size_t at = 0; at < length; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string bad = id;
        bad[at] = static_cast<char>(byte);
        const bool control = byte < 0x20 || byte == 0x7f;
        ASSERT_EQ(has_control_byte(bad), control) << "length " << length << " at " << at << " byte " << byte;
      }
    }
  }
  EXPECT_FALSE(has_control_byte(""));
  EXPECT_FALSE(has_control_byte("\xA3\xFF\x80 \x7e"));
}
