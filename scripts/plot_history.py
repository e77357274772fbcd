#!/usr/bin/env python3
"""Draw the nightly history of jobs/segment.sbatch (OUTDIR/history.csv) as one PNG.

    scripts/plot_history.py OUTDIR/history.csv [--out PNG] [--result RESULT.h5]

Four panels:
  cluster sizes over nights   one line per stable cluster id (column cluster_sizes, "id:count;..."),
                              named with its latest label (cluster_labels);
  segment sizes over nights   one line per classic segment (the segment_* columns);
  migration of the last night /migration/clusters of the last row's result (--result overrides):
                              customers from each previous cluster (rows, + new) to tonight's
                              clusters (columns, + gone), as a heat map with the counts; empty
                              when that night had no previous result;
  PSI per feature over nights psi_recency, psi_frequency, psi_monetary, with the usual 0.1
                              (moderate) and 0.25 (major shift) lines.
Default PNG: history.png next to the CSV. A night without a previous result has empty migration
and PSI fields: it is simply not drawn in those panels.

Needs matplotlib and pandas (h5py for the migration panel, which is left out without it):
Debian's python3 (/usr/bin/python3) is used when the running one lacks them, and
python3-matplotlib python3-pandas are installed when missing (apt-get, with sudo when not root;
RFMSEG_NO_INSTALL=1 turns that off).
"""
import os
import sys

from plot_deps import ensure_modules

ensure_modules(__file__, skip_on_help=True)

import argparse  # noqa: E402


def pairs(field):
    """'id:value;id:value' -> {id: value} (empty for a missing field)."""
    if not isinstance(field, str) or not field:
        return {}
    out = {}
    for item in field.split(";"):
        key, _, value = item.partition(":")
        out[int(key)] = value
    return out


def read_history(path):
    import pandas as pd  # noqa: PLC0415

    history = pd.read_csv(path, keep_default_na=True)
    if history.empty:
        sys.exit(f"plot_history: {path} has no rows")
    history["date"] = pd.to_datetime(history["date"])
    return history.sort_values("date", kind="stable").reset_index(drop=True)


def cluster_table(history):
    """Cluster sizes per night (columns = stable cluster ids) and each id's latest label."""
    import pandas as pd  # noqa: PLC0415

    sizes = pd.DataFrame([{k: int(v) for k, v in pairs(f).items()} for f in history["cluster_sizes"]],
                         index=history["date"])
    labels = {}
    for field in history.get("cluster_labels", []):
        labels.update(pairs(field))
    return sizes.reindex(sorted(sizes.columns), axis=1), labels


def migration_of(result):
    """(counts, row names, column names) of a result's /migration/clusters, or None."""
    try:
        import h5py  # noqa: PLC0415
    except ImportError:
        print("plot_history: no h5py: the migration panel is left out", file=sys.stderr)
        return None
    with h5py.File(result, "r") as f:
        if "migration/clusters" not in f:
            return None
        counts = f["migration/clusters"][...]
        prev_ids = f["migration/previous_cluster_id"][...]
        prev_labels = f["migration/previous_cluster_label"].asstr()[...]
        ids = f["model/cluster_id"][...]
        labels = f["model/cluster_label"].asstr()[...]
        previous = f["migration"].attrs.get("previous_snapshot", b"")
        previous = previous.decode() if isinstance(previous, bytes) else str(previous)
    rows = [f"{i} {label}" for i, label in zip(prev_ids, prev_labels)] + ["new"]
    cols = [f"{i} {label}" for i, label in zip(ids, labels)] + ["gone"]
    return counts, rows, cols, previous


def main():
    parser = argparse.ArgumentParser(
        description="Draw OUTDIR/history.csv of the nightly job (cluster and segment sizes, the last "
                    "night's migration, PSI) as one PNG.",
        epilog="The columns are those of `rfmseg summary --csv` (see README, \"Nightly history\").")
    parser.add_argument("history", help="the history.csv the nightly job writes")
    parser.add_argument("--out", help="PNG to write (default: history.png next to the CSV)")
    parser.add_argument("--result", help="result whose /migration/clusters is drawn (default: the last row's "
                                         "result, relative to the CSV's directory)")
    args = parser.parse_args()

    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    history = read_history(args.history)
    folder = os.path.dirname(os.path.abspath(args.history))
    out = args.out or os.path.join(folder, "history.png")
    result = args.result
    if result is None:
        last = str(history["result"].iloc[-1])
        result = last if os.path.isabs(last) else os.path.join(folder, last)

    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    axes[0, 1].sharex(axes[0, 0])
    fig.suptitle(f"rfmseg nightly history: {len(history)} night(s), "
                 f"{history['date'].iloc[0]:%Y-%m-%d} .. {history['date'].iloc[-1]:%Y-%m-%d}")
    dates = history["date"]

    ax = axes[0, 0]
    sizes, labels = cluster_table(history)
    for cid in sizes.columns:
        ax.plot(sizes.index, sizes[cid], marker="o", label=f"{cid} {labels.get(cid, '')}")
    ax.set_title("customers per cluster (stable ids)")
    ax.set_ylabel("customers")
    ax.legend(fontsize="small")

    ax = axes[0, 1]
    for column in [c for c in history.columns if c.startswith("segment_")]:
        ax.plot(dates, history[column], marker="o", label=column[len("segment_"):].replace("_", " "))
    ax.set_title("customers per classic RFM segment")
    ax.set_ylabel("customers")
    ax.legend(fontsize="small", ncol=2)

    ax = axes[1, 0]
    migration = migration_of(result) if os.path.exists(result) else None
    if migration is None:
        ax.text(0.5, 0.5, f"no migration in {os.path.basename(result)}\n(no previous result that night)",
                ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    else:
        counts, rows, cols, previous = migration
        image = ax.imshow(counts, cmap="Blues", aspect="auto")
        ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize="small")
        ax.set_yticks(range(len(rows)), rows, fontsize="small")
        top = counts.max() if counts.size else 0
        for r in range(counts.shape[0]):
            for c in range(counts.shape[1]):
                ax.text(c, r, str(counts[r, c]), ha="center", va="center", fontsize="small",
                        color="white" if top and counts[r, c] > top / 2 else "black")
        ax.set_xlabel("tonight's cluster")
        ax.set_ylabel(f"previous cluster ({previous})")
        ax.set_title(f"migration of the last night: {os.path.basename(result)}")
        fig.colorbar(image, ax=ax, label="customers")

    ax = axes[1, 1]
    ax.sharex(axes[0, 0])  # the same nights as the size panels, also when only one has a PSI
    drawn = False
    for feature in ("recency", "frequency", "monetary"):
        column = f"psi_{feature}"
        if column in history and history[column].notna().any():
            ax.plot(dates, history[column], marker="o", label=feature)
            drawn = True
    ax.axhline(0.1, color="orange", linestyle="--", linewidth=1, label="0.1 moderate")
    ax.axhline(0.25, color="red", linestyle="--", linewidth=1, label="0.25 major shift")
    ax.set_title("population stability index vs the previous night" + ("" if drawn else " (no night with a previous)"))
    ax.set_ylabel("PSI")
    ax.legend(fontsize="small")

    for ax in (axes[0, 0], axes[0, 1], axes[1, 1]):
        ax.set_xlabel("snapshot date")
        ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"plot_history: {len(history)} night(s) -> {out}")


if __name__ == "__main__":
    main()
