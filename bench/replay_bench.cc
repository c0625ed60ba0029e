// Replaying history (runtime/replay.h), one core: a 1,000-rule territory
// plan and a candidate that moves Germany's territories to one rep, over
// 4,096 random leads. Baseline: deciding the lead alone (TreePolicy::Decide,
// what route_bench measures), in the same run. Also the cost of reading one
// decision-log line back (the JSON parse replay --decision-log pays), and
// of writing a masked attribute as keyed hashes.
#include <benchmark/benchmark.h>

#include <random>

#include "base/keyed_hash.h"
#include "bench/territory_plan.h"
#include "compiler/compiler.h"
#include "runtime/replay.h"
#include "runtime/tree_policy.h"
#include "src/service/decision_log_reader.h"
#include "src/service/lead_attributes.h"
#include "src/service/ruleset_registry.h"
#include "src/service/shadow.h"

namespace {

using leadroute::runtime::Lead;
using leadroute::runtime::Program;
using leadroute::runtime::RecordedDecision;
using leadroute::runtime::ReplayAttribute;
using leadroute::runtime::Replayer;

constexpr int kRules = 1000;
constexpr int kLeads = 4096;

std::shared_ptr<const Program> Compile(const std::string& text) {
  return leadroute::compiler::CheckText("plan.route", text).program;
}

struct Fixture {
  Fixture() {
    const std::string plan = leadroute::bench::TerritoryPlan(kRules);
    before = Compile(plan);
    after = Compile(leadroute::bench::MoveGermanyToOneRep(plan));
    std::mt19937 rng(42);
    for (int i = 0; i < kLeads; ++i) {
      Lead lead = leadroute::bench::RandomLead(&rng);
      std::vector<ReplayAttribute> attributes;
      for (auto& [name, value] : lead.attributes) {
        attributes.emplace_back(name, value);
      }
      leads.push_back(std::move(attributes));
    }
  }
  std::shared_ptr<const Program> before, after;
  std::vector<std::vector<ReplayAttribute>> leads;
};

const Fixture& Leads() {
  static const Fixture* f = new Fixture;
  return *f;
}

void BM_Decide(benchmark::State& state) {  // the baseline
  const Fixture& f = Leads();
  leadroute::runtime::TreePolicy policy(f.after);
  std::vector<Lead> leads;
  for (const auto& attributes : f.leads) {
    Lead lead{"lead", {}};
    for (const auto& [name, value] : attributes) lead.attributes[name] = value;
    leads.push_back(std::move(lead));
  }
  leadroute::runtime::DecideOptions options{absl::UnixEpoch(), false, {}};
  size_t i = 0;
  for (auto _ : state) {
    auto d = policy.Decide(leads[i++ % kLeads], options);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}

// Both rulesets decide each lead (replay --against).
void BM_ReplayAgainst(benchmark::State& state) {
  const Fixture& f = Leads();
  Replayer replayer(f.after, f.before);
  std::vector<ReplayAttribute> attributes;
  size_t i = 0;
  for (auto _ : state) {
    attributes = f.leads[i++ % kLeads];  // Add moves them out
    replayer.Add("lead", absl::UnixEpoch(), attributes, nullptr);
  }
  state.SetItemsProcessed(state.iterations());
  benchmark::DoNotOptimize(replayer.Report());
}

// The candidate decides, the log's record is the other side (replay
// --decision-log).
void BM_ReplayRecorded(benchmark::State& state) {
  const Fixture& f = Leads();
  Replayer replayer(f.after, nullptr);
  RecordedDecision recorded;
  recorded.owner = "rep:r7";
  recorded.rules = {{"assign/t7", "plan.route:120"}};
  std::vector<ReplayAttribute> attributes;
  size_t i = 0;
  for (auto _ : state) {
    attributes = f.leads[i++ % kLeads];
    replayer.Add("lead", absl::UnixEpoch(), attributes, &recorded);
  }
  state.SetItemsProcessed(state.iterations());
  benchmark::DoNotOptimize(replayer.Report());
}

// As BM_ReplayRecorded, with each lead's rep chosen as the server would
// (replay's predicted load per rep, which the command always reports),
// the leads a minute apart.
void BM_ReplayRecordedWithReps(benchmark::State& state) {
  const Fixture& f = Leads();
  leadroute::runtime::ReplayOptions options;
  options.simulate_reps = true;
  Replayer replayer(f.after, nullptr, options);
  RecordedDecision recorded;
  recorded.owner = "rep:r7";
  recorded.rep = "r7";
  recorded.rules = {{"assign/t7", "plan.route:120"}};
  std::vector<ReplayAttribute> attributes;
  size_t i = 0;
  for (auto _ : state) {
    attributes = f.leads[i % kLeads];
    replayer.Add("lead", absl::UnixEpoch() + absl::Minutes(i), attributes,
                 &recorded);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  benchmark::DoNotOptimize(replayer.Report(/*examples=*/false));
}

// One decision-log line as a server writes it (about 700 bytes).
void BM_ReadDecisionLine(benchmark::State& state) {
  const std::string line =
      R"({"ts":"2026-11-02T10:00:00.159656Z","received_at":"2026-11-02T10:00:00.000000Z",)"
      R"("decision_id":"01a238803987ff89d9b29116c58877fd","lead_id":"L-0-000",)"
      R"("ruleset":{"name":"plan","version":"1","revision":1,"fingerprint":"e52cd6a32f8ddb46"},)"
      R"("owner":"r7","owner_kind":"rep","team":"","target":"rep:r7","priority":"normal",)"
      R"("sla_seconds":14400,"respond_by":"2026-11-02T14:00:00.000000Z","channel":"",)"
      R"("escalation":null,"score":0,"decided_by":[{"stage":"assign","rule":"t7",)"
      R"("location":"plan.route:120"},{"stage":"priority","rule":"otherwise",)"
      R"("location":"plan.route:1048"},{"stage":"sla","rule":"otherwise","location":)"
      R"("plan.route:1053"}],"attributes":{"country":"DE","email":"***",)"
      R"("employees":120,"industry":"software","state":"S17"}})";
  leadroute::LoggedDecision out;
  for (auto _ : state) {
    auto s = leadroute::ReadDecisionLine(line, &out);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * line.size());
}

// What a shadow ruleset adds to routing a lead (src/service/shadow.h):
// packing and submitting it on the routing thread, and everything, the shadow's
// own thread's work included (the time to offer and decide a batch of 4,096
// leads).
void ShadowBench(benchmark::State& state, bool wait) {
  const Fixture& f = Leads();
  auto live = std::make_shared<leadroute::Ruleset>();
  live->program = f.before;
  auto candidate = std::make_shared<leadroute::Ruleset>();
  candidate->program = f.after;
  leadroute::Shadow shadow({1 << 20, nullptr, 1.0});
  shadow.Set(candidate, absl::UnixEpoch());
  leadroute::runtime::TreePolicy policy(f.before);
  std::vector<leadroute::runtime::Decision> decisions;
  std::vector<std::vector<leadroute::LeadReader::Attribute>> read;
  std::vector<std::vector<std::string>> names;
  for (const auto& attributes : f.leads) {
    Lead lead{"lead", {}};
    for (const auto& [name, value] : attributes) lead.attributes[name] = value;
    decisions.push_back(*policy.Decide(lead, {absl::UnixEpoch(), false, {}}));
    read.emplace_back();
    for (const auto& [name, value] : attributes) {
      read.back().push_back({name, value});
    }
  }
  leadroute::Shadow::Pending pending;
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % kLeads;
    // One lead a call, as Route sends them.
    shadow.PackLead(&pending, "lead-000123", absl::UnixEpoch(), read[k]);
    shadow.PackDecision(&pending, "01a238803987ff89d9b29116c58877fd",
                        decisions[k]);
    shadow.Submit(&pending);
    if (wait && k == kLeads - 1) shadow.Flush();
  }
  shadow.Flush();
  state.SetItemsProcessed(state.iterations());
}
void BM_ShadowOffer(benchmark::State& state) { ShadowBench(state, false); }
void BM_ShadowOfferAndDecide(benchmark::State& state) {
  ShadowBench(state, true);
}

// The attributes of a decision-log line for a lead whose `pii` email the
// rules read (domain(email) in a table): written "***" (the baseline), and
// as keyed hashes (serve --decision-log-key: three HMAC-SHA256s).
void LogAttributesBench(benchmark::State& state, bool keyed) {
  static const auto* program = new std::shared_ptr<const Program>(Compile(
      R"(ruleset "accounts" version "1"
schema {
  email: string pii
  country: string required
  employees: int default 0
  industry: string
}
rep ann {}
queue triage
table account_owner: string -> rep { "acme.com": ann }
assign {
  rule account when domain(email) in account_owner then account_owner(domain(email))
  otherwise queue triage
}
)"));
  leadroute::LeadAttributes::Options options;
  if (keyed) {
    options.key = std::make_shared<const leadroute::KeyedHash>(
        *leadroute::KeyedHash::FromKey(std::string(32, 'k')));
  }
  const leadroute::LeadAttributes kept(options);
  const std::vector<leadroute::LeadReader::Attribute> read = {
      {"email", std::string("Kim.Lee@Acme.com")},
      {"country", std::string("DE")},
      {"employees", int64_t{120}},
      {"industry", std::string("software")}};
  for (auto _ : state) {
    std::string line = kept.Json(read, program->get());
    benchmark::DoNotOptimize(line);
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_LogAttributes(benchmark::State& state) {
  LogAttributesBench(state, false);
}
void BM_LogAttributesKeyed(benchmark::State& state) {
  LogAttributesBench(state, true);
}

BENCHMARK(BM_Decide);
BENCHMARK(BM_ReplayAgainst);
BENCHMARK(BM_ReplayRecorded);
BENCHMARK(BM_ReplayRecordedWithReps);
BENCHMARK(BM_ReadDecisionLine);
BENCHMARK(BM_LogAttributes);
BENCHMARK(BM_LogAttributesKeyed);
BENCHMARK(BM_ShadowOffer);
BENCHMARK(BM_ShadowOfferAndDecide)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
