#!/usr/bin/env python3
"""Draw rfmseg's scaling study (the CSV of jobs/scaling.sbatch) as PNGs.

    scripts/plot_scaling.py CSV [--out-dir DIR] [--job ID | --all] [--prefix NAME]

For each mode in the selected rows it writes NAME-strong.png and/or NAME-weak.png (default NAME:
scaling, DIR: the CSV's directory) with three panels against the rank count:
  time per phase (median over repeats, bars from min to max),
  speedup   strong: T(p0)/T(p) ideal p/p0;   weak (scaled speedup): (p/p0)·T(p0)/T(p), ideal p/p0,
  efficiency = speedup / ideal, ideal 1.
p0 is the smallest rank count measured. Phases are every time_* column present (ingest, rfm, sort,
output, later K-means phases, total) plus the job step's wall time including the launch. Phases
under 1 % of the total at p0 are drawn faint: their ratios are mostly timer noise.
By default only the newest job in the CSV is drawn (--job picks one, --all takes every row: then
strong runs are grouped by input size and weak runs by lines per rank, one PNG per group when
there are several). A table of the medians is printed too.

Needs matplotlib and pandas: Debian's python3 (/usr/bin/python3) is used when the running one
lacks them, and python3-matplotlib python3-pandas are installed when missing (apt-get, with
sudo when not root; RFMSEG_NO_INSTALL=1 turns that off).
"""
import os
import sys

from plot_deps import ensure_modules

ensure_modules(__file__)

import argparse  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter  # noqa: E402

PHASE_ORDER = ["time_ingest", "time_rfm", "time_sort", "time_transform", "time_scale", "time_kmeans",
               "time_evaluate", "time_output"]  # pipeline order; other time_* columns follow
STYLE = {  # colour, marker
    "time_ingest": ("#1f77b4", "o"), "time_rfm": ("#ff7f0e", "s"), "time_sort": ("#2ca02c", "^"),
    "time_transform": ("#17becf", "<"), "time_scale": ("#bcbd22", ">"), "time_kmeans": ("#9467bd", "P"),
    "time_evaluate": ("#e377c2", "*"), "time_output": ("#d62728", "v"), "time_total": ("#000000", "D"),
    "wall_s": ("#7f7f7f", "x"),
}
EXTRA_COLOURS = ["#8c564b", "#aec7e8", "#ffbb78", "#98df8a", "#c5b0d5"]


def phase_columns(frame):
    present = [c for c in frame.columns if c.startswith("time_") and frame[c].notna().any()]
    others = sorted(c for c in present if c not in PHASE_ORDER and c != "time_total")
    ordered = [c for c in PHASE_ORDER if c in present] + others
    if "time_total" in present:
        ordered.append("time_total")
    if "wall_s" in frame.columns and frame["wall_s"].notna().any():
        ordered.append("wall_s")
    return ordered


def label_of(column):
    if column == "wall_s":
        return "job step wall (incl. launch)"
    return column.removeprefix("time_")


def style_of(column, index):
    return STYLE.get(column, (EXTRA_COLOURS[index % len(EXTRA_COLOURS)], "P"))


def human(n, space=""):
    n = float(n)
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{space}{unit}"
    return f"{n:.0f}{space}"


def plot_group(group, mode, title_extra, path, cores=None):
    phases = phase_columns(group)
    stats = group.groupby("ranks")[phases].agg(["median", "min", "max"])
    ranks = stats.index.to_numpy()
    p0 = ranks.min()
    median = stats.xs("median", axis=1, level=1)
    t0 = median.loc[p0]
    total0 = t0.get("time_total", t0.max())

    fig, axes = plt.subplots(1, 3, figsize=(17, 6.4))
    fig.subplots_adjust(left=0.05, right=0.985, top=0.86, bottom=0.27, wspace=0.22)
    ax_time, ax_speed, ax_eff = axes
    ideal = ranks / p0
    eff_max = []
    for i, column in enumerate(phases):
        colour, marker = style_of(column, i)
        small = column not in ("time_total", "wall_s") and t0[column] < 0.01 * total0
        alpha, width = (0.35, 1.2) if small else (1.0, 2.2)
        dashed = "--" if column == "wall_s" else "-"
        label = f"{label_of(column)} ({t0[column]:.3g} s at {p0})"
        if small:
            label += ", <1 % of total"
        med = median[column].to_numpy()
        lo = med - stats[(column, "min")].to_numpy()
        hi = stats[(column, "max")].to_numpy() - med
        ax_time.errorbar(ranks, med, yerr=[lo, hi], color=colour, marker=marker, linestyle=dashed,
                         linewidth=width, alpha=alpha, capsize=3, markersize=7, label=label)
        if mode == "strong":
            speedup = t0[column] / med
        else:
            speedup = ideal * t0[column] / med
        ax_speed.plot(ranks, speedup, color=colour, marker=marker, linestyle=dashed, linewidth=width,
                      alpha=alpha, markersize=7)
        if not small:
            eff_max.append(float((speedup / ideal).max()))
        ax_eff.plot(ranks, speedup / ideal, color=colour, marker=marker, linestyle=dashed,
                    linewidth=width, alpha=alpha, markersize=7)
    ax_speed.plot(ranks, ideal, color="#999999", linestyle=":", linewidth=2.5, label="ideal", zorder=0)
    ax_eff.axhline(1.0, color="#999999", linestyle=":", linewidth=2.5, zorder=0)

    what = "strong scaling (fixed input)" if mode == "strong" else "weak scaling (fixed lines per rank)"
    ax_time.set_title("wall time per phase (median, min-max)", fontsize=13)
    ax_time.set_ylabel("seconds", fontsize=12)
    ax_time.set_yscale("log")
    ax_speed.set_title("speedup" if mode == "strong" else "scaled speedup  (p/p0)·T(p0)/T(p)", fontsize=13)
    ax_speed.set_ylabel(f"relative to {p0} rank{'s' if p0 > 1 else ''}", fontsize=12)
    ax_eff.set_title("parallel efficiency", fontsize=13)
    ax_eff.set_ylabel("speedup / ideal", fontsize=12)
    # Room for mild superlinear points; faint phases may go off the top rather than squash the rest.
    ax_eff.set_ylim(0, max(1.2, min(2.0, 1.1 * max(eff_max, default=1.0))))
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(ranks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("MPI ranks", fontsize=12)
        ax.tick_params(labelsize=11)
        ax.grid(True, which="major", alpha=0.35)
    if len(ranks) == 1:
        for ax in axes:
            ax.set_xlim(ranks[0] / 1.5, ranks[0] * 1.5)
    else:
        for ax in axes:
            ax.set_xlim(ranks[0] / 1.25, ranks[-1] * 1.25)
    # Runs with more ranks than the node has cores measure the oversubscription, not rfmseg.
    if cores and ranks.max() > cores:
        for ax in axes:
            ax.axvspan(cores * 1.15, ranks[-1] * 1.25, color="#f2d7d5", alpha=0.6, zorder=0, linewidth=0)
        ax_eff.text(cores * 1.2, ax_eff.get_ylim()[1] * 0.97, f"more ranks than\nthe {cores} cores",
                    va="top", ha="left", fontsize=10, color="#922b21")
    ax_speed.set_ylim(0, max(ideal) * 1.15 + 0.1)
    handles, labels = ax_time.get_legend_handles_labels()
    ideal_handle = ax_speed.get_legend_handles_labels()[0]
    fig.legend(handles + ideal_handle, labels + ["ideal"], loc="lower center", ncol=4, fontsize=11,
               frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(f"rfmseg {what}\n{title_extra}", fontsize=14)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return stats, median, t0, p0


def print_table(mode, median, t0, p0, group):
    ranks = median.index.to_numpy()
    ideal = ranks / p0
    total = "time_total" if "time_total" in median.columns else median.columns[0]
    t = median[total].to_numpy()
    speedup = t0[total] / t if mode == "strong" else ideal * t0[total] / t
    lines = group.groupby("ranks")["count_lines"].median()
    print(f"{mode}: ranks | lines | total s (median) | speedup | efficiency")
    for r, tt, s, e in zip(ranks, t, speedup, speedup / ideal):
        print(f"{mode}: {r:5d} | {human(lines.loc[r]):>6} | {tt:10.3f} | {s:6.2f} | {e:5.2f}")


def main():
    parser = argparse.ArgumentParser(description="Plot rfmseg scaling runs (speedup, efficiency per phase).")
    parser.add_argument("csv")
    parser.add_argument("--out-dir", default=None)
    parser.add_argument("--prefix", default="scaling")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--job", default=None, help="only this job's rows (default: the newest job)")
    which.add_argument("--all", action="store_true", help="every row of the CSV")
    args = parser.parse_args()

    frame = pd.read_csv(args.csv)
    if frame.empty:
        sys.exit(f"plot_scaling: {args.csv} has no runs")
    frame["job_id"] = frame["job_id"].astype(str)
    if not args.all:
        job = args.job if args.job is not None else frame["job_id"].iloc[-1]
        frame = frame[frame["job_id"] == str(job)]
        if frame.empty:
            sys.exit(f"plot_scaling: no runs of job {job} in {args.csv}")
    failed = frame[frame["status"] != 0]
    if not failed.empty:
        print(f"plot_scaling: leaving out {len(failed)} failed run(s)", file=sys.stderr)
    frame = frame[frame["status"] == 0]
    if frame.empty:
        sys.exit("plot_scaling: no successful runs to draw")

    out_dir = args.out_dir or os.path.dirname(os.path.abspath(args.csv))
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for mode in ("strong", "weak"):
        rows = frame[frame["mode"] == mode]
        if rows.empty:
            continue
        key = "count_lines" if mode == "strong" else "lines_per_rank"
        groups = list(rows.groupby(key))
        for value, group in groups:
            nodes = sorted(group["nodes"].unique())
            jobs = sorted(group["job_id"].unique())
            size = (f"{human(value)} lines" if mode == "strong" else f"{human(value)} lines per rank")
            if mode == "strong" and group["bytes_read"].notna().any():
                size += f" ({human(group['bytes_read'].median(), ' ')}B)"
            launcher = ", ".join(sorted(group["launcher"].dropna().astype(str).unique()))
            node_text = f"{nodes[0]}" if len(nodes) == 1 else f"{nodes[0]}-{nodes[-1]}"
            cpus, cores = "", None
            if "host_cpus" in group.columns and group["host_cpus"].notna().any():
                cores = int(group["host_cpus"].max())
                cpus = f" ({cores} cores)"
                if nodes[-1] > 1:
                    cores = None  # ranks are spread over nodes: no single-node core limit to mark
            reps = int(group.groupby("ranks").size().max())
            title = (f"{size}, {reps} run{'s' if reps > 1 else ''} per point, "
                     f"{node_text} node{'s' if nodes[-1] > 1 else ''}{cpus}, {launcher}, job {', '.join(jobs)}")
            suffix = f"-{human(value)}" if len(groups) > 1 else ""
            path = os.path.join(out_dir, f"{args.prefix}-{mode}{suffix}.png")
            _, median, t0, p0 = plot_group(group, mode, title, path, cores)
            print_table(mode, median, t0, p0, group)
            written.append(path)
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
