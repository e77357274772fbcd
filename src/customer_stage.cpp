#include "rfmseg/pipeline.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <sstream>
#include <tuple>

#include "rfmseg/errors.hpp"
#include "rfmseg/ingest.hpp"
#include "rfmseg/partition.hpp"
#include "rfmseg/rfm.hpp"
#include "rfmseg/sort.hpp"

// The first half of the job: ingest → partition → rfm → sort, in bounded rounds.

namespace rfmseg {

namespace {

FrequencyMode resolve_frequency(FrequencyMode requested, const InputPlan& plan) {
  if (requested == FrequencyMode::automatic)
    return plan.all_have_invoice() ? FrequencyMode::invoices : FrequencyMode::lines;
  if (requested == FrequencyMode::invoices && !plan.all_have_invoice()) {
    for (const auto& file : plan.files)
      if (!file.layout.has_invoice())
        throw ConfigError("--frequency invoices needs an invoice column, but '" + file.path +
                          "' has none: use --frequency lines or days, or map it with --col-invoice");
  }
  return requested;
}

// Gathers every rank's reported bad lines; sorted by file and line, at most `limit` per kind.
std::vector<BadLine> gather_bad_lines(const mpi::Comm& comm, const std::vector<BadLine>& local, int limit) {
  std::string packed;
  for (const auto& bad : local) {
    packed += std::to_string(static_cast<int>(bad.fate)) + '\t' + std::to_string(bad.file) + '\t' +
              std::to_string(bad.line) + '\t' + bad.excerpt + '\n';
  }
  std::vector<BadLine> all;
  for (const auto& chunk : mpi::allgather_strings(comm, packed)) {
    std::istringstream lines(chunk);
    std::string line;
    while (std::getline(lines, line)) {
      const auto a = line.find('\t'), b = line.find('\t', a + 1), c = line.find('\t', b + 1);
      all.push_back({static_cast<Fate>(std::stoi(line.substr(0, a))),
                     static_cast<std::uint32_t>(std::stoul(line.substr(a + 1, b - a - 1))),
                     std::stoull(line.substr(b + 1, c - b - 1)), line.substr(c + 1)});
    }
  }
  std::sort(all.begin(), all.end(), [](const BadLine& x, const BadLine& y) {
    return std::tie(x.file, x.line) < std::tie(y.file, y.line);
  });
  std::vector<BadLine> kept;
  std::array<int, fate_count> per_kind{};
  for (auto& bad : all)
    if (per_kind[static_cast<std::size_t>(bad.fate)]++ < limit) kept.push_back(std::move(bad));
  return kept;
}

}  // namespace

CustomerStage build_customer_table(const mpi::Comm& comm, const RunConfig& config, PhaseTimes& times) {
  CustomerStage stage;
  // ---- ingest + partition, in bounded rounds
  collectively(comm, [&] { stage.plan = plan_inputs(comm, config.input); });
  collectively(comm, [&] { stage.frequency = resolve_frequency(config.rfm.frequency, stage.plan); });
  std::optional<Reader> reader;
  collectively(comm, [&] { reader.emplace(comm, stage.plan, config.input); });
  reader->start(comm);
  Transactions batch, owned;
  ShuffleStats shuffle;
  for (std::uint64_t round = 0;; ++round) {
    bool more = false;
    collectively(comm, [&] {
      batch.clear();
      more = reader->next(batch);
    });
    exchange_to_owners(comm, batch, owned, shuffle);
    if (config.progress && comm.is_root())
      std::fprintf(stderr, "rfmseg: ingest round %llu done\n", static_cast<unsigned long long>(round + 1));
    if (!mpi::any_of(comm, more)) break;
  }
  batch = {};
  times.lap("ingest");

  // ---- rfm
  stage.counters = reader->counters();
  stage.customers = aggregate_customers(owned, stage.frequency, config.rfm.cancellations, stage.counters);
  owned = {};
  stage.counters.reduce(comm);
  stage.snapshot = snapshot_day(comm, stage.customers, config.rfm);
  set_recency(stage.customers, stage.snapshot);
  times.lap("rfm");
  stage.total_customers = mpi::allreduce<std::uint64_t>(comm, stage.customers.size(), mpi::Op::sum);
  if (stage.total_customers == 0) {
    throw AgreedError("no usable transactions: all " + std::to_string(stage.counters.lines) +
                          " data lines were dropped (check the column mapping and the cleaning counters)",
                      1);
  }

  sort_by_customer_id(comm, stage.customers);
  times.lap("sort");

  stage.bad_lines = gather_bad_lines(comm, reader->bad_lines(), config.input.max_reported_lines);
  stage.bytes_shuffled = mpi::allreduce(comm, shuffle.bytes_sent, mpi::Op::sum);
  stage.bytes_read = mpi::allreduce(comm, reader->bytes_read(), mpi::Op::sum);
  stage.shuffle_rounds = shuffle.rounds;
  return stage;
}

}  // namespace rfmseg
