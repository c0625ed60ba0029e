// Generated territory plans for benchmarks: assign rules over country x
// state x industry x employee band, one rep per ten rules, as real plans
// are; and random leads to route through them. The four dimensions have
// 8 x 250 x 4 x 16 = 128,000 cells, so plans of up to 100k rules have no
// duplicate rules.
#ifndef LEADROUTE_BENCH_TERRITORY_PLAN_H_
#define LEADROUTE_BENCH_TERRITORY_PLAN_H_

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "runtime/lead.h"

namespace leadroute::bench {

inline constexpr const char* kCountries[] = {"US", "CA", "GB", "DE",
                                             "FR", "ES", "NL", "SE"};
inline constexpr const char* kIndustries[] = {"software", "finance",
                                              "healthcare", "retail"};

inline std::string TerritoryPlan(int rules) {
  std::string text =
      "ruleset \"plan\" version \"1\"\n"
      "schema {\n  country: string required\n  state: string\n"
      "  employees: int default 0\n"
      "  industry: enum { software, finance, healthcare, retail } required\n}\n"
      "queue q\n";
  const int reps = std::max(1, rules / 10);
  for (int r = 0; r < reps; ++r) {
    absl::StrAppend(&text, "rep r", r, " { timezone = \"UTC\" }\n");
  }
  text += "assign {\n";
  for (int i = 0; i < rules; ++i) {
    const int band = (i / 8000) % 16;
    absl::StrAppend(&text, "  rule t", i, " when country == \"",
                    kCountries[i % 8], "\" and state == \"S", (i / 8) % 250,
                    "\" and industry == ", kIndustries[(i / 2000) % 4],
                    " and employees between ", band * 64, " and ",
                    band * 64 + 63, " then rep r", i % reps, " else queue q\n");
  }
  text += "  otherwise queue q\n}\n";
  return text;
}

// `plan` (a TerritoryPlan) with every German territory given to rep r0:
// the candidate of a rule change, for replay and shadow benchmarks.
inline std::string MoveGermanyToOneRep(const std::string& plan) {
  std::string out;
  size_t start = 0;
  while (start < plan.size()) {
    size_t end = plan.find('\n', start);
    if (end == std::string::npos) end = plan.size();
    std::string line = plan.substr(start, end - start);
    if (line.find("country == \"DE\"") != std::string::npos) {
      line =
          line.substr(0, line.find(" then rep ")) + " then rep r0 else queue q";
    }
    out += line + "\n";
    start = end + 1;
  }
  return out;
}

inline runtime::Lead RandomLead(std::mt19937* rng) {
  runtime::Lead lead;
  lead.id = "lead";
  lead.attributes["country"] = std::string(kCountries[(*rng)() % 8]);
  lead.attributes["state"] = absl::StrCat("S", (*rng)() % 250);
  lead.attributes["industry"] = std::string(kIndustries[(*rng)() % 4]);
  lead.attributes["employees"] = static_cast<int64_t>((*rng)() % 1024);
  return lead;
}

}  // namespace leadroute::bench

#endif  // LEADROUTE_BENCH_TERRITORY_PLAN_H_
