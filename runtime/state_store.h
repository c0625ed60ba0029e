// StateStore: what rep selection remembers between leads and across
// restarts — assignments, rep status, team rotation — behind the small
// interface the Assigner (assigner.h) writes through. The embedded SQLite
// store (sqlite_store.h) is the one implementation today; a networked store
// implements the same two calls without touching the strategies.
//
// The Assigner keeps the working copy in memory and is the only writer: it
// loads a snapshot once at start, then appends changes in the order it made
// them, in batches (group commit). A store applies each batch atomically and
// durably before Apply returns, so whatever a client was told is on disk and
// what is on disk is always a prefix of what was decided.
#ifndef LEADROUTE_RUNTIME_STATE_STORE_H_
#define LEADROUTE_RUNTIME_STATE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "runtime/decision.h"

namespace leadroute::runtime {

enum class LeadStatus {
  kOpen = 0,        // assigned to an owner, counts against a rep's capacity
  kReleased = 1,    // handed back (ReleaseLead): frees capacity
  kClosed = 2,      // worked to an end (CloseLead): frees capacity
  kUnassigned = 3,  // nobody in the assign rule's chain could take it
};
const char* LeadStatusName(LeadStatus s);

// One lead's current assignment.
struct Assignment {
  std::string lead_id;
  std::string owner;  // rep id, team or queue name; empty when unassigned
  OwnerKind owner_kind = OwnerKind::kNone;
  std::string team;  // the team the rep was chosen from, if any
  LeadStatus status = LeadStatus::kOpen;
  std::string email_key;  // lower-cased email, to spot repeats; may be empty
  std::string repeat_of;  // lead id this one repeats
  std::string decision_id;
  std::string ruleset;   // "name version", for people reading the store
  std::string priority;  // label; empty when none
  int priority_rank = -1;
  std::optional<absl::Duration> sla;
  std::string channel;
  absl::Time decided_at;  // when it was (last) assigned
  std::optional<absl::Time> respond_by;
  std::optional<absl::Time> ended_at;  // released or closed
  int64_t score = 0;
  uint64_t seq = 0;  // the Assigner's change number: orders assignments
};

enum class Availability {
  kAvailable = 0,    // takes leads within working hours
  kAway = 1,         // takes none until set back (or `until`)
  kOutOfOffice = 2,  // takes none until `until`
};
const char* AvailabilityName(Availability a);

// Live status set through SetRepStatus; reps without one are available.
struct RepStatus {
  std::string rep;
  Availability availability = Availability::kAvailable;
  std::optional<absl::Time> until;  // back at this time, if known
  std::string note;
  absl::Time set_at;
};

// A team's place in its rotation.
struct TeamCursor {
  std::string team;
  std::string last_rep;  // round robin: the last rep given a lead
  // weighted: each member's running weight (smooth weighted round robin).
  std::vector<std::pair<std::string, int64_t>> running;
};

// One step in a lead's history.
struct LeadEvent {
  std::string lead_id;
  absl::Time at;
  std::string kind;  // assigned, rerouted, reassigned, released, closed
  std::string from;  // previous owner, if any
  std::string to;    // new owner, if any
  std::string reason;
};

using StateChange = std::variant<Assignment, RepStatus, TeamCursor, LeadEvent>;

struct StateSnapshot {
  std::vector<Assignment> assignments;  // ascending seq
  std::vector<RepStatus> reps;
  std::vector<TeamCursor> teams;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Everything needed to resume: called once, before any Apply.
  virtual absl::StatusOr<StateSnapshot> Load() = 0;

  // Applies `changes` in order, all or none, and returns once they are
  // durable. Called from one thread at a time.
  virtual absl::Status Apply(absl::Span<const StateChange> changes) = 0;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_STATE_STORE_H_
