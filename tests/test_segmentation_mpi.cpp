// Transform, scale and K-means under MPI: each policy alone on tiny well-separated data, exact
// reductions independent of how rows are split over ranks, agreement with scipy.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <set>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/model/scale.hpp"
#include "rfmseg/model/transform.hpp"
#include "rfmseg/parallel/reduce.hpp"

using namespace rfmseg;

namespace {

/// Rows [begin, end) of this rank when `n` rows are split in contiguous blocks; `skew` moves the
/// boundaries so that different splits of the same data can be compared.
std::pair<std::size_t, std::size_t> block_of(const mpi::Comm& comm, std::size_t n, bool skew = false) {
  const auto p = static_cast<std::size_t>(comm.size());
  const auto r = static_cast<std::size_t>(comm.rank());
  auto boundary = [&](std::size_t q) {
    if (!skew || q == 0 || q == p) return q * n / p;
    return std::min(n, q * n / p / 3 + 1);  // most rows on the last rank, some ranks tiny
  };
  return {boundary(r), boundary(r + 1)};
}

std::vector<double> formula_values(bool with_negatives) {
  std::vector<double> x(500);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = (with_negatives ? -30.0 : 1.0) + static_cast<double>(i * 37 % 101) + static_cast<double>(i) / 7.0;
  return x;
}

template <class T>
std::vector<T> slice(const std::vector<T>& all, std::pair<std::size_t, std::size_t> range) {
  return {all.begin() + static_cast<std::ptrdiff_t>(range.first),
          all.begin() + static_cast<std::ptrdiff_t>(range.second)};
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/// Three well-separated blobs of `per_blob` points (deterministic), blob index per row.
struct Blobs {
  Features features;
  std::vector<int> blob;
  std::vector<std::uint64_t> keys;
};

Blobs make_blobs(std::size_t per_blob) {
  Blobs b;
  const double centers[3][3] = {{-10, 0, 5}, {10, 10, -5}, {0, -12, 0}};
  for (int c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < per_blob; ++i) {
      const auto row = static_cast<std::uint64_t>(c) * per_blob + i;
      for (std::size_t d = 0; d < 3; ++d) {
        const double jitter = unit_open(random_word(7, d, row)) - 0.5;
        b.features.column[d].push_back(centers[c][d] + jitter);
      }
      b.blob.push_back(c);
      b.keys.push_back(hash_bytes(std::to_string(row)));
    }
  }
  return b;
}

Features slice_features(const Features& all, std::pair<std::size_t, std::size_t> range) {
  Features f;
  for (std::size_t d = 0; d < 3; ++d) f.column[d] = slice(all.column[d], range);
  return f;
}

/// Fits on this rank's block of `blobs` (grid-snapped like the pipeline does).
KMeansModel fit_on(const mpi::Comm& comm, const Blobs& blobs, const KMeansOptions& options, bool skew,
                   std::vector<std::int32_t>& labels, std::pair<std::size_t, std::size_t>& range) {
  range = block_of(comm, blobs.features.size(), skew);
  Features local = slice_features(blobs.features, range);
  const int exponent = snap_to_grid(comm, local);
  const auto keys = slice(blobs.keys, range);
  const KMeansData data{local, keys, range.first, exponent};
  return fit_kmeans(comm, data, options, labels);
}

}  // namespace

TEST(ExactReduce, sums_do_not_depend_on_the_split) {
  const auto comm = mpi::Comm::world();
  std::vector<double> values;
  for (int i = 0; i < 10007; ++i) values.push_back(std::sin(i) * std::pow(10.0, i % 7) + 1e-9 * i);
  const double even = global_sum(comm, slice(values, block_of(comm, values.size())));
  const double skewed = global_sum(comm, slice(values, block_of(comm, values.size(), true)));
  EXPECT_TRUE(same_bits(even, skewed)) << even << " vs " << skewed;
  long double serial = 0;
  for (double v : values) serial += v;
  EXPECT_NEAR(even, static_cast<double>(serial), 1e-9 * std::fabs(static_cast<double>(serial)));
  // Exactly representable sums are exact.
  std::vector<double> quarters;
  for (int i = 0; i < 1000; ++i) quarters.push_back(0.25 * i);
  EXPECT_EQ(global_sum(comm, slice(quarters, block_of(comm, quarters.size()))), 0.25 * 999 * 1000 / 2);
  const auto m = global_moments(comm, slice(quarters, block_of(comm, quarters.size(), true)));
  EXPECT_EQ(m.count, 1000u);
  EXPECT_DOUBLE_EQ(m.mean, 0.25 * 999 / 2);
  EXPECT_NEAR(m.variance, 0.0625 * (1000.0 * 1000.0 - 1) / 12, 1e-9);
}

TEST(ExactReduce, histogram_sums_equal_the_sums_over_every_value) {
  const auto comm = mpi::Comm::world();
  // Few distinct values, many repeats (like recency in days), negatives and both zeros included.
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(i % 97 == 0 ? -0.0 : std::floor(std::sin(i) * 300) / 4);
  const auto local = slice(values, block_of(comm, values.size(), true));
  const auto histogram = global_histogram(comm, local, 1u << 20);
  ASSERT_TRUE(histogram.has_value());
  EXPECT_LT(histogram->size(), 700u);
  std::uint64_t total = 0;
  for (auto c : histogram->count) total += c;
  EXPECT_EQ(total, values.size());
  EXPECT_TRUE(std::is_sorted(histogram->value.begin(), histogram->value.end()));
  // The same table on every rank, for any split.
  const auto other = global_histogram(comm, slice(values, block_of(comm, values.size())), 1u << 20);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->count, histogram->count);
  EXPECT_EQ(mpi::allreduce<std::uint64_t>(comm, histogram->size(), mpi::Op::max), histogram->size());
  // Bit for bit what the reductions over every value give.
  const Moments exact = global_moments(comm, local);
  const Moments weighted = weighted_moments(histogram->value, histogram->count);
  EXPECT_EQ(weighted.count, exact.count);
  EXPECT_TRUE(same_bits(weighted.mean, exact.mean)) << weighted.mean << " vs " << exact.mean;
  EXPECT_TRUE(same_bits(weighted.variance, exact.variance)) << weighted.variance << " vs " << exact.variance;
  EXPECT_TRUE(same_bits(weighted_sum(histogram->value, histogram->count), global_sum(comm, local)));
  // Too many distinct values for the limit: no table, on every rank.
  EXPECT_FALSE(global_histogram(comm, local, 10).has_value());
  std::vector<double> with_nan = local;
  if (comm.is_root()) with_nan.push_back(std::nan(""));
  EXPECT_FALSE(global_histogram(comm, with_nan, 1u << 20).has_value());
}

TEST(Transform, lambda_from_the_histogram_equals_the_exact_path) {
  const auto comm = mpi::Comm::world();
  // Integer days with many repeats take the histogram path: the λ is the same for any split and
  // matches scipy (scipy.stats.boxcox of 1 + (7919 i mod 50), i < 3000).
  std::vector<double> days;
  for (int i = 0; i < 3000; ++i) days.push_back(1 + (i * 7919) % 50);
  const auto even = fit_transform(comm, Transform::boxcox, slice(days, block_of(comm, days.size())));
  const auto skewed = fit_transform(comm, Transform::boxcox, slice(days, block_of(comm, days.size(), true)));
  EXPECT_TRUE(same_bits(even.lambda, skewed.lambda));
  EXPECT_NEAR(even.lambda, 0.7209462580933729, 1e-6);
}

TEST(Transform, boxcox_lambda_matches_scipy) {
  const auto comm = mpi::Comm::world();
  const auto x = formula_values(false);
  const auto params = fit_transform(comm, Transform::boxcox, slice(x, block_of(comm, x.size())));
  EXPECT_NEAR(params.lambda, 0.8876145413671788, 1e-6);  // scipy.stats.boxcox(x)[1]
  EXPECT_EQ(params.shift, 0);
  const auto skewed = fit_transform(comm, Transform::boxcox, slice(x, block_of(comm, x.size(), true)));
  EXPECT_TRUE(same_bits(params.lambda, skewed.lambda));
}

TEST(Transform, yeojohnson_lambda_matches_scipy) {
  const auto comm = mpi::Comm::world();
  const auto x = formula_values(true);
  const auto params = fit_transform(comm, Transform::yeojohnson, slice(x, block_of(comm, x.size())));
  EXPECT_NEAR(params.lambda, 0.9429730281311522, 1e-6);  // scipy.stats.yeojohnson(x)[1]
}

TEST(Transform, shifts_for_non_positive_values) {
  const auto comm = mpi::Comm::world();
  const std::vector<double> x{-5, 0, 3, 10, 2, 7};
  const auto range = block_of(comm, x.size());
  const auto boxcox_params = fit_transform(comm, Transform::boxcox, slice(x, range));
  EXPECT_EQ(boxcox_params.shift, 6);  // min becomes 1
  const auto log_params = fit_transform(comm, Transform::log1p, slice(x, range));
  EXPECT_EQ(log_params.shift, 5);  // min becomes 0
  std::vector<double> out(range.second - range.first);
  apply_transform(log_params, slice(x, range), out);
  for (double v : out) EXPECT_TRUE(std::isfinite(v));
  EXPECT_EQ(fit_transform(comm, Transform::cbrt, slice(x, range)).shift, 0);
  EXPECT_DOUBLE_EQ(boxcox(std::exp(1.0), 0.0), 1.0);
  EXPECT_DOUBLE_EQ(yeojohnson(-1.0, 2.0), -std::log(2.0));
}

TEST(Scale, standard_minmax_and_zero_variance) {
  const auto comm = mpi::Comm::world();
  Features all;
  for (int i = 0; i < 100; ++i) {
    all.column[0].push_back(i);
    all.column[1].push_back(7);  // constant
    all.column[2].push_back(i * i);
  }
  const auto range = block_of(comm, 100);
  Features f = slice_features(all, range);
  std::vector<std::string> warnings;
  const auto params = fit_scaler(comm, f, Scaler::standard, warnings);
  EXPECT_DOUBLE_EQ(params.center[0], 49.5);
  EXPECT_NEAR(params.scale[0], std::sqrt((100.0 * 100.0 - 1) / 12), 1e-12);
  EXPECT_EQ(params.scale[1], 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("frequency"), std::string::npos);
  apply_scaler(params, f);
  for (double v : f.column[1]) EXPECT_EQ(v, 0);
  const int exponent = snap_to_grid(comm, f);
  for (const auto& column : f.column)
    for (double v : column) EXPECT_EQ(std::ldexp(v, exponent), std::nearbyint(std::ldexp(v, exponent)));
  Features g = slice_features(all, range);
  const auto minmax = fit_scaler(comm, g, Scaler::minmax, warnings);
  apply_scaler(minmax, g);
  for (double v : g.column[0]) {
    EXPECT_GE(v, 0);
    EXPECT_LE(v, 1);
  }
}

class KMeansPolicies : public ::testing::TestWithParam<Init> {};

TEST_P(KMeansPolicies, finds_well_separated_blobs) {
  const auto comm = mpi::Comm::world();
  const Blobs blobs = make_blobs(40);
  std::vector<std::int32_t> labels;
  std::pair<std::size_t, std::size_t> range;
  KMeansOptions options;
  options.k = 3;
  options.init = GetParam();
  options.n_init = 3;
  const auto model = fit_on(comm, blobs, options, false, labels, range);
  // Each blob is one cluster, whatever the numbering: per blob, the smallest and largest label
  // over all ranks agree, and the three blobs have three different labels.
  std::vector<std::int32_t> lowest(3, 1000), highest(3, -1);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const auto b = static_cast<std::size_t>(blobs.blob[range.first + i]);
    lowest[b] = std::min(lowest[b], labels[i]);
    highest[b] = std::max(highest[b], labels[i]);
  }
  lowest = mpi::allreduce(comm, std::move(lowest), mpi::Op::min);
  highest = mpi::allreduce(comm, std::move(highest), mpi::Op::max);
  EXPECT_EQ(lowest, highest) << "a blob was split between clusters";
  EXPECT_EQ(std::set<std::int32_t>(lowest.begin(), lowest.end()).size(), 3u);
  EXPECT_TRUE(model.converged);
  EXPECT_EQ(model.sizes, (std::vector<std::int64_t>{40, 40, 40}));
  EXPECT_LT(model.inertia, 120 * 3 * 0.25);  // jitter is uniform in ±0.5 per axis: E[d²] = 0.25
}

INSTANTIATE_TEST_SUITE_P(Init, KMeansPolicies,
                         ::testing::Values(Init::kmeans_plus_plus, Init::kmeans_parallel, Init::random));

TEST(KMeans, bit_identical_for_any_split_of_the_rows) {
  const auto comm = mpi::Comm::world();
  const Blobs blobs = make_blobs(100);
  KMeansOptions options;
  options.k = 5;  // more clusters than blobs: the answer depends on the seeded init
  options.n_init = 4;
  for (Init init : {Init::kmeans_plus_plus, Init::kmeans_parallel, Init::random}) {
    options.init = init;
    std::vector<std::int32_t> even_labels, skew_labels;
    std::pair<std::size_t, std::size_t> even_range, skew_range;
    const auto even = fit_on(comm, blobs, options, false, even_labels, even_range);
    const auto skew = fit_on(comm, blobs, options, true, skew_labels, skew_range);
    EXPECT_TRUE(same_bits(even.inertia, skew.inertia)) << even.inertia << " vs " << skew.inertia;
    ASSERT_EQ(even.centroids.size(), skew.centroids.size());
    for (std::size_t t = 0; t < even.centroids.size(); ++t)
      EXPECT_TRUE(same_bits(even.centroids[t], skew.centroids[t]));
    EXPECT_EQ(even.n_iter, skew.n_iter);
    EXPECT_EQ(even.restart, skew.restart);
    EXPECT_EQ(mpi::allgatherv<std::int32_t>(comm, even_labels), mpi::allgatherv<std::int32_t>(comm, skew_labels));
  }
}

TEST(KMeans, inertia_is_the_sum_of_squared_distances) {
  const auto comm = mpi::Comm::world();
  const Blobs blobs = make_blobs(30);
  std::vector<std::int32_t> labels;
  std::pair<std::size_t, std::size_t> range;
  KMeansOptions options;
  options.k = 3;
  const auto model = fit_on(comm, blobs, options, false, labels, range);
  Features local = slice_features(blobs.features, range);
  (void)snap_to_grid(comm, local);
  long double sum = 0;
  for (std::size_t i = 0; i < local.size(); ++i)
    for (std::size_t d = 0; d < 3; ++d) {
      const double diff = local.column[d][i] - model.centroids[static_cast<std::size_t>(labels[i]) * 3 + d];
      sum += diff * diff;
    }
  const double total = mpi::allreduce(comm, static_cast<double>(sum), mpi::Op::sum);
  EXPECT_NEAR(model.inertia, total, 1e-9 * total);
}

TEST(KMeans, more_clusters_than_distinct_points_is_a_clear_error) {
  const auto comm = mpi::Comm::world();
  Features all;
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 40; ++i) {
    for (std::size_t d = 0; d < 3; ++d) all.column[d].push_back(static_cast<double>(i % 3));
    keys.push_back(hash_bytes(std::to_string(i)));
  }
  const auto range = block_of(comm, 40);
  Features local = slice_features(all, range);
  const auto local_keys = slice(keys, range);
  const KMeansData data{local, local_keys, range.first, snap_to_grid(comm, local)};
  KMeansOptions options;
  options.k = 4;
  std::vector<std::int32_t> labels;
  try {
    (void)fit_kmeans(comm, data, options, labels);
    ADD_FAILURE() << "expected an error";
  } catch (const AgreedError& e) {
    EXPECT_NE(std::string(e.what()).find("only 3 distinct"), std::string::npos) << e.what();
  }
  options.k = 3;
  const auto model = fit_kmeans(comm, data, options, labels);
  EXPECT_EQ(model.inertia, 0);
  std::vector<std::int64_t> sizes = model.sizes;
  std::sort(sizes.begin(), sizes.end());
  EXPECT_EQ(sizes, (std::vector<std::int64_t>{13, 13, 14}));  // i % 3 over 40 rows
}
