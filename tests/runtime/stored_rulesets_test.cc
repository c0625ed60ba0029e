// Rulesets in the store, on every backend: the live one and the scheduled
// one are kept with their files through the Assigner's commits and read
// back after a restart, a rollback makes a kept revision live again, making
// the scheduled revision live ends the schedule, and a cancelled schedule is
// none. SQLite also keeps the --rules files' fingerprint of the moment each
// went live (for a single server's restart to tell whether the files changed
// since). Both keep only the live, the scheduled and the newest revision.
#include <libpq-fe.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "tests/runtime/state_fixture.h"

namespace leadroute::runtime {
namespace {

constexpr const char* kRules = R"(
ruleset "s" version "1"
queue q
assign { otherwise queue q }
)";

class StoredRulesetsTest : public StateFixture {
 protected:
  void SetUp() override { SetUpState("stored-rulesets", kRules); }

  // The audit line a ruleset is kept with.
  AuditRecord Audited(const std::string& action) {
    AuditRecord a;
    a.at = clock_.Now();
    a.principal = "ops";
    a.action = action;
    a.target = "s";
    return a;
  }
  void Live(const RulesetLive& r) {
    absl::StatusOr<uint64_t> seq =
        assigner_->RecordRuleset(r, Audited("rules.publish"));
    ASSERT_TRUE(seq.ok()) << seq.status();
    ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  }
  void Schedule(std::optional<RulesetLive> r) {
    absl::StatusOr<uint64_t> seq = assigner_->RecordSchedule(
        RulesetSchedule{std::move(r)}, Audited("rules.schedule"));
    ASSERT_TRUE(seq.ok()) << seq.status();
    ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  }
  // What the store keeps, as a reader (a replica, `serve` at its start)
  // opening it reads it.
  StoredRulesets Kept(int64_t unless_live = -1, int64_t unless_scheduled = -1) {
    absl::StatusOr<std::unique_ptr<StateStore>> store = OpenStoreReadOnly();
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    absl::StatusOr<StoredRulesets> kept =
        (*store)->Rulesets(unless_live, unless_scheduled);
    EXPECT_TRUE(kept.ok()) << kept.status();
    return kept.ok() ? *std::move(kept) : StoredRulesets{};
  }
  // The revisions with a row, ascending, and their files' count.
  std::vector<int64_t> Revisions(int* files) {
    if (StateBackend() == TestBackend::kPg) return PgRevisions(files);
    std::vector<int64_t> out;
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir_ / SqliteStore::kFileName).c_str(), &db,
                              SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, "SELECT revision FROM rulesets ORDER BY revision",
                       -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      out.push_back(sqlite3_column_int64(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM ruleset_files", -1, &s,
                       nullptr);
    EXPECT_EQ(sqlite3_step(s), SQLITE_ROW);
    *files = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }
  std::vector<int64_t> PgRevisions(int* files) {
    std::vector<int64_t> out;
    PGconn* conn = PQconnectdb(conninfo_.c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* r =
        PQexec(conn, "SELECT revision FROM rulesets ORDER BY revision");
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
    for (int i = 0; i < PQntuples(r); ++i) {
      out.push_back(std::stoll(PQgetvalue(r, i, 0)));
    }
    PQclear(r);
    r = PQexec(conn, "SELECT COUNT(*) FROM ruleset_files");
    EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK) << PQerrorMessage(conn);
    *files = PQntuples(r) == 1 ? std::stoi(PQgetvalue(r, 0, 0)) : -1;
    PQclear(r);
    PQfinish(conn);
    return out;
  }

  const absl::Time t0_ = clock_.Now();
};

TEST_F(StoredRulesetsTest, TheLiveOneIsKeptWithItsFilesAcrossARestart) {
  StoredRulesets none = Kept();
  EXPECT_FALSE(none.live.has_value());
  EXPECT_EQ(none.live_revision, 0);
  EXPECT_EQ(none.newest_revision, 0);
  const RulesetLive first{.revision = 1,
                          .root = "/etc/rules/main.route",
                          .files = {{"/etc/rules/main.route", "ruleset…"},
                                    {"/etc/rules/owners.csv", "a,b\n"}},
                          .fingerprint = "0123456789abcdef",
                          .published_by = "file",
                          .published_from = "/etc/rules",
                          .at = t0_,
                          .files_fingerprint = "0123456789abcdef"};
  RulesetLive second = first;
  second.revision = 2;
  second.files = {{"rules.route", "v2"}};
  second.root = "rules.route";
  second.fingerprint = "2222222222222222";
  second.published_by = "revops";
  second.published_from = "ipv4:10.0.0.7:51234";
  Live(first);
  Live(second);
  // Rolled back to 1 after the files changed (a new fingerprint).
  RulesetLive again = first;
  again.files_fingerprint = "ffffffffffffffff";
  Live(again);
  Reopen();

  StoredRulesets kept = Kept();
  EXPECT_EQ(kept.newest_revision, 2);
  EXPECT_EQ(kept.live_revision, 1);
  ASSERT_TRUE(kept.live.has_value());
  EXPECT_EQ(kept.live->revision, 1);
  EXPECT_EQ(kept.live->root, first.root);
  EXPECT_EQ(kept.live->files, first.files);
  EXPECT_EQ(kept.live->fingerprint, first.fingerprint);
  EXPECT_EQ(kept.live->published_by, "file");
  EXPECT_EQ(kept.live->published_from, "/etc/rules");
  EXPECT_EQ(kept.live->at, t0_);
  if (StateBackend() != TestBackend::kPg) {
    // The files' fingerprint of the last time it went live.
    EXPECT_EQ(kept.live->files_fingerprint, "ffffffffffffffff");
  }
  // Unchanged for a replica that serves revision 1: no files read.
  StoredRulesets same = Kept(1);
  EXPECT_EQ(same.live_revision, 1);
  EXPECT_FALSE(same.live.has_value());
}

TEST_F(StoredRulesetsTest, AScheduleIsKeptUntilItsRevisionGoesLive) {
  const RulesetLive live{.revision = 1,
                         .root = "r.route",
                         .files = {{"r.route", "v1"}},
                         .fingerprint = "1111111111111111",
                         .published_by = "file",
                         .published_from = "r.route",
                         .at = t0_};
  RulesetLive next = live;
  next.revision = 2;
  next.files = {{"r.route", "v2"}, {"owners.csv", "a,b\n"}};
  next.fingerprint = "2222222222222222";
  next.published_by = "revops";
  next.activate_at = t0_ + absl::Hours(24) + absl::Microseconds(7);
  Live(live);
  Schedule(next);
  Reopen();
  StoredRulesets kept = Kept();
  EXPECT_EQ(kept.live_revision, 1);
  EXPECT_EQ(kept.newest_revision, 2);
  EXPECT_EQ(kept.scheduled_revision, 2);
  ASSERT_TRUE(kept.scheduled.has_value());
  EXPECT_EQ(kept.scheduled->files, next.files);
  EXPECT_EQ(kept.scheduled->fingerprint, next.fingerprint);
  EXPECT_EQ(kept.scheduled->published_by, "revops");
  EXPECT_EQ(kept.scheduled->activate_at, next.activate_at);
  // Unchanged for a replica that follows both: no files read.
  StoredRulesets same = Kept(1, 2);
  EXPECT_EQ(same.scheduled_revision, 2);
  EXPECT_FALSE(same.live.has_value());
  EXPECT_FALSE(same.scheduled.has_value());

  // Revision 1 made live again (a rollback) leaves the schedule alone.
  Live(live);
  EXPECT_EQ(Kept().scheduled_revision, 2);
  // Revision 2 made live ends it.
  Live(next);
  kept = Kept();
  EXPECT_EQ(kept.live_revision, 2);
  ASSERT_TRUE(kept.live.has_value());
  EXPECT_EQ(kept.live->files, next.files);
  EXPECT_EQ(kept.scheduled_revision, 0);
  EXPECT_FALSE(kept.scheduled.has_value());

  // Scheduled, then cancelled: none, and numbering still goes on after 3.
  RulesetLive third = next;
  third.revision = 3;
  Schedule(third);
  Schedule(std::nullopt);
  Reopen();
  kept = Kept();
  EXPECT_EQ(kept.scheduled_revision, 0);
  EXPECT_FALSE(kept.scheduled.has_value());
  EXPECT_EQ(kept.newest_revision, 3);
  EXPECT_EQ(kept.live_revision, 2);
}

// A store keeps what a restart (or a replica) needs, not every ruleset
// ever published: the live, the scheduled and the newest revision.
TEST_F(StoredRulesetsTest, KeepsOnlyTheLiveTheScheduledAndTheNewest) {
  RulesetLive r{.root = "r.route", .published_by = "revops", .at = t0_};
  for (int revision = 1; revision <= 5; ++revision) {
    r.revision = revision;
    r.files = {{"r.route", absl::StrCat("v", revision)}};
    r.fingerprint = absl::StrCat(revision);
    Live(r);
  }
  int files = 0;
  EXPECT_EQ(Revisions(&files), std::vector<int64_t>{5});
  EXPECT_EQ(files, 1);

  // 6 scheduled, 7 published at once, then 3 brought back: 3 is live, 6
  // waits, 7 is the newest.
  RulesetLive six = r;
  six.revision = 6;
  six.files = {{"r.route", "v6"}, {"t.csv", "a\n"}};
  six.activate_at = t0_ + absl::Hours(1);
  Schedule(six);
  r.revision = 7;
  r.files = {{"r.route", "v7"}};
  Live(r);
  r.revision = 3;
  r.files = {{"r.route", "v3"}};
  Live(r);
  EXPECT_EQ(Revisions(&files), (std::vector<int64_t>{3, 6, 7}));
  EXPECT_EQ(files, 4);
  StoredRulesets kept = Kept();
  EXPECT_EQ(kept.live_revision, 3);
  ASSERT_TRUE(kept.live.has_value());
  EXPECT_EQ(kept.live->files.at("r.route"), "v3");
  EXPECT_EQ(kept.scheduled_revision, 6);
  EXPECT_EQ(kept.newest_revision, 7);
}

}  // namespace
}  // namespace leadroute::runtime
