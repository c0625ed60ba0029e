// SLA clocks and escalation; see escalator.h.
#include "runtime/escalator.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/clock.h"
#include "runtime/sla_clock.h"

namespace leadroute::runtime {
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

absl::Time Escalator::ClockAt(const Program& p, const Assignment& a,
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

void Escalator::StartClock(const Program& p, Assignment& a, absl::Time start) {
  a.clock_start = start;
  a.clock_status = SlaStatus::kPending;
  a.escalation_step = 0;
  a.respond_by = ClockAt(p, a, PolicyOf(p, a), 100);
}

void Escalator::Disarm(Assignment& a) {
  if (a.next_due) due_.erase({*a.next_due, a.lead_id});
  a.next_due.reset();
}

void Escalator::Arm(const Program& p, Assignment& a) {
  Disarm(a);
  if (a.status == LeadStatus::kReleased || a.status == LeadStatus::kClosed ||
      a.reached[static_cast<int>(Outcome::kContacted)] || !a.sla) {
    return;
  }
  std::optional<absl::Time> due;
  if (a.clock_status == SlaStatus::kPending) due = a.respond_by;
  const Escalation* e = PolicyOf(p, a);
  if (e != nullptr && a.escalation_step < static_cast<int>(e->steps.size())) {
    const absl::Time step =
        ClockAt(p, a, e, e->steps[a.escalation_step].percent);
    if (!due || step < *due) due = step;
  }
  // At the store's precision, microseconds: a lead the store gives back
  // (Assigner::ReadDue) is matched with the one in memory by this time,
  // and a nanosecond more in memory would never match it again.
  if (due) due = absl::FromUnixMicros(absl::ToUnixMicros(*due));
  a.next_due = due;
  if (due) File({*due, a.lead_id});
}

Escalator::Place Escalator::FindPlace(const Program& p, const Assignment& a,
                                      const EscalationStep& step,
                                      absl::Time now,
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
        rep = picker_->PickFromTeam(p, team, {}, now, skipped, exclude);
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
                : picker_->Unavailable(p, rep, now);
        if (no.empty()) return {rep, -1, nullptr};
        skipped->push_back(absl::StrCat("rep ", id, ": ", no));
        continue;
      }
    }
  }
  return {};
}

void Escalator::Escalate(const Program& p, Assignment& a, absl::Time now,
                         std::vector<LeadEvent>* events) {
  // The owner's deadline's breach, in its place among the steps: after
  // those before 100%, before those from 100% on. It counts against the
  // owner who held the lead; the lead's own status is missed from the first.
  auto breach = [&] {
    if (a.clock_status != SlaStatus::kPending || !a.respond_by ||
        *a.respond_by > now) {
      return;
    }
    a.clock_status = SlaStatus::kMissed;
    if (a.owner_kind == OwnerKind::kRep) a.missed_by.push_back(a.owner);
    if (a.sla_status == SlaStatus::kPending) a.sla_status = SlaStatus::kMissed;
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
            ? picker_->MoveTo(a, p.reps[place.rep].id, OwnerKind::kRep,
                              place.team >= 0 ? p.teams[place.team].name : "",
                              now)
            : picker_->MoveTo(a, *place.queue, OwnerKind::kQueue, "", now);
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

std::vector<DueLead> Escalator::TakeDue(absl::Time now) {
  std::vector<DueLead> due;
  for (auto it = due_.begin(); it != due_.end() && it->first <= now;) {
    due.push_back(*it);
    it = due_.erase(it);
  }
  return due;
}

std::optional<absl::Time> Escalator::NextDue() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

}  // namespace leadroute::runtime
