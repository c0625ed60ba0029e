// `leadroute state`: reads a server's SQLite state store, read-only, so it
// is safe while the server runs (WAL readers never block the writer).
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "runtime/clock.h"
#include "runtime/pg_store.h"
#include "runtime/sqlite_store.h"
#include "src/cli/commands.h"

namespace leadroute {
namespace {

std::string Optional(const std::optional<absl::Time>& t) {
  return t ? runtime::Rfc3339Seconds(*t) : "";
}

void Print(const nlohmann::json& row) {
  std::printf("%s\n", row.dump().c_str());
}

}  // namespace

absl::StatusOr<std::unique_ptr<runtime::StateReader>> OpenStateReadOnly(
    const std::string& data_dir, const std::string& state) {
  if (data_dir.empty() == state.empty()) {
    return absl::InvalidArgumentError(
        "give the server's --data-dir or its --state, one of the two");
  }
  if (!state.empty()) {
    if (absl::Status s = runtime::PgStore::CheckConnectionString(state);
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--state: ", s.message()));
    }
    absl::StatusOr<std::unique_ptr<runtime::PgStore>> pg =
        runtime::PgStore::OpenReadOnly(state);
    if (!pg.ok()) {
      return absl::Status(pg.status().code(),
                          absl::StrCat("--state: ", pg.status().message()));
    }
    return std::unique_ptr<runtime::StateReader>(*std::move(pg));
  }
  const std::string path =
      (std::filesystem::path(data_dir) / runtime::SqliteStore::kFileName)
          .string();
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat("no state store at ", path));
  }
  return runtime::SqliteStore::OpenReadOnly(path);
}

int StateCommand(const StateFlags& flags) {
  absl::StatusOr<std::unique_ptr<runtime::StateReader>> store =
      OpenStateReadOnly(flags.data_dir, flags.state);
  if (!store.ok()) {
    std::fprintf(stderr, "leadroute state: %s\n",
                 std::string(store.status().message()).c_str());
    return kExitUsageOrIo;
  }
  if (flags.what == "assignments") {
    absl::StatusOr<std::vector<runtime::Assignment>> rows =
        (*store)->NewestAssignments(flags.owner, flags.all, flags.limit);
    if (!rows.ok()) {
      std::fprintf(stderr, "leadroute state: %s\n",
                   std::string(rows.status().message()).c_str());
      return kExitUsageOrIo;
    }
    if (!flags.json) {
      std::printf("%-24s %-12s %-6s %-16s %-10s %-20s %-20s\n", "LEAD", "OWNER",
                  "KIND", "TEAM", "STATUS", "DECIDED", "RESPOND BY");
    }
    for (const runtime::Assignment& a : *rows) {
      if (flags.json) {
        Print({{"lead_id", a.lead_id},
               {"owner", a.owner},
               {"owner_kind", runtime::OwnerKindName(a.owner_kind)},
               {"team", a.team},
               {"status", runtime::LeadStatusName(a.status)},
               {"decision_id", a.decision_id},
               {"ruleset", a.ruleset},
               {"priority", a.priority},
               {"channel", a.channel},
               {"decided_at", runtime::Rfc3339Seconds(a.decided_at)},
               {"respond_by", Optional(a.respond_by)},
               {"ended_at", Optional(a.ended_at)},
               {"repeat_of", a.repeat_of},
               {"sla_status", runtime::SlaStatusName(a.sla_status)},
               {"owner_sla_status", runtime::SlaStatusName(a.clock_status)},
               {"sla_missed_by", a.missed_by},
               {"had_by", a.had_by}});
      } else {
        std::printf("%-24s %-12s %-6s %-16s %-10s %-20s %-20s\n",
                    a.lead_id.c_str(), a.owner.c_str(),
                    runtime::OwnerKindName(a.owner_kind), a.team.c_str(),
                    runtime::LeadStatusName(a.status),
                    runtime::Rfc3339Seconds(a.decided_at).c_str(),
                    Optional(a.respond_by).c_str());
      }
    }
    return kExitOk;
  }
  if (flags.what == "owners") {
    absl::StatusOr<std::vector<runtime::OwnerCount>> rows =
        (*store)->CountByOwner();
    if (!rows.ok()) {
      std::fprintf(stderr, "leadroute state: %s\n",
                   std::string(rows.status().message()).c_str());
      return kExitUsageOrIo;
    }
    if (!flags.json) {
      std::printf("%-16s %-6s %8s %8s %-20s\n", "OWNER", "KIND", "OPEN", "ALL",
                  "LATEST");
    }
    for (const auto& r : *rows) {
      if (flags.json) {
        Print({{"owner", r.owner},
               {"owner_kind", runtime::OwnerKindName(r.kind)},
               {"open", r.open},
               {"total", r.total},
               {"latest", runtime::Rfc3339Seconds(r.last_decided_at)}});
      } else {
        std::printf("%-16s %-6s %8lld %8lld %-20s\n",
                    r.owner.empty() ? "(unassigned)" : r.owner.c_str(),
                    runtime::OwnerKindName(r.kind),
                    static_cast<long long>(r.open),
                    static_cast<long long>(r.total),
                    runtime::Rfc3339Seconds(r.last_decided_at).c_str());
      }
    }
    return kExitOk;
  }
  if (flags.what == "audit") {
    absl::StatusOr<std::vector<runtime::AuditRecord>> rows =
        (*store)->Audit({.principal = flags.principal,
                         .target = flags.target,
                         .limit = flags.limit});
    if (!rows.ok()) {
      std::fprintf(stderr, "leadroute state: %s\n",
                   std::string(rows.status().message()).c_str());
      return kExitUsageOrIo;
    }
    for (const runtime::AuditRecord& r : *rows) {
      if (flags.json) {
        Print({{"id", r.id},
               {"at", runtime::Rfc3339Seconds(r.at)},
               {"principal", r.principal},
               {"peer", r.peer},
               {"action", r.action},
               {"target", r.target},
               {"before", r.before},
               {"after", r.after},
               {"reason", r.reason}});
      } else {
        std::printf(
            "%s  %-16s %-16s %-24s %s -> %s%s  [%s]\n",
            runtime::Rfc3339Seconds(r.at).c_str(), r.principal.c_str(),
            r.action.c_str(), r.target.c_str(),
            r.before.empty() ? "-" : r.before.c_str(),
            r.after.empty() ? "-" : r.after.c_str(),
            r.reason.empty() ? "" : absl::StrCat("  (", r.reason, ")").c_str(),
            r.peer.c_str());
      }
    }
    return kExitOk;
  }
  absl::StatusOr<std::vector<runtime::LeadEvent>> events =
      (*store)->History(flags.lead_id);
  if (!events.ok()) {
    std::fprintf(stderr, "leadroute state: %s\n",
                 std::string(events.status().message()).c_str());
    return kExitUsageOrIo;
  }
  if (events->empty()) {
    std::fprintf(
        stderr, "leadroute state: no lead \"%s\" in %s\n",
        flags.lead_id.c_str(),
        flags.state.empty() ? flags.data_dir.c_str() : "the --state database");
    return kExitRulesOrInput;
  }
  for (const runtime::LeadEvent& e : *events) {
    if (flags.json) {
      Print({{"at", runtime::Rfc3339Seconds(e.at)},
             {"kind", e.kind},
             {"from", e.from},
             {"to", e.to},
             {"reason", e.reason},
             {"actor", e.actor}});
    } else {
      std::printf(
          "%s  %-10s %s -> %s%s%s\n", runtime::Rfc3339Seconds(e.at).c_str(),
          e.kind.c_str(), e.from.empty() ? "-" : e.from.c_str(),
          e.to.empty() ? "-" : e.to.c_str(),
          e.reason.empty() ? "" : absl::StrCat("  (", e.reason, ")").c_str(),
          e.actor.empty() ? "" : absl::StrCat("  by ", e.actor).c_str());
    }
  }
  return kExitOk;
}

}  // namespace leadroute
