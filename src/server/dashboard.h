// The routing dashboard (issue 23) on the admin port: a page compiled into
// the binary (src/server/dashboard/, with Debian's Chart.js) and the JSON it
// reads, GET /api/v1/dashboard. Every number on it comes from the KPI code
// GetStats and `leadroute report` use (runtime/kpi.h, one scan of the
// store for all panels), so the page, the API and `report` agree.
//
// GET /api/v1/dashboard?window=7d | from=RFC3339&to=RFC3339 (at most 92d)
//                       [&team=T][&source=S][&ruleset=NAME%20VERSION]
//                       [&tz=Europe/Paris][&limit=100]
// answers, for leads routed in the window that pass the filters:
//   window, previous     the window and the one of equal length before it
//   total, previous_total  KPI rows (kpi_json.h) of the two windows
//   series              rows by hour (windows up to 2 days) or day, in tz,
//                       every bucket present
//   teams, sources, rules  KPI rows by those dimensions
//   rules_never_fired   "stage/rule" of the live ruleset deciding no lead
//   reps                by rep, with each live rep's status now: open
//                       leads against capacity, today against the daily
//                       cap, and a status label (available, away, out of
//                       office, on holiday, outside working hours, at cap);
//                       `live` is null on a replica that does not write
//                       (live_reps false): only the writer holds rep state
//   live_reps           whether `live` is there
//   open_sla            open leads not yet contacted, with an SLA, earliest
//                       deadline first (at most `limit`), and how many
//   choices             the teams, sources and rulesets of the window (for
//                       the filters)
// Errors are 400 with {"error", "field"}. Identical queries within
// kCacheFor share one answer, and one scan runs at a time, so a wall of
// open tabs costs what one does. Any replica answers: a follower reads the
// shared database, as `leadroute report --state` does.
#ifndef LEADROUTE_SRC_SERVER_DASHBOARD_H_
#define LEADROUTE_SRC_SERVER_DASHBOARD_H_

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/assigner.h"
#include "runtime/kpi.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {

// A file of the page, compiled in (dashboard_assets.cc, generated).
struct DashboardAsset {
  const char* path;  // "/", "/dashboard/app.js", ...
  const char* content_type;
  const unsigned char* data;
  size_t size;
};
// The asset served at `path`; null when there is none.
const DashboardAsset* FindDashboardAsset(const std::string& path);

struct DashboardQuery {
  absl::Time from;
  absl::Time to;
  runtime::KpiFilter filter;
  std::string tz_name = "UTC";
  absl::TimeZone tz = absl::UTCTimeZone();
  int limit = 100;
};

// The query in `query_string` (URL-encoded, as after '?'), its window
// ending at `now` unless it names one. An error names the parameter.
absl::StatusOr<DashboardQuery> ParseDashboardQuery(
    const std::string& query_string, absl::Time now);

// Where the dashboard reads.
struct DashboardSource {
  // What is committed; null while this process has no state to read.
  runtime::StateReader* committed = nullptr;
  // The live rep state, where this process holds it (a single server, the
  // replicas' writer); null on a follower.
  const runtime::Assigner* assigner = nullptr;
  absl::Time now;  // the server's clock
};

// The answer to `q` over `source`, with the live ruleset of `rulesets` (its
// rules and reps).
absl::StatusOr<std::string> DashboardJson(
    const DashboardQuery& q, const DashboardSource& source,
    const RulesetRegistry::Snapshot& rulesets);

class Dashboard {
 public:
  static constexpr absl::Duration kCacheFor = absl::Seconds(2);
  // The largest window a query may ask for: a quarter. Each answer scans
  // the window's leads and the window before (a year of 1,000,000 leads
  // takes seconds and hundreds of MiB); `leadroute report` and GetStats go
  // to a year.
  static constexpr int kMaxWindowDays = 92;
  static constexpr absl::Duration kMaxWindow = absl::Hours(24 * kMaxWindowDays);

  // `source` is asked on every request; without `committed` (a server
  // without state) the API answers 503.
  Dashboard(std::function<DashboardSource()> source,
            const RulesetRegistry* registry)
      : source_(std::move(source)), registry_(registry) {}

  struct Answer {
    int code = 200;
    std::string body;  // JSON
  };
  Answer Api(const std::string& query_string);

 private:
  const std::function<DashboardSource()> source_;
  const RulesetRegistry* const registry_;
  std::mutex mu_;  // one scan at a time; guards the cache
  struct Cached {
    absl::Time at;
    Answer answer;
  };
  std::map<std::string, Cached> cache_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_DASHBOARD_H_
