// --rejects under MPI: the rows land at the exclusive scan of the ranks' byte counts, so the file
// is the same bytes for every rank count, memory limit (spilled or not) and chunk size; without
// commit() nothing is left behind.

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/io/rejects.hpp"
#include "test_support.hpp"

using namespace rfmseg;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST(RejectsMpi, rows_at_exclusive_scan_offsets_for_any_limit) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  InputPlan plan;
  plan.files.resize(2);
  plan.files[0].path = dir.path() + "/a.csv";
  plan.files[1].path = dir.path() + "/b \"q\".csv";
  // 200 rows of growing length (some with quotes and newlines), split over the ranks in blocks of
  // uneven size (rank 0 may have none), as the input's byte ranges would be.
  const int total = 200;
  const auto text_of = [](int i) {
    return std::string(static_cast<std::size_t>(i * 37 % 3000), 'x') + (i % 3 ? "\"\n" : ",") + std::to_string(i);
  };
  std::string expected(rejects::header);
  for (int i = 0; i < total; ++i)
    rejects::append_row(expected, plan.files[static_cast<std::size_t>(i / 150)].path, static_cast<std::uint64_t>(i + 2),
                        fate_name(static_cast<Fate>(i % 5)), text_of(i));
  const int p = comm.size(), r = comm.rank();
  const int first = r == 0 ? 0 : total * r * r / (p * p), last = total * (r + 1) * (r + 1) / (p * p);
  for (std::uint64_t limit : {std::uint64_t{1}, std::uint64_t{4096}, std::uint64_t{1} << 20}) {
    const std::string final_path = dir.path() + "/rejects-" + std::to_string(limit) + ".csv";
    {
      RejectsFile file(comm, final_path, {}, dir.path() + "/r.h5");
      file.start(plan, limit);
      for (int i = first; i < last; ++i)
        file.sink().reject(static_cast<std::uint32_t>(i / 150), static_cast<std::uint64_t>(i + 2),
                           static_cast<Fate>(i % 5), text_of(i));
      EXPECT_EQ(file.write(), static_cast<std::uint64_t>(total));
      EXPECT_FALSE(exists(final_path));
      comm.barrier();  // every rank has looked before rank 0 renames
      file.commit();
    }
    comm.barrier();
    EXPECT_EQ(read_file(final_path), expected) << "limit " << limit;
    EXPECT_FALSE(exists(final_path + ".tmp-" + std::to_string(::getpid())));
  }
}

TEST(RejectsMpi, without_commit_nothing_is_left) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  InputPlan plan;
  plan.files.resize(1);
  plan.files[0].path = dir.path() + "/a.csv";
  const std::string final_path = dir.path() + "/rejects.csv";
  std::string temporary;
  {
    RejectsFile file(comm, final_path, {}, dir.path() + "/r.h5");
    file.start(plan, 1);
    file.sink().reject(0, 2, Fate::bad_date, "x");
    file.write();
    temporary = file.temporary_path();
    EXPECT_TRUE(exists(temporary));
    comm.barrier();  // every rank has looked before rank 0 removes it
  }
  comm.barrier();
  EXPECT_FALSE(exists(temporary));
  EXPECT_FALSE(exists(final_path));
}

TEST(RejectsMpi, refuses_the_output_an_input_and_a_non_regular_file) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string input = dir.write("in.csv", "a\n");
  EXPECT_THROW((void)RejectsFile(comm, dir.path() + "/./r.h5", {}, dir.path() + "/r.h5"), AgreedError);
  EXPECT_THROW((void)RejectsFile(comm, "/dev/null", {}, dir.path() + "/r.h5"), AgreedError);
  InputPlan plan;
  plan.files.resize(1);
  plan.files[0].path = input;
  const std::string roundabout = dir.path() + "/../" + dir.path().substr(dir.path().rfind('/') + 1) + "/in.csv";
  OutputRules rules;
  rules.inputs = {input};
  EXPECT_THROW((void)RejectsFile(comm, roundabout, rules, dir.path() + "/r.h5"), AgreedError);  // an input
  EXPECT_THROW((void)RejectsFile(comm, roundabout, {}, dir.path() + "/r.h5"), AgreedError);     // not a rejects file
  rules.inputs.clear();
  rules.force = true;  // past the path rules, the input plan still catches it
  RejectsFile file(comm, roundabout, rules, dir.path() + "/r.h5");
  EXPECT_THROW(file.start(plan, 1), AgreedError);
}

// The ingest fixture of test_ingest_mpi.cpp: every line with a reader fate, nothing else, by
// physical line number, for every chunk size.
TEST(RejectsMpi, ingest_writes_every_reader_fate) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string path = dir.write(
      "fixture.csv",
      "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n"
      "536365,85123A,\"WHITE HANGING, \"\"HEART\"\"\",6,12/1/2010 8:26,2.55,17850,United Kingdom\r\n"
      "536366,22633,HAND WARMER,6,12/2/2010 8:28,1.85,17850,United Kingdom\r\n"
      "536366,22633,HAND WARMER,6,12/2/2010 8:28,1.85,17850,United Kingdom\r\n"          // duplicate
      "536380,22961,\"JAM\nMAKING SET\",x,12/3/2010 9:41,1.45,14527,United Kingdom\r\n"  // lines 5-6, bad number
      "536382,22961,X,2,12/5/2010 9:41,1.5,,United Kingdom\r\n"                          // missing customer
      "536384,22961,X,1,12/5/2010 9:41,1.5,12345\r\n"                                    // bad field count
      "536387,22961,X,1,2/30/2010 9:41,1,12346,United Kingdom\r\n"                       // bad date
      "536388,22961,\xA3 Latin-1,1,12/8/2010 9:41,1,12346,United Kingdom\n"
      "536389,22961,X,1,12/8/2010 9:41,1,\"" +
          std::string(300, 'Z') + "\",UK");  // bad customer id, no newline
  const std::string expected =
      std::string(rejects::header) + "\"" + path +
      "\",5,bad_number,\"536380,22961,\"\"JAM\nMAKING SET\"\",x,12/3/2010 9:41,1.45,14527,United Kingdom\"\n"
      "\"" +
      path +
      "\",7,missing_customer,\"536382,22961,X,2,12/5/2010 9:41,1.5,,United Kingdom\"\n"
      "\"" +
      path +
      "\",8,bad_field_count,\"536384,22961,X,1,12/5/2010 9:41,1.5,12345\"\n"
      "\"" +
      path +
      "\",9,bad_date,\"536387,22961,X,1,2/30/2010 9:41,1,12346,United Kingdom\"\n"
      "\"" +
      path + "\",11,bad_customer_id,\"536389,22961,X,1,12/8/2010 9:41,1,\"\"" + std::string(300, 'Z') + "\"\",UK\"\n";
  for (std::uint64_t chunk : {1ull, 7ull, 64ull, 1ull << 20}) {
    RunConfig config;
    config.input.paths = {path};
    config.input.chunk_bytes = chunk;
    config.input.max_bad_fraction = 1;  // the fixture is mostly bad on purpose
    config.quiet = true;
    const std::string final_path = dir.path() + "/rejects.csv";
    {
      RejectsFile rejects(comm, final_path, {}, dir.path() + "/r.h5");
      PhaseTimes times(comm);
      const CustomerStage stage = build_customer_table(comm, config, times, &rejects);
      EXPECT_EQ(stage.rejected_rows, 5u);
      rejects.commit();
    }
    comm.barrier();
    EXPECT_EQ(read_file(final_path), expected) << "chunk " << chunk;
  }
}
