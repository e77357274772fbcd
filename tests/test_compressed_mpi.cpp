// Compressed inputs under MPI: a .gz stream, BGZF members, concatenated gzip members and zstd
// frames — with member/frame boundaries inside the header, inside quoted fields and right at a
// quoted newline — must give exactly the table, counters and bad-line reports of the plain file
// for every rank count; corrupt and truncated archives are agreed errors naming file and offset.

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <tuple>

#include "rfmseg/app/customer_stage.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/compressed.hpp"
#include "test_support.hpp"

using namespace rfmseg;

namespace {

// One gzip member of `data` (wrapper written by zlib).
std::string gzip_member(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

// One BGZF member (what bgzip writes): a gzip member whose "BC" extra subfield holds its size.
std::string bgzf_member(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string body(deflateBound(&stream, data.size()) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(body.data());
  stream.avail_out = static_cast<uInt>(body.size());
  (void)deflate(&stream, Z_FINISH);
  body.resize(stream.total_out);
  deflateEnd(&stream);
  const std::size_t size = 18 + body.size() + 8;
  const auto le = [](std::string& s, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) s += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  std::string out{"\x1f\x8b\x08\x04", 4};
  le(out, 0, 4);  // mtime
  out += '\0';    // xfl
  out += '\xff';  // os
  le(out, 6, 2);  // xlen
  out += "BC";
  le(out, 2, 2);
  le(out, size - 1, 2);  // bsize
  out += body;
  le(out, crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())), 4);
  le(out, data.size(), 4);
  return out;
}

std::string zstd_frame(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw std::runtime_error("ZSTD_compress");
  out.resize(n);
  return out;
}

// `text` cut at `cuts` (sorted, deduplicated), each piece encoded by `encode`, concatenated.
template <class Encode>
std::string pieces(const std::string& text, std::vector<std::size_t> cuts, Encode encode) {
  cuts.push_back(0);
  cuts.push_back(text.size());
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::string out;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i)
    out += encode(std::string_view(text).substr(cuts[i], cuts[i + 1] - cuts[i]));
  return out;
}

// ~3000 records: quoted fields with newlines and doubled quotes, CRLF and LF, unparseable and
// missing-customer lines, no final newline.
std::string transactions(int records, int seed) {
  std::string text = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n";
  for (int i = 0; i < records; ++i) {
    const int k = i + seed;
    const std::string id = k % 41 == 0 ? "" : std::to_string(10000 + (k * 7) % 97);
    std::string description =
        (k % 4 == 0) ? "\"multi\nline \"\"quoted\"\"\n, text\"" : (k % 4 == 1 ? "\"a,b\"" : "plain");
    const std::string quantity = k % 37 == 0 ? "abc" : std::to_string(1 + k % 5);
    text += std::to_string(500000 + k / 3) + ",S" + std::to_string(k) + "," + description + "," + quantity +
            ",2010-12-" + std::to_string(1 + k % 28) + " 10:00:00,1.25," + id + (k % 53 == 0 ? "" : ",UK") +
            (i + 1 == records ? "" : (k % 2 ? "\r\n" : "\n"));
  }
  return text;
}

// Member/frame boundaries: inside the header, at the start of the data, at every quoted
// newline of the first records (just before it and just after it: the boundary is then exactly
// the quoted newline), on a quote, and every 997 bytes.
std::vector<std::size_t> awkward_cuts(const std::string& text) {
  std::vector<std::size_t> cuts{5, text.find('\n') + 1};
  bool quoted = false;
  int quoted_newlines = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {
      quoted = !quoted;
      if (i % 5 == 0) cuts.push_back(i);
    }
    if (text[i] == '\n' && quoted && quoted_newlines++ < 60) cuts.push_back(quoted_newlines % 2 ? i : i + 1);
  }
  for (std::size_t at = 997; at < text.size(); at += 997) cuts.push_back(at);
  return cuts;
}

// `reported`: bad lines reported per kind (all of them by default: every line number is checked).
RunConfig config_for(std::vector<std::string> paths, std::uint64_t chunk_bytes, int reported = 1 << 20) {
  RunConfig config;
  config.input.paths = std::move(paths);
  config.input.chunk_bytes = chunk_bytes;
  config.input.max_bad_fraction = 1;
  config.input.max_reported_lines = reported;
  config.quiet = true;
  return config;
}

CustomerStage run_stage(const mpi::Comm& comm, const RunConfig& config) {
  PhaseTimes times(comm);
  return build_customer_table(comm, config, times);
}

// What a run must reproduce exactly.
struct Outcome {
  std::vector<test::Row> rows;
  CleaningCounters counters;
  std::vector<std::tuple<int, std::uint32_t, std::uint64_t, std::string>> bad_lines;
};

Outcome outcome(const mpi::Comm& comm, const RunConfig& config) {
  const auto stage = run_stage(comm, config);
  Outcome out{test::gather_rows(comm, stage.customers), stage.counters, {}};
  for (const auto& bad : stage.bad_lines)
    out.bad_lines.emplace_back(static_cast<int>(bad.fate), bad.file, bad.line, bad.excerpt);
  return out;
}

void expect_same(const Outcome& got, const Outcome& want, const std::string& what) {
  EXPECT_EQ(got.rows, want.rows) << what;
  EXPECT_EQ(got.counters.lines, want.counters.lines) << what;
  EXPECT_EQ(got.counters.blank_lines, want.counters.blank_lines) << what;
  EXPECT_EQ(got.counters.fates, want.counters.fates) << what;
  EXPECT_EQ(got.bad_lines, want.bad_lines) << what;
}

}  // namespace

TEST(CompressedInput, pieces_are_found_without_decoding) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string text = transactions(300, 0);
  const std::vector<std::size_t> cuts{100, 2000, 2001, 9000};
  const std::string frames = pieces(text, cuts, zstd_frame);
  const auto zstd_pieces = find_pieces(dir.write("p.csv.zst", frames), Compression::zstd, frames.size());
  ASSERT_EQ(zstd_pieces.size(), 5u);
  EXPECT_EQ(zstd_pieces[1].offset, zstd_frame(std::string_view(text).substr(0, 100)).size());
  const std::string bgzf = pieces(text, cuts, bgzf_member);
  EXPECT_EQ(find_pieces(dir.write("p.csv.gz", bgzf), Compression::gzip, bgzf.size()).size(), 5u);
  // Plain gzip members cannot be told apart without inflating: one piece, a stream.
  const std::string members = pieces(text, cuts, gzip_member);
  EXPECT_EQ(find_pieces(dir.write("m.csv.gz", members), Compression::gzip, members.size()).size(), 1u);
  EXPECT_EQ(compression_of("a.csv.gz"), Compression::gzip);
  EXPECT_EQ(compression_of("a.zst"), Compression::zstd);
  EXPECT_EQ(compression_of("a.csv"), Compression::none);
  EXPECT_EQ(compression_of(".gz"), Compression::none);
}

TEST(CompressedInput, every_kind_equals_the_plain_file) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string text = transactions(3000, 0);
  const auto cuts = awkward_cuts(text);
  const std::string plain = dir.write("t.csv", text);
  const std::vector<std::pair<std::string, std::string>> kinds{
      {"stream.csv.gz", gzip_member(text)},
      {"bgzf.csv.gz", pieces(text, cuts, bgzf_member)},
      {"members.csv.gz", pieces(text, cuts, gzip_member)},
      {"frames.csv.zst", pieces(text, cuts, zstd_frame)},
      {"frame.csv.zst", zstd_frame(text)},
  };
  for (const std::uint64_t chunk : {1ull, 100000ull, 64ull << 20}) {
    // All bad lines reported, and only the first 3 of each kind (the earliest of all ranks').
    for (const int reported : {1 << 20, 3}) {
      const Outcome want = outcome(comm, config_for({plain}, chunk, reported));
      EXPECT_GT(want.counters.lines, 2900);
      EXPECT_GE(want.bad_lines.size(), reported == 3 ? 6u : 100u);
      for (const auto& [name, bytes] : kinds) {
        const std::string path = dir.write(name, bytes);
        expect_same(outcome(comm, config_for({path}, chunk, reported)), want,
                    name + ", chunk " + std::to_string(chunk) + ", reported " + std::to_string(reported));
      }
    }
  }
}

TEST(CompressedInput, mixed_with_plain_files) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string a = transactions(1500, 0), b = transactions(2000, 7), c = transactions(900, 13),
                    d = transactions(50, 3);
  const Outcome want = outcome(
      comm,
      config_for({dir.write("a.csv", a), dir.write("b.csv", b), dir.write("c.csv", c), dir.write("d.csv", d)}, 1));
  const Outcome got = outcome(
      comm,
      config_for({dir.write("a.csv.gz", gzip_member(a)), dir.write("b.csv.zst", pieces(b, awkward_cuts(b), zstd_frame)),
                  dir.write("c2.csv", c), dir.write("d.csv.gz", pieces(d, {300}, bgzf_member))},
                 1));
  expect_same(got, want, "mixed");
}

TEST(CompressedInput, corrupt_and_truncated_archives_are_agreed_errors) {
  const auto comm = mpi::Comm::world();
  test::SharedTempDir dir(comm);
  const std::string text = transactions(3000, 0);
  auto expect_agreed = [&](const std::string& name, const std::string& bytes, const std::string& needle) {
    const std::string path = dir.write(name, bytes);
    try {
      (void)run_stage(comm, config_for({path}, 1));
      ADD_FAILURE() << name << ": expected an error containing '" << needle << "'";
    } catch (const AgreedError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_NE(message.find(needle), std::string::npos) << message;
      EXPECT_EQ(e.exit_code(), 1);
    }
  };
  const auto damaged = [](std::string bytes) {
    for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16; ++i) bytes[i] = static_cast<char>(~bytes[i]);
    return bytes;
  };
  const auto cut = [](const std::string& bytes) { return bytes.substr(0, bytes.size() * 2 / 3); };
  const std::string stream = gzip_member(text), bgzf = pieces(text, awkward_cuts(text), bgzf_member),
                    frames = pieces(text, awkward_cuts(text), zstd_frame);
  expect_agreed("corrupt.csv.gz", damaged(stream), "compressed offset");
  expect_agreed("truncated.csv.gz", cut(stream),
                "is truncated: the compressed data ends at offset " + std::to_string(cut(stream).size()));
  expect_agreed("corrupt-bgzf.csv.gz", damaged(bgzf), "compressed offset");
  expect_agreed("truncated-bgzf.csv.gz", cut(bgzf), "is truncated");
  expect_agreed("corrupt.csv.zst", damaged(frames), "compressed offset");
  expect_agreed("truncated.csv.zst", cut(frames), "is truncated");
  expect_agreed("garbage.csv.gz", stream + "trailing junk", "corrupt gzip data at compressed offset");
}
