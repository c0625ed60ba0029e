// proto <-> runtime conversions; see convert.h.
#include "src/wire/convert.h"

#include "absl/strings/str_cat.h"
#include "base/field_error.h"
#include "base/status_macros.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "src/wire/lead_reader.h"
#include "src/wire/proto_time.h"

namespace leadroute {
namespace {

void RuleRefToProto(const runtime::RuleRef& r, v1::RuleRef* out) {
  out->set_stage(r.stage);
  out->set_rule(r.rule);
  out->set_location(r.location);
}

}  // namespace

v1::OwnerKind OwnerKindToProto(runtime::OwnerKind kind) {
  switch (kind) {
    case runtime::OwnerKind::kNone:
      return v1::OWNER_KIND_UNSPECIFIED;
    case runtime::OwnerKind::kRep:
      return v1::OWNER_KIND_REP;
    case runtime::OwnerKind::kTeam:
      return v1::OWNER_KIND_TEAM;
    case runtime::OwnerKind::kQueue:
      return v1::OWNER_KIND_QUEUE;
  }
  return v1::OWNER_KIND_UNSPECIFIED;
}

absl::StatusOr<runtime::Lead> LeadFromProto(const v1::Lead& lead,
                                            size_t max_bytes) {
  // Through the wire decoder RouteBatch uses, so both check alike.
  const std::string bytes = lead.SerializeAsString();  // the reader's views
  LeadReader reader;
  RETURN_IF_ERROR(reader.Read(bytes, max_bytes));
  return reader.TakeLead();
}

absl::StatusOr<runtime::DecideOptions> OptionsFromProto(
    const v1::RouteOptions& options, absl::Time now) {
  runtime::DecideOptions out;
  out.received_at = now;
  if (options.has_received_at()) {
    absl::StatusOr<absl::Time> t = TimeFromProto(options.received_at());
    if (!t.ok()) {
      return InvalidFieldError("options.received_at", t.status().message());
    }
    out.received_at = *t;
  }
  out.explain = options.explain();
  out.why_not.assign(options.why_not().begin(), options.why_not().end());
  return out;
}

void DecisionToProto(const runtime::Decision& d, v1::Decision* out) {
  out->set_lead_id(d.lead_id);
  out->set_owner(d.owner);
  out->set_owner_kind(OwnerKindToProto(d.owner_kind));
  out->set_team(d.team);
  if (d.priority) {
    out->mutable_priority()->set_label(d.priority->label);
    out->mutable_priority()->set_rank(d.priority->rank);
  }
  if (d.sla) DurationToProto(*d.sla, out->mutable_sla());
  if (d.respond_by) TimeToProto(*d.respond_by, out->mutable_respond_by());
  out->set_channel(d.channel);
  out->mutable_ruleset()->set_name(d.ruleset_name);
  out->mutable_ruleset()->set_version(d.ruleset_version);
  out->set_score(d.score);
  for (const runtime::RuleRef& r : d.decided_by) {
    RuleRefToProto(r, out->add_decided_by());
  }
  if (!d.decision_id.empty()) out->set_decision_id(d.decision_id);
  out->set_replayed(d.replayed);
  out->set_repeat_of(d.repeat_of);
  for (const std::string& s : d.skipped) out->add_skipped(s);
  if (d.decided_at) TimeToProto(*d.decided_at, out->mutable_decided_at());
  out->set_escalation(d.escalation);
  if (d.explanation)
    ExplanationToProto(*d.explanation, out->mutable_explanation());
}

void ExplanationToProto(const runtime::Explanation& x, v1::Explanation* e) {
  for (const runtime::StageExplanation& s : x.stages) {
    v1::StageExplanation* se = e->add_stages();
    se->set_stage(s.stage);
    RuleRefToProto(s.rule, se->mutable_rule());
    for (const std::string& c : s.conditions) se->add_conditions(c);
  }
  for (const runtime::Alternative& a : x.alternatives) {
    v1::Alternative* alt = e->add_alternatives();
    RuleRefToProto(a.rule, alt->mutable_rule());
    alt->set_failed_condition(a.failed_condition);
    alt->set_reason(a.reason);
  }
}

void AssignmentToProto(const runtime::Assignment& a, v1::Assignment* out) {
  out->set_lead_id(a.lead_id);
  out->set_owner(a.owner);
  out->set_owner_kind(OwnerKindToProto(a.owner_kind));
  out->set_team(a.team);
  out->set_status(static_cast<v1::LeadStatus>(static_cast<int>(a.status) + 1));
  out->set_decision_id(a.decision_id);
  TimeToProto(a.decided_at, out->mutable_decided_at());
  if (a.respond_by) TimeToProto(*a.respond_by, out->mutable_respond_by());
  if (a.ended_at) TimeToProto(*a.ended_at, out->mutable_ended_at());
  out->set_repeat_of(a.repeat_of);
  out->set_priority(a.priority);
  out->set_channel(a.channel);
  TimeToProto(a.routed_at, out->mutable_routed_at());
  out->set_sla_status(static_cast<v1::SlaStatus>(a.sla_status));
  using runtime::Outcome;
  const std::pair<Outcome, google::protobuf::Timestamp* (v1::Assignment::*)()>
      kReached[] = {
          {Outcome::kContacted, &v1::Assignment::mutable_contacted_at},
          {Outcome::kQualified, &v1::Assignment::mutable_qualified_at},
          {Outcome::kOpportunity, &v1::Assignment::mutable_opportunity_at},
          {Outcome::kWon, &v1::Assignment::mutable_won_at},
          {Outcome::kLost, &v1::Assignment::mutable_lost_at},
      };
  for (const auto& [o, field] : kReached) {
    if (const auto& at = a.reached[static_cast<int>(o)]) {
      TimeToProto(*at, (out->*field)());
    }
  }
  out->set_contact_channel(a.contact_channel);
  out->set_contacted_by(a.contacted_by);
  out->set_outcome(static_cast<v1::Outcome>(a.outcome));
  out->set_escalation(a.escalation);
  out->set_escalation_hops(a.hops);
  for (const std::string& rep : a.had_by) out->add_had_by(rep);
  out->set_owner_sla_status(static_cast<v1::SlaStatus>(a.clock_status));
  for (const std::string& rep : a.missed_by) out->add_sla_missed_by(rep);
  if (a.next_due) TimeToProto(*a.next_due, out->mutable_next_escalation_at());
}

void EventToProto(const runtime::LeadEvent& e, v1::AssignmentEvent* out) {
  out->set_id(e.id);
  out->set_lead_id(e.lead_id);
  out->set_kind(e.kind);
  TimeToProto(e.at, out->mutable_at());
  out->set_from(e.from);
  out->set_to(e.to);
  out->set_owner_kind(OwnerKindToProto(e.owner_kind));
  out->set_team(e.team);
  out->set_channel(e.channel);
  out->set_priority(e.priority);
  if (e.sla) DurationToProto(*e.sla, out->mutable_sla());
  if (e.respond_by) TimeToProto(*e.respond_by, out->mutable_respond_by());
  out->set_reason(e.reason);
  out->set_actor(e.actor);
}

void RepLoadToProto(const runtime::RepLoad& load, v1::RepState* out) {
  out->set_rep(load.rep);
  out->set_availability(static_cast<v1::RepAvailability>(
      static_cast<int>(load.status.availability) + 1));
  if (load.status.until) {
    TimeToProto(*load.status.until, out->mutable_until());
  }
  out->set_note(load.status.note);
  out->set_open_leads(load.open);
  out->set_assigned_today(load.today);
  out->set_assigned_this_week(load.this_week);
  out->set_can_take_leads(load.can_take);
  out->set_reason(load.reason);
}

runtime::KpiDimension DimensionFromProto(v1::StatsDimension d) {
  switch (d) {
    case v1::STATS_DIMENSION_RULESET:
      return runtime::KpiDimension::kRuleset;
    case v1::STATS_DIMENSION_RULE:
      return runtime::KpiDimension::kRule;
    case v1::STATS_DIMENSION_TEAM:
      return runtime::KpiDimension::kTeam;
    case v1::STATS_DIMENSION_REP:
      return runtime::KpiDimension::kRep;
    case v1::STATS_DIMENSION_SOURCE:
      return runtime::KpiDimension::kSource;
    case v1::STATS_DIMENSION_HOUR:
      return runtime::KpiDimension::kHour;
    case v1::STATS_DIMENSION_DAY:
      return runtime::KpiDimension::kDay;
    default:
      return runtime::KpiDimension::kTotal;
  }
}

namespace {

v1::StatsDimension DimensionToProto(runtime::KpiDimension d) {
  switch (d) {
    case runtime::KpiDimension::kRuleset:
      return v1::STATS_DIMENSION_RULESET;
    case runtime::KpiDimension::kRule:
      return v1::STATS_DIMENSION_RULE;
    case runtime::KpiDimension::kTeam:
      return v1::STATS_DIMENSION_TEAM;
    case runtime::KpiDimension::kRep:
      return v1::STATS_DIMENSION_REP;
    case runtime::KpiDimension::kSource:
      return v1::STATS_DIMENSION_SOURCE;
    case runtime::KpiDimension::kHour:
      return v1::STATS_DIMENSION_HOUR;
    case runtime::KpiDimension::kDay:
      return v1::STATS_DIMENSION_DAY;
    case runtime::KpiDimension::kTotal:
      break;
  }
  return v1::STATS_DIMENSION_UNSPECIFIED;
}

void RowToProto(const runtime::KpiRow& r, v1::LeadStats* out) {
  out->set_key(r.key);
  out->set_routed(r.routed);
  out->set_to_rep(r.to_rep);
  out->set_queued(r.queued);
  out->set_unassigned(r.unassigned);
  out->set_fallback(r.fallback);
  out->set_contacted(r.contacted);
  if (r.avg_first_response) {
    DurationToProto(*r.avg_first_response, out->mutable_avg_first_response());
  }
  if (r.p50_first_response) {
    DurationToProto(*r.p50_first_response, out->mutable_p50_first_response());
  }
  if (r.p90_first_response) {
    DurationToProto(*r.p90_first_response, out->mutable_p90_first_response());
  }
  out->set_sla_met(r.sla_met);
  out->set_sla_missed(r.sla_missed);
  out->set_sla_pending(r.sla_pending);
  if (r.sla_met_rate) out->mutable_sla_met_rate()->set_value(*r.sla_met_rate);
  out->set_sql(r.sql);
  out->set_opportunities(r.opportunities);
  out->set_won(r.won);
  out->set_lost(r.lost);
  if (r.lead_to_sql) out->mutable_lead_to_sql()->set_value(*r.lead_to_sql);
  if (r.sql_to_opportunity)
    out->mutable_sql_to_opportunity()->set_value(*r.sql_to_opportunity);
  out->set_share(r.share);
  out->set_reps(r.reps);
  if (r.fairness) out->mutable_fairness()->set_value(*r.fairness);
  out->set_reassigned_to(r.reassigned_to);
  out->set_reassigned_away(r.reassigned_away);
}

}  // namespace

void StatsToProto(const runtime::KpiReport& report, v1::GetStatsResponse* out) {
  TimeToProto(report.from, out->mutable_from());
  TimeToProto(report.to, out->mutable_to());
  out->set_group_by(DimensionToProto(report.by));
  RowToProto(report.total, out->mutable_total());
  for (const runtime::KpiRow& r : report.rows) RowToProto(r, out->add_rows());
}

grpc::Status ToGrpcStatus(const absl::Status& status,
                          absl::string_view field_prefix) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share google.rpc.Code's numbering.
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string field = ErrorField(status);
  if (field.empty()) return grpc::Status(code, std::string(status.message()));
  // A field error also travels as google.rpc.BadRequest in the details.
  google::rpc::BadRequest bad;
  google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
  v->set_field(absl::StrCat(field_prefix, field));
  v->set_description(std::string(ErrorDescription(status)));
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(status.code()));
  details.set_message(std::string(status.message()));
  details.add_details()->PackFrom(bad);
  return grpc::Status(code, std::string(status.message()),
                      details.SerializeAsString());
}

}  // namespace leadroute
