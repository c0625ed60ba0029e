// Binding a lead and assembling its decision; see decide.h.
#include "runtime/decide.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "base/closest_match.h"
#include "base/field_error.h"
#include "base/status_macros.h"
#include "runtime/lead_error.h"

namespace leadroute::runtime {
namespace {

RuleRef Ref(StageId stage, const Rule& r, const Program& p) {
  const std::vector<Rule>& rules = p.stages[static_cast<int>(stage)];
  return {StageIdName(stage), r.name, r.location, static_cast<int>(stage),
          static_cast<int>(&r - rules.data())};
}

// Why rule `name` did not decide. Outputs of earlier stages are taken from
// the finished decision, as the rule saw them.
Alternative WhyNot(const std::string& name, const EvalContext& c,
                   const Decision& d) {
  absl::StatusOr<NamedRule> found = FindNamedRule(c.program, name);
  if (!found.ok()) {
    std::string stage_name, rule_name = name;
    if (size_t slash = name.find('/'); slash != std::string::npos) {
      stage_name = name.substr(0, slash);
      rule_name = name.substr(slash + 1);
    }
    return {
        {stage_name, rule_name, ""}, "", std::string(found.status().message())};
  }
  const StageId stage = found->stage;
  const Rule& r = *found->rule;
  Alternative a{Ref(stage, r, c.program), "", ""};
  if (!Matches(r, c)) {
    std::tie(a.failed_condition, a.reason) = FirstFailure(*r.when, c);
    return a;
  }
  Decision scratch;
  if (stage == StageId::kAssign && !ChooseOwner(r, c, &scratch)) {
    a.reason = "it matched, but none of its owners could be looked up";
    return a;
  }
  std::string winner;
  for (const RuleRef& ref : d.decided_by) {
    if (ref.stage == StageIdName(stage)) winner = ref.rule;
  }
  a.reason = stage == StageId::kScore ? "it matched and added its points"
             : winner == r.name       ? "it is the rule that decided"
                                : absl::StrCat("it matched, but `", winner,
                                               "` comes first and decided");
  return a;
}

// At most this many of an enum's values are listed in an error.
constexpr size_t kListedValues = 12;

// `*s`, not written as any of `a`'s enum values, as the value it stands for:
// the one it equals ignoring case, else `a.on_unknown`; else an error that
// lists the values and suggests the closest.
absl::Status EnumValue(absl::string_view name, const Attribute& a,
                       std::string* s) {
  for (const std::string& v : a.enum_values) {
    if (absl::EqualsIgnoreCase(v, *s)) {
      *s = v;
      return absl::OkStatus();
    }
  }
  if (a.on_unknown) {
    *s = *a.on_unknown;
    return absl::OkStatus();
  }
  std::string allowed = absl::StrJoin(
      a.enum_values.begin(),
      a.enum_values.begin() + std::min(a.enum_values.size(), kListedValues),
      ", ");
  if (a.enum_values.size() > kListedValues) {
    absl::StrAppend(&allowed, ", … (", a.enum_values.size() - kListedValues,
                    " more)");
  }
  const std::string best = ClosestMatchIgnoringCase(*s, a.enum_values);
  const std::string suggestion =
      best.empty() ? "" : absl::StrCat(" (did you mean ", best, "?)");
  return InvalidAttribute(
      name, absl::StrCat("\"", *s, "\" is not one of the enum's values: ",
                         allowed, suggestion));
}

}  // namespace

absl::StatusOr<NamedRule> FindNamedRule(const Program& p,
                                        absl::string_view name) {
  absl::string_view stage_name, rule_name = name;
  if (size_t slash = name.find('/'); slash != absl::string_view::npos) {
    stage_name = name.substr(0, slash);
    rule_name = name.substr(slash + 1);
  }
  std::vector<NamedRule> found;
  for (int s = 0; s < kStageCount; ++s) {
    const StageId stage = static_cast<StageId>(s);
    if (!stage_name.empty() && stage_name != StageIdName(stage)) continue;
    for (const Rule& r : p.stages[s]) {
      if (r.name == rule_name) found.push_back({stage, &r});
    }
  }
  if (found.size() == 1) return found.front();
  if (found.empty()) {
    std::vector<std::string> names;  // every rule, for a suggestion
    for (const std::vector<Rule>& stage : p.stages) {
      for (const Rule& r : stage) names.push_back(r.name);
    }
    const std::string best = ClosestMatch(rule_name, names);
    return absl::NotFoundError(absl::StrCat(
        "no rule named `", name, "`",
        best.empty() ? "" : absl::StrCat(" (did you mean `", best, "`?)")));
  }
  std::vector<std::string> both;
  for (const NamedRule& f : found) {
    both.push_back(absl::StrCat(StageIdName(f.stage), "/", rule_name));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("`", name, "` names a rule in several stages (",
                   absl::StrJoin(both, ", "), "): write one of those"));
}

absl::Status LeadBinder::Start(absl::string_view lead_id) {
  if (lead_id.empty()) return InvalidFieldError("id", "must not be empty");
  const size_t n = program_.attributes.size();
  bound_.values.assign(n, std::nullopt);
  bound_.ids.assign(n, BoundLead::kMissing);
  return absl::OkStatus();
}

absl::Status LeadBinder::Bind(absl::string_view name, Value value) {
  auto slot = program_.slots.find(name);
  if (slot == program_.slots.end()) return absl::OkStatus();  // not read
  const Attribute& a = program_.attributes[slot->second];
  const ValueType given = TypeOf(value);
  // What plain JSON cannot say, the schema does: a whole number for a
  // `number`, a number without a fraction for an `int`, RFC 3339 text for a
  // `time`.
  if (a.type == ValueType::kNumber && given == ValueType::kInt) {
    value = static_cast<double>(std::get<int64_t>(value));
  } else if (a.type == ValueType::kInt && given == ValueType::kNumber) {
    const double d = std::get<double>(value);
    if (std::isfinite(d) && d == std::trunc(d) && d >= -9.2e18 && d <= 9.2e18) {
      value = static_cast<int64_t>(d);
    }
  } else if (a.type == ValueType::kTime && given == ValueType::kString) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, std::get<std::string>(value), &t,
                         &err)) {
      return InvalidAttribute(
          name,
          absl::StrCat("expected a time, got \"", std::get<std::string>(value),
                       "\" (write RFC 3339, e.g. 2026-11-30T09:15:00Z)"));
    }
    value = t;
  }
  if (TypeOf(value) != a.type) {
    return InvalidAttribute(
        name, absl::StrCat("expected ",
                           a.is_enum ? "enum (string)" : TypeName(a.type),
                           ", got ", TypeName(given)));
  }
  if (a.type == ValueType::kNumber && !std::isfinite(std::get<double>(value))) {
    return InvalidAttribute(name, "must be a finite number");
  }
  if (a.is_enum) {
    std::string& s = std::get<std::string>(value);
    if (std::find(a.enum_values.begin(), a.enum_values.end(), s) ==
        a.enum_values.end()) {
      RETURN_IF_ERROR(EnumValue(name, a, &s));
    }
  }
  bound_.values[slot->second] = std::move(value);
  return absl::OkStatus();
}

absl::Status LeadBinder::Finish() {
  const Program& p = program_;
  for (size_t i = 0; i < bound_.values.size(); ++i) {
    const Attribute& a = p.attributes[i];
    std::optional<Value>& v = bound_.values[i];
    if (!v) {
      if (a.required) {
        return InvalidAttribute(a.name, "required");
      }
      v = a.default_value;
    }
    if (a.type == ValueType::kString && v) {
      bound_.ids[i] = BoundLead::kOther;
      if (i < p.interned.size() && !p.interned[i].empty()) {
        auto id = p.interned[i].find(std::get<std::string>(*v));
        if (id != p.interned[i].end()) bound_.ids[i] = id->second;
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<BoundLead> BindLead(const Program& p, const Lead& lead) {
  LeadBinder binder(p);
  RETURN_IF_ERROR(binder.Start(lead.id));
  for (const auto& [name, value] : lead.attributes) {
    RETURN_IF_ERROR(binder.Bind(name, value));
  }
  RETURN_IF_ERROR(binder.Finish());
  return binder.bound();
}

absl::StatusOr<Decision> DecideLead(const Program& p,
                                    const RuleMatcher& matcher,
                                    const Lead& lead,
                                    const DecideOptions& options) {
  ASSIGN_OR_RETURN(const BoundLead bound, BindLead(p, lead));
  return DecideBound(p, matcher, lead.id, bound, options);
}

Decision DecideBound(const Program& p, const RuleMatcher& matcher,
                     absl::string_view lead_id, const BoundLead& bound,
                     const DecideOptions& options) {
  EvalContext c{p, bound, options.received_at, 0, std::nullopt, std::nullopt};
  Decision d;
  d.lead_id = std::string(lead_id);
  d.ruleset_name = p.name;
  d.ruleset_version = p.version;

  if (options.explain) d.explanation.emplace();
  // Records the rule that decided `stage`, with its reasons when asked.
  auto decided = [&](StageId stage, const Rule& r) {
    d.decided_by.push_back(Ref(stage, r, p));
    if (!d.explanation) return;
    StageExplanation e{StageIdName(stage), Ref(stage, r, p), {}};
    if (r.when) Decisive(*r.when, c, &e.conditions);
    d.explanation->stages.push_back(std::move(e));
  };
  matcher.Match(StageId::kScore, c, [&](const Rule& r) {
    c.score += r.points;
    decided(StageId::kScore, r);
    return false;  // every matching rule adds its points
  });
  d.score = c.score;
  matcher.Match(StageId::kAssign, c, [&](const Rule& r) {
    if (!ChooseOwner(r, c, &d)) return false;
    decided(StageId::kAssign, r);
    return true;
  });
  matcher.Match(StageId::kPriority, c, [&](const Rule& r) {
    c.priority = r.label;
    d.priority = Priority{p.labels[r.label], r.label};
    decided(StageId::kPriority, r);
    return true;
  });
  matcher.Match(StageId::kSla, c, [&](const Rule& r) {
    c.sla = r.sla;
    d.sla = r.sla;
    d.respond_by = options.received_at + r.sla;
    decided(StageId::kSla, r);
    return true;
  });
  matcher.Match(StageId::kChannel, c, [&](const Rule& r) {
    d.channel = r.channel;
    decided(StageId::kChannel, r);
    return true;
  });
  matcher.Match(StageId::kEscalate, c, [&](const Rule& r) {
    d.escalation_index = r.escalation;
    d.escalation = p.escalations[r.escalation].name;
    decided(StageId::kEscalate, r);
    return true;
  });
  if (d.explanation) {
    for (const std::string& name : options.why_not) {
      d.explanation->alternatives.push_back(WhyNot(name, c, d));
    }
  }
  return d;
}

}  // namespace leadroute::runtime
