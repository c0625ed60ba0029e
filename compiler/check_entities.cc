// The check_entities pass; see passes.h. Reps and teams are property lists;
// this pass knows which properties each takes and what their values must be.
#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "compiler/pass_helpers.h"
#include "compiler/passes.h"
#include "runtime/program.h"

namespace leadroute::compiler {
namespace {

// The tz database's zone names, from the system's zone tables (none when
// they are missing: the hint then names examples instead).
const std::vector<std::string>& ZoneNames() {
  static const std::vector<std::string>* const names = [] {
    auto* out = new std::vector<std::string>{"UTC"};
    for (const char* table :
         {"/usr/share/zoneinfo/zone1970.tab", "/usr/share/zoneinfo/zone.tab"}) {
      std::ifstream in(table);
      for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> columns = absl::StrSplit(line, '\t');
        if (columns.size() >= 3 &&
            std::find(out->begin(), out->end(), columns[2]) == out->end()) {
          out->push_back(columns[2]);
        }
      }
    }
    return out;
  }();
  return *names;
}

using Kind = ast::Literal::Kind;

enum class PropType {
  kString,
  kTimezone,
  kHours,
  kCount,
  kWeight,
  kNameList,
  kSeniority,
  kStrategy,
  kDays,
  kRep,
  kSticky,
};

struct PropSpec {
  const char* name;
  PropType type;
};

constexpr PropSpec kRepProps[] = {
    {"name", PropType::kString},         {"email", PropType::kString},
    {"timezone", PropType::kTimezone},   {"hours", PropType::kHours},
    {"capacity", PropType::kCount},      {"daily_cap", PropType::kCount},
    {"weekly_cap", PropType::kCount},    {"weight", PropType::kWeight},
    {"seniority", PropType::kSeniority}, {"skills", PropType::kNameList},
    {"languages", PropType::kNameList},  {"holidays", PropType::kDays},
};
constexpr PropSpec kTeamProps[] = {
    {"members", PropType::kNameList},
    {"strategy", PropType::kStrategy},
    {"manager", PropType::kRep},
    {"sticky", PropType::kSticky},
};

using runtime::kSeniorities;
constexpr const char* kStrategies[] = {"round_robin", "weighted",
                                       "least_loaded"};

template <size_t N>
bool OneOf(const std::string& v, const char* const (&options)[N]) {
  for (const char* o : options) {
    if (v == o) return true;
  }
  return false;
}

class EntityChecker {
 public:
  EntityChecker(const Module& m, Diagnostics* d) : m_(m), d_(d) {}

  void Check(const ast::Entity& e) {
    if (e.kind == ast::Entity::Kind::kQueue) return;
    const bool rep = e.kind == ast::Entity::Kind::kRep;
    const PropSpec* specs = rep ? kRepProps : kTeamProps;
    const size_t count = rep ? std::size(kRepProps) : std::size(kTeamProps);
    ErrorOnPropertiesSetTwice(e.properties, d_);
    const ast::Property* hours = nullptr;
    const ast::Property* timezone = nullptr;
    for (const ast::Property& p : e.properties) {
      const PropSpec* spec = nullptr;
      std::vector<std::string> names;
      for (size_t i = 0; i < count; ++i) {
        names.push_back(specs[i].name);
        if (p.name.text == specs[i].name) spec = &specs[i];
      }
      if (spec == nullptr) {
        d_->Error(p.name.span, absl::StrCat("unknown ", rep ? "rep" : "team",
                                            " property `", p.name.text, "`"))
            .hint = DidYouMean(
            p.name.text, names,
            absl::StrCat("properties: ", absl::StrJoin(names, ", ")));
        continue;
      }
      if (spec->type == PropType::kHours || spec->type == PropType::kDays) {
        hours = &p;
      }
      if (spec->type == PropType::kTimezone) timezone = &p;
      Value(p, spec->type);
    }
    if (rep && hours != nullptr && timezone == nullptr) {
      d_->Error(hours->name.span,
                absl::StrCat("rep `", e.name.text, "` has `", hours->name.text,
                             "` but no timezone"))
          .hint = "add timezone = \"America/New_York\" (an IANA name)";
    }
    if (!rep) {
      bool has_members = false;
      for (const ast::Property& p : e.properties) {
        if (p.name.text == "members") has_members = true;
      }
      if (!has_members) {
        d_->Error(e.name.span,
                  absl::StrCat("team `", e.name.text, "` has no members"))
            .hint = "add members = [rep_a, rep_b]";
      }
    }
  }

 private:
  void Value(const ast::Property& p, PropType type) {
    const auto* lit = std::get_if<ast::Literal>(&p.value);
    if (type == PropType::kHours) {
      if (lit != nullptr) {
        d_->Error(p.value_span,
                  "expected working hours, e.g. mon-fri 09:00-17:00");
        return;
      }
      for (const ast::HoursSpan& h :
           std::get<std::vector<ast::HoursSpan>>(p.value)) {
        Hours(h);
      }
      return;
    }
    if (lit == nullptr) {
      d_->Error(
          p.value_span,
          absl::StrCat("`", p.name.text, "` is not a working-hours property"));
      return;
    }
    switch (type) {
      case PropType::kString:
        Expect(*lit, Kind::kString, p, "a quoted string");
        return;
      case PropType::kTimezone: {
        if (!Expect(*lit, Kind::kString, p,
                    "an IANA time zone name in quotes")) {
          return;
        }
        absl::TimeZone tz;
        if (!absl::LoadTimeZone(lit->text, &tz)) {
          const std::string best =
              ClosestMatchIgnoringCase(lit->text, ZoneNames());
          d_->Error(lit->span,
                    absl::StrCat("unknown time zone \"", lit->text, "\""))
              .hint = best.empty()
                          ? "use an IANA name such as \"Europe/Paris\" or "
                            "\"America/Chicago\""
                          : absl::StrCat("did you mean \"", best, "\"?");
        }
        return;
      }
      case PropType::kSticky:
        if (lit->kind == Kind::kName && lit->text == "off") return;
        if (lit->kind != Kind::kDuration) {
          d_->Error(lit->span, "`sticky` takes a duration or off").hint =
              "e.g. sticky = 30d, or sticky = off to route repeat leads by "
              "the rules alone";
        } else if (lit->duration <= absl::ZeroDuration()) {
          d_->Error(lit->span, "a sticky window must be longer than zero")
              .hint = "write sticky = off";
        }
        return;
      case PropType::kCount:
        if (Expect(*lit, Kind::kInt, p, "a whole number") &&
            lit->int_value < 0) {
          d_->Error(lit->span,
                    absl::StrCat("`", p.name.text, "` cannot be negative"));
        }
        return;
      case PropType::kWeight:
        if (Expect(*lit, Kind::kInt, p, "a whole number") &&
            lit->int_value < 1) {
          d_->Error(lit->span, "`weight` must be at least 1");
        }
        return;
      case PropType::kSeniority:
        if (Expect(*lit, Kind::kName, p, "a name") &&
            !OneOf(lit->text, kSeniorities)) {
          d_->Error(lit->span,
                    absl::StrCat("unknown seniority `", lit->text, "`"))
              .hint =
              absl::StrCat("one of: ", absl::StrJoin(kSeniorities, ", "));
        }
        return;
      case PropType::kStrategy:
        if (Expect(*lit, Kind::kName, p, "a strategy name") &&
            !OneOf(lit->text, kStrategies)) {
          std::vector<std::string> all(std::begin(kStrategies),
                                       std::end(kStrategies));
          d_->Error(lit->span,
                    absl::StrCat("unknown strategy `", lit->text, "`"))
              .hint =
              DidYouMean(lit->text, all,
                         absl::StrCat("one of: ", absl::StrJoin(all, ", ")));
        }
        return;
      case PropType::kNameList:
        if (!Expect(*lit, Kind::kList, p, "a list [ ... ]")) return;
        for (const ast::Literal& item : lit->items) {
          if (item.kind != Kind::kName && item.kind != Kind::kString) {
            d_->Error(item.span, "expected a name or a quoted string");
          }
        }
        if (p.name.text == "members" && lit->items.empty()) {
          d_->Error(lit->span, "a team needs at least one member");
        }
        return;
      case PropType::kDays:
        if (!Expect(*lit, Kind::kList, p, "a list of dates [\"2026-12-24\"]"))
          return;
        for (const ast::Literal& item : lit->items) {
          if (item.kind != Kind::kString ||
              !runtime::ParseDayRange(item.text)) {
            d_->Error(item.span,
                      "expected a date \"YYYY-MM-DD\" or a range "
                      "\"YYYY-MM-DD..YYYY-MM-DD\" (inclusive, in order)");
          }
        }
        return;
      case PropType::kRep:
        if (Expect(*lit, Kind::kName, p, "a rep's name") &&
            !m_.reps.contains(lit->text)) {
          d_->Error(lit->span, absl::StrCat("undefined rep `", lit->text, "`"))
              .hint = DidYouMean(lit->text, m_.reps);
        }
        return;
      case PropType::kHours:
        return;
    }
  }

  bool Expect(const ast::Literal& lit, Kind kind, const ast::Property& p,
              absl::string_view what) {
    if (lit.kind == kind) return true;
    d_->Error(lit.span, absl::StrCat("`", p.name.text, "` takes ", what));
    return false;
  }

  void Hours(const ast::HoursSpan& h) {
    if (h.start_minute < 0 || h.end_minute < 0 || h.start_minute == 24 * 60) {
      d_->Error(h.span, "not a time of day: hours run from 00:00 to 24:00");
    } else if (h.end_minute <= h.start_minute) {
      d_->Error(h.span, "working hours end before they start").hint =
          "split a shift over midnight: mon-fri 22:00-24:00, tue-sat "
          "00:00-06:00";
    }
  }

  const Module& m_;
  Diagnostics* d_;
};

}  // namespace

void CheckEntities(const Module& module, Diagnostics* diagnostics) {
  EntityChecker checker(module, diagnostics);
  module.ForEach<ast::Entity>([&](const ast::Entity& e) { checker.Check(e); });
}

}  // namespace leadroute::compiler
