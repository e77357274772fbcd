#include <gtest/gtest.h>

#include "rfmseg/core/csv.hpp"

using rfmseg::csv::Dialect;
using rfmseg::csv::FieldSplitter;
using rfmseg::csv::find_record_end;
using rfmseg::csv::strip_line_end;

namespace {
std::vector<std::string> split(std::string_view record, Dialect dialect = {}) {
  FieldSplitter splitter(dialect);
  std::vector<std::string_view> fields;
  EXPECT_TRUE(splitter.split(record, fields)) << record;
  return {fields.begin(), fields.end()};
}
}  // namespace

TEST(FieldSplitter, plain_fields) {
  EXPECT_EQ(split("a,b,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split("a,,c"), (std::vector<std::string>{"a", "", "c"}));
  EXPECT_EQ(split(",a,"), (std::vector<std::string>{"", "a", ""}));
  EXPECT_EQ(split(""), (std::vector<std::string>{""}));
}

TEST(FieldSplitter, quoted_fields_with_delimiters_and_doubled_quotes) {
  EXPECT_EQ(split(R"(1,"SET OF 3, ""PANTRY"" DESIGN",6)"),
            (std::vector<std::string>{"1", "SET OF 3, \"PANTRY\" DESIGN", "6"}));
  EXPECT_EQ(split(R"("""",x)"), (std::vector<std::string>{"\"", "x"}));
  EXPECT_EQ(split(R"("",x)"), (std::vector<std::string>{"", "x"}));
  EXPECT_EQ(split("\"line\nbreak\",2"), (std::vector<std::string>{"line\nbreak", "2"}));
}

TEST(FieldSplitter, views_stay_valid_across_several_quoted_fields) {
  FieldSplitter splitter;
  std::vector<std::string_view> fields;
  ASSERT_TRUE(splitter.split(R"("a""b","c""d","e")", fields));
  ASSERT_EQ(fields.size(), 3u);
  EXPECT_EQ(fields[0], "a\"b");
  EXPECT_EQ(fields[1], "c\"d");
  EXPECT_EQ(fields[2], "e");
}

TEST(FieldSplitter, quote_inside_unquoted_field_is_literal) {
  EXPECT_EQ(split(R"(12" RULER,3)"), (std::vector<std::string>{"12\" RULER", "3"}));
}

TEST(FieldSplitter, unclosed_quote_is_an_error) {
  FieldSplitter splitter;
  std::vector<std::string_view> fields;
  EXPECT_FALSE(splitter.split(R"(1,"open,2)", fields));
}

TEST(FieldSplitter, other_delimiters_and_whitespace_runs) {
  EXPECT_EQ(split("a;b;c", Dialect{';', '"', false}), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(split("a\tb", Dialect{'\t', '"', false}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(split("  00001   19970101 1  11.77  ", Dialect{',', '"', true}),
            (std::vector<std::string>{"00001", "19970101", "1", "11.77"}));
}

TEST(RecordScanner, finds_record_ends_outside_quotes_only) {
  const std::string text = "a,b\n\"x\ny\",z\r\nlast";
  const auto first = find_record_end(text, 0, '"');
  EXPECT_EQ(first, 4u);
  const auto second = find_record_end(text, first, '"');
  EXPECT_EQ(text.substr(first, second - first), "\"x\ny\",z\r\n");
  EXPECT_EQ(find_record_end(text, second, '"'), std::string::npos);  // no newline: caller decides
  EXPECT_EQ(strip_line_end("abc\r\n"), "abc");
  EXPECT_EQ(strip_line_end("abc\n"), "abc");
  EXPECT_EQ(strip_line_end("abc"), "abc");
}

TEST(RecordScanner, doubled_quotes_keep_parity) {
  const std::string text = "\"a \"\"b\"\"\nc\",d\nnext\n";
  const auto end = find_record_end(text, 0, '"');
  EXPECT_EQ(text.substr(0, end), "\"a \"\"b\"\"\nc\",d\n");
}
