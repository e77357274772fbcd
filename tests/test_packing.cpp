// core/packing.hpp: what is packed is unpacked unchanged, any byte included; a short message is an
// error, not a read past its end.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "rfmseg/core/packing.hpp"

namespace rfmseg {
namespace {

TEST(Packing, round_trip_of_numbers_and_any_bytes) {
  const std::string awkward = std::string("tab\there\nnewline, NUL \0 and \xff", 29);
  Packer packer;
  packer.put(std::uint64_t{0}).put(UINT64_MAX).put(std::string_view{}).put(awkward).put(std::uint64_t{42});
  Unpacker unpacker(packer.bytes());
  EXPECT_EQ(unpacker.number(), 0u);
  EXPECT_EQ(unpacker.number(), UINT64_MAX);
  EXPECT_EQ(unpacker.text(), "");
  EXPECT_EQ(unpacker.text(), awkward);
  EXPECT_FALSE(unpacker.done());
  EXPECT_EQ(unpacker.number(), 42u);
  EXPECT_TRUE(unpacker.done());
}

TEST(Packing, a_short_message_is_an_error) {
  Packer packer;
  packer.put("some text");
  const std::string cut = packer.bytes().substr(0, packer.bytes().size() - 1);
  Unpacker unpacker(cut);
  EXPECT_THROW((void)unpacker.text(), std::logic_error);
  Unpacker empty("");
  EXPECT_THROW((void)empty.number(), std::logic_error);
}

}  // namespace
}  // namespace rfmseg
