// AdminHttp: the admin port (civetweb; with --tls-cert it listens on
// loopback behind a TlsFront, tls_front.h, that serves HTTPS), for what
// operators' tools expect to scrape or probe:
//   GET /metrics  Prometheus text: calls by method and code, latency
//                 histograms, leads by ruleset revision and outcome,
//                 decisions by ruleset revision, stage and rule, reloads,
//                 the live revision, and whatever the server adds (with
//                 state: the routing KPIs, kpi_metrics.h; the webhook's
//                 progress).
//   GET /healthz  200 "serving" with a live ruleset and a working state
//                 store, 503 and the reason otherwise.
//   GET /status   JSON: the live ruleset (name, version, revision,
//                 fingerprint, origin, loaded_at, who published it and
//                 from where), the retained ones, the last reload
//                 error, and the shadow ruleset's disagreements.
//   GET /         the dashboard (dashboard.h): its page and scripts under
//                 /dashboard/, its data from GET /api/v1/dashboard.
// With --auth, /metrics, /status and /api/ need a bearer token (an
// Authorization header) of a principal with role read: 401 without one,
// 403 with another role. /healthz stays open, for load balancers, and so
// do the dashboard's page and scripts, which hold no data (the page asks
// for a token when the API says 401).
#ifndef LEADROUTE_SRC_SERVER_ADMIN_HTTP_H_
#define LEADROUTE_SRC_SERVER_ADMIN_HTTP_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "src/auth/authorizer.h"
#include "src/server/dashboard.h"
#include "src/service/metrics.h"
#include "src/service/ruleset_registry.h"
#include "src/service/shadow.h"

struct mg_context;
struct mg_connection;

namespace leadroute {

// The Prometheus text for the registry's rulesets and the server's metrics.
std::string RenderPrometheus(const RulesetRegistry::Snapshot& snapshot,
                             const ServerMetrics& metrics);
// The /status document; `shadow`: the shadow ruleset's, when one runs.
std::string RenderStatusJson(const RulesetRegistry::Snapshot& snapshot,
                             const Shadow::Status* shadow = nullptr);
// The shadow's counters as Prometheus text (nothing without a shadow).
void RenderShadowMetrics(const Shadow::Status& shadow, std::string* out);

class AdminHttp {
 public:
  // More /metrics text, appended to `out` on each scrape (from civetweb's
  // threads).
  using ExtraMetrics = std::function<void(std::string* out)>;
  // Whether the server can do its work beyond having rules (its state
  // store takes commits): /healthz says 503 with the reason when not.
  using Health = std::function<absl::Status()>;

  // Listens on `listen` (host:port; port 0 picks one). `registry`,
  // `metrics`, `auth` and what `extra` reads must outlive the server.
  // Without `dashboard`, /api/v1/dashboard is 404.
  static absl::StatusOr<std::unique_ptr<AdminHttp>> Start(
      const std::string& listen, const RulesetRegistry* registry,
      const ServerMetrics* metrics, const auth::Authorizer* auth,
      ExtraMetrics extra = nullptr, Health health = nullptr,
      std::unique_ptr<Dashboard> dashboard = nullptr,
      const Shadow* shadow = nullptr);
  ~AdminHttp();

  const std::string& address() const { return address_; }

 private:
  AdminHttp(const RulesetRegistry* registry, const ServerMetrics* metrics,
            const auth::Authorizer* auth, ExtraMetrics extra, Health health)
      : registry_(registry),
        metrics_(metrics),
        auth_(auth),
        extra_(std::move(extra)),
        health_(std::move(health)) {}
  static int Handle(::mg_connection* conn, void* self);

  const RulesetRegistry* registry_;
  const ServerMetrics* metrics_;
  const auth::Authorizer* auth_;
  const Shadow* shadow_ = nullptr;  // /status shows it; may be null
  const ExtraMetrics extra_;
  const Health health_;
  std::unique_ptr<Dashboard> dashboard_;
  mg_context* context_ = nullptr;
  std::string address_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_ADMIN_HTTP_H_
