// rfmseg-gen: deterministic synthetic transaction logs for rfmseg, written by all ranks at once.
//
// Every output byte is a pure function of the arguments, never of the rank count:
//
//  * Line j (0-based data line) draws one counter-based word W(j) = random_word(seed, LINE, j).
//    Its top 24 bits decide whether j starts a new invoice (probability 1/5, so baskets are
//    geometric with mean 5; line 0 always starts one); the low 40 bits pick the line-level dirt.
//  * An invoice is identified by its start line s. Everything about it (kind, customer, time,
//    products, quantities) is drawn from (seed, s) and (seed, s, line-in-invoice). Its number is
//    536365 + (number of invoice starts before s), which needs a prefix count over earlier lines:
//    each rank counts the starts of its chunk and an allgather gives the prefix.
//  * Lines are spread over the days of the period by a fixed table b[d] (first line of day d,
//    snapped forward to an invoice start), derived from the group activity windows and a weekly
//    pattern (no trade on Saturdays, like the UCI data). Within a day the clock runs from 07:00 to
//    20:00 in line order, so the file is sorted by time.
//  * The work is cut into chunks of whole days (days with more than --chunk-lines lines are split);
//    chunk c goes to rank c mod P. Per round every rank formats one chunk into a private buffer
//    (at most --chunk-lines * kMaxLine bytes), an allgather of the chunk sizes gives each rank its
//    byte offset, and everyone pwrite()s into the one output file that rank 0 created.
//    A chunk that starts inside an invoice re-generates that invoice from its start (and walks
//    back over duplicated lines) without emitting, so the bytes do not depend on where chunks
//    start.
//
// Customers belong to latent groups (pure function of (seed, customer index)) with their own
// purchase rate, activity window (recency), product price tier and quantity profile. The
// customer of an invoice is drawn by rejection sampling: a uniform candidate is accepted with
// probability proportional to its group's rate on that day times a per-customer multiplier.
//
// With --groups the ranks also compute the exact RFM table rfmseg must produce under its default
// cleaning rules (README "Data semantics") and rank 0 writes it next to each customer's group.

// Only the MPI C API is used; skipping the deprecated C++ bindings keeps their warnings out.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif

#include "rfmseg/core/date.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/parallel/mpi.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using u64 = std::uint64_t;
using i64 = std::int64_t;
using u32 = std::uint32_t;
__extension__ typedef unsigned __int128 u128;

using rfmseg::mix64;

// ------------------------------------------------------------------------------------ options

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

// ------------------------------------------------------------------------------------ calendar

// The civil calendar of rfmseg/date.hpp (Howard Hinnant's algorithms), in the generator's types.
i64 days_from_civil(i64 y, unsigned m, unsigned d) { return rfmseg::days_from_civil(static_cast<int>(y), m, d); }

struct Civil {
  i64 y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(i64 z) {
  const rfmseg::CivilDate c = rfmseg::civil_from_days(static_cast<std::int32_t>(z));
  return {c.year, c.month, c.day};
}

/// 0 = Sunday ... 6 = Saturday.
unsigned weekday(i64 z) { return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6); }

// ------------------------------------------------------------------------------------ parsing

bool parse_u64(std::string_view text, u64& out) {
  if (text.empty() || text.size() > 20) return false;
  u64 value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const u64 digit = static_cast<u64>(c - '0');
    if (value > (~u64{0} - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

bool parse_date(std::string_view text, i64& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  u64 y = 0, m = 0, d = 0;
  if (!parse_u64(text.substr(0, 4), y) || !parse_u64(text.substr(5, 2), m) || !parse_u64(text.substr(8, 2), d)) {
    return false;
  }
  if (y < 1000 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  const i64 z = days_from_civil(static_cast<i64>(y), static_cast<unsigned>(m), static_cast<unsigned>(d));
  const Civil back = civil_from_days(z);
  if (back.m != m || back.d != d) return false;  // 2011-02-30 and the like
  out = z;
  return true;
}

Options parse_options(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      const auto eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
    }
    auto flag = [&](const char* name) {
      if (has_value) throw UsageError(std::string("option ") + name + " takes no value");
    };
    auto next = [&](const char* name) -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) throw UsageError(std::string("option ") + name + " needs a value");
      return argv[++i];
    };
    auto number = [&](const char* name) -> u64 {
      const std::string text = next(name);
      u64 v = 0;
      if (!parse_u64(text, v)) throw UsageError(std::string("bad value for ") + name + ": '" + text + "'");
      return v;
    };
    if (arg == "--help" || arg == "-h") {
      flag("--help");
      opt.help = true;
    } else if (arg == "--output") {
      opt.output = next("--output");
      if (opt.output.empty()) throw UsageError("--output must not be empty");
    } else if (arg == "--groups") {
      opt.groups = next("--groups");
      if (opt.groups.empty()) throw UsageError("--groups must not be empty");
    } else if (arg == "--lines") {
      opt.lines = number("--lines");
      opt.lines_set = true;
      if (opt.lines > (u64{1} << 46)) throw UsageError("--lines is too large (max 2^46)");
    } else if (arg == "--customers") {
      opt.customers = number("--customers");
      opt.customers_set = true;
      if (opt.customers < 1 || opt.customers > 0x7fffffffULL) {
        throw UsageError("--customers must be between 1 and 2147483647");
      }
    } else if (arg == "--seed") {
      opt.seed = number("--seed");
    } else if (arg == "--days") {
      opt.days = number("--days");
      if (opt.days < 1 || opt.days > 36500) throw UsageError("--days must be between 1 and 36500");
    } else if (arg == "--dirt") {
      const std::string text = next("--dirt");
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !(v >= 0.0 && v <= 1.0)) {
        throw UsageError("bad value for --dirt: '" + text + "' (expected a number in [0, 1])");
      }
      opt.dirt = v;
    } else if (arg == "--format") {
      const std::string text = next("--format");
      if (text == "online-retail") opt.format = Format::online_retail;
      else if (text == "online-retail-ii") opt.format = Format::online_retail_ii;
      else if (text == "amount") opt.format = Format::amount;
      else throw UsageError("bad value for --format: '" + text + "' (online-retail, online-retail-ii, amount)");
    } else if (arg == "--date-style") {
      const std::string text = next("--date-style");
      if (text == "us") opt.date_style = DateStyle::us;
      else if (text == "eu") opt.date_style = DateStyle::eu;
      else if (text == "iso") opt.date_style = DateStyle::iso;
      else if (text == "us2") opt.date_style = DateStyle::us2;
      else if (text == "mon") opt.date_style = DateStyle::mon;
      else if (text == "ymd") opt.date_style = DateStyle::ymd;
      else throw UsageError("bad value for --date-style: '" + text + "' (us, eu, iso, us2, mon, ymd)");
      opt.date_style_set = true;
    } else if (arg == "--id-style") {
      const std::string text = next("--id-style");
      if (text == "cs") opt.id_style = IdStyle::cs;
      else if (text == "padded") opt.id_style = IdStyle::padded;
      else throw UsageError("bad value for --id-style: '" + text + "' (cs, padded)");
    } else if (arg == "--start") {
      opt.start_text = next("--start");
      if (!parse_date(opt.start_text, opt.start_day)) {
        throw UsageError("bad value for --start: '" + opt.start_text + "' (expected YYYY-MM-DD)");
      }
    } else if (arg == "--chunk-lines") {
      opt.chunk_lines = number("--chunk-lines");
      if (opt.chunk_lines < 1 || opt.chunk_lines > (u64{1} << 24)) {
        throw UsageError("--chunk-lines must be between 1 and 16777216");
      }
    } else if (arg == "--crlf") {
      flag("--crlf");
      opt.crlf = true;
    } else {
      throw UsageError("unknown option '" + arg + "'");
    }
  }
  if (opt.help) return opt;
  if (!parse_date(opt.start_text, opt.start_day)) throw UsageError("bad --start");
  if (opt.output.empty()) throw UsageError("--output is required");
  if (!opt.lines_set) throw UsageError("--lines is required");
  if (!opt.customers_set) opt.customers = std::max<u64>(1, opt.lines / 20);
  if (opt.customers > 0x7fffffffULL) opt.customers = 0x7fffffffULL;
  if (!opt.date_style_set) {
    opt.date_style = opt.format == Format::online_retail      ? DateStyle::us
                     : opt.format == Format::online_retail_ii ? DateStyle::iso
                                                              : DateStyle::mon;
  }
  const i64 first_year = civil_from_days(opt.start_day).y;
  const i64 last_year = civil_from_days(opt.start_day + static_cast<i64>(opt.days) - 1).y;
  if (opt.date_style == DateStyle::us2 || opt.date_style == DateStyle::mon) {
    if (first_year < 1969 || last_year > 2068) {
      throw UsageError("two-digit years (date style us2/mon) need a period within 1969..2068");
    }
  } else if (first_year < 1000 || last_year > 9999) {
    throw UsageError("the period must lie within the years 1000..9999");
  }
  if (!opt.groups.empty() && opt.groups == opt.output) throw UsageError("--groups and --output are the same file");
  return opt;
}

// ------------------------------------------------------------------------------------ formatting

inline char* put_uint(char* p, u64 v) {
  char tmp[24];
  char* t = tmp + sizeof tmp;
  do {
    *--t = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  const auto n = static_cast<std::size_t>(tmp + sizeof tmp - t);
  std::memcpy(p, t, n);
  return p + n;
}

inline char* put_int(char* p, i64 v) {
  if (v < 0) {
    *p++ = '-';
    return put_uint(p, static_cast<u64>(0) - static_cast<u64>(v));
  }
  return put_uint(p, static_cast<u64>(v));
}

/// Cents as a decimal with exactly two decimals: 255 -> "2.55", -5 -> "-0.05".
inline char* put_cents(char* p, i64 cents) {
  u64 v = static_cast<u64>(cents);
  if (cents < 0) {
    *p++ = '-';
    v = static_cast<u64>(0) - v;
  }
  p = put_uint(p, v / 100);
  const auto frac = static_cast<unsigned>(v % 100);
  p[0] = '.';
  p[1] = static_cast<char>('0' + frac / 10);
  p[2] = static_cast<char>('0' + frac % 10);
  return p + 3;
}

/// Amounts: whole numbers without decimals ("39"), otherwise two decimals ("39.50").
inline char* put_amount(char* p, i64 cents) {
  if (cents % 100 == 0) return put_int(p, cents / 100);
  return put_cents(p, cents);
}

inline char* put_str(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

inline char* put_pad2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10 % 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

// ------------------------------------------------------------------------------------ random

constexpr u64 kGolden = 0x9e3779b97f4a7c15ULL;
constexpr u64 kCounterMul = 0xd1b54a32d192ed03ULL;

/// The words of rfmseg::random_word(seed, stream, counter) with the per-stream part hoisted.
class Stream {
 public:
  Stream() = default;
  Stream(u64 seed, u64 stream) : _key(mix64(mix64(seed ^ kGolden) ^ stream)) {}
  [[nodiscard]] u64 operator()(u64 counter) const { return mix64(_key + counter * kCounterMul); }

 private:
  u64 _key = 0;
};

inline u64 mulhi(u64 a, u64 b) { return static_cast<u64>((static_cast<u128>(a) * b) >> 64); }
inline double unit(u64 word) { return rfmseg::unit_open(word); }

// Stream tags (arbitrary distinct constants; changing one changes the data).
enum Tag : u64 {
  kTagLine = 0x11,
  kTagKind = 0x12,
  kTagCustGroup = 0x13,
  kTagCustMult = 0x14,
  kTagCountry = 0x15,
  kTagCandidate = 0x16,
  kTagProduct = 0x17,
  kTagQuantity = 0x18,
  kTagVariant = 0x19,
  kTagAdjust = 0x1a,
  kTagBasket = 0x1b,
  kTagCatalog = 0x1c,
};

// ------------------------------------------------------------------------------------ model

constexpr std::array<int, 12> kQtyValues = {1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 36, 48};
constexpr std::array<int, 12> kLargeQty = {72, 96, 100, 120, 144, 200, 240, 288, 400, 480, 600, 1000};

struct GroupSpec {
  const char* name;
  double share;   // fraction of customers
  double weight;  // relative number of purchases per customer over its window
  double lo;      // active window [lo, hi) as fractions of the period
  double hi;
  double gamma;   // product price tier exponent: < 1 pricier, > 1 cheaper
  std::array<double, 12> qty_weights;
  double p_large;  // probability of a wholesale-size quantity
};

constexpr std::array<GroupSpec, 5> kGroups = {{
    {"loyal", 0.12, 8.0, 0.0, 1.0, 0.55, {2, 2, 3, 3, 6, 3, 2, 12, 4, 10, 3, 4}, 0.03},
    {"regular", 0.28, 2.5, 0.0, 1.0, 1.0, {12, 8, 6, 6, 8, 3, 2, 6, 1, 3, 0.5, 0.5}, 0.005},
    {"new", 0.20, 1.0, 0.84, 1.0, 1.0, {14, 9, 7, 6, 7, 3, 2, 5, 1, 2, 0.5, 0.5}, 0.005},
    {"at_risk", 0.15, 4.0, 0.0, 0.67, 0.8, {5, 5, 5, 5, 8, 4, 3, 9, 3, 6, 2, 2}, 0.015},
    {"churned", 0.25, 0.8, 0.0, 0.30, 1.8, {30, 14, 6, 5, 3, 1, 1, 1, 0, 0, 0, 0}, 0.0},
}};
constexpr std::size_t kNumGroups = kGroups.size();

struct Country {
  const char* name;
  double weight;
};
constexpr std::array<Country, 37> kCountries = {{
    {"United Kingdom", 885}, {"Germany", 22}, {"France", 20}, {"EIRE", 15}, {"Spain", 7},
    {"Netherlands", 6}, {"Belgium", 6}, {"Switzerland", 5}, {"Portugal", 4}, {"Australia", 3},
    {"Norway", 3}, {"Italy", 3}, {"Channel Islands", 2}, {"Finland", 2}, {"Cyprus", 2},
    {"Sweden", 2}, {"Austria", 2}, {"Denmark", 2}, {"Japan", 2}, {"Poland", 2}, {"USA", 1},
    {"Israel", 1}, {"Unspecified", 1}, {"Singapore", 1}, {"Iceland", 1}, {"Canada", 1},
    {"Greece", 1}, {"Malta", 1}, {"United Arab Emirates", 1}, {"European Community", 1},
    {"RSA", 1}, {"Lebanon", 1}, {"Lithuania", 1}, {"Brazil", 1}, {"Czech Republic", 1},
    {"Bahrain", 1}, {"Saudi Arabia", 1},
}};

constexpr std::array<const char*, 24> kColours = {
    "WHITE", "RED",   "PINK",    "BLUE",    "GREEN",  "IVORY",  "CREAM",   "BLACK",
    "SILVER", "GOLD", "PASTEL",  "RETRO",   "VINTAGE", "ANTIQUE", "ROSE",   "LILAC",
    "ORANGE", "YELLOW", "NATURAL", "WOODEN", "GLASS",  "ENAMEL", "ZINC",    "FELTCRAFT"};
constexpr std::array<const char*, 24> kMotifs = {
    "HANGING HEART", "REGENCY", "SPACEBOY", "DOLLY GIRL", "PAISLEY", "POLKADOT",
    "STRAWBERRY", "CHRISTMAS", "UNION JACK", "BIRD", "OWL", "SKULL",
    "LOVE", "HEART", "STAR", "FLOWER", "BUNNY", "CIRCUS PARADE",
    "JUNGLE", "ALPHABET", "APPLE", "LEAF", "DAISY", "PARIS"};
constexpr std::array<const char*, 30> kItems = {
    "T-LIGHT HOLDER", "LUNCH BAG", "CAKE TINS", "TEACUP AND SAUCER", "BUNTING", "MUG",
    "DOORMAT", "CUSHION COVER", "HOT WATER BOTTLE", "PHOTO FRAME", "NOTEBOOK", "JAM JAR",
    "LANTERN", "CAKE STAND", "WALL CLOCK", "CANDLE", "TISSUES", "GIFT BAG",
    "WRAP", "NAPKINS", "PAPER CHAIN KIT", "ALARM CLOCK", "SHOPPER BAG", "CHOPSTICKS",
    "COASTER", "MAGNET", "SIGN", "TRINKET BOX", "BAKING SET", "EGG CUP"};
constexpr std::array<const char*, 10> kPrefixes = {"", "", "", "", "SET OF 3 ", "SET OF 6 ",
                                                   "JUMBO ", "SMALL ", "LARGE ", "PACK OF 12 "};
constexpr std::array<const char*, 6> kQuoteWords = {"PANTRY", "REGENCY", "VINTAGE", "PAISLEY",
                                                    "SPACEBOY", "DOLLY GIRL"};

struct Product {
  std::string code;
  std::string desc;
  i64 price = 0;  // cents
};

constexpr std::size_t kProducts = 4000;
constexpr std::size_t kTierBins = 4096;
constexpr u64 kInvoiceBase = 536365;
constexpr u64 kStartThreshold = (u64{1} << 24) / 5;  // P(line starts an invoice) = 1/5
constexpr int kMaxProductAttempts = 64;
constexpr int kMaxCustomerAttempts = 4096;
constexpr double kInvLog08 = -4.481420117724551;   // 1 / ln(0.8): geometric basket sizes, mean 5
constexpr int kMinuteOpen = 7 * 60;
constexpr int kMinutesOpen = 13 * 60;

// Relative dirt weights: fraction of lines = dirt * weight.
constexpr double kWMissing = 0.31, kWCancel = 0.15, kWAdjust = 0.02;
constexpr double kWDup = 0.15;  // applied to non-start lines only: ~0.12 of all lines
constexpr double kWNegQty = 0.05, kWZeroPrice = 0.05, kWQuoted = 0.10, kWEmptyDesc = 0.05,
                 kWIdDot0 = 0.10, kWLatin1 = 0.05;

enum class InvKind : std::uint8_t { normal, anonymous, cancel, adjust };
enum class LineDirt : std::uint8_t { clean, dup, neg_qty, zero_price, quoted, empty_desc, id_dot0, latin1 };

struct DayInfo {
  std::string date_prefix;  // e.g. "12/1/2010 " (us) or "2010-12-01 " (iso) or the whole date
  bool with_time = true;
  std::array<double, kNumGroups> rate{};  // per-customer purchase rate of each group (0 when inactive)
  double rate_max = 0.0;
};

class Model {
 public:
  explicit Model(const Options& opt);

  const Options& opt;
  u64 n_lines;
  u64 n_customers;
  bool amount;
  std::vector<Product> catalog;  // sorted by price
  std::array<std::array<std::uint16_t, kTierBins + 1>, kNumGroups> tier{};
  std::array<std::array<u32, kQtyValues.size()>, kNumGroups> qty_cum{};
  std::array<u32, kNumGroups> group_cum{};
  std::array<u32, kCountries.size()> country_cum{};
  std::vector<DayInfo> day;
  std::vector<u64> b;  // b[d] = first line of day d (an invoice start), b[days] = n_lines
  double mult_max;
  std::array<u64, 8> line_thresh{};  // cumulative 40-bit thresholds of the line dirt kinds
  std::array<double, 3> kind_thresh{};
  std::string eol;
  std::string header;
  int id_width = 5;

  Stream s_line, s_kind, s_group, s_mult, s_country, s_cand, s_product, s_qty, s_variant, s_adjust, s_basket;

  [[nodiscard]] bool is_start(u64 j, u64 w) const { return amount || j == 0 || (w >> 40) < kStartThreshold; }
  [[nodiscard]] bool is_start(u64 j) const { return amount || j == 0 || (s_line(j) >> 40) < kStartThreshold; }

  [[nodiscard]] LineDirt line_dirt(u64 w) const {
    const u64 u = w & ((u64{1} << 40) - 1);
    if (u >= line_thresh[7]) return LineDirt::clean;
    for (std::size_t k = 1; k < 8; ++k) {
      if (u < line_thresh[k]) return static_cast<LineDirt>(k);
    }
    return LineDirt::clean;
  }

  [[nodiscard]] std::size_t day_of(u64 j) const {
    // Last d with b[d] <= j.
    const auto it = std::upper_bound(b.begin(), b.end() - 1, j);
    return static_cast<std::size_t>(it - b.begin()) - 1;
  }

  /// Whether line j is an exact copy of line j - 1.
  [[nodiscard]] bool is_dup(u64 j, u64 w) const {
    if (j == 0 || line_dirt(w) != LineDirt::dup) return false;
    if (!amount) return !is_start(j, w);
    const std::size_t d = day_of(j);
    return b[d] != j;  // never across a day boundary (the copy would carry the other day's date)
  }

  [[nodiscard]] InvKind inv_kind(u64 s) const {
    const double u = unit(s_kind(s));
    if (u < kind_thresh[0]) return InvKind::anonymous;
    if (u < kind_thresh[1]) return InvKind::cancel;
    if (u < kind_thresh[2]) return InvKind::adjust;
    return InvKind::normal;
  }

  [[nodiscard]] std::size_t group_of(u64 c) const {
    const auto u = static_cast<u32>(s_group(c) >> 32);
    std::size_t g = 0;
    while (g + 1 < kNumGroups && u >= group_cum[g]) ++g;
    return g;
  }

  /// Per-customer purchase-rate multiplier: q^2 with q = 0.3 + 1.4 * (mean of 4 uniforms), so
  /// mean ~1.04, coefficient of variation ~0.4, range [0.09, 2.89] (a cheap lognormal look-alike).
  [[nodiscard]] double mult_of(u64 c) const {
    const u64 w = s_mult(c);
    const double sum = static_cast<double>(w & 0xffff) + static_cast<double>((w >> 16) & 0xffff) +
                       static_cast<double>((w >> 32) & 0xffff) + static_cast<double>(w >> 48);
    const double q = 0.3 + 1.4 * (sum / (4.0 * 65535.0));
    return q * q;
  }

  [[nodiscard]] std::size_t country_of(u64 c) const {
    const auto u = static_cast<u32>(s_country(c) >> 32);
    std::size_t k = 0;
    while (k + 1 < kCountries.size() && u >= country_cum[k]) ++k;
    return k;
  }

  /// The customer of the invoice starting at line s on day d.
  [[nodiscard]] u64 customer_at(u64 s, std::size_t d) const {
    const DayInfo& info = day[d];
    const double bound = info.rate_max * mult_max;
    u64 c = 0;
    for (int a = 0; a < kMaxCustomerAttempts; ++a) {
      // One word per attempt: the candidate comes from its high bits (multiply-shift), the
      // acceptance uniform from its low 32 bits.
      const u64 w = s_cand(s * 8192 + static_cast<u64>(a));
      c = mulhi(w, n_customers);
      const double r = info.rate[group_of(c)];
      if (r <= 0.0) continue;
      const double u = (static_cast<double>(w & 0xffffffffULL) + 0.5) * 0x1.0p-32 * bound;
      if (u >= r * mult_max) continue;
      if (u < r * mult_of(c)) return c;
    }
    return c;  // practically unreachable
  }

  /// Product index (into the price-sorted catalog) of line m of the basket drawn at s.
  [[nodiscard]] std::size_t pick_product(u64 s, u64 m, std::size_t g, const std::vector<std::uint16_t>& used) const {
    std::size_t k = 0;
    auto taken = [&](std::size_t x) { return std::find(used.begin(), used.end(), x) != used.end(); };
    for (int a = 0; a < kMaxProductAttempts; ++a) {
      const u64 w = s_product(s * 65536 + (m & 1023) * 64 + static_cast<u64>(a));
      const std::size_t bin = static_cast<std::size_t>(w >> 52);
      const u64 frac = (w >> 36) & 0xffff;
      const std::size_t lo = tier[g][bin], hi = tier[g][bin + 1];
      k = lo + static_cast<std::size_t>(((hi - lo) * frac) >> 16);
      if (!taken(k)) return k;
    }
    while (taken(k)) k = (k + 1) % kProducts;
    return k;
  }

  /// Quantity and unit price (cents) of line m of the basket drawn at s for group g.
  void pick_qty_price(u64 s, u64 m, std::size_t g, std::size_t product, i64& qty, i64& price) const {
    const u64 w = s_qty(s * 1024 + (m & 1023));
    const auto u = static_cast<u32>(w >> 32);
    const GroupSpec& spec = kGroups[g];
    if (unit(w << 32 | 0x80000000ULL) < spec.p_large) {
      qty = kLargeQty[(w >> 32) % kLargeQty.size()];
    } else {
      std::size_t k = 0;
      while (k + 1 < kQtyValues.size() && u >= qty_cum[g][k]) ++k;
      qty = kQtyValues[k];
    }
    price = catalog[product].price;
    if (qty >= 24 && price > 20) price = (price * 85 + 50) / 100;  // bulk discount
  }

  /// Total (cents) of a basket of random length drawn at s (amount layout).
  [[nodiscard]] i64 basket_total(u64 s, std::size_t g, std::vector<std::uint16_t>& used) const {
    const double u = unit(s_basket(s));
    const auto len = static_cast<u64>(std::min(200.0, 1.0 + std::floor(std::log(u) * kInvLog08)));
    used.clear();
    i64 total = 0;
    for (u64 m = 0; m < len; ++m) {
      const std::size_t k = pick_product(s, m, g, used);
      used.push_back(static_cast<std::uint16_t>(k));
      i64 qty = 0, price = 0;
      pick_qty_price(s, m, g, k, qty, price);
      total += qty * price;
    }
    return total;
  }

  [[nodiscard]] i64 adjust_amount(u64 s) const {
    const double u = unit(s_adjust(s));
    const double v = std::exp(std::log(200.0) + 2.5 * u);  // 2.00 .. 2436.50 (x100 cents)
    return static_cast<i64>(std::llround(v * 100.0));
  }

  /// Customer id text (without dirt).
  char* put_customer(char* p, u64 c) const {
    if (!amount) return put_uint(p, 12346 + c);
    if (opt.id_style == IdStyle::cs) {
      *p++ = 'C';
      *p++ = 'S';
      return put_uint(p, 1112 + c);
    }
    char tmp[24];
    char* e = put_uint(tmp, c + 1);
    const auto n = static_cast<int>(e - tmp);
    for (int k = n; k < id_width; ++k) *p++ = '0';
    return put_str(p, std::string_view(tmp, static_cast<std::size_t>(n)));
  }

  [[nodiscard]] std::string customer_text(u64 c) const {
    char buf[32];
    return std::string(buf, put_customer(buf, c));
  }

  /// Date (and time) of the invoice starting at s on day d.
  char* put_date(char* p, u64 s, std::size_t d) const {
    const DayInfo& info = day[d];
    p = put_str(p, info.date_prefix);
    if (!info.with_time) return p;
    const u64 span = b[d + 1] - b[d];
    const auto minute = static_cast<unsigned>(kMinuteOpen + static_cast<u64>(
        (static_cast<u128>(s - b[d]) * kMinutesOpen) / (span == 0 ? 1 : span)));
    const unsigned hh = minute / 60, mm = minute % 60;
    if (opt.date_style == DateStyle::iso) {
      p = put_pad2(p, hh);
      *p++ = ':';
      p = put_pad2(p, mm);
      return put_str(p, ":00");
    }
    p = put_uint(p, hh);
    *p++ = ':';
    return put_pad2(p, mm);
  }

  [[nodiscard]] std::string date_text(std::size_t d) const {
    const Civil c = civil_from_days(opt.start_day + static_cast<i64>(d));
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
    return buf;
  }
};

Model::Model(const Options& options)
    : opt(options),
      n_lines(options.lines),
      n_customers(options.customers),
      amount(options.format == Format::amount),
      mult_max(1.7 * 1.7) {
  const u64 seed = opt.seed;
  auto stream = [&](Tag t) { return Stream(seed, static_cast<u64>(t)); };
  s_line = stream(kTagLine);
  s_kind = stream(kTagKind);
  s_group = stream(kTagCustGroup);
  s_mult = stream(kTagCustMult);
  s_country = stream(kTagCountry);
  s_cand = stream(kTagCandidate);
  s_product = stream(kTagProduct);
  s_qty = stream(kTagQuantity);
  s_variant = stream(kTagVariant);
  s_adjust = stream(kTagAdjust);
  s_basket = stream(kTagBasket);
  const Stream s_catalog = stream(kTagCatalog);

  eol = opt.crlf ? "\r\n" : "\n";
  switch (opt.format) {
    case Format::online_retail:
      header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";
      break;
    case Format::online_retail_ii:
      header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";
      break;
    case Format::amount:
      header = "customer_id,trans_date,tran_amount";
      break;
  }
  header += eol;
  {
    u64 digits = 1;
    for (u64 v = n_customers; v >= 10; v /= 10) ++digits;
    id_width = static_cast<int>(std::max<u64>(5, digits));
  }

  // Dirt thresholds.
  const double r = opt.dirt;
  const std::array<double, 7> lw = {kWDup, kWNegQty, kWZeroPrice, kWQuoted, kWEmptyDesc, kWIdDot0, kWLatin1};
  double acc = 0.0;
  line_thresh[0] = 0;
  for (std::size_t k = 0; k < lw.size(); ++k) {
    acc += r * lw[k];
    line_thresh[k + 1] = static_cast<u64>(std::min(1.0, acc) * static_cast<double>(u64{1} << 40));
  }
  kind_thresh = {r * kWMissing, r * (kWMissing + kWCancel), r * (kWMissing + kWCancel + kWAdjust)};

  // Groups and countries: cumulative 32-bit thresholds.
  double total = 0.0;
  for (const auto& g : kGroups) total += g.share;
  acc = 0.0;
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    acc += kGroups[g].share / total;
    group_cum[g] = static_cast<u32>(std::min(4294967295.0, acc * 4294967296.0));
  }
  total = 0.0;
  for (const auto& c : kCountries) total += c.weight;
  acc = 0.0;
  for (std::size_t k = 0; k < kCountries.size(); ++k) {
    acc += kCountries[k].weight / total;
    country_cum[k] = static_cast<u32>(std::min(4294967295.0, acc * 4294967296.0));
  }
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    double sum = 0.0;
    for (double w : kGroups[g].qty_weights) sum += w;
    double a = 0.0;
    for (std::size_t k = 0; k < kQtyValues.size(); ++k) {
      a += kGroups[g].qty_weights[k] / sum;
      qty_cum[g][k] = static_cast<u32>(std::min(4294967295.0, a * 4294967296.0));
    }
  }

  // Catalog: unique stock codes, composed descriptions, lognormal prices; sorted by price.
  catalog.resize(kProducts);
  for (std::size_t k = 0; k < kProducts; ++k) {
    const u64 w1 = s_catalog(3 * k), w2 = s_catalog(3 * k + 1), w3 = s_catalog(3 * k + 2);
    Product& prod = catalog[k];
    prod.code = std::to_string(10002 + 17 * k + w1 % 17);
    if ((w1 >> 8) % 100 < 15) prod.code += static_cast<char>('A' + (w1 >> 16) % 7);
    prod.desc = std::string(kPrefixes[(w2 >> 0) % kPrefixes.size()]) + kColours[(w2 >> 8) % kColours.size()] + " " +
                kMotifs[(w2 >> 16) % kMotifs.size()] + " " + kItems[(w2 >> 24) % kItems.size()];
    const double u1 = unit(w3), u2 = unit(mix64(w3));
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    double price = 210.0 * std::exp(0.8 * z);
    if ((w1 >> 32) % 100 < 3) price *= 8.0;
    prod.price = std::clamp<i64>(static_cast<i64>(std::llround(price)), 12, 50000);
  }
  std::sort(catalog.begin(), catalog.end(), [](const Product& x, const Product& y) {
    return x.price != y.price ? x.price < y.price : x.code < y.code;
  });
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    for (std::size_t i = 0; i <= kTierBins; ++i) {
      const double q = std::pow(static_cast<double>(i) / kTierBins, kGroups[g].gamma);
      tier[g][i] = static_cast<std::uint16_t>(std::min<double>(kProducts - 1, std::floor(q * kProducts)));
    }
  }

  // Days: activity windows, weights, date prefixes, line boundaries.
  const u64 days = opt.days;
  std::array<u64, kNumGroups> win_lo{}, win_hi{};
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    const auto dd = static_cast<double>(days);
    u64 lo = static_cast<u64>(std::floor(kGroups[g].lo * dd));
    u64 hi = static_cast<u64>(std::llround(kGroups[g].hi * dd));
    if (kGroups[g].hi >= 1.0) {
      hi = days;
      if (kGroups[g].lo > 0.0) lo = days - std::max<u64>(1, static_cast<u64>(std::llround((1.0 - kGroups[g].lo) * dd)));
    }
    hi = std::max(hi, lo + 1);
    win_lo[g] = std::min(lo, days - 1);
    win_hi[g] = std::min(hi, days);
  }
  static constexpr std::array<const char*, 12> kMon = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  day.resize(days);
  std::vector<double> weight(days, 0.0);
  for (u64 d = 0; d < days; ++d) {
    const i64 z = opt.start_day + static_cast<i64>(d);
    const Civil c = civil_from_days(z);
    char buf[48];
    switch (opt.date_style) {
      case DateStyle::us:
        std::snprintf(buf, sizeof buf, "%u/%u/%lld ", c.m, c.d, static_cast<long long>(c.y));
        break;
      case DateStyle::eu:
        std::snprintf(buf, sizeof buf, "%u/%u/%lld ", c.d, c.m, static_cast<long long>(c.y));
        break;
      case DateStyle::us2:
        std::snprintf(buf, sizeof buf, "%u/%u/%02lld ", c.m, c.d, static_cast<long long>(c.y % 100));
        break;
      case DateStyle::iso:
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u ", static_cast<long long>(c.y), c.m, c.d);
        break;
      case DateStyle::mon:
        std::snprintf(buf, sizeof buf, "%02u-%s-%02lld", c.d, kMon[c.m - 1], static_cast<long long>(c.y % 100));
        break;
      case DateStyle::ymd:
        std::snprintf(buf, sizeof buf, "%04lld%02u%02u", static_cast<long long>(c.y), c.m, c.d);
        break;
    }
    DayInfo& info = day[d];
    info.date_prefix = buf;
    info.with_time = opt.date_style != DateStyle::mon && opt.date_style != DateStyle::ymd;
    double density = 0.0;
    for (std::size_t g = 0; g < kNumGroups; ++g) {
      if (d >= win_lo[g] && d < win_hi[g]) {
        info.rate[g] = kGroups[g].weight / static_cast<double>(win_hi[g] - win_lo[g]);
        info.rate_max = std::max(info.rate_max, info.rate[g]);
        density += kGroups[g].share * info.rate[g];
      }
    }
    const unsigned wd = weekday(z);
    const double week = days < 7 ? 1.0 : wd == 6 ? 0.0 : wd == 0 ? 0.6 : 1.0;
    weight[d] = density * week;
  }
  double wsum = 0.0;
  for (double w : weight) wsum += w;
  if (wsum <= 0.0) {
    for (auto& w : weight) w = 1.0;
    wsum = static_cast<double>(days);
  }
  b.assign(days + 1, 0);
  double cum = 0.0;
  for (u64 d = 1; d < days; ++d) {
    cum += weight[d - 1];
    u64 l = static_cast<u64>(std::llround(static_cast<double>(n_lines) * (cum / wsum)));
    l = std::min(std::max(l, b[d - 1]), n_lines);
    while (l < n_lines && !is_start(l)) ++l;  // day boundaries sit on invoice starts
    b[d] = l;
  }
  b[days] = n_lines;
}

// ------------------------------------------------------------------------------------ truth

/// 128-bit fingerprints of the lines of one day (open addressing, epoch-tagged slots).
class LineSet {
 public:
  void reset(std::size_t expected) {
    std::size_t cap = 64;
    while (cap < 2 * expected + 16) cap <<= 1;
    if (cap > _slots.size()) {
      _slots.assign(cap, Slot{});
      _epoch = 0;
    }
    _mask = _slots.size() - 1;
    ++_epoch;
    _count = 0;
  }
  /// Inserts the fingerprint; returns false when it was already present.
  bool insert(u64 h1, u64 h2) {
    if (2 * (_count + 1) > _slots.size()) grow();
    std::size_t i = static_cast<std::size_t>(h1) & _mask;
    while (_slots[i].epoch == _epoch) {
      if (_slots[i].h1 == h1 && _slots[i].h2 == h2) return false;
      i = (i + 1) & _mask;
    }
    _slots[i] = Slot{h1, h2, _epoch};
    ++_count;
    return true;
  }

 private:
  struct Slot {
    u64 h1 = 0;
    u64 h2 = 0;
    u32 epoch = 0;
  };
  void grow() {
    std::vector<Slot> old;
    old.swap(_slots);
    const u32 e = _epoch;
    _slots.assign(old.size() * 2, Slot{});
    _mask = _slots.size() - 1;
    _epoch = 1;
    _count = 0;
    for (const Slot& s : old) {
      if (s.epoch == e) insert(s.h1, s.h2);
    }
  }
  std::vector<Slot> _slots;
  std::size_t _mask = 0;
  u32 _epoch = 0;
  std::size_t _count = 0;
};

enum Fate : std::size_t { kMissing, kDuplicate, kCancellation, kZeroQty, kNonpositive, kKept, kFates };
constexpr std::array<const char*, kFates> kFateNames = {"missing_customer", "duplicate", "cancellation",
                                                        "zero_quantity", "nonpositive_price", "kept"};

/// What rfmseg must compute, accumulated per customer on every rank and summed at the end.
struct Truth {
  explicit Truth(u64 customers)
      : sums(static_cast<std::size_t>(customers) * kCols, 0),
        last_day(static_cast<std::size_t>(customers), -1),
        day_marker(static_cast<std::size_t>(customers), -1) {}
  enum Col : std::size_t { kIdLines, kKeptLines, kInvoices, kDays, kMonetary, kMonetaryNet, kCols };
  std::vector<i64> sums;           // kCols per customer
  std::vector<std::int32_t> last_day;  // max over ranks
  std::vector<std::int32_t> day_marker;  // local: last day with a kept line seen (incl. re-generated prefix)
  std::array<i64, kFates> fates{};
  LineSet seen;
  i64& at(u64 c, Col col) { return sums[static_cast<std::size_t>(c) * kCols + col]; }
};

/// The facts about one line that decide its fate.
struct LineFacts {
  i64 cust = -1;  // -1: id empty
  i64 qty = 0;
  i64 price = 0;  // cents (amount layout: the amount, qty 1)
  bool cancel = false;  // C invoice or negative quantity
};

// ------------------------------------------------------------------------------------ generator

constexpr std::size_t kMaxLine = 256;

class Generator {
 public:
  explicit Generator(const Model& model) : _m(model) { _used.reserve(64); }

  /// Number of invoice starts in [begin, end).
  [[nodiscard]] u64 count_starts(u64 begin, u64 end) const {
    if (_m.amount) return end - begin;
    u64 n = 0;
    for (u64 j = begin; j < end; ++j) n += _m.is_start(j) ? 1 : 0;
    return n;
  }

  /// Formats lines [begin, end) into out; starts_before = number of invoice starts before begin.
  /// Returns the number of bytes written. `truth` (optional) receives the fates of these lines.
  std::size_t chunk(u64 begin, u64 end, u64 starts_before, char* out, Truth* truth);

 private:
  struct Invoice {
    InvKind kind = InvKind::normal;
    u64 base = 0;       // line whose basket the invoice's lines are drawn from
    u64 cust = 0;
    std::size_t group = 0;
    bool hidden = false;  // customer id printed empty
    bool referenced = false;
    char head[32];        // invoice number with prefix, then ','
    std::size_t head_len = 0;
    char tail[96];        // ",date,"
    std::size_t tail_len = 0;
    char id[32];
    std::size_t id_len = 0;
    std::string_view country;
    i64 amount = 0;       // amount layout
  };

  void setup_invoice(u64 s, u64 number, std::size_t d);
  char* retail_line(char* p, u64 j, u64 m, LineDirt dirt, u64 w, LineFacts& facts);
  char* amount_line(char* p, u64 j, LineDirt dirt, LineFacts& facts);

  const Model& _m;
  Invoice _inv;
  std::vector<std::uint16_t> _used;
  std::vector<std::uint16_t> _scratch_used;
};

void Generator::setup_invoice(u64 s, u64 number, std::size_t d) {
  Invoice& inv = _inv;
  inv.kind = _m.inv_kind(s);
  inv.base = s;
  inv.referenced = false;
  inv.hidden = inv.kind == InvKind::anonymous;
  u64 shown_number = number;
  std::size_t cust_day = d;
  if (inv.kind == InvKind::cancel && s > 0) {
    // Cancel the previous invoice when it is an ordinary purchase: same customer, same items.
    u64 prev = s - 1;
    if (!_m.amount) {
      while (!_m.is_start(prev)) --prev;
    }
    const bool prev_ok = _m.inv_kind(prev) == InvKind::normal && (!_m.amount || !_m.is_dup(prev, _m.s_line(prev)));
    if (prev_ok) {
      inv.base = prev;
      inv.referenced = true;
      shown_number = number - 1;
      cust_day = _m.day_of(prev);
    }
  }
  inv.cust = _m.customer_at(inv.base, cust_day);
  inv.group = _m.group_of(inv.cust);
  _used.clear();

  if (_m.amount) {
    inv.amount = inv.kind == InvKind::adjust ? -_m.adjust_amount(s) : _m.basket_total(inv.base, inv.group, _scratch_used);
    if (inv.kind == InvKind::cancel) inv.amount = -inv.amount;
  } else {
    char* p = inv.head;
    if (inv.kind == InvKind::cancel) *p++ = 'C';
    if (inv.kind == InvKind::adjust) *p++ = 'A';
    p = put_uint(p, kInvoiceBase + shown_number);
    *p++ = ',';
    inv.head_len = static_cast<std::size_t>(p - inv.head);
    inv.country = kCountries[_m.country_of(inv.cust)].name;
  }
  char* t = inv.tail;
  *t++ = ',';
  t = _m.put_date(t, s, d);
  *t++ = ',';
  inv.tail_len = static_cast<std::size_t>(t - inv.tail);
  inv.id_len = inv.hidden ? 0 : static_cast<std::size_t>(_m.put_customer(inv.id, inv.cust) - inv.id);
}

char* Generator::retail_line(char* p, u64 j, u64 m, LineDirt dirt, u64 /*w*/, LineFacts& facts) {
  const Invoice& inv = _inv;
  p = put_str(p, std::string_view(inv.head, inv.head_len));
  i64 qty = 1, price = 0;
  std::string_view code, desc;
  bool adjust = inv.kind == InvKind::adjust;
  if (adjust) {
    code = "B";
    desc = "Adjust bad debt";
    price = -(_m.adjust_amount(inv.base) + static_cast<i64>(m));  // distinct lines
  } else {
    const std::size_t k = _m.pick_product(inv.base, m, inv.group, _used);
    _used.push_back(static_cast<std::uint16_t>(k));
    _m.pick_qty_price(inv.base, m, inv.group, k, qty, price);
    code = _m.catalog[k].code;
    desc = _m.catalog[k].desc;
    if (inv.kind == InvKind::cancel) qty = -qty;
    if (dirt == LineDirt::neg_qty && qty > 0) qty = -qty;
    if (dirt == LineDirt::zero_price) price = 0;
  }
  p = put_str(p, code);
  *p++ = ',';
  if (adjust || (dirt != LineDirt::quoted && dirt != LineDirt::latin1 && dirt != LineDirt::empty_desc)) {
    p = put_str(p, desc);
  } else if (dirt == LineDirt::quoted) {
    const u64 v = _m.s_variant(j);
    const std::string_view word = kQuoteWords[(v >> 8) % kQuoteWords.size()];
    switch (v % 3) {
      case 0:  // "SET OF 3 CAKE TINS, ""PANTRY"" DESIGN"
        *p++ = '"';
        p = put_str(p, desc);
        p = put_str(p, ", \"\"");
        p = put_str(p, word);
        p = put_str(p, "\"\" DESIGN\"");
        break;
      case 1:  // "RED OWL MUG, ASSORTED COLOURS"
        *p++ = '"';
        p = put_str(p, desc);
        p = put_str(p, ", ASSORTED COLOURS\"");
        break;
      default:  // """PANTRY"" RED OWL MUG"
        p = put_str(p, "\"\"\"");
        p = put_str(p, word);
        p = put_str(p, "\"\" ");
        p = put_str(p, desc);
        *p++ = '"';
        break;
    }
  } else if (dirt == LineDirt::latin1) {
    const u64 v = _m.s_variant(j);
    switch (v % 3) {
      case 0:  // raw Latin-1 pound sign
        p = put_str(p, desc);
        p = put_str(p, " \xA3");
        p = put_uint(p, 1 + (v >> 8) % 20);
        break;
      case 1:  // UTF-8 pound sign read as Latin-1: "Â£"
        p = put_str(p, desc);
        p = put_str(p, " \xC2\xA3");
        p = put_uint(p, 1 + (v >> 8) % 20);
        break;
      default:  // raw Latin-1 E acute
        p = put_str(p, "CAF\xC9 ");
        p = put_str(p, desc);
        break;
    }
  }  // empty_desc: nothing
  *p++ = ',';
  p = put_int(p, qty);
  p = put_str(p, std::string_view(inv.tail, inv.tail_len));
  p = put_cents(p, price);
  *p++ = ',';
  p = put_str(p, std::string_view(inv.id, inv.id_len));
  if (dirt == LineDirt::id_dot0 && inv.id_len > 0) p = put_str(p, ".0");
  *p++ = ',';
  p = put_str(p, inv.country);

  facts.cust = inv.hidden ? -1 : static_cast<i64>(inv.cust);
  facts.qty = qty;
  facts.price = price;
  facts.cancel = inv.kind == InvKind::cancel || qty < 0;
  return p;
}

char* Generator::amount_line(char* p, u64 /*j*/, LineDirt dirt, LineFacts& facts) {
  const Invoice& inv = _inv;
  i64 amount = inv.amount;
  if (dirt == LineDirt::neg_qty && amount > 0) amount = -amount;
  if (dirt == LineDirt::zero_price) amount = 0;
  p = put_str(p, std::string_view(inv.id, inv.id_len));
  p = put_str(p, std::string_view(inv.tail, inv.tail_len));
  p = put_amount(p, amount);
  facts.cust = inv.hidden ? -1 : static_cast<i64>(inv.cust);
  facts.qty = 1;
  facts.price = amount;
  facts.cancel = false;  // no invoice and no quantity: negative amounts are nonpositive prices
  return p;
}

std::size_t Generator::chunk(u64 begin, u64 end, u64 starts_before, char* out, Truth* truth) {
  if (begin >= end) return 0;
  std::size_t d = _m.day_of(begin);
  // Where generation starts: the invoice containing the first non-duplicate line at or before
  // `begin` -- or, when the ground truth is wanted and the chunk splits a day, the day's start
  // (duplicates and per-day counts need every earlier line of that day).
  u64 gen = begin;
  if (truth != nullptr && _m.b[d] != begin) {
    gen = _m.b[d];
  } else {
    while (_m.is_dup(gen, _m.s_line(gen))) --gen;
    if (!_m.amount) {
      while (!_m.is_start(gen)) --gen;
    }
  }
  u64 number = starts_before - count_starts(gen, begin);  // starts before `gen`

  const std::string_view eol = _m.eol;
  char* p = out;
  std::array<std::array<char, kMaxLine>, 2> scratch;
  int slot = 0;
  const char* last = nullptr;  // previous line (without line end)
  std::size_t last_len = 0;
  LineFacts facts, last_facts;
  u64 m = 0;  // line index within the invoice
  std::size_t day_now = static_cast<std::size_t>(-1);
  bool inv_counted = false;

  for (u64 j = gen; j < end; ++j) {
    const u64 w = _m.s_line(j);
    const bool start = j == gen || _m.is_start(j, w);
    while (_m.b[d + 1] <= j) ++d;
    const bool emit = j >= begin;
    const LineDirt dirt = _m.line_dirt(w);
    const bool dup = j != gen && dirt == LineDirt::dup && (_m.amount ? _m.b[d] != j : !start);
    char* line = emit ? p : scratch[static_cast<std::size_t>(slot ^= 1)].data();
    char* e;
    if (dup) {
      std::memcpy(line, last, last_len);
      e = line + last_len;
      facts = last_facts;
    } else {
      if (start) {
        setup_invoice(j, number, d);
        ++number;
        m = 0;
        inv_counted = false;
      }
      e = _m.amount ? amount_line(line, j, dirt, facts) : retail_line(line, j, m, dirt, w, facts);
      ++m;
    }
    const auto len = static_cast<std::size_t>(e - line);
    if (len + eol.size() > kMaxLine) throw std::logic_error("rfmseg-gen: line longer than kMaxLine");
    last = line;
    last_len = len;
    last_facts = facts;
    if (emit) p = put_str(e, eol);

    if (truth != nullptr) {
      if (d != day_now) {
        day_now = d;
        truth->seen.reset(static_cast<std::size_t>(_m.b[d + 1] - _m.b[d]));
      }
      const bool fresh = truth->seen.insert(rfmseg::hash_bytes(std::string_view(line, len), 0x5eed),
                                            rfmseg::hash_bytes(std::string_view(line, len), 0xfeed));
      Fate fate;
      if (facts.cust < 0) fate = kMissing;
      else if (!fresh) fate = kDuplicate;
      else if (facts.cancel) fate = kCancellation;
      else if (facts.qty == 0) fate = kZeroQty;
      else if (facts.price <= 0) fate = kNonpositive;
      else fate = kKept;
      const auto c = static_cast<u64>(facts.cust);
      const auto di = static_cast<std::int32_t>(d);
      if (emit) {
        ++truth->fates[fate];
        if (facts.cust >= 0) ++truth->at(c, Truth::kIdLines);
        if (fate == kCancellation) truth->at(c, Truth::kMonetaryNet) += facts.qty * facts.price;
        if (fate == kKept) {
          const i64 value = facts.qty * facts.price;
          ++truth->at(c, Truth::kKeptLines);
          truth->at(c, Truth::kMonetary) += value;
          truth->at(c, Truth::kMonetaryNet) += value;
          if (_m.amount || !inv_counted) ++truth->at(c, Truth::kInvoices);
          if (truth->day_marker[c] != di) ++truth->at(c, Truth::kDays);
          truth->last_day[c] = std::max(truth->last_day[c], di);
        }
      }
      if (fate == kKept) {
        inv_counted = true;
        truth->day_marker[c] = di;
      }
    }
  }
  return static_cast<std::size_t>(p - out);
}

// ------------------------------------------------------------------------------------ I/O

void write_all(int fd, const char* data, std::size_t size, u64 offset, const std::string& path) {
  while (size > 0) {
    const std::size_t n = std::min<std::size_t>(size, std::size_t{1} << 30);
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
    data += w;
    size -= static_cast<std::size_t>(w);
    offset += static_cast<u64>(w);
  }
}

struct Chunk {
  u64 begin;
  u64 end;
};

/// Whole days packed into chunks of at most --chunk-lines lines; bigger days are split.
std::vector<Chunk> make_chunks(const Model& m) {
  const u64 limit = m.opt.chunk_lines;
  std::vector<Chunk> chunks;
  u64 acc_begin = 0, acc_end = 0;
  auto flush = [&] {
    if (acc_end > acc_begin) chunks.push_back({acc_begin, acc_end});
    acc_begin = acc_end;
  };
  for (std::size_t d = 0; d + 1 < m.b.size(); ++d) {
    const u64 lo = m.b[d], hi = m.b[d + 1];
    if (hi == lo) continue;
    if (hi - lo > limit) {
      flush();
      const u64 pieces = (hi - lo + limit - 1) / limit;
      for (u64 i = 0; i < pieces; ++i) {
        chunks.push_back({lo + (hi - lo) * i / pieces, lo + (hi - lo) * (i + 1) / pieces});
      }
      acc_begin = acc_end = hi;
      continue;
    }
    if (acc_end - acc_begin + (hi - lo) > limit) flush();
    if (acc_end == acc_begin) acc_begin = lo;
    acc_end = hi;
  }
  flush();
  return chunks;
}

/// Writes the ground-truth table into `f` (opened by rank 0 before generating) and closes it.
/// The setvbuf buffer lives until the fclose below.
void write_groups(const Model& m, Truth& t, std::FILE* f, const std::string& path, std::size_t snapshot_day) {
  std::vector<char> buffer(std::size_t{1} << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  const std::string& eol = m.eol;
  std::string row = "customer_id,group,in_table,recency,frequency,monetary,monetary_net,invoices,kept_lines,purchase_days";
  row += eol;
  std::fwrite(row.data(), 1, row.size(), f);
  char buf[256];
  for (u64 c = 0; c < m.n_customers; ++c) {
    if (t.at(c, Truth::kIdLines) == 0) continue;
    char* p = m.put_customer(buf, c);
    *p++ = ',';
    p = put_str(p, kGroups[m.group_of(c)].name);
    const i64 kept = t.at(c, Truth::kKeptLines);
    const i64 invoices = t.at(c, Truth::kInvoices);
    p = put_str(p, kept > 0 ? ",1," : ",0,");
    if (kept > 0) p = put_int(p, static_cast<i64>(snapshot_day) - t.last_day[static_cast<std::size_t>(c)]);
    *p++ = ',';
    p = put_int(p, m.amount ? kept : invoices);
    *p++ = ',';
    p = put_cents(p, t.at(c, Truth::kMonetary));
    *p++ = ',';
    p = put_cents(p, t.at(c, Truth::kMonetaryNet));
    *p++ = ',';
    p = put_int(p, invoices);
    *p++ = ',';
    p = put_int(p, kept);
    *p++ = ',';
    p = put_int(p, t.at(c, Truth::kDays));
    p = put_str(p, eol);
    std::fwrite(buf, 1, static_cast<std::size_t>(p - buf), f);
  }
  const bool ok = std::ferror(f) == 0;
  if (std::fclose(f) != 0 || !ok) throw std::runtime_error("cannot write " + path);
}

/// Sums (or maximizes) a big vector over all ranks in pieces that fit MPI's int counts.
template <class T>
void allreduce_big(const rfmseg::mpi::Comm& comm, std::vector<T>& v, rfmseg::mpi::Op op) {
  constexpr std::size_t kPiece = std::size_t{1} << 24;
  for (std::size_t i = 0; i < v.size(); i += kPiece) {
    const std::size_t n = std::min(kPiece, v.size() - i);
    rfmseg::mpi::allreduce_inplace(comm, std::span<T>(v.data() + i, n), op);
  }
}

int run(const rfmseg::mpi::Comm& comm, const Options& opt) {
  namespace mpi = rfmseg::mpi;
  const double t0 = MPI_Wtime();
  const Model model(opt);
  const std::vector<Chunk> chunks = make_chunks(model);
  const auto ranks = static_cast<std::size_t>(comm.size());
  const auto rank = static_cast<std::size_t>(comm.rank());

  // Rank 0 creates (truncates) the file and writes the header; then everyone opens it. The
  // ground-truth file is opened up front too, so a bad path fails before the long part.
  int fd = -1;
  std::FILE* groups_file = nullptr;
  std::string error;
  if (comm.is_root()) {
    if (!opt.groups.empty()) {
      groups_file = std::fopen(opt.groups.c_str(), "wb");
      if (groups_file == nullptr) error = "cannot create " + opt.groups + ": " + std::strerror(errno);
    }
    if (!error.empty()) {
    } else if (fd = ::open(opt.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644); fd < 0) {
      error = "cannot create " + opt.output + ": " + std::strerror(errno);
    } else {
      try {
        write_all(fd, model.header.data(), model.header.size(), 0, opt.output);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
  }
  if (mpi::any_of(comm, !error.empty())) {
    if (!error.empty()) std::fprintf(stderr, "rfmseg-gen: %s\n", error.c_str());
    if (fd >= 0) ::close(fd);
    if (groups_file != nullptr) std::fclose(groups_file);
    return 1;
  }
  // Closes the ground-truth file on every early return below.
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> groups_guard(groups_file);
  if (!comm.is_root()) {
    fd = ::open(opt.output.c_str(), O_WRONLY);
    if (fd < 0) error = "cannot open " + opt.output + ": " + std::strerror(errno);
  }
  if (mpi::any_of(comm, !error.empty())) {
    if (!error.empty()) std::fprintf(stderr, "rfmseg-gen (rank %zu): %s\n", rank, error.c_str());
    if (fd >= 0) ::close(fd);
    return 1;
  }

  std::unique_ptr<Truth> truth;
  if (!opt.groups.empty()) truth = std::make_unique<Truth>(model.n_customers);

  std::size_t max_chunk = 0;
  for (const Chunk& c : chunks) max_chunk = std::max<std::size_t>(max_chunk, static_cast<std::size_t>(c.end - c.begin));
  const std::unique_ptr<char[]> buffer(new char[std::max<std::size_t>(1, max_chunk) * kMaxLine]);
  Generator gen(model);

  u64 starts_total = 0;                  // invoice starts before this round
  u64 bytes_total = model.header.size();  // file offset of this round
  const std::size_t rounds = (chunks.size() + ranks - 1) / ranks;
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::size_t ci = round * ranks + rank;
    const bool have = ci < chunks.size();
    const Chunk c = have ? chunks[ci] : Chunk{0, 0};
    const u64 my_starts = have ? gen.count_starts(c.begin, c.end) : 0;
    const auto starts = mpi::allgather<u64>(comm, my_starts);
    u64 starts_before = starts_total;
    for (std::size_t r = 0; r < rank; ++r) starts_before += starts[r];
    for (u64 s : starts) starts_total += s;

    std::size_t size = 0;
    if (have) size = gen.chunk(c.begin, c.end, starts_before, buffer.get(), truth.get());
    const auto sizes = mpi::allgather<u64>(comm, static_cast<u64>(size));
    u64 offset = bytes_total;
    for (std::size_t r = 0; r < rank; ++r) offset += sizes[r];
    for (u64 s : sizes) bytes_total += s;
    try {
      write_all(fd, buffer.get(), size, offset, opt.output);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (mpi::any_of(comm, !error.empty())) {
      if (!error.empty()) std::fprintf(stderr, "rfmseg-gen (rank %zu): %s\n", rank, error.c_str());
      ::close(fd);
      return 1;
    }
  }
  if (::close(fd) != 0) error = "cannot close " + opt.output + ": " + std::strerror(errno);
  if (mpi::any_of(comm, !error.empty())) {
    if (!error.empty()) std::fprintf(stderr, "rfmseg-gen (rank %zu): %s\n", rank, error.c_str());
    return 1;
  }

  std::string truth_line;
  if (truth) {
    allreduce_big(comm, truth->sums, mpi::Op::sum);
    allreduce_big(comm, truth->last_day, mpi::Op::max);
    auto fates = mpi::allreduce(comm, std::vector<i64>(truth->fates.begin(), truth->fates.end()), mpi::Op::sum);
    std::int32_t max_day = -1;
    u64 in_table = 0, listed = 0;
    for (u64 cu = 0; cu < model.n_customers; ++cu) {
      max_day = std::max(max_day, truth->last_day[static_cast<std::size_t>(cu)]);
      in_table += truth->at(cu, Truth::kKeptLines) > 0 ? 1 : 0;
      listed += truth->at(cu, Truth::kIdLines) > 0 ? 1 : 0;
    }
    const std::size_t snapshot_day = static_cast<std::size_t>(max_day + 1);
    if (comm.is_root()) {
      try {
        write_groups(model, *truth, groups_guard.release(), opt.groups, snapshot_day);
      } catch (const std::exception& e) {
        error = e.what();
      }
      truth_line = "rfmseg-gen: truth:";
      for (std::size_t f = 0; f < kFates; ++f) {
        truth_line += std::string(" ") + kFateNames[f] + "=" + std::to_string(fates[f]);
      }
      truth_line += " customers_listed=" + std::to_string(listed) + " customers_in_table=" + std::to_string(in_table);
      const i64 snap = opt.start_day + static_cast<i64>(snapshot_day);
      const Civil sc = civil_from_days(snap);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(sc.y), sc.m, sc.d);
      truth_line += std::string(" snapshot=") + (max_day < 0 ? "none" : buf) + " -> " + opt.groups;
    }
    if (mpi::any_of(comm, !error.empty())) {
      if (!error.empty()) std::fprintf(stderr, "rfmseg-gen: %s\n", error.c_str());
      return 1;
    }
  }

  comm.barrier();
  const double seconds = MPI_Wtime() - t0;
  if (comm.is_root()) {
    static constexpr std::array<const char*, 3> kFormatNames = {"online-retail", "online-retail-ii", "amount"};
    std::printf("rfmseg-gen: %llu lines, %llu bytes, %llu customers, %.3f s, %.1f MB/s (%zu ranks, %s, seed %llu, dirt %g) -> %s\n",
                static_cast<unsigned long long>(opt.lines), static_cast<unsigned long long>(bytes_total),
                static_cast<unsigned long long>(model.n_customers), seconds,
                seconds > 0 ? static_cast<double>(bytes_total) / seconds / 1e6 : 0.0, ranks,
                kFormatNames[static_cast<std::size_t>(opt.format)], static_cast<unsigned long long>(opt.seed), opt.dirt,
                opt.output.c_str());
    if (!truth_line.empty()) std::printf("%s\n", truth_line.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  rfmseg::mpi::Environment env(argc, argv);
  try {
    const auto comm = rfmseg::mpi::Comm::world();
    Options opt;
    try {
      opt = parse_options(argc, argv);
    } catch (const UsageError& e) {
      if (comm.is_root()) std::fprintf(stderr, "rfmseg-gen: %s (see --help)\n", e.what());
      return 1;
    }
    if (opt.help) {
      if (comm.is_root()) std::fputs(kHelp, stdout);
      return 0;
    }
    return run(comm, opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rfmseg-gen: internal error: %s\n", e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
    return 2;
  }
}
