// ClosestMatch: the "did you mean" behind every hint that suggests a name,
// in the compiler's diagnostics and in the runtime's errors alike.
#ifndef LEADROUTE_BASE_CLOSEST_MATCH_H_
#define LEADROUTE_BASE_CLOSEST_MATCH_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace leadroute {

// The closest candidate to `word` by edit distance, or "" when none is
// close enough to suggest (more than a third of the word, and at least 2,
// away).
std::string ClosestMatch(absl::string_view word,
                         const std::vector<std::string>& candidates);

// The same, comparing without regard to ASCII case; returns the candidate
// as written ("europe/pariss" → "Europe/Paris").
std::string ClosestMatchIgnoringCase(
    absl::string_view word, const std::vector<std::string>& candidates);

}  // namespace leadroute

#endif  // LEADROUTE_BASE_CLOSEST_MATCH_H_
