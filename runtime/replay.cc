// Replaying leads on two sides and counting the differences; see replay.h.
#include "runtime/replay.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "runtime/simulation.h"

namespace leadroute::runtime {
namespace {

constexpr int kNone = -1;
// What history keeps of a masked attribute without a key.
constexpr absl::string_view kMaskedValue = "***";

bool Resolved(MaskedResolver::Outcome outcome) {
  return outcome == MaskedResolver::Outcome::kExact ||
         outcome == MaskedResolver::Outcome::kStandIn;
}

// Whether `program`'s schema requires `name` and takes any string for it.
bool RequiredString(const Program& program, const std::string& name) {
  auto slot = program.slots.find(name);
  if (slot == program.slots.end()) return false;
  const Attribute& a = program.attributes[slot->second];
  return a.required && a.type == ValueType::kString && !a.is_enum;
}
// The rep_load row of leads no rep took.
constexpr char kNoRep[] = "(no rep)";

}  // namespace

const char* ReplayOutputName(ReplayOutput o) {
  switch (o) {
    case ReplayOutput::kOwner:
      return "owner";
    case ReplayOutput::kPriority:
      return "priority";
    case ReplayOutput::kSla:
      return "sla";
    case ReplayOutput::kChannel:
      return "channel";
    case ReplayOutput::kEscalation:
      return "escalation";
  }
  return "?";
}

std::string OwnerTarget(OwnerKind kind, absl::string_view name) {
  if (kind == OwnerKind::kNone) return "none";
  return absl::StrCat(OwnerKindName(kind), ":", name);
}

std::string TargetOf(const Decision& d) {
  return d.candidates.empty() ? OwnerTarget(d.owner_kind, d.owner)
                              : OwnerTarget(d.candidates.front().kind,
                                            d.candidates.front().name);
}

// One ruleset replay decides with, and what it needs per lead.
struct Replayer::Side {
  explicit Side(std::shared_ptr<const Program> p)
      : program(p), policy(p), binder(*p), read(SlotsRead(*p)) {}
  std::shared_ptr<const Program> program;
  TreePolicy policy;
  LeadBinder binder;
  std::vector<bool> read;  // by slot
  // Interned "stage/rule" and location per rule: rule_ids[stage][index].
  std::array<std::vector<int>, kStageCount> rule_ids, location_ids;
  int64_t rejected = 0;
  std::vector<ReplayReport::Rejection> rejections;
  Decision decision;  // the last one, its memory reused
  // With ReplayOptions.simulate_reps: the reps' state, and when each
  // simulated open lead gives its rep's capacity back (earliest first).
  std::unique_ptr<RoutingSimulation> sim;
  using Hold = std::pair<absl::Time, std::string>;
  std::priority_queue<Hold, std::vector<Hold>, std::greater<Hold>> holds;
  std::string rep;  // the last lead's simulated rep; empty: none
};

// One side's outcome, as interned ids (kNone: not set).
struct Replayer::Compact {
  int owner = kNone;
  int priority = kNone;
  int64_t sla_seconds = -1;
  int channel = kNone;
  int escalation = kNone;
  // The rule that decided each stage but score; score's in `score_rules`.
  std::array<int, kStageCount> rule{};
  std::vector<int> score_rules;

  void Clear() {
    owner = priority = channel = escalation = kNone;
    sla_seconds = -1;
    rule.fill(kNone);
    score_rules.clear();
  }
};

// An example lead, kept until Finish explains it.
struct Replayer::Kept {
  std::string lead_id;
  absl::Time at;
  BoundLead after;
  std::optional<BoundLead> before;           // with a `before` program
  std::optional<RecordedDecision> recorded;  // without
};

struct Replayer::Tally {
  struct PairHash {
    size_t operator()(std::pair<int, int> p) const {
      return absl::HashOf(p.first, p.second);
    }
  };
  struct Transition {
    int64_t leads = 0;
    std::vector<Kept> examples;
  };
  ReplayReport report;  // the plain counters
  absl::flat_hash_map<std::pair<int, int>, Transition, PairHash> transitions;
  // Rule id -> (before, after) leads; location per rule id.
  absl::flat_hash_map<int, std::pair<int64_t, int64_t>> rules;
  absl::flat_hash_map<int, int> locations;
  absl::flat_hash_map<int, std::pair<int64_t, int64_t>> load;
  absl::flat_hash_map<std::string, std::pair<int64_t, int64_t>> rep_load;
  absl::flat_hash_map<std::string, ReplayReport::MaskedRow> masked;
};

namespace {

std::vector<const Program*> Programs(const std::shared_ptr<const Program>& a,
                                     const std::shared_ptr<const Program>& b) {
  std::vector<const Program*> out = {a.get()};
  if (b != nullptr) out.push_back(b.get());
  return out;
}

}  // namespace

Replayer::Replayer(std::shared_ptr<const Program> after,
                   std::shared_ptr<const Program> before, ReplayOptions options)
    : options_(options),
      was_(std::make_unique<Compact>()),
      now_(std::make_unique<Compact>()),
      tally_(std::make_unique<Tally>()),
      masked_(options.key, Programs(after, before)) {
  none_ = Intern("none");
  auto side = [this](std::shared_ptr<const Program> p) {
    auto s = std::make_unique<Side>(std::move(p));
    for (int st = 0; st < kStageCount; ++st) {
      for (const Rule& r : s->program->stages[st]) {
        const int id = Intern(
            absl::StrCat(StageIdName(static_cast<StageId>(st)), "/", r.name));
        const int where = Intern(r.location);
        s->rule_ids[st].push_back(id);
        s->location_ids[st].push_back(where);
      }
    }
    return s;
  };
  if (before != nullptr) before_ = side(std::move(before));
  after_ = side(std::move(after));
  if (options_.simulate_reps) {
    for (Side* s : {before_.get(), after_.get()}) {
      if (s != nullptr) s->sim = std::make_unique<RoutingSimulation>();
    }
  }
  // The candidate's rules are listed even when none fires, and located
  // where the candidate writes them.
  for (int st = 0; st < kStageCount; ++st) {
    for (size_t i = 0; i < after_->rule_ids[st].size(); ++i) {
      tally_->rules.try_emplace(after_->rule_ids[st][i]);
      tally_->locations[after_->rule_ids[st][i]] = after_->location_ids[st][i];
    }
  }
  if (before_ != nullptr) {
    for (int st = 0; st < kStageCount; ++st) {
      for (size_t i = 0; i < before_->rule_ids[st].size(); ++i) {
        tally_->rules.try_emplace(before_->rule_ids[st][i]);
        tally_->locations.try_emplace(before_->rule_ids[st][i],
                                      before_->location_ids[st][i]);
      }
    }
  }
}

Replayer::~Replayer() = default;

const Decision& Replayer::last_decision() const { return after_->decision; }

int Replayer::Intern(absl::string_view text) {
  auto [it, added] = ids_.try_emplace(text, static_cast<int>(names_.size()));
  if (added) names_.emplace_back(text);
  return it->second;
}

int Replayer::InternOwner(OwnerKind kind, absl::string_view name) {
  if (kind == OwnerKind::kNone) return none_;
  key_.assign(OwnerKindName(kind));
  key_ += ':';
  key_.append(name.data(), name.size());
  return Intern(key_);
}

bool Replayer::Decide(Side& side, absl::string_view lead_id, absl::Time at,
                      std::vector<ReplayAttribute>& attributes, bool move,
                      Compact* out) {
  absl::Status s = side.binder.Start(lead_id);
  for (size_t i = 0; s.ok() && i < attributes.size(); ++i) {
    ReplayAttribute& a = attributes[i];
    s = side.binder.Bind(a.first, move ? std::move(a.second) : a.second);
  }
  // A masked string the schema requires, with nothing to decide it with,
  // is bound as history has it ("***") rather than rejecting every lead:
  // the rules decide the lead on a value they name nowhere, and the
  // report counts it as missing and says so (WhyMissing).
  for (const MaskedSeen& seen : masked_seen_) {
    if (!s.ok()) break;
    if (Resolved(seen.outcome) || !RequiredString(*side.program, *seen.name)) {
      continue;
    }
    s = side.binder.Bind(*seen.name, Value(std::string(kMaskedValue)));
  }
  if (s.ok()) s = side.binder.Finish();
  if (!s.ok()) {
    if (static_cast<int>(side.rejections.size()) < options_.max_rejections) {
      side.rejections.push_back(
          {std::string(lead_id), std::string(s.message())});
    }
    ++side.rejected;
    return false;
  }
  DecideOptions options;
  options.received_at = at;
  side.decision =
      side.policy.DecideBound(lead_id, side.binder.bound(), options);
  const Decision& d = side.decision;
  out->Clear();
  if (!d.candidates.empty()) {
    out->owner =
        InternOwner(d.candidates.front().kind, d.candidates.front().name);
  } else {
    out->owner = InternOwner(d.owner_kind, d.owner);
  }
  if (d.priority) out->priority = Intern(d.priority->label);
  if (d.sla) out->sla_seconds = absl::ToInt64Seconds(*d.sla);
  if (!d.channel.empty()) out->channel = Intern(d.channel);
  if (!d.escalation.empty()) out->escalation = Intern(d.escalation);
  for (const RuleRef& r : d.decided_by) {
    const int id = side.rule_ids[r.stage_id][r.index];
    if (r.stage_id == static_cast<int>(StageId::kScore)) {
      out->score_rules.push_back(id);
    } else {
      out->rule[r.stage_id] = id;
    }
  }
  if (side.sim != nullptr) ChooseRep(side, at);
  return true;
}

void Replayer::ChooseRep(Side& side, absl::Time at) {
  // Leads whose hold is over give their rep's capacity back first.
  Assignment ended;
  ended.owner_kind = OwnerKind::kRep;
  ended.status = LeadStatus::kOpen;
  while (!side.holds.empty() && side.holds.top().first <= at) {
    ended.owner = side.holds.top().second;
    side.sim->picker().Freed(ended);
    side.holds.pop();
  }
  side.sim->Assign(*side.program, at, &side.decision);
  side.rep.clear();
  if (side.decision.owner_kind == OwnerKind::kRep) {
    side.rep = side.decision.owner;
    side.holds.emplace(at + options_.lead_hold, side.rep);
  }
}

void Replayer::FromRecord(const RecordedDecision& r, Compact* out) {
  out->Clear();
  out->owner = r.owner.empty() ? none_ : Intern(r.owner);
  if (!r.priority.empty()) out->priority = Intern(r.priority);
  if (r.sla) out->sla_seconds = absl::ToInt64Seconds(*r.sla);
  if (!r.channel.empty()) out->channel = Intern(r.channel);
  if (!r.escalation.empty()) out->escalation = Intern(r.escalation);
  for (const auto& [rule, location] : r.rules) {
    const size_t slash = rule.find('/');
    const absl::string_view stage = absl::string_view(rule).substr(
        0, slash == std::string::npos ? 0 : slash);
    int st = -1;
    for (int i = 0; i < kStageCount; ++i) {
      if (stage == StageIdName(static_cast<StageId>(i))) st = i;
    }
    if (st < 0) continue;  // not a stage this build knows
    const int id = Intern(rule);
    if (!location.empty()) {
      tally_->locations.try_emplace(id, Intern(location));
    }
    if (st == static_cast<int>(StageId::kScore)) {
      out->score_rules.push_back(id);
    } else {
      out->rule[st] = id;
    }
  }
}

std::string Replayer::WhyMissing(const MaskedSeen& seen) const {
  std::string why;
  if (seen.hashed == nullptr) {
    why =
        "kept as \"***\" (the server had no --decision-log-key, or its "
        "rules did not read it)";
  } else {
    switch (seen.outcome) {
      case MaskedResolver::Outcome::kNoKey:
        why = "kept as keyed hashes, and no --decision-log-key given";
        break;
      case MaskedResolver::Outcome::kOtherKey:
        why = absl::StrCat("hashed under key ", seen.hashed->hashes.key_id,
                           ", not --decision-log-key's ", options_.key->id());
        break;
      default: {
        const std::string test = masked_.Beyond(*seen.name);
        why = test.empty() ? "no stand-in answers the rules' tests as it would"
                           : absl::StrCat("the rules test `", test,
                                          "`, which a hash cannot answer");
      }
    }
  }
  if (RequiredString(*after_->program, *seen.name)) {
    absl::StrAppend(&why, "; required, so decided as \"", kMaskedValue,
                    "\" rather than rejected");
  }
  return why;
}

void Replayer::Add(absl::string_view lead_id, absl::Time at,
                   std::vector<ReplayAttribute>& attributes,
                   const RecordedDecision* recorded,
                   const std::vector<std::string>& masked,
                   const std::vector<HashedAttribute>& hashed) {
  Compact& was = *was_;
  Compact& now = *now_;
  last_ = {};
  masked_seen_.clear();
  for (const std::string& name : masked) {
    // No resolution: "***" reads as an attribute no key can resolve.
    masked_seen_.push_back({&name, nullptr, MaskedResolver::Outcome::kNoKey});
  }
  std::string value;
  for (const HashedAttribute& h : hashed) {
    const MaskedResolver::Outcome outcome = masked_.Resolve(h, &value);
    if (Resolved(outcome)) {
      attributes.emplace_back(h.name, Value(std::move(value)));
    }
    masked_seen_.push_back({&h.name, &h, outcome});
  }
  bool ok = true;
  if (before_ != nullptr) {
    ok = Decide(*before_, lead_id, at, attributes, /*move=*/false, &was);
  } else if (recorded != nullptr) {
    FromRecord(*recorded, &was);
  } else {
    ok = false;  // nothing to compare with: a caller's mistake
  }
  // The candidate binds even when the other side failed, to count its own
  // rejections.
  const bool decided =
      Decide(*after_, lead_id, at, attributes, /*move=*/true, &now);
  if (!ok || !decided) return;

  ReplayReport& r = tally_->report;
  ++r.leads;
  if (!r.first || at < *r.first) r.first = at;
  if (!r.last || at > *r.last) r.last = at;
  for (const MaskedSeen& seen : masked_seen_) {
    auto slot = after_->program->slots.find(*seen.name);
    if (slot == after_->program->slots.end() || !after_->read[slot->second]) {
      continue;
    }
    ReplayReport::MaskedRow& row = tally_->masked[*seen.name];
    if (Resolved(seen.outcome)) {
      ++row.hashed;
    } else {
      ++row.missing;
      if (row.why.empty()) row.why = WhyMissing(seen);
    }
  }
  const std::array<bool, kReplayOutputs> changed = {
      was.owner != now.owner, was.priority != now.priority,
      was.sla_seconds != now.sla_seconds, was.channel != now.channel,
      was.escalation != now.escalation};
  last_.compared = true;
  last_.changed = changed;
  bool any = false;
  for (int o = 0; o < kReplayOutputs; ++o) {
    if (changed[o]) {
      ++r.changed[o];
      any = true;
    }
  }
  if (any) ++r.changed_any;

  auto& load_was = tally_->load[was.owner];
  ++load_was.first;
  ++tally_->load[now.owner].second;
  if (after_->sim != nullptr) {
    const std::string& rep_was =
        before_ != nullptr ? before_->rep : recorded->rep;
    ++tally_->rep_load[rep_was.empty() ? kNoRep : rep_was].first;
    ++tally_->rep_load[after_->rep.empty() ? kNoRep : after_->rep].second;
  }
  for (int st = 0; st < kStageCount; ++st) {
    if (was.rule[st] != kNone) ++tally_->rules[was.rule[st]].first;
    if (now.rule[st] != kNone) ++tally_->rules[now.rule[st]].second;
    if (st != static_cast<int>(StageId::kScore) && was.rule[st] != kNone &&
        now.rule[st] == kNone) {
      ++r.fell_through[st];
    }
  }
  for (int id : was.score_rules) ++tally_->rules[id].first;
  for (int id : now.score_rules) ++tally_->rules[id].second;
  if (!was.score_rules.empty() && now.score_rules.empty()) {
    ++r.fell_through[static_cast<int>(StageId::kScore)];
  }
  if (was.owner != none_ && now.owner == none_) ++r.became_unassigned;

  if (!changed[static_cast<int>(ReplayOutput::kOwner)]) return;
  auto found = tally_->transitions.find(std::make_pair(was.owner, now.owner));
  if (found == tally_->transitions.end()) {
    if (static_cast<int>(tally_->transitions.size()) >=
        options_.max_transitions) {
      ++r.other_transitions;
      return;
    }
    found = tally_->transitions.try_emplace({was.owner, now.owner}).first;
  }
  Tally::Transition& t = found->second;
  ++t.leads;
  if (static_cast<int>(t.examples.size()) < options_.examples) {
    Kept k{std::string(lead_id), at, after_->binder.bound(), std::nullopt,
           std::nullopt};
    if (before_ != nullptr) {
      k.before = before_->binder.bound();
    } else {
      k.recorded = *recorded;
    }
    t.examples.push_back(std::move(k));
  }
}

ReplayReport::Side Replayer::Explain(const Side& side,
                                     absl::string_view lead_id, absl::Time at,
                                     const BoundLead& bound) const {
  DecideOptions options;
  options.received_at = at;
  options.explain = true;
  const Decision d = side.policy.DecideBound(lead_id, bound, options);
  ReplayReport::Side out;
  out.owner = TargetOf(d);
  for (const StageExplanation& e : d.explanation->stages) {
    std::string line = absl::StrCat(e.stage, "/", e.rule.rule);
    if (!e.rule.location.empty())
      absl::StrAppend(&line, " (", e.rule.location, ")");
    if (!e.conditions.empty()) {
      absl::StrAppend(&line, ": ", absl::StrJoin(e.conditions, " and "));
    }
    out.why.push_back(std::move(line));
  }
  return out;
}

ReplayReport Replayer::Report(bool examples) const {
  ReplayReport r = tally_->report;
  auto name = [this](int id) { return names_[id]; };
  auto location = [&](int rule) {
    auto it = tally_->locations.find(rule);
    return it == tally_->locations.end() ? std::string() : name(it->second);
  };

  for (const auto& [pair, t] : tally_->transitions) {
    ReplayReport::Transition row{
        name(pair.first), name(pair.second), t.leads, {}};
    for (const Kept& k : t.examples) {
      if (!examples) break;
      ReplayReport::Example e{k.lead_id, k.at, {}, {}};
      e.after = Explain(*after_, k.lead_id, k.at, k.after);
      if (k.before) {
        e.before = Explain(*before_, k.lead_id, k.at, *k.before);
      } else {
        e.before.owner = k.recorded->owner.empty() ? "none" : k.recorded->owner;
        for (const auto& [rule, where] : k.recorded->rules) {
          e.before.why.push_back(
              where.empty() ? rule : absl::StrCat(rule, " (", where, ")"));
        }
      }
      row.examples.push_back(std::move(e));
    }
    r.transitions.push_back(std::move(row));
  }
  std::sort(
      r.transitions.begin(), r.transitions.end(),
      [](const ReplayReport::Transition& a, const ReplayReport::Transition& b) {
        return std::tie(b.leads, a.from, a.to) <
               std::tie(a.leads, b.from, b.to);
      });

  auto stage_of = [](const std::string& rule) {
    const absl::string_view stage =
        absl::string_view(rule).substr(0, rule.find('/'));
    for (int i = 0; i < kStageCount; ++i) {
      if (stage == StageIdName(static_cast<StageId>(i))) return i;
    }
    return kStageCount;
  };
  for (const auto& [id, counts] : tally_->rules) {
    r.rules.push_back({name(id), location(id), counts.first, counts.second});
  }
  std::sort(
      r.rules.begin(), r.rules.end(),
      [&](const ReplayReport::RuleRow& a, const ReplayReport::RuleRow& b) {
        return std::make_pair(stage_of(a.rule), a.rule) <
               std::make_pair(stage_of(b.rule), b.rule);
      });

  for (const auto& [id, counts] : tally_->load) {
    r.load.push_back({name(id), counts.first, counts.second});
  }
  auto most_after = [](const ReplayReport::LoadRow& a,
                       const ReplayReport::LoadRow& b) {
    return std::tie(b.after, b.before, a.owner) <
           std::tie(a.after, a.before, b.owner);
  };
  std::sort(r.load.begin(), r.load.end(), most_after);
  r.reps_simulated = after_->sim != nullptr;
  for (const auto& [rep, counts] : tally_->rep_load) {
    r.rep_load.push_back({rep, counts.first, counts.second});
  }
  std::sort(r.rep_load.begin(), r.rep_load.end(), most_after);

  r.rejected_after = after_->rejected;
  r.rejections_after = after_->rejections;
  if (before_ != nullptr) {
    r.rejected_before = before_->rejected;
    r.rejections_before = before_->rejections;
  }
  for (const auto& [attribute, row] : tally_->masked) {
    r.masked.push_back(row);
    r.masked.back().attribute = attribute;
  }
  std::sort(
      r.masked.begin(), r.masked.end(),
      [](const ReplayReport::MaskedRow& a, const ReplayReport::MaskedRow& b) {
        return a.attribute < b.attribute;
      });
  return r;
}

}  // namespace leadroute::runtime
