// The Assigner against the real SQLite store in a temporary folder, with a
// FakeClock: strategies, fairness under concurrency, caps, fallbacks, hours
// across time zones and DST, holidays, live status, idempotency, repeats,
// restarts and schema migration.
#include "runtime/assigner.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "compiler/compiler.h"
#include "gtest/gtest.h"
#include "runtime/kpi.h"
#include "runtime/simulation.h"
#include "runtime/sqlite_store.h"
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
  email: string
  region: string default "na"
  language: string
}
rep a { weight = 5 }
rep b { }
rep c { }
rep d { }
rep small1 { capacity = 1 }
rep small2 { capacity = 1 }
rep spare { capacity = 1 }
rep paris1 {
  timezone = "Europe/Paris"
  hours = mon-fri 09:00-18:00
}
rep paris2 {
  timezone = "Europe/Paris"
  hours = mon-fri 09:00-18:00
  holidays = ["2026-12-24..2026-12-26"]
}
rep nyc {
  timezone = "America/New_York"
  hours = mon-fri 09:00-17:00
  daily_cap = 2
}
rep weekly { timezone = "America/New_York" weekly_cap = 3 }
rep midweek { timezone = "UTC" hours = tue-thu 09:00-17:00 }
rep gulf { timezone = "Asia/Dubai" hours = sun-thu 09:00-17:00 }
rep jr_fr { seniority = junior languages = ["fr"] }
rep sr_fr { seniority = senior languages = ["FR", "en"] skills = ["payments"] }
rep lead_de { seniority = lead languages = ["de"] }
rep unrated { languages = ["fr"] }
team mixed { members = [jr_fr, sr_fr, lead_de, unrated] }
team rr { members = [a, b, c] strategy = round_robin }
team rr4 { members = [a, b, c, d] strategy = round_robin }
team heavy { members = [a, b, c] strategy = weighted }
team least { members = [a, b, c] strategy = least_loaded }
team smalls { members = [small1, small2] }
team spares { members = [spare] }
team emea { members = [paris1, paris2] }
team us { members = [nyc] }
team rr_off { members = [a, b, c] sticky = off }
team rr_short { members = [a, b, c] sticky = 1h }
queue overflow
assign {
  rule to_rr when region == "rr" then team rr
  rule to_rr4 when region == "rr4" then team rr4
  rule to_heavy when region == "heavy" then team heavy
  rule to_least when region == "least" then team least
  rule capped when region == "capped" then team smalls else team spares else queue overflow
  rule no_queue when region == "noqueue" then team smalls
  rule emea when region == "emea" then team emea else team us else queue overflow
  rule paris_only when region == "paris" then team emea
  rule direct when region == "direct" then rep nyc else queue overflow
  rule weekly when region == "weekly" then rep weekly else queue overflow
  rule midweek when region == "midweek" then rep midweek else queue overflow
  rule gulf when region == "gulf" then rep gulf else queue overflow
  rule senior_lang when region == "senior_lang"
    then team mixed where seniority >= senior and languages contains language
    else queue overflow
  rule payments when region == "payments" then team mixed where skills contains "payments"
  rule junior when region == "junior" then team mixed where seniority < mid
  rule speaks when region == "speaks" then team mixed where languages contains language
  rule rr_off when region == "rr_off" then team rr_off
  rule rr_short when region == "rr_short" then team rr_short
  rule rule_off when region == "rule_off" then team rr sticky off
  rule rule_long when region == "rule_long" then team rr sticky 30d
  rule any_rep when region == "any" then queue overflow sticky 7d anywhere
  otherwise queue overflow
}
)";

// The store as a crash would leave it after any commit: every commit that
// moves a team's rotation also holds the assignment the move chose, every
// rep status set by someone also holds its audit line, and every ruleset
// or schedule kept holds the rules.* line of who made it. Stored apart
// (as they were), a process killed between the two commits came back with
// a rotation one rep ahead of its leads: that rep was skipped for good
// (seen as a chaos run's 225/224/223 across three replicas); or with a
// status change nobody was recorded as making.
class CommitCheckingStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  absl::Status Apply(absl::Span<const StateChange> changes) override {
    std::set<std::pair<std::string, std::string>> assigned;
    std::set<std::string> audited_reps;
    int audited_rulesets = 0;  // rules.* audit lines
    for (const StateChange& c : changes) {
      if (const auto* a = std::get_if<Assignment>(&c)) {
        assigned.emplace(a->team, a->owner);
      }
      if (const auto* r = std::get_if<AuditRecord>(&c);
          r != nullptr && r->action == "rep.status") {
        audited_reps.insert(r->target);
      }
      if (const auto* r = std::get_if<AuditRecord>(&c);
          r != nullptr && r->action.starts_with("rules.")) {
        ++audited_rulesets;
      }
    }
    int kept_rulesets = 0;  // rulesets and schedules kept
    for (const StateChange& c : changes) {
      if (std::holds_alternative<RulesetLive>(c) ||
          std::holds_alternative<RulesetSchedule>(c)) {
        ++kept_rulesets;
      }
    }
    rulesets += kept_rulesets;
    if (kept_rulesets > audited_rulesets) {
      unaudited_rulesets += kept_rulesets - audited_rulesets;
    }
    for (const StateChange& c : changes) {
      const auto* t = std::get_if<TeamCursor>(&c);
      if (t != nullptr && !assigned.contains({t->team, t->last_rep})) {
        ++apart;
      }
      if (t != nullptr) ++moves;
      const auto* r = std::get_if<RepStatus>(&c);
      if (r != nullptr && !audited_reps.contains(r->rep)) ++unaudited;
      if (r != nullptr) ++statuses;
    }
    return ForwardingStore::Apply(changes);
  }
  std::atomic<int> apart{0};
  std::atomic<int> moves{0};
  std::atomic<int> unaudited{0};
  std::atomic<int> statuses{0};
  std::atomic<int> unaudited_rulesets{0};
  std::atomic<int> rulesets{0};
};

class AssignerTest : public StateFixture {
 protected:
  void SetUp() override { SetUpState("assigner", kRules); }

  // Reopens the Assigner on its store wrapped in a CommitCheckingStore, for
  // this and every later Reopen; the wrapper (the Assigner owns it).
  CommitCheckingStore* ReopenCheckingCommits() {
    wrap_ = [this](std::unique_ptr<StateStore> real) {
      auto checking = std::make_unique<CommitCheckingStore>(std::move(real));
      checking_ = checking.get();
      return std::unique_ptr<StateStore>(std::move(checking));
    };
    Reopen();
    return checking_;
  }
  CommitCheckingStore* checking_ = nullptr;

  // Routes lead `id` and waits until it is durable.
  Decision Route(const std::string& id, const std::string& region,
                 const std::string& email = "", bool reroute = false,
                 const std::string& language = "") {
    Lead lead{id, {{"region", Value(region)}}};
    if (!email.empty()) lead.attributes["email"] = Value(email);
    if (!language.empty()) lead.attributes["language"] = Value(language);
    absl::StatusOr<Decision> d = Decide(lead, Options());
    EXPECT_TRUE(d.ok()) << d.status();
    absl::StatusOr<uint64_t> seq =
        Assign({absl::StrCat("decision-", id), "t 1", reroute}, &*d);
    EXPECT_TRUE(seq.ok()) << seq.status();
    EXPECT_TRUE(assigner_->log().WaitDurable(*seq).ok());
    return *d;
  }
  std::string Owner(const std::string& id, const std::string& region) {
    return Route(id, region).owner;
  }

  DecideOptions Options() {
    DecideOptions o;
    o.received_at = clock_.Now();
    return o;
  }
  static RepStatus Status(const std::string& rep, Availability a,
                          std::optional<absl::Time> until) {
    RepStatus s;
    s.rep = rep;
    s.availability = a;
    s.until = until;
    return s;
  }
};

TEST_F(AssignerTest, RoundRobinRotatesStrictly) {
  std::vector<std::string> owners;
  for (int i = 0; i < 6; ++i)
    owners.push_back(Owner(absl::StrCat("L", i), "rr"));
  EXPECT_EQ(owners, (std::vector<std::string>{"a", "b", "c", "a", "b", "c"}));
}

TEST_F(AssignerTest, ARotationIsNeverCommittedApartFromItsAssignment) {
  CommitCheckingStore* store = ReopenCheckingCommits();
  ASSERT_NE(store, nullptr);
  // One at a time (the writer wakes for the first change of each) and from
  // four threads at once (commits of several leads).
  for (int i = 0; i < 100; ++i) Route(absl::StrCat("one-", i), "rr");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i)
        Route(absl::StrCat("many-", t, "-", i), "rr");
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_GT(store->moves.load(), 0);
  EXPECT_EQ(store->apart.load(), 0) << "of " << store->moves.load();
  // And the rotation a restart reads goes on exactly.
  Reopen();
  std::map<std::string, int> counts;
  for (int i = 0; i < 3; ++i) ++counts[Owner(absl::StrCat("after-", i), "rr")];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"a", 1}, {"b", 1}, {"c", 1}}));
}

TEST_F(AssignerTest, ARepStatusIsNeverCommittedApartFromItsAudit) {
  CommitCheckingStore* store = ReopenCheckingCommits();
  ASSERT_NE(store, nullptr);
  const Actor by{.principal = "ops", .peer = "ipv4:127.0.0.1:1"};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t, &by] {
      const std::string rep = std::string(1, static_cast<char>('a' + t % 3));
      for (int i = 0; i < 50; ++i) {
        absl::StatusOr<uint64_t> seq = assigner_->SetRepStatus(
            Status(rep,
                   i % 2 == 0 ? Availability::kAway : Availability::kAvailable,
                   std::nullopt),
            by);
        ASSERT_TRUE(seq.ok()) << seq.status();
        // What the call waits for holds both.
        ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_GT(store->statuses.load(), 0);
  EXPECT_EQ(store->unaudited.load(), 0) << "of " << store->statuses.load();
}

TEST_F(AssignerTest, ARulesetIsNeverCommittedApartFromItsAudit) {
  CommitCheckingStore* store = ReopenCheckingCommits();
  ASSERT_NE(store, nullptr);
  // From two threads at once, so that commits hold several.
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 20; ++i) {
        RulesetLive live;
        live.revision = 100 * t + i + 1;
        live.root = "r.route";
        live.files = {{"r.route", kRules}};
        live.fingerprint = absl::StrCat("f", live.revision);
        live.at = clock_.Now();
        AuditRecord audit;
        audit.at = clock_.Now();
        audit.principal = "ops";
        audit.action = "rules.publish";
        audit.target = "assigner-test";
        absl::StatusOr<uint64_t> seq =
            i % 2 == 0
                ? assigner_->RecordRuleset(live, audit)
                : assigner_->RecordSchedule(RulesetSchedule{live}, audit);
        ASSERT_TRUE(seq.ok()) << seq.status();
        // What the caller waits for holds both.
        ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(store->rulesets.load(), 40);
  EXPECT_EQ(store->unaudited_rulesets.load(), 0)
      << "of " << store->rulesets.load();
}

TEST_F(AssignerTest, WhereTestsChooseAmongEligibleMembers) {
  auto owner = [&](const std::string& id, const std::string& region,
                   const std::string& language = "") {
    return Route(id, region, "", false, language).owner;
  };
  // Seniority at least senior and the lead's language (case-insensitive).
  EXPECT_EQ(owner("S1", "senior_lang", "fr"), "sr_fr");
  EXPECT_EQ(owner("S2", "senior_lang", "de"), "lead_de");
  EXPECT_EQ(owner("S3", "senior_lang", "EN"), "sr_fr");
  // A skill; below a level (a rep with no seniority passes no such test).
  EXPECT_EQ(owner("P1", "payments"), "sr_fr");
  EXPECT_EQ(owner("J1", "junior"), "jr_fr");
  EXPECT_EQ(owner("J2", "junior"), "jr_fr");
  // Round robin over the eligible members only, on the team's one
  // rotation: J2 went to jr_fr, so the French speakers go on from sr_fr,
  // skipping lead_de.
  std::vector<std::string> french;
  for (int i = 0; i < 6; ++i) {
    french.push_back(owner(absl::StrCat("F", i), "speaks", "fr"));
  }
  EXPECT_EQ(french, (std::vector<std::string>{"sr_fr", "unrated", "jr_fr",
                                              "sr_fr", "unrated", "jr_fr"}));
}

TEST_F(AssignerTest, NobodyEligibleFallsThroughWithReasons) {
  Decision d = Route("N1", "senior_lang", "", false, "es");
  EXPECT_EQ(d.owner, "overflow");
  EXPECT_EQ(d.owner_kind, OwnerKind::kQueue);
  ASSERT_EQ(d.skipped.size(), 4u);
  EXPECT_EQ(d.skipped[0],
            "team mixed: jr_fr not eligible (where seniority >= senior)");
  EXPECT_EQ(d.skipped[1],
            "team mixed: sr_fr not eligible (where languages contains "
            "language)");
  // A lead without the attribute matches nobody, and says so.
  d = Route("N2", "senior_lang");
  EXPECT_EQ(d.owner, "overflow");
  ASSERT_EQ(d.skipped.size(), 4u);
  EXPECT_EQ(d.skipped[1],
            "team mixed: sr_fr not eligible (where languages contains "
            "language: the lead has no value for it)");
  // With no fallback the lead is kept, unassigned.
  d = Route("N3", "speaks", "", false, "ja");
  EXPECT_EQ(d.owner_kind, OwnerKind::kNone);
  ASSERT_TRUE(assigner_->Get("N3").ok());
  EXPECT_EQ(assigner_->Get("N3")->status, LeadStatus::kUnassigned);
}

TEST_F(AssignerTest, ConcurrentRoundRobinGivesEachRepExactlyK) {
  constexpr int kThreads = 8, kPerThread = 300;  // 2400 = 600 x 4 reps
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<std::string, int> count;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Lead lead{absl::StrCat("T", t, "-", i), {{"region", Value("rr4")}}};
        // Each thread binds its own lead (the fixture's Decide keeps one).
        absl::StatusOr<BoundLead> bound = BindLead(program(), lead);
        ASSERT_TRUE(bound.ok());
        Decision d = policy_->DecideBound(lead.id, *bound, Options());
        absl::StatusOr<uint64_t> seq =
            assigner_->Assign(program(), *bound, {"id", "t 1", false}, &d);
        ASSERT_TRUE(seq.ok());
        std::lock_guard<std::mutex> lock(mu);
        ++count[d.owner];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(count, (std::map<std::string, int>{
                       {"a", 600}, {"b", 600}, {"c", 600}, {"d", 600}}));
  // The same after a restart: every assignment reached the store.
  Reopen();
  std::vector<RepLoad> loads = assigner_->Loads(program());
  for (const RepLoad& l : loads) {
    if (l.rep.size() == 1) {
      EXPECT_EQ(l.open, 600) << l.rep;
    }
  }
}

TEST_F(AssignerTest, ConcurrentRoutesNeverPassACap) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::map<std::string, int> count;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        Decision d = Route(absl::StrCat("C", t, "-", i), "capped");
        std::lock_guard<std::mutex> lock(mu);
        ++count[d.owner];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(count,
            (std::map<std::string, int>{
                {"small1", 1}, {"small2", 1}, {"spare", 1}, {"overflow", 97}}));
}

TEST_F(AssignerTest, ReturningRepResumesTheirPlaceWithoutCatchUp) {
  EXPECT_EQ(Owner("L1", "rr"), "a");
  ASSERT_TRUE(assigner_
                  ->SetRepStatus(Status("b", Availability::kOutOfOffice,
                                        clock_.Now() + absl::Hours(2)))
                  .ok());
  std::vector<std::string> owners;
  for (int i = 2; i <= 5; ++i)
    owners.push_back(Owner(absl::StrCat("L", i), "rr"));
  EXPECT_EQ(owners, (std::vector<std::string>{"c", "a", "c", "a"}));
  clock_.Advance(absl::Hours(2));  // b is back: one turn per round, no flood
  owners.clear();
  for (int i = 6; i <= 11; ++i)
    owners.push_back(Owner(absl::StrCat("L", i), "rr"));
  EXPECT_EQ(owners, (std::vector<std::string>{"b", "c", "a", "b", "c", "a"}));
}

TEST_F(AssignerTest, WeightedSharesFollowWeightsSmoothly) {
  std::vector<std::string> owners;
  for (int i = 0; i < 70; ++i) {
    owners.push_back(Owner(absl::StrCat("L", i), "heavy"));
  }
  std::map<std::string, int> count;
  for (const std::string& o : owners) ++count[o];
  EXPECT_EQ(count,
            (std::map<std::string, int>{{"a", 50}, {"b", 10}, {"c", 10}}));
  // Smooth: the light reps are spread out, never back to back, and a never
  // takes more than four in a row (a burst would be five).
  int run = 0;
  for (size_t i = 0; i < owners.size(); ++i) {
    run = owners[i] == "a" ? run + 1 : 0;
    EXPECT_LE(run, 4) << i;
    if (i > 0 && owners[i] != "a") {
      EXPECT_EQ(owners[i - 1], "a") << i;
    }
  }
}

TEST_F(AssignerTest, LeastLoadedTakesFewestOpenThenLongestWaiting) {
  EXPECT_EQ(Owner("L1", "least"), "a");  // all 0: member order
  EXPECT_EQ(Owner("L2", "least"), "b");
  EXPECT_EQ(Owner("L3", "least"), "c");
  EXPECT_EQ(Owner("L4", "least"), "a");  // all 1: a waited longest
  ASSERT_TRUE(assigner_->Close("L2", "won").ok());
  ASSERT_TRUE(assigner_->Release("L3", "duplicate").ok());
  EXPECT_EQ(Owner("L5", "least"), "b");  // b and c at 0; b waited longer
  EXPECT_EQ(Owner("L6", "least"), "c");
}

TEST_F(AssignerTest, FallbackChainEndsInQueueOrIsRecordedUnassigned) {
  EXPECT_EQ(Owner("L1", "capped"), "small1");
  EXPECT_EQ(Owner("L2", "capped"), "small2");
  Decision d = Route("L3", "capped");
  EXPECT_EQ(d.owner, "spare");
  EXPECT_EQ(d.team, "spares");
  // Each reason names the fallback step it belongs to.
  EXPECT_EQ(
      d.skipped,
      (std::vector<std::string>{
          "choice 1 of 3: team smalls: small1 at capacity (1 open of 1)",
          "choice 1 of 3: team smalls: small2 at capacity (1 open of 1)"}));
  d = Route("L4", "capped");
  EXPECT_EQ(d.skipped.back().rfind("choice 2 of 3: team spares: ", 0), 0u)
      << d.skipped.back();
  EXPECT_EQ(d.owner, "overflow");
  EXPECT_EQ(d.owner_kind, OwnerKind::kQueue);
  d = Route("L5", "noqueue");
  EXPECT_EQ(d.owner_kind, OwnerKind::kNone);
  EXPECT_EQ(d.owner, "");
  EXPECT_EQ(d.skipped.size(), 2u);
  absl::StatusOr<Assignment> kept = assigner_->Get("L5");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->status, LeadStatus::kUnassigned);
  // Freeing capacity lets the team take leads again.
  // Which choice took each lead is kept, for the KPIs' fallback count, and
  // read back from the store after a restart.
  Reopen();
  auto choice = [&](const char* id) {
    absl::StatusOr<Assignment> a = assigner_->Get(id);
    EXPECT_TRUE(a.ok()) << id;
    return a.ok() ? a->choice : -2;
  };
  EXPECT_EQ(choice("L1"), 0);
  EXPECT_EQ(choice("L3"), 1);  // team spares
  EXPECT_EQ(choice("L4"), 2);  // queue overflow
  EXPECT_EQ(choice("L5"), -1);
  absl::StatusOr<KpiReport> kpis =
      KpisOf(assigner_->committed(), KpiDimension::kTotal,
             clock_.Now() - absl::Hours(1), clock_.Now() + absl::Hours(1));
  ASSERT_TRUE(kpis.ok()) << kpis.status();
  EXPECT_EQ(kpis->total.fallback, 2);
  ASSERT_TRUE(assigner_->Close("L1", "lost").ok());
  EXPECT_EQ(Owner("L6", "capped"), "small1");
  EXPECT_EQ(choice("L6"), 0);
  EXPECT_EQ(assigner_->Close("L1", "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(assigner_->Close("nope", "").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AssignerTest, WorkingHoursFollowEachRepsTimeZoneAcrossDst) {
  // Friday 2026-03-27, Paris on CET (UTC+1): 07:15Z is 08:15 there, closed.
  clock_.Set(At("2026-03-27T07:15:00Z"));
  EXPECT_EQ(Owner("L1", "paris"), "");
  // Monday 2026-03-30, after the switch to CEST (UTC+2): 07:15Z is 09:15.
  clock_.Set(At("2026-03-30T07:15:00Z"));
  EXPECT_EQ(Owner("L2", "paris"), "paris1");
  // Back to CET on 2026-10-25: Monday 26th 07:15Z is 08:15 again, closed.
  clock_.Set(At("2026-10-26T07:15:00Z"));
  Decision d = Route("L3", "paris");
  EXPECT_EQ(d.owner, "");
  EXPECT_EQ(d.skipped.front(),
            "team emea: paris1 outside working hours (Mon 08:15 Europe/Paris)");
  clock_.Set(At("2026-10-26T16:59:00Z"));  // 17:59 Paris: still open
  EXPECT_EQ(Owner("L4", "paris"), "paris2");
  clock_.Set(At("2026-10-26T17:00:00Z"));  // 18:00 Paris: closed
  EXPECT_EQ(Owner("L5", "paris"), "");
}

TEST_F(AssignerTest, FollowTheSunSendsLateEmeaLeadsToTheUsTeam) {
  clock_.Set(At("2026-11-23T10:00:00Z"));  // 11:00 Paris, 05:00 New York
  EXPECT_EQ(Owner("L1", "emea"), "paris1");
  clock_.Set(At("2026-11-23T21:00:00Z"));  // 22:00 Paris, 16:00 New York
  Decision d = Route("L2", "emea");
  EXPECT_EQ(d.owner, "nyc");
  EXPECT_EQ(d.team, "us");
  clock_.Set(At("2026-11-24T03:00:00Z"));  // 04:00 Paris, 22:00 New York
  EXPECT_EQ(Owner("L3", "emea"), "overflow");
}

TEST_F(AssignerTest, HolidaysAreDaysOffInTheRepsTimeZone) {
  clock_.Set(At("2026-12-23T22:30:00Z"));  // Wed 23:30 Paris: closed anyway
  clock_.Set(At("2026-12-24T09:00:00Z"));  // Thu 10:00 Paris, paris2 off
  EXPECT_EQ(Owner("L1", "paris"), "paris1");
  Decision d = Route("L2", "paris");
  EXPECT_EQ(d.owner, "paris1");
  EXPECT_EQ(
      d.skipped,
      (std::vector<std::string>{"team emea: paris2 on holiday (2026-12-24)"}));
  clock_.Set(At("2026-12-28T09:00:00Z"));  // Monday after: back
  EXPECT_EQ(Owner("L3", "paris"), "paris2");
}

TEST_F(AssignerTest, DailyCapCountsTheRepsLocalDay) {
  // Monday 2026-11-23 in New York (UTC-5): 16:30 local is 21:30Z.
  clock_.Set(At("2026-11-23T21:30:00Z"));
  EXPECT_EQ(Owner("L1", "direct"), "nyc");
  EXPECT_EQ(Owner("L2", "direct"), "nyc");
  Decision d = Route("L3", "direct");
  EXPECT_EQ(d.owner, "overflow");
  EXPECT_EQ(
      d.skipped,
      (std::vector<std::string>{"rep nyc: daily cap reached (2 of 2 today)"}));
  // 09:30 next local day; the UTC day changed at 19:00 local, which is not
  // what counts.
  clock_.Set(At("2026-11-24T14:30:00Z"));
  EXPECT_EQ(Owner("L4", "direct"), "nyc");
  // A restart rebuilds the counts from the store.
  Reopen();
  EXPECT_EQ(Owner("L5", "direct"), "nyc");
  EXPECT_EQ(Owner("L6", "direct"), "overflow");
}

TEST_F(AssignerTest, WeeklyCapCountsTheRepsLocalWeekFromMonday) {
  // Sunday 2026-11-22, 23:30 in New York (UTC-5): already Monday in UTC,
  // still the week of the 16th where the rep is.
  clock_.Set(At("2026-11-23T04:30:00Z"));
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(Owner(absl::StrCat("L", i), "weekly"), "weekly") << i;
  }
  Decision full = Route("L4", "weekly");
  EXPECT_EQ(full.owner, "overflow");
  EXPECT_EQ(full.skipped, (std::vector<std::string>{
                              "rep weekly: weekly cap reached (3 of 3 this "
                              "week)"}));
  // Monday 00:30 local: a new week.
  clock_.Set(At("2026-11-23T05:30:00Z"));
  EXPECT_EQ(Owner("L5", "weekly"), "weekly");
  // Tuesday: Monday's lead still counts.
  clock_.Set(At("2026-11-24T15:00:00Z"));
  EXPECT_EQ(Owner("L6", "weekly"), "weekly");
  EXPECT_EQ(Owner("L7", "weekly"), "weekly");
  EXPECT_EQ(Owner("L8", "weekly"), "overflow");
  // The last minute of Sunday is the same week; Monday 00:00 is the next.
  clock_.Set(At("2026-11-30T04:59:00Z"));
  EXPECT_EQ(Owner("L9", "weekly"), "overflow");
  clock_.Set(At("2026-11-30T05:00:00Z"));
  EXPECT_EQ(Owner("L10", "weekly"), "weekly");
  // A restart rebuilds the week's count from the store.
  Reopen();
  EXPECT_EQ(Owner("L11", "weekly"), "weekly");
  EXPECT_EQ(Owner("L12", "weekly"), "weekly");
  EXPECT_EQ(Owner("L13", "weekly"), "overflow");
}

TEST_F(AssignerTest, WorkingDayRangesIncludeBothEnds) {
  // hours = tue-thu 09:00-17:00 in UTC; 2026-11-23 is a Monday.
  const std::pair<const char*, const char*> cases[] = {
      {"2026-11-23T10:00:00Z", "overflow"},  // Monday: before the range
      {"2026-11-24T09:00:00Z", "midweek"},   // Tuesday, the first day
      {"2026-11-25T12:00:00Z", "midweek"},   // Wednesday
      {"2026-11-26T16:59:00Z", "midweek"},   // Thursday, the last day
      {"2026-11-26T17:00:00Z", "overflow"},  // Thursday after hours
      {"2026-11-27T10:00:00Z", "overflow"},  // Friday: after the range
      {"2026-11-29T10:00:00Z", "overflow"},  // Sunday
  };
  int n = 0;
  for (const auto& [at, owner] : cases) {
    clock_.Set(At(at));
    EXPECT_EQ(Owner(absl::StrCat("L", ++n), "midweek"), owner) << at;
  }
  clock_.Set(At("2026-11-27T10:00:00Z"));
  EXPECT_EQ(Route("L99", "midweek").skipped,
            (std::vector<std::string>{
                "rep midweek: outside working hours (Fri 10:00 UTC)"}));
}

TEST_F(AssignerTest, WorkingDayRangesMayWrapPastSunday) {
  // hours = sun-thu 09:00-17:00 in Dubai (UTC+4); 2026-11-23 is a Monday.
  const std::pair<const char*, const char*> cases[] = {
      {"2026-11-27T06:00:00Z", "overflow"},  // Friday 10:00: the weekend
      {"2026-11-28T06:00:00Z", "overflow"},  // Saturday 10:00
      {"2026-11-29T05:00:00Z", "gulf"},      // Sunday 09:00, the first day
      {"2026-11-30T12:00:00Z", "gulf"},      // Monday 16:00
      {"2026-12-03T12:59:00Z", "gulf"},      // Thursday 16:59, the last day
      {"2026-12-03T13:00:00Z", "overflow"},  // Thursday 17:00
  };
  int n = 0;
  for (const auto& [at, owner] : cases) {
    clock_.Set(At(at));
    EXPECT_EQ(Owner(absl::StrCat("G", ++n), "gulf"), owner) << at;
  }
}

TEST_F(AssignerTest, AwayUntilAndBack) {
  ASSERT_TRUE(
      assigner_->SetRepStatus(Status("a", Availability::kAway, std::nullopt))
          .ok());
  EXPECT_EQ(Owner("L1", "rr"), "b");
  clock_.Advance(absl::Hours(100));  // away without `until` stays away
  EXPECT_EQ(Owner("L2", "rr"), "c");
  EXPECT_EQ(Owner("L3", "rr"), "b");
  ASSERT_TRUE(
      assigner_
          ->SetRepStatus(Status("a", Availability::kAvailable, std::nullopt))
          .ok());
  EXPECT_EQ(Owner("L4", "rr"), "c");
  EXPECT_EQ(Owner("L5", "rr"), "a");
  // The status survives a restart.
  ASSERT_TRUE(assigner_
                  ->SetRepStatus(Status("c", Availability::kOutOfOffice,
                                        clock_.Now() + absl::Hours(1)))
                  .ok());
  Reopen();
  EXPECT_EQ(Owner("L6", "rr"), "b");
  EXPECT_EQ(Owner("L7", "rr"), "a");
}

// A RoutingSimulation (what `test` blocks with `given`, `eval --at` and
// replay choose with) gives every lead the owner the Assigner gives it,
// with the same reasons, through statuses, working hours across days,
// holidays, capacity filling up, daily and weekly caps, fallbacks and all
// three strategies; and ends with the same loads.
TEST_F(AssignerTest, ASimulationChoosesAsTheAssignerDoes) {
  RoutingSimulation sim;
  const std::vector<std::string> regions = {
      "rr",          "rr4",      "heavy",  "least",  "capped",  "noqueue",
      "emea",        "paris",    "direct", "weekly", "midweek", "gulf",
      "senior_lang", "payments", "junior", "speaks", "nowhere"};
  const std::vector<std::string> reps = {"a", "b", "paris1", "nyc", "sr_fr"};
  std::mt19937 random(24);
  int compared = 0, unassigned = 0, queued = 0;
  std::set<std::string> owners;
  for (int i = 0; i < 600; ++i) {
    clock_.Advance(
        absl::Minutes(std::uniform_int_distribution<>(0, 240)(random)));
    if (i % 37 == 0) {
      const std::string& rep = reps[random() % reps.size()];
      const Availability a = static_cast<Availability>(random() % 3);
      const std::optional<absl::Time> until =
          random() % 2 ? std::optional<absl::Time>(clock_.Now() +
                                                   absl::Hours(random() % 48))
                       : std::nullopt;
      ASSERT_TRUE(assigner_->SetRepStatus(Status(rep, a, until)).ok());
      sim.picker().SetStatus(Status(rep, a, until), clock_.Now());
    }
    const std::string region = regions[random() % regions.size()];
    const std::string language = random() % 2 ? "fr" : "de";
    Lead lead{absl::StrCat("L", i),
              {{"region", Value(region)}, {"language", Value(language)}}};
    absl::StatusOr<Decision> simulated = Decide(lead, Options());
    ASSERT_TRUE(simulated.ok()) << simulated.status();
    sim.Assign(program(), clock_.Now(), &*simulated);
    const Decision routed = Route(lead.id, region, "", false, language);
    ASSERT_EQ(simulated->owner, routed.owner) << lead.id;
    ASSERT_EQ(simulated->owner_kind, routed.owner_kind) << lead.id;
    ASSERT_EQ(simulated->team, routed.team) << lead.id;
    ASSERT_EQ(simulated->skipped, routed.skipped) << lead.id;
    ++compared;
    unassigned += routed.owner.empty();
    queued += routed.owner_kind == OwnerKind::kQueue;
    if (routed.owner_kind == OwnerKind::kRep) owners.insert(routed.owner);
  }
  EXPECT_EQ(compared, 600);
  // The walk went through every kind of outcome.
  EXPECT_GT(unassigned, 0);
  EXPECT_GT(queued, 0);
  EXPECT_GE(owners.size(), 10u);
  const std::vector<RepLoad> loads = assigner_->Loads(program());
  for (size_t r = 0; r < loads.size(); ++r) {
    const RepLoad mine = sim.picker().Load(program(), r, clock_.Now());
    EXPECT_EQ(mine.open, loads[r].open) << loads[r].rep;
    EXPECT_EQ(mine.today, loads[r].today) << loads[r].rep;
    EXPECT_EQ(mine.this_week, loads[r].this_week) << loads[r].rep;
    EXPECT_EQ(mine.can_take, loads[r].can_take) << loads[r].rep;
  }
}

TEST_F(AssignerTest, SameLeadIdReplaysTheOriginalAssignment) {
  Decision first = Route("L1", "rr");
  EXPECT_EQ(first.owner, "a");
  EXPECT_FALSE(first.replayed);
  Decision again = Route("L1", "rr");
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.owner, "a");
  EXPECT_EQ(again.decision_id, "decision-L1");
  EXPECT_EQ(Owner("L2", "rr"), "b");  // the retry took no turn
  Reopen();
  Decision after_restart = Route("L1", "rr");
  EXPECT_TRUE(after_restart.replayed);
  EXPECT_EQ(after_restart.owner, "a");
  // Rerouting moves it and frees a's capacity.
  Decision moved = Route("L1", "rr", "", /*reroute=*/true);
  EXPECT_FALSE(moved.replayed);
  EXPECT_EQ(moved.owner, "c");
  for (const RepLoad& l : assigner_->Loads(program())) {
    if (l.rep == "a") {
      EXPECT_EQ(l.open, 0);
    }
    if (l.rep == "c") {
      EXPECT_EQ(l.open, 1);
    }
  }
}

// What replay reads from a store (Assignment::logged): kept as given when
// a lead is routed, replaced when it is routed again, kept through a
// restart, and scanned in routing order.
TEST_F(AssignerTest, TheLeadAsRoutedIsKeptForReplayInRoutingOrder) {
  auto route = [&](const std::string& id, bool reroute) {
    Lead lead{id, {{"region", Value(std::string("rr"))}}};
    absl::StatusOr<Decision> d = Decide(lead, Options());
    ASSERT_TRUE(d.ok()) << d.status();
    AssignInput input{absl::StrCat("decision-", id), "t 1", reroute};
    input.logged =
        absl::StrCat("{\"lead\":\"", id,
                     "\",\"at\":", absl::ToUnixSeconds(clock_.Now()), "}");
    absl::StatusOr<uint64_t> seq = Assign(input, &*d);
    ASSERT_TRUE(seq.ok()) << seq.status();
    ASSERT_TRUE(assigner_->log().WaitDurable(*seq).ok());
  };
  const absl::Time start = clock_.Now();
  for (const char* id : {"L3", "L1", "L2"}) {
    route(id, false);
    clock_.Advance(absl::Minutes(1));
  }
  route("L3", /*reroute=*/true);  // now the last routed
  Reopen();
  std::vector<std::string> logged;
  ASSERT_TRUE(assigner_->committed()
                  .ScanAssignments(
                      start, clock_.Now() + absl::Seconds(1),
                      [&](const Assignment& a) { logged.push_back(a.logged); })
                  .ok());
  const int64_t t = absl::ToUnixSeconds(start);
  EXPECT_EQ(logged,
            (std::vector<std::string>{
                absl::StrCat("{\"lead\":\"L1\",\"at\":", t + 60, "}"),
                absl::StrCat("{\"lead\":\"L2\",\"at\":", t + 120, "}"),
                absl::StrCat("{\"lead\":\"L3\",\"at\":", t + 180, "}")}));
}

TEST_F(AssignerTest, RepeatFromTheSamePersonGoesToTheSameRep) {
  options_.repeat_window = absl::Hours(24);
  Reopen();
  EXPECT_EQ(Route("L1", "rr", "Pat@Example.com").owner, "a");
  EXPECT_EQ(Owner("L2", "rr"), "b");
  Decision repeat = Route("L3", "rr", "pat@example.com");
  EXPECT_EQ(repeat.owner, "a");
  EXPECT_EQ(repeat.repeat_of, "L1");
  clock_.Advance(absl::Hours(25));
  Decision later = Route("L4", "rr", "pat@example.com");
  EXPECT_EQ(later.owner, "c");
  EXPECT_EQ(later.repeat_of, "");
}

// Where the decision says stickiness decided: its decided_by entry (right
// after the assign rule's) as "stage/rule@location".
std::vector<std::string> Refs(const Decision& d) {
  std::vector<std::string> out;
  for (const RuleRef& r : d.decided_by) {
    out.push_back(absl::StrCat(r.stage, "/", r.rule, "@", r.location));
  }
  return out;
}

TEST_F(AssignerTest, ARepeatSticksOnlyWhereTheRuleCanSendIt) {
  // The first lead from pat goes to a (team rr); the repeat matches a rule
  // whose team does not include a, so the rules decide, not the history.
  EXPECT_EQ(Route("L1", "rr", "pat@example.com").owner, "a");
  Decision elsewhere = Route("L2", "capped", "pat@example.com");
  EXPECT_EQ(elsewhere.owner, "small1");
  EXPECT_EQ(elsewhere.repeat_of, "");
  EXPECT_EQ(Refs(elsewhere),
            (std::vector<std::string>{"assign/capped@t.route:53"}));
  // A rule that names a rep gives that rep, whoever had the last lead.
  EXPECT_EQ(Route("L3", "direct", "pat@example.com").owner, "nyc");
}

TEST_F(AssignerTest, AStickyRepeatSaysSoInDecidedByAndTheExplanation) {
  EXPECT_EQ(Route("L1", "rr", "pat@example.com").owner, "a");
  EXPECT_EQ(Owner("L2", "rr"), "b");
  clock_.Advance(absl::Hours(3));
  Lead lead{"L3",
            {{"region", Value("rr")}, {"email", Value("Pat@Example.com")}}};
  DecideOptions o = Options();
  o.explain = true;
  absl::StatusOr<Decision> d = Decide(lead, o);
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(Assign({"decision-L3", "t 1", false}, &*d).ok());
  EXPECT_EQ(d->owner, "a");
  EXPECT_EQ(d->team, "rr");
  EXPECT_EQ(d->repeat_of, "L1");
  // Team rr says nothing: the server's default window (a week) decided.
  EXPECT_EQ(Refs(*d), (std::vector<std::string>{"assign/to_rr@t.route:49",
                                                "sticky/team rr@"}));
  ASSERT_TRUE(d->explanation.has_value());
  std::vector<std::string> stages;
  std::string why;
  for (const StageExplanation& e : d->explanation->stages) {
    stages.push_back(e.stage);
    if (e.stage == "sticky") why = e.conditions.at(0);
  }
  EXPECT_EQ(stages, (std::vector<std::string>{"assign", "sticky"}));
  EXPECT_EQ(why,
            "the same email as lead \"L1\", which a got 3h ago: repeat leads "
            "stick for 7d (serve --repeat-window; team rr says no sticky)");
  // The rotation did not spend a turn on it: c is next.
  EXPECT_EQ(Owner("L4", "rr"), "c");
  // What is stored names it too, for KPIs by rule.
  EXPECT_EQ(assigner_->Get("L3")->rules, "assign/to_rr;sticky/team rr");
}

TEST_F(AssignerTest, ATeamOrARuleSaysWhetherAndHowLongRepeatsStick) {
  // sticky = off on the team.
  EXPECT_EQ(Route("T1", "rr_off", "off@example.com").owner, "a");
  EXPECT_EQ(Route("T2", "rr_off", "off@example.com").owner, "b");
  // sticky off on the rule, over team rr's default.
  EXPECT_EQ(Route("R1", "rr", "rule@example.com").owner, "a");
  Decision off = Route("R2", "rule_off", "rule@example.com");
  EXPECT_EQ(off.owner, "b");
  EXPECT_EQ(off.repeat_of, "");
  // sticky = 1h on the team: two hours later the rotation decides.
  EXPECT_EQ(Route("S1", "rr_short", "short@example.com").owner, "a");
  clock_.Advance(absl::Minutes(50));
  Decision soon = Route("S2", "rr_short", "short@example.com");
  EXPECT_EQ(soon.owner, "a");
  EXPECT_EQ(Refs(soon).back(), "sticky/team rr_short@t.route:46");
  clock_.Advance(absl::Hours(2));
  EXPECT_EQ(Route("S3", "rr_short", "short@example.com").repeat_of, "");
  // sticky 30d on the rule outlasts the default week.
  EXPECT_EQ(Route("W1", "rr", "long@example.com").owner, "c");
  clock_.Advance(absl::Hours(24 * 20));
  Decision long_after = Route("W2", "rule_long", "long@example.com");
  EXPECT_EQ(long_after.owner, "c");
  EXPECT_EQ(Refs(long_after).back(), "sticky/rule_long@t.route:70");
}

TEST_F(AssignerTest, AStickyRepMustPassTheTeamsWhereAndBeAvailable) {
  // jr_fr had pat's last lead, but this rule wants a senior.
  EXPECT_EQ(Route("L1", "speaks", "pat@example.com", false, "fr").owner,
            "jr_fr");
  Decision senior = Route("L2", "senior_lang", "pat@example.com", false, "fr");
  EXPECT_EQ(senior.owner, "sr_fr");
  EXPECT_EQ(senior.repeat_of, "");
  EXPECT_EQ(senior.skipped.at(0),
            "team mixed: sticky to jr_fr (lead L1) not eligible (where "
            "seniority >= senior)");
  // a had sam's last lead but is away: the team's strategy decides.
  EXPECT_EQ(Route("M1", "rr", "sam@example.com").owner, "a");
  ASSERT_TRUE(
      assigner_->SetRepStatus(Status("a", Availability::kAway, std::nullopt))
          .ok());
  Decision away = Route("M2", "rr", "sam@example.com");
  EXPECT_EQ(away.owner, "b");
  EXPECT_EQ(away.skipped.at(0), "team rr: sticky to a (lead M1) away");
}

TEST_F(AssignerTest, StickyAnywhereFollowsTheLastRepOutsideTheRulesOwners) {
  EXPECT_EQ(Route("L1", "rr", "pat@example.com").owner, "a");
  Decision any = Route("L2", "any", "pat@example.com");
  EXPECT_EQ(any.owner, "a");
  EXPECT_EQ(any.owner_kind, OwnerKind::kRep);
  EXPECT_EQ(any.team, "rr");
  EXPECT_EQ(any.repeat_of, "L1");
  EXPECT_EQ(Refs(any).back(), "sticky/any_rep@t.route:71");
  // Without history it goes where the rule says.
  EXPECT_EQ(Route("L3", "any", "new@example.com").owner, "overflow");
}

TEST_F(AssignerTest, ReassignMovesTheLeadAndKeepsItsHistory) {
  EXPECT_EQ(Owner("L1", "rr"), "a");
  absl::StatusOr<Assigner::Changed> moved = assigner_->Reassign(
      program(), "L1", {OwnerKind::kRep, "d", program().rep_index.at("d"), {}},
      "territory change");
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(moved->assignment.owner, "d");
  ASSERT_TRUE(assigner_->log().WaitDurable(moved->seq).ok());
  EXPECT_EQ(
      assigner_->Reassign(program(), "L1", {OwnerKind::kRep, "zed", -1, {}}, "")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  assigner_.reset();
  auto store = OpenStoreReadOnly();
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<LeadEvent>> history = (*store)->History("L1");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].kind, "assigned");
  EXPECT_EQ((*history)[1].kind, "reassigned");
  EXPECT_EQ((*history)[1].from, "a");
  EXPECT_EQ((*history)[1].to, "d");
  EXPECT_EQ((*history)[1].reason, "territory change");
  Open();
}

TEST_F(AssignerTest, AFailedStoreStopsAssignmentsUntilItWorksAgain) {
  assigner_.reset();
  auto real = OpenStore();
  ASSERT_TRUE(real.ok()) << real.status();
  auto failing = std::make_unique<FailingStore>(*std::move(real));
  FailingStore* store = failing.get();
  auto a = Assigner::Start(std::move(failing), &clock_, options_);
  ASSERT_TRUE(a.ok());
  assigner_ = *std::move(a);
  EXPECT_EQ(Owner("L1", "rr"), "a");
  store->fail = true;
  Lead lead{"L2", {{"region", Value("rr")}}};
  absl::StatusOr<Decision> d = Decide(lead, Options());
  absl::StatusOr<uint64_t> seq = Assign({"x", "t 1", false}, &*d);
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(assigner_->log().WaitDurable(*seq).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(Assign({"y", "t 1", false}, &*d).status().code(),
            absl::StatusCode::kUnavailable);
  // The disk is back: the failed batch commits on its retry (L2 keeps the
  // rep it was given; a client retrying L2 is answered with it) and
  // assignments go on from there.
  store->fail = false;
  for (int i = 0; i < 1000 && !assigner_->log().Usable().ok(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(assigner_->log().Usable().ok()) << "no recovery within 10 s";
  const std::string l2 = Owner("L2", "rr");
  EXPECT_EQ(l2, d->owner);
  const std::string l3 = Owner("L3", "rr");
  EXPECT_NE(l3, l2);
  Reopen();  // a restart reads the same
  EXPECT_EQ(Owner("L2", "rr"), l2);
  EXPECT_EQ(Owner("L3", "rr"), l3);
}

// SQLite's own: its migrations, connections and files (PostgreSQL's are
// in tests/pg/); the pg run leaves them out.
TEST(SqliteStoreTest, MigratesAVersionOneFileAndRefusesANewerOne) {
  const std::string path =
      testing::TempDir() + "/migrate-" + std::to_string(getpid()) + ".db";
  std::filesystem::remove(path);
  {
    // A file as the first release left it: schema 1, one assignment.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const char* v1 =
        "CREATE TABLE assignments (lead_id TEXT PRIMARY KEY, owner TEXT NOT "
        "NULL, owner_kind INTEGER NOT NULL, team TEXT NOT NULL, status "
        "INTEGER NOT NULL, email_key TEXT NOT NULL, repeat_of TEXT NOT NULL, "
        "decision_id TEXT NOT NULL, ruleset TEXT NOT NULL, priority TEXT NOT "
        "NULL, priority_rank INTEGER NOT NULL, sla_ms INTEGER, channel TEXT "
        "NOT NULL, decided_at_us INTEGER NOT NULL, respond_by_us INTEGER, "
        "ended_at_us INTEGER, score INTEGER NOT NULL, seq INTEGER NOT NULL);"
        "CREATE TABLE rep_status (rep TEXT PRIMARY KEY, availability INTEGER "
        "NOT NULL, until_us INTEGER, note TEXT NOT NULL, set_at_us INTEGER "
        "NOT NULL);"
        "CREATE TABLE team_cursors (team TEXT PRIMARY KEY, last_rep TEXT NOT "
        "NULL, running TEXT NOT NULL);"
        "INSERT INTO assignments VALUES ('L1', 'a', 1, 'rr', 0, '', '', 'd1', "
        "'t 1', '', -1, NULL, '', 1000, NULL, NULL, 0, 7);"
        "INSERT INTO team_cursors VALUES ('rr', 'a', '');"
        "PRAGMA user_version=1;";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_EQ((*store)->schema_version(), SqliteStore::kSchemaVersion);
    absl::StatusOr<StateSnapshot> s = (*store)->Load(absl::InfinitePast());
    ASSERT_TRUE(s.ok());
    ASSERT_EQ(s->rep_history.size(), 1u);
    EXPECT_EQ(s->rep_history[0].rep, "a");
    EXPECT_EQ(s->rep_history[0].open, 1);
    EXPECT_EQ(s->last_assignment_seq, 7u);  // schema 8 found it
    absl::StatusOr<std::optional<Assignment>> l1 =
        (*store)->FindAssignment("L1");
    ASSERT_TRUE(l1.ok() && l1->has_value());
    EXPECT_EQ((*l1)->owner, "a");
    EXPECT_EQ((*l1)->seq, 7u);
    EXPECT_TRUE((*store)->History("L1").ok());  // the table schema 2 added
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  auto newer = SqliteStore::Open(path);
  EXPECT_EQ(newer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("schema version 99"),
            std::string::npos);
  std::filesystem::remove(path);
}

// A KPI scan has a connection of its own: while one is in the middle of
// its window, the point reads routing makes (a lead by id) still answer.
// On a shared connection the lookup below would wait for the scan, which
// waits for the lookup: the test would fail after 10 s instead of hanging.
TEST(SqliteStoreTest, AScanNeverHoldsUpALookup) {
  const std::string path =
      (testing_util::FreshTestDir("scan") / "state.db").string();
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<StateChange> changes;
  for (int i = 0; i < 10; ++i) {
    Assignment a;
    a.lead_id = absl::StrCat("S", i);
    a.owner = "ana";
    a.owner_kind = OwnerKind::kRep;
    a.decided_at = a.routed_at = absl::FromUnixSeconds(1000 + i);
    a.seq = static_cast<uint64_t>(i + 1);
    changes.push_back(a);
  }
  ASSERT_TRUE((*store)->Apply(changes).ok());
  std::promise<void> looked_up;
  std::future<void> done = looked_up.get_future();
  std::atomic<bool> answered{false};
  int visited = 0;
  std::thread lookup;
  absl::Status scanned = (*store)->ScanAssignments(
      absl::FromUnixSeconds(0), absl::FromUnixSeconds(5000),
      [&](const Assignment&) {
        if (visited++ > 0) return;
        // The scan is open on its first row: look a lead up meanwhile.
        lookup = std::thread([&] {
          auto found = (*store)->FindAssignment("S7");
          answered = found.ok() && found->has_value();
          looked_up.set_value();
        });
        EXPECT_EQ(done.wait_for(std::chrono::seconds(10)),
                  std::future_status::ready);
      });
  lookup.join();
  EXPECT_TRUE(scanned.ok()) << scanned;
  EXPECT_EQ(visited, 10);
  EXPECT_TRUE(answered);
  std::filesystem::remove(path);
}

// Write system calls this process has made (/proc/self/io).
int64_t WriteCalls() {
  std::ifstream io("/proc/self/io");
  std::string key;
  int64_t value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  return -1;
}

// A commit's WAL writes go out as one write (sqlite_gather_vfs.h) instead
// of two per page, and everything written is there for a reader while the
// writer is open and after it closed; with the plain VFS, to compare.
TEST(SqliteStoreTest, ACommitsWalWritesAreGatheredAndAllThere) {
  if (WriteCalls() < 0) GTEST_SKIP() << "no /proc/self/io here";
  const std::filesystem::path dir = testing_util::FreshTestDir("gather");
  auto commits = [](SqliteStore& store, int first) {
    std::vector<StateChange> changes;
    for (int i = first; i < first + 40; ++i) {
      Assignment a;
      a.lead_id = absl::StrCat("G", i);
      a.owner = absl::StrCat("rep", i % 7);
      a.owner_kind = OwnerKind::kRep;
      a.email_key = absl::StrCat("p", i * 7919 % 1000, "@example.com");
      a.decided_at = a.routed_at = absl::FromUnixSeconds(1000 + i);
      a.seq = static_cast<uint64_t>(i + 1);
      changes.push_back(a);
      changes.push_back(EventOf(a, a.routed_at, "assigned", "", ""));
      std::get<LeadEvent>(changes.back()).id = a.seq;
    }
    const int64_t before = WriteCalls();
    EXPECT_TRUE(store.Apply(changes).ok());
    return WriteCalls() - before;
  };
  std::map<bool, int64_t> writes;
  for (const bool gather : {false, true}) {
    const std::string path =
        (dir / absl::StrCat(gather ? "gathered" : "plain", ".db")).string();
    auto store = SqliteStore::Open(path, {.gather_wal_writes = gather});
    ASSERT_TRUE(store.ok()) << store.status();
    commits(**store, 0);  // the first commit also creates the WAL
    writes[gather] = commits(**store, 40);
    // A commit bigger than what is held at most (1 MiB) and than one write
    // passes on (124 KiB): a ruleset of 1.5 MB.
    RulesetLive big{.revision = 1, .root = "r.route", .fingerprint = "f"};
    big.files["r.route"] = std::string(1500000, 'x');
    std::vector<StateChange> ruleset = {big};
    ASSERT_TRUE((*store)->Apply(ruleset).ok());
    // A reader beside the open writer sees every committed lead.
    auto reader = SqliteStore::OpenReadOnly(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    for (int i = 0; i < 80; ++i) {
      auto found = (*reader)->FindAssignment(absl::StrCat("G", i));
      ASSERT_TRUE(found.ok() && found->has_value()) << i;
      EXPECT_EQ((*found)->owner, absl::StrCat("rep", i % 7));
    }
    reader->reset();
    store->reset();
    // And after the writer closed.
    auto reopened = SqliteStore::Open(path, {.gather_wal_writes = gather});
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    auto loaded = (*reopened)->Load(absl::FromUnixSeconds(0));
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->last_assignment_seq, 80u);
    auto events = (*reopened)->EventsAfter(0, 1000);
    ASSERT_TRUE(events.ok()) << events.status();
    EXPECT_EQ(events->size(), 80u);
    auto kept = (*reopened)->Rulesets(-1, -1);
    ASSERT_TRUE(kept.ok()) << kept.status();
    ASSERT_TRUE(kept->live.has_value());
    EXPECT_EQ(kept->live->files.at("r.route"), std::string(1500000, 'x'));
  }
  // Plain: two writes a page, a dozen pages or more; gathered: one or two.
  EXPECT_GE(writes[false], 20);
  EXPECT_LE(writes[true], 3) << "plain " << writes[false];
  std::filesystem::remove_all(dir);
}

// The start checks what it read against itself: a meta.last_assignment_seq
// below a lead's change number (which would hand that number out again) is
// refused, naming both, instead of overwriting the lead.
TEST(SqliteStoreTest, AnInconsistentLastChangeNumberFailsTheLoad) {
  const std::string path =
      (testing_util::FreshTestDir("inconsistent") / "state.db").string();
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    Assignment a;
    a.lead_id = "L1";
    a.owner = "ana";
    a.owner_kind = OwnerKind::kRep;
    a.decided_at = a.routed_at = absl::FromUnixSeconds(1000);
    a.seq = 42;
    std::vector<StateChange> changes = {a};
    ASSERT_TRUE((*store)->Apply(changes).ok());
    auto loaded = (*store)->Load(absl::FromUnixSeconds(0));
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_EQ(loaded->last_assignment_seq, 42u);
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "UPDATE meta SET value = 7 "
                           "WHERE key = 'last_assignment_seq'",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto loaded = (*store)->Load(absl::FromUnixSeconds(0));
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find(
                "rep ana has a lead with change number 42 but "
                "meta.last_assignment_seq says the last is 7"),
            std::string::npos)
      << loaded.status();
  std::filesystem::remove(path);
}

// A page that cannot be read fails the read of what is due, and a lead on
// it cannot be read: an error, never "not found" — a server must not sweep
// part of what is due as if it were all, nor take a lead it cannot read
// for a new one and hand it out again.
TEST(SqliteStoreTest, ACorruptPageFailsTheReadInsteadOfShorteningIt) {
  const std::string path =
      (testing_util::FreshTestDir("corrupt") / "state.db").string();
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<StateChange> changes;
    for (int i = 0; i < 3000; ++i) {
      Assignment a;
      a.lead_id = absl::StrCat("lead-", i);
      a.owner = "rep";
      a.owner_kind = OwnerKind::kRep;
      a.decided_at = a.routed_at = absl::FromUnixSeconds(1000);
      a.next_due = absl::FromUnixSeconds(5000);
      a.seq = i + 1;
      changes.push_back(a);
    }
    ASSERT_TRUE((*store)->Apply(changes).ok());
    ASSERT_EQ(
        (*store)
            ->DueAfter({absl::InfinitePast(), ""}, absl::InfiniteFuture(), 5000)
            ->size(),
        3000u);
  }  // closed: the WAL is checkpointed into the file
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Every page holding lead-2500 (its table leaf, its primary key's leaf,
  // the leaf of the index of what is due) gets a b-tree page type SQLite
  // does not know.
  const size_t page = 4096;
  int broken = 0;
  for (size_t at = bytes.find("lead-2500"); at != std::string::npos;
       at = bytes.find("lead-2500", at + 1)) {
    if (at / page == 0) continue;
    bytes[(at / page) * page] = static_cast<char>(0xff);
    ++broken;
  }
  ASSERT_GT(broken, 0);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<std::vector<DueLead>> due = (*store)->DueAfter(
      {absl::InfinitePast(), ""}, absl::InfiniteFuture(), 5000);
  ASSERT_FALSE(due.ok()) << due->size() << " due leads read";
  EXPECT_NE(due.status().message().find("reading what is due"),
            std::string::npos)
      << due.status();
  absl::StatusOr<std::optional<Assignment>> lead =
      (*store)->FindAssignment("lead-2500");
  EXPECT_FALSE(lead.ok()) << "read as "
                          << (lead->has_value() ? "found" : "not found");
  EXPECT_TRUE((*store)->FindAssignment("lead-1").ok());
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

// What is due is read in pages by (time, lead id): leads due at the same
// microsecond are neither skipped nor read twice across a page's end, and
// nothing due at or after `before`, or not due at all, is read.
TEST(SqliteStoreTest, DueAfterPagesThroughTiesInOrder) {
  const std::filesystem::path dir = testing_util::FreshTestDir("due_after");
  auto store = SqliteStore::Open((dir / "state.db").string());
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<StateChange> changes;
  const absl::Time t = absl::FromUnixSeconds(5000);
  for (int i = 0; i < 20; ++i) {
    Assignment a;
    a.lead_id = absl::StrCat("lead-", 100 + i);
    a.owner = "rep";
    a.owner_kind = OwnerKind::kRep;
    a.decided_at = a.routed_at = absl::FromUnixSeconds(1000);
    // 8 at t, 8 at t + 1 s, 2 at t + 1 h (past `before`), 2 with nothing due.
    if (i < 18) {
      a.next_due = t + (i < 8    ? absl::ZeroDuration()
                        : i < 16 ? absl::Seconds(1)
                                 : absl::Hours(1));
    }
    a.seq = i + 1;
    changes.push_back(a);
  }
  ASSERT_TRUE((*store)->Apply(changes).ok());
  std::vector<DueLead> read;
  DueLead after{absl::InfinitePast(), ""};
  for (int pages = 0; pages < 20; ++pages) {
    absl::StatusOr<std::vector<DueLead>> page =
        (*store)->DueAfter(after, t + absl::Minutes(1), 3);
    ASSERT_TRUE(page.ok()) << page.status();
    read.insert(read.end(), page->begin(), page->end());
    if (page->size() < 3) break;
    after = page->back();
  }
  ASSERT_EQ(read.size(), 16u);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(read[i].second, absl::StrCat("lead-", 100 + i)) << i;
    EXPECT_EQ(read[i].first, i < 8 ? t : t + absl::Seconds(1)) << i;
  }
  std::filesystem::remove_all(dir);
}

// Schema 6 credits an SLA miss to the rep who missed it: leads stored
// before it get the reps their sla_missed events name, else whoever made a
// late first contact, else (events pruned) the current owner.
TEST(SqliteStoreTest, Schema6CreditsOldMissesToTheRepsThatMissedThem) {
  const std::string path =
      (testing_util::FreshTestDir("schema6") / "state.db").string();
  {
    auto store = SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    auto lead = [](const std::string& id, const std::string& owner) {
      Assignment a;
      a.lead_id = id;
      a.owner = owner;
      a.owner_kind = OwnerKind::kRep;
      a.sla_status = SlaStatus::kMissed;
      a.decided_at = a.routed_at = absl::FromUnixSeconds(1000);
      return a;
    };
    Assignment escalated = lead("L1", "b");  // a missed it, then b had it
    Assignment late = lead("L2", "c");       // c called after the deadline
    late.contacted_by = "c";
    Assignment pruned = lead("L3", "d");  // its events are gone
    LeadEvent missed;
    missed.lead_id = "L1";
    missed.kind = "sla_missed";
    missed.to = "a";
    missed.id = 1;
    missed.at = absl::FromUnixSeconds(2000);
    ASSERT_TRUE((*store)->Apply({escalated, late, pruned, missed}).ok());
  }
  {
    // Back to how schema 5 stored them (without what 6 to 12 added).
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "ALTER TABLE assignments DROP COLUMN clock_status;"
                           "ALTER TABLE assignments DROP COLUMN missed_by;"
                           "ALTER TABLE assignments DROP COLUMN choice;"
                           "ALTER TABLE assignments DROP COLUMN logged;"
                           "ALTER TABLE lead_events DROP COLUMN actor;"
                           "DROP TABLE audit;"
                           "DROP TABLE ruleset_files;"
                           "DROP TABLE rulesets;"
                           "DROP INDEX assignments_by_email;"
                           "DROP INDEX assignments_due;"
                           "DROP INDEX assignments_open_by_rep;"
                           "DROP INDEX assignments_rep_recent;"
                           "DROP INDEX assignments_ended;"
                           "DROP INDEX assignments_by_routed;"
                           "PRAGMA user_version=5;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  std::map<std::string, std::vector<std::string>> missed_by;
  for (const char* id : {"L1", "L2", "L3"}) {
    absl::StatusOr<std::optional<Assignment>> a = (*store)->FindAssignment(id);
    ASSERT_TRUE(a.ok() && a->has_value()) << id;
    missed_by[id] = (*a)->missed_by;
    EXPECT_EQ((*a)->clock_status, SlaStatus::kMissed) << id;
  }
  using Reps = std::vector<std::string>;
  EXPECT_EQ(missed_by["L1"], Reps{"a"});
  EXPECT_EQ(missed_by["L2"], Reps{"c"});
  EXPECT_EQ(missed_by["L3"], Reps{"d"});
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

}  // namespace
}  // namespace leadroute::runtime
