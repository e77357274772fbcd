"""Independent checks of a result written with --previous against the previous result.

    nightly_check.py migration PREVIOUS.h5 CURRENT.h5
    nightly_check.py warm PREVIOUS.h5 CURRENT.h5   (CURRENT written with --n-init 0)
    nightly_check.py exports DIR CURRENT.h5         (--export DIR of a run with --previous)
    nightly_check.py moves TRUTH.csv CURRENT.h5     (rfmseg-gen --night 2 --truth: known movements)

Recomputes with pandas / numpy / scipy / scikit-learn, from the two /customers tables alone:
/customers/previous_cluster and previous_segment (a join on customer_id), /migration/clusters and
segments with their revenue twins, stayed / new / gone / changed_*, the ARI, that the cluster ids
maximise the overlap (scipy's linear_sum_assignment), the fates (the documented thresholds), and
/drift (deciles, shares, PSI, means). Prints one line; exits 1 with the differences.
"""
import math
import sys

import h5py
import numpy as np
import pandas as pd

from score_check import transform  # the transforms as scipy computes them

problems = []


def expect(cond, what):
    if not cond:
        problems.append(what)


def table(path):
    with h5py.File(path, "r") as f:
        c = f["customers"]
        df = pd.DataFrame({name: c[name][...] for name in ("recency", "frequency", "monetary", "cluster", "segment")},
                          index=c["customer_id"].asstr()[...])
        model = {"cluster_id": f["model/cluster_id"][...] if "model/cluster_id" in f else np.arange(f["model/k"][()]),
                 "k": int(f["model/k"][()]),
                 "label": f["model/cluster_label"].asstr()[...],
                 "size": f["model/cluster_size"][...]}
        extra = {}
        if "migration" in f:
            for name in f["migration"]:
                extra["migration/" + name] = f["migration/" + name][...]
            for name in f["drift"]:
                extra["drift/" + name] = f["drift/" + name][...]
            extra["attrs"] = dict(f["migration"].attrs)
            df["previous_cluster"] = c["previous_cluster"][...]
            df["previous_segment"] = c["previous_segment"][...]
    return df, model, extra


def close(a, b, rel=1e-12):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=rel, atol=1e-9)


def migration(prev_path, cur_path):
    from scipy.optimize import linear_sum_assignment
    from sklearn.metrics import adjusted_rand_score

    prev, pm, _ = table(prev_path)
    cur, cm, x = table(cur_path)
    kp, k = pm["k"], cm["k"]
    attrs = x["attrs"]
    both = cur.join(prev, how="inner", rsuffix="_prev")
    new = cur.index.difference(prev.index)
    gone = prev.loc[prev.index.difference(cur.index)]

    # the join
    expected_pc = prev["cluster"].reindex(cur.index).fillna(-1).astype(int).to_numpy()
    expected_ps = prev["segment"].reindex(cur.index).fillna(-1).astype(int).to_numpy()
    expect(np.array_equal(cur["previous_cluster"].to_numpy(), expected_pc), "customers/previous_cluster != join")
    expect(np.array_equal(cur["previous_segment"].to_numpy(), expected_ps), "customers/previous_segment != join")

    # cluster migration table and revenue
    counts = np.zeros((kp + 1, k + 1), dtype=np.int64)
    revenue = np.zeros((kp + 1, k + 1))
    rows = np.where(expected_pc < 0, kp, expected_pc)
    np.add.at(counts, (rows, cur["cluster"].to_numpy()), 1)
    exact = {}
    for r, c, m in zip(rows, cur["cluster"].to_numpy(), cur["monetary"].to_numpy()):
        exact.setdefault((r, c), []).append(m)
    np.add.at(counts, (gone["cluster"].to_numpy(), np.full(len(gone), k)), 1)
    for r, m in zip(gone["cluster"].to_numpy(), gone["monetary"].to_numpy()):
        exact.setdefault((r, k), []).append(m)
    for (r, c), values in exact.items():
        revenue[r, c] = math.fsum(values)
    expect(np.array_equal(x["migration/clusters"], counts), f"migration/clusters\n{x['migration/clusters']}\n!= pandas\n{counts}")
    expect(close(x["migration/clusters_revenue"], revenue), "migration/clusters_revenue != pandas (fsum)")

    # segment migration table
    seg_counts = np.zeros((9, 9), dtype=np.int64)
    seg_rows = np.where(expected_ps < 0, 8, expected_ps)
    np.add.at(seg_counts, (seg_rows, cur["segment"].to_numpy()), 1)
    np.add.at(seg_counts, (gone["segment"].to_numpy(), np.full(len(gone), 8)), 1)
    expect(np.array_equal(x["migration/segments"], seg_counts), "migration/segments != pandas")
    seg_revenue = np.zeros((9, 9))
    np.add.at(seg_revenue, (seg_rows, cur["segment"].to_numpy()), cur["monetary"].to_numpy())
    np.add.at(seg_revenue, (gone["segment"].to_numpy(), np.full(len(gone), 8)), gone["monetary"].to_numpy())
    expect(close(x["migration/segments_revenue"], seg_revenue, 1e-9), "migration/segments_revenue != pandas")

    # counts
    prev_id = pm["cluster_id"][both["cluster_prev"].to_numpy()]
    cur_id = cm["cluster_id"][both["cluster"].to_numpy()]
    want = {"stayed": len(both), "new": len(new), "gone": len(gone),
            "changed_cluster": int((prev_id != cur_id).sum()),
            "changed_segment": int((both["segment"] != both["segment_prev"]).sum()),
            "previous_k": kp}
    for name, value in want.items():
        expect(int(attrs[name]) == value, f"/migration {name} = {attrs[name]}, pandas says {value}")
    ari = adjusted_rand_score(both["cluster_prev"], both["cluster"]) if len(both) else 1.0
    expect(abs(float(attrs["ari"]) - ari) < 1e-12, f"ari {attrs['ari']} != sklearn {ari}")

    # ids: the assignment maximises the overlap (scipy), ids ascending, new ids above the previous
    common = counts[:kp, :k]
    r, c = linear_sum_assignment(common, maximize=True)
    best = int(common[r, c].sum())
    ours = 0
    index_of_prev_id = {int(i): row for row, i in enumerate(pm["cluster_id"])}
    for j, cid in enumerate(cm["cluster_id"]):
        if int(cid) in index_of_prev_id:
            ours += int(common[index_of_prev_id[int(cid)], j])
        else:
            expect(cid > pm["cluster_id"].max(), f"cluster {j}: new id {cid} not above the previous ids")
    expect(ours == best, f"id assignment overlap {ours} < optimum {best} (scipy)")
    expect(np.all(np.diff(cm["cluster_id"]) > 0), "model/cluster_id not strictly ascending")
    expect(sum(int(i) in index_of_prev_id for i in cm["cluster_id"]) == min(k, kp), "not min(k, k_prev) partners")
    for j, cid in enumerate(cm["cluster_id"]):
        if int(cid) in index_of_prev_id:
            expect(cm["label"][j] == pm["label"][index_of_prev_id[int(cid)]], f"cluster {j}: label not the previous one")

    # fates
    fates = x["migration/fate"].astype(str)
    for i in range(kp):
        size = common[i].sum()
        if size == 0:
            fate, target = "disappeared", -1
        else:
            best_j = int(np.argmax(common[i]))
            if 2 * common[i, best_j] >= size:
                shared = any(o != i and common[o].sum() > 0 and 2 * common[o, best_j] >= common[o].sum()
                             for o in range(kp))
                fate, target = ("absorbed" if shared else "survived"), best_j
            else:
                parts = [j for j in range(k) if 4 * common[i, j] >= size]
                fate = "split" if len(parts) >= 2 and 2 * common[i, parts].sum() >= size else "disappeared"
                target = -1
        expect(fates[i] == fate and int(x["migration/fate_cluster"][i]) == target,
               f"previous cluster {i}: fate {fates[i]}/{x['migration/fate_cluster'][i]}, expected {fate}/{target}")

    # drift
    psi = []
    for d, name in enumerate(("recency", "frequency", "monetary")):
        values = np.sort(prev[name].to_numpy().astype(float))
        n = len(values)
        edges = np.array([values[max(1, -(-q * n // 10)) - 1] for q in range(1, 10)])
        expect(np.array_equal(x["drift/decile_edges"][:, d], edges), f"drift/decile_edges {name}")
        p = np.bincount(np.searchsorted(edges, prev[name].to_numpy().astype(float), side="left"), minlength=10) / n
        q = np.bincount(np.searchsorted(edges, cur[name].to_numpy().astype(float), side="left"), minlength=10) / len(cur)
        expect(close(x["drift/previous_share"][:, d], p), f"drift/previous_share {name}")
        expect(close(x["drift/share"][:, d], q), f"drift/share {name}")
        pf, qf = np.maximum(p, 1e-4), np.maximum(q, 1e-4)
        psi.append(float(np.sum((qf - pf) * np.log(qf / pf))))
        expect(abs(x["drift/previous_mean"][d] - prev[name].mean()) <= 1e-9 * max(1, abs(prev[name].mean())),
               f"drift/previous_mean {name}")
        expect(abs(x["drift/mean"][d] - cur[name].mean()) <= 1e-9 * max(1, abs(cur[name].mean())), f"drift/mean {name}")
    expect(close(x["drift/psi"], psi, 1e-9), f"drift/psi {x['drift/psi']} != numpy {psi}")
    expect(np.array_equal(x["drift/previous_cluster_size"], pm["size"]), "drift/previous_cluster_size")

    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"stayed {len(both)}, new {len(new)}, gone {len(gone)}, ari {ari:.4f}, overlap {ours} = optimum, "
          f"psi {', '.join(f'{v:.4f}' for v in psi)}")


def warm(prev_path, cur_path):
    """The warm start's centroids: tonight's customers grouped by the previous model, the groups'
    means of tonight's features (= /model/init_centroids of a --n-init 0 run, in some order)."""
    with h5py.File(prev_path, "r") as f:
        t = f["model/transform"]
        kinds = t.attrs["kinds"].decode().split(",")
        lam, shift, center, scale = (t[n][...] for n in ("lambda", "shift", "center", "scale"))
        cents = f["model/centroids"][...]
    with h5py.File(cur_path, "r") as f:
        c = f["customers"]
        raw = np.stack([c["recency"][...].astype(float), c["frequency"][...].astype(float), c["monetary"][...]], 1)
        feats = c["features"][...]
        init = f["model/init_centroids"][...]
        expect(f["migration"].attrs["warm_start"].decode().startswith("used alone"), "warm_start attribute")
    old = np.stack([(transform(kinds[d], raw[:, d] + shift[d], lam[d]) - center[d]) / scale[d] for d in range(3)], 1)
    dist = ((old[:, None, :] - cents[None, :, :]) ** 2).sum(2)
    groups = dist.argmin(1)
    gap = np.sort(dist, 1)
    ambiguous = int((gap[:, 1] - gap[:, 0] < 1e-9).sum()) if cents.shape[0] > 1 else 0
    means = np.array([feats[groups == j].mean(0) if (groups == j).any() else cents[j] for j in range(len(cents))])
    a = means[np.lexsort(means.T[::-1])]
    b = init[np.lexsort(init.T[::-1])]
    expect(a.shape == b.shape and np.allclose(a, b, rtol=1e-9, atol=1e-9),
           f"warm start centroids\n{b}\n!= numpy\n{a} ({ambiguous} customers near a tie)")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"warm start centroids = numpy group means ({len(raw)} customers, {ambiguous} near a tie)")


def exports(directory, cur_path):
    """migration_clusters.csv and migration_segments.csv read with pandas = /migration."""
    with h5py.File(cur_path, "r") as f:
        counts, revenue = f["migration/clusters"][...], f["migration/clusters_revenue"][...]
        seg_counts, seg_revenue = f["migration/segments"][...], f["migration/segments_revenue"][...]
        prev_ids, ids = f["migration/previous_cluster_id"][...], f["model/cluster_id"][...]
        names = list(f["segments/name"].asstr()[...])
    flows = pd.read_csv(f"{directory}/migration_clusters.csv", float_precision="round_trip")
    expected = []
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                expected.append((None if i == len(prev_ids) else int(prev_ids[i]),
                                 None if j == len(ids) else int(ids[j]), int(counts[i, j]), revenue[i, j]))
    got = [(None if pd.isna(r.previous_cluster) else int(r.previous_cluster),
            None if pd.isna(r.cluster) else int(r.cluster), int(r.customers), float(r.revenue))
           for r in flows.itertuples()]
    expect(got == expected, f"migration_clusters.csv\n{got}\n!= /migration/clusters\n{expected}")
    expect(set(flows.loc[flows.previous_cluster.isna(), "previous_label"]) <= {"new"}, "new rows not labelled new")
    expect(set(flows.loc[flows.cluster.isna(), "label"]) <= {"gone"}, "gone rows not labelled gone")
    seg = pd.read_csv(f"{directory}/migration_segments.csv", float_precision="round_trip")
    labels = names + ["new"]
    gone_labels = names + ["gone"]
    expected = [(labels[i], gone_labels[j], int(seg_counts[i, j]), seg_revenue[i, j])
                for i in range(9) for j in range(9) if seg_counts[i, j]]
    got = [(r.previous_segment, r.segment, int(r.customers), float(r.revenue)) for r in seg.itertuples()]
    expect(got == expected, "migration_segments.csv != /migration/segments")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"exports: {len(flows)} cluster flows, {len(seg)} segment flows = /migration (doubles bit for bit)")


def moves(truth_path, cur_path):
    """The generator's churned customers that came back (truth: night_1 churned, night_2 loyal) change
    cluster and segment far more often than those that stayed churned."""
    truth = pd.read_csv(truth_path, dtype={"customer_id": str}).set_index("customer_id")
    with h5py.File(cur_path, "r") as f:
        c = f["customers"]
        df = pd.DataFrame({"cluster": c["cluster"][...], "prev": c["previous_cluster"][...],
                           "segment": c["segment"][...], "prev_segment": c["previous_segment"][...]},
                          index=c["customer_id"].asstr()[...])
        prev_ids, ids = f["migration/previous_cluster_id"][...], f["model/cluster_id"][...]
    df = df[df.prev >= 0].join(truth, how="inner")
    df["changed"] = prev_ids[df.prev] != ids[df.cluster]
    df["changed_segment"] = df.segment != df.prev_segment
    back = df[(df.night_1 == "churned") & (df.night_2 == "loyal")]
    stayed = df[(df.night_1 == "churned") & (df.night_2 == "churned")]
    expect(len(back) >= 30 and len(stayed) >= 30, f"too few moved ({len(back)}) or staying ({len(stayed)}) customers")
    for column in ("changed", "changed_segment"):
        a, b = back[column].mean(), stayed[column].mean()
        expect(a >= 0.5 and a > 3 * b, f"{column}: {a:.2f} of the comebacks vs {b:.2f} of the staying churned")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    print(f"comebacks changed cluster {back.changed.mean():.2f} / segment {back.changed_segment.mean():.2f} "
          f"({len(back)}), staying churned {stayed.changed.mean():.2f} / {stayed.changed_segment.mean():.2f} "
          f"({len(stayed)})")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "migration":
        migration(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "moves":
        moves(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "exports":
        exports(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "warm":
        warm(sys.argv[2], sys.argv[3])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
