// The cost of remembering who got a lead, in one process, without gRPC:
// deciding alone (the baseline), then deciding and picking a rep through the
// Assigner with a store that keeps nothing, then with the real SQLite store
// (WAL, synchronous=FULL, the writer thread committing whatever accumulated;
// the time includes waiting for the last lead to be durable). Also SQLite
// alone: one transaction of N leads' changes, per lead.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "bench/territory_plan.h"
#include "compiler/compiler.h"
#include "runtime/assigner.h"
#include "runtime/decide.h"
#include "runtime/sqlite_store.h"
#include "runtime/tree_policy.h"

namespace {

using leadroute::bench::RandomLead;
using leadroute::bench::TerritoryPlan;
namespace rt = leadroute::runtime;

// The territory plan, its rep rules sending every lead to one of 8
// round-robin teams of 10 instead.
std::shared_ptr<const rt::Program> TeamPlan() {
  std::string text = TerritoryPlan(1000);
  // The Assigner reads `email` (repeats) from its slot.
  text.replace(text.find("schema {\n"), 9, "schema {\n  email: string\n");
  for (int t = 0; t < 8; ++t) {
    absl::StrAppend(&text, "team t", t, " {\n  strategy = round_robin\n",
                    "  members = [");
    for (int m = 0; m < 10; ++m) {
      absl::StrAppend(&text, m == 0 ? "" : ", ", "r", t * 10 + m);
    }
    text += "]\n}\n";
  }
  for (int r = 0; r < 100; ++r) {
    const std::string rep = absl::StrCat(" then rep r", r, " ");
    for (size_t at = text.find(rep); at != std::string::npos;
         at = text.find(rep, at)) {
      text.replace(at, rep.size(), absl::StrCat(" then team t", r % 8, " "));
    }
  }
  return leadroute::compiler::CheckText("plan.route", text).program;
}

// Keeps nothing: the Assigner's own cost.
class NullStore final : public rt::StateStore {
 public:
  absl::StatusOr<rt::StateSnapshot> Load(absl::Time) override {
    return rt::StateSnapshot{};
  }
  absl::StatusOr<std::optional<rt::Assignment>> FindAssignment(
      const std::string&) override {
    return std::nullopt;
  }
  absl::StatusOr<std::optional<rt::Assignment>> LastByEmail(
      const std::string&) override {
    return std::nullopt;
  }
  absl::StatusOr<std::vector<rt::Assignment>> OpenLeadsOfRep(const std::string&,
                                                             const std::string&,
                                                             int) override {
    return std::vector<rt::Assignment>{};
  }
  absl::Status Apply(absl::Span<const rt::StateChange>) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<rt::LeadEvent>> EventsAfter(uint64_t,
                                                         int) override {
    return std::vector<rt::LeadEvent>{};
  }
  absl::Status ScanAssignments(
      absl::Time, absl::Time,
      const std::function<void(const rt::Assignment&)>&) override {
    return absl::OkStatus();
  }
  absl::Status ScanLeadKeys(
      const std::function<bool(std::string_view, std::string_view)>&) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<rt::Assignment>> ListAssignments(
      const std::string&, std::optional<rt::LeadStatus>, const std::string&,
      int) override {
    return std::vector<rt::Assignment>{};
  }
  absl::StatusOr<std::vector<rt::DueLead>> DueAfter(const rt::DueLead&,
                                                    absl::Time, int) override {
    return std::vector<rt::DueLead>{};
  }
  absl::StatusOr<uint64_t> LastEventId() override { return 0; }
  absl::StatusOr<uint64_t> PrunedThrough() override { return 0; }
  absl::StatusOr<uint64_t> PrunedAssignments() override { return 0; }
  absl::StatusOr<std::optional<uint64_t>> CursorValue(
      const std::string&) override {
    return std::nullopt;
  }
  absl::StatusOr<std::vector<rt::Assignment>> NewestAssignments(
      const std::string&, bool, int) override {
    return std::vector<rt::Assignment>{};
  }
  absl::StatusOr<std::vector<rt::OwnerCount>> CountByOwner() override {
    return std::vector<rt::OwnerCount>{};
  }
  absl::StatusOr<std::vector<rt::LeadEvent>> History(
      const std::string&) override {
    return std::vector<rt::LeadEvent>{};
  }
  absl::StatusOr<std::vector<rt::AuditRecord>> Audit(
      const rt::AuditQuery&) override {
    return std::vector<rt::AuditRecord>{};
  }
};

struct TempDir {
  TempDir() {
    char name[] = "/tmp/leadroute-state-bench-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

enum class Store { kNone, kNull, kSqlite };

void Route(benchmark::State& state, Store kind) {
  auto program = TeamPlan();
  if (program == nullptr) {
    state.SkipWithError("generated plan has errors");
    return;
  }
  rt::TreePolicy policy(program);
  std::mt19937 rng(42);
  std::vector<rt::Lead> leads;
  for (int i = 0; i < 1024; ++i) leads.push_back(RandomLead(&rng));
  TempDir dir;
  rt::SystemClock clock;
  std::unique_ptr<rt::Assigner> assigner;
  if (kind != Store::kNone) {
    std::unique_ptr<rt::StateStore> store;
    if (kind == Store::kNull) {
      store = std::make_unique<NullStore>();
    } else {
      auto opened = rt::SqliteStore::Open(dir.path + "/leadroute.db");
      if (!opened.ok()) {
        state.SkipWithError(std::string(opened.status().message()).c_str());
        return;
      }
      store = *std::move(opened);
    }
    assigner = *rt::Assigner::Start(std::move(store), &clock);
  }
  const rt::DecideOptions options{absl::Now(), false, {}};
  rt::AssignInput input;
  input.ruleset = "plan 1";
  input.decision_id = "0193a1b2c3d4e5f60718293a4b5c6d7e";
  uint64_t n = 0, last = 0;
  for (auto _ : state) {
    rt::Lead& lead = leads[n & 1023];
    lead.id = absl::StrCat("lead-", n++);
    lead.attributes["email"] =
        rt::Value(absl::StrCat("person", n, "@example.com"));
    absl::StatusOr<rt::BoundLead> bound = rt::BindLead(*program, lead);
    rt::Decision d = policy.DecideBound(lead.id, *bound, options);
    if (assigner != nullptr) {
      last = *assigner->Assign(*program, *bound, input, &d);
    }
    benchmark::DoNotOptimize(d);
  }
  if (assigner != nullptr) (void)assigner->log().WaitDurable(last);
  state.SetItemsProcessed(state.iterations());
}

void BM_Decide(benchmark::State& state) { Route(state, Store::kNone); }
void BM_DecideAssign_NullStore(benchmark::State& state) {
  Route(state, Store::kNull);
}
void BM_DecideAssign_Sqlite(benchmark::State& state) {
  Route(state, Store::kSqlite);
}
BENCHMARK(BM_Decide);
BENCHMARK(BM_DecideAssign_NullStore);
BENCHMARK(BM_DecideAssign_Sqlite)->UseRealTime();

// splitmix64: a bijection of n that looks random.
uint64_t Mix(uint64_t n) {
  n += 0x9e3779b97f4a7c15ULL;
  n = (n ^ (n >> 30)) * 0xbf58476d1ce4e5b9ULL;
  n = (n ^ (n >> 27)) * 0x94d049bb133111ebULL;
  return n ^ (n >> 31);
}

// One transaction of range(0) leads, each an assignment, its team's
// rotation and its history event, as the writer commits them; with
// range(1), each also keeps the lead for replay (Assignment::logged: about
// 330 bytes, its email as keyed hashes), against 0 in the same run.
void BM_SqliteApply(benchmark::State& state) {
  TempDir dir;
  auto store = *rt::SqliteStore::Open(dir.path + "/leadroute.db");
  const int per_commit = static_cast<int>(state.range(0));
  const bool keep_lead = state.range(1) != 0;
  std::vector<rt::StateChange> batch;
  uint64_t n = 0;
  const absl::Time now = absl::Now();
  for (auto _ : state) {
    batch.clear();
    for (int i = 0; i < per_commit; ++i, ++n) {
      rt::Assignment a;
      // Ids and emails as they come: in no order (a CRM's ids, people's
      // addresses), so every index on them takes random inserts.
      const uint64_t key = Mix(n);
      a.lead_id = absl::StrCat("lead-", absl::Hex(key));
      a.owner = absl::StrCat("r", n % 80);
      a.owner_kind = rt::OwnerKind::kRep;
      a.team = absl::StrCat("t", n % 8);
      a.email_key = absl::StrCat("p", absl::Hex(Mix(key)), "@example.com");
      a.decision_id = "0193a1b2c3d4e5f60718293a4b5c6d7e";
      a.ruleset = "plan 1";
      a.decided_at = now;
      a.seq = n;
      // What a routed lead with an SLA and an escalation policy carries.
      a.routed_at = now;
      a.priority = "high";
      a.priority_rank = 1;
      a.sla = absl::Hours(1);
      a.respond_by = now + absl::Hours(1);
      a.clock_start = now;
      a.next_due = now + absl::Minutes(30);
      a.sla_status = rt::SlaStatus::kPending;
      a.channel = "phone";
      a.escalation = "standard";
      a.source = "demo_request";
      a.rules =
          "assign/r17;priority/demo;sla/high;channel/phone;"
          "escalate/standard";
      if (keep_lead) {
        // Three 43-character hashes that differ lead by lead.
        const std::string h =
            absl::StrCat(absl::Hex(Mix(key + 1)), absl::Hex(Mix(key + 2)),
                         "abcdefghijklmnopqrstuvwxyz0");
        a.logged = absl::StrCat(
            R"({"received_at":"2026-11-23T10:00:00.000000Z","target":"team:)",
            a.team, R"(","attributes":{"country":"DE","email":{"hmac":")", h,
            R"(","lower":")", h.substr(1), "x", R"(","domain":")", h.substr(2),
            "xy",
            R"(","key":"835ed187"},"employees":120,"industry":"software",)"
            R"("source":"demo_request"}})");
      }
      batch.push_back(rt::TeamCursor{a.team, a.owner, {}});
      batch.push_back(a);
      rt::LeadEvent e = rt::EventOf(a, now, "assigned", "", "");
      e.id = n + 1;  // 0 would ask SQLite to number it
      batch.push_back(std::move(e));
    }
    if (absl::Status s = store->Apply(batch); !s.ok()) {
      state.SkipWithError(std::string(s.message()).c_str());
      return;
    }
  }
  state.SetItemsProcessed(state.iterations() * per_commit);
}
BENCHMARK(BM_SqliteApply)
    ->ArgsProduct({{1, 16, 64, 256}, {0, 1}})
    ->ArgNames({"per_commit", "kept"})
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
