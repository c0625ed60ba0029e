// The WatchAssignments stream; see event_stream.h.
#include "src/service/event_stream.h"

#include "absl/strings/str_cat.h"
#include "src/wire/convert.h"

namespace leadroute {

EventStream::EventStream(runtime::Assigner* assigner, uint64_t after,
                         std::function<void(EventStream*)> on_done)
    : assigner_(assigner), on_done_(std::move(on_done)), last_sent_(after) {
  handle_ = assigner_->log().Subscribe(
      [this](const std::vector<runtime::LeadEvent>& events) {
        std::lock_guard<std::mutex> lock(mu_);
        if (finished_) return;
        for (const runtime::LeadEvent& e : events) live_.push_back(e);
        bool behind = false;
        if (live_.size() > kMaxBuffered) {
          // Too far behind: the store has all of these.
          live_.clear();
          replaying_ = behind = true;
        }
        // While replaying, a write is in flight and its completion reads
        // on; the writer thread only reads the store after an overflow.
        if (!replaying_ || behind) Pump();
      });
  std::lock_guard<std::mutex> lock(mu_);
  Pump();
}

void EventStream::Pump() {
  if (writing_ || finished_) return;
  while (ready_.empty() && replaying_) {
    absl::StatusOr<std::vector<runtime::LeadEvent>> read =
        assigner_->committed().EventsAfter(last_sent_, kReadBatch);
    if (!read.ok()) {
      FinishLocked(ToGrpcStatus(absl::UnavailableError(
          absl::StrCat("reading events: ", read.status().message()))));
      return;
    }
    for (runtime::LeadEvent& e : *read) ready_.push_back(std::move(e));
    if (read->size() < static_cast<size_t>(kReadBatch)) replaying_ = false;
    if (!read->empty()) break;
  }
  std::deque<runtime::LeadEvent>& from = ready_.empty() ? live_ : ready_;
  while (!from.empty() && from.front().id <= last_sent_) from.pop_front();
  if (from.empty()) return;  // the subscription will call again
  message_.Clear();
  EventToProto(from.front(), &message_);
  last_sent_ = from.front().id;
  from.pop_front();
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
  assigner_->log().Unsubscribe(handle_);
  on_done_(this);
  delete this;
}

}  // namespace leadroute
