#include "gen/options.hpp"

#include <boost/program_options.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string_view>
#include <vector>

#include "rfmseg/core/date.hpp"

namespace po = boost::program_options;

namespace rfmseg::gen {

namespace {

constexpr std::uint64_t max_lines = std::uint64_t{1} << 46;
constexpr std::uint64_t max_customers = 0x7fffffff;
constexpr std::uint64_t max_days = 36500;
constexpr std::uint64_t max_chunk_lines = std::uint64_t{1} << 24;

po::options_description describe() {
  // Every valued option is read as text and checked below, with the generator's own messages.
  const auto text = [](const char* value_name) { return po::value<std::string>()->value_name(value_name); };
  po::options_description options("Options (--name VALUE or --name=VALUE)", 100, 50);
  options.add_options()("output", text("PATH"), "output CSV file (required; created or truncated)")(
      "lines", text("N"), "number of data lines after the header (required, >= 0)")(
      "customers", text("C"), "number of customers (default max(1, lines/20))")(
      "seed", text("S"), "random seed, unsigned 64-bit (default 42)")(
      "dirt", text("RATE"),
      "dirt rate in [0, 1] (default 0.02); 0 = perfectly clean. Each kind below affects about RATE * weight of "
      "the lines:\n"
      "  missing customer id (whole invoices)             0.31\n"
      "  C-invoice cancellations (whole invoices)         0.15\n"
      "  exact duplicate of the previous line             0.12\n"
      "  customer id written as 17850.0                   0.10\n"
      "  quoted description with \",\" and doubled quotes   0.10\n"
      "  negative quantity on a normal invoice            0.05\n"
      "  zero price                                       0.05\n"
      "  empty description                                0.05\n"
      "  raw Latin-1 (0xA3, 0xC9) or \"\xC3\x82\xC2\xA3\" bytes in text   0.05\n"
      "  A-invoice (bad-debt adjustment, negative price)  0.02\n"
      "(amount format: ids, descriptions and invoice prefixes do not exist, so only missing ids, duplicates and "
      "negative/zero amounts occur there)")("format", text("F"),
                                            "online-retail (default) | online-retail-ii | amount\n"
                                            "  online-retail:    InvoiceNo,StockCode,Description,Quantity,\n"
                                            "                    InvoiceDate,UnitPrice,CustomerID,Country\n"
                                            "                    (ids 12346, 12347, ...)\n"
                                            "  online-retail-ii: Invoice,StockCode,Description,Quantity,\n"
                                            "                    InvoiceDate,Price,Customer ID,Country\n"
                                            "  amount:           customer_id,trans_date,tran_amount\n"
                                            "                    (one purchase per line, amount = basket total)")(
      "date-style", text("D"),
      "us   12/1/2010 8:26          (month first, no padding)\n"
      "eu   1/12/2010 8:26          (day first)\n"
      "iso  2010-12-01 08:26:00\n"
      "us2  12/1/10 8:26            (two-digit year)\n"
      "mon  01-Dec-10               (DD-Mon-YY, no time)\n"
      "ymd  20101201                (YYYYMMDD, no time)\n"
      "default: us for online-retail, iso for online-retail-ii, mon for amount")(
      "id-style", text("S"),
      "amount format customer ids: cs (CS1112, CS1113, ...; default) or padded (00001, 00002, ...; at least 5 "
      "digits)")("start", text("YYYY-MM-DD"), "first day of the period (default 2010-12-01)")(
      "days", text("D"), "length of the period in days (default 373)")("crlf", po::bool_switch(),
                                                                       "CRLF line ends (default LF)")(
      "groups", text("PATH"),
      "also write the ground truth, one row per customer whose id appears (non-empty) on at least one line, "
      "ordered by customer index:\n"
      "  customer_id,group,in_table,recency,frequency,monetary,\n"
      "  monetary_net,invoices,kept_lines,purchase_days\n"
      "group is the latent group (loyal, regular, new, at_risk, churned). The other columns are what rfmseg must "
      "compute with its default cleaning (README \"Data semantics\"): in_table = 1 when the customer has a kept "
      "purchase line (else recency is empty and the numbers are 0); recency in days from the snapshot (printed on "
      "stdout); frequency = invoices for the online-retail layouts, kept lines for amount; monetary = sum of "
      "quantity * price over kept lines (exact, 2 decimals); monetary_net = monetary plus the cancellation lines "
      "(--cancellations net). Needs about 56 bytes per customer on every rank.")(
      "night", text("N"),
      "write night N of a series of consecutive nights (default 1): the period of --days plus (N - 1) * "
      "--night-days more days, the shop going on. Night N's lines are night N-1's lines (the same bytes, in the "
      "same order) followed by those of the new days; night 1 is exactly the output without --night. The "
      "--lines (and the default --customers) are night 1's: the new days get lines at the same daily rate")(
      "night-days", text("D"), "days each night adds (default 1; 7 = weekly runs)")(
      "move-night", text("M"),
      "the night from whose new days on customers move between behaviours (default 2), by a fixed rule keyed "
      "by customer and seed: a customer moves when the word of its movement stream, as a uniform u in (0, 1), "
      "is below --move-share; a moving loyal customer stops buying (churns), a moving churned customer buys "
      "again like a loyal one (comes back); other groups never move")(
      "move-share", text("P"), "share in [0, 1] of the loyal and of the churned customers that move (default 0.25)")(
      "truth", text("PATH"),
      "write the behaviour per night, one row per customer (all --customers, by customer index):\n"
      "  customer_id,group,night_1,...,night_N\n"
      "night_k is the behaviour during night k's new days (night 1: the whole period): the group, or churned "
      "for a loyal customer that stopped and loyal for a churned one that came back")(
      "chunk-lines", text("K"),
      "lines per work unit (default 262144; output buffer about 90 bytes per line). Days are packed into units, "
      "bigger days split. Only memory use and balance change: the output is the same for every K (a testing "
      "knob)")("help,h", po::bool_switch(), "print this help and exit");
  return options;
}

// Digits only, at most 2^64 - 1. Not rfmseg::parse_quantity (core/number.hpp): that one takes a
// sign and blanks and stops at 10^12, and seeds use all 64 bits.
bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (~std::uint64_t{0} - digit) / 10) return false;
    value = value * 10 + digit;
  }
  out = value;
  return true;
}

// Exactly YYYY-MM-DD with a year from 1000 on and a real calendar day. Not rfmseg::DateParser:
// that one also takes a time of day and only the years 1900..2199, which would change which
// --start values are accepted.
bool parse_date(std::string_view text, std::int64_t& out) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  std::uint64_t y = 0, m = 0, d = 0;
  if (!parse_u64(text.substr(0, 4), y) || !parse_u64(text.substr(5, 2), m) || !parse_u64(text.substr(8, 2), d)) {
    return false;
  }
  if (y < 1000 || m < 1 || m > 12 || d < 1 || d > 31) return false;
  const std::int32_t day = days_from_civil(static_cast<int>(y), static_cast<unsigned>(m), static_cast<unsigned>(d));
  const CivilDate back = civil_from_days(day);
  if (back.month != m || back.day != d) return false;  // 2011-02-30 and the like
  out = day;
  return true;
}

/// The command line, each option once: a repeated option counts with its last value (as before
/// Program_options, which would refuse the repetition), a word that is no option is an error.
po::parsed_options read_command_line(int argc, const char* const* argv, const po::options_description& desc) {
  po::parsed_options parsed(&desc);
  try {
    parsed = po::command_line_parser(argc, argv)
                 .options(desc)
                 .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                 .run();
  } catch (const po::unknown_option& e) {
    throw UsageError("unknown option '" + e.get_option_name() + "'");
  } catch (const po::invalid_command_line_syntax& e) {
    const std::string name = e.get_option_name();
    if (e.kind() == po::invalid_syntax::missing_parameter) throw UsageError("option " + name + " needs a value");
    if (e.kind() == po::invalid_syntax::empty_adjacent_parameter) throw UsageError(name + " must not be empty");
    if (e.kind() == po::invalid_syntax::extra_parameter) throw UsageError("option " + name + " takes no value");
    throw UsageError(e.what());
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  for (const po::option& option : parsed.options) {
    if (option.position_key >= 0 || option.unregistered) {
      throw UsageError("unknown option '" + option.original_tokens.front() + "'");
    }
  }
  std::set<std::string> seen;
  std::vector<po::option> last;
  for (auto it = parsed.options.rbegin(); it != parsed.options.rend(); ++it) {
    if (seen.insert(it->string_key).second) last.insert(last.begin(), *it);
  }
  parsed.options = std::move(last);
  return parsed;
}

std::uint64_t number(const po::variables_map& vm, const char* name, std::uint64_t fallback) {
  if (vm.count(name) == 0) return fallback;
  const auto& text = vm[name].as<std::string>();
  std::uint64_t value = 0;
  if (!parse_u64(text, value)) throw UsageError(std::string("bad value for --") + name + ": '" + text + "'");
  return value;
}

std::string nonempty(const po::variables_map& vm, const char* name) {
  if (vm.count(name) == 0) return {};
  const auto& text = vm[name].as<std::string>();
  if (text.empty()) throw UsageError(std::string("--") + name + " must not be empty");
  return text;
}

double dirt_rate(const po::variables_map& vm) {
  if (vm.count("dirt") == 0) return 0.02;
  // strtod, not rfmseg::parse_micros (core/number.hpp): the rate is a double compared with random
  // uniforms, and rounding it to 6 decimals would change the output of rates like 1e-7.
  const auto& text = vm["dirt"].as<std::string>();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !(v >= 0.0 && v <= 1.0)) {
    throw UsageError("bad value for --dirt: '" + text + "' (expected a number in [0, 1])");
  }
  return v;
}

Format format_of(const po::variables_map& vm) {
  if (vm.count("format") == 0) return Format::online_retail;
  const auto& text = vm["format"].as<std::string>();
  if (text == "online-retail") return Format::online_retail;
  if (text == "online-retail-ii") return Format::online_retail_ii;
  if (text == "amount") return Format::amount;
  throw UsageError("bad value for --format: '" + text + "' (online-retail, online-retail-ii, amount)");
}

DateStyle date_style_of(const po::variables_map& vm, Format format) {
  if (vm.count("date-style") == 0) {
    return format == Format::online_retail      ? DateStyle::us
           : format == Format::online_retail_ii ? DateStyle::iso
                                                : DateStyle::mon;
  }
  const auto& text = vm["date-style"].as<std::string>();
  if (text == "us") return DateStyle::us;
  if (text == "eu") return DateStyle::eu;
  if (text == "iso") return DateStyle::iso;
  if (text == "us2") return DateStyle::us2;
  if (text == "mon") return DateStyle::mon;
  if (text == "ymd") return DateStyle::ymd;
  throw UsageError("bad value for --date-style: '" + text + "' (us, eu, iso, us2, mon, ymd)");
}

IdStyle id_style_of(const po::variables_map& vm) {
  if (vm.count("id-style") == 0) return IdStyle::cs;
  const auto& text = vm["id-style"].as<std::string>();
  if (text == "cs") return IdStyle::cs;
  if (text == "padded") return IdStyle::padded;
  throw UsageError("bad value for --id-style: '" + text + "' (cs, padded)");
}

}  // namespace

std::string help_text() {
  std::ostringstream out;
  out << "rfmseg-gen: write a synthetic, deliberately messy transaction log for rfmseg.\n\n"
         "Usage: mpirun -np P rfmseg-gen --output PATH --lines N [options]\n\n"
         "The output is byte-identical for every rank count P (and for P = 1 without mpirun).\n\n"
      << describe()
      << "\nLatent customer groups (shares of customers): loyal 12 % (frequent all year, big baskets),\n"
         "regular 28 %, new 20 % (few purchases, last 16 % of the period only), at_risk 15 % (frequent,\n"
         "but nothing in the last third), churned 25 % (rare, cheap, first 30 % of the period only).\n\n"
         "Consecutive nights (--night): night 1 is the output without --night; night N appends (N - 1) *\n"
         "--night-days days at the same daily rate, each night starting with a new invoice, so night N's\n"
         "file is night N-1's file, byte for byte, followed by the new lines. From --move-night's new days on,\n"
         "a share (--move-share) of the loyal customers stop buying and the same share of the churned ones\n"
         "buy like loyal ones; --truth lists every customer's behaviour per night. Example, weekly runs:\n"
         "  rfmseg-gen --output n1.csv --lines 100000 --night 1 --night-days 7 --truth t1.csv\n"
         "  rfmseg-gen --output n2.csv --lines 100000 --night 2 --night-days 7 --truth t2.csv\n\n"
         "Rank 0 prints one summary line (lines, bytes, customers, seconds, MB/s); with --groups a second\n"
         "line with the expected cleaning counts and the snapshot date.\n";
  return out.str();
}

Options parse_options(int argc, const char* const* argv) {
  const po::options_description desc = describe();
  po::variables_map vm;
  po::store(read_command_line(argc, argv, desc), vm);
  Options opt;
  opt.is_help = vm["help"].as<bool>();
  if (opt.is_help) return opt;

  opt.output = nonempty(vm, "output");
  opt.groups = nonempty(vm, "groups");
  if (opt.output.empty()) throw UsageError("--output is required");
  if (vm.count("lines") == 0) throw UsageError("--lines is required");
  opt.lines = number(vm, "lines", 0);
  if (opt.lines > max_lines) throw UsageError("--lines is too large (max 2^46)");
  opt.customers = number(vm, "customers", std::min(max_customers, std::max<std::uint64_t>(1, opt.lines / 20)));
  if (opt.customers < 1 || opt.customers > max_customers) {
    throw UsageError("--customers must be between 1 and 2147483647");
  }
  opt.seed = number(vm, "seed", 42);
  opt.days = number(vm, "days", 373);
  if (opt.days < 1 || opt.days > max_days) throw UsageError("--days must be between 1 and 36500");
  opt.dirt = dirt_rate(vm);
  opt.format = format_of(vm);
  opt.date_style = date_style_of(vm, opt.format);
  opt.id_style = id_style_of(vm);
  const std::string start = vm.count("start") != 0 ? vm["start"].as<std::string>() : "2010-12-01";
  if (!parse_date(start, opt.start_day)) {
    throw UsageError("bad value for --start: '" + start + "' (expected YYYY-MM-DD)");
  }
  opt.chunk_lines = number(vm, "chunk-lines", opt.chunk_lines);
  if (opt.chunk_lines < 1 || opt.chunk_lines > max_chunk_lines) {
    throw UsageError("--chunk-lines must be between 1 and 16777216");
  }
  opt.is_crlf = vm["crlf"].as<bool>();
  opt.night = number(vm, "night", 1);
  if (opt.night < 1 || opt.night > max_days) throw UsageError("--night must be between 1 and 36500");
  opt.night_days = number(vm, "night-days", 1);
  if (opt.night_days < 1 || opt.night_days > max_days) throw UsageError("--night-days must be between 1 and 36500");
  opt.move_night = number(vm, "move-night", 2);
  if (opt.move_night < 2) throw UsageError("--move-night must be 2 or more (night 1 is the base period)");
  if (vm.count("move-share") != 0) {
    const auto& text = vm["move-share"].as<std::string>();
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !(v >= 0.0 && v <= 1.0))
      throw UsageError("bad value for --move-share: '" + text + "' (expected a number in [0, 1])");
    opt.move_share = v;
  }
  opt.truth = nonempty(vm, "truth");
  if (opt.days + (opt.night - 1) * opt.night_days > max_days)
    throw UsageError("--days + (--night - 1) * --night-days must be at most 36500");

  // parse_date keeps the start within the years 1000..9999 and --days is at most 36500: int32 day numbers.
  const int first_year = civil_from_days(static_cast<std::int32_t>(opt.start_day)).year;
  const auto last_day = static_cast<std::int32_t>(opt.start_day + static_cast<std::int64_t>(opt.total_days()) - 1);
  const int last_year = civil_from_days(last_day).year;
  if (opt.date_style == DateStyle::us2 || opt.date_style == DateStyle::mon) {
    if (first_year < 1969 || last_year > 2068) {
      throw UsageError("two-digit years (date style us2/mon) need a period within 1969..2068");
    }
  } else if (first_year < 1000 || last_year > 9999) {
    throw UsageError("the period must lie within the years 1000..9999");
  }
  if (!opt.groups.empty() && opt.groups == opt.output) throw UsageError("--groups and --output are the same file");
  if (!opt.truth.empty() && (opt.truth == opt.output || opt.truth == opt.groups))
    throw UsageError("--truth must be another file than --output and --groups");
  return opt;
}

}  // namespace rfmseg::gen
