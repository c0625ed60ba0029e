// LeadAttributes: what is kept of a routed lead's attributes, where it is
// kept — the decision log's `attributes` and the state store's
// Assignment::logged, which `leadroute replay` reads back. Only attributes
// the schema declares; those it marks `pii` and those `serve --mask` names
// written "***", or, with a key (serve --decision-log-key), as keyed hashes
// when they are strings a rule reads (runtime/masked.h).
#ifndef LEADROUTE_SRC_SERVICE_LEAD_ATTRIBUTES_H_
#define LEADROUTE_SRC_SERVICE_LEAD_ATTRIBUTES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "base/keyed_hash.h"
#include "runtime/program.h"
#include "src/wire/lead_reader.h"

namespace leadroute {

class LeadAttributes {
 public:
  struct Options {
    // Attribute names (in any case) to write as "***" besides the `pii`
    // ones (serve --mask).
    std::vector<std::string> mask;
    // With a key (serve --decision-log-key): a masked string attribute the
    // live rules (or the shadow's) read is written as its keyed hashes
    // (runtime/masked.h); may be null.
    std::shared_ptr<const KeyedHash> key;
  };
  explicit LeadAttributes(const Options& options);

  // A lead's attributes as the reader read them, as a JSON object in name
  // order of those `program`'s schema declares (none without a program).
  // Taken before binding moves the values out of the reader, so nothing
  // reads the lead's bytes again. `also` (may be null) is the shadow's
  // program while one runs, so that history can be replayed with it too:
  // an attribute either schema declares is kept, either's `pii` masks it,
  // and a masked string either's rules read is kept as its keyed hashes.
  std::string Json(const std::vector<LeadReader::Attribute>& attributes,
                   const runtime::Program* program,
                   const runtime::Program* also = nullptr) const;

  // Assignment::logged: `attributes` (from Json) with the time the rules
  // read and what they chose ("team:emea").
  static std::string Logged(absl::Time received_at, absl::string_view target,
                            absl::string_view attributes);

 private:
  absl::flat_hash_set<std::string> mask_;
  std::shared_ptr<const KeyedHash> key_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_LEAD_ATTRIBUTES_H_
