// FileWatcher: calls back when any of a few files changes (size or
// modification time), polling every `interval` on a thread of its own, as
// RulesWatcher does for rule files. Used for the --auth file and the TLS
// files, whose readers say themselves what a change did.
#ifndef LEADROUTE_SRC_SERVER_FILE_WATCHER_H_
#define LEADROUTE_SRC_SERVER_FILE_WATCHER_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace leadroute {

class FileWatcher {
 public:
  FileWatcher(std::vector<std::string> files, absl::Duration interval,
              std::function<void()> changed);
  ~FileWatcher();  // stops and joins

 private:
  void Loop();

  const std::vector<std::string> files_;
  const absl::Duration interval_;
  const std::function<void()> changed_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_FILE_WATCHER_H_
