// --previous under 1-4 ranks: a night 1 result written by the real pipeline, a night 2 (customers
// gone, new ones, a week later) joined to it. Checked against a serial reading of both files on
// rank 0: each customer's previous cluster and segment, the migration counts, the stable ids, the
// warm start and the refusals. (Bit-identity across rank counts: e2e.nightly.)

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <string>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/phases.hpp"
#include "rfmseg/app/pipeline.hpp"
#include "rfmseg/app/previous.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/date.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/io/h5.hpp"
#include "test_support.hpp"

using namespace rfmseg;

namespace {

// 400 customers; `night` 2 drops every customer c % 10 == 3 (also among the new ones) and adds
// customers 400..439.
std::string shop_csv(int night) {
  std::string csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";
  int invoice = 500000;
  const int customers = night == 1 ? 400 : 440;
  for (int c = 0; c < customers; ++c) {
    if (night == 2 && c % 10 == 3) continue;
    const auto h = hash_bytes("customer" + std::to_string(c));
    const int visits = 1 + static_cast<int>(h % 9) * static_cast<int>((h >> 8) % 3);
    for (int v = 0; v < visits; ++v) {
      const int day = 1 + static_cast<int>(((h >> 16) + static_cast<unsigned>(v) * 7) % 28);
      const int month = 1 + static_cast<int>(((h >> 24) + static_cast<unsigned>(v)) % 11);
      const int cents = 50 + static_cast<int>((h >> (40 + v % 8)) % 2000);
      csv += std::to_string(invoice++) + ",X1,ITEM,2," + std::to_string(month) + "/" + std::to_string(day) +
             "/2011 10:00," + std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
             std::to_string(cents % 100) + "," + std::to_string(12000 + c) + ",United Kingdom\n";
    }
  }
  return csv;
}

RunConfig config_for(const std::string& input, const std::string& output, int snapshot_day) {
  RunConfig config;
  config.input.paths = {input};
  config.input.snapshot_day = snapshot_day;
  config.rfm.snapshot_day = snapshot_day;
  config.output = output;
  config.quiet = true;
  config.model.k = 4;
  config.model.n_init = 2;
  config.resolved = "k = 4\n";
  return config;
}

struct Customer {
  int cluster, segment;
};

std::map<std::string, Customer> customers_of(const std::string& path) {
  const h5::File file = h5::File::open_read(path);
  const auto ids = h5::read_strings(file, "customers/customer_id");
  const auto cluster = h5::read<std::int32_t>(file, "customers/cluster");
  const auto segment = h5::read<std::int8_t>(file, "customers/segment");
  std::map<std::string, Customer> out;
  for (std::size_t i = 0; i < ids.size(); ++i) out[ids[i]] = {cluster[i], segment[i]};
  return out;
}

std::string refusal(const mpi::Comm& comm, const RunConfig& config) {
  try {
    (void)open_previous(comm, config.previous, config);
  } catch (const AgreedError& error) {
    EXPECT_EQ(error.exit_code(), 1);
    return error.what();
  }
  return {};
}

}  // namespace

TEST(PreviousMpi, joins_and_compares_two_nights) {
  const mpi::Comm comm(MPI_COMM_WORLD);
  const test::SharedTempDir dir(comm);
  const std::string night1 = dir.write("night1.csv", shop_csv(1));
  const std::string night2 = dir.write("night2.csv", shop_csv(2));
  const int day1 = days_from_civil(2011, 12, 1), day2 = days_from_civil(2011, 12, 8);
  const std::string first = dir.path() + "/night1.h5";
  ASSERT_EQ(run_pipeline(comm, config_for(night1, first, day1)), 0);

  RunConfig config = config_for(night2, dir.path() + "/night2.h5", day2);
  config.previous = first;
  PreviousResult previous = open_previous(comm, first, config);
  EXPECT_EQ(previous.model.k, 4);
  EXPECT_EQ(previous.model.snapshot_day, day1);
  EXPECT_EQ(previous.model.customers, 400);
  PhaseTimes times(comm);
  const CustomerStage stage = build_customer_table(comm, config, times);
  join_previous(comm, stage, previous);
  const Segmentation seg = segment_customers(comm, config.model, stage, times, nullptr, &previous);
  const Comparison c = compare_with_previous(comm, stage, seg, previous);

  EXPECT_EQ(c.stayed, 360);
  EXPECT_EQ(c.added, 36);  // 400..439 but the four ending in 3
  EXPECT_EQ(c.gone, 40);
  EXPECT_EQ(std::accumulate(c.clusters.begin(), c.clusters.end(), std::int64_t{0}), 436);
  EXPECT_EQ(std::accumulate(c.segments.begin(), c.segments.end(), std::int64_t{0}), 436);
  EXPECT_GE(c.ari, -1.0);
  EXPECT_LE(c.ari, 1.0);
  for (double psi : c.psi) EXPECT_GE(psi, 0.0);
  // Same k on both nights: the ids are a permutation of the previous ones, rows ascending.
  ASSERT_EQ(seg.cluster_ids.size(), 4u);
  for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(seg.cluster_ids[j], static_cast<std::int64_t>(j));
  EXPECT_EQ(seg.cluster_id_rule, "maximum overlap with the previous result");
  EXPECT_FALSE(seg.warm_start.empty());

  // Each local row's previous cluster and segment, against rank 0's... every rank's own reading.
  const auto yesterday = customers_of(first);
  std::int64_t matched = 0;
  for (std::size_t i = 0; i < stage.customers.size(); ++i) {
    const auto found = yesterday.find(stage.customers.id[i]);
    if (found == yesterday.end()) {
      EXPECT_EQ(previous.cluster[i], -1) << stage.customers.id[i];
      EXPECT_EQ(previous.segment[i], -1);
    } else {
      ++matched;
      EXPECT_EQ(previous.cluster[i], found->second.cluster) << stage.customers.id[i];
      EXPECT_EQ(previous.segment[i], found->second.segment);
    }
  }
  EXPECT_EQ(mpi::allreduce(comm, matched, mpi::Op::sum), 360);

  // The warm start alone gives a valid fit of the same k.
  ModelConfig warm_only = config.model;
  warm_only.n_init = 0;
  const Segmentation warm = segment_customers(comm, warm_only, stage, times, nullptr, &previous);
  EXPECT_EQ(warm.warm_start, "used alone (--n-init 0)");
  EXPECT_EQ(warm.model.k, 4);
}

TEST(PreviousMpi, refuses_results_that_are_not_comparable) {
  const mpi::Comm comm(MPI_COMM_WORLD);
  const test::SharedTempDir dir(comm);
  const std::string input = dir.write("night1.csv", shop_csv(1));
  const std::string first = dir.path() + "/night1.h5";
  const int day1 = days_from_civil(2011, 12, 1);
  ASSERT_EQ(run_pipeline(comm, config_for(input, first, day1)), 0);
  RunConfig config = config_for(input, dir.path() + "/night2.h5", day1);
  config.previous = first;
  EXPECT_EQ(refusal(comm, config), "");
  RunConfig other_k = config;
  other_k.model.k = 5;
  EXPECT_NE(refusal(comm, other_k).find("has k = 4 clusters"), std::string::npos);
  other_k.model.k_select = KSelect::elbow;  // the data may choose: accepted
  EXPECT_EQ(refusal(comm, other_k), "");
  RunConfig other_transform = config;
  other_transform.model.transform[1] = Transform::log1p;
  EXPECT_NE(refusal(comm, other_transform).find("not comparable"), std::string::npos);
  RunConfig missing = config;
  missing.previous = dir.path() + "/nowhere.h5";
  EXPECT_NE(refusal(comm, missing).find("cannot be used"), std::string::npos);
  RunConfig foreign = config;
  foreign.previous = input;  // a CSV file
  EXPECT_NE(refusal(comm, foreign).find("cannot be used"), std::string::npos);
}
