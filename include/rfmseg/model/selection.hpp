#pragma once
// Choosing k from an elbow sweep. Pure functions of the sweep's numbers (no MPI).
//
// Elbow (Kneedle, Satopää et al. 2011, for a decreasing convex curve): with k and SSE both
// normalised to [0, 1], the elbow is the k whose SSE lies farthest below the straight line from
// the first to the last point of the curve, i.e. argmax over k of (1 − x) − y. Ties: smaller k.
// A curve with no point below that line (not convex) has no elbow: the smallest k > 1 is taken.
//
// Silhouette: the k with the highest silhouette coefficient (k >= 2; ties: smaller k).

#include <vector>

namespace rfmseg {

[[nodiscard]] int kneedle_elbow(const std::vector<int>& ks, const std::vector<double>& sse);
[[nodiscard]] int best_silhouette(const std::vector<int>& ks, const std::vector<double>& silhouette);

}  // namespace rfmseg
