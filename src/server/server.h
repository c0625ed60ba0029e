// RouterServer: a running gRPC server with the LeadRouter, RulesAdmin and
// Assignments services (each call let in by the Authorizer of --auth, over
// TLS when given certificates), rep selection over a durable store (--data-dir)
// with its SLA sweeper (and event retention) and an optional webhook, the
// standard health service (open to all) and reflection (a flag), an optional
// admin port (metrics, health, status; HTTPS with TLS) and an optional
// decision log.
// RunServer() is what `leadroute serve` calls: start, reload rules and the
// --auth file on SIGHUP and when their files change, drain on
// SIGTERM/SIGINT, return.
#ifndef LEADROUTE_SRC_SERVER_SERVER_H_
#define LEADROUTE_SRC_SERVER_SERVER_H_

#include <grpcpp/server.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime/assigner.h"
#include "runtime/clock.h"
#include "runtime/pg_store.h"
#include "runtime/policy.h"
#include "runtime/state_store.h"
#include "runtime/store_tail.h"
#include "runtime/sweeper.h"
#include "src/auth/authorizer.h"
#include "src/server/admin_http.h"
#include "src/server/data_dir_lock.h"
#include "src/server/kpi_metrics.h"
#include "src/server/tls_files.h"
#include "src/server/tls_front.h"
#include "src/server/webhook.h"
#include "src/server/writer_election.h"
#include "src/service/assignments_service.h"
#include "src/service/async_routes.h"
#include "src/service/decision_log.h"
#include "src/service/lead_attributes.h"
#include "src/service/lead_router_service.h"
#include "src/service/metrics.h"
#include "src/service/rules_admin_service.h"
#include "src/service/ruleset_registry.h"
#include "src/service/shadow.h"
#include "src/service/writer_link.h"

namespace leadroute {

struct ServerOptions {
  // host:port; port 0 picks a free one (see RouterServer::address()).
  std::string listen = "127.0.0.1:50051";
  // How long in-flight calls may run on after a stop is requested.
  absl::Duration grace = absl::Seconds(10);
  // The admin HTTP port (host:port, port 0 picks one); empty: none.
  std::string admin_listen;
  // Requests larger than this are refused by gRPC with RESOURCE_EXHAUSTED.
  int max_message_bytes = 16 << 20;
  ServiceLimits limits;
  // ValidateRules/PublishRules compiling at once; twice as many more wait,
  // beyond that RESOURCE_EXHAUSTED (WorkGate).
  int max_compiles = 2;
  // GetStats calls scanning the store at once; twice as many more wait,
  // beyond that RESOURCE_EXHAUSTED.
  int max_stats_scans = 2;
  // WatchAssignments streams at once, in all and from one host.
  WatchLimits stream_limits;
  // The decision log; an empty path: none.
  DecisionLog::Options decision_log;
  // What the decision log and the state store keep of a lead's
  // attributes (masked ones, keyed hashes).
  LeadAttributes::Options attributes;
  // A ruleset to run as the shadow from the start (a .route file or
  // folder, as --rules); empty: none until PublishRules sets one.
  std::string shadow_rules;
  // Leads waiting for the shadow at most; beyond, they are not shadowed
  // (counted as dropped).
  int64_t shadow_queue = 100000;
  // The share of one core the shadow may use (0.01 to 1).
  double shadow_cpu = 0.25;
  // Where assignments, rep status and rotation are kept (a SQLite file in
  // it, created when missing); empty: no state, a team outcome names the
  // team and no rep is picked.
  std::string data_dir;
  // Instead of data_dir: the state on PostgreSQL (a libpq connection
  // string or postgres:// URI, without a password), shared by replicas:
  // one is the writer, the others forward stateful calls to it
  // (writer_election.h, writer_link.h).
  std::string state;
  // Where the other replicas reach this one (host:port); empty: the
  // address --listen bound.
  std::string advertise;
  // How often a replica that is not the writer tries to become it.
  absl::Duration writer_poll = absl::Seconds(1);
  // Serve leadroute.v1.Writer (RouteMany: the Routes a follower sends on
  // together). Tests turn it off to play a writer of a version before it,
  // which answers UNIMPLEMENTED, as in a rolling upgrade, followers first.
  bool writer_service = true;
  runtime::AssignerOptions assigner;
  // What a new ruleset does with the open leads of reps it no longer has,
  // when neither the ruleset nor the PublishRules call says.
  runtime::RemovedReps removed_reps = runtime::RemovedReps::kKeep;
  // When set, wraps the store opened in data_dir before the Assigner takes
  // it: tests hold or fail commits of the real store through it.
  std::function<std::unique_ptr<runtime::StateStore>(
      std::unique_ptr<runtime::StateStore>)>
      wrap_store;
  // The clock rep selection reads (working hours, caps, status) and SLA
  // deadlines are swept by; null for the system clock. Tests pass a
  // FakeClock.
  const runtime::Clock* clock = nullptr;
  // How often the sweeper looks for SLA deadlines and escalation steps due.
  absl::Duration sweep_interval = absl::Milliseconds(250);
  // Lead events (WatchAssignments' replay, `leadroute state history`) older
  // than this are deleted; zero keeps them all.
  absl::Duration event_retention = absl::ZeroDuration();
  // Released and closed leads that ended longer ago than this are deleted;
  // zero keeps them all.
  absl::Duration lead_retention = absl::ZeroDuration();
  // Lead events POSTed to a URL as well (needs data_dir); an empty url:
  // none.
  WebhookOptions webhook;
  // Undelivered webhook events retention keeps past their age, at most;
  // beyond, they are pruned and the webhook reports the gap.
  int64_t webhook_keeps_events = 1000000;
  // The principals allowed in (auth/principals.h); empty: everyone, as
  // "anonymous", and then only loopback addresses may be listened on.
  std::string auth_file;
  // TLS on the gRPC port; none when its files are empty.
  TlsFiles tls;
  // Listen on non-loopback addresses without --auth or TLS, with a warning.
  bool insecure = false;
  // Serve gRPC server reflection; unset: only without --auth.
  std::optional<bool> reflection;
  // Called once when a replica that was the writer finds another took over
  // (or cannot start as the writer): RunServer stops the process.
  std::function<void()> on_fenced;
};

class RouterServer {
 public:
  // Serves `registry`'s live ruleset, which must exist.
  static absl::StatusOr<std::unique_ptr<RouterServer>> Start(
      const ServerOptions& options, std::shared_ptr<RulesetRegistry> registry);
  // The same with a registry holding only `policy` (tests).
  static absl::StatusOr<std::unique_ptr<RouterServer>> Start(
      const ServerOptions& options,
      std::shared_ptr<const runtime::Policy> policy);

  ~RouterServer();

  // The address actually bound, with the chosen port, e.g. 127.0.0.1:43017.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // The admin HTTP address, or "" without one.
  std::string admin_address() const {
    if (admin_tls_ != nullptr) return admin_tls_->address();
    return admin_ == nullptr ? "" : admin_->address();
  }

  RulesetRegistry& registry() { return *registry_; }
  auth::Authorizer& authorizer() { return *auth_; }
  // Null without state, and on a replica that is not the writer.
  runtime::Assigner* assigner() { return link_->assigner(); }
  // Whether another replica took over as the writer while this one was it
  // (RunServer then stops, with exit code 3).
  bool fenced() const { return fenced_.load(); }
  // Null without a webhook.
  const WebhookSender* webhook() const { return webhook_.get(); }
  const ServerMetrics& metrics() const { return *metrics_; }

  // OK, or why the server cannot assign leads now (its store is failing):
  // what /healthz and the health service say.
  absl::Status Health() const;

  // Stops accepting calls, reports NOT_SERVING, lets in-flight calls finish
  // until `grace` has passed, then cancels what is left, and writes out the
  // decision log. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  RouterServer() = default;
  // Starts what keeps state over `store`: the Assigner, the webhook, the
  // sweeper, KPI gauges; from then on this process answers stateful calls.
  absl::Status StartState(std::unique_ptr<runtime::StateStore> store);
  // Audits the live ruleset, and from now on every one made live, with its
  // removed reps' leads handed over: through `assigner` (null: no state,
  // in the log alone). With state, each one made live or scheduled is also
  // stored (for the other replicas, and for a restart), and the live one
  // now too unless `stored_live` is its revision.
  void WatchRulesets(runtime::Assigner* assigner, int64_t stored_live = 0);
  // At start with state: which ruleset to serve, the store's or the one
  // the --rules files were just loaded as, and from which revision to
  // number new ones; the live one's revision as the store keeps it, if it
  // is live here.
  int64_t ResumeRulesets(const runtime::StoredRulesets& stored);
  // ... then, once rulesets made live are watched, the stored schedule.
  void ResumeSchedule(const runtime::StoredRulesets& stored);
  // A follower: serves the ruleset the database says is live (each poll).
  void FollowRulesets();
  // ... its live one, when `stored` has it (it changed).
  void FollowLive(const runtime::StoredRulesets& stored);
  // Stops the election (and waits for its thread), once.
  void StopElection();
  // The replica's store became the writer's (from the election's thread).
  void BecomeWriter(std::unique_ptr<runtime::PgStore> store);
  // The replica's view of the database: NOT_SERVING while it cannot reach
  // it.
  void ReplicaHealthChanged(const absl::Status& status);
  // From the CommitLog's writer: log it and move the health service.
  void StoreHealthChanged(const absl::Status& status);
  // Stops the server (options_.on_fenced, once) when `status` failed
  // because another replica took over as the writer (the store is fenced).
  void StopIfFenced(const absl::Status& status);
  void RenderStoreMetrics(std::string* out) const;

  // Declared in the order they are built; destroyed in reverse.
  ServerOptions options_;
  std::shared_ptr<RulesetRegistry> registry_;
  // Where stateful calls are answered: here, or forwarded to the writer.
  // A follower's feed of the shared database's events (WatchAssignments);
  // outlives the services' streams.
  std::unique_ptr<runtime::StoreTail> tail_;
  std::unique_ptr<WriterLink> link_;
  std::unique_ptr<auth::Authorizer> auth_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<DecisionLog> log_;
  // What the store keeps of a lead's attributes: masked as the log masks.
  std::unique_ptr<LeadAttributes> kept_;
  // The shadow ruleset's runner (after the log, which it writes to; before
  // the services, which offer it leads).
  std::unique_ptr<Shadow> shadow_;
  // The health service's state: stopped, or the store failing, is
  // NOT_SERVING. Before the Assigner, whose writer thread reports to it
  // until it is gone.
  mutable std::mutex health_mu_;
  bool stopped_ = false;
  bool health_ready_ = false;  // server_ built
  bool store_ok_ = true;
  bool replica_ok_ = true;  // a replica reaches the database
  // A replica's store once it is the writer (owned by the Assigner).
  runtime::PgStore* pg_store_ = nullptr;
  // A replica's read-only view of the database (owned by tail_), for
  // following its live ruleset; the revision last followed, or that failed.
  runtime::PgStore* shared_reader_ = nullptr;
  int64_t followed_revision_ = -1;
  bool follow_failed_ = false;
  // ... and of its scheduled ruleset (0: none).
  int64_t followed_scheduled_ = -1;
  std::atomic<bool> fenced_{false};
  // Held while the store is open: one server per --data-dir.
  std::unique_ptr<DataDirLock> data_dir_lock_;
  // Destroyed after the server has stopped: its commit log answers the calls
  // waiting for their assignments to be durable.
  std::unique_ptr<runtime::Assigner> assigner_;
  // Stopped before the Assigner goes; the sweeper, which asks the webhook
  // what it has delivered, before the webhook.
  std::unique_ptr<WebhookSender> webhook_;
  std::unique_ptr<runtime::Sweeper> sweeper_;
  std::unique_ptr<LeadRouterService> router_;
  // With state: LeadRouter served with Route on the async API, in place of
  // router_ (which routes for it); stopped after the server.
  std::unique_ptr<AsyncRoutes> async_routes_;
  std::unique_ptr<WriterService> writer_service_;
  std::unique_ptr<AssignmentsService> assignments_service_;
  std::unique_ptr<RulesAdminService> admin_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<KpiGauges> kpis_;
  std::unique_ptr<AdminHttp> admin_;
  std::unique_ptr<TlsFront> admin_tls_;  // in front of admin_, with TLS
  std::string address_;
  int port_ = 0;
  // A replica's election; stopped first. election_mu_ guards the pointer
  // (a forwarded call that failed wakes it from a gRPC thread).
  std::mutex election_mu_;
  std::unique_ptr<WriterElection> election_;
};

struct RunOptions {
  // The --rules path to reload on SIGHUP and to watch; "" for none.
  std::string rules;
  // The files the live ruleset was read from (CompileOutcome::files).
  std::vector<std::string> files;
  // How often the rule files (and the --auth and TLS files) are checked for
  // changes; zero: never.
  absl::Duration watch_interval = absl::Seconds(1);
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (call it before
// any other thread starts, so they inherit the mask), starts the server,
// logs the addresses, and waits for signals: SIGHUP reloads the rules off
// the request path, SIGINT/SIGTERM drain and return the process exit code.
// Meanwhile a watcher reloads when the rule files change.
int RunServer(const ServerOptions& options, const RunOptions& run,
              std::shared_ptr<RulesetRegistry> registry);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_SERVER_H_
