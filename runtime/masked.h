// Masked attributes in history. The decision log writes an attribute the
// schema marks `pii` (or `serve --mask` names) as "***" — unless the server
// has a key (`serve --decision-log-key`) and a rule reads the attribute:
// then it writes keyed hashes of what the rules can ask of a string:
//
//   "email":{"hmac":"<value>","lower":"<lower(value)>",
//            "domain":"<domain(value)>","key":"<key id>"}
//
// (`lower` left out when it is the value, `domain` when there is none; all
// HMAC-SHA256 under the key, base/keyed_hash.h). Nobody can read the email
// back; `leadroute replay`, given the same key, decides on it all the same:
//
// - Exactly, when the value is a string the rules name somewhere (a
//   literal, a table key or value, an enum value, a rep's skill or
//   language, in either case): the hash of that string matches, and the
//   lead is bound with it.
// - With a stand-in, when it is none of them: a case variant of the string
//   its lower case matches, or else a text that equals no string the rules
//   name and whose domain() is the lead's (matched the same way), another
//   unnamed one, or none, as the lead's was. Every test the rules can make
//   by equality — ==, !=, in [..], in TABLE, a table lookup (ignoring case
//   or not), a team's `where … contains` — answers as it did on the value.
// - Not at all, when a rule also tests the value otherwise (starts_with,
//   ends_with, contains, an order, a comparison with another attribute):
//   a hash cannot answer those. The lead is decided as if the attribute
//   were missing, and the report says which rule's test was the reason.
//
// Only string (and enum) attributes are hashed; other types stay "***".
#ifndef LEADROUTE_RUNTIME_MASKED_H_
#define LEADROUTE_RUNTIME_MASKED_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "base/keyed_hash.h"
#include "runtime/program.h"

namespace leadroute::runtime {

// What history keeps of one masked value: base64url HMACs under `key_id`.
struct MaskedHashes {
  std::string key_id;
  std::string value;   // of the value as the lead sent it
  std::string lower;   // of lower(value); empty when that is the value
  std::string domain;  // of domain(value); empty when it has none
};

// The hashes the decision log writes for `value` under `key`.
MaskedHashes HashMasked(const KeyedHash& key, absl::string_view value);

// A historical lead's masked attribute, with its hashes.
struct HashedAttribute {
  std::string name;
  MaskedHashes hashes;
};

// What replay binds for hashed attributes, for the rulesets it decides
// with. Immutable once built.
class MaskedResolver {
 public:
  // `key`: the key history was hashed under (null: none given). `programs`:
  // every ruleset that will decide the leads (the candidate, and the
  // baseline with --against); their strings are hashed once, here.
  MaskedResolver(std::shared_ptr<const KeyedHash> key,
                 const std::vector<const Program*>& programs);

  enum class Outcome {
    kExact,        // *value is the lead's value
    kStandIn,      // *value answers every test the rules make as the
                   // lead's value would
    kNoKey,        // no key was given
    kOtherKey,     // hashed under another key
    kUndecidable,  // a rule tests it otherwise than by equality (see
                   // Beyond), or no stand-in answers as it would
  };
  Outcome Resolve(const HashedAttribute& attribute, std::string* value) const;

  // The first test of `attribute` a hash cannot answer, as written (e.g.
  // `email ends_with ".edu"`); empty when there is none.
  std::string Beyond(absl::string_view attribute) const;

 private:
  std::shared_ptr<const KeyedHash> key_;
  absl::flat_hash_map<std::string, std::string> known_;  // hash -> string
  absl::flat_hash_set<std::string> strings_;  // every string named, both cases
  absl::flat_hash_map<std::string, std::string> beyond_;  // name -> test
  std::string marker_;  // a text no rule names, for stand-ins
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_MASKED_H_
