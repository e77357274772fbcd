#!/usr/bin/python3
"""Checks of `rfmseg score` results (tests/e2e/score.sh).

  score_check.py same-customers MODEL.h5 SCORED.h5
      every /customers dataset of SCORED bit-identical to MODEL's (scoring the training input);
      /model's frozen parameters copied; /run mode = score naming the model; no /selection.
  score_check.py independent MODEL.h5 SCORED.h5
      for every scored customer: features recomputed in numpy/scipy from /customers R, F, M and the
      model's frozen transform and scaler parameters (close to the stored ones), its cluster the
      nearest model centroid (unless two centres are within rounding of each other), its scores,
      segment and high-value flag from the model's cut points, references and threshold.
Exit status 0 when every check passes, 1 otherwise.
"""

import sys

import h5py
import numpy as np
from scipy import special, stats

FROZEN = ["model/k", "model/centroids", "model/fit_index", "model/init_centroids", "model/cluster_label",
          "model/transform/lambda", "model/transform/shift", "model/transform/center", "model/transform/scale",
          "segments/score_cut_points", "segments/reference", "segments/high_value_threshold"]


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    return 1


def attr(obj, name):
    value = obj.attrs.get(name)
    return value.decode() if isinstance(value, bytes) else value


def same_bytes(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def check_frozen(model, scored):
    failures = 0
    for path in FROZEN:
        if not same_bytes(model[path][()], scored[path][()]):
            failures += fail(f"{path} differs from the model's")
    for name in ("kinds", "scaler", "grid_exponent", "features"):
        if attr(model["model/transform"], name) != attr(scored["model/transform"], name):
            failures += fail(f"/model/transform {name} differs from the model's")
    run = scored["run"]
    if attr(run, "mode") != "score":
        failures += fail(f"/run mode is {attr(run, 'mode')!r}, not 'score'")
    if attr(run, "model_snapshot_date") != attr(model["run"], "snapshot_date"):
        failures += fail("/run model_snapshot_date is not the model's snapshot_date")
    if attr(run, "model_version") != attr(model["run"], "version"):
        failures += fail("/run model_version is not the model's version")
    if "selection" in scored:
        failures += fail("a scored file has /selection")
    return failures


def same_customers(model_path, scored_path):
    failures = 0
    with h5py.File(model_path, "r") as model, h5py.File(scored_path, "r") as scored:
        names = sorted(model["customers"].keys())
        if sorted(scored["customers"].keys()) != names:
            failures += fail(f"/customers datasets differ: {sorted(scored['customers'].keys())} vs {names}")
        for name in names:
            if name in scored["customers"] and not same_bytes(model["customers"][name][()],
                                                              scored["customers"][name][()]):
                a, b = model["customers"][name][()], scored["customers"][name][()]
                where = np.nonzero(a != b)[0][:5] if a.shape == b.shape else "shape"
                failures += fail(f"/customers/{name} differs from the training result (rows {where})")
        if not same_bytes(model["model/cluster_size"][()], scored["model/cluster_size"][()]):
            failures += fail("/model/cluster_size differs from the training result's")
        failures += check_frozen(model, scored)
        if attr(model["run"], "snapshot_date") != attr(scored["run"], "snapshot_date"):
            failures += fail("snapshot_date differs (the same input should give the same snapshot)")
    return failures


def transform(kind, x, lam):
    if kind == "none":
        return x
    if kind == "log1p":
        return np.log1p(x)
    if kind == "cbrt":
        return np.cbrt(x)
    if kind == "boxcox":
        return special.boxcox(x, lam)
    if kind == "yeojohnson":
        return stats.yeojohnson(x, lmbda=lam)
    raise ValueError(kind)


def independent(model_path, scored_path):
    failures = 0
    with h5py.File(model_path, "r") as model, h5py.File(scored_path, "r") as scored:
        failures += check_frozen(model, scored)
        c = scored["customers"]
        raw = np.column_stack([c["recency"][()].astype(float), c["frequency"][()].astype(float),
                               c["monetary"][()]])
        t = model["model/transform"]
        kinds = attr(t, "kinds").split(",")
        lam, shift, center, scale = (t[name][()] for name in ("lambda", "shift", "center", "scale"))
        features = np.column_stack([transform(kinds[d], raw[:, d] + shift[d], lam[d]) for d in range(3)])
        features = (features - center) / scale
        stored = c["features"][()]
        step = 2.0 ** -int(attr(t, "grid_exponent"))
        worst = np.max(np.abs(features - stored))
        if not worst <= 1e-9 * max(1.0, np.max(np.abs(stored))) + step:
            failures += fail(f"features differ from the frozen transform and scaler by up to {worst}")
        centroids = model["model/centroids"][()]
        d2 = ((stored[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)
        order = np.sort(d2, axis=1)
        clear = order[:, 1] - order[:, 0] > 1e-9 * (1 + order[:, 0])
        nearest = np.argmin(d2, axis=1)
        cluster = c["cluster"][()]
        wrong = np.nonzero(clear & (nearest != cluster))[0]
        if len(wrong):
            failures += fail(f"{len(wrong)} customers not in the nearest model centroid, e.g. rows {wrong[:5]}")
        print(f"nearest centroid: {int(clear.sum())} of {len(cluster)} customers checked (the rest within rounding)")
        cuts = model["segments/score_cut_points"][()]
        s = [1 + (cuts[d][None, :] < raw[:, d][:, None]).sum(axis=1) for d in range(3)]
        expected = {"r_score": 6 - s[0], "f_score": s[1], "m_score": s[2]}
        for name, values in expected.items():
            if not np.array_equal(c[name][()], values):
                failures += fail(f"/customers/{name} differs from the model's cut points")
        ref = model["segments/reference"][()]
        segment = 4 * (raw[:, 2] <= ref[2]) + 2 * (raw[:, 0] >= ref[0]) + (raw[:, 1] <= ref[1])
        if not np.array_equal(c["segment"][()], segment):
            failures += fail("/customers/segment differs from the model's split values")
        high = raw[:, 2] >= model["segments/high_value_threshold"][()]
        if not np.array_equal(c["high_value"][()], high.astype(np.int8)):
            failures += fail("/customers/high_value differs from the model's threshold")
        sizes = np.bincount(cluster, minlength=len(centroids))
        if not np.array_equal(scored["model/cluster_size"][()], sizes):
            failures += fail("/model/cluster_size is not the scored customers' counts")
    return failures


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("same-customers", "independent"):
        print(__doc__, file=sys.stderr)
        return 2
    check = same_customers if sys.argv[1] == "same-customers" else independent
    return 1 if check(sys.argv[2], sys.argv[3]) else 0


if __name__ == "__main__":
    sys.exit(main())
