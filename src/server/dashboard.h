// The routing dashboard (issue 23) on the admin port: a page compiled into
// the binary (src/server/dashboard/, with Debian's Chart.js) and the JSON it
// reads, GET /api/v1/dashboard. Every number on it comes from the KPI code
// GetStats and `leadroute report` use (runtime/kpi.h, one pass over the
// window's leads for all panels), so the page, the API and `report` agree.
//
// GET /api/v1/dashboard?window=7d | from=RFC3339&to=RFC3339 (at most 92d)
//                       [&team=T][&source=S][&ruleset=NAME%20VERSION]
//                       [&tz=Europe/Paris][&limit=100]
// answers, for leads routed in the window that pass the filters:
//   window, previous     the window and the one of equal length before it
//   total, previous_total  KPI rows (kpi_json.h) of the two windows
//   series              rows by hour (windows up to 2 days) or day, in tz,
//                       every bucket present
//   teams, sources, rules  KPI rows by those dimensions (rules and sources
//                       without median and p90: no panel shows them)
//   rules_never_fired   "stage/rule" of the live ruleset deciding no lead
//   reps                by rep, with each live rep's status now: open
//                       leads against capacity, today against the daily
//                       cap, and a status label (available, away, out of
//                       office, on holiday, outside working hours, at cap);
//                       a follower reads them from the shared database as
//                       the writer last committed them; `live` is null
//                       when they cannot be read (live_reps false)
//   live_reps           whether `live` is there
//   open_sla            open leads not yet contacted, with an SLA, earliest
//                       deadline first (at most `limit`), and how many
//   choices             the teams, sources and rulesets of the window (for
//                       the filters)
// Errors are 400 with {"error", "field"}. Identical queries within
// kCacheFor share one answer, and one answer is computed at a time, so a wall
// of open tabs costs what one does. Any replica answers: a follower reads the
// shared database, as `leadroute report --state` does.
//
// Where the leads come from: the leads routed in the last kFactsSpan (two
// of the longest windows: a window and the one before it), held in memory
// as runtime::KpiFacts. A thread loads them when the server starts and
// brings them up to date every kFollowEvery while the dashboard is in use
// (asked within kIdleAfter), and every call does before it answers; a
// window reaching further back is read from the store.
#ifndef LEADROUTE_SRC_SERVER_DASHBOARD_H_
#define LEADROUTE_SRC_SERVER_DASHBOARD_H_

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/assigner.h"
#include "runtime/kpi.h"
#include "runtime/kpi_facts.h"
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
  // A follower's own read-only store of the shared database, whose Load
  // gives the reps' state as the writer last committed it; null elsewhere.
  runtime::StateStore* shared = nullptr;
  absl::Time now;  // the server's clock
};

// The answer to `q` over `source`, with the live ruleset of `rulesets` (its
// rules and reps), reading the window's leads through `scan`.
absl::StatusOr<std::string> DashboardJson(
    const DashboardQuery& q, const DashboardSource& source,
    const RulesetRegistry::Snapshot& rulesets, const runtime::KpiScan& scan);

class Dashboard {
 public:
  static constexpr absl::Duration kCacheFor = absl::Seconds(2);
  // The largest window a query may ask for: a quarter. Each answer scans
  // the window's leads and the window before (a year of 1,000,000 leads
  // takes seconds and hundreds of MiB); `leadroute report` and GetStats go
  // to a year.
  static constexpr int kMaxWindowDays = 92;
  static constexpr absl::Duration kMaxWindow = absl::Hours(24 * kMaxWindowDays);
  static constexpr absl::Duration kFactsSpan =
      absl::Hours(2 * 24 * kMaxWindowDays);
  static constexpr absl::Duration kFollowEvery = absl::Seconds(10);
  static constexpr absl::Duration kIdleAfter = absl::Minutes(30);

  // `source` is asked on every request (and by the thread that follows the
  // store); without `committed` (a server without state) the API answers
  // 503.
  Dashboard(std::function<DashboardSource()> source,
            const RulesetRegistry* registry);
  ~Dashboard();

  struct Answer {
    int code = 200;
    std::string body;  // JSON
  };
  Answer Api(const std::string& query_string);

 private:
  // A query handed to the worker, and its answer.
  struct Job {
    const DashboardQuery* query;
    DashboardSource source;
    Answer answer{};
    bool done = false;
  };
  // The one thread that computes answers (so their memory comes from one
  // allocator arena, reused call after call, instead of one per web
  // server thread) and brings the facts up to date: at once, then every
  // kFollowEvery while the dashboard is in use, so a call finds few
  // changes to read.
  void Work();
  Answer Compute(const DashboardQuery& q, const DashboardSource& source);

  const std::function<DashboardSource()> source_;
  const RulesetRegistry* const registry_;
  std::mutex mu_;  // guards all below
  struct Cached {
    absl::Time at;
    Answer answer;
  };
  std::map<std::string, Cached> cache_;
  runtime::KpiFacts facts_{kFactsSpan};
  absl::Time last_asked_ = absl::Now();  // a start counts as a use
  Job* job_ = nullptr;                   // the one being computed
  std::condition_variable work_cv_;      // the worker: a job, or stop
  std::condition_variable done_cv_;      // callers: a job done, or stop
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_DASHBOARD_H_
