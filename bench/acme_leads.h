// Leads for examples/acme.route's schema, the same for every benchmark that
// routes the bundled example (history_bench, soak).
#ifndef LEADROUTE_BENCH_ACME_LEADS_H_
#define LEADROUTE_BENCH_ACME_LEADS_H_

#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "runtime/lead.h"

namespace leadroute::bench {

inline constexpr const char* kCountries[] = {
    "US", "US", "US", "CA", "GB", "DE", "FR", "NL", "SE", "ES", "JP", "BR"};
inline constexpr const char* kStates[] = {"CA", "NY", "TX", "WA", "MA", "ON"};
inline constexpr const char* kIndustries[] = {"software",   "manufacturing",
                                              "healthcare", "finance",
                                              "retail",     "education"};
inline constexpr const char* kSources[] = {
    "demo_request", "contact_sales", "free_trial", "webinar", "ebook", "event"};

// A lead for examples/acme.route's schema; one in ten repeats an earlier
// person's email.
inline runtime::Lead AcmeLead(std::mt19937_64* rng, int64_t i) {
  runtime::Lead lead;
  lead.id = absl::StrCat("lead-", i);
  const int64_t person =
      (*rng)() % 10 == 0 && i > 0 ? static_cast<int64_t>((*rng)() % i) : i;
  lead.attributes["email"] = runtime::Value(
      absl::StrCat("person", person, "@company", person % 5000, ".example"));
  const char* country = kCountries[(*rng)() % std::size(kCountries)];
  lead.attributes["country"] = runtime::Value(std::string(country));
  if (std::string_view(country) == "US") {
    lead.attributes["state"] =
        runtime::Value(std::string(kStates[(*rng)() % std::size(kStates)]));
  }
  lead.attributes["employees"] =
      runtime::Value(static_cast<int64_t>((*rng)() % 5000));
  lead.attributes["industry"] = runtime::Value(
      std::string(kIndustries[(*rng)() % std::size(kIndustries)]));
  lead.attributes["source"] =
      runtime::Value(std::string(kSources[(*rng)() % std::size(kSources)]));
  lead.attributes["pricing_visits_48h"] =
      runtime::Value(static_cast<int64_t>((*rng)() % 6));
  return lead;
}

}  // namespace leadroute::bench

#endif  // LEADROUTE_BENCH_ACME_LEADS_H_
