// Rep selection and its state; see assigner.h.
#include "runtime/assigner.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "runtime/conditions.h"

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

// Drops the changes a later one in the same batch overwrites: a busy team's
// rotation moves once per lead, but only where it ends up needs writing.
// Assignments and events are kept (an assignment replaced within one batch
// is rare; events are history).
void DropSuperseded(std::vector<StateChange>* batch) {
  absl::flat_hash_set<absl::string_view> teams, reps;
  std::vector<bool> superseded(batch->size());
  for (size_t i = batch->size(); i-- > 0;) {
    const StateChange& c = (*batch)[i];
    if (const auto* t = std::get_if<TeamCursor>(&c)) {
      superseded[i] = !teams.insert(t->team).second;
    } else if (const auto* r = std::get_if<RepStatus>(&c)) {
      superseded[i] = !reps.insert(r->rep).second;
    }
  }
  size_t kept = 0;
  for (size_t i = 0; i < batch->size(); ++i) {
    if (superseded[i]) continue;
    if (kept != i) (*batch)[kept] = std::move((*batch)[i]);
    ++kept;
  }
  batch->resize(kept);
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

const char* LeadStatusName(LeadStatus s) {
  static constexpr const char* kNames[] = {"open", "released", "closed",
                                           "unassigned"};
  return kNames[static_cast<int>(s)];
}

const char* AvailabilityName(Availability a) {
  static constexpr const char* kNames[] = {"available", "away",
                                           "out_of_office"};
  return kNames[static_cast<int>(a)];
}

absl::StatusOr<std::unique_ptr<Assigner>> Assigner::Start(
    std::unique_ptr<StateStore> store, const Clock* clock,
    AssignerOptions options) {
  absl::StatusOr<StateSnapshot> snapshot = store->Load();
  if (!snapshot.ok()) return snapshot.status();
  std::unique_ptr<Assigner> a(new Assigner(std::move(store), clock, options));
  a->Restore(*snapshot);
  a->writer_ = std::thread([p = a.get()] { p->WriterLoop(); });
  return a;
}

Assigner::Assigner(std::unique_ptr<StateStore> store, const Clock* clock,
                   AssignerOptions options)
    : store_(std::move(store)), clock_(clock), options_(options) {}

Assigner::~Assigner() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  writer_.join();
}

void Assigner::Restore(const StateSnapshot& snapshot) {
  const absl::Time since = clock_->Now() - kRecentWindow;
  for (const Assignment& a : snapshot.assignments) {
    seq_ = std::max(seq_, a.seq);
    if (a.owner_kind == OwnerKind::kRep) {
      RepState& r = reps_[a.owner];
      if (a.status == LeadStatus::kOpen) ++r.open;
      if (a.decided_at >= since) r.recent.push_back(a.decided_at);
      r.last_turn = std::max(r.last_turn, a.seq);
    }
    if (!a.email_key.empty()) by_email_[a.email_key] = a.lead_id;
    leads_[a.lead_id] = a;
  }
  for (auto& [rep, state] : reps_) {
    std::sort(state.recent.begin(), state.recent.end());
  }
  for (const RepStatus& s : snapshot.reps) reps_[s.rep].status = s;
  for (const TeamCursor& t : snapshot.teams) teams_[t.team] = t;
  committed_ = seq_;
}

void Assigner::WriterLoop() {
  std::vector<StateChange> batch;
  for (;;) {
    uint64_t last = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping, and everything committed
      batch.swap(pending_);
      last = seq_;
    }
    DropSuperseded(&batch);
    absl::Status status = store_->Apply(batch);
    batch.clear();
    std::vector<std::function<void(absl::Status)>> ready;
    {
      std::lock_guard<std::mutex> lock(done_mu_);
      if (status.ok()) {
        committed_ = last;
      } else if (failed_.ok()) {
        failed_ = absl::UnavailableError(absl::StrCat(
            "the state store failed; no further assignments until the "
            "server is restarted: ",
            status.message()));
      }
      auto end =
          failed_.ok() ? waiters_.upper_bound(committed_) : waiters_.end();
      for (auto it = waiters_.begin(); it != end; ++it) {
        ready.push_back(std::move(it->second));
      }
      waiters_.erase(waiters_.begin(), end);
      status = failed_;
    }
    for (auto& done : ready) done(status);
  }
}

void Assigner::WhenDurable(uint64_t seq,
                           std::function<void(absl::Status)> done) {
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    if (failed_.ok() && seq > committed_) {
      waiters_.emplace(seq, std::move(done));
      return;
    }
    status = failed_;
  }
  done(status);
}

absl::Status Assigner::WaitDurable(uint64_t seq) {
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;
  absl::Status result;
  WhenDurable(seq, [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(m);
    result = std::move(s);
    finished = true;
    cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(m);
  cv.wait(lock, [&] { return finished; });
  return result;
}

absl::Status Assigner::Usable() const {
  std::lock_guard<std::mutex> lock(done_mu_);
  return failed_;
}

uint64_t Assigner::Append(StateChange change) {
  pending_.push_back(std::move(change));
  if (pending_.size() == 1) work_.notify_one();
  return ++seq_;
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
                           absl::Time now, std::vector<std::string>* skipped) {
  const Team& team = p.teams[index];
  std::vector<int> able;  // positions in team.members, in member order
  for (size_t i = 0; i < team.members.size(); ++i) {
    std::string why = Ineligible(p.reps[team.members[i]], where);
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
  Append(cursor);
  return team.members[chosen];
}

void Assigner::Took(const std::string& rep, absl::Time now) {
  RepState& r = reps_[rep];
  ++r.open;
  r.last_turn = seq_ + 1;  // the assignment's own change number, next
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
                                          const AssignInput& input,
                                          Decision* d) {
  const absl::Time now = clock_->Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = Usable(); !s.ok()) return s;

  std::string previous_owner;
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
  }

  Assignment a;
  a.lead_id = d->lead_id;
  a.email_key = absl::AsciiStrToLower(input.email);
  a.decision_id = input.decision_id;
  a.ruleset = input.ruleset;
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
  a.seq = seq_ + 1;
  leads_[a.lead_id] = a;
  if (!a.email_key.empty()) by_email_[a.email_key] = a.lead_id;
  uint64_t seq = Append(a);
  seq = Append(LeadEvent{a.lead_id, now,
                         a.status == LeadStatus::kUnassigned ? "unassigned"
                         : previous_owner.empty()            ? "assigned"
                                                             : "rerouted",
                         previous_owner, a.owner, ""});

  d->owner = a.owner;
  d->owner_kind = a.owner_kind;
  d->team = a.team;
  d->repeat_of = a.repeat_of;
  d->decision_id = a.decision_id;
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
  if (absl::Status s = Usable(); !s.ok()) return s;
  absl::StatusOr<Assignment*> found = Unended(lead_id);
  if (!found.ok()) return found.status();
  Assignment& a = **found;
  Freed(a);
  a.status = status;
  a.ended_at = now;
  a.seq = seq_ + 1;
  Append(a);
  const uint64_t seq =
      Append(LeadEvent{lead_id, now, kind, a.owner, "", reason});
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
  if (absl::Status s = Usable(); !s.ok()) return s;
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
  Freed(a);
  const std::string from = a.owner;
  a.owner = owner;
  a.owner_kind = kind;
  a.team = team;
  a.status = LeadStatus::kOpen;
  a.decided_at = now;
  if (kind == OwnerKind::kRep) Took(owner, now);
  a.seq = seq_ + 1;
  Append(a);
  const uint64_t seq =
      Append(LeadEvent{lead_id, now, "reassigned", from, owner, reason});
  return Changed{a, seq};
}

absl::StatusOr<uint64_t> Assigner::SetRepStatus(const RepStatus& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (absl::Status s = Usable(); !s.ok()) return s;
  RepStatus s = status;
  s.set_at = clock_->Now();
  reps_[s.rep].status = s;
  return Append(s);
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
