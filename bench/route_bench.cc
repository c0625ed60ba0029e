// Deciding one lead on territory plans of 10 to 100,000 rules, random
// leads: the compiled decision trees (runtime::TreePolicy, what the server
// runs) against the reference interpreter, which tries rules in order, in
// the same run. Also the cost of compiling a plan (check, lower, build the
// trees) and the process's peak memory after it.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include "bench/territory_plan.h"
#include "compiler/compiler.h"
#include "runtime/interpreter.h"
#include "runtime/tree_policy.h"

namespace {

using leadroute::bench::RandomLead;
using leadroute::bench::TerritoryPlan;

std::shared_ptr<const leadroute::runtime::Program> Compile(int rules) {
  leadroute::compiler::CheckResult r =
      leadroute::compiler::CheckText("plan.route", TerritoryPlan(rules));
  return r.program;  // null on errors
}

template <typename Policy>
void Decide(benchmark::State& state) {
  auto program = Compile(static_cast<int>(state.range(0)));
  if (program == nullptr) {
    state.SkipWithError("generated plan has errors");
    return;
  }
  Policy policy(program);
  std::mt19937 rng(42);
  std::vector<leadroute::runtime::Lead> leads;
  for (int i = 0; i < 1024; ++i) leads.push_back(RandomLead(&rng));
  leadroute::runtime::DecideOptions options{absl::UnixEpoch(), false, {}};
  size_t i = 0;
  for (auto _ : state) {
    auto d = policy.Decide(leads[i++ & 1023], options);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
  const auto& tree = program->trees[1];  // assign
  state.counters["tree_nodes"] = static_cast<double>(tree.stats.nodes);
  state.counters["max_tests"] = static_cast<double>(tree.stats.max_tests);
}

void BM_TreeDecide(benchmark::State& state) {
  Decide<leadroute::runtime::TreePolicy>(state);
}
void BM_InterpreterDecide(benchmark::State& state) {
  Decide<leadroute::runtime::Interpreter>(state);
}

void BM_Compile(benchmark::State& state) {
  const std::string text = TerritoryPlan(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto r = leadroute::compiler::CheckText("plan.route", text);
    benchmark::DoNotOptimize(r.program);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MiB"] = static_cast<double>(usage.ru_maxrss) / 1024;
}

BENCHMARK(BM_TreeDecide)->RangeMultiplier(10)->Range(10, 100000);
BENCHMARK(BM_InterpreterDecide)->RangeMultiplier(10)->Range(10, 100000);
BENCHMARK(BM_Compile)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
