// The alternative to one elected writer, measured on the same database:
// every replica writing (active-active), each lead one transaction that
// locks its team's rotation row, takes the next rep, records the lead under
// a unique key and an event, and commits. Only the database's share is
// measured (no gRPC, no rules, no working set): it is the ceiling such a
// design could reach, whatever the replicas do around it.
#ifndef LEADROUTE_BENCH_ACTIVE_ACTIVE_H_
#define LEADROUTE_BENCH_ACTIVE_ACTIVE_H_

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace leadroute::bench {

// Runs `sql` on `conn`; false, with the error on stderr, when it fails.
inline bool ExecOk(PGconn* conn, const char* sql) {
  PGresult* r = PQexec(conn, sql);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
                  PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) std::fprintf(stderr, "active-active: %s", PQerrorMessage(conn));
  PQclear(r);
  return ok;
}

// Makes the tables in the database of `conninfo` (which must be empty).
inline bool MakeActiveActiveSchema(const std::string& conninfo, int teams) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  bool ok = PQstatus(conn) == CONNECTION_OK &&
            ExecOk(conn,
                   "CREATE TABLE rotation (team int PRIMARY KEY, next int "
                   "NOT NULL, reps int NOT NULL);"
                   "CREATE TABLE leads (lead_id text PRIMARY KEY, team int "
                   "NOT NULL, rep int NOT NULL, at timestamptz NOT NULL);"
                   "CREATE TABLE events (id bigserial PRIMARY KEY, lead_id "
                   "text NOT NULL, rep int NOT NULL);") &&
            ExecOk(conn, absl::StrCat("INSERT INTO rotation SELECT t, 0, 3 "
                                      "FROM generate_series(0, ",
                                      teams - 1, ") t")
                             .c_str());
  if (!ok && PQstatus(conn) != CONNECTION_OK) {
    std::fprintf(stderr, "active-active: %s", PQerrorMessage(conn));
  }
  PQfinish(conn);
  return ok;
}

struct ActiveActiveResult {
  double leads_per_second = 0;
  int64_t errors = 0;
};

// `connections` clients (as many replicas' worth of in-flight calls), each
// routing new leads to random teams of `teams`, one transaction a lead, for
// `seconds` after a warm-up of 0.3 s. `run` keeps lead ids distinct across
// runs on the same tables.
inline ActiveActiveResult RunActiveActive(const std::string& conninfo,
                                          int connections, int teams,
                                          double seconds, int run) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point from = Clock::now() + std::chrono::milliseconds(300);
  const Clock::time_point to =
      from + std::chrono::milliseconds(static_cast<int>(seconds * 1000));
  std::atomic<int64_t> committed{0}, errors{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < connections; ++c) {
    clients.emplace_back([&, c] {
      PGconn* conn = PQconnectdb(conninfo.c_str());
      if (PQstatus(conn) != CONNECTION_OK) {
        errors++;
        PQfinish(conn);
        return;
      }
      PGresult* prepared = PQprepare(
          conn, "route",
          "WITH r AS (SELECT team, next, reps FROM rotation WHERE team = $1 "
          "FOR UPDATE), "
          "u AS (UPDATE rotation SET next = (r.next + 1) % r.reps FROM r "
          "WHERE rotation.team = r.team RETURNING r.next AS rep), "
          "l AS (INSERT INTO leads SELECT $2, $1, rep, now() FROM u "
          "RETURNING rep) "
          "INSERT INTO events (lead_id, rep) SELECT $2, rep FROM l",
          2, nullptr);
      const bool ready = PQresultStatus(prepared) == PGRES_COMMAND_OK;
      PQclear(prepared);
      uint64_t seed = 0x9e3779b97f4a7c15ull * (c + 1);
      for (int64_t i = 0; ready; ++i) {
        const Clock::time_point start = Clock::now();
        if (start >= to) break;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        const std::string team = std::to_string((seed >> 33) % teams);
        const std::string lead = absl::StrCat("aa-", run, "-", c, "-", i);
        const char* values[] = {team.c_str(), lead.c_str()};
        // One statement is one transaction: BEGIN, the row lock, the
        // writes, COMMIT (and its WAL flush) in one round trip.
        PGresult* r =
            PQexecPrepared(conn, "route", 2, values, nullptr, nullptr, 0);
        const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (start >= from && Clock::now() <= to) (ok ? committed : errors)++;
      }
      PQfinish(conn);
    });
  }
  for (std::thread& t : clients) t.join();
  return {static_cast<double>(committed) / seconds, errors};
}

}  // namespace leadroute::bench

#endif  // LEADROUTE_BENCH_ACTIVE_ACTIVE_H_
