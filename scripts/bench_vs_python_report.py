#!/usr/bin/python3
"""Markdown report of scripts/bench_vs_python.sh's runs: per-phase medians, ratios, peak RSS, and
the agreement of the two results (ARI, inertia, features); with the DuckDB runs, DuckDB's RFM
aggregation against rfmseg's whole job with one k = 3 fit at 2 ranks.

Reads RUNS/<rep>-python/{python.json,time.txt,agreement.npz}, RUNS/<rep>-np<P>/{result.h5,
time.txt,rss.<rank>}, RUNS/<rep>-duckdb/{duckdb.json,time.txt}, RUNS/<rep>-np2k3/{result.h5,
time.txt,rss.<rank>,stdout.txt} and RUNS/machine.txt; writes --out and prints the same text.
"""

import argparse
import glob
import json
import os
import re
import statistics
import sys

import h5py
import numpy as np
from sklearn.metrics import adjusted_rand_score

KINDS = ["python", "np1", "np2"]  # always run
OPTIONAL = ["duckdb", "np2k3"]  # the DuckDB comparison, unless skipped


def read_machine(path):
    facts = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.rstrip("\n").partition("=")
            facts[key] = value
    return facts


def text(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def load_runs(runs):
    by_kind = {k: [] for k in KINDS + OPTIONAL}
    for d in sorted(glob.glob(os.path.join(runs, "*-*"))):
        m = re.fullmatch(r"(\d+)-(python|np1|np2|duckdb|np2k3)", os.path.basename(d))
        if not m:
            continue
        rep, kind = int(m.group(1)), m.group(2)
        with open(os.path.join(d, "time.txt")) as f:
            fields = f.read().split()
        run = {"rep": rep, "dir": d,
               "wall": float(fields[-2] if kind in ("python", "duckdb") else fields[-1])}
        if kind == "duckdb":
            with open(os.path.join(d, "duckdb.json")) as f:
                run["json"] = json.load(f)
            run["phases"] = {"total": run["json"]["seconds"]}
            run["rss_kib"] = [int(fields[-1])]
            by_kind[kind].append(run)
            continue
        if kind == "python":
            with open(os.path.join(d, "python.json")) as f:
                j = json.load(f)
            run["json"] = j
            run["phases"] = dict(j["phases"])
            run["phases"]["total"] = j["total"]
            run["rss_kib"] = [int(fields[-1])]
        else:
            with h5py.File(os.path.join(d, "result.h5"), "r") as h:
                a = h["run"].attrs
                run["phases"] = {k[5:]: float(a[k]) for k in a if k.startswith("time_")}
                run["attrs"] = {k: a[k] for k in a if k not in ("configuration",
                                                                "bad_line_examples")}
            rss = []
            for p in sorted(glob.glob(os.path.join(d, "rss.*"))):
                with open(p) as f:
                    rss.append(int(f.read().split()[-1]))
            want = int(kind[2])
            if kind == "np2k3":
                # the in-program time as the console report's `time:` line gives it
                with open(os.path.join(d, "stdout.txt")) as f:
                    m = re.search(r"^time: .*\| total ([0-9.]+)s", f.read(), re.M)
                if not m:
                    raise SystemExit("error: %s/stdout.txt: no 'time: ... | total Xs' line" % d)
                run["console_total"] = float(m.group(1))
            if len(rss) != want:
                raise SystemExit("error: %s: %d rss files for %d ranks" % (d, len(rss), want))
            run["rss_kib"] = rss
        by_kind[kind].append(run)
    for kind in KINDS:
        if not by_kind[kind]:
            raise SystemExit("error: no %s run under %s" % (kind, runs))
        by_kind[kind].sort(key=lambda r: r["rep"])
    if bool(by_kind["duckdb"]) != bool(by_kind["np2k3"]):
        raise SystemExit("error: %s: duckdb runs without np2k3 runs or the reverse" % runs)
    return by_kind


def phase(run, names):
    return sum(run["phases"].get(n, 0.0) for n in names)


def rows(mode):
    """(row label, python phases, rfmseg phases); None = not a separate phase on that side."""
    if mode == "sse":
        kmeans = [("k-means: sweep k = 1..10 × 10 restarts, SSE per k (rfmseg: + metrics of the "
                   "final k = 3 model)", ["sweep"], ["kmeans"])]
    else:
        kmeans = [("k-means: sweep k = 1..10 × 10 restarts + metrics per k", ["sweep", "metrics"],
                   ["kmeans"]),
                  ("  of which silhouette / CH / DB per k", ["metrics"], None)]
    return [
        ("read + parse (rfmseg: + shuffle to owners)", ["read"], ["ingest"]),
        ("clean + RFM (rfmseg: + sort by id)", ["clean", "rfm"], ["rfm", "sort"]),
        ("transform + scale", ["transform", "scale"], ["transform", "scale"]),
    ] + kmeans + [
        ("final model (python: refit if any, renumber)", ["fit"], None),
        ("profile + segments", None, ["evaluate", "segment"]),
        ("write result (python: CSV; rfmseg: HDF5)", ["write"], ["output"]),
    ]


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x):
    if x != x:
        return "—"
    return "%.2f" % x if x < 100 else "%.0f" % x


def fmt_ratio(a, b):
    if a != a or b != b or b <= 0:
        return "—"
    return "%.2f×" % (a / b)


def agreement(by_kind):
    """ARI / inertia / features of the last python run vs the last np1 run, plus the rank-count
    and repetition invariance of rfmseg's results."""
    py = by_kind["python"][-1]
    z = np.load(os.path.join(py["dir"], "agreement.npz"))
    out = {}
    with h5py.File(os.path.join(by_kind["np1"][-1]["dir"], "result.h5"), "r") as h:
        ids = h["customers/customer_id"][:]
        labels = h["customers/cluster"][:]
        feats = h["customers/features"][:]
        out["rfmseg_inertia"] = float(h["model/inertia"][()])
        out["rfmseg_n_iter"] = int(h["model/n_iter"][()])
        out["rfmseg_sizes"] = h["model/cluster_size"][:].tolist()
        out["rfmseg_sse"] = h["selection/sse"][:].tolist() if "selection" in h else []
        out["rfmseg_lambda"] = h["model/transform/lambda"][:].tolist()
    pid = z["customer_id"]
    common, ir, ip = np.intersect1d(ids.astype("S"), pid.astype("S"), assume_unique=True,
                                    return_indices=True)
    out["customers_rfmseg"], out["customers_python"], out["customers_common"] = \
        len(ids), len(pid), len(common)
    out["ari"] = float(adjusted_rand_score(labels[ir], z["labels"][ip]))
    out["same_labels"] = float(np.mean(labels[ir] == z["labels"][ip]))
    out["feature_max_abs_diff"] = np.max(np.abs(feats[ir] - z["features"][ip]), axis=0).tolist()
    out["python_lambda"] = [py["json"]["transforms"][n].get("lambda", 0.0)
                            for n in ("recency", "frequency", "monetary")]
    out["python_inertia"] = float(z["inertia"])
    out["python_sizes"] = np.bincount(z["labels"], minlength=len(out["rfmseg_sizes"])).tolist()
    out["python_n_iter"] = py["json"]["n_iter"]
    out["python_sse"] = z["sse"].tolist()
    out["inertia_rel_diff"] = (out["python_inertia"] - out["rfmseg_inertia"]) / out["rfmseg_inertia"]
    if out["rfmseg_sse"] and len(out["rfmseg_sse"]) == len(out["python_sse"]):
        r, p = np.array(out["rfmseg_sse"]), np.array(out["python_sse"])
        out["sse_rel_diff"] = ((p - r) / r).tolist()
    # rfmseg: every run, both rank counts, must give the same bits
    ref = None
    identical = True
    for kind in ("np1", "np2"):
        for run in by_kind[kind]:
            with h5py.File(os.path.join(run["dir"], "result.h5"), "r") as h:
                cur = (h["customers/cluster"][:].tobytes(), h["customers/features"][:].tobytes(),
                       float(h["model/inertia"][()]))
            if ref is None:
                ref = cur
            identical = identical and cur == ref
    out["rfmseg_identical"] = identical
    plabels = [np.load(os.path.join(r["dir"], "agreement.npz"))["labels"] for r in by_kind["python"]]
    out["python_repeatable"] = all(np.array_equal(plabels[0], x) for x in plabels[1:])
    return out


def duckdb_section(L, runs, args):
    """DuckDB's RFM aggregation vs rfmseg's whole job with one k = 3 fit at 2 ranks."""
    L.append("## DuckDB's RFM aggregation vs rfmseg's whole job (k = 3, 1 restart, np 2)")
    L.append("")
    if not runs["duckdb"]:
        L.append("No DuckDB column: %s." % (args.duckdb_note or "no DuckDB runs"))
        L.append("")
        return
    dk, rk = runs["duckdb"], runs["np2k3"]
    dj = dk[-1]["json"]
    L.append("DuckDB %s (npm `@duckdb/node-api` %s), %d threads, in-memory database: "
             "`read_csv` + `GROUP BY` customer of the same file, materialised as a temporary "
             "table, against `mpirun -np 2 rfmseg %s` — the whole job: ingest, cleaning, RFM, "
             "transforms, one k = 3 fit, metrics, segments, HDF5 output. Medians of %d "
             "alternating runs."
             % (dj["duckdb_version"], dj["node_api_version"], dj["threads"], args.rfmseg_k3_args,
                len(dk)))
    L.append("")
    d_in, r_in = median([r["json"]["seconds"] for r in dk]), median([r["console_total"] for r in rk])
    d_wall, r_wall = median([r["wall"] for r in dk]), median([r["wall"] for r in rk])
    d_rss = median([sum(r["rss_kib"]) / 1024.0 for r in dk])
    r_rss = median([sum(r["rss_kib"]) / 1024.0 for r in rk])
    L.append("| | DuckDB RFM query | rfmseg np 2, k = 3 | DuckDB / rfmseg |")
    L.append("|---|---:|---:|---:|")
    L.append("| in the program (DuckDB: the query; rfmseg: total of the `time:` line), s | %s | %s "
             "| %s |" % (fmt_s(d_in), fmt_s(r_in), fmt_ratio(d_in, r_in)))
    L.append("| wall, with start-up (node + open database; mpirun), s | %s | %s | %s |"
             % (fmt_s(d_wall), fmt_s(r_wall), fmt_ratio(d_wall, r_wall)))
    L.append("| peak memory, MB (resident, summed over ranks) | %.0f | %.0f | %s |"
             % (d_rss, r_rss, fmt_ratio(d_rss, r_rss)))
    L.append("")
    L.append("A ratio above 1× means rfmseg's whole job is faster than DuckDB's aggregation alone.")
    L.append("")
    with h5py.File(os.path.join(rk[-1]["dir"], "result.h5"), "r") as h:
        n = int(h["customers/customer_id"].shape[0])
        fsum = int(h["customers/frequency"][:].sum())
        rsum = int(h["customers/recency"][:].sum())
        msum = float(h["customers/monetary"][:].sum())
    L.append("What the query does: drops rows without a customer id (empty after trimming), "
             "cancellations (invoice starting with `C` after trimming, or quantity < 0), zero "
             "quantity and price <= 0; trims ids and turns `17850.0` into `17850`; reads the file "
             "as Latin-1; parses the dates as `%m/%d/%Y %H:%M` (the generator's US layout); "
             "recency = (latest kept day + 1) − the customer's latest day, in days; frequency = "
             "distinct invoices; monetary = float64 sum of quantity × price. What it does not do: "
             "drop exact duplicate lines (rfmseg and the Python side do; in SQL that is a "
             "`DISTINCT` over whole rows, a hash of every line), count each fate, tolerate a "
             "malformed line (read_csv fails), sort by id, or anything after the RFM table "
             "(transforms, scaling, k-means, metrics, segments, output file).")
    L.append("")
    L.append("Agreement with rfmseg (last runs): customers %d / %d (%s), frequency sum %d / %d "
             "(%s), recency sum %d / %d (%s), monetary sum %.2f / %.2f (%+.2e relative: the "
             "duplicate lines DuckDB keeps)."
             % (dj["customers"], n, "equal" if dj["customers"] == n else "**differ**",
                dj["frequency_sum"], fsum, "equal" if dj["frequency_sum"] == fsum else "**differ**",
                dj["recency_sum"], rsum, "equal" if dj["recency_sum"] == rsum else "**differ**",
                dj["monetary_sum"], msum, (dj["monetary_sum"] - msum) / msum if msum else 0.0))
    L.append("")
    if args.duckdb_sql and os.path.exists(args.duckdb_sql):
        with open(args.duckdb_sql) as f:
            L.append("```sql")
            L.append(f.read().rstrip("\n").replace("'DATA'", "'DATA.csv'"))
            L.append("```")
            L.append("")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", required=True)
    ap.add_argument("--lines", type=int, required=True)
    ap.add_argument("--repeat", type=int, required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--rfmseg-args", required=True)
    ap.add_argument("--python-args", required=True)
    ap.add_argument("--rfmseg", default="build/src/rfmseg", help="binary, for the command shown")
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["metrics", "sse"], default="metrics")
    ap.add_argument("--rfmseg-k3-args", default="", help="rfmseg's arguments in the DuckDB comparison")
    ap.add_argument("--duckdb-sql", default="", help="the query file, printed in the report")
    ap.add_argument("--duckdb-note", default="", help="why there is no DuckDB column, if there is none")
    args = ap.parse_args()

    machine = read_machine(os.path.join(args.runs, "machine.txt"))
    runs = load_runs(args.runs)
    py0 = runs["python"][0]["json"]
    a0 = runs["np1"][0]["attrs"]
    med = {}
    for label, pn, rn in rows(args.mode):
        med[label] = (median([phase(r, pn) for r in runs["python"]]) if pn else float("nan"),
                      median([phase(r, rn) for r in runs["np1"]]) if rn else float("nan"),
                      median([phase(r, rn) for r in runs["np2"]]) if rn else float("nan"))
    totals = {
        "total in the program": (median([r["phases"]["total"] for r in runs["python"]]),
                                 median([r["phases"]["total"] for r in runs["np1"]]),
                                 median([r["phases"]["total"] for r in runs["np2"]])),
    }
    if args.mode == "metrics":
        totals["total in the program, python without the metrics (the issue's notebook)"] = (
            median([r["phases"]["total"] - r["phases"].get("metrics", 0.0) for r in runs["python"]]),
            float("nan"), float("nan"))
    totals["wall, with start-up (python: interpreter + imports; rfmseg: mpirun)"] = (
        median([r["wall"] for r in runs["python"]]), median([r["wall"] for r in runs["np1"]]),
        median([r["wall"] for r in runs["np2"]]))
    rss = {k: [sum(r["rss_kib"]) / 1024.0 for r in runs[k]] for k in KINDS}
    ag = agreement(runs)

    L = []
    L.append("# rfmseg vs pandas + scikit-learn%s" % (
        " — SSE only (the tutorial's work)" if args.mode == "sse" else ""))
    L.append("")
    L.append("Written by `scripts/bench_vs_python.sh` (do not edit by hand; rerun it). "
             "A benchmark on a shared machine, not a test: read the load average below before "
             "reading the times.")
    L.append("")
    if args.mode == "sse":
        L.append("**Mode: `sse`** — the seed tutorial's work only, on both sides: read, clean, RFM, "
                 "transforms, scaling, the elbow sweep k = 1..10 × 10 restarts for the SSE curve, "
                 "and the k = 3 model. No silhouette / Calinski-Harabasz / Davies-Bouldin per k: "
                 "rfmseg runs with `--sweep-metrics sse` (it still computes the three metrics of "
                 "the final k = 3 model, which the Python side does not), the Python side skips its "
                 "metrics phase. `--mode metrics` (the default) gives the other report.")
    else:
        L.append("**Mode: `metrics`** — both sides also compute silhouette (10 000-customer "
                 "sample), Calinski-Harabasz and Davies-Bouldin for every k of the sweep. "
                 "`--mode sse` gives the tutorial's work only (SSE per k), in its own report.")
    L.append("")
    L.append("**Input**: %s data lines (%.0f MB, generated by `rfmseg-gen --seed %s`, "
             "Online Retail layout with 2 %% dirt), %d customers after cleaning, "
             "%d kept lines. **Runs**: %d of each, alternating python → np 1 → np 2%s; medians."
             % (format(args.lines, ","), int(machine.get("data_bytes", 0)) / 1e6,
                re.search(r"-s(\d+)\.csv$", text(a0["input_files"])).group(1)
                if re.search(r"-s(\d+)\.csv$", text(a0["input_files"])) else "?",
                int(a0["customers"]), int(a0["count_kept"]), args.repeat,
                " → DuckDB → np 2 k = 3" if runs["duckdb"] else ""))
    L.append("")
    L.append("## Time per phase (seconds, median of runs)")
    L.append("")
    L.append("| phase | python | rfmseg np 1 | rfmseg np 2 | python / np 1 | python / np 2 | np 1 / np 2 |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    for label, (p, r1, r2) in list(med.items()) + list(totals.items()):
        name = label.replace("  of which", "&nbsp;&nbsp;of which")
        if label.startswith("total") or label.startswith("wall"):
            name = "**%s**" % label
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            name, fmt_s(p), fmt_s(r1), fmt_s(r2), fmt_ratio(p, r1), fmt_ratio(p, r2),
            fmt_ratio(r1, r2)))
    L.append("")
    if args.mode == "sse":
        what = ("rfmseg's k-means phase is the sweep (SSE per k only) plus the silhouette (seeded "
                "sample of 10 000), Calinski-Harabasz and Davies-Bouldin of the final model; the "
                "Python side computes no metric")
    else:
        what = ("rfmseg's k-means phase includes its silhouette (seeded sample of 10 000), "
                "Calinski-Harabasz and Davies-Bouldin for every k; the Python side computes the "
                "same three with scikit-learn (`silhouette_score(sample_size=10000)`) in its own "
                "phase, shown separately")
    L.append("Each cell is the median of that row over the runs, so the rows need not add up to "
             "the total's median. %s, and takes the k = 3 model from the sweep as rfmseg does%s. "
             "scikit-learn's Lloyd loop uses %s OpenMP thread(s) (all cores by default), so "
             "\"python\" is not a one-core run; pandas is one thread."
             % (what, " (here it refits it, `--python-refit`)" if "--reuse-sweep" not in
                args.python_args else "", py0.get("openmp_threads") or "?"))
    L.append("")
    L.append("## Peak memory (MB, resident, summed over ranks)")
    L.append("")
    L.append("| | python | rfmseg np 1 | rfmseg np 2 |")
    L.append("|---|---:|---:|---:|")
    L.append("| median of runs | %.0f | %.0f | %.0f |" % tuple(median(rss[k]) for k in KINDS))
    L.append("| largest run | %.0f | %.0f | %.0f |" % tuple(max(rss[k]) for k in KINDS))
    per_rank = [r["rss_kib"] for r in runs["np2"]]
    L.append("")
    L.append("np 2 per rank (last run): %s MB." % " + ".join("%.0f" % (x / 1024.0)
                                                          for x in per_rank[-1]))
    L.append("")
    L.append("## Agreement of the results")
    L.append("")
    L.append("| | python | rfmseg |")
    L.append("|---|---:|---:|")
    L.append("| customers | %d | %d |" % (ag["customers_python"], ag["customers_rfmseg"]))
    for fate in ("missing_customer", "duplicate", "cancellation", "zero_quantity",
                 "nonpositive_price", "kept"):
        L.append("| %s lines | %d | %d |" % (fate.replace("_", " "), py0["counts"][fate],
                                             int(a0["count_" + fate])))
    L.append("| final inertia (k = 3) | %.10g | %.10g |" % (ag["python_inertia"],
                                                         ag["rfmseg_inertia"]))
    L.append("| iterations of the winning restart | %d | %d |" % (ag["python_n_iter"],
                                                               ag["rfmseg_n_iter"]))
    L.append("| cluster sizes (ordered by mean monetary) | %s | %s |" % (
        " / ".join(map(str, ag["python_sizes"])), " / ".join(map(str, ag["rfmseg_sizes"]))))
    L.append("")
    L.append("- ARI of the final labels over the %d customers both have: **%.6f** (%.4f %% "
             "identical labels)." % (ag["customers_common"], ag["ari"], 100 * ag["same_labels"]))
    L.append("- Inertia, python relative to rfmseg: %+.2e; elbow SSE per k = 1..10: %s."
             % (ag["inertia_rel_diff"], ", ".join("%+.1e" % x for x in ag.get("sse_rel_diff", []))
                or "—"))
    lam = ["%s %.10g / %.10g" % (n, p, r) for n, p, r, kind in zip(
        "RFM", ag["python_lambda"], ag["rfmseg_lambda"],
        [py0["transforms"][c]["kind"] for c in ("recency", "frequency", "monetary")])
        if kind in ("boxcox", "yeojohnson")]
    L.append("- Largest difference of a standardized feature, R / F / M: %s. Box-Cox λ, python / "
             "rfmseg: %s. Both maximise the same log-likelihood, which is flat at the optimum "
             "(equal at both λ to ~1e-15 relative): the optimisers' stopping rules (SciPy's Brent "
             "at ~1.5e-8) decide the last digits of λ, which is where R and F differ; "
             "M differs only by pandas' float64 sum against rfmseg's exact sum and rfmseg's "
             "rounding of the features onto a 2^-q grid."
             % (" / ".join("%.1e" % x for x in ag["feature_max_abs_diff"]), "; ".join(lam) or "—"))
    L.append("- rfmseg np 1 and np 2, all runs: %s. Python runs: %s."
             % ("bit-identical labels, features and inertia" if ag["rfmseg_identical"]
                else "**results differ**",
                "identical labels" if ag["python_repeatable"] else "**labels differ between runs**"))
    L.append("")
    L.append("Both sides use k-means++ with 10 restarts but different random draws "
             "(scikit-learn's greedy k-means++ vs rfmseg's id-keyed draws), so they may stop in "
             "different nearby optima; a relative inertia difference of order 1e-5 with an ARI "
             "near 1 means the same clustering up to a few border customers.")
    L.append("")
    duckdb_section(L, runs, args)
    L.append("## Machine and versions")
    L.append("")
    L.append("- %s cores (`nproc`), %s, %s; %s" % (machine.get("nproc"), machine.get("cpu"),
                                                  machine.get("memory"), machine.get("os")))
    L.append("- load average at the start: %s; at the end: %s (a quiet 2-core machine is below "
             "0.5)" % (machine.get("loadavg_start"), machine.get("loadavg_end")))
    v = py0["versions"]
    L.append("- Python %s, pandas %s, NumPy %s, SciPy %s, scikit-learn %s"
             % (v["python"], v["pandas"], v["numpy"], v["scipy"], v["sklearn"]))
    L.append("- rfmseg %s, commit `%s`; %s" % (text(a0["version"]), text(a0["git_commit"]),
                                              machine.get("mpirun")))
    if runs["duckdb"]:
        dj = runs["duckdb"][0]["json"]
        L.append("- DuckDB %s (npm `@duckdb/node-api` %s, Node.js %s), %d threads"
                 % (dj["duckdb_version"], dj["node_api_version"], dj["node_version"], dj["threads"]))
    L.append("- run at %s; data file in the page cache for every run (warm)" % machine.get("date"))
    L.append("")
    L.append("## Command")
    L.append("")
    L.append("```")
    L.append(args.command)
    L.append("# which runs, alternately:")
    L.append("scripts/reference/python_pipeline.py --input DATA.csv %s --output customers.csv"
             % args.python_args)
    for np_ in (1, 2):
        L.append("mpirun -np %d %s --input DATA.csv --output result.h5 %s"
                 % (np_, args.rfmseg, args.rfmseg_args))
    if runs["duckdb"]:
        L.append("node WORK/duckdb-node/rfm.mjs DATA.csv 2 duckdb.json   # the query above")
        L.append("mpirun -np 2 %s --input DATA.csv --output result.h5 %s"
                 % (args.rfmseg, args.rfmseg_k3_args))
    L.append("```")
    L.append("")
    report = "\n".join(L)
    with open(args.out, "w") as f:
        f.write(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
