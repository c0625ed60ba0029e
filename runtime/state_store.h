// StateStore: what rep selection remembers between leads and across
// restarts — assignments, rep status, team rotation, lead events, cursors.
// The embedded SQLite store (sqlite_store.h) is the default, PostgreSQL
// (pg_store.h) the one replicas share; another backend implements the calls
// below, with the guarantees each states, without reading the SQLite code or
// touching the strategies:
// - StateStore::Load: what the Assigner resumes from, once, at start — the
//   live part of the state (reps' loads, rep status, team rotation), never
//   every lead.
// - StateStore::Apply: a batch of changes, in order, all or none, durable on
//   return; only ever from one thread at a time (the CommitLog's writer).
// - StateReader (FindAssignment, LastByEmail, OpenLeadsOfRep, DueAfter,
//   EventsAfter, ScanAssignments, ListAssignments, PrunedThrough,
//   PrunedAssignments, CursorValue, and for people reading the store,
//   NewestAssignments, CountByOwner, History, Audit): reads of what is
//   committed, from any thread, concurrently with Apply.
//
// The Assigner (assigner.h) keeps a bounded working set of leads in memory
// and reads any other lead from the store on demand (FindAssignment,
// LastByEmail); every change goes through its CommitLog (commit_log.h), the
// store's only writer, in the order it was made and in batches (group
// commit). A store applies each batch atomically and durably before Apply
// returns, so whatever a client was told is on disk and what is on disk is
// always a prefix of what was decided. Everything else (the event stream,
// webhooks, KPIs, retention's progress) reads the committed state through
// the StateReader side alone.
#ifndef LEADROUTE_RUNTIME_STATE_STORE_H_
#define LEADROUTE_RUNTIME_STATE_STORE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
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

// Whether the owner made first contact in time.
enum class SlaStatus {
  kNone = 0,     // the lead has no SLA
  kPending = 1,  // not contacted yet, deadline not passed
  kMet = 2,      // first contact at or before respond_by
  kMissed = 3,   // a deadline passed before first contact
};
const char* SlaStatusName(SlaStatus s);

// How far a lead got, as reported through RecordContact / RecordOutcome.
// Won and lost are final.
enum class Outcome {
  kNone = 0,
  kContacted = 1,
  kQualified = 2,  // a sales-qualified lead (SQL)
  kOpportunity = 3,
  kWon = 4,
  kLost = 5,
};
inline constexpr int kOutcomeCount = 6;
const char* OutcomeName(Outcome o);

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

  // Activation (schema v4).
  absl::Time routed_at;  // when the lead was (re)routed: response time's start
  SlaStatus sla_status = SlaStatus::kNone;
  std::string contact_channel;  // as recorded with the first contact
  std::string contacted_by;     // the owner at first contact
  // When each outcome was first recorded; [kNone] is unused.
  std::array<std::optional<absl::Time>, kOutcomeCount> reached;
  Outcome outcome = Outcome::kNone;  // the furthest one reached
  // Escalation: the policy's name (empty: none), how many of its steps have
  // run for the current owner, how often it moved the lead, the reps who
  // had it before, and when the sweeper must look at it next (a step or the
  // SLA's deadline; none once contacted or ended).
  std::string escalation;
  int escalation_step = 0;
  int hops = 0;
  std::vector<std::string> had_by;
  std::optional<absl::Time> next_due;
  // When the current owner's SLA clock started: the lead's received time
  // when routed, the move's time after a reassignment.
  std::optional<absl::Time> clock_start;
  // SLA per rep (schema v6). sla_status is the lead's: was it contacted
  // within the SLA of its routing. clock_status is the current owner's own
  // clock (each new owner gets one): pending, then met or missed by them;
  // after first contact, the contacting owner's. missed_by lists, in
  // order, each rep whose own clock ran out while they held the lead.
  SlaStatus clock_status = SlaStatus::kNone;
  std::vector<std::string> missed_by;

  // For KPIs (schema v5): the lead's `source` attribute (empty when it had
  // none) and the rules that decided it, "stage/rule" in stage order,
  // joined by ';' (one string, not a vector: one allocation per lead on the
  // routing path instead of one per rule).
  std::string source;
  std::string rules;
  // Which choice of the assign rule took the lead when it was (re)routed
  // (schema v10): 0 the first, 1 the first `else`, ...; -1 none could (or
  // no rule matched). A lead kept by the rep of a repeat counts for the
  // choice that rep was tried under; leads routed before v10 read 0.
  int choice = 0;
  // The lead as `leadroute replay --data-dir/--state` reads it (schema
  // v11, PostgreSQL v6), written when it is (re)routed: a JSON object
  // {"received_at":"…","target":"team:emea","attributes":{…}} — the time
  // its rules read, what they chose (the assign rule's first choice), and
  // its attributes as the decision log writes them (masked, or keyed
  // hashes). Empty for leads routed before, or by a caller that kept none.
  std::string logged;
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

// One step in a lead's history, and what WatchAssignments streams. `id` is
// the Assigner's change number: unique, increasing, so a subscriber resumes
// after the last id it saw.
struct LeadEvent {
  std::string lead_id;
  absl::Time at;
  // assigned, unassigned, rerouted, reassigned, released, closed,
  // contacted, qualified, opportunity, won, lost, sla_warning, sla_missed,
  // escalated, escalation_failed
  std::string kind;
  std::string from;  // previous owner, if any
  std::string to;    // new (or current) owner, if any
  std::string reason;
  uint64_t id = 0;
  // The lead's assignment after the event, for a notifier to act on alone.
  OwnerKind owner_kind = OwnerKind::kNone;
  std::string team;
  std::string channel;
  std::string priority;
  std::optional<absl::Duration> sla;
  std::optional<absl::Time> respond_by;
  // Who made the change through the API (schema v7): the principal; empty
  // for what the server did itself (routing, the sweeper, a reload's
  // hand-over of a removed rep's leads made by nobody in particular).
  std::string actor;
};

// Who asked for a change: the caller's principal (or "anonymous" on a
// server without --auth, "file" for rules read from disk) and where from
// (the gRPC peer, e.g. "ipv4:10.0.0.7:51234", or the rules' path).
struct Actor {
  std::string principal;
  std::string peer;
  bool empty() const { return principal.empty(); }
};

// One entry of the audit trail (schema v7): a change made through the API
// or a ruleset made live. `id` is the store's, in commit order.
struct AuditRecord {
  uint64_t id = 0;
  absl::Time at;
  std::string principal;
  std::string peer;
  // rules.load, rules.publish, rules.promote, rules.rollback,
  // rules.schedule, rules.unschedule, rules.activate, rules.shadow,
  // rules.unshadow, rep.status, and
  // lead.KIND for
  // each lead event an API call made (lead.reassigned, lead.released,
  // lead.closed, lead.contacted, lead.qualified, ...).
  std::string action;
  std::string target;  // the lead id, rep id or ruleset name
  std::string before;  // as it was, where that applies
  std::string after;   // as it is now
  std::string reason;
};

// Events with `at` before `before` are deleted, at most `limit` of them
// (the oldest); the store remembers the highest id it deleted.
struct EventPrune {
  absl::Time before;
  int limit = 10000;
  // Events with a higher id are kept whatever their age (a consumer has
  // not read them yet).
  uint64_t max_id = UINT64_MAX;
};

// Released and closed assignments that ended before `before` are deleted,
// at most `limit` of them (the oldest): --lead-retention.
struct AssignmentPrune {
  absl::Time before;
  int limit = 10000;
};

// A named position a consumer keeps in the store, e.g. a webhook's last
// delivered event id.
struct Cursor {
  std::string name;
  uint64_t value = 0;
};

// A ruleset made live, as the store keeps it: with PostgreSQL every replica
// serves the live one and a new writer goes on from it (issue 22); with
// SQLite a restart does, unless the --rules files changed meanwhile.
struct RulesetLive {
  int64_t revision = 0;
  std::string root;
  // Every file it was compiled from, path to text (includes and tables
  // too); the same for a rollback, whose revision is already kept.
  std::map<std::string, std::string> files{};
  std::string fingerprint{};
  std::string published_by{};
  std::string published_from{};
  absl::Time at{};
  // A scheduled ruleset's activation time; InfinitePast for one made live
  // at once.
  absl::Time activate_at = absl::InfinitePast();
  // The fingerprint of the --rules files as last loaded when it went live
  // ("" with none): a restart whose files compile to another changes what
  // is live. SQLite keeps it; replicas serve the database's rules.
  std::string files_fingerprint{};
};

// The ruleset the writer will make live at `ruleset->activate_at`, kept
// for every replica to make it live at that instant too, and for a new
// writer to go on with; none: the schedule is cancelled. Making it live
// is a RulesetLive of its revision, which ends the schedule.
struct RulesetSchedule {
  std::optional<RulesetLive> ruleset;
};

// What a store keeps of rulesets: the live one, if any, the scheduled one,
// if any, and the highest revision it ever kept (a new writer numbers on
// from it).
struct StoredRulesets {
  int64_t live_revision = 0;  // 0: none
  std::optional<RulesetLive> live;
  int64_t scheduled_revision = 0;  // 0: none
  std::optional<RulesetLive> scheduled;
  int64_t newest_revision = 0;
};

using StateChange = std::variant<Assignment, RepStatus, TeamCursor, LeadEvent,
                                 EventPrune, Cursor, AuditRecord,
                                 AssignmentPrune, RulesetLive, RulesetSchedule>;

// An event about `a` as it stands, with its owner, team, channel, priority
// and SLA.
LeadEvent EventOf(const Assignment& a, absl::Time at, std::string kind,
                  std::string from, std::string reason);

// A rep's part of the stored assignments, for rep selection to resume: open
// leads, and when each lead they were assigned since the snapshot's
// `recent_since` was (ascending), and the change number of the latest of
// those or of their open leads (their last turn, for least_loaded).
struct RepHistory {
  std::string rep;
  int64_t open = 0;
  std::vector<absl::Time> recent;
  uint64_t last_turn = 0;
};

// A lead with something due: when (Assignment::next_due), and its id.
using DueLead = std::pair<absl::Time, std::string>;

// What the Assigner resumes from: the live part of the state, whose size
// follows the reps and teams, not the leads ever routed. Cursors are not
// in it: their consumers read them (StateReader::CursorValue); nor is what
// is due: the Assigner reads the next hours of it as time moves
// (StateReader::DueAfter).
struct StateSnapshot {
  std::vector<RepHistory> rep_history;  // reps owning leads, any order
  std::vector<RepStatus> reps;
  std::vector<TeamCursor> teams;
  uint64_t last_assignment_seq = 0;  // the highest Assignment::seq kept
  uint64_t last_event_id = 0;
  // Events with an id up to this one were pruned (0: none).
  uint64_t pruned_through = 0;
};

// The last change number `snapshot` holds: where numbering resumes.
uint64_t LastChange(const StateSnapshot& snapshot);

// Per owner, for `leadroute state owners`: open leads, all leads, the
// latest assignment.
struct OwnerCount {
  std::string owner;
  OwnerKind kind = OwnerKind::kNone;
  int64_t open = 0;
  int64_t total = 0;
  absl::Time last_decided_at;
};

// A page of the audit trail: the newest `limit` entries after `after_id`
// (by `principal`, about `target`, when set).
struct AuditQuery {
  uint64_t after_id = 0;
  // {}: a designated initializer may leave them out without a warning.
  std::string principal{};
  std::string target{};
  int limit = 50;
};

// Reads of committed state. Every call may come from any thread,
// concurrently with StateStore::Apply: a store serves them from its own
// read connection, and sees each batch whole or not at all.
class StateReader {
 public:
  virtual ~StateReader() = default;

  // The lead's committed assignment; none for a lead id never routed (or
  // pruned by --lead-retention).
  virtual absl::StatusOr<std::optional<Assignment>> FindAssignment(
      const std::string& lead_id) = 0;

  // Of the committed assignments with `email_key`, the one (re)routed last
  // (the latest routed_at, then the highest seq); none when no lead has it.
  virtual absl::StatusOr<std::optional<Assignment>> LastByEmail(
      const std::string& email_key) = 0;

  // Events with id > `after`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<LeadEvent>> EventsAfter(uint64_t after,
                                                             int limit) = 0;
  // The newest event's id; 0 when there is none.
  virtual absl::StatusOr<uint64_t> LastEventId() = 0;
  // The rulesets kept (none in a store that keeps none). Without `live`
  // when its revision is `unless_live`, without
  // `scheduled` when its revision is `unless_scheduled` (a replica asking
  // whether they changed).
  virtual absl::StatusOr<StoredRulesets> Rulesets(
      int64_t unless_live = -1, int64_t unless_scheduled = -1) {
    (void)unless_live;
    (void)unless_scheduled;
    return StoredRulesets{};
  }

  // Calls `visit` with each committed assignment routed in [from, to), in
  // routing order (routed_at, then seq; replay re-decides them in it).
  virtual absl::Status ScanAssignments(
      absl::Time from, absl::Time to,
      const std::function<void(const Assignment&)>& visit) = 0;

  // Calls `visit` with the lead id and email key (empty when none) of every
  // committed assignment, in no particular order, until it returns false:
  // what the Assigner's KeyFilters start from.
  virtual absl::Status ScanLeadKeys(
      const std::function<bool(std::string_view lead_id,
                               std::string_view email_key)>& visit) = 0;

  // Committed assignments owned by `owner` (any owner when empty) in
  // `status` (any when unset), with lead ids after `after_lead_id`, in lead
  // id order, at most `limit`: a page of a list.
  virtual absl::StatusOr<std::vector<Assignment>> ListAssignments(
      const std::string& owner, std::optional<LeadStatus> status,
      const std::string& after_lead_id, int limit) = 0;

  // The open leads of rep `rep`, with lead ids after `after_lead_id`, in
  // lead id order, at most `limit`: through an index of reps' open leads,
  // whatever the size of the history.
  virtual absl::StatusOr<std::vector<Assignment>> OpenLeadsOfRep(
      const std::string& rep, const std::string& after_lead_id, int limit) = 0;

  // The committed leads with something due (Assignment::next_due), as
  // (next_due, lead id), in that order: those after `after` and due
  // before `before`, at most `limit`. Through an index of what is due, so
  // a read costs the rows it returns, whatever the size of the history.
  virtual absl::StatusOr<std::vector<DueLead>> DueAfter(const DueLead& after,
                                                        absl::Time before,
                                                        int limit) = 0;

  // The highest event id an EventPrune deleted (0: none).
  virtual absl::StatusOr<uint64_t> PrunedThrough() = 0;

  // How many assignments AssignmentPrunes deleted, ever.
  virtual absl::StatusOr<uint64_t> PrunedAssignments() = 0;

  // Cursor `name`'s value; none until one was first committed.
  virtual absl::StatusOr<std::optional<uint64_t>> CursorValue(
      const std::string& name) = 0;

  // For people reading the store (`leadroute state`), never on a hot path:
  // assignments whose owner is `owner` (all when empty) and, unless
  // `include_ended`, only open or unassigned ones; newest first, at most
  // `limit`.
  virtual absl::StatusOr<std::vector<Assignment>> NewestAssignments(
      const std::string& owner, bool include_ended, int limit) = 0;
  // Every owner's counts, by owner kind then owner.
  virtual absl::StatusOr<std::vector<OwnerCount>> CountByOwner() = 0;
  // One lead's history, oldest first.
  virtual absl::StatusOr<std::vector<LeadEvent>> History(
      const std::string& lead_id) = 0;
  // A page of the audit trail, oldest first.
  virtual absl::StatusOr<std::vector<AuditRecord>> Audit(
      const AuditQuery& query) = 0;
  // What the Assigner resumes from (see StateSnapshot), with the times of
  // reps' assignments since `recent_since`: called once by a store's
  // Assigner, before any Apply; by a reader (a follower, `eval --state`)
  // whenever it needs the reps' state.
  virtual absl::StatusOr<StateSnapshot> Load(absl::Time recent_since) = 0;
};

class StateStore : public StateReader {
 public:
  // Applies `changes` in order, all or none, and returns once they are
  // durable. Called from one thread at a time.
  virtual absl::Status Apply(absl::Span<const StateChange> changes) = 0;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_STATE_STORE_H_
