// Rep selection; see rep_picker.h.
#include "runtime/rep_picker.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "runtime/clock.h"

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

// Whether a status set through SetStatus still keeps the rep away.
bool StillAway(const RepStatus& s, absl::Time now) {
  if (s.availability == Availability::kAvailable) return false;
  return !s.until || now < *s.until;
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

}  // namespace

absl::Time RepPicker::RecentSince(absl::Time now) {
  return now - kRecentWindow;
}

void RepPicker::Restore(const StateSnapshot& snapshot) {
  for (const RepHistory& h : snapshot.rep_history) {
    RepState& r = reps_[h.rep];
    r.open = h.open;
    r.recent = h.recent;
    std::sort(r.recent.begin(), r.recent.end());
    r.last_turn = h.last_turn;
  }
  for (const RepStatus& s : snapshot.reps) reps_[s.rep].status = s;
  for (const TeamCursor& t : snapshot.teams) teams_[t.team] = t;
}

std::vector<std::string> RepPicker::RepsWithOpenLeads() const {
  std::vector<std::string> out;
  for (const auto& [rep, state] : reps_) {
    if (state.open > 0) out.push_back(rep);
  }
  return out;
}

const RepPicker::RepState& RepPicker::StateOf(const std::string& id) const {
  static const RepState kFresh;
  auto found = reps_.find(id);
  return found == reps_.end() ? kFresh : found->second;
}

std::string RepPicker::Unavailable(const Program& p, int index,
                                   absl::Time now) const {
  if (index < 0) return "not a rep of the live ruleset";
  const Rep& rep = p.reps[index];
  const RepState* state = &StateOf(rep.id);
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

std::string RepPicker::CannotTake(const Program& p, int index,
                                  const std::vector<MemberCheck>& where,
                                  absl::Time now) const {
  std::string why = Ineligible(p.reps[index], where);
  return why.empty() ? Unavailable(p, index, now) : why;
}

int RepPicker::PickFromTeam(const Program& p, int index,
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
  if (log_ != nullptr) moved_.push_back(cursor);
  return team.members[chosen];
}

void RepPicker::Took(const std::string& rep, absl::Time now) {
  RepState& r = reps_[rep];
  ++r.open;
  // The assignment's own change number, next; a simulation counts turns.
  r.last_turn = log_ != nullptr ? log_->Next() : ++turns_;
  const absl::Time since = now - kRecentWindow;
  auto old = std::lower_bound(r.recent.begin(), r.recent.end(), since);
  r.recent.erase(r.recent.begin(), old);
  r.recent.insert(std::upper_bound(r.recent.begin(), r.recent.end(), now), now);
}

void RepPicker::Freed(const Assignment& a) {
  if (a.status != LeadStatus::kOpen || a.owner_kind != OwnerKind::kRep) return;
  auto it = reps_.find(a.owner);
  if (it != reps_.end() && it->second.open > 0) --it->second.open;
}

std::string RepPicker::MoveTo(Assignment& a, const std::string& owner,
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

RepStatus RepPicker::SetStatus(RepStatus status, absl::Time now) {
  status.set_at = now;
  reps_[status.rep].status = status;
  return status;
}

RepLoad RepPicker::Load(const Program& p, int index, absl::Time now) const {
  const Rep& rep = p.reps[index];
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
  load.reason = Unavailable(p, index, now);
  load.can_take = load.reason.empty();
  return load;
}

std::vector<RepLoad> LoadsOf(const StateSnapshot& snapshot, const Program& p,
                             absl::Time now) {
  // Only read: nothing is appended to a log.
  RepPicker picker(nullptr);
  picker.Restore(snapshot);
  std::vector<RepLoad> out;
  out.reserve(p.reps.size());
  for (size_t i = 0; i < p.reps.size(); ++i) {
    out.push_back(picker.Load(p, static_cast<int>(i), now));
  }
  return out;
}

std::vector<TeamCursor> RepPicker::TakeMoved() {
  std::vector<TeamCursor> out;
  out.swap(moved_);
  return out;
}

void RepPicker::SetOpen(const std::string& rep, int64_t open) {
  reps_[rep].open = open;
}

void RepPicker::SetLastOf(const std::string& team, const std::string& rep) {
  TeamCursor& cursor = teams_[team];
  cursor.team = team;
  cursor.last_rep = rep;
}

}  // namespace leadroute::runtime
