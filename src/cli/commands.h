// The `leadroute` subcommands, one function each; main.cc only parses flags.
// Every function returns the process exit code, one of the kExit* below.
#ifndef LEADROUTE_SRC_CLI_COMMANDS_H_
#define LEADROUTE_SRC_CLI_COMMANDS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/policy.h"
#include "runtime/state_store.h"
#include "src/cli/client.h"

namespace leadroute {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRulesOrInput = 1;  // the rules or the input are wrong
inline constexpr int kExitUsageOrIo = 2;     // bad flags, unreadable file, I/O

struct ServeFlags {
  std::string listen = "127.0.0.1:50051";
  std::string rules;
  double grace_seconds = 10;
  std::string admin_listen;          // HTTP /metrics /healthz /status
  double watch_seconds = 1;          // poll the rule files; 0: never
  int keep = 10;                     // rulesets retained for Rollback
  int max_batch = 10000;             // leads per RouteBatch
  int max_lead_bytes = 64 << 10;     // per lead
  int max_stats_scans = 2;           // GetStats scanning at once
  int max_compiles = 2;              // ValidateRules/PublishRules at once
  int max_explained_leads = 1000;    // per RouteBatch with explain/why_not
  int max_watchers = 64;             // WatchAssignments streams at once
  int max_watchers_per_peer = 16;    // ... from one host
  int watch_buffer_bytes = 8 << 20;  // live events a stream holds unsent
  int max_message_bytes = 16 << 20;
  int max_response_bytes = 32 << 20;
  std::string decision_log;       // file, or "-" for stdout
  std::vector<std::string> mask;  // attributes the decision log masks
  std::string decision_log_key;   // a file: masked attributes rules read are
                                  // logged as keyed hashes
  std::string shadow_rules;       // a ruleset run beside the live one
  int64_t shadow_queue = 100000;  // leads waiting for the shadow at most
  double shadow_cpu = 0.25;       // share of a core the shadow may use
  std::string data_dir;           // state; empty: none
  std::string state;              // or on PostgreSQL, shared by replicas
  std::string advertise;          // where other replicas reach this one
  std::string writer_poll = "1s";
  std::string repeat_window = "168h";
  std::string removed_reps = "keep";    // keep | release | reassign
  std::string event_retention = "90d";  // 0: keep every event
  std::string lead_retention = "0";     // 0: keep every lead
  std::string sla_ahead = "1h";  // SLA deadlines held in memory this far ahead
  int64_t lead_cache = 50000;
  std::string webhook_url;  // empty: no webhook
  std::string webhook_secret_file;
  int webhook_dead_letter_after = 5;  // refusals of one batch
  std::string webhook_dead_letter;    // empty: DATA_DIR's file
  int64_t webhook_dead_letter_max_bytes = int64_t{64} << 20;
  int64_t webhook_keep_events = 1000000;  // kept from retention for it
  std::string auth_file;  // principals; empty: open, loopback only
  std::string tls_cert, tls_key, tls_client_ca;
  bool insecure = false;            // non-loopback without auth or TLS
  std::string reflection = "auto";  // on | off | auto (on without --auth)
};
int ServeCommand(const ServeFlags& flags);
// A non-negative duration: "90d" (days), or Go-style "36h", "90m", "0".
std::optional<absl::Duration> ParseSpan(const std::string& text);
// `--flag`'s RFC 3339 time; INVALID_ARGUMENT naming the flag otherwise.
absl::StatusOr<absl::Time> ParseWhen(const char* flag, const std::string& text);

// `leadroute auth add|list|remove`: the --auth file, edited in place.
struct AuthFlags {
  std::string action;  // add | list | remove
  std::string file;
  std::string name;
  std::string roles;    // add: route,activity,...
  std::string cert;     // add: a client certificate identity, not a token
  std::string comment;  // add: kept after '#'
  std::string id;       // remove: only this credential (auth list's id)
  std::string format = "text";  // list: text | json
};
int AuthCommand(const AuthFlags& flags);

struct CheckFlags {
  std::vector<std::string> paths;  // files or folders
  std::string format = "text";     // text | json | github
  bool strict = false;             // warnings fail too
  bool show_allowed = false;       // also the warnings `allow` accepts
  bool stats = false;              // decision tree sizes per stage
  bool dump_trees = false;         // the decision trees themselves
};
// Lints rule files: diagnostics on stdout, exit 1 on errors.
int CheckCommand(const CheckFlags& flags);

struct FmtFlags {
  std::vector<std::string> paths;  // files or folders
  bool check = false;              // list unformatted files, exit 1 if any
  bool write = false;              // rewrite files in place
};
// Formats rule files; by default prints them to stdout.
int FmtCommand(const FmtFlags& flags);

struct EvalFlags {
  std::string rules;
  std::string lead_path;  // a Lead as proto JSON
  std::string at;         // RFC 3339; default now
  // With --at, or a store's state: choose the rep as the server would.
  std::string data_dir;  // a server's --data-dir, or
  std::string state;     // its --state
  bool explain = false;
  std::vector<std::string> why_not;  // rules to explain as alternatives
  bool warnings = false;             // print the rules' warnings too
};
// Decides one lead with the rules and prints the decision as JSON.
int EvalCommand(const EvalFlags& flags);

struct TestFlags {
  std::vector<std::string> rules;
};
// Runs the rules' test blocks; exit 1 when any fails.
int TestCommand(const TestFlags& flags);

struct ReplayFlags {
  std::string rules;         // the candidate ruleset
  std::string against;       // compare with this ruleset; empty: the log's
  std::string decision_log;  // history: a server's --decision-log file,
  std::string data_dir;      // its --data-dir, its --state, or
  std::string state;
  std::string leads;             // leads, one JSON object per line
  std::string from, to;          // only leads received in [from, to) (RFC 3339)
  std::string at;                // --leads without received_at: this time
  std::string format = "table";  // table | json | markdown
  std::string max_changed;       // "5%": exit 1 when more change owner
  int examples = 3;              // example leads per owner transition
  int64_t max_line_bytes = 1 << 20;
  std::string lead_hold = "1d";  // a simulated lead holds its rep this long
  std::string decision_log_key;  // the key masked attributes were hashed under
};
// Re-decides historical leads with new rules and reports what changes.
int ReplayCommand(const ReplayFlags& flags);

struct RouteFlags {
  ClientFlags client;
  // A lead, or an array of leads, as plain or proto JSON (lead_json.h);
  // "-" is stdin.
  std::string lead_path;
  bool explain = false;
  std::vector<std::string> why_not;
  bool reroute = false;
  std::string received_at;  // RFC 3339; empty: the server's now
};
// `leadroute leads ACTION` and `leadroute reps ACTION` against a server.
struct OpsFlags {
  ClientFlags client;
  std::string format = "text";  // text | json
  std::string action;  // leads: get contact outcome reassign release close
                       // list; reps: list status
  std::string lead_id;
  std::string channel, at, outcome, reason;
  std::string to;  // rep:NAME, team:NAME or queue:NAME
  std::string owner, status;
  int limit = 100;
  std::string rep, availability, until, note;
};
int LeadsCommand(const OpsFlags& flags);
int RepsCommand(const OpsFlags& flags);

// A thin client: sends the lead(s) to a running server and prints the
// answer as JSON on stdout.
int RouteCommand(const RouteFlags& flags);

// `leadroute rules ACTION` against a server's RulesAdmin.
struct RulesAdminFlags {
  ClientFlags client;
  std::string format = "text";  // text | json
  // status | publish | promote | unschedule | unshadow | rollback
  std::string action;
  std::string path;         // publish: the rules (a file or folder)
  bool shadow = false;      // publish: as the shadow
  std::string activate_at;  // publish: RFC 3339, or local with time_zone
  std::string time_zone;    // IANA; makes activate_at a wall-clock time
  int64_t expected_revision = 0;
  std::string removed_reps;  // keep | release | reassign; "": the rules'
  int64_t revision = 0;      // rollback: 0 = the one before
};
int RulesAdminCommand(const RulesAdminFlags& flags);

struct StateFlags {
  std::string what;       // assignments | owners | history | audit
  std::string data_dir;   // the server's --data-dir, or
  std::string state;      // its --state
  std::string owner;      // assignments: only this owner's
  std::string lead_id;    // history: this lead's
  std::string principal;  // audit: only this caller's
  std::string target;     // audit: only about this lead, rep or ruleset
  bool all = false;       // assignments: released and closed ones too
  int limit = 50;
  bool json = false;
};
// Reads a server's state store (read-only; the server may be running).
int StateCommand(const StateFlags& flags);
// A server's state store, opened read-only: its --data-dir's SQLite file,
// or the PostgreSQL database its --state names (exactly one of the two).
absl::StatusOr<std::unique_ptr<runtime::StateReader>> OpenStateReadOnly(
    const std::string& data_dir, const std::string& state);

struct ReportFlags {
  std::string data_dir;
  std::string state;
  std::string from;         // RFC 3339; default: --last before --to
  std::string to;           // RFC 3339; default: now
  std::string last = "7d";  // the window's length when --from is unset
  // total | ruleset | rule | team | rep | source | hour | day
  std::string by = "total";
  std::string format = "table";  // table | csv | json
  // Only leads of this team, source, ruleset ("name version"); any if empty.
  std::string team, source, ruleset;
  std::string tz;  // IANA time zone of hours and days; UTC if empty
  // --shadow: instead of KPIs, the shadow rulesets' disagreements that
  // this decision log holds.
  bool shadow = false;
  std::string decision_log;
  int64_t max_line_bytes = 1 << 20;
};
// Routing KPIs from a server's state store over a window.
int ReportCommand(const ReportFlags& flags);
// `report --shadow`: the shadows' disagreements in [from, to) from the
// decision log.
int ShadowReport(const ReportFlags& flags, absl::Time from, absl::Time to);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_CLI_COMMANDS_H_
