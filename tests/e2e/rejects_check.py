#!/usr/bin/python3
"""Helpers of e2e.rejects (tests/e2e/rejects.sh).

  rejects_check.py dirty IN OUT            IN (an rfmseg-gen file) plus injected unusable lines
                                           of every reader fate: bad numbers, dates, field
                                           counts, 300-byte ids, quoted line breaks, quotes, NUL,
                                           CR, Latin-1, 1.5 MiB lines, stray quotes -> OUT
  rejects_check.py check REJECTS RESULT.h5 every row's text is the bytes of its physical line(s)
                                           of the input (read independently here); rows per
                                           reason == /run count_<reason>, and every reader-fate
                                           counter has its rows

Exits 0 when the check holds, 1 with the reasons otherwise.
"""
import collections
import csv
import io
import random
import sys

import h5py
import pandas as pd

# Fates the owner decides (not written to the rejects file), and counters that are not fates.
OWNER_FATES = {"duplicate", "cancellation", "zero_quantity", "nonpositive_price", "kept"}
NOT_FATES = {"lines", "blank_lines"}
HEADER = ["file", "line", "reason", "text"]
csv.field_size_limit(1 << 30)  # rejected lines may be huge: they are written whole


def dirty(src, dst):
    with open(src, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"", "rfmseg-gen ends its file with a newline"
    header, body = lines[0], lines[1:-1]
    rng = random.Random(12)
    good = b"536999,22633,HAND WARMER,6,12/2/2010 8:28,1.85,17850,United Kingdom"
    bad = [
        b"536999,22633,HAND WARMER,abc,12/2/2010 8:28,1.85,17850,United Kingdom",          # bad_number
        b"536999,22633,HAND WARMER,6,12/2/2010 8:28,1e400,17850,United Kingdom",            # bad_number
        b"536999,22633,HAND WARMER,6,2/30/2010 8:28,1.85,17850,United Kingdom",             # bad_date
        b"536999,22633,HAND WARMER,6,12/2/2010 8:28,1.85,17850",                            # bad_field_count
        b"536999,22633,HAND WARMER,6,12/2/2010 8:28,1.85," + b"Z" * 300 + b",UK",          # bad_customer_id
        b"536999,22633,\"QUOTED, \"\"X\"\"\nSECOND LINE\r\nTHIRD\",zz,12/2/2010 8:28,1.85,17850,UK",  # bad_number over 3 lines
        b"536999,22633,\"NUL \x00 ESC \x1b LATIN \xa3\xc9\",6,12/2/2010 8:28,1.85,,UK",     # missing_customer
        b"536999,22633,CR\rINSIDE,6,12/2/2010 8:28,1.85,  ,United Kingdom\r",              # missing_customer, CRLF
        b"536999,22633," + b"L" * (3 << 19) + b",6,12/2/2010 8:28,x,17850,UK",            # 1.5 MiB, bad_number
        b"Q\"" * (1 << 19) + b"Q",                                                           # 1.5 MiB, bad_field_count
        b"",                                                                                 # blank (not a reject)
    ]
    out = []
    for line in body:
        out.append(line)
        if rng.random() < 0.01:
            out.append(rng.choice(bad[:8]))  # not the 1.5 MiB ones
    # Every kind at least once, the huge ones near the end (the last rank's range).
    out[len(out) // 3:len(out) // 3] = bad
    out.append(good.replace(b"HAND WARMER", b"12\" PLATE"))  # stray quotes: these three lines
    out.append(good)                                         # become one bad_field_count record
    out.append(good.replace(b"HAND WARMER", b"6\" BOWL"))
    out.append(b"536999,22633,X,1,12/2/2010 8:28,1.85,,UK")  # last line, missing id, no newline
    with open(dst, "wb") as f:
        f.write(header + b"\n" + b"\n".join(out))


def physical_lines(path, cache={}):
    if path not in cache:
        with open(path, "rb") as f:
            cache[path] = f.read().split(b"\n")
    return cache[path]


def check(rejects, result):
    problems = []
    with open(rejects, "rb") as f:
        data = f.read()
    # Bytes <-> str one to one (latin-1), so any byte content survives the csv module.
    rows = list(csv.reader(io.StringIO(data.decode("latin-1"), newline="")))
    if not rows or rows[0] != HEADER:
        return [f"header is {rows[:1]}, not {HEADER}"]
    rows = rows[1:]
    with h5py.File(result, "r") as f:
        run = dict(f["run"].attrs)
    counts = {k[len("count_"):]: int(v) for k, v in run.items() if k.startswith("count_")}
    if run.get("rejects_file", b"") in (b"", ""):
        problems.append("/run rejects_file is empty")

    per_reason = collections.Counter(row[2] for row in rows)
    for reason, n in per_reason.items():
        if counts.get(reason) != n:
            problems.append(f"{n} rows of reason {reason}, /run count_{reason} = {counts.get(reason)}")
    for fate, n in counts.items():
        if fate not in OWNER_FATES | NOT_FATES and per_reason.get(fate, 0) != n:
            problems.append(f"/run count_{fate} = {n}, but {per_reason.get(fate, 0)} rows")
        if fate in OWNER_FATES and per_reason.get(fate, 0) != 0:
            problems.append(f"owner fate {fate} has rows")

    # pandas reads the same rows (what a user would do).
    frame = pd.read_csv(rejects, dtype=str, keep_default_na=False, encoding="latin-1")
    if list(frame.columns) != HEADER or len(frame) != len(rows):
        problems.append(f"pandas reads {len(frame)} rows with columns {list(frame.columns)}, csv {len(rows)}")
    elif dict(frame["reason"].value_counts()) != dict(per_reason):
        problems.append("pandas and csv disagree on the reasons")

    previous = None
    for row in rows:
        if len(row) != 4:
            problems.append(f"row with {len(row)} fields: {row[:3]}")
            continue
        path, line, reason, text = row[0], int(row[1]), row[2], row[3].encode("latin-1")
        key = (path, line)
        if previous is not None and previous[0] == path and previous[1] >= line:
            problems.append(f"rows out of input order at {path}:{line}")
        previous = key
        lines = physical_lines(path)
        span = text.count(b"\n") + 1
        expected = b"\n".join(lines[line - 1:line - 1 + span])
        if expected.endswith(b"\r"):
            expected = expected[:-1]  # the line end is CRLF
        if text != expected:
            problems.append(f"{path}:{line} ({reason}): text of {len(text)} bytes differs from the input's "
                            f"{len(expected)}: {text[:60]!r} vs {expected[:60]!r}")
    print(f"{len(rows)} rows: " + ", ".join(f"{k} {v}" for k, v in sorted(per_reason.items())))
    return problems


def main():
    if sys.argv[1] == "dirty":
        dirty(sys.argv[2], sys.argv[3])
        return 0
    problems = check(sys.argv[2], sys.argv[3])
    for p in problems[:20]:
        print("FAIL:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
