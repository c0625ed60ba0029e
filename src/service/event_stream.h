// EventStream: one WatchAssignments call. It replays the committed events
// after the client's last id from the store, then forwards live ones as the
// Assigner commits them, one write in flight at a time, so a subscriber that
// reconnects with the last id it saw misses nothing and sees nothing twice.
//
// It subscribes before its first read of the store: an event committed
// before that is in the store, one committed after reaches the
// subscription (and may be in both: ids dedupe). Live events are the
// commits' own batches, shared by every stream (the writer thread hands
// each stream a pointer, never a copy). A subscriber whose unsent live
// events hold more than its bound (8 MiB by default) drops them and reads on
// from the store when its write in flight completes, so a slow client costs
// bounded memory and never makes the writer thread read the store.
#ifndef LEADROUTE_SRC_SERVICE_EVENT_STREAM_H_
#define LEADROUTE_SRC_SERVICE_EVENT_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "leadroute/v1/leadroute.pb.h"
#include "runtime/event_feed.h"

namespace leadroute {

class EventStream final : public grpc::ServerWriteReactor<v1::AssignmentEvent> {
 public:
  static constexpr int kReadBatch = 256;

  // `on_done` runs once the call is over, just before the stream deletes
  // itself. `max_buffered_bytes`: live events held unsent before the stream
  // drops them and reads on from the store.
  EventStream(runtime::EventFeed* feed, uint64_t after,
              size_t max_buffered_bytes,
              std::function<void(EventStream*)> on_done);

  // Ends the stream (the server is stopping). Idempotent.
  void Stop();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // With mu_ held: starts the next write if none is in flight.
  void Pump();
  // With mu_ held: the first live event after last_sent_, dropping the
  // batches sent; null when there is none.
  const runtime::LeadEvent* NextLive();
  void FinishLocked(const grpc::Status& status);

  runtime::EventFeed* const feed_;
  const size_t max_buffered_bytes_;
  std::function<void(EventStream*)> on_done_;
  uint64_t handle_ = 0;

  std::mutex mu_;
  uint64_t last_sent_;
  bool replaying_ = true;                 // reading the store
  std::deque<runtime::LeadEvent> ready_;  // from the store, to send
  // From the subscription: whole commits, the front one read from
  // live_pos_ on; live_bytes_ is what they hold.
  std::deque<std::shared_ptr<const runtime::CommitLog::EventBatch>> live_;
  size_t live_pos_ = 0;
  size_t live_bytes_ = 0;
  bool writing_ = false;
  bool finished_ = false;
  v1::AssignmentEvent message_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_EVENT_STREAM_H_
