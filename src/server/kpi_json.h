// KPI rows (runtime/kpi.h) as JSON: one shape for `leadroute report
// --format json` and the dashboard's API (dashboard.h), so what a person
// reads on the page and what a script reads from `report` are the same
// fields with the same names.
#ifndef LEADROUTE_SRC_SERVER_KPI_JSON_H_
#define LEADROUTE_SRC_SERVER_KPI_JSON_H_

#include <nlohmann/json.hpp>

#include "runtime/kpi.h"

namespace leadroute {

// Durations in seconds ("…_s"), ratios 0..1; null where kpi.h leaves a
// value unset (no contacted lead, no divisor).
nlohmann::ordered_json KpiRowJson(const runtime::KpiRow& row);

// {"from", "to", "by", "total", "rows"}.
nlohmann::ordered_json KpiReportJson(const runtime::KpiReport& report);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_KPI_JSON_H_
