// Names and key forms for runtime programs; see program.h.
#include "runtime/program.h"

#include "absl/strings/ascii.h"

namespace leadroute::runtime {

const char* StageIdName(StageId id) {
  static constexpr const char* kNames[] = {"score", "assign",  "priority",
                                           "sla",   "channel", "escalate"};
  return kNames[static_cast<int>(id)];
}

const char* StrategyName(Strategy s) {
  static constexpr const char* kNames[] = {"round_robin", "weighted",
                                           "least_loaded"};
  return kNames[static_cast<int>(s)];
}

namespace {

std::optional<absl::CivilDay> ParseDay(absl::string_view text) {
  absl::CivilDay day;
  // ParseCivilTime also takes "2026-12-24T..." forms; a day is 10 chars.
  if (text.size() != 10 || !absl::ParseCivilTime(text, &day)) {
    return std::nullopt;
  }
  return day;
}

void OperandSlots(const Operand& o, std::vector<bool>* read) {
  if (o.kind == Operand::Kind::kSlot && o.slot >= 0 &&
      o.slot < static_cast<int>(read->size())) {
    (*read)[o.slot] = true;
  }
  if (o.arg) OperandSlots(*o.arg, read);
}

void CondSlots(const Cond& c, std::vector<bool>* read) {
  OperandSlots(c.lhs, read);
  OperandSlots(c.rhs, read);
  OperandSlots(c.rhs2, read);
  for (const std::unique_ptr<Cond>& child : c.children) {
    if (child) CondSlots(*child, read);
  }
}

}  // namespace

std::vector<bool> SlotsRead(const Program& p) {
  std::vector<bool> read(p.attributes.size(), false);
  for (const std::vector<Rule>& stage : p.stages) {
    for (const Rule& r : stage) {
      if (r.when) CondSlots(*r.when, &read);
      for (const Owner& o : r.owners) {
        OperandSlots(o.key, &read);
        for (const MemberTest& m : o.where) OperandSlots(m.value, &read);
      }
    }
  }
  return read;
}

std::optional<std::pair<absl::CivilDay, absl::CivilDay>> ParseDayRange(
    absl::string_view text) {
  const size_t dots = text.find("..");
  std::optional<absl::CivilDay> first =
      ParseDay(dots == absl::string_view::npos ? text : text.substr(0, dots));
  std::optional<absl::CivilDay> last =
      dots == absl::string_view::npos ? first : ParseDay(text.substr(dots + 2));
  if (!first || !last || *last < *first) return std::nullopt;
  return std::make_pair(*first, *last);
}

const char* RemovedRepsName(RemovedReps r) {
  switch (r) {
    case RemovedReps::kKeep:
      return "keep";
    case RemovedReps::kRelease:
      return "release";
    case RemovedReps::kReassign:
      return "reassign";
  }
  return "?";
}

std::optional<RemovedReps> ParseRemovedReps(absl::string_view name) {
  for (RemovedReps r :
       {RemovedReps::kKeep, RemovedReps::kRelease, RemovedReps::kReassign}) {
    if (name == RemovedRepsName(r)) return r;
  }
  return std::nullopt;
}

std::string KeyText(const Value& v) {
  return TypeOf(v) == ValueType::kString ? std::get<std::string>(v)
                                         : DebugString(v);
}

std::string Table::RowKey(const Value& key) const {
  std::string text = KeyText(key);
  if (ignore_case) absl::AsciiStrToLower(&text);
  return text;
}

const Value* Table::Find(const Value& key) const {
  // A string key matched by case is looked up as it is, without a copy.
  const std::string* text = std::get_if<std::string>(&key);
  auto it = text != nullptr && !ignore_case ? rows.find(*text)
                                            : rows.find(RowKey(key));
  return it == rows.end() ? nullptr : &it->second;
}

}  // namespace leadroute::runtime
