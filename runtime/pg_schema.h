// The state's schema on PostgreSQL, for several replicas sharing one
// database (issue 22; docs/deployment.md, "Several replicas"). The tables
// and columns are SQLite's (sqlite_store.cc) at its schema 8, so that the
// two stores read and write the same rows, and schema 2 adds the writer's
// epoch (PgStore::TryBecomeWriter in pg_store.h); keys compare byte by byte
// (COLLATE "C") whatever the database's locale, as they do in SQLite.
//
// Migrate is safe from any number of replicas starting at once: each runs
// in one transaction that first takes a transaction-level advisory lock,
// so the steps run exactly once and the others find them done. A database
// whose schema is newer than this build's is refused, untouched.
#ifndef LEADROUTE_RUNTIME_PG_SCHEMA_H_
#define LEADROUTE_RUNTIME_PG_SCHEMA_H_

#include <string>

#include "absl/status/statusor.h"

namespace leadroute::runtime::pg {

// The schema version this build writes.
inline constexpr int kSchemaVersion = 6;

// Connects to `conninfo` (a libpq connection string or postgres:// URI)
// and brings the database to kSchemaVersion. Returns the version it found
// (0 for an empty database). UNAVAILABLE when the database cannot be
// reached, FAILED_PRECONDITION for a newer schema; each message says which
// and names the database.
absl::StatusOr<int> Migrate(const std::string& conninfo);

}  // namespace leadroute::runtime::pg

#endif  // LEADROUTE_RUNTIME_PG_SCHEMA_H_
