#pragma once
// rfmseg-gen's command line: the options, their defaults and the help text.

#include <stdexcept>
#include <string>

#include "gen/types.hpp"

namespace rfmseg::gen {

enum class Format { online_retail, online_retail_ii, amount };
enum class DateStyle { us, eu, iso, us2, mon, ymd };
enum class IdStyle { cs, padded };

struct Options {
  std::string output;
  std::string groups;
  u64 lines = 0;
  bool lines_set = false;
  u64 customers = 0;
  bool customers_set = false;
  u64 seed = 42;
  double dirt = 0.02;
  Format format = Format::online_retail;
  DateStyle date_style = DateStyle::us;
  bool date_style_set = false;
  IdStyle id_style = IdStyle::cs;
  i64 start_day = 0;  // days since 1970-01-01
  std::string start_text = "2010-12-01";
  u64 days = 373;
  bool crlf = false;
  bool help = false;
  u64 chunk_lines = u64{1} << 18;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

constexpr const char* kHelp = R"(rfmseg-gen: write a synthetic, deliberately messy transaction log for rfmseg.

Usage: mpirun -np P rfmseg-gen --output PATH --lines N [options]

The output is byte-identical for every rank count P (and for P = 1 without mpirun).

Options (--name VALUE or --name=VALUE):
  --output PATH        output CSV file (required; created or truncated)
  --lines N            number of data lines after the header (required, >= 0)
  --customers C        number of customers (default max(1, lines/20))
  --seed S             random seed, unsigned 64-bit (default 42)
  --dirt RATE          dirt rate in [0, 1] (default 0.02); 0 = perfectly clean. Each kind below
                       affects about RATE * weight of the lines:
                         missing customer id (whole invoices)             0.31
                         C-invoice cancellations (whole invoices)         0.15
                         exact duplicate of the previous line             0.12
                         customer id written as 17850.0                   0.10
                         quoted description with "," and doubled quotes   0.10
                         negative quantity on a normal invoice            0.05
                         zero price                                       0.05
                         empty description                                0.05
                         raw Latin-1 (0xA3, 0xC9) or "Â£" bytes in text   0.05
                         A-invoice (bad-debt adjustment, negative price)  0.02
                       (amount format: ids, descriptions and invoice prefixes do not exist, so
                       only missing ids, duplicates and negative/zero amounts occur there)
  --format F           online-retail (default) | online-retail-ii | amount
                         online-retail:    InvoiceNo,StockCode,Description,Quantity,InvoiceDate,
                                           UnitPrice,CustomerID,Country   (ids 12346, 12347, ...)
                         online-retail-ii: Invoice,StockCode,Description,Quantity,InvoiceDate,
                                           Price,Customer ID,Country
                         amount:           customer_id,trans_date,tran_amount (one purchase per
                                           line, amount = basket total)
  --date-style D       us   12/1/2010 8:26          (month first, no padding)
                       eu   1/12/2010 8:26          (day first)
                       iso  2010-12-01 08:26:00
                       us2  12/1/10 8:26            (two-digit year)
                       mon  01-Dec-10               (DD-Mon-YY, no time)
                       ymd  20101201                (YYYYMMDD, no time)
                       default: us for online-retail, iso for online-retail-ii, mon for amount
  --id-style S         amount format customer ids: cs (CS1112, CS1113, ...; default) or
                       padded (00001, 00002, ...; at least 5 digits)
  --start YYYY-MM-DD   first day of the period (default 2010-12-01)
  --days D             length of the period in days (default 373)
  --crlf               CRLF line ends (default LF)
  --groups PATH        also write the ground truth, one row per customer whose id appears
                       (non-empty) on at least one line, ordered by customer index:
                         customer_id,group,in_table,recency,frequency,monetary,monetary_net,
                         invoices,kept_lines,purchase_days
                       group is the latent group (loyal, regular, new, at_risk, churned).
                       The other columns are what rfmseg must compute with its default cleaning
                       (README "Data semantics"): in_table = 1 when the customer has a kept
                       purchase line (else recency is empty and the numbers are 0); recency in
                       days from the snapshot (printed on stdout); frequency = invoices for the
                       online-retail layouts, kept lines for amount; monetary = sum of
                       quantity * price over kept lines (exact, 2 decimals); monetary_net =
                       monetary plus the cancellation lines (--cancellations net).
                       Needs about 56 bytes per customer on every rank.
  --chunk-lines K      lines per work unit (default 262144; output buffer about 90 bytes per
                       line). Days are packed into units, bigger days split. Only memory use and
                       balance change: the output is the same for every K (a testing knob)
  --help               print this help and exit

Latent customer groups (shares of customers): loyal 12 % (frequent all year, big baskets),
regular 28 %, new 20 % (few purchases, last 16 % of the period only), at_risk 15 % (frequent,
but nothing in the last third), churned 25 % (rare, cheap, first 30 % of the period only).

Rank 0 prints one summary line (lines, bytes, customers, seconds, MB/s); with --groups a second
line with the expected cleaning counts and the snapshot date.
)";

/// Parses and validates the command line; throws UsageError.
Options parse_options(int argc, char** argv);

}  // namespace rfmseg::gen
