#!/usr/bin/python3
"""Draw an rfmseg result file (HDF5) as PNGs.

    scripts/plot_results.py RESULT.h5 [--out DIR] [--sample 5000] [--seed 0]

Writes into DIR (default: <result-stem>-plots/ next to the result) and prints each path:
  elbow.png          SSE against k from /selection with the chosen k marked, the silhouette
                     curve, and Calinski-Harabasz / Davies-Bouldin panels (skipped with a note
                     when the run had no --k-range sweep)
  clusters.png       the standardized features (what K-means clustered) as three pairwise
                     scatters R-F, R-M, F-M of a seeded random sample of --sample customers,
                     coloured by cluster, centroids marked
  distributions.png  raw recency / frequency / monetary (top) against the transformed and
                     scaled features (bottom), with the transform kind and lambda
  segments.png       customers per K-means cluster with the revenue share annotated, and, when
                     the file has /segments, the classic RFM segments the same way

Uses Debian's python3 (python3-matplotlib, python3-h5py, python3-numpy); no display needed.
"""
import argparse
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

DPI = 110
FEATURES = ("recency", "frequency", "monetary")
SHORT = ("R", "F", "M")
UNITS = ("days since last purchase", "purchases", "total spend")


def text(value):
    """HDF5 strings come back as bytes, numpy.bytes_ or str: always return str."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    return str(value)


def texts(dataset):
    return [text(v) for v in dataset[()]]


def cluster_colors(k):
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    return [cmap(i % cmap.N) for i in range(k)]


def note(msg):
    print(f"note: {msg}")


def save(fig, out_dir, name):
    path = os.path.join(out_dir, name)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(path)
    return path


# ---------------------------------------------------------------------------------------------
# elbow.png


def plot_elbow(f, out_dir):
    if "selection" not in f or "k" not in f["selection"] or "sse" not in f["selection"]:
        note("no /selection in the result (run without --k-range): elbow.png skipped")
        return None
    sel = f["selection"]
    ks = sel["k"][()].astype(int)
    sse = sel["sse"][()].astype(float)
    chosen = int(sel.attrs["chosen_k"]) if "chosen_k" in sel.attrs else None
    rule = text(sel.attrs["rule"]) if "rule" in sel.attrs else "?"
    if chosen is None and "model/k" in f:
        chosen = int(f["model/k"][()])

    def series(name):
        return sel[name][()].astype(float) if name in sel else None

    sil, ch, db = series("silhouette"), series("calinski_harabasz"), series("davies_bouldin")

    fig = plt.figure(figsize=(12, 8.5))
    gs = fig.add_gridspec(2, 2, height_ratios=[1.35, 1])
    ax_sse = fig.add_subplot(gs[0, 0])
    ax_sil = fig.add_subplot(gs[0, 1])
    ax_ch = fig.add_subplot(gs[1, 0])
    ax_db = fig.add_subplot(gs[1, 1])

    def mark(ax, values=None):
        if chosen is None or chosen not in ks:
            return
        ax.axvline(chosen, color="tab:red", ls="--", lw=1, zorder=0)
        if values is not None:
            v = values[list(ks).index(chosen)]
            if np.isfinite(v):
                ax.plot([chosen], [v], "o", ms=11, mfc="none", mec="tab:red", mew=2, zorder=3)

    def finish(ax, title, ylabel):
        ax.set_title(title)
        ax.set_xlabel("k (clusters)")
        ax.set_ylabel(ylabel)
        ax.set_xticks(ks)
        ax.grid(alpha=0.3)

    ax_sse.plot(ks, sse, "o-", color="tab:blue")
    mark(ax_sse, sse)
    for kk, v in zip(ks, sse):
        ax_sse.annotate(f"{v:,.0f}", (kk, v), textcoords="offset points", xytext=(6, 4),
                        fontsize=7, color="0.35")
    finish(ax_sse, "SSE (inertia) — elbow curve", "SSE (within-cluster sum of squares)")
    if chosen is not None:
        ax_sse.legend(handles=[Line2D([], [], color="tab:red", ls="--", marker="o", mfc="none",
                                      label=f"chosen k = {chosen} (rule: {rule})")],
                      loc="upper right")

    def metric(ax, values, title, ylabel, best):
        if values is None:
            ax.text(0.5, 0.5, "not in result", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            ax.set_title(title)
            return
        ax.plot(ks, values, "o-", color="tab:green" if best == "max" else "tab:purple")
        mark(ax, values)
        finite = np.isfinite(values)
        if finite.any():
            i = int(np.nanargmax(values) if best == "max" else np.nanargmin(values))
            ax.plot([ks[i]], [values[i]], "*", ms=14, color="gold", mec="black", zorder=4,
                    label=f"best: k = {ks[i]} ({values[i]:.4g})")
            ax.legend(loc="best", fontsize=8)
        finish(ax, title, ylabel)

    sample = ""
    if "model/silhouette_sample" in f:
        n = int(f["model/silhouette_sample"][()])
        sample = f" (sample of {n:,})" if n > 0 else " (exact)"
    metric(ax_sil, sil, f"Silhouette{sample} — higher is better", "mean silhouette", "max")
    metric(ax_ch, ch, "Calinski-Harabasz — higher is better", "CH index", "max")
    metric(ax_db, db, "Davies-Bouldin — lower is better", "DB index", "min")
    if sil is not None and np.isnan(sil).any():
        missing = ", ".join(str(k) for k in ks[np.isnan(sil)])
        ax_sil.text(0.02, 0.02, f"undefined for k = {missing}", transform=ax_sil.transAxes,
                    fontsize=8, color="0.4")

    fig.suptitle(f"Choosing k: sweep k = {ks.min()}..{ks.max()}, chosen k = {chosen} "
                 f"by {rule}", fontsize=13)
    fig.tight_layout()
    return save(fig, out_dir, "elbow.png")


# ---------------------------------------------------------------------------------------------
# clusters.png


def model_labels(f, k):
    if "model/cluster_label" in f:
        return texts(f["model/cluster_label"])
    return [f"cluster {i}" for i in range(k)]


def plot_clusters(f, out_dir, sample, seed):
    for need in ("customers/features", "customers/cluster"):
        if need not in f:
            note(f"no /{need} in the result: clusters.png skipped")
            return None
    feats = f["customers/features"][()]
    cluster = f["customers/cluster"][()].astype(int)
    n = len(cluster)
    cents = f["model/centroids"][()] if "model/centroids" in f else None
    k = cents.shape[0] if cents is not None else int(cluster.max()) + 1
    labels = model_labels(f, k)
    sizes = (f["model/cluster_size"][()] if "model/cluster_size" in f
             else np.bincount(cluster, minlength=k))
    colors = cluster_colors(k)

    rng = np.random.default_rng(seed)
    m = min(sample, n) if sample > 0 else n
    idx = rng.choice(n, size=m, replace=False) if m < n else rng.permutation(n)
    # drawn in random order so that no cluster is painted wholly over another
    x, c = feats[idx], cluster[idx]
    point_colors = np.array(colors)[c]

    fig, axes = plt.subplots(1, 3, figsize=(16, 6.2))
    pairs = ((0, 1), (0, 2), (1, 2))
    size = 6 if m > 2000 else 14
    for ax, (a, b) in zip(axes, pairs):
        ax.scatter(x[:, a], x[:, b], c=point_colors, s=size, alpha=0.45, linewidths=0,
                   rasterized=True)
        if cents is not None:
            ax.scatter(cents[:, a], cents[:, b], c=colors, s=260, marker="X",
                       edgecolors="black", linewidths=1.5, zorder=5)
            for j in range(k):
                ax.annotate(str(j), (cents[j, a], cents[j, b]), textcoords="offset points",
                            xytext=(9, 7), fontsize=10, fontweight="bold",
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none",
                                      alpha=0.8))
        ax.set_xlabel(f"{SHORT[a]} ({FEATURES[a]}), transformed + scaled")
        ax.set_ylabel(f"{SHORT[b]} ({FEATURES[b]}), transformed + scaled")
        ax.set_title(f"{SHORT[a]} vs {SHORT[b]}")
        ax.grid(alpha=0.3)

    handles = [Patch(color=colors[j], label=f"{j}: {labels[j]} (n = {int(sizes[j]):,})")
               for j in range(k)]
    if cents is not None:
        handles.append(Line2D([], [], marker="X", ls="none", mfc="white", mec="black", ms=11,
                              label="centroid"))
    ncol = min(len(handles), 5)
    fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    shown = f"random sample of {m:,} of {n:,} customers (seed {seed})" if m < n else \
        f"all {n:,} customers"
    fig.suptitle(f"K-means clusters (k = {k}) in feature space — {shown}; "
                 f"high R = long since last purchase", fontsize=12)
    rows = -(-len(handles) // ncol)
    fig.tight_layout(rect=(0, 0.045 * rows + 0.01, 1, 1))
    return save(fig, out_dir, "clusters.png")


# ---------------------------------------------------------------------------------------------
# distributions.png


def transform_titles(f):
    """Per feature: 'boxcox λ=0.308' etc. from /model/transform."""
    out = ["transformed"] * 3
    if "model/transform" not in f:
        return out
    t = f["model/transform"]
    lam = t["lambda"][()] if "lambda" in t else None
    shift = t["shift"][()] if "shift" in t else None
    scaler = text(t.attrs["scaler"]) if "scaler" in t.attrs else "scaled"
    for j, name in enumerate(FEATURES):
        kind = text(t.attrs.get(f"kind_{name}", "?"))
        s = kind
        if lam is not None and kind in ("boxcox", "yeojohnson"):
            s += f", λ = {lam[j]:.4g}"
        if shift is not None and shift[j] != 0:
            s += f", shift {shift[j]:+.4g}"
        out[j] = f"{s}; {scaler} scaler"
    return out


def skewness(x):
    sd = x.std()
    return float(((x - x.mean()) ** 3).mean() / sd ** 3) if sd > 0 else 0.0


def num(v):
    """Compact number for titles: 311.2, 1,466, 73,920."""
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def plot_distributions(f, out_dir):
    raw = []
    for name in FEATURES:
        if f"customers/{name}" not in f:
            note(f"no /customers/{name} in the result: distributions.png skipped")
            return None
        raw.append(f[f"customers/{name}"][()])
    if "customers/features" not in f:
        note("no /customers/features in the result: distributions.png skipped")
        return None
    feats = f["customers/features"][()]
    titles = transform_titles(f)
    n = len(raw[0])
    units = list(UNITS)
    if "run" in f and "frequency" in f["run"].attrs:  # what was counted as a purchase
        units[1] = f"{text(f['run'].attrs['frequency'])} per customer"
    raw_skew = [skewness(r.astype(float)) for r in raw]

    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    for j in range(3):
        v = raw[j].astype(float)
        ax = axes[0, j]
        lo, hi = float(v.min()), float(v.max())
        q_lo, q_hi = (float(q) for q in np.percentile(v, [1, 99]))
        # a long tail squeezes the bulk into one bar: cut that side at its percentile
        cut_lo = (q_lo - lo) > 0.5 * (q_hi - q_lo)
        cut_hi = (hi - q_hi) > 0.5 * (q_hi - q_lo)
        left, right = (q_lo if cut_lo else lo), (q_hi if cut_hi else hi)
        shown = v[(v >= left) & (v <= right)]
        if np.issubdtype(raw[j].dtype, np.integer) and right - left <= 120:
            ax.hist(shown, bins=np.arange(np.floor(left), np.ceil(right) + 2) - 0.5,
                    color="tab:blue", alpha=0.8)
        else:
            ax.hist(shown, bins=60, range=(left, right) if right > left else None,
                    color="tab:blue", alpha=0.8)
        lines = [f"raw {SHORT[j]}: {FEATURES[j]} — median {num(np.median(v))}, "
                 f"mean {num(v.mean())}, max {num(hi)}"]
        notes = []
        if cut_lo:
            notes.append(f"{int((v < left).sum()):,} below the 1st pct.")
        if cut_hi:
            notes.append(f"{int((v > right).sum()):,} above the 99th pct.")
        if notes:
            lines.append("x axis cut, not shown: " + ", ".join(notes))
        if j == 2:
            nonpos = int((v <= 0).sum())
            if nonpos:
                lines.append(f"{nonpos:,} customers with monetary ≤ 0 (min {num(lo)})")
        ax.set_title("\n".join(lines), fontsize=10)
        ax.set_xlabel(units[j])
        ax.set_ylabel("customers")
        ax.grid(alpha=0.3)

        ax = axes[1, j]
        x = feats[:, j]
        ax.hist(x, bins=60, color="tab:orange", alpha=0.85)
        skew = skewness(x)
        ax.set_title(f"transformed {SHORT[j]}: {titles[j]}\n"
                     f"mean {round(float(x.mean()), 2) + 0.0:.2f}, sd {x.std():.2f}, skewness {skew:.2f} "
                     f"(raw: {raw_skew[j]:.2f})", fontsize=10)
        ax.set_xlabel(f"{SHORT[j]} feature (what K-means sees)")
        ax.set_ylabel("customers")
        ax.grid(alpha=0.3)
    fig.suptitle(f"R, F, M before (top) and after (bottom) transform + scaling — "
                 f"{n:,} customers", fontsize=13)
    fig.tight_layout()
    return save(fig, out_dir, "distributions.png")


# ---------------------------------------------------------------------------------------------
# segments.png


def bar_panel(ax, names, counts, rev, colors, title, horizontal):
    total = counts.sum()
    pos = np.arange(len(names))
    if horizontal:
        ax.barh(pos, counts, color=colors)
        ax.set_yticks(pos)
        ax.set_yticklabels(names)
        ax.invert_yaxis()
        ax.set_xlabel("customers")
        ax.set_xlim(0, counts.max() * 1.45 if counts.max() > 0 else 1)
    else:
        ax.bar(pos, counts, color=colors)
        ax.set_xticks(pos)
        ax.set_xticklabels(names, fontsize=9)
        ax.set_ylabel("customers")
        ax.set_ylim(0, counts.max() * 1.25 if counts.max() > 0 else 1)
    for i, cnt in enumerate(counts):
        share = cnt / total if total else 0.0
        s = f"{int(cnt):,} ({share:.1%})"
        if rev is not None:
            s += f"\nrevenue {rev[i]:.1%}"
        if horizontal:
            ax.annotate(s, (cnt, i), textcoords="offset points", xytext=(5, 0), va="center",
                        fontsize=9)
        else:
            ax.annotate(s, (i, cnt), textcoords="offset points", xytext=(0, 4), ha="center",
                        va="bottom", fontsize=9)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x" if horizontal else "y")


def plot_segments(f, out_dir):
    if "model/cluster_size" not in f:
        note("no /model/cluster_size in the result: segments.png skipped")
        return None
    sizes = f["model/cluster_size"][()].astype(np.int64)
    k = len(sizes)
    labels = model_labels(f, k)
    rev = (f["model/profile/revenue_share"][()] if "model/profile/revenue_share" in f
           else None)

    seg = None
    if "segments/name" in f and "segments/count" in f:
        seg = (texts(f["segments/name"]), f["segments/count"][()].astype(np.int64),
               f["segments/revenue_share"][()] if "segments/revenue_share" in f else None)
    else:
        note("no /segments/name and /segments/count in the result: RFM segment panel skipped")

    if seg is None:
        fig, axes = plt.subplots(1, 1, figsize=(max(8, 1.15 * k + 3), 6))
        axes = [axes]
    else:
        fig, axes = plt.subplots(1, 2, figsize=(max(16, 1.15 * k + 10), 6.5),
                                 gridspec_kw={"width_ratios": [max(k, 3), 5]})
    names = [f"{j}\n{lab}".replace(", ", ",\n") for j, lab in enumerate(labels)]
    bar_panel(axes[0], names, sizes, rev, cluster_colors(k),
              f"K-means clusters (k = {k}): customers, share and revenue share", False)
    axes[0].set_xlabel("cluster (ordered by mean monetary, descending)")

    if seg is not None:
        sn, sc, sr = seg
        cmap = plt.get_cmap("tab20c")
        bar_panel(axes[1], sn, sc, sr, [cmap(i % cmap.N) for i in range(len(sn))],
                  f"classic RFM segments ({len(sn)})", True)
    fig.suptitle(f"Segment sizes — {int(sizes.sum()):,} customers", fontsize=13)
    fig.tight_layout()
    return save(fig, out_dir, "segments.png")


# ---------------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 3)[3])
    ap.add_argument("result", help="rfmseg result file (HDF5)")
    ap.add_argument("--out", metavar="DIR",
                    help="output directory (default: <result-stem>-plots/ next to the result)")
    ap.add_argument("--sample", type=int, default=5000,
                    help="customers drawn in clusters.png (default 5000; 0 = all)")
    ap.add_argument("--seed", type=int, default=0, help="seed of that sample (default 0)")
    args = ap.parse_args(argv)
    if args.sample < 0:
        ap.error("--sample must be >= 0")

    if not os.path.isfile(args.result):
        print(f"plot_results.py: no such file: {args.result}", file=sys.stderr)
        return 2
    out_dir = args.out
    if out_dir is None:
        stem = os.path.splitext(os.path.basename(args.result))[0]
        out_dir = os.path.join(os.path.dirname(os.path.abspath(args.result)), f"{stem}-plots")
    os.makedirs(out_dir, exist_ok=True)

    try:
        f = h5py.File(args.result, "r")
    except OSError as e:
        print(f"plot_results.py: cannot open {args.result} as HDF5: {e}", file=sys.stderr)
        return 2
    with f:
        written = [plot_elbow(f, out_dir), plot_clusters(f, out_dir, args.sample, args.seed),
                   plot_distributions(f, out_dir), plot_segments(f, out_dir)]
    return 0 if any(written) else 1


if __name__ == "__main__":
    sys.exit(main())
