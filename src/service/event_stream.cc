// The WatchAssignments stream; see event_stream.h.
#include "src/service/event_stream.h"

#include "absl/strings/str_cat.h"
#include "src/wire/convert.h"

namespace leadroute {

EventStream::EventStream(runtime::EventFeed* feed, uint64_t after,
                         size_t max_buffered_bytes,
                         std::function<void(EventStream*)> on_done)
    : feed_(feed),
      max_buffered_bytes_(max_buffered_bytes),
      on_done_(std::move(on_done)),
      last_sent_(after) {
  handle_ = feed_->Subscribe(
      [this](const std::shared_ptr<const runtime::CommitLog::EventBatch>& b) {
        std::lock_guard<std::mutex> lock(mu_);
        if (finished_) return;
        live_.push_back(b);
        live_bytes_ += b->bytes;
        if (live_bytes_ > max_buffered_bytes_ && writing_) {
          // Too far behind: drop them and read on from the store, which has
          // every one, when the write in flight completes (on gRPC's
          // thread, never this one).
          live_.clear();
          live_pos_ = 0;
          live_bytes_ = 0;
          replaying_ = true;
          return;
        }
        // While replaying, a write is in flight and its completion reads
        // on.
        if (!replaying_) Pump();
      });
  std::lock_guard<std::mutex> lock(mu_);
  Pump();
}

const runtime::LeadEvent* EventStream::NextLive() {
  while (!live_.empty()) {
    const std::vector<runtime::LeadEvent>& events = live_.front()->events;
    while (live_pos_ < events.size() && events[live_pos_].id <= last_sent_) {
      ++live_pos_;
    }
    if (live_pos_ < events.size()) return &events[live_pos_];
    live_bytes_ -= live_.front()->bytes;
    live_.pop_front();
    live_pos_ = 0;
  }
  return nullptr;
}

void EventStream::Pump() {
  if (writing_ || finished_) return;
  while (ready_.empty() && replaying_) {
    absl::StatusOr<std::vector<runtime::LeadEvent>> read =
        feed_->committed().EventsAfter(last_sent_, kReadBatch);
    if (!read.ok()) {
      FinishLocked(ToGrpcStatus(absl::UnavailableError(
          absl::StrCat("reading events: ", read.status().message()))));
      return;
    }
    for (runtime::LeadEvent& e : *read) ready_.push_back(std::move(e));
    if (read->size() < static_cast<size_t>(kReadBatch)) replaying_ = false;
    if (!read->empty()) break;
  }
  while (!ready_.empty() && ready_.front().id <= last_sent_) ready_.pop_front();
  const runtime::LeadEvent* next =
      !ready_.empty() ? &ready_.front() : NextLive();
  if (next == nullptr) return;  // the subscription will call again
  message_.Clear();
  EventToProto(*next, &message_);
  last_sent_ = next->id;
  if (!ready_.empty()) ready_.pop_front();
  writing_ = true;
  StartWrite(&message_);
}

void EventStream::OnWriteDone(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  writing_ = false;
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    return;
  }
  Pump();
}

void EventStream::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void EventStream::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the server is stopping; reconnect with "
                            "after_event_id"));
}

void EventStream::OnCancel() {
  std::lock_guard<std::mutex> lock(mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void EventStream::OnDone() {
  feed_->Unsubscribe(handle_);
  on_done_(this);
  delete this;
}

}  // namespace leadroute
