// RulesWatcher: reloads the --rules path when its files change. It polls
// (every `interval`) the size and modification time of every file the last
// compile read (root, includes, CSV tables) and, for a folder, of every
// file beneath it, so editors that save by renaming, new files and deleted
// files are all seen. Polling works on every file system, network mounts
// included, which inotify does not.
#ifndef LEADROUTE_SRC_SERVER_RULES_WATCHER_H_
#define LEADROUTE_SRC_SERVER_RULES_WATCHER_H_

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {

// Logs a reload's outcome: its errors and warnings (LogDiagnostics), then
// the new revision or why it failed.
void LogReload(const CompileOutcome& outcome, const std::string& path);
// One logfmt line per error and warning of `outcome` (at most 20).
void LogDiagnostics(const CompileOutcome& outcome);

// What the files look like now: each path with its size and mtime.
std::string FilesStamp(const std::string& path,
                       const std::vector<std::string>& files);

class RulesWatcher {
 public:
  // `files`: what the compile that loaded `path` read. `registry` must
  // outlive the watcher.
  RulesWatcher(RulesetRegistry* registry, std::string path,
               std::vector<std::string> files, absl::Duration interval);
  ~RulesWatcher();  // stops and joins

 private:
  void Loop();

  RulesetRegistry* const registry_;
  const std::string path_;
  std::vector<std::string> files_;
  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_RULES_WATCHER_H_
