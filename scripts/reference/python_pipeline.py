#!/usr/bin/python3
"""The pandas + scikit-learn RFM pipeline as a user writes it: the side of bench_vs_python.sh.

  read_csv -> vectorised cleaning (rfmseg's default rules) -> groupby RFM -> Box-Cox/cbrt ->
  StandardScaler -> elbow sweep KMeans(k, n_init) for every k of --k-range -> final KMeans(--k)
  [-> silhouette/Calinski-Harabasz/Davies-Bouldin per k with --metrics] -> CSV of the customers.

bench_vs_python.sh passes --metrics in its default --mode metrics (rfmseg computes the same three
per k) and leaves it out in --mode sse (the tutorial's work: SSE per k only, rfmseg
--sweep-metrics sse), so there the 'metrics' phase does not exist.

Unlike pipeline_reference.py (the many-layout baseline the selftest uses), this script handles only
the two Online Retail layouts with one known date format, as a user's notebook would, and does
nothing per row in Python: it is meant to be the fastest honest pandas/scikit-learn version of the
job.  Each phase is timed (wall seconds, time.perf_counter) and the timings are printed as one JSON
object on the last line of stdout (and written to --timings-json).

Cleaning, in rfmseg's fate order (README "Data semantics"): rows without a customer id, exact
duplicate rows among the rest (all columns equal after CSV unquoting; rfmseg compares the raw
bytes, which differs only for oddly quoted lines), cancellations (invoice starting with "C" or
quantity < 0), zero quantity, price <= 0.  Ids are trimmed and "17850.0" becomes "17850".
Monetary is a float64 sum (rfmseg sums exactly in micro-units and rounds once: the last bits may
differ).  Recency = (latest kept day + 1) - the customer's latest kept day; Frequency = distinct
invoices.

scikit-learn's KMeans runs Lloyd with OpenMP threads (all cores unless OMP_NUM_THREADS says
otherwise); the thread count is part of the JSON.
"""

import argparse
import json
import resource
import sys
import time

T_START = time.perf_counter()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

T_IMPORTED = time.perf_counter()

# role -> header name, per layout
LAYOUTS = {
    "online-retail": {"invoice": "InvoiceNo", "quantity": "Quantity", "date": "InvoiceDate",
                      "price": "UnitPrice", "customer": "CustomerID",
                      "date_format": "%m/%d/%Y %H:%M"},
    "online-retail-ii": {"invoice": "Invoice", "quantity": "Quantity", "date": "InvoiceDate",
                         "price": "Price", "customer": "Customer ID",
                         "date_format": "%Y-%m-%d %H:%M:%S"},
}
TRANSFORMS = ["none", "log1p", "cbrt", "boxcox", "yeojohnson"]


class Phases:
    """Accumulates wall seconds per named phase."""

    def __init__(self):
        self.seconds = {}

    def __call__(self, name):
        phases = self

        class _Phase:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                phases.seconds[name] = phases.seconds.get(name, 0.0) + time.perf_counter() - self.start

        return _Phase()


def read(path, layout):
    header = pd.read_csv(path, encoding="latin-1", nrows=0).columns.tolist()
    if layout == "auto":
        for name, cols in LAYOUTS.items():
            if all(cols[r] in header for r in ("invoice", "quantity", "date", "price", "customer")):
                layout = name
                break
        else:
            raise SystemExit("error: %s: not an Online Retail (I or II) header: %r" % (path, header))
    cols = LAYOUTS[layout]
    # Every text column as str (ids keep leading zeros and "17850.0" stays visible); the
    # numbers as numbers.  An unparsable number makes read_csv fail: this pipeline assumes the
    # export's numeric columns are clean, as users' notebooks do.
    dtype = {c: str for c in header}
    dtype[cols["quantity"]] = np.int64
    dtype[cols["price"]] = np.float64
    df = pd.read_csv(path, encoding="latin-1", dtype=dtype, keep_default_na=False,
                     na_values={cols["customer"]: [""]})
    return df, layout


def clean(df, layout, day_first):
    c = LAYOUTS[layout]
    counts = {"data_lines": int(len(df))}
    cust = df[c["customer"]].str.strip()
    missing = cust.isna() | (cust == "")
    # Copies of equal rows have equal ids, so "duplicate among the rows with an id" is the same
    # as "duplicate of any row, and has an id": no filtered copy of the frame is needed.
    dup = ~missing & df.duplicated(keep="first")
    rest = ~(missing | dup)
    counts["missing_customer"] = int(missing.sum())
    counts["duplicate"] = int(dup.sum())
    inv = df.loc[rest, c["invoice"]].str.strip()
    qty = df.loc[rest, c["quantity"]]
    price = df.loc[rest, c["price"]]
    canc = inv.str.startswith("C") | (qty < 0)
    zero = ~canc & (qty == 0)
    nonpos = ~canc & ~zero & (price <= 0)
    counts["cancellation"] = int(canc.sum())
    counts["zero_quantity"] = int(zero.sum())
    counts["nonpositive_price"] = int(nonpos.sum())
    keep = ~(canc | zero | nonpos)
    fmt = c["date_format"]
    if day_first:
        fmt = fmt.replace("%m/%d/", "%d/%m/")
    kept_rows = keep[keep].index
    day = pd.to_datetime(df.loc[kept_rows, c["date"]], format=fmt, errors="coerce").dt.normalize()
    ids = cust[kept_rows]
    # "17850.0" -> "17850": the regex only on the few ids with a dot (vectorised either way)
    dotted = ids.str.contains(".", regex=False)
    if dotted.any():
        ids = ids.copy()
        ids[dotted] = ids[dotted].str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
    tidy = pd.DataFrame({"customer": ids, "invoice": inv[keep], "day": day,
                         "amount": qty[keep] * price[keep]})
    bad_date = tidy["day"].isna()
    counts["bad_date"] = int(bad_date.sum())
    tidy = tidy[~bad_date]
    counts["kept"] = int(len(tidy))
    return tidy, counts


def rfm_table(tidy):
    snapshot = tidy["day"].max() + pd.Timedelta(days=1)
    g = tidy.groupby("customer", sort=True)  # sorted by id: latin-1 code points = byte order
    rfm = pd.DataFrame({
        "recency": (snapshot - g["day"].max()).dt.days.astype(np.int64),
        "frequency": g["invoice"].nunique().astype(np.int64),
        "monetary": g["amount"].sum().astype(np.float64),
    })
    return rfm, snapshot


def transform(x, kind):
    """rfmseg's transforms and shifts: Box-Cox shifts by 1 - min when min <= 0, log1p by -min
    when min <= -1; lambda by maximum likelihood (scipy.stats.boxcox / yeojohnson)."""
    x = np.asarray(x, dtype=np.float64)
    info = {"kind": kind, "shift": 0.0}
    if kind == "none":
        return x.copy(), info
    if kind == "cbrt":
        return np.cbrt(x), info
    lo = float(x.min())
    if kind == "log1p":
        info["shift"] = -lo if lo <= -1 else 0.0
        return np.log1p(x + info["shift"]), info
    if kind == "boxcox":
        info["shift"] = 1.0 - lo if lo <= 0 else 0.0
        y, lam = stats.boxcox(x + info["shift"])
    else:
        y, lam = stats.yeojohnson(x)
    info["lambda"] = float(lam)
    return y, info


def parse_k_range(s):
    a, sep, b = s.partition("..")
    try:
        lo, hi = int(a), int(b)
    except ValueError:
        lo = hi = 0
    if not sep or lo < 1 or hi < lo:
        raise argparse.ArgumentTypeError("expected A..B with 1 <= A <= B, got %r" % s)
    return lo, hi


def kmeans(X, k, args):
    return KMeans(n_clusters=k, n_init=args.n_init, max_iter=args.max_iter, tol=args.tol,
                  algorithm="lloyd", random_state=args.seed).fit(X)


def openmp_threads():
    try:
        from threadpoolctl import threadpool_info
        return max([i.get("num_threads", 1) for i in threadpool_info()
                    if i.get("user_api") == "openmp"] or [1])
    except Exception:  # threadpoolctl missing or changed: not worth failing the run for
        return None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", required=True, metavar="CSV")
    ap.add_argument("--layout", default="auto", choices=["auto"] + list(LAYOUTS))
    ap.add_argument("--day-first", action="store_true", help="slash dates are D/M/Y")
    ap.add_argument("--transform-recency", choices=TRANSFORMS, default="boxcox")
    ap.add_argument("--transform-frequency", choices=TRANSFORMS, default="boxcox")
    ap.add_argument("--transform-monetary", choices=TRANSFORMS, default="cbrt")
    ap.add_argument("--k-range", type=parse_k_range, default=(1, 10), metavar="A..B")
    ap.add_argument("--k", type=int, default=3, help="final model's k")
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--max-iter", type=int, default=300)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--reuse-sweep", action="store_true",
                    help="take the final model from the sweep when --k is in --k-range (as "
                         "rfmseg does) instead of fitting it again")
    ap.add_argument("--metrics", action="store_true",
                    help="also compute silhouette (on --silhouette-sample customers), "
                         "Calinski-Harabasz and Davies-Bouldin for every k of the sweep, as "
                         "rfmseg does (phase 'metrics')")
    ap.add_argument("--silhouette-sample", type=int, default=10000,
                    help="0 = exact silhouette (O(n^2) memory and time)")
    ap.add_argument("--output", metavar="CSV",
                    help="customer_id,recency,frequency,monetary,cluster (phase 'write')")
    ap.add_argument("--agreement-npz", metavar="NPZ",
                    help="untimed: ids, features, labels, inertia, for bench_vs_python_report.py")
    ap.add_argument("--timings-json", metavar="FILE")
    args = ap.parse_args(argv)

    P = Phases()
    with P("read"):
        df, layout = read(args.input, args.layout)
    with P("clean"):
        tidy, counts = clean(df, layout, args.day_first)
        del df
    with P("rfm"):
        rfm, snapshot = rfm_table(tidy)
        del tidy
    n = len(rfm)
    if n == 0:
        print("error: no customer with a kept purchase line", file=sys.stderr)
        return 1
    with P("transform"):
        columns, transforms = [], {}
        for name in ("recency", "frequency", "monetary"):
            y, info = transform(rfm[name].values, getattr(args, "transform_" + name))
            columns.append(y)
            transforms[name] = info
        Xt = np.column_stack(columns)
    with P("scale"):
        X = StandardScaler().fit_transform(Xt)
    ks = [k for k in range(args.k_range[0], args.k_range[1] + 1) if k <= n]
    sweep = {}
    with P("sweep"):
        for k in ks:
            km = kmeans(X, k, args)
            sweep[k] = {"sse": float(km.inertia_), "n_iter": int(km.n_iter_),
                        "labels": km.labels_}
    if args.metrics:
        from sklearn.metrics import (calinski_harabasz_score, davies_bouldin_score,
                                     silhouette_score)
        with P("metrics"):
            for k in ks:
                if k < 2:
                    continue
                labels = sweep[k]["labels"]
                sample = args.silhouette_sample if 0 < args.silhouette_sample < n else None
                sweep[k]["silhouette"] = float(silhouette_score(
                    X, labels, sample_size=sample, random_state=args.seed))
                sweep[k]["calinski_harabasz"] = float(calinski_harabasz_score(X, labels))
                sweep[k]["davies_bouldin"] = float(davies_bouldin_score(X, labels))
    k = min(args.k, n)
    with P("fit"):
        if args.reuse_sweep and k in sweep:
            labels, inertia, n_iter = sweep[k]["labels"], sweep[k]["sse"], sweep[k]["n_iter"]
        else:
            km = kmeans(X, k, args)
            labels, inertia, n_iter = km.labels_, float(km.inertia_), int(km.n_iter_)
        # rfmseg's convention: clusters ordered by mean monetary, descending
        size = np.bincount(labels, minlength=k)
        mean_m = np.bincount(labels, weights=rfm["monetary"].values, minlength=k) / np.maximum(size, 1)
        order = np.argsort(-np.where(size > 0, mean_m, -np.inf), kind="stable")
        remap = np.empty(k, dtype=np.int32)
        remap[order] = np.arange(k, dtype=np.int32)
        labels = remap[labels]
    if args.output:
        with P("write"):
            out = rfm.copy()
            out["cluster"] = labels
            out.index.name = "customer_id"
            out.to_csv(args.output, encoding="latin-1", lineterminator="\n")
    total = sum(P.seconds.values())
    if args.agreement_npz:
        np.savez(args.agreement_npz, customer_id=np.array([s.encode("latin-1") for s in rfm.index]),
                 features=X, labels=labels.astype(np.int32), inertia=np.float64(inertia),
                 sse=np.array([sweep[k]["sse"] for k in ks]), k=np.array(ks))
    result = {
        "phases": P.seconds, "total": total, "imports": T_IMPORTED - T_START,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "layout": layout, "counts": counts, "customers": n,
        "snapshot": snapshot.date().isoformat(), "transforms": transforms,
        "k": k, "inertia": inertia, "n_iter": n_iter,
        "cluster_sizes": np.bincount(labels, minlength=k).tolist(),
        "sweep": {str(kk): {m: v for m, v in s.items() if m != "labels"} for kk, s in sweep.items()},
        "openmp_threads": openmp_threads(),
        "versions": {"python": sys.version.split()[0], "pandas": pd.__version__,
                     "numpy": np.__version__, "scipy": __import__("scipy").__version__,
                     "sklearn": __import__("sklearn").__version__},
    }
    text = json.dumps(result)
    if args.timings_json:
        with open(args.timings_json, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
