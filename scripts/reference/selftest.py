#!/usr/bin/python3
"""Self-check of rfm_reference.py against hand-computed expectations (fixtures/ beside this file).

Every expected value below was worked out by hand from the fixture lines (see the comments),
not produced by running the reference.  Run:  scripts/reference/selftest.py  (exit 0 = pass).
`--dump DIR` additionally writes, for each case, NAME.args (the arguments, paths relative to this
directory) and NAME.csv (the expected table), or NAME.error (a text the error message of a fatal
case contains), so that other test suites (tests/e2e/reference_fixtures.sh) use the same
fixtures and expectations.
"""

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "fixtures")
REF = os.path.join(HERE, "rfm_reference.py")
sys.path.insert(0, HERE)
import rfm_reference as rr  # noqa: E402

FAILS = []
CHECKS = [0]


def check(cond, what):
    CHECKS[0] += 1
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)


def eq(got, want, what):
    check(got == want, "%s: got %r, want %r" % (what, got, want))


def days(a, b):
    return (datetime.date.fromisoformat(b) - datetime.date.fromisoformat(a)).days


# --- unit checks -----------------------------------------------------------------------------

def unit_checks():
    pm = rr.parse_micro
    for s, want in [
        ("2.55", 2550000), ("0.0000005", 1), ("-0.0000005", -1), ("0.00000049", 0),
        ("0.0000015", 2), ("0.1234565", 123457), ("-0.1234565", -123457),
        (".5", 500000), ("+.5", 500000), ("5.", 5000000), (" 3 ", 3000000), ("\t3\t", 3000000),
        ("+3", 3000000), ("-0", 0), ("0", 0), ("00012.50", 12500000),
        # |micro| <= 10**18 (10**12 currency units), after rounding
        ("1000000000000", 10**18), ("-1000000000000", -10**18),
        ("999999999999.9999995", 10**18), ("999999999999.9999994", 10**18 - 1),
        ("1000000000000.0000004", 10**18), ("1000000000000.0000005", None),
        ("1000000000000.000001", None), ("1000000000001", None), ("9223372036854.775807", None),
        # no exponents, nan/inf, separators; only blanks are trimmed from numbers
        ("1e-05", None), ("1.5e-3", None), ("1E2", None), ("+3.0E+2", None), ("1e400", None),
        ("0e5", None), ("", None), (" ", None), ("nan", None), ("inf", None), ("-inf", None),
        ("1,000", None), ("$5", None), (".", None), ("e5", None), ("1.2.3", None), ("- 1", None),
        ("1 000", None), ("0x10", None), ("1_000", None), ("\xb2", None), ("3\r", None),
        ("\x0b3", None), ("++3", None),
    ]:
        eq(pm(s), want, "parse_micro(%r)" % s)
    eq(pm("1,5", True), 1500000, "parse_micro('1,5', decimal_comma)")
    eq(pm("1.5", True), None, "parse_micro('1.5', decimal_comma)")
    pi = rr.parse_int
    for s, want in [("6", 6), ("-6", -6), ("+6", 6), (" 6 ", 6), ("007", 7), ("-0", 0),
                    ("6.0", None), ("", None), ("6e1", None), ("1e3", None),
                    ("1000000000000", 10**12), ("-1000000000000", -10**12),
                    ("1000000000001", None), ("9223372036854775807", None), ("6\r", None),
                    ("six", None), ("--6", None)]:
        eq(pi(s), want, "parse_int(%r)" % s)

    def d(s, day_first=False, fmt="auto"):
        o = rr.parse_day(s, day_first, fmt)
        return None if o is None else datetime.date.fromordinal(o).isoformat()

    for s, df, want in [
        # ISO: 1-2 digit month/day; [blanks or T] + H:MM[:SS[.fff]] [AM|PM]
        ("2010-12-01", False, "2010-12-01"), ("2010-12-01 08:26", False, "2010-12-01"),
        ("2010-12-01 08:26:59", False, "2010-12-01"), ("2010-12-01T08:26:00", False, "2010-12-01"),
        ("2010-12-01 8:26", False, "2010-12-01"), ("2010-1-1", False, "2010-01-01"),
        ("2010-12-01  08:26", False, "2010-12-01"), ("2010-12-01 08:26:00.123", False, "2010-12-01"),
        ("2010-12-01 08:26 PM", False, "2010-12-01"), ("2010-12-01 8:26am", False, "2010-12-01"),
        ("2010-12-01 23:59:60", False, "2010-12-01"),  # a leap second is a valid time
        ("2010-12-01 23:59:61", False, None), ("2010-12-01 24:00", False, None),
        ("2010-12-01 08:6", False, None), ("2010-12-01 123:00", False, None),
        ("2010-12-01 08", False, None), ("2010-12-01 08:26 XM", False, None),
        ("2010-12-01 08:26 Pm", False, None), ("2010-12-01x", False, None),
        ("2010-12-01 AM", False, None), ("2010-12-001", False, None), ("10-12-01", False, None),
        ("2012-02-29", False, "2012-02-29"), ("2011-02-29", False, None),
        ("0000-01-01", False, None), ("2010-00-10", False, None),
        # years 1900..2199 only
        ("1899-12-31", False, None), ("1900-01-01", False, "1900-01-01"),
        ("2199-12-31", False, "2199-12-31"), ("2200-01-01", False, None),
        # slash dates, time optional
        ("12/1/2010 8:26", False, "2010-12-01"), ("12/1/2010 8:26", True, "2010-01-12"),
        ("12/01/2010 08:26:00", False, "2010-12-01"), ("12/1/2010", False, "2010-12-01"),
        ("12/1/10 8:26", False, "2010-12-01"), ("1/2/68", False, "2068-01-02"),
        ("1/2/69", False, "1969-01-02"), ("1/2/00", False, "2000-01-02"),
        ("12/1/2010 8:26 AM", False, "2010-12-01"), ("12/1/2010 8:26:00 pm", False, "2010-12-01"),
        ("12/1/2010  8:26", False, "2010-12-01"),
        ("2/30/2010 1:00", False, None), ("0/1/2010", False, None), ("1/0/2010", False, None),
        ("12/1/2010 8:6", False, None), ("12/1/201 8:26", False, None), ("1/2/1899", False, None),
        ("12/1/20101", False, None),
        # not an order conflict: the day field is not 1..12 either, so just a bad date
        ("13/13/2011", False, None), ("13/13/2011", True, None), ("40/5/2011", True, None),
        ("5/40/2011", False, None), ("13/0/2011", False, None),
        # DD-Mon-YY / DD Mon YYYY ('-' or ' ', the same on both sides), time optional
        ("14-Jan-15", False, "2015-01-14"), ("14-JAN-2015", False, "2015-01-14"),
        ("4-jan-69", False, "1969-01-04"), ("14 Jan 2015", False, "2015-01-14"),
        ("14-Jan-15 08:00", False, "2015-01-14"), ("14 Jan-2015", False, None),
        ("30-Feb-15", False, None), ("14-Foo-15", False, None), ("14-January-15", False, None),
        ("14-Jan-015", False, None),
        ("19970101", False, "1997-01-01"), ("19971301", False, None), ("1997011", False, None),
        (" 19970101 ", False, "1997-01-01"), ("18991231", False, None),
        ("", False, None), ("yesterday", False, None), ("\x0b2010-12-01", False, None),
    ]:
        eq(d(s, df), want, "parse_day(%r, day_first=%s)" % (s, df))
    eq(d("45/5/2011", False), None, "parse_day: a month field above 31 is a bad date, not an order conflict")
    eq(d("2010-12-01", False, "mdy"), None, "parse_day: --date-format mdy rejects ISO")
    eq(d("12/1/2010", False, "iso"), None, "parse_day: --date-format iso rejects slash")
    eq(d("1/12/2010", True, "dmy"), "2010-12-01", "parse_day: --date-format dmy")
    for s, df in [("13/1/2010 8:26", False), ("1/13/2010 8:26", True), ("31/12/69", False),
                  ("13/5/2011", False), ("5/13/1800", True)]:
        try:
            rr.parse_day(s, df)
            check(False, "parse_day(%r, %s) should raise MonthOrderError" % (s, df))
        except rr.MonthOrderError:
            check(True, "")
    for s, want in [("17850", "17850"), ("17850.0", "17850"), (" 17850.000 ", "17850"),
                    ("17850.5", "17850.5"), ("17850.", "17850."), (".0", ".0"),
                    ("00123", "00123"), ("00123.0", "00123"), (" \t", ""), ("A\xa0", "A\xa0"),
                    ("1.0e3", "1.0e3"), ("-5.0", "-5.0"), ("\x0b17850\x0c", "17850"),
                    ("\r17850.0\n", "17850")]:
        eq(rr.normalize_id(s), want, "normalize_id(%r)" % s)
    # Correct rounding of total/10**6, including a total above 2**53 where double(total)/1e6
    # (two roundings) gives ...236.125 instead of the correctly rounded ...236.0.
    for t, want in [(0, 0.0), (1, 1e-6), (-1, -1e-6), (46740000, 46.74), (1373371, 1.373371),
                    (1006633145311236043253, 1006633145311236.0),
                    (561702975997366660932, 561702975997366.7), (10**30, 1e24)]:
        eq(rr.monetary_float(t), want, "monetary_float(%d)" % t)
    check(float(1006633145311236043253) / 1e6 != 1006633145311236.0,
          "naive division differs (documents why the exact path is needed)")
    # Records: LF and CRLF end a record, a lone CR does not; quote parity decides.
    recs = list(rr.records('a,b\r\nc\rd,e\n"x\ny",z\nq"r\ns"t\nlast', '"'))
    eq([(n, rr.strip_line_end(r)) for n, r in recs],
        [(1, "a,b"), (2, "c\rd,e"), (3, '"x\ny",z'), (5, 'q"r\ns"t'), (7, "last")],
        "records(): LF/CRLF line ends, quote parity")
    sp = rr.Splitter(",", '"', False)
    for rec, want in [('"ab"cd,e', ["abcd", "e"]), ('a,b"c,d', ["a", 'b"c', "d"]),
                      ('"a""b",', ['a"b', ""]), ('x,"never', None), ("", [""]),
                      ('12" x 8",y', ['12" x 8"', "y"])]:
        eq(sp.split(rec), want, "split(%r)" % rec)
    spw = rr.Splitter(None, '"', True)
    for rec, want in [("  a \t b  ", ["a", "b"]), (" \t ", []), ('"a b" c', ["a b", "c"])]:
        eq(spw.split(rec), want, "split whitespace(%r)" % rec)


# --- fixture cases ---------------------------------------------------------------------------

def F(name):
    return os.path.join(FIX, name)


# online_retail.csv (CRLF; physical line numbers):
#  2 17850 inv 536365 12/1 6*2.55=15.30 kept        3 17850.0->17850 inv 536365 6*3.39=20.34 kept
#  4 17850 inv 536366 6*1.85=11.10 (doubled quotes)  5-6 13047 inv 536367 32*1.69=54.08 (newline)
#  7 = line 2: duplicate                              8 C536379: cancellation
#  9 qty -2: cancellation                             10 qty 0: zero_quantity
# 11 price 0: nonpositive_price                       12 empty id: missing_customer
# 13 blank id: missing_customer                       14 2/30/2010: bad_date
# 15 qty 'two': bad_number                            16 7 fields, 17 9 fields: bad_field_count
# 18 price 1.5e-3: bad_number (no exponents)          19 14527 12/9 3*0.1234565 -> 3*123457 kept
# 20 blank line                                       21 14527 12/5 1.00 kept (latin-1 bytes)
# 22 = line 21 but LF end: duplicate                  23 00123 12/6 2.5 kept
# 24 ' 00123 ' -> 00123 12/6 2.5 kept                 25 ABC-1 12/6 2.5 kept
# 26 price -2.5 nonpositive_price                     27 17850.5 12/7 1 kept (no final newline)
# snapshot = 12/9 + 1 = 2010-12-10.
OR_COUNTS = {"bad_field_count": 2, "bad_number": 2, "bad_date": 1, "bad_customer_id": 0,
             "missing_customer": 2, "duplicate": 2, "cancellation": 2, "zero_quantity": 1,
             "nonpositive_price": 2, "kept": 10, "data_lines": 24, "blank_lines": 1,
             "snapshot": "2010-12-10"}
OR_CSV = ("customer_id,recency,frequency,monetary\n"
          "00123,4,2,5.0\n"
          "13047,9,1,54.08\n"
          "14527,1,2,1.370371\n"
          "17850,9,2,46.74\n"
          "17850.5,3,1,1.0\n"
          "ABC-1,4,1,2.5\n")

QUIRKS_CSV = ("customer_id,recency,frequency,monetary\n" + "L" * 256 + ",1,1,1.0\n"
              'V,2,1,1.0\nW,1,1,1.0\n"X""1",4,1,1.0\nY,4,1,1.0\nZ,2,2,2.0\nZ\xa0,3,1,1.0\n')

CASES = [
    ("online_retail", ["--input", F("online_retail.csv")], OR_CSV,
     dict(OR_COUNTS, customers=6, customers_nonpositive_monetary=0, frequency="invoices",
          monetary_total_micro=str(5000000 + 54080000 + 1370371 + 46740000 + 1000000 + 2500000),
          examples_duplicate=["online_retail.csv:7", "online_retail.csv:22"],
          examples_bad_date=["online_retail.csv:14"],
          examples_bad_number=["online_retail.csv:15", "online_retail.csv:18"],
          examples_bad_field_count=["online_retail.csv:16", "online_retail.csv:17"])),
    ("online_retail_lines", ["--input", F("online_retail.csv"), "--frequency", "lines"],
     OR_CSV.replace("17850,9,2,", "17850,9,3,"), OR_COUNTS),
    ("online_retail_days", ["--input", F("online_retail.csv"), "--frequency", "days"],
     OR_CSV.replace("00123,4,2,", "00123,4,1,").replace("17850,9,2,", "17850,9,1,"), OR_COUNTS),
    # net: 14527 gets -1*27.50 (C536379) and -2*1.45 (qty<0): 1.370371 - 30.40 = -29.029629
    ("online_retail_net", ["--input", F("online_retail.csv"), "--cancellations", "net"],
     OR_CSV.replace("1.370371", "-29.029629"),
     dict(OR_COUNTS, customers_nonpositive_monetary=1, cancellations="net")),
    ("online_retail_snapshot", ["--input", F("online_retail.csv"), "--snapshot", "2011-01-01"],
     ("customer_id,recency,frequency,monetary\n"
      "00123,%d,2,5.0\n13047,%d,1,54.08\n14527,%d,2,1.370371\n17850,%d,2,46.74\n"
      "17850.5,%d,1,1.0\nABC-1,%d,1,2.5\n")
     % (days("2010-12-06", "2011-01-01"), days("2010-12-01", "2011-01-01"),
        days("2010-12-09", "2011-01-01"), days("2010-12-01", "2011-01-01"),
        days("2010-12-07", "2011-01-01"), days("2010-12-06", "2011-01-01")),
     dict(OR_COUNTS, snapshot="2011-01-01")),
    # online_retail_more.csv: line 2 == online_retail.csv line 2 (dup across files), line 3 new
    # 17850 inv 536400 12/8 2.55, line 4 == line 3 (dup).
    ("two_files_dup_all",
     ["--input", F("online_retail.csv"), "--input", F("online_retail_more.csv")],
     OR_CSV.replace("17850,9,2,46.74", "17850,2,3,49.29"),
     dict(OR_COUNTS, duplicate=4, kept=11, data_lines=27)),
    ("two_files_dup_file",
     ["--input", F("online_retail.csv"), "--input", F("online_retail_more.csv"),
      "--duplicate-scope", "file"],
     OR_CSV.replace("17850,9,2,46.74", "17850,2,3,64.59"),
     dict(OR_COUNTS, duplicate=3, kept=12, data_lines=27)),
    # online_retail_ii.csv: 13085: 12*6.95=83.40 + 12*6.75=81.00 (13085.0) on 2009-12-01 inv
    # 489434, 12*2.55=30.60 on 12-02 inv 489435; hour 25, ISO month 13, year 1899: bad_date;
    # C489449 cancellation (-12*2.95); 16321 on 12-03: 5*2.95 (489450), 5*2.95 ('T' separator,
    # 489451), 1*1.5 ('2009-12-3 9:05', 489452), 2*0.5 ('12/3/2009 9:05 PM', 489458) = 32.00;
    # 1e-05, quantity 10**12+1 and price 10**12+0.000001: bad_number; 99999 on 12-02:
    # 10**12 * 10**12 = 1e24 (the largest line allowed).  Snapshot 2009-12-04.
    ("online_retail_ii", ["--input", F("online_retail_ii.csv")],
     "customer_id,recency,frequency,monetary\n13085,2,2,195.0\n16321,1,4,32.0\n99999,2,1,1e+24\n",
     {"bad_number": 3, "bad_date": 3, "cancellation": 1, "kept": 8, "data_lines": 15,
      "snapshot": "2009-12-04", "frequency": "invoices",
      "examples_bad_date": ["online_retail_ii.csv:5", "online_retail_ii.csv:6",
                            "online_retail_ii.csv:11"]}),
    # net: 32.00 - 35.40
    ("online_retail_ii_net", ["--input", F("online_retail_ii.csv"), "--cancellations", "net"],
     "customer_id,recency,frequency,monetary\n13085,2,2,195.0\n16321,1,4,-3.4\n99999,2,1,1e+24\n",
     {"customers_nonpositive_monetary": 1}),
    # amount.csv: CS1112 14-Jan-15 39 (twice: line 10 repeats line 2) and 02-feb-2015 12.5;
    # CS1113 31-Dec-99 (1999) 10 and '01 Feb 2015' 2.5; 30-Feb bad_date, 0 and -5
    # nonpositive_price, empty id, 'abc' and '1e3' bad_number, 'Foo' month bad_date.  Snapshot
    # 2015-02-03.  No invoice column: --duplicates auto keeps the repeated line (a purchase).
    ("amount", ["--input", F("amount.csv")],
     "customer_id,recency,frequency,monetary\nCS1112,1,3,90.5\nCS1113,2,2,12.5\n",
     {"bad_number": 2, "bad_date": 2, "missing_customer": 1, "duplicate": 0,
      "nonpositive_price": 2, "kept": 5, "data_lines": 12, "snapshot": "2015-02-03",
      "frequency": "lines"}),
    ("amount_duplicates_drop", ["--input", F("amount.csv"), "--duplicates", "drop"],
     "customer_id,recency,frequency,monetary\nCS1112,1,2,51.5\nCS1113,2,2,12.5\n",
     {"bad_number": 2, "bad_date": 2, "missing_customer": 1, "duplicate": 1,
      "nonpositive_price": 2, "kept": 4, "data_lines": 12, "snapshot": "2015-02-03",
      "frequency": "lines"}),
    # --duplicates keep on online_retail.csv: lines 7 and 22 are purchases too (17850 +15.30 on
    # invoice 536365, 14527 +1.00 on 12/5).
    ("online_retail_duplicates_keep", ["--input", F("online_retail.csv"), "--duplicates", "keep"],
     OR_CSV.replace("17850,9,2,46.74", "17850,9,2,62.04").replace("14527,1,2,1.370371", "14527,1,2,2.370371"),
     dict(OR_COUNTS, duplicate=0, kept=12)),
    # cdnow_whitespace.txt (no header, runs of blanks, CRLF): frequency = distinct days.
    ("cdnow_whitespace",
     ["--input", F("cdnow_whitespace.txt"), "--format", "amount", "--no-header", "--delimiter",
      "whitespace", "--col-customer", "1", "--col-date", "2", "--col-amount", "4",
      "--frequency", "days"],
     "customer_id,recency,frequency,monetary\n00001,%d,1,11.77\n00002,%d,1,89.0\n"
     "00003,1,2,41.52\n" % (days("1997-01-01", "1997-03-31"), days("1997-01-12", "1997-03-31")),
     {"bad_field_count": 1, "bad_date": 1, "nonpositive_price": 1, "kept": 5, "data_lines": 8,
      "blank_lines": 1, "snapshot": "1997-03-31"}),
    # day_first.csv with --day-first: 1/12/10 = 2010-12-01, 31/12/69 = 1969-12-31,
    # 5/1/2011 = 2011-01-05 (no time part); 13/13/2011 and 40/5/2011 bad_date (not an order
    # conflict); customer 3: '1/2/2011 11:59:59 PM' = 2011-02-01 and '3 Feb 2011'.
    ("day_first", ["--input", F("day_first.csv"), "--day-first"],
     "customer_id,recency,frequency,monetary\n1,%d,2,3.0\n2,%d,1,1.0\n3,1,2,2.0\n"
     % (days("2011-01-05", "2011-02-04"), days("1969-12-31", "2011-02-04")),
     {"kept": 5, "bad_date": 2, "data_lines": 7, "snapshot": "2011-02-04"}),
    # quirks.csv (line: what):
    #  2 '"ab"cd' -> 'abcd', id '"X""1"' -> 'X"1'        3 '12" FRAME 8" WIDE': literal quotes
    #  4 '"  Z  "' -> Z                                  5 'Z\xa0' (NBSP is not trimmed)
    #  6 lone CR inside a field: data, not a line end    7 ' \t \r\n': blank
    #  8 '\vV\f' -> V                                    9-10 '5" PIPE' opens a quote that the
    #    '1" PIN' of line 10 closes: one record of 15 fields -> bad_field_count (line 9)
    # 11 ' 2011-01-04 ', ' W ' trimmed                  12 id of 257 bytes: bad_customer_id
    # 13 id of 256 bytes: kept                          14-15 unclosed quote runs to end of file:
    #    one bad_field_count record.  Snapshot 2011-01-05.
    ("quirks", ["--input", F("quirks.csv")], QUIRKS_CSV,
     {"bad_field_count": 2, "bad_customer_id": 1, "kept": 8, "data_lines": 11,
      "blank_lines": 1, "snapshot": "2011-01-05",
      "examples_bad_field_count": ["quirks.csv:9", "quirks.csv:14"],
      "examples_bad_customer_id": ["quirks.csv:12"]}),
]

FATAL_CASES = [
    ("month_first_contradiction", ["--input", F("day_first.csv")], "day_first.csv:3"),
    ("invoices_without_invoice", ["--input", F("amount.csv"), "--frequency", "invoices"],
     "invoice"),
    ("bad_snapshot", ["--input", F("amount.csv"), "--snapshot", "2015/01/01"], "snapshot"),
]


def run_cases(tmp, dump_dir):
    for name, args, want_csv, want_counts in CASES:
        out = os.path.join(tmp, name + ".csv")
        cj = os.path.join(tmp, name + ".json")
        p = subprocess.run([sys.executable, REF] + args + ["--out-csv", out,
                                                           "--counters-json", cj],
                           capture_output=True)
        eq(p.returncode, 0, "%s: exit status (stderr %r)" % (name, p.stderr[-300:]))
        if p.returncode != 0:
            continue
        with open(out, "rb") as f:
            got = f.read().decode("latin-1")
        eq(got, want_csv, "%s: output CSV" % name)
        with open(cj) as f:
            counters = json.load(f)
        for k, v in want_counts.items():
            if k.startswith("examples_"):
                fate = k[len("examples_"):]
                eq([os.path.basename(e) for e in counters["examples"][fate]], v,
                   "%s: examples of %s" % (name, fate))
            else:
                eq(counters.get(k), v, "%s: counter %s" % (name, k))
        check(counters["data_lines"] == sum(counters[f] for f in rr.FATES),
              "%s: fates add up to data_lines" % name)
        if dump_dir:
            os.makedirs(dump_dir, exist_ok=True)
            with open(os.path.join(dump_dir, name + ".csv"), "wb") as f:
                f.write(want_csv.encode("latin-1"))
            with open(os.path.join(dump_dir, name + ".args"), "w") as f:
                f.write(" ".join(a.replace(HERE + os.sep, "") for a in args) + "\n")
    for name, args, needle in FATAL_CASES:
        out = os.path.join(tmp, name + ".csv")
        p = subprocess.run([sys.executable, REF] + args + ["--out-csv", out],
                           capture_output=True)
        eq(p.returncode, 1, "%s: exit status" % name)
        check(needle in p.stderr.decode("latin-1"),
              "%s: stderr %r should mention %r" % (name, p.stderr, needle))
        check(not os.path.exists(out), "%s: no output written on fatal error" % name)
        if dump_dir:
            os.makedirs(dump_dir, exist_ok=True)
            with open(os.path.join(dump_dir, name + ".args"), "w") as f:
                f.write(" ".join(a.replace(HERE + os.sep, "") for a in args) + "\n")
            with open(os.path.join(dump_dir, name + ".error"), "w") as f:
                f.write(needle + "\n")


def adhoc_checks(tmp):
    """Layout corners on files made here: BOM, semicolons, gzip, empty file, --col-*, errors."""
    import gzip

    def run(files, *args):
        paths = []
        for i, data in enumerate(files):
            pth = os.path.join(tmp, "adhoc%d%s" % (i, ".gz" if data[:2] == b"\x1f\x8b" else ""))
            with open(pth, "wb") as f:
                f.write(data)
            paths += ["--input", pth]
        out = os.path.join(tmp, "adhoc.csv")
        if os.path.exists(out):
            os.remove(out)
        p = subprocess.run([sys.executable, REF] + paths + list(args) + ["--out-csv", out],
                           capture_output=True)
        got = open(out, "rb").read().decode("latin-1") if os.path.exists(out) else None
        return p.returncode, got, p.stderr.decode("latin-1")

    hdr = b"customer_id;date;amount\r\n"
    body = b"A;20200101;1,5\r\nA;20200102;2.5\r\nB;20200103;3\r\n"
    # ';' delimiter; '1,5' (decimal comma) is bad_number; BOM before the header
    for delim in (["--delimiter", ";"], []):  # [] = auto: ';' is the most frequent
        rc, got, err = run([b"\xef\xbb\xbf" + hdr + body], *(delim + ["--format", "amount"]))
        eq((rc, got), (0, "customer_id,recency,frequency,monetary\nA,2,1,2.5\nB,1,1,3.0\n"),
           "adhoc: BOM + semicolons %s + decimal comma (%s)" % (delim, err))
        check("bad_number=1" in err, "adhoc: decimal comma is bad_number: " + err)
    rc, got, err = run([hdr + body], "--decimal-comma")
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\nA,3,1,1.5\nB,1,1,3.0\n"),
       "adhoc: --decimal-comma (%s)" % err)
    check("bad_number=1" in err, "adhoc: '2.5' is bad_number with --decimal-comma: " + err)
    # gzip input, auto-detected amount layout, plus an empty file (warning)
    rc, got, err = run([gzip.compress(hdr.replace(b";", b",") + body.replace(b";", b",")
                                      .replace(b"1,5", b"1.5")), b""])
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\nA,2,2,4.0\nB,1,1,3.0\n"),
       "adhoc: gzip + auto amount + empty file (%s)" % err)
    check("warning" in err, "adhoc: empty file warns: " + err)
    # --col-* by header name on an unknown layout; --snapshot means "as of": later lines are
    # after_snapshot (recency is never negative), purchases on the snapshot day count
    rc, got, err = run([b"who,when,qty,each\nx,2020-01-05,2,1.25\nx,2020-01-01,1,1\ny,2020-01-02,1,1\n"],
                       "--col-customer", "who", "--col-date", "WHEN", "--col-quantity", "qty",
                       "--col-price", "4", "--snapshot", "2020-01-01")
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\nx,0,1,1.0\n"),
       "adhoc: --col-* mapping, --snapshot as of (%s)" % err)
    check("after_snapshot=2" in err, "adhoc: lines after --snapshot are after_snapshot: " + err)
    # --window DAYS: snapshot - day <= DAYS counts, older lines are outside_window; without
    # --snapshot the snapshot is the latest kept day + 1 (2020-01-06 here: x's 01-01 line is out)
    window_body = b"who,when,qty,each\nx,2020-01-05,2,1.25\nx,2020-01-01,1,1\ny,2020-01-02,1,1\n"
    mapping = ["--col-customer", "who", "--col-date", "when", "--col-quantity", "qty", "--col-price", "each"]
    rc, got, err = run([window_body], *mapping, "--window", "4")
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\nx,1,1,2.5\ny,4,1,1.0\n"),
       "adhoc: --window 4 from the data's snapshot (%s)" % err)
    check("outside_window=1" in err, "adhoc: the line 5 days old is outside_window: " + err)
    rc, got, err = run([window_body], *mapping, "--window", "1", "--snapshot", "2020-01-03")
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\ny,1,1,1.0\n"),
       "adhoc: --window 1 as of 2020-01-03 (%s)" % err)
    check("after_snapshot=1" in err and "outside_window=1" in err, "adhoc: window and snapshot: " + err)
    rc, got, err = run([b"who,when,qty,each\nx,2020-01-05,2,1.25\n"])
    check(rc == 1 and "cannot find" in err, "adhoc: unknown header is fatal: " + err)
    rc, got, err = run([b"a,b\n1,2\n"], "--format", "online-retail")
    check(rc == 1 and "no column" in err, "adhoc: preset column missing is fatal: " + err)
    rc, got, err = run([b"customer_id amount\n"])
    check(rc == 1, "adhoc: header without a date column is fatal: " + err)
    # ids with any byte but a control byte stay byte-exact and sort by bytes; a control byte
    # (0x00-0x1F, 0x7F) makes the line bad_customer_id
    ids = [b"\xe9", b"Z", b"a", b"\x85", b"\xa0x", b"~"]
    rc, got, err = run([b"customer_id,date,amount\n" +
                        b"".join(i + b",20200101,1\n" for i in ids + [b"a\x00", b"b\x7f", b"c\x1b"])])
    eq(got.encode("latin-1").split(b"\n")[1:-1] if got else None,
       [i + b",1,1,1.0" for i in sorted(ids)], "adhoc: byte-order sort of latin-1 ids")
    check("bad_customer_id=3" in err, "adhoc: control bytes in ids are bad_customer_id: " + err)
    # a lone CR is not a line end: 'A,20200101,1\rB,20200102,2' is one record of 5 fields
    rc, got, err = run([b"customer_id,date,amount\nA,20200101,1\rB,20200102,2\nC,20200103,3\n"])
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\nC,1,1,3.0\n"),
       "adhoc: lone CR is data (%s)" % err)
    check("bad_field_count=1" in err, "adhoc: lone CR record is bad_field_count: " + err)
    # a line of blanks is blank in CSV mode too
    rc, got, err = run([b"customer_id,date,amount\n  \t\nA,20200101,1\n"])
    check(rc == 0 and "blank_lines=1" in err, "adhoc: blank-only line is blank: " + err)
    # --no-header: every record must have as many fields as the first one
    rc, got, err = run([b"A,20200101,1\nB,20200102,2,extra\nC,20200103,3\n"], "--no-header",
                       "--format", "amount")
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\nA,3,1,1.0\nC,1,1,3.0\n"),
       "adhoc: --no-header field count (%s)" % err)
    check("bad_field_count=1" in err, "adhoc: --no-header extra field: " + err)
    # month-first file with 13/13/2011: a bad date, not fatal; 13/5/2011: fatal with file:line
    rc, got, err = run([b"customer_id,date,amount\nA,13/13/2011,1\nA,1/5/2011,2\n"])
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\nA,1,1,2.0\n"),
       "adhoc: 13/13/2011 is bad_date (%s)" % err)
    rc, got, err = run([b"customer_id,date,amount\nA,1/5/2011,2\nA,13/5/2011,1\n"])
    check(rc == 1 and "adhoc0:3:" in err and got is None,
          "adhoc: 13/5/2011 month-first is fatal with file:line: " + err)
    # net: a C invoice with a positive quantity adds its value
    orh = b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    rc, got, err = run([orh + b"C1,A,x,2,2011-01-01,5,1,UK\n2,A,x,1,2011-01-01,1,1,UK\n"
                       b"C3,A,x,-1,2011-01-01,0.25,1,UK\n"], "--cancellations", "net")
    eq((rc, got), (0, "customer_id,recency,frequency,monetary\n1,1,1,10.75\n"),
       "adhoc: net adds signed quantity x price (%s)" % err)
    # nothing usable at all: error
    rc, got, err = run([b"customer_id,date,amount\n,20200101,1\nA,20200101,abc\n"])
    check(rc == 1 and "no usable" in err and got is None,
          "adhoc: no usable line is fatal: " + err)
    rc, got, err = run([b""])
    check(rc == 1 and "no usable" in err, "adhoc: only an empty file is fatal: " + err)
    # --no-header with a column beyond the first record
    rc, got, err = run([b"A,20200101,1\n"], "--no-header", "--format", "amount",
                       "--col-amount", "4")
    check(rc == 1 and "beyond" in err, "adhoc: --col-* beyond the fields is fatal: " + err)


# --- cross-check: exact reference vs the pandas pipeline on synthetic data --------------------

def read_rfm_csv(path):
    import csv
    with open(path, encoding="latin-1", newline="") as f:
        return list(csv.reader(f))


def cross_checks(tmp):
    """Two independent implementations (csv+ints vs pandas) must agree on synthetic files:
    same ids, recency and frequency; monetary within float64 summation / micro rounding."""
    for layout, style, extra in [("online-retail", "slash", []),
                                 ("online-retail-ii", "iso", ["--frequency", "days"]),
                                 ("online-retail", "slash2", ["--cancellations", "net"]),
                                 ("online-retail", "slash-dayfirst", ["--day-first"]),
                                 ("amount", "mon", []),
                                 ("amount", "compact", ["--frequency", "days"])]:
        name = "%s-%s" % (layout, style)
        src = os.path.join(tmp, name + ".csv")
        subprocess.run([sys.executable, os.path.join(HERE, "synth.py"), "--layout", layout,
                        "--date-style", style, "--lines", "6000", "--customers", "300",
                        "--seed", "7", "--out", src], check=True, capture_output=True)
        ref, pipe = src + ".ref", src + ".pipe"
        p1 = subprocess.run([sys.executable, REF, "--input", src, "--out-csv", ref] + extra,
                            capture_output=True)
        p2 = subprocess.run([sys.executable, os.path.join(HERE, "pipeline_reference.py"),
                             "--input", src, "--rfm-out", pipe, "--no-sweep", "--quiet"] + extra,
                            capture_output=True)
        eq((p1.returncode, p2.returncode), (0, 0), "cross %s: exit status (%r %r)"
           % (name, p1.stderr[-200:], p2.stderr[-200:]))
        if p1.returncode or p2.returncode:
            continue
        a, b = read_rfm_csv(ref), read_rfm_csv(pipe)
        check(len(a) > 50, "cross %s: enough customers (%d)" % (name, len(a)))
        eq(len(a), len(b), "cross %s: customer count" % name)
        eq([r[:3] for r in a], [r[:3] for r in b], "cross %s: ids, recency, frequency" % name)
        worst = max(abs(float(x[3]) - float(y[3])) / max(1.0, abs(float(x[3])))
                    for x, y in zip(a[1:], b[1:]))
        check(worst < 1e-6, "cross %s: monetary agrees (worst rel %.3g)" % (name, worst))


# --- compare_results.py on hand-made result files ---------------------------------------------

def lloyd_numpy(X, C0, max_iter, tol):
    """Plain Lloyd with scikit-learn's stopping rule (independent of sklearn's code):
    stop when labels repeat (strict) or when sum of squared centre shifts <= tol * mean(var(X));
    empty clusters keep their centre; after a tol stop the labels are recomputed."""
    import numpy as np
    tol_abs = float(np.mean(np.var(X, axis=0))) * tol
    C = C0.copy()
    k = len(C)
    old = None
    strict = False
    for it in range(max_iter):
        d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1)
        lab = d.argmin(1)
        newC = np.array([X[lab == j].mean(0) if (lab == j).any() else C[j] for j in range(k)])
        shift = ((newC - C) ** 2).sum()
        C = newC
        if old is not None and (lab == old).all():
            strict = True
            break
        if shift <= tol_abs:
            break
        old = lab
    if not strict:
        lab = ((X[:, None, :] - C[None, :, :]) ** 2).sum(-1).argmin(1)
    return lab.astype("int32"), C, float(((X - C[lab]) ** 2).sum()), it + 1


def metrics_numpy(X, lab):
    """Silhouette, Calinski-Harabasz, Davies-Bouldin from their definitions (no sklearn)."""
    import numpy as np
    n = len(X)
    ks = np.unique(lab)
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    sil = np.zeros(n)
    for i in range(n):
        own = lab == lab[i]
        if own.sum() == 1:
            continue
        a = D[i, own].sum() / (own.sum() - 1)
        b = min(D[i, lab == j].mean() for j in ks if j != lab[i])
        sil[i] = (b - a) / max(a, b)
    mu = X.mean(0)
    cents = np.array([X[lab == j].mean(0) for j in ks])
    W = sum(((X[lab == j] - cents[t]) ** 2).sum() for t, j in enumerate(ks))
    B = sum((lab == j).sum() * ((cents[t] - mu) ** 2).sum() for t, j in enumerate(ks))
    ch = (B / (len(ks) - 1)) / (W / (n - len(ks)))
    S = np.array([np.sqrt(((X[lab == j] - cents[t]) ** 2).sum(1)).mean()
                  for t, j in enumerate(ks)])
    db = np.mean([max((S[t] + S[u]) / np.sqrt(((cents[t] - cents[u]) ** 2).sum())
                      for u in range(len(ks)) if u != t) for t in range(len(ks))])
    return float(sil.mean()), float(ch), float(db)


def write_result(path, rows=None, km=None, metrics=None, run=None, extra=None, dtypes=None):
    import h5py
    import numpy as np
    dtypes = dtypes or {}
    with h5py.File(path, "w") as h:
        if rows is not None:
            ids = [r[0].encode("latin-1") for r in rows]
            h["customers/customer_id"] = np.array(ids, dtype="S%d" % max(len(i) for i in ids))
            h["customers/recency"] = np.array([int(r[1]) for r in rows],
                                              dtype=dtypes.get("recency", np.int32))
            h["customers/frequency"] = np.array([int(r[2]) for r in rows], dtype=np.int64)
            h["customers/monetary"] = np.array([float(r[3]) for r in rows], dtype=np.float64)
        if km is not None:
            for k, v in km.items():
                h[k] = v
        for k, v in (metrics or {}).items():
            h["model/" + k] = np.float64(v)
        g = h.require_group("run")
        for k, v in (run or {}).items():
            g.attrs[k] = v
        for k, v in (extra or {}).items():
            h[k] = v


def compare(*args):
    p = subprocess.run([sys.executable, os.path.join(HERE, "compare_results.py")] + list(args),
                       capture_output=True)
    return p.returncode, p.stdout.decode("latin-1") + p.stderr.decode("latin-1")


def h5_checks(tmp):
    import json as _json
    import numpy as np
    # rfm: exact fake result from the fixture's expected table
    ref = os.path.join(tmp, "or_ref.csv")
    cj = os.path.join(tmp, "or_ref.json")
    subprocess.run([sys.executable, REF, "--input", F("online_retail.csv"), "--out-csv", ref,
                    "--counters-json", cj], check=True, capture_output=True)
    rows = read_rfm_csv(ref)[1:]
    good = os.path.join(tmp, "good.h5")
    counters = _json.load(open(cj))
    # the /run attributes rfmseg writes
    run = {"count_" + f: counters[f] for f in rr.FATES}
    run.update(count_lines=counters["data_lines"], count_blank_lines=counters["blank_lines"],
               customers=counters["customers"], snapshot_date=counters["snapshot"])
    write_result(good, rows, run=run)
    rc, out = compare("rfm", good, ref, "--counters", cj)
    eq(rc, 0, "compare rfm on an exact result: " + out)
    for name, val in [("count_lines", run["count_lines"] + 1), ("snapshot_date", "2010-12-11"),
                      ("customers", 7), ("count_bad_customer_id", 1)]:
        write_result(good, rows, run=dict(run, **{name: val}))
        rc, out = compare("rfm", good, ref, "--counters", cj)
        check(rc == 1 and name in out, "compare rfm --counters detects a wrong %s: %s"
              % (name, out))
    write_result(good, rows, run={k: v for k, v in run.items() if k != "count_duplicate"})
    rc, out = compare("rfm", good, ref, "--counters", cj)
    check(rc == 1 and "count_duplicate is missing" in out,
          "compare rfm --counters detects a missing attribute: " + out)
    write_result(good, rows, run=run)
    bad = os.path.join(tmp, "bad.h5")
    r2 = [list(r) for r in rows]
    r2[2][3] = repr(np.nextafter(float(r2[2][3]), 1e300))  # one ulp
    write_result(bad, r2)
    rc, out = compare("rfm", bad, ref)
    check(rc == 1 and "row 2" in out, "compare rfm detects a 1-ulp monetary difference: " + out)
    r3 = [rows[1], rows[0]] + rows[2:]
    write_result(bad, r3)
    rc, out = compare("rfm", bad, ref)
    check(rc == 1 and "ascending" in out, "compare rfm detects unsorted ids: " + out)
    write_result(bad, rows[:-1])
    rc, out = compare("rfm", bad, ref)
    check(rc == 1 and "only in reference" in out, "compare rfm detects a missing id: " + out)
    write_result(bad, rows, dtypes={"recency": np.int64})
    rc, out = compare("rfm", bad, ref)
    check(rc == 1 and "dtype" in out, "compare rfm checks dtypes: " + out)
    run2 = dict(run, count_kept=run["count_kept"] + 1)
    write_result(bad, rows, run=run2)
    rc, out = compare("rfm", bad, ref, "--counters", cj)
    check(rc == 1 and "counter kept" in out, "compare rfm --counters detects a count: " + out)
    write_result(bad)
    rc, out = compare("rfm", bad, ref)
    check(rc == 2 and "not present" in out, "compare rfm: missing datasets -> 2: " + out)
    rc, out = compare("kmeans", good)
    check(rc == 2 and "K-means output" in out, "compare kmeans: missing datasets -> 2: " + out)
    rc, out = compare("metrics", good)
    check(rc == 2, "compare metrics: missing datasets -> 2: " + out)

    # kmeans + metrics: blobs clustered by an independent numpy Lloyd
    rs = np.random.RandomState(3)
    X = np.concatenate([rs.normal(c, 1.0, size=(400, 3)) for c in ([0, 0, 0], [4, 4, 0],
                                                                   [0, 5, 5], [3, 0, 4])])
    n = len(X)
    C0 = X[rs.choice(n, 4, replace=False)]
    tol, max_iter = 1e-4, 300
    lab, C, inertia, n_iter = lloyd_numpy(X, C0, max_iter, tol)
    sil, ch, db = metrics_numpy(X, lab)
    km = {"customers/features": X, "customers/cluster": lab, "model/init_centroids": C0,
          "model/centroids": C, "model/inertia": np.float64(inertia),
          "model/n_iter": np.int64(n_iter)}
    runk = {"tol": tol, "max_iter": max_iter}
    kmf = os.path.join(tmp, "km.h5")
    write_result(kmf, km=km, run=runk,
                 metrics={"silhouette": sil, "calinski_harabasz": ch, "davies_bouldin": db})
    rc, out = compare("kmeans", kmf)
    check(rc == 0 and "KMEANS OK" in out, "compare kmeans on a numpy-Lloyd result: " + out)
    rc, out = compare("metrics", kmf)
    check(rc == 0 and "METRICS OK (3 compared)" in out,
          "compare metrics vs from-definition metrics: " + out)
    perm = np.array([2, 0, 3, 1], dtype=np.int32)
    km2 = dict(km, **{"customers/cluster": perm[lab], "model/init_centroids": C0[np.argsort(perm)],
                      "model/centroids": C[np.argsort(perm)]})
    write_result(kmf, km=km2, run=runk)
    rc, out = compare("kmeans", kmf)
    check(rc == 0, "compare kmeans is invariant to cluster renumbering: " + out)
    noisy = lab.copy()
    idx = rs.choice(n, n // 10, replace=False)
    noisy[idx] = rs.randint(0, 4, size=len(idx))
    write_result(kmf, km=dict(km, **{"customers/cluster": noisy}), run=runk,
                 metrics={"silhouette": sil, "calinski_harabasz": ch, "davies_bouldin": db})
    rc, out = compare("kmeans", kmf)
    check(rc == 1 and "ARI" in out, "compare kmeans detects wrong labels: " + out)
    rc, out = compare("metrics", kmf)
    check(rc == 1, "compare metrics detects metrics of other labels: " + out)
    write_result(kmf, km=dict(km, **{"model/inertia": np.float64(inertia * (1 + 1e-5))}),
                 run=runk)
    rc, out = compare("kmeans", kmf)
    check(rc == 1 and "inertia" in out, "compare kmeans detects an inertia difference: " + out)
    write_result(kmf, km=km)
    rc, out = compare("kmeans", kmf)
    check(rc == 2 and "tol" in out, "compare kmeans without /run tol -> 2: " + out)
    write_result(kmf, km=km, run=runk)
    rc, out = compare("metrics", kmf)
    check(rc == 0 and "nothing to compare" in out, "compare metrics without scalars: " + out)

    # same
    a = os.path.join(tmp, "a.h5")
    b = os.path.join(tmp, "b.h5")
    seg = {"segments/name": np.array([b"Champions", b"At risk"]),
           "selection/k": np.arange(1, 5, dtype=np.int32),
           "selection/sse": np.array([4.0, 2.0, 1.5, 1.2])}
    write_result(a, rows, km=km, run=runk, extra=seg)
    write_result(b, rows, km=km, run=dict(runk, wall_time=1.5), extra=seg)
    rc, out = compare("same", a, b)
    check(rc == 0 and "SAME" in out, "compare same on equal data, different attrs: " + out)
    Cb = C.copy()
    Cb[1, 2] = np.nextafter(Cb[1, 2], 1e300)
    write_result(b, rows, km=dict(km, **{"model/centroids": Cb}), run=runk, extra=seg)
    rc, out = compare("same", a, b)
    check(rc == 1 and "/model/centroids" in out and "flat index 5" in out,
          "compare same detects a 1-ulp centroid difference: " + out)
    write_result(b, rows, km=km, run=runk, extra=dict(seg, **{"segments/count": np.arange(2)}))
    rc, out = compare("same", a, b)
    check(rc == 1 and "only in" in out, "compare same detects an extra dataset: " + out)
    write_result(b, rows, km=km, run=runk,
                 extra=dict(seg, **{"segments/name": np.array([b"Champions", b"At Risk"])}))
    rc, out = compare("same", a, b)
    check(rc == 1 and "/segments/name" in out, "compare same detects a string difference: " + out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dump", metavar="DIR",
                    help="write NAME.args and NAME.csv (or NAME.error) of every fixture case to DIR")
    ap.add_argument("--quick", action="store_true",
                    help="only the rfm_reference checks (no pandas/sklearn/h5py needed)")
    a = ap.parse_args()
    unit_checks()
    tmp = tempfile.mkdtemp(prefix="rfmref-selftest-")
    run_cases(tmp, a.dump)
    adhoc_checks(tmp)
    if not a.quick:
        cross_checks(tmp)
        h5_checks(tmp)
    passed = CHECKS[0] - len(FAILS)
    if FAILS:
        print("files kept in %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("selftest: %d passed, %d failed" % (passed, len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
