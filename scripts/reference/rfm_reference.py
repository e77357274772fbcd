#!/usr/bin/python3
"""Independent, exact reference computation of the RFM table (README "Data semantics").

Written deliberately plainly (csv module, Python ints, fractions) so that it shares no code and
no numeric shortcuts with the C++ implementation or with pandas.  The output CSV is the oracle
that `compare_results.py rfm` checks rfmseg's HDF5 result against, bit for bit.

Rules implemented (each one is a decision the C++ side must match; see SEMANTICS.md beside this
file for the full list with rationale):

* Input bytes are decoded as latin-1, so every byte maps to one character and back: ids,
  invoices and duplicate detection are byte-exact and no encoding error can occur.
* Records follow RFC 4180 as implemented by Python's csv module with strict=False: a field that
  *starts* with the quote character is quoted and may contain delimiters, doubled quotes and
  line breaks; a quote anywhere else is literal; characters after a closing quote are appended
  literally up to the next delimiter; an unterminated quote runs to end of file.  Line ends are
  LF, CRLF or a lone CR.
* The first non-blank record of each file is the header (unless --no-header).  Blank records
  (nothing between two line ends) are skipped and counted as `blank_lines`, not as data lines.
* Every data line gets exactly one fate, in this order:
  bad_field_count, bad_number, bad_date, missing_customer, duplicate, cancellation,
  zero_quantity, nonpositive_price, kept.
* Monetary is summed exactly in integer micro-units and converted once to the correctly
  rounded float64 of total / 10**6.
"""

import argparse
import csv
import datetime
import gzip
import json
import re
import sys
from fractions import Fraction

FATES = [
    "bad_field_count",
    "bad_number",
    "bad_date",
    "missing_customer",
    "duplicate",
    "cancellation",
    "zero_quantity",
    "nonpositive_price",
    "kept",
]

# ASCII whitespace only.  str.strip() without arguments would also strip latin-1 characters
# such as NBSP (0xA0) and NEL (0x85), which the C++ side (isspace in the "C" locale) does not.
WS = " \t\n\v\f\r"

MICRO = 10**6
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)

# --- layouts ---------------------------------------------------------------------------------

ONLINE_RETAIL_HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                        "UnitPrice", "CustomerID", "Country"]
ONLINE_RETAIL_II_HEADER = ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate",
                           "Price", "Customer ID", "Country"]

PRESETS = {
    "online-retail": {
        "header": ONLINE_RETAIL_HEADER,
        "customer": "CustomerID", "invoice": "InvoiceNo", "date": "InvoiceDate",
        "quantity": "Quantity", "price": "UnitPrice",
    },
    "online-retail-ii": {
        "header": ONLINE_RETAIL_II_HEADER,
        "customer": "Customer ID", "invoice": "Invoice", "date": "InvoiceDate",
        "quantity": "Quantity", "price": "Price",
    },
}

# Candidate header names of the amount layout, matched case-insensitively after trimming; the
# first name of each list that is present wins (list order, not column order).
AMOUNT_CUSTOMER_NAMES = ["customer_id", "customer id", "customerid"]
AMOUNT_DATE_NAMES = ["trans_date", "date", "transaction_date", "invoicedate", "order_date"]
AMOUNT_AMOUNT_NAMES = ["tran_amount", "amount", "dollar_value", "transaction_amount", "sales"]

ROLES = ["customer", "invoice", "date", "quantity", "price", "amount"]


class FatalInput(Exception):
    """Bad input or configuration: exit status 1, like rfmseg."""


def norm_name(s):
    return s.strip(WS).lower()


def find_column(header_norm, name):
    """0-based index of the first header field equal to name (case-insensitive, trimmed)."""
    n = norm_name(name)
    for i, h in enumerate(header_norm):
        if h == n:
            return i
    return None


def resolve_layout(args, header, path, nfields_first):
    """Return (format_name, {role: 0-based index or None}).

    header is the list of header fields, or None with --no-header (then nfields_first is the
    field count of the first data record, used only for the presets' canonical positions).
    """
    cols = {r: None for r in ROLES}
    fmt = args.format
    header_norm = [norm_name(h) for h in header] if header is not None else None
    if header_norm is not None and header_norm:
        # A UTF-8 byte order mark decoded as latin-1.
        if header_norm[0].startswith("\xef\xbb\xbf"):
            header_norm[0] = header_norm[0][3:].strip(WS)

    def by_name(name):
        return find_column(header_norm, name)

    if fmt == "auto":
        if header_norm is None:
            if not any(getattr(args, "col_" + r) for r in ROLES):
                raise FatalInput("%s: --format auto needs a header (or give --format / --col-*)"
                                 % path)
            fmt = "custom"
        elif all(by_name(PRESETS["online-retail"][r]) is not None
                 for r in ("customer", "invoice", "date", "quantity", "price")):
            fmt = "online-retail"
        elif all(by_name(PRESETS["online-retail-ii"][r]) is not None
                 for r in ("customer", "invoice", "date", "quantity", "price")):
            fmt = "online-retail-ii"
        elif (any(by_name(n) is not None for n in AMOUNT_CUSTOMER_NAMES)
              and any(by_name(n) is not None for n in AMOUNT_DATE_NAMES)
              and any(by_name(n) is not None for n in AMOUNT_AMOUNT_NAMES)):
            fmt = "amount"
        elif any(getattr(args, "col_" + r) for r in ROLES):
            fmt = "custom"
        else:
            raise FatalInput("%s: unrecognised header %r (use --format or --col-*)"
                             % (path, header))

    if fmt in PRESETS:
        p = PRESETS[fmt]
        for r in ("customer", "invoice", "date", "quantity", "price"):
            if header_norm is None:
                cols[r] = p["header"].index(p[r])
            else:
                cols[r] = by_name(p[r])
                if cols[r] is None:
                    raise FatalInput("%s: --format %s: column %r not in header"
                                     % (path, fmt, p[r]))
    elif fmt == "amount":
        if header_norm is not None:
            for role, names in (("customer", AMOUNT_CUSTOMER_NAMES), ("date", AMOUNT_DATE_NAMES),
                                ("amount", AMOUNT_AMOUNT_NAMES)):
                for n in names:
                    if by_name(n) is not None:
                        cols[role] = by_name(n)
                        break

    # Explicit mappings override the preset / detection.
    for r in ROLES:
        spec = getattr(args, "col_" + r)
        if not spec:
            continue
        if header_norm is None:
            if not spec.isdigit() or int(spec) < 1:
                raise FatalInput("--col-%s: with --no-header give a 1-based column index" % r)
            cols[r] = int(spec) - 1
        else:
            idx = by_name(spec)
            if idx is None and spec.isdigit() and int(spec) >= 1:
                idx = int(spec) - 1
            if idx is None:
                raise FatalInput("%s: --col-%s %r: no such column in header %r"
                                 % (path, r, spec, header))
            cols[r] = idx

    if cols["amount"] is not None:
        cols["quantity"] = None
        cols["price"] = None
    missing = [r for r in ("customer", "date") if cols[r] is None]
    if cols["amount"] is None and (cols["quantity"] is None or cols["price"] is None):
        missing.append("quantity+price or amount")
    if missing:
        raise FatalInput("%s: layout %s: no column for %s" % (path, fmt, ", ".join(missing)))
    nfields = len(header) if header is not None else nfields_first
    for r, i in cols.items():
        if i is not None and i >= nfields:
            raise FatalInput("%s: column for %s (index %d) beyond the %d fields of the %s"
                             % (path, r, i + 1, nfields,
                                "header" if header is not None else "first line"))
    return fmt, cols


# --- field parsers ---------------------------------------------------------------------------

INT_RE = re.compile(r"[+-]?[0-9]+")
DEC_RE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?")


def parse_int(s):
    """Quantity: optional sign and ASCII digits after trimming; must fit int64."""
    s = s.strip(WS)
    if not INT_RE.fullmatch(s):
        return None
    v = int(s)
    if v < INT64_MIN or v > INT64_MAX:
        return None
    return v


def parse_micro(s):
    """Price/amount -> integer micro-units, exact, half away from zero beyond 6 decimals.

    Accepted after trimming: [+-] digits [. digits] [e|E [+-] digits], at least one digit in
    the mantissa ("5", "5.", ".5", "2.55", "1e-05", "+3.0E2").  The result must fit int64
    micro-units.  Anything else (empty, "nan", "1,000", "$5") is None -> bad_number.
    """
    s = s.strip(WS)
    m = DEC_RE.fullmatch(s)
    if not m:
        return None
    sign, ip, fp, ex = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    if not ip and not fp:
        return None
    digits = (ip + fp).lstrip("0")
    mant = int(digits) if digits else 0
    exp = int(ex) if ex is not None else 0
    shift = exp - len(fp) + 6  # value * 10**6 == mant * 10**shift
    if mant == 0:
        v = 0
    elif shift >= 0:
        if len(digits) + shift > 20:  # certainly beyond int64
            return None
        v = mant * 10**shift
    else:
        if -shift > len(digits) + 1:  # |value * 10**6| < 0.1 -> rounds to 0
            v = 0
        else:
            q, r = divmod(mant, 10**(-shift))
            if 2 * r >= 10**(-shift):  # half away from zero (on the magnitude)
                q += 1
            v = q
    if sign == "-":
        v = -v
    if v < INT64_MIN or v > INT64_MAX:
        return None
    return v


MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}

ISO_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?: ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?)?")
SLASH_RE = re.compile(
    r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}|[0-9]{2})(?: ([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?")
MON_RE = re.compile(r"([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4}|[0-9]{2})")
COMPACT_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


class MonthOrderError(Exception):
    pass


def two_digit_year(y):
    return 2000 + y if y <= 68 else 1900 + y


def valid_time(h, mi, se):
    if h is None:
        return True
    if int(h) > 23 or int(mi) > 59:
        return False
    if se is not None and int(se) > 59:
        return False
    return True


def day_number(y, mo, d):
    try:
        return datetime.date(y, mo, d).toordinal()
    except ValueError:
        return None


def parse_day(s, day_first):
    """Return the proleptic Gregorian ordinal of the calendar day, or None (bad_date).

    Raises MonthOrderError when a slash date's month field exceeds 12 (fatal, README).
    """
    s = s.strip(WS)
    m = ISO_RE.fullmatch(s)
    if m:
        if not valid_time(m.group(4), m.group(5), m.group(6)):
            return None
        return day_number(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = SLASH_RE.fullmatch(s)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        mo, d = (b, a) if day_first else (a, b)
        if mo > 12:
            raise MonthOrderError(
                "date %r has month %d > 12: contradicts %s order (use %s)"
                % (s, mo, "day-first" if day_first else "month-first",
                   "no --day-first" if day_first else "--day-first"))
        yy = int(y) if len(y) == 4 else two_digit_year(int(y))
        if not valid_time(m.group(4), m.group(5), m.group(6)):
            return None
        return day_number(yy, mo, d)
    m = MON_RE.fullmatch(s)
    if m:
        mo = MONTHS.get(m.group(2).lower())
        if mo is None:
            return None
        y = m.group(3)
        yy = int(y) if len(y) == 4 else two_digit_year(int(y))
        return day_number(yy, mo, int(m.group(1)))
    m = COMPACT_RE.fullmatch(s)
    if m:
        return day_number(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


ID_FLOAT_RE = re.compile(r"([0-9]+)\.0+")


def normalize_id(s):
    s = s.strip(WS)
    m = ID_FLOAT_RE.fullmatch(s)
    if m:
        return m.group(1)
    return s


def monetary_float(total_micro):
    """Correctly rounded float64 of total_micro / 10**6 (Python int true division is exact)."""
    return float(Fraction(total_micro, MICRO))


# --- record reader ---------------------------------------------------------------------------

def strip_line_end(raw):
    if raw.endswith("\r\n"):
        return raw[:-2]
    if raw.endswith("\n") or raw.endswith("\r"):
        return raw[:-1]
    return raw


def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="latin-1", newline="")
    return open(path, "r", encoding="latin-1", newline="")


def records(f, delimiter, quotechar):
    """Yield (first physical line number, raw record text without line end, fields).

    fields is None for a blank record.  The raw text is exactly the bytes the record spans
    (including line breaks inside quoted fields), recovered by recording the physical lines the
    csv reader pulls: it never reads ahead of the record it returns.
    """
    lineno = [0]
    buf = []

    def lines():
        for line in f:
            lineno[0] += 1
            buf.append(line)
            yield line

    if delimiter == "whitespace":
        for line in lines():
            buf.clear()
            raw = strip_line_end(line)
            body = raw.strip(" \t")
            yield lineno[0], raw, (re.split(r"[ \t]+", body) if body else None)
        return
    reader = csv.reader(lines(), delimiter=delimiter, quotechar=quotechar, doublequote=True,
                        strict=False, skipinitialspace=False, quoting=csv.QUOTE_MINIMAL)
    start = 1
    for row in reader:
        raw = strip_line_end("".join(buf))
        buf.clear()
        yield start, raw, (row if raw != "" else None)
        start = lineno[0] + 1


# --- main computation ------------------------------------------------------------------------

class Customer:
    __slots__ = ("last_day", "lines", "invoices", "days", "micro")

    def __init__(self):
        self.last_day = None
        self.lines = 0
        self.invoices = set()
        self.days = set()
        self.micro = 0


def compute(args, log=sys.stderr):
    counts = {f: 0 for f in FATES}
    examples = {f: [] for f in FATES}
    blank = 0
    seen = set()
    customers = {}
    net_micro = {}  # customer -> summed signed micro-units of cancellation lines (net policy)
    files_info = []
    have_invoice_all = True
    per_file_layout = []

    for path in args.input:
        with open_text(path) as f:
            it = records(f, args.delimiter, args.quote)
            header = None
            fmt = cols = None
            expected = None
            file_lines = 0
            for lineno, raw, fields in it:
                if fields is None:
                    blank += 1
                    continue
                if cols is None:
                    if not args.no_header:
                        header = fields
                        fmt, cols = resolve_layout(args, header, path, None)
                        expected = len(header)
                        continue
                    fmt, cols = resolve_layout(args, None, path, len(fields))
                    expected = len(fields)
                file_lines += 1

                def fate(name):
                    counts[name] += 1
                    if len(examples[name]) < args.examples:
                        examples[name].append("%s:%d" % (path, lineno))

                if len(fields) != expected:
                    fate("bad_field_count")
                    continue
                if cols["amount"] is not None:
                    qty = 1
                    price = parse_micro(fields[cols["amount"]])
                else:
                    qty = parse_int(fields[cols["quantity"]])
                    price = parse_micro(fields[cols["price"]])
                if qty is None or price is None:
                    fate("bad_number")
                    continue
                try:
                    day = parse_day(fields[cols["date"]], args.day_first)
                except MonthOrderError as e:
                    raise FatalInput("%s:%d: %s" % (path, lineno, e))
                if day is None:
                    fate("bad_date")
                    continue
                cust = normalize_id(fields[cols["customer"]])
                if cust == "":
                    fate("missing_customer")
                    continue
                key = (path, raw) if args.duplicate_scope == "file" else raw
                if key in seen:
                    fate("duplicate")
                    continue
                seen.add(key)
                inv = fields[cols["invoice"]].strip(WS) if cols["invoice"] is not None else None
                if (inv is not None and inv.startswith("C")) or qty < 0:
                    fate("cancellation")
                    if args.cancellations == "net":
                        net_micro[cust] = net_micro.get(cust, 0) + qty * price
                    continue
                if qty == 0:
                    fate("zero_quantity")
                    continue
                if price <= 0:
                    fate("nonpositive_price")
                    continue
                fate("kept")
                c = customers.get(cust)
                if c is None:
                    c = customers[cust] = Customer()
                if c.last_day is None or day > c.last_day:
                    c.last_day = day
                c.lines += 1
                if inv is not None:
                    c.invoices.add(inv)
                c.days.add(day)
                c.micro += qty * price
            if cols is None:
                print("warning: %s: no header and no data" % path, file=log)
            else:
                if cols["invoice"] is None:
                    have_invoice_all = False
                per_file_layout.append(fmt)
            files_info.append({"path": path, "format": fmt, "data_lines": file_lines})

    freq = args.frequency
    if freq is None:
        freq = "invoices" if (have_invoice_all and per_file_layout) else "lines"
    if freq == "invoices" and not have_invoice_all:
        raise FatalInput("--frequency invoices needs an invoice column in every input")

    if args.snapshot:
        try:
            snap = datetime.date.fromisoformat(args.snapshot)
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", args.snapshot):
                raise ValueError
        except ValueError:
            raise FatalInput("--snapshot %r: expected YYYY-MM-DD" % args.snapshot)
        snap = snap.toordinal()
    elif customers:
        snap = max(c.last_day for c in customers.values()) + 1
    else:
        snap = None

    rows = []
    nonpos = 0
    total_all = 0
    for cust in sorted(customers, key=lambda s: s.encode("latin-1")):
        c = customers[cust]
        micro = c.micro + net_micro.get(cust, 0)
        if micro <= 0:
            nonpos += 1
        total_all += micro
        f = {"invoices": len(c.invoices), "lines": c.lines, "days": len(c.days)}[freq]
        rows.append((cust, snap - c.last_day, f, micro))

    counters = dict(counts)
    counters.update({
        "data_lines": sum(counts.values()),
        "blank_lines": blank,
        "customers": len(rows),
        "customers_nonpositive_monetary": nonpos,
        "monetary_total_micro": str(total_all),
        "snapshot": datetime.date.fromordinal(snap).isoformat() if snap is not None else None,
        "frequency": freq,
        "cancellations": args.cancellations,
        "duplicate_scope": args.duplicate_scope,
        "day_first": bool(args.day_first),
        "files": files_info,
        "examples": examples,
    })
    return rows, counters


def write_csv(rows, path):
    with open(path, "w", encoding="latin-1", newline="") as out:
        w = csv.writer(out, lineterminator="\n")
        w.writerow(["customer_id", "recency", "frequency", "monetary"])
        for cust, rec, freq, micro in rows:
            w.writerow([cust, rec, freq, repr(monetary_float(micro))])


def build_parser():
    p = argparse.ArgumentParser(
        description="Exact reference RFM table from transaction CSV(s) (README 'Data semantics').",
        epilog="Exit status: 0 success, 1 bad input or configuration.")
    p.add_argument("--input", action="append", required=True, metavar="FILE",
                   help="input file (repeatable; .gz accepted); files are read in the given order")
    p.add_argument("--format", default="auto",
                   choices=["auto", "online-retail", "online-retail-ii", "amount"],
                   help="input layout (default: auto, by header, per file)")
    p.add_argument("--delimiter", default=",",
                   help="field delimiter: one character, 'tab', or 'whitespace' (runs of blanks, "
                        "no quoting) (default ',')")
    p.add_argument("--quote", default='"', help="quote character (default '\"')")
    p.add_argument("--no-header", action="store_true",
                   help="files have no header line; columns via --col-* (1-based) or the "
                        "preset's canonical positions")
    for r in ROLES:
        p.add_argument("--col-" + r, default=None, metavar="NAME|INDEX",
                       help="column of the %s (header name, or 1-based index)" % r)
    p.add_argument("--day-first", action="store_true", help="slash dates are D/M/Y")
    p.add_argument("--frequency", choices=["invoices", "lines", "days"], default=None,
                   help="default: invoices if every input has an invoice column, else lines")
    p.add_argument("--cancellations", choices=["drop", "net"], default="drop")
    p.add_argument("--duplicate-scope", choices=["all", "file"], default="all",
                   help="duplicates are looked for across all inputs (default) or per file")
    p.add_argument("--snapshot", default=None, metavar="YYYY-MM-DD",
                   help="reference day (default: latest kept purchase day + 1)")
    p.add_argument("--out-csv", required=True, metavar="OUT.csv",
                   help="customer_id,recency,frequency,monetary sorted by id bytes (latin-1)")
    p.add_argument("--counters-json", default=None, metavar="C.json",
                   help="fate counters, snapshot and settings as JSON")
    p.add_argument("--examples", type=int, default=5,
                   help="file:line examples kept per fate in the counters JSON (default 5)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.delimiter == "tab":
        args.delimiter = "\t"
    if args.delimiter != "whitespace" and len(args.delimiter) != 1:
        print("error: --delimiter must be one character, 'tab' or 'whitespace'", file=sys.stderr)
        return 1
    if len(args.quote) != 1:
        print("error: --quote must be one character", file=sys.stderr)
        return 1
    csv.field_size_limit(sys.maxsize)
    try:
        rows, counters = compute(args)
    except FatalInput as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    except OSError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    write_csv(rows, args.out_csv)
    if args.counters_json:
        with open(args.counters_json, "w") as f:
            json.dump(counters, f, indent=1, sort_keys=False)
            f.write("\n")
    summary = " ".join("%s=%d" % (k, counters[k]) for k in FATES)
    print("%s blank_lines=%d customers=%d snapshot=%s" % (summary, counters["blank_lines"],
          counters["customers"], counters["snapshot"]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
