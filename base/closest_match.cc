// Edit-distance suggestions; see closest_match.h.
#include "base/closest_match.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace leadroute {

std::string ClosestMatch(absl::string_view word,
                         const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    // Levenshtein distance, two rows.
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        size_t sub = prev[j - 1] + (word[i - 1] == c[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_distance) {
      best_distance = prev[c.size()];
      best = c;
    }
  }
  return best;
}

std::string ClosestMatchIgnoringCase(
    absl::string_view word, const std::vector<std::string>& candidates) {
  std::vector<std::string> lower;
  lower.reserve(candidates.size());
  for (const std::string& c : candidates) {
    lower.push_back(absl::AsciiStrToLower(c));
  }
  const std::string best = ClosestMatch(absl::AsciiStrToLower(word), lower);
  for (size_t i = 0; i < lower.size() && !best.empty(); ++i) {
    if (lower[i] == best) return candidates[i];
  }
  return "";
}

}  // namespace leadroute
