#include "test_support.hpp"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

namespace rfmseg::test {

SharedTempDir::SharedTempDir(const mpi::Comm& comm) : _comm(comm) {
  if (comm.is_root()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "rfmseg-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    _path = pattern;
  }
  mpi::broadcast(comm, _path);
}

SharedTempDir::~SharedTempDir() {
  _comm.barrier();
  if (_comm.is_root()) {
    std::error_code ignored;
    std::filesystem::remove_all(_path, ignored);
  }
}

std::string SharedTempDir::write(const std::string& name, const std::string& content) const {
  const std::string full = _path + "/" + name;
  if (_comm.is_root()) {
    std::ofstream out(full, std::ios::binary);
    out << content;
  }
  _comm.barrier();
  return full;
}

std::vector<Row> gather_rows(const mpi::Comm& comm, const CustomerTable& table) {
  std::string packed;
  for (std::size_t i = 0; i < table.size(); ++i) {
    packed += table.id[i] + '\t' + std::to_string(table.recency[i]) + '\t' + std::to_string(table.frequency[i]) + '\t';
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%a", table.monetary[i]);
    packed += std::string(buffer) + '\n';
  }
  std::vector<Row> rows;
  for (const auto& chunk : mpi::allgather_strings(comm, packed)) {
    std::size_t pos = 0;
    while (pos < chunk.size()) {
      const auto end = chunk.find('\n', pos);
      const std::string line = chunk.substr(pos, end - pos);
      pos = end + 1;
      const auto a = line.find('\t'), b = line.find('\t', a + 1), c = line.find('\t', b + 1);
      rows.push_back({line.substr(0, a), std::stoi(line.substr(a + 1, b - a - 1)),
                      std::stoll(line.substr(b + 1, c - b - 1)), std::strtod(line.substr(c + 1).c_str(), nullptr)});
    }
  }
  return rows;
}

}  // namespace rfmseg::test
