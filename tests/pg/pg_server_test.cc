// The PostgreSQL the replica tests start: a real server from Debian's
// package, reached through libpq on loopback, not running as root, and
// keeping what was committed across a clean restart and a crash.
#include "tests/pg/pg_server.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/test_dir.h"

namespace leadroute::testing_util {
namespace {

// One value through libpq, or the error.
std::string Query(const std::string& conninfo, const std::string& sql) {
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn(
      PQconnectdb(conninfo.c_str()), &PQfinish);
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::StrCat("connect: ", PQerrorMessage(conn.get()));
  }
  std::unique_ptr<PGresult, decltype(&PQclear)> r(
      PQexec(conn.get(), sql.c_str()), &PQclear);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    return absl::StrCat("query: ", PQerrorMessage(conn.get()));
  }
  return PQntuples(r.get()) > 0 ? PQgetvalue(r.get(), 0, 0) : "";
}

TEST(PgServerTest, ServesOnLoopbackAndKeepsDataAcrossRestartsAndCrashes) {
  auto pg = PgServer::Start(FreshTestDir("pg") / "cluster");
  ASSERT_TRUE(pg.ok()) << pg.status();
  const std::string conninfo = (*pg)->conninfo();
  EXPECT_EQ(Query(conninfo, "SELECT current_setting('server_version_num')")
                .substr(0, 2),
            "15");
  EXPECT_EQ(Query(conninfo, "SELECT current_setting('listen_addresses')"),
            "127.0.0.1");
  // Never as root: the server's processes belong to nobody then.
  const std::string pid = Query(conninfo, "SELECT pg_backend_pid()::text");
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line) && line.rfind("Uid:", 0) != 0) {
  }
  ASSERT_EQ(line.rfind("Uid:", 0), 0u) << pid;
  EXPECT_NE(std::stoi(line.substr(4)), 0) << line;
  if (geteuid() != 0) {
    EXPECT_EQ(std::stoi(line.substr(4)), static_cast<int>(geteuid()));
  }

  ASSERT_TRUE(
      (*pg)->Psql("CREATE TABLE t (v int); INSERT INTO t VALUES (7)").ok());
  ASSERT_TRUE((*pg)->Restart().ok());
  EXPECT_EQ(Query(conninfo, "SELECT sum(v)::text FROM t"), "7");
  ASSERT_TRUE((*pg)->Psql("INSERT INTO t VALUES (8)").ok());
  ASSERT_TRUE((*pg)->CrashAndRestart().ok());
  EXPECT_EQ(Query(conninfo, "SELECT sum(v)::text FROM t"), "15");
  EXPECT_EQ((*pg)->conninfo(), conninfo);  // the same port throughout

  // Stopped, it refuses connections: what a dead database looks like.
  ASSERT_TRUE((*pg)->Stop().ok());
  EXPECT_EQ(Query(conninfo, "SELECT 1").rfind("connect: ", 0), 0u);
}

}  // namespace
}  // namespace leadroute::testing_util
