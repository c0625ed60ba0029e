// `leadroute report --shadow`: what the shadow rulesets said differently
// from the live ones, read from the decision log's shadow lines
// (DecisionLog::RecordShadow) in a window: per shadow ruleset, the leads it
// decided otherwise, by output and by owner transition, against the leads
// routed in the window. The server's own running counts are GetStatus'
// and /metrics'; this is the record that outlives restarts.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "base/log.h"
#include "src/cli/commands.h"
#include "src/cli/line_reader.h"
#include "src/service/decision_log_reader.h"

namespace leadroute {
namespace {

struct ShadowTally {
  std::string ruleset;  // "name version"
  std::string fingerprint;
  absl::Time first = absl::InfiniteFuture(), last = absl::InfinitePast();
  int64_t leads = 0;                         // decided otherwise
  std::map<std::string, int64_t> by_output;  // "owner" -> leads
  std::map<std::pair<std::string, std::string>, int64_t> transitions;
};

std::string When(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d %H:%M", t, absl::UTCTimeZone());
}

}  // namespace

int ShadowReport(const ReportFlags& flags, absl::Time from, absl::Time to) {
  if (flags.decision_log.empty()) {
    std::fprintf(stderr,
                 "leadroute report: --shadow reads --decision-log FILE (the "
                 "server's decision log)\n");
    return kExitUsageOrIo;
  }
  if (flags.format == "csv") {
    std::fprintf(stderr,
                 "leadroute report: --shadow prints table or json, not csv\n");
    return kExitUsageOrIo;
  }
  const std::string& path = flags.decision_log;
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "leadroute report: %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return kExitUsageOrIo;
  }
  int64_t size = -1;
  if (file != stdin && std::fseek(file, 0, SEEK_END) == 0) {
    size = std::ftell(file);
    std::rewind(file);
  }
  LineReader lines(file, flags.max_line_bytes);
  Progress progress(absl::StrCat("Reading ", path), size);
  std::map<std::string, ShadowTally> shadows;  // by fingerprint
  LoggedDecision logged;
  int64_t routed = 0, unreadable = 0, read = 0;
  absl::string_view line;
  bool too_long = false;
  while (lines.Next(&line, &too_long)) {
    if (!too_long && absl::StripAsciiWhitespace(line).empty()) continue;
    progress.Tick(++read, lines.consumed());
    absl::Status s = too_long ? absl::InvalidArgumentError(absl::StrCat(
                                    "longer than ", flags.max_line_bytes,
                                    " bytes (--max-line-bytes)"))
                              : ReadDecisionLine(line, &logged);
    if (!s.ok()) {
      if (unreadable++ < 5) {
        std::fprintf(stderr, "leadroute report: %s:%lld: %s\n", path.c_str(),
                     static_cast<long long>(lines.number()),
                     std::string(s.message()).c_str());
      }
      continue;
    }
    if (logged.decided_at < from || logged.decided_at >= to) continue;
    if (logged.shadow_of.empty()) {
      ++routed;
      continue;
    }
    ShadowTally& t = shadows[logged.fingerprint];
    t.ruleset = logged.ruleset;
    t.fingerprint = logged.fingerprint;
    t.first = std::min(t.first, logged.decided_at);
    t.last = std::max(t.last, logged.decided_at);
    ++t.leads;
    for (const std::string& output : logged.changed) ++t.by_output[output];
    if (logged.live_target != logged.decision.owner) {
      ++t.transitions[{logged.live_target, logged.decision.owner}];
    }
  }
  const bool failed = lines.failed();
  if (file != stdin) std::fclose(file);
  if (failed) {
    std::fprintf(stderr, "leadroute report: %s: read error\n", path.c_str());
    return kExitUsageOrIo;
  }
  // Transitions, most leads first.
  auto sorted = [](const ShadowTally& t) {
    std::vector<std::pair<int64_t, std::pair<std::string, std::string>>> out;
    for (const auto& [pair, n] : t.transitions) out.push_back({-n, pair});
    std::sort(out.begin(), out.end());
    return out;
  };
  if (flags.format == "json") {
    using Json = nlohmann::ordered_json;
    Json j;
    j["from"] = Rfc3339Micros(from);
    j["to"] = Rfc3339Micros(to);
    j["routed"] = routed;
    j["unreadable"] = unreadable;
    Json list = Json::array();
    for (const auto& [fingerprint, t] : shadows) {
      Json moves = Json::array();
      for (const auto& [n, pair] : sorted(t)) {
        moves.push_back(
            {{"from", pair.first}, {"to", pair.second}, {"leads", -n}});
      }
      list.push_back({{"ruleset", t.ruleset},
                      {"fingerprint", fingerprint},
                      {"first", Rfc3339Micros(t.first)},
                      {"last", Rfc3339Micros(t.last)},
                      {"leads", t.leads},
                      {"changed", t.by_output},
                      {"transitions", std::move(moves)}});
    }
    j["shadows"] = std::move(list);
    std::printf("%s\n",
                j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  std::printf("Shadow rulesets in %s, %s to %s UTC: %s leads routed\n",
              path.c_str(), When(from).c_str(), When(to).c_str(),
              Grouped(routed).c_str());
  if (shadows.empty()) std::printf("  no shadow ruleset disagreed\n");
  for (const auto& [fingerprint, t] : shadows) {
    std::printf("\n%s (%s): %s leads decided otherwise, %s to %s\n",
                t.ruleset.c_str(), fingerprint.c_str(),
                Grouped(t.leads).c_str(), When(t.first).c_str(),
                When(t.last).c_str());
    for (const auto& [output, n] : t.by_output) {
      std::printf("  %-12s %10s\n", output.c_str(), Grouped(n).c_str());
    }
    for (const auto& [n, pair] : sorted(t)) {
      std::printf("  %s -> %s: %s\n", pair.first.c_str(), pair.second.c_str(),
                  Grouped(-n).c_str());
    }
  }
  if (unreadable > 0) {
    std::printf("\n%s lines could not be read (see stderr)\n",
                Grouped(unreadable).c_str());
  }
  return kExitOk;
}

}  // namespace leadroute
