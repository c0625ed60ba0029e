// The PostgreSQL schema's migration on a real server: once, whichever of
// several replicas starting together gets there first; a newer schema and
// a dead database refused with what is wrong.
#include "runtime/pg_schema.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/pg/pg_server.h"
#include "tests/test_dir.h"

namespace leadroute::runtime::pg {
namespace {

using testing_util::PgServer;

TEST(PgSchemaTest, ReplicasStartingTogetherMigrateOnce) {
  auto server = PgServer::Start(testing_util::FreshTestDir("pg") / "cluster");
  ASSERT_TRUE(server.ok()) << server.status();
  PgServer& pg = **server;
  std::vector<absl::StatusOr<int>> found(3, 0);
  {
    std::vector<std::thread> replicas;
    for (auto& f : found) {
      replicas.emplace_back([&] { f = Migrate(pg.conninfo()); });
    }
    for (std::thread& t : replicas) t.join();
  }
  std::vector<int> versions;
  for (const auto& f : found) {
    ASSERT_TRUE(f.ok()) << f.status();
    versions.push_back(*f);
  }
  std::sort(versions.begin(), versions.end());
  // One found an empty database; the others waited and found it done.
  EXPECT_EQ(versions, (std::vector<int>{0, kSchemaVersion, kSchemaVersion}));
  EXPECT_EQ(*pg.Psql("SELECT version FROM leadroute_schema"),
            absl::StrCat(kSchemaVersion, "\n"));
  EXPECT_EQ(*pg.Psql("SELECT string_agg(table_name, ',' ORDER BY table_name) "
                     "FROM information_schema.tables "
                     "WHERE table_schema = 'public'"),
            "assignments,audit,lead_events,leadroute_schema,leadroute_writer,"
            "meta,rep_status,ruleset_files,rulesets,team_cursors\n");
  EXPECT_EQ(*pg.Psql("SELECT key || '=' || value FROM meta"),
            "last_assignment_seq=0\n");
  // Again: nothing to do.
  EXPECT_EQ(Migrate(pg.conninfo()).value_or(-1), kSchemaVersion);
}

TEST(PgSchemaTest, ANewerSchemaAndADeadDatabaseAreRefused) {
  auto server = PgServer::Start(testing_util::FreshTestDir("pg") / "cluster");
  ASSERT_TRUE(server.ok()) << server.status();
  PgServer& pg = **server;
  ASSERT_TRUE(Migrate(pg.conninfo()).ok());
  ASSERT_TRUE(pg.Psql("UPDATE leadroute_schema SET version = 99").ok());
  absl::StatusOr<int> newer = Migrate(pg.conninfo());
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(newer.status().message(),
            absl::StrCat("PostgreSQL database \"postgres\" has schema version "
                         "99, newer than this build's ",
                         kSchemaVersion, ": run a newer leadroute"));
  EXPECT_EQ(*pg.Psql("SELECT version FROM leadroute_schema"), "99\n");

  ASSERT_TRUE(pg.Stop().ok());
  absl::StatusOr<int> dead = Migrate(pg.conninfo());
  EXPECT_EQ(dead.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(dead.status().message().rfind(
                "cannot connect to PostgreSQL database \"postgres\": ", 0),
            0u)
      << dead.status();
}

}  // namespace
}  // namespace leadroute::runtime::pg
