// libFuzzer target: normalize_customer_id (include/rfmseg/customer_id.hpp), which decides which
// customer a line belongs to. The whole input is one customer id field.
//
// Rule (README "Data semantics" / DATA.md): ids are opaque strings compared exactly, except that
// ASCII whitespace around them is not part of the id and "17850.0" (an integer id written through
// a float column) is the id "17850". The reference below restates that rule; the checks also
// require a view into the argument (no copy that could dangle) and idempotence (an id read
// twice, e.g. from a checkpoint, stays the same id).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "rfmseg/customer_id.hpp"

namespace {

using rfmseg::fuzz::show;

bool ascii_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string_view reference(std::string_view id) {
  while (!id.empty() && ascii_space(id.front())) id.remove_prefix(1);
  while (!id.empty() && ascii_space(id.back())) id.remove_suffix(1);
  // digits '.' zeros, with at least one of each: the integer part is the id.
  std::size_t digits = 0;
  while (digits < id.size() && id[digits] >= '0' && id[digits] <= '9') ++digits;
  if (digits == 0 || digits + 1 >= id.size() || id[digits] != '.') return id;
  for (std::size_t i = digits + 1; i < id.size(); ++i)
    if (id[i] != '0') return id;
  return id.substr(0, digits);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view id(reinterpret_cast<const char*>(data), size);
  const std::string_view got = rfmseg::normalize_customer_id(id);
  FUZZ_CHECK(got.empty() || (got.data() >= id.data() && got.data() + got.size() <= id.data() + id.size()),
             "normalize_customer_id(" + show(id) + ") is not a view into its argument");
  const std::string_view expected = reference(id);
  FUZZ_CHECK(got == expected,
             "normalize_customer_id(" + show(id) + ") = " + show(got) + ", expected " + show(expected));
  const std::string_view again = rfmseg::normalize_customer_id(got);
  FUZZ_CHECK(again == got,
             "normalize_customer_id is not idempotent: " + show(id) + " -> " + show(got) + " -> " + show(again));
  return 0;
}
