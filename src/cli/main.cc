// The `leadroute` binary: subcommands in the style of git or opa. This file
// only declares flags and dispatches; each command lives in its own file.
#include "CLI/CLI.hpp"
#include "src/cli/client.h"
#include "src/cli/commands.h"

namespace leadroute {
namespace {

int Main(int argc, char** argv) {
  CLI::App app{"leadroute: route inbound sales leads by rules"};
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 the rules or input are wrong, 2 usage or I/O "
      "error.");

  ServeFlags serve;
  CLI::App* serve_cmd =
      app.add_subcommand("serve", "Serve the LeadRouter gRPC API");
  serve_cmd
      ->add_option("--listen", serve.listen,
                   "host:port to listen on (port 0 picks a free port)")
      ->capture_default_str();
  serve_cmd->add_option("--rules", serve.rules,
                        "Ruleset file or folder to route with");
  serve_cmd
      ->add_option("--grace", serve.grace_seconds,
                   "Seconds in-flight calls may finish after SIGTERM/SIGINT")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve_cmd->add_option(
      "--admin-listen", serve.admin_listen,
      "host:port for /metrics (Prometheus), /healthz and /status; HTTPS "
      "with --tls-cert/--tls-key, else HTTP");
  serve_cmd
      ->add_option("--watch", serve.watch_seconds,
                   "Seconds between checks of the --rules files for changes "
                   "(0: reload on SIGHUP and PublishRules only)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--keep", serve.keep,
                   "Rulesets retained for the Rollback RPC")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-batch", serve.max_batch,
                   "Most leads in one RouteBatch (more: INVALID_ARGUMENT)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-lead-bytes", serve.max_lead_bytes,
                   "Most bytes of id, names and values in one lead (more: "
                   "INVALID_ARGUMENT naming the largest field)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-explained-leads", serve.max_explained_leads,
                   "Most leads in a RouteBatch that asks for explain or "
                   "why_not (more: INVALID_ARGUMENT)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-watchers", serve.max_watchers,
                   "WatchAssignments streams open at once (more: "
                   "RESOURCE_EXHAUSTED)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-watchers-per-peer", serve.max_watchers_per_peer,
                   "WatchAssignments streams open at once from one host")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--watch-buffer-bytes", serve.watch_buffer_bytes,
                   "Live events one WatchAssignments stream holds unsent; a "
                   "slower subscriber's are dropped and read on from the "
                   "store, never slowing commits")
      ->check(CLI::Range(64 << 10, 1 << 30))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-stats-scans", serve.max_stats_scans,
                   "GetStats calls reading the store at once; twice as many "
                   "more wait, then RESOURCE_EXHAUSTED")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-compiles", serve.max_compiles,
                   "ValidateRules/PublishRules compiling at once; twice as "
                   "many more wait, beyond that RESOURCE_EXHAUSTED")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-message-bytes", serve.max_message_bytes,
                   "Largest request message (more: RESOURCE_EXHAUSTED)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-response-bytes", serve.max_response_bytes,
                   "Largest answer: a RouteBatch answer growing past it "
                   "fails with RESOURCE_EXHAUSTED, a ListLeads page ends "
                   "early")
      ->check(CLI::Range(64 << 10, 1 << 30))
      ->capture_default_str();
  serve_cmd->add_option(
      "--decision-log", serve.decision_log,
      "Append one JSON line per routed lead to this file (- for stdout)");
  serve_cmd
      ->add_option("--mask", serve.mask,
                   "Attributes the decision log writes as \"***\" "
                   "(comma-separated or repeated), e.g. email,phone")
      ->delimiter(',');
  serve_cmd->add_option(
      "--decision-log-key", serve.decision_log_key,
      "A secret file (32+ bytes, mode 600): masked attributes the rules read "
      "are kept as keyed hashes (HMAC-SHA256) instead of \"***\" in the "
      "decision log and the state store, so `leadroute replay "
      "--decision-log-key` can decide on them");
  serve_cmd->add_option(
      "--shadow-rules", serve.shadow_rules,
      "Also decide every routed lead with this ruleset (file or folder), "
      "beside the live one and never changing an answer: disagreements are "
      "counted (GetStatus, /metrics, /status) and written to the decision "
      "log; PublishRules with promote_shadow makes it live");
  serve_cmd
      ->add_option("--shadow-queue", serve.shadow_queue,
                   "Leads waiting for the shadow ruleset at most; beyond, "
                   "they are not shadowed (counted as dropped)")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--shadow-cpu", serve.shadow_cpu,
                   "The share of one core the shadow ruleset may use (0.01 "
                   "to 1); past it, leads wait, then are dropped")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  serve_cmd->add_option(
      "--data-dir", serve.data_dir,
      "Keep assignments, rep status and rotation here (SQLite, created when "
      "missing) and pick a rep of each team; without it no state is kept");
  serve_cmd->add_option(
      "--state", serve.state,
      "Instead of --data-dir: keep the state in PostgreSQL (a libpq "
      "connection string or postgres:// URI, password in PGPASSWORD or "
      "~/.pgpass), shared by several serve replicas: one writes, the others "
      "forward stateful calls to it");
  serve_cmd->add_option(
      "--advertise", serve.advertise,
      "With --state: host:port the other replicas reach this one at "
      "(default: the address --listen bound)");
  serve_cmd
      ->add_option("--writer-poll", serve.writer_poll,
                   "With --state: how often a replica that is not the writer "
                   "tries to become it (100ms to 1m)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--repeat-window", serve.repeat_window,
                   "How long a repeat lead (the same email) sticks to the "
                   "rep who had the last one, for teams and rules that do "
                   "not say `sticky` (e.g. 168h, 30m; 0: they do not stick)")
      ->capture_default_str();

  serve_cmd
      ->add_option("--removed-reps", serve.removed_reps,
                   "What a reload does with the open leads of reps the new "
                   "rules no longer have, unless the ruleset says "
                   "(removed_reps = ...): keep, release or reassign (to a "
                   "member of the lead's team)")
      ->check(CLI::IsMember({"keep", "release", "reassign"}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--event-retention", serve.event_retention,
                   "Delete lead events (WatchAssignments replay, state "
                   "history) older than this (e.g. 90d, 720h; 0 keeps all)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--lead-retention", serve.lead_retention,
                   "Delete released and closed leads that ended longer ago "
                   "than this, with what they answer (idempotent retries, "
                   "repeats, GetAssignment, KPIs); at least 1d (e.g. 365d; "
                   "0 keeps all)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--sla-ahead", serve.sla_ahead,
                   "SLA deadlines and escalation steps due within this are "
                   "held in memory, later ones read from the store as the "
                   "time comes (1m to 7d)")
      ->capture_default_str();
  serve_cmd
      ->add_option("--lead-cache", serve.lead_cache,
                   "Leads kept in memory, the most recently changed; any "
                   "other is read from the store when asked about")
      ->check(CLI::Range(int64_t{1}, int64_t{100000000}))
      ->capture_default_str();

  serve_cmd->add_option("--auth", serve.auth_file,
                        "File of principals allowed in, with their token "
                        "hashes and roles (leadroute auth add); without it "
                        "only loopback addresses are served");
  serve_cmd->add_option("--tls-cert", serve.tls_cert,
                        "TLS: the server's certificate chain (PEM); "
                        "reloaded when it changes");
  serve_cmd->add_option("--tls-key", serve.tls_key,
                        "TLS: the certificate's private key (PEM)");
  serve_cmd->add_option("--tls-client-ca", serve.tls_client_ca,
                        "Mutual TLS: require client certificates signed by "
                        "these CAs (PEM)");
  serve_cmd->add_flag("--insecure", serve.insecure,
                      "Allow a non-loopback --listen/--admin-listen without "
                      "--auth or TLS (e.g. behind a TLS-terminating proxy)");
  serve_cmd
      ->add_option("--reflection", serve.reflection,
                   "gRPC server reflection: on, off, or auto (on without "
                   "--auth)")
      ->check(CLI::IsMember({"on", "off", "auto"}))
      ->capture_default_str();
  serve_cmd->add_option(
      "--webhook-url", serve.webhook_url,
      "POST every lead event (JSON, signed) here too; needs --data-dir, or "
      "--state with --webhook-dead-letter");
  serve_cmd
      ->add_option("--webhook-secret-file", serve.webhook_secret_file,
                   "File holding the webhook's HMAC-SHA256 key (trailing "
                   "newline ignored)")
      ->check(CLI::ExistingFile);
  serve_cmd
      ->add_option("--webhook-dead-letter-after",
                   serve.webhook_dead_letter_after,
                   "Refusals (4xx) of one batch before it goes to "
                   "the dead-letter file and delivery goes on")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve_cmd->add_option(
      "--webhook-dead-letter", serve.webhook_dead_letter,
      "The dead-letter file (JSON lines, 0600); default "
      "DATA_DIR/webhook-dead-letter.jsonl, required with --state");
  serve_cmd
      ->add_option("--webhook-dead-letter-max-bytes",
                   serve.webhook_dead_letter_max_bytes,
                   "The dead-letter file's size limit; past it, refused "
                   "batches are retried (delivery waits) until it is emptied")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 40))
      ->capture_default_str();
  serve_cmd
      ->add_option("--webhook-keep-events", serve.webhook_keep_events,
                   "Undelivered webhook events --event-retention keeps past "
                   "their age, at most (beyond: pruned, and the gap logged)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  StateFlags state;
  CLI::App* state_cmd = app.add_subcommand(
      "state",
      "Inspect a server's state store (--data-dir or --state), read-only");
  state_cmd->require_subcommand(1);
  for (const char* what : {"assignments", "owners", "history", "audit"}) {
    const char* help = std::string(what) == "assignments"
                           ? "Open and unassigned leads, newest first"
                       : std::string(what) == "owners"
                           ? "Leads per owner: open, all, the latest"
                       : std::string(what) == "history"
                           ? "One lead's history"
                           : "Who changed what through the API, and which "
                             "rulesets went live (newest --limit, oldest "
                             "first)";
    CLI::App* sub = state_cmd->add_subcommand(what, help);
    sub->add_option("--data-dir", state.data_dir, "The server's --data-dir");
    sub->add_option("--state", state.state,
                    "Instead of --data-dir: the replicas' --state (libpq "
                    "connection string; password from PGPASSWORD/.pgpass)");
    sub->add_flag("--json", state.json, "One JSON object per line");
    sub->final_callback([&state, what] { state.what = what; });
    if (std::string(what) == "assignments") {
      sub->add_option("--owner", state.owner, "Only this rep's or queue's");
      sub->add_flag("--all", state.all, "Released and closed leads too");
      sub->add_option("--limit", state.limit, "At most this many")
          ->capture_default_str();
    }
    if (std::string(what) == "history") {
      sub->add_option("lead_id", state.lead_id, "The lead's id")->required();
    }
    if (std::string(what) == "audit") {
      sub->add_option("--principal", state.principal, "Only this caller's");
      sub->add_option("--target", state.target,
                      "Only about this lead id, rep or ruleset name");
      sub->add_option("--limit", state.limit, "At most this many")
          ->capture_default_str();
    }
  }

  ReportFlags report;
  CLI::App* report_cmd = app.add_subcommand(
      "report",
      "Routing KPIs from a server's state store (--data-dir or --state), "
      "read-only");
  report_cmd->add_option("--data-dir", report.data_dir,
                         "The server's --data-dir");
  report_cmd->add_option("--state", report.state,
                         "Instead of --data-dir: the replicas' --state");
  report_cmd->add_option("--from", report.from,
                         "Leads routed at or after this RFC 3339 time");
  report_cmd->add_option("--to", report.to,
                         "... and before this one (default: now)");
  report_cmd
      ->add_option("--last", report.last,
                   "The window's length when --from is unset (7d, 24h, 90m)")
      ->capture_default_str();
  report_cmd->add_option("--by", report.by, "Group rows by this")
      ->check(CLI::IsMember(
          {"total", "ruleset", "rule", "team", "rep", "source", "hour", "day"}))
      ->capture_default_str();
  report_cmd->add_option("--team", report.team,
                         "Only leads of this team (\"(none)\": of none)");
  report_cmd->add_option("--source", report.source,
                         "Only leads from this source");
  report_cmd->add_option(
      "--ruleset", report.ruleset,
      "Only leads routed by this ruleset (\"name version\")");
  report_cmd->add_option("--tz", report.tz,
                         "Time zone of --by hour and day (IANA; default UTC)");
  report_cmd->add_option("--format", report.format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  report_cmd->add_flag(
      "--shadow", report.shadow,
      "Instead of KPIs: how the shadow rulesets disagreed with the live "
      "ones, from --decision-log (table or json)");
  report_cmd->add_option("--decision-log", report.decision_log,
                         "--shadow: the server's --decision-log file");
  report_cmd
      ->add_option("--max-line-bytes", report.max_line_bytes,
                   "--shadow: longest log line; a longer one is skipped")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 30))
      ->capture_default_str();

  AuthFlags auth;
  CLI::App* auth_cmd = app.add_subcommand(
      "auth", "Add, list and remove the principals of an --auth file");
  auth_cmd->require_subcommand(1);
  {
    CLI::App* add = auth_cmd->add_subcommand(
        "add", "Add a principal: prints a new token once, keeps its hash");
    add->add_option("name", auth.name, "Who: a service or person")->required();
    add->add_option("--roles", auth.roles,
                    "route, activity, manage, rules, read (comma-separated), "
                    "or all")
        ->required();
    add->add_option("--cert", auth.cert,
                    "Instead of a token: the identity (CN or SAN) of a "
                    "client certificate");
    add->add_option("--comment", auth.comment, "Kept beside the line");
    CLI::App* list = auth_cmd->add_subcommand("list", "List the principals");
    list->add_option("--format", auth.format, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    CLI::App* remove = auth_cmd->add_subcommand(
        "remove", "Remove a principal's credentials (all, or --id)");
    remove->add_option("name", auth.name, "Whose")->required();
    remove->add_option("--id", auth.id,
                       "Only this credential (the id auth list shows)");
    for (CLI::App* sub : auth_cmd->get_subcommands({})) {
      sub->add_option("--file", auth.file, "The --auth file")->required();
      sub->final_callback([&auth, sub] { auth.action = sub->get_name(); });
    }
  }

  CheckFlags check;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Check rule files for errors (exit 1 when there are any)");
  check_cmd->add_option("paths", check.paths, ".route files or folders")
      ->required();
  check_cmd
      ->add_option("--format", check.format,
                   "text, json, or github (GitHub Actions annotations)")
      ->check(CLI::IsMember({"text", "json", "github"}))
      ->capture_default_str();
  check_cmd->add_flag("--strict", check.strict, "Fail on warnings too");
  check_cmd->add_flag("--show-allowed", check.show_allowed,
                      "Show the warnings the rules accept with `allow`, and "
                      "why");
  check_cmd->add_flag("--stats", check.stats,
                      "Print each stage's decision tree size and worst-case "
                      "tests per lead");
  check_cmd->add_flag("--dump-trees", check.dump_trees,
                      "Print the compiled decision trees");

  FmtFlags fmt;
  CLI::App* fmt_cmd = app.add_subcommand(
      "fmt", "Print rule files in the canonical layout (or --check, -w)");
  fmt_cmd->add_option("paths", fmt.paths, ".route files or folders")
      ->required();
  CLI::Option* fmt_check = fmt_cmd->add_flag(
      "--check", fmt.check, "List files that are not formatted; exit 1 if any");
  fmt_cmd->add_flag("-w,--write", fmt.write, "Rewrite files in place")
      ->excludes(fmt_check);

  EvalFlags eval;
  CLI::App* eval_cmd =
      app.add_subcommand("eval", "Decide one lead (JSON) with the rules");
  eval_cmd->add_option("rules", eval.rules, "Root .route file")->required();
  eval_cmd->add_option("lead", eval.lead_path, "Lead JSON file, or - for stdin")
      ->required();
  eval_cmd->add_option("--at", eval.at,
                       "Arrival time, RFC 3339 (default now); with it the "
                       "rep is chosen as the server would then (hours, "
                       "holidays, caps)");
  eval_cmd->add_option("--data-dir", eval.data_dir,
                       "Choose the rep from this server's state (statuses, "
                       "loads, rotations), read-only");
  eval_cmd->add_option("--state", eval.state,
                       "... or from this PostgreSQL state (a libpq "
                       "connection string)");
  eval_cmd->add_flag(
      "--explain", eval.explain,
      "Add why: the rule and conditions that decided each output");
  eval_cmd->add_option(
      "--why-not", eval.why_not,
      "Explain why RULE (or stage/RULE) did not decide; implies "
      "--explain");
  eval_cmd->add_flag("--warnings", eval.warnings,
                     "Print the rules' warnings too (as `check` does); "
                     "errors are always printed");

  TestFlags test;
  CLI::App* test_cmd = app.add_subcommand(
      "test", "Run the rules' test blocks (exit 1 on failure)");
  test_cmd
      ->add_option("rules", test.rules, "Root .route files, or folders of them")
      ->required();

  ReplayFlags replay;
  CLI::App* replay_cmd = app.add_subcommand(
      "replay",
      "Re-decide historical leads with new rules and report what changes "
      "(exit 1 past --max-changed)");
  replay_cmd
      ->add_option("rules", replay.rules, "The candidate's root .route file")
      ->required();
  replay_cmd->add_option("--against", replay.against,
                         "Compare with this ruleset (root .route file) "
                         "instead of what the history says was decided");
  CLI::Option* replay_log = replay_cmd->add_option(
      "--decision-log", replay.decision_log,
      "History: a server's --decision-log file (- for stdin)");
  replay_cmd
      ->add_option("--leads", replay.leads,
                   "History: leads as JSON objects, one per line, each with "
                   "its received_at (needs --against)")
      ->excludes(replay_log);
  replay_cmd->add_option("--data-dir", replay.data_dir,
                         "History: the leads a server's --data-dir routed "
                         "(in --from/--to: routing times)");
  replay_cmd->add_option("--state", replay.state,
                         "History: the leads routed in a server's --state "
                         "(postgres://…)");
  replay_cmd->add_option("--from", replay.from,
                         "Only leads received at or after this RFC 3339 time");
  replay_cmd->add_option("--to", replay.to, "... and before this one");
  replay_cmd->add_option(
      "--at", replay.at,
      "--leads: the received time of leads without one (default now)");
  replay_cmd->add_option("--format", replay.format, "table, json or markdown")
      ->check(CLI::IsMember({"table", "json", "markdown"}))
      ->capture_default_str();
  replay_cmd->add_option(
      "--max-changed", replay.max_changed,
      "Exit 1 when a larger share of leads than this changes owner (e.g. 5%)");
  replay_cmd
      ->add_option("--examples", replay.examples,
                   "Example leads shown per owner transition, with why")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  replay_cmd
      ->add_option("--lead-hold", replay.lead_hold,
                   "Predicted rep load: how long a replayed lead holds its "
                   "rep's capacity (history does not say when it closed)")
      ->capture_default_str();
  replay_cmd->add_option(
      "--decision-log-key", replay.decision_log_key,
      "The server's --decision-log-key file: masked attributes the log keeps "
      "as keyed hashes are decided on as the server did");
  replay_cmd
      ->add_option("--max-line-bytes", replay.max_line_bytes,
                   "Longest input line; a longer one is skipped and reported")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 30))
      ->capture_default_str();

  RouteFlags route;
  CLI::App* route_cmd = app.add_subcommand(
      "route",
      "Send a lead (JSON object) or leads (JSON array) to a running server");
  route_cmd
      ->add_option("lead", route.lead_path, "Lead JSON file, or - for stdin")
      ->required();
  AddClientFlags(route_cmd, &route.client);
  route_cmd->add_flag("--explain", route.explain, "Ask for the explanation");
  route_cmd->add_flag("--reroute", route.reroute,
                      "Route a lead id routed before again, by the rules now");
  route_cmd->add_option("--received-at", route.received_at,
                        "When the lead came in (RFC 3339); the SLA clock "
                        "starts there (default: now)");
  route_cmd->add_option("--why-not", route.why_not,
                        "Explain why RULE did not decide; implies --explain");

  OpsFlags ops;
  auto client_flags = [&ops](CLI::App* sub) {
    AddClientFlags(sub, &ops.client);
    sub->add_option("--format", ops.format, "text or json")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
  };
  auto action = [&ops](CLI::App* sub, const char* name) {
    sub->final_callback([&ops, name] { ops.action = name; });
  };
  CLI::App* leads_cmd = app.add_subcommand(
      "leads", "Look up, list and work leads on a running server");
  leads_cmd->require_subcommand(1);
  {
    CLI::App* get = leads_cmd->add_subcommand("get", "One lead as it stands");
    get->add_option("lead_id", ops.lead_id, "The lead's id")->required();
    action(get, "get");
    CLI::App* list = leads_cmd->add_subcommand(
        "list", "Leads by owner (a rep, team or queue) and status");
    CLI::Option* owner = list->add_option("--owner", ops.owner,
                                          "Only this rep's, team's or queue's");
    list->add_option("--queue", ops.owner, "Only this queue's (as --owner)")
        ->excludes(owner);
    list->add_option("--status", ops.status,
                     "open, released, closed or unassigned");
    list->add_option("--limit", ops.limit, "At most this many")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    action(list, "list");
    CLI::App* contact =
        leads_cmd->add_subcommand("contact", "Record first contact");
    contact->add_option("lead_id", ops.lead_id, "The lead's id")->required();
    contact->add_option("--channel", ops.channel, "e.g. phone, email");
    contact->add_option("--at", ops.at, "When (RFC 3339; default now)");
    action(contact, "contact");
    CLI::App* outcome =
        leads_cmd->add_subcommand("outcome", "Record how far the lead got");
    outcome->add_option("lead_id", ops.lead_id, "The lead's id")->required();
    outcome
        ->add_option("outcome", ops.outcome,
                     "contacted, qualified, opportunity, won or lost")
        ->required();
    outcome->add_option("--at", ops.at, "When (RFC 3339; default now)");
    action(outcome, "outcome");
    CLI::App* reassign =
        leads_cmd->add_subcommand("reassign", "Move the lead to a new owner");
    reassign->add_option("lead_id", ops.lead_id, "The lead's id")->required();
    reassign->add_option("--to", ops.to, "rep:NAME, team:NAME or queue:NAME")
        ->required();
    reassign->add_option("--reason", ops.reason, "Why, for its history");
    action(reassign, "reassign");
    for (const char* end : {"release", "close"}) {
      CLI::App* sub = leads_cmd->add_subcommand(
          end, std::string(end) == "release"
                   ? "Hand the lead back (frees the rep's capacity)"
                   : "Close the lead, worked to an end");
      sub->add_option("lead_id", ops.lead_id, "The lead's id")->required();
      sub->add_option("--reason", ops.reason, "Why, for its history");
      action(sub, end);
    }
    for (CLI::App* sub : leads_cmd->get_subcommands({})) client_flags(sub);
  }
  CLI::App* reps_cmd = app.add_subcommand(
      "reps", "See reps' status and load, set them away, on a running server");
  reps_cmd->require_subcommand(1);
  {
    CLI::App* list =
        reps_cmd->add_subcommand("list", "Every rep: status, load, why not");
    action(list, "list");
    CLI::App* status = reps_cmd->add_subcommand(
        "status", "Set a rep available, away or out of office (ooo)");
    status->add_option("rep", ops.rep, "The rep's id")->required();
    status
        ->add_option("availability", ops.availability, "available, away or ooo")
        ->required();
    status->add_option("--until", ops.until,
                       "Back at (RFC 3339, or a span from now: 4h, 3d)");
    status->add_option("--note", ops.note, "e.g. parental leave");
    action(status, "status");
    for (CLI::App* sub : reps_cmd->get_subcommands({})) client_flags(sub);
  }

  RulesAdminFlags rules_admin;
  CLI::App* rules_cmd = app.add_subcommand(
      "rules",
      "See and change a running server's rules: publish now, at a set time "
      "or as the shadow; promote; roll back");
  rules_cmd->require_subcommand(1);
  {
    auto verb = [&rules_admin](CLI::App* sub, const char* name) {
      sub->final_callback([&rules_admin, name] { rules_admin.action = name; });
    };
    CLI::App* status = rules_cmd->add_subcommand(
        "status", "The live, scheduled, shadow and retained rulesets");
    verb(status, "status");
    CLI::App* publish = rules_cmd->add_subcommand(
        "publish",
        "Check the rules here, then make them live (now, at "
        "--activate-at, or as the --shadow)");
    publish->add_option("rules", rules_admin.path, "A .route file or folder")
        ->required();
    publish->add_flag("--shadow", rules_admin.shadow,
                      "Run them beside the live rules instead, counting "
                      "where they disagree");
    publish->add_option(
        "--activate-at", rules_admin.activate_at,
        "Go live then: RFC 3339 (2026-12-01T00:00:00Z), or a wall-clock time "
        "(2026-12-01T00:00) with --time-zone");
    publish->add_option("--time-zone", rules_admin.time_zone,
                        "IANA zone of --activate-at, e.g. Europe/Berlin "
                        "(its daylight saving rules for that date apply)");
    publish
        ->add_option("--removed-reps", rules_admin.removed_reps,
                     "Open leads of reps the rules no longer have: keep, "
                     "release or reassign (default: as the rules or the "
                     "server say)")
        ->check(CLI::IsMember({"keep", "release", "reassign"}));
    verb(publish, "publish");
    CLI::App* promote = rules_cmd->add_subcommand(
        "promote", "Make the shadow live and stop shadowing");
    verb(promote, "promote");
    CLI::App* unschedule = rules_cmd->add_subcommand(
        "unschedule", "Cancel the ruleset scheduled to go live");
    verb(unschedule, "unschedule");
    CLI::App* unshadow =
        rules_cmd->add_subcommand("unshadow", "Stop running the shadow");
    verb(unshadow, "unshadow");
    CLI::App* rollback = rules_cmd->add_subcommand(
        "rollback", "Make a retained revision live again");
    rollback->add_option("revision", rules_admin.revision,
                         "The revision (default: the one live before)");
    verb(rollback, "rollback");
    for (CLI::App* sub : {publish, promote}) {
      sub->add_option("--expected-revision", rules_admin.expected_revision,
                      "Only if this revision is live (compare-and-swap)");
    }
    for (CLI::App* sub : rules_cmd->get_subcommands({})) {
      AddClientFlags(sub, &rules_admin.client);
      sub->add_option("--format", rules_admin.format, "text or json")
          ->check(CLI::IsMember({"text", "json"}))
          ->capture_default_str();
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsageOrIo;
  }
  if (serve_cmd->parsed()) return ServeCommand(serve);
  if (state_cmd->parsed()) return StateCommand(state);
  if (report_cmd->parsed()) return ReportCommand(report);
  if (route_cmd->parsed()) return RouteCommand(route);
  if (rules_cmd->parsed()) return RulesAdminCommand(rules_admin);
  if (replay_cmd->parsed()) return ReplayCommand(replay);
  if (leads_cmd->parsed()) return LeadsCommand(ops);
  if (reps_cmd->parsed()) return RepsCommand(ops);
  if (check_cmd->parsed()) return CheckCommand(check);
  if (auth_cmd->parsed()) return AuthCommand(auth);
  if (fmt_cmd->parsed()) return FmtCommand(fmt);
  if (eval_cmd->parsed()) return EvalCommand(eval);
  if (test_cmd->parsed()) return TestCommand(test);
  return kExitUsageOrIo;
}

}  // namespace
}  // namespace leadroute

int main(int argc, char** argv) { return leadroute::Main(argc, argv); }
