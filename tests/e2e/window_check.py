#!/usr/bin/python3
"""Helper of e2e.rfm_matches_reference (--window): independently of rfmseg and rfm_reference.py,
pandas' RFM of the lines of an rfmseg-gen online-retail file (US dates) that lie inside the window
(snapshot - day <= window_days, the snapshot as recorded in /run) equals the result's table; the
lines outside are /run count_outside_window and exactly the rejects file's outside_window rows.

  window_check.py RESULT.h5 REFERENCE.json INPUT.csv REJECTS.csv
"""
import json
import sys

import h5py
import pandas as pd

result, ref_json, data, rejects = sys.argv[1:5]
with h5py.File(result, "r") as f:
    c = f["customers"]
    got = pd.DataFrame({"recency": c["recency"][:], "frequency": c["frequency"][:], "monetary": c["monetary"][:]},
                       index=[x.decode("latin-1") for x in c["customer_id"][:]])
    text = f["run"].attrs["snapshot_date"]
    text = text.item() if hasattr(text, "item") else text  # a scalar or a one-element array
    snap = pd.Timestamp(text.decode() if isinstance(text, bytes) else str(text))
    days = int(f["run"].attrs["window_days"].item())
    outside_count = int(f["run"].attrs["count_outside_window"].item())
problems = []
df = pd.read_csv(data, dtype=str, keep_default_na=False, encoding="latin-1")
df["line"] = range(2, len(df) + 2)  # physical line numbers (the generator writes no quoted line breaks)
df["day"] = pd.to_datetime(df.InvoiceDate, format="%m/%d/%Y %H:%M").dt.normalize()
df["CustomerID"] = df.CustomerID.str.replace(r"\.0$", "", regex=True)
df["Quantity"] = df.Quantity.astype(int)
df["UnitPrice"] = df.UnitPrice.astype(float)
df = df[(df.CustomerID != "") & (df.day <= snap)]
inside = df[(snap - df.day).dt.days <= days]
outside = df[(snap - df.day).dt.days > days]
if len(outside) != outside_count or outside_count != json.load(open(ref_json))["outside_window"]:
    problems.append(f"outside the window: pandas {len(outside)}, rfmseg {outside_count}")
rows = pd.read_csv(rejects, dtype=str, keep_default_na=False, encoding="latin-1")
if sorted(rows[rows.reason == "outside_window"].line.astype(int)) != sorted(outside.line):
    problems.append("the rejects file's outside_window rows are not the lines outside the window")
if outside_count == 0 or len(inside) == 0:
    problems.append("a window that tests nothing (no line outside or inside)")
kept = inside.drop_duplicates(subset=[c for c in inside.columns if c != "line"])
kept = kept[~kept.InvoiceNo.str.startswith("C") & (kept.Quantity > 0) & (kept.UnitPrice > 0)]
kept = kept.assign(value=kept.Quantity * kept.UnitPrice)
exp = kept.groupby("CustomerID").agg(last=("day", "max"), frequency=("InvoiceNo", "nunique"),
                                     monetary=("value", "sum"))
exp["recency"] = (snap - exp["last"]).dt.days
if set(exp.index) != set(got.index):
    problems.append(f"customers: pandas {len(exp)}, rfmseg {len(got)}")
else:
    exp = exp.loc[got.index]
    if not ((exp.recency == got.recency).all() and (exp.frequency == got.frequency).all()
            and ((exp.monetary - got.monetary).abs() <= 1e-6 * exp.monetary.abs().clip(lower=1)).all()):
        problems.append("RFM differs from pandas on the lines inside the window")
    if got.recency.max() > days:
        problems.append("a Recency above the window")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print(f"{len(got)} customers = pandas' RFM of the {len(inside)} lines inside the window; "
      f"{outside_count} outside_window lines, all in the rejects file")
