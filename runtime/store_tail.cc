// Following a shared store's events by polling; see store_tail.h.
#include "runtime/store_tail.h"

#include <utility>
#include <vector>

namespace leadroute::runtime {

StoreTail::StoreTail(std::unique_ptr<StateReader> reader, absl::Duration every)
    : reader_(std::move(reader)), every_(every) {
  if (absl::StatusOr<uint64_t> last = reader_->LastEventId(); last.ok()) {
    last_ = *last;
  }
  thread_ = std::thread([this] { Loop(); });
}

StoreTail::~StoreTail() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

uint64_t StoreTail::Subscribe(CommitLog::EventSink sink) {
  std::lock_guard<std::mutex> poll(poll_mu_);
  std::lock_guard<std::mutex> lock(sinks_mu_);
  if (sinks_.empty()) {
    // Nobody read while nobody listened: start from the newest event (a
    // failure keeps the older start, which only delivers more).
    if (absl::StatusOr<uint64_t> last = reader_->LastEventId(); last.ok()) {
      last_ = std::max(last_, *last);
    }
  }
  const uint64_t handle = next_handle_++;
  sinks_.emplace(handle, std::move(sink));
  return handle;
}

void StoreTail::Unsubscribe(uint64_t handle) {
  std::lock_guard<std::mutex> lock(sinks_mu_);
  sinks_.erase(handle);
}

void StoreTail::Poll() {
  {
    std::lock_guard<std::mutex> lock(sinks_mu_);
    if (sinks_.empty()) return;
  }
  for (;;) {
    absl::StatusOr<std::vector<LeadEvent>> read =
        reader_->EventsAfter(last_, kReadBatch);
    if (!read.ok() || read->empty()) return;
    auto batch = std::make_shared<CommitLog::EventBatch>();
    for (LeadEvent& e : *read) {
      batch->bytes += ApproxBytes(e);
      batch->events.push_back(std::move(e));
    }
    last_ = batch->events.back().id;
    const std::shared_ptr<const CommitLog::EventBatch> shared =
        std::move(batch);
    {
      std::lock_guard<std::mutex> lock(sinks_mu_);
      for (auto& [handle, sink] : sinks_) sink(shared);
    }
    if (shared->events.size() < static_cast<size_t>(kReadBatch)) return;
  }
}

void StoreTail::Loop() {
  std::unique_lock<std::mutex> stop(stop_mu_);
  while (!stop_) {
    stop_cv_.wait_for(stop, absl::ToChronoMilliseconds(every_),
                      [this] { return stop_; });
    if (stop_) break;
    stop.unlock();
    {
      std::lock_guard<std::mutex> poll(poll_mu_);
      Poll();
    }
    stop.lock();
  }
}

}  // namespace leadroute::runtime
