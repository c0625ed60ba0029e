// KpiGauges: routing KPIs (runtime/kpi.h) as Prometheus gauges on the
// admin port, over a trailing window (24 hours), in total and per team:
// leads routed, queued and unassigned, first response (avg, p90), SLA met,
// lead → SQL and SQL → opportunity, fairness. They are computed from the
// state store when scraped, at most once per refresh interval, so a busy
// scraper costs one scan per interval and routing is never held up.
#ifndef LEADROUTE_SRC_SERVER_KPI_METRICS_H_
#define LEADROUTE_SRC_SERVER_KPI_METRICS_H_

#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "runtime/assigner.h"

namespace leadroute {

class KpiGauges {
 public:
  static constexpr absl::Duration kWindow = absl::Hours(24);
  static constexpr absl::Duration kRefresh = absl::Seconds(15);

  // `assigner` must outlive this.
  explicit KpiGauges(const runtime::Assigner* assigner) : assigner_(assigner) {}

  // Appends the leadroute_kpi_* lines.
  void Render(std::string* out);

 private:
  const runtime::Assigner* assigner_;
  std::mutex mu_;
  absl::Time computed_at_ = absl::InfinitePast();
  std::string text_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_KPI_METRICS_H_
