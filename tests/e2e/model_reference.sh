# The segmentation against scikit-learn and across rank counts, on a generated file:
#  - K-means from the stored initial centroids agrees with sklearn.cluster.KMeans (ARI >= 0.99,
#    inertia within 1e-6 relative), for each init policy;
#  - silhouette / Calinski-Harabasz / Davies-Bouldin equal sklearn.metrics to 1e-9;
#  - the elbow sweep and every dataset of the result are bit-identical under 1, 2, 3 and 4 ranks;
#  - the AVX2 distance kernels (picked at run time when the CPU has them) and the portable ones
#    (RFMSEG_CPU=portable) give bit-identical results, Lloyd and Hamerly; /run/kmeans_kernels says which;
#  - Box-Cox lambdas equal scipy.stats.boxcox's to 1e-4;
#  - the adjusted Rand index against the generator's latent groups is reported.
source "$(dirname "$0")/common.sh"
if ! "$PY" -c 'import sklearn, scipy' 2>/dev/null; then
  echo "SKIP: $PY lacks scikit-learn/scipy (apt-get install python3-sklearn python3-scipy)" >&2
  exit 77
fi

step "generate 60k lines"
"$RFMSEG_GEN" --output "$WORK/data.csv" --lines 60000 --seed 11 --groups "$WORK/groups.csv" > /dev/null

common=(--input "$WORK/data.csv" --k-range 1..6 --k-select elbow --n-init 3 --silhouette-sample 0 --quiet)
for n in 1 2 3 4; do
  step "rfmseg under $n rank(s)"
  if mpi "$n" "$RFMSEG" "${common[@]}" --output "$WORK/np$n.h5"; then
    pass "np$n run"
  else
    fail "np$n run failed"
  fi
done
for n in 2 3 4; do
  if out=$("$PY" "$REFDIR/compare_results.py" same "$WORK/np1.h5" "$WORK/np$n.h5" 2>&1); then
    pass "np1 == np$n: ${out##*$'\n'}"
  else
    echo "$out" >&2
    fail "np1 and np$n results differ"
  fi
done

step "distance kernels: AVX2 (runtime dispatch) = portable (RFMSEG_CPU=portable), bit for bit"
if grep -qw avx2 /proc/cpuinfo; then expect_auto=avx2; else expect_auto=portable; fi
RFMSEG_CPU=portable mpi 2 "$RFMSEG" "${common[@]}" --output "$WORK/np2-portable.h5" || fail "portable np2 run failed"
for algo in lloyd hamerly; do
  for cpu in auto portable; do
    RFMSEG_CPU=$cpu mpi 3 "$RFMSEG" --input "$WORK/data.csv" --k 10 --kmeans-algorithm "$algo" --n-init 2 --quiet \
      --output "$WORK/k10-$algo-$cpu.h5" || fail "k = 10 $algo run with RFMSEG_CPU=$cpu failed"
  done
done
for pair in "np2.h5 np2-portable.h5" "k10-lloyd-auto.h5 k10-lloyd-portable.h5" "k10-hamerly-auto.h5 k10-hamerly-portable.h5"; do
  read -r a b <<< "$pair"
  if out=$("$PY" "$REFDIR/compare_results.py" same "$WORK/$a" "$WORK/$b" 2>&1); then
    pass "$a == $b: ${out##*$'\n'}"
  else
    echo "$out" >&2
    fail "$a and $b differ"
  fi
done
if out=$("$PY" - "$WORK" "$expect_auto" <<'PY' 2>&1
import sys, h5py
work, expect = sys.argv[1], sys.argv[2]
def attrs(name):
    with h5py.File("%s/%s" % (work, name), "r") as f:
        a = f["run"].attrs
        return (a["kmeans_kernels"].decode() if isinstance(a["kmeans_kernels"], bytes) else str(a["kmeans_kernels"]),
                int(a["kmeans_distance_evaluations"]), int(a["kmeans_iterations_total"]))
bad = []
for auto, portable in (("np2.h5", "np2-portable.h5"), ("k10-lloyd-auto.h5", "k10-lloyd-portable.h5"),
                       ("k10-hamerly-auto.h5", "k10-hamerly-portable.h5")):
    a, p = attrs(auto), attrs(portable)
    if a[0] != expect or p[0] != "portable":
        bad.append("%s: kmeans_kernels %s (want %s), %s: %s (want portable)" % (auto, a[0], expect, portable, p[0]))
    if a[1:] != p[1:]:
        bad.append("%s vs %s: distance evaluations / iterations %s vs %s" % (auto, portable, a[1:], p[1:]))
print("\n".join(bad) if bad else "kmeans_kernels %s vs portable; same distance evaluations and iterations" % expect)
sys.exit(1 if bad else 0)
PY
); then
  pass "$out"
else
  echo "$out" >&2
  fail "/run/kmeans_kernels or the K-means counters are wrong"
fi

step "scikit-learn agreement"
for init in kmeans++ kmeans-parallel random; do
  mpi 2 "$RFMSEG" --input "$WORK/data.csv" --k 4 --n-init 2 --init "$init" --silhouette-sample 0 --quiet \
    --output "$WORK/$init.h5" || fail "$init run failed"
  if out=$("$PY" "$REFDIR/compare_results.py" kmeans "$WORK/$init.h5" --min-ari 0.99 --inertia-rtol 1e-6 2>&1); then
    pass "kmeans ($init) agrees with scikit-learn: $(grep -E '^ARI' <<< "$out")"
  else
    echo "$out" >&2
    fail "kmeans ($init) disagrees with scikit-learn"
  fi
  if out=$("$PY" "$REFDIR/compare_results.py" metrics "$WORK/$init.h5" 2>&1); then
    pass "metrics ($init) agree with scikit-learn"
  else
    echo "$out" >&2
    fail "metrics ($init) disagree with scikit-learn"
  fi
done

step "scipy lambdas and ARI against the latent groups"
if out=$("$PY" - "$WORK/np1.h5" "$WORK/groups.csv" <<'PY' 2>&1
import sys, h5py, numpy as np, pandas as pd
from scipy import stats
from sklearn.metrics import adjusted_rand_score
f = h5py.File(sys.argv[1], "r")
ours = f["model/transform/lambda"][:]
r = f["customers/recency"][:].astype(float)
fr = f["customers/frequency"][:].astype(float)
ref = [stats.boxcox(r)[1], stats.boxcox(fr)[1]]
for name, a, b in zip(("recency", "frequency"), ours[:2], ref):
    print(f"lambda {name}: rfmseg {a:.8f} scipy {b:.8f}")
    assert abs(a - b) < 1e-4, (name, a, b)
groups = pd.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
truth = dict(zip(groups.iloc[:, 0], groups.iloc[:, 1]))
ids = f["customers/customer_id"][:].astype(str)
labels = f["customers/cluster"][:]
known = [i for i, c in enumerate(ids) if c in truth]
print(f"ARI vs latent groups (k={f['model/k'][()]}, {len(known)} customers): "
      f"{adjusted_rand_score([truth[ids[i]] for i in known], labels[known]):.3f}")
PY
); then
  pass "$out"
else
  echo "$out" >&2
  fail "lambda check failed"
fi
step "--sweep-metrics sse: the same clusters, SSE curve and final model; no per-k metrics"
mpi 3 "$RFMSEG" "${common[@]}" --sweep-metrics sse --output "$WORK/sse.h5" > "$WORK/sse.log" 2>&1 \
  || { cat "$WORK/sse.log" >&2; fail "--sweep-metrics sse failed"; }
if out=$("$PY" - "$WORK/np1.h5" "$WORK/sse.h5" <<'PY' 2>&1
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
same = lambda p: a[p][()].tobytes() == b[p][()].tobytes()
for p in ("customers/cluster", "customers/features", "model/centroids", "selection/sse", "selection/k",
          "model/silhouette", "model/calinski_harabasz", "model/davies_bouldin"):
    assert same(p), p
for p in ("selection/silhouette", "selection/calinski_harabasz", "selection/davies_bouldin"):
    assert np.isnan(b[p][:]).all(), (p, b[p][:])
print("SSE curve, clusters and the final model's metrics identical; per-k metrics NaN")
PY
); then pass "$out"; else echo "$out" >&2; fail "--sweep-metrics sse differs"; fi
out=$(mpi 1 "$RFMSEG" --input "$WORK/data.csv" --k-range 1..4 --k-select silhouette --sweep-metrics sse \
      --output "$WORK/bad.h5" 2>&1) && fail "silhouette selection without silhouettes was accepted" \
  || { grep -q "needs the silhouette of every k" <<< "$out" && pass "--k-select silhouette --sweep-metrics sse refused" \
       || fail "unexpected message: $out"; }
finish
