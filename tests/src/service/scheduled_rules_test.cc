// Scheduled go-live through a real channel, on a server whose clock is a
// FakeClock: PublishRules with `activate` compiles and numbers the rules
// now and makes them live at their instant — for the call received at that
// instant, not a poll later — with wall-clock times read in their zone's
// rules for that date (the autumn and spring daylight-saving changes in
// Europe/Berlin), in the audit trail, replaced, cancelled, and refused
// with the field named; and what a restart keeps: the ruleset live when the
// server stopped (published ones too) unless the --rules files changed
// meanwhile, and the schedule; and a stored ruleset that no longer
// compiles gives way to the files.
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/sqlite_store.h"
#include "tests/src/server/state_server_fixture.h"

namespace leadroute {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::StartsWith;

// Every lead to queue q<tag>.
std::string Rules(const std::string& tag) {
  return absl::StrCat("ruleset \"r\" version \"", tag, "\"\nqueue q", tag,
                      "\nassign { otherwise queue q", tag, " }\n");
}

absl::Time Utc(int y, int mo, int d, int h, int mi, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s),
                         absl::UTCTimeZone());
}

class ScheduledRulesTest : public testing_util::StateServerFixture {
 protected:
  void SetUp() override { SetUpServer("scheduled-rules", Rules("1").c_str()); }

  // PublishRules with `rules` (none: cancel) to go live at `local` in
  // `zone`, or at `at` when `local` is empty.
  grpc::Status Schedule(const std::string& rules, const std::string& local,
                        const std::string& zone,
                        v1::PublishRulesResponse* response,
                        absl::Time at = absl::InfinitePast()) {
    v1::PublishRulesRequest request;
    if (!rules.empty()) {
      v1::RuleFile* f = request.add_files();
      f->set_path("r.route");
      f->set_content(rules);
    }
    v1::Activation* a = request.mutable_activate();
    a->set_local_time(local);
    a->set_time_zone(zone);
    if (at != absl::InfinitePast()) {
      a->mutable_at()->set_seconds(absl::ToUnixSeconds(at));
    }
    grpc::ClientContext context;
    return rules_admin_->PublishRules(&context, request, response);
  }

  // The activation time `local` in `zone` is scheduled for, as the
  // response says; InfinitePast when refused.
  absl::Time ScheduledAt(const std::string& local, const std::string& zone) {
    v1::PublishRulesResponse response;
    grpc::Status s = Schedule(Rules("2"), local, zone, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) return absl::InfinitePast();
    EXPECT_FALSE(response.ruleset().live());
    return absl::FromUnixSeconds(response.ruleset().activate_at().seconds());
  }

  v1::GetStatusResponse Status() {
    v1::GetStatusResponse response;
    grpc::ClientContext context;
    EXPECT_TRUE(
        rules_admin_->GetStatus(&context, v1::GetStatusRequest(), &response)
            .ok());
    return response;
  }

  // PublishRules with `rules`, live at once.
  grpc::Status Publish(const std::string& rules,
                       v1::PublishRulesResponse* response) {
    v1::PublishRulesRequest request;
    v1::RuleFile* f = request.add_files();
    f->set_path("r.route");
    f->set_content(rules);
    grpc::ClientContext context;
    return rules_admin_->PublishRules(&context, request, response);
  }

  grpc::Status Rollback(int64_t revision) {
    v1::RollbackRequest request;
    request.set_revision(revision);
    v1::RollbackResponse response;
    grpc::ClientContext context;
    return rules_admin_->Rollback(&context, request, &response);
  }

  // The queue a lead routed now goes to, and the revision that decided.
  std::pair<std::string, int64_t> Route(const std::string& id) {
    v1::RouteRequest request;
    request.mutable_lead()->set_id(id);
    v1::RouteResponse response;
    grpc::ClientContext context;
    grpc::Status s = router_->Route(&context, request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {response.decision().owner(),
            response.decision().ruleset().revision()};
  }

  // Waits up to 10 s for GetStatus to say `revision` is live.
  bool WaitLive(int64_t revision) {
    for (int i = 0; i < 1000; ++i) {
      if (Status().live().ruleset().revision() == revision) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // The audit trail's ruleset entries, as "principal action after", once
  // there are `expected` of them (an activation's is written by the
  // registry's thread after the ruleset is live), or after 10 s.
  std::vector<std::string> RulesAudit(size_t expected) {
    std::vector<std::string> out = ReadRulesAudit();
    for (int i = 0; i < 1000 && out.size() < expected; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      out = ReadRulesAudit();
    }
    return out;
  }
  std::vector<std::string> ReadRulesAudit() {
    absl::StatusOr<std::unique_ptr<runtime::SqliteStore>> store =
        runtime::SqliteStore::OpenReadOnly(
            (dir_ / "data" / runtime::SqliteStore::kFileName).string());
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    absl::StatusOr<std::vector<runtime::AuditRecord>> audit =
        (*store)->Audit({.limit = 100});
    EXPECT_TRUE(audit.ok()) << audit.status();
    std::vector<std::string> out;
    for (const runtime::AuditRecord& r : *audit) {
      if (r.action.starts_with("rules.")) {
        out.push_back(absl::StrCat(r.principal, " ", r.action, " ", r.after));
      }
    }
    return out;
  }
};

// Published on 20 October (CEST, UTC+2) for 1 November 00:00 in Berlin,
// which is CET (UTC+1) by then: 23:00 UTC, not the 22:00 today's offset
// would give. The call received at that instant is the first the new
// rules decide, before the registry's thread has caught up.
TEST_F(ScheduledRulesTest, GoesLiveAtItsInstantInItsZonesOffsetForThatDate) {
  clock_.Set(Utc(2026, 10, 20, 10, 0));
  v1::PublishRulesResponse response;
  grpc::Status s =
      Schedule(Rules("2"), "2026-11-01T00:00", "Europe/Berlin", &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const absl::Time at = Utc(2026, 10, 31, 23, 0);
  EXPECT_EQ(response.ruleset().ruleset().revision(), 2);
  EXPECT_FALSE(response.ruleset().live());
  EXPECT_EQ(response.ruleset().origin(), "scheduled");
  EXPECT_EQ(response.ruleset().activate_at().seconds(),
            absl::ToUnixSeconds(at));

  v1::GetStatusResponse status = Status();
  EXPECT_EQ(status.live().ruleset().revision(), 1);
  EXPECT_EQ(status.scheduled().ruleset().revision(), 2);
  EXPECT_EQ(status.scheduled().activate_at().seconds(),
            absl::ToUnixSeconds(at));
  EXPECT_EQ(Route("early"), std::make_pair(std::string("q1"), int64_t{1}));

  clock_.Set(at - absl::Nanoseconds(1));
  EXPECT_EQ(Route("last-of-the-old"),
            std::make_pair(std::string("q1"), int64_t{1}));
  // The registry's thread polls every 20 ms: nothing may go live early.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Status().live().ruleset().revision(), 1);

  clock_.Set(at);
  EXPECT_EQ(Route("first-of-the-new"),
            std::make_pair(std::string("q2"), int64_t{2}));
  ASSERT_TRUE(WaitLive(2));
  status = Status();
  EXPECT_FALSE(status.has_scheduled());
  EXPECT_EQ(status.live().origin(), "scheduled");
  EXPECT_EQ(status.live().activate_at().seconds(), absl::ToUnixSeconds(at));
  EXPECT_EQ(status.live().loaded_at().seconds(), absl::ToUnixSeconds(at));
  EXPECT_EQ(status.live_by(), "anonymous");
  EXPECT_EQ(Route("later"), std::make_pair(std::string("q2"), int64_t{2}));

  const std::string fp = status.live().ruleset().fingerprint();
  EXPECT_THAT(RulesAudit(3),
              ElementsAre(StartsWith("file rules.load "),
                          absl::StrCat("anonymous rules.schedule revision 2 "
                                       "fingerprint ",
                                       fp, " (r 2) at 2026-10-31T23:00:00Z"),
                          absl::StrCat("anonymous rules.activate revision 2 "
                                       "fingerprint ",
                                       fp, " (r 2)")));
}

// Across the spring change (Berlin, 28 March 2027, 02:00 CET -> 03:00
// CEST): 03:00 is 01:00 UTC; 02:30 does not exist and is read with the
// offset before the gap (03:30 CEST, 01:30 UTC). And the autumn hour that
// repeats (25 October 2026, 02:00-03:00 twice) is its first occurrence
// (CEST, 00:30 UTC). Then the spring activation itself, to the second.
TEST_F(ScheduledRulesTest, WallClockTimesAcrossDaylightSavingChanges) {
  clock_.Set(Utc(2026, 10, 20, 10, 0));
  EXPECT_EQ(ScheduledAt("2026-10-25T02:30", "Europe/Berlin"),
            Utc(2026, 10, 25, 0, 30));
  EXPECT_EQ(ScheduledAt("2026-10-25T03:30", "Europe/Berlin"),
            Utc(2026, 10, 25, 2, 30));
  EXPECT_EQ(ScheduledAt("2026-12-01T09:00:00", "America/New_York"),
            Utc(2026, 12, 1, 14, 0));
  // Cancelled before the clock passes it.
  v1::PublishRulesResponse cancelled;
  ASSERT_TRUE(Schedule("", "", "", &cancelled).ok());

  clock_.Set(Utc(2027, 3, 27, 12, 0));
  EXPECT_EQ(ScheduledAt("2027-03-28T02:30", "Europe/Berlin"),
            Utc(2027, 3, 28, 1, 30));
  EXPECT_EQ(ScheduledAt("2027-03-28T01:59:59", "Europe/Berlin"),
            Utc(2027, 3, 28, 0, 59, 59));
  const absl::Time at = ScheduledAt("2027-03-28T03:00", "Europe/Berlin");
  EXPECT_EQ(at, Utc(2027, 3, 28, 1, 0));
  // Each schedule replaced the one before: the last is revision 7.
  EXPECT_EQ(Status().scheduled().ruleset().revision(), 7);

  clock_.Set(at - absl::Seconds(1));
  EXPECT_EQ(Route("before"), std::make_pair(std::string("q1"), int64_t{1}));
  clock_.Set(at);
  EXPECT_EQ(Route("at"), std::make_pair(std::string("q2"), int64_t{7}));
  ASSERT_TRUE(WaitLive(7));
}

TEST_F(ScheduledRulesTest, ACancelledScheduleNeverGoesLive) {
  clock_.Set(Utc(2026, 11, 23, 10, 0));
  v1::PublishRulesResponse response;
  ASSERT_TRUE(Schedule(Rules("2"), "2026-11-24T00:00", "UTC", &response).ok());
  response.Clear();
  ASSERT_TRUE(Schedule("", "", "", &response).ok());  // cancel
  EXPECT_TRUE(response.ruleset().live());
  EXPECT_EQ(response.ruleset().ruleset().revision(), 1);
  EXPECT_EQ(response.diagnostics_size(), 0);
  EXPECT_FALSE(Status().has_scheduled());

  clock_.Set(Utc(2026, 11, 25, 0, 0));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Route("after"), std::make_pair(std::string("q1"), int64_t{1}));
  EXPECT_EQ(Status().live().ruleset().revision(), 1);

  // Cancelling nothing changes nothing, and says so.
  response.Clear();
  ASSERT_TRUE(Schedule("", "", "", &response).ok());
  ASSERT_EQ(response.diagnostics_size(), 1);
  EXPECT_EQ(response.diagnostics(0).code(), "scheduled");
  EXPECT_THAT(RulesAudit(3),
              ElementsAre(StartsWith("file rules.load "),
                          StartsWith("anonymous rules.schedule "),
                          "anonymous rules.unschedule "));

  // Cancelled stays cancelled across a restart.
  Restart();
  EXPECT_FALSE(Status().has_scheduled());
  clock_.Set(Utc(2026, 11, 26, 0, 0));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Route("restarted"), std::make_pair(std::string("q1"), int64_t{1}));
}

// A ruleset published at once while another is scheduled warns that the
// scheduled one will replace it; it still does, at its time, as an
// activation (its lower revision is no rollback).
TEST_F(ScheduledRulesTest, APublishMeanwhileIsWarnedAndReplacedOnTime) {
  clock_.Set(Utc(2026, 11, 23, 10, 0));
  v1::PublishRulesResponse response;
  ASSERT_TRUE(
      Schedule(Rules("2"), "", "", &response, Utc(2026, 11, 23, 12, 0)).ok());
  EXPECT_EQ(response.ruleset().ruleset().revision(), 2);

  v1::PublishRulesRequest now;
  v1::RuleFile* f = now.add_files();
  f->set_path("r.route");
  f->set_content(Rules("3"));
  v1::PublishRulesResponse published;
  grpc::ClientContext context;
  ASSERT_TRUE(rules_admin_->PublishRules(&context, now, &published).ok());
  EXPECT_EQ(published.ruleset().ruleset().revision(), 3);
  ASSERT_EQ(published.diagnostics_size(), 1);
  EXPECT_EQ(published.diagnostics(0).code(), "scheduled");
  EXPECT_THAT(published.diagnostics(0).message(),
              HasSubstr("revision 2 is scheduled to go live at "
                        "2026-11-23T12:00:00Z"));
  EXPECT_EQ(Route("hotfix"), std::make_pair(std::string("q3"), int64_t{3}));

  clock_.Set(Utc(2026, 11, 23, 12, 0));
  EXPECT_EQ(Route("on-time"), std::make_pair(std::string("q2"), int64_t{2}));
  ASSERT_TRUE(WaitLive(2));
  EXPECT_THAT(RulesAudit(4),
              ElementsAre(StartsWith("file rules.load "),
                          StartsWith("anonymous rules.schedule revision 2 "),
                          StartsWith("anonymous rules.publish revision 3 "),
                          StartsWith("anonymous rules.activate revision 2 ")));
}

// The --rules files reloaded while a schedule waits (the watcher, SIGHUP)
// carry the same warning as a publish, which LogReload writes to the
// server's log: the scheduled ruleset will replace them at its time.
TEST_F(ScheduledRulesTest, AFileReloadMeanwhileIsWarnedToo) {
  clock_.Set(Utc(2026, 11, 23, 10, 0));
  v1::PublishRulesResponse response;
  ASSERT_TRUE(
      Schedule(Rules("2"), "", "", &response, Utc(2026, 11, 23, 12, 0)).ok());
  std::ofstream(dir_ / "rules.route") << Rules("3");
  CompileOutcome reloaded =
      server_->registry().LoadPath((dir_ / "rules.route").string());
  ASSERT_TRUE(reloaded.status.ok()) << reloaded.status;
  EXPECT_EQ(reloaded.ruleset->revision, 3);
  ASSERT_EQ(reloaded.diagnostics.size(), 1u);
  EXPECT_EQ(reloaded.diagnostics[0].code, "scheduled");
  EXPECT_THAT(reloaded.diagnostics[0].message,
              HasSubstr("revision 2 is scheduled to go live at "
                        "2026-11-23T12:00:00Z"));
  // Unchanged files change nothing and warn of nothing.
  CompileOutcome again =
      server_->registry().LoadPath((dir_ / "rules.route").string());
  EXPECT_TRUE(again.unchanged);
  EXPECT_TRUE(again.diagnostics.empty());
  clock_.Set(Utc(2026, 11, 23, 12, 0));
  EXPECT_EQ(Route("on-time"), std::make_pair(std::string("q2"), int64_t{2}));
}

TEST_F(ScheduledRulesTest, BadSchedulesAreRefusedNamingTheField) {
  clock_.Set(Utc(2026, 11, 23, 10, 0));
  struct Case {
    std::string rules, local, zone;
    absl::Time at;
    grpc::StatusCode code;
    std::string says;
  };
  const absl::Time none = absl::InfinitePast();
  const std::vector<Case> cases = {
      {Rules("2"), "2026-12-01T00:00", "", none,
       grpc::StatusCode::INVALID_ARGUMENT,
       "activate.time_zone: must be given with activate.local_time"},
      {Rules("2"), "", "Europe/Berlin", none,
       grpc::StatusCode::INVALID_ARGUMENT,
       "activate.local_time: must be given with activate.time_zone"},
      {Rules("2"), "2026-12-01T00:00", "UTC", Utc(2026, 12, 1, 0, 0),
       grpc::StatusCode::INVALID_ARGUMENT,
       "activate: give `at`, or `local_time` and `time_zone`"},
      {Rules("2"), "2026-12-01T00:00", "Mars/Olympus_Mons", none,
       grpc::StatusCode::INVALID_ARGUMENT,
       "activate.time_zone: \"Mars/Olympus_Mons\" is not a time zone"},
      {Rules("2"), "2026-12-01T00:00", "../../../etc/passwd", none,
       grpc::StatusCode::INVALID_ARGUMENT, "is not a time zone"},
      {Rules("2"), "the first of December", "UTC", none,
       grpc::StatusCode::INVALID_ARGUMENT,
       "activate.local_time: \"the first of December\" is not a date"},
      {Rules("2"), "2025-12-01T00:00", "UTC", none,
       grpc::StatusCode::INVALID_ARGUMENT,
       "activate: 2025-12-01T00:00:00Z is in the past (the server's time is "
       "2026-11-23T10:00:00Z)"},
      {Rules("2"), "", "", Utc(2028, 1, 1, 0, 0),
       grpc::StatusCode::INVALID_ARGUMENT, "more than 366 days ahead"},
      {"ruleset \"r\" version \"x\"\nassign { otherwise queue nowhere }\n",
       "2026-12-01T00:00", "UTC", none, grpc::StatusCode::INVALID_ARGUMENT,
       "r.route:2:"},
  };
  for (const Case& c : cases) {
    v1::PublishRulesResponse response;
    grpc::Status s = Schedule(c.rules, c.local, c.zone, &response, c.at);
    EXPECT_EQ(s.error_code(), c.code) << c.says;
    EXPECT_THAT(s.error_message(), HasSubstr(c.says));
  }
  // Activation is one way to publish: not with shadow or promote_shadow.
  v1::PublishRulesRequest both;
  v1::RuleFile* f = both.add_files();
  f->set_path("r.route");
  f->set_content(Rules("2"));
  both.set_shadow(true);
  both.mutable_activate()->mutable_at()->set_seconds(
      absl::ToUnixSeconds(Utc(2026, 12, 1, 0, 0)));
  v1::PublishRulesResponse response;
  grpc::ClientContext context;
  grpc::Status s = rules_admin_->PublishRules(&context, both, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("set one of them at most"));
  // expected_revision is checked when scheduling.
  both.set_shadow(false);
  both.set_expected_revision(7);
  grpc::ClientContext cas;
  s = rules_admin_->PublishRules(&cas, both, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("revision 7 is not live"));

  // Nothing was scheduled by any of them.
  EXPECT_FALSE(Status().has_scheduled());
  EXPECT_EQ(Route("still"), std::make_pair(std::string("q1"), int64_t{1}));
}

// A restart serves the ruleset that was live when the server stopped, a
// published or rolled-back one too, under its revision, and numbers on
// after the highest kept; --rules files edited while it was down are the
// last change and win, as the next revision.
TEST_F(ScheduledRulesTest, ARestartServesWhatWasLiveUnlessTheFilesChanged) {
  using Routed = std::pair<std::string, int64_t>;
  v1::PublishRulesResponse response;
  ASSERT_TRUE(Publish(Rules("2"), &response).ok());
  EXPECT_EQ(Route("a"), Routed("q2", 2));
  Restart();
  EXPECT_EQ(Status().live().ruleset().revision(), 2);
  EXPECT_EQ(Status().live().published_by(), "anonymous");
  EXPECT_EQ(Status().live().origin(), "stored revision 2");
  EXPECT_EQ(Route("b"), Routed("q2", 2));

  response.Clear();
  ASSERT_TRUE(Publish(Rules("3"), &response).ok());
  EXPECT_EQ(response.ruleset().ruleset().revision(), 3);
  ASSERT_TRUE(Rollback(2).ok());
  Restart();
  EXPECT_EQ(Route("c"), Routed("q2", 2));

  // Edited while the server is down.
  server_.reset();
  std::ofstream(dir_ / "rules.route") << Rules("4");
  Start();
  EXPECT_EQ(Route("d"), Routed("q4", 4));
  EXPECT_EQ(Status().live().published_by(), "file");
  // Nothing changed: the same revision, from the files (not compiled
  // again from the store's copy).
  Restart();
  EXPECT_EQ(Route("e"), Routed("q4", 4));
  EXPECT_THAT(Status().live().origin(), StartsWith("file "));
  EXPECT_THAT(RulesAudit(8),
              ElementsAre(StartsWith("file rules.load revision 1 "),
                          StartsWith("anonymous rules.publish revision 2 "),
                          StartsWith("anonymous rules.load revision 2 "),
                          StartsWith("anonymous rules.publish revision 3 "),
                          StartsWith("anonymous rules.rollback revision 2 "),
                          StartsWith("anonymous rules.load revision 2 "),
                          StartsWith("file rules.load revision 4 "),
                          StartsWith("file rules.load revision 4 ")));
}

// A schedule outlives a restart and goes live at its instant; one whose
// instant passed while the server was down goes live as it starts, and is
// what the next restart serves.
TEST_F(ScheduledRulesTest, AScheduleOutlivesARestart) {
  using Routed = std::pair<std::string, int64_t>;
  clock_.Set(Utc(2026, 11, 23, 10, 0));
  v1::PublishRulesResponse response;
  ASSERT_TRUE(Schedule(Rules("2"), "2026-11-24T00:00", "UTC", &response).ok());
  Restart();
  v1::GetStatusResponse status = Status();
  ASSERT_TRUE(status.has_scheduled());
  EXPECT_EQ(status.scheduled().ruleset().revision(), 2);
  EXPECT_EQ(absl::FromUnixSeconds(status.scheduled().activate_at().seconds()),
            Utc(2026, 11, 24, 0, 0));
  EXPECT_EQ(Route("before"), Routed("q1", 1));
  clock_.Set(Utc(2026, 11, 24, 0, 0));
  EXPECT_EQ(Route("at"), Routed("q2", 2));
  EXPECT_TRUE(WaitLive(2));

  response.Clear();
  ASSERT_TRUE(Schedule(Rules("3"), "2026-11-25T00:00", "UTC", &response).ok());
  server_.reset();
  clock_.Set(Utc(2026, 11, 26, 0, 0));
  Start();
  EXPECT_EQ(Route("late"), Routed("q3", 3));
  EXPECT_TRUE(WaitLive(3));
  EXPECT_FALSE(Status().has_scheduled());
  Restart();
  EXPECT_EQ(Route("after"), Routed("q3", 3));
  EXPECT_FALSE(Status().has_scheduled());
  EXPECT_THAT(RulesAudit(8),
              ElementsAre(StartsWith("file rules.load revision 1 "),
                          StartsWith("anonymous rules.schedule revision 2 "),
                          StartsWith("file rules.load revision 1 "),
                          StartsWith("anonymous rules.activate revision 2 "),
                          StartsWith("anonymous rules.schedule revision 3 "),
                          StartsWith("anonymous rules.load revision 2 "),
                          StartsWith("anonymous rules.activate revision 3 "),
                          StartsWith("anonymous rules.load revision 3 ")));
}

// A stored ruleset that no longer compiles (a newer binary reading the
// language more strictly, a database edited by hand) never keeps a server
// from starting: it logs the error and serves the --rules files, numbered
// after every revision kept; a stored schedule that no longer compiles is
// not resumed.
TEST_F(ScheduledRulesTest,
       AStoredRulesetThatNoLongerCompilesGivesWayToTheFiles) {
  using Routed = std::pair<std::string, int64_t>;
  clock_.Set(Utc(2026, 11, 23, 10, 0));
  v1::PublishRulesResponse response;
  ASSERT_TRUE(Publish(Rules("2"), &response).ok());
  response.Clear();
  ASSERT_TRUE(Schedule(Rules("3"), "2026-11-24T00:00", "UTC", &response).ok());
  server_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(
      sqlite3_open(
          (dir_ / "data" / runtime::SqliteStore::kFileName).string().c_str(),
          &db),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE ruleset_files SET text = 'assign {' "
                         "WHERE revision IN (2, 3)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_changes(db), 2);
  sqlite3_close(db);

  Start();
  EXPECT_EQ(Route("a"), Routed("q1", 4));
  v1::GetStatusResponse status = Status();
  EXPECT_THAT(status.live().origin(), StartsWith("file "));
  EXPECT_FALSE(status.has_scheduled());
  clock_.Set(Utc(2026, 11, 24, 0, 0));
  EXPECT_EQ(Route("b"), Routed("q1", 4));
  // What it serves is stored and served again (the files unchanged).
  Restart();
  EXPECT_EQ(Route("c"), Routed("q1", 4));
}

}  // namespace
}  // namespace leadroute
