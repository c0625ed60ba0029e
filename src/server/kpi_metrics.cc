// KpiGauges; see kpi_metrics.h.
#include "src/server/kpi_metrics.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/kpi.h"
#include "src/service/metrics.h"

namespace leadroute {
namespace {

struct Gauge {
  const char* name;
  const char* help;
  // The value of a row, if it has one.
  std::optional<double> (*value)(const runtime::KpiRow&);
};

std::optional<double> Seconds(const std::optional<absl::Duration>& d) {
  if (!d) return std::nullopt;
  return absl::ToDoubleSeconds(*d);
}

constexpr Gauge kGauges[] = {
    {"leadroute_kpi_leads_routed", "Leads routed in the window.",
     [](const runtime::KpiRow& r) -> std::optional<double> {
       return static_cast<double>(r.routed);
     }},
    {"leadroute_kpi_leads_queued",
     "Leads routed in the window still open in a queue.",
     [](const runtime::KpiRow& r) -> std::optional<double> {
       return static_cast<double>(r.queued);
     }},
    {"leadroute_kpi_leads_unassigned",
     "Leads routed in the window that nobody could take.",
     [](const runtime::KpiRow& r) -> std::optional<double> {
       return static_cast<double>(r.unassigned);
     }},
    {"leadroute_kpi_leads_fallback",
     "Leads routed in the window that an `else` choice of their assign rule "
     "took.",
     [](const runtime::KpiRow& r) -> std::optional<double> {
       return static_cast<double>(r.fallback);
     }},
    {"leadroute_kpi_first_response_avg_seconds",
     "Average time from routing to first contact.",
     [](const runtime::KpiRow& r) { return Seconds(r.avg_first_response); }},
    {"leadroute_kpi_first_response_p90_seconds",
     "90th percentile of the time from routing to first contact.",
     [](const runtime::KpiRow& r) { return Seconds(r.p90_first_response); }},
    {"leadroute_kpi_sla_met_ratio",
     "SLA met / (met + missed) of the window's leads.",
     [](const runtime::KpiRow& r) { return r.sla_met_rate; }},
    {"leadroute_kpi_lead_to_sql_ratio",
     "Leads that became sales-qualified / leads routed.",
     [](const runtime::KpiRow& r) { return r.lead_to_sql; }},
    {"leadroute_kpi_sql_to_opportunity_ratio",
     "Sales-qualified leads that became opportunities / SQLs.",
     [](const runtime::KpiRow& r) { return r.sql_to_opportunity; }},
    {"leadroute_kpi_fairness_index",
     "Jain's fairness index of leads per rep (1: equal).",
     [](const runtime::KpiRow& r) { return r.fairness; }},
};

std::string Text(const runtime::KpiReport& report, absl::string_view window) {
  std::string out;
  for (const Gauge& g : kGauges) {
    absl::StrAppend(&out, "# HELP ", g.name, " ", g.help,
                    " Without a team label: every lead.\n# TYPE ", g.name,
                    " gauge\n");
    if (std::optional<double> v = g.value(report.total)) {
      absl::StrAppend(&out, g.name, "{window=\"", window, "\"} ",
                      absl::StrFormat("%.6g", *v), "\n");
    }
    for (const runtime::KpiRow& r : report.rows) {
      if (std::optional<double> v = g.value(r)) {
        absl::StrAppend(&out, g.name, "{window=\"", window, "\",team=\"",
                        PromEscape(r.key), "\"} ", absl::StrFormat("%.6g", *v),
                        "\n");
      }
    }
  }
  return out;
}

}  // namespace

void KpiGauges::Render(std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = assigner_->clock().Now();
  if (now - computed_at_ >= kRefresh || now < computed_at_) {
    absl::StatusOr<runtime::KpiReport> report =
        runtime::KpisOf(assigner_->committed(), runtime::KpiDimension::kTeam,
                        now - kWindow, now);
    if (report.ok()) {
      text_ = Text(*report, absl::FormatDuration(kWindow));
      computed_at_ = now;
    } else {
      // Keep the last good numbers; the next scrape tries again.
      absl::StrAppend(out, "# leadroute_kpi_*: ", report.status().message(),
                      "\n");
    }
  }
  absl::StrAppend(out, text_);
}

}  // namespace leadroute
