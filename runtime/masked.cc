// Hashing masked values and resolving them for replay; see masked.h.
#include "runtime/masked.h"

#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "runtime/conditions.h"

namespace leadroute::runtime {
namespace {

// Strings a program names anywhere a lead's value could be compared with.
void CollectStrings(const Value& v, absl::flat_hash_set<std::string>* out) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    out->insert(*s);
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&v)) {
    out->insert(list->begin(), list->end());
  }
}

void CollectStrings(const Operand& o, absl::flat_hash_set<std::string>* out) {
  if (o.kind == Operand::Kind::kConstant) CollectStrings(o.constant, out);
  if (o.arg) CollectStrings(*o.arg, out);
}

void CollectStrings(const Cond& c, absl::flat_hash_set<std::string>* out) {
  CollectStrings(c.lhs, out);
  CollectStrings(c.rhs, out);
  CollectStrings(c.rhs2, out);
  for (const Value& v : c.set) CollectStrings(v, out);
  for (const std::unique_ptr<Cond>& child : c.children) {
    if (child) CollectStrings(*child, out);
  }
}

void CollectStrings(const Program& p, absl::flat_hash_set<std::string>* out) {
  for (const Attribute& a : p.attributes) {
    out->insert(a.enum_values.begin(), a.enum_values.end());
    if (a.on_unknown) out->insert(*a.on_unknown);
    if (a.default_value) CollectStrings(*a.default_value, out);
  }
  for (const std::vector<Rule>& stage : p.stages) {
    for (const Rule& r : stage) {
      if (r.when) CollectStrings(*r.when, out);
      for (const Owner& o : r.owners) {
        CollectStrings(o.key, out);
        for (const MemberTest& m : o.where) CollectStrings(m.value, out);
      }
    }
  }
  for (const Table& t : p.tables) {
    for (const auto& [key, value] : t.rows) {
      out->insert(key);
      CollectStrings(value, out);
    }
  }
  for (const Rep& rep : p.reps) {
    out->insert(rep.skills.begin(), rep.skills.end());
    out->insert(rep.languages.begin(), rep.languages.end());
  }
}

// Records the attributes `o` reads a value of, when the test that reads it
// is not an equality with a constant, under that test's text.
void MarkBeyond(const Program& p, const Operand& o, bool equality,
                const std::string& test,
                absl::flat_hash_map<std::string, std::string>* beyond) {
  switch (o.kind) {
    case Operand::Kind::kLookup:
      // A lookup finds its key by equality, whatever reads the result.
      if (o.arg) MarkBeyond(p, *o.arg, /*equality=*/true, test, beyond);
      return;
    case Operand::Kind::kLower:
    case Operand::Kind::kDomain:
      if (o.arg) MarkBeyond(p, *o.arg, equality, test, beyond);
      return;
    case Operand::Kind::kSlot:
      if (!equality && o.slot >= 0 &&
          o.slot < static_cast<int>(p.attributes.size())) {
        beyond->try_emplace(p.attributes[o.slot].name, test);
      }
      return;
    default:
      return;
  }
}

void MarkBeyond(const Program& p, const Cond& c,
                absl::flat_hash_map<std::string, std::string>* beyond) {
  switch (c.kind) {
    case Cond::Kind::kAnd:
    case Cond::Kind::kOr:
    case Cond::Kind::kNot:
      for (const std::unique_ptr<Cond>& child : c.children) {
        if (child) MarkBeyond(p, *child, beyond);
      }
      return;
    case Cond::Kind::kHas:
      return;  // presence: a stand-in is present
    case Cond::Kind::kCompare: {
      const bool eq = c.op == CompareOp::kEq || c.op == CompareOp::kNe;
      MarkBeyond(p, c.lhs, eq && c.rhs.kind == Operand::Kind::kConstant, c.text,
                 beyond);
      MarkBeyond(p, c.rhs, eq && c.lhs.kind == Operand::Kind::kConstant, c.text,
                 beyond);
      return;
    }
    case Cond::Kind::kInSet:
    case Cond::Kind::kInTable:
      MarkBeyond(p, c.lhs, /*equality=*/true, c.text, beyond);
      return;
    default:  // between, within, a bool alone
      MarkBeyond(p, c.lhs, false, c.text, beyond);
      MarkBeyond(p, c.rhs, false, c.text, beyond);
      MarkBeyond(p, c.rhs2, false, c.text, beyond);
      return;
  }
}

}  // namespace

MaskedHashes HashMasked(const KeyedHash& key, absl::string_view value) {
  MaskedHashes h;
  h.key_id = key.id();
  h.value = key.Hash(value);
  const std::string lower = absl::AsciiStrToLower(value);
  if (lower != value) h.lower = key.Hash(lower);
  if (std::optional<std::string> domain = DomainOf(value)) {
    h.domain = key.Hash(*domain);
  }
  return h;
}

MaskedResolver::MaskedResolver(std::shared_ptr<const KeyedHash> key,
                               const std::vector<const Program*>& programs)
    : key_(std::move(key)) {
  for (const Program* p : programs) {
    CollectStrings(*p, &strings_);
    for (const std::vector<Rule>& stage : p->stages) {
      for (const Rule& r : stage) {
        if (r.when) MarkBeyond(*p, *r.when, &beyond_);
        // Owners' lookup keys and `where … contains` are equalities.
      }
    }
  }
  std::vector<std::string> lowered;
  for (const std::string& s : strings_) {
    std::string lower = absl::AsciiStrToLower(s);
    if (lower != s) lowered.push_back(std::move(lower));
  }
  strings_.insert(lowered.begin(), lowered.end());
  if (key_ != nullptr) {
    known_.reserve(strings_.size());
    for (const std::string& s : strings_) known_.emplace(key_->Hash(s), s);
  }
  marker_ = "#masked";
  while (strings_.contains(marker_) ||
         strings_.contains(absl::StrCat(marker_, "@", marker_))) {
    marker_.insert(marker_.begin(), '#');
  }
}

std::string MaskedResolver::Beyond(absl::string_view attribute) const {
  auto it = beyond_.find(attribute);
  return it == beyond_.end() ? "" : it->second;
}

MaskedResolver::Outcome MaskedResolver::Resolve(const HashedAttribute& a,
                                                std::string* value) const {
  if (key_ == nullptr) return Outcome::kNoKey;
  if (a.hashes.key_id != key_->id()) return Outcome::kOtherKey;
  auto known = [&](const std::string& hash) -> const std::string* {
    if (hash.empty()) return nullptr;
    auto it = known_.find(hash);
    return it == known_.end() ? nullptr : &it->second;
  };
  if (const std::string* s = known(a.hashes.value)) {
    *value = *s;
    return Outcome::kExact;
  }
  // Not a string the rules name: only equality tests can be answered.
  if (beyond_.contains(a.name)) return Outcome::kUndecidable;
  if (const std::string* lower = known(a.hashes.lower)) {
    // Its lower case is named (a key of a table ignoring case): a case
    // variant of that which is not itself named. The value had a capital
    // (its lower case differs), so *lower has a letter to change.
    std::string variant = absl::AsciiStrToUpper(*lower);
    if (strings_.contains(variant)) {
      variant = *lower;
      for (char& ch : variant) {
        if (absl::ascii_isalpha(static_cast<unsigned char>(ch))) {
          ch = absl::ascii_toupper(static_cast<unsigned char>(ch));
          if (!strings_.contains(variant)) break;
        }
      }
    }
    if (strings_.contains(variant)) return Outcome::kUndecidable;
    *value = std::move(variant);
    return Outcome::kStandIn;
  }
  std::string standin = marker_;
  if (!a.hashes.domain.empty()) {
    const std::string* domain = known(a.hashes.domain);
    absl::StrAppend(&standin, "@", domain != nullptr ? *domain : marker_);
    while (strings_.contains(standin)) standin.insert(standin.begin(), '#');
  }
  *value = std::move(standin);
  return Outcome::kStandIn;
}

}  // namespace leadroute::runtime
