// Polling the rule files; see rules_watcher.h.
#include "src/server/rules_watcher.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace leadroute {
namespace {

namespace fs = std::filesystem;

void StampOne(const fs::path& p, std::string* out) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  const auto mtime = fs::last_write_time(p, ec);
  absl::StrAppend(out, p.string(), "\t", ec ? -1 : static_cast<int64_t>(size),
                  "\t", ec ? 0 : mtime.time_since_epoch().count(), "\n");
}

}  // namespace

void LogDiagnostics(const CompileOutcome& outcome) {
  constexpr int kMaxLogged = 20;  // `leadroute check` shows them all
  int logged = 0;
  for (const RuleDiagnostic& d : outcome.diagnostics) {
    if (++logged > kMaxLogged) continue;
    const std::string at =
        d.file.empty() ? "" : absl::StrCat(d.file, ":", d.line, ":", d.column);
    std::vector<LogField> fields = {{"at", at}};
    if (!d.error) fields.push_back({"code", d.code});
    fields.push_back({"message", d.message});
    if (!d.hint.empty()) fields.push_back({"hint", d.hint});
    if (d.error) {
      LogError("rule error", fields);
    } else {
      LogWarn("rule warning", fields);
    }
  }
  if (logged > kMaxLogged) {
    LogWarn("more rule diagnostics",
            {{"not_logged", absl::StrCat(logged - kMaxLogged)},
             {"see", "leadroute check"}});
  }
}

void LogReload(const CompileOutcome& outcome, const std::string& path) {
  LogDiagnostics(outcome);
  if (outcome.status.ok() && outcome.unchanged) {
    LogInfo("rules unchanged; serving on",
            {{"path", path},
             {"revision", absl::StrCat(outcome.ruleset->revision)},
             {"fingerprint", outcome.ruleset->fingerprint}});
    return;
  }
  if (outcome.status.ok()) {
    LogInfo("rules loaded",
            {{"path", path},
             {"revision", absl::StrCat(outcome.ruleset->revision)},
             {"ruleset", outcome.ruleset->name},
             {"version", outcome.ruleset->version},
             {"fingerprint", outcome.ruleset->fingerprint}});
    return;
  }
  std::string errors;
  int shown = 0;
  for (const RuleDiagnostic& d : outcome.diagnostics) {
    if (!d.error || ++shown > 3) continue;
    absl::StrAppend(&errors, errors.empty() ? "" : "; ", d.file, ":", d.line,
                    ":", d.column, ": ", d.message);
  }
  LogError("reload failed; still serving the previous rules",
           {{"path", path},
            {"error", std::string(outcome.status.message())},
            {"first_errors", errors}});
}

std::string FilesStamp(const std::string& path,
                       const std::vector<std::string>& files) {
  std::string out;
  for (const std::string& f : files) StampOne(f, &out);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec)) StampOne(it->path(), &out);
    }
  }
  return out;
}

RulesWatcher::RulesWatcher(RulesetRegistry* registry, std::string path,
                           std::vector<std::string> files,
                           absl::Duration interval)
    : registry_(registry),
      path_(std::move(path)),
      files_(std::move(files)),
      interval_(interval) {
  thread_ = std::thread([this] { Loop(); });
}

RulesWatcher::~RulesWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RulesWatcher::Loop() {
  std::string seen = FilesStamp(path_, files_);
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, absl::ToChronoNanoseconds(interval_),
                       [this] { return stop_; })) {
    lock.unlock();
    if (std::string now = FilesStamp(path_, files_); now != seen) {
      LogInfo("rule files changed; reloading", {{"path", path_}});
      CompileOutcome outcome = registry_->LoadPath(path_);
      LogReload(outcome, path_);
      // A change made while compiling still differs from `now`, so the next
      // poll reloads again; only a new set of files needs a new stamp.
      if (!outcome.files.empty() && outcome.files != files_) {
        files_ = outcome.files;
        now = FilesStamp(path_, files_);
      }
      seen = std::move(now);
    }
    lock.lock();
  }
}

}  // namespace leadroute
