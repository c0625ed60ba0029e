// Compiling, numbering, retaining and swapping rulesets; see the header.
#include "src/service/ruleset_registry.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "base/log.h"
#include "compiler/compiler.h"
#include "runtime/tree_policy.h"
#include "src/service/rule_files.h"

namespace leadroute {
namespace {

// FNV-1a, 64 bits, over each file's length and text in load order: the same
// rules give the same fingerprint whatever their paths.
std::string Fingerprint(const compiler::SourceSet& sources) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](absl::string_view bytes) {
    for (unsigned char c : bytes) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
  };
  for (int i = 0; i < sources.size(); ++i) {
    const std::string& text = sources.file(i).text();
    mix(absl::StrCat(text.size(), ":"));
    mix(text);
  }
  return absl::StrFormat("%016x", h);
}

// Whether a .route file declares the ruleset: a line that starts (after
// blanks) with `ruleset "`.
bool DeclaresRuleset(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t at = line.find_first_not_of(" \t");
    if (at != std::string::npos && line.compare(at, 8, "ruleset ") == 0 &&
        line.find('"', at) != std::string::npos) {
      return true;
    }
  }
  return false;
}

// The root file of a --rules folder.
absl::StatusOr<std::string> FindRoot(const std::string& folder) {
  std::vector<std::string> files;
  if (!ExpandRuleFiles(folder, &files)) {
    return absl::NotFoundError(
        absl::StrCat(folder, ": cannot list the folder"));
  }
  std::vector<std::string> roots;
  for (const std::string& f : files) {
    if (DeclaresRuleset(f)) roots.push_back(f);
  }
  if (roots.size() == 1) return roots[0];
  if (roots.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        folder, ": no .route file in the folder declares a `ruleset`"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(folder, ": several .route files declare a `ruleset` (",
                   absl::StrJoin(roots, ", "), "); give one as --rules"));
}

CompileOutcome FromCheck(compiler::CheckResult r) {
  CompileOutcome out;
  const compiler::SourceSet& sources = r.module->sources;
  for (int i = 0; i < sources.size(); ++i) {
    out.files.push_back(sources.file(i).path());
  }
  const auto& all = r.diagnostics.all();
  for (const compiler::Diagnostic& d : all) {
    if (out.diagnostics.size() == kMaxRuleDiagnostics) {
      const size_t more = all.size() - kMaxRuleDiagnostics;
      RuleDiagnostic rd;
      rd.error = !r.ok();
      rd.message = absl::StrCat(more, " more diagnostics not shown (at most ",
                                kMaxRuleDiagnostics,
                                " are; `leadroute check` lists them all)");
      rd.rendered = rd.message;
      out.diagnostics.push_back(std::move(rd));
      break;
    }
    RuleDiagnostic rd;
    rd.error = d.severity == compiler::Severity::kError;
    if (d.span.file >= 0) {
      rd.file = sources.file(d.span.file).path();
      const compiler::LineCol at = sources.Position(d.span);
      rd.line = at.line;
      rd.column = at.column;
    }
    rd.message = d.message;
    rd.hint = d.hint;
    rd.code = d.code;
    rd.rendered = compiler::RenderText(sources, d);
    out.diagnostics.push_back(std::move(rd));
  }
  if (!r.ok()) {
    const int n = r.diagnostics.error_count();
    out.status = absl::InvalidArgumentError(
        absl::StrCat("the rules have ", n, n == 1 ? " error" : " errors"));
    return out;
  }
  auto rs = std::make_shared<Ruleset>();
  rs->program = r.program;
  rs->name = r.program->name;
  rs->version = r.program->version;
  rs->fingerprint = Fingerprint(sources);
  auto texts = std::make_shared<std::map<std::string, std::string>>();
  for (int i = 0; i < sources.size(); ++i) {
    texts->emplace(sources.file(i).path(), sources.file(i).text());
  }
  if (sources.size() > 0) rs->root = sources.file(0).path();
  rs->sources = std::move(texts);
  for (const auto& stage : r.program->stages) rs->rule_count += stage.size();
  rs->policy = std::make_shared<runtime::TreePolicy>(r.program);
  rs->counters = std::make_unique<RulesetCounters>(r.program.get());
  out.ruleset = std::move(rs);
  return out;
}

}  // namespace

CompileOutcome CompilePath(const std::string& path) {
  std::string root = path;
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(path, ec);
  if (folder) {
    absl::StatusOr<std::string> found = FindRoot(path);
    if (!found.ok()) {
      CompileOutcome out;
      out.status = found.status();
      return out;
    }
    root = *found;
  }
  absl::StatusOr<compiler::CheckResult> r = compiler::Check(root);
  if (!r.ok()) {
    CompileOutcome out;
    out.status = r.status();
    out.files.push_back(root);
    return out;
  }
  return FromCheck(*std::move(r));
}

CompileOutcome CompileFiles(const std::map<std::string, std::string>& files,
                            std::string root) {
  if (files.empty()) {
    CompileOutcome out;
    out.status = absl::InvalidArgumentError("no files: a ruleset needs a root");
    return out;
  }
  if (root.empty()) root = files.begin()->first;
  return FromCheck(compiler::CheckFiles(root, files));
}

const runtime::SystemClock kSystemClock;

RulesetRegistry::RulesetRegistry(int keep)
    : clock_(&kSystemClock),
      keep_(keep < 1 ? 1 : keep),
      started_at_(absl::Now()) {}

RulesetRegistry::~RulesetRegistry() {
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    stopping_ = true;
  }
  schedule_changed_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
}

void RulesetRegistry::UseClock(const runtime::Clock* clock) {
  std::lock_guard<std::mutex> lock(state_mu_);
  clock_ = clock == nullptr ? &kSystemClock : clock;
}

std::shared_ptr<const Ruleset> RulesetRegistry::MakeLive(
    std::shared_ptr<Ruleset> next, int64_t revision) {
  if (revision == 0) revision = last_revision_ + 1;
  last_revision_ = std::max(last_revision_, revision);
  next->revision = revision;
  next->loaded_at = absl::Now();
  return Retain(std::move(next));
}

std::shared_ptr<const Ruleset> RulesetRegistry::Retain(
    std::shared_ptr<const Ruleset> live) {
  const int64_t revision = live->revision;
  live_by_ = live->published_by;
  live_since_ = live->loaded_at;
  std::erase_if(retained_,
                [revision](const auto& r) { return r->revision == revision; });
  std::erase(live_order_, revision);
  retained_.push_front(live);
  while (retained_.size() > keep_) retained_.pop_back();
  live_order_.push_back(revision);
  live_.store(live);
  ++succeeded_;
  return live;
}

void RulesetRegistry::RecordFailure(const std::string& origin,
                                    const CompileOutcome& outcome) {
  ++failed_;
  last_failure_ = std::make_shared<const ReloadFailure>(
      ReloadFailure{absl::Now(), origin, std::string(outcome.status.message()),
                    outcome.diagnostics});
}

CompileOutcome RulesetRegistry::Install(
    CompileOutcome outcome, const std::string& origin,
    std::optional<runtime::RemovedReps> removed_reps,
    const runtime::Actor& by) {
  std::shared_ptr<const Ruleset> before;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!outcome.status.ok()) {
      RecordFailure(origin, outcome);
      return outcome;
    }
    before = live_.load();
    outcome.ruleset->origin = origin;
    outcome.ruleset->published_by = by.principal;
    outcome.ruleset->published_from = by.peer;
    MakeLive(outcome.ruleset);
  }
  for (RuleDiagnostic& d :
       Replaced(before, *outcome.ruleset, removed_reps, by)) {
    outcome.diagnostics.push_back(std::move(d));
  }
  return outcome;
}

void RulesetRegistry::SetOnLive(OnLive on_live) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  on_live_ = std::move(on_live);
}

std::vector<RuleDiagnostic> RulesetRegistry::Replaced(
    const std::shared_ptr<const Ruleset>& before, const Ruleset& now,
    std::optional<runtime::RemovedReps> choice,
    const runtime::Actor& by) const {
  if (!on_live_ || before == nullptr || before.get() == &now) return {};
  return on_live_(*before, now, choice, by);
}

std::shared_ptr<const Ruleset> RulesetRegistry::InstallPolicy(
    std::shared_ptr<const runtime::Policy> policy, std::string name,
    std::string origin) {
  auto rs = std::make_shared<Ruleset>();
  rs->name = std::move(name);
  rs->origin = std::move(origin);
  rs->fingerprint = std::string(16, '0');
  rs->policy = std::move(policy);
  rs->published_by = "builtin";
  rs->counters = std::make_unique<RulesetCounters>(nullptr);
  std::lock_guard<std::mutex> reload(reload_mu_);
  std::lock_guard<std::mutex> lock(state_mu_);
  return MakeLive(std::move(rs));
}

CompileOutcome RulesetRegistry::LoadPath(const std::string& path) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  CompileOutcome outcome = CompilePath(path);
  if (outcome.status.ok()) {
    std::lock_guard<std::mutex> lock(state_mu_);
    files_fingerprint_ = outcome.ruleset->fingerprint;
    // The same rules again: a new revision would say they changed, and
    // hand removed reps over, audit and notify for nothing.
    if (const std::shared_ptr<const Ruleset> live = live_.load();
        live != nullptr && live->program != nullptr &&
        live->fingerprint == outcome.ruleset->fingerprint) {
      ++succeeded_;
      outcome.ruleset = std::const_pointer_cast<Ruleset>(live);
      outcome.unchanged = true;
      return outcome;
    }
  }
  CompileOutcome out = Install(std::move(outcome), absl::StrCat("file ", path),
                               std::nullopt, runtime::Actor{"file", path});
  WarnOfSchedule(&out);
  return out;
}

void RulesetRegistry::WarnOfSchedule(CompileOutcome* out) const {
  const std::shared_ptr<const Ruleset> next = scheduled_.load();
  if (!out->status.ok() || next == nullptr) return;
  RuleDiagnostic& d = out->diagnostics.emplace_back();
  d.error = false;
  d.message = absl::StrCat(
      "revision ", next->revision, " is scheduled to go live at ",
      runtime::Rfc3339Seconds(next->activate_at),
      " and will replace this ruleset then (PublishRules with activate and "
      "no files cancels it)");
  d.code = "scheduled";
  d.rendered = absl::StrCat("warning: ", d.message);
}

absl::Status RulesetRegistry::CheckExpected(int64_t expected_revision) const {
  if (expected_revision == 0) return absl::OkStatus();
  const std::shared_ptr<const Ruleset> live = live_.load();
  const int64_t now = live == nullptr ? 0 : live->revision;
  if (now == expected_revision) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("revision ", expected_revision, " is not live (revision ",
                   now, " is); nothing changed"));
}

CompileOutcome RulesetRegistry::Publish(
    const std::map<std::string, std::string>& files, std::string root,
    int64_t expected_revision, std::optional<runtime::RemovedReps> removed_reps,
    const runtime::Actor& by, const std::string& origin) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  if (absl::Status s = CheckExpected(expected_revision); !s.ok()) {
    CompileOutcome out;
    out.status = std::move(s);
    return out;
  }
  CompileOutcome out =
      Install(CompileFiles(files, std::move(root)), origin, removed_reps, by);
  WarnOfSchedule(&out);
  return out;
}

CompileOutcome RulesetRegistry::Schedule(
    const std::map<std::string, std::string>& files, std::string root,
    absl::Time at, int64_t expected_revision,
    std::optional<runtime::RemovedReps> removed_reps,
    const runtime::Actor& by) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  if (absl::Status s = CheckExpected(expected_revision); !s.ok()) {
    CompileOutcome out;
    out.status = std::move(s);
    return out;
  }
  CompileOutcome out = CompileFiles(files, std::move(root));
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    if (!out.status.ok()) {
      RecordFailure("scheduled", out);
      return out;
    }
    Ruleset& next = *out.ruleset;
    next.revision = ++last_revision_;
    next.origin = "scheduled";
    next.published_by = by.principal;
    next.published_from = by.peer;
    next.activate_at = at;
    next.loaded_at = at;
    SetScheduled(out.ruleset, removed_reps, by, /*adopted=*/false);
  }
  if (on_scheduled_) on_scheduled_(out.ruleset.get(), by);
  return out;
}

std::shared_ptr<const Ruleset> RulesetRegistry::CancelSchedule(
    const runtime::Actor& by) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  std::shared_ptr<const Ruleset> cancelled;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    cancelled = scheduled_.load();
    if (cancelled == nullptr) return nullptr;
    SetScheduled(nullptr, std::nullopt, {}, /*adopted=*/false);
  }
  if (on_scheduled_) on_scheduled_(nullptr, by);
  return cancelled;
}

void RulesetRegistry::SetOnScheduled(OnScheduled on_scheduled) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  on_scheduled_ = std::move(on_scheduled);
}

void RulesetRegistry::SetScheduled(
    std::shared_ptr<const Ruleset> next,
    std::optional<runtime::RemovedReps> removed_reps, const runtime::Actor& by,
    bool adopted) {
  scheduled_removed_reps_ = removed_reps;
  scheduled_by_ = by;
  scheduled_adopted_ = adopted;
  // LiveAt reads the time first: it is set after the ruleset and cleared
  // before it, so a time it sees always has its ruleset.
  if (next == nullptr) {
    scheduled_at_nanos_.store(std::numeric_limits<int64_t>::max(),
                              std::memory_order_release);
    scheduled_.store(nullptr);
    return;
  }
  const int64_t at = absl::ToUnixNanos(next->activate_at);
  scheduled_.store(std::move(next));
  scheduled_at_nanos_.store(at, std::memory_order_release);
  if (!scheduler_.joinable()) {
    scheduler_ = std::thread([this] { ScheduleLoop(); });
  }
  schedule_changed_.notify_all();
}

void RulesetRegistry::ScheduleLoop() {
  // The clock may be a test's, which moves without telling anyone: while a
  // schedule waits, it is read every few milliseconds.
  constexpr absl::Duration kPoll = absl::Milliseconds(20);
  std::unique_lock<std::mutex> lock(state_mu_);
  while (!stopping_) {
    const std::shared_ptr<const Ruleset> next = scheduled_.load();
    if (next == nullptr) {
      schedule_changed_.wait(lock);
      continue;
    }
    const absl::Duration left = next->activate_at - clock_->Now();
    if (left > absl::ZeroDuration()) {
      // At least a millisecond: a test's clock a nanosecond short of the
      // time does not move by itself. Calls need no thread to be exact.
      schedule_changed_.wait_for(
          lock, absl::ToChronoNanoseconds(
                    std::clamp(left, absl::Milliseconds(1), kPoll)));
      continue;
    }
    lock.unlock();
    ActivateDue();
    lock.lock();
  }
}

bool RulesetRegistry::ActivateDue() {
  std::lock_guard<std::mutex> reload(reload_mu_);
  std::shared_ptr<const Ruleset> before, next;
  std::optional<runtime::RemovedReps> removed_reps;
  runtime::Actor by;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    next = scheduled_.load();
    if (next == nullptr || clock_->Now() < next->activate_at) return false;
    before = live_.load();
    removed_reps = scheduled_removed_reps_;
    by = scheduled_by_;
    const bool adopted = scheduled_adopted_;
    Retain(next);  // live first: LiveAt gives `next` throughout
    if (adopted) Adopted(next);
    SetScheduled(nullptr, std::nullopt, {}, /*adopted=*/false);
  }
  LogInfo("scheduled ruleset live",
          {{"revision", absl::StrCat(next->revision)},
           {"fingerprint", next->fingerprint},
           {"activate_at", runtime::Rfc3339Seconds(next->activate_at)}});
  for (const RuleDiagnostic& d : Replaced(before, *next, removed_reps, by)) {
    LogWarn("scheduled ruleset live", {{"warning", d.message}});
  }
  return true;
}

absl::StatusOr<std::shared_ptr<const Ruleset>> RulesetRegistry::Rollback(
    int64_t revision, std::vector<RuleDiagnostic>* warnings,
    const runtime::Actor& by) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  const std::shared_ptr<const Ruleset> before = live_.load();
  absl::StatusOr<std::shared_ptr<const Ruleset>> now = RollbackTo(revision);
  if (now.ok() && now->get() != before.get()) {
    std::lock_guard<std::mutex> lock(state_mu_);
    live_by_ = by.principal;
    live_since_ = absl::Now();
  }
  if (now.ok()) {
    std::vector<RuleDiagnostic> said =
        Replaced(before, **now, std::nullopt, by);
    if (warnings != nullptr) *warnings = std::move(said);
  }
  return now;
}

CompileOutcome RulesetRegistry::Adopt(const runtime::RulesetLive& stored) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    last_revision_ = std::max(last_revision_, stored.revision);
    const std::shared_ptr<const Ruleset> live = live_.load();
    CompileOutcome out;
    if (live != nullptr && live->revision == stored.revision &&
        live->fingerprint == stored.fingerprint) {
      Adopted(live);
      out.ruleset = std::const_pointer_cast<Ruleset>(live);
      return out;
    }
    // The writer made the scheduled ruleset live before this replica's
    // clock got there.
    if (const std::shared_ptr<const Ruleset> next = scheduled_.load();
        next != nullptr && next->revision == stored.revision &&
        next->fingerprint == stored.fingerprint) {
      Retain(next);
      Adopted(next);
      SetScheduled(nullptr, std::nullopt, {}, /*adopted=*/false);
      out.ruleset = std::const_pointer_cast<Ruleset>(next);
      return out;
    }
    for (const std::shared_ptr<const Ruleset>& r : retained_) {
      if (r->revision != stored.revision ||
          r->fingerprint != stored.fingerprint) {
        continue;
      }
      const std::shared_ptr<const Ruleset> found = r;
      std::erase(live_order_, found->revision);
      live_order_.push_back(found->revision);
      live_.store(found);
      live_by_ = stored.published_by;
      live_since_ = absl::Now();
      ++succeeded_;
      Adopted(found);
      out.ruleset = std::const_pointer_cast<Ruleset>(found);
      return out;
    }
  }
  CompileOutcome outcome = CompileFiles(stored.files, stored.root);
  const std::string origin = absl::StrCat("stored revision ", stored.revision);
  std::lock_guard<std::mutex> lock(state_mu_);
  if (!outcome.status.ok()) {
    RecordFailure(origin, outcome);
    return outcome;
  }
  outcome.ruleset->origin = origin;
  outcome.ruleset->published_by = stored.published_by;
  outcome.ruleset->published_from = stored.published_from;
  Adopted(MakeLive(outcome.ruleset, stored.revision));
  return outcome;
}

CompileOutcome RulesetRegistry::AdoptSchedule(
    const runtime::RulesetLive* stored) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    const std::shared_ptr<const Ruleset> next = scheduled_.load();
    const std::shared_ptr<const Ruleset> live = live_.load();
    CompileOutcome out;
    if (stored == nullptr) {
      if (next != nullptr) SetScheduled(nullptr, std::nullopt, {}, false);
      return out;
    }
    last_revision_ = std::max(last_revision_, stored->revision);
    if (next != nullptr && next->revision == stored->revision &&
        next->fingerprint == stored->fingerprint &&
        next->activate_at == stored->activate_at) {
      out.ruleset = std::const_pointer_cast<Ruleset>(next);
      return out;
    }
    if (live != nullptr && live->revision == stored->revision) {
      return out;  // made live here already
    }
  }
  CompileOutcome outcome = CompileFiles(stored->files, stored->root);
  std::lock_guard<std::mutex> lock(state_mu_);
  if (!outcome.status.ok()) {
    RecordFailure(
        absl::StrCat("stored revision ", stored->revision, ", scheduled"),
        outcome);
    return outcome;
  }
  Ruleset& next = *outcome.ruleset;
  next.revision = stored->revision;
  next.origin = "scheduled";
  next.published_by = stored->published_by;
  next.published_from = stored->published_from;
  next.activate_at = stored->activate_at;
  next.loaded_at = stored->activate_at;
  SetScheduled(outcome.ruleset, std::nullopt,
               {stored->published_by, stored->published_from},
               /*adopted=*/true);
  return outcome;
}

void RulesetRegistry::Adopted(const std::shared_ptr<const Ruleset>& live) {
  adopted_.insert(live->revision);
  std::erase_if(retained_, [&](const std::shared_ptr<const Ruleset>& r) {
    return r != live && !adopted_.contains(r->revision);
  });
  std::erase_if(live_order_,
                [&](int64_t revision) { return !adopted_.contains(revision); });
}

void RulesetRegistry::NumberAfter(int64_t revision) {
  std::lock_guard<std::mutex> lock(state_mu_);
  last_revision_ = std::max(last_revision_, revision);
}

void RulesetRegistry::RenumberLive(int64_t revision) {
  std::lock_guard<std::mutex> reload(reload_mu_);
  std::lock_guard<std::mutex> lock(state_mu_);
  const std::shared_ptr<const Ruleset> live = live_.load();
  if (live == nullptr || live->revision == revision) return;
  std::erase(live_order_, live->revision);
  std::erase_if(retained_, [&](const std::shared_ptr<const Ruleset>& r) {
    return r != live && r->revision == revision;
  });
  // Immutable once a call can see it; none has yet.
  std::const_pointer_cast<Ruleset>(live)->revision = revision;
  std::erase(live_order_, revision);
  live_order_.push_back(revision);
  last_revision_ = std::max(last_revision_, revision);
}

std::string RulesetRegistry::files_fingerprint() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  return files_fingerprint_;
}

absl::StatusOr<std::shared_ptr<const Ruleset>> RulesetRegistry::RollbackTo(
    int64_t revision) {
  std::lock_guard<std::mutex> lock(state_mu_);
  const std::shared_ptr<const Ruleset> live = live_.load();
  if (revision == 0) {
    // The revision made live before the current one, skipping the current
    // one's earlier turns (after a rollback, "back" means further back).
    for (auto it = live_order_.rbegin(); it != live_order_.rend(); ++it) {
      if (live == nullptr || *it != live->revision) {
        revision = *it;
        break;
      }
    }
    if (revision == 0) {
      return absl::NotFoundError("no earlier ruleset to roll back to");
    }
  }
  if (live != nullptr && live->revision == revision) return live;
  for (const std::shared_ptr<const Ruleset>& r : retained_) {
    if (r->revision != revision) continue;
    live_order_.push_back(revision);
    // Drop the current one's turn, so a second Rollback goes further back.
    if (live != nullptr) {
      std::erase(live_order_, live->revision);
    }
    live_.store(r);
    ++succeeded_;
    return r;
  }
  return absl::NotFoundError(absl::StrCat("revision ", revision,
                                          " is not retained (the last ", keep_,
                                          " rulesets are; see GetStatus)"));
}

RulesetRegistry::Snapshot RulesetRegistry::snapshot() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  Snapshot s;
  s.live = live_.load();
  s.retained.assign(retained_.begin(), retained_.end());
  s.last_failure = last_failure_;
  s.reloads_succeeded = succeeded_;
  s.reloads_failed = failed_;
  s.started_at = started_at_;
  s.live_by = live_by_;
  s.live_since = live_since_;
  s.scheduled = scheduled_.load();
  return s;
}

}  // namespace leadroute
