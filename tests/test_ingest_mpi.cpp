// Ingest → partition → rfm → sort under MPI: every rank count and chunk size must give the same
// table, equal to hand-computed values.

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/core/errors.hpp"
#include "test_support.hpp"

using namespace rfmseg;
using rfmseg::test::Row;

namespace {

const char* const fixture =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n"
    "536365,85123A,\"WHITE HANGING, \"\"HEART\"\"\",6,12/1/2010 8:26,2.55,17850,United Kingdom\r\n"
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\r\n"
    "536366,22633,HAND WARMER,6,12/2/2010 8:28,1.85,17850,United Kingdom\r\n"
    "536366,22633,HAND WARMER,6,12/2/2010 8:28,1.85,17850,United Kingdom\r\n"  // duplicate
    "C536379,D,Discount,-1,12/1/2010 9:41,27.50,14527,United Kingdom\r\n"      // cancellation
    "536380,22961,\"JAM\nMAKING SET\",24,12/3/2010 9:41,1.45,14527,United Kingdom\r\n"
    "536381,22961,X,24,12/3/2010 9:41,0,14527,United Kingdom\r\n"     // zero price
    "536382,22961,X,2,12/5/2010 9:41,1.5,,United Kingdom\r\n"         // missing customer
    "536383,22961,X,abc,12/5/2010 9:41,1.5,12345,United Kingdom\r\n"  // bad number
    "536384,22961,X,1,12/5/2010 9:41,1.5,12345\r\n"                   // bad field count
    "536385,22961,X,3,12/9/2010 9:41,0.001,12346,United Kingdom\r\n"
    "536386,22961,X,0,12/9/2010 9:41,1,12346,United Kingdom\r\n"                   // zero quantity
    "536387,22961,X,1,2/30/2010 9:41,1,12346,United Kingdom\r\n"                   // bad date (Feb 30th)
    "536388,22961,\xA3 Latin-1 \xC2\xA3,1,12/8/2010 9:41,1,12346,United Kingdom";  // no final newline

RunConfig config_for(const std::string& path, std::uint64_t chunk_bytes) {
  RunConfig config;
  config.input.paths = {path};
  config.input.chunk_bytes = chunk_bytes;
  config.input.max_bad_fraction = 1;  // the fixtures hold unparseable lines on purpose
  config.quiet = true;
  return config;
}

CustomerStage run_stage(const mpi::Comm& comm, const RunConfig& config) {
  PhaseTimes times(comm);
  return build_customer_table(comm, config, times);
}

}  // namespace

TEST(IngestMpi, hand_computed_fixture_for_every_chunk_size) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string path = dir.write("fixture.csv", fixture);
  const std::vector<Row> expected{
      {"12346", 1, 2, 1.003},  // 3 x 0.001 + 1 x 1; last purchase 12/9 -> snapshot 12/10
      {"14527", 7, 1, 34.8},   // 24 x 1.45 on 12/3
      {"17850", 8, 2, 46.74},  // 6 x 2.55 + 6 x 3.39 + 6 x 1.85, invoices 536365 and 536366
  };
  for (std::uint64_t chunk : {1ull, 7ull, 64ull, 1ull << 20}) {
    const auto stage = run_stage(comm, config_for(path, chunk));
    EXPECT_EQ(test::gather_rows(comm, stage.customers), expected) << "chunk " << chunk;
    EXPECT_EQ(format_day(stage.snapshot), "2010-12-10");
    EXPECT_EQ(stage.total_customers, 3u);
    const auto& c = stage.counters;
    EXPECT_EQ(c.lines, 14);
    EXPECT_EQ(c[Fate::kept], 6);
    EXPECT_EQ(c[Fate::duplicate], 1);
    EXPECT_EQ(c[Fate::cancellation], 1);
    EXPECT_EQ(c[Fate::nonpositive_price], 1);
    EXPECT_EQ(c[Fate::zero_quantity], 1);
    EXPECT_EQ(c[Fate::missing_customer], 1);
    EXPECT_EQ(c[Fate::bad_number], 1);
    EXPECT_EQ(c[Fate::bad_field_count], 1);
    EXPECT_EQ(c[Fate::bad_date], 1);
    std::int64_t sum = 0;
    for (auto n : c.fates) sum += n;
    EXPECT_EQ(sum, c.lines) << "every line has exactly one fate";
    // Reported with physical line numbers (the quoted newline makes line 7 span two lines).
    ASSERT_EQ(stage.bad_lines.size(), 3u);
    EXPECT_EQ(stage.bad_lines[0].line, 11u);
    EXPECT_EQ(stage.bad_lines[0].fate, Fate::bad_number);
    EXPECT_EQ(stage.bad_lines[1].line, 12u);
    EXPECT_EQ(stage.bad_lines[1].fate, Fate::bad_field_count);
    EXPECT_EQ(stage.bad_lines[2].line, 15u);
    EXPECT_EQ(stage.bad_lines[2].fate, Fate::bad_date);
  }
}

TEST(IngestMpi, frequency_modes_and_net_cancellations) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string path = dir.write("fixture.csv", fixture);
  auto config = config_for(path, 1 << 20);
  config.rfm.frequency = FrequencyMode::lines;
  auto rows = test::gather_rows(comm, run_stage(comm, config).customers);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].frequency, 2);
  EXPECT_EQ(rows[2].frequency, 3);
  config.rfm.frequency = FrequencyMode::days;
  rows = test::gather_rows(comm, run_stage(comm, config).customers);
  EXPECT_EQ(rows[2].frequency, 2);
  config.rfm.frequency = FrequencyMode::invoices;
  config.rfm.cancellations = CancellationPolicy::net;
  rows = test::gather_rows(comm, run_stage(comm, config).customers);
  EXPECT_DOUBLE_EQ(rows[1].monetary, 34.8 - 27.5);  // the return subtracts its value
  EXPECT_EQ(rows[1].frequency, 1);
  config.rfm.snapshot_day = days_from_civil(2011, 1, 1);
  rows = test::gather_rows(comm, run_stage(comm, config).customers);
  EXPECT_EQ(rows[2].recency, 30);
}

// --window DAYS: a line counts when snapshot - day <= DAYS; older lines (whatever the owner would
// have made of them: duplicate, cancellation, kept) are outside_window. Without --snapshot the
// snapshot is the latest kept day + 1 (12/10 here), found by a first pass.
TEST(IngestMpi, window_keeps_the_days_before_the_snapshot) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string path = dir.write("fixture.csv", fixture);
  for (std::uint64_t chunk : {7ull, 1ull << 20}) {
    auto config = config_for(path, chunk);
    config.rfm.window_days = 7;  // 12/3 .. 12/9: 17850's lines of 12/1 and 12/2 and the 12/1 return are out
    auto stage = run_stage(comm, config);
    EXPECT_EQ(test::gather_rows(comm, stage.customers),
              (std::vector<Row>{{"12346", 1, 2, 1.003}, {"14527", 7, 1, 34.8}}))
        << "chunk " << chunk;
    EXPECT_EQ(format_day(stage.snapshot), "2010-12-10");
    const auto& c = stage.counters;
    EXPECT_EQ(c[Fate::outside_window], 5);  // 536365 x2, 536366 and its copy, C536379
    EXPECT_EQ(c[Fate::kept], 3);
    EXPECT_EQ(c[Fate::duplicate], 0);
    EXPECT_EQ(c[Fate::cancellation], 0);
    EXPECT_EQ(c[Fate::missing_customer], 1);  // decided before the window
    EXPECT_EQ(c.unparseable(), 3) << "outside_window is not unparseable";
    std::int64_t sum = 0;
    for (auto n : c.fates) sum += n;
    EXPECT_EQ(sum, c.lines);

    config.rfm.window_days = 8;  // 12/2 is in: the first copy kept, the second a duplicate
    stage = run_stage(comm, config);
    EXPECT_EQ(test::gather_rows(comm, stage.customers),
              (std::vector<Row>{{"12346", 1, 2, 1.003}, {"14527", 7, 1, 34.8}, {"17850", 8, 1, 11.1}}));
    EXPECT_EQ(stage.counters[Fate::outside_window], 3);
    EXPECT_EQ(stage.counters[Fate::duplicate], 1);

    config.rfm.snapshot_day = days_from_civil(2010, 12, 9);  // as of 12/9: 12/3 .. 12/9 again
    config.rfm.window_days = 6;
    stage = run_stage(comm, config);
    EXPECT_EQ(test::gather_rows(comm, stage.customers),
              (std::vector<Row>{{"12346", 0, 2, 1.003}, {"14527", 6, 1, 34.8}}));
    EXPECT_EQ(stage.counters[Fate::outside_window], 5);
    EXPECT_EQ(stage.counters[Fate::after_snapshot], 0);
  }
}

// Nothing inside the window: the run fails like any run without usable lines, with the hint.
TEST(IngestMpi, window_without_lines_fails_with_a_hint) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string path = dir.write("fixture.csv", fixture);
  auto config = config_for(path, 1 << 20);
  config.rfm.snapshot_day = days_from_civil(2011, 6, 1);
  config.rfm.window_days = 30;
  try {
    (void)run_stage(comm, config);
    ADD_FAILURE() << "no error";
  } catch (const AgreedError& e) {
    EXPECT_NE(std::string(e.what()).find("no usable transactions"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("outside_window 10"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hint: outside_window"), std::string::npos) << e.what();
  }
}

TEST(IngestMpi, quoted_newlines_at_every_range_boundary) {
  // Many records with embedded newlines and doubled quotes: wherever the byte ranges fall, every
  // rank count and chunk size must see exactly the same records.
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  std::string text = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n";
  std::map<std::string, std::pair<long long, std::set<int>>> truth;  // id -> (cents, invoices)
  for (int i = 0; i < 600; ++i) {
    const std::string id = std::to_string(10000 + (i * 7) % 53);
    const int invoice = 500000 + i / 3;
    const int quantity = 1 + i % 5;
    std::string description =
        (i % 4 == 0) ? "\"multi\nline \"\"quoted\"\"\n, text\"" : (i % 4 == 1 ? "\"a,b\"" : "plain");
    text += std::to_string(invoice) + ",S" + std::to_string(i) + "," + description + "," + std::to_string(quantity) +
            ",2010-12-" + std::to_string(1 + i % 28) + " 10:00:00,1.25," + id + ",UK" + (i % 2 ? "\r\n" : "\n");
    truth[id].first += quantity * 125;
    truth[id].second.insert(invoice);
  }
  const std::string path = dir.write("quoted.csv", text);
  std::vector<Row> reference;
  for (std::uint64_t chunk : {3ull, 100ull, 4096ull, 1ull << 20}) {
    const auto stage = run_stage(comm, config_for(path, chunk));
    EXPECT_EQ(stage.counters.lines, 600);
    EXPECT_EQ(stage.counters[Fate::kept], 600);
    const auto rows = test::gather_rows(comm, stage.customers);
    ASSERT_EQ(rows.size(), truth.size());
    std::size_t i = 0;
    for (const auto& [id, value] : truth) {
      EXPECT_EQ(rows[i].id, id);
      EXPECT_EQ(rows[i].frequency, static_cast<long long>(value.second.size()));
      EXPECT_DOUBLE_EQ(rows[i].monetary, static_cast<double>(value.first) / 100.0);
      ++i;
    }
    if (reference.empty()) reference = rows;
    EXPECT_EQ(rows, reference);
  }
}

TEST(IngestMpi, several_files_and_a_glob) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  (void)dir.write("part-1.csv", "customer_id,trans_date,tran_amount\nCS1112,14-Jan-15,39\nCS1113,15-Jan-15,10.5\n");
  (void)dir.write("part-2.csv", "customer_id,trans_date,tran_amount\nCS1112,16-Jan-15,1\n00001,16-Jan-15,2\n");
  auto config = config_for(dir.path() + "/part-*.csv", 1 << 20);
  const auto stage = run_stage(comm, config);
  const auto rows = test::gather_rows(comm, stage.customers);
  const std::vector<Row> expected{{"00001", 1, 1, 2.0}, {"CS1112", 1, 2, 40.0}, {"CS1113", 2, 1, 10.5}};
  EXPECT_EQ(rows, expected);
  EXPECT_EQ(stage.frequency, FrequencyMode::lines);
}

TEST(IngestMpi, whitespace_separated_crlf_without_header) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string path =
      dir.write("cdnow.txt", "00001 19970101 1 11.77\r\n00002  19970112 1 12.00\r\n00001 19970102 2 20.76\r\n");
  auto config = config_for(path, 1 << 20);
  config.input.has_header = false;
  config.input.delimiter.kind = Delimiter::Kind::whitespace;
  config.input.columns.customer = "1";
  config.input.columns.date = "2";
  config.input.columns.amount = "4";
  const auto rows = test::gather_rows(comm, run_stage(comm, config).customers);
  const std::vector<Row> expected{{"00001", 11, 2, 32.53}, {"00002", 1, 1, 12.0}};
  EXPECT_EQ(rows, expected);
}

TEST(IngestMpi, errors_are_agreed_on_every_rank) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  auto expect_agreed = [&](const RunConfig& config, const std::string& needle, int code) {
    try {
      (void)run_stage(comm, config);
      ADD_FAILURE() << "expected an error containing '" << needle << "'";
    } catch (const AgreedError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_EQ(e.exit_code(), code);
    }
  };
  expect_agreed(config_for(dir.path() + "/missing.csv", 1 << 20), "does not exist", 1);
  expect_agreed(config_for(dir.path(), 1 << 20), "is a directory", 1);
  expect_agreed(config_for(dir.write("empty.csv", ""), 1 << 20), "no usable transactions", 1);
  expect_agreed(config_for(dir.write("unknown.csv", "a,b,c\n1,2,3\n"), 1 << 20), "cannot find the customer id", 1);
  expect_agreed(config_for(dir.write("header.csv", "customer_id,trans_date,tran_amount\n"), 1 << 20),
                "no usable transactions", 1);
  // A day-first file read month-first: the line with day 13 names itself, whichever rank reads it.
  std::string dates = "customer_id,date,amount\n";
  for (int i = 0; i < 40; ++i) {
    dates += 'c';
    dates += std::to_string(i);
    dates += ',';
    dates += std::to_string(1 + i % 12);
    dates += "/5/2011,1\n";
  }
  dates += "c99,13/5/2011,1\n";
  expect_agreed(config_for(dir.write("dayfirst.csv", dates), 16), "dayfirst.csv:42: date '13/5/2011'", 1);
  // More than --max-bad-fraction unparseable (from the global counters, whichever rank read what).
  std::string commas = "customer_id,date,amount\n";
  for (int i = 0; i < 40; ++i) {
    commas += 'c';
    commas += std::to_string(i);
    commas += i % 4 == 0 ? ",2011-05-01,1\n" : ",2011-05-01,1,5\n";  // "1,5": a third field too many
  }
  RunConfig strict = config_for(dir.write("commas.csv", commas), 16);
  strict.input.max_bad_fraction = 0.05;
  expect_agreed(strict, "30 of 40 data lines (75.0 %) cannot be parsed", 1);
  strict.input.max_bad_fraction = 0.75;  // not more than 75 %: usable
  EXPECT_EQ(run_stage(comm, strict).total_customers, 10u);
}
