// The --rejects CSV: RFC 4180 quoting of any bytes, the row layout, and one rank's rows kept in
// memory up to a limit and spilled beyond it (read back in any pieces, byte for byte).

#include <gtest/gtest.h>

#include <unistd.h>

#include <string>

#include "rfmseg/io/rejects.hpp"

using namespace rfmseg;

namespace {
std::string quote_field(std::string_view text) {
  std::string out;
  rejects::append_quoted(out, text);
  return out;
}

// Every byte value, quotes, CR/LF and NUL: what a broken export can hold.
std::string nasty_text() {
  std::string text = "a,\"b\"\r\nc\"\"";
  for (int c = 0; c < 256; ++c) text += static_cast<char>(c);
  return text;
}
}  // namespace

TEST(Rejects, quoting_doubles_quotes_and_keeps_every_other_byte) {
  EXPECT_EQ(quote_field(""), "\"\"");
  EXPECT_EQ(quote_field("plain"), "\"plain\"");
  EXPECT_EQ(quote_field("\""), "\"\"\"\"");
  EXPECT_EQ(quote_field("a,\"b\"\nc"), "\"a,\"\"b\"\"\nc\"");
  EXPECT_EQ(quote_field(std::string_view("x\0y\r", 4)), std::string("\"x\0y\r\"", 6));
  // Round trip: strip the outer quotes, undouble.
  const std::string text = nasty_text();
  const std::string q = quote_field(text);
  std::string back;
  for (std::size_t i = 1; i + 1 < q.size(); ++i) {
    back += q[i];
    if (q[i] == '"') {
      ASSERT_EQ(q[i + 1], '"');
      ++i;
    }
  }
  EXPECT_EQ(back, text);
}

TEST(Rejects, row_layout) {
  std::string out;
  rejects::append_row(out, "in \"x\".csv", 12, "bad_date", "1,\"2\"");
  EXPECT_EQ(out, "\"in \"\"x\"\".csv\",12,bad_date,\"1,\"\"2\"\"\"\n");
  EXPECT_EQ(rejects::header, "file,line,reason,text\n");
}

TEST(Rejects, memory_limit_follows_the_budget) {
  EXPECT_EQ(rejects::memory_limit_bytes(0), 4u << 20);
  EXPECT_EQ(rejects::memory_limit_bytes(16u << 20), 512u << 10);
  EXPECT_EQ(rejects::memory_limit_bytes(1u << 20), 64u << 10);
  EXPECT_EQ(rejects::memory_limit_bytes(std::uint64_t{1} << 40), 4u << 20);
}

// The same rows under memory limits from 1 byte (every row spilled) to unlimited give the same
// bytes, read back whole or in pieces of any size; long lines (beyond one quoting piece) whole.
TEST(Rejects, rows_spill_and_read_back_identically) {
  const std::string long_line = std::string(200000, 'Y') + "\"" + std::string(70000, 'Z') + "\"\n" + nasty_text();
  std::string expected(rejects::header);
  struct Item {
    std::uint32_t file;
    std::uint64_t line;
    Fate fate;
    std::string text;
  };
  const std::vector<Item> items{{0, 2, Fate::bad_number, "1,2,x"},
                                {0, 3, Fate::missing_customer, nasty_text()},
                                {1, 7, Fate::bad_field_count, long_line},
                                {1, 9, Fate::bad_date, ""}};
  const std::vector<std::string> paths{"a.csv", "dir/b,\"c\".csv"};
  for (const auto& item : items)
    rejects::append_row(expected, paths[item.file], item.line, fate_name(item.fate), item.text);

  char dir_template[] = "/tmp/rfmseg-rejects-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  int spill = 0;
  for (std::uint64_t limit : {std::uint64_t{1}, std::uint64_t{100}, std::uint64_t{65536}, std::uint64_t{1} << 30}) {
    RejectRows rows(paths, dir + "/spill-" + std::to_string(spill++), limit, true);
    for (const auto& item : items) rows.reject(item.file, item.line, item.fate, item.text);
    EXPECT_EQ(rows.rows(), items.size());
    ASSERT_EQ(rows.bytes(), expected.size()) << "limit " << limit;
    EXPECT_LE(rows.memory_bytes(), std::max<std::uint64_t>(limit, 1u << 20)) << "limit " << limit;
    for (std::size_t piece : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{7}}) {
      std::string back;
      for (std::uint64_t from = 0; from < rows.bytes(); from += piece)
        back += rows.read(from, static_cast<std::size_t>(std::min<std::uint64_t>(piece, rows.bytes() - from)));
      EXPECT_EQ(back, expected) << "limit " << limit << ", piece " << piece;
    }
  }
  // The spill files were unlinked as soon as they were created.
  EXPECT_EQ(::rmdir(dir.c_str()), 0);
}
