// The book of leads and their lifecycle; see assigner.h.
#include "runtime/assigner.h"

#include <algorithm>
#include <string_view>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/field_error.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "runtime/owner_choice.h"
#include "runtime/sla_clock.h"

namespace leadroute::runtime {
namespace {

// A rep's status for the audit trail: "available", "away until T".
std::string DescribeStatus(const std::optional<RepStatus>& status) {
  if (!status) return "available";
  std::string out = AvailabilityName(status->availability);
  if (status->until)
    absl::StrAppend(&out, " until ", Rfc3339Seconds(*status->until));
  return out;
}

// The string bound at `slot`, or "" for no slot or no value.
absl::string_view StringAt(const BoundLead& lead, int slot) {
  if (slot < 0 || static_cast<size_t>(slot) >= lead.values.size() ||
      !lead.values[slot]) {
    return "";
  }
  const std::string* s = std::get_if<std::string>(&*lead.values[slot]);
  return s == nullptr ? absl::string_view() : absl::string_view(*s);
}

// `d` as the lead's stored assignment `a` decided it: a retry's answer.
void Replay(const Assignment& a, Decision* d) {
  d->replayed = true;
  d->owner = a.owner;
  d->owner_kind = a.owner_kind;
  d->team = a.team;
  d->repeat_of = a.repeat_of;
  d->decision_id = a.decision_id;
  d->decided_at = a.decided_at;
  d->priority.reset();
  if (!a.priority.empty()) d->priority = Priority{a.priority, a.priority_rank};
  d->sla = a.sla;
  d->respond_by = a.respond_by;
  d->channel = a.channel;
  d->score = a.score;
  d->skipped.clear();
}

// The assignment `d` decides for `lead` (whose lower-cased email is
// `email_key`) at `now`, before an owner is picked. A reroute (`before`, the
// lead's assignment until now) is a new decision, but what the lead went
// through stays.
Assignment Decided(const Program& p, const BoundLead& lead,
                   std::string email_key, const AssignInput& input,
                   const Decision& d, const Assignment* before,
                   absl::Time now) {
  Assignment a;
  if (before != nullptr) {
    a.reached = before->reached;
    a.outcome = before->outcome;
    a.contact_channel = before->contact_channel;
    a.contacted_by = before->contacted_by;
    a.missed_by = before->missed_by;
    if (before->reached[static_cast<int>(Outcome::kContacted)]) {
      a.sla_status = before->sla_status;
      a.clock_status = before->clock_status;
    }
  }
  a.lead_id = d.lead_id;
  a.email_key = std::move(email_key);
  a.decision_id = input.decision_id;
  a.ruleset = input.ruleset;
  a.source = std::string(StringAt(lead, p.source_slot));
  for (const RuleRef& r : d.decided_by) {
    absl::StrAppend(&a.rules, a.rules.empty() ? "" : ";", r.stage, "/", r.rule);
  }
  if (d.priority) {
    a.priority = d.priority->label;
    a.priority_rank = d.priority->rank;
  }
  a.sla = d.sla;
  a.respond_by = d.respond_by;
  a.channel = d.channel;
  a.score = d.score;
  a.decided_at = now;
  a.routed_at = now;
  a.escalation = d.escalation;
  a.logged = input.logged;
  return a;
}

// `at`, or now when unset, unless it is more than a few minutes (clock
// skew) in the future or before `a` was routed.
absl::StatusOr<absl::Time> WhenReported(std::optional<absl::Time> at,
                                        absl::Time now, const Assignment& a) {
  constexpr absl::Duration kSkew = absl::Minutes(5);
  const absl::Time t = at.value_or(now);
  if (t > now + kSkew) {
    return InvalidFieldError(
        "at", absl::StrCat(Rfc3339Seconds(t), " is in the future"));
  }
  if (t < a.routed_at - kSkew) {
    return InvalidFieldError(
        "at",
        absl::StrCat(Rfc3339Seconds(t), " is before lead \"", a.lead_id,
                     "\" was routed (", Rfc3339Seconds(a.routed_at), ")"));
  }
  // Kept as reported up to kSkew ahead (the API allows it); raised to the
  // routing time when a little before it.
  return std::max(t, a.routed_at);
}

// Says in `d` (decided_by, the explanation) and in `a`'s rules that the
// lead stuck to the rep of the person's last lead, as `stuck` tells.
void SayStuck(const Assigner::Stuck& stuck, absl::Time now, Assignment* a,
              Decision* d) {
  const Assignment& prior = *stuck.prior;
  RuleRef ref{"sticky", stuck.said_by, stuck.location};
  absl::StrAppend(&a->rules, a->rules.empty() ? "" : ";", "sticky/",
                  stuck.said_by);
  auto after_assign = [](auto& list, auto stage_of) {
    auto at = list.begin();
    for (auto it = list.begin(); it != list.end(); ++it) {
      if (stage_of(*it) == "assign") at = std::next(it);
    }
    return at;
  };
  if (d->explanation) {
    std::vector<StageExplanation>& stages = d->explanation->stages;
    stages.insert(
        after_assign(stages, [](const StageExplanation& e) { return e.stage; }),
        StageExplanation{
            "sticky",
            ref,
            {absl::StrCat(
                "the same email as lead \"", prior.lead_id, "\", which ",
                prior.owner, " got ", ShortDuration(now - prior.decided_at),
                " ago: repeat leads stick for ", ShortDuration(stuck.window),
                stuck.location.empty()
                    ? absl::StrCat(" (serve --repeat-window; ", stuck.said_by,
                                   " says no sticky)")
                    : absl::StrCat(" (", stuck.location, ")"))}});
  }
  d->decided_by.insert(
      after_assign(d->decided_by, [](const RuleRef& r) { return r.stage; }),
      std::move(ref));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Assigner>> Assigner::Start(
    std::unique_ptr<StateStore> store, const Clock* clock,
    AssignerOptions options) {
  ASSIGN_OR_RETURN(const StateSnapshot snapshot,
                   store->Load(RepPicker::RecentSince(clock->Now())));
  std::unique_ptr<Assigner> a(
      new Assigner(std::move(store), clock, options, LastChange(snapshot)));
  a->Restore(snapshot);
  a->key_reader_ = std::thread([raw = a.get()] { raw->ReadKeys(); });
  return a;
}

void Assigner::ReadKeys() {
  // In chunks, each added under mu_ at once: routing waits on no read.
  constexpr size_t kChunk = 4096;
  std::vector<std::string> leads, emails;
  auto add = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::string& id : leads) known_leads_.Add(id);
    for (const std::string& e : emails) known_emails_.Add(e);
    leads.clear();
    emails.clear();
  };
  for (absl::Duration wait = absl::Milliseconds(100);;
       wait = std::min(2 * wait, absl::Seconds(5))) {
    const absl::Status read =
        store_->ScanLeadKeys([&](std::string_view id, std::string_view email) {
          if (stopping_) return false;
          leads.emplace_back(id);
          if (!email.empty()) emails.emplace_back(email);
          if (leads.size() == kChunk) add();
          return true;
        });
    if (stopping_) return;
    add();
    if (read.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      keys_known_ = true;
      return;
    }
    // What was added stays (a key too many only costs a read); the next
    // try adds them all again.
    LogError(
        "cannot read the store's lead ids; new leads are looked up "
        "until it can",
        {{"error", std::string(read.message())},
         {"retry_in", absl::FormatDuration(wait)}});
    std::unique_lock<std::mutex> lock(stop_mu_);
    if (stop_cv_.wait_for(lock, absl::ToChronoNanoseconds(wait),
                          [this] { return stopping_.load(); })) {
      return;
    }
  }
}

bool Assigner::KeysKnown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return keys_known_;
}

Assigner::Assigner(std::unique_ptr<StateStore> store, const Clock* clock,
                   AssignerOptions options, uint64_t last)
    : store_(std::move(store)),
      log_(store_.get(), last),
      clock_(clock),
      options_(options) {}

Assigner::~Assigner() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (key_reader_.joinable()) key_reader_.join();
}

void Assigner::Restore(const StateSnapshot& snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  picker_.Restore(snapshot);
}

absl::StatusOr<std::unique_lock<std::mutex>> Assigner::LockForChange() const {
  std::unique_lock<std::mutex> lock(mu_);
  RETURN_IF_ERROR(log_.Usable());
  return lock;
}

absl::StatusOr<Assigner::Prefetched> Assigner::Prefetch(
    const std::string& lead_id, const std::string& email_key) const {
  Prefetched out;
  bool need_lead = true, need_email = !email_key.empty();
  {
    // What the working set answers needs no read: a retry or a reroute of
    // a lead it holds, a repeat of a lead routed lately.
    std::lock_guard<std::mutex> lock(mu_);
    need_lead = !leads_.contains(lead_id) && MayBeStored(known_leads_, lead_id);
    need_email = need_email && !by_email_.contains(email_key) &&
                 MayBeStored(known_emails_, email_key);
  }
  if (!need_lead && !need_email) return out;
  out.committed = log_.Committed();
  if (need_lead) {
    ASSIGN_OR_RETURN(out.lead, store_->FindAssignment(lead_id));
    out.lead_read = true;
  }
  if (need_email) {
    ASSIGN_OR_RETURN(out.by_email, store_->LastByEmail(email_key));
    out.email_read = true;
  }
  return out;
}

absl::StatusOr<Assignment*> Assigner::FindLocked(const std::string& lead_id,
                                                 const Prefetched* fetched) {
  if (auto it = leads_.find(lead_id); it != leads_.end()) return &it->second;
  if (!MayBeStored(known_leads_, lead_id)) return nullptr;
  std::optional<Assignment> stored;
  if (fetched != nullptr && fetched->lead_read &&
      max_evicted_seq_ <= fetched->committed) {
    stored = fetched->lead;
  } else {
    ASSIGN_OR_RETURN(stored, store_->FindAssignment(lead_id));
  }
  if (!stored) return nullptr;
  return Admit(*std::move(stored));
}

Assignment* Assigner::Admit(Assignment a) {
  const std::string id = a.lead_id;
  auto [it, added] = leads_.try_emplace(id, std::move(a));
  if (added) by_seq_[it->second.seq] = &it->second;
  return &it->second;
}

void Assigner::Trim() {
  if (leads_.size() <= options_.lead_cache) return;
  const uint64_t committed = log_.Committed();
  while (leads_.size() > options_.lead_cache && !by_seq_.empty()) {
    auto oldest = by_seq_.begin();
    // A lead whose latest change is not durable stays: the store's copy is
    // behind it.
    if (oldest->first > committed) break;
    Evict(oldest->second);
  }
}

void Assigner::Evict(Assignment* a) {
  if (!a->email_key.empty()) {
    auto last = by_email_.find(a->email_key);
    if (last != by_email_.end() && last->second == a->lead_id) {
      by_email_.erase(last);
    }
  }
  max_evicted_seq_ = std::max(max_evicted_seq_, a->seq);
  by_seq_.erase(a->seq);
  leads_.erase(leads_.find(a->lead_id));
}

absl::StatusOr<uint64_t> Assigner::PruneEnded(absl::Time before, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(const uint64_t seq,
                   log_.AppendIfUsable(AssignmentPrune{before, limit}));
  // What the prune may delete leaves memory too (a lead it leaves in the
  // store is read back when asked about); a lead whose latest change is not
  // committed stays, as in Trim.
  const uint64_t committed = log_.Committed();
  std::vector<Assignment*> ended;
  for (auto& [id, a] : leads_) {
    if ((a.status == LeadStatus::kReleased ||
         a.status == LeadStatus::kClosed) &&
        a.ended_at && *a.ended_at < before && a.seq <= committed) {
      ended.push_back(&a);
    }
  }
  for (Assignment* a : ended) Evict(a);
  Trim();
  return seq;
}

absl::StatusOr<const Assignment*> Assigner::LastLeadOf(
    const Program& p, const Assignment& a, const Prefetched& fetched) {
  if (a.email_key.empty()) return nullptr;
  const Assignment* prior = nullptr;
  if (auto id = by_email_.find(a.email_key); id != by_email_.end()) {
    prior = &leads_.at(id->second);
  } else {
    // Not routed since it left the working set (or since the start): the
    // store has the email's last lead as it stands.
    if (!MayBeStored(known_emails_, a.email_key)) return nullptr;
    std::optional<Assignment> stored;
    if (fetched.email_read && max_evicted_seq_ <= fetched.committed) {
      stored = fetched.by_email;
    } else {
      ASSIGN_OR_RETURN(stored, store_->LastByEmail(a.email_key));
    }
    if (!stored) return nullptr;
    // The working set's copy, when it has one, is the newer.
    auto held = leads_.find(stored->lead_id);
    prior = held != leads_.end() ? &held->second : Admit(*std::move(stored));
    by_email_[a.email_key] = prior->lead_id;
  }
  if (prior->lead_id == a.lead_id || prior->owner_kind != OwnerKind::kRep ||
      !p.rep_index.contains(prior->owner)) {
    return nullptr;
  }
  return prior;
}

int Assigner::FromCandidates(const Program& p, const Decision& d, Assignment& a,
                             const Assignment* prior, absl::Time now,
                             const Candidate** queue,
                             std::vector<std::string>* skipped, Stuck* stuck) {
  return ChooseOwner(picker_, p, d, a, prior, now, options_.repeat_window,
                     queue, skipped, stuck);
}

absl::StatusOr<uint64_t> Assigner::Assign(const Program& p,
                                          const BoundLead& lead,
                                          const AssignInput& input,
                                          Decision* d) {
  const absl::Time now = clock_->Now();
  // Whether the lead id is known, and the email's last lead, as the store
  // has them, read before the lock.
  std::string email_key = absl::AsciiStrToLower(StringAt(lead, p.email_slot));
  ASSIGN_OR_RETURN(const Prefetched fetched, Prefetch(d->lead_id, email_key));
  ASSIGN_OR_RETURN(std::unique_lock<std::mutex> lock, LockForChange());
  absl::Cleanup trim = [this] { Trim(); };

  std::string previous_owner;
  ASSIGN_OR_RETURN(Assignment * before, FindLocked(d->lead_id, &fetched));
  if (before != nullptr) {
    if (!input.reroute) {
      Replay(*before, d);
      return before->seq;  // durable once the original is
    }
    picker_.Freed(*before);
    escalator_.Disarm(*before);
    previous_owner = before->owner;
  }

  Assignment a = Decided(p, lead, std::move(email_key), input, *d, before, now);
  ASSIGN_OR_RETURN(const Assignment* prior, LastLeadOf(p, a, fetched));
  std::vector<std::string>& skipped = d->skipped;
  skipped.clear();
  const Candidate* queue = nullptr;
  Stuck stuck;
  const int rep =
      FromCandidates(p, *d, a, prior, now, &queue, &skipped, &stuck);
  if (stuck.prior != nullptr) SayStuck(stuck, now, &a, d);
  TakeOwner(picker_, p, *d, rep, queue, now, &a, &skipped);
  if (a.sla && d->respond_by &&
      !a.reached[static_cast<int>(Outcome::kContacted)]) {
    a.sla_status = SlaStatus::kPending;
    // The clock starts when the lead was received; a business-hours one
    // counts only the owner's working time from then.
    escalator_.StartClock(p, a, *d->respond_by - *a.sla);
    d->respond_by = a.respond_by;
  }
  if (before != nullptr) by_seq_.erase(before->seq);
  if (before == nullptr) known_leads_.Add(a.lead_id);
  if (!a.email_key.empty()) known_emails_.Add(a.email_key);
  Assignment& stored = leads_[a.lead_id];
  stored = std::move(a);
  escalator_.Arm(p, stored);
  if (!stored.email_key.empty()) by_email_[stored.email_key] = stored.lead_id;
  const uint64_t seq = Record(
      stored, {EventOf(stored, now,
                       stored.status == LeadStatus::kUnassigned ? "unassigned"
                       : previous_owner.empty()                 ? "assigned"
                                                                : "rerouted",
                       previous_owner, absl::StrJoin(skipped, "; "))});

  d->owner = stored.owner;
  d->owner_kind = stored.owner_kind;
  d->team = stored.team;
  d->repeat_of = stored.repeat_of;
  d->decision_id = stored.decision_id;
  d->decided_at = now;
  return seq;
}

absl::StatusOr<Assignment*> Assigner::Unended(const std::string& lead_id) {
  ASSIGN_OR_RETURN(Assignment * found, FindLocked(lead_id));
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("lead_id: no lead \"", lead_id, "\" was routed"));
  }
  Assignment& a = *found;
  if (a.status == LeadStatus::kReleased || a.status == LeadStatus::kClosed) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lead_id: lead \"", lead_id, "\" is already ", LeadStatusName(a.status),
        "; route it again with reroute to reopen it"));
  }
  return &a;
}

absl::StatusOr<Assigner::Changed> Assigner::End(const std::string& lead_id,
                                                LeadStatus status,
                                                const char* kind,
                                                const std::string& reason,
                                                const Actor& by) {
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(std::unique_lock<std::mutex> lock, LockForChange());
  absl::Cleanup trim = [this] { Trim(); };
  ASSIGN_OR_RETURN(Assignment * found, Unended(lead_id));
  const uint64_t seq = EndLocked(*found, status, kind, reason, now, by);
  return Changed{*found, seq};
}

uint64_t Assigner::EndLocked(Assignment& a, LeadStatus status, const char* kind,
                             const std::string& reason, absl::Time now,
                             const Actor& by) {
  picker_.Freed(a);
  escalator_.Disarm(a);
  a.status = status;
  a.ended_at = now;
  LeadEvent e = EventOf(a, now, kind, a.owner, reason);
  e.to.clear();
  return Record(a, {std::move(e)}, by);
}

Assigner::HandOver Assigner::HandOverRemovedReps(const Program& next,
                                                 RemovedReps policy,
                                                 const std::string& reason,
                                                 const Actor& by) {
  HandOver out;
  const absl::Time now = clock_->Now();
  absl::StatusOr<std::unique_lock<std::mutex>> lock = LockForChange();
  if (!lock.ok()) return out;
  absl::Cleanup trim = [this] { Trim(); };
  // The removed reps' open leads: those the store has, as the working set
  // has them when it holds them, and those only the working set has yet. A
  // reload is rare; the reads go through the store's index of reps' open
  // leads.
  auto orphan = [&](const Assignment& a) {
    return a.status == LeadStatus::kOpen && a.owner_kind == OwnerKind::kRep &&
           !next.rep_index.contains(a.owner);
  };
  // The store cannot be read: nothing is handed over, and the leads stay
  // with the removed rep (as `keep` would) until the next reload.
  auto unread = [&](const std::string& rep, const absl::Status& why) {
    LogError("reload: cannot read a removed rep's open leads; none handed over",
             {{"rep", rep}, {"error", std::string(why.message())}});
    return out;
  };
  absl::flat_hash_set<Assignment*> found;
  for (const std::string& rep : picker_.RepsWithOpenLeads()) {
    if (next.rep_index.contains(rep)) continue;
    std::string after;
    while (true) {
      absl::StatusOr<std::vector<Assignment>> page =
          store_->OpenLeadsOfRep(rep, after, 1000);
      if (!page.ok()) return unread(rep, page.status());
      for (const Assignment& stored : *page) {
        absl::StatusOr<Assignment*> a = FindLocked(stored.lead_id);
        if (!a.ok()) return unread(rep, a.status());
        if (*a != nullptr && orphan(**a)) found.insert(*a);
      }
      if (page->size() < 1000) break;
      after = page->back().lead_id;
    }
  }
  for (auto& [id, a] : leads_) {
    if (orphan(a)) found.insert(&a);
  }
  std::vector<Assignment*> orphaned(found.begin(), found.end());
  std::sort(
      orphaned.begin(), orphaned.end(),
      [](const Assignment* x, const Assignment* y) { return x->seq < y->seq; });
  absl::flat_hash_map<std::string, size_t> row;  // rep -> index in out.reps
  for (Assignment* a : orphaned) {
    auto [it, added] = row.try_emplace(a->owner, out.reps.size());
    if (added) out.reps.push_back({a->owner});
    RemovedRep& r = out.reps[it->second];
    ++r.open;
    if (policy == RemovedReps::kKeep) continue;
    if (policy == RemovedReps::kReassign) {
      auto team = next.team_index.find(a->team);
      std::vector<std::string> skipped;
      const int rep =
          team == next.team_index.end()
              ? -1
              : picker_.PickFromTeam(next, team->second, {}, now, &skipped);
      if (rep >= 0) {
        out.seq = MoveLocked(next, *a, next.reps[rep].id, OwnerKind::kRep,
                             a->team, reason, now, by);
        ++r.reassigned;
        continue;
      }
    }
    out.seq = EndLocked(*a, LeadStatus::kReleased, "released",
                        policy == RemovedReps::kRelease
                            ? reason
                            : absl::StrCat(reason, "; nobody in its team (",
                                           a->team.empty() ? "none" : a->team,
                                           ") can take it now"),
                        now, by);
    ++r.released;
  }
  return out;
}

int64_t Assigner::OpenLeadsOf(const std::string& rep) const {
  std::lock_guard<std::mutex> lock(mu_);
  return picker_.OpenOf(rep);
}

absl::StatusOr<Assigner::Changed> Assigner::Release(const std::string& lead_id,
                                                    const std::string& reason,
                                                    const Actor& by) {
  return End(lead_id, LeadStatus::kReleased, "released", reason, by);
}

absl::StatusOr<Assigner::Changed> Assigner::Close(const std::string& lead_id,
                                                  const std::string& reason,
                                                  const Actor& by) {
  return End(lead_id, LeadStatus::kClosed, "closed", reason, by);
}

absl::StatusOr<Assigner::Changed> Assigner::Reassign(const Program& p,
                                                     const std::string& lead_id,
                                                     const Candidate& target,
                                                     const std::string& reason,
                                                     const Actor& by) {
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(std::unique_lock<std::mutex> lock, LockForChange());
  absl::Cleanup trim = [this] { Trim(); };
  ASSIGN_OR_RETURN(Assignment * found, Unended(lead_id));
  Assignment& a = *found;
  std::string owner, team;
  OwnerKind kind = target.kind;
  switch (target.kind) {
    case OwnerKind::kRep:
      if (target.index < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "to.rep: \"", target.name, "\" is not a rep of the live ruleset"));
      }
      owner = target.name;
      break;
    case OwnerKind::kTeam: {
      if (target.index < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("to.team: \"", target.name,
                         "\" is not a team of the live ruleset"));
      }
      std::vector<std::string> skipped;
      const int rep = picker_.PickFromTeam(p, target.index, {}, now, &skipped);
      if (rep < 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("to.team: nobody in team ", target.name,
                         " can take a lead now (", skipped.front(), ", ...)"));
      }
      owner = p.reps[rep].id;
      team = target.name;
      kind = OwnerKind::kRep;
      break;
    }
    case OwnerKind::kQueue:
      owner = target.name;
      break;
    case OwnerKind::kNone:
      return absl::InvalidArgumentError("to: name a rep, a team or a queue");
  }
  const uint64_t seq = MoveLocked(p, a, owner, kind, team, reason, now, by);
  return Changed{a, seq};
}

uint64_t Assigner::MoveLocked(const Program& p, Assignment& a,
                              const std::string& owner, OwnerKind kind,
                              const std::string& team,
                              const std::string& reason, absl::Time now,
                              const Actor& by) {
  const std::string from = picker_.MoveTo(a, owner, kind, team, now);
  // The new owner gets the whole SLA on their own clock, as after an
  // escalation's move, even when an earlier owner missed it: the lead's
  // status stays missed, but the new owner has a deadline to act on.
  if (a.sla && !a.reached[static_cast<int>(Outcome::kContacted)]) {
    escalator_.StartClock(p, a, now);
  }
  escalator_.Arm(p, a);
  return Record(a, {EventOf(a, now, "reassigned", from, reason)}, by);
}

absl::StatusOr<uint64_t> Assigner::SetRepStatus(const RepStatus& status,
                                                const Actor& by) {
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(std::unique_lock<std::mutex> lock, LockForChange());
  const std::optional<RepStatus> before = picker_.StatusOf(status.rep);
  // The status and its audit line in one commit: a crash between two
  // would keep the change without the record of who made it.
  std::vector<StateChange> together{picker_.SetStatus(status, now)};
  if (!by.empty()) {
    together.push_back(AuditRecord{.at = now,
                                   .principal = by.principal,
                                   .peer = by.peer,
                                   .action = "rep.status",
                                   .target = status.rep,
                                   .before = DescribeStatus(before),
                                   .after = DescribeStatus(status),
                                   .reason = status.note});
  }
  return AppendAll(std::move(together));
}

absl::StatusOr<uint64_t> Assigner::RecordAudit(AuditRecord record) {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.AppendIfUsable(std::move(record));
}

absl::StatusOr<uint64_t> Assigner::RecordRuleset(RulesetLive ruleset,
                                                 AuditRecord audit) {
  return AppendWithAudit(std::move(ruleset), std::move(audit));
}

absl::StatusOr<uint64_t> Assigner::RecordSchedule(RulesetSchedule schedule,
                                                  AuditRecord audit) {
  return AppendWithAudit(std::move(schedule), std::move(audit));
}

absl::StatusOr<uint64_t> Assigner::AppendWithAudit(StateChange change,
                                                   AuditRecord audit) {
  ASSIGN_OR_RETURN(std::unique_lock<std::mutex> lock, LockForChange());
  std::vector<StateChange> together;
  together.reserve(2);
  together.emplace_back(std::move(change));
  together.emplace_back(std::move(audit));
  return AppendAll(std::move(together));
}

uint64_t Assigner::AppendAll(std::vector<StateChange> together) {
  const uint64_t last = together.size() - 1;
  return log_.AppendTogether(std::move(together)) + last;
}

uint64_t Assigner::Record(Assignment& a, std::vector<LeadEvent> events,
                          const Actor& by) {
  by_seq_.erase(a.seq);
  // One commit holds the assignment, the rotation that chose its owner, its
  // events and their audit: a crash never stores one without the others.
  std::vector<StateChange> together;
  together.reserve(2 + 2 * events.size());
  together.emplace_back(a);
  for (TeamCursor& moved : picker_.TakeMoved()) {
    together.emplace_back(std::move(moved));
  }
  for (LeadEvent& e : events) {
    if (by.empty()) {
      together.emplace_back(std::move(e));
      continue;
    }
    e.actor = by.principal;
    AuditRecord audit{.at = e.at,
                      .principal = by.principal,
                      .peer = by.peer,
                      .action = absl::StrCat("lead.", e.kind),
                      .target = e.lead_id,
                      .before = e.from,
                      .after = e.kind == "reassigned" ? e.to : e.kind,
                      .reason = e.reason};
    together.emplace_back(std::move(e));
    together.emplace_back(std::move(audit));
  }
  const size_t count = together.size();
  a.seq = log_.AppendTogether(std::move(together));
  by_seq_[a.seq] = &a;
  return a.seq + count - 1;  // the last one's: durable once all are
}

int Assigner::Sweep(const Program& p, absl::Time now) {
  std::lock_guard<std::mutex> sweeping(sweep_mu_);
  // A failed read is tried again at the next sweep; what memory holds is
  // swept meanwhile.
  ReadDue(now).IgnoreError();
  absl::StatusOr<std::unique_lock<std::mutex>> lock = LockForChange();
  if (!lock.ok()) return 0;
  int changed = 0;
  absl::Cleanup trim = [this] { Trim(); };
  for (const DueLead& due : escalator_.TakeDue(now)) {
    absl::StatusOr<Assignment*> found = FindLocked(due.second);
    if (!found.ok()) {
      // The store cannot be read: try again at the next sweep.
      escalator_.Refile(due);
      continue;
    }
    // A lead re-armed since it was filed (or since the store was read) is
    // filed again by its new time.
    if (*found == nullptr || (*found)->next_due != due.first) continue;
    Assignment& a = **found;
    a.next_due.reset();
    std::vector<LeadEvent> events;
    escalator_.Escalate(p, a, now, &events);
    escalator_.Arm(p, a);
    Record(a, std::move(events));
    ++changed;
  }
  return changed;
}

absl::Status Assigner::ReadDue(absl::Time now) {
  const DueLead to{now + options_.due_ahead, ""};
  DueLead from;
  {
    std::lock_guard<std::mutex> lock(mu_);
    from = escalator_.through();
    if (from.first > now + options_.due_ahead / 2) return absl::OkStatus();
    // From here on Arm files whatever it arms up to `to`. Leads armed
    // before whose change is not committed, the read below cannot see:
    // file them now. Whatever was committed before, it sees.
    escalator_.ExtendTo(to);
    for (auto it = by_seq_.upper_bound(log_.Committed()); it != by_seq_.end();
         ++it) {
      const Assignment& a = *it->second;
      if (a.next_due) escalator_.File({*a.next_due, a.lead_id});
    }
  }
  absl::StatusOr<std::vector<DueLead>> read =
      store_->DueAfter(from, to.first, options_.due_batch);
  std::lock_guard<std::mutex> lock(mu_);
  if (!read.ok()) {
    // Nothing after `from` is known to be filed: read it again next time.
    escalator_.ExtendTo(from);
    return read.status();
  }
  // A lead changed since the read may be filed by its old time too: Sweep
  // passes over it then.
  for (const DueLead& due : *read) escalator_.File(due);
  // A full batch: what comes after it is read at the next sweep.
  if (static_cast<int>(read->size()) == options_.due_batch) {
    escalator_.ExtendTo(read->back());
  }
  return absl::OkStatus();
}

std::optional<absl::Time> Assigner::NextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<absl::Time> next = escalator_.NextDue();
  const absl::Time read = escalator_.through().first - options_.due_ahead / 2;
  if (!next || read < *next) next = read;
  return next;
}

size_t Assigner::DueInMemory() const {
  std::lock_guard<std::mutex> lock(mu_);
  return escalator_.filed();
}

bool Assigner::Contacted(Assignment& a, absl::Time at,
                         const std::string& channel,
                         std::vector<LeadEvent>* events) {
  auto& contacted = a.reached[static_cast<int>(Outcome::kContacted)];
  if (contacted) return false;
  contacted = at;
  a.contact_channel = channel;
  a.contacted_by = a.owner;
  if (a.outcome < Outcome::kContacted) a.outcome = Outcome::kContacted;
  // The contacting owner's own clock, then the lead's: a lead whose first
  // owner missed stays missed, and its new owner is credited with meeting
  // (or missing) their own deadline.
  if (a.clock_status == SlaStatus::kPending) {
    a.clock_status = a.respond_by && at <= *a.respond_by ? SlaStatus::kMet
                                                         : SlaStatus::kMissed;
    if (a.clock_status == SlaStatus::kMissed &&
        a.owner_kind == OwnerKind::kRep) {
      a.missed_by.push_back(a.owner);
    }
  }
  if (a.sla_status == SlaStatus::kPending) a.sla_status = a.clock_status;
  escalator_.Disarm(a);
  events->push_back(EventOf(
      a, at, "contacted", "",
      absl::StrCat("first contact",
                   channel.empty() ? "" : absl::StrCat(" by ", channel),
                   " after ", ShortDuration(at - a.routed_at),
                   a.sla_status == SlaStatus::kNone
                       ? ""
                       : absl::StrCat("; SLA ", SlaStatusName(a.sla_status)))));
  return true;
}

absl::StatusOr<Assigner::Changed> Assigner::RecordContact(
    const std::string& lead_id, const std::string& channel,
    std::optional<absl::Time> at, const Actor& by) {
  return Report(lead_id, Outcome::kContacted, at, channel, by);
}

absl::StatusOr<Assigner::Changed> Assigner::RecordOutcome(
    const std::string& lead_id, Outcome outcome, std::optional<absl::Time> at,
    const Actor& by) {
  return Report(lead_id, outcome, at, "", by);
}

absl::StatusOr<Assigner::Changed> Assigner::Report(const std::string& lead_id,
                                                   Outcome outcome,
                                                   std::optional<absl::Time> at,
                                                   const std::string& channel,
                                                   const Actor& by) {
  if (outcome == Outcome::kNone) {
    return InvalidFieldError(
        "outcome", "required: contacted, qualified, opportunity, won or lost");
  }
  const absl::Time now = clock_->Now();
  ASSIGN_OR_RETURN(std::unique_lock<std::mutex> lock, LockForChange());
  absl::Cleanup trim = [this] { Trim(); };
  ASSIGN_OR_RETURN(Assignment * found, FindLocked(lead_id));
  if (found == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("lead_id: no lead \"", lead_id, "\" was routed"));
  }
  Assignment& a = *found;
  // Recorded before: a retry, answered as the lead stands.
  if (a.reached[static_cast<int>(outcome)]) return Changed{a, a.seq};
  if (a.outcome == Outcome::kWon || a.outcome == Outcome::kLost) {
    return absl::FailedPreconditionError(
        absl::StrCat("lead_id: lead \"", lead_id, "\" is already ",
                     OutcomeName(a.outcome), "; its outcome is final"));
  }
  if (outcome == Outcome::kContacted &&
      (a.status == LeadStatus::kReleased || a.status == LeadStatus::kClosed)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "lead_id: lead \"", lead_id, "\" was ", LeadStatusName(a.status),
        " before any contact; route it again with reroute to reopen it"));
  }
  absl::StatusOr<absl::Time> when = WhenReported(at, now, a);
  if (!when.ok()) return when.status();
  std::vector<LeadEvent> events;
  Contacted(a, *when, channel, &events);
  if (outcome != Outcome::kContacted) {
    a.reached[static_cast<int>(outcome)] = *when;
    if (a.outcome < outcome) a.outcome = outcome;
    if ((outcome == Outcome::kWon || outcome == Outcome::kLost) &&
        (a.status == LeadStatus::kOpen ||
         a.status == LeadStatus::kUnassigned)) {
      picker_.Freed(a);
      a.status = LeadStatus::kClosed;
      a.ended_at = now;
    }
    events.push_back(EventOf(a, *when, OutcomeName(outcome), "", ""));
  }
  const uint64_t seq = Record(a, std::move(events), by);
  return Changed{a, seq};
}

absl::StatusOr<Assignment> Assigner::Get(const std::string& lead_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = leads_.find(lead_id);
    if (it != leads_.end()) return it->second;
  }
  // Not in the working set: what the store has is the lead as it stands
  // (or as it stood when a change made meanwhile was not committed yet).
  // Read without the lock, and not added to the working set.
  ASSIGN_OR_RETURN(std::optional<Assignment> stored,
                   store_->FindAssignment(lead_id));
  if (!stored) {
    return absl::NotFoundError(
        absl::StrCat("lead_id: no lead \"", lead_id, "\" was routed"));
  }
  return *std::move(stored);
}

size_t Assigner::WorkingSetSize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leads_.size();
}

std::vector<RepLoad> Assigner::Loads(const Program& p) const {
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RepLoad> out;
  out.reserve(p.reps.size());
  for (size_t i = 0; i < p.reps.size(); ++i) {
    out.push_back(picker_.Load(p, static_cast<int>(i), now));
  }
  return out;
}

}  // namespace leadroute::runtime
