#!/usr/bin/python3
"""Checks of rfmseg's --export files and --pseudonymize-key tokens, independent of rfmseg's code.

  exports_check.py pandas EXPORT_DIR RESULT.h5
      read every export file with pandas (customers.csv.gz or customers.csv, clusters.csv,
      segments.csv, selection.csv when /selection exists) and compare with the HDF5 datasets:
      same rows in the same order, integers equal, doubles equal bit for bit.
  exports_check.py duckdb DUCKDB_JSON RESULT.h5
      the same for the customers table as DuckDB read it (JSON written by exports_duckdb.mjs:
      {"customers": [...], "clusters": [...], ...}; BIGINTs as strings, doubles as JS numbers).
  exports_check.py tokens RESULT.h5 KEYFILE RAW_IDS.txt
      /customers/customer_id is exactly the sorted set of HMAC-SHA256(key, id) hex digests of the
      raw ids (one per line), computed with Python's hmac.
  exports_check.py make-input OUT.csv RAW_IDS.txt
      an amount-only input whose ids all contain "RAWID" (some with commas and quotes), with bad
      lines (bad date, bad number, wrong field count) that carry raw ids too.

Exit status: 0 match, 1 mismatch, 2 cannot check.
"""

import hashlib
import hmac
import json
import os
import sys

import numpy as np

try:
    import h5py
    import pandas as pd
except ImportError:  # pragma: no cover
    print("error: h5py and pandas are needed (apt-get install python3-h5py python3-pandas)", file=sys.stderr)
    sys.exit(2)

CUSTOMER_COLUMNS = ["customer_id", "recency", "frequency", "monetary", "r_score", "f_score", "m_score",
                    "rfm_score", "segment", "cluster", "cluster_label", "high_value"]


def strings(ds):
    raw = ds[()]
    out = []
    for x in np.atleast_1d(raw):
        if isinstance(x, bytes):
            out.append(x.rstrip(b"\0").decode("utf-8", "surrogateescape"))
        else:
            out.append(str(x))
    return out


class Checker:
    def __init__(self, what):
        self.what = what
        self.problems = []

    def equal_ints(self, name, got, want):
        got, want = np.asarray(got, dtype=np.int64), np.asarray(want, dtype=np.int64)
        if got.shape != want.shape:
            self.problems.append("%s %s: %d values, HDF5 has %d" % (self.what, name, got.size, want.size))
        elif not np.array_equal(got, want):
            i = int(np.flatnonzero(got != want)[0])
            self.problems.append("%s %s: row %d is %r, HDF5 has %r" % (self.what, name, i, got[i], want[i]))

    def equal_doubles(self, name, got, want):
        """Bit for bit; a NaN in HDF5 is an empty field (NaN) in the CSV."""
        got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            self.problems.append("%s %s: %d values, HDF5 has %d" % (self.what, name, got.size, want.size))
            return
        both_nan = np.isnan(got) & np.isnan(want)
        differ = (got.view(np.uint64) != want.view(np.uint64)) & ~both_nan
        if differ.any():
            i = int(np.flatnonzero(differ)[0])
            self.problems.append("%s %s: %d values differ; row %d is %r, HDF5 has %r" %
                                 (self.what, name, int(differ.sum()), i, got[i], want[i]))

    def equal_strings(self, name, got, want):
        got, want = list(got), list(want)
        if got != want:
            if len(got) != len(want):
                self.problems.append("%s %s: %d values, HDF5 has %d" % (self.what, name, len(got), len(want)))
            else:
                i = next(i for i in range(len(got)) if got[i] != want[i])
                self.problems.append("%s %s: row %d is %r, HDF5 has %r" % (self.what, name, i, got[i], want[i]))


def expected_customers(h):
    c = h["customers"]
    names = strings(h["segments/name"])
    labels = strings(h["model/cluster_label"])
    cluster = c["cluster"][()]
    segment = c["segment"][()]
    return {
        "customer_id": strings(c["customer_id"]),
        "recency": c["recency"][()], "frequency": c["frequency"][()], "monetary": c["monetary"][()],
        "r_score": c["r_score"][()], "f_score": c["f_score"][()], "m_score": c["m_score"][()],
        "rfm_score": c["rfm_code"][()],
        "segment": [names[s] for s in segment],
        "cluster": cluster,
        "cluster_label": [labels[k] for k in cluster],
        "high_value": c["high_value"][()],
    }


def compare_customers(chk, get, h):
    """get(column) -> the column as the reader gave it."""
    want = expected_customers(h)
    for col in CUSTOMER_COLUMNS:
        if col in ("customer_id", "segment", "cluster_label"):
            chk.equal_strings(col, get(col), want[col])
        elif col == "monetary":
            chk.equal_doubles(col, get(col), want[col])
        else:
            chk.equal_ints(col, get(col), want[col])
    return len(want["customer_id"])


def compare_small(chk, get, h):
    k = int(h["model/k"][()])
    prof = h["model/profile"]
    chk.equal_ints("clusters.cluster", get("clusters", "cluster"), np.arange(k))
    chk.equal_strings("clusters.label", get("clusters", "label"), strings(h["model/cluster_label"]))
    chk.equal_ints("clusters.size", get("clusters", "size"), h["model/cluster_size"][()])
    chk.equal_doubles("clusters.share", get("clusters", "share"), prof["share"][()])
    chk.equal_doubles("clusters.revenue_share", get("clusters", "revenue_share"), prof["revenue_share"][()])
    for stat in ("mean", "std", "min", "max"):
        table = prof[stat][()]
        for d, feature in enumerate(("recency", "frequency", "monetary")):
            chk.equal_doubles("clusters.%s_%s" % (stat, feature), get("clusters", "%s_%s" % (stat, feature)),
                              table[:, d])
    centroids = h["model/centroids"][()]
    for d, feature in enumerate(("recency", "frequency", "monetary")):
        chk.equal_doubles("clusters.centroid_" + feature, get("clusters", "centroid_" + feature), centroids[:, d])
    seg = h["segments"]
    chk.equal_strings("segments.name", get("segments", "name"), strings(seg["name"]))
    chk.equal_ints("segments.count", get("segments", "count"), seg["count"][()])
    for col in ("share", "mean_recency", "mean_frequency", "mean_monetary", "revenue_share"):
        chk.equal_doubles("segments." + col, get("segments", col), seg[col][()])
    if "selection" in h:
        sel = h["selection"]
        chk.equal_ints("selection.k", get("selection", "k"), sel["k"][()])
        for col in ("sse", "silhouette", "calinski_harabasz", "davies_bouldin"):
            chk.equal_doubles("selection." + col, get("selection", col), sel[col][()])
        chk.equal_ints("selection.n_iter", get("selection", "n_iter"), sel["n_iter"][()])
        chosen = int(sel.attrs["chosen_k"])
        chk.equal_ints("selection.chosen", get("selection", "chosen"), (sel["k"][()] == chosen).astype(np.int64))


def read_csv(path, text_columns):
    # Text columns as text (ids such as 00042 keep their zeros, an id "NA" stays "NA"); doubles
    # parsed with the correctly rounded parser (pandas' default one is not).
    return pd.read_csv(path, dtype={c: str for c in text_columns}, keep_default_na=False,
                       na_values={c: [""] for c in ("share", "revenue_share", "silhouette", "calinski_harabasz",
                                                     "davies_bouldin", "sse")},
                       float_precision="round_trip")


def cmd_pandas(directory, result):
    chk = Checker("pandas")
    gz = os.path.join(directory, "customers.csv.gz")
    path = gz if os.path.exists(gz) else os.path.join(directory, "customers.csv")
    customers = read_csv(path, ["customer_id", "segment", "cluster_label"])
    if list(customers.columns) != CUSTOMER_COLUMNS:
        chk.problems.append("customers columns %s" % list(customers.columns))
    tables = {}
    for name in ("clusters", "segments", "selection"):
        p = os.path.join(directory, name + ".csv")
        if os.path.exists(p):
            tables[name] = read_csv(p, ["label", "name"])
    with h5py.File(result, "r") as h:
        if ("selection" in h) != ("selection" in tables):
            chk.problems.append("selection.csv present: %s, /selection present: %s" % ("selection" in tables,
                                                                                        "selection" in h))
        n = compare_customers(chk, lambda col: customers[col].to_numpy() if col in customers else [], h)
        compare_small(chk, lambda t, col: tables[t][col].to_numpy() if t in tables and col in tables[t] else [], h)
    return report(chk, "%s: %d customers and the small tables equal to the HDF5 datasets" % (os.path.basename(path), n))


def cmd_duckdb(json_path, result):
    chk = Checker("duckdb")
    with open(json_path) as f:
        data = json.load(f)

    def column(table, col):
        rows = data.get(table, [])
        values = [r.get(col) for r in rows]
        return [float("nan") if v is None else (int(v) if isinstance(v, str) and col not in (
            "customer_id", "segment", "cluster_label", "label", "name") else v) for v in values]

    with h5py.File(result, "r") as h:
        n = compare_customers(chk, lambda col: column("customers", col), h)
        compare_small(chk, column, h)
    return report(chk, "DuckDB: %d customers and the small tables equal to the HDF5 datasets" % n)


def cmd_tokens(result, key_path, raw_ids_path):
    with open(key_path, "rb") as f:
        key = f.read()
    with open(raw_ids_path, "rb") as f:
        raw = [line.rstrip(b"\n") for line in f if line.rstrip(b"\n")]
    want = sorted({hmac.new(key, r, hashlib.sha256).hexdigest() for r in raw})
    with h5py.File(result, "r") as h:
        got = strings(h["customers/customer_id"])
        key_id = h["run"].attrs.get("pseudonymization_key_id")
        method = h["run"].attrs.get("pseudonymization")
    chk = Checker("tokens")
    chk.equal_strings("customer_id", got, want)
    if isinstance(key_id, bytes):
        key_id = key_id.decode()
    if key_id != hashlib.sha256(key).hexdigest()[:16]:
        chk.problems.append("/run pseudonymization_key_id %r is not sha256(key)[:16]" % key_id)
    if not method or "HMAC-SHA256" not in (method.decode() if isinstance(method, bytes) else method):
        chk.problems.append("/run pseudonymization %r" % method)
    return report(chk, "%d ids = sorted HMAC-SHA256(key, raw id) of Python's hmac; key id %s" % (len(got), key_id))


def cmd_make_input(out_path, raw_ids_path):
    import random
    rng = random.Random(7)
    ids = ["RAWID-%05d" % i for i in range(1500)]
    ids += ['RAWID "quoted", %d' % i for i in range(20)]  # commas and quotes: RFC 4180 in the input too
    ids += ["00RAWID%d" % i for i in range(20)]
    lines = ["customer_id,trans_date,tran_amount"]
    used = set()

    def quote(s):
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"') else s

    for i in range(12000):
        cid = rng.choice(ids)
        used.add(cid)
        day = 1 + rng.randrange(28)
        month = 1 + rng.randrange(12)
        lines.append("%s,%02d-%s-15,%d.%02d" % (quote(cid), day, ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                                                   "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1],
                                                   1 + rng.randrange(300), rng.randrange(100)))
    # Unusable lines that carry raw ids: bad date, bad number, wrong field count (where no parser
    # can say which field is the id).
    for i in range(30):
        lines.insert(100 + 37 * i, "RAWID-BADDATE-%d,31-Foo-15,12.00" % i)
        lines.insert(120 + 41 * i, "RAWID-BADNUM-%d,01-Jan-15,twelve" % i)
        lines.insert(140 + 43 * i, "RAWID-BADFIELDS-%d,01-Jan-15,1.00,extra,RAWID-X" % i)
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(raw_ids_path, "w") as f:
        f.write("\n".join(sorted(used)) + "\n")
    return 0


def report(chk, ok_text):
    if chk.problems:
        print("MISMATCH (%d):" % len(chk.problems))
        for p in chk.problems[:20]:
            print("  " + p)
        return 1
    print(ok_text)
    return 0


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "pandas" and len(args) == 2:
            return cmd_pandas(*args)
        if cmd == "duckdb" and len(args) == 2:
            return cmd_duckdb(*args)
        if cmd == "tokens" and len(args) == 3:
            return cmd_tokens(*args)
        if cmd == "make-input" and len(args) == 2:
            return cmd_make_input(*args)
    except (OSError, KeyError) as e:
        print("cannot check: %s" % e, file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
