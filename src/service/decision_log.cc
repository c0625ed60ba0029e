// The decision log's formatting and writer thread; see decision_log.h.
#include "src/service/decision_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "runtime/replay.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {
namespace {

using Json = nlohmann::ordered_json;

// The fields a routed lead's line and a shadow's line write alike.
Json RulesetJson(const Ruleset& r) {
  return {{"name", r.name},
          {"version", r.version},
          {"revision", r.revision},
          {"fingerprint", r.fingerprint}};
}
Json PriorityJson(const runtime::Decision& d) {
  return d.priority ? Json(d.priority->label) : Json(nullptr);
}
Json SlaJson(const runtime::Decision& d) {
  return d.sla ? Json(absl::ToInt64Seconds(*d.sla)) : Json(nullptr);
}
Json EscalationJson(const runtime::Decision& d) {
  return d.escalation.empty() ? Json(nullptr) : Json(d.escalation);
}
Json DecidedByJson(const runtime::Decision& d) {
  Json rules = Json::array();
  for (const runtime::RuleRef& r : d.decided_by) {
    rules.push_back(
        {{"stage", r.stage}, {"rule", r.rule}, {"location", r.location}});
  }
  return rules;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DecisionLog>> DecisionLog::Open(
    const Options& options) {
  std::FILE* out = stdout;
  const bool owned = options.path != "-";
  if (owned) {
    // 0600: the log holds leads, and only the server's user reads it.
    const int fd = open(options.path.c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    out = fd < 0 ? nullptr : fdopen(fd, "a");
    if (out == nullptr) {
      if (fd >= 0) close(fd);
      return absl::InvalidArgumentError(absl::StrCat(
          "--decision-log ", options.path, ": ", std::strerror(errno)));
    }
  }
  return std::unique_ptr<DecisionLog>(new DecisionLog(out, owned));
}

DecisionLog::DecisionLog(std::FILE* out, bool owned)
    : out_(out), owned_(owned) {
  writer_ = std::thread([this] { WriterLoop(); });
}

DecisionLog::~DecisionLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_writer_.notify_one();
  writer_.join();
  if (owned_) std::fclose(out_);
}

std::string DecisionLog::Line(const Ruleset& ruleset,
                              absl::string_view attributes,
                              const runtime::Decision& d,
                              absl::string_view decision_id, absl::Time at,
                              absl::Time received_at) const {
  Json j;
  j["ts"] = Rfc3339Micros(at);
  j["received_at"] = Rfc3339Micros(received_at);
  j["decision_id"] = std::string(decision_id);
  j["lead_id"] = d.lead_id;
  j["ruleset"] = RulesetJson(ruleset);
  j["owner"] = d.owner;
  j["owner_kind"] = runtime::OwnerKindName(d.owner_kind);
  j["team"] = d.team;
  j["target"] = runtime::TargetOf(d);
  j["priority"] = PriorityJson(d);
  j["sla_seconds"] = SlaJson(d);
  j["respond_by"] =
      d.respond_by ? Json(Rfc3339Micros(*d.respond_by)) : Json(nullptr);
  j["channel"] = d.channel;
  j["escalation"] = EscalationJson(d);
  j["score"] = d.score;
  j["decided_by"] = DecidedByJson(d);
  // The attributes, already written, go last: the object without its
  // closing brace, then them.
  std::string line = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  line.pop_back();
  absl::StrAppend(
      &line, ",\"attributes\":", attributes.empty() ? "{}" : attributes, "}");
  return line;
}

std::string DecisionLog::ShadowLine(
    const Ruleset& shadow, const runtime::Decision& d,
    absl::string_view shadow_of, absl::string_view live_target,
    const std::array<bool, runtime::kReplayOutputs>& changed, absl::Time at,
    absl::Time received_at) const {
  Json j;
  j["ts"] = Rfc3339Micros(at);
  j["received_at"] = Rfc3339Micros(received_at);
  j["shadow_of"] = std::string(shadow_of);
  j["lead_id"] = d.lead_id;
  j["ruleset"] = RulesetJson(shadow);
  Json outputs = Json::array();
  for (int o = 0; o < runtime::kReplayOutputs; ++o) {
    if (changed[o]) {
      outputs.push_back(
          runtime::ReplayOutputName(static_cast<runtime::ReplayOutput>(o)));
    }
  }
  j["changed"] = std::move(outputs);
  j["live_target"] = std::string(live_target);
  j["target"] = runtime::TargetOf(d);
  j["priority"] = PriorityJson(d);
  j["sla_seconds"] = SlaJson(d);
  j["channel"] = d.channel;
  j["escalation"] = EscalationJson(d);
  j["decided_by"] = DecidedByJson(d);
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void DecisionLog::RecordShadow(
    const Ruleset& shadow, const runtime::Decision& decision,
    absl::string_view shadow_of, absl::string_view live_target,
    const std::array<bool, runtime::kReplayOutputs>& changed, absl::Time at,
    absl::Time received_at) {
  std::string line = ShadowLine(shadow, decision, shadow_of, live_target,
                                changed, at, received_at);
  line += '\n';
  Append(std::move(line));
}

void DecisionLog::Record(const Ruleset& ruleset, std::string attributes,
                         const runtime::Decision& decision,
                         absl::string_view decision_id, absl::Time at,
                         absl::Time received_at) {
  std::string line =
      Line(ruleset, attributes, decision, decision_id, at, received_at);
  line += '\n';
  Append(std::move(line));
}

void DecisionLog::Append(std::string line) {
  std::unique_lock<std::mutex> lock(mu_);
  space_.wait(lock, [this] { return pending_.size() < kMaxPendingBytes; });
  const bool was_empty = pending_.empty();
  pending_ += line;
  ++appended_;
  ++pending_lines_;
  if (was_empty) wake_writer_.notify_one();
}

void DecisionLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = appended_;
  wake_writer_.notify_one();
  space_.wait(lock, [&] { return written_ >= target; });
}

void DecisionLog::WriterLoop() {
  std::string batch;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_writer_.wait(lock, [this] { return stop_ || !pending_.empty(); });
    if (pending_.empty() && stop_) return;
    batch.swap(pending_);
    const uint64_t lines = pending_lines_;
    pending_lines_ = 0;
    space_.notify_all();
    lock.unlock();
    const bool ok =
        std::fwrite(batch.data(), 1, batch.size(), out_) == batch.size() &&
        std::fflush(out_) == 0;
    batch.clear();
    lock.lock();
    if (!ok && !failed_) {
      failed_ = true;
      LogError("decision log: write failed; lines are being lost",
               {{"error", std::strerror(errno)}});
    }
    written_ += lines;
    space_.notify_all();
  }
}

}  // namespace leadroute
