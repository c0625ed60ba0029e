// Choosing a lead's owner among its candidates; see owner_choice.h.
#include "runtime/owner_choice.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

namespace leadroute::runtime {
namespace {

// The assign rule that decided `d`, if it came from a Program.
const RuleRef* AssignRule(const Decision& d) {
  for (const RuleRef& r : d.decided_by) {
    if (r.stage_id == static_cast<int>(StageId::kAssign) && r.index >= 0) {
      return &r;
    }
  }
  return nullptr;
}

}  // namespace

int ChooseOwner(RepPicker& picker, const Program& p, const Decision& d,
                Assignment& a, const Assignment* prior, absl::Time now,
                absl::Duration repeat_window, const Candidate** queue,
                std::vector<std::string>* skipped, Stuck* stuck) {
  // A repeat lead sticks to the rep who had the person's last one, if the
  // rules say so for where it is tried and that rep can take it.
  const RuleRef* ref = AssignRule(d);
  const Sticky* rule = nullptr;
  if (ref != nullptr && p.stages[ref->stage_id][ref->index].sticky) {
    rule = &*p.stages[ref->stage_id][ref->index].sticky;
  }
  const int prior_rep = prior ? p.rep_index.at(prior->owner) : -1;
  auto sticks = [&](absl::Duration window) {
    return prior != nullptr && window > absl::ZeroDuration() &&
           now - prior->decided_at <= window;
  };
  // `said_by` the rule or a team, `location` where (empty: the default).
  auto stick = [&](const std::string& team, std::string said_by,
                   std::string location, absl::Duration window) {
    a.team = team;
    a.repeat_of = prior->lead_id;
    *stuck = Stuck{prior, std::move(said_by), std::move(location), window};
    return prior_rep;
  };
  a.choice = -1;
  if (rule && rule->anywhere && sticks(rule->window)) {
    const std::string why = picker.Unavailable(p, prior_rep, now);
    if (why.empty()) {
      a.choice = 0;
      return stick(prior->team, ref->rule, rule->location, rule->window);
    }
    skipped->push_back(absl::StrCat("sticky: ", prior->owner, " (lead ",
                                    prior->lead_id, ") ", why));
  }
  // With fallbacks (`team a else team b else queue q`), each reason says
  // which choice it belongs to: "choice 2 of 3: team b: bo away".
  // (A queue always takes the lead: `rep a else queue q` has one choice
  // that can be passed over, and needs no numbers.)
  const size_t choices = d.candidates.size();
  const bool numbered = std::count_if(d.candidates.begin(), d.candidates.end(),
                                      [](const Candidate& c) {
                                        return c.kind != OwnerKind::kQueue;
                                      }) > 1;
  std::vector<size_t> starts;  // where each choice's reasons start
  absl::Cleanup label = [&] {
    if (!numbered) return;
    for (size_t j = 0; j < starts.size(); ++j) {
      const size_t end =
          j + 1 < starts.size() ? starts[j + 1] : skipped->size();
      for (size_t k = starts[j]; k < end; ++k) {
        (*skipped)[k] = absl::StrCat("choice ", j + 1, " of ", choices, ": ",
                                     (*skipped)[k]);
      }
    }
  };
  for (size_t i = 0; i < choices; ++i) {
    starts.push_back(skipped->size());
    const Candidate& c = d.candidates[i];
    const int choice = static_cast<int>(i);
    switch (c.kind) {
      case OwnerKind::kQueue:
        *queue = &c;
        a.choice = choice;
        return -1;
      case OwnerKind::kRep:
        if (std::string why = picker.Unavailable(p, c.index, now);
            !why.empty()) {
          skipped->push_back(absl::StrCat("rep ", c.name, ": ", why));
          continue;
        }
        a.choice = choice;
        return c.index;
      case OwnerKind::kTeam: {
        if (c.index < 0) {
          skipped->push_back(absl::StrCat("team ", c.name,
                                          ": not a team of the live ruleset"));
          continue;
        }
        const Team& team = p.teams[c.index];
        const Sticky* by = rule ? rule : team.sticky ? &*team.sticky : nullptr;
        const absl::Duration window = by ? by->window : repeat_window;
        if (sticks(window) &&
            std::find(team.members.begin(), team.members.end(), prior_rep) !=
                team.members.end()) {
          const std::string why = picker.CannotTake(p, prior_rep, c.where, now);
          if (why.empty()) {
            a.choice = choice;
            return stick(c.name,
                         rule ? ref->rule : absl::StrCat("team ", c.name),
                         by ? by->location : "", window);
          }
          skipped->push_back(absl::StrCat("team ", c.name, ": sticky to ",
                                          prior->owner, " (lead ",
                                          prior->lead_id, ") ", why));
        }
        const int rep = picker.PickFromTeam(p, c.index, c.where, now, skipped);
        if (rep >= 0) {
          a.team = c.name;
          a.choice = choice;
          return rep;
        }
        continue;
      }
      case OwnerKind::kNone:
        continue;
    }
  }
  return -1;
}

void TakeOwner(RepPicker& picker, const Program& p, const Decision& d, int rep,
               const Candidate* queue, absl::Time now, Assignment* a,
               std::vector<std::string>* skipped) {
  if (rep >= 0) {
    a->owner = p.reps[rep].id;
    a->owner_kind = OwnerKind::kRep;
    picker.Took(a->owner, now);
  } else if (queue != nullptr) {
    a->owner = queue->name;
    a->owner_kind = OwnerKind::kQueue;
  } else {
    a->status = LeadStatus::kUnassigned;
    if (d.candidates.empty()) skipped->push_back("no assign rule matched");
  }
}

}  // namespace leadroute::runtime
