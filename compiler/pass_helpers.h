// What several checking passes share (passes.h): stage outputs' types,
// properties set twice, literals against a type, "did you mean" hints.
#ifndef LEADROUTE_COMPILER_PASS_HELPERS_H_
#define LEADROUTE_COMPILER_PASS_HELPERS_H_

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "base/closest_match.h"
#include "compiler/ast.h"
#include "compiler/diagnostic.h"

namespace leadroute::compiler {

// The type a stage output has when a later stage
// reads it, or nullopt when `name` is not a stage output.
struct OutputInfo {
  ast::StageKind stage;
  ast::Type type;  // kInt for score, kEnum (labels) for priority, ...
};
std::optional<OutputInfo> StageOutput(absl::string_view name);

// "`NAME` is set twice" at each property that repeats an earlier one's
// name, with a note at the first (rep, team and escalation blocks).
void ErrorOnPropertiesSetTwice(const std::vector<ast::Property>& properties,
                               Diagnostics* diagnostics);

// What a literal must be: a type, and for enums and priority labels the
// names it may take.
struct LiteralType {
  ast::Type type;
  const std::vector<ast::Name>* symbols = nullptr;
  bool labels = false;  // symbols are priority labels, not enum values
};
// Whether `lit` is a value of `want`; reports why not, naming `what`.
bool CheckLiteral(const LiteralType& want, const ast::Literal& lit,
                  absl::string_view what, Diagnostics* diagnostics);
// "an int", "a string", ...
std::string TypeArticle(ast::Type type);

// "did you mean `x`?" for the closest of `candidates`, or `otherwise` when
// none is close.
inline std::string DidYouMean(absl::string_view word,
                              const std::vector<std::string>& candidates,
                              std::string otherwise = "") {
  std::string best = ClosestMatch(word, candidates);
  return best.empty() ? otherwise : "did you mean `" + best + "`?";
}

// The same over a symbol table's names.
template <typename Map>
std::string DidYouMean(absl::string_view word, const Map& map) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : map) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return DidYouMean(word, keys);
}

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_PASS_HELPERS_H_
