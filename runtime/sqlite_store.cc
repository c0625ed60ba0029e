// The SQLite StateStore; see sqlite_store.h.
#include "runtime/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runtime/sqlite_gather_vfs.h"
#include "runtime/store_rows.h"

namespace leadroute::runtime {
namespace {

// Schema steps: kMigrations[i] takes a file from version i to i + 1. Never
// edit a step that has shipped; add one.
constexpr const char* kMigrations[] = {
    // 1: assignments, rep status and team rotation.
    R"sql(
CREATE TABLE assignments (
  lead_id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  owner_kind INTEGER NOT NULL,
  team TEXT NOT NULL,
  status INTEGER NOT NULL,
  email_key TEXT NOT NULL,
  repeat_of TEXT NOT NULL,
  decision_id TEXT NOT NULL,
  ruleset TEXT NOT NULL,
  priority TEXT NOT NULL,
  priority_rank INTEGER NOT NULL,
  sla_ms INTEGER,
  channel TEXT NOT NULL,
  decided_at_us INTEGER NOT NULL,
  respond_by_us INTEGER,
  ended_at_us INTEGER,
  score INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE TABLE rep_status (
  rep TEXT PRIMARY KEY,
  availability INTEGER NOT NULL,
  until_us INTEGER,
  note TEXT NOT NULL,
  set_at_us INTEGER NOT NULL
);
CREATE TABLE team_cursors (
  team TEXT PRIMARY KEY,
  last_rep TEXT NOT NULL,
  running TEXT NOT NULL
);
)sql",
    // 2: each lead's history, and assignments by owner for `leadroute state`.
    R"sql(
CREATE TABLE lead_events (
  id INTEGER PRIMARY KEY,
  lead_id TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  kind TEXT NOT NULL,
  from_owner TEXT NOT NULL,
  to_owner TEXT NOT NULL,
  reason TEXT NOT NULL
);
CREATE INDEX lead_events_by_lead ON lead_events (lead_id, id);
CREATE INDEX assignments_by_owner ON assignments (owner, status);
CREATE INDEX assignments_by_seq ON assignments (seq);
)sql",
    // 3: drop the two assignment indexes again. Every commit rewrote their
    // pages scattered by owner and by seq, and they halved what the store
    // could commit per second (bench/state_bench, BM_SqliteApply); the
    // queries they served are `leadroute state`'s, which now scan, and
    // Load, which sorts in memory.
    R"sql(
DROP INDEX assignments_by_owner;
DROP INDEX assignments_by_seq;
)sql",
    // 4: activation. Per assignment: when it was routed, the SLA's status,
    // first contact, when each outcome was reached, escalation progress and
    // when the sweeper looks at it next. Per event: its id is the
    // Assigner's change number (kept in `id`), and it carries the lead's
    // owner kind, team, channel, priority and SLA for WatchAssignments.
    // Leads routed before v4 start with no SLA status: nobody could record
    // a contact for them, so calling them missed would be a guess.
    R"sql(
ALTER TABLE assignments ADD COLUMN routed_at_us INTEGER;
UPDATE assignments SET routed_at_us = decided_at_us;
ALTER TABLE assignments ADD COLUMN sla_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN contact_channel TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN contacted_by TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN contacted_at_us INTEGER;
ALTER TABLE assignments ADD COLUMN qualified_at_us INTEGER;
ALTER TABLE assignments ADD COLUMN opportunity_at_us INTEGER;
ALTER TABLE assignments ADD COLUMN won_at_us INTEGER;
ALTER TABLE assignments ADD COLUMN lost_at_us INTEGER;
ALTER TABLE assignments ADD COLUMN outcome INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN escalation TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN escalation_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN hops INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN had_by TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN next_due_us INTEGER;
ALTER TABLE assignments ADD COLUMN clock_start_us INTEGER;
ALTER TABLE lead_events ADD COLUMN owner_kind INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lead_events ADD COLUMN team TEXT NOT NULL DEFAULT '';
ALTER TABLE lead_events ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE lead_events ADD COLUMN priority TEXT NOT NULL DEFAULT '';
ALTER TABLE lead_events ADD COLUMN sla_ms INTEGER;
ALTER TABLE lead_events ADD COLUMN respond_by_us INTEGER;
)sql",
    // 5: KPIs and retention. Per assignment: the lead's source and the
    // rules that decided it, so KPIs group by them. `meta` keeps named
    // numbers: how far events were pruned (`events_pruned_through`), and
    // each webhook's last delivered event id (`cursor:NAME`).
    R"sql(
ALTER TABLE assignments ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE assignments ADD COLUMN rules TEXT NOT NULL DEFAULT '';
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
)sql",
    // 6: SLA per rep. Per assignment: the current owner's own SLA clock
    // (clock_status, as SlaStatus) and each owner whose clock ran out while
    // they held the lead (missed_by, ';'-joined). Older leads get the
    // owners their sla_missed events name; a late first contact with no
    // such event names whoever made it; a miss with neither (its events
    // pruned) stays with the current owner, as before v6.
    R"sql(
ALTER TABLE assignments ADD COLUMN clock_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assignments ADD COLUMN missed_by TEXT NOT NULL DEFAULT '';
UPDATE assignments SET clock_status = sla_status;
UPDATE assignments SET missed_by = COALESCE((
  SELECT group_concat(e.to_owner, ';') FROM lead_events e
  WHERE e.lead_id = assignments.lead_id AND e.kind = 'sla_missed'
    AND e.to_owner != ''), '')
WHERE sla_status = 3;
UPDATE assignments SET missed_by = contacted_by
WHERE sla_status = 3 AND missed_by = '' AND contacted_by != '';
UPDATE assignments SET missed_by = owner
WHERE sla_status = 3 AND missed_by = '' AND owner_kind = 1;
)sql",
    // 7: the audit trail. Per event: who made it through the API (`actor`,
    // the principal; '' for the server's own). `audit`: every change made
    // through the API and every ruleset made live, with who, from where,
    // what before and after; never pruned by --event-retention.
    R"sql(
ALTER TABLE lead_events ADD COLUMN actor TEXT NOT NULL DEFAULT '';
CREATE TABLE audit (
  id INTEGER PRIMARY KEY,
  at_us INTEGER NOT NULL,
  principal TEXT NOT NULL,
  peer TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  before TEXT NOT NULL,
  after TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql",
    // 8: a working set that does not grow with history. The server no
    // longer loads every lead at start: it reads a lead from the store when
    // it is asked about one it does not hold (by lead id, the primary key,
    // and by email for repeats), and resumes from the live part alone —
    // reps' open leads and recent assignments, what is due — each read
    // through an index of its own. Partial indexes hold only the rows that
    // matter (a rep's open leads, leads with something due, ended leads for
    // --lead-retention), and `meta` keeps the highest assignment seq so
    // numbering resumes without a scan.
    R"sql(
CREATE INDEX assignments_by_email ON assignments (email_key, routed_at_us)
  WHERE email_key != '';
CREATE INDEX assignments_due ON assignments (next_due_us, lead_id)
  WHERE next_due_us IS NOT NULL;
CREATE INDEX assignments_open_by_rep ON assignments (owner, seq)
  WHERE owner_kind = 1 AND status = 0;
CREATE INDEX assignments_rep_recent ON assignments (decided_at_us, owner, seq)
  WHERE owner_kind = 1;
CREATE INDEX assignments_ended ON assignments (ended_at_us)
  WHERE status IN (1, 2);
INSERT OR REPLACE INTO meta (key, value)
  SELECT 'last_assignment_seq', COALESCE(MAX(seq), 0) FROM assignments;
)sql",
    // 9: KPIs over a window (GetStats, `report`, the KPI gauges, the
    // dashboard) read the leads routed in it through an index, not by
    // reading every lead of the history. Routing times only grow, so the
    // writer appends at the index's end.
    R"sql(
CREATE INDEX assignments_by_routed ON assignments (routed_at_us);
)sql",
    // 10: which choice of the assign rule took each lead, so KPIs count
    // fallbacks (`else`). Leads routed before read 0, the first choice:
    // what took them was not recorded.
    R"sql(
ALTER TABLE assignments ADD COLUMN choice INTEGER NOT NULL DEFAULT 0;
)sql",
    // 11: each lead as replay reads it: its received time, the rules'
    // choice and its attributes, masked as the decision log masks them
    // (Assignment::logged). Leads routed before keep none.
    R"sql(
ALTER TABLE assignments ADD COLUMN logged TEXT NOT NULL DEFAULT '';
)sql",
    // 12: rulesets, so a restart serves the ruleset that was live (a
    // published one too) and the schedule that waited, and numbers on
    // (PostgreSQL's 3, plus the --rules files' fingerprint as they were
    // when each went live). Only the live, the scheduled and the newest
    // revision are kept; meta names the live and scheduled ones.
    R"sql(
CREATE TABLE rulesets (
  revision INTEGER PRIMARY KEY,
  root TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_from TEXT NOT NULL,
  at_us INTEGER NOT NULL,
  files_fingerprint TEXT NOT NULL
);
CREATE TABLE ruleset_files (
  revision INTEGER NOT NULL REFERENCES rulesets (revision),
  path TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (revision, path)
);
)sql",
};
static_assert(std::size(kMigrations) == SqliteStore::kSchemaVersion);

constexpr const char* kPrunedThrough = kPrunedThroughKey;
constexpr const char* kLastAssignmentSeq = kLastAssignmentSeqKey;
constexpr const char* kPrunedAssignments = kPrunedAssignmentsKey;
constexpr const char* kCursorPrefix = kCursorKeyPrefix;

int64_t Micros(absl::Time t) { return absl::ToUnixMicros(t); }

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()),
                    SQLITE_TRANSIENT);
}

void BindTime(sqlite3_stmt* s, int i, const std::optional<absl::Time>& t) {
  if (t) {
    sqlite3_bind_int64(s, i, Micros(*t));
  } else {
    sqlite3_bind_null(s, i);
  }
}

std::string Text(sqlite3_stmt* s, int col) {
  const unsigned char* p = sqlite3_column_text(s, col);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p),
                                    sqlite3_column_bytes(s, col));
}

std::optional<absl::Time> Time(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return absl::FromUnixMicros(sqlite3_column_int64(s, col));
}

void BindDuration(sqlite3_stmt* s, int i,
                  const std::optional<absl::Duration>& d) {
  if (d) {
    sqlite3_bind_int64(s, i, absl::ToInt64Milliseconds(*d));
  } else {
    sqlite3_bind_null(s, i);
  }
}

std::optional<absl::Duration> Duration(sqlite3_stmt* s, int col) {
  if (sqlite3_column_type(s, col) == SQLITE_NULL) return std::nullopt;
  return absl::Milliseconds(sqlite3_column_int64(s, col));
}

Assignment ReadAssignment(sqlite3_stmt* s) {
  Assignment a;
  a.lead_id = Text(s, 0);
  a.owner = Text(s, 1);
  a.owner_kind = static_cast<OwnerKind>(sqlite3_column_int(s, 2));
  a.team = Text(s, 3);
  a.status = static_cast<LeadStatus>(sqlite3_column_int(s, 4));
  a.email_key = Text(s, 5);
  a.repeat_of = Text(s, 6);
  a.decision_id = Text(s, 7);
  a.ruleset = Text(s, 8);
  a.priority = Text(s, 9);
  a.priority_rank = sqlite3_column_int(s, 10);
  a.sla = Duration(s, 11);
  a.channel = Text(s, 12);
  a.decided_at = *Time(s, 13);
  a.respond_by = Time(s, 14);
  a.ended_at = Time(s, 15);
  a.score = sqlite3_column_int64(s, 16);
  a.seq = static_cast<uint64_t>(sqlite3_column_int64(s, 17));
  a.routed_at = Time(s, 18).value_or(a.decided_at);
  a.sla_status = static_cast<SlaStatus>(sqlite3_column_int(s, 19));
  a.contact_channel = Text(s, 20);
  a.contacted_by = Text(s, 21);
  for (int o = 1; o < kOutcomeCount; ++o) a.reached[o] = Time(s, 21 + o);
  a.outcome = static_cast<Outcome>(sqlite3_column_int(s, 27));
  a.escalation = Text(s, 28);
  a.escalation_step = sqlite3_column_int(s, 29);
  a.hops = sqlite3_column_int(s, 30);
  a.had_by = SplitReps(Text(s, 31));
  a.next_due = Time(s, 32);
  a.clock_start = Time(s, 33);
  a.source = Text(s, 34);
  a.rules = Text(s, 35);
  a.clock_status = static_cast<SlaStatus>(sqlite3_column_int(s, 36));
  a.missed_by = SplitReps(Text(s, 37));
  a.choice = sqlite3_column_int(s, 38);
  a.logged = Text(s, 39);
  return a;
}

LeadEvent ReadEvent(sqlite3_stmt* s) {
  LeadEvent e;
  e.lead_id = Text(s, 0);
  e.at = *Time(s, 1);
  e.kind = Text(s, 2);
  e.from = Text(s, 3);
  e.to = Text(s, 4);
  e.reason = Text(s, 5);
  e.id = static_cast<uint64_t>(sqlite3_column_int64(s, 6));
  e.owner_kind = static_cast<OwnerKind>(sqlite3_column_int(s, 7));
  e.team = Text(s, 8);
  e.channel = Text(s, 9);
  e.priority = Text(s, 10);
  e.sla = Duration(s, 11);
  e.respond_by = Time(s, 12);
  e.actor = Text(s, 13);
  return e;
}

AuditRecord ReadAudit(sqlite3_stmt* s) {
  AuditRecord r;
  r.id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  r.at = *Time(s, 1);
  r.principal = Text(s, 2);
  r.peer = Text(s, 3);
  r.action = Text(s, 4);
  r.target = Text(s, 5);
  r.before = Text(s, 6);
  r.after = Text(s, 7);
  r.reason = Text(s, 8);
  return r;
}

// Steps `s` to its end, handing each row to `row`, and finalizes it. A scan
// that stops early (an I/O error, a corrupt page) is an error naming
// `what`, never a short answer.
template <typename Row>
absl::Status ScanAll(sqlite3* db, sqlite3_stmt* s, absl::string_view what,
                     Row row) {
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) row(s);
  absl::Status out =
      rc == SQLITE_DONE
          ? absl::OkStatus()
          : absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(db)));
  sqlite3_finalize(s);
  return out;
}

// "?1, ?2, ..., ?n".
std::string Placeholders(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) absl::StrAppend(&out, i > 1 ? ", ?" : "?", i);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, const OpenOptions& options) {
  // Created 0600: it holds leads and emails. SQLite gives its -wal and
  // -shm files the database file's mode.
  if (const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      fd >= 0) {
    close(fd);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      options.gather_wal_writes ? GatheringVfs() : nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, false));
  if (rc != SQLITE_OK) return store->Error(absl::StrCat("opening ", path));
  sqlite3_busy_timeout(db, 5000);
  // WAL: readers (`leadroute state`) never block the writer. FULL: each
  // commit is synced, so what a client was told survives a power cut too.
  // SQLite answers with the mode it ended up in: a file system without the
  // shared memory WAL needs keeps the old one, and says so only here.
  std::string mode;
  sqlite3_stmt* wal = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &wal, nullptr) !=
      SQLITE_OK) {
    return store->Error(absl::StrCat("setting WAL mode on ", path));
  }
  absl::Status set =
      ScanAll(db, wal, absl::StrCat("setting WAL mode on ", path),
              [&](sqlite3_stmt* row) { mode = Text(row, 0); });
  if (!set.ok()) return set;
  if (!absl::EqualsIgnoreCase(mode, "wal")) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": SQLite kept journal_mode=", mode,
        " instead of wal (its file system lacks the shared memory WAL needs, "
        "e.g. some network file systems); give --data-dir a local disk"));
  }
  if (absl::Status s = store->Exec("PRAGMA synchronous=FULL;"
                                   "PRAGMA foreign_keys=ON;");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = store->Migrate(); !s.ok()) return s;
  if (absl::Status s = store->Prepare(); !s.ok()) return s;
  return store;
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::OpenReadOnly(
    const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, true));
  if (rc != SQLITE_OK) return store->Error(absl::StrCat("opening ", path));
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr) !=
          SQLITE_OK ||
      sqlite3_step(stmt) != SQLITE_ROW) {
    sqlite3_finalize(stmt);
    return store->Error(absl::StrCat("reading ", path));
  }
  store->schema_version_ = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  if (store->schema_version_ != kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " has schema version ", store->schema_version_,
                     "; this leadroute reads version ", kSchemaVersion,
                     " (start `leadroute serve` on it once to migrate it)"));
  }
  return store;
}

SqliteStore::~SqliteStore() {
  for (sqlite3_stmt* s :
       {begin_, commit_, rollback_, put_assignment_, put_rep_, put_team_,
        add_event_, prune_events_, put_meta_, add_meta_, add_audit_,
        prune_assignments_, put_ruleset_, put_ruleset_file_, end_schedule_,
        prune_ruleset_files_, prune_rulesets_, find_, by_email_}) {
    sqlite3_finalize(s);
  }
  sqlite3_close(reader_);
  sqlite3_close(scanner_);
  sqlite3_close(db_);
}

absl::Status SqliteStore::Error(absl::string_view what) {
  return absl::InternalError(absl::StrCat(
      what, ": ", db_ == nullptr ? "out of memory" : sqlite3_errmsg(db_)));
}

absl::Status SqliteStore::Exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) {
    return absl::OkStatus();
  }
  absl::Status s = absl::InternalError(absl::StrCat(
      "state store: ", message == nullptr ? "unknown error" : message));
  sqlite3_free(message);
  return s;
}

absl::Status SqliteStore::Migrate() {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr) !=
          SQLITE_OK ||
      sqlite3_step(stmt) != SQLITE_ROW) {
    sqlite3_finalize(stmt);
    return Error("reading the schema version");
  }
  schema_version_ = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  if (schema_version_ > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the state store has schema version ", schema_version_,
        ", newer than this leadroute knows (", kSchemaVersion,
        "); run the newer leadroute or point --data-dir elsewhere"));
  }
  while (schema_version_ < kSchemaVersion) {
    const int next = schema_version_ + 1;
    std::string step =
        absl::StrCat("BEGIN IMMEDIATE;", kMigrations[schema_version_],
                     "PRAGMA user_version=", next, ";COMMIT;");
    if (absl::Status s = Exec(step.c_str()); !s.ok()) {
      Exec("ROLLBACK;").IgnoreError();
      return absl::InternalError(
          absl::StrCat("migrating the state store to schema version ", next,
                       ": ", s.message()));
    }
    schema_version_ = next;
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::Prepare() {
  const std::string put_assignment =
      absl::StrCat("INSERT OR REPLACE INTO assignments (", kAssignmentColumns,
                   ") VALUES (", Placeholders(kAssignmentColumnCount), ")");
  const std::string add_event =
      absl::StrCat("INSERT INTO lead_events (", kEventColumns, ") VALUES (",
                   Placeholders(kEventColumnCount), ")");
  const std::string dropped = RulesetsNotKept();
  const std::string prune_ruleset_files =
      absl::StrCat("DELETE FROM ruleset_files", dropped);
  const std::string end_schedule =
      absl::StrCat("UPDATE meta SET value = 0 WHERE key = '",
                   kScheduledRulesetKey, "' AND value = ?1");
  const std::string prune_rulesets =
      absl::StrCat("DELETE FROM rulesets", dropped);
  const std::pair<sqlite3_stmt**, const char*> statements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&put_assignment_, put_assignment.c_str()},
      {&put_rep_,
       "INSERT OR REPLACE INTO rep_status (rep, availability, until_us, note, "
       "set_at_us) VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&put_team_,
       "INSERT OR REPLACE INTO team_cursors (team, last_rep, running) VALUES "
       "(?1, ?2, ?3)"},
      {&add_event_, add_event.c_str()},
      {&prune_events_,
       "DELETE FROM lead_events WHERE id IN (SELECT id FROM lead_events "
       "WHERE at_us < ?1 AND id <= ?3 ORDER BY id LIMIT ?2) RETURNING id"},
      {&put_meta_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)"},
      {&add_meta_,
       "INSERT INTO meta (key, value) VALUES (?1, ?2) "
       "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value"},
      {&prune_assignments_,
       "DELETE FROM assignments WHERE rowid IN (SELECT rowid FROM "
       "assignments WHERE status IN (1, 2) AND ended_at_us < ?1 "
       "ORDER BY ended_at_us LIMIT ?2)"},
      {&add_audit_,
       "INSERT INTO audit (at_us, principal, peer, action, target, before, "
       "after, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
      {&put_ruleset_,
       "INSERT INTO rulesets (revision, root, fingerprint, published_by, "
       "published_from, at_us, files_fingerprint) VALUES (?1, ?2, ?3, ?4, "
       "?5, ?6, ?7) ON CONFLICT (revision) DO UPDATE SET files_fingerprint "
       "= excluded.files_fingerprint"},
      {&put_ruleset_file_,
       "INSERT OR IGNORE INTO ruleset_files (revision, path, text) VALUES "
       "(?1, ?2, ?3)"},
      {&end_schedule_, end_schedule.c_str()},
      {&prune_ruleset_files_, prune_ruleset_files.c_str()},
      {&prune_rulesets_, prune_rulesets.c_str()},
  };
  for (const auto& [stmt, sql] : statements) {
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                           nullptr) != SQLITE_OK) {
      return Error(absl::StrCat("preparing `", sql, "`"));
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::Step(sqlite3_stmt* stmt, absl::string_view what) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return absl::OkStatus();
  return Error(absl::StrCat("state store: ", what));
}

absl::Status SqliteStore::Scan(const char* sql, absl::string_view what,
                               const std::function<void(sqlite3_stmt*)>& bind,
                               const std::function<void(sqlite3_stmt*)>& row) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) {
    return Error(what);
  }
  if (bind != nullptr) bind(s);
  return ScanAll(db_, s, what, row);
}

absl::StatusOr<StateSnapshot> SqliteStore::Load(absl::Time recent_since) {
  StateSnapshot out;
  absl::flat_hash_map<std::string, RepHistory> reps;
  // Each read of assignments goes through its own index (migration 8): the
  // time it takes follows the live state, not the history.
  RETURN_IF_ERROR(
      Scan("SELECT owner, COUNT(*), MAX(seq) FROM assignments "
           "WHERE owner_kind = 1 AND status = 0 GROUP BY owner",
           "loading reps' open leads", nullptr, [&](sqlite3_stmt* row) {
             RepHistory& r = reps[Text(row, 0)];
             r.open = sqlite3_column_int64(row, 1);
             r.last_turn = static_cast<uint64_t>(sqlite3_column_int64(row, 2));
           }));
  RETURN_IF_ERROR(Scan(
      "SELECT owner, decided_at_us, seq FROM assignments "
      "WHERE owner_kind = 1 AND decided_at_us >= ?1 ORDER BY decided_at_us",
      "loading reps' recent assignments",
      [&](sqlite3_stmt* s) { sqlite3_bind_int64(s, 1, Micros(recent_since)); },
      [&](sqlite3_stmt* row) {
        RepHistory& r = reps[Text(row, 0)];
        r.recent.push_back(*Time(row, 1));
        r.last_turn = std::max(
            r.last_turn, static_cast<uint64_t>(sqlite3_column_int64(row, 2)));
      }));
  for (auto& [rep, history] : reps) {
    history.rep = rep;
    out.rep_history.push_back(std::move(history));
  }
  RETURN_IF_ERROR(Scan(
      "SELECT rep, availability, until_us, note, set_at_us FROM rep_status",
      "loading rep status", nullptr, [&](sqlite3_stmt* row) {
        RepStatus r;
        r.rep = Text(row, 0);
        r.availability = static_cast<Availability>(sqlite3_column_int(row, 1));
        r.until = Time(row, 2);
        r.note = Text(row, 3);
        r.set_at = *Time(row, 4);
        out.reps.push_back(std::move(r));
      }));
  RETURN_IF_ERROR(Scan("SELECT team, last_rep, running FROM team_cursors",
                       "loading team rotation", nullptr,
                       [&](sqlite3_stmt* row) {
                         out.teams.push_back({Text(row, 0), Text(row, 1),
                                              DecodeRunning(Text(row, 2))});
                       }));
  RETURN_IF_ERROR(Scan(
      "SELECT MAX(id) FROM lead_events", "loading the last event id", nullptr,
      [&](sqlite3_stmt* row) {
        out.last_event_id = static_cast<uint64_t>(sqlite3_column_int64(row, 0));
      }));
  RETURN_IF_ERROR(Scan("SELECT key, value FROM meta", "loading meta", nullptr,
                       [&](sqlite3_stmt* row) {
                         const auto value = static_cast<uint64_t>(
                             sqlite3_column_int64(row, 1));
                         const std::string key = Text(row, 0);
                         if (key == kPrunedThrough) {
                           out.pruned_through = value;
                         } else if (key == kLastAssignmentSeq) {
                           out.last_assignment_seq = value;
                         }
                       }));
  // The last id ever handed out, even when its event was pruned since.
  out.last_event_id = std::max(out.last_event_id, out.pruned_through);
  // What was read must agree with itself: a change number at or below the
  // highest one kept would be handed out again, and overwrite a lead.
  for (const RepHistory& r : out.rep_history) {
    if (r.last_turn > out.last_assignment_seq) {
      return absl::DataLossError(absl::StrCat(
          path_, ": the store is inconsistent: rep ", r.rep,
          " has a lead with change number ", r.last_turn,
          " but meta.last_assignment_seq says the last is ",
          out.last_assignment_seq,
          "; restore the data dir from a backup, or set it to the highest "
          "assignments.seq with the sqlite3 shell"));
    }
  }
  return out;
}

absl::Status SqliteStore::Apply(absl::Span<const StateChange> changes) {
  if (absl::Status s = Step(begin_, "begin"); !s.ok()) return s;
  absl::Status status;
  uint64_t last_seq = 0;
  for (const StateChange& change : changes) {
    if (const auto* a = std::get_if<Assignment>(&change)) {
      last_seq = std::max(last_seq, a->seq);
      sqlite3_stmt* p = put_assignment_;
      BindText(p, 1, a->lead_id);
      BindText(p, 2, a->owner);
      sqlite3_bind_int(p, 3, static_cast<int>(a->owner_kind));
      BindText(p, 4, a->team);
      sqlite3_bind_int(p, 5, static_cast<int>(a->status));
      BindText(p, 6, a->email_key);
      BindText(p, 7, a->repeat_of);
      BindText(p, 8, a->decision_id);
      BindText(p, 9, a->ruleset);
      BindText(p, 10, a->priority);
      sqlite3_bind_int(p, 11, a->priority_rank);
      BindDuration(p, 12, a->sla);
      BindText(p, 13, a->channel);
      sqlite3_bind_int64(p, 14, Micros(a->decided_at));
      BindTime(p, 15, a->respond_by);
      BindTime(p, 16, a->ended_at);
      sqlite3_bind_int64(p, 17, a->score);
      sqlite3_bind_int64(p, 18, static_cast<int64_t>(a->seq));
      sqlite3_bind_int64(p, 19, Micros(a->routed_at));
      sqlite3_bind_int(p, 20, static_cast<int>(a->sla_status));
      BindText(p, 21, a->contact_channel);
      BindText(p, 22, a->contacted_by);
      for (int o = 1; o < kOutcomeCount; ++o)
        BindTime(p, 22 + o, a->reached[o]);
      sqlite3_bind_int(p, 28, static_cast<int>(a->outcome));
      BindText(p, 29, a->escalation);
      sqlite3_bind_int(p, 30, a->escalation_step);
      sqlite3_bind_int(p, 31, a->hops);
      BindText(p, 32, JoinReps(a->had_by));
      BindTime(p, 33, a->next_due);
      BindTime(p, 34, a->clock_start);
      BindText(p, 35, a->source);
      BindText(p, 36, a->rules);
      sqlite3_bind_int(p, 37, static_cast<int>(a->clock_status));
      BindText(p, 38, JoinReps(a->missed_by));
      sqlite3_bind_int(p, 39, a->choice);
      BindText(p, 40, a->logged);
      status = Step(p, "writing an assignment");
    } else if (const auto* r = std::get_if<RepStatus>(&change)) {
      BindText(put_rep_, 1, r->rep);
      sqlite3_bind_int(put_rep_, 2, static_cast<int>(r->availability));
      BindTime(put_rep_, 3, r->until);
      BindText(put_rep_, 4, r->note);
      sqlite3_bind_int64(put_rep_, 5, Micros(r->set_at));
      status = Step(put_rep_, "writing a rep's status");
    } else if (const auto* t = std::get_if<TeamCursor>(&change)) {
      BindText(put_team_, 1, t->team);
      BindText(put_team_, 2, t->last_rep);
      BindText(put_team_, 3, EncodeRunning(t->running));
      status = Step(put_team_, "writing a team's rotation");
    } else if (const auto* e = std::get_if<LeadEvent>(&change)) {
      BindText(add_event_, 1, e->lead_id);
      sqlite3_bind_int64(add_event_, 2, Micros(e->at));
      BindText(add_event_, 3, e->kind);
      BindText(add_event_, 4, e->from);
      BindText(add_event_, 5, e->to);
      BindText(add_event_, 6, e->reason);
      if (e->id != 0) {
        sqlite3_bind_int64(add_event_, 7, static_cast<int64_t>(e->id));
      } else {
        sqlite3_bind_null(add_event_, 7);  // numbered by SQLite
      }
      sqlite3_bind_int(add_event_, 8, static_cast<int>(e->owner_kind));
      BindText(add_event_, 9, e->team);
      BindText(add_event_, 10, e->channel);
      BindText(add_event_, 11, e->priority);
      BindDuration(add_event_, 12, e->sla);
      BindTime(add_event_, 13, e->respond_by);
      BindText(add_event_, 14, e->actor);
      status = Step(add_event_, "writing a lead's history");
    } else if (const auto* r = std::get_if<AuditRecord>(&change)) {
      sqlite3_bind_int64(add_audit_, 1, Micros(r->at));
      BindText(add_audit_, 2, r->principal);
      BindText(add_audit_, 3, r->peer);
      BindText(add_audit_, 4, r->action);
      BindText(add_audit_, 5, r->target);
      BindText(add_audit_, 6, r->before);
      BindText(add_audit_, 7, r->after);
      BindText(add_audit_, 8, r->reason);
      status = Step(add_audit_, "writing the audit trail");
    } else if (const auto* prune = std::get_if<EventPrune>(&change)) {
      status = Prune(*prune);
    } else if (const auto* c = std::get_if<Cursor>(&change)) {
      status = PutMeta(absl::StrCat(kCursorPrefix, c->name), c->value);
    } else if (const auto* prune = std::get_if<AssignmentPrune>(&change)) {
      status = PruneAssignments(*prune);
    } else if (const auto* rs = std::get_if<RulesetLive>(&change)) {
      status = PutRuleset(*rs);
      if (status.ok())
        status = PutMeta(kLiveRulesetKey, static_cast<uint64_t>(rs->revision));
      // A ruleset made live ends its own schedule, not another's.
      if (status.ok()) {
        sqlite3_bind_int64(end_schedule_, 1, rs->revision);
        status = Step(end_schedule_, "ending a schedule");
      }
      if (status.ok()) status = PruneRulesets();
    } else if (const auto* sc = std::get_if<RulesetSchedule>(&change)) {
      if (sc->ruleset) {
        status = PutRuleset(*sc->ruleset);
        if (status.ok()) {
          status =
              PutMeta(kScheduledAtKey,
                      static_cast<uint64_t>(Micros(sc->ruleset->activate_at)));
        }
      }
      if (status.ok()) {
        status = PutMeta(
            kScheduledRulesetKey,
            static_cast<uint64_t>(sc->ruleset ? sc->ruleset->revision : 0));
      }
      if (status.ok()) status = PruneRulesets();
    }
    if (!status.ok()) break;
  }
  // Numbering resumes after the highest seq ever kept, even when retention
  // deleted its row since.
  if (status.ok() && last_seq > 0) {
    status = PutMeta(kLastAssignmentSeq, last_seq);
  }
  if (status.ok()) status = Step(commit_, "commit");
  if (!status.ok()) Step(rollback_, "rollback").IgnoreError();
  return status;
}

absl::Status SqliteStore::PutMeta(const std::string& key, uint64_t value) {
  BindText(put_meta_, 1, key);
  sqlite3_bind_int64(put_meta_, 2, static_cast<int64_t>(value));
  return Step(put_meta_, "writing meta");
}

absl::Status SqliteStore::PutRuleset(const RulesetLive& rs) {
  // Kept once per revision; made live again (a rollback, an activation),
  // it takes the files' fingerprint of that moment.
  sqlite3_bind_int64(put_ruleset_, 1, rs.revision);
  BindText(put_ruleset_, 2, rs.root);
  BindText(put_ruleset_, 3, rs.fingerprint);
  BindText(put_ruleset_, 4, rs.published_by);
  BindText(put_ruleset_, 5, rs.published_from);
  sqlite3_bind_int64(put_ruleset_, 6, Micros(rs.at));
  BindText(put_ruleset_, 7, rs.files_fingerprint);
  RETURN_IF_ERROR(Step(put_ruleset_, "writing a ruleset"));
  for (const auto& [path, text] : rs.files) {
    sqlite3_bind_int64(put_ruleset_file_, 1, rs.revision);
    BindText(put_ruleset_file_, 2, path);
    BindText(put_ruleset_file_, 3, text);
    RETURN_IF_ERROR(Step(put_ruleset_file_, "writing a ruleset's files"));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::PruneRulesets() {
  RETURN_IF_ERROR(Step(prune_ruleset_files_, "pruning rulesets"));
  return Step(prune_rulesets_, "pruning rulesets");
}

absl::Status SqliteStore::Prune(const EventPrune& prune) {
  sqlite3_stmt* p = prune_events_;
  sqlite3_bind_int64(p, 1, Micros(prune.before));
  sqlite3_bind_int(p, 2, prune.limit);
  sqlite3_bind_int64(p, 3,
                     static_cast<int64_t>(std::min<uint64_t>(
                         prune.max_id, std::numeric_limits<int64_t>::max())));
  int64_t highest = 0;
  int rc;
  while ((rc = sqlite3_step(p)) == SQLITE_ROW) {
    highest = std::max<int64_t>(highest, sqlite3_column_int64(p, 0));
  }
  sqlite3_reset(p);
  sqlite3_clear_bindings(p);
  if (rc != SQLITE_DONE) return Error("state store: pruning events");
  if (highest == 0) return absl::OkStatus();
  // Ids increase, so everything up to the highest one deleted is gone.
  return PutMeta(kPrunedThrough, static_cast<uint64_t>(highest));
}

absl::Status SqliteStore::PruneAssignments(const AssignmentPrune& prune) {
  sqlite3_bind_int64(prune_assignments_, 1, Micros(prune.before));
  sqlite3_bind_int(prune_assignments_, 2, prune.limit);
  if (absl::Status s = Step(prune_assignments_, "pruning ended assignments");
      !s.ok()) {
    return s;
  }
  const int deleted = sqlite3_changes(db_);
  if (deleted == 0) return absl::OkStatus();
  // The running total (PrunedAssignments).
  BindText(add_meta_, 1, kPrunedAssignments);
  sqlite3_bind_int64(add_meta_, 2, deleted);
  return Step(add_meta_, "counting pruned assignments");
}

absl::StatusOr<std::vector<Assignment>> SqliteStore::NewestAssignments(
    const std::string& owner, bool include_ended, int limit) {
  std::string where = "WHERE 1";
  if (!owner.empty()) absl::StrAppend(&where, " AND owner = ?1");
  if (!include_ended) absl::StrAppend(&where, " AND status IN (0, 3)");
  absl::StrAppend(&where, " ORDER BY seq DESC LIMIT ", limit);
  std::vector<Assignment> out;
  RETURN_IF_ERROR(ReadAssignments(
      "listing assignments", where,
      [&](sqlite3_stmt* s) {
        if (!owner.empty()) BindText(s, 1, owner);
      },
      [&](const Assignment& a) { out.push_back(a); }));
  return out;
}

absl::Status SqliteStore::ReadRows(
    const char* sql, const char* what,
    const std::function<void(sqlite3_stmt*)>& bind,
    const std::function<void(sqlite3_stmt*)>& row) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  absl::StatusOr<sqlite3*> db = Reader();
  if (!db.ok()) return db.status();
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(*db, sql, -1, &s, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(*db)));
  }
  if (bind != nullptr) bind(s);
  return ScanAll(*db, s, what, row);
}

absl::StatusOr<std::vector<OwnerCount>> SqliteStore::CountByOwner() {
  std::vector<OwnerCount> out;
  RETURN_IF_ERROR(ReadRows(
      "SELECT owner, owner_kind, SUM(status = 0), COUNT(*), "
      "MAX(decided_at_us) FROM assignments GROUP BY owner, owner_kind "
      "ORDER BY owner_kind, owner",
      "counting assignments", nullptr, [&](sqlite3_stmt* row) {
        out.push_back({Text(row, 0),
                       static_cast<OwnerKind>(sqlite3_column_int(row, 1)),
                       sqlite3_column_int64(row, 2),
                       sqlite3_column_int64(row, 3), *Time(row, 4)});
      }));
  return out;
}

absl::StatusOr<std::vector<LeadEvent>> SqliteStore::History(
    const std::string& lead_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM lead_events WHERE lead_id = ?1 ORDER BY id");
  std::vector<LeadEvent> out;
  RETURN_IF_ERROR(ReadRows(
      sql.c_str(), "reading a lead's history",
      [&](sqlite3_stmt* s) { BindText(s, 1, lead_id); },
      [&](sqlite3_stmt* row) { out.push_back(ReadEvent(row)); }));
  return out;
}

absl::StatusOr<std::vector<AuditRecord>> SqliteStore::Audit(
    const AuditQuery& query) {
  std::string sql =
      absl::StrCat("SELECT ", kAuditColumns, " FROM audit WHERE id > ?1");
  if (!query.principal.empty()) absl::StrAppend(&sql, " AND principal = ?2");
  if (!query.target.empty()) absl::StrAppend(&sql, " AND target = ?3");
  // The newest `limit`, shown oldest first.
  sql = absl::StrCat("SELECT * FROM (", sql, " ORDER BY id DESC LIMIT ?4) ",
                     "ORDER BY id");
  std::vector<AuditRecord> out;
  RETURN_IF_ERROR(ReadRows(
      sql.c_str(), "reading the audit trail",
      [&](sqlite3_stmt* s) {
        sqlite3_bind_int64(s, 1, static_cast<int64_t>(query.after_id));
        if (!query.principal.empty()) BindText(s, 2, query.principal);
        if (!query.target.empty()) BindText(s, 3, query.target);
        sqlite3_bind_int(s, 4, query.limit);
      },
      [&](sqlite3_stmt* row) { out.push_back(ReadAudit(row)); }));
  return out;
}

absl::StatusOr<sqlite3*> SqliteStore::Connect(sqlite3** slot) {
  if (read_only_) return db_;
  // The writer's connection belongs to the writer thread: read through a
  // second one, which WAL lets run beside the writer.
  if (*slot == nullptr) {
    if (sqlite3_open_v2(path_.c_str(), slot,
                        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      absl::Status error = absl::InternalError(absl::StrCat(
          "opening ", path_, " to read: ",
          *slot == nullptr ? "out of memory" : sqlite3_errmsg(*slot)));
      sqlite3_close(*slot);
      *slot = nullptr;
      return error;
    }
    sqlite3_busy_timeout(*slot, 5000);
  }
  return *slot;
}

absl::StatusOr<std::vector<LeadEvent>> SqliteStore::EventsAfter(uint64_t after,
                                                                int limit) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  absl::StatusOr<sqlite3*> db = Reader();
  if (!db.ok()) return db.status();
  const std::string sql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM lead_events WHERE id > ?1 ORDER BY id LIMIT ?2");
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(*db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("reading events: ", sqlite3_errmsg(*db)));
  }
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(after));
  sqlite3_bind_int(s, 2, limit);
  std::vector<LeadEvent> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(ReadEvent(s));
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    return absl::InternalError(
        absl::StrCat("reading events: ", sqlite3_errmsg(*db)));
  }
  return out;
}

absl::Status SqliteStore::ReadAssignments(
    const char* what, const std::string& where,
    const std::function<void(sqlite3_stmt*)>& bind,
    const std::function<void(const Assignment&)>& visit, bool scan) {
  // A read-only store has one connection: every read takes reader_mu_.
  scan = scan && !read_only_;
  std::lock_guard<std::mutex> lock(scan ? scanner_mu_ : reader_mu_);
  absl::StatusOr<sqlite3*> db = scan ? Connect(&scanner_) : Reader();
  if (!db.ok()) return db.status();
  const std::string sql =
      absl::StrCat("SELECT ", kAssignmentColumns, " FROM assignments ", where);
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(*db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(*db)));
  }
  bind(s);
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) visit(ReadAssignment(s));
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(*db)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Assignment>> SqliteStore::ReadOne(
    sqlite3_stmt** stmt, const char* sql, const std::string& key,
    const char* what) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  absl::StatusOr<sqlite3*> db = Reader();
  if (!db.ok()) return db.status();
  // Prepared once on the reader connection: these run for every lead the
  // working set does not hold.
  if (*stmt == nullptr &&
      sqlite3_prepare_v3(*db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                         nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(*db)));
  }
  BindText(*stmt, 1, key);
  std::optional<Assignment> out;
  const int rc = sqlite3_step(*stmt);
  if (rc == SQLITE_ROW) out = ReadAssignment(*stmt);
  sqlite3_reset(*stmt);
  sqlite3_clear_bindings(*stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return absl::InternalError(absl::StrCat(what, ": ", sqlite3_errmsg(*db)));
  }
  return out;
}

absl::StatusOr<std::optional<Assignment>> SqliteStore::FindAssignment(
    const std::string& lead_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kAssignmentColumns, " FROM assignments WHERE lead_id = ?1");
  return ReadOne(&find_, sql.c_str(), lead_id, "reading a lead");
}

absl::StatusOr<std::optional<Assignment>> SqliteStore::LastByEmail(
    const std::string& email_key) {
  // `email_key != ''` lets SQLite use the partial index.
  static const std::string sql =
      absl::StrCat("SELECT ", kAssignmentColumns,
                   " FROM assignments WHERE email_key = ?1 AND email_key != ''"
                   " ORDER BY routed_at_us DESC, seq DESC LIMIT 1");
  return ReadOne(&by_email_, sql.c_str(), email_key,
                 "reading a person's last lead");
}

absl::StatusOr<std::vector<DueLead>> SqliteStore::DueAfter(const DueLead& after,
                                                           absl::Time before,
                                                           int limit) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  absl::StatusOr<sqlite3*> db = Reader();
  if (!db.ok()) return db.status();
  // A range of the partial index assignments_due (next_due_us, lead_id);
  // the first term bounds it, the rest starts it after `after` exactly.
  static constexpr char kSql[] =
      "SELECT next_due_us, lead_id FROM assignments"
      " WHERE next_due_us >= ?1 AND next_due_us < ?3"
      " AND (next_due_us > ?1 OR lead_id > ?2)"
      " ORDER BY next_due_us, lead_id LIMIT ?4";
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(*db, kSql, -1, &s, nullptr) != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("reading what is due: ", sqlite3_errmsg(*db)));
  }
  sqlite3_bind_int64(s, 1, Micros(after.first));
  BindText(s, 2, after.second);
  sqlite3_bind_int64(s, 3, Micros(before));
  sqlite3_bind_int(s, 4, limit);
  std::vector<DueLead> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    out.emplace_back(*Time(s, 0), Text(s, 1));
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    return absl::InternalError(
        absl::StrCat("reading what is due: ", sqlite3_errmsg(*db)));
  }
  return out;
}

absl::Status SqliteStore::ScanAssignments(
    absl::Time from, absl::Time to,
    const std::function<void(const Assignment&)>& visit) {
  return ReadAssignments(
      "reading assignments",
      "WHERE routed_at_us >= ?1 AND routed_at_us < ?2 ORDER BY routed_at_us, "
      "seq",
      [&](sqlite3_stmt* s) {
        sqlite3_bind_int64(s, 1, Micros(from));
        sqlite3_bind_int64(s, 2, Micros(to));
      },
      visit, /*scan=*/true);
}

absl::Status SqliteStore::ScanLeadKeys(
    const std::function<bool(std::string_view, std::string_view)>& visit) {
  static constexpr const char* kWhat = "reading lead ids";
  const bool own = !read_only_;
  std::lock_guard<std::mutex> lock(own ? scanner_mu_ : reader_mu_);
  absl::StatusOr<sqlite3*> db = own ? Connect(&scanner_) : Reader();
  if (!db.ok()) return db.status();
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(*db, "SELECT lead_id, email_key FROM assignments", -1,
                         &s, nullptr) != SQLITE_OK) {
    return absl::InternalError(absl::StrCat(kWhat, ": ", sqlite3_errmsg(*db)));
  }
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    auto text = [s](int col) {
      return std::string_view(
          reinterpret_cast<const char*>(sqlite3_column_text(s, col)),
          static_cast<size_t>(sqlite3_column_bytes(s, col)));
    };
    if (!visit(text(0), text(1))) {
      rc = SQLITE_DONE;
      break;
    }
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) {
    return absl::InternalError(absl::StrCat(kWhat, ": ", sqlite3_errmsg(*db)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Assignment>> SqliteStore::ListAssignments(
    const std::string& owner, std::optional<LeadStatus> status,
    const std::string& after_lead_id, int limit) {
  // Walks the primary key in order from the page's start: no index to
  // keep on every commit, and a page costs the rows up to its last match.
  std::vector<Assignment> out;
  absl::Status s = ReadAssignments(
      "listing assignments",
      "WHERE lead_id > ?1 AND (?2 = '' OR owner = ?2)"
      " AND (?3 < 0 OR status = ?3) ORDER BY lead_id LIMIT ?4",
      [&](sqlite3_stmt* q) {
        BindText(q, 1, after_lead_id);
        BindText(q, 2, owner);
        sqlite3_bind_int(q, 3, status ? static_cast<int>(*status) : -1);
        sqlite3_bind_int(q, 4, limit);
      },
      [&](const Assignment& a) { out.push_back(a); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Assignment>> SqliteStore::OpenLeadsOfRep(
    const std::string& rep, const std::string& after_lead_id, int limit) {
  // The literal owner_kind and status let SQLite use the partial index.
  std::vector<Assignment> out;
  absl::Status s = ReadAssignments(
      "listing a rep's open leads",
      "WHERE owner_kind = 1 AND status = 0 AND owner = ?1 AND lead_id > ?2"
      " ORDER BY lead_id LIMIT ?3",
      [&](sqlite3_stmt* q) {
        BindText(q, 1, rep);
        BindText(q, 2, after_lead_id);
        sqlite3_bind_int(q, 3, limit);
      },
      [&](const Assignment& a) { out.push_back(a); });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<uint64_t>> SqliteStore::Meta(
    const std::string& key) {
  std::lock_guard<std::mutex> lock(reader_mu_);
  absl::StatusOr<sqlite3*> db = Reader();
  if (!db.ok()) return db.status();
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(*db, "SELECT value FROM meta WHERE key = ?1", -1, &s,
                         nullptr) != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("reading meta: ", sqlite3_errmsg(*db)));
  }
  BindText(s, 1, key);
  std::optional<uint64_t> out;
  const int rc = sqlite3_step(s);
  if (rc == SQLITE_ROW) {
    out = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    return absl::InternalError(
        absl::StrCat("reading meta: ", sqlite3_errmsg(*db)));
  }
  return out;
}

absl::StatusOr<StoredRulesets> SqliteStore::Rulesets(int64_t unless_live,
                                                     int64_t unless_scheduled) {
  RulesetReads reads;
  reads.newest = [this]() -> absl::StatusOr<int64_t> {
    int64_t newest = 0;
    RETURN_IF_ERROR(ReadRows(
        "SELECT COALESCE(MAX(revision), 0) FROM rulesets", "reading rulesets",
        nullptr,
        [&](sqlite3_stmt* row) { newest = sqlite3_column_int64(row, 0); }));
    return newest;
  };
  reads.meta = [this](const char* key) { return Meta(key); };
  reads.ruleset = [this](int64_t revision, const char* named_by) {
    return ReadRuleset(revision, named_by);
  };
  return ReadRulesets(reads, unless_live, unless_scheduled);
}

absl::StatusOr<RulesetLive> SqliteStore::ReadRuleset(int64_t revision,
                                                     const char* named_by) {
  auto bind = [revision](sqlite3_stmt* s) {
    sqlite3_bind_int64(s, 1, revision);
  };
  std::optional<RulesetLive> out;
  RETURN_IF_ERROR(ReadRows(
      "SELECT revision, root, fingerprint, published_by, published_from, "
      "at_us, files_fingerprint FROM rulesets WHERE revision = ?1",
      "reading rulesets", bind, [&](sqlite3_stmt* row) {
        out = RulesetLive{
            .revision = sqlite3_column_int64(row, 0),
            .root = Text(row, 1),
            .fingerprint = Text(row, 2),
            .published_by = Text(row, 3),
            .published_from = Text(row, 4),
            .at = absl::FromUnixMicros(sqlite3_column_int64(row, 5)),
            .files_fingerprint = Text(row, 6)};
      }));
  if (!out) {
    return absl::DataLossError(
        absl::StrCat("meta.", named_by, " names revision ", revision,
                     " but the rulesets table has no such row"));
  }
  RETURN_IF_ERROR(
      ReadRows("SELECT path, text FROM ruleset_files WHERE revision = ?1",
               "reading rulesets", bind, [&](sqlite3_stmt* row) {
                 out->files.emplace(Text(row, 0), Text(row, 1));
               }));
  return *std::move(out);
}

absl::StatusOr<uint64_t> SqliteStore::LastEventId() {
  std::lock_guard<std::mutex> lock(reader_mu_);
  absl::StatusOr<sqlite3*> db = Reader();
  if (!db.ok()) return db.status();
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(*db, "SELECT COALESCE(MAX(id), 0) FROM lead_events",
                         -1, &s, nullptr) != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("reading events: ", sqlite3_errmsg(*db)));
  }
  const int rc = sqlite3_step(s);
  const uint64_t last =
      rc == SQLITE_ROW ? static_cast<uint64_t>(sqlite3_column_int64(s, 0)) : 0;
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW) {
    return absl::InternalError(
        absl::StrCat("reading events: ", sqlite3_errmsg(*db)));
  }
  return last;
}

absl::StatusOr<uint64_t> SqliteStore::PrunedThrough() {
  absl::StatusOr<std::optional<uint64_t>> value = Meta(kPrunedThrough);
  if (!value.ok()) return value.status();
  return value->value_or(0);
}

absl::StatusOr<uint64_t> SqliteStore::PrunedAssignments() {
  absl::StatusOr<std::optional<uint64_t>> value = Meta(kPrunedAssignments);
  if (!value.ok()) return value.status();
  return value->value_or(0);
}

absl::StatusOr<std::optional<uint64_t>> SqliteStore::CursorValue(
    const std::string& name) {
  return Meta(absl::StrCat(kCursorPrefix, name));
}

}  // namespace leadroute::runtime
