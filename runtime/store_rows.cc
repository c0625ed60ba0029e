// Text forms of the values a store keeps in one column; see store_rows.h.
#include "runtime/store_rows.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace leadroute::runtime {

std::string EncodeRunning(
    const std::vector<std::pair<std::string, int64_t>>& running) {
  std::string out;
  for (const auto& [rep, w] : running) {
    absl::StrAppend(&out, out.empty() ? "" : ";", rep, "=", w);
  }
  return out;
}

std::vector<std::pair<std::string, int64_t>> DecodeRunning(
    absl::string_view text) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (absl::string_view item : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    int64_t w = 0;
    if (absl::SimpleAtoi(kv.second, &w)) out.emplace_back(kv.first, w);
  }
  return out;
}

std::string JoinReps(const std::vector<std::string>& reps) {
  return absl::StrJoin(reps, ";");
}

std::vector<std::string> SplitReps(absl::string_view text) {
  return absl::StrSplit(text, ';', absl::SkipEmpty());
}

}  // namespace leadroute::runtime
