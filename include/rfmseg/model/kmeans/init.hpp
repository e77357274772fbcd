#pragma once
// K-means initialization policies (InitPolicy, kmeans/policies.hpp). Collective; the same
// centroids on every rank and for any rank count: every draw is keyed by the hash of the
// customer id, and a global choice is the smallest (draw, global row) over all ranks.

#include <variant>

#include "rfmseg/core/config.hpp"
#include "rfmseg/model/kmeans/policies.hpp"

namespace rfmseg::kmeans {

/// k-means++ (Arthur & Vassilvitskii 2007) by an exponential race: at step s every point draws u
/// from stream (restart, kmeans_plus_plus, s) and bids −ln(u)/D², D² its squared distance to the
/// nearest centroid chosen so far (1 at step 0); the lowest bid over all ranks wins, so
/// P(point i wins) ∝ D²(i) exactly, whatever the partition.
struct KMeansPlusPlus {
  [[nodiscard]] Centroids initialize(const Context& context) const;
};

/// Random: the k points with the smallest draws from stream (restart, random_sample, 0).
/// Duplicate points may be drawn; their clusters are then repaired as empty ones.
struct RandomSample {
  [[nodiscard]] Centroids initialize(const Context& context) const;
};

/// k-means‖ (Bahmani et al. 2012): a first candidate drawn uniformly, then `rounds` rounds in
/// which each point becomes a candidate with probability min(1, ℓ·D²/φ), ℓ = oversampling·k and
/// φ = Σ D² (exact); the candidates are weighted by the points nearest to them, then weighted
/// k-means++ and `refinement_iterations` weighted Lloyd steps on the candidates run identically
/// on every rank. With fewer than k candidates (or no candidate left to draw) it returns
/// `fallback`'s centroids instead.
template <InitPolicy Fallback = KMeansPlusPlus>
struct KMeansParallel {
  int rounds = 5;
  double oversampling = 2.0;
  int refinement_iterations = 10;
  Fallback fallback{};
  [[nodiscard]] Centroids initialize(const Context& context) const;
};

/// The initialization chosen at run time (--init): visited once per restart.
using AnyInit = std::variant<KMeansPlusPlus, KMeansParallel<>, RandomSample>;

/// The policy of an --init choice, with its default parameters.
[[nodiscard]] AnyInit make_init(Init init);

/// Collective: `init`'s starting centroids for `context`.
[[nodiscard]] Centroids initialize(const AnyInit& init, const Context& context);

}  // namespace rfmseg::kmeans
