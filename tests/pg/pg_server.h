// PgServer: a real PostgreSQL 15 server for a test, from Debian's
// postgresql-15 package (initdb and pg_ctl under /usr/lib/postgresql/15),
// in a fresh folder of the test's own and listening on a loopback port of
// its own; never a mock. When the test runs as root, the server runs as
// `nobody` (PostgreSQL refuses to run as root). Clients connect over TCP
// with conninfo(), as user "leadroute", trusted (loopback only).
//
// The server can be stopped and started again on the same port and data
// (a database restart), or killed (SIGKILL to the postmaster: a crash).
// The destructor stops it and removes the folder.
//
// Tests run it without fsync (durable against a crash of the server, which
// is what they do, not of the machine); benchmarks of durable writes ask
// for PostgreSQL's defaults, fsync on every commit.
#ifndef LEADROUTE_TESTS_PG_PG_SERVER_H_
#define LEADROUTE_TESTS_PG_PG_SERVER_H_

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace leadroute::testing_util {

class PgServer {
 public:
  // Makes a cluster in `dir` (which must be empty) and starts it; with
  // `fsync`, every commit reaches the disk before it returns.
  static absl::StatusOr<std::unique_ptr<PgServer>> Start(
      const std::filesystem::path& dir, bool fsync = false);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // A libpq connection string for database `dbname`.
  std::string conninfo(const std::string& dbname = "postgres") const;
  int port() const { return port_; }

  // A clean stop (pg_ctl stop -m fast), and a start on the same port.
  absl::Status Stop();
  absl::Status Restart();
  // Kills the postmaster with SIGKILL, as a crash would, then starts again
  // (PostgreSQL recovers from its WAL).
  absl::Status CrashAndRestart();

  // Runs `sql` through psql; its output, or why it failed.
  absl::StatusOr<std::string> Psql(const std::string& sql,
                                   const std::string& dbname = "postgres");

 private:
  PgServer(std::filesystem::path dir, bool fsync)
      : dir_(std::move(dir)), fsync_(fsync) {}
  absl::Status Init();
  absl::Status StartServer();
  // Runs a PostgreSQL program (as `nobody` when root); its exit status,
  // with its output appended to the folder's log.
  int Run(std::vector<std::string> args, std::string* output = nullptr);

  const std::filesystem::path dir_;
  const bool fsync_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace leadroute::testing_util

#endif  // LEADROUTE_TESTS_PG_PG_SERVER_H_
