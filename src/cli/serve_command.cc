// `leadroute serve`: compile the rules, start the gRPC server, run until
// SIGTERM/SIGINT.
#include <cstdio>
#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "base/keyed_hash.h"
#include "base/log.h"
#include "runtime/fixed_policy.h"
#include "src/cli/commands.h"
#include "src/server/rules_watcher.h"
#include "src/server/server.h"

namespace leadroute {

std::optional<absl::Duration> ParseSpan(const std::string& text) {
  int64_t days = 0;
  if (absl::EndsWith(text, "d") &&
      absl::SimpleAtoi(absl::string_view(text).substr(0, text.size() - 1),
                       &days) &&
      days >= 0) {
    return absl::Hours(24 * days);
  }
  absl::Duration d;
  if (absl::ParseDuration(text, &d) && d >= absl::ZeroDuration()) return d;
  return std::nullopt;
}

absl::StatusOr<absl::Time> ParseWhen(const char* flag,
                                     const std::string& text) {
  absl::Time t;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &error)) return t;
  return absl::InvalidArgumentError(
      absl::StrCat(flag, ": \"", text,
                   "\" is not an RFC 3339 time (e.g. 2026-11-01T00:00:00Z)"));
}

int ServeCommand(const ServeFlags& flags) {
  ServerOptions options;
  options.listen = flags.listen;
  options.grace = absl::Seconds(flags.grace_seconds);
  options.admin_listen = flags.admin_listen;
  options.max_message_bytes = flags.max_message_bytes;
  options.limits.max_batch_leads = flags.max_batch;
  options.limits.max_lead_bytes = static_cast<size_t>(flags.max_lead_bytes);
  options.max_compiles = flags.max_compiles;
  options.max_stats_scans = flags.max_stats_scans;
  options.limits.max_explained_leads = flags.max_explained_leads;
  options.limits.max_response_bytes =
      static_cast<size_t>(flags.max_response_bytes);
  options.stream_limits.max_streams = flags.max_watchers;
  options.stream_limits.max_per_peer = flags.max_watchers_per_peer;
  options.stream_limits.max_buffered_bytes =
      static_cast<size_t>(flags.watch_buffer_bytes);
  options.decision_log.path = flags.decision_log;
  options.attributes.mask = flags.mask;
  if (!flags.decision_log_key.empty()) {
    absl::StatusOr<KeyedHash> key =
        flags.decision_log.empty() && flags.data_dir.empty() &&
                flags.state.empty()
            ? absl::InvalidArgumentError(
                  "--decision-log-key: nothing to hash for: no "
                  "--decision-log, --data-dir or --state")
            : KeyedHash::FromFile(flags.decision_log_key, "--decision-log-key");
    if (!key.ok()) {
      LogError("bad flag", {{"flag", "--decision-log-key"},
                            {"error", std::string(key.status().message())}});
      return kExitUsageOrIo;
    }
    options.attributes.key = std::make_shared<const KeyedHash>(*std::move(key));
  }
  options.shadow_rules = flags.shadow_rules;
  options.shadow_queue = flags.shadow_queue;
  options.shadow_cpu = flags.shadow_cpu;
  options.data_dir = flags.data_dir;
  options.removed_reps = *runtime::ParseRemovedReps(flags.removed_reps);
  if (!absl::ParseDuration(flags.repeat_window,
                           &options.assigner.repeat_window) ||
      options.assigner.repeat_window < absl::ZeroDuration()) {
    LogError("bad flag", {{"flag", "--repeat-window"},
                          {"value", flags.repeat_window},
                          {"expected", "a duration such as 168h or 30m"}});
    return kExitUsageOrIo;
  }
  if (std::optional<absl::Duration> retention =
          ParseSpan(flags.event_retention)) {
    options.event_retention = *retention;
  } else {
    LogError("bad flag", {{"flag", "--event-retention"},
                          {"value", flags.event_retention},
                          {"expected", "a duration such as 90d or 720h"}});
    return kExitUsageOrIo;
  }
  std::optional<absl::Duration> lead_retention =
      ParseSpan(flags.lead_retention);
  if (!lead_retention || (*lead_retention > absl::ZeroDuration() &&
                          *lead_retention < absl::Hours(24))) {
    LogError("bad flag",
             {{"flag", "--lead-retention"},
              {"value", flags.lead_retention},
              {"expected", "0 (keep all) or a duration of at least 1d"}});
    return kExitUsageOrIo;
  }
  options.lead_retention = *lead_retention;
  std::optional<absl::Duration> ahead = ParseSpan(flags.sla_ahead);
  if (!ahead || *ahead < absl::Minutes(1) || *ahead > absl::Hours(24 * 7)) {
    LogError("bad flag", {{"flag", "--sla-ahead"},
                          {"value", flags.sla_ahead},
                          {"expected", "a duration from 1m to 7d"}});
    return kExitUsageOrIo;
  }
  options.assigner.due_ahead = *ahead;
  options.state = flags.state;
  options.advertise = flags.advertise;
  if (!flags.state.empty() && flags.advertise.empty()) {
    // Other replicas forward to where this one says it answers; a wildcard
    // address is nowhere they can reach.
    const std::string host = flags.listen.substr(0, flags.listen.rfind(':'));
    if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::" ||
        host == "*") {
      LogError("bad flag",
               {{"flag", "--advertise"},
                {"listen", flags.listen},
                {"expected",
                 "with --state and a --listen on every address, the "
                 "host:port the other replicas reach this one at"}});
      return kExitUsageOrIo;
    }
  }
  std::optional<absl::Duration> poll = ParseSpan(flags.writer_poll);
  if (!poll || *poll < absl::Milliseconds(100) || *poll > absl::Minutes(1)) {
    LogError("bad flag", {{"flag", "--writer-poll"},
                          {"value", flags.writer_poll},
                          {"expected", "a duration from 100ms to 1m"}});
    return kExitUsageOrIo;
  }
  options.writer_poll = *poll;
  options.assigner.lead_cache = static_cast<size_t>(flags.lead_cache);
  if (!flags.webhook_url.empty()) {
    options.webhook.url = flags.webhook_url;
    options.webhook.dead_letter_after = flags.webhook_dead_letter_after;
    options.webhook.dead_letter_path = flags.webhook_dead_letter;
    options.webhook.dead_letter_max_bytes = flags.webhook_dead_letter_max_bytes;
    options.webhook_keeps_events = flags.webhook_keep_events;
    std::ifstream in(flags.webhook_secret_file);
    std::getline(in, options.webhook.secret);
    if (flags.webhook_secret_file.empty() || options.webhook.secret.empty()) {
      LogError("bad flag",
               {{"flag", "--webhook-secret-file"},
                {"value", flags.webhook_secret_file},
                {"expected", "a file whose first line is the shared secret"}});
      return kExitUsageOrIo;
    }
  }
  options.auth_file = flags.auth_file;
  options.tls.cert = flags.tls_cert;
  options.tls.key = flags.tls_key;
  options.tls.client_ca = flags.tls_client_ca;
  options.insecure = flags.insecure;
  if (flags.reflection != "auto") options.reflection = flags.reflection == "on";
  RunOptions run;
  run.rules = flags.rules;
  run.watch_interval = absl::Seconds(flags.watch_seconds);

  auto registry = std::make_shared<RulesetRegistry>(flags.keep);
  if (flags.rules.empty()) {
    LogInfo("policy", {{"ruleset", "builtin"},
                       {"note", "no --rules: the built-in demo policy"}});
    registry->InstallPolicy(std::make_shared<runtime::FixedPolicy>(), "builtin",
                            "builtin");
  } else {
    CompileOutcome first = registry->LoadPath(flags.rules);
    if (!first.status.ok()) {
      LogDiagnostics(first);
      const bool unreadable =
          first.status.code() != absl::StatusCode::kInvalidArgument;
      LogError(
          unreadable ? "cannot read rules" : "rules have errors; not serving",
          {{"path", flags.rules},
           {"error", std::string(first.status.message())}});
      return unreadable ? kExitUsageOrIo : kExitRulesOrInput;
    }
    LogReload(first, flags.rules);
    run.files = first.files;
  }
  return RunServer(options, run, std::move(registry));
}

}  // namespace leadroute
