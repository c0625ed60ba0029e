// KPI rows as JSON; see kpi_json.h.
#include "src/server/kpi_json.h"

#include "runtime/clock.h"

namespace leadroute {
namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json OrNull(const std::optional<T>& v) {
  if (!v) return nullptr;
  return *v;
}

Json Seconds(const std::optional<absl::Duration>& d) {
  if (!d) return nullptr;
  return absl::ToDoubleSeconds(*d);
}

}  // namespace

Json KpiRowJson(const runtime::KpiRow& r) {
  return {{"key", r.key},
          {"routed", r.routed},
          {"to_rep", r.to_rep},
          {"queued", r.queued},
          {"unassigned", r.unassigned},
          {"fallback", r.fallback},
          {"contacted", r.contacted},
          {"avg_first_response_s", Seconds(r.avg_first_response)},
          {"p50_first_response_s", Seconds(r.p50_first_response)},
          {"p90_first_response_s", Seconds(r.p90_first_response)},
          {"sla_met", r.sla_met},
          {"sla_missed", r.sla_missed},
          {"sla_pending", r.sla_pending},
          {"sla_met_rate", OrNull(r.sla_met_rate)},
          {"sql", r.sql},
          {"opportunities", r.opportunities},
          {"won", r.won},
          {"lost", r.lost},
          {"lead_to_sql", OrNull(r.lead_to_sql)},
          {"sql_to_opportunity", OrNull(r.sql_to_opportunity)},
          {"share", r.share},
          {"reps", r.reps},
          {"fairness", OrNull(r.fairness)},
          {"reassigned_to", r.reassigned_to},
          {"reassigned_away", r.reassigned_away}};
}

Json KpiReportJson(const runtime::KpiReport& report) {
  Json rows = Json::array();
  for (const runtime::KpiRow& r : report.rows) rows.push_back(KpiRowJson(r));
  return {{"from", runtime::Rfc3339Seconds(report.from)},
          {"to", runtime::Rfc3339Seconds(report.to)},
          {"by", runtime::KpiDimensionName(report.by)},
          {"total", KpiRowJson(report.total)},
          {"rows", std::move(rows)}};
}

}  // namespace leadroute
