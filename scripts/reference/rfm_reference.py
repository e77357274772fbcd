#!/usr/bin/python3
"""Independent, exact reference computation of the RFM table (README "Data semantics").

Written deliberately plainly (Python strings, Python ints, fractions) so that it shares no code
and no numeric shortcuts with the C++ implementation or with pandas.  The output CSV is the
oracle that `compare_results.py rfm` checks rfmseg's HDF5 result against, bit for bit.

Rules implemented (each one is a decision the C++ side makes too; README.md beside this file has
the full list):

* Input bytes are decoded as latin-1, so every byte maps to one character and back: ids,
  invoices and duplicate detection are byte-exact and no encoding error can occur.
* Line ends are LF or CRLF (a lone CR is data).  A record ends at the first LF that follows an
  even number of quote characters counted from the record's start (quote parity: what a
  parallel reader can decide from byte counts alone).  Fields follow RFC 4180 leniently: a field
  that *starts* with the quote is quoted (delimiters, "" and line breaks inside; text after the
  closing quote is appended up to the next delimiter); a quote elsewhere is a literal character.
* The first record of each file is the header (unless --no-header).  Records that are empty
  after trimming ASCII whitespace are blank: skipped and counted as `blank_lines`.
* Every data line gets exactly one fate, in this order:
  bad_field_count, bad_number, bad_date, bad_customer_id (longer than 256 bytes, or a control
  byte 0x00-0x1F / 0x7F in the id), missing_customer, after_snapshot (dated after --snapshot:
  the result is as of that day), outside_window (with --window DAYS: snapshot - day > DAYS; without
  --snapshot the snapshot is found by a first run without the window), duplicate, cancellation, zero_quantity, nonpositive_price, kept.
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
    "bad_customer_id",
    "missing_customer",
    "after_snapshot",
    "outside_window",
    "duplicate",
    "cancellation",
    "zero_quantity",
    "nonpositive_price",
    "kept",
]

# ASCII whitespace.  str.strip() without arguments would also strip latin-1 characters such as
# NBSP (0xA0) and NEL (0x85), which the C++ side does not.  Ids, invoices, header names and blank
# records use WS; numbers and dates are trimmed of spaces and tabs only (NUM_WS).
WS = " \t\n\v\f\r"
NUM_WS = " \t"

MICRO = 10**6
MAX_ABS_MICRO = 10**18      # |price| or |amount| <= 10**12 currency units
MAX_ABS_QUANTITY = 10**12
MAX_CUSTOMER_ID_BYTES = 256
CONTROL_RE = re.compile("[\x00-\x1f\x7f]")  # ids are latin-1 decoded: one char per byte
MIN_YEAR, MAX_YEAR = 1900, 2199

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

# The amount layout's usual header names (used by pipeline_reference.py).
AMOUNT_CUSTOMER_NAMES = ["customer_id", "customer id", "customerid"]
AMOUNT_DATE_NAMES = ["trans_date", "date", "transaction_date", "invoicedate", "order_date"]
AMOUNT_AMOUNT_NAMES = ["tran_amount", "amount", "dollar_value", "transaction_amount", "sales"]

ROLES = ["customer", "invoice", "date", "quantity", "price", "amount"]

# Header names are compared after name_key(): UTF-8 BOM dropped, ' ', '\t', '_', '-', '.'
# removed, ASCII letters lowercased ("Customer ID" == "CustomerID" == "customer_id").  Without
# an explicit mapping a role takes the column of the first alias present (alias order).
ALIASES = {
    "customer": ["customerid", "customer", "custid", "customerno", "customernumber", "clientid"],
    "invoice": ["invoiceno", "invoice", "invoiceid", "invoicenumber", "orderid", "orderno"],
    "date": ["invoicedate", "transdate", "date", "transactiondate", "orderdate", "purchasedate"],
    "quantity": ["quantity", "qty"],
    "price": ["unitprice", "price"],
    "amount": ["tranamount", "amount", "dollarvalue", "transactionamount", "sales",
               "totalamount"],
}

_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class FatalInput(Exception):
    """Bad input or configuration: exit status 1, like rfmseg."""


def name_key(s):
    if s.startswith("\xef\xbb\xbf"):
        s = s[3:]
    for c in " \t_-.":
        s = s.replace(c, "")
    return s.translate(_ASCII_LOWER)


def resolve_layout(args, header, path, nfields_first):
    """Return (format_name, {role: 0-based index or None}).

    header is the list of header fields, or None with --no-header (then nfields_first is the
    field count of the file's first record).
    """
    keys = [name_key(h) for h in header] if header is not None else None
    fmt = args.format
    mapping = {r: getattr(args, "col_" + r) or "" for r in ROLES}
    use_aliases = {r: True for r in ROLES}
    if fmt in PRESETS:
        p = PRESETS[fmt]
        for r in ("customer", "invoice", "date", "quantity", "price"):
            if not mapping[r]:
                mapping[r] = (str(p["header"].index(p[r]) + 1) if header is None else p[r])
        use_aliases["invoice"] = use_aliases["quantity"] = use_aliases["price"] = False
    elif fmt == "amount" and header is None:
        for r, pos in (("customer", "1"), ("date", "2"), ("amount", "3")):
            if not mapping[r]:
                mapping[r] = pos

    def find(role):
        spec = mapping[role]
        if spec:
            if spec.isdigit() and spec.isascii():
                idx = int(spec)
                if idx < 1:
                    raise FatalInput("--col-%s must be a 1-based column index or a name" % role)
                if header is not None and idx > len(header):
                    raise FatalInput("%s: --col-%s %s is beyond the %d columns of the header"
                                     % (path, role, spec, len(header)))
                return idx - 1
            if header is None:
                raise FatalInput("--col-%s %r names a column, but --no-header is set" % (role, spec))
            want = name_key(spec)
            for i, k in enumerate(keys):
                if k == want:
                    return i
            raise FatalInput("%s: no column %r (--col-%s) in header %r" % (path, spec, role, header))
        if header is None or not use_aliases[role]:
            return None
        for alias in ALIASES[role]:
            for i, k in enumerate(keys):
                if k == alias:
                    return i
        return None

    cols = {r: None for r in ROLES}
    cols["customer"] = find("customer")
    cols["invoice"] = find("invoice")
    cols["date"] = find("date")
    if fmt != "amount":
        cols["quantity"] = find("quantity")
        cols["price"] = find("price")
    if cols["quantity"] is None or cols["price"] is None or mapping["amount"]:
        cols["amount"] = find("amount")
        if cols["amount"] is not None:
            cols["quantity"] = cols["price"] = None
    missing = [r for r in ("customer", "date") if cols[r] is None]
    if cols["amount"] is None:
        missing += [r for r in ("quantity", "price") if cols[r] is None]
    if missing:
        raise FatalInput("%s: cannot find the %s column(s)%s (use --format or --col-*)"
                         % (path, ", ".join(missing),
                            " in header %r" % header if header is not None else ""))
    if fmt == "auto":
        def key_at(i):
            return keys[i] if (i is not None and keys is not None) else None
        if cols["amount"] is not None:
            fmt = "amount"
        elif key_at(cols["invoice"]) == "invoiceno" and key_at(cols["price"]) == "unitprice":
            fmt = "online-retail"
        elif key_at(cols["invoice"]) == "invoice" and key_at(cols["price"]) == "price":
            fmt = "online-retail-ii"
        else:
            fmt = "custom"
    nfields = len(header) if header is not None else nfields_first
    for r, i in cols.items():
        if i is not None and i >= nfields:
            raise FatalInput("%s: column for %s (index %d) beyond the %d fields of the %s"
                             % (path, r, i + 1, nfields,
                                "header" if header is not None else "first line"))
    return fmt, cols


# --- field parsers ---------------------------------------------------------------------------

INT_RE = re.compile(r"([+-]?)([0-9]+)")


def parse_int(s):
    """Quantity: [+-]digits after trimming blanks; |q| <= 10**12.  '6.0', '1e3' -> None."""
    m = INT_RE.fullmatch(s.strip(NUM_WS))
    if not m:
        return None
    v = int(m.group(2))
    if v > MAX_ABS_QUANTITY:
        return None
    return -v if m.group(1) == "-" else v


DEC_RE = {".": re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?"),
          ",": re.compile(r"([+-]?)([0-9]*)(?:,([0-9]*))?")}


def parse_micro(s, decimal_comma=False):
    """Price/amount -> integer micro-units, exact, half away from zero beyond 6 decimals.

    Accepted after trimming blanks: [+-] digits [. digits], at least one digit ("5", "5.", ".5",
    "+3", "-0", "2.55").  No exponent, no nan/inf, no thousands separator.  |result| <= 10**18
    (10**12 currency units).  Anything else is None -> bad_number.
    """
    m = DEC_RE["," if decimal_comma else "."].fullmatch(s.strip(NUM_WS))
    if not m:
        return None
    sign, ip, fp = m.group(1), m.group(2), m.group(3) or ""
    if not ip and not fp:
        return None
    n = int(ip + fp)  # value == n / 10**len(fp)
    if len(fp) <= 6:
        q = n * 10**(6 - len(fp))
    else:
        q, r = divmod(n, 10**(len(fp) - 6))
        if 2 * r >= 10**(len(fp) - 6):  # half away from zero (on the magnitude)
            q += 1
    if q > MAX_ABS_MICRO:
        return None
    return -q if sign == "-" else q


MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}

# Optional time of day after a date: a run of blanks/'T' (starting right after the date), then
# optionally H:MM[:SS[.fff]] with an optional AM/PM marker.  Validated (hour <= 23, minutes
# <= 59, seconds <= 60), then ignored.
TIME = (r"(?:[ T]+(?:([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]*)?)? *(?:AM|PM|am|pm)?)?)?")
ISO_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})" + TIME)
SLASH_RE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}|[0-9]{2})" + TIME)
MON_RE = re.compile(r"([0-9]{1,2})([- ])([A-Za-z]{3})\2([0-9]{4}|[0-9]{2})" + TIME)
COMPACT_RE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")

DATE_FORMATS = ["auto", "iso", "mdy", "dmy", "slash", "yyyymmdd", "dd-mon-yy"]


class MonthOrderError(Exception):
    pass


def two_digit_year(y):
    return 2000 + y if y <= 68 else 1900 + y


def valid_time(m, first):
    h, mi, se = m.group(first), m.group(first + 1), m.group(first + 2)
    if h is None:
        return True
    return int(h) <= 23 and int(mi) <= 59 and (se is None or int(se) <= 60)


def day_number(y, mo, d):
    if not MIN_YEAR <= y <= MAX_YEAR:
        return None
    try:
        return datetime.date(y, mo, d).toordinal()
    except ValueError:
        return None


def year_of(text):
    return int(text) if len(text) == 4 else two_digit_year(int(text))


def parse_day(s, day_first, date_format="auto"):
    """Return the proleptic Gregorian ordinal of the calendar day, or None (bad_date).

    Raises MonthOrderError for a slash date whose month field exceeds 12 while its day field is
    1..12 (the file's order is the other one: fatal).  `13/13/2011` is just a bad date.
    """
    s = s.strip(NUM_WS)
    if date_format in ("auto", "iso"):
        m = ISO_RE.fullmatch(s)
        if m:
            if not valid_time(m, 4):
                return None
            return day_number(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if date_format in ("auto", "mdy", "dmy", "slash"):
        m = SLASH_RE.fullmatch(s)
        if m:
            if not valid_time(m, 4):
                return None
            a, b = int(m.group(1)), int(m.group(2))
            mo, d = (b, a) if day_first else (a, b)
            if 12 < mo <= 31 and 1 <= d <= 12:
                raise MonthOrderError(
                    "date %r has month %d > 12: contradicts %s order (use %s)"
                    % (s, mo, "day-first" if day_first else "month-first",
                       "no --day-first" if day_first else "--day-first"))
            return day_number(year_of(m.group(3)), mo, d)
    if date_format in ("auto", "dd-mon-yy"):
        m = MON_RE.fullmatch(s)
        if m:
            if not valid_time(m, 5):
                return None
            mo = MONTHS.get(m.group(3).lower())
            if mo is None:
                return None
            return day_number(year_of(m.group(4)), mo, int(m.group(1)))
    if date_format in ("auto", "yyyymmdd"):
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

def read_text(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return f.read().decode("latin-1")


def strip_line_end(raw):
    """Drop a final LF, then a final CR (so CRLF, LF, and a CR at end of file)."""
    if raw.endswith("\n"):
        raw = raw[:-1]
    if raw.endswith("\r"):
        raw = raw[:-1]
    return raw


def records(text, quote):
    """Yield (first physical line number, record text including its line end).

    A record ends at the first LF preceded by an even number of quote characters since the
    record's start, or at end of file.  Physical lines are counted by LF only.
    """
    n = len(text)
    pos = 0
    line = 1
    while pos < n:
        start = pos
        odd = False
        while True:
            nl = text.find("\n", pos)
            seg_end = n if nl < 0 else nl
            if text.count(quote, pos, seg_end) & 1:
                odd = not odd
            if nl < 0:
                end = n
                break
            if not odd:
                end = nl + 1
                break
            pos = nl + 1
        rec = text[start:end]
        yield line, rec
        line += rec.count("\n")
        pos = end


class Splitter:
    """Fields of one record (without its line end); None when a quoted field is not closed."""

    def __init__(self, delimiter, quote, whitespace):
        self.d, self.q, self.ws = delimiter, quote, whitespace

    def is_sep(self, c):
        return c in " \t" if self.ws else c == self.d

    def split(self, rec):
        if self.q not in rec:
            if self.ws:
                body = rec.strip(" \t")
                return re.split(r"[ \t]+", body) if body else []
            return rec.split(self.d)
        fields = []
        i, n = 0, len(rec)
        if self.ws:
            while i < n and self.is_sep(rec[i]):
                i += 1
            if i == n:
                return fields
        while True:
            if i < n and rec[i] == self.q:
                buf = []
                i += 1
                closed = False
                while i < n:
                    c = rec[i]
                    if c == self.q:
                        if i + 1 < n and rec[i + 1] == self.q:
                            buf.append(c)
                            i += 2
                            continue
                        i += 1
                        closed = True
                        break
                    buf.append(c)
                    i += 1
                if not closed:
                    return None
                while i < n and not self.is_sep(rec[i]):
                    buf.append(rec[i])
                    i += 1
                fields.append("".join(buf))
            else:
                start = i
                while i < n and not self.is_sep(rec[i]):
                    i += 1
                fields.append(rec[start:i])
            if i >= n:
                return fields
            i += 1  # the separator
            if self.ws:
                while i < n and self.is_sep(rec[i]):
                    i += 1
                if i == n:
                    return fields
            elif i == n:
                fields.append("")
                return fields


def resolve_dialect(delimiter, quote, first_record):
    """(delimiter char or None, whitespace?) for one file; 'auto' looks at its first record."""
    if delimiter == "auto":
        best, best_n = ",", 0
        for c in ",;\t":
            k = first_record.count(c)
            if k > best_n:
                best, best_n = c, k
        if best_n == 0 and any(c in " \t" for c in strip_line_end(first_record).strip(WS)):
            return None, True
        return best, False
    if delimiter in ("whitespace", "space"):
        return None, True
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}
    if delimiter in named:
        return named[delimiter], False
    if len(delimiter) == 1:
        return delimiter, False
    raise FatalInput("--delimiter must be auto, comma, semicolon, tab, whitespace or a single "
                     "character, not %r" % delimiter)


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
    given_snap = None  # --snapshot: lines dated after it are after_snapshot
    if args.snapshot:
        m = ISO_RE.fullmatch(args.snapshot)
        if m and len(args.snapshot) == 10 and valid_time(m, 4):
            given_snap = day_number(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if given_snap is None:
            raise FatalInput("--snapshot %r: expected a date YYYY-MM-DD" % args.snapshot)
    first_day = None  # --window: lines dated before it are outside_window
    if args.window:
        if given_snap is not None:
            first_day = given_snap - args.window
        else:
            unwindowed = argparse.Namespace(**vars(args))
            unwindowed.window = 0
            _, plain = compute(unwindowed, log)
            first_day = datetime.date.fromisoformat(plain["snapshot"]).toordinal() - args.window
    counts = {f: 0 for f in FATES}
    examples = {f: [] for f in FATES}
    blank = 0
    seen = set()
    customers = {}
    net_micro = {}  # customer -> summed signed micro-units of cancellation lines (net policy)
    files_info = []
    have_invoice_all = True
    day_first = args.day_first
    if args.date_format in ("mdy", "dmy"):
        day_first = args.date_format == "dmy"

    for path in args.input:
        text = read_text(path)
        if text == "":
            print("warning: input %r is empty; skipped" % path, file=log)
            files_info.append({"path": path, "format": None, "data_lines": 0})
            continue
        fmt = cols = expected = splitter = None
        file_lines = 0
        for lineno, rec in records(text, args.quote):
            raw = strip_line_end(rec)
            if splitter is None:
                delim, ws = resolve_dialect(args.delimiter, args.quote, rec)
                splitter = Splitter(delim, args.quote, ws)
                fields = splitter.split(raw)
                if fields is None:
                    raise FatalInput("%s:1: the header has an unclosed quote" % path)
                if not args.no_header:
                    if len(fields) <= 1 and not ws and not args.col_customer:
                        raise FatalInput("%s: the header [%s] has a single column; set "
                                         "--delimiter or map the columns" % (path, raw))
                    fmt, cols = resolve_layout(args, fields, path, None)
                    expected = len(fields)
                    continue
                fmt, cols = resolve_layout(args, None, path, len(fields))
                expected = len(fields)
            if raw.strip(WS) == "":
                blank += 1
                continue
            file_lines += 1

            def fate(name):
                counts[name] += 1
                if len(examples[name]) < args.examples:
                    examples[name].append("%s:%d" % (path, lineno))

            fields = splitter.split(raw)
            if fields is None or len(fields) != expected:
                fate("bad_field_count")
                continue
            if cols["amount"] is not None:
                qty = 1
                price = parse_micro(fields[cols["amount"]], args.decimal_comma)
            else:
                qty = parse_int(fields[cols["quantity"]])
                price = parse_micro(fields[cols["price"]], args.decimal_comma)
            if qty is None or price is None:
                fate("bad_number")
                continue
            try:
                day = parse_day(fields[cols["date"]], day_first, args.date_format)
            except MonthOrderError as e:
                raise FatalInput("%s:%d: %s" % (path, lineno, e))
            if day is None:
                fate("bad_date")
                continue
            cust = normalize_id(fields[cols["customer"]])
            if len(cust) > MAX_CUSTOMER_ID_BYTES or CONTROL_RE.search(cust):
                fate("bad_customer_id")
                continue
            if cust == "":
                fate("missing_customer")
                continue
            if given_snap is not None and day > given_snap:
                fate("after_snapshot")
                continue
            if first_day is not None and day < first_day:
                fate("outside_window")
                continue
            inv = fields[cols["invoice"]].strip(WS) if cols["invoice"] is not None else None
            # Duplicate: same record text (line end excluded) and, so with several layouts,
            # the same parsed line.  --duplicates auto drops them only in files with an invoice
            # column (an amount-only log may hold two real, identical purchases).
            drop_duplicates = args.duplicates == "drop" or (
                args.duplicates == "auto" and cols["invoice"] is not None)
            key = (raw, cust, inv, day, qty, price)
            if args.duplicate_scope == "file":
                key = (path,) + key
            if drop_duplicates:
                if key in seen:
                    fate("duplicate")
                    continue
                seen.add(key)
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
        if cols["invoice"] is None:
            have_invoice_all = False
        files_info.append({"path": path, "format": fmt, "data_lines": file_lines})

    freq = args.frequency
    if freq is None:
        freq = "invoices" if have_invoice_all else "lines"
    if freq == "invoices" and not have_invoice_all:
        raise FatalInput("--frequency invoices needs an invoice column in every input")

    if given_snap is not None:
        snap = given_snap
    elif customers:
        snap = max(c.last_day for c in customers.values()) + 1
    else:
        snap = None
    data_lines = sum(counts.values())
    if not customers:
        raise FatalInput("no usable transactions: all %d data lines were dropped" % data_lines)

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
        "data_lines": data_lines,
        "blank_lines": blank,
        "customers": len(rows),
        "customers_nonpositive_monetary": nonpos,
        "monetary_total_micro": str(total_all),
        "snapshot": datetime.date.fromordinal(snap).isoformat(),
        "frequency": freq,
        "cancellations": args.cancellations,
        "duplicate_scope": args.duplicate_scope,
        "duplicates": args.duplicates,
        "day_first": bool(day_first),
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
    p.add_argument("--delimiter", default="auto",
                   help="auto (most frequent of , ; tab in the first record), comma, semicolon, "
                        "tab, whitespace (runs of blanks), or one character (default auto)")
    p.add_argument("--quote", default='"', help="quote character (default '\"')")
    p.add_argument("--no-header", action="store_true",
                   help="files have no header line; columns via --col-* (1-based) or the "
                        "preset's canonical positions")
    for r in ROLES:
        p.add_argument("--col-" + r, default=None, metavar="NAME|INDEX",
                       help="column of the %s (header name, or 1-based index)" % r)
    p.add_argument("--day-first", action="store_true", help="slash dates are D/M/Y")
    p.add_argument("--date-format", choices=DATE_FORMATS, default="auto",
                   help="auto (by shape), or only one layout; mdy/dmy also set the order")
    p.add_argument("--decimal-comma", action="store_true",
                   help="prices/amounts use ',' as the decimal separator")
    p.add_argument("--frequency", choices=["invoices", "lines", "days"], default=None,
                   help="default: invoices if every input has an invoice column, else lines")
    p.add_argument("--cancellations", choices=["drop", "net"], default="drop")
    p.add_argument("--duplicate-scope", choices=["all", "file"], default="all",
                   help="duplicates are looked for across all inputs (default, like rfmseg) or "
                        "per file")
    p.add_argument("--duplicates", choices=["auto", "drop", "keep"], default="auto",
                   help="exact duplicate lines: drop, keep, or auto (default): drop in files with an "
                        "invoice column, keep in amount-only logs")
    p.add_argument("--snapshot", default=None, metavar="YYYY-MM-DD",
                   help="reference day (default: latest kept purchase day + 1)")
    p.add_argument("--window", type=int, default=0, metavar="DAYS",
                   help="only lines with snapshot - day <= DAYS count; older ones are outside_window "
                        "(default 0 = no window)")
    p.add_argument("--out-csv", required=True, metavar="OUT.csv",
                   help="customer_id,recency,frequency,monetary sorted by id bytes (latin-1)")
    p.add_argument("--counters-json", default=None, metavar="C.json",
                   help="fate counters, snapshot and settings as JSON")
    p.add_argument("--examples", type=int, default=5,
                   help="file:line examples kept per fate in the counters JSON (default 5)")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if len(args.quote) != 1:
        print("error: --quote must be one character", file=sys.stderr)
        return 1
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
