#!/usr/bin/python3
"""Check an rfmseg HDF5 result against independent references.

  compare_results.py rfm RESULT.h5 REFERENCE.csv [--counters C.json]
      RFM table equal to rfm_reference.py's CSV: same ids in the same order, equal recency and
      frequency, monetary equal as float64 bit for bit; dtypes as in docs/result-format.md.  --counters:
      also /run count_<fate>, count_lines, count_blank_lines, customers, snapshot_date.
  compare_results.py kmeans RESULT.h5 [--min-ari 0.99] [--inertia-rtol 1e-6]
      re-run scikit-learn's Lloyd K-means from /model/init_centroids on /customers/features with
      the result's tol and max_iter; compare labels (ARI) and inertia.
  compare_results.py metrics RESULT.h5 [--rtol 1e-9]
      recompute silhouette (exact, n <= --silhouette-max-n), Calinski-Harabasz, Davies-Bouldin
      and compare with /model/silhouette, /model/calinski_harabasz, /model/davies_bouldin.
  compare_results.py same A.h5 B.h5
      every dataset under /customers, /model, /selection, /segments, /migration, /drift
      bit-identical, and the /migration attributes but previous_file (other attributes are not
      compared: /run holds the rank count and times).

Exit status: 0 match, 1 mismatch, 2 cannot check (missing file/dataset, usage error).
"""

import argparse
import csv
import json
import sys

import numpy as np

try:
    import h5py
except ImportError:  # pragma: no cover
    print("error: h5py is needed (Debian: apt-get install python3-h5py)", file=sys.stderr)
    sys.exit(2)

OK, MISMATCH, CANNOT = 0, 1, 2


class CannotCheck(Exception):
    pass


def open_h5(path):
    try:
        return h5py.File(path, "r")
    except OSError as e:
        raise CannotCheck("cannot open %s: %s" % (path, e))


def need(h, name, what=""):
    if name not in h:
        raise CannotCheck("%s: dataset %s is not present%s" % (h.filename, name, what))
    obj = h[name]
    if not isinstance(obj, h5py.Dataset):
        raise CannotCheck("%s: %s is not a dataset" % (h.filename, name))
    return obj


def read_strings(ds):
    """Customer ids as a list of bytes (fixed-length: trailing NULs dropped, as numpy does)."""
    raw = ds[()]
    if ds.dtype.kind == "S":
        return [bytes(x) for x in np.atleast_1d(raw)]
    if h5py.check_string_dtype(ds.dtype) is not None or ds.dtype.kind == "O":
        out = []
        for x in np.atleast_1d(raw):
            out.append(x if isinstance(x, bytes) else str(x).encode("utf-8"))
        return out
    raise CannotCheck("%s: not a string dataset (dtype %s)" % (ds.name, ds.dtype))


def scalar(h, name):
    if name not in h:
        return None
    v = h[name][()]
    return np.asarray(v).reshape(-1)[0] if np.ndim(v) else v


def run_attr(h, name):
    """A /run attribute (or a dataset /run/name), as a Python value; None if absent."""
    if "run" not in h:
        return None
    g = h["run"]
    v = None
    if name in g.attrs:
        v = g.attrs[name]
    elif isinstance(g, h5py.Group) and name in g and isinstance(g[name], h5py.Dataset):
        v = g[name][()]
    if v is None:
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if isinstance(v, np.ndarray):
        v = v.reshape(-1)[0] if v.size == 1 else v
    if isinstance(v, np.generic):
        v = v.item()
    return v


def f64_bits(x):
    return np.asarray(x, dtype=np.float64).view(np.uint64)


# --- rfm -------------------------------------------------------------------------------------

def cmd_rfm(a):
    with open(a.reference, "r", encoding="latin-1", newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != ["customer_id", "recency", "frequency", "monetary"]:
        raise CannotCheck("%s: not an rfm_reference.py CSV (header %r)"
                          % (a.reference, rows[0] if rows else None))
    rows = rows[1:]
    ref_ids = [r[0].encode("latin-1") for r in rows]
    ref_r = np.array([int(r[1]) for r in rows], dtype=np.int64)
    ref_f = np.array([int(r[2]) for r in rows], dtype=np.int64)
    ref_m = np.array([float(r[3]) for r in rows], dtype=np.float64)

    problems = []
    with open_h5(a.result) as h:
        ds_id = need(h, "/customers/customer_id")
        ds_r = need(h, "/customers/recency")
        ds_f = need(h, "/customers/frequency")
        ds_m = need(h, "/customers/monetary")
        for ds, kind, size in ((ds_r, "i", 4), (ds_f, "i", 8), (ds_m, "f", 8)):
            if ds.dtype.kind != kind or ds.dtype.itemsize != size:
                problems.append("%s has dtype %s, docs/result-format.md says %s%d"
                                % (ds.name, ds.dtype, {"i": "int", "f": "float"}[kind],
                                   8 * size))
        if ds_id.dtype.kind != "S":
            print("note: %s is %s, not fixed-length bytes" % (ds_id.name, ds_id.dtype))
        ids = read_strings(ds_id)
        rr, ff, mm = ds_r[()], ds_f[()], ds_m[()]
        if a.counters:
            check_counters(a.counters, h, problems)

    n, nref = len(ids), len(ref_ids)
    for name, arr in (("recency", rr), ("frequency", ff), ("monetary", mm)):
        if len(arr) != n:
            problems.append("/customers/%s has %d rows, customer_id has %d" % (name, len(arr), n))
    if any(ids[i] >= ids[i + 1] for i in range(n - 1)):
        i = next(i for i in range(n - 1) if ids[i] >= ids[i + 1])
        problems.append("customer ids not strictly ascending in byte order at row %d: %r, %r"
                        % (i, ids[i], ids[i + 1]))
    if n != nref:
        problems.append("result has %d customers, reference %d" % (n, nref))
        sref, sres = set(ref_ids), set(ids)
        only_ref = sorted(sref - sres)[: a.show]
        only_res = sorted(sres - sref)[: a.show]
        if only_ref:
            problems.append("  only in reference: %r" % only_ref)
        if only_res:
            problems.append("  only in result: %r" % only_res)
    m = min(n, nref, len(rr), len(ff), len(mm))
    shown = 0
    mism = {"customer_id": 0, "recency": 0, "frequency": 0, "monetary": 0}
    mb_res = f64_bits(mm[:m]) if m else np.zeros(0, np.uint64)
    mb_ref = f64_bits(ref_m[:m]) if m else np.zeros(0, np.uint64)
    for i in range(m):
        bad = []
        if ids[i] != ref_ids[i]:
            bad.append("id %r != %r" % (ids[i], ref_ids[i]))
            mism["customer_id"] += 1
        if int(rr[i]) != int(ref_r[i]):
            bad.append("recency %d != %d" % (rr[i], ref_r[i]))
            mism["recency"] += 1
        if int(ff[i]) != int(ref_f[i]):
            bad.append("frequency %d != %d" % (ff[i], ref_f[i]))
            mism["frequency"] += 1
        if mb_res[i] != mb_ref[i]:
            bad.append("monetary %r != %r (diff %.3g)"
                       % (float(mm[i]), float(ref_m[i]), float(mm[i]) - float(ref_m[i])))
            mism["monetary"] += 1
        if bad and shown < a.show:
            problems.append("row %d (ref id %r): %s" % (i, ref_ids[i], "; ".join(bad)))
            shown += 1
    if any(mism.values()):
        problems.append("mismatching rows: " + ", ".join("%s %d" % kv for kv in mism.items()))
    if problems:
        print("RFM MISMATCH (%s vs %s):" % (a.result, a.reference))
        for p in problems:
            print("  " + p)
        return MISMATCH
    print("RFM OK: %d customers identical (ids, recency, frequency, monetary bit-for-bit)%s"
          % (n, "; /run counters and snapshot_date equal" if a.counters else ""))
    return OK


# rfm_reference.py counters JSON key -> rfmseg /run attribute.
FATES = ["bad_field_count", "bad_number", "bad_date", "bad_customer_id", "missing_customer",
         "after_snapshot", "outside_window", "duplicate", "cancellation", "zero_quantity", "nonpositive_price", "kept"]
COUNTER_ATTRS = [(f, "count_" + f) for f in FATES] + [
    ("data_lines", "count_lines"), ("blank_lines", "count_blank_lines"),
    ("customers", "customers"),
    ("customers_nonpositive_monetary", "count_nonpositive_monetary_customers")]


def check_counters(path, h, problems):
    """Compare rfm_reference.py's counters JSON with rfmseg's /run attributes: count_<fate>
    for every fate, count_lines, count_blank_lines, customers,
    count_nonpositive_monetary_customers and snapshot_date."""
    with open(path) as f:
        c = json.load(f)
    for key, attr in COUNTER_ATTRS:
        if key not in c:
            print("note: %s has no %r (not compared)" % (path, key))
            continue
        v = run_attr(h, attr)
        if v is None:
            problems.append("/run attribute %s is missing (reference %s = %d)" % (attr, key, c[key]))
        elif int(v) != int(c[key]):
            problems.append("counter %s (/run %s): result %s, reference %d" % (key, attr, v, c[key]))
    snap = run_attr(h, "snapshot_date")
    if snap is None:
        problems.append("/run attribute snapshot_date is missing")
    elif c.get("snapshot") is not None and str(snap) != c["snapshot"]:
        problems.append("snapshot_date: result %s, reference %s" % (snap, c["snapshot"]))


# --- kmeans ----------------------------------------------------------------------------------

def cmd_kmeans(a):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    with open_h5(a.result) as h:
        hint = " (has rfmseg written its K-means output yet?)"
        X = need(h, "/customers/features", hint)[()]
        labels = need(h, "/customers/cluster", hint)[()]
        init = need(h, "/model/init_centroids", hint)[()]
        inertia = float(scalar(h, "/model/inertia")) if "/model/inertia" in h else None
        n_iter = scalar(h, "/model/n_iter")
        centroids = h["/model/centroids"][()] if "/model/centroids" in h else None
        tol = a.tol if a.tol is not None else run_attr(h, "tol")
        max_iter = a.max_iter if a.max_iter is not None else run_attr(h, "max_iter")
    if tol is None or max_iter is None:
        raise CannotCheck("/run attributes tol and max_iter are needed (or give --tol/--max-iter)")
    tol, max_iter = float(tol), int(max_iter)
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise CannotCheck("/customers/features must be 2-D, is %s" % (X.shape,))
    init = np.asarray(init, dtype=np.float64)
    k = init.shape[0]
    n = X.shape[0]
    problems = []
    if X.dtype != np.float64:
        problems.append("features dtype %s" % X.dtype)
    if labels.shape != (n,):
        raise CannotCheck("/customers/cluster has shape %s, features %s" % (labels.shape, X.shape))
    if init.shape != (k, X.shape[1]):
        raise CannotCheck("/model/init_centroids has shape %s" % (init.shape,))
    if labels.min() < 0 or labels.max() >= k:
        problems.append("cluster labels outside 0..%d: min %d max %d"
                        % (k - 1, labels.min(), labels.max()))
    km = KMeans(n_clusters=k, init=init, n_init=1, algorithm="lloyd", max_iter=max_iter,
                tol=tol).fit(X)
    ari = adjusted_rand_score(labels, km.labels_)
    print("n=%d d=%d k=%d tol=%g max_iter=%d" % (n, X.shape[1], k, tol, max_iter))
    print("sklearn: inertia=%.17g n_iter=%d" % (km.inertia_, km.n_iter_))
    print("result:  inertia=%s n_iter=%s" % ("%.17g" % inertia if inertia is not None else "-",
                                             n_iter if n_iter is not None else "-"))
    print("ARI(result labels, sklearn labels) = %.12f (min %.6g)" % (ari, a.min_ari))
    if ari < a.min_ari:
        problems.append("ARI %.6f < %.6g" % (ari, a.min_ari))
    if inertia is None:
        print("note: /model/inertia not present: not compared")
    else:
        rel = abs(inertia - km.inertia_) / max(abs(km.inertia_), np.finfo(float).tiny)
        print("relative inertia difference = %.3e (max %.3g)" % (rel, a.inertia_rtol))
        if not rel <= a.inertia_rtol:
            problems.append("relative inertia difference %.3e > %.3g" % (rel, a.inertia_rtol))
    # Informational: the result's own inertia for its labels and centroids.
    if centroids is not None and centroids.shape == init.shape:
        d = ((X - centroids[labels]) ** 2).sum()
        print("inertia recomputed from result labels and /model/centroids = %.17g" % d)
        # match clusters by overlap to compare centroids
        conf = np.zeros((k, k), dtype=np.int64)
        np.add.at(conf, (labels, km.labels_), 1)
        perm = conf.argmax(axis=1)
        print("max |centroid difference| (clusters matched by overlap) = %.3e"
              % np.abs(centroids - km.cluster_centers_[perm]).max())
    sizes = np.bincount(labels, minlength=k)
    print("result cluster sizes: %s" % sizes.tolist())
    if problems:
        print("KMEANS MISMATCH:")
        for p in problems:
            print("  " + p)
        return MISMATCH
    print("KMEANS OK")
    return OK


# --- metrics ---------------------------------------------------------------------------------

def cmd_metrics(a):
    from sklearn.metrics import (calinski_harabasz_score, davies_bouldin_score,
                                 silhouette_score)
    with open_h5(a.result) as h:
        hint = " (has rfmseg written its K-means output yet?)"
        X = np.asarray(need(h, "/customers/features", hint)[()], dtype=np.float64)
        labels = need(h, "/customers/cluster", hint)[()]
        stored = {m: (float(scalar(h, "/model/" + m)) if "/model/" + m in h else None)
                  for m in ("silhouette", "calinski_harabasz", "davies_bouldin")}
        sample = run_attr(h, "silhouette_sample")
    n = X.shape[0]
    nl = len(np.unique(labels))
    if nl < 2 or nl > n - 1:
        raise CannotCheck("metrics need 2 <= number of clusters <= n-1 (have %d labels, n=%d)"
                          % (nl, n))
    computed = {}
    if n > a.silhouette_max_n:
        print("silhouette: skipped, n=%d > %d (exact O(n^2) too costly; raise "
              "--silhouette-max-n)" % (n, a.silhouette_max_n))
    elif sample not in (None, 0, "0"):
        print("silhouette: skipped, the result used a sample (silhouette_sample=%s)" % sample)
    else:
        computed["silhouette"] = float(silhouette_score(X, labels))
    computed["calinski_harabasz"] = float(calinski_harabasz_score(X, labels))
    computed["davies_bouldin"] = float(davies_bouldin_score(X, labels))
    problems = []
    compared = 0
    for m, v in computed.items():
        s = stored[m]
        if s is None:
            print("%-18s sklearn=%.17g  result=- (not present)" % (m, v))
            continue
        rel = abs(s - v) / max(abs(v), np.finfo(float).tiny)
        print("%-18s sklearn=%.17g  result=%.17g  rel.diff=%.3e" % (m, v, s, rel))
        compared += 1
        if not rel <= a.rtol:
            problems.append("%s: relative difference %.3e > %.3g" % (m, rel, a.rtol))
    if problems:
        print("METRICS MISMATCH:")
        for p in problems:
            print("  " + p)
        return MISMATCH
    if compared == 0:
        print("METRICS: nothing to compare (no /model/<metric> scalars in the result)")
        return OK
    print("METRICS OK (%d compared)" % compared)
    return OK


# --- same ------------------------------------------------------------------------------------

def collect(h, groups):
    out = {}
    for g in groups:
        if g not in h:
            continue
        obj = h[g]
        if isinstance(obj, h5py.Dataset):
            out["/" + g] = obj
            continue

        def visit(name, o, g=g):
            if isinstance(o, h5py.Dataset):
                out["/%s/%s" % (g, name)] = o
        obj.visititems(visit)
    return out


def dataset_bytes(ds):
    v = ds[()]
    sd = h5py.check_string_dtype(ds.dtype)
    if ds.dtype.kind == "O" or (sd is not None and sd.length is None):
        items = np.atleast_1d(v).reshape(-1)
        return b"\x00".join((x if isinstance(x, bytes) else str(x).encode()) + b"|"
                            for x in items)
    return np.ascontiguousarray(v).tobytes()


def cmd_same(a):
    groups = [g.strip("/") for g in a.groups.split(",") if g.strip("/")]
    diffs = []
    with open_h5(a.a) as ha, open_h5(a.b) as hb:
        da, db = collect(ha, groups), collect(hb, groups)
        if not da and not db:
            raise CannotCheck("no datasets under %s in either file" % ", ".join(groups))
        if "migration" in groups and "migration" in ha and "migration" in hb:
            ma, mb = dict(ha["migration"].attrs), dict(hb["migration"].attrs)
            for key in sorted(set(ma) | set(mb)):
                if key in ("previous_file", "attributes_checksum"):
                    continue
                if key not in ma or key not in mb or bytes(np.asarray(ma[key]).tobytes()) != bytes(
                        np.asarray(mb[key]).tobytes()):
                    diffs.append("/migration attribute %s: %r vs %r" % (key, ma.get(key), mb.get(key)))
        for name in sorted(set(da) | set(db)):
            if name not in db:
                diffs.append("%s: only in %s" % (name, a.a))
                continue
            if name not in da:
                diffs.append("%s: only in %s" % (name, a.b))
                continue
            x, y = da[name], db[name]
            if x.shape != y.shape:
                diffs.append("%s: shape %s vs %s" % (name, x.shape, y.shape))
                continue
            if x.dtype != y.dtype:
                diffs.append("%s: dtype %s vs %s" % (name, x.dtype, y.dtype))
                continue
            bx, by = dataset_bytes(x), dataset_bytes(y)
            if bx != by:
                msg = "%s: contents differ" % name
                if x.dtype.kind in "iuf" and x.shape:
                    vx, vy = np.asarray(x[()]).reshape(-1), np.asarray(y[()]).reshape(-1)
                    u = "u%d" % vx.itemsize
                    ne = np.flatnonzero(np.ascontiguousarray(vx).view(u) !=
                                        np.ascontiguousarray(vy).view(u))
                    msg += " at %d of %d elements; first at flat index %d: %r vs %r" % (
                        len(ne), vx.size, ne[0], vx[ne[0]], vy[ne[0]])
                diffs.append(msg)
        n = len(set(da) | set(db))
    if diffs:
        print("DIFFERENT (%d of %d datasets):" % (len(diffs), n))
        for d in diffs:
            print("  " + d)
        return MISMATCH
    print("SAME: %d datasets bit-identical under %s" % (n, ", ".join("/" + g for g in groups)))
    return OK


# --- main ------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("rfm", help="RFM table vs rfm_reference.py CSV, exactly")
    p.add_argument("result")
    p.add_argument("reference")
    p.add_argument("--counters", metavar="C.json",
                   help="also compare fate counters and snapshot with /run attributes")
    p.add_argument("--show", type=int, default=10, help="mismatching rows to print")
    p.set_defaults(func=cmd_rfm)
    p = sub.add_parser("kmeans", help="re-run sklearn Lloyd from /model/init_centroids")
    p.add_argument("result")
    p.add_argument("--min-ari", type=float, default=0.99)
    p.add_argument("--inertia-rtol", type=float, default=1e-6)
    p.add_argument("--tol", type=float, default=None, help="override /run tol")
    p.add_argument("--max-iter", type=int, default=None, help="override /run max_iter")
    p.set_defaults(func=cmd_kmeans)
    p = sub.add_parser("metrics", help="silhouette / Calinski-Harabasz / Davies-Bouldin")
    p.add_argument("result")
    p.add_argument("--rtol", type=float, default=1e-9)
    p.add_argument("--silhouette-max-n", type=int, default=20000)
    p.set_defaults(func=cmd_metrics)
    p = sub.add_parser("same", help="two results bit-identical")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--groups", default="customers,model,selection,segments,migration,drift",
                   help="comma-separated top-level groups (default %(default)s)")
    p.set_defaults(func=cmd_same)
    a = ap.parse_args(argv)
    try:
        return a.func(a)
    except CannotCheck as e:
        print("cannot check: %s" % e, file=sys.stderr)
        return CANNOT


if __name__ == "__main__":
    sys.exit(main())
