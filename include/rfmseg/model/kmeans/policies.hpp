#pragma once
// K-means as policies: the contracts the driver (kmeans/driver.hpp) relies on. In the spirit of
// mlpack's KMeans<..., InitialPartitionPolicy, EmptyClusterPolicy, LloydStepType>, each concern is
// a small type with a documented duck-typed interface, checked by a concept; unlike mlpack's, ours
// are distributed and deterministic:
//
//   InitPolicy          collective: `Centroids initialize(const Context&) const` returns the same
//                       [k, 3] starting centroids on every rank, for any split of the rows. Every
//                       draw is keyed by the customer (random_word(seed, stream, key)), never by
//                       the rank or the local row order. Throws AgreedError (on every rank) when
//                       the points have fewer than k distinct feature vectors.
//                       Types: KMeansPlusPlus, KMeansParallel<>, RandomSample (kmeans/init.hpp).
//   StepPolicy          local, no communication: `StepSums step(centroids, labels)` assigns every
//                       local point to its nearest centroid (ties: lowest index) into `labels`
//                       and returns the exact per-cluster sums of the grid coordinates; the
//                       driver allreduces them once per iteration and divides only after that.
//                       `void invalidate()` drops any state carried between steps (a new start).
//                       Every step type gives the same labels and sums bit for bit.
//                       Types: LloydStep, HamerlyStep (kmeans/steps.hpp).
//   EmptyClusterPolicy  collective: `void repair(const Context&, old_centroids, labels, empty,
//                       next) const` sets next's rows of the (globally) empty clusters `empty`
//                       (ascending), given the centroids `old_centroids` the labels were
//                       assigned to. Same result on every rank.
//                       Type: FarthestPoint (kmeans/empty_cluster.hpp).
//
// No virtual calls: the driver is a template over the step and empty-cluster types, and a runtime
// choice (--init, --kmeans-algorithm) is a std::variant visited once per restart.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "rfmseg/core/int128.hpp"
#include "rfmseg/model/kmeans.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg::kmeans {

/// Centroids [k, 3], row-major: centroid j is [3j, 3j + 3).
using Centroids = std::vector<double>;

/// What a collective policy sees of one fit: the communicator, this rank's points, the number of
/// clusters, the seed and the restart (0-based; every restart draws from its own streams).
struct Context {
  const mpi::Comm& comm;
  const KMeansData& data;
  int k = 0;
  std::uint64_t seed = 0;
  int restart = 0;
};

/// What a random stream is for. A draw is random_word(seed, stream_id(restart, purpose, step),
/// key): the values are part of every result (changing one changes every draw of that purpose).
enum class RandomPurpose : std::uint64_t {
  kmeans_plus_plus = 1,       ///< KMeansPlusPlus, the race of step s (key: the customer's)
  random_sample = 2,          ///< RandomSample, step 0 (key: the customer's)
  parallel_oversampling = 3,  ///< KMeansParallel: step 0 the first candidate, step r round r's picks
  parallel_reduction = 4,     ///< KMeansParallel: weighted k-means++ on the candidates, step s
                              ///< (key: the candidate's global row)
};

/// The stream of one (restart, purpose, step).
[[nodiscard]] constexpr std::uint64_t stream_id(int restart, RandomPurpose purpose, int step) noexcept {
  return (static_cast<std::uint64_t>(restart) << 32) ^ (static_cast<std::uint64_t>(purpose) << 24) ^
         static_cast<std::uint64_t>(step);
}

/// One rank's part of a Lloyd step.
struct StepSums {
  std::vector<int128_t> sums;              ///< [k, 3] grid units
  std::vector<std::int64_t> counts;        ///< [k]
  bool changed = false;                    ///< some label differs from the previous step
  std::uint64_t distance_evaluations = 0;  ///< point-centroid distances computed
};

template <class P>
concept InitPolicy = requires(const P policy, const Context& context) {
  { policy.initialize(context) } -> std::same_as<Centroids>;
};

template <class S>
concept StepPolicy = requires(S step, std::span<const double> centroids, std::span<std::int32_t> labels) {
  { step.step(centroids, labels) } -> std::same_as<StepSums>;
  step.invalidate();
};

template <class E>
concept EmptyClusterPolicy = requires(const E policy, const Context& context, std::span<const double> old_centroids,
                                      std::span<const std::int32_t> labels, std::span<const std::size_t> empty,
                                      std::span<double> next) {
  policy.repair(context, old_centroids, labels, empty, next);
};

namespace detail {

/// Throws the AgreedError of a k larger than the number of distinct points found.
[[noreturn]] void too_few_points(int k, int found);

}  // namespace detail

}  // namespace rfmseg::kmeans
