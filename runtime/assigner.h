// Assigner: the book of leads and every step of their lifecycle. It turns a
// decision's candidate owners into one owner and remembers it (Assign), and
// carries each lead on from there: released, closed, reassigned by a
// manager, contacted, qualified ... won or lost, and swept when an SLA
// deadline or escalation step comes due. Repeat submissions (the same email
// sticks to the rep who had the last lead, where the rules say so: see
// FromCandidates) and idempotent retries (a known lead id answers with its
// stored assignment) are decided here; candidates are tried in order (the
// rule's first choice, then `else`), a queue always takes the lead, and
// when none can the lead is recorded as unassigned with the reasons, never
// dropped.
//
// It is made of three parts, each a class of its own:
// - RepPicker (rep_picker.h): who can take a lead now, and who takes the
//   next one — the reps' loads and statuses and the teams' rotations.
// - Escalator (escalator.h): SLA clocks, what is due when, and what an
//   escalation step does; it moves a lead through the RepPicker.
// - CommitLog (commit_log.h): numbers every change and commits it to the
//   StateStore in order, with group commit, then tells subscribers.
//
// One mutex story: the Assigner's mu_ guards its leads and both the
// RepPicker and the Escalator, which have no lock of their own; every
// public call that reads or changes them holds it for its whole length.
// Changes are appended to the CommitLog under mu_, so their numbers follow
// the order in which state changed (the log's own locks come after mu_,
// never before). A caller gets the change number to wait for and answers
// only once it is durable (log().WhenDurable), so an assignment a client
// saw is never lost, and what survives a crash is always a prefix of what
// was decided: rotation resumes where the last acknowledged lead left it.
// If the store fails, the Assigner refuses further changes (UNAVAILABLE)
// rather than run further ahead of what it can keep, until the CommitLog's
// retry of the failed commit succeeds (see commit_log.h).
//
// Every change to a lead appends the lead's assignment and an event whose
// id is its change number; committed events go to subscribers
// (WatchAssignments, webhooks) in id order. Reads of what is committed
// (event history, KPIs, cursors) go to the store's read side, committed(),
// without the lock.
//
// Memory does not grow with history. The Assigner holds a working set: the
// leads changed or asked about most recently, at most
// AssignerOptions::lead_cache of them once their latest change is
// committed (Trim evicts the oldest). Any other lead is read from the store
// when asked about — an idempotent retry, a repeat's last lead by email, a
// change through the API, a sweep — and joins the working set. For Route
// the reads happen before the lock is taken (Prefetch), so routing never
// waits on the disk under mu_; a lead evicted meanwhile with a change the
// read could not have seen (max_evicted_seq_ above what was committed
// before the read) is read again under the lock. Most leads are new, and
// need no read at all: two KeyFilters (key_filter.h) hold every lead id and
// email key the store has — read from it by a thread of the Assigner's own
// after start, and added to as leads are routed, since the Assigner is the
// store's only writer — and a key they certainly lack is new. Until that
// first read is done every lookup goes to the store. At start it loads the
// live state alone: reps' open leads and recent assignments, their
// statuses, teams' rotations. What is due is read as the clock comes near
// it: the next hour or so of SLA deadlines is in memory (see Sweep).
#ifndef LEADROUTE_RUNTIME_ASSIGNER_H_
#define LEADROUTE_RUNTIME_ASSIGNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/clock.h"
#include "runtime/commit_log.h"
#include "runtime/conditions.h"
#include "runtime/decision.h"
#include "runtime/escalator.h"
#include "runtime/event_feed.h"
#include "runtime/key_filter.h"
#include "runtime/owner_choice.h"
#include "runtime/program.h"
#include "runtime/rep_picker.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

struct AssignerOptions {
  // How long a repeat lead (the same email) sticks to the rep who had the
  // last one, for a team that does not say (`sticky = ...`) picked by a
  // rule that does not say either. Zero: such teams do not stick.
  absl::Duration repeat_window = absl::Hours(24 * 7);
  // How many leads the working set holds (serve --lead-cache) beside those
  // whose latest change is not committed yet; any other lead is read from
  // the store when asked about.
  size_t lead_cache = 50000;
  // How far ahead of the clock SLA deadlines and escalation steps are held
  // in memory; later ones stay in the store alone, and are read from it
  // (at most due_batch at a time) once the clock is within half of this
  // of them.
  absl::Duration due_ahead = absl::Hours(1);
  int due_batch = 50000;
};

// What the caller passes along with a decision.
struct AssignInput {
  std::string decision_id;  // the id the caller gave this decision
  std::string ruleset;      // "name version", stored for people to read
  bool reroute = false;     // route again even if the lead id is known
  // Kept with the assignment for replay (Assignment::logged); may be empty.
  std::string logged{};
};

class Assigner final : public EventFeed {
 public:
  // Loads the store's state and starts the writer. `clock` must outlive the
  // Assigner.
  static absl::StatusOr<std::unique_ptr<Assigner>> Start(
      std::unique_ptr<StateStore> store, const Clock* clock,
      AssignerOptions options = {});
  // Waits for every change to be committed, then stops the writer.
  ~Assigner();

  // Whether the store's lead ids and email keys have all been read, so
  // that a new lead is routed without a read of the store.
  bool KeysKnown() const;

  // Picks the owner of the lead decided in `d` among d->candidates and
  // records it, updating d (owner, owner_kind, team, skipped, replayed,
  // repeat_of, decision_id, decided_at). When the lead id was assigned
  // before and !input.reroute, d becomes the stored assignment (replayed).
  // Returns the change number to wait for with log().WhenDurable.
  // `lead` is the lead as bound to `p`: its email and source are read from
  // the slots the compiler set aside (Program::email_slot, source_slot).
  absl::StatusOr<uint64_t> Assign(const Program& p, const BoundLead& lead,
                                  const AssignInput& input, Decision* d);

  // Lead lifecycle. Each returns the lead's assignment afterwards and the
  // change number to wait for. NOT_FOUND for a lead id never routed;
  // FAILED_PRECONDITION for a lead already released or closed. A change
  // made `by` someone (a caller of the API) names them on its events and
  // adds an AuditRecord per event, committed after the change: the number
  // returned covers both.
  struct Changed {
    Assignment assignment;
    uint64_t seq = 0;
  };
  absl::StatusOr<Changed> Release(const std::string& lead_id,
                                  const std::string& reason,
                                  const Actor& by = {});
  absl::StatusOr<Changed> Close(const std::string& lead_id,
                                const std::string& reason,
                                const Actor& by = {});
  // Moves the lead to `target`: a rep takes it as told (a manager's call
  // overrides hours and caps), a team picks a rep by its strategy among
  // those who can take it, a queue holds it. A lead not contacted yet
  // starts a new SLA clock for its new owner (its escalation steps start
  // over), even after a breach.
  absl::StatusOr<Changed> Reassign(const Program& p, const std::string& lead_id,
                                   const Candidate& target,
                                   const std::string& reason,
                                   const Actor& by = {});

  // After `next` became live: the open leads of reps `next` does not have,
  // per rep in the order they were assigned, and what `policy` did with
  // them (`reason` goes on each event). Reps with no open leads are not
  // listed.
  struct RemovedRep {
    std::string rep;
    int open = 0;        // open leads it held
    int reassigned = 0;  // to a member of the lead's team
    int released = 0;    // by policy, or for want of anyone to take them
  };
  struct HandOver {
    std::vector<RemovedRep> reps;
    uint64_t seq = 0;  // the last change to wait for; 0: none
  };
  HandOver HandOverRemovedReps(const Program& next, RemovedReps policy,
                               const std::string& reason, const Actor& by = {});
  // Open leads owned by `rep`, also for a rep the rules no longer have.
  int64_t OpenLeadsOf(const std::string& rep) const;

  // Sets a rep's live status (with an audit record when made `by` someone).
  // Returns the change number to wait for.
  absl::StatusOr<uint64_t> SetRepStatus(const RepStatus& status,
                                        const Actor& by = {});
  // An audit record of a change the Assigner does not make (a ruleset made
  // live): committed in order with the rest. The change number to wait for,
  // or UNAVAILABLE once the log failed.
  absl::StatusOr<uint64_t> RecordAudit(AuditRecord record);
  // A ruleset made live, for the store to keep (for replicas and a
  // restart), and `audit`, the record of who made it live: in one commit,
  // so that a crash never keeps one without the other; in order with the
  // rest, as RecordAudit.
  absl::StatusOr<uint64_t> RecordRuleset(RulesetLive ruleset,
                                         AuditRecord audit);
  // A ruleset scheduled to go live, or the schedule cancelled, likewise.
  absl::StatusOr<uint64_t> RecordSchedule(RulesetSchedule schedule,
                                          AuditRecord audit);

  // First contact with the lead at `at` (now when unset) over `channel`:
  // stops its SLA clock and escalation. A second call changes nothing and
  // returns the lead as it is. INVALID_ARGUMENT for an `at` in the future
  // or before the lead was routed.
  absl::StatusOr<Changed> RecordContact(const std::string& lead_id,
                                        const std::string& channel,
                                        std::optional<absl::Time> at,
                                        const Actor& by = {});
  // A stage the lead reached (kContacted .. kLost) at `at` (now when
  // unset); each is recorded once. Any of them implies first contact;
  // won and lost close the lead.
  absl::StatusOr<Changed> RecordOutcome(const std::string& lead_id,
                                        Outcome outcome,
                                        std::optional<absl::Time> at,
                                        const Actor& by = {});

  // Applies every SLA deadline and escalation step due at `now`, under `p`
  // (the live rules: an escalation policy no longer in them only has its
  // deadline marked), after reading from the store what comes due next
  // when it is time to (see AssignerOptions::due_ahead). Returns how many
  // leads changed. Sweeps run one at a time.
  int Sweep(const Program& p, absl::Time now);
  // When Sweep next has something to do: the earliest time a lead in
  // memory is due, or when to read on from the store, if that is earlier.
  std::optional<absl::Time> NextDue() const;
  // How many leads with something due are held in memory now.
  size_t DueInMemory() const;

  // Lead retention: deletes from the store released and closed leads that
  // ended before `before`, at most `limit` of them (the oldest), and drops
  // such leads from the working set. The change number to wait for, or
  // UNAVAILABLE once the log failed.
  absl::StatusOr<uint64_t> PruneEnded(absl::Time before, int limit);

  // The lead's assignment as it stands: from the working set, else from
  // the store. NOT_FOUND for a lead id never routed (or pruned by
  // --lead-retention); UNAVAILABLE when the store cannot be read.
  absl::StatusOr<Assignment> Get(const std::string& lead_id) const;
  // How many leads the working set holds now.
  size_t WorkingSetSize() const;
  // The clock it reads: the server's time for everything stateful.
  const Clock& clock() const { return *clock_; }
  // Every rep of `p`, in declaration order.
  std::vector<RepLoad> Loads(const Program& p) const;

  // The commit log every change goes through: wait there for a change
  // number to be durable, and subscribe to committed events. Its callbacks
  // must not call back into the Assigner. A change that depends on no lead
  // (a retention prune, a consumer's cursor) is appended to it directly
  // (CommitLog::AppendIfUsable).
  CommitLog& log() { return log_; }
  // What is committed, for reads from any thread beside the writer.
  StateReader& committed() const override { return *store_; }
  // Each commit's events (EventFeed), from the CommitLog.
  uint64_t Subscribe(CommitLog::EventSink sink) override {
    return log_.Subscribe(std::move(sink));
  }
  void Unsubscribe(uint64_t handle) override { log_.Unsubscribe(handle); }

  // Why a repeat lead went to the rep who had the person's last lead.
  using Stuck = runtime::Stuck;

 private:
  // `last`: the last change number the store holds.
  Assigner(std::unique_ptr<StateStore> store, const Clock* clock,
           AssignerOptions options, uint64_t last);
  // Rebuilds the working copy from what the store kept.
  void Restore(const StateSnapshot& snapshot);

  // Files what comes due up to `now` + options_.due_ahead, read from the
  // store, once the clock is within half of that of what memory holds.
  // Leads changed meanwhile are filed as they are armed; those changed
  // before, whose change is not committed yet (so the store cannot show
  // it), are filed from the working set.
  absl::Status ReadDue(absl::Time now);

  // mu_, held, for a change; UNAVAILABLE once the log failed.
  absl::StatusOr<std::unique_lock<std::mutex>> LockForChange() const;
  // Appends `change` and its `audit` in one commit (RecordRuleset,
  // RecordSchedule); the number to wait for.
  absl::StatusOr<uint64_t> AppendWithAudit(StateChange change,
                                           AuditRecord audit);
  // With mu_ held: appends `together` in one commit
  // (CommitLog::AppendTogether); the last one's number, to wait for.
  uint64_t AppendAll(std::vector<StateChange> together);

  // What the store has for a lead id and an email, read before mu_ is
  // taken so that routing never waits on the disk under the lock.
  // `committed` is how far the log had committed before the reads: a lead
  // evicted from the working set since with a later change (see Trim) may
  // have been missed, and is read again under the lock.
  struct Prefetched {
    uint64_t committed = 0;
    bool lead_read = false;          // whether `lead` was read (else: held)
    std::optional<Assignment> lead;  // by lead id
    bool email_read = false;
    std::optional<Assignment> by_email;  // the email's last routed lead
  };
  absl::StatusOr<Prefetched> Prefetch(const std::string& lead_id,
                                      const std::string& email_key) const;

  // All below run with mu_ held.
  // Lead `lead_id` in the working set, brought in from the store (or from
  // `fetched`, when still current) when it is not there; null when it was
  // never routed.
  absl::StatusOr<Assignment*> FindLocked(const std::string& lead_id,
                                         const Prefetched* fetched = nullptr);
  // Puts a lead read from the store into the working set.
  Assignment* Admit(Assignment a);
  // Evicts the leads changed longest ago, whose latest change is
  // committed, until the working set is within options_.lead_cache.
  void Trim();
  // Takes `a` out of the working set (its latest change is committed).
  void Evict(Assignment* a);
  // The last lead from `a`'s email before it, when a rep of `p` got it.
  absl::StatusOr<const Assignment*> LastLeadOf(const Program& p,
                                               const Assignment& a,
                                               const Prefetched& fetched);
  // ChooseOwner (owner_choice.h) on this Assigner's reps and teams.
  int FromCandidates(const Program& p, const Decision& d, Assignment& a,
                     const Assignment* prior, absl::Time now,
                     const Candidate** queue, std::vector<std::string>* skipped,
                     Stuck* stuck);
  // Lead `lead_id`, unless it was never routed (NOT_FOUND) or is released
  // or closed (FAILED_PRECONDITION).
  absl::StatusOr<Assignment*> Unended(const std::string& lead_id);
  absl::StatusOr<Changed> End(const std::string& lead_id, LeadStatus status,
                              const char* kind, const std::string& reason,
                              const Actor& by);
  // Moves `a` to `owner` (Reassign, and a removed rep's hand-over): a new
  // SLA clock unless contacted, escalation re-armed, a `reassigned` event.
  // Returns the change number.
  uint64_t MoveLocked(const Program& p, Assignment& a, const std::string& owner,
                      OwnerKind kind, const std::string& team,
                      const std::string& reason, absl::Time now,
                      const Actor& by);
  // End's change to `a`; returns the change number.
  uint64_t EndLocked(Assignment& a, LeadStatus status, const char* kind,
                     const std::string& reason, absl::Time now,
                     const Actor& by);
  // RecordContact and RecordOutcome.
  absl::StatusOr<Changed> Report(const std::string& lead_id, Outcome outcome,
                                 std::optional<absl::Time> at,
                                 const std::string& channel, const Actor& by);
  // Marks first contact; false when there already was one.
  bool Contacted(Assignment& a, absl::Time at, const std::string& channel,
                 std::vector<LeadEvent>* events);
  // Appends `a` then `events` (the log numbers them), each named `by` and
  // followed by its audit record when `by` is someone; returns the last
  // seq.
  uint64_t Record(Assignment& a, std::vector<LeadEvent> events,
                  const Actor& by = {});

  const std::unique_ptr<StateStore> store_;
  // Destroyed before the store: it commits what is queued, then stops.
  CommitLog log_;
  const Clock* const clock_;
  const AssignerOptions options_;

  // One Sweep at a time; taken before mu_.
  std::mutex sweep_mu_;
  mutable std::mutex mu_;
  RepPicker picker_{&log_};
  Escalator escalator_{&picker_};
  // The working set: leads changed or asked about lately, at most
  // options_.lead_cache of them once their changes are committed.
  // Node-based: pointers into it stay valid until Trim evicts the lead.
  absl::node_hash_map<std::string, Assignment> leads_;
  // The working set by each lead's latest change number: Trim evicts from
  // the front.
  absl::btree_map<uint64_t, Assignment*> by_seq_;
  // Email -> the lead id last routed with it, while that lead is in the
  // working set; otherwise the store knows (StateReader::LastByEmail).
  absl::flat_hash_map<std::string, std::string> by_email_;
  // The highest change number of a lead Trim evicted.
  uint64_t max_evicted_seq_ = 0;
  // Every lead id and email key the store holds or will hold once what is
  // appended commits, from when keys_known_ is set (ReadKeys).
  KeyFilter known_leads_;
  KeyFilter known_emails_;
  bool keys_known_ = false;
  // Whether `key` may be in the store, by `filter` (mu_ held).
  bool MayBeStored(const KeyFilter& filter, const std::string& key) const {
    return !keys_known_ || filter.MayContain(key);
  }
  // Reads the store's keys into the filters, again after a failure, until
  // done or stopping_ (the key_reader_ thread's body).
  void ReadKeys();
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread key_reader_;  // last: started once the rest is built
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_ASSIGNER_H_
