// Activation against the real SQLite store in a temporary folder, with a
// FakeClock: first contact and SLA status, outcomes, deadlines and
// escalation steps swept on time, business-hours clocks across time zones,
// holidays and DST, restarts with overdue leads, and the event log that
// WatchAssignments streams.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/field_error.h"
#include "compiler/compiler.h"
#include "gtest/gtest.h"
#include "runtime/assigner.h"
#include "runtime/kpi.h"
#include "runtime/kpi_facts.h"
#include "runtime/sla_clock.h"
#include "runtime/sqlite_store.h"
#include "runtime/sweeper.h"
#include "runtime/tree_policy.h"
#include "tests/runtime/state_fixture.h"

namespace leadroute::runtime {
namespace {

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

constexpr const char* kRules = R"(
ruleset "t" version "1"
schema {
  region: string default "rr"
  tier: string default "std"
  source: string
}
rep a { }
rep b { }
rep c { }
rep boss { }
rep paris {
  timezone = "Europe/Paris"
  hours = mon-fri 09:00-18:00
  holidays = ["2026-12-25"]
}
team rr { members = [a, b, c] strategy = round_robin manager = boss }
team fr { members = [paris] }
queue q

escalation std {
  at 50% notify
  at 100% reassign to next_rep else queue q
  max_hops = 1
}
escalation boss_first {
  at 75% notify manager
  at 100% reassign to manager else queue q
}
escalation tight {
  at 80% notify
  at 90% notify manager
  at 95% notify
  at 100% reassign to next_rep else queue q
}
escalation office {
  clock = business_hours
  at 50% notify
}

assign {
  rule french when region == "fr" then team fr
  otherwise team rr
}
sla {
  rule french_sla when region == "fr" then 4h
  otherwise 1h
}
escalate {
  rule office_hours when region == "fr" then office
  rule bosses when region != "fr" and tier == "boss" then boss_first
  rule standard when region != "fr" and tier == "std" then std
  rule tight when region != "fr" and tier == "tight" then tight
}
)";

class ActivationTest : public StateFixture {
 protected:
  void SetUp() override { SetUpState("activation", kRules); }

  Decision Route(const std::string& id, const std::string& region = "rr",
                 const std::string& tier = "std",
                 const std::string& source = "", bool reroute = false) {
    Lead lead{id, {{"region", Value(region)}, {"tier", Value(tier)}}};
    if (!source.empty()) lead.attributes.emplace("source", Value(source));
    DecideOptions o;
    o.received_at = clock_.Now();
    absl::StatusOr<Decision> d = Decide(lead, o);
    EXPECT_TRUE(d.ok()) << d.status();
    absl::StatusOr<uint64_t> seq =
        Assign({absl::StrCat("decision-", id), "t 1", reroute}, &*d);
    EXPECT_TRUE(seq.ok()) << seq.status();
    EXPECT_TRUE(assigner_->log().WaitDurable(*seq).ok());
    return *d;
  }
  Assignment Get(const std::string& id) {
    absl::StatusOr<Assignment> a = assigner_->Get(id);
    EXPECT_TRUE(a.ok()) << id << ": " << a.status();
    return a.value_or(Assignment{});
  }
  // Sweeps at the clock's time and waits until the result is durable.
  int Sweep() {
    const int changed = assigner_->Sweep(program(), clock_.Now());
    Flush();
    return changed;
  }
  void Flush() {
    // A rep status change is the cheapest change to wait behind.
    RepStatus a;
    a.rep = "a";
    absl::StatusOr<uint64_t> seq = assigner_->SetRepStatus(a);
    ASSERT_TRUE(seq.ok());
    ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  }
  // Kinds of the lead's events, oldest first, as stored.
  std::vector<std::string> Kinds(const std::string& id) {
    std::vector<std::string> out;
    absl::StatusOr<std::vector<LeadEvent>> events =
        assigner_->committed().EventsAfter(0, 100000);
    EXPECT_TRUE(events.ok()) << events.status();
    for (const LeadEvent& e : *events) {
      if (e.lead_id == id) out.push_back(e.kind);
    }
    return out;
  }
  std::vector<LeadEvent> Events(const std::string& id,
                                const std::string& kind) {
    std::vector<LeadEvent> out;
    absl::StatusOr<std::vector<LeadEvent>> events =
        assigner_->committed().EventsAfter(0, 100000);
    EXPECT_TRUE(events.ok()) << events.status();
    for (const LeadEvent& e : *events) {
      if (e.lead_id == id && e.kind == kind) out.push_back(e);
    }
    return out;
  }
};

using Strings = std::vector<std::string>;

TEST_F(ActivationTest, FirstContactStopsTheClockMetOrMissed) {
  const absl::Time t0 = clock_.Now();
  Decision d = Route("L1", "rr", "none");
  EXPECT_EQ(d.respond_by, t0 + absl::Hours(1));
  EXPECT_EQ(Get("L1").sla_status, SlaStatus::kPending);
  EXPECT_EQ(Get("L1").next_due, t0 + absl::Hours(1));

  clock_.Advance(absl::Minutes(40));
  absl::StatusOr<Assigner::Changed> c =
      assigner_->RecordContact("L1", "phone", std::nullopt);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(assigner_->log().WaitDurable(c->seq).ok());
  EXPECT_EQ(c->assignment.sla_status, SlaStatus::kMet);
  EXPECT_EQ(c->assignment.reached[static_cast<int>(Outcome::kContacted)],
            t0 + absl::Minutes(40));
  EXPECT_EQ(c->assignment.contact_channel, "phone");
  EXPECT_EQ(c->assignment.contacted_by, "a");
  EXPECT_EQ(c->assignment.outcome, Outcome::kContacted);
  EXPECT_FALSE(c->assignment.next_due.has_value());

  // A retry changes nothing, even with another time and channel.
  absl::StatusOr<Assigner::Changed> again =
      assigner_->RecordContact("L1", "email", t0 + absl::Minutes(50));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->assignment.contact_channel, "phone");
  EXPECT_EQ(Kinds("L1"), (Strings{"assigned", "contacted"}));

  // Contact reported after the deadline, before any sweep: missed.
  Route("L2", "rr", "none");
  clock_.Advance(absl::Minutes(90));
  c = assigner_->RecordContact("L2", "email", std::nullopt);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->assignment.sla_status, SlaStatus::kMissed);
  ASSERT_TRUE(assigner_->log().WaitDurable(c->seq).ok());
  EXPECT_EQ(Events("L2", "contacted").at(0).reason,
            "first contact by email after 1h30m; SLA missed");
}

TEST_F(ActivationTest, BadReportsAreRefusedWithTheField) {
  Route("L1", "rr", "none");
  absl::StatusOr<Assigner::Changed> c =
      assigner_->RecordContact("L1", "phone", clock_.Now() + absl::Hours(1));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(c.status()), "at");
  c = assigner_->RecordContact("L1", "phone", clock_.Now() - absl::Hours(1));
  EXPECT_EQ(ErrorField(c.status()), "at");
  EXPECT_NE(c.status().message().find("before lead \"L1\" was routed"),
            std::string::npos)
      << c.status();
  // A little clock skew is forgiven and clamped to the routing time.
  c = assigner_->RecordContact("L1", "phone", clock_.Now() - absl::Minutes(2));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->assignment.reached[1], c->assignment.routed_at);
  // Ahead by less than the skew: recorded as reported, not as now.
  Route("L3", "rr", "none");
  const absl::Time ahead = clock_.Now() + absl::Minutes(3);
  c = assigner_->RecordContact("L3", "phone", ahead);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->assignment.reached[1], ahead);

  EXPECT_EQ(assigner_->RecordContact("nope", "", std::nullopt).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      ErrorField(assigner_->RecordOutcome("L1", Outcome::kNone, std::nullopt)
                     .status()),
      "outcome");

  Route("L2", "rr", "none");
  ASSERT_TRUE(assigner_->Release("L2", "spam").ok());
  EXPECT_EQ(assigner_->RecordContact("L2", "", std::nullopt).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(ActivationTest, OutcomesAreRecordedOnceAndWonOrLostIsFinal) {
  Route("L1", "rr", "none");
  clock_.Advance(absl::Minutes(10));
  absl::StatusOr<Assigner::Changed> q =
      assigner_->RecordOutcome("L1", Outcome::kQualified, std::nullopt);
  ASSERT_TRUE(q.ok()) << q.status();
  // Qualifying implies the contact, at the same time.
  EXPECT_EQ(q->assignment.reached[static_cast<int>(Outcome::kContacted)],
            clock_.Now());
  EXPECT_EQ(q->assignment.sla_status, SlaStatus::kMet);
  EXPECT_EQ(q->assignment.outcome, Outcome::kQualified);

  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(assigner_->RecordOutcome("L1", Outcome::kQualified, std::nullopt)
                  .ok());  // a retry
  EXPECT_EQ(Get("L1").reached[static_cast<int>(Outcome::kQualified)],
            clock_.Now() - absl::Hours(1));
  absl::StatusOr<Assigner::Changed> won =
      assigner_->RecordOutcome("L1", Outcome::kWon, std::nullopt);
  ASSERT_TRUE(won.ok());
  EXPECT_EQ(won->assignment.status, LeadStatus::kClosed);
  EXPECT_EQ(won->assignment.outcome, Outcome::kWon);
  EXPECT_EQ(assigner_->RecordOutcome("L1", Outcome::kLost, std::nullopt)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(assigner_->log().WaitDurable(won->seq).ok());
  EXPECT_EQ(Kinds("L1"),
            (Strings{"assigned", "contacted", "qualified", "won"}));

  // Kept across a restart.
  Reopen();
  const Assignment a = Get("L1");
  EXPECT_EQ(a.outcome, Outcome::kWon);
  EXPECT_EQ(a.sla_status, SlaStatus::kMet);
  EXPECT_TRUE(a.reached[static_cast<int>(Outcome::kQualified)].has_value());
  EXPECT_FALSE(a.reached[static_cast<int>(Outcome::kOpportunity)].has_value());
}

TEST_F(ActivationTest, StepsRunOnTimeAndReassignToTheNextRep) {
  const absl::Time t0 = clock_.Now();
  EXPECT_EQ(Route("L1").owner, "a");
  EXPECT_EQ(Get("L1").escalation, "std");
  EXPECT_EQ(Get("L1").next_due, t0 + absl::Minutes(30));

  clock_.Set(t0 + absl::Minutes(29));
  EXPECT_EQ(Sweep(), 0);
  clock_.Set(t0 + absl::Minutes(30));
  EXPECT_EQ(Sweep(), 1);
  EXPECT_EQ(Kinds("L1"), (Strings{"assigned", "sla_warning"}));
  EXPECT_EQ(Events("L1", "sla_warning")[0].to, "a");
  EXPECT_EQ(Get("L1").next_due, t0 + absl::Hours(1));

  // At the deadline: missed, and moved to the next rep of the team.
  clock_.Set(t0 + absl::Hours(1));
  EXPECT_EQ(Sweep(), 1);
  Assignment a = Get("L1");
  EXPECT_EQ(a.owner, "b");
  EXPECT_EQ(a.team, "rr");
  EXPECT_EQ(a.sla_status, SlaStatus::kMissed);
  EXPECT_EQ(a.hops, 1);
  EXPECT_EQ(a.had_by, Strings{"a"});
  EXPECT_EQ(a.respond_by, t0 + absl::Hours(2));  // b's own hour
  EXPECT_EQ(Kinds("L1"),
            (Strings{"assigned", "sla_warning", "sla_missed", "escalated"}));
  const LeadEvent moved = Events("L1", "escalated").at(0);
  EXPECT_EQ(moved.from, "a");
  EXPECT_EQ(moved.to, "b");
  EXPECT_EQ(moved.reason,
            "std: at 100% reassign to next_rep else queue q (no first "
            "contact after 100% of the 1h SLA); passed over: team rr: a had "
            "it already");

  EXPECT_EQ(a.missed_by, Strings{"a"});
  EXPECT_EQ(a.clock_status, SlaStatus::kPending);  // b's clock runs

  // b's clock: warned at 50%, missed by b too, then max_hops stops a
  // second move.
  clock_.Set(t0 + absl::Hours(2));
  EXPECT_EQ(Sweep(), 1);
  EXPECT_EQ(Get("L1").owner, "b");
  EXPECT_EQ(Kinds("L1"),
            (Strings{"assigned", "sla_warning", "sla_missed", "escalated",
                     "sla_warning", "sla_missed", "escalation_failed"}));
  EXPECT_EQ(Events("L1", "sla_missed").at(1).to, "b");
  EXPECT_EQ(Get("L1").missed_by, (Strings{"a", "b"}));
  EXPECT_NE(Events("L1", "escalation_failed")[0].reason.find("at most 1 hops"),
            std::string::npos);
  EXPECT_FALSE(Get("L1").next_due.has_value());
  clock_.Advance(absl::Hours(5));
  EXPECT_EQ(Sweep(), 0);
}

TEST_F(ActivationTest, StepsCloseTogetherEachFireAtTheirOwnTime) {
  // 1h SLA; steps at 48, 54, 57 and 60 minutes. A sweep at one step's time
  // runs that step only, never the next one early.
  const absl::Time t0 = clock_.Now();
  EXPECT_EQ(Route("L1", "rr", "tight").owner, "a");
  const std::pair<int, Strings> steps[] = {
      {48, {"assigned", "sla_warning"}},
      {54, {"assigned", "sla_warning", "sla_warning"}},
      {57, {"assigned", "sla_warning", "sla_warning", "sla_warning"}},
      {60,
       {"assigned", "sla_warning", "sla_warning", "sla_warning", "sla_missed",
        "escalated"}},
  };
  for (const auto& [minute, kinds] : steps) {
    clock_.Set(t0 + absl::Minutes(minute) - absl::Seconds(1));
    EXPECT_EQ(Sweep(), 0) << minute;
    EXPECT_EQ(Get("L1").owner, "a") << minute;
    EXPECT_EQ(Get("L1").next_due, t0 + absl::Minutes(minute)) << minute;
    clock_.Set(t0 + absl::Minutes(minute));
    EXPECT_EQ(Sweep(), 1) << minute;
    EXPECT_EQ(Kinds("L1"), kinds) << minute;
  }
  EXPECT_EQ(Events("L1", "sla_warning")[1].to, "boss");
  EXPECT_EQ(Get("L1").owner, "b");
  EXPECT_EQ(Get("L1").sla_status, SlaStatus::kMissed);
}

TEST_F(ActivationTest, OnlyDeclaredAttributesReachRepSelection) {
  // The schema declares `source` but not `email`: the compiler binds the
  // one to a slot, and an email sent anyway makes no repeats.
  EXPECT_EQ(program().email_slot, -1);
  EXPECT_EQ(program().attributes.at(program().source_slot).name, "source");
  std::vector<std::string> owners;
  for (const char* id : {"E1", "E2"}) {
    Lead lead{id,
              {{"region", Value("rr")},
               {"email", Value("same@example.com")},
               {"source", Value("web")}}};
    DecideOptions o;
    o.received_at = clock_.Now();
    absl::StatusOr<Decision> d = Decide(lead, o);
    ASSERT_TRUE(d.ok()) << d.status();
    absl::StatusOr<uint64_t> seq = Assign({id, "t 1", false}, &*d);
    ASSERT_TRUE(seq.ok());
    ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
    EXPECT_EQ(d->repeat_of, "");
    owners.push_back(d->owner);
  }
  EXPECT_EQ(owners, (Strings{"a", "b"}));
  EXPECT_EQ(Get("E2").source, "web");
  EXPECT_EQ(Get("E2").email_key, "");
}

TEST_F(ActivationTest, ContactBeforeTheDeadlineStopsTheEscalation) {
  Route("L1");
  clock_.Advance(absl::Minutes(45));
  EXPECT_EQ(Sweep(), 1);  // the 50% warning
  ASSERT_TRUE(assigner_->RecordContact("L1", "phone", std::nullopt).ok());
  clock_.Advance(absl::Hours(3));
  EXPECT_EQ(Sweep(), 0);
  EXPECT_EQ(Get("L1").owner, "a");
  EXPECT_EQ(Get("L1").sla_status, SlaStatus::kMet);
}

TEST_F(ActivationTest, NextRepSkipsRepsWhoHadItAndFallsBackToTheQueue) {
  const absl::Time t0 = clock_.Now();
  Route("L1");  // a
  // The rest of the team is away: the queue takes it.
  ASSERT_TRUE(assigner_
                  ->SetRepStatus({"b", Availability::kAway, std::nullopt,
                                  "sick", absl::Time()})
                  .ok());
  ASSERT_TRUE(assigner_
                  ->SetRepStatus({"c", Availability::kAway, std::nullopt,
                                  "trip", absl::Time()})
                  .ok());
  clock_.Set(t0 + absl::Hours(1));
  Sweep();
  const Assignment a = Get("L1");
  EXPECT_EQ(a.owner, "q");
  EXPECT_EQ(a.owner_kind, OwnerKind::kQueue);
  EXPECT_EQ(a.team, "");
  EXPECT_EQ(Events("L1", "escalated").at(0).reason,
            "std: at 100% reassign to next_rep else queue q (no first contact "
            "after 100% of the 1h SLA); passed over: team rr: a had it "
            "already; team rr: b away; team rr: c away");
}

TEST_F(ActivationTest, ManagerIsNotifiedThenTakesTheLead) {
  const absl::Time t0 = clock_.Now();
  Route("L1", "rr", "boss");
  clock_.Set(t0 + absl::Minutes(45));
  Sweep();
  EXPECT_EQ(Events("L1", "sla_warning").at(0).to, "boss");
  clock_.Set(t0 + absl::Hours(1));
  Sweep();
  EXPECT_EQ(Get("L1").owner, "boss");
  // The manager takes the lead as a rep of no team.
  EXPECT_EQ(Get("L1").team, "");
  EXPECT_EQ(Get("L1").hops, 1);
  EXPECT_EQ(Get("L1").had_by, Strings{"a"});
}

TEST_F(ActivationTest, BusinessHoursClockCountsOnlyTheOwnersWorkingTime) {
  // Friday 16:00 in Paris (15:00 UTC): 2h of the 4h SLA today, the rest on
  // Monday from 09:00.
  clock_.Set(At("2026-11-27T15:00:00Z"));
  Decision d = Route("L1", "fr");
  EXPECT_EQ(d.owner, "paris");
  EXPECT_EQ(d.respond_by, At("2026-11-30T10:00:00Z"));  // Mon 11:00 Paris
  // The 50% warning falls at the end of Friday.
  EXPECT_EQ(Get("L1").next_due, At("2026-11-27T17:00:00Z"));
  clock_.Set(At("2026-11-27T17:00:00Z"));
  EXPECT_EQ(Sweep(), 1);
  EXPECT_EQ(Get("L1").next_due, At("2026-11-30T10:00:00Z"));
  clock_.Set(At("2026-11-29T12:00:00Z"));  // Sunday: nothing is due
  EXPECT_EQ(Sweep(), 0);
  EXPECT_EQ(Get("L1").sla_status, SlaStatus::kPending);
}

TEST(WorkingDeadlineTest, SkipsNightsWeekendsHolidaysAndFollowsDst) {
  Rep rep;
  ASSERT_TRUE(absl::LoadTimeZone("America/New_York", &rep.timezone));
  // Mon-Fri 09:00-17:00: minutes of the week.
  for (int day = 0; day < 5; ++day) {
    rep.hours.push_back({day * 1440 + 9 * 60, day * 1440 + 17 * 60});
  }
  // Within the day.
  EXPECT_EQ(WorkingDeadline(rep, At("2026-11-23T14:00:00Z"), absl::Hours(2)),
            At("2026-11-23T16:00:00Z"));  // Mon 09:00 -> 11:00 EST
  // Before hours: starts at 09:00.
  EXPECT_EQ(WorkingDeadline(rep, At("2026-11-23T10:00:00Z"), absl::Hours(1)),
            At("2026-11-23T15:00:00Z"));
  // Across the night.
  EXPECT_EQ(WorkingDeadline(rep, At("2026-11-23T21:00:00Z"), absl::Hours(2)),
            At("2026-11-24T15:00:00Z"));  // Mon 16:00 +1h, Tue 09:00 +1h
  // Across a weekend and a holiday on Monday.
  rep.holidays.push_back(
      {absl::CivilDay(2026, 11, 30), absl::CivilDay(2026, 11, 30)});
  EXPECT_EQ(WorkingDeadline(rep, At("2026-11-27T21:00:00Z"), absl::Hours(2)),
            At("2026-12-01T15:00:00Z"));  // Fri 16:00 +1h, Tue 09:00 +1h
  // DST: Friday 2026-03-06 16:00 EST, Monday 03-09 is EDT (UTC-4).
  rep.holidays.clear();
  EXPECT_EQ(WorkingDeadline(rep, At("2026-03-06T21:00:00Z"), absl::Hours(2)),
            At("2026-03-09T14:00:00Z"));  // Mon 10:00 EDT
  // No hours: wall clock. Never working: wall clock, not forever.
  Rep always;
  EXPECT_EQ(WorkingDeadline(always, At("2026-11-23T14:00:00Z"), absl::Hours(5)),
            At("2026-11-23T19:00:00Z"));
  rep.holidays.push_back(
      {absl::CivilDay(2026, 1, 1), absl::CivilDay(2028, 1, 1)});
  EXPECT_EQ(WorkingDeadline(rep, At("2026-11-23T14:00:00Z"), absl::Hours(5)),
            At("2026-11-23T19:00:00Z"));
}

TEST_F(ActivationTest, OverdueLeadsAreHandledAfterARestartExactlyOnce) {
  const absl::Time t0 = clock_.Now();
  Route("L1");
  Route("L2");
  // The server is down through both deadlines.
  assigner_.reset();
  clock_.Set(t0 + absl::Hours(1) + absl::Minutes(5));
  Open();
  EXPECT_EQ(Sweep(), 2);
  EXPECT_EQ(Get("L1").owner, "c");  // a and b had the two leads
  EXPECT_EQ(Kinds("L1"),
            (Strings{"assigned", "sla_warning", "sla_missed", "escalated"}));
  // Restart again: nothing is done twice.
  Reopen();
  EXPECT_EQ(Sweep(), 0);
  EXPECT_EQ(Kinds("L1"),
            (Strings{"assigned", "sla_warning", "sla_missed", "escalated"}));
  EXPECT_EQ(Get("L1").hops, 1);
  EXPECT_EQ(Get("L1").respond_by, t0 + absl::Hours(2) + absl::Minutes(5));
}

TEST_F(ActivationTest, OnlyTheNextDeadlinesAreHeldInMemory) {
  options_.due_ahead = absl::Minutes(10);
  Reopen();
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 20; ++i) Route(absl::StrCat("L", i));
  // Their first step is at 30 min: in the store alone.
  EXPECT_EQ(Sweep(), 0);
  EXPECT_EQ(assigner_->DueInMemory(), 0u);
  // The sweeper comes back when it is time to read on.
  EXPECT_EQ(assigner_->NextDue(), t0 + absl::Minutes(5));
  clock_.Set(t0 + absl::Minutes(21));
  EXPECT_EQ(Sweep(), 0);
  EXPECT_EQ(assigner_->DueInMemory(), 20u);
  EXPECT_EQ(assigner_->NextDue(), t0 + absl::Minutes(26));
  clock_.Set(t0 + absl::Minutes(30));
  EXPECT_EQ(Sweep(), 20);  // the 50% warnings
  // Re-armed for the 1 h deadline, beyond what memory holds.
  EXPECT_EQ(assigner_->DueInMemory(), 0u);
  clock_.Set(t0 + absl::Minutes(60));
  EXPECT_EQ(Sweep(), 20);
  EXPECT_EQ(Sweep(), 0);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Kinds(absl::StrCat("L", i)),
              (Strings{"assigned", "sla_warning", "sla_missed", "escalated"}))
        << i;
  }
}

// A deadline with nanoseconds (a real clock's), read back from the store,
// which keeps microseconds, is still the lead's in memory: it is swept.
// (The chaos test of replicas found leads that never were.)
TEST_F(ActivationTest, ADeadlineReadBackFromTheStoreMatchesTheLeadInMemory) {
  options_.due_ahead = absl::Minutes(10);
  Reopen();
  clock_.Set(clock_.Now() + absl::Nanoseconds(123456789));
  const absl::Time t0 = clock_.Now();
  Route("L1");
  // Its first step is at 30 min: in the store alone, until read back.
  EXPECT_EQ(assigner_->DueInMemory(), 0u);
  clock_.Set(t0 + absl::Minutes(21));
  EXPECT_EQ(Sweep(), 0);
  EXPECT_EQ(assigner_->DueInMemory(), 1u);
  clock_.Set(t0 + absl::Minutes(30));
  EXPECT_EQ(Sweep(), 1);
  EXPECT_EQ(Kinds("L1"), (Strings{"assigned", "sla_warning"}));
}

TEST_F(ActivationTest, ALeadArmedWhileItsCommitIsHeldIsStillSwept) {
  // The lead is armed beyond what memory holds, and its commit is not in
  // the store when the sweep reads what comes due: it is filed from the
  // working set.
  options_.due_ahead = absl::Minutes(10);
  held_ = std::make_shared<HeldStore::Control>();
  Reopen();
  const absl::Time t0 = clock_.Now();
  EXPECT_EQ(Sweep(), 0);
  held_->Hold();
  Lead lead{"L", {{"region", Value("rr")}, {"tier", Value("std")}}};
  DecideOptions o;
  o.received_at = t0;
  absl::StatusOr<Decision> d = Decide(lead, o);
  ASSERT_TRUE(d.ok()) << d.status();
  absl::StatusOr<uint64_t> seq = Assign({"decision-L", "t 1", false}, &*d);
  ASSERT_TRUE(seq.ok()) << seq.status();
  ASSERT_TRUE(held_->WaitHeld());
  clock_.Set(t0 + absl::Minutes(25));
  EXPECT_EQ(assigner_->Sweep(program(), clock_.Now()), 0);
  EXPECT_EQ(assigner_->DueInMemory(), 1u);
  held_->Release();
  ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  clock_.Set(t0 + absl::Minutes(30));
  EXPECT_EQ(Sweep(), 1);
  EXPECT_EQ(Kinds("L"), (Strings{"assigned", "sla_warning"}));
}

TEST_F(ActivationTest, ABacklogOfDeadlinesIsReadABatchAtATime) {
  options_.due_ahead = absl::Minutes(10);
  options_.due_batch = 7;
  Reopen();
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 30; ++i) Route(absl::StrCat("L", i));
  // Down through every deadline.
  assigner_.reset();
  clock_.Set(t0 + absl::Hours(2));
  Open();
  EXPECT_EQ(assigner_->DueInMemory(), 0u);
  int swept = 0, sweeps = 0;
  while (assigner_->NextDue() <= clock_.Now() && sweeps < 100) {
    const int changed = Sweep();
    EXPECT_LE(changed, 7);
    EXPECT_LE(assigner_->DueInMemory(), 7u);
    swept += changed;
    ++sweeps;
  }
  EXPECT_EQ(swept, 30);
  EXPECT_GE(sweeps, 5);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(Kinds(absl::StrCat("L", i)),
              (Strings{"assigned", "sla_warning", "sla_missed", "escalated"}))
        << i;
  }
}

TEST_F(ActivationTest, EventsHaveIncreasingIdsAndReachSubscribersOnce) {
  std::mutex mu;
  std::vector<uint64_t> seen;
  const uint64_t handle = assigner_->log().Subscribe(
      [&](const std::shared_ptr<const CommitLog::EventBatch>& b) {
        std::lock_guard<std::mutex> lock(mu);
        for (const LeadEvent& e : b->events) seen.push_back(e.id);
      });
  for (int i = 0; i < 20; ++i) Route(absl::StrCat("L", i));
  // Subscribers hear of a commit just after its caller is answered.
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (seen.size() >= 20) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  assigner_->log().Unsubscribe(handle);
  Route("after");
  absl::StatusOr<std::vector<LeadEvent>> stored =
      assigner_->committed().EventsAfter(0, 1000);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 21u);
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(seen.size(), 20u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i], (*stored)[i].id);
    if (i > 0) {
      EXPECT_GT(seen[i], seen[i - 1]);
    }
  }
  // Paged reads resume after the last id.
  absl::StatusOr<std::vector<LeadEvent>> page =
      assigner_->committed().EventsAfter((*stored)[9].id, 5);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 5u);
  EXPECT_EQ((*page)[0].id, (*stored)[10].id);
  // Ids keep increasing across a restart.
  Reopen();
  Route("later");
  stored = assigner_->committed().EventsAfter((*stored)[20].id, 10);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].lead_id, "later");
  EXPECT_EQ((*stored)[0].sla, absl::Hours(1));
  EXPECT_EQ((*stored)[0].owner_kind, OwnerKind::kRep);
  EXPECT_EQ((*stored)[0].team, "rr");
}

TEST_F(ActivationTest, StatsComeFromTheStoredLeadsWithSourceAndRules) {
  const absl::Time t0 = clock_.Now();
  for (const auto& [id, source] :
       std::vector<std::pair<std::string, std::string>>{
           {"L1", "demo_request"}, {"L2", "ebook"}, {"L3", "demo_request"}}) {
    Lead lead{id,
              {{"region", Value("rr")},
               {"tier", Value("std")},
               {"source", Value(source)}}};
    DecideOptions o;
    o.received_at = clock_.Now();
    absl::StatusOr<Decision> d = Decide(lead, o);
    ASSERT_TRUE(d.ok());
    AssignInput input;
    input.decision_id = id;
    input.ruleset = "t 1";
    absl::StatusOr<uint64_t> seq = Assign(input, &*d);
    ASSERT_TRUE(seq.ok());
    ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  }
  EXPECT_EQ(Get("L1").source, "demo_request");
  EXPECT_EQ(Get("L1").rules,
            "assign/otherwise;sla/otherwise;escalate/standard");
  clock_.Advance(absl::Minutes(10));
  ASSERT_TRUE(assigner_->RecordContact("L1", "phone", std::nullopt).ok());
  ASSERT_TRUE(
      assigner_->RecordOutcome("L1", Outcome::kQualified, std::nullopt).ok());
  clock_.Advance(absl::Minutes(60));
  Sweep();  // L2 and L3 miss their hour
  ASSERT_TRUE(assigner_->RecordContact("L2", "email", std::nullopt).ok());
  Flush();

  absl::StatusOr<KpiReport> by_source =
      KpisOf(assigner_->committed(), KpiDimension::kSource, t0, clock_.Now());
  ASSERT_TRUE(by_source.ok()) << by_source.status();
  EXPECT_EQ(by_source->total.routed, 3);
  EXPECT_EQ(by_source->total.contacted, 2);
  EXPECT_EQ(by_source->total.avg_first_response,
            (absl::Minutes(10) + absl::Minutes(70)) / 2);
  EXPECT_EQ(by_source->total.sla_met, 1);
  EXPECT_EQ(by_source->total.sla_missed, 2);
  EXPECT_EQ(by_source->total.sql, 1);
  ASSERT_EQ(by_source->rows.size(), 2u);
  EXPECT_EQ(by_source->rows[0].key, "demo_request");
  EXPECT_EQ(by_source->rows[0].routed, 2);
  EXPECT_DOUBLE_EQ(*by_source->rows[0].lead_to_sql, 0.5);
  EXPECT_EQ(by_source->rows[1].key, "ebook");
  EXPECT_DOUBLE_EQ(*by_source->rows[1].sla_met_rate, 0.0);
  // Round robin gave a, b, c one each; the escalation then moved L2 and L3
  // on in the rotation (to a, then b), and a lead counts for its owner
  // now: a has two.
  EXPECT_EQ(Get("L1").owner, "a");
  EXPECT_EQ(Get("L2").owner, "a");
  EXPECT_EQ(Get("L3").owner, "b");
  absl::StatusOr<KpiReport> by_team =
      KpisOf(assigner_->committed(), KpiDimension::kTeam, t0, clock_.Now());
  ASSERT_TRUE(by_team.ok());
  ASSERT_EQ(by_team->rows.size(), 1u);
  EXPECT_EQ(by_team->rows[0].key, "rr");
  EXPECT_EQ(by_team->rows[0].reps, 2);
  EXPECT_DOUBLE_EQ(*by_team->rows[0].fairness, 9.0 / 10);
  // The window is on routing time.
  absl::StatusOr<KpiReport> before = KpisOf(
      assigner_->committed(), KpiDimension::kTotal, t0 - absl::Hours(1), t0);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->total.routed, 0);
}

TEST_F(ActivationTest, RetentionDeletesOldEventsAndRemembersHowFar) {
  Route("old1");
  Route("old2");
  const uint64_t old_first = Events("old1", "assigned").at(0).id;
  const uint64_t old_last = Events("old2", "assigned").at(0).id;
  clock_.Advance(absl::Hours(48));
  Route("new");
  // A bounded batch: one event per prune.
  absl::StatusOr<uint64_t> seq = assigner_->log().AppendIfUsable(
      EventPrune{clock_.Now() - absl::Hours(24), 1});
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  EXPECT_EQ(Kinds("old1"), Strings{});
  EXPECT_EQ(Kinds("old2"), Strings{"assigned"});
  EXPECT_EQ(*assigner_->committed().PrunedThrough(), old_first);
  seq = assigner_->log().AppendIfUsable(
      EventPrune{clock_.Now() - absl::Hours(24), 1000});
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  EXPECT_EQ(Kinds("old2"), Strings{});
  EXPECT_EQ(Kinds("new"), Strings{"assigned"});
  EXPECT_EQ(*assigner_->committed().PrunedThrough(), old_last);
  // The assignments stay; only their history goes.
  EXPECT_EQ(Get("old1").owner, "a");
  // A restart keeps how far events were pruned, and ids keep increasing
  // even when every event was pruned.
  seq = assigner_->log().AppendIfUsable(
      EventPrune{clock_.Now() + absl::Hours(1), 1000});
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  const uint64_t last = *assigner_->committed().PrunedThrough();
  EXPECT_GT(last, old_last);
  Reopen();
  EXPECT_EQ(*assigner_->committed().PrunedThrough(), last);
  Route("after");
  EXPECT_GT(Events("after", "assigned").at(0).id, last);
}

// The sweeper prunes again at its next tick while a prune comes back full,
// so a backlog goes at once, not a batch a minute; it keeps the events a
// consumer (the webhook) has not read, up to a bound.
TEST_F(ActivationTest, TheSweeperKeepsUpAndKeepsWhatAConsumerHasNotRead) {
  for (int i = 0; i < 30; ++i) Route(absl::StrCat("k", i));
  const uint64_t delivered = Events("k19", "assigned").at(0).id;
  clock_.Advance(absl::Hours(48));
  Route("new");
  std::atomic<uint64_t> consumer{delivered};
  auto pruned_through = [&](uint64_t want) {
    for (int i = 0; i < 1000; ++i) {
      if (assigner_->committed().PrunedThrough().value_or(0) >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return assigner_->committed().PrunedThrough().value_or(0);
  };
  {
    Sweeper sweeper(
        assigner_.get(), &clock_, [] { return nullptr; },
        SweeperOptions{.interval = absl::Milliseconds(5),
                       .event_retention = absl::Hours(24),
                       .prune_every = absl::Hours(1),
                       .prune_batch = 5,
                       .keep_after = [&]() -> std::optional<uint64_t> {
                         return consumer.load();
                       },
                       .max_kept_for_consumer = 1000});
    // Batches of 5, and the clock stands still: only the full batches'
    // follow-ups get this far.
    EXPECT_EQ(pruned_through(delivered), delivered);
    EXPECT_EQ(Kinds("k19"), Strings{});
    EXPECT_EQ(Kinds("k20"), Strings{"assigned"});
    EXPECT_EQ(Kinds("new"), Strings{"assigned"});
  }
  // Past the bound, age wins: the consumer is left to report the gap.
  Sweeper sweeper(
      assigner_.get(), &clock_, [] { return nullptr; },
      SweeperOptions{.interval = absl::Milliseconds(5),
                     .event_retention = absl::Hours(24),
                     .prune_batch = 5,
                     .keep_after = [&]() -> std::optional<uint64_t> {
                       return consumer.load();
                     },
                     .max_kept_for_consumer = 3});
  const uint64_t last_old = Events("k29", "assigned").at(0).id;
  EXPECT_GE(pruned_through(last_old), last_old);
  EXPECT_EQ(Kinds("k29"), Strings{});
  EXPECT_EQ(Kinds("new"), Strings{"assigned"});
}

TEST_F(ActivationTest, CursorsSurviveARestart) {
  auto value = [&](const std::string& name) {
    absl::StatusOr<std::optional<uint64_t>> v =
        assigner_->committed().CursorValue(name);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.value_or(std::nullopt);
  };
  EXPECT_EQ(value("hook"), std::nullopt);
  ASSERT_TRUE(assigner_->log().AppendIfUsable(Cursor{"hook", 41}).ok());
  absl::StatusOr<uint64_t> seq =
      assigner_->log().AppendIfUsable(Cursor{"hook", 42});
  ASSERT_TRUE(seq.ok());
  ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  EXPECT_EQ(value("hook"), 42u);
  Reopen();
  EXPECT_EQ(value("hook"), 42u);
  EXPECT_EQ(value("other"), std::nullopt);
}

TEST_F(ActivationTest, AManualReassignAfterABreachGivesTheNewOwnerADeadline) {
  Route("L1", "rr", "none");  // no escalation policy
  clock_.Advance(absl::Hours(2));
  Sweep();
  EXPECT_EQ(Get("L1").sla_status, SlaStatus::kMissed);
  absl::StatusOr<Assigner::Changed> moved = assigner_->Reassign(
      program(), "L1", {OwnerKind::kRep, "c", 2, {}}, "manager's call");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->assignment.owner, "c");
  EXPECT_EQ(moved->assignment.respond_by, clock_.Now() + absl::Hours(1));
  EXPECT_EQ(moved->assignment.sla_status, SlaStatus::kMissed);
  ASSERT_TRUE(assigner_->log().WaitDurable(moved->seq).ok());
  EXPECT_EQ(Events("L1", "reassigned").at(0).respond_by,
            clock_.Now() + absl::Hours(1));
  // With a policy, its steps start over for the new owner.
  Route("L2");
  clock_.Advance(absl::Hours(2));
  Sweep();
  moved =
      assigner_->Reassign(program(), "L2", {OwnerKind::kRep, "c", 2, {}}, "");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->assignment.escalation_step, 0);
  EXPECT_EQ(moved->assignment.next_due, clock_.Now() + absl::Minutes(30));
  // A contacted lead keeps its stopped clock.
  ASSERT_TRUE(assigner_->RecordContact("L2", "phone", std::nullopt).ok());
  const std::optional<absl::Time> respond_by = Get("L2").respond_by;
  clock_.Advance(absl::Minutes(5));
  moved =
      assigner_->Reassign(program(), "L2", {OwnerKind::kRep, "a", 0, {}}, "");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->assignment.respond_by, respond_by);
  EXPECT_FALSE(moved->assignment.next_due.has_value());
}

// Every KPI row of `r`, every field, one line per row.
std::string Dump(const KpiReport& r) {
  auto d = [](const std::optional<absl::Duration>& x) {
    return x ? absl::FormatDuration(*x) : std::string("-");
  };
  auto f = [](const std::optional<double>& x) {
    return x ? absl::StrCat(*x) : std::string("-");
  };
  std::string out;
  std::vector<KpiRow> rows = r.rows;
  rows.insert(rows.begin(), r.total);
  for (const KpiRow& row : rows) {
    absl::StrAppend(
        &out, row.key, " routed=", row.routed, " to_rep=", row.to_rep,
        " queued=", row.queued, " unassigned=", row.unassigned,
        " contacted=", row.contacted, " avg=", d(row.avg_first_response),
        " p50=", d(row.p50_first_response), " p90=", d(row.p90_first_response),
        " met=", row.sla_met, " missed=", row.sla_missed,
        " pending=", row.sla_pending, " sql=", row.sql,
        " opp=", row.opportunities, " won=", row.won, " lost=", row.lost,
        " moved=", row.reassigned_to, "/", row.reassigned_away,
        " share=", row.share, " reps=", row.reps, " fair=", f(row.fairness),
        "\n");
  }
  return out;
}

class KpiFactsTest : public ActivationTest {
 protected:
  void Commit(StateChange change) {
    absl::StatusOr<uint64_t> seq =
        assigner_->log().AppendIfUsable(std::move(change));
    ASSERT_TRUE(seq.ok()) << seq.status();
    ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  }
  // The facts read every dimension as the store's scan does, over [from,
  // to), after a refresh.
  void ExpectSameAsTheStore(absl::Time from, absl::Time to) {
    ASSERT_TRUE(facts_.Refresh(assigner_->committed(), clock_.Now()).ok());
    ASSERT_TRUE(facts_.Covers(from));
    for (KpiDimension by :
         {KpiDimension::kTotal, KpiDimension::kTeam, KpiDimension::kRep,
          KpiDimension::kRule, KpiDimension::kSource, KpiDimension::kRuleset,
          KpiDimension::kHour}) {
      KpiBuilder from_store(by, from, to), from_facts(by, from, to);
      ASSERT_TRUE(KpisOf(ScanOf(assigner_->committed()), {&from_store}).ok());
      ASSERT_TRUE(KpisOf(facts_.AsScan(), {&from_facts}).ok());
      EXPECT_EQ(Dump(from_facts.Finish()), Dump(from_store.Finish()))
          << KpiDimensionName(by);
    }
    // The leads themselves, in routing-time order, with what the
    // dashboard's list of open leads reads.
    auto leads = [&](const KpiScan& scan) {
      std::string out;
      EXPECT_TRUE(scan(from, to, [&](const KpiLead& l) {
                    absl::StrAppend(
                        &out, l.lead_id, " ", l.owner, " ", l.priority, " ",
                        l.escalation, "#", l.escalation_step, " ",
                        l.respond_by ? absl::FormatTime(*l.respond_by) : "-",
                        "\n");
                  }).ok());
      return out;
    };
    EXPECT_EQ(leads(facts_.AsScan()), leads(ScanOf(assigner_->committed())));
  }

  KpiFacts facts_{absl::Hours(24 * 30)};
};

TEST_F(KpiFactsTest, FollowTheStoreAndCountAsItsScanDoes) {
  const absl::Time t0 = clock_.Now();
  const char* sources[] = {"web", "ebook", ""};
  const char* tiers[] = {"std", "boss", "tight", "none"};
  for (int i = 0; i < 24; ++i) {
    Route(absl::StrCat("L", i), i % 5 == 0 ? "fr" : "rr", tiers[i % 4],
          sources[i % 3]);
    clock_.Advance(absl::Minutes(7));
  }
  ExpectSameAsTheStore(t0, clock_.Now());
  EXPECT_EQ(facts_.loads(), 1);
  EXPECT_EQ(facts_.size(), 24u);
  EXPECT_EQ(facts_.rereads(), 0);

  // Contacts, outcomes, escalations, a manual move, a release, a reroute.
  for (int i = 0; i < 24; i += 3) {
    ASSERT_TRUE(
        assigner_->RecordContact(absl::StrCat("L", i), "phone", std::nullopt)
            .ok());
  }
  ASSERT_TRUE(
      assigner_->RecordOutcome("L3", Outcome::kOpportunity, std::nullopt).ok());
  ASSERT_TRUE(assigner_->RecordOutcome("L6", Outcome::kWon, std::nullopt).ok());
  ASSERT_TRUE(
      assigner_->RecordOutcome("L9", Outcome::kQualified, std::nullopt).ok());
  ASSERT_TRUE(
      assigner_->RecordOutcome("L12", Outcome::kLost, std::nullopt).ok());
  clock_.Advance(absl::Minutes(50));
  EXPECT_GT(Sweep(), 0);
  ASSERT_TRUE(
      assigner_
          ->Reassign(program(), "L1", {OwnerKind::kRep, "c", 2, {}}, "by hand")
          .ok());
  ASSERT_TRUE(assigner_->Release("L2", "gone").ok());
  clock_.Advance(absl::Minutes(3));
  Route("L4", "rr", "std", "web", /*reroute=*/true);
  Flush();
  ExpectSameAsTheStore(t0, clock_.Now());
  EXPECT_EQ(facts_.loads(), 1) << "followed, not loaded again";
  EXPECT_GT(facts_.rereads(), 8);
  EXPECT_EQ(facts_.size(), 24u);

  // Windows inside the facts read the same too.
  ExpectSameAsTheStore(t0 + absl::Minutes(30), t0 + absl::Minutes(90));

  // Leads deleted by retention: the facts load again.
  ASSERT_TRUE(assigner_->Close("L5", "done").ok());
  Flush();
  clock_.Advance(absl::Minutes(1));
  Commit(AssignmentPrune{clock_.Now(), 1000});
  ExpectSameAsTheStore(t0, clock_.Now());
  EXPECT_EQ(facts_.loads(), 2);
  EXPECT_LT(facts_.size(), 24u);

  // Events pruned past where the facts stand: loaded again, and nothing
  // changed meanwhile is missed.
  ASSERT_TRUE(assigner_->RecordContact("L7", "email", std::nullopt).ok());
  Flush();
  Commit(EventPrune{clock_.Now() + absl::Seconds(1), 100000});
  ExpectSameAsTheStore(t0, clock_.Now());
  EXPECT_EQ(facts_.loads(), 3);

  // Time passes: leads routed before the span are dropped, and a window
  // reaching before it is not covered.
  clock_.Advance(absl::Hours(24 * 30) - absl::Minutes(60));
  Route("late", "rr", "std", "web");
  ASSERT_TRUE(facts_.Refresh(assigner_->committed(), clock_.Now()).ok());
  EXPECT_FALSE(facts_.Covers(t0 + absl::Hours(2)));
  EXPECT_TRUE(facts_.Covers(t0 + absl::Hours(3)));
  ExpectSameAsTheStore(t0 + absl::Hours(3), clock_.Now());
  EXPECT_EQ(facts_.loads(), 3);
  // Asked for more, the facts give only the leads of their span.
  const absl::Time since = clock_.Now() - absl::Hours(24 * 30);
  const absl::Time end = clock_.Now() + absl::Seconds(1);
  int in_span = 0, visited = 0;
  ASSERT_TRUE(
      assigner_->committed()
          .ScanAssignments(since, end, [&](const Assignment&) { ++in_span; })
          .ok());
  bool saw_late = false;
  facts_.Scan(t0, end, [&](const KpiLead& l) {
    EXPECT_GE(l.routed_at, since) << l.lead_id;
    saw_late = saw_late || l.lead_id == "late";
    ++visited;
  });
  EXPECT_EQ(visited, in_span);
  EXPECT_EQ(visited, 2);  // L4, rerouted late in the first day, and `late`
  EXPECT_TRUE(saw_late);
}

}  // namespace
}  // namespace leadroute::runtime
