// --export's CSV pieces (RFC 4180 quoting, shortest round-trip doubles, independent gzip members)
// and --pseudonymize-key's HMAC and key-file rules.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <string>

#include "rfmseg/app/export.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/pseudonym.hpp"

using namespace rfmseg;

namespace {

std::string field(std::string_view text) {
  std::string out;
  csv_export::append_field(out, text);
  return out;
}

std::string number(double value) {
  std::string out;
  csv_export::append_double(out, value);
  return out;
}

// Every member of a (multi-member) gzip stream, inflated and concatenated, as gzip -d does.
std::string gunzip_all(const std::string& data) {
  std::string out;
  std::size_t at = 0;
  while (at < data.size()) {
    z_stream zs{};
    EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + at));
    zs.avail_in = static_cast<uInt>(data.size() - at);
    char buffer[4096];
    int status = Z_OK;
    while (status == Z_OK) {
      zs.next_out = reinterpret_cast<Bytef*>(buffer);
      zs.avail_out = sizeof buffer;
      status = inflate(&zs, Z_NO_FLUSH);
      out.append(buffer, sizeof buffer - zs.avail_out);
    }
    EXPECT_EQ(status, Z_STREAM_END);
    at = data.size() - zs.avail_in;
    inflateEnd(&zs);
    if (status != Z_STREAM_END) break;
  }
  return out;
}

std::string write_key(const std::string& name, const std::string& bytes, mode_t mode) {
  const std::string path = ::testing::TempDir() + "rfmseg-key-" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace

TEST(ExportCsv, quotes_only_fields_that_need_it) {
  EXPECT_EQ(field("17850"), "17850");
  EXPECT_EQ(field("00042"), "00042");
  EXPECT_EQ(field("at risk"), "at risk");
  EXPECT_EQ(field("loyal, high value"), "\"loyal, high value\"");
  EXPECT_EQ(field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(field(""), "");
}

TEST(ExportCsv, doubles_read_back_to_the_same_bits) {
  EXPECT_EQ(number(64.95), "64.95");
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(-0.0), "-0");
  EXPECT_EQ(number(std::numeric_limits<double>::quiet_NaN()), "");
  const double values[] = {0.1 + 0.2,
                           1.0 / 3,
                           98.16000000000003,
                           1e-300,
                           4.9406564584124654e-324,
                           std::numeric_limits<double>::max(),
                           123456789012345680.0,
                           -2.5e-7,
                           1e21};
  for (const double value : values) {
    const std::string text = number(value);
    EXPECT_EQ(std::strtod(text.c_str(), nullptr), value) << text;
    EXPECT_LE(text.size(), 24u) << text;
  }
  std::string out;
  csv_export::append_integer(out, -9223372036854775807LL - 1);
  EXPECT_EQ(out, "-9223372036854775808");
}

TEST(ExportCsv, gzip_members_concatenate_into_one_stream) {
  std::string rows;
  for (int i = 0; i < 50000; ++i) rows += "customer" + std::to_string(i) + "," + std::to_string(i % 97) + "\n";
  const std::string a = rows.substr(0, 123457), b = rows.substr(123457), empty;
  const std::string file = csv_export::gzip_member(a) + csv_export::gzip_member(empty) + csv_export::gzip_member(b);
  EXPECT_LT(file.size(), rows.size() / 3);
  EXPECT_EQ(gunzip_all(file), rows);
  // The gzip header: magic, deflate, no mtime (the bytes depend on the data alone).
  ASSERT_GE(file.size(), 10u);
  EXPECT_EQ(static_cast<unsigned char>(file[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(file[1]), 0x8b);
  EXPECT_EQ(file.substr(4, 4), std::string(4, '\0'));
}

TEST(Pseudonym, hmac_sha256_matches_rfc_4231) {
  // RFC 4231 test case 2 (key "Jefe") and test case 1 (20 bytes 0x0b).
  Pseudonymizer jefe("Jefe");
  EXPECT_EQ(jefe.token("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  Pseudonymizer ones(std::string(20, '\x0b'));
  EXPECT_EQ(ones.token("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // RFC 4231 test case 6: a 131-byte key (longer than the block: hashed first).
  Pseudonymizer long_key(std::string(131, '\xaa'));
  EXPECT_EQ(long_key.token("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // The context is reused: the same id again, another id, and back.
  EXPECT_EQ(ones.token("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(jefe.token("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string first(jefe.token("17850"));
  EXPECT_NE(jefe.token("17851"), first);
  EXPECT_EQ(jefe.token("17850"), first);
  Pseudonymizer moved(std::move(jefe));
  EXPECT_EQ(moved.token("17850"), first);
}

TEST(Pseudonym, key_id_is_a_prefix_of_the_keys_sha256) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(pseudonym_key_id("abc"), "ba7816bf8f01cfea");
}

TEST(Pseudonym, key_file_rules) {
  const std::string good(40, 'k');
  const std::string ok = write_key("ok", good, 0600);
  EXPECT_EQ(read_pseudonym_key(ok), good);
  EXPECT_EQ(read_pseudonym_key(write_key("ro", std::string(32, 'x'), 0400)), std::string(32, 'x'));
  const auto refused = [](const std::string& path, const std::string& why) {
    try {
      (void)read_pseudonym_key(path);
      ADD_FAILURE() << path << " was accepted";
    } catch (const ConfigError& error) {
      EXPECT_NE(std::string(error.what()).find(why), std::string::npos) << error.what();
    }
  };
  refused(write_key("short", std::string(31, 'k'), 0600), "holds 31 bytes, fewer than the 32");
  refused(write_key("empty", "", 0600), "holds 0 bytes");
  refused(write_key("group", good, 0640), "readable by its group");
  refused(write_key("other", good, 0604), "readable by others");
  refused(write_key("both", good, 0644), "readable by group and others");
  refused(::testing::TempDir() + "rfmseg-no-such-key", "No such file");
  refused(::testing::TempDir(), "is a directory");
  refused("/dev/null", "not a regular file");
}
