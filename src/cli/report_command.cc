// `leadroute report`: routing KPIs (runtime/kpi.h) from a server's state
// store over a window, as a table, CSV or JSON. Read-only, so it is safe
// while the server runs; the numbers are GetStats' for the same window.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "runtime/clock.h"
#include "runtime/kpi.h"
#include "src/cli/commands.h"
#include "src/server/kpi_json.h"

namespace leadroute {
namespace {

using runtime::KpiRow;

// A ratio as a percentage, or "-".
std::string Percent(const std::optional<double>& r) {
  return r ? absl::StrFormat("%.1f%%", *r * 100) : "-";
}

std::string Seconds(const std::optional<absl::Duration>& d) {
  return d ? absl::StrFormat("%.3f", absl::ToDoubleSeconds(*d)) : "";
}

std::string Fraction(const std::optional<double>& r) {
  return r ? absl::StrFormat("%.4f", *r) : "";
}

// A duration for people: "42s", "1h05m", "2d03h".
std::string Readable(const std::optional<absl::Duration>& d) {
  if (!d) return "-";
  const int64_t s = absl::ToInt64Seconds(*d);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  if (s < 86400) return absl::StrFormat("%dh%02dm", s / 3600, s % 3600 / 60);
  return absl::StrFormat("%dd%02dh", s / 86400, s % 86400 / 3600);
}

// CSV quoting (RFC 4180) for keys, which are names people chose.
std::string Csv(const std::string& field) {
  if (field.find_first_of(",\"\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void PrintCsv(const runtime::KpiReport& report) {
  std::printf(
      "%s,routed,to_rep,queued,unassigned,fallback,contacted,"
      "avg_first_response_s,"
      "p50_first_response_s,p90_first_response_s,sla_met,sla_missed,sla_"
      "pending,sla_met_rate,sql,"
      "opportunities,won,lost,lead_to_sql,sql_to_opportunity,share,reps,"
      "fairness,reassigned_to,reassigned_away\n",
      runtime::KpiDimensionName(report.by));
  auto line = [](const std::string& key, const KpiRow& r) {
    std::printf("%s\n", absl::StrJoin({Csv(key),
                                       absl::StrCat(r.routed),
                                       absl::StrCat(r.to_rep),
                                       absl::StrCat(r.queued),
                                       absl::StrCat(r.unassigned),
                                       absl::StrCat(r.fallback),
                                       absl::StrCat(r.contacted),
                                       Seconds(r.avg_first_response),
                                       Seconds(r.p50_first_response),
                                       Seconds(r.p90_first_response),
                                       absl::StrCat(r.sla_met),
                                       absl::StrCat(r.sla_missed),
                                       absl::StrCat(r.sla_pending),
                                       Fraction(r.sla_met_rate),
                                       absl::StrCat(r.sql),
                                       absl::StrCat(r.opportunities),
                                       absl::StrCat(r.won),
                                       absl::StrCat(r.lost),
                                       Fraction(r.lead_to_sql),
                                       Fraction(r.sql_to_opportunity),
                                       absl::StrFormat("%.4f", r.share),
                                       absl::StrCat(r.reps),
                                       Fraction(r.fairness),
                                       absl::StrCat(r.reassigned_to),
                                       absl::StrCat(r.reassigned_away)},
                                      ",")
                            .c_str());
  };
  for (const KpiRow& r : report.rows) line(r.key, r);
  line("(total)", report.total);
}

void PrintTable(const runtime::KpiReport& report) {
  std::printf("Leads routed %s to %s, by %s\n",
              runtime::Rfc3339Seconds(report.from).c_str(),
              runtime::Rfc3339Seconds(report.to).c_str(),
              runtime::KpiDimensionName(report.by));
  size_t width = 7;  // "(total)"
  for (const KpiRow& r : report.rows) width = std::max(width, r.key.size());
  const int w = static_cast<int>(std::min<size_t>(width, 40));
  std::printf(
      "%-*s %7s %6s %6s %6s %6s %9s %8s %8s %8s %7s %8s %7s %8s %6s %8s %9s\n",
      w,
      runtime::KpiDimensionName(report.by) == std::string_view("total")
          ? ""
          : absl::AsciiStrToUpper(runtime::KpiDimensionName(report.by)).c_str(),
      "ROUTED", "QUEUED", "UNASG", "FALLBK", "SHARE", "CONTACTED", "AVG 1ST",
      "MED 1ST", "P90 1ST", "SLA MET", "SLA MISS", "TO SQL", "SQL>OPP", "REPS",
      "FAIRNESS", "MOVED IN/OUT");
  auto line = [w](const std::string& key, const KpiRow& r) {
    std::printf(
        "%-*s %7lld %6lld %6lld %6lld %6s %9lld %8s %8s %8s %7s %8lld %7s %8s "
        "%6lld "
        "%8s %9s\n",
        w, key.c_str(), static_cast<long long>(r.routed),
        static_cast<long long>(r.queued), static_cast<long long>(r.unassigned),
        static_cast<long long>(r.fallback),
        absl::StrFormat("%.1f%%", r.share * 100).c_str(),
        static_cast<long long>(r.contacted),
        Readable(r.avg_first_response).c_str(),
        Readable(r.p50_first_response).c_str(),
        Readable(r.p90_first_response).c_str(), Percent(r.sla_met_rate).c_str(),
        static_cast<long long>(r.sla_missed), Percent(r.lead_to_sql).c_str(),
        Percent(r.sql_to_opportunity).c_str(), static_cast<long long>(r.reps),
        r.fairness ? absl::StrFormat("%.3f", *r.fairness).c_str() : "-",
        absl::StrCat(r.reassigned_to, "/", r.reassigned_away).c_str());
  };
  for (const KpiRow& r : report.rows) line(r.key, r);
  line("(total)", report.total);
}

}  // namespace

int ReportCommand(const ReportFlags& flags) {
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "leadroute report: %s\n",
                 std::string(s.message()).c_str());
    return kExitUsageOrIo;
  };
  std::optional<runtime::KpiDimension> by =
      runtime::ParseKpiDimension(flags.by);
  if (!by) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--by: \"", flags.by,
        "\" is not one of total, ruleset, rule, team, rep, source, hour, "
        "day")));
  }
  absl::Time to = absl::Now();
  if (!flags.to.empty()) {
    absl::StatusOr<absl::Time> t = ParseWhen("--to", flags.to);
    if (!t.ok()) return fail(t.status());
    to = *t;
  }
  absl::Time from;
  if (!flags.from.empty()) {
    absl::StatusOr<absl::Time> t = ParseWhen("--from", flags.from);
    if (!t.ok()) return fail(t.status());
    from = *t;
  } else {
    std::optional<absl::Duration> last = ParseSpan(flags.last);
    if (!last || *last <= absl::ZeroDuration()) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("--last: \"", flags.last,
                       "\" is not a positive duration (e.g. 7d, 24h)")));
    }
    from = to - *last;
  }
  if (from >= to) {
    return fail(absl::InvalidArgumentError("--from: must be before --to"));
  }
  if (flags.shadow) return ShadowReport(flags, from, to);
  if (!flags.decision_log.empty()) {
    return fail(absl::InvalidArgumentError(
        "--decision-log: read by --shadow only (KPIs come from the state "
        "store)"));
  }
  runtime::KpiOptions options;
  options.filter = {flags.team, flags.source, flags.ruleset};
  if (!flags.tz.empty() && !absl::LoadTimeZone(flags.tz, &options.tz)) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "--tz: \"", flags.tz, "\" is not a known IANA time zone")));
  }
  absl::StatusOr<std::unique_ptr<runtime::StateReader>> store =
      OpenStateReadOnly(flags.data_dir, flags.state);
  if (!store.ok()) return fail(store.status());
  absl::StatusOr<runtime::KpiReport> kpis =
      runtime::KpisOf(**store, *by, from, to, options);
  if (!kpis.ok()) return fail(kpis.status());
  const runtime::KpiReport& report = *kpis;
  if (flags.format == "json") {
    std::printf("%s\n", KpiReportJson(report).dump(2).c_str());
  } else if (flags.format == "csv") {
    PrintCsv(report);
  } else {
    PrintTable(report);
  }
  return kExitOk;
}

}  // namespace leadroute
