#include "rfmseg/io/layout.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <iterator>
#include <utility>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/excerpt.hpp"

namespace rfmseg {

namespace {

// Header names compare case-insensitively with blanks, '_' and '-' removed ("Customer ID",
// "CustomerID" and "customer_id" are one name).
std::string normalize(std::string_view name) {
  if (name.size() >= 3 && name.substr(0, 3) == "\xEF\xBB\xBF") name.remove_prefix(3);  // UTF-8 BOM
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t' || c == '.') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

struct Role {
  const char* option;  // the --col-* option naming it
  const char* what;    // for messages
  std::vector<std::string> aliases;
};

const Role customer_role{
    "--col-customer", "customer id", {"customerid", "customer", "custid", "customerno", "customernumber", "clientid"}};
const Role invoice_role{
    "--col-invoice", "invoice", {"invoiceno", "invoice", "invoiceid", "invoicenumber", "orderid", "orderno"}};
const Role date_role{
    "--col-date", "date", {"invoicedate", "transdate", "date", "transactiondate", "orderdate", "purchasedate"}};
const Role quantity_role{"--col-quantity", "quantity", {"quantity", "qty"}};
const Role price_role{"--col-price", "unit price", {"unitprice", "price"}};
const Role amount_role{
    "--col-amount", "amount", {"tranamount", "amount", "dollarvalue", "transactionamount", "sales", "totalamount"}};

std::string header_text(const std::vector<std::string_view>& header) {
  std::string text;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (i) text += ", ";
    text += std::string(header[i]);
  }
  return printable_excerpt(text, 1024);  // bounded and escaped: a "header" may be a whole file of binary junk
}

bool all_digits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Finds a column: an explicit mapping wins (name or 1-based index), else the aliases (when allowed).
int find_column(const Role& role, const std::string& mapped, const std::vector<std::string_view>& header,
                bool has_header, bool use_aliases, const std::string& file) {
  if (!mapped.empty()) {
    if (all_digits(mapped)) {
      if (mapped.size() > 6)
        throw ConfigError(std::string(role.option) + " " + mapped + " is not a plausible column index");
      const int index = std::stoi(mapped);
      if (index < 1) throw ConfigError(std::string(role.option) + " must be a 1-based column index or a name");
      if (has_header && static_cast<std::size_t>(index) > header.size())
        throw InputError(file + ": " + role.option + " " + mapped + " is beyond the " + std::to_string(header.size()) +
                         " columns of the header [" + header_text(header) + "]");
      return index - 1;
    }
    if (!has_header)
      throw ConfigError(std::string(role.option) + " '" + mapped +
                        "' names a column, but --no-header is set: use a 1-based index");
    const std::string wanted = normalize(mapped);
    for (std::size_t i = 0; i < header.size(); ++i)
      if (normalize(header[i]) == wanted) return static_cast<int>(i);
    throw InputError(file + ": no column '" + mapped + "' (" + role.option + ") in header [" + header_text(header) +
                     "]");
  }
  if (!has_header || !use_aliases) return -1;
  for (const auto& alias : role.aliases)
    for (std::size_t i = 0; i < header.size(); ++i)
      if (normalize(header[i]) == alias) return static_cast<int>(i);
  return -1;
}

}  // namespace

csv::Dialect resolve_dialect(const InputConfig& config, std::string_view header_line) {
  csv::Dialect dialect;
  dialect.quote = config.quote;
  switch (config.delimiter.kind) {
    case Delimiter::Kind::whitespace: dialect.whitespace = true; break;
    case Delimiter::Kind::character: dialect.delimiter = config.delimiter.character; break;
    case Delimiter::Kind::automatic: {
      const std::array<char, 3> candidates{',', ';', '\t'};
      std::size_t best = 0;
      dialect.delimiter = ',';
      for (char c : candidates) {
        const auto n = static_cast<std::size_t>(std::count(header_line.begin(), header_line.end(), c));
        if (n > best) {
          best = n;
          dialect.delimiter = c;
        }
      }
      // No delimiter at all but blanks between names: a whitespace-separated file.
      if (best == 0 && csv::trim(csv::strip_line_end(header_line)).find_first_of(" \t") != std::string_view::npos)
        dialect.whitespace = true;
      break;
    }
  }
  // A delimiter that is also the quote or a line end cannot be told apart from it: every record
  // would split wrongly and be dropped as bad_field_count.
  if (!dialect.whitespace &&
      (dialect.delimiter == dialect.quote || dialect.delimiter == '\n' || dialect.delimiter == '\r'))
    throw ConfigError("--delimiter cannot be the quote character or a line end");
  return dialect;
}

Layout resolve_layout(const InputConfig& config, const csv::Dialect& dialect,
                      const std::vector<std::string_view>& header, const std::string& file) {
  if (!config.pseudonym_key.empty()) {
    // A "header" may be a data line (a file without one, read without --no-header) and hold a raw
    // id: messages name the file, not the header's text.
    InputConfig plain = config;
    plain.pseudonym_key.clear();
    try {
      return resolve_layout(plain, dialect, header, file);
    } catch (const InputError& error) {
      std::string text = error.what();
      const auto open = text.find(" header ["), close = text.rfind(']');
      if (open != std::string::npos && close != std::string::npos && close > open)
        text.replace(open + 9, close - open - 9, "text withheld: --pseudonymize-key");
      throw InputError(text);
    }
  }
  Layout layout;
  layout.dialect = dialect;
  layout.has_header = config.has_header;
  ColumnMapping mapping = config.columns;

  // Monetary comes from one amount column or from quantity x price, never both: a mapping that
  // names both kinds would silently lose half of itself.
  const bool maps_quantity_or_price = !config.columns.quantity.empty() || !config.columns.price.empty();
  if (!config.columns.amount.empty() && maps_quantity_or_price)
    throw ConfigError(
        "--col-amount (one amount per purchase) and --col-quantity / --col-price (quantity x price) "
        "exclude each other: map one or the other");
  if (config.format == Format::amount && maps_quantity_or_price)
    throw ConfigError(
        "--format amount reads one amount column: --col-quantity / --col-price do not apply "
        "(map it with --col-amount)");

  // Presets fix the column names (with a header) or positions (without one).
  const bool no_header = !config.has_header;
  auto preset = [&](const char* cust, const char* inv, const char* date, const char* qty, const char* price,
                    const char* amount) {
    auto pick = [&](std::string& slot, const char* name, const char* position) {
      if (slot.empty() && name != nullptr) slot = no_header ? position : name;
    };
    pick(mapping.customer, cust, cust == nullptr ? "" : (amount ? "1" : "7"));
    pick(mapping.invoice, inv, "1");
    pick(mapping.date, date, amount ? "2" : "5");
    pick(mapping.quantity, qty, "4");
    pick(mapping.price, price, "6");
    pick(mapping.amount, amount, "3");
  };
  bool use_aliases = true;
  switch (config.format) {
    case Format::online_retail:
      preset("CustomerID", "InvoiceNo", "InvoiceDate", "Quantity", "UnitPrice", nullptr);
      layout.format_name = "online-retail";
      use_aliases = false;
      break;
    case Format::online_retail_ii:
      preset("Customer ID", "Invoice", "InvoiceDate", "Quantity", "Price", nullptr);
      layout.format_name = "online-retail-ii";
      use_aliases = false;
      break;
    case Format::amount:
      if (no_header) preset("1", nullptr, "2", nullptr, nullptr, "3");
      layout.format_name = "amount";
      break;
    case Format::automatic: break;
  }

  layout.customer = find_column(customer_role, mapping.customer, header, config.has_header, true, file);
  layout.invoice = find_column(invoice_role, mapping.invoice, header, config.has_header, use_aliases, file);
  layout.date = find_column(date_role, mapping.date, header, config.has_header, true, file);
  if (config.format != Format::amount) {
    layout.quantity = find_column(quantity_role, mapping.quantity, header, config.has_header, use_aliases, file);
    layout.price = find_column(price_role, mapping.price, header, config.has_header, use_aliases, file);
  }
  if (layout.quantity < 0 || layout.price < 0 || !mapping.amount.empty()) {
    layout.amount = find_column(amount_role, mapping.amount, header, config.has_header, true, file);
    if (layout.amount >= 0) {
      layout.quantity = -1;
      layout.price = -1;
    }
  }

  // The optional invoice column, found by its name, yields to an explicit mapping that puts
  // another role on it (e.g. --col-customer InvoiceNo): that column is then not an invoice.
  if (config.columns.invoice.empty() && layout.invoice >= 0)
    for (const int other : {layout.customer, layout.date, layout.quantity, layout.price, layout.amount})
      if (other == layout.invoice) layout.invoice = -1;

  std::string missing;
  auto require = [&](int column, const Role& role) {
    if (column < 0) missing += std::string(missing.empty() ? "" : "; ") + role.what + " (" + role.option + ")";
  };
  require(layout.customer, customer_role);
  require(layout.date, date_role);
  if (config.format == Format::amount) {
    require(layout.amount, amount_role);  // the preset has no quantity or price to name
  } else if (layout.amount < 0) {
    if (layout.quantity < 0 && layout.price < 0) {
      // Neither kind of money column: both ways of giving Monetary are worth naming.
      missing += std::string(missing.empty() ? "" : "; ") + quantity_role.what + " (" + quantity_role.option +
                 ") and " + price_role.what + " (" + price_role.option + "), or an " + amount_role.what + " (" +
                 amount_role.option + ")";
    } else {
      require(layout.quantity, quantity_role);
      require(layout.price, price_role);
    }
  }
  if (!missing.empty()) {
    const std::string seen = config.has_header ? " in header [" + header_text(header) + "]" : "";
    throw InputError(file + ": cannot find the " + missing + seen +
                     ". Map the columns with the --col-* options or choose --format "
                     "(online-retail, online-retail-ii, amount).");
  }

  if (layout.format_name.empty()) {
    const auto name_at = [&](int column) {
      return column >= 0 && config.has_header ? normalize(header[static_cast<std::size_t>(column)]) : std::string();
    };
    if (layout.amount >= 0)
      layout.format_name = "amount";
    else if (name_at(layout.invoice) == "invoiceno" && name_at(layout.price) == "unitprice")
      layout.format_name = "online-retail";
    else if (name_at(layout.invoice) == "invoice" && name_at(layout.price) == "price")
      layout.format_name = "online-retail-ii";
    else
      layout.format_name = "custom";
  }

  // Two roles on one column (e.g. --col-customer 7 --col-date 7) would fail on every line and end
  // in "no usable transactions"; name the clash instead.
  const std::pair<int, const Role*> roles[] = {{layout.customer, &customer_role}, {layout.invoice, &invoice_role},
                                               {layout.date, &date_role},         {layout.quantity, &quantity_role},
                                               {layout.price, &price_role},       {layout.amount, &amount_role}};
  for (std::size_t a = 0; a < std::size(roles); ++a)
    for (std::size_t b = a + 1; b < std::size(roles); ++b)
      if (roles[a].first >= 0 && roles[a].first == roles[b].first) {
        const auto column = static_cast<std::size_t>(roles[a].first);
        const std::string name = config.has_header ? " (" + std::string(header[column]) + ")" : "";
        throw ConfigError(file + ": " + roles[a].second->option + " and " + roles[b].second->option +
                          " both name column " + std::to_string(column + 1) + name +
                          "; each needs a column of its own");
      }

  const int last =
      std::max({layout.customer, layout.invoice, layout.date, layout.quantity, layout.price, layout.amount});
  layout.min_fields = static_cast<std::size_t>(last) + 1;
  layout.field_count = config.has_header ? header.size() : 0;
  return layout;
}

}  // namespace rfmseg
