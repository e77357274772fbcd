// The ingest's fast paths and its memory budget: the SSE2 record scanner splits exactly like
// FieldSplitter, combining before the shuffle keeps every counter and row exact (duplicates
// across readers and rounds included), and a run under a tight --max-memory-per-rank gives the
// same table as an unlimited one — or, when the data cannot fit, the same clear error on every
// rank. Every MPI test must give the same result under any rank count.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/core/csv.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/parallel/memory.hpp"
#include "rfmseg/parallel/partition.hpp"
#include "test_support.hpp"

using namespace rfmseg;
using rfmseg::test::Row;

namespace {

// ------------------------------------------------------------------ pure parts (every rank)

// Fields as FieldSplitter gives them, or as the fast path does (nullopt-like flag when it refuses).
std::vector<std::string> fields_by_splitter(std::string_view record, char delimiter) {
  csv::FieldSplitter splitter(csv::Dialect{delimiter, '"', false});
  std::vector<std::string_view> fields;
  EXPECT_TRUE(splitter.split(record, fields));
  return {fields.begin(), fields.end()};
}

TEST(PlainScanner, splits_like_field_splitter_on_records_without_quotes) {
  // Records of random bytes from a small alphabet (delimiters, blanks, CR, empty fields), each
  // longer or shorter than the 16-byte steps, all in one buffer.
  const std::string alphabet = "ab,;\t \r1.";
  for (const char delimiter : {',', ';', '\t'}) {
    std::string buffer;
    std::vector<std::string> records;
    for (std::uint64_t i = 0; i < 400; ++i) {
      std::string record;
      const std::uint64_t length = random_word(7, i, 0) % 70;
      for (std::uint64_t k = 0; k < length; ++k) record += alphabet[random_word(7, i, k + 1) % alphabet.size()];
      records.push_back(record + (i % 3 == 0 ? "\r\n" : "\n"));
      buffer += records.back();
    }
    std::vector<std::uint32_t> offsets(256);
    std::size_t pos = 0;
    for (const auto& expected_record : records) {
      std::size_t count = 0, end = 0;
      ASSERT_EQ(csv::scan_plain_record(buffer, pos, delimiter, '"', offsets.data(), offsets.size(), count, end),
                csv::PlainScan::plain);
      std::string_view record = csv::strip_line_end(std::string_view(buffer).substr(pos, end - pos));
      EXPECT_EQ(record, csv::strip_line_end(expected_record));
      std::vector<std::string> fields;
      for (std::size_t f = 0; f <= count; ++f) {
        const std::size_t from = f == 0 ? 0 : offsets[f - 1] + 1;
        const std::size_t to = f < count ? offsets[f] : record.size();
        fields.emplace_back(record.substr(from, to - from));
      }
      EXPECT_EQ(fields, fields_by_splitter(record, delimiter)) << "record '" << record << "'";
      pos = end;
    }
    EXPECT_EQ(pos, buffer.size());
  }
}

TEST(PlainScanner, quotes_and_missing_newlines_go_to_the_exact_path) {
  std::vector<std::uint32_t> offsets(4);
  std::size_t count = 0, end = 0;
  const std::string quoted = "536365,\"WHITE, HEART\",6\n";
  EXPECT_EQ(csv::scan_plain_record(quoted, 0, ',', '"', offsets.data(), offsets.size(), count, end),
            csv::PlainScan::quoted);
  const std::string late_quote = std::string(40, 'x') + ",a\"b\n";  // quote after the first 16-byte step
  EXPECT_EQ(csv::scan_plain_record(late_quote, 0, ',', '"', offsets.data(), offsets.size(), count, end),
            csv::PlainScan::quoted);
  const std::string quote_after_newline = std::string(20, 'y') + "\n\"";  // the next record's quote
  EXPECT_EQ(csv::scan_plain_record(quote_after_newline, 0, ',', '"', offsets.data(), offsets.size(), count, end),
            csv::PlainScan::plain);
  EXPECT_EQ(end, 21u);
  const std::string unterminated = "a,b,c";
  EXPECT_EQ(csv::scan_plain_record(unterminated, 0, ',', '"', offsets.data(), offsets.size(), count, end),
            csv::PlainScan::incomplete);
  // More delimiters than offsets fit: all are counted, the first `capacity` stored.
  const std::string wide = "a,b,c,d,e,f,g\n";
  EXPECT_EQ(csv::scan_plain_record(wide, 0, ',', '"', offsets.data(), offsets.size(), count, end),
            csv::PlainScan::plain);
  EXPECT_EQ(count, 6u);
  EXPECT_EQ(offsets[3], 7u);
  std::uint64_t quotes = 0, newlines = 0;
  const std::string text = quoted + late_quote + std::string(1000, '\n') + "\"";
  csv::count_two(text, '"', '\n', quotes, newlines);
  EXPECT_EQ(quotes, static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '"')));
  EXPECT_EQ(newlines, static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')));
}

TEST(CachedDateParser, same_answers_as_the_parser) {
  const DateParser plain;
  CachedDateParser cached;
  for (const char* text : {"12/1/2010 8:26", "12/1/2010 8:26", "2/30/2010 9:41", "2/30/2010 9:41", "12/1/2010 8:27",
                           "2010-12-01", "", "not a date", "not a date", "12/1/2010 8:26"}) {
    std::int32_t a = -1, b = -1;
    const DateStatus expected = plain.parse(text, a);
    EXPECT_EQ(cached.parse(text, b), expected) << text;
    if (expected == DateStatus::ok) {
      EXPECT_EQ(a, b) << text;
    }
  }
}

TEST(Combining, encoded_groups_decode_to_distinct_sorted_lines_per_owner) {
  CombinedBatch batch(/*carry_cancellation_values=*/true);
  // Two invoices of one customer interleaved, a copy of a line (same key), a second day.
  batch.add("17850", "536365", 100, 11, Fate::kept, 15'300'000);
  batch.add("17850", "536365", 100, 7, Fate::kept, 20'340'000);
  batch.add("14527", "C536379", 100, 5, Fate::cancellation, -27'500'000);
  batch.add("17850", "536365", 100, 11, Fate::kept, 15'300'000);  // duplicate
  batch.add("17850", "536365", 101, 11, Fate::kept, 15'300'000);  // other day: another group
  batch.add("17850", "536366", 100, 3, Fate::zero_quantity, 0);
  const int128_t huge = static_cast<int128_t>(1'000'000'000'000LL) * 1'000'000'000'000'000'000LL;  // beyond int64
  batch.add("14527", "536380", 102, 9, Fate::kept, huge);
  EXPECT_EQ(batch.groups().size(), 5u);
  for (int ranks : {1, 2, 3, 7}) {
    std::vector<char> send;
    std::vector<std::size_t> bytes_for;
    CleaningCounters counters;
    ShuffleStats stats;
    const std::size_t used = encode_for_owners(batch, ranks, send, bytes_for, counters, stats);
    EXPECT_EQ(counters[Fate::duplicate], 1);
    EXPECT_EQ(stats.lines_sent, 6u);
    std::size_t total = 0;
    for (auto b : bytes_for) total += b;
    EXPECT_EQ(total, used);
    std::map<std::string, std::vector<WireLine>> decoded;  // "customer|invoice|day" -> lines
    std::size_t offset = 0;
    for (int r = 0; r < ranks; ++r) {
      WireReader reader(std::span<const char>(send.data() + offset, bytes_for[static_cast<std::size_t>(r)]));
      while (!reader.at_end()) {
        const WireGroup group = reader.group();
        EXPECT_EQ(owner_rank(hash_bytes(group.customer), ranks), r) << group.customer;
        auto& lines =
            decoded[std::string(group.customer) + "|" + std::string(group.invoice) + "|" + std::to_string(group.day)];
        for (std::uint32_t l = 0; l < group.lines; ++l) lines.push_back(reader.line());
      }
      offset += bytes_for[static_cast<std::size_t>(r)];
    }
    const std::map<std::string, std::vector<WireLine>> expected{
        {"17850|536365|100", {{7, Fate::kept, 20'340'000}, {11, Fate::kept, 15'300'000}}},
        {"17850|536365|101", {{11, Fate::kept, 15'300'000}}},
        {"17850|536366|100", {{3, Fate::zero_quantity, 0}}},
        {"14527|C536379|100", {{5, Fate::cancellation, -27'500'000}}},
        {"14527|536380|102", {{9, Fate::kept, huge}}},
    };
    EXPECT_EQ(decoded, expected) << ranks << " ranks";
  }
}

TEST(MemoryBudget, limits_chunks_and_auto_share) {
  EXPECT_EQ(parse_memory_limit("max\n"), std::nullopt);
  EXPECT_EQ(parse_memory_limit("2147483648\n"), std::optional<std::uint64_t>(2147483648ull));
  EXPECT_EQ(parse_memory_limit("9223372036854771712"), std::nullopt);  // cgroup v1 "unlimited"
  EXPECT_EQ(parse_memory_limit("12abc"), std::nullopt);
  EXPECT_EQ(auto_memory_budget(10ull << 30, 4), static_cast<std::uint64_t>(0.6 * (10ull << 30) / 4));
  EXPECT_GT(node_memory_bytes(), 0u);
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(16ull << 20), "16.0 MiB");

  const IngestBudget unlimited(0, 64ull << 20);
  EXPECT_EQ(unlimited.next_chunk(1ull << 40), IngestBudget::max_round_bytes);
  EXPECT_TRUE(unlimited.fits(1ull << 40));
  IngestBudget budget(16ull << 20, 64ull << 20);
  EXPECT_EQ(budget.next_chunk(0), static_cast<std::uint64_t>((16ull << 20) / IngestBudget::initial_working_factor));
  budget.observe(1 << 20, 2 << 20);  // 2 working bytes per chunk byte measured
  EXPECT_DOUBLE_EQ(budget.working_factor(), 2 * IngestBudget::capacity_slack);
  EXPECT_EQ(budget.next_chunk(10ull << 20),
            static_cast<std::uint64_t>((6ull << 20) / (2 * IngestBudget::capacity_slack)));
  EXPECT_EQ(budget.next_chunk(16ull << 20), IngestBudget::min_chunk_bytes);  // nothing left: the smallest round
  EXPECT_TRUE(budget.fits(15ull << 20));
  EXPECT_FALSE(budget.fits((16ull << 20) - 1000));
  budget.observe(1 << 20, 1 << 20);  // a lighter round does not lower the worst factor seen
  EXPECT_DOUBLE_EQ(budget.working_factor(), 2 * IngestBudget::capacity_slack);
}

// ------------------------------------------------------------------ MPI

RunConfig config_for(const std::string& path) {
  RunConfig config;
  config.input.paths = {path};
  config.quiet = true;
  return config;
}

CustomerStage run_stage(const mpi::Comm& comm, const RunConfig& config) {
  PhaseTimes times(comm);
  return build_customer_table(comm, config, times);
}

// A file whose duplicates lie far apart (other ranks, other rounds), with cancellations, zero
// quantities and prices, quoted descriptions with line breaks, and invoices spanning days; and the
// exact result computed here the obvious way (every line in order, a set of lines seen).
struct Fixture {
  std::string text;
  std::vector<Row> rows;           // frequency = invoices, cancellations dropped
  std::vector<Row> rows_net_days;  // frequency = days, cancellations netted
  std::int64_t lines = 0, duplicates = 0, cancellations = 0, zero_quantity = 0, nonpositive = 0, kept = 0;
};

Fixture make_fixture() {
  Fixture fx;
  fx.text = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n";
  std::vector<std::string> lines;
  for (std::uint64_t i = 0; i < 6000; ++i) {
    const std::uint64_t w = random_word(99, 1, i);
    if (i > 10 && w % 9 == 0) {  // a copy of any earlier line
      lines.push_back(lines[random_word(99, 2, i) % lines.size()]);
      continue;
    }
    const std::string customer = std::to_string(10000 + (w >> 8) % 97);
    const std::string invoice = ((w >> 20) % 23 == 0 ? "C" : "") + std::to_string(500000 + i / 4);
    const int quantity = static_cast<int>((w >> 30) % 13) - 2;           // -2..10: returns and zeros
    const int cents = static_cast<int>((w >> 40) % 500) - 20;            // some non-positive prices
    const int day = 1 + static_cast<int>((i / 4 + (w >> 50) % 2) % 28);  // an invoice may span two days
    const std::string description =
        (w >> 56) % 7 == 0 ? "\"GIFT\nSET, \"\"DELUXE\"\"\"" : ((w >> 56) % 7 == 1 ? "\"A,B\"" : "PLAIN");
    char price[32];
    std::snprintf(price, sizeof price, "%s%d.%02d", cents < 0 ? "-" : "", std::abs(cents) / 100, std::abs(cents) % 100);
    lines.push_back(invoice + ",S" + std::to_string(i % 50) + "," + description + "," + std::to_string(quantity) +
                    ",2011-03-" + (day < 10 ? "0" : "") + std::to_string(day) + " 10:00:00," + price + "," + customer +
                    ",UK");
  }
  struct Acc {
    int128_t money_drop = 0, money_net = 0;
    int last_day = -1;
    std::set<std::string> invoices;
    std::set<int> days;
  };
  std::map<std::string, Acc> acc;
  std::set<std::string> seen;
  int snapshot = 0;
  for (const auto& line : lines) {
    fx.text += line + "\n";
    ++fx.lines;
    if (!seen.insert(line).second) {
      ++fx.duplicates;
      continue;
    }
    // Parse the fields back (the description is the only quoted one).
    std::vector<std::string> f;
    std::string field;
    bool quoted = false;
    for (std::size_t k = 0; k < line.size(); ++k) {
      const char c = line[k];
      if (c == '"') quoted = !quoted;
      if (c == ',' && !quoted) {
        f.push_back(field);
        field.clear();
      } else {
        field += c;
      }
    }
    f.push_back(field);
    const std::string& invoice = f[0];
    const long long quantity = std::stoll(f[3]);
    const int day = std::stoi(f[4].substr(8, 2));
    const double price_value = std::stod(f[5]);
    const long long cents = std::llround(price_value * 100);
    const int128_t value = static_cast<int128_t>(quantity) * cents * 10'000;
    auto& a = acc[f[6]];
    if (invoice[0] == 'C' || quantity < 0) {
      ++fx.cancellations;
      a.money_net += value;
      continue;
    }
    if (quantity == 0) {
      ++fx.zero_quantity;
      continue;
    }
    if (cents <= 0) {
      ++fx.nonpositive;
      continue;
    }
    ++fx.kept;
    a.money_drop += value;
    a.money_net += value;
    a.last_day = std::max(a.last_day, day);
    a.invoices.insert(invoice);
    a.days.insert(day);
    snapshot = std::max(snapshot, day + 1);
  }
  for (const auto& [id, a] : acc) {
    if (a.last_day < 0) continue;
    fx.rows.push_back(
        {id, snapshot - a.last_day, static_cast<long long>(a.invoices.size()), micros_to_units(a.money_drop)});
    fx.rows_net_days.push_back(
        {id, snapshot - a.last_day, static_cast<long long>(a.days.size()), micros_to_units(a.money_net)});
  }
  return fx;
}

TEST(CombinedShuffle, duplicates_across_readers_and_rounds_are_exact_under_any_budget) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const Fixture fx = make_fixture();
  const std::string path = dir.write("far_duplicates.csv", fx.text);
  // Unlimited; tiny rounds (many rounds: copies arrive in later rounds); a tight budget.
  for (const auto& [chunk, budget] :
       std::vector<std::pair<std::uint64_t, std::string>>{{64ull << 20, "0"}, {3000, "0"}, {64ull << 20, "2M"}}) {
    auto config = config_for(path);
    config.input.chunk_bytes = chunk;
    config.input.max_memory_per_rank = budget == "0" ? 0 : 2ull << 20;
    const auto stage = run_stage(comm, config);
    EXPECT_EQ(test::gather_rows(comm, stage.customers), fx.rows) << "chunk " << chunk << ", budget " << budget;
    const auto& c = stage.counters;
    EXPECT_EQ(c.lines, fx.lines);
    EXPECT_EQ(c[Fate::duplicate], fx.duplicates);
    EXPECT_EQ(c[Fate::cancellation], fx.cancellations);
    EXPECT_EQ(c[Fate::zero_quantity], fx.zero_quantity);
    EXPECT_EQ(c[Fate::nonpositive_price], fx.nonpositive);
    EXPECT_EQ(c[Fate::kept], fx.kept);
  }
  auto config = config_for(path);
  config.input.chunk_bytes = 5000;
  config.rfm.frequency = FrequencyMode::days;
  config.rfm.cancellations = CancellationPolicy::net;
  EXPECT_EQ(test::gather_rows(comm, run_stage(comm, config).customers), fx.rows_net_days);
}

TEST(CombinedShuffle, shuffles_a_few_bytes_per_line) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const Fixture fx = make_fixture();
  const auto stage = run_stage(comm, config_for(dir.write("bytes.csv", fx.text)));
  // A line's key (8 bytes) and its value (~3 bytes) plus its share of the group's ids, sent to
  // the other ranks only: far below the ~40-byte parsed record of a per-line shuffle.
  const double per_line = static_cast<double>(stage.bytes_shuffled) / static_cast<double>(fx.lines);
  EXPECT_LT(per_line, 20.0);
  if (comm.size() == 1) {
    EXPECT_EQ(stage.bytes_shuffled, 0u);
  }
}

TEST(MemoryBudgetMpi, a_budget_too_small_is_one_clear_error_on_every_rank) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const Fixture fx = make_fixture();
  const std::string path = dir.write("tight.csv", fx.text);
  for (const std::uint64_t budget : {100ull << 10, 300ull << 10}) {  // below one round / below the data
    auto config = config_for(path);
    config.input.max_memory_per_rank = budget;
    try {
      (void)run_stage(comm, config);
      ADD_FAILURE() << "a budget of " << budget << " bytes should not fit";
    } catch (const AgreedError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("use more ranks or raise --max-memory-per-rank"), std::string::npos) << message;
      EXPECT_NE(message.find("needs ~"), std::string::npos) << message;
      EXPECT_EQ(e.exit_code(), 1);
    }
  }
}

TEST(MemoryBudgetMpi, auto_is_a_share_of_the_node) {
  const auto comm = mpi::Comm::world();
  InputConfig config;
  config.max_memory_per_rank_auto = true;
  const std::uint64_t budget = resolve_memory_budget(comm, config);
  EXPECT_GT(budget, 0u);
  EXPECT_LE(budget, static_cast<std::uint64_t>(auto_memory_fraction * static_cast<double>(node_memory_bytes())));
  config.max_memory_per_rank_auto = false;
  config.max_memory_per_rank = 16ull << 20;
  EXPECT_EQ(resolve_memory_budget(comm, config), 16ull << 20);
}

}  // namespace
