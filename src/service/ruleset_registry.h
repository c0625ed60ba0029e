// RulesetRegistry: the rulesets a server has loaded and the one it routes
// with. Loading (from the --rules path, or from files sent over RPC)
// compiles off the request path, under a writers' lock; making a ruleset
// live is one atomic store, so a call takes the live ruleset once, at its
// start, and finishes on it. A ruleset with errors is never made live: the
// running one keeps serving and the failure is recorded for GetStatus.
// The last `keep` rulesets are retained for Rollback.
//
// A ruleset can also be scheduled: compiled and numbered now, made live at
// a set instant of the registry's clock. A call takes LiveAt(its own
// time), which is the scheduled ruleset from that instant on, so the swap
// is exact to the call; the registry's own thread then makes it live for
// the rest (status, the audit trail, OnLive) within a few milliseconds.
#ifndef LEADROUTE_SRC_SERVICE_RULESET_REGISTRY_H_
#define LEADROUTE_SRC_SERVICE_RULESET_REGISTRY_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/clock.h"
#include "runtime/policy.h"
#include "runtime/program.h"
#include "runtime/state_store.h"
#include "src/service/metrics.h"

namespace leadroute {

// One compiler finding, ready for the wire or a log.
struct RuleDiagnostic {
  bool error = true;  // else a warning
  std::string file;   // "" when no file is at fault
  int line = 0;       // 1-based; 0 when there is no position
  int column = 0;
  std::string message;
  std::string hint;
  std::string code;      // warnings: the finding's code (`allow` names it)
  std::string rendered;  // as `leadroute check` prints it
};

// Diagnostics a compile keeps, at most (in answers, and in the failure
// GetStatus reports); one more says how many were left out. `leadroute
// check` lists them all.
inline constexpr int kMaxRuleDiagnostics = 200;

// A loaded ruleset. Immutable, except for its counters.
struct Ruleset {
  int64_t revision = 0;     // 1, 2, ... in load order; see RulesetRef
  std::string name;         // declared
  std::string version;      // declared
  std::string fingerprint;  // 16 hex digits of the rules' text
  std::string origin;       // "file PATH", "publish", "builtin"
  absl::Time loaded_at;     // when it was published (made live first)
  // Who published it: the caller's principal, "file" (read from --rules),
  // "builtin"; and from where (the gRPC peer, or the rules' path).
  std::string published_by;
  std::string published_from;
  // What it was compiled from: the root file's path and every file's text
  // by path (includes and tables too); null for a builtin. Kept for
  // replicas (issue 22), which store it for the others to compile.
  std::string root;
  std::shared_ptr<const std::map<std::string, std::string>> sources;
  int rule_count = 0;
  // When a scheduled ruleset goes (or went) live; InfinitePast for one
  // made live at once.
  absl::Time activate_at = absl::InfinitePast();
  std::shared_ptr<const runtime::Policy> policy;
  std::shared_ptr<const runtime::Program> program;  // null for a builtin
  std::unique_ptr<RulesetCounters> counters;        // never null
};

// What compiling a ruleset gave.
struct CompileOutcome {
  // OK; INVALID_ARGUMENT when the rules have errors; NOT_FOUND or
  // FAILED_PRECONDITION when they cannot be read.
  absl::Status status;
  std::vector<RuleDiagnostic> diagnostics;  // errors and warnings
  std::shared_ptr<Ruleset> ruleset;  // when OK; revision not yet assigned
  // The files read from disk (root, includes, CSV tables), for watching;
  // filled even when the rules have errors.
  std::vector<std::string> files;
  // LoadPath: the files compiled to the rules already live (the same
  // fingerprint: a file touched, saved unchanged, or checked out again), so
  // `ruleset` is the live one, under its own revision, and nothing changed.
  bool unchanged = false;
};

// Compiles the rules at `path`: a .route file, or a folder in which exactly
// one .route file declares the `ruleset` (the root).
CompileOutcome CompilePath(const std::string& path);
// Compiles rules held in memory; `root` defaults to the first file.
CompileOutcome CompileFiles(const std::map<std::string, std::string>& files,
                            std::string root);

struct ReloadFailure {
  absl::Time at;
  std::string origin;
  std::string message;
  std::vector<RuleDiagnostic> diagnostics;
};

class RulesetRegistry {
 public:
  // Retains the last `keep` (at least 1) rulesets.
  explicit RulesetRegistry(int keep = 10);
  ~RulesetRegistry();

  // The clock schedules are kept by (the system clock unless set; tests
  // set a FakeClock). Set before serving; must outlive the registry.
  void UseClock(const runtime::Clock* clock);
  const runtime::Clock& clock() const { return *clock_; }

  // The ruleset routing calls now; null before the first Install.
  std::shared_ptr<const Ruleset> Live() const { return live_.load(); }
  // The ruleset a call received at `now` is decided by: the scheduled one
  // once `now` reaches its activation time, even in the moment before the
  // registry's thread has made it live, else the live one.
  std::shared_ptr<const Ruleset> LiveAt(absl::Time now) const {
    if (absl::ToUnixNanos(now) >=
        scheduled_at_nanos_.load(std::memory_order_acquire)) {
      std::shared_ptr<const Ruleset> next = scheduled_.load();
      if (next != nullptr && now >= next->activate_at) return next;
    }
    return live_.load();
  }

  // Makes `policy` live as a ruleset that was not compiled here (the
  // built-in demo policy, tests).
  std::shared_ptr<const Ruleset> InstallPolicy(
      std::shared_ptr<const runtime::Policy> policy, std::string name,
      std::string origin);

  // Told of each ruleset made live by a reload, a publish or a rollback,
  // with the one it replaced, the caller's removed_reps choice (none: the
  // ruleset's, else the server's) and who made it live. What it returns
  // joins the outcome's diagnostics. Set before serving.
  using OnLive = std::function<std::vector<RuleDiagnostic>(
      const Ruleset& before, const Ruleset& now,
      std::optional<runtime::RemovedReps> choice, const runtime::Actor& by)>;
  void SetOnLive(OnLive on_live);

  // Compiles the rules at `path` and makes them live, or records why not;
  // when they are the rules already live, keeps serving those under their
  // revision (`unchanged`). Made live while a schedule waits, they carry
  // the warning that it will replace them (as Publish's do).
  CompileOutcome LoadPath(const std::string& path);

  // Compiles `files` and makes them live, published `by` a caller, or
  // records why not. With a non-zero `expected_revision` that is not live,
  // changes nothing and returns FAILED_PRECONDITION.
  // `origin` is what GetStatus says it came from ("publish", or "promote"
  // for a shadow made live).
  CompileOutcome Publish(
      const std::map<std::string, std::string>& files, std::string root,
      int64_t expected_revision = 0,
      std::optional<runtime::RemovedReps> removed_reps = std::nullopt,
      const runtime::Actor& by = {}, const std::string& origin = "publish");

  // Compiles `files` and schedules them to go live at `at`, published `by`
  // a caller, in place of any ruleset scheduled before; they are numbered
  // now. INVALID_ARGUMENT (nothing scheduled) when the rules have errors;
  // FAILED_PRECONDITION as Publish's. An `at` already past makes them live
  // within milliseconds. OnScheduled is told.
  CompileOutcome Schedule(
      const std::map<std::string, std::string>& files, std::string root,
      absl::Time at, int64_t expected_revision = 0,
      std::optional<runtime::RemovedReps> removed_reps = std::nullopt,
      const runtime::Actor& by = {});
  // Cancels the schedule, if any: the ruleset that was scheduled, or null.
  // OnScheduled is told.
  std::shared_ptr<const Ruleset> CancelSchedule(const runtime::Actor& by = {});
  // The ruleset scheduled to go live; null when none is.
  std::shared_ptr<const Ruleset> Scheduled() const { return scheduled_.load(); }

  // Told of each schedule set (`scheduled`) or cancelled (null), under the
  // reload lock, for the writer to keep it where replicas read it and in
  // the audit trail. Set before serving.
  using OnScheduled =
      std::function<void(const Ruleset* scheduled, const runtime::Actor& by)>;
  void SetOnScheduled(OnScheduled on_scheduled);

  // Makes the ruleset a store says is live (a shared one, issue 22; a
  // single server's at its restart), live here too, with its revision and
  // publisher: a retained one with
  // the same revision and fingerprint at once, else compiled from its
  // files. Nobody is told (OnLive): whoever made it live did that. A
  // failure is recorded as a reload's and keeps the live one.
  CompileOutcome Adopt(const runtime::RulesetLive& stored);
  // Schedules here the ruleset a shared store says is scheduled (its
  // revision and activation time): from the one scheduled here already
  // when it is the same, else compiled from its files. `stored` null: the
  // store has none, so none is scheduled here either. Nobody is told.
  CompileOutcome AdoptSchedule(const runtime::RulesetLive* stored);
  // Numbers the next ruleset after `revision` at least (a new writer goes
  // on from the highest its store kept).
  void NumberAfter(int64_t revision);
  // At start, before any call is answered: gives the live ruleset (the
  // --rules files just loaded) `revision` instead of the one it was
  // numbered with, so that a restart goes on with the store's numbers.
  void RenumberLive(int64_t revision);
  // The fingerprint of the rules the --rules files compiled to when last
  // loaded (LoadPath), live or not; "" before any.
  std::string files_fingerprint() const;

  // Makes retained `revision` live again (0: the one live before the
  // current one) `by` a caller; NOT_FOUND when it is not retained.
  // `warnings` gets what OnLive said.
  absl::StatusOr<std::shared_ptr<const Ruleset>> Rollback(
      int64_t revision, std::vector<RuleDiagnostic>* warnings = nullptr,
      const runtime::Actor& by = {});

  struct Snapshot {
    std::shared_ptr<const Ruleset> live;
    std::vector<std::shared_ptr<const Ruleset>> retained;  // newest first
    // Shared, not copied: every scrape of /metrics or /healthz takes a
    // snapshot, and a failure's diagnostics can be long.
    std::shared_ptr<const ReloadFailure> last_failure;
    int64_t reloads_succeeded = 0;
    int64_t reloads_failed = 0;
    absl::Time started_at;
    // Who made `live` live, and when: its publisher, or a rollback's caller.
    std::string live_by;
    absl::Time live_since;
    // The ruleset scheduled to go live, if any.
    std::shared_ptr<const Ruleset> scheduled;
  };
  Snapshot snapshot() const;

 private:
  // Under state_mu_: `next` (a compiled ruleset with its revision) is
  // scheduled, or nothing is (null).
  // `adopted`: from a shared store's schedule (AdoptSchedule).
  void SetScheduled(std::shared_ptr<const Ruleset> next,
                    std::optional<runtime::RemovedReps> removed_reps,
                    const runtime::Actor& by, bool adopted);
  // Under state_mu_: makes `live`, numbered, live and retains it.
  std::shared_ptr<const Ruleset> Retain(std::shared_ptr<const Ruleset> live);
  // FAILED_PRECONDITION unless `expected_revision` is 0 or live.
  absl::Status CheckExpected(int64_t expected_revision) const;
  // The thread that makes a due schedule live.
  void ScheduleLoop();
  // Makes the scheduled ruleset live if its time has come by the clock
  // (OnLive is told, as for a publish); whether it did.
  bool ActivateDue();

  // Under state_mu_: numbers `next` (`revision`, or the next number when
  // 0), retains it, in place of one with the same number, and makes it
  // live.
  std::shared_ptr<const Ruleset> MakeLive(std::shared_ptr<Ruleset> next,
                                          int64_t revision = 0);
  // Under state_mu_: `live`, adopted from the shared store, is live; drops
  // what was not adopted.
  void Adopted(const std::shared_ptr<const Ruleset>& live);
  // Under state_mu_: records a failed reload.
  void RecordFailure(const std::string& origin, const CompileOutcome& outcome);
  // Under reload_mu_: makes a compiled ruleset live, or records its failure.
  CompileOutcome Install(CompileOutcome outcome, const std::string& origin,
                         std::optional<runtime::RemovedReps> removed_reps,
                         const runtime::Actor& by);
  // Under reload_mu_, after `out` was made live: warns that the scheduled
  // ruleset, if one waits, will replace it.
  void WarnOfSchedule(CompileOutcome* out) const;
  // Under reload_mu_: makes retained `revision` live.
  absl::StatusOr<std::shared_ptr<const Ruleset>> RollbackTo(int64_t revision);
  // Under reload_mu_, after `now` replaced `before`: OnLive's warnings.
  std::vector<RuleDiagnostic> Replaced(
      const std::shared_ptr<const Ruleset>& before, const Ruleset& now,
      std::optional<runtime::RemovedReps> choice,
      const runtime::Actor& by) const;

  OnLive on_live_;
  OnScheduled on_scheduled_;
  const runtime::Clock* clock_;

  const size_t keep_;
  const absl::Time started_at_;
  std::atomic<std::shared_ptr<const Ruleset>> live_;
  // Held across compiling, so reloads happen one at a time (and a
  // PublishRules' expected_revision holds until it is live).
  std::mutex reload_mu_;
  // Guards what follows; held briefly, never across compiling, so status
  // and metrics answer during a long compile.
  mutable std::mutex state_mu_;
  std::deque<std::shared_ptr<const Ruleset>> retained_;  // newest first
  std::vector<int64_t> live_order_;  // revisions in the order made live
  // A replica's: revisions it adopted from the shared store. Once it has
  // adopted one, it retains no other (its own --rules, loaded before it
  // followed, may carry a number the store gave to other rules).
  std::set<int64_t> adopted_;
  int64_t last_revision_ = 0;
  std::shared_ptr<const ReloadFailure> last_failure_;
  int64_t succeeded_ = 0;
  int64_t failed_ = 0;
  std::string live_by_;
  absl::Time live_since_;
  std::string files_fingerprint_;

  // The scheduled ruleset (null: none), its activation time in Unix
  // nanoseconds for LiveAt's one load (int64 max: none), and what its
  // publisher asked for removed reps and who that was, for OnLive.
  std::atomic<std::shared_ptr<const Ruleset>> scheduled_;
  std::atomic<int64_t> scheduled_at_nanos_{std::numeric_limits<int64_t>::max()};
  std::optional<runtime::RemovedReps> scheduled_removed_reps_;
  runtime::Actor scheduled_by_;
  bool scheduled_adopted_ = false;
  // The thread: started with the first schedule, woken by a new one and to
  // stop.
  std::thread scheduler_;
  std::condition_variable schedule_changed_;
  bool stopping_ = false;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_RULESET_REGISTRY_H_
