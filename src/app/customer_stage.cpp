#include "rfmseg/app/customer_stage.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <sstream>
#include <tuple>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/packing.hpp"
#include "rfmseg/core/progress.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/io/rejects.hpp"
#include "rfmseg/model/rfm.hpp"
#include "rfmseg/parallel/memory.hpp"
#include "rfmseg/parallel/partition.hpp"
#include "rfmseg/parallel/sort.hpp"
#include "rfmseg/parallel/stop.hpp"

// The first half of the job: ingest → partition → rfm → sort, in rounds bounded by --chunk-size
// and the memory budget (--max-memory-per-rank).

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

// How slash dates were read (/run date_order), from every rank's evidence: the earliest line
// (file, line) whose day field exceeds 12 wins, so the outcome is the same for any rank count.
void resolve_date_order(const mpi::Comm& comm, const InputConfig& config, const InputPlan& plan,
                        const Reader::DateOrderSeen& seen, CustomerStage& stage) {
  const bool ambiguous = mpi::any_of(comm, seen.ambiguous);
  const std::uint64_t first_file =
      mpi::allreduce<std::uint64_t>(comm, seen.confirmed ? seen.file : UINT64_MAX, mpi::Op::min);
  const std::uint64_t first_line = mpi::allreduce<std::uint64_t>(
      comm, seen.confirmed && seen.file == first_file ? seen.line : UINT64_MAX, mpi::Op::min);
  const char* order = config.day_first ? "day-first" : "month-first";
  if (config.date_order_stated) {
    stage.date_order = std::string(order) + " (stated)";
  } else if (first_file != UINT64_MAX) {
    stage.date_order = std::string(order) + " (evidence: day field > 12 at " + plan.files[first_file].path + ":" +
                       std::to_string(first_line) + ")";
  } else if (ambiguous) {
    stage.date_order = std::string(order) + " (assumed: no evidence)";
    stage.date_order_assumed = true;
  } else {
    stage.date_order = "none (no slash date depends on the order)";
  }
}

// Gathers every rank's reported bad lines; sorted by file and line, at most `limit` per kind.
std::vector<BadLine> gather_bad_lines(const mpi::Comm& comm, const std::vector<BadLine>& local, int limit) {
  Packer packed;
  for (const auto& bad : local)
    packed.put(static_cast<std::uint64_t>(bad.fate)).put(bad.file).put(bad.line).put(bad.excerpt);
  std::vector<BadLine> all;
  for (const auto& chunk : mpi::allgather_strings(comm, packed.bytes())) {
    Unpacker from(chunk);
    while (!from.done()) {
      BadLine bad;
      bad.fate = static_cast<Fate>(from.number());
      bad.file = static_cast<std::uint32_t>(from.number());
      bad.line = from.number();
      bad.excerpt = from.text();
      all.push_back(std::move(bad));
    }
  }
  std::sort(all.begin(), all.end(),
            [](const BadLine& x, const BadLine& y) { return std::tie(x.file, x.line) < std::tie(y.file, y.line); });
  std::vector<BadLine> kept;
  std::array<int, fate_count> per_kind{};
  for (auto& bad : all)
    if (per_kind[static_cast<std::size_t>(bad.fate)]++ < limit) kept.push_back(std::move(bad));
  return kept;
}

// Memory a customer row costs after the ingest: the CustomerTable row that finish() builds while
// the accumulator still exists (~80 B with a short id), and the peak of the sort by id, when the
// table, its send and receive buffers and the new table coexist (~256 B). Counted while
// ingesting, so a budget that the customer table would break fails early, with the same error.
constexpr std::uint64_t table_bytes_per_customer = 80;
constexpr std::uint64_t sort_bytes_per_customer = 256;

// The counters, the first unparseable lines and hints, as the indented lines that follow an error.
std::string dropped_line_details(const CustomerStage& stage, const InputConfig& config, bool all_dropped) {
  constexpr int examples_per_kind = 3;
  std::string text = "\n  " + format_counters(stage.counters);
  std::array<int, fate_count> shown{};
  std::string examples;
  for (const auto& bad : stage.bad_lines)
    if (shown[static_cast<std::size_t>(bad.fate)]++ < examples_per_kind)
      examples += "\n    " + describe_bad_line(bad, stage.plan);
  if (!examples.empty()) text += "\n  first unusable lines:" + examples;
  for (const auto& hint : dropped_line_hints(stage.counters, config, all_dropped)) text += "\n  hint: " + hint;
  return text;
}

// Fails (every rank alike: the counters are global) when nothing is usable, or when more than
// --max-bad-fraction of the data lines cannot be parsed.
void check_dropped_lines(const CustomerStage& stage, const InputConfig& config) {
  const CleaningCounters& counters = stage.counters;
  if (stage.total_customers == 0) {
    throw AgreedError("no usable transactions: all " + std::to_string(counters.lines) +
                          " data lines were dropped (check the column mapping and the cleaning counters)" +
                          dropped_line_details(stage, config, true),
                      1);
  }
  const std::int64_t bad = counters.unparseable();
  if (static_cast<long double>(bad) > static_cast<long double>(config.max_bad_fraction) * counters.lines) {
    char share[32];
    std::snprintf(share, sizeof share, "%.1f %%",
                  100.0 * static_cast<double>(bad) / static_cast<double>(counters.lines));
    std::ostringstream limit;
    limit << config.max_bad_fraction;
    throw AgreedError(std::to_string(bad) + " of " + std::to_string(counters.lines) + " data lines (" + share +
                          ") cannot be parsed, more than --max-bad-fraction " + limit.str() + " allows" +
                          dropped_line_details(stage, config, false),
                      1);
  }
}

// --window without --snapshot: the snapshot is the latest kept day + 1, known only once every line
// was read, so a first pass over the input (parsing only; nothing shuffled, counted or rejected)
// finds it. INT32_MIN when no line would be kept.
std::int32_t last_kept_day(const mpi::Comm& comm, const InputPlan& plan, const InputConfig& input,
                           std::uint64_t chunk) {
  std::optional<Reader> reader;
  collectively(comm, [&] { reader.emplace(comm, plan, input); });
  reader->start(comm);
  CombinedBatch batch(false);
  for (;;) {
    bool more = false;
    collectively(comm, [&] {
      batch.clear();
      more = reader->next(batch, chunk);
    });
    if (!mpi::any_of(comm, more)) break;
  }
  return mpi::allreduce<std::int32_t>(comm, reader->last_kept_day(), mpi::Op::max);
}

// The first day of the window: snapshot − DAYS (a line counts when snapshot − day <= DAYS).
std::optional<std::int32_t> window_first_day(std::int32_t snapshot, std::int32_t days) {
  if (days <= 0) return std::nullopt;
  return static_cast<std::int32_t>(std::max<std::int64_t>(std::int64_t{snapshot} - days, INT32_MIN + 1));
}

[[noreturn]] void throw_over_budget(std::uint64_t need, std::uint64_t budget) {
  throw AgreedError("the input needs ~" + format_bytes(need) + " of memory per rank, more than the budget of " +
                        format_bytes(budget) +
                        " (--max-memory-per-rank): use more ranks or raise --max-memory-per-rank",
                    1);
}

}  // namespace

CustomerStage build_customer_table(const mpi::Comm& comm, const RunConfig& config, PhaseTimes& times,
                                   RejectsFile* rejects) {
  CustomerStage stage;
  // ---- ingest + partition, in bounded rounds
  collectively(comm, [&] { stage.plan = plan_inputs(comm, config.input); });
  collectively(comm, [&] { stage.frequency = resolve_frequency(config.rfm.frequency, stage.plan); });
  IngestBudget budget(resolve_memory_budget(comm, config.input), config.input.chunk_bytes);
  if (mpi::any_of(comm, !budget.fits(0))) {
    const std::uint64_t smallest = mpi::allreduce(comm, budget.limited() ? budget.budget() : UINT64_MAX, mpi::Op::min);
    throw_over_budget(budget.minimum_working_bytes(), smallest);
  }
  InputConfig input = config.input;
  input.snapshot_day = config.rfm.snapshot_day;  // the result is as of the snapshot
  stage.memory_budget_per_rank =
      mpi::allreduce<std::uint64_t>(comm, budget.limited() ? budget.budget() : UINT64_MAX, mpi::Op::min);
  if (stage.memory_budget_per_rank == UINT64_MAX) stage.memory_budget_per_rank = 0;  // no rank is limited
  input.chunk_bytes = budget.next_chunk(0);  // also bounds the buffer of the reader's counting pass
  if (config.rfm.window_days > 0) {
    if (config.rfm.snapshot_day) {
      input.first_day = window_first_day(*config.rfm.snapshot_day, config.rfm.window_days);
    } else {
      const std::int32_t last = last_kept_day(comm, stage.plan, input, input.chunk_bytes);
      if (last != INT32_MIN) input.first_day = window_first_day(last + 1, config.rfm.window_days);
    }
  }
  std::optional<Reader> reader;
  collectively(comm, [&] { reader.emplace(comm, stage.plan, input); });
  reader->start(comm);
  if (rejects != nullptr) {
    rejects->start(stage.plan, rejects::memory_limit_bytes(budget.limited() ? budget.budget() : 0));
    reader->set_reject_sink(&rejects->sink());
  }

  const bool net = config.rfm.cancellations == CancellationPolicy::net;
  CombinedBatch batch(net);
  CustomerAccumulator owned(config.rfm.cancellations);
  CleaningCounters owner_counters;  // duplicates found while combining, and the owner-side fates
  ShuffleStats shuffle;
  std::vector<char> send;
  std::uint64_t held = 0, sized_for = 0;
  for (std::uint64_t round = 0;; ++round) {
    const std::uint64_t chunk = budget.next_chunk(held);
    if (2 * chunk < sized_for) {
      // The budget tightened: buffers sized for larger rounds would keep the memory.
      batch.release();
      send = {};
      sized_for = chunk;
    } else {
      sized_for = std::max(sized_for, chunk);
    }
    bool more = false;
    collectively(comm, [&] {
      batch.clear();
      more = reader->next(batch, chunk);
    });
    std::vector<char> received = exchange_to_owners(comm, batch, owner_counters, shuffle, send);
    const std::uint64_t working = chunk + batch.used_bytes() + send.capacity() + received.size();
    collectively(comm, [&] { owned.absorb(received, owner_counters); });
    received = {};
    budget.observe(chunk, working);
    held = std::max(owned.memory_bytes() + owned.customers() * table_bytes_per_customer,
                    owned.customers() * sort_bytes_per_customer) +
           (rejects != nullptr ? rejects->memory_bytes() : 0);
    // One agreement per round: more input anywhere? over the budget anywhere (and by how much)?
    const std::uint64_t done = reader->range_bytes() - reader->bytes_left();
    const bool over = !budget.fits(held);
    const std::uint64_t projected =
        done == 0 ? held : static_cast<std::uint64_t>(static_cast<long double>(held) * reader->range_bytes() / done);
    // ... and a signal anywhere (a safe point of the stop: rfmseg/parallel/stop.hpp)?
    std::vector<std::uint64_t> state{
        more ? 1u : 0u, over ? 1u : 0u, over ? projected + budget.minimum_working_bytes() : 0,
        over ? UINT64_MAX - budget.budget() : 0, static_cast<std::uint64_t>(stop::pending())};
    state = mpi::allreduce(comm, std::move(state), mpi::Op::max);
    if (state[1] != 0) throw_over_budget(state[2], UINT64_MAX - state[3]);
    if (config.progress || !config.status_file.empty()) {  // the same on every rank
      const auto bytes = mpi::allreduce(comm, std::vector<std::uint64_t>{done, reader->range_bytes()}, mpi::Op::sum);
      progress::ingest(round + 1, bytes[0], bytes[1]);
    }
    stop::agreed(static_cast<int>(state[4]), "ingest round " + std::to_string(round + 1));
    if (state[0] == 0) break;
  }
  batch.release();
  send = {};
  collectively(comm, [&] { recheck_input_sizes(comm, stage.plan); });
  if (rejects != nullptr) stage.rejected_rows = rejects->write();
  resolve_date_order(comm, config.input, stage.plan, reader->date_order_seen(), stage);
  stage.duplicates = stage.plan.duplicates_policy();
  times.lap("ingest");

  // ---- rfm
  stage.counters = reader->counters();
  stage.counters.lines += owner_counters.lines;
  stage.counters.blank_lines += owner_counters.blank_lines;
  for (std::size_t f = 0; f < fate_count; ++f) stage.counters.fates[f] += owner_counters.fates[f];
  stage.customers = owned.finish(stage.frequency);
  stage.counters.reduce(comm);
  stage.bad_lines = gather_bad_lines(comm, reader->bad_lines(), config.input.max_reported_lines);
  stage.snapshot = snapshot_day(comm, stage.customers, config.rfm);
  set_recency(stage.customers, stage.snapshot);
  times.lap("rfm");
  stage.total_customers = mpi::allreduce<std::uint64_t>(comm, stage.customers.size(), mpi::Op::sum);
  check_dropped_lines(stage, config.input);

  sort_by_customer_id(comm, stage.customers);
  times.lap("sort");
  stage.bytes_shuffled = mpi::allreduce(comm, shuffle.bytes_sent, mpi::Op::sum);
  stage.bytes_read = mpi::allreduce(comm, reader->bytes_read(), mpi::Op::sum);
  stage.shuffle_rounds = shuffle.rounds;
  return stage;
}

}  // namespace rfmseg
