// Server lifecycle; see server.h.
#include "src/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/server_builder_option.h>
#include <grpcpp/impl/server_builder_plugin.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/log.h"
#include "runtime/pg_store.h"
#include "runtime/sqlite_store.h"
#include "src/server/data_dir_lock.h"
#include "src/server/exposure.h"
#include "src/server/file_watcher.h"
#include "src/server/rules_watcher.h"
#include "src/service/rep_handover.h"
#include "src/service/ruleset_audit.h"

namespace leadroute {
namespace {

constexpr char kRouterServiceName[] = "leadroute.v1.LeadRouter";

// How often a follower reads the database for events its WatchAssignments
// subscribers have not seen (only while it has any): the most a follower's
// subscriber waits behind the writer's.
constexpr absl::Duration kFollowerEventPoll = absl::Milliseconds(50);

// Drops the reflection service gRPC adds to every server once
// InitProtoReflectionServerBuilderPlugin has run.
class WithoutReflection final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->erase(
        std::remove_if(plugins->begin(), plugins->end(),
                       [](const std::unique_ptr<grpc::ServerBuilderPlugin>& p) {
                         return p->name() == "proto_server_reflection";
                       }),
        plugins->end());
  }
};

// "host:port" with the port replaced by the one actually bound.
std::string BoundAddress(const std::string& listen, int port) {
  size_t colon = listen.rfind(':');
  std::string host =
      colon == std::string::npos ? listen : listen.substr(0, colon);
  return absl::StrCat(host, ":", port);
}

void LogAuthReload(const auth::Authorizer& auth, const absl::Status& status) {
  if (!status.ok()) {
    LogError("auth reload failed; keeping the previous principals",
             {{"path", auth.path()}, {"error", std::string(status.message())}});
    return;
  }
  std::shared_ptr<const auth::PrincipalSet> set = auth.principals();
  absl::flat_hash_set<std::string> names;
  for (const auth::Principal& p : set->entries()) names.insert(p.name);
  LogInfo("auth loaded",
          {{"path", auth.path()},
           {"principals", absl::StrCat(names.size())},
           {"credentials", absl::StrCat(set->entries().size())}});
}

void LogTls(const TlsFiles& files, const char* what) {
  absl::StatusOr<TlsSummary> tls = CheckTlsFiles(files);
  if (!tls.ok()) {
    LogError(
        "tls files are not a usable pair; new connections keep the "
        "previous certificate",
        {{"error", std::string(tls.status().message())}});
    return;
  }
  std::vector<LogField> fields = {{"cert", files.cert},
                                  {"subject", tls->subject},
                                  {"not_after", Rfc3339Micros(tls->not_after)}};
  if (!files.client_ca.empty()) {
    fields.push_back({"client_ca", files.client_ca});
    fields.push_back({"client_cas", absl::StrCat(tls->client_cas)});
  }
  LogInfo(what, fields);
  if (tls->not_after < absl::Now() + absl::Hours(24 * 14)) {
    LogWarn(
        "tls certificate expires soon",
        {{"cert", files.cert}, {"not_after", Rfc3339Micros(tls->not_after)}});
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(
    const ServerOptions& options,
    std::shared_ptr<const runtime::Policy> policy) {
  auto registry = std::make_shared<RulesetRegistry>();
  registry->InstallPolicy(std::move(policy), "builtin", "builtin");
  return Start(options, std::move(registry));
}

absl::StatusOr<std::unique_ptr<RouterServer>> RouterServer::Start(
    const ServerOptions& options, std::shared_ptr<RulesetRegistry> registry) {
  if (registry == nullptr || registry->Live() == nullptr) {
    return absl::FailedPreconditionError("no ruleset to serve");
  }
  // A scheduled ruleset goes live by the server's clock.
  registry->UseClock(options.clock);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  const Exposure exposure{.auth = !options.auth_file.empty(),
                          .tls = options.tls.enabled(),
                          .insecure = options.insecure};
  // The admin port serves HTTPS with the gRPC port's files (TlsFront).
  const Exposure& admin = exposure;
  for (const auto& [flag, listen, e] :
       {std::tuple<const char*, const std::string&, const Exposure&>{
            "--listen", options.listen, exposure},
        {"--admin-listen", options.admin_listen, admin}}) {
    if (listen.empty()) continue;
    std::string warning;
    if (absl::Status s = CheckExposure(flag, listen, e, &warning); !s.ok()) {
      return s;
    }
    if (!warning.empty()) LogWarn("insecure", {{"warning", warning}});
  }
  std::unique_ptr<RouterServer> server(new RouterServer);
  server->registry_ = std::move(registry);
  if (options.auth_file.empty()) {
    server->auth_ = std::make_unique<auth::Authorizer>();
  } else {
    absl::StatusOr<std::unique_ptr<auth::Authorizer>> auth =
        auth::Authorizer::FromFile(options.auth_file);
    if (!auth.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--auth: ", auth.status().message()));
    }
    server->auth_ = *std::move(auth);
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (options.tls.enabled()) {
    absl::StatusOr<TlsSummary> tls = CheckTlsFiles(options.tls);
    if (!tls.ok()) return tls.status();
    credentials = WatchedTlsCredentials(options.tls);
  } else if (!options.tls.client_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS");
  }
  server->metrics_ = std::make_unique<ServerMetrics>();
  if (!options.decision_log.path.empty()) {
    absl::StatusOr<std::unique_ptr<DecisionLog>> log =
        DecisionLog::Open(options.decision_log);
    if (!log.ok()) return log.status();
    server->log_ = *std::move(log);
  }
  server->shadow_ = std::make_unique<Shadow>(Shadow::Options{
      options.shadow_queue, server->log_.get(), options.shadow_cpu});
  if (!options.shadow_rules.empty()) {
    CompileOutcome shadow = CompilePath(options.shadow_rules);
    if (!shadow.status.ok()) {
      for (const RuleDiagnostic& d : shadow.diagnostics) {
        if (d.error) LogError("shadow rules", {{"error", d.rendered}});
      }
      return absl::InvalidArgumentError(absl::StrCat("--shadow-rules ",
                                                     options.shadow_rules, ": ",
                                                     shadow.status.message()));
    }
    shadow.ruleset->origin = absl::StrCat("shadow file ", options.shadow_rules);
    shadow.ruleset->loaded_at = absl::Now();
    server->shadow_->Set(shadow.ruleset, shadow.ruleset->loaded_at);
  }
  server->options_ = options;
  if (!options.data_dir.empty() && !options.state.empty()) {
    return absl::InvalidArgumentError(
        "--data-dir and --state both say where the state is kept: give one");
  }
  if (!options.webhook.url.empty() && options.data_dir.empty()) {
    if (options.state.empty()) {
      return absl::InvalidArgumentError(
          "--webhook-url needs --data-dir or --state: webhooks deliver the "
          "stored lead events");
    }
    if (options.webhook.dead_letter_path.empty()) {
      // Replicas have no folder of their own to default to.
      return absl::InvalidArgumentError(
          "--webhook-url with --state needs --webhook-dead-letter FILE: "
          "where batches the endpoint refuses go, on whichever replica is "
          "the writer");
    }
  }
  std::unique_ptr<runtime::PgStore> replica;
  if (!options.state.empty()) {
    if (absl::Status s = runtime::PgStore::CheckConnectionString(options.state);
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--state: ", s.message()));
    }
    absl::StatusOr<std::unique_ptr<runtime::PgStore>> store =
        runtime::PgStore::OpenReplica(options.state);
    if (!store.ok()) {
      return absl::Status(store.status().code(),
                          absl::StrCat("--state: ", store.status().message()));
    }
    replica = *std::move(store);
    // Replicas call each other as clients call them: over TLS when given.
    // A follower's Route calls go to the writer together when they come
    // faster than one at a time: as many as a RouteBatch may hold, in
    // half of what a message may be.
    RouteGathering gathering;
    gathering.max_routes =
        std::min(gathering.max_routes, options.limits.max_batch_leads);
    gathering.max_bytes =
        std::min(gathering.max_bytes,
                 static_cast<size_t>(options.max_message_bytes / 2));
    server->link_ = std::make_unique<WriterLink>(
        options.tls.enabled() ? WatchedTlsChannelCredentials(options.tls)
                              : grpc::InsecureChannelCredentials(),
        server->auth_.get(), gathering);
    // WatchAssignments on a replica that does not write: the database's
    // events, read back as the writer commits them.
    absl::StatusOr<std::unique_ptr<runtime::PgStore>> events =
        runtime::PgStore::OpenReadOnly(options.state);
    if (!events.ok()) {
      return absl::Status(events.status().code(),
                          absl::StrCat("--state: ", events.status().message()));
    }
    server->shared_reader_ = events->get();
    server->tail_ = std::make_unique<runtime::StoreTail>(*std::move(events),
                                                         kFollowerEventPoll);
    // Serve the replicas' live ruleset from the start, not this one's
    // --rules.
    server->FollowRulesets();
    server->link_->SetFollowerFeed(server->tail_.get());
  } else {
    server->link_ = std::make_unique<WriterLink>();
  }
  if (!options.data_dir.empty()) {
    std::error_code error;
    std::filesystem::create_directories(options.data_dir, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("--data-dir ", options.data_dir, ": ", error.message()));
    }
    absl::StatusOr<std::unique_ptr<DataDirLock>> lock =
        DataDirLock::Acquire(options.data_dir);
    if (!lock.ok()) return lock.status();
    server->data_dir_lock_ = *std::move(lock);
    const std::string path = (std::filesystem::path(options.data_dir) /
                              runtime::SqliteStore::kFileName)
                                 .string();
    absl::StatusOr<std::unique_ptr<runtime::SqliteStore>> store =
        runtime::SqliteStore::Open(path);
    if (!store.ok()) return store.status();
    if (absl::Status s = server->StartState(*std::move(store)); !s.ok()) {
      return s;
    }
  } else if (replica == nullptr) {
    // No state: every ruleset made live is audited in the log alone.
    server->WatchRulesets(nullptr);
  }
  server->kept_ = std::make_unique<LeadAttributes>(options.attributes);
  server->router_ = std::make_unique<LeadRouterService>(
      server->registry_.get(), server->metrics_.get(), server->log_.get(),
      server->kept_.get(), options.limits, server->link_.get(),
      server->auth_.get(), server->shadow_.get());
  server->writer_service_ =
      std::make_unique<WriterService>(server->router_.get());
  server->assignments_service_ = std::make_unique<AssignmentsService>(
      server->registry_.get(), server->link_.get(), server->metrics_.get(),
      server->auth_.get(), options.stream_limits,
      options.limits.max_response_bytes, options.max_stats_scans);
  server->admin_service_ = std::make_unique<RulesAdminService>(
      server->registry_.get(), server->metrics_.get(), server->auth_.get(),
      server->link_.get(), options.max_compiles, server->shadow_.get());

  grpc::ServerBuilder builder;
  // gRPC turns on SO_REUSEPORT by default; a second server on a busy port
  // must fail loudly instead of silently sharing its traffic.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  // The services keep their answers under this themselves, naming the
  // flag; gRPC's check is the net under every other answer.
  builder.SetMaxSendMessageSize(
      static_cast<int>(options.limits.max_response_bytes));
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  if (!options.reflection.value_or(options.auth_file.empty())) {
    builder.SetOption(std::make_unique<WithoutReflection>());
  }
  if (options.data_dir.empty() && options.state.empty()) {
    builder.RegisterService(server->router_.get());
  } else {
    // A durable Route is answered from the commit log's writer, which
    // costs the callback API a hand-off the async one does not make.
    server->async_routes_ = std::make_unique<AsyncRoutes>(
        server->router_.get(), &builder, AsyncRoutes::DefaultPollers());
  }
  if (options.writer_service) {
    builder.RegisterService(server->writer_service_.get());
  }
  builder.RegisterService(server->admin_service_.get());
  builder.RegisterService(server->assignments_service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, or not a host:port?)"));
  }
  if (server->async_routes_ != nullptr) server->async_routes_->Start();
  server->address_ = BoundAddress(options.listen, server->port_);
  server->server_->GetHealthCheckService()->SetServingStatus(kRouterServiceName,
                                                             true);
  {
    // From here on the store's health moves the health service's.
    std::lock_guard<std::mutex> lock(server->health_mu_);
    server->health_ready_ = true;
    if (!server->store_ok_) {
      server->server_->GetHealthCheckService()->SetServingStatus(false);
    }
  }
  if (!options.admin_listen.empty()) {
    RouterServer* s = server.get();
    // With TLS, civetweb listens on loopback behind a TlsFront.
    const bool tls = options.tls.enabled();
    absl::StatusOr<std::unique_ptr<AdminHttp>> admin = AdminHttp::Start(
        tls ? "127.0.0.1:0" : options.admin_listen, server->registry_.get(),
        server->metrics_.get(), server->auth_.get(),
        [s](std::string* out) {
          RenderShadowMetrics(s->shadow_->status(), out);
          if (s->link_->replicated()) {
            absl::StrAppend(
                out,
                "# HELP leadroute_route_many_calls_total RouteMany calls "
                "this replica made on the writer, each carrying Route calls "
                "that came while others were under way.\n"
                "# TYPE leadroute_route_many_calls_total counter\n"
                "leadroute_route_many_calls_total ",
                s->link_->gathered_calls(),
                "\n# HELP leadroute_route_many_routes_total Route calls "
                "those RouteMany calls carried.\n"
                "# TYPE leadroute_route_many_routes_total counter\n"
                "leadroute_route_many_routes_total ",
                s->link_->gathered_routes(), "\n");
          }
          // What keeps state exists once the link has an Assigner.
          if (s->link_->assigner() == nullptr) return;
          if (s->kpis_ != nullptr) s->kpis_->Render(out);
          if (s->webhook_ != nullptr) s->webhook_->RenderMetrics(out);
          s->RenderStoreMetrics(out);
        },
        [s] { return s->Health(); },
        std::make_unique<Dashboard>(
            [s] {
              // The Assigner's store on the writer (or a single server), the
              // shared database's on a follower.
              DashboardSource source;
              if (runtime::EventFeed* feed = s->link_->feed()) {
                source.committed = &feed->committed();
              }
              source.assigner = s->link_->assigner();
              if (source.assigner == nullptr) source.shared = s->shared_reader_;
              source.now = s->options_.clock != nullptr
                               ? s->options_.clock->Now()
                               : absl::Now();
              return source;
            },
            server->registry_.get()),
        server->shadow_.get());
    if (!admin.ok()) return admin.status();
    server->admin_ = *std::move(admin);
    if (tls) {
      const std::string& inner = server->admin_->address();
      absl::StatusOr<std::unique_ptr<TlsFront>> front =
          TlsFront::Start(options.admin_listen, options.tls,
                          std::stoi(inner.substr(inner.rfind(':') + 1)));
      if (!front.ok()) return front.status();
      server->admin_tls_ = *std::move(front);
    }
  }
  if (replica != nullptr) {
    RouterServer* self = server.get();
    server->link_->OnWriterUnreachable([self] {
      std::lock_guard<std::mutex> lock(self->election_mu_);
      if (self->election_ != nullptr) self->election_->Wake();
    });
    std::lock_guard<std::mutex> lock(server->election_mu_);
    server->election_ = std::make_unique<WriterElection>(
        std::move(replica),
        options.advertise.empty() ? server->address_ : options.advertise,
        options.writer_poll, server->link_.get(),
        [self](std::unique_ptr<runtime::PgStore> store) {
          self->BecomeWriter(std::move(store));
        },
        [self](const absl::Status& s) { self->ReplicaHealthChanged(s); },
        [self] { self->FollowRulesets(); });
  }
  return server;
}

absl::Status RouterServer::StartState(
    std::unique_ptr<runtime::StateStore> store) {
  const ServerOptions& options = options_;
  if (options.wrap_store) store = options.wrap_store(std::move(store));
  absl::StatusOr<runtime::StoredRulesets> stored = store->Rulesets();
  if (!stored.ok()) return stored.status();
  const int64_t stored_live = ResumeRulesets(*stored);
  static const runtime::SystemClock kSystemClock;
  const runtime::Clock* clock =
      options.clock == nullptr ? &kSystemClock : options.clock;
  absl::StatusOr<std::unique_ptr<runtime::Assigner>> assigner =
      runtime::Assigner::Start(std::move(store), clock, options.assigner);
  if (!assigner.ok()) return assigner.status();
  assigner_ = *std::move(assigner);
  assigner_->log().OnHealthChange(
      [this](const absl::Status& s) { StoreHealthChanged(s); });
  if (!options.webhook.url.empty()) {
    WebhookOptions webhook_options = options.webhook;
    if (webhook_options.dead_letter_path.empty()) {
      webhook_options.dead_letter_path =
          (std::filesystem::path(options.data_dir) /
           "webhook-dead-letter.jsonl")
              .string();
    }
    absl::StatusOr<std::unique_ptr<WebhookSender>> webhook =
        WebhookSender::Start(assigner_.get(), webhook_options);
    if (!webhook.ok()) return webhook.status();
    webhook_ = *std::move(webhook);
  }
  RulesetRegistry* registry = registry_.get();
  runtime::SweeperOptions sweep{.interval = options.sweep_interval,
                                .event_retention = options.event_retention};
  sweep.lead_retention = options.lead_retention;
  if (WebhookSender* webhook = webhook_.get()) {
    // Retention keeps what the webhook has not delivered (up to a bound).
    sweep.keep_after = [webhook]() -> std::optional<uint64_t> {
      return webhook->delivered_through();
    };
    sweep.max_kept_for_consumer = options.webhook_keeps_events;
  }
  sweeper_ = std::make_unique<runtime::Sweeper>(
      assigner_.get(), clock,
      [registry]() -> std::shared_ptr<const runtime::Program> {
        std::shared_ptr<const Ruleset> live = registry->Live();
        return live == nullptr ? nullptr : live->program;
      },
      std::move(sweep));
  WatchRulesets(assigner_.get(), stored_live);
  // After: one whose time passed meanwhile goes live, audited and stored.
  ResumeSchedule(*stored);
  if (!options.admin_listen.empty()) {
    kpis_ = std::make_unique<KpiGauges>(assigner_.get());
  }
  // Last: calls are answered here from now on.
  link_->SetAssigner(assigner_.get());
  return absl::OkStatus();
}

int64_t RouterServer::ResumeRulesets(const runtime::StoredRulesets& stored) {
  const std::shared_ptr<const Ruleset> loaded = registry_->Live();
  int64_t stored_live = 0;
  if (stored.live) {
    const runtime::RulesetLive& live = *stored.live;
    const std::string files = registry_->files_fingerprint();
    if (pg_store_ == nullptr && loaded != nullptr &&
        loaded->fingerprint == live.fingerprint) {
      // The files' rules are the live ones: under their stored revision,
      // not compiled twice.
      registry_->RenumberLive(live.revision);
      stored_live = live.revision;
    } else if (pg_store_ != nullptr || live.files_fingerprint == files) {
      // Replicas serve the database's ruleset. A single server serves the
      // one live when it stopped (published, rolled back to) unless its
      // --rules files changed since: the last change wins.
      CompileOutcome adopted = registry_->Adopt(live);
      if (adopted.status.ok()) {
        stored_live = live.revision;
        LogInfo("serving the stored live ruleset",
                {{"revision", absl::StrCat(live.revision)},
                 {"fingerprint", live.fingerprint},
                 {"published_by", live.published_by}});
      } else {
        LogError("cannot serve the stored live ruleset; serving the --rules",
                 {{"revision", absl::StrCat(live.revision)},
                  {"error", std::string(adopted.status.message())}});
      }
    } else {
      LogInfo(
          "the --rules files changed since the stored live ruleset; "
          "serving them",
          {{"stored_revision", absl::StrCat(live.revision)},
           {"files_fingerprint", files}});
    }
  }
  if (pg_store_ == nullptr && stored_live == 0 && loaded != nullptr &&
      loaded->revision <= stored.newest_revision) {
    // The files, loaded before the store was open (nothing served yet):
    // numbered after what it kept.
    registry_->RenumberLive(stored.newest_revision + 1);
  }
  registry_->NumberAfter(stored.newest_revision);
  return stored_live;
}

void RouterServer::ResumeSchedule(const runtime::StoredRulesets& stored) {
  // Whoever writes goes on with the stored schedule, or with none.
  CompileOutcome scheduled =
      registry_->AdoptSchedule(stored.scheduled ? &*stored.scheduled : nullptr);
  if (!scheduled.status.ok()) {
    LogError("cannot schedule the stored scheduled ruleset",
             {{"revision", absl::StrCat(stored.scheduled_revision)},
              {"error", std::string(scheduled.status.message())}});
  } else if (stored.scheduled) {
    LogInfo("scheduled ruleset resumed",
            {{"revision", absl::StrCat(stored.scheduled_revision)},
             {"activate_at",
              runtime::Rfc3339Seconds(stored.scheduled->activate_at)}});
  }
}

void RouterServer::WatchRulesets(runtime::Assigner* assigner,
                                 int64_t stored_live) {
  RulesetRegistry* registry = registry_.get();
  if (std::shared_ptr<const Ruleset> live = registry->Live()) {
    // The store keeps it unless it is the one it kept.
    AuditRulesetLive(
        assigner, nullptr, *live, {live->published_by, live->published_from},
        live->revision != stored_live
            ? std::optional<std::string>(registry->files_fingerprint())
            : std::nullopt);
  }
  registry->SetOnLive([assigner, registry, fallback = options_.removed_reps](
                          const Ruleset& before, const Ruleset& now,
                          std::optional<runtime::RemovedReps> choice,
                          const runtime::Actor& by) {
    AuditRulesetLive(assigner, &before, now, by, registry->files_fingerprint());
    return HandOverRemovedReps(assigner, before, now, choice, fallback, by);
  });
  registry->SetOnScheduled(
      [assigner](const Ruleset* scheduled, const runtime::Actor& by) {
        AuditRulesetSchedule(assigner, scheduled, by);
      });
}

void RouterServer::FollowRulesets() {
  if (shared_reader_ == nullptr || link_->assigner() != nullptr) return;
  std::shared_ptr<const Ruleset> live = registry_->Live();
  const int64_t serving = live == nullptr ? 0 : live->revision;
  // The files are read only when the database's live revision is not the
  // one followed last, or this replica serves another (its own --rules).
  absl::StatusOr<runtime::StoredRulesets> stored = shared_reader_->Rulesets(
      follow_failed_ || followed_revision_ == serving ? followed_revision_ : -1,
      followed_scheduled_);
  if (!stored.ok()) return;  // unreachable
  FollowLive(*stored);
  // After the live one: the writer's activation of the scheduled ruleset
  // ends the schedule here too.
  if (stored->scheduled_revision != followed_scheduled_) {
    CompileOutcome scheduled = registry_->AdoptSchedule(
        stored->scheduled ? &*stored->scheduled : nullptr);
    if (scheduled.status.ok()) {
      followed_scheduled_ = stored->scheduled_revision;
      if (stored->scheduled) {
        LogInfo("following the replicas' scheduled ruleset",
                {{"revision", absl::StrCat(followed_scheduled_)},
                 {"activate_at",
                  runtime::Rfc3339Seconds(stored->scheduled->activate_at)}});
      }
    } else {
      LogError("cannot schedule the replicas' scheduled ruleset",
               {{"revision", absl::StrCat(stored->scheduled_revision)},
                {"error", std::string(scheduled.status.message())}});
    }
  }
}

void RouterServer::FollowLive(const runtime::StoredRulesets& stored) {
  if (!stored.live) return;  // unchanged
  followed_revision_ = stored.live->revision;
  CompileOutcome adopted = registry_->Adopt(*stored.live);
  follow_failed_ = !adopted.status.ok();
  if (adopted.status.ok()) {
    LogInfo("following the replicas' ruleset",
            {{"revision", absl::StrCat(followed_revision_)},
             {"fingerprint", stored.live->fingerprint}});
  } else {
    LogError("cannot serve the replicas' live ruleset; serving the last one",
             {{"revision", absl::StrCat(followed_revision_)},
              {"error", std::string(adopted.status.message())}});
  }
}

void RouterServer::BecomeWriter(std::unique_ptr<runtime::PgStore> store) {
  pg_store_ = store.get();
  if (absl::Status s = StartState(std::move(store)); !s.ok()) {
    LogError("cannot start as the writer; stopping",
             {{"error", std::string(s.message())}});
    fenced_ = true;
    if (options_.on_fenced) options_.on_fenced();
  }
}

void RouterServer::StopIfFenced(const absl::Status& status) {
  if (status.ok() || pg_store_ == nullptr || !pg_store_->fenced() ||
      fenced_.exchange(true)) {
    return;
  }
  // What this replica holds in memory is stale: it stops, to start again
  // as a follower of the new writer.
  LogError("fenced: another replica became the writer; stopping",
           {{"error", std::string(status.message())}});
  if (options_.on_fenced) options_.on_fenced();
}

void RouterServer::ReplicaHealthChanged(const absl::Status& status) {
  StopIfFenced(status);  // taken over while idle (WriterElection)
  std::lock_guard<std::mutex> lock(health_mu_);
  if (status.ok() == replica_ok_) return;
  replica_ok_ = status.ok();
  if (status.ok()) {
    LogInfo("state database reachable again", {});
  } else {
    LogError(
        "state database unreachable; stateful calls fail until it is "
        "back",
        {{"error", std::string(status.message())}});
  }
  if (health_ready_ && !stopped_) {
    server_->GetHealthCheckService()->SetServingStatus(store_ok_ &&
                                                       replica_ok_);
  }
}

void RouterServer::StoreHealthChanged(const absl::Status& status) {
  StopIfFenced(status);  // fenced at a commit
  if (status.ok()) {
    LogInfo(
        "state store recovered; assignments resume",
        {{"failed_commits", absl::StrCat(assigner_->log().FailedCommits())}});
  } else {
    LogError(
        "state store failing; assignments are refused until a retry "
        "commits",
        {{"error", std::string(status.message())}});
  }
  std::lock_guard<std::mutex> lock(health_mu_);
  store_ok_ = status.ok();
  if (health_ready_ && !stopped_) {
    server_->GetHealthCheckService()->SetServingStatus(store_ok_ &&
                                                       replica_ok_);
  }
}

absl::Status RouterServer::Health() const {
  {
    // Every replica's election reads the database each poll, the writer's
    // too.
    std::lock_guard<std::mutex> lock(health_mu_);
    if (!replica_ok_) {
      return absl::UnavailableError("the state database cannot be reached");
    }
  }
  if (runtime::Assigner* assigner = link_->assigner()) {
    return assigner->log().Usable();
  }
  return absl::OkStatus();
}

void RouterServer::RenderStoreMetrics(std::string* out) const {
  absl::StrAppend(
      out,
      "# HELP leadroute_store_up Whether the state store takes commits (0 "
      "while a failed commit waits for its retry).\n"
      "# TYPE leadroute_store_up gauge\nleadroute_store_up ",
      Health().ok() ? 1 : 0,
      "\n# HELP leadroute_store_failed_commits_total Commits the state store "
      "refused (a full disk, an I/O error), retries included.\n"
      "# TYPE leadroute_store_failed_commits_total counter\n"
      "leadroute_store_failed_commits_total ",
      assigner_->log().FailedCommits(),
      "\n# HELP leadroute_working_set_leads Leads held in memory (at most "
      "--lead-cache once committed); any other is read from the store.\n"
      "# TYPE leadroute_working_set_leads gauge\nleadroute_working_set_leads ",
      assigner_->WorkingSetSize(),
      "\n# HELP leadroute_sla_due_in_memory Leads with an SLA deadline or "
      "escalation step due within about an hour, held in memory; later ones "
      "wait in the store.\n"
      "# TYPE leadroute_sla_due_in_memory gauge\nleadroute_sla_due_in_memory ",
      assigner_->DueInMemory(), "\n");
}

RouterServer::~RouterServer() {
  // No promotion once stopping.
  StopElection();
  Shutdown(absl::ZeroDuration());
  // The registry may outlive this server; its hook must not outlive the
  // Assigner.
  if (registry_ != nullptr) {
    registry_->SetOnLive(nullptr);
    registry_->SetOnScheduled(nullptr);
    registry_->UseClock(nullptr);  // the test's clock may go first
  }
}

void RouterServer::StopElection() {
  std::unique_ptr<WriterElection> election;
  {
    std::lock_guard<std::mutex> lock(election_mu_);
    election = std::move(election_);
  }
  election.reset();  // joins its thread, outside the lock
}

void RouterServer::Shutdown(absl::Duration grace) {
  StopElection();
  {
    std::lock_guard<std::mutex> lock(health_mu_);
    if (stopped_ || server_ == nullptr) return;
    stopped_ = true;
    server_->GetHealthCheckService()->SetServingStatus(false);
  }
  assignments_service_->StopStreams();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
  if (async_routes_ != nullptr) async_routes_->Stop();
  if (log_ != nullptr) log_->Flush();
}

int RunServer(const ServerOptions& options, const RunOptions& run,
              std::shared_ptr<RulesetRegistry> registry) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // Debian builds Abseil with absl::Mutex deadlock detection on; gRPC's
  // mutexes are absl::Mutex, so every call paid for a lock-graph update.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  RulesetRegistry* reg = registry.get();
  ServerOptions with_stop = options;
  // A replica taken over as the writer stops (exit code 3), for its
  // supervisor to start it again as a follower.
  with_stop.on_fenced = [] { kill(getpid(), SIGTERM); };
  absl::StatusOr<std::unique_ptr<RouterServer>> server =
      RouterServer::Start(with_stop, std::move(registry));
  if (!server.ok()) {
    LogError("cannot start server",
             {{"error", std::string(server.status().message())}});
    return 2;
  }
  auth::Authorizer& auth = (*server)->authorizer();
  LogInfo("listening",
          {{"addr", (*server)->address()},
           {"tls", options.tls.enabled()
                       ? (options.tls.client_ca.empty() ? "on" : "mutual")
                       : "off"},
           {"auth", auth.enabled() ? auth.path() : "off (loopback only)"}});
  if (auth.enabled()) LogAuthReload(auth, absl::OkStatus());
  if (options.tls.enabled()) LogTls(options.tls, "tls certificate");
  if (!(*server)->admin_address().empty()) {
    LogInfo("admin http listening",
            {{"addr", (*server)->admin_address()},
             {"tls", options.tls.enabled() ? "on" : "off"},
             {"paths", "/metrics /healthz /status"}});
  }

  std::unique_ptr<RulesWatcher> watcher;
  std::unique_ptr<FileWatcher> auth_watcher, tls_watcher;
  if (run.watch_interval > absl::ZeroDuration()) {
    if (!run.rules.empty()) {
      watcher = std::make_unique<RulesWatcher>(reg, run.rules, run.files,
                                               run.watch_interval);
    }
    if (auth.enabled()) {
      auth_watcher = std::make_unique<FileWatcher>(
          std::vector<std::string>{auth.path()}, run.watch_interval,
          [&auth] { LogAuthReload(auth, auth.Reload()); });
    }
    if (options.tls.enabled()) {
      // gRPC swaps the pair in itself (TlsFiles::refresh); this says so.
      tls_watcher = std::make_unique<FileWatcher>(
          std::vector<std::string>{options.tls.cert, options.tls.key,
                                   options.tls.client_ca},
          run.watch_interval,
          [&options] { LogTls(options.tls, "tls files changed"); });
    }
  }

  int signal_number = 0;
  while (sigwait(&signals, &signal_number) == 0 && signal_number == SIGHUP) {
    if (auth.enabled()) LogAuthReload(auth, auth.Reload());
    if (options.tls.enabled()) LogTls(options.tls, "tls files checked");
    if (run.rules.empty()) {
      if (!auth.enabled()) {
        LogInfo("reload ignored", {{"reason", "no --rules to reload"}});
      }
      continue;
    }
    // Compiled here, in the signal thread: calls keep being answered by the
    // running rules until the new ones are ready.
    LogReload(reg->LoadPath(run.rules), run.rules);
  }
  LogInfo("stopping", {{"signal", strsignal(signal_number)},
                       {"grace", absl::FormatDuration(options.grace)}});
  watcher.reset();
  auth_watcher.reset();
  tls_watcher.reset();
  (*server)->Shutdown(options.grace);
  const bool fenced = (*server)->fenced();
  LogInfo("stopped", {{"fenced", fenced ? "true" : "false"}});
  return fenced ? 3 : 0;
}

}  // namespace leadroute
