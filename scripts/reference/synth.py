#!/usr/bin/python3
"""Deterministic synthetic, deliberately messy transaction files for the reference cross-checks.

Writes Online Retail / Online Retail II / amount layouts with: ~25 % missing customer ids, ids as
`17850.0`, about 1 % exact duplicate lines, C-invoice cancellations, negative quantities on other
invoices, A-invoices with negative prices, zero prices and quantities, quoted descriptions with
commas, doubled quotes and line breaks, raw latin-1 and mis-encoded UTF-8 bytes, a few
unparseable numbers and dates, and lines with too many fields.  Not a benchmark generator (use
rfmseg's own), just enough variety to make two independent implementations disagree if either
is wrong.
"""

import argparse
import datetime
import random
import sys

HEADERS = {
    "online-retail": b"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,"
                     b"Country",
    "online-retail-ii": b"Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,"
                        b"Country",
    "amount": b"customer_id,trans_date,tran_amount",
}
WORDS = [b"WHITE", b"HANGING", b"HEART", b"T-LIGHT", b"HOLDER", b"LANTERN", b"CREAM", b"CUPID",
         b"HEARTS", b"COAT", b"HANGER", b"KNITTED", b"UNION", b"FLAG", b"HOT", b"WATER", b"BOTTLE",
         b"caf\xe9", b"\xc3\xa2\xc2\xa3", b"\xa3", b"SET/3"]
MONTHS = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
          b"Dec"]


def fmt_date(d, style, rnd):
    h, m, s = rnd.randrange(24), rnd.randrange(60), rnd.randrange(60)
    if style == "iso":
        return b"%04d-%02d-%02d %02d:%02d:%02d" % (d.year, d.month, d.day, h, m, s)
    if style == "slash":
        return b"%d/%d/%d %d:%02d" % (d.month, d.day, d.year, h, m)
    if style == "slash-dayfirst":
        return b"%d/%d/%d %d:%02d" % (d.day, d.month, d.year, h, m)
    if style == "slash2":
        return b"%d/%d/%02d %d:%02d" % (d.month, d.day, d.year % 100, h, m)
    if style == "mon":
        return b"%02d-%s-%02d" % (d.day, MONTHS[d.month - 1], d.year % 100)
    if style == "compact":
        return b"%04d%02d%02d" % (d.year, d.month, d.day)
    raise ValueError(style)


def description(rnd):
    w = b" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(0, 5)))
    r = rnd.random()
    if r < 0.05:
        return b'"' + w + b', LARGE"'
    if r < 0.08:
        return b'"' + w + b' ""SPECIAL"" EDITION"'
    if r < 0.10:
        return b'"' + w + b'\nSECOND LINE"'
    if r < 0.11:
        return b'"' + w + b'\r\nCRLF, LINE"'
    return w.replace(b",", b" ")


def price_text(rnd):
    cents = rnd.choice([rnd.randint(1, 2000), rnd.randint(1, 100000), rnd.randint(1, 99)])
    r = rnd.random()
    if r < 0.05:
        return b"%d.%03d" % (cents // 100, rnd.randrange(1000))  # 3 decimals
    if r < 0.06:
        return b"%d.%07d" % (cents // 1000, rnd.randrange(10**7))  # rounding beyond 6 decimals
    if r < 0.07:
        return b"%d" % (cents // 100 + 1)
    return b"%d.%02d" % (cents // 100, cents % 100)


def generate(a):
    rnd = random.Random(a.seed)
    out = [HEADERS[a.layout]]
    customers = ["%05d" % rnd.randint(12000, 12000 + a.customers - 1) if a.layout != "amount"
                 else "CS%04d" % rnd.randint(1000, 1000 + a.customers - 1)
                 for _ in range(a.customers)]
    start = datetime.date(2009, 12, 1)
    invoice = 489434
    lines = []
    while len(lines) < a.lines:
        invoice += 1
        cust = rnd.choice(customers)
        if rnd.random() < 0.25:
            cust = ""
        day = start + datetime.timedelta(days=rnd.randrange(a.days))
        date = fmt_date(day, a.date_style, rnd)
        country = rnd.choice([b"United Kingdom", b"France", b"EIRE", b"Germany"])
        r = rnd.random()
        kind = "C" if r < 0.02 else ("A" if r < 0.022 else "")
        for _ in range(rnd.randint(1, 12 if a.layout != "amount" else 1)):
            c = cust
            if c and a.layout != "amount" and rnd.random() < 0.1:
                c = c + ".0"
            if c and rnd.random() < 0.01:
                c = " " + c + " "
            cb = c.encode()
            if a.layout == "amount":
                amt = price_text(rnd)
                if rnd.random() < 0.01:
                    amt = b"-" + amt
                if rnd.random() < 0.005:
                    amt = b"0"
                if rnd.random() < 0.002:
                    amt = b"n/a"
                d = date if rnd.random() > 0.002 else b"31-Foo-10"
                line = b",".join([cb, d, amt])
            else:
                qty = rnd.choice([1, 1, 2, 3, 4, 6, 12, 24, 48])
                price = price_text(rnd)
                inv = b"%d" % invoice
                if kind == "C":
                    inv = b"C" + inv
                    qty = -qty
                elif kind == "A":
                    inv = b"A" + inv
                    price = b"-" + price
                else:
                    r2 = rnd.random()
                    if r2 < 0.003:
                        qty = -qty
                    elif r2 < 0.004:
                        qty = 0
                    elif r2 < 0.009:
                        price = b"0"
                    elif r2 < 0.010:
                        price = b"0.000"
                q = b"%d" % qty
                if rnd.random() < 0.001:
                    q = b"1.5"
                bad = b"30/2/2010 8:00" if a.date_style == "slash-dayfirst" else b"2/30/2010 8:00"
                d = date if rnd.random() > 0.001 else bad
                fields = [inv, b"%05d%s" % (rnd.randrange(100000), rnd.choice([b"", b"A", b"B"])),
                          description(rnd), q, d, price, cb, country]
                if rnd.random() < 0.001:
                    fields.append(b"extra")
                line = b",".join(fields)
            lines.append(line)
            if rnd.random() < 0.01:
                lines.append(line)  # exact duplicate
    out.extend(lines[: a.lines])
    eol = b"\r\n" if a.crlf else b"\n"
    return eol.join(out) + eol


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layout", choices=sorted(HEADERS), default="online-retail")
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--customers", type=int, default=500)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--date-style", default="slash",
                    choices=["iso", "slash", "slash-dayfirst", "slash2", "mon", "compact"])
    ap.add_argument("--crlf", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    data = generate(a)
    with open(a.out, "wb") as f:
        f.write(data)
    print("wrote %s (%d bytes)" % (a.out, len(data)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
