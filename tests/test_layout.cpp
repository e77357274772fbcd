#include <gtest/gtest.h>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/layout.hpp"

using namespace rfmseg;

namespace {
Layout resolve(const std::string& header_line, InputConfig config = {}) {
  const auto dialect = resolve_dialect(config, header_line);
  csv::FieldSplitter splitter(dialect);
  std::vector<std::string_view> fields;
  EXPECT_TRUE(splitter.split(csv::strip_line_end(header_line), fields));
  return resolve_layout(config, dialect, fields, "input.csv");
}
}  // namespace

TEST(Layout, online_retail_is_recognised_by_header) {
  const auto l = resolve("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\r\n");
  EXPECT_EQ(l.format_name, "online-retail");
  EXPECT_EQ(l.invoice, 0);
  EXPECT_EQ(l.quantity, 3);
  EXPECT_EQ(l.date, 4);
  EXPECT_EQ(l.price, 5);
  EXPECT_EQ(l.customer, 6);
  EXPECT_EQ(l.field_count, 8u);
}

TEST(Layout, online_retail_ii_and_bom) {
  const auto l = resolve("\xEF\xBB\xBFInvoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n");
  EXPECT_EQ(l.format_name, "online-retail-ii");
  EXPECT_EQ(l.invoice, 0);
  EXPECT_EQ(l.customer, 6);
  EXPECT_EQ(l.price, 5);
}

TEST(Layout, amount_layouts) {
  const auto a = resolve("customer_id,trans_date,tran_amount\n");
  EXPECT_EQ(a.format_name, "amount");
  EXPECT_EQ(a.amount, 2);
  EXPECT_FALSE(a.has_invoice());
  const auto b = resolve("customer_id,date,number_of_cds,dollar_value\n");
  EXPECT_EQ(b.amount, 3);
  EXPECT_EQ(b.date, 1);
  const auto ws = resolve("customer_id date number_of_cds dollar_value\r\n");
  EXPECT_TRUE(ws.dialect.whitespace);
  EXPECT_EQ(ws.amount, 3);
}

TEST(Layout, semicolon_detected_and_mapping_by_name) {
  InputConfig config;
  config.columns.customer = "Kunde";
  config.columns.date = "Datum";
  config.columns.amount = "Betrag";
  const auto l = resolve("Kunde;Datum;Betrag\n", config);
  EXPECT_EQ(l.dialect.delimiter, ';');
  EXPECT_EQ(l.customer, 0);
  EXPECT_EQ(l.amount, 2);
}

TEST(Layout, no_header_with_indices) {
  InputConfig config;
  config.has_header = false;
  config.columns = ColumnMapping{"1", "", "2", "", "", "4"};  // customer, invoice, date, qty, price, amount
  config.delimiter.kind = Delimiter::Kind::whitespace;
  const auto l = resolve("00001 19970101 1 11.77\n", config);
  EXPECT_EQ(l.customer, 0);
  EXPECT_EQ(l.amount, 3);
  EXPECT_EQ(l.min_fields, 4u);
  EXPECT_EQ(l.field_count, 0u);
}

TEST(Layout, missing_columns_name_what_is_missing) {
  try {
    (void)resolve("Invoice,Qty,When,Who\n");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("customer id (--col-customer)"), std::string::npos) << message;
    EXPECT_NE(message.find("date (--col-date)"), std::string::npos) << message;
    EXPECT_NE(message.find("[Invoice, Qty, When, Who]"), std::string::npos) << message;
  }
  InputConfig config;
  config.columns.customer = "Nope";
  EXPECT_THROW(
      (void)resolve("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n", config),
      InputError);
}

TEST(Layout, explicit_preset_requires_its_names) {
  InputConfig config;
  config.format = Format::online_retail;
  EXPECT_THROW((void)resolve("Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n", config),
               InputError);
}
