// The soak: `leadroute serve` with a data dir under mixed load for a long
// time, its resident memory sampled every second. The load, all at once:
// single Routes at a steady rate, a RouteBatch a second, RecordContact,
// CloseLead and Reassign on leads routed before, WatchAssignments
// subscribers (some reading as fast as they can, some slowly, each resuming
// after the last event it saw when its stream ends) and a PublishRules of
// the same rules every few seconds. Every lead has a new id, so the history
// grows all the time; memory must not.
//
//   soak --leadroute build/release/leadroute
//        [--rules examples/acme.route] [--seconds 600] [--warmup SECONDS]
//        [--rate 200] [--lead-cache N] [--sla-ahead DURATION]
//        [--watch-buffer-bytes N]
//        [--fast-watchers 2] [--slow-watchers 2] [--publish-every 5]
//        [--check] [--format table|json]
//   (one command line)
//
// After the warm-up (a third of the run unless given), the samples are
// split in two halves: the run is flat when the later half's peak is at
// most 5% (and at least 8 MiB) above the earlier half's. --check exits 1 when
// it is not, when any call failed unexpectedly, when some kind of load made no
// progress, or when the server no longer answers a Route within a second.
// Progress goes to stderr when it is a terminal.
#include <grpcpp/create_channel.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/acme_leads.h"
#include "bench/lead_proto.h"
#include "bench/server_process.h"
#include "leadroute/v1/leadroute.grpc.pb.h"

namespace leadroute::bench {
namespace {

namespace v1 = ::leadroute::v1;
using Steady = std::chrono::steady_clock;

struct Flags {
  std::string leadroute;
  std::string rules = "examples/acme.route";
  int seconds = 600;
  int warmup = -1;        // -1: a third of the run
  int rate = 200;         // single Routes a second
  int lead_cache = 0;     // serve --lead-cache; 0: the server's default
  std::string sla_ahead;  // serve --sla-ahead; empty: the default
  int watch_buffer = 0;   // serve --watch-buffer-bytes; 0: the default
  int fast_watchers = 2;
  int slow_watchers = 2;
  int publish_every = 5;  // seconds; 0: no publishes
  bool check = false;
  bool json = false;
};

bool Terminal() { return isatty(2) == 1; }

// The child's resident memory in MiB, from /proc; -1 when unreadable.
double ResidentMib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
    }
  }
  return -1;
}

// What every kind of load did: calls that succeeded, and those that failed
// by status code. A lead closed (or moved to a queue) before a contact is
// recorded is FAILED_PRECONDITION: such refusals are the API working,
// counted apart.
class Tally {
 public:
  void Ok(const std::string& kind, int64_t n = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    ok_[kind] += n;
  }
  void Failed(const std::string& kind, const grpc::Status& s) {
    std::lock_guard<std::mutex> lock(mu_);
    const bool expected =
        s.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
        s.error_code() == grpc::StatusCode::NOT_FOUND ||
        s.error_code() == grpc::StatusCode::CANCELLED;
    (expected ? refused_ : failed_)[kind] += 1;
    if (!expected && last_error_.empty()) {
      last_error_ = absl::StrCat(kind, ": ", s.error_message());
    }
  }
  std::map<std::string, int64_t> ok() const {
    std::lock_guard<std::mutex> lock(mu_);
    return ok_;
  }
  std::map<std::string, int64_t> refused() const {
    std::lock_guard<std::mutex> lock(mu_);
    return refused_;
  }
  std::map<std::string, int64_t> failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }
  std::string last_error() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_error_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int64_t> ok_, refused_, failed_;
  std::string last_error_;
};

// Lead ids routed to a rep lately, for the calls that work leads.
class Recent {
 public:
  void Add(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_.push_back(id);
    if (ids_.size() > 1000) ids_.pop_front();
  }
  std::string Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (ids_.empty()) return "";
    std::string id = std::move(ids_.front());
    ids_.pop_front();
    return id;
  }

 private:
  std::mutex mu_;
  std::deque<std::string> ids_;
};

// The rule files beside --rules, as PublishRules takes them.
std::map<std::string, std::string> RuleFiles(const std::string& rules) {
  std::map<std::string, std::string> files;
  const std::filesystem::path dir =
      std::filesystem::path(rules).parent_path().empty()
          ? std::filesystem::path(".")
          : std::filesystem::path(rules).parent_path();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".route" && ext != ".csv") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    files[entry.path().filename().string()] = text.str();
  }
  return files;
}

struct Sample {
  double t = 0;    // seconds since the load began
  double rss = 0;  // MiB
};

int Main(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--leadroute") {
      flags.leadroute = value();
    } else if (arg == "--rules") {
      flags.rules = value();
    } else if (arg == "--seconds") {
      flags.seconds = std::atoi(value().c_str());
    } else if (arg == "--warmup") {
      flags.warmup = std::atoi(value().c_str());
    } else if (arg == "--rate") {
      flags.rate = std::atoi(value().c_str());
    } else if (arg == "--lead-cache") {
      flags.lead_cache = std::atoi(value().c_str());
    } else if (arg == "--sla-ahead") {
      flags.sla_ahead = value();
    } else if (arg == "--watch-buffer-bytes") {
      flags.watch_buffer = std::atoi(value().c_str());
    } else if (arg == "--fast-watchers") {
      flags.fast_watchers = std::atoi(value().c_str());
    } else if (arg == "--slow-watchers") {
      flags.slow_watchers = std::atoi(value().c_str());
    } else if (arg == "--publish-every") {
      flags.publish_every = std::atoi(value().c_str());
    } else if (arg == "--check") {
      flags.check = true;
    } else if (arg == "--format") {
      const std::string f = value();
      if (f != "table" && f != "json") {
        std::fprintf(stderr, "soak: --format is table or json\n");
        return 2;
      }
      flags.json = f == "json";
    } else {
      std::fprintf(stderr, "soak: unknown flag %s\n", arg.c_str());
      return 2;
    }
  }
  if (flags.leadroute.empty() || flags.seconds < 6 || flags.rate < 1) {
    std::fprintf(
        stderr,
        "usage: soak --leadroute BIN [--rules FILE] [--seconds N>=6] "
        "[--warmup N] [--rate N] [--lead-cache N] "
        "[--sla-ahead DURATION] [--watch-buffer-bytes N] [--fast-watchers N] "
        "[--slow-watchers N] [--publish-every SECONDS] [--check] "
        "[--format table|json]\n");
    return 2;
  }
  if (flags.warmup < 0) flags.warmup = flags.seconds / 3;
  const std::map<std::string, std::string> files = RuleFiles(flags.rules);
  const std::string root =
      std::filesystem::path(flags.rules).filename().string();
  if (files.count(root) == 0) {
    std::fprintf(stderr, "soak: cannot read %s\n", flags.rules.c_str());
    return 2;
  }

  char dir_template[] = "/tmp/leadroute-soak-XXXXXX";
  const char* made = mkdtemp(dir_template);
  if (made == nullptr) {
    std::fprintf(stderr, "soak: cannot make a temporary folder\n");
    return 2;
  }
  const std::string dir = made;
  std::vector<std::string> argv_serve = {
      flags.leadroute, "serve",       "--rules",    flags.rules,
      "--listen",      "127.0.0.1:0", "--data-dir", dir + "/data"};
  if (flags.lead_cache > 0) {
    argv_serve.push_back("--lead-cache");
    argv_serve.push_back(std::to_string(flags.lead_cache));
  }
  if (!flags.sla_ahead.empty()) {
    argv_serve.push_back("--sla-ahead");
    argv_serve.push_back(flags.sla_ahead);
  }
  if (flags.watch_buffer > 0) {
    argv_serve.push_back("--watch-buffer-bytes");
    argv_serve.push_back(std::to_string(flags.watch_buffer));
  }
  const Child child = Spawn(argv_serve);
  if (child.address.empty()) {
    std::fprintf(stderr, "soak: the server did not start\n");
    Stop(child);
    std::filesystem::remove_all(dir);
    return 2;
  }
  auto channel =
      grpc::CreateChannel(child.address, grpc::InsecureChannelCredentials());
  auto router = v1::LeadRouter::NewStub(channel);
  auto assignments = v1::Assignments::NewStub(channel);
  auto admin = v1::RulesAdmin::NewStub(channel);

  Tally tally;
  Recent recent;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> next_lead{0};
  std::vector<std::thread> load;

  // Single Routes at --rate a second, each a new lead.
  load.emplace_back([&] {
    std::mt19937_64 rng(1);
    const auto every = std::chrono::microseconds(1000000 / flags.rate);
    auto due = Steady::now();
    while (!stop) {
      const int64_t i = next_lead++;
      v1::RouteRequest request;
      *request.mutable_lead() =
          LeadProto(AcmeLead(&rng, i), absl::StrCat("soak-", i));
      v1::RouteResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
      const grpc::Status s = router->Route(&context, request, &response);
      if (s.ok()) {
        tally.Ok("route");
        // Any owned lead, a queue's too: outside the reps' working hours
        // (acme's, at night in UTC) every lead goes to a queue, and the
        // work on leads must still go on.
        if (!response.decision().owner().empty()) {
          recent.Add(response.decision().lead_id());
        }
      } else {
        tally.Failed("route", s);
      }
      due += every;
      std::this_thread::sleep_until(due);
    }
  });
  // A RouteBatch of 50 new leads a second.
  load.emplace_back([&] {
    std::mt19937_64 rng(2);
    while (!stop) {
      v1::RouteBatchRequest request;
      for (int k = 0; k < 50; ++k) {
        const int64_t i = next_lead++;
        *request.add_leads() =
            LeadProto(AcmeLead(&rng, i), absl::StrCat("soak-", i));
      }
      v1::RouteBatchResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(30));
      const grpc::Status s = router->RouteBatch(&context, request, &response);
      if (s.ok()) {
        tally.Ok("route_batch_leads", response.results_size());
      } else {
        tally.Failed("route_batch", s);
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  });
  // Work on leads routed before: most are contacted, some closed, some
  // moved to a queue.
  load.emplace_back([&] {
    std::mt19937_64 rng(3);
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const std::string id = recent.Take();
      if (id.empty()) continue;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(10));
      const int roll = static_cast<int>(rng() % 10);
      grpc::Status s;
      std::string kind;
      if (roll < 7) {
        kind = "record_contact";
        v1::RecordContactRequest request;
        request.set_lead_id(id);
        request.set_channel("phone");
        v1::RecordContactResponse response;
        s = assignments->RecordContact(&context, request, &response);
      } else if (roll < 9) {
        kind = "close_lead";
        v1::CloseLeadRequest request;
        request.set_lead_id(id);
        request.set_reason("soak");
        v1::CloseLeadResponse response;
        s = assignments->CloseLead(&context, request, &response);
      } else {
        kind = "reassign";
        v1::ReassignRequest request;
        request.set_lead_id(id);
        request.set_queue("triage");
        request.set_reason("soak");
        v1::ReassignResponse response;
        s = assignments->Reassign(&context, request, &response);
      }
      if (s.ok()) {
        tally.Ok(kind);
      } else {
        tally.Failed(kind, s);
      }
    }
  });
  // Subscribers: two read as fast as they can, two take 50 ms an event.
  // Each resumes after the last event it saw whenever its stream ends.
  std::mutex watch_mu;
  std::vector<grpc::ClientContext*> watching;
  for (int w = 0; w < flags.fast_watchers + flags.slow_watchers; ++w) {
    load.emplace_back([&, slow = w >= flags.fast_watchers] {
      uint64_t last = 0;
      const std::string kind = slow ? "events_slow" : "events_fast";
      while (!stop) {
        grpc::ClientContext context;
        {
          std::lock_guard<std::mutex> lock(watch_mu);
          if (stop) break;
          watching.push_back(&context);
        }
        v1::WatchAssignmentsRequest request;
        request.set_after_event_id(last);
        auto reader = assignments->WatchAssignments(&context, request);
        v1::AssignmentEvent event;
        while (reader->Read(&event)) {
          if (event.id() <= last) {
            tally.Failed(kind, grpc::Status(grpc::StatusCode::INTERNAL,
                                            "an event out of order"));
          }
          last = event.id();
          tally.Ok(kind);
          if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        const grpc::Status s = reader->Finish();
        {
          std::lock_guard<std::mutex> lock(watch_mu);
          watching.erase(std::find(watching.begin(), watching.end(), &context));
        }
        if (!stop) {
          // Cut off (a slow reader) or ended: resume after `last`.
          tally.Ok(kind + "_resumed");
          if (!s.ok() &&
              s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED &&
              s.error_code() != grpc::StatusCode::ABORTED) {
            tally.Failed(kind, s);
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
    });
  }
  // The same rules published every 5 s (a comment numbers each, so every
  // one is a new fingerprint).
  if (flags.publish_every > 0)
    load.emplace_back([&] {
      int n = 0;
      auto due = Steady::now();
      while (!stop) {
        due += std::chrono::seconds(flags.publish_every);
        while (!stop && Steady::now() < due) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (stop) break;
        v1::PublishRulesRequest request;
        for (const auto& [path, content] : files) {
          v1::RuleFile* f = request.add_files();
          f->set_path(path);
          f->set_content(
              path == root
                  ? absl::StrCat(content, "\n# soak publish ", ++n, "\n")
                  : content);
        }
        request.set_root(root);
        v1::PublishRulesResponse response;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(30));
        const grpc::Status s =
            admin->PublishRules(&context, request, &response);
        if (s.ok()) {
          tally.Ok("publish_rules");
        } else {
          tally.Failed("publish_rules", s);
        }
      }
    });

  // Sample the server's memory every second.
  std::vector<Sample> samples;
  const auto began = Steady::now();
  for (int second = 1; second <= flags.seconds; ++second) {
    std::this_thread::sleep_until(began + std::chrono::seconds(second));
    const double rss = ResidentMib(child.pid);
    samples.push_back({static_cast<double>(second), rss});
    if (Terminal()) {
      std::fprintf(
          stderr, "\rsoak: %d/%d s, resident %.1f MiB, %lld leads routed   ",
          second, flags.seconds, rss, static_cast<long long>(next_lead.load()));
    }
  }
  if (Terminal()) std::fprintf(stderr, "\n");
  stop = true;
  {
    std::lock_guard<std::mutex> lock(watch_mu);
    for (grpc::ClientContext* c : watching) c->TryCancel();
  }
  for (std::thread& t : load) t.join();

  // Still answering, promptly?
  bool answers = false;
  {
    std::mt19937_64 rng(4);
    v1::RouteRequest request;
    *request.mutable_lead() = LeadProto(AcmeLead(&rng, 0), "soak-after");
    v1::RouteResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(1));
    answers = router->Route(&context, request, &response).ok();
  }
  Stop(child);
  std::filesystem::remove_all(dir);

  // Flat after the warm-up: the later half's peak against the earlier's.
  double earlier = 0, later = 0;
  const double split = flags.warmup + (flags.seconds - flags.warmup) / 2.0;
  for (const Sample& s : samples) {
    if (s.t <= flags.warmup) continue;
    (s.t <= split ? earlier : later) =
        std::max(s.t <= split ? earlier : later, s.rss);
  }
  const bool flat = later <= earlier + std::max(8.0, earlier * 0.05);
  const auto ok = tally.ok();
  const auto refused = tally.refused();
  const auto failed = tally.failed();
  int64_t failures = 0;
  for (const auto& [kind, n] : failed) failures += n;
  bool progressed = true;
  std::string stalled;
  std::vector<std::string> expected = {"route", "route_batch_leads",
                                       "record_contact"};
  if (flags.fast_watchers > 0) expected.push_back("events_fast");
  if (flags.slow_watchers > 0) expected.push_back("events_slow");
  if (flags.publish_every > 0) expected.push_back("publish_rules");
  for (const std::string& kind : expected) {
    if (ok.count(kind) == 0) {
      progressed = false;
      absl::StrAppend(&stalled, stalled.empty() ? "" : ", ", kind);
    }
  }
  const bool passed = flat && failures == 0 && progressed && answers;

  auto counts = [](const std::map<std::string, int64_t>& m) {
    std::string out;
    for (const auto& [kind, n] : m) {
      absl::StrAppend(&out, out.empty() ? "" : ", ", "\"", kind, "\": ", n);
    }
    return absl::StrCat("{", out, "}");
  };
  if (flags.json) {
    std::string curve;
    for (const Sample& s : samples) {
      absl::StrAppend(&curve, curve.empty() ? "" : ", ",
                      absl::StrFormat("[%.0f, %.1f]", s.t, s.rss));
    }
    std::printf(
        "{\"seconds\": %d, \"warmup\": %d, \"rate\": %d, \"leads\": %lld, "
        "\"earlier_peak_mib\": %.1f, \"later_peak_mib\": %.1f, "
        "\"flat\": %s, \"answers_after\": %s, \"ok\": %s, \"refused\": %s, "
        "\"failed\": %s, \"rss_mib\": [%s]}\n",
        flags.seconds, flags.warmup, flags.rate,
        static_cast<long long>(next_lead.load()), earlier, later,
        flat ? "true" : "false", answers ? "true" : "false", counts(ok).c_str(),
        counts(refused).c_str(), counts(failed).c_str(), curve.c_str());
  } else {
    std::printf("%8s  %12s\n", "second", "resident MiB");
    const size_t step = std::max<size_t>(1, samples.size() / 20);
    for (size_t i = 0; i < samples.size(); i += step) {
      std::printf("%8.0f  %12.1f\n", samples[i].t, samples[i].rss);
    }
    std::printf(
        "\n%lld leads routed in %d s; after a %d s warm-up the resident "
        "peak went %.1f -> %.1f MiB: %s\n",
        static_cast<long long>(next_lead.load()), flags.seconds, flags.warmup,
        earlier, later, flat ? "flat" : "GROWING");
    std::printf("ok: %s\nrefused (the API saying no): %s\nfailed: %s\n",
                counts(ok).c_str(), counts(refused).c_str(),
                counts(failed).c_str());
    std::printf("a Route afterwards: %s\n",
                answers ? "answered within 1 s" : "NOT answered within 1 s");
  }
  if (!progressed)
    std::fprintf(stderr, "soak: no progress: %s\n", stalled.c_str());
  if (failures > 0) {
    std::fprintf(stderr, "soak: %lld calls failed; first: %s\n",
                 static_cast<long long>(failures), tally.last_error().c_str());
  }
  return flags.check && !passed ? 1 : 0;
}

}  // namespace
}  // namespace leadroute::bench

int main(int argc, char** argv) { return leadroute::bench::Main(argc, argv); }
