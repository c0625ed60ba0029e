// EventFeed: where a WatchAssignments stream (or any follower of the event
// history) reads: the committed events by id, and each new batch as it is
// committed. On the process that writes the state it is the Assigner (its
// CommitLog hands over each commit's events); on a replica that does not
// write (issue 22), a StoreTail (store_tail.h) reading the shared database.
//
// Either way a batch's events come in id order, every batch after the one
// before it, and ids follow commit order (one writer commits, in order), so
// a reader that resumes after id N never misses an event committed later.
#ifndef LEADROUTE_RUNTIME_EVENT_FEED_H_
#define LEADROUTE_RUNTIME_EVENT_FEED_H_

#include <cstdint>

#include "runtime/commit_log.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

class EventFeed {
 public:
  virtual ~EventFeed() = default;

  // As CommitLog::Subscribe: `sink` receives each new batch, from one
  // thread, quickly; Unsubscribe waits for a delivery under way.
  virtual uint64_t Subscribe(CommitLog::EventSink sink) = 0;
  virtual void Unsubscribe(uint64_t handle) = 0;
  // The committed events (EventsAfter, PrunedThrough), from any thread.
  virtual StateReader& committed() const = 0;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_EVENT_FEED_H_
