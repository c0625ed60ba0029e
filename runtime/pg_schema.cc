// The PostgreSQL schema and its migrations; see pg_schema.h.
#include "runtime/pg_schema.h"

#include <iterator>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runtime/pg_connection.h"

namespace leadroute::runtime::pg {
namespace {

// Steps: kMigrations[i] takes a database from version i to i + 1. Never
// edit a step that has shipped; add one.
constexpr const char* kMigrations[] = {
    // 1: SQLite's schema 8, in one step.
    R"sql(
CREATE TABLE assignments (
  lead_id TEXT COLLATE "C" PRIMARY KEY,
  owner TEXT COLLATE "C" NOT NULL,
  owner_kind INTEGER NOT NULL,
  team TEXT NOT NULL,
  status INTEGER NOT NULL,
  email_key TEXT COLLATE "C" NOT NULL,
  repeat_of TEXT NOT NULL,
  decision_id TEXT NOT NULL,
  ruleset TEXT NOT NULL,
  priority TEXT NOT NULL,
  priority_rank INTEGER NOT NULL,
  sla_ms BIGINT,
  channel TEXT NOT NULL,
  decided_at_us BIGINT NOT NULL,
  respond_by_us BIGINT,
  ended_at_us BIGINT,
  score BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  routed_at_us BIGINT,
  sla_status INTEGER NOT NULL DEFAULT 0,
  contact_channel TEXT NOT NULL DEFAULT '',
  contacted_by TEXT NOT NULL DEFAULT '',
  contacted_at_us BIGINT,
  qualified_at_us BIGINT,
  opportunity_at_us BIGINT,
  won_at_us BIGINT,
  lost_at_us BIGINT,
  outcome INTEGER NOT NULL DEFAULT 0,
  escalation TEXT NOT NULL DEFAULT '',
  escalation_step INTEGER NOT NULL DEFAULT 0,
  hops INTEGER NOT NULL DEFAULT 0,
  had_by TEXT NOT NULL DEFAULT '',
  next_due_us BIGINT,
  clock_start_us BIGINT,
  source TEXT NOT NULL DEFAULT '',
  rules TEXT NOT NULL DEFAULT '',
  clock_status INTEGER NOT NULL DEFAULT 0,
  missed_by TEXT NOT NULL DEFAULT ''
);
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
CREATE TABLE rep_status (
  rep TEXT COLLATE "C" PRIMARY KEY,
  availability INTEGER NOT NULL,
  until_us BIGINT,
  note TEXT NOT NULL,
  set_at_us BIGINT NOT NULL
);
CREATE TABLE team_cursors (
  team TEXT COLLATE "C" PRIMARY KEY,
  last_rep TEXT NOT NULL,
  running TEXT NOT NULL
);
CREATE TABLE lead_events (
  id BIGINT PRIMARY KEY,
  lead_id TEXT COLLATE "C" NOT NULL,
  at_us BIGINT NOT NULL,
  kind TEXT NOT NULL,
  from_owner TEXT NOT NULL,
  to_owner TEXT NOT NULL,
  reason TEXT NOT NULL,
  owner_kind INTEGER NOT NULL DEFAULT 0,
  team TEXT NOT NULL DEFAULT '',
  channel TEXT NOT NULL DEFAULT '',
  priority TEXT NOT NULL DEFAULT '',
  sla_ms BIGINT,
  respond_by_us BIGINT,
  actor TEXT NOT NULL DEFAULT ''
);
CREATE INDEX lead_events_by_lead ON lead_events (lead_id, id);
CREATE TABLE meta (
  key TEXT COLLATE "C" PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('last_assignment_seq', 0);
CREATE TABLE audit (
  id BIGINT PRIMARY KEY,
  at_us BIGINT NOT NULL,
  principal TEXT NOT NULL,
  peer TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  before TEXT NOT NULL,
  after TEXT NOT NULL,
  reason TEXT NOT NULL
);
)sql",
    // 2: the writer of replicas sharing the database. One row: the epoch,
    // raised by each replica that takes the writer lock, and where that
    // replica answers. leadroute_fence(epoch) fails a transaction written
    // by a writer whose epoch is no longer the current one; it holds the
    // row FOR SHARE until the transaction ends, so a takeover's raise
    // waits for a commit under way instead of passing it.
    R"sql(
CREATE TABLE leadroute_writer (
  one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
  epoch BIGINT NOT NULL,
  address TEXT NOT NULL,
  since_us BIGINT NOT NULL
);
INSERT INTO leadroute_writer (epoch, address, since_us) VALUES (0, '', 0);
CREATE FUNCTION leadroute_fence(mine BIGINT) RETURNS VOID LANGUAGE plpgsql
AS $$
DECLARE
  current BIGINT;
BEGIN
  SELECT epoch INTO current FROM leadroute_writer FOR SHARE;
  IF current IS DISTINCT FROM mine THEN
    RAISE EXCEPTION 'this replica wrote as epoch % but epoch % took over',
      mine, current USING ERRCODE = 'LR001';
  END IF;
END
$$;
)sql",
    // 3: rulesets, for every replica to serve the live one and a new
    // writer to go on from it. Each revision made live once, with its files;
    // meta 'live_ruleset' names the live revision.
    R"sql(
CREATE TABLE rulesets (
  revision BIGINT PRIMARY KEY,
  root TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_from TEXT NOT NULL,
  at_us BIGINT NOT NULL
);
CREATE TABLE ruleset_files (
  revision BIGINT NOT NULL REFERENCES rulesets (revision),
  path TEXT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (revision, path)
);
)sql",
    // 4: KPIs read a window's leads through an index (SQLite's 9).
    R"sql(
CREATE INDEX assignments_by_routed ON assignments (routed_at_us);
)sql",
    // 5: which choice of the assign rule took each lead (SQLite's 10).
    R"sql(
ALTER TABLE assignments ADD COLUMN choice INTEGER NOT NULL DEFAULT 0;
)sql",
    // 6: each lead as replay reads it (SQLite's 11).
    R"sql(
ALTER TABLE assignments ADD COLUMN logged TEXT NOT NULL DEFAULT '';
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// The advisory lock that orders replicas' migrations: any number, the same
// in every build ("leadrout" in ASCII).
constexpr char kLockKey[] = "7810826119401911412";

}  // namespace

absl::StatusOr<int> Migrate(const std::string& conninfo) {
  // One transaction: a replica that fails half-way leaves nothing behind
  // (DDL is transactional in PostgreSQL; a session that ends rolls back).
  Connection c(conninfo, /*read_only=*/false);
  RETURN_IF_ERROR(c.Exec("BEGIN", "starting the migration"));
  RETURN_IF_ERROR(
      c.Exec(absl::StrCat("SELECT pg_advisory_xact_lock(", kLockKey, ")"),
             "waiting for another replica's migration"));
  RETURN_IF_ERROR(
      c.Exec("CREATE TABLE IF NOT EXISTS leadroute_schema ("
             "one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), "
             "version INTEGER NOT NULL)",
             "making the schema version table"));
  int found = 0;
  Params none;
  RETURN_IF_ERROR(c.Query(
      "SELECT version FROM leadroute_schema", none,
      [&](const Row& r) { found = static_cast<int>(r.Int(0)); },
      "reading the schema version"));
  if (found > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL database \"", c.database(), "\" has schema version ", found,
        ", newer than this build's ", kSchemaVersion,
        ": run a newer leadroute"));
  }
  for (int v = found; v < kSchemaVersion; ++v) {
    RETURN_IF_ERROR(
        c.Exec(kMigrations[v], absl::StrCat("migrating to schema ", v + 1)));
  }
  if (found < kSchemaVersion) {
    RETURN_IF_ERROR(c.Exec(
        absl::StrCat(
            "INSERT INTO leadroute_schema (version) VALUES (", kSchemaVersion,
            ") ON CONFLICT (one) DO UPDATE SET version = ", kSchemaVersion),
        "recording the schema version"));
  }
  RETURN_IF_ERROR(c.Exec("COMMIT", "committing the migration"));
  return found;
}

}  // namespace leadroute::runtime::pg
