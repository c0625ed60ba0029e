// The dashboard's JSON API; see dashboard.h.
#include "src/server/dashboard.h"

#include <civetweb.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <queue>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "runtime/clock.h"
#include "runtime/kpi.h"
#include "src/server/kpi_json.h"

namespace leadroute {
namespace {

using Json = nlohmann::ordered_json;
using runtime::KpiBuilder;
using runtime::KpiDimension;

// Windows up to this long are drawn by hour, longer ones by day.
constexpr absl::Duration kHourlyUpTo = absl::Hours(48);
constexpr int kMaxLimit = 1000;
constexpr size_t kMaxParam = 256;

absl::Status BadParam(const char* name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", why));
}

// Parameter `name` of `qs`, decoded; none when absent.
absl::StatusOr<std::optional<std::string>> Param(const std::string& qs,
                                                 const char* name) {
  char buf[kMaxParam + 1];
  const int n = mg_get_var(qs.data(), qs.size(), name, buf, sizeof(buf));
  if (n == -1) return std::nullopt;
  if (n < 0) {
    return BadParam(name, absl::StrCat("longer than ", kMaxParam, " bytes"));
  }
  return std::string(buf, static_cast<size_t>(n));
}

std::optional<absl::Duration> Span(const std::string& text) {
  int64_t days = 0;
  if (absl::EndsWith(text, "d") &&
      absl::SimpleAtoi(absl::string_view(text).substr(0, text.size() - 1),
                       &days) &&
      days > 0 && days <= Dashboard::kMaxWindowDays) {
    return absl::Hours(24 * days);
  }
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d > absl::ZeroDuration()) return d;
  return std::nullopt;
}

absl::StatusOr<absl::Time> When(const char* name, const std::string& text) {
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  return BadParam(name, absl::StrCat("\"", text,
                                     "\" is not an RFC 3339 time (e.g. "
                                     "2026-11-01T00:00:00Z)"));
}

// What a rep's status is now, for people: from why the rep picker would
// not give them a lead (runtime/rep_picker.cc words it).
const char* StatusLabel(const runtime::RepLoad& load) {
  if (load.can_take) return "available";
  const std::string& r = load.reason;
  if (absl::StartsWith(r, "away")) return "away";
  if (absl::StartsWith(r, "out of office")) return "out of office";
  if (absl::StartsWith(r, "on holiday")) return "on holiday";
  if (absl::StartsWith(r, "outside working hours")) {
    return "outside working hours";
  }
  if (absl::StrContains(r, "cap")) return "at cap";
  return "unavailable";
}

Json Cap(int64_t cap) {
  if (cap == runtime::kNoCap) return nullptr;
  return cap;
}

// Every hour or day key of [from, to) in `tz`, as KpiDimension kHour or
// kDay spell them, so the series has no holes.
std::vector<std::string> BucketKeys(const DashboardQuery& q, bool hourly) {
  std::vector<std::string> keys;
  if (hourly) {
    for (absl::CivilHour h = absl::ToCivilHour(q.from, q.tz);
         absl::FromCivil(h, q.tz) < q.to; ++h) {
      keys.push_back(absl::FormatCivilTime(h).substr(0, 13) + ":00");
      if (keys.size() > 24 * 400) break;
    }
  } else {
    for (absl::CivilDay d = absl::ToCivilDay(q.from, q.tz);
         absl::FromCivil(d, q.tz) < q.to; ++d) {
      keys.push_back(absl::FormatCivilTime(d));
      if (keys.size() > 400) break;
    }
  }
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Json Rows(const runtime::KpiReport& r) {
  Json rows = Json::array();
  for (const runtime::KpiRow& row : r.rows) rows.push_back(KpiRowJson(row));
  return rows;
}

// An open lead whose SLA clock has run or runs: the list a manager acts on.
struct OpenLead {
  absl::Time respond_by;
  std::string lead_id;  // ties go by lead id, so the list is stable
  Json json;
  bool operator<(const OpenLead& o) const {
    return std::tie(respond_by, lead_id) < std::tie(o.respond_by, o.lead_id);
  }
};

// An answer that says what went wrong, and which parameter (null: none).
Dashboard::Answer ErrorAnswer(int code, const std::string& message,
                              Json field = nullptr) {
  return {code, Json({{"error", message}, {"field", std::move(field)}}).dump()};
}

bool AwaitsContact(const runtime::KpiLead& a) {
  return a.status == runtime::LeadStatus::kOpen && a.respond_by.has_value() &&
         !a.contacted.has_value();
}

// The keys of one filter's choices, each copied once.
struct Choices {
  absl::flat_hash_set<std::string> keys;
  std::string last;  // consecutive leads mostly share a key

  void Note(absl::string_view key) {
    if (key == last) return;
    last.assign(key.data(), key.size());
    if (!keys.contains(key)) keys.emplace(key);
  }
};

std::vector<std::string> Sorted(const absl::flat_hash_set<std::string>& keys) {
  std::vector<std::string> out(keys.begin(), keys.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

absl::StatusOr<DashboardQuery> ParseDashboardQuery(const std::string& qs,
                                                   absl::Time now) {
  DashboardQuery q;
  absl::StatusOr<std::optional<std::string>> from = Param(qs, "from");
  if (!from.ok()) return from.status();
  absl::StatusOr<std::optional<std::string>> to = Param(qs, "to");
  if (!to.ok()) return to.status();
  absl::StatusOr<std::optional<std::string>> window = Param(qs, "window");
  if (!window.ok()) return window.status();
  q.to = now;
  if (to->has_value() && !(*to)->empty()) {
    absl::StatusOr<absl::Time> t = When("to", **to);
    if (!t.ok()) return t.status();
    q.to = *t;
  }
  if (from->has_value() && !(*from)->empty()) {
    absl::StatusOr<absl::Time> t = When("from", **from);
    if (!t.ok()) return t.status();
    q.from = *t;
  } else {
    const std::string w = window->value_or("24h");
    std::optional<absl::Duration> span = Span(w);
    if (!span) {
      return BadParam("window", absl::StrCat("\"", w,
                                             "\" is not a duration such as "
                                             "24h, 7d or 30d"));
    }
    q.from = q.to - *span;
  }
  if (q.from >= q.to) return BadParam("from", "must be before `to`");
  if (q.to - q.from > Dashboard::kMaxWindow) {
    return BadParam("from", absl::StrCat("a window may be at most ",
                                         Dashboard::kMaxWindowDays,
                                         " days (longer: leadroute report)"));
  }
  for (auto [name, field] : {std::pair{"team", &q.filter.team},
                             std::pair{"source", &q.filter.source},
                             std::pair{"ruleset", &q.filter.ruleset}}) {
    absl::StatusOr<std::optional<std::string>> v = Param(qs, name);
    if (!v.ok()) return v.status();
    *field = v->value_or("");
  }
  absl::StatusOr<std::optional<std::string>> tz = Param(qs, "tz");
  if (!tz.ok()) return tz.status();
  if (tz->has_value() && !(*tz)->empty()) {
    if (!absl::LoadTimeZone(**tz, &q.tz)) {
      return BadParam(
          "tz", absl::StrCat("\"", **tz, "\" is not a known IANA time zone"));
    }
    q.tz_name = **tz;
  }
  absl::StatusOr<std::optional<std::string>> limit = Param(qs, "limit");
  if (!limit.ok()) return limit.status();
  if (limit->has_value() && (!absl::SimpleAtoi(**limit, &q.limit) ||
                             q.limit < 1 || q.limit > kMaxLimit)) {
    return BadParam("limit", absl::StrCat("must be 1 to ", kMaxLimit));
  }
  return q;
}

absl::StatusOr<std::string> DashboardJson(
    const DashboardQuery& q, const DashboardSource& source,
    const RulesetRegistry::Snapshot& rulesets, const runtime::KpiScan& scan) {
  const absl::Time now = source.now;
  const absl::Time prev_from = q.from - (q.to - q.from);
  const bool hourly = q.to - q.from <= kHourlyUpTo;
  runtime::KpiOptions options{.filter = q.filter, .tz = q.tz};
  KpiBuilder total(KpiDimension::kTotal, q.from, q.to, options);
  KpiBuilder previous(KpiDimension::kTotal, prev_from, q.from, options);
  // The rest read only their rows; `total` has the window's total.
  runtime::KpiOptions rows = options;
  rows.rows_only = true;
  KpiBuilder series(hourly ? KpiDimension::kHour : KpiDimension::kDay, q.from,
                    q.to, rows);
  KpiBuilder teams(KpiDimension::kTeam, q.from, q.to, rows);
  KpiBuilder reps(KpiDimension::kRep, q.from, q.to, rows);
  // The rules and funnel panels show counts and rates: their rows skip the
  // median and p90 (null in the JSON; `report --by rule` has them).
  runtime::KpiOptions counts = rows;
  counts.percentiles = false;
  KpiBuilder rules(KpiDimension::kRule, q.from, q.to, counts);
  KpiBuilder sources(KpiDimension::kSource, q.from, q.to, counts);
  // The choices of each filter: every key of the window, filtered or not.
  Choices team_keys, source_keys, ruleset_keys;
  // The `limit` earliest deadlines, as a max-heap.
  std::priority_queue<OpenLead> open;
  int64_t open_total = 0, overdue = 0;
  absl::Status scanned = runtime::KpisOf(
      scan, {&total, &previous, &series, &teams, &reps, &rules, &sources},
      [&](const runtime::KpiLead& a) {
        if (a.routed_at < q.from || a.routed_at >= q.to) return;
        team_keys.Note(runtime::KpiKeyOf(a, KpiDimension::kTeam));
        source_keys.Note(runtime::KpiKeyOf(a, KpiDimension::kSource));
        ruleset_keys.Note(runtime::KpiKeyOf(a, KpiDimension::kRuleset));
        if (!AwaitsContact(a) || !q.filter.Matches(a)) return;
        ++open_total;
        if (*a.respond_by <= now) ++overdue;
        if (static_cast<int>(open.size()) == q.limit &&
            !(std::tie(*a.respond_by, a.lead_id) <
              std::tie(open.top().respond_by, open.top().lead_id))) {
          return;
        }
        OpenLead lead{
            *a.respond_by,
            std::string(a.lead_id),
            {{"lead_id", a.lead_id},
             {"owner", a.owner},
             {"owner_kind", runtime::OwnerKindName(a.owner_kind)},
             {"team", runtime::KpiKeyOf(a, KpiDimension::kTeam)},
             {"priority", a.priority},
             {"routed_at", runtime::Rfc3339Seconds(a.routed_at)},
             {"respond_by", runtime::Rfc3339Seconds(*a.respond_by)},
             {"seconds_left", absl::ToInt64Seconds(*a.respond_by - now)},
             {"escalation", a.escalation},
             {"escalation_step", a.escalation_step},
             {"sla_missed", a.sla_status == runtime::SlaStatus::kMissed}}};
        open.push(std::move(lead));
        if (static_cast<int>(open.size()) > q.limit) open.pop();
      });
  if (!scanned.ok()) return scanned;

  Json j;
  j["now"] = runtime::Rfc3339Seconds(now);
  j["window"] = {{"from", runtime::Rfc3339Seconds(q.from)},
                 {"to", runtime::Rfc3339Seconds(q.to)}};
  j["previous"] = {{"from", runtime::Rfc3339Seconds(prev_from)},
                   {"to", runtime::Rfc3339Seconds(q.from)}};
  j["filters"] = {{"team", q.filter.team},
                  {"source", q.filter.source},
                  {"ruleset", q.filter.ruleset},
                  {"tz", q.tz_name}};
  j["total"] = KpiRowJson(total.Finish().total);
  j["previous_total"] = KpiRowJson(previous.Finish().total);

  // The series, every bucket present (a quiet hour is a zero, not a gap).
  const runtime::KpiReport by_time = series.Finish();
  std::map<std::string, const runtime::KpiRow*> filled;
  for (const runtime::KpiRow& r : by_time.rows) filled[r.key] = &r;
  Json points = Json::array();
  for (const std::string& key : BucketKeys(q, hourly)) {
    auto it = filled.find(key);
    runtime::KpiRow zero;
    zero.key = key;
    points.push_back(KpiRowJson(it == filled.end() ? zero : *it->second));
  }
  j["series"] = {{"bucket", hourly ? "hour" : "day"},
                 {"rows", std::move(points)}};
  j["teams"] = Rows(teams.Finish());
  j["sources"] = Rows(sources.Finish());

  const runtime::KpiReport by_rule = rules.Finish();
  j["rules"] = Rows(by_rule);
  Json never = Json::array();
  const runtime::Program* program =
      rulesets.live != nullptr ? rulesets.live->program.get() : nullptr;
  if (program != nullptr) {
    std::set<std::string> fired;
    for (const runtime::KpiRow& r : by_rule.rows) fired.insert(r.key);
    for (int st = 0; st < runtime::kStageCount; ++st) {
      for (const runtime::Rule& rule : program->stages[st]) {
        std::string key = absl::StrCat(
            runtime::StageIdName(static_cast<runtime::StageId>(st)), "/",
            rule.name);
        if (!fired.contains(key)) never.push_back(std::move(key));
      }
    }
  }
  j["rules_never_fired"] = std::move(never);

  // Reps: the window's rows, and each live rep's state now.
  const runtime::KpiReport by_rep = reps.Finish();
  std::map<std::string, Json> rep_rows;
  for (const runtime::KpiRow& r : by_rep.rows) {
    if (r.key == runtime::kNoKey) continue;
    rep_rows[r.key] = {
        {"rep", r.key}, {"kpi", KpiRowJson(r)}, {"live", nullptr}};
  }
  Json rep_list = Json::array();
  bool live_reps = false;
  if (program != nullptr) {
    // Each rep's state now, where this process holds it (not a follower).
    std::vector<runtime::RepLoad> loads;
    if (source.assigner != nullptr) {
      loads = source.assigner->Loads(*program);
    } else if (source.shared != nullptr) {
      // A follower: as the writer last committed them.
      absl::StatusOr<runtime::StateSnapshot> state =
          source.shared->Load(runtime::RepPicker::RecentSince(now));
      if (state.ok()) loads = runtime::LoadsOf(*state, *program, now);
    }
    live_reps = !loads.empty() || program->reps.empty();
    for (size_t i = 0; i < program->reps.size(); ++i) {
      const runtime::Rep& rep = program->reps[i];
      Json team_names = Json::array();
      for (const runtime::Team& t : program->teams) {
        if (std::find(t.members.begin(), t.members.end(),
                      static_cast<int>(i)) != t.members.end()) {
          team_names.push_back(t.name);
        }
      }
      Json row = {{"rep", rep.id},
                  {"name", rep.display_name},
                  {"teams", std::move(team_names)}};
      auto kpi = rep_rows.find(rep.id);
      runtime::KpiRow none;
      none.key = rep.id;
      row["kpi"] =
          kpi != rep_rows.end() ? kpi->second["kpi"] : KpiRowJson(none);
      if (kpi != rep_rows.end()) rep_rows.erase(kpi);
      if (i >= loads.size()) {
        row["live"] = nullptr;
        rep_list.push_back(std::move(row));
        continue;
      }
      const runtime::RepLoad& load = loads[i];
      row["live"] = {
          {"status", StatusLabel(load)},
          {"reason", load.reason},
          {"availability", runtime::AvailabilityName(load.status.availability)},
          {"until", load.status.until
                        ? Json(runtime::Rfc3339Seconds(*load.status.until))
                        : Json(nullptr)},
          {"open", load.open},
          {"capacity", Cap(rep.capacity)},
          {"today", load.today},
          {"daily_cap", Cap(rep.daily_cap)},
          {"this_week", load.this_week},
          {"weekly_cap", Cap(rep.weekly_cap)}};
      rep_list.push_back(std::move(row));
    }
  }
  // Reps the live ruleset no longer has, who still got leads in the window.
  for (auto& [rep, row] : rep_rows) rep_list.push_back(std::move(row));
  j["reps"] = std::move(rep_list);
  j["live_reps"] = live_reps;

  std::vector<OpenLead> earliest;
  while (!open.empty()) {
    earliest.push_back(open.top());
    open.pop();
  }
  std::reverse(earliest.begin(), earliest.end());
  Json open_rows = Json::array();
  for (OpenLead& l : earliest) open_rows.push_back(std::move(l.json));
  j["open_sla"] = {{"total", open_total},
                   {"overdue", overdue},
                   {"rows", std::move(open_rows)}};
  j["choices"] = {{"teams", Sorted(team_keys.keys)},
                  {"sources", Sorted(source_keys.keys)},
                  {"rulesets", Sorted(ruleset_keys.keys)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Dashboard::Dashboard(std::function<DashboardSource()> source,
                     const RulesetRegistry* registry)
    : source_(std::move(source)), registry_(registry) {
  worker_ = std::thread([this] { Work(); });
}

Dashboard::~Dashboard() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

Dashboard::Answer Dashboard::Compute(const DashboardQuery& q,
                                     const DashboardSource& source) {
  // The facts, brought up to date, when they hold the whole window and the
  // one before it; else the store.
  const absl::Time reach = q.from - (q.to - q.from);
  runtime::KpiScan scan = runtime::ScanOf(*source.committed);
  if (reach >= source.now - kFactsSpan &&
      facts_.Refresh(*source.committed, source.now).ok() &&
      facts_.Covers(reach)) {
    scan = facts_.AsScan();
  }
  absl::StatusOr<std::string> body =
      DashboardJson(q, source, registry_->snapshot(), scan);
  if (!body.ok()) return ErrorAnswer(503, std::string(body.status().message()));
  return Answer{200, *std::move(body)};
}

void Dashboard::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  // The first pass at once (the load), then every kFollowEvery or job.
  for (bool first = true;; first = false) {
    const bool woken =
        !first &&
        work_cv_.wait_for(lock, absl::ToChronoSeconds(kFollowEvery),
                          [this] { return stopping_ || job_ != nullptr; });
    if (stopping_) return;
    if (job_ != nullptr) {
      job_->answer = Compute(*job_->query, job_->source);
      job_->done = true;
      job_ = nullptr;
      done_cv_.notify_all();
      continue;
    }
    if (woken || absl::Now() - last_asked_ > kIdleAfter) continue;
    // Outside the lock: the source reads the server's state.
    lock.unlock();
    const DashboardSource source = source_();
    lock.lock();
    // A failure (the database away) is tried again; each call refreshes
    // the facts first and reads the store instead when that fails.
    if (source.committed != nullptr && !stopping_) {
      facts_.Refresh(*source.committed, source.now).IgnoreError();
    }
  }
}

Dashboard::Answer Dashboard::Api(const std::string& query_string) {
  const DashboardSource source = source_();
  if (source.committed == nullptr) {
    return ErrorAnswer(503,
                       "this server keeps no state (serve --data-dir or "
                       "--state): there are no leads to show");
  }
  absl::StatusOr<DashboardQuery> q =
      ParseDashboardQuery(query_string, source.now);
  if (!q.ok()) {
    // Every parse error starts with the parameter's name (BadParam).
    const std::string message(q.status().message());
    return ErrorAnswer(400, message, message.substr(0, message.find(':')));
  }
  std::unique_lock<std::mutex> lock(mu_);
  last_asked_ = absl::Now();
  // One job at a time; a caller that waited may find its answer cached.
  done_cv_.wait(lock, [this] { return job_ == nullptr || stopping_; });
  const absl::Time now = absl::Now();
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = now - it->second.at > kCacheFor ? cache_.erase(it) : std::next(it);
  }
  if (auto hit = cache_.find(query_string); hit != cache_.end()) {
    return hit->second.answer;
  }
  Job job{&*q, source};
  job_ = &job;
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return job.done || stopping_; });
  if (!job.done) {
    // The server is stopping; the worker will not read `job` again.
    if (job_ == &job) job_ = nullptr;
    return ErrorAnswer(503, "the server is stopping");
  }
  if (job.answer.code == 200 && cache_.size() < 64) {
    cache_[query_string] = {now, job.answer};
  }
  return std::move(job.answer);
}

}  // namespace leadroute
