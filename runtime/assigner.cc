// Rep selection and its state; see assigner.h.
#include "runtime/assigner.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "base/field_error.h"
#include "runtime/conditions.h"
#include "runtime/sla_clock.h"

namespace leadroute::runtime {
namespace {

// How long assignment times are kept per rep: a week's cap needs 7 days.
constexpr absl::Duration kRecentWindow = absl::Hours(24 * 8);

constexpr const char* kDayNames[] = {"Mon", "Tue", "Wed", "Thu",
                                     "Fri", "Sat", "Sun"};

// Monday = 0 ... Sunday = 6: absl::Weekday's own order.
int DayIndex(absl::CivilDay day) {
  return static_cast<int>(absl::GetWeekday(day));
}

// Assignments of `times` (ascending) at or after `from`.
int64_t CountSince(const std::vector<absl::Time>& times, absl::Time from) {
  return times.end() - std::lower_bound(times.begin(), times.end(), from);
}

// Whether a status set through SetRepStatus still keeps the rep away.
bool StillAway(const RepStatus& s, absl::Time now) {
  if (s.availability == Availability::kAvailable) return false;
  return !s.until || now < *s.until;
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

// Why `rep` may not take the lead under a team's `where` tests; empty when
// they pass them all.
std::string Ineligible(const Rep& rep, const std::vector<MemberCheck>& where) {
  for (const MemberCheck& m : where) {
    bool pass = false;
    if (m.property == MemberProperty::kSeniority) {
      // A rep with no seniority passes no test of it.
      pass = rep.seniority >= 0 && Compare(Value(int64_t{rep.seniority}), m.op,
                                           Value(int64_t{m.level}));
    } else if (m.value) {
      const std::vector<std::string>& list =
          m.property == MemberProperty::kSkills ? rep.skills : rep.languages;
      pass = std::any_of(list.begin(), list.end(), [&](const std::string& x) {
        return absl::EqualsIgnoreCase(x, *m.value);
      });
    }
    if (!pass) {
      return absl::StrCat("not eligible (where ", m.text,
                          m.property != MemberProperty::kSeniority && !m.value
                              ? ": the lead has no value for it"
                              : "",
                          ")");
    }
  }
  return "";
}

// "15m", "1h30m", "2d": an SLA as the rules write it.
std::string ShortDuration(absl::Duration d) {
  std::string out;
  const int64_t minutes = absl::ToInt64Minutes(d);
  const int64_t days = minutes / (24 * 60), hours = minutes / 60 % 24,
                mins = minutes % 60;
  if (days > 0) absl::StrAppend(&out, days, "d");
  if (hours > 0) absl::StrAppend(&out, hours, "h");
  if (mins > 0 || out.empty()) absl::StrAppend(&out, mins, "m");
  return out;
}

}  // namespace

const char* LeadStatusName(LeadStatus s) {
  static constexpr const char* kNames[] = {"open", "released", "closed",
                                           "unassigned"};
  return kNames[static_cast<int>(s)];
}

const char* SlaStatusName(SlaStatus s) {
  static constexpr const char* kNames[] = {"none", "pending", "met", "missed"};
  return kNames[static_cast<int>(s)];
}

const char* OutcomeName(Outcome o) {
  static constexpr const char* kNames[] = {
      "none", "contacted", "qualified", "opportunity", "won", "lost"};
  return kNames[static_cast<int>(o)];
}

const char* AvailabilityName(Availability a) {
  static constexpr const char* kNames[] = {"available", "away",
                                           "out_of_office"};
  return kNames[static_cast<int>(a)];
}

LeadEvent EventOf(const Assignment& a, absl::Time at, std::string kind,
                  std::string from, std::string reason) {
  LeadEvent e;
  e.lead_id = a.lead_id;
  e.at = at;
  e.kind = std::move(kind);
  e.from = std::move(from);
  e.to = a.owner;
  e.reason = std::move(reason);
  e.owner_kind = a.owner_kind;
  e.team = a.team;
  e.channel = a.channel;
  e.priority = a.priority;
  e.sla = a.sla;
  e.respond_by = a.respond_by;
  return e;
}

absl::StatusOr<std::unique_ptr<Assigner>> Assigner::Start(
    std::unique_ptr<StateStore> store, const Clock* clock,
    AssignerOptions options) {
  absl::StatusOr<StateSnapshot> snapshot = store->Load();
  if (!snapshot.ok()) return snapshot.status();
  std::unique_ptr<Assigner> a(new Assigner(std::move(store), clock, options));
  const uint64_t last = a->Restore(*snapshot);
  a->log_ = std::make_unique<CommitLog>(a->store_.get(), last);
  return a;
}

Assigner::Assigner(std::unique_ptr<StateStore> store, const Clock* clock,
                   AssignerOptions options)
    : store_(std::move(store)), clock_(clock), options_(options) {}

Assigner::~Assigner() = default;

uint64_t Assigner::Restore(const StateSnapshot& snapshot) {
  uint64_t last = 0;
  const absl::Time since = clock_->Now() - kRecentWindow;
  for (const Assignment& a : snapshot.assignments) {
    last = std::max(last, a.seq);
    if (a.owner_kind == OwnerKind::kRep) {
      RepState& r = reps_[a.owner];
      if (a.status == LeadStatus::kOpen) ++r.open;
      if (a.decided_at >= since) r.recent.push_back(a.decided_at);
      r.last_turn = std::max(r.last_turn, a.seq);
    }
    if (!a.email_key.empty()) by_email_[a.email_key] = a.lead_id;
    if (a.next_due) due_.emplace(*a.next_due, a.lead_id);
    leads_[a.lead_id] = a;
  }
  last = std::max(last, snapshot.last_event_id);
  for (auto& [rep, state] : reps_) {
    std::sort(state.recent.begin(), state.recent.end());
  }
  for (const RepStatus& s : snapshot.reps) reps_[s.rep].status = s;
  for (const TeamCursor& t : snapshot.teams) teams_[t.team] = t;
  for (const Cursor& c : snapshot.cursors) cursors_[c.name] = c.value;
  return last;
}

std::string Assigner::Unavailable(const Program& p, int index,
                                  absl::Time now) const {
  if (index < 0) return "not a rep of the live ruleset";
  const Rep& rep = p.reps[index];
  static const RepState kFresh;
  auto found = reps_.find(rep.id);
  const RepState* state = found == reps_.end() ? &kFresh : &found->second;
  if (state->status && StillAway(*state->status, now)) {
    const RepStatus& s = *state->status;
    return absl::StrCat(
        s.availability == Availability::kAway ? "away" : "out of office",
        s.until ? absl::StrCat(" until ", Rfc3339Seconds(*s.until)) : "");
  }
  const absl::CivilMinute local = absl::ToCivilMinute(now, rep.timezone);
  const absl::CivilDay day(local);
  for (const auto& [first, last] : rep.holidays) {
    if (first <= day && day <= last) {
      return absl::StrCat("on holiday (", absl::FormatCivilTime(day), ")");
    }
  }
  if (!rep.hours.empty()) {
    const int minute =
        DayIndex(day) * 24 * 60 + local.hour() * 60 + local.minute();
    bool working = false;
    for (const auto& [from, to] : rep.hours) {
      if (from <= minute && minute < to) working = true;
    }
    if (!working) {
      return absl::StrCat("outside working hours (", kDayNames[DayIndex(day)],
                          " ", absl::FormatTime("%H:%M", now, rep.timezone),
                          " ", rep.timezone.name(), ")");
    }
  }
  if (rep.capacity != kNoCap && state->open >= rep.capacity) {
    return absl::StrCat("at capacity (", state->open, " open of ", rep.capacity,
                        ")");
  }
  if (rep.daily_cap != kNoCap) {
    const int64_t today =
        CountSince(state->recent, absl::FromCivil(day, rep.timezone));
    if (today >= rep.daily_cap) {
      return absl::StrCat("daily cap reached (", today, " of ", rep.daily_cap,
                          " today)");
    }
  }
  if (rep.weekly_cap != kNoCap) {
    const absl::CivilDay monday = day - DayIndex(day);
    const int64_t week =
        CountSince(state->recent, absl::FromCivil(monday, rep.timezone));
    if (week >= rep.weekly_cap) {
      return absl::StrCat("weekly cap reached (", week, " of ", rep.weekly_cap,
                          " this week)");
    }
  }
  return "";
}

int Assigner::PickFromTeam(const Program& p, int index,
                           const std::vector<MemberCheck>& where,
                           absl::Time now, std::vector<std::string>* skipped,
                           const std::vector<std::string>& exclude) {
  const Team& team = p.teams[index];
  std::vector<int> able;  // positions in team.members, in member order
  for (size_t i = 0; i < team.members.size(); ++i) {
    const std::string& id = p.reps[team.members[i]].id;
    std::string why =
        std::find(exclude.begin(), exclude.end(), id) != exclude.end()
            ? "had it already"
            : Ineligible(p.reps[team.members[i]], where);
    if (why.empty()) why = Unavailable(p, team.members[i], now);
    if (why.empty()) {
      able.push_back(static_cast<int>(i));
    } else {
      skipped->push_back(absl::StrCat("team ", team.name, ": ",
                                      p.reps[team.members[i]].id, " ", why));
    }
  }
  if (able.empty()) return -1;
  TeamCursor& cursor = teams_[team.name];
  cursor.team = team.name;
  auto rep_of = [&](int position) -> const std::string& {
    return p.reps[team.members[position]].id;
  };
  int chosen = able.front();
  switch (team.strategy) {
    case Strategy::kRoundRobin: {
      const int n = static_cast<int>(team.members.size());
      int last = -1;
      for (int i = 0; i < n; ++i) {
        if (rep_of(i) == cursor.last_rep) last = i;
      }
      // The first able member after the last one served, going round.
      int best_distance = n + 1;
      for (int position : able) {
        const int distance = ((position - last - 1) % n + n) % n;
        if (distance < best_distance) {
          best_distance = distance;
          chosen = position;
        }
      }
      cursor.last_rep = rep_of(chosen);
      break;
    }
    case Strategy::kWeighted: {
      auto running = [&](const std::string& rep) -> int64_t& {
        for (auto& [name, w] : cursor.running) {
          if (name == rep) return w;
        }
        return cursor.running.emplace_back(rep, 0).second;
      };
      int64_t total = 0;
      int64_t best = 0;
      for (int position : able) {
        const Rep& rep = p.reps[team.members[position]];
        int64_t& w = running(rep.id);
        w += rep.weight;
        total += rep.weight;
        if (position == able.front() || w > best) {
          best = w;
          chosen = position;
        }
      }
      running(rep_of(chosen)) -= total;
      cursor.last_rep = rep_of(chosen);
      break;
    }
    case Strategy::kLeastLoaded: {
      auto key = [&](int position) {
        auto it = reps_.find(rep_of(position));
        return it == reps_.end()
                   ? std::make_pair(int64_t{0}, uint64_t{0})
                   : std::make_pair(it->second.open, it->second.last_turn);
      };
      for (int position : able) {
        if (key(position) < key(chosen)) chosen = position;
      }
      cursor.last_rep = rep_of(chosen);
      break;
    }
  }
  log_->Append(cursor);
  return team.members[chosen];
}

void Assigner::Took(const std::string& rep, absl::Time now) {
  RepState& r = reps_[rep];
  ++r.open;
  r.last_turn = log_->Next();  // the assignment's own change number, next
  const absl::Time since = now - kRecentWindow;
  auto old = std::lower_bound(r.recent.begin(), r.recent.end(), since);
  r.recent.erase(r.recent.begin(), old);
  r.recent.insert(std::upper_bound(r.recent.begin(), r.recent.end(), now), now);
}

void Assigner::Freed(const Assignment& a) {
  if (a.status != LeadStatus::kOpen || a.owner_kind != OwnerKind::kRep) return;
  auto it = reps_.find(a.owner);
  if (it != reps_.end() && it->second.open > 0) --it->second.open;
}

absl::StatusOr<uint64_t> Assigner::Assign(const Program& p,
                                          const BoundLead& lead,
                                          const AssignInput& input,
                                          Decision* d) {
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = log_->Usable(); !s.ok()) return s;

  std::string previous_owner;
  Assignment* before = nullptr;  // the lead's assignment, when rerouted
  if (auto known = leads_.find(d->lead_id); known != leads_.end()) {
    const Assignment& a = known->second;
    if (!input.reroute) {
      d->replayed = true;
      d->owner = a.owner;
      d->owner_kind = a.owner_kind;
      d->team = a.team;
      d->repeat_of = a.repeat_of;
      d->decision_id = a.decision_id;
      d->decided_at = a.decided_at;
      d->priority.reset();
      if (!a.priority.empty())
        d->priority = Priority{a.priority, a.priority_rank};
      d->sla = a.sla;
      d->respond_by = a.respond_by;
      d->channel = a.channel;
      d->score = a.score;
      d->skipped.clear();
      return a.seq;  // durable once the original is
    }
    Freed(a);
    previous_owner = a.owner;
    before = &known->second;
  }

  Assignment a;
  if (before != nullptr) {
    // A reroute is a new decision, but what the lead went through stays.
    Disarm(*before);
    a.reached = before->reached;
    a.outcome = before->outcome;
    a.contact_channel = before->contact_channel;
    a.contacted_by = before->contacted_by;
    if (before->reached[static_cast<int>(Outcome::kContacted)]) {
      a.sla_status = before->sla_status;
    }
  }
  a.lead_id = d->lead_id;
  a.email_key = absl::AsciiStrToLower(StringAt(lead, p.email_slot));
  a.decision_id = input.decision_id;
  a.ruleset = input.ruleset;
  a.source = std::string(StringAt(lead, p.source_slot));
  for (const RuleRef& r : d->decided_by) {
    absl::StrAppend(&a.rules, a.rules.empty() ? "" : ";", r.stage, "/", r.rule);
  }
  if (d->priority) {
    a.priority = d->priority->label;
    a.priority_rank = d->priority->rank;
  }
  a.sla = d->sla;
  a.respond_by = d->respond_by;
  a.channel = d->channel;
  a.score = d->score;
  a.decided_at = now;

  std::vector<std::string>& skipped = d->skipped;
  skipped.clear();
  int rep = -1;
  const Candidate* taken = nullptr;
  // A repeat from the same person goes to the rep who has their last lead.
  if (!a.email_key.empty() && options_.repeat_window > absl::ZeroDuration()) {
    auto prior_id = by_email_.find(a.email_key);
    if (prior_id != by_email_.end() && prior_id->second != a.lead_id) {
      const Assignment& prior = leads_.at(prior_id->second);
      auto index = p.rep_index.find(prior.owner);
      if (prior.owner_kind == OwnerKind::kRep &&
          now - prior.decided_at <= options_.repeat_window &&
          index != p.rep_index.end()) {
        std::string why = Unavailable(p, index->second, now);
        if (why.empty()) {
          rep = index->second;
          a.team = prior.team;
          a.repeat_of = prior.lead_id;
        } else {
          skipped.push_back(absl::StrCat("repeat of ", prior.lead_id, ": ",
                                         prior.owner, " ", why));
        }
      }
    }
  }
  if (rep < 0) {
    for (const Candidate& c : d->candidates) {
      if (c.kind == OwnerKind::kQueue) {
        taken = &c;
        break;
      }
      if (c.kind == OwnerKind::kRep) {
        std::string why = Unavailable(p, c.index, now);
        if (why.empty()) {
          rep = c.index;
          break;
        }
        skipped.push_back(absl::StrCat("rep ", c.name, ": ", why));
        continue;
      }
      if (c.kind == OwnerKind::kTeam) {
        if (c.index < 0) {
          skipped.push_back(absl::StrCat("team ", c.name,
                                         ": not a team of the live ruleset"));
          continue;
        }
        rep = PickFromTeam(p, c.index, c.where, now, &skipped);
        if (rep >= 0) {
          a.team = c.name;
          break;
        }
      }
    }
  }
  if (rep >= 0) {
    a.owner = p.reps[rep].id;
    a.owner_kind = OwnerKind::kRep;
    Took(a.owner, now);
  } else if (taken != nullptr) {
    a.owner = taken->name;
    a.owner_kind = OwnerKind::kQueue;
  } else {
    a.status = LeadStatus::kUnassigned;
    if (d->candidates.empty()) skipped.push_back("no assign rule matched");
  }
  a.routed_at = now;
  a.escalation = d->escalation;
  if (a.sla && d->respond_by &&
      !a.reached[static_cast<int>(Outcome::kContacted)]) {
    a.sla_status = SlaStatus::kPending;
    // The clock starts when the lead was received; a business-hours one
    // counts only the owner's working time from then.
    StartClock(p, a, *d->respond_by - *a.sla);
    d->respond_by = a.respond_by;
  }
  Assignment& stored = leads_[a.lead_id];
  stored = std::move(a);
  Arm(p, stored);
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
  auto it = leads_.find(lead_id);
  if (it == leads_.end()) {
    return absl::NotFoundError(
        absl::StrCat("lead_id: no lead \"", lead_id, "\" was routed"));
  }
  Assignment& a = it->second;
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
                                                const std::string& reason) {
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = log_->Usable(); !s.ok()) return s;
  absl::StatusOr<Assignment*> found = Unended(lead_id);
  if (!found.ok()) return found.status();
  Assignment& a = **found;
  Freed(a);
  Disarm(a);
  a.status = status;
  a.ended_at = now;
  LeadEvent e = EventOf(a, now, kind, a.owner, reason);
  e.to.clear();
  const uint64_t seq = Record(a, {std::move(e)});
  return Changed{a, seq};
}

absl::StatusOr<Assigner::Changed> Assigner::Release(const std::string& lead_id,
                                                    const std::string& reason) {
  return End(lead_id, LeadStatus::kReleased, "released", reason);
}

absl::StatusOr<Assigner::Changed> Assigner::Close(const std::string& lead_id,
                                                  const std::string& reason) {
  return End(lead_id, LeadStatus::kClosed, "closed", reason);
}

absl::StatusOr<Assigner::Changed> Assigner::Reassign(
    const Program& p, const std::string& lead_id, const Candidate& target,
    const std::string& reason) {
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = log_->Usable(); !s.ok()) return s;
  absl::StatusOr<Assignment*> found = Unended(lead_id);
  if (!found.ok()) return found.status();
  Assignment& a = **found;
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
      const int rep = PickFromTeam(p, target.index, {}, now, &skipped);
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
  const std::string from = MoveTo(a, owner, kind, team, now);
  // The new owner gets the whole SLA on their own clock, as after an
  // escalation's move, even when an earlier owner missed it: the lead's
  // status stays missed, but the new owner has a deadline to act on.
  if (a.sla && !a.reached[static_cast<int>(Outcome::kContacted)]) {
    StartClock(p, a, now);
  }
  Arm(p, a);
  const uint64_t seq = Record(a, {EventOf(a, now, "reassigned", from, reason)});
  return Changed{a, seq};
}

absl::StatusOr<uint64_t> Assigner::SetRepStatus(const RepStatus& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = log_->Usable(); !s.ok()) return s;
  RepStatus s = status;
  s.set_at = clock_->Now();
  reps_[s.rep].status = s;
  return log_->Append(s);
}

uint64_t Assigner::Record(Assignment& a, std::vector<LeadEvent> events) {
  a.seq = log_->Append(a);
  uint64_t seq = a.seq;
  for (LeadEvent& e : events) seq = log_->Append(std::move(e));
  return seq;
}

namespace {

// Team `name`'s index in `p`, or -1.
int TeamIndex(const Program& p, const std::string& name) {
  auto it = p.team_index.find(name);
  return it == p.team_index.end() ? -1 : it->second;
}

// The escalation policy `a` runs under, if the rules still have it.
const Escalation* PolicyOf(const Program& p, const Assignment& a) {
  if (a.escalation.empty()) return nullptr;
  auto it = p.escalation_index.find(a.escalation);
  return it == p.escalation_index.end() ? nullptr : &p.escalations[it->second];
}

}  // namespace

absl::Time Assigner::ClockAt(const Program& p, const Assignment& a,
                             const Escalation* e, int percent) const {
  const absl::Time start = a.clock_start.value_or(a.decided_at);
  const absl::Duration work = *a.sla * percent / 100;
  if (e != nullptr && e->business_hours && a.owner_kind == OwnerKind::kRep) {
    if (auto it = p.rep_index.find(a.owner); it != p.rep_index.end()) {
      return WorkingDeadline(p.reps[it->second], start, work);
    }
  }
  return start + work;
}

void Assigner::StartClock(const Program& p, Assignment& a, absl::Time start) {
  a.clock_start = start;
  a.escalation_step = 0;
  a.respond_by = ClockAt(p, a, PolicyOf(p, a), 100);
}

void Assigner::Disarm(Assignment& a) {
  if (a.next_due) due_.erase({*a.next_due, a.lead_id});
  a.next_due.reset();
}

void Assigner::Arm(const Program& p, Assignment& a) {
  Disarm(a);
  if (a.status == LeadStatus::kReleased || a.status == LeadStatus::kClosed ||
      a.reached[static_cast<int>(Outcome::kContacted)] || !a.sla) {
    return;
  }
  std::optional<absl::Time> due;
  if (a.sla_status == SlaStatus::kPending) due = a.respond_by;
  const Escalation* e = PolicyOf(p, a);
  if (e != nullptr && a.escalation_step < static_cast<int>(e->steps.size())) {
    const absl::Time step =
        ClockAt(p, a, e, e->steps[a.escalation_step].percent);
    if (!due || step < *due) due = step;
  }
  a.next_due = due;
  if (due) due_.emplace(*due, a.lead_id);
}

Assigner::Place Assigner::FindPlace(const Program& p, const Assignment& a,
                                    const EscalationStep& step, absl::Time now,
                                    std::vector<std::string>* skipped) {
  std::vector<std::string> exclude = a.had_by;
  if (a.owner_kind == OwnerKind::kRep) exclude.push_back(a.owner);
  for (const EscalationTarget& t : step.to) {
    int team = -1, rep = -1;
    switch (t.kind) {
      case EscalationTarget::Kind::kQueue:
        return {-1, -1, &t.name};
      case EscalationTarget::Kind::kNextRep:
      case EscalationTarget::Kind::kTeam:
        team = t.kind == EscalationTarget::Kind::kTeam ? t.index
                                                       : TeamIndex(p, a.team);
        if (team < 0) {
          skipped->push_back("next_rep: the lead has no team");
          continue;
        }
        rep = PickFromTeam(p, team, {}, now, skipped, exclude);
        if (rep >= 0) return {rep, team, nullptr};
        continue;
      case EscalationTarget::Kind::kManager:
      case EscalationTarget::Kind::kRep: {
        rep = t.index;
        if (t.kind == EscalationTarget::Kind::kManager) {
          team = TeamIndex(p, a.team);
          rep = team < 0 ? -1 : p.teams[team].manager;
          if (rep < 0) {
            skipped->push_back("manager: the lead's team has none");
            continue;
          }
        }
        const std::string& id = p.reps[rep].id;
        const std::string no =
            std::find(exclude.begin(), exclude.end(), id) != exclude.end()
                ? "had it already"
                : Unavailable(p, rep, now);
        if (no.empty()) return {rep, -1, nullptr};
        skipped->push_back(absl::StrCat("rep ", id, ": ", no));
        continue;
      }
    }
  }
  return {};
}

std::string Assigner::MoveTo(Assignment& a, const std::string& owner,
                             OwnerKind kind, const std::string& team,
                             absl::Time now) {
  std::string from = a.owner;
  if (a.owner_kind == OwnerKind::kRep &&
      std::find(a.had_by.begin(), a.had_by.end(), from) == a.had_by.end()) {
    a.had_by.push_back(from);
  }
  Freed(a);
  a.owner = owner;
  a.owner_kind = kind;
  a.team = team;
  a.status = LeadStatus::kOpen;
  a.decided_at = now;
  if (kind == OwnerKind::kRep) Took(owner, now);
  return from;
}

void Assigner::Escalate(const Program& p, Assignment& a, absl::Time now,
                        std::vector<LeadEvent>* events) {
  // The deadline's breach, in its place among the steps: after those
  // before 100%, before those from 100% on.
  auto breach = [&] {
    if (a.sla_status != SlaStatus::kPending || !a.respond_by ||
        *a.respond_by > now) {
      return;
    }
    a.sla_status = SlaStatus::kMissed;
    events->push_back(EventOf(
        a, now, "sla_missed", "",
        absl::StrCat("no first contact within the ", ShortDuration(*a.sla),
                     " SLA (respond by ", Rfc3339Seconds(*a.respond_by), ")")));
  };
  const Escalation* e = PolicyOf(p, a);
  if (e == nullptr || !a.sla) return breach();
  while (a.escalation_step < static_cast<int>(e->steps.size())) {
    const EscalationStep& step = e->steps[a.escalation_step];
    if (step.percent >= 100) breach();
    if (ClockAt(p, a, e, step.percent) > now) return breach();
    ++a.escalation_step;
    const std::string why =
        absl::StrCat(e->name, ": ", step.text, " (no first contact after ",
                     step.percent, "% of the ", ShortDuration(*a.sla), " SLA)");
    if (step.action == EscalationStep::Action::kNotify) {
      LeadEvent warning = EventOf(a, now, "sla_warning", "", why);
      if (step.notify_manager) {
        const int team = TeamIndex(p, a.team);
        if (team >= 0 && p.teams[team].manager >= 0) {
          warning.to = p.reps[p.teams[team].manager].id;
        } else {
          absl::StrAppend(&warning.reason, "; the lead's team has no manager");
        }
      }
      events->push_back(std::move(warning));
      continue;
    }
    if (a.hops >= e->max_hops) {
      events->push_back(EventOf(
          a, now, "escalation_failed", "",
          absl::StrCat(why, "; not moved: at most ", e->max_hops, " hops")));
      continue;
    }
    std::vector<std::string> skipped;
    const Place place = FindPlace(p, a, step, now, &skipped);
    if (place.rep < 0 && place.queue == nullptr) {
      events->push_back(EventOf(a, now, "escalation_failed", "",
                                absl::StrCat(why, "; nobody could take it: ",
                                             absl::StrJoin(skipped, "; "))));
      continue;
    }
    const std::string from =
        place.rep >= 0
            ? MoveTo(a, p.reps[place.rep].id, OwnerKind::kRep,
                     place.team >= 0 ? p.teams[place.team].name : "", now)
            : MoveTo(a, *place.queue, OwnerKind::kQueue, "", now);
    ++a.hops;
    // The new owner gets the whole SLA on their own clock; the steps start
    // over for them.
    StartClock(p, a, now);
    events->push_back(
        EventOf(a, now, "escalated", from,
                skipped.empty() ? why
                                : absl::StrCat(why, "; passed over: ",
                                               absl::StrJoin(skipped, "; "))));
    return;
  }
  breach();
}

int Assigner::Sweep(const Program& p, absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!log_->Usable().ok()) return 0;
  // What is due now; a lead re-armed for `now` or earlier waits for the
  // next sweep rather than loop here.
  std::vector<std::pair<absl::Time, std::string>> due;
  for (auto it = due_.begin(); it != due_.end() && it->first <= now;) {
    due.push_back(*it);
    it = due_.erase(it);
  }
  int changed = 0;
  for (const auto& [when, id] : due) {
    auto it = leads_.find(id);
    if (it == leads_.end() || it->second.next_due != when) continue;
    Assignment& a = it->second;
    a.next_due.reset();
    std::vector<LeadEvent> events;
    Escalate(p, a, now, &events);
    Arm(p, a);
    Record(a, std::move(events));
    ++changed;
  }
  return changed;
}

std::optional<absl::Time> Assigner::NextDue() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
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
  if (a.sla_status == SlaStatus::kPending) {
    a.sla_status = a.respond_by && at <= *a.respond_by ? SlaStatus::kMet
                                                       : SlaStatus::kMissed;
  }
  Disarm(a);
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

namespace {

// `at`, or now when unset, unless it is in the future or before `a` was
// routed (a few minutes of clock skew are forgiven).
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
  return std::clamp(t, a.routed_at, now);
}

}  // namespace

absl::StatusOr<Assigner::Changed> Assigner::RecordContact(
    const std::string& lead_id, const std::string& channel,
    std::optional<absl::Time> at) {
  return Report(lead_id, Outcome::kContacted, at, channel);
}

absl::StatusOr<Assigner::Changed> Assigner::RecordOutcome(
    const std::string& lead_id, Outcome outcome, std::optional<absl::Time> at) {
  return Report(lead_id, outcome, at, "");
}

absl::StatusOr<Assigner::Changed> Assigner::Report(const std::string& lead_id,
                                                   Outcome outcome,
                                                   std::optional<absl::Time> at,
                                                   const std::string& channel) {
  if (outcome == Outcome::kNone) {
    return InvalidFieldError(
        "outcome", "required: contacted, qualified, opportunity, won or lost");
  }
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = log_->Usable(); !s.ok()) return s;
  auto it = leads_.find(lead_id);
  if (it == leads_.end()) {
    return absl::NotFoundError(
        absl::StrCat("lead_id: no lead \"", lead_id, "\" was routed"));
  }
  Assignment& a = it->second;
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
      Freed(a);
      a.status = LeadStatus::kClosed;
      a.ended_at = now;
    }
    events.push_back(EventOf(a, *when, OutcomeName(outcome), "", ""));
  }
  const uint64_t seq = Record(a, std::move(events));
  return Changed{a, seq};
}

absl::StatusOr<std::vector<LeadEvent>> Assigner::EventsAfter(uint64_t after,
                                                             int limit) const {
  return store_->EventsAfter(after, limit);
}

absl::StatusOr<uint64_t> Assigner::PruneEvents(absl::Time before, int limit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = log_->Usable(); !s.ok()) return s;
  return log_->Append(EventPrune{before, limit});
}

absl::StatusOr<uint64_t> Assigner::PrunedThrough() const {
  return store_->PrunedThrough();
}

std::optional<uint64_t> Assigner::CursorValue(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cursors_.find(name);
  if (it == cursors_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<uint64_t> Assigner::SaveCursor(const std::string& name,
                                              uint64_t value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = log_->Usable(); !s.ok()) return s;
  cursors_[name] = value;
  return log_->Append(Cursor{name, value});
}

absl::StatusOr<KpiReport> Assigner::Stats(KpiDimension by, absl::Time from,
                                          absl::Time to) const {
  KpiBuilder builder(by, from, to);
  absl::Status s = store_->ScanAssignments(
      from, to, [&](const Assignment& a) { builder.Add(a); });
  if (!s.ok()) return s;
  return builder.Finish();
}

std::optional<Assignment> Assigner::Get(const std::string& lead_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = leads_.find(lead_id);
  if (it == leads_.end()) return std::nullopt;
  return it->second;
}

std::vector<RepLoad> Assigner::Loads(const Program& p) const {
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RepLoad> out;
  for (size_t i = 0; i < p.reps.size(); ++i) {
    const Rep& rep = p.reps[i];
    RepLoad load;
    load.rep = rep.id;
    load.status.rep = rep.id;
    if (auto it = reps_.find(rep.id); it != reps_.end()) {
      const RepState& r = it->second;
      load.open = r.open;
      const absl::CivilDay day(absl::ToCivilDay(now, rep.timezone));
      load.today = CountSince(r.recent, absl::FromCivil(day, rep.timezone));
      load.this_week = CountSince(
          r.recent, absl::FromCivil(day - DayIndex(day), rep.timezone));
      if (r.status) load.status = *r.status;
    }
    load.reason = Unavailable(p, static_cast<int>(i), now);
    load.can_take = load.reason.empty();
    out.push_back(std::move(load));
  }
  return out;
}

}  // namespace leadroute::runtime
