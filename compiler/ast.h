// The AST of one .route file, as written: names are not yet resolved and
// types not yet checked (that is the passes' job). Every node has a Span.
// Declarations keep their source order, so `fmt` can print them back.
#ifndef LEADROUTE_COMPILER_AST_H_
#define LEADROUTE_COMPILER_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/time/time.h"
#include "compiler/source.h"

namespace leadroute::compiler::ast {

struct Name {
  std::string text;
  Span span;
};

// A literal value, or a bare name standing for an enum value, a priority
// label, a channel or a rep.
struct Literal {
  enum class Kind { kString, kInt, kNumber, kBool, kDuration, kName, kList };
  Kind kind = Kind::kString;
  std::string text;  // decoded string, or the name; the source text otherwise
  int64_t int_value = 0;
  double number_value = 0;
  bool bool_value = false;
  absl::Duration duration;
  std::vector<Literal> items;  // kList
  Span span;
};

// kDuration is not a schema type: it is what `sla` reads as in later stages.
enum class Type {
  kString,
  kInt,
  kNumber,
  kBool,
  kTime,
  kList,
  kEnum,
  kRep,
  kTeam,
  kDuration
};

struct Property;

struct RulesetHeader {
  Literal name;
  Literal version;
  std::vector<Property> properties;  // settings: removed_reps
  Span span;
};

struct Include {
  Literal path;
  Span span;
};

struct AttrDecl {
  Name name;
  Type type = Type::kString;
  Span type_span;
  std::vector<Name> enum_values;  // kEnum
  bool required = false;
  Span required_span;
  // `pii`: personal data, masked in the decision log.
  bool pii = false;
  std::optional<Literal> default_value;
  // kEnum: the value a lead's unknown one becomes (`on unknown NAME`);
  // without it, an unknown value fails the lead.
  std::optional<Name> on_unknown;
  Span span;
};

struct Schema {
  std::vector<AttrDecl> attributes;
  Span span;
};

// Working hours: days `first`..`last` (0 = mon .. 6 = sun), minutes from
// midnight [start, end).
struct HoursSpan {
  int first_day = 0;
  int last_day = 0;
  int start_minute = 0;  // -1 when not a time of day (reported later)
  int end_minute = 0;
  std::string start_text;  // "09:00", as written
  std::string end_text;
  Span span;
};

struct Property {
  Name name;
  std::variant<Literal, std::vector<HoursSpan>> value;
  Span value_span;
  Span span;
};

struct Entity {
  enum class Kind { kRep, kTeam, kQueue };
  Kind kind = Kind::kRep;
  Name name;
  std::vector<Property> properties;
  Span span;
};

struct CsvSource {
  Literal path;
  Literal key_column;
  Literal value_column;
  Span span;
};

struct TableEntry {
  Literal key;
  Literal value;
  Span span;
};

struct Table {
  Name name;
  Type key_type = Type::kString;
  Span key_type_span;
  Type value_type = Type::kString;
  Span value_type_span;
  std::vector<TableEntry> entries;
  std::optional<CsvSource> csv;
  // `ignoring case` (true) or `matching case` (false), when written.
  std::optional<bool> ignore_case;
  Span case_span;
  Span span;
};

// Whether a table's string keys are compared ignoring ASCII case: as it
// says, else when its name or CSV key column mentions a domain or an email
// (domain() lower-cases, and people type emails in any case).
bool KeysIgnoreCase(const Table& table);

// A value inside a condition: an attribute, a literal, or a call such as
// region(country) or domain(email).
struct Operand {
  enum class Kind { kAttribute, kLiteral, kCall };
  Kind kind = Kind::kAttribute;
  Name name;  // attribute or function
  Literal literal;
  std::vector<Operand> args;
  Span span;
};

enum class CompareOp {
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kStartsWith,
  kEndsWith,
  kContains
};

struct Expr {
  enum class Kind {
    kAnd,      // children, all true
    kOr,       // children, any true
    kNot,      // children[0] false
    kHas,      // attribute `lhs.name` present
    kCompare,  // lhs op rhs
    kIn,       // lhs in set (set_items or set_table)
    kNotIn,    // lhs not in set
    kBetween,  // rhs <= lhs <= rhs2
    kWithin,   // time lhs within `duration` before now
    kTruthy,   // a bare bool operand
  };
  Kind kind = Kind::kTruthy;
  CompareOp op = CompareOp::kEq;
  Span op_span;
  std::vector<std::unique_ptr<Expr>> children;
  Operand lhs;
  Operand rhs;
  std::unique_ptr<Operand> rhs2;  // kBetween only: kept out of line, as
                                  // most conditions have no second bound
  std::vector<Literal> set_items;
  std::optional<Name> set_table;
  absl::Duration duration;    // kWithin
  std::string duration_text;  // kWithin, as written
  Span span;
};

// One test of `team NAME where ...`: a property of each member against a
// value. For seniority the value names a level (`senior`); for skills and
// languages it is a string or a lead attribute.
struct MemberTest {
  Name property;
  CompareOp op = CompareOp::kEq;
  Span op_span;
  Operand value;
  Span span;
};

// One outcome of a rule: `team x`, `rep y`, `queue z`, a lookup call, a
// label or channel name, a duration, a number, or +/- points.
struct Target {
  enum class Kind {
    kRep,
    kTeam,
    kQueue,
    kCall,
    kName,
    kString,
    kDuration,
    kNumber,
    kPoints
  };
  Kind kind = Kind::kName;
  Name name;     // rep/team/queue/label/channel/function name
  Operand call;  // kCall
  std::string text;
  int64_t number = 0;  // kNumber, kPoints (signed)
  absl::Duration duration;
  std::vector<MemberTest> where;  // kTeam: who in the team may take it
  Span span;
};

// `sticky 30d`, `sticky off` or `sticky 90d anywhere` on an assign rule.
struct Sticky {
  bool off = false;
  absl::Duration window;  // unless off
  bool anywhere = false;
  std::string text;  // one space between its words, e.g. "sticky 30d"
  Span span;
};

// `allow overlap, never_fires "reason"`: findings of `check` the rule
// author accepts, after a rule (for it) or at the top of a stage (for all).
struct Allow {
  std::vector<Name> codes;
  Literal reason;
  Span span;
};

struct Rule {
  Name name;  // "otherwise" for the default
  bool is_otherwise = false;
  std::unique_ptr<Expr> when;   // null for otherwise
  std::vector<Target> outcome;  // first choice, then fallbacks
  std::optional<Sticky> sticky;
  std::optional<Allow> allow;
  Span span;
};

enum class StageKind { kScore, kAssign, kPriority, kSla, kChannel, kEscalate };

struct Stage {
  StageKind kind = StageKind::kAssign;
  Span kind_span;
  std::vector<Name> labels;  // priority only: most urgent first
  Span labels_span;
  std::vector<Allow> allows;  // for the whole stage
  std::vector<Rule> rules;    // in order; `otherwise` included where written
  Span span;
};

// `at 80% notify [manager|owner]` or `at 100% reassign to T else T ...`.
struct EscalationStep {
  int64_t percent = 0;
  Span percent_span;
  bool reassign = false;
  std::optional<Name> notify_whom;  // notify: manager or owner
  std::vector<Target> to;           // reassign: next_rep, manager, rep,
                                    // team or queue, in order
  Span span;
};

// `escalation NAME { steps and properties }`: what happens to a lead whose
// owner does not contact it in time.
struct Escalation {
  Name name;
  std::vector<EscalationStep> steps;  // as written
  std::vector<Property> properties;   // max_hops, clock
  Span span;
};

struct Expectation {
  Name output;
  Target value;
  Span span;
};

// One fact of a test's `given` state: `rep NAME STATUS`, `rep NAME open N`
// or `team NAME last REP`.
struct Given {
  enum class Kind { kStatus, kOpen, kLast };
  Kind kind = Kind::kStatus;
  Name entity;   // the rep, or the team
  Name value;    // kStatus: available, away or ooo; kLast: the rep
  Literal open;  // kOpen: the number of open leads
  Span span;
};

struct Test {
  Literal name;
  std::optional<Literal> at;  // evaluation time, RFC 3339
  // `given { ... }`: the reps' and teams' state; with it (even empty) the
  // test chooses the rep as the server would.
  std::optional<std::vector<Given>> given;
  Span given_span;
  std::vector<Property> lead;
  Span lead_span;
  std::vector<Expectation> expect;
  Span span;
};

using Declaration = std::variant<RulesetHeader, Include, Schema, Entity, Table,
                                 Escalation, Stage, Test>;

struct File {
  int source = -1;  // id in the SourceSet
  std::vector<Declaration> declarations;
};

absl::string_view StageName(StageKind kind);
absl::string_view TypeName(Type type);

}  // namespace leadroute::compiler::ast

#endif  // LEADROUTE_COMPILER_AST_H_
