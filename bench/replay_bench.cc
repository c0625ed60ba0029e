// Replaying history (runtime/replay.h), one core: a 1,000-rule territory
// plan and a candidate that moves Germany's territories to one rep, over
// 4,096 random leads. Baseline: deciding the lead alone (TreePolicy::Decide,
// what route_bench measures), in the same run. Also the cost of reading one
// decision-log line back (the JSON parse replay --decision-log pays).
#include <benchmark/benchmark.h>

#include <random>

#include "absl/strings/str_split.h"
#include "bench/territory_plan.h"
#include "compiler/compiler.h"
#include "runtime/replay.h"
#include "runtime/tree_policy.h"
#include "src/service/decision_log_reader.h"

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

// The plan with every German territory given to rep r0.
std::string Candidate(const std::string& plan) {
  std::string out;
  for (absl::string_view line : absl::StrSplit(plan, '\n')) {
    std::string l(line);
    if (l.find("country == \"DE\"") != std::string::npos) {
      l = l.substr(0, l.find(" then rep ")) + " then rep r0 else queue q";
    }
    out += l + "\n";
  }
  return out;
}

struct Fixture {
  Fixture() {
    const std::string plan = leadroute::bench::TerritoryPlan(kRules);
    before = Compile(plan);
    after = Compile(Candidate(plan));
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
  benchmark::DoNotOptimize(replayer.Finish());
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
  benchmark::DoNotOptimize(replayer.Finish());
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

BENCHMARK(BM_Decide);
BENCHMARK(BM_ReplayAgainst);
BENCHMARK(BM_ReplayRecorded);
BENCHMARK(BM_ReadDecisionLine);

}  // namespace

BENCHMARK_MAIN();
