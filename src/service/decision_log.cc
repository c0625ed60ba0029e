// The decision log's formatting and writer thread; see decision_log.h.
#include "src/service/decision_log.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "src/service/ruleset_registry.h"

namespace leadroute {
namespace {

using Json = nlohmann::ordered_json;

Json ValueJson(const v1::Value& v) {
  switch (v.kind_case()) {
    case v1::Value::kStringValue:
      return v.string_value();
    case v1::Value::kIntValue:
      return v.int_value();
    case v1::Value::kNumberValue:
      return v.number_value();
    case v1::Value::kBoolValue:
      return v.bool_value();
    case v1::Value::kTimeValue:
      return Rfc3339Micros(absl::FromUnixSeconds(v.time_value().seconds()) +
                           absl::Nanoseconds(v.time_value().nanos()));
    case v1::Value::kListValue: {
      Json list = Json::array();
      for (const std::string& s : v.list_value().values()) list.push_back(s);
      return list;
    }
    case v1::Value::KIND_NOT_SET:
      break;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DecisionLog>> DecisionLog::Open(
    const Options& options) {
  std::FILE* out = stdout;
  const bool owned = options.path != "-";
  if (owned) {
    out = std::fopen(options.path.c_str(), "a");
    if (out == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--decision-log ", options.path, ": ", std::strerror(errno)));
    }
  }
  return std::unique_ptr<DecisionLog>(
      new DecisionLog(out, owned,
                      absl::flat_hash_set<std::string>(options.mask.begin(),
                                                       options.mask.end())));
}

DecisionLog::DecisionLog(std::FILE* out, bool owned,
                         absl::flat_hash_set<std::string> mask)
    : out_(out), owned_(owned), mask_(std::move(mask)) {
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

std::string DecisionLog::Line(const Ruleset& ruleset, const v1::Lead& lead,
                              const runtime::Decision& d,
                              absl::string_view decision_id,
                              absl::Time at) const {
  Json j;
  j["ts"] = Rfc3339Micros(at);
  j["decision_id"] = std::string(decision_id);
  j["lead_id"] = lead.id();
  j["ruleset"] = {{"name", ruleset.name},
                  {"version", ruleset.version},
                  {"revision", ruleset.revision},
                  {"fingerprint", ruleset.fingerprint}};
  j["owner"] = d.owner;
  j["owner_kind"] = runtime::OwnerKindName(d.owner_kind);
  j["team"] = d.team;
  j["priority"] = d.priority ? Json(d.priority->label) : Json(nullptr);
  j["sla_seconds"] = d.sla ? Json(absl::ToInt64Seconds(*d.sla)) : Json(nullptr);
  j["respond_by"] =
      d.respond_by ? Json(Rfc3339Micros(*d.respond_by)) : Json(nullptr);
  j["channel"] = d.channel;
  j["escalation"] = d.escalation.empty() ? Json(nullptr) : Json(d.escalation);
  j["score"] = d.score;
  Json rules = Json::array();
  for (const runtime::RuleRef& r : d.decided_by) {
    rules.push_back(
        {{"stage", r.stage}, {"rule", r.rule}, {"location", r.location}});
  }
  j["decided_by"] = std::move(rules);
  // Attributes in name order, so equal leads give equal lines.
  std::vector<const std::string*> names;
  for (const auto& [name, value] : lead.attributes()) names.push_back(&name);
  std::sort(names.begin(), names.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  Json attributes = Json::object();
  for (const std::string* name : names) {
    attributes[*name] = mask_.contains(*name)
                            ? Json("***")
                            : ValueJson(lead.attributes().at(*name));
  }
  j["attributes"] = std::move(attributes);
  // Invalid UTF-8 from a client is replaced, never a reason to lose a line.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void DecisionLog::Record(const Ruleset& ruleset, const v1::Lead& lead,
                         const runtime::Decision& decision,
                         absl::string_view decision_id, absl::Time at) {
  std::string line = Line(ruleset, lead, decision, decision_id, at);
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
