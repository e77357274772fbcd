#!/usr/bin/env python3
"""Append one scaling run to the scaling CSV (used by jobs/scaling.sbatch).

    scaling_record.py CSV [--result RESULT.h5] --mode strong|weak --ranks N --nodes N
                      --lines-per-rank N --repeat I --launcher TEXT --wall SECONDS --status S
                      [--job ID]

From RESULT.h5 it takes every numeric /run attribute it knows (count_lines, bytes_read,
bytes_shuffled, customers, every time_* phase) and the K-means iteration count when the file has
one (/model/n_iter). New time_* phases that later rfmseg versions add become new columns: the file
is then rewritten once with the wider header (older rows get empty cells). A failed run (status
!= 0, no result) is recorded too, with empty measurements. Writers are serialised with flock.

Only the standard library is needed; h5py is used when present, else `h5dump`.
"""
import argparse
import csv
import datetime
import fcntl
import os
import re
import subprocess
import sys

FIXED = ["timestamp", "job_id", "mode", "ranks", "nodes", "host_cpus", "lines_per_rank", "repeat", "launcher",
         "status", "wall_s", "count_lines", "bytes_read", "bytes_shuffled", "shuffle_rounds", "customers",
         "iterations", "kmeans_iterations_total"]
# Pipeline order; time_* phases not listed here follow them, then time_total.
PHASES = ["time_ingest", "time_rfm", "time_sort", "time_transform", "time_scale", "time_kmeans",
          "time_evaluate", "time_output"]
RUN_KEYS = ["count_lines", "bytes_read", "bytes_shuffled", "shuffle_rounds", "customers",
            "kmeans_iterations_total"]


def read_h5py(path):
    import h5py  # noqa: PLC0415 (optional dependency)
    values = {}
    with h5py.File(path, "r") as f:
        for key, value in f["/run"].attrs.items():
            if key in RUN_KEYS or key.startswith("time_"):
                values[key] = value.item() if hasattr(value, "item") else value
        for name in ("/model/n_iter",):
            if name in f:
                values["iterations"] = f[name][()].item()
    return values


def read_h5dump(path):
    values = {}
    out = subprocess.run(["h5dump", "-m", "%.9g", "-A", "-g", "/run", path], capture_output=True, text=True,
                         check=True).stdout
    for key, value in re.findall(r'ATTRIBUTE "([A-Za-z0-9_]+)" \{[^{}]*?DATA \{\s*\(0\): ([-0-9.eE+]+)',
                                 out):
        if key in RUN_KEYS or key.startswith("time_"):
            values[key] = float(value) if re.search(r"[.eE]", value) else int(value)
    n_iter = subprocess.run(["h5dump", "-d", "/model/n_iter", path], capture_output=True, text=True)
    match = re.search(r"\(0\): ([0-9]+)", n_iter.stdout) if n_iter.returncode == 0 else None
    if match:
        values["iterations"] = int(match.group(1))
    return values


def read_result(path):
    try:
        return read_h5py(path)
    except ImportError:
        return read_h5dump(path)


def header_for(keys):
    phases = [k for k in PHASES if k in keys]
    extra = sorted(k for k in keys if k.startswith("time_") and k not in PHASES and k != "time_total")
    return FIXED + phases + extra + ["time_total"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--result")
    parser.add_argument("--mode", required=True, choices=["strong", "weak"])
    parser.add_argument("--ranks", type=int, required=True)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--lines-per-rank", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--launcher", default="")
    parser.add_argument("--wall", type=float, default=float("nan"))
    parser.add_argument("--status", type=int, default=0)
    parser.add_argument("--job", default=os.environ.get("SLURM_JOB_ID", ""))
    args = parser.parse_args()

    row = {
        "timestamp": datetime.datetime.now().isoformat(timespec="seconds"),
        "job_id": args.job, "mode": args.mode, "ranks": args.ranks, "nodes": args.nodes,
        "host_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "lines_per_rank": args.lines_per_rank, "repeat": args.repeat, "launcher": args.launcher,
        "status": args.status, "wall_s": f"{args.wall:.3f}",
    }
    if args.status == 0 and args.result:
        try:
            for key, value in read_result(args.result).items():
                row[key] = f"{value:.9g}" if isinstance(value, float) else value
        except Exception as error:  # a run without readable measurements is still a row
            print(f"scaling_record: cannot read {args.result}: {error}", file=sys.stderr)
            row["status"] = args.status or 2

    os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
    with open(args.csv, "a+", newline="") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        reader = csv.DictReader(handle)
        rows = list(reader)
        old_header = list(reader.fieldnames or [])
        header = header_for(set(old_header) | set(row))
        if old_header and header != old_header:
            # A new phase appeared: rewrite with the wider header.
            handle.seek(0)
            handle.truncate()
            writer = csv.DictWriter(handle, fieldnames=header, restval="", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        else:
            handle.seek(0, os.SEEK_END)
            writer = csv.DictWriter(handle, fieldnames=header, restval="", extrasaction="ignore")
            if not old_header:
                writer.writeheader()
        writer.writerow(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
