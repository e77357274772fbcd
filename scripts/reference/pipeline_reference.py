#!/usr/bin/python3
"""The pandas + scikit-learn RFM segmentation pipeline users run today: baseline for rfmseg.

Phases (each timed, wall seconds): read (pandas.read_csv, latin-1) -> clean (vectorised, same
fate order as README "Data semantics") -> rfm (groupby) -> transform (per feature:
none|log1p|cbrt|boxcox|yeojohnson, MLE lambda) -> scale (StandardScaler) -> sweep (elbow,
KMeans for every k of --k-range) -> fit (final KMeans) [-> metrics] [-> write].

It is a performance and quality baseline, not the exact oracle: Monetary is summed in float64,
numbers are parsed by pandas.to_numeric and dates by pandas.to_datetime over a list of formats,
and duplicates are rows equal after CSV unquoting.  rfm_reference.py is the exact oracle.
"""

import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rfm_reference as rr  # noqa: E402  (only for the layout's column names)

TRANSFORMS = ["none", "log1p", "cbrt", "boxcox", "yeojohnson"]

# Tried in this order on the values not parsed yet; only the day is kept.
DATE_FORMATS_MONTH_FIRST = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y",
    "%m/%d/%y %H:%M", "%m/%d/%y %H:%M:%S", "%m/%d/%y",
    "%d-%b-%y", "%d-%b-%Y", "%Y%m%d",
]


def date_formats(day_first):
    if not day_first:
        return DATE_FORMATS_MONTH_FIRST
    return [f.replace("%m/%d/", "%d/%m/") for f in DATE_FORMATS_MONTH_FIRST]


class Timer:
    def __init__(self):
        self.t = {}
        self.t0 = time.perf_counter()

    def phase(self, name):
        return _Phase(self, name)


class _Phase:
    def __init__(self, timer, name):
        self.timer, self.name = timer, name

    def __enter__(self):
        self.s = time.perf_counter()

    def __exit__(self, *exc):
        self.timer.t[self.name] = self.timer.t.get(self.name, 0.0) + time.perf_counter() - self.s


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


# --- read ------------------------------------------------------------------------------------

def read_inputs(args):
    frames = []
    for path in args.input:
        kw = dict(encoding="latin-1", dtype=str, keep_default_na=False, na_filter=False,
                  header=None if args.no_header else 0, on_bad_lines="skip",
                  skip_blank_lines=True)
        if args.delimiter == "whitespace":
            kw["delim_whitespace"] = True
        else:
            kw["sep"] = "\t" if args.delimiter == "tab" else args.delimiter
        df = pd.read_csv(path, **kw)
        if args.no_header:
            df.columns = [str(i + 1) for i in range(df.shape[1])]
        frames.append((path, df))
    return frames


def layout_columns(args, path, df):
    """Map roles to column labels of df (header names, or '1','2',... with --no-header)."""
    cols = {r: None for r in rr.ROLES}
    names = {str(c).strip().lower(): c for c in df.columns}

    def has(n):
        return n.lower() in names

    fmt = args.format
    if fmt == "auto" and not args.no_header:
        for preset in ("online-retail", "online-retail-ii"):
            p = rr.PRESETS[preset]
            if all(has(p[r]) for r in ("customer", "invoice", "date", "quantity", "price")):
                fmt = preset
                break
        else:
            fmt = "amount"
    if fmt in rr.PRESETS:
        p = rr.PRESETS[fmt]
        for r in ("customer", "invoice", "date", "quantity", "price"):
            cols[r] = (str(p["header"].index(p[r]) + 1) if args.no_header
                       else names.get(p[r].lower()))
    elif fmt == "amount" and not args.no_header:
        for role, cands in (("customer", rr.AMOUNT_CUSTOMER_NAMES),
                            ("date", rr.AMOUNT_DATE_NAMES), ("amount", rr.AMOUNT_AMOUNT_NAMES)):
            for n in cands:
                if has(n):
                    cols[role] = names[n.lower()]
                    break
    for r in rr.ROLES:
        spec = getattr(args, "col_" + r)
        if spec:
            if args.no_header:
                cols[r] = spec
            elif has(spec):
                cols[r] = names[spec.lower()]
            elif spec.isdigit():
                cols[r] = df.columns[int(spec) - 1]
            else:
                raise SystemExit("error: %s: no column %r" % (path, spec))
    if cols["amount"] is not None:
        cols["quantity"] = cols["price"] = None
    if cols["customer"] is None or cols["date"] is None or (
            cols["amount"] is None and (cols["quantity"] is None or cols["price"] is None)):
        raise SystemExit("error: %s: cannot find the columns (header %r); use --format/--col-*"
                         % (path, list(df.columns)))
    return cols


# --- clean -----------------------------------------------------------------------------------

def parse_days(s, day_first):
    s = s.str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    todo = s != ""
    for fmt in date_formats(day_first):
        if not todo.any():
            break
        parsed = pd.to_datetime(s[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        out[ok[ok].index] = parsed[ok]
        todo[ok[ok].index] = False
    return out.dt.normalize()


def clean(frames, args):
    """Return (tidy frame, counters).  tidy: cust, inv, day, amount, fate."""
    parts = []
    for path, df in frames:
        cols = layout_columns(args, path, df)
        t = pd.DataFrame(index=df.index)
        cust = df[cols["customer"]].str.strip()
        t["cust"] = cust.str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
        t["inv"] = df[cols["invoice"]].str.strip() if cols["invoice"] is not None else None
        if cols["amount"] is not None:
            qty = pd.Series(1.0, index=df.index)
            price = pd.to_numeric(df[cols["amount"]].str.strip(), errors="coerce")
        else:
            qty = pd.to_numeric(df[cols["quantity"]].str.strip(), errors="coerce")
            qty = qty.where(qty == np.round(qty))
            price = pd.to_numeric(df[cols["price"]].str.strip(), errors="coerce")
        t["qty"] = qty
        t["price"] = price
        t["day"] = parse_days(df[cols["date"]], args.day_first)
        t["dupfile"] = path if args.duplicate_scope == "file" else ""
        t["has_invoice"] = cols["invoice"] is not None
        parts.append((t, df))

    tidies = []
    seen_rows = []  # the original rows, for the duplicate check
    for t, df in parts:
        fate = pd.Series("", index=t.index, dtype=object)
        bad_num = t["qty"].isna() | t["price"].isna()
        fate[bad_num] = "bad_number"
        bad_date = (fate == "") & t["day"].isna()
        fate[bad_date] = "bad_date"
        miss = (fate == "") & (t["cust"] == "")
        fate[miss] = "missing_customer"
        t["fate"] = fate
        tidies.append(t)
        seen_rows.append(df)
    tidy = pd.concat(tidies, ignore_index=True)
    # Exact duplicates among parsed lines with a customer: rows whose original (unquoted) field
    # strings are all equal, across files (columns by position) or per file.
    raw = pd.concat([df.set_axis(range(df.shape[1]), axis=1) for df in seen_rows],
                    ignore_index=True)
    raw["__file"] = tidy["dupfile"].values
    cand = tidy["fate"] == ""
    dup = pd.Series(False, index=tidy.index)
    dup[cand] = raw[cand].duplicated(keep="first")
    tidy.loc[dup, "fate"] = "duplicate"
    inv = tidy["inv"].fillna("")
    canc = (tidy["fate"] == "") & (inv.str.startswith("C") | (tidy["qty"] < 0))
    tidy.loc[canc, "fate"] = "cancellation"
    zq = (tidy["fate"] == "") & (tidy["qty"] == 0)
    tidy.loc[zq, "fate"] = "zero_quantity"
    npp = (tidy["fate"] == "") & (tidy["price"] <= 0)
    tidy.loc[npp, "fate"] = "nonpositive_price"
    tidy.loc[tidy["fate"] == "", "fate"] = "kept"
    tidy["amount"] = tidy["qty"] * tidy["price"]
    vc = tidy["fate"].value_counts()
    counters = {f: int(vc.get(f, 0)) for f in rr.FATES}
    counters["data_lines"] = int(len(tidy))
    return tidy, counters, bool(tidy["has_invoice"].all()) if len(tidy) else False


# --- rfm -------------------------------------------------------------------------------------

def rfm_table(tidy, args, has_invoice):
    freq = args.frequency or ("invoices" if has_invoice else "lines")
    kept = tidy[tidy["fate"] == "kept"]
    g = kept.groupby("cust", sort=False)
    last = g["day"].max()
    if args.snapshot:
        snap = pd.Timestamp(args.snapshot)
    else:
        snap = kept["day"].max() + pd.Timedelta(days=1)
    if freq == "invoices":
        f = g["inv"].nunique()
    elif freq == "lines":
        f = g.size()
    else:
        f = g["day"].nunique()
    m = g["amount"].sum()
    if args.cancellations == "net":
        c = tidy[tidy["fate"] == "cancellation"].groupby("cust")["amount"].sum()
        m = m.add(c.reindex(m.index).fillna(0.0), fill_value=0.0)
    rfm = pd.DataFrame({"recency": (snap - last).dt.days.astype(np.int64),
                        "frequency": f.astype(np.int64), "monetary": m.astype(np.float64)})
    rfm = rfm.sort_index()  # code-point order of latin-1 strings == byte order
    return rfm, snap, freq


# --- transform / cluster ---------------------------------------------------------------------

def transform(x, kind):
    x = np.asarray(x, dtype=np.float64)
    info = {"kind": kind}
    if kind == "none":
        return x.copy(), info
    if kind == "cbrt":
        return np.cbrt(x), info
    if kind == "log1p":
        # The product's rule (src/model/transform.cpp, python_pipeline.py): shift only where log1p
        # is undefined, i.e. when the minimum is <= -1, by -min.
        shift = float(-x.min()) if x.min() <= -1 else 0.0
        info["shift"] = shift
        return np.log1p(x + shift), info
    if kind == "boxcox":
        shift = float(1.0 - x.min()) if x.min() <= 0 else 0.0
        y, lam = stats.boxcox(x + shift)
        info.update(shift=shift, lmbda=float(lam))
        return y, info
    if kind == "yeojohnson":
        y, lam = stats.yeojohnson(x)
        info["lmbda"] = float(lam)
        return y, info
    raise ValueError(kind)


def parse_k_range(s):
    a, _, b = s.partition("..")
    a, b = int(a), int(b)
    if a < 1 or b < a:
        raise argparse.ArgumentTypeError("--k-range A..B with 1 <= A <= B")
    return a, b


def fit_explicit(X, k, n_init, seed, max_iter, tol):
    """n_init k-means++ starts made explicit, so the winning run's initial centers are known."""
    rs = np.random.RandomState(seed)
    best = None
    for _ in range(n_init):
        s = rs.randint(np.iinfo(np.int32).max)
        c0, _ = kmeans_plusplus(X, k, random_state=s)
        km = KMeans(n_clusters=k, init=c0, n_init=1, algorithm="lloyd", max_iter=max_iter,
                    tol=tol).fit(X)
        if best is None or km.inertia_ < best[0].inertia_:
            best = (km, c0)
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--input", action="append", required=True, metavar="FILE")
    ap.add_argument("--format", default="auto",
                    choices=["auto", "online-retail", "online-retail-ii", "amount"])
    ap.add_argument("--delimiter", default=",", help="character, 'tab' or 'whitespace'")
    ap.add_argument("--no-header", action="store_true")
    for r in rr.ROLES:
        ap.add_argument("--col-" + r, default=None, metavar="NAME|INDEX")
    ap.add_argument("--day-first", action="store_true")
    ap.add_argument("--frequency", choices=["invoices", "lines", "days"], default=None)
    ap.add_argument("--cancellations", choices=["drop", "net"], default="drop")
    ap.add_argument("--duplicate-scope", choices=["all", "file"], default="all")
    ap.add_argument("--snapshot", default=None, metavar="YYYY-MM-DD")
    ap.add_argument("--transform-recency", choices=TRANSFORMS, default="boxcox")
    ap.add_argument("--transform-frequency", choices=TRANSFORMS, default="boxcox")
    ap.add_argument("--transform-monetary", choices=TRANSFORMS, default="cbrt")
    ap.add_argument("--k-range", type=parse_k_range, default=(1, 10), metavar="A..B")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--n-init", type=int, default=10)
    ap.add_argument("--max-iter", type=int, default=300)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-sweep", action="store_true", help="skip the elbow sweep")
    ap.add_argument("--metrics", action="store_true",
                    help="also compute silhouette, Calinski-Harabasz, Davies-Bouldin")
    ap.add_argument("--silhouette-sample", type=int, default=0,
                    help="0 = exact silhouette (O(n^2)); N = sample of N customers")
    ap.add_argument("--timings-json", metavar="FILE")
    ap.add_argument("--labels-out", metavar="CSV", help="customer_id,cluster")
    ap.add_argument("--rfm-out", metavar="CSV",
                    help="customer_id,recency,frequency,monetary (float64 sums)")
    ap.add_argument("--h5-out", metavar="H5",
                    help="write an rfmseg-layout result (customers, model, run attrs); the final "
                         "fit then uses explicit k-means++ starts so /model/init_centroids is "
                         "known")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    T = Timer()
    with T.phase("read"):
        frames = read_inputs(args)
    with T.phase("clean"):
        tidy, counters, has_invoice = clean(frames, args)
        del frames
    with T.phase("rfm"):
        rfm, snap, freq = rfm_table(tidy, args, has_invoice)
    n = len(rfm)
    if n == 0:
        print("error: no customer with a kept purchase line", file=sys.stderr)
        return 1
    with T.phase("transform"):
        cols = []
        tinfo = {}
        for name, kind in (("recency", args.transform_recency),
                           ("frequency", args.transform_frequency),
                           ("monetary", args.transform_monetary)):
            y, info = transform(rfm[name].values, kind)
            cols.append(y)
            tinfo[name] = info
        Xt = np.column_stack(cols)
    with T.phase("scale"):
        scaler = StandardScaler()
        X = scaler.fit_transform(Xt)
    sse = {}
    if not args.no_sweep:
        with T.phase("sweep"):
            for k in range(args.k_range[0], args.k_range[1] + 1):
                if k > n:
                    break
                km = KMeans(n_clusters=k, n_init=args.n_init, random_state=args.seed,
                            max_iter=args.max_iter, tol=args.tol).fit(X)
                sse[k] = float(km.inertia_)
    k = min(args.k, n)
    with T.phase("fit"):
        if args.h5_out:
            km, init_centers = fit_explicit(X, k, args.n_init, args.seed, args.max_iter,
                                            args.tol)
        else:
            km = KMeans(n_clusters=k, n_init=args.n_init, random_state=args.seed,
                        max_iter=args.max_iter, tol=args.tol).fit(X)
            init_centers = None
        labels = km.labels_.astype(np.int32)
        # rfmseg's convention: clusters ordered by mean monetary, descending
        mean_m = np.array([rfm["monetary"].values[labels == j].mean() if (labels == j).any()
                           else -np.inf for j in range(k)])
        order = np.argsort(-mean_m, kind="stable")
        remap = np.empty(k, dtype=np.int32)
        remap[order] = np.arange(k, dtype=np.int32)
        labels = remap[labels]
        centroids = km.cluster_centers_[order]
        if init_centers is not None:
            init_centers = init_centers[order]
    metrics = {}
    if args.metrics and k >= 2:
        from sklearn.metrics import (calinski_harabasz_score, davies_bouldin_score,
                                     silhouette_score)
        with T.phase("metrics"):
            if args.silhouette_sample and args.silhouette_sample < n:
                metrics["silhouette"] = float(silhouette_score(
                    X, labels, sample_size=args.silhouette_sample, random_state=args.seed))
            else:
                metrics["silhouette"] = float(silhouette_score(X, labels))
            metrics["calinski_harabasz"] = float(calinski_harabasz_score(X, labels))
            metrics["davies_bouldin"] = float(davies_bouldin_score(X, labels))
    T.t["total"] = time.perf_counter() - T.t0

    with T.phase("write"):
        if args.labels_out:
            pd.DataFrame({"customer_id": rfm.index, "cluster": labels}).to_csv(
                args.labels_out, index=False, encoding="latin-1", lineterminator="\n")
        if args.rfm_out:
            out = rfm.copy()
            out["monetary"] = [repr(float(v)) for v in out["monetary"].values]
            out.index.name = "customer_id"
            out.to_csv(args.rfm_out, encoding="latin-1", lineterminator="\n")
        if args.h5_out:
            write_h5(args, rfm, X, labels, centroids, init_centers, km, sse, metrics, counters,
                     snap, freq, tinfo, scaler)
    counters["snapshot"] = snap.date().isoformat()
    counters["customers"] = n
    rss = peak_rss_mib()
    if not args.quiet:
        print("counters: " + " ".join("%s=%d" % (f, counters[f]) for f in rr.FATES))
        print("customers=%d snapshot=%s frequency=%s k=%d inertia=%.10g n_iter=%d"
              % (n, counters["snapshot"], freq, k, km.inertia_, km.n_iter_))
        if sse:
            print("sweep sse: " + " ".join("k=%d:%.6g" % kv for kv in sse.items()))
        for name, v in metrics.items():
            print("%s=%.12g" % (name, v))
        print("cluster sizes: %s" % np.bincount(labels, minlength=k).tolist())
        for ph in ["read", "clean", "rfm", "transform", "scale", "sweep", "fit", "metrics",
                   "write", "total"]:
            if ph in T.t:
                print("time %-10s %10.3f s" % (ph, T.t[ph]))
        print("peak RSS %.1f MiB" % rss)
    if args.timings_json:
        with open(args.timings_json, "w") as f:
            json.dump({"phases": T.t, "peak_rss_mib": rss, "customers": n,
                       "data_lines": counters["data_lines"], "counters": counters,
                       "sse": {str(kk): v for kk, v in sse.items()}, "metrics": metrics,
                       "inertia": float(km.inertia_), "k": k}, f, indent=1)
            f.write("\n")
    return 0


def write_h5(args, rfm, X, labels, centroids, init_centers, km, sse, metrics, counters, snap,
             freq, tinfo, scaler):
    import h5py
    ids = [s.encode("latin-1") for s in rfm.index]
    width = max(1, max(len(s) for s in ids))
    with h5py.File(args.h5_out, "w") as h:
        c = h.create_group("customers")
        c["customer_id"] = np.array(ids, dtype="S%d" % width)
        c["recency"] = rfm["recency"].values.astype(np.int32)
        c["frequency"] = rfm["frequency"].values.astype(np.int64)
        c["monetary"] = rfm["monetary"].values.astype(np.float64)
        c["features"] = np.ascontiguousarray(X, dtype=np.float64)
        c["cluster"] = labels.astype(np.int32)
        m = h.create_group("model")
        m["centroids"] = centroids
        m["init_centroids"] = init_centers
        m["inertia"] = np.float64(km.inertia_)
        m["n_iter"] = np.int64(km.n_iter_)
        m["cluster_size"] = np.bincount(labels, minlength=len(centroids)).astype(np.int64)
        for name, v in metrics.items():
            m[name] = np.float64(v)
        t = m.create_group("transform")
        for i, name in enumerate(("recency", "frequency", "monetary")):
            for key, v in tinfo[name].items():
                t.attrs["%s_%s" % (name, key)] = v
        t["mean"] = scaler.mean_
        t["scale"] = scaler.scale_
        if sse:
            s = h.create_group("selection")
            s["k"] = np.array(list(sse.keys()), dtype=np.int32)
            s["sse"] = np.array(list(sse.values()), dtype=np.float64)
        r = h.create_group("run")
        r.attrs["producer"] = "scripts/reference/pipeline_reference.py"
        r.attrs["tol"] = float(args.tol)
        r.attrs["max_iter"] = int(args.max_iter)
        r.attrs["seed"] = int(args.seed)
        r.attrs["snapshot"] = snap.date().isoformat()
        r.attrs["frequency"] = freq
        r.attrs["silhouette_sample"] = int(args.silhouette_sample)
        for f in rr.FATES:
            r.attrs[f] = int(counters[f])


if __name__ == "__main__":
    sys.exit(main())
