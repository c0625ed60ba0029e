// What the tests of replicas on PostgreSQL share: the rules they route by,
// and how they read owners and metrics back.
#ifndef LEADROUTE_TESTS_PG_REPLICA_TEST_UTIL_H_
#define LEADROUTE_TESTS_PG_REPLICA_TEST_UTIL_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/pg/pg_server.h"

namespace leadroute::testing_util {

// Region "pool" to a round robin of three reps, any other to queue
// "later"; `email` spots repeat leads.
inline constexpr const char* kPoolRules = R"(
ruleset "replicas" version "1"
schema {
  region: string required
  email: string
}
rep r1 { }
rep r2 { }
rep r3 { }
team pool { members = [r1, r2, r3] strategy = round_robin }
queue later
assign {
  rule pool when region == "pool" then team pool
  otherwise queue later
}
)";

// Leads per owner in the database, of the assignments `where` (SQL)
// selects; all of them for "".
inline std::map<std::string, int> OwnerCounts(PgServer& pg,
                                              const std::string& where = "") {
  absl::StatusOr<std::string> rows = pg.Psql(
      absl::StrCat("SELECT owner || '|' || COUNT(*) FROM assignments ",
                   where.empty() ? "" : "WHERE ", where, " GROUP BY owner"));
  EXPECT_TRUE(rows.ok()) << rows.status();
  std::map<std::string, int> counts;
  for (absl::string_view row :
       absl::StrSplit(rows.value_or(""), '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(row, '|');
    int n = 0;
    EXPECT_TRUE(f.size() == 2 && absl::SimpleAtoi(f[1], &n)) << row;
    counts[f[0]] = n;
  }
  return counts;
}

// A metric's value in a Prometheus text page; -1 when it is not there.
inline double MetricValue(const std::string& page, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (!absl::ConsumePrefix(&line, name + " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

}  // namespace leadroute::testing_util

#endif  // LEADROUTE_TESTS_PG_REPLICA_TEST_UTIL_H_
