// Polling a few files; see file_watcher.h.
#include "src/server/file_watcher.h"

#include "src/server/rules_watcher.h"

namespace leadroute {

FileWatcher::FileWatcher(std::vector<std::string> files,
                         absl::Duration interval, std::function<void()> changed)
    : files_(std::move(files)),
      interval_(interval),
      changed_(std::move(changed)),
      thread_([this] { Loop(); }) {}

FileWatcher::~FileWatcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void FileWatcher::Loop() {
  std::string seen = FilesStamp("", files_);
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, absl::ToChronoMilliseconds(interval_),
                       [this] { return stop_; })) {
    std::string now = FilesStamp("", files_);
    if (now == seen) continue;
    seen = std::move(now);
    lock.unlock();
    changed_();
    lock.lock();
  }
}

}  // namespace leadroute
