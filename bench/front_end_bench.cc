// Front-end speed on generated territory plans (country x state x industry
// x size band, as real plans are) of 10 to 10,000 assign rules. The
// baseline in the same run is the grammar alone: PEGTL recognising the text
// with no parse tree, AST or passes. check = parse tree + AST + every
// checking pass; fmt = parse + print.
#include <benchmark/benchmark.h>

#include <tao/pegtl.hpp>

#include "absl/strings/str_cat.h"
#include "bench/territory_plan.h"
#include "compiler/compiler.h"
#include "compiler/format.h"
#include "grammar/route_grammar.h"

namespace {

using leadroute::bench::TerritoryPlan;

void BM_Recognize(benchmark::State& state) {
  const std::string text = TerritoryPlan(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    tao::pegtl::memory_input in(text, "plan.route");
    benchmark::DoNotOptimize(tao::pegtl::parse<leadroute::grammar::file>(in));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}

void BM_Check(benchmark::State& state) {
  const std::string text = TerritoryPlan(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    leadroute::compiler::CheckResult r =
        leadroute::compiler::CheckText("plan.route", text);
    if (!r.ok()) state.SkipWithError("generated plan has errors");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}

void BM_Format(benchmark::State& state) {
  const std::string text = TerritoryPlan(static_cast<int>(state.range(0)));
  leadroute::compiler::SourceSet sources;
  const int id = sources.Add("plan.route", text);
  for (auto _ : state) {
    leadroute::compiler::Diagnostics d;
    benchmark::DoNotOptimize(leadroute::compiler::Format(sources, id, &d));
  }
  state.SetBytesProcessed(state.iterations() * text.size());
}

BENCHMARK(BM_Recognize)
    ->RangeMultiplier(10)
    ->Range(10, 10000)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Check)->RangeMultiplier(10)->Range(10, 10000)->Unit(
    benchmark::kMillisecond);
BENCHMARK(BM_Format)->RangeMultiplier(10)->Range(10, 10000)->Unit(
    benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
