// The model part of a result file: written by the real pipeline, loaded back on every rank, equal
// bit for bit to the in-memory Segmentation; missing, foreign, damaged and incomplete files refused.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstring>
#include <string>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/app/pipeline.hpp"
#include "rfmseg/app/saved_model.hpp"
#include "rfmseg/app/score.hpp"
#include "rfmseg/app/segmentation.hpp"
#include "rfmseg/core/date.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "test_support.hpp"

using namespace rfmseg;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// A small shop: 300 customers with varied recency, frequency and spend (deterministic).
std::string shop_csv() {
  std::string csv = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";
  int invoice = 500000;
  for (int c = 0; c < 300; ++c) {
    const auto h = hash_bytes("customer" + std::to_string(c));
    const int visits = 1 + static_cast<int>(h % 9) * static_cast<int>((h >> 8) % 3);
    const int last_day = 1 + static_cast<int>((h >> 16) % 28);
    for (int v = 0; v < visits; ++v) {
      const int day = 1 + (last_day + v * 7) % 28;
      const int month = 1 + static_cast<int>(((h >> 24) + static_cast<unsigned>(v)) % 12);
      const int quantity = 1 + static_cast<int>((h >> (32 + v % 8)) % 24);
      const int cents = 50 + static_cast<int>((h >> (40 + v % 8)) % 2000);
      csv += std::to_string(invoice++) + ",X1,ITEM," + std::to_string(quantity) + "," + std::to_string(month) + "/" +
             std::to_string(day) + "/2011 10:00," + std::to_string(cents / 100) + "." + (cents % 100 < 10 ? "0" : "") +
             std::to_string(cents % 100) + "," + std::to_string(12000 + c) + ",United Kingdom\n";
    }
  }
  return csv;
}

RunConfig config_for(const std::string& input, const std::string& output) {
  RunConfig config;
  config.input.paths = {input};
  config.output = output;
  config.quiet = true;
  config.model.k = 4;
  config.model.n_init = 3;
  config.model.transform[2] = Transform::boxcox;
  config.resolved = "k = 4\nn-init = 3\n";
  return config;
}

// Runs `load` and returns the AgreedError's message ("" when it loaded).
std::string refusal(const mpi::Comm& comm, const std::string& path) {
  try {
    (void)load_saved_model(comm, path);
  } catch (const AgreedError& error) {
    EXPECT_EQ(error.exit_code(), 1);
    return error.what();
  }
  return {};
}

// Rank 0 edits the file with the HDF5 C API (serially); the others wait.
template <class Edit>
void edit_file(const mpi::Comm& comm, const std::string& path, Edit&& edit) {
  if (comm.is_root()) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    edit(file);
    H5Fclose(file);
  }
  comm.barrier();
}

}  // namespace

TEST(SavedModelMpi, loads_the_parameters_of_the_run_bit_for_bit) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string input = dir.write("shop.csv", shop_csv());
  const std::string output = dir.path() + "/result.h5";
  const RunConfig config = config_for(input, output);
  ASSERT_EQ(run_pipeline(comm, config), 0);

  PhaseTimes times(comm);
  const CustomerStage stage = build_customer_table(comm, config, times);
  const Segmentation seg = segment_customers(comm, config.model, stage, times);

  const SavedModel model = load_saved_model(comm, output);
  EXPECT_EQ(model.path, output);
  EXPECT_FALSE(model.version.empty());
  EXPECT_EQ(model.snapshot_day, stage.snapshot);
  EXPECT_EQ(model.snapshot_date, format_day(stage.snapshot));
  EXPECT_EQ(model.configuration, config.resolved);
  EXPECT_EQ(model.customers, static_cast<std::int64_t>(stage.total_customers));
  for (std::size_t d = 0; d < feature_count; ++d) {
    EXPECT_EQ(model.transforms[d].kind, seg.transforms[d].kind);
    EXPECT_TRUE(same_bits(model.transforms[d].lambda, seg.transforms[d].lambda));
    EXPECT_TRUE(same_bits(model.transforms[d].shift, seg.transforms[d].shift));
    EXPECT_TRUE(same_bits(model.scale.center[d], seg.scale.center[d]));
    EXPECT_TRUE(same_bits(model.scale.scale[d], seg.scale.scale[d]));
    for (std::size_t j = 0; j < 4; ++j)
      EXPECT_TRUE(same_bits(model.score_cut_points[d][j], seg.scores.cut_points[d][j]));
    EXPECT_TRUE(same_bits(model.segment_reference[d], seg.scores.reference[d]));
  }
  EXPECT_EQ(model.transforms[2].kind, Transform::boxcox);
  EXPECT_NE(model.transforms[2].lambda, 0.0);  // a fitted value travelled, not a default
  EXPECT_EQ(model.scale.kind, seg.scale.kind);
  EXPECT_EQ(model.scale.grid_exponent, seg.scale.grid_exponent);
  EXPECT_NE(model.scale.grid_exponent, 0);
  EXPECT_TRUE(same_bits(model.high_value_threshold, seg.scores.high_value_threshold));
  EXPECT_EQ(model.k, 4);
  ASSERT_EQ(model.centroids.size(), seg.model.centroids.size());
  for (std::size_t i = 0; i < model.centroids.size(); ++i)
    EXPECT_TRUE(same_bits(model.centroids[i], seg.model.centroids[i])) << i;
  EXPECT_EQ(model.cluster_labels, seg.cluster_labels);
  EXPECT_EQ(model.fit_index, seg.fit_index);
  EXPECT_EQ(model.cluster_size, seg.model.sizes);
  ASSERT_EQ(model.init_centroids.size(), seg.model.init_centroids.size());
  for (std::size_t i = 0; i < model.init_centroids.size(); ++i)
    EXPECT_TRUE(same_bits(model.init_centroids[i], seg.model.init_centroids[i])) << i;
  EXPECT_EQ(model.n_iter, seg.model.n_iter);
  EXPECT_EQ(model.converged, seg.model.converged);
  EXPECT_EQ(model.restart, seg.model.restart);
  EXPECT_TRUE(same_bits(model.silhouette, seg.metrics.silhouette));
  EXPECT_TRUE(same_bits(model.calinski_harabasz, seg.metrics.calinski_harabasz));
  EXPECT_TRUE(same_bits(model.davies_bouldin, seg.metrics.davies_bouldin));
  EXPECT_EQ(model.silhouette_sample, seg.metrics.silhouette_sample);

  // Scoring the training customers with the loaded model gives the run's features, clusters,
  // scores and segments bit for bit (this rank's rows).
  const Segmentation scored = score_with_model(comm, model, stage, times);
  for (std::size_t d = 0; d < feature_count; ++d) {
    ASSERT_EQ(scored.features.column[d].size(), seg.features.column[d].size());
    for (std::size_t i = 0; i < seg.features.column[d].size(); ++i)
      ASSERT_TRUE(same_bits(scored.features.column[d][i], seg.features.column[d][i])) << d << " " << i;
  }
  EXPECT_EQ(scored.labels, seg.labels);
  EXPECT_EQ(scored.model.sizes, seg.model.sizes);
  EXPECT_EQ(scored.scores.r_score, seg.scores.r_score);
  EXPECT_EQ(scored.scores.f_score, seg.scores.f_score);
  EXPECT_EQ(scored.scores.m_score, seg.scores.m_score);
  EXPECT_EQ(scored.scores.rfm_code, seg.scores.rfm_code);
  EXPECT_EQ(scored.scores.segment, seg.scores.segment);
  EXPECT_EQ(scored.scores.high_value, seg.scores.high_value);
  EXPECT_EQ(scored.segments.count, seg.segments.count);

  // Every rank holds the same model.
  const auto fingerprint = hash_bytes(
      std::string(reinterpret_cast<const char*>(model.centroids.data()), model.centroids.size() * sizeof(double)) +
      model.configuration + model.cluster_labels.back());
  for (auto other : mpi::allgather(comm, fingerprint)) EXPECT_EQ(other, fingerprint);
}

TEST(SavedModelMpi, refuses_missing_foreign_damaged_and_incomplete_files) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string input = dir.write("shop.csv", shop_csv());
  const std::string output = dir.path() + "/result.h5";
  ASSERT_EQ(run_pipeline(comm, config_for(input, output)), 0);
  ASSERT_EQ(refusal(comm, output), "");

  const std::string missing = dir.path() + "/nothing.h5";
  auto message = refusal(comm, missing);
  EXPECT_NE(message.find("model file '" + missing + "' cannot be opened"), std::string::npos) << message;

  message = refusal(comm, input);  // a CSV file
  EXPECT_NE(message.find("model file '" + input + "' is not an rfmseg result"), std::string::npos) << message;

  message = refusal(comm, dir.path());
  EXPECT_NE(message.find("is not a regular file"), std::string::npos) << message;

  const std::string foreign = dir.path() + "/foreign.h5";  // HDF5, but not a result
  if (comm.is_root()) {
    const hid_t file = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(H5Gcreate2(file, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Fclose(file);
  }
  comm.barrier();
  message = refusal(comm, foreign);
  EXPECT_NE(message.find("is not an rfmseg result"), std::string::npos) << message;

  // Damaged: one centroid changed behind the checksum's back.
  const std::string damaged = dir.path() + "/damaged.h5";
  ASSERT_EQ(run_pipeline(comm, config_for(input, damaged)), 0);
  edit_file(comm, damaged, [](hid_t file) {
    const hid_t set = H5Dopen2(file, "model/centroids", H5P_DEFAULT);
    double values[12];
    H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    values[5] += 0.25;
    H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    H5Dclose(set);
  });
  message = refusal(comm, damaged);
  EXPECT_NE(message.find("model file '" + damaged + "' is damaged"), std::string::npos) << message;
  EXPECT_NE(message.find("model/centroids"), std::string::npos) << message;

  // Incomplete: a part an older rfmseg did not write (the fit order of the clusters).
  const std::string older = dir.path() + "/older.h5";
  ASSERT_EQ(run_pipeline(comm, config_for(input, older)), 0);
  edit_file(comm, older, [](hid_t file) { H5Ldelete(file, "model/fit_index", H5P_DEFAULT); });
  message = refusal(comm, older);
  EXPECT_NE(message.find("model file '" + older + "' lacks /model/fit_index"), std::string::npos) << message;
}

// A customer equally near two centres goes to the one with the lower fit index, as in the fit
// (the result's cluster order is by monetary, not the fit's): /model/fit_index decides the tie.
TEST(SavedModelMpi, a_tie_between_centres_goes_to_the_lower_fit_index) {
  const auto comm = mpi::Comm::world();
  SavedModel model;
  model.path = "synthetic.h5";
  model.k = 2;
  model.scale.center = {0, 0, 0};
  model.scale.scale = {1, 1, 1};
  model.scale.grid_exponent = 20;
  model.centroids = {1, 1, 10, 3, 1, 10};  // recency 1 and 3; frequency 1, monetary 10
  model.init_centroids = model.centroids;
  model.cluster_labels = {"first", "second"};
  model.score_cut_points = {{{1, 2, 3, 4}, {1, 1, 1, 1}, {1, 2, 3, 4}}};
  model.segment_reference = {2, 1, 10};
  model.high_value_threshold = 10;
  CustomerStage stage;
  stage.total_customers = 3;
  if (comm.is_root()) {  // recency 1 (centre 0), 2 (a tie), 3 (centre 1)
    for (std::int32_t r = 1; r <= 3; ++r) {
      stage.customers.id.push_back("c" + std::to_string(r));
      stage.customers.last_day.push_back(100 - r);
      stage.customers.recency.push_back(r);
      stage.customers.frequency.push_back(1);
      stage.customers.monetary_micros.push_back(10'000'000);
      stage.customers.monetary.push_back(10);
    }
  }
  PhaseTimes times(comm);
  for (const auto& [fit_index, tie] :
       {std::pair{std::vector<std::int32_t>{0, 1}, 0}, std::pair{std::vector<std::int32_t>{1, 0}, 1}}) {
    model.fit_index = fit_index;
    const Segmentation scored = score_with_model(comm, model, stage, times);
    if (comm.is_root()) {
      EXPECT_EQ(scored.labels, (std::vector<std::int32_t>{0, tie, 1}));
    }
    EXPECT_EQ(scored.model.sizes, (std::vector<std::int64_t>{tie == 0 ? 2 : 1, tie == 0 ? 1 : 2}));
  }
}
