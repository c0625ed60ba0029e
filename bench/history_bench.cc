// What a long history costs the server: a data dir is filled with N leads
// routed over D days of simulated time (the Assigner and the SQLite store,
// as `serve` runs them, on a clock that advances lead by lead; 70% of
// leads contacted within the hour, half closed within a week, the sweeper
// run as time passes), then `leadroute serve` is started on it and on an
// empty data dir (the baseline, same run), and for each: how long until it
// listens, its resident memory once listening and its peak, and a sample of
// old lead ids asked for again (GetAssignment, and Route with the same id:
// an idempotent retry) — each must come back with the owner the store has —
// and the dashboard's JSON (GET /api/v1/dashboard) over windows of 24 hours
// to a quarter, each asked --dashboard-rounds times (median), every time a new
// query so no answer comes from its 2-second cache.
//
//   history_bench --leadroute build/release/leadroute
//                 [--rules examples/acme.route] [--leads 1000000]
//                 [--days 365] [--sample 1000] [--restarts 3]
//                 [--dir DIR] [--dashboard-rounds 5] [--format table|json]
//   (one command line)
//
// --dir keeps the filled data dir (and reuses it when it already holds
// DIR/seeded, so a second run measures without filling again). Progress
// goes to stderr when it is a terminal.
#include <grpcpp/create_channel.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/acme_leads.h"
#include "bench/server_process.h"
#include "compiler/compiler.h"
#include "leadroute/v1/leadroute.grpc.pb.h"
#include "runtime/assigner.h"
#include "runtime/clock.h"
#include "runtime/sqlite_store.h"
#include "runtime/tree_policy.h"

namespace leadroute::bench {
namespace {

namespace rt = runtime;
namespace v1 = ::leadroute::v1;
using Steady = std::chrono::steady_clock;

struct Flags {
  std::string leadroute;
  std::string rules = "examples/acme.route";
  int64_t leads = 1000000;
  int days = 365;
  int sample = 1000;
  int restarts = 3;
  std::string dir;
  int dashboard_rounds = 5;
  bool json = false;
};

// The dashboard's windows, as its selector offers them, and its longest.
constexpr const char* kWindows[] = {"24h", "7d", "30d", "92d"};
constexpr int kWindowCount = 4;

bool Terminal() { return isatty(2) == 1; }

// Fills `dir` with `flags.leads` leads routed over `flags.days` days.
bool Seed(const Flags& flags, const std::string& dir) {
  absl::StatusOr<compiler::CheckResult> checked = compiler::Check(flags.rules);
  if (!checked.ok() || checked->program == nullptr) {
    std::fprintf(stderr, "history_bench: %s does not compile\n",
                 flags.rules.c_str());
    return false;
  }
  const std::shared_ptr<const rt::Program> program = checked->program;
  rt::TreePolicy policy(program);
  std::filesystem::create_directories(dir);
  auto store = rt::SqliteStore::Open(dir + "/" + rt::SqliteStore::kFileName);
  if (!store.ok()) {
    std::fprintf(stderr, "history_bench: %s\n",
                 std::string(store.status().message()).c_str());
    return false;
  }
  const absl::Duration span = absl::Hours(24) * flags.days;
  rt::FakeClock clock(absl::Now() - span);
  auto assigner = rt::Assigner::Start(*std::move(store), &clock);
  if (!assigner.ok()) return false;
  const absl::Duration step = span / flags.leads;
  std::mt19937_64 rng(7);
  // Lead index -> lead ids to contact (true) or close (false) then.
  std::multimap<int64_t, std::pair<std::string, bool>> later;
  rt::AssignInput input;
  input.ruleset = "acme";
  uint64_t last = 0;
  const auto started = Steady::now();
  for (int64_t i = 0; i < flags.leads; ++i) {
    clock.Advance(step);
    const absl::Time now = clock.Now();
    const rt::Lead lead = AcmeLead(&rng, i);
    absl::StatusOr<rt::BoundLead> bound = rt::BindLead(*program, lead);
    if (!bound.ok()) {
      std::fprintf(stderr, "history_bench: %s\n",
                   std::string(bound.status().message()).c_str());
      return false;
    }
    rt::Decision d = policy.DecideBound(lead.id, *bound, {now, false, {}});
    input.decision_id = absl::StrCat("d", i);
    absl::StatusOr<uint64_t> seq =
        (*assigner)->Assign(*program, *bound, input, &d);
    if (!seq.ok()) return false;
    last = *seq;
    if (rng() % 10 < 7)
      later.emplace(i + 1 + rng() % 120, std::pair{lead.id, true});
    if (rng() % 2 == 0) {
      later.emplace(i + 200 + rng() % 20000, std::pair{lead.id, false});
    }
    for (auto it = later.begin(); it != later.end() && it->first <= i;
         it = later.erase(it)) {
      const auto& [id, contact] = it->second;
      absl::StatusOr<rt::Assigner::Changed> changed =
          contact ? (*assigner)->RecordContact(id, "phone", std::nullopt)
                  : (*assigner)->Close(id, "worked");
      if (changed.ok()) last = std::max(last, changed->seq);
    }
    if (i % 100 == 0) (*assigner)->Sweep(*program, now);
    if (Terminal() && i % 10000 == 0) {
      std::fprintf(stderr, "\rfilling %s: %lld of %lld leads", dir.c_str(),
                   static_cast<long long>(i),
                   static_cast<long long>(flags.leads));
    }
  }
  if (!(*assigner)->log().WaitDurable(last).ok()) return false;
  if (Terminal()) {
    std::fprintf(
        stderr, "\rfilled %s: %lld leads in %.0f s\n", dir.c_str(),
        static_cast<long long>(flags.leads),
        std::chrono::duration<double>(Steady::now() - started).count());
  }
  std::ofstream(dir + "/seeded") << flags.leads << "\n";
  return true;
}

// kB of `field` ("VmRSS", "VmHWM") in /proc/PID/status.
int64_t StatusKb(pid_t pid, const char* field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  const std::string prefix = absl::StrCat(field, ":");
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0)
      return std::atoll(line.c_str() + prefix.size());
  }
  return -1;
}

struct Measured {
  std::vector<double> listen_s;            // per restart
  int64_t rss_kb = 0;                      // once listening (the last restart)
  int64_t peak_kb = 0;                     // VmHWM, the highest of the restarts
  int64_t rss_after_kb = 0;                // after the sample was asked for
  int asked = 0, matched = 0;              // sampled lead ids and right answers
  double get_us = 0;                       // mean GetAssignment round trip
  double dashboard_first_ms = 0;           // the first call: loads facts
  double dashboard_ms[kWindowCount] = {};  // median per window, after it
  int64_t rss_dashboard_kb = 0;            // after the dashboard's calls
  bool dashboard_ok = true;                // every answer a 200
};

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Starts `serve` on `dir` `flags.restarts` times; asks for `ids` (with the
// owners the store has) on the last start.
Measured Measure(const Flags& flags, const std::string& dir,
                 const std::vector<std::pair<std::string, std::string>>& ids) {
  Measured m;
  for (int r = 0; r < flags.restarts; ++r) {
    const auto started = Steady::now();
    const bool last = r + 1 == flags.restarts;
    std::vector<std::string> argv = {
        flags.leadroute, "serve",   "--listen", "127.0.0.1:0", "--rules",
        flags.rules,     "--watch", "0",        "--data-dir",  dir};
    if (last) {
      argv.push_back("--admin-listen");
      argv.push_back("127.0.0.1:0");
    }
    Child child = Spawn(argv, last);
    if (child.address.empty()) {
      std::fprintf(stderr, "history_bench: serve did not start on %s\n",
                   dir.c_str());
      Stop(child);
      return m;
    }
    m.listen_s.push_back(
        std::chrono::duration<double>(Steady::now() - started).count());
    m.rss_kb = StatusKb(child.pid, "VmRSS");
    m.peak_kb = std::max(m.peak_kb, StatusKb(child.pid, "VmHWM"));
    if (r + 1 == flags.restarts && !ids.empty()) {
      auto channel = grpc::CreateChannel(child.address,
                                         grpc::InsecureChannelCredentials());
      auto assignments = v1::Assignments::NewStub(channel);
      auto router = v1::LeadRouter::NewStub(channel);
      const auto asked = Steady::now();
      for (const auto& [id, owner] : ids) {
        ++m.asked;
        grpc::ClientContext get_context;
        v1::GetAssignmentRequest get;
        get.set_lead_id(id);
        v1::GetAssignmentResponse got;
        const bool get_ok =
            assignments->GetAssignment(&get_context, get, &got).ok() &&
            got.assignment().owner() == owner;
        grpc::ClientContext route_context;
        v1::RouteRequest route;
        route.mutable_lead()->set_id(id);
        (*route.mutable_lead()->mutable_attributes())["email"].set_string_value(
            "retry@example.com");
        (*route.mutable_lead()->mutable_attributes())["country"]
            .set_string_value("US");
        (*route.mutable_lead()->mutable_attributes())["source"]
            .set_string_value("webinar");
        v1::RouteResponse routed;
        const bool route_ok =
            router->Route(&route_context, route, &routed).ok() &&
            routed.decision().replayed() && routed.decision().owner() == owner;
        if (get_ok && route_ok) ++m.matched;
      }
      m.get_us =
          std::chrono::duration<double, std::micro>(Steady::now() - asked)
              .count() /
          std::max(1, m.asked) / 2;
      m.rss_after_kb = StatusKb(child.pid, "VmRSS");
      m.peak_kb = std::max(m.peak_kb, StatusKb(child.pid, "VmHWM"));
    }
    if (last) {
      // The first call loads the facts the others read (dashboard.h).
      const auto first = Steady::now();
      const std::string loaded =
          HttpGet(child.admin, "/api/v1/dashboard?window=24h&round=first");
      m.dashboard_first_ms =
          std::chrono::duration<double, std::milli>(Steady::now() - first)
              .count();
      if (loaded.rfind("HTTP/1.1 200", 0) != 0) m.dashboard_ok = false;
      for (int w = 0; w < kWindowCount; ++w) {
        std::vector<double> ms;
        for (int i = 0; i < flags.dashboard_rounds; ++i) {
          const auto asked = Steady::now();
          const std::string answer =
              HttpGet(child.admin, absl::StrCat("/api/v1/dashboard?window=",
                                                kWindows[w], "&round=", i));
          ms.push_back(
              std::chrono::duration<double, std::milli>(Steady::now() - asked)
                  .count());
          if (answer.rfind("HTTP/1.1 200", 0) != 0) m.dashboard_ok = false;
        }
        m.dashboard_ms[w] = Median(ms);
      }
      m.rss_dashboard_kb = StatusKb(child.pid, "VmRSS");
      m.peak_kb = std::max(m.peak_kb, StatusKb(child.pid, "VmHWM"));
    }
    Stop(child);
  }
  return m;
}

// `flags.sample` lead ids spread over the history, with their owners as
// the store has them.
std::vector<std::pair<std::string, std::string>> Sample(
    const Flags& flags, const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> out;
  auto store =
      rt::SqliteStore::OpenReadOnly(dir + "/" + rt::SqliteStore::kFileName);
  if (!store.ok()) return out;
  const int64_t every = std::max<int64_t>(1, flags.leads / flags.sample);
  for (int64_t i = 0; i < flags.leads; i += every) {
    const std::string id = absl::StrCat("lead-", i);
    absl::StatusOr<std::optional<rt::Assignment>> a =
        (*store)->FindAssignment(id);
    // A lead the store cannot show still counts: asked, and answered wrong.
    out.emplace_back(id, a.ok() && a->has_value() ? (*a)->owner : "");
  }
  return out;
}

int Run(const Flags& flags) {
  char name[] = "/tmp/leadroute-history-XXXXXX";
  const std::string tmp = mkdtemp(name);
  const std::string dir = flags.dir.empty() ? tmp + "/full" : flags.dir;
  if (!std::filesystem::exists(dir + "/seeded") && !Seed(flags, dir)) return 1;
  const auto ids = Sample(flags, dir);
  const Measured empty = Measure(flags, tmp + "/empty", {});
  const Measured full = Measure(flags, dir, ids);
  std::filesystem::remove_all(tmp);
  const double listen_empty = Median(empty.listen_s);
  const double listen_full = Median(full.listen_s);
  if (flags.json) {
    std::printf(
        "{\"leads\": %lld, \"empty\": {\"listen_s\": %.3f, \"rss_kib\": %lld, "
        "\"peak_kib\": %lld}, \"full\": {\"listen_s\": %.3f, \"rss_kib\": "
        "%lld, \"peak_kib\": %lld, \"rss_after_sample_kib\": %lld, "
        "\"sampled\": %d, \"answered_right\": %d, \"lookup_us\": %.1f, "
        "\"dashboard_first_ms\": %.1f, \"rss_after_dashboard_kib\": %lld, "
        "\"dashboard_ms\": {\"24h\": %.1f, \"7d\": %.1f, \"30d\": %.1f, "
        "\"92d\": %.1f}, \"empty_dashboard_ms\": {\"24h\": %.1f, \"7d\": "
        "%.1f, \"30d\": %.1f, \"92d\": %.1f}}}\n",
        static_cast<long long>(flags.leads), listen_empty,
        static_cast<long long>(empty.rss_kb),
        static_cast<long long>(empty.peak_kb), listen_full,
        static_cast<long long>(full.rss_kb),
        static_cast<long long>(full.peak_kb),
        static_cast<long long>(full.rss_after_kb), full.asked, full.matched,
        full.get_us, full.dashboard_first_ms,
        static_cast<long long>(full.rss_dashboard_kb), full.dashboard_ms[0],
        full.dashboard_ms[1], full.dashboard_ms[2], full.dashboard_ms[3],
        empty.dashboard_ms[0], empty.dashboard_ms[1], empty.dashboard_ms[2],
        empty.dashboard_ms[3]);
  } else {
    std::printf("%-34s %12s %14s\n", "", "empty store",
                absl::StrFormat("%d leads", flags.leads).c_str());
    std::printf("%-34s %12.2f %14.2f  (%.1fx)\n", "listening after, s (median)",
                listen_empty, listen_full, listen_full / listen_empty);
    std::printf("%-34s %12.0f %14.0f  (%.1fx)\n",
                "resident once listening, MiB", empty.rss_kb / 1024.0,
                full.rss_kb / 1024.0,
                static_cast<double>(full.rss_kb) / empty.rss_kb);
    std::printf("%-34s %12.0f %14.0f\n", "peak resident, MiB",
                empty.peak_kb / 1024.0, full.peak_kb / 1024.0);
    std::printf("%-34s %12s %14.0f\n", "resident after the sample, MiB", "",
                full.rss_after_kb / 1024.0);
    std::printf("%-34s %12s %11d/%d\n", "old lead ids answered right", "",
                full.matched, full.asked);
    std::printf("%-34s %12s %14.1f\n", "one old lead id, us (round trip)", "",
                full.get_us);
    std::printf("%-34s %12.1f %14.1f\n", "dashboard API, first call, ms",
                empty.dashboard_first_ms, full.dashboard_first_ms);
    for (int w = 0; w < kWindowCount; ++w) {
      std::printf(
          "%-34s %12.1f %14.1f  (%.1fx)\n",
          absl::StrFormat("dashboard API, %s window, ms", kWindows[w]).c_str(),
          empty.dashboard_ms[w], full.dashboard_ms[w],
          full.dashboard_ms[w] / std::max(empty.dashboard_ms[w], 0.01));
    }
    std::printf("%-34s %12.0f %14.0f\n", "resident after the dashboard, MiB",
                empty.rss_dashboard_kb / 1024.0,
                full.rss_dashboard_kb / 1024.0);
  }
  if (!full.dashboard_ok || !empty.dashboard_ok) {
    std::fprintf(stderr, "history_bench: a dashboard request failed\n");
    return 1;
  }
  return full.asked > 0 && full.matched == full.asked ? 0 : 1;
}

}  // namespace
}  // namespace leadroute::bench

int main(int argc, char** argv) {
  leadroute::bench::Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "history_bench: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--leadroute") {
      flags.leadroute = next();
    } else if (arg == "--rules") {
      flags.rules = next();
    } else if (arg == "--leads") {
      flags.leads = std::atoll(next().c_str());
    } else if (arg == "--days") {
      flags.days = std::atoi(next().c_str());
    } else if (arg == "--sample") {
      flags.sample = std::atoi(next().c_str());
    } else if (arg == "--restarts") {
      flags.restarts = std::atoi(next().c_str());
    } else if (arg == "--dir") {
      flags.dir = next();
    } else if (arg == "--dashboard-rounds") {
      flags.dashboard_rounds = std::atoi(next().c_str());
    } else if (arg == "--format") {
      flags.json = next() == "json";
    } else {
      std::fprintf(stderr, "history_bench: unknown flag %s\n", arg.c_str());
      return 2;
    }
  }
  if (flags.leadroute.empty() || flags.leads <= 0 || flags.days <= 0 ||
      flags.sample <= 0 || flags.restarts <= 0 || flags.dashboard_rounds <= 0) {
    std::fprintf(stderr,
                 "usage: history_bench --leadroute BIN [--rules FILE] "
                 "[--leads N] [--days D] [--sample N] [--restarts N] "
                 "[--dir DIR] [--dashboard-rounds N] "
                 "[--format table|json]\n");
    return 2;
  }
  return leadroute::bench::Run(flags);
}
