// Deciding one lead with the reference interpreter on territory plans of 10
// to 10,000 rules, random leads. The interpreter tries rules in order, so
// its cost grows with the rule count; these are the numbers the compiled
// decision trees are measured against, in the same run once they exist.
#include <benchmark/benchmark.h>

#include "bench/territory_plan.h"
#include "compiler/compiler.h"
#include "compiler/lower_program.h"
#include "runtime/interpreter.h"

namespace {

using leadroute::bench::RandomLead;
using leadroute::bench::TerritoryPlan;

std::shared_ptr<const leadroute::runtime::Program> Compile(int rules) {
  leadroute::compiler::CheckResult r =
      leadroute::compiler::CheckText("plan.route", TerritoryPlan(rules));
  if (!r.ok()) return nullptr;
  return leadroute::compiler::LowerProgram(*r.module);
}

void BM_InterpreterDecide(benchmark::State& state) {
  auto program = Compile(static_cast<int>(state.range(0)));
  if (program == nullptr) {
    state.SkipWithError("generated plan has errors");
    return;
  }
  leadroute::runtime::Interpreter interpreter(program);
  std::mt19937 rng(42);
  std::vector<leadroute::runtime::Lead> leads;
  for (int i = 0; i < 1024; ++i) leads.push_back(RandomLead(&rng));
  leadroute::runtime::DecideOptions options{absl::UnixEpoch(), false, {}};
  size_t i = 0;
  for (auto _ : state) {
    auto d = interpreter.Decide(leads[i++ & 1023], options);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_CompileAndLower(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(Compile(static_cast<int>(state.range(0))));
}

BENCHMARK(BM_InterpreterDecide)->RangeMultiplier(10)->Range(10, 10000);
BENCHMARK(BM_CompileAndLower)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
