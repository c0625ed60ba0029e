// The admin HTTP port; see admin_http.h.
#include "src/server/admin_http.h"

#include <civetweb.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "base/log.h"

namespace leadroute {
namespace {

using Json = nlohmann::ordered_json;

Json RulesetJson(const Ruleset& r) {
  return {{"name", r.name},
          {"version", r.version},
          {"revision", r.revision},
          {"fingerprint", r.fingerprint},
          {"origin", r.origin},
          {"loaded_at", Rfc3339Micros(r.loaded_at)},
          {"published_by", r.published_by},
          {"published_from", r.published_from},
          {"rule_count", r.rule_count}};
}

void Send(::mg_connection* conn, int code, const char* content_type,
          const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            code, mg_get_response_code_text(conn, code), content_type,
            body.size());
  mg_write(conn, body.data(), body.size());
}

}  // namespace

std::string RenderPrometheus(const RulesetRegistry::Snapshot& s,
                             const ServerMetrics& metrics) {
  std::string out;
  metrics.Render(&out);
  absl::StrAppend(&out,
                  "# HELP leadroute_ruleset_info The retained rulesets; "
                  "live=\"true\" marks the one routing calls.\n"
                  "# TYPE leadroute_ruleset_info gauge\n");
  for (const auto& r : s.retained) {
    absl::StrAppend(&out, "leadroute_ruleset_info{revision=\"", r->revision,
                    "\",name=\"", PromEscape(r->name), "\",version=\"",
                    PromEscape(r->version), "\",fingerprint=\"", r->fingerprint,
                    "\",live=\"", r == s.live ? "true" : "false", "\"} 1\n");
  }
  if (s.live != nullptr) {
    absl::StrAppend(
        &out,
        "# HELP leadroute_ruleset_live_revision The live ruleset's revision.\n"
        "# TYPE leadroute_ruleset_live_revision gauge\n"
        "leadroute_ruleset_live_revision ",
        s.live->revision,
        "\n# HELP leadroute_ruleset_loaded_timestamp_seconds When the live "
        "ruleset was loaded.\n"
        "# TYPE leadroute_ruleset_loaded_timestamp_seconds gauge\n"
        "leadroute_ruleset_loaded_timestamp_seconds ",
        absl::ToUnixSeconds(s.live->loaded_at), "\n");
  }
  absl::StrAppend(&out,
                  "# HELP leadroute_reloads_total Ruleset reloads (start-up, "
                  "SIGHUP, file changes, PublishRules, Rollback) by result.\n"
                  "# TYPE leadroute_reloads_total counter\n"
                  "leadroute_reloads_total{result=\"success\"} ",
                  s.reloads_succeeded,
                  "\nleadroute_reloads_total{result=\"failure\"} ",
                  s.reloads_failed, "\n");
  absl::StrAppend(&out,
                  "# HELP leadroute_leads_total Leads routed, by ruleset "
                  "revision and outcome (owned, queued, unowned, "
                  "rejected).\n"
                  "# TYPE leadroute_leads_total counter\n");
  for (const auto& r : s.retained) {
    for (int o = 0; o < RulesetCounters::kOutcomeCount; ++o) {
      absl::StrAppend(&out, "leadroute_leads_total{revision=\"", r->revision,
                      "\",outcome=\"", RulesetCounters::OutcomeName(o), "\"} ",
                      r->counters->outcome(o), "\n");
    }
  }
  absl::StrAppend(&out,
                  "# HELP leadroute_rule_decisions_total Outputs decided, by "
                  "ruleset revision, stage and rule (rules that never "
                  "decided are left out).\n"
                  "# TYPE leadroute_rule_decisions_total counter\n");
  for (const auto& r : s.retained) {
    if (r->program == nullptr) continue;
    for (int st = 0; st < runtime::kStageCount; ++st) {
      const auto stage = static_cast<runtime::StageId>(st);
      const std::vector<runtime::Rule>& rules = r->program->stages[st];
      for (size_t i = 0; i < rules.size(); ++i) {
        const uint64_t n = r->counters->rule(stage, static_cast<int>(i));
        if (n == 0) continue;
        absl::StrAppend(&out, "leadroute_rule_decisions_total{revision=\"",
                        r->revision, "\",stage=\"", runtime::StageIdName(stage),
                        "\",rule=\"", PromEscape(rules[i].name), "\"} ", n,
                        "\n");
      }
    }
  }
  return out;
}

void RenderShadowMetrics(const Shadow::Status& s, std::string* out) {
  if (s.candidate == nullptr) return;
  const runtime::ReplayReport& r = s.report;
  absl::StrAppend(
      out,
      "# HELP leadroute_shadow_info The shadow ruleset, decided beside the "
      "live one.\n# TYPE leadroute_shadow_info gauge\n"
      "leadroute_shadow_info{name=\"",
      PromEscape(s.candidate->name), "\",version=\"",
      PromEscape(s.candidate->version), "\",fingerprint=\"",
      s.candidate->fingerprint, "\"} 1\n");
  absl::StrAppend(
      out,
      "# HELP leadroute_shadow_leads_total Leads routed since the shadow was "
      "set, by what became of them: compared, rejected (by its schema), "
      "dropped (its queue was full; --shadow-queue).\n"
      "# TYPE leadroute_shadow_leads_total counter\n",
      "leadroute_shadow_leads_total{result=\"compared\"} ", r.leads, "\n",
      "leadroute_shadow_leads_total{result=\"rejected\"} ", r.rejected_after,
      "\n", "leadroute_shadow_leads_total{result=\"dropped\"} ", s.dropped,
      "\n");
  absl::StrAppend(out,
                  "# HELP leadroute_shadow_changed_total Leads the shadow "
                  "decides otherwise than the live rules, by output.\n"
                  "# TYPE leadroute_shadow_changed_total counter\n");
  for (int o = 0; o < runtime::kReplayOutputs; ++o) {
    absl::StrAppend(
        out, "leadroute_shadow_changed_total{output=\"",
        runtime::ReplayOutputName(static_cast<runtime::ReplayOutput>(o)),
        "\"} ", r.changed[o], "\n");
  }
  absl::StrAppend(out, "leadroute_shadow_changed_total{output=\"any\"} ",
                  r.changed_any, "\n");
  absl::StrAppend(out,
                  "# HELP leadroute_shadow_transitions_total Leads whose "
                  "owner the shadow changes, live to shadow (the 20 largest "
                  "transitions).\n"
                  "# TYPE leadroute_shadow_transitions_total counter\n");
  for (size_t i = 0; i < r.transitions.size() && i < 20; ++i) {
    absl::StrAppend(out, "leadroute_shadow_transitions_total{from=\"",
                    PromEscape(r.transitions[i].from), "\",to=\"",
                    PromEscape(r.transitions[i].to), "\"} ",
                    r.transitions[i].leads, "\n");
  }
  absl::StrAppend(out,
                  "# HELP leadroute_shadow_fell_through_total Leads a stage "
                  "decided live that no shadow rule decides, by stage.\n"
                  "# TYPE leadroute_shadow_fell_through_total counter\n");
  for (int st = 0; st < runtime::kStageCount; ++st) {
    absl::StrAppend(out, "leadroute_shadow_fell_through_total{stage=\"",
                    runtime::StageIdName(static_cast<runtime::StageId>(st)),
                    "\"} ", r.fell_through[st], "\n");
  }
}

Json ShadowJson(const Shadow::Status& s) {
  if (s.candidate == nullptr) return nullptr;
  const runtime::ReplayReport& r = s.report;
  Json j;
  j["ruleset"] = RulesetJson(*s.candidate);
  j["since"] = Rfc3339Micros(s.since);
  j["offered"] = s.offered;
  j["compared"] = r.leads;
  j["rejected"] = r.rejected_after;
  j["dropped"] = s.dropped;
  Json changed = Json::object();
  for (int o = 0; o < runtime::kReplayOutputs; ++o) {
    changed[runtime::ReplayOutputName(static_cast<runtime::ReplayOutput>(o))] =
        r.changed[o];
  }
  changed["any"] = r.changed_any;
  j["changed"] = std::move(changed);
  Json moves = Json::array();
  for (size_t i = 0; i < r.transitions.size() && i < 20; ++i) {
    moves.push_back({{"from", r.transitions[i].from},
                     {"to", r.transitions[i].to},
                     {"leads", r.transitions[i].leads}});
  }
  j["transitions"] = std::move(moves);
  j["became_unassigned"] = r.became_unassigned;
  Json rules = Json::array();
  for (const runtime::ReplayReport::RuleRow& row : r.rules) {
    if (row.before == row.after) continue;
    rules.push_back(
        {{"rule", row.rule}, {"live", row.before}, {"shadow", row.after}});
  }
  j["rules"] = std::move(rules);
  return j;
}

std::string RenderStatusJson(const RulesetRegistry::Snapshot& s,
                             const Shadow::Status* shadow) {
  Json j;
  j["serving"] = s.live != nullptr;
  j["started_at"] = Rfc3339Micros(s.started_at);
  j["live"] = s.live != nullptr ? RulesetJson(*s.live) : Json(nullptr);
  Json retained = Json::array();
  for (const auto& r : s.retained) retained.push_back(RulesetJson(*r));
  j["retained"] = std::move(retained);
  j["reloads_succeeded"] = s.reloads_succeeded;
  j["reloads_failed"] = s.reloads_failed;
  if (s.last_failure) {
    Json diagnostics = Json::array();
    for (const RuleDiagnostic& d : s.last_failure->diagnostics) {
      diagnostics.push_back({{"severity", d.error ? "error" : "warning"},
                             {"file", d.file},
                             {"line", d.line},
                             {"column", d.column},
                             {"message", d.message},
                             {"code", d.code}});
    }
    j["last_reload_error"] = {{"at", Rfc3339Micros(s.last_failure->at)},
                              {"origin", s.last_failure->origin},
                              {"message", s.last_failure->message},
                              {"diagnostics", std::move(diagnostics)}};
  } else {
    j["last_reload_error"] = nullptr;
  }
  j["shadow"] = shadow == nullptr ? Json(nullptr) : ShadowJson(*shadow);
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

absl::StatusOr<std::unique_ptr<AdminHttp>> AdminHttp::Start(
    const std::string& listen, const RulesetRegistry* registry,
    const ServerMetrics* metrics, const auth::Authorizer* auth,
    ExtraMetrics extra, Health health, std::unique_ptr<Dashboard> dashboard,
    const Shadow* shadow) {
  mg_init_library(0);
  std::unique_ptr<AdminHttp> http(new AdminHttp(
      registry, metrics, auth, std::move(extra), std::move(health)));
  http->shadow_ = shadow;
  http->dashboard_ = std::move(dashboard);
  // Enough workers that a few slow or stuck clients do not hold up the
  // probes, and a request must arrive whole within 5 s.
  const char* options[] = {
      "listening_ports",    listen.c_str(), "num_threads", "32",
      "request_timeout_ms", "5000",         nullptr};
  mg_callbacks callbacks{};
  // civetweb prints its own errors to stderr; keep them in our log format.
  callbacks.log_message = [](const ::mg_connection*, const char*) { return 1; };
  http->context_ = mg_start(&callbacks, nullptr, options);
  if (http->context_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("--admin-listen ", listen,
                     ": cannot listen (address in use, or not a host:port?)"));
  }
  mg_set_request_handler(http->context_, "/", &AdminHttp::Handle, http.get());
  mg_server_port ports[1];
  const int n = mg_get_server_ports(http->context_, 1, ports);
  const size_t colon = listen.rfind(':');
  const std::string host =
      colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
  http->address_ = absl::StrCat(host, ":", n > 0 ? ports[0].port : 0);
  return http;
}

AdminHttp::~AdminHttp() {
  if (context_ != nullptr) mg_stop(context_);
}

int AdminHttp::Handle(::mg_connection* conn, void* self_ptr) {
  const auto* self = static_cast<const AdminHttp*>(self_ptr);
  const mg_request_info* info = mg_get_request_info(conn);
  const std::string uri = info->local_uri != nullptr ? info->local_uri : "";
  const std::string method =
      info->request_method != nullptr ? info->request_method : "";
  if (method != "GET" && method != "HEAD") {
    Send(conn, 405, "text/plain", "only GET\n");
    return 405;
  }
  // The dashboard's page and scripts hold no data: open, like /healthz.
  if (const DashboardAsset* asset = FindDashboardAsset(uri)) {
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n"
              "Content-Security-Policy: default-src 'self'; "
              "img-src 'self' data:; frame-ancestors 'none'\r\n"
              "Connection: close\r\n\r\n",
              asset->content_type, asset->size);
    if (method == "GET") mg_write(conn, asset->data, asset->size);
    return 200;
  }
  const bool api = uri == "/api/v1/dashboard";
  if (uri == "/metrics" || uri == "/status" || api) {
    const char* header = mg_get_header(conn, "Authorization");
    absl::Status allowed = self->auth_->CheckRequest(
        header == nullptr ? "" : header, {}, auth::kAdminHttp, nullptr);
    if (!allowed.ok()) {
      const bool unknown = allowed.code() == absl::StatusCode::kUnauthenticated;
      const int code = unknown ? 401 : 403;
      const std::string body = absl::StrCat(allowed.message(), "\n");
      mg_printf(
          conn,
          "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
          "Content-Length: %zu\r\n%sCache-Control: no-store\r\n"
          "Connection: close\r\n\r\n",
          code, mg_get_response_code_text(conn, code), body.size(),
          unknown ? "WWW-Authenticate: Bearer realm=\"leadroute\"\r\n" : "");
      mg_write(conn, body.data(), body.size());
      return code;
    }
  }
  if (api) {
    if (self->dashboard_ == nullptr) {
      Send(conn, 404, "text/plain", "no dashboard on this server\n");
      return 404;
    }
    Dashboard::Answer a = self->dashboard_->Api(
        info->query_string != nullptr ? info->query_string : "");
    Send(conn, a.code, "application/json", a.body);
    return a.code;
  }
  const RulesetRegistry::Snapshot s = self->registry_->snapshot();
  if (uri == "/metrics") {
    std::string text = RenderPrometheus(s, *self->metrics_);
    if (self->extra_ != nullptr) self->extra_(&text);
    Send(conn, 200, "text/plain; version=0.0.4; charset=utf-8", text);
    return 200;
  }
  if (uri == "/healthz") {
    if (s.live == nullptr) {
      Send(conn, 503, "text/plain", "not serving: no ruleset\n");
      return 503;
    }
    if (self->health_ != nullptr) {
      if (absl::Status h = self->health_(); !h.ok()) {
        Send(conn, 503, "text/plain",
             absl::StrCat("not serving: ", h.message(), "\n"));
        return 503;
      }
    }
    Send(conn, 200, "text/plain",
         absl::StrCat("serving revision ", s.live->revision, "\n"));
    return 200;
  }
  if (uri == "/status") {
    std::optional<Shadow::Status> shadow;
    if (self->shadow_ != nullptr) shadow = self->shadow_->status();
    Send(conn, 200, "application/json",
         RenderStatusJson(s, shadow ? &*shadow : nullptr));
    return 200;
  }
  Send(conn, 404, "text/plain",
       "not found: try / (the dashboard), /metrics, /healthz, /status\n");
  return 404;
}

}  // namespace leadroute
