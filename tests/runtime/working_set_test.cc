// The Assigner's working set: a bounded number of leads in memory, every
// other lead read from the real SQLite store when asked about — old lead
// ids answered with their assignment, repeats sticking to a lead long gone
// from memory, concurrent retries assigning each id once, a restart that
// loads the live state alone, a removed rep's open leads handed over from
// the store, and lead retention.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "runtime/sweeper.h"
#include "tests/runtime/forwarding_store.h"
#include "tests/runtime/state_fixture.h"

namespace leadroute::runtime {
namespace {

constexpr const char* kRules = R"(
ruleset "w" version "1"
schema {
  email: string
  region: string default "rr"
}
rep a { }
rep b { }
rep c { }
rep x { }
team rr { members = [a, b, c] strategy = round_robin }
team least { members = [a, b, c] strategy = least_loaded }
queue q
assign {
  rule to_x when region == "x" then rep x else queue q
  rule least when region == "least" then team least
  otherwise team rr
}
)";

class WorkingSetTest : public StateFixture {
 protected:
  void SetUp() override {
    options_.lead_cache = 8;
    SetUpState("working-set", kRules);
  }

  // Routes lead `id` and waits until it is durable.
  Decision Route(const std::string& id, const std::string& region = "rr",
                 const std::string& email = "", bool reroute = false) {
    Lead lead{id, {{"region", Value(region)}}};
    if (!email.empty()) lead.attributes["email"] = Value(email);
    absl::StatusOr<Decision> d = Decide(lead, {clock_.Now(), false, {}});
    EXPECT_TRUE(d.ok()) << d.status();
    absl::StatusOr<uint64_t> seq =
        Assign({absl::StrCat("decision-", id), "w 1", reroute}, &*d);
    EXPECT_TRUE(seq.ok()) << seq.status();
    EXPECT_TRUE(assigner_->log().WaitDurable(seq.value_or(0)).ok());
    return *d;
  }

  std::map<std::string, int64_t> OpenLoads() {
    std::map<std::string, int64_t> out;
    for (const RepLoad& l : assigner_->Loads(program())) out[l.rep] = l.open;
    return out;
  }
};

TEST_F(WorkingSetTest, StaysBoundedAndEveryOldLeadStillAnswers) {
  std::map<std::string, std::string> owner;
  for (int i = 0; i < 300; ++i) {
    const std::string id = absl::StrCat("L", i);
    owner[id] = Route(id, "rr", absl::StrCat("p", i, "@example.com")).owner;
    // The cap, and the lead just routed until its commit is seen.
    ASSERT_LE(assigner_->WorkingSetSize(), 9u) << "after " << id;
  }
  for (const auto& [id, want] : owner) {
    const Decision again = Route(id);
    EXPECT_TRUE(again.replayed) << id;
    EXPECT_EQ(again.owner, want) << id;
    absl::StatusOr<Assignment> got = assigner_->Get(id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->owner, want) << id;
  }
  EXPECT_LE(assigner_->WorkingSetSize(), 9u);
  EXPECT_EQ(assigner_->Get("never").status().code(),
            absl::StatusCode::kNotFound);

  // Every change works on a lead read back from the store.
  ASSERT_TRUE(assigner_->Close("L0", "done").ok());
  EXPECT_EQ(assigner_->Close("L0", "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<Assigner::Changed> contacted =
      assigner_->RecordContact("L1", "phone", std::nullopt);
  ASSERT_TRUE(contacted.ok()) << contacted.status();
  EXPECT_TRUE(
      contacted->assignment.reached[static_cast<int>(Outcome::kContacted)]);
  const Decision rerouted = Route("L2", "x", "", /*reroute=*/true);
  EXPECT_FALSE(rerouted.replayed);
  EXPECT_EQ(rerouted.owner, "x");

  // Loads count what the store holds: 300 leads round robin, one closed,
  // one moved to x.
  std::map<std::string, int64_t> want{
      {"a", 100}, {"b", 100}, {"c", 100}, {"x", 1}};
  --want[owner["L0"]];
  --want[owner["L2"]];
  EXPECT_EQ(OpenLoads(), want);
  Reopen();
  EXPECT_EQ(assigner_->WorkingSetSize(), 0u);
  EXPECT_EQ(OpenLoads(), want);
}

TEST_F(WorkingSetTest, ARepeatSticksToALeadNoLongerInMemory) {
  const std::string first = Route("first", "rr", "pat@example.com").owner;
  for (int i = 0; i < 20; ++i) {
    Route(absl::StrCat("other", i), "rr", absl::StrCat("o", i, "@x.example"));
  }
  const Decision again = Route("again", "rr", "PAT@example.com");
  EXPECT_EQ(again.owner, first);
  EXPECT_EQ(again.repeat_of, "first");
  // And again after a restart, from the store alone.
  for (int i = 20; i < 40; ++i) {
    Route(absl::StrCat("other", i), "rr", absl::StrCat("o", i, "@x.example"));
  }
  Reopen();
  const Decision third = Route("third", "rr", "pat@example.com");
  EXPECT_EQ(third.owner, first);
  EXPECT_EQ(third.repeat_of, "again");
}

// Counts the store's point reads.
class CountingStore final : public ForwardingStore {
 public:
  struct Counts {
    std::atomic<int> finds{0};
    std::atomic<int> by_email{0};
  };
  CountingStore(std::unique_ptr<StateStore> real,
                std::shared_ptr<Counts> counts)
      : ForwardingStore(std::move(real)), counts_(std::move(counts)) {}
  absl::StatusOr<std::optional<Assignment>> FindAssignment(
      const std::string& lead_id) override {
    ++counts_->finds;
    return ForwardingStore::FindAssignment(lead_id);
  }
  absl::StatusOr<std::optional<Assignment>> LastByEmail(
      const std::string& email_key) override {
    ++counts_->by_email;
    return ForwardingStore::LastByEmail(email_key);
  }

 private:
  std::shared_ptr<Counts> counts_;
};

// Once the Assigner has read the store's lead ids and email keys, a new
// lead from a new person is routed with no read of the store; a lead or a
// person it has from before the restart is still found there.
TEST_F(WorkingSetTest, NewLeadsNeedNoReadAndOldOnesAreStillFound) {
  std::map<std::string, std::string> owner;
  for (int i = 0; i < 300; ++i) {
    const std::string id = absl::StrCat("L", i);
    owner[id] = Route(id, "rr", absl::StrCat("p", i, "@example.com")).owner;
  }
  auto counts = std::make_shared<CountingStore::Counts>();
  wrap_ = [counts](std::unique_ptr<StateStore> s) {
    return std::make_unique<CountingStore>(std::move(s), counts);
  };
  Reopen();
  for (int tries = 0; !assigner_->KeysKnown(); ++tries) {
    ASSERT_LT(tries, 6000) << "the lead ids were never read";
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int i = 0; i < 200; ++i) {
    const Decision d =
        Route(absl::StrCat("N", i), "rr", absl::StrCat("n", i, "@example.com"));
    EXPECT_FALSE(d.replayed);
    EXPECT_TRUE(d.repeat_of.empty());
  }
  // A "perhaps" for a key never added costs one read: at most one in 760
  // (key_filter.h).
  EXPECT_LE(counts->finds.load(), 3);
  EXPECT_LE(counts->by_email.load(), 3);

  // Every lead from before answers with its owner, read from the store.
  for (const auto& [id, want] : owner) {
    const Decision again = Route(id);
    EXPECT_TRUE(again.replayed) << id;
    EXPECT_EQ(again.owner, want) << id;
  }
  EXPECT_GE(counts->finds.load(), 300 - 8);
  // A person from before sticks to their rep, as does one from after.
  const Decision repeat = Route("R1", "rr", "P7@example.com");
  EXPECT_EQ(repeat.repeat_of, "L7");
  EXPECT_EQ(repeat.owner, owner["L7"]);
  EXPECT_EQ(Route("R2", "rr", "n5@example.com").repeat_of, "N5");
}

// Four callers route the same 200 lead ids in different orders while the
// working set (3 leads) evicts all the time: each id is assigned once, all
// callers hear the same owner, and the rotation stays exact.
TEST_F(WorkingSetTest, ConcurrentRoutesOfTheSameIdsAssignEachOnce) {
  options_.lead_cache = 3;
  Reopen();
  constexpr int kLeads = 200, kThreads = 4;
  std::vector<std::map<std::string, std::string>> heard(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int> order(kLeads);
      for (int i = 0; i < kLeads; ++i) order[i] = i;
      std::shuffle(order.begin(), order.end(), std::mt19937(t));
      for (int i : order) {
        const std::string id = absl::StrCat("C", i);
        Lead lead{id, {{"region", Value(std::string("rr"))}}};
        absl::StatusOr<BoundLead> bound = BindLead(program(), lead);
        ASSERT_TRUE(bound.ok());
        Decision d = policy_->DecideBound(id, *bound, {clock_.Now()});
        absl::StatusOr<uint64_t> seq =
            assigner_->Assign(program(), *bound, {"d", "w 1", false}, &d);
        ASSERT_TRUE(seq.ok()) << seq.status();
        heard[t][id] = d.owner;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(heard[t], heard[0]);
  std::map<std::string, int> per_rep;
  for (const auto& [id, owner] : heard[0]) ++per_rep[owner];
  EXPECT_EQ(per_rep,
            (std::map<std::string, int>{{"a", 67}, {"b", 67}, {"c", 66}}));
  ASSERT_TRUE(assigner_->log().WaitDurable(assigner_->log().Next() - 1).ok());
  absl::StatusOr<std::vector<LeadEvent>> events =
      assigner_->committed().EventsAfter(0, 10 * kLeads * kThreads);
  ASSERT_TRUE(events.ok());
  std::map<std::string, int> assigned;
  for (const LeadEvent& e : *events) {
    if (e.kind == "assigned") ++assigned[e.lead_id];
  }
  ASSERT_EQ(assigned.size(), static_cast<size_t>(kLeads));
  for (const auto& [id, n] : assigned) EXPECT_EQ(n, 1) << id;
}

// A reload without rep x hands over x's open leads, though none of them is
// in memory any more: they are found through the store.
TEST_F(WorkingSetTest, ARemovedRepsOpenLeadsAreHandedOverFromTheStore) {
  for (int i = 0; i < 12; ++i) Route(absl::StrCat("X", i), "x");
  for (int i = 0; i < 12; ++i) Route(absl::StrCat("R", i));
  ASSERT_TRUE(assigner_->Close("X3", "done").ok());
  Reopen();
  std::string without_x = kRules;
  without_x.erase(without_x.find("rep x { }"), 9);
  without_x.replace(without_x.find("then rep x else queue q"), 23,
                    "then queue q");
  compiler::CheckResult next = compiler::CheckText("t.route", without_x);
  ASSERT_TRUE(next.ok());
  const Assigner::HandOver out = assigner_->HandOverRemovedReps(
      *next.program, RemovedReps::kRelease, "x left");
  ASSERT_EQ(out.reps.size(), 1u);
  EXPECT_EQ(out.reps[0].rep, "x");
  EXPECT_EQ(out.reps[0].open, 11);
  EXPECT_EQ(out.reps[0].released, 11);
  ASSERT_TRUE(assigner_->log().WaitDurable(out.seq).ok());
  EXPECT_EQ(assigner_->OpenLeadsOf("x"), 0);
  for (int i = 0; i < 12; ++i) {
    absl::StatusOr<Assignment> a = assigner_->Get(absl::StrCat("X", i));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->status, i == 3 ? LeadStatus::kClosed : LeadStatus::kReleased)
        << i;
  }
}

// --lead-retention deletes released and closed leads that ended long
// enough ago, a bounded batch at a time until none is left; open leads
// stay whatever their age, and a deleted lead id is a new lead again.
TEST_F(WorkingSetTest, LeadRetentionDeletesEndedLeadsOnly) {
  options_.lead_cache = 1;
  Reopen();
  for (int i = 0; i < 20; ++i) Route(absl::StrCat("T", i));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(assigner_->Close(absl::StrCat("T", i), "done").ok());
  }
  clock_.Advance(absl::Hours(72));
  ASSERT_TRUE(assigner_->Close("T10", "just now").ok());
  {
    Sweeper sweeper(
        assigner_.get(), &clock_, [] { return nullptr; },
        SweeperOptions{.interval = absl::Milliseconds(5),
                       .prune_every = absl::Hours(1),
                       .prune_batch = 3,
                       .lead_retention = absl::Hours(24)});
    for (int i = 0; i < 1000; ++i) {
      if (assigner_->committed().PrunedAssignments().value_or(0) >= 10) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_EQ(*assigner_->committed().PrunedAssignments(), 10u);
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrCat("T", i);
    EXPECT_EQ(assigner_->Get(id).ok(), i >= 10) << id;
  }
  EXPECT_FALSE(Route("T0").replayed);
  EXPECT_TRUE(Route("T15").replayed);
}

}  // namespace
}  // namespace leadroute::runtime
