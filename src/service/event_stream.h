// EventStream: one WatchAssignments call. It replays the committed events
// after the client's last id from the store, then forwards live ones as the
// Assigner commits them, one write in flight at a time, so a subscriber that
// reconnects with the last id it saw misses nothing and sees nothing twice.
//
// It subscribes before its first read of the store: an event committed
// before that is in the store, one committed after reaches the
// subscription (and may be in both: ids dedupe). A subscriber that falls
// more than kMaxBuffered events behind drops its buffer and reads the store
// again, so a slow client costs memory only up to that bound.
#ifndef LEADROUTE_SRC_SERVICE_EVENT_STREAM_H_
#define LEADROUTE_SRC_SERVICE_EVENT_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <mutex>

#include "leadroute/v1/leadroute.pb.h"
#include "runtime/assigner.h"

namespace leadroute {

class EventStream final : public grpc::ServerWriteReactor<v1::AssignmentEvent> {
 public:
  static constexpr size_t kMaxBuffered = 100000;
  static constexpr int kReadBatch = 256;

  // `on_done` runs once the call is over, just before the stream deletes
  // itself.
  EventStream(runtime::Assigner* assigner, uint64_t after,
              std::function<void(EventStream*)> on_done);

  // Ends the stream (the server is stopping). Idempotent.
  void Stop();

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // With mu_ held: starts the next write if none is in flight.
  void Pump();
  void FinishLocked(const grpc::Status& status);

  runtime::Assigner* const assigner_;
  std::function<void(EventStream*)> on_done_;
  uint64_t handle_ = 0;

  std::mutex mu_;
  uint64_t last_sent_;
  bool replaying_ = true;                 // reading the store
  std::deque<runtime::LeadEvent> ready_;  // from the store, to send
  std::deque<runtime::LeadEvent> live_;   // from the subscription
  bool writing_ = false;
  bool finished_ = false;
  v1::AssignmentEvent message_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_EVENT_STREAM_H_
