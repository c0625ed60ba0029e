// The check_tests pass; see passes.h.
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "compiler/pass_helpers.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

using TK = ast::Target::Kind;

constexpr const char* kOutputs[] = {
    "owner", "priority", "sla", "channel", "escalation", "score", "skipped"};

class TestChecker {
 public:
  TestChecker(const Module& m, Diagnostics* d) : m_(m), d_(d) {
    if (auto it = m_.stages.find(ast::StageKind::kPriority);
        it != m_.stages.end() && !it->second->labels.empty()) {
      labels_ = &it->second->labels;
    }
  }

  void Check(const ast::Test& t) {
    if (t.at.has_value()) {
      absl::Time parsed;
      std::string err;
      if (t.at->kind != ast::Literal::Kind::kString ||
          !absl::ParseTime(absl::RFC3339_full, t.at->text, &parsed, &err)) {
        d_->Error(t.at->span, "`at` takes an RFC 3339 time in quotes").hint =
            "e.g. at \"2026-11-23T09:00:00Z\"";
      }
    }
    Lead(t);
    if (t.given) Given(*t.given);
    std::vector<const ast::Expectation*> seen;
    for (const ast::Expectation& e : t.expect) {
      if (e.output.text == "skipped") {
        if (!t.given) {
          d_->Error(e.output.span,
                    "`skipped` is known only when the test has a `given` "
                    "state")
              .hint = "add given { } (every rep available, no leads held)";
        } else if (e.value.kind != TK::kString) {
          d_->Error(e.value.span,
                    "skipped takes quoted text that a reason a rep was "
                    "passed over must contain, e.g. skipped = \"away\"");
        }
        continue;  // may be expected more than once
      }
      for (const ast::Expectation* other : seen) {
        if (other->output.text == e.output.text) {
          d_->Error(e.output.span,
                    absl::StrCat("`", e.output.text, "` is expected twice"))
              .notes.push_back({other->output.span, "first expected here"});
        }
      }
      seen.push_back(&e);
      Expect(e);
    }
    if (t.expect.empty()) {
      d_->Error(t.name.span,
                absl::StrCat("test \"", t.name.text, "\" expects nothing"))
          .hint = "add expect { owner = team ... }";
    }
  }

 private:
  void Lead(const ast::Test& t) {
    std::vector<std::string> present;
    for (const ast::Property& p : t.lead) {
      auto it = m_.attributes.find(p.name.text);
      if (it == m_.attributes.end()) {
        d_->Error(p.name.span,
                  absl::StrCat("undefined attribute `", p.name.text, "`"))
            .hint = DidYouMean(p.name.text, m_.attributes);
        continue;
      }
      if (std::find(present.begin(), present.end(), p.name.text) !=
          present.end()) {
        d_->Error(p.name.span,
                  absl::StrCat("`", p.name.text, "` is set twice"));
      }
      present.push_back(p.name.text);
      const auto* lit = std::get_if<ast::Literal>(&p.value);
      if (lit == nullptr) {
        d_->Error(p.value_span, "working hours are not an attribute value");
        continue;
      }
      const ast::AttrDecl& a = *it->second;
      CheckLiteral(
          {a.type, a.type == ast::Type::kEnum ? &a.enum_values : nullptr}, *lit,
          absl::StrCat("`", a.name.text, "`"), d_);
    }
    for (const auto& [name, attr] : m_.attributes) {
      if (attr->required &&
          std::find(present.begin(), present.end(), name) == present.end()) {
        d_->Error(t.lead_span.file >= 0 ? t.lead_span : t.name.span,
                  absl::StrCat("the test lead lacks required attribute `", name,
                               "`"))
            .notes.push_back({attr->required_span, "required here"});
      }
    }
  }

  void Given(const std::vector<ast::Given>& given) {
    using GK = ast::Given::Kind;
    std::vector<const ast::Given*> seen;
    for (const ast::Given& g : given) {
      for (const ast::Given* other : seen) {
        if (other->entity.text == g.entity.text &&
            (other->kind == GK::kOpen) == (g.kind == GK::kOpen)) {
          d_->Error(g.span,
                    absl::StrCat("`", g.entity.text, "` is given twice"))
              .notes.push_back({other->span, "first given here"});
        }
      }
      seen.push_back(&g);
      if (g.kind == GK::kLast) {
        auto team = m_.teams.find(g.entity.text);
        if (team == m_.teams.end()) {
          d_->Error(g.entity.span,
                    absl::StrCat("undefined team `", g.entity.text, "`"))
              .hint = DidYouMean(g.entity.text, m_.teams);
        }
        Rep(g.value);
        continue;
      }
      Rep(g.entity);
      if (g.kind == GK::kOpen) {
        if (g.open.kind != ast::Literal::Kind::kInt || g.open.int_value < 0) {
          d_->Error(g.open.span,
                    "open takes a whole number of leads, 0 or more");
        }
      } else if (g.value.text != "available" && g.value.text != "away" &&
                 g.value.text != "ooo") {
        d_->Error(g.value.span,
                  absl::StrCat("unknown rep status `", g.value.text, "`"))
            .hint =
            "a rep is available, away or ooo (out of office), or has "
            "open N leads";
      }
    }
  }

  void Rep(const ast::Name& name) {
    if (!m_.reps.contains(name.text)) {
      d_->Error(name.span, absl::StrCat("undefined rep `", name.text, "`"))
          .hint = DidYouMean(name.text, m_.reps);
    }
  }

  void Expect(const ast::Expectation& e) {
    const std::string& out = e.output.text;
    const ast::Target& v = e.value;
    if (out == "owner") {
      if (v.kind != TK::kRep && v.kind != TK::kTeam && v.kind != TK::kQueue) {
        d_->Error(v.span, "expect owner = rep NAME, team NAME or queue NAME");
      }
    } else if (out == "priority") {
      if (v.kind != TK::kName) {
        d_->Error(v.span, "expect a priority label");
      } else if (labels_ != nullptr) {
        ast::Literal lit;
        lit.kind = ast::Literal::Kind::kName;
        lit.text = v.name.text;
        lit.span = v.span;
        CheckLiteral({ast::Type::kEnum, labels_, true}, lit, "priority", d_);
      }
    } else if (out == "sla") {
      if (v.kind != TK::kDuration) d_->Error(v.span, "expect a duration");
    } else if (out == "channel") {
      if (v.kind != TK::kName) d_->Error(v.span, "expect a channel name");
    } else if (out == "escalation") {
      if (v.kind != TK::kName) {
        d_->Error(v.span, "expect an escalation's name, or none");
      } else if (v.name.text != "none" &&
                 !m_.escalations.contains(v.name.text)) {
        d_->Error(v.span,
                  absl::StrCat("undefined escalation `", v.name.text, "`"))
            .hint = DidYouMean(v.name.text, m_.escalations);
      }
    } else if (out == "score") {
      if (v.kind != TK::kNumber && v.kind != TK::kPoints) {
        d_->Error(v.span, "expect a whole number");
      }
    } else {
      std::vector<std::string> all(std::begin(kOutputs), std::end(kOutputs));
      d_->Error(e.output.span, absl::StrCat("unknown output `", out, "`"))
          .hint =
          DidYouMean(out, all,
                     "outputs: owner, priority, sla, channel, escalation, "
                     "score, skipped");
      return;
    }
    if (out != "owner" &&
        !m_.stages.contains(out == "priority"     ? ast::StageKind::kPriority
                            : out == "sla"        ? ast::StageKind::kSla
                            : out == "channel"    ? ast::StageKind::kChannel
                            : out == "escalation" ? ast::StageKind::kEscalate
                                                  : ast::StageKind::kScore)) {
      d_->Error(e.output.span,
                absl::StrCat("there is no `", out, "` stage to decide this"));
    }
  }

  const Module& m_;
  Diagnostics* d_;
  const std::vector<ast::Name>* labels_ = nullptr;
};

}  // namespace

void CheckTests(const Module& module, Diagnostics* diagnostics) {
  TestChecker checker(module, diagnostics);
  for (const ast::Test* t : module.tests) checker.Check(*t);
}

}  // namespace leadroute::compiler
