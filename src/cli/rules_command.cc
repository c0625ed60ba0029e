// `leadroute eval` and `leadroute test`: run compiled rules locally, without
// a server. Both check the rules first and stop on errors.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "compiler/compiler.h"
#include "compiler/load_files.h"
#include "compiler/lower_program.h"
#include "runtime/simulation.h"
#include "runtime/state_store.h"
#include "runtime/tree_policy.h"
#include "src/cli/client.h"
#include "src/cli/commands.h"
#include "src/cli/compile_rules.h"
#include "src/cli/lead_json.h"
#include "src/service/rule_files.h"
#include "src/wire/convert.h"

namespace leadroute {
namespace {

std::string OwnerText(const runtime::Decision& d) {
  if (d.owner_kind == runtime::OwnerKind::kNone) return "none";
  const char* kind = d.owner_kind == runtime::OwnerKind::kRep    ? "rep"
                     : d.owner_kind == runtime::OwnerKind::kTeam ? "team"
                                                                 : "queue";
  return absl::StrCat(kind, " ", d.owner);
}

std::string Collapse(absl::string_view s) {
  return absl::StrJoin(absl::StrSplit(s, ' ', absl::SkipEmpty()), " ");
}

// Chooses `d`'s rep at `at` as the server would, from a test's `given`
// state.
void Simulate(const runtime::Program& p, const compiler::TestCase::Given& given,
              absl::Time at, runtime::Decision* d) {
  runtime::RoutingSimulation sim;
  for (const auto& [rep, availability] : given.status) {
    runtime::RepStatus status;
    status.rep = rep;
    status.availability = availability;
    sim.picker().SetStatus(std::move(status), at);
  }
  for (const auto& [rep, open] : given.open) sim.picker().SetOpen(rep, open);
  for (const auto& [team, rep] : given.last) sim.picker().SetLastOf(team, rep);
  sim.Assign(p, at, d);
}

}  // namespace

int EvalCommand(const EvalFlags& flags) {
  // Quiet about warnings unless asked: `check` is where they are read.
  Compiled c = CompileRules(flags.rules, /*only_rulesets=*/false,
                            /*show_warnings=*/flags.warnings);
  if (c.exit_code != kExitOk) return c.exit_code;
  for (const std::string& name : flags.why_not) {
    if (absl::StatusOr<runtime::NamedRule> r =
            runtime::FindNamedRule(*c.program(), name);
        !r.ok()) {
      std::cerr << "leadroute eval: --why-not: " << r.status().message()
                << "\n";
      return kExitUsageOrIo;
    }
  }
  std::string json;
  if (flags.lead_path == "-") {
    json.assign(std::istreambuf_iterator<char>(std::cin),
                std::istreambuf_iterator<char>());
  } else if (absl::Status s = compiler::ReadFile(flags.lead_path, &json);
             !s.ok()) {
    std::cerr << "leadroute eval: " << s.message() << "\n";
    return kExitUsageOrIo;
  }
  absl::StatusOr<v1::Lead> proto = LeadFromJson(json);
  if (!proto.ok()) {
    std::cerr << "leadroute eval: " << flags.lead_path << ": "
              << proto.status().message() << "\n";
    return kExitRulesOrInput;
  }
  absl::StatusOr<runtime::Lead> lead = LeadFromProto(*proto);
  runtime::DecideOptions options;
  options.received_at = absl::Now();
  options.explain = flags.explain || !flags.why_not.empty();
  options.why_not = flags.why_not;
  if (!flags.at.empty()) {
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, flags.at, &options.received_at,
                         &err)) {
      std::cerr << "leadroute eval: --at: " << err << "\n";
      return kExitUsageOrIo;
    }
  }
  absl::StatusOr<runtime::Decision> d =
      lead.ok() ? runtime::TreePolicy(c.program()).Decide(*lead, options)
                : absl::StatusOr<runtime::Decision>(lead.status());
  if (!d.ok()) {
    std::cerr << "leadroute eval: " << d.status().message() << "\n";
    return kExitRulesOrInput;
  }
  // At a set time, or from a store's state: the rep, as the server would
  // choose at that time (hours, holidays, statuses, capacity, caps).
  if (!flags.at.empty() || !flags.data_dir.empty() || !flags.state.empty()) {
    runtime::RoutingSimulation sim;
    if (!flags.data_dir.empty() || !flags.state.empty()) {
      absl::StatusOr<std::unique_ptr<runtime::StateReader>> store =
          OpenStateReadOnly(flags.data_dir, flags.state);
      absl::StatusOr<runtime::StateSnapshot> snapshot =
          store.ok() ? (*store)->Load(
                           runtime::RepPicker::RecentSince(options.received_at))
                     : absl::StatusOr<runtime::StateSnapshot>(store.status());
      if (!snapshot.ok()) {
        std::cerr << "leadroute eval: " << snapshot.status().message() << "\n";
        return kExitUsageOrIo;
      }
      sim.Restore(*snapshot);
    }
    sim.Assign(*c.program(), options.received_at, &*d);
  }
  v1::Decision out;
  DecisionToProto(*d, &out);
  PrintJson(out);
  return kExitOk;
}

int TestCommand(const TestFlags& flags) {
  // A folder stands for the rulesets in it: its files with a `ruleset`
  // declaration (the others are parts they include).
  std::vector<std::pair<std::string, bool>> paths;  // (file, from a folder)
  for (const std::string& p : flags.rules) {
    std::vector<std::string> files;
    if (!ExpandRuleFiles(p, &files)) {
      std::cerr << "leadroute test: " << p << ": no such file or folder\n";
      return kExitUsageOrIo;
    }
    const bool folder = !(files.size() == 1 && files.front() == p);
    for (const std::string& f : files) paths.emplace_back(f, folder);
  }
  int passed = 0, failed = 0;
  for (const auto& [path, folder] : paths) {
    Compiled c = CompileRules(path, /*only_rulesets=*/folder);
    if (c.exit_code != kExitOk) return c.exit_code;
    if (c.checked == nullptr) continue;  // a part of a ruleset
    runtime::TreePolicy policy(c.program());
    std::set<std::pair<std::string, std::string>> reached;
    for (const compiler::TestCase& t :
         compiler::LowerTests(*c.checked->module)) {
      runtime::DecideOptions options;
      // Without `at`, tests run at a fixed instant so results never depend
      // on the clock.
      options.received_at = t.at.value_or(absl::FromUnixSeconds(1767225600));
      absl::StatusOr<runtime::Decision> d = policy.Decide(t.lead, options);
      if (d.ok() && t.given) {
        Simulate(*c.program(), *t.given, options.received_at, &*d);
      }
      std::vector<std::string> problems;
      if (!d.ok()) {
        problems.push_back(
            absl::StrCat("the lead is rejected: ", d.status().message()));
      } else {
        for (const runtime::RuleRef& r : d->decided_by)
          reached.insert({r.stage, r.rule});
        for (const compiler::TestCase::Expect& x : t.expect) {
          std::string got;
          bool ok = false;
          if (x.output == "owner") {
            got = OwnerText(*d);
            ok = got == Collapse(x.want);
          } else if (x.output == "priority") {
            got = d->priority ? d->priority->label : "none";
            ok = got == x.want;
          } else if (x.output == "sla") {
            got = d->sla ? absl::FormatDuration(*d->sla) : "none";
            ok = d->sla == x.sla;
          } else if (x.output == "channel") {
            got = d->channel;
            ok = got == x.want;
          } else if (x.output == "escalation") {
            got = d->escalation.empty() ? "none" : d->escalation;
            ok = got == x.want;
          } else if (x.output == "score") {
            got = absl::StrCat(d->score);
            ok = got == x.want;
          } else if (x.output == "skipped") {
            got =
                d->skipped.empty()
                    ? "nobody skipped"
                    : absl::StrCat("\"", absl::StrJoin(d->skipped, "; "), "\"");
            ok = std::any_of(d->skipped.begin(), d->skipped.end(),
                             [&](const std::string& why) {
                               return absl::StrContains(why, x.want);
                             });
          }
          if (!ok) {
            problems.push_back(absl::StrCat(x.location, ": ", x.output,
                                            ": want ", Collapse(x.want),
                                            ", got ", got));
          }
        }
      }
      if (problems.empty()) {
        ++passed;
        std::cout << "PASS  " << t.name << "\n";
      } else {
        ++failed;
        std::cout << "FAIL  " << t.name << " (" << t.location << ")\n";
        for (const std::string& p : problems)
          std::cout << "      " << p << "\n";
      }
    }
    std::vector<std::string> unreached;
    for (int s = 0; s < runtime::kStageCount; ++s) {
      for (const runtime::Rule& r : c.program()->stages[s]) {
        const std::string stage =
            runtime::StageIdName(static_cast<runtime::StageId>(s));
        if (!reached.contains({stage, r.name})) {
          unreached.push_back(
              absl::StrCat(stage, "/", r.name, " (", r.location, ")"));
        }
      }
    }
    if (!unreached.empty()) {
      std::cout << "rules no test reaches in " << path << ":\n";
      for (const std::string& u : unreached) std::cout << "  " << u << "\n";
    }
  }
  std::cout << "tests: " << passed << " passed, " << failed << " failed\n";
  return failed > 0 ? kExitRulesOrInput : kExitOk;
}

}  // namespace leadroute
