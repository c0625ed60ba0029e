// The PostgreSQL store on a real server, where it differs from SQLite: a
// batch commits whole or not at all through its pipeline; every column
// comes back as written (NUL bytes too, as U+FFFD); a commit whose answer
// was lost is not applied twice on its retry; a stopped or restarted
// database makes calls fail with UNAVAILABLE, then resume; and connections
// killed at random in the middle of commits lose and duplicate nothing.
// What it shares with SQLite, the whole state suite checks
// (state_pg_test).
#include "runtime/pg_store.h"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/pg/pg_server.h"
#include "tests/test_dir.h"

namespace leadroute::runtime {

class PgStoreTestPeer {
 public:
  // As if the answer to a commit of `size` changes numbered `first` to
  // `last` never came: the last commit made (`landed`), or one sent after
  // it that never reached the database.
  static void LoseAnswer(PgStore& store, bool landed, uint64_t first,
                         uint64_t last, size_t size) {
    if (!landed) ++store.commits_sent_;
    store.unknown_ = PgStore::Unknown{store.token_base_ + store.commits_sent_,
                                      size, first, last};
  }
};

namespace {

using testing_util::PgServer;

const absl::Time kT0 = absl::FromUnixSeconds(1795000000);

Assignment Lead(const std::string& id, uint64_t seq) {
  Assignment a;
  a.lead_id = id;
  a.owner = "a";
  a.owner_kind = OwnerKind::kRep;
  a.team = "rr";
  a.decided_at = a.routed_at = kT0 + absl::Seconds(seq);
  a.seq = seq;
  return a;
}

LeadEvent Event(const std::string& id, uint64_t n) {
  LeadEvent e;
  e.lead_id = id;
  e.at = kT0 + absl::Seconds(n);
  e.kind = "assigned";
  e.to = "a";
  e.id = n;
  return e;
}

class PgStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    auto server = PgServer::Start(testing_util::FreshTestDir("pg") / "cluster");
    ASSERT_TRUE(server.ok()) << server.status();
    pg_ = *std::move(server);
    auto store = PgStore::Open(pg_->conninfo());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  std::string Count(const std::string& table) {
    return pg_->Psql(absl::StrCat("SELECT COUNT(*) FROM ", table))
        .value_or("psql failed");
  }

  std::unique_ptr<PgServer> pg_;
  std::unique_ptr<PgStore> store_;
};

TEST_F(PgStoreTest, ABatchCommitsWholeOrNotAtAll) {
  // A negative LIMIT is refused by PostgreSQL: the batch's last statement
  // fails after the first two ran.
  std::vector<StateChange> bad = {Lead("L1", 1), Event("L1", 2),
                                  EventPrune{.before = kT0, .limit = -1}};
  absl::Status s = store_->Apply(bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
  EXPECT_NE(s.message().find("LIMIT must not be negative"), std::string::npos)
      << s;
  EXPECT_EQ(Count("assignments"), "0\n");
  EXPECT_EQ(Count("lead_events"), "0\n");
  // The connection is fine for the next batch.
  std::vector<StateChange> good = {Lead("L1", 1), Event("L1", 2)};
  ASSERT_TRUE(store_->Apply(good).ok());
  absl::StatusOr<std::optional<Assignment>> found =
      store_->FindAssignment("L1");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->seq, 1u);
  EXPECT_EQ(Count("lead_events"), "1\n");
}

// A big batch (one pipeline) comes back as applied one by one: a lead
// written twice in it keeps its last row, and an event without an id is
// numbered after those before it.
TEST_F(PgStoreTest, ABigBatchComesBackAsAppliedInOrder) {
  constexpr int kLeads = 341;
  std::vector<StateChange> batch;
  for (int i = 1; i <= kLeads; ++i) {
    batch.push_back(Lead(absl::StrCat("L", i), i));
    batch.push_back(Event(absl::StrCat("L", i), i));
    if (i == 100) {
      RepStatus away;
      away.rep = "a";
      away.availability = Availability::kAway;
      away.set_at = kT0;
      batch.push_back(away);
    }
  }
  Assignment again = Lead("L7", kLeads + 1);
  again.owner = "b";
  batch.push_back(again);
  // Numbered after the highest id written before it.
  LeadEvent unnumbered = Event("L100", 0);
  unnumbered.kind = "note";
  batch.push_back(unnumbered);
  ASSERT_TRUE(store_->Apply(batch).ok());
  EXPECT_EQ(Count("assignments"), absl::StrCat(kLeads, "\n"));
  EXPECT_EQ(Count("lead_events"), absl::StrCat(kLeads + 1, "\n"));
  EXPECT_EQ(Count("rep_status"), "1\n");
  for (int i : {1, 7, 100, 256, 257, 340, kLeads}) {
    absl::StatusOr<std::optional<Assignment>> found =
        store_->FindAssignment(absl::StrCat("L", i));
    ASSERT_TRUE(found.ok()) << found.status();
    ASSERT_TRUE(found->has_value()) << i;
    EXPECT_EQ((*found)->seq, i == 7 ? kLeads + 1u : static_cast<uint64_t>(i));
    EXPECT_EQ((*found)->owner, i == 7 ? "b" : "a");
  }
  absl::StatusOr<std::vector<LeadEvent>> events = store_->EventsAfter(0, 1000);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), kLeads + 1u);
  // Numbered in order; the unnumbered one after the highest id it saw.
  for (int i = 0; i < kLeads; ++i) EXPECT_EQ((*events)[i].id, i + 1u);
  EXPECT_EQ(events->back().kind, "note");
  EXPECT_EQ(events->back().id, kLeads + 1u);
}

// Lookups from many threads at once (they share the readers' connection):
// each thread gets its own lead's answer, present or not, the same id asked
// by two threads at once is answered to both, and an id with a NUL byte is
// found as it was stored.
TEST_F(PgStoreTest, LookupsFromManyThreadsAtOnceEachGetTheirOwnAnswer) {
  std::vector<StateChange> batch;
  for (int i = 0; i < 200; ++i) {
    Assignment a = Lead(absl::StrCat("K", i), i + 1);
    a.owner = absl::StrCat("rep", i % 7);
    batch.push_back(a);
  }
  const std::string nul_id("K\0nul", 5);
  batch.push_back(Lead(nul_id, 201));
  ASSERT_TRUE(store_->Apply(batch).ok());
  std::atomic<int> wrong{0}, found{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < 50; ++k) {
        // Ids 0..399: the first 200 stored; threads overlap.
        const int i = (t * 37 + k * 11) % 400;
        auto got = store_->FindAssignment(absl::StrCat("K", i));
        if (!got.ok() || got->has_value() != (i < 200) ||
            (i < 200 && ((*got)->owner != absl::StrCat("rep", i % 7) ||
                         (*got)->lead_id != absl::StrCat("K", i)))) {
          ++wrong;
        } else if (i < 200) {
          ++found;
        }
        if (k % 10 == 0) {
          auto odd = store_->FindAssignment(nul_id);
          if (!odd.ok() || !odd->has_value()) ++wrong;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(found.load(), 0);
}

TEST_F(PgStoreTest, EveryColumnComesBackAsWritten) {
  Assignment a = Lead(std::string("L\0x", 3), 7);
  a.status = LeadStatus::kClosed;
  a.email_key = "pat@example.com";
  a.repeat_of = "L0";
  a.decision_id = "d-1";
  a.ruleset = "w 1";
  a.priority = "hot";
  a.priority_rank = 2;
  a.sla = absl::Minutes(15);
  a.channel = "phone";
  a.respond_by = kT0 + absl::Minutes(15);
  a.ended_at = kT0 + absl::Hours(2);
  a.score = -40;
  a.routed_at = kT0 + absl::Microseconds(123456789);
  a.sla_status = SlaStatus::kMissed;
  a.contact_channel = "email";
  a.contacted_by = "b";
  a.reached[static_cast<int>(Outcome::kContacted)] = kT0 + absl::Hours(1);
  a.reached[static_cast<int>(Outcome::kWon)] = kT0 + absl::Hours(2);
  a.outcome = Outcome::kWon;
  a.escalation = "hot_leads";
  a.escalation_step = 2;
  a.hops = 1;
  a.had_by = {"a", "c"};
  a.next_due = kT0 + absl::Minutes(5);
  a.clock_start = kT0;
  a.clock_status = SlaStatus::kMet;
  a.missed_by = {"a"};
  a.source = "webinar";
  a.rules = "assign/hot;sla/s";
  a.choice = 2;
  LeadEvent e = Event(a.lead_id, 8);
  e.from = "a";
  e.reason = "why";
  e.owner_kind = OwnerKind::kRep;
  e.team = "rr";
  e.channel = "phone";
  e.priority = "hot";
  e.sla = absl::Minutes(15);
  e.respond_by = a.respond_by;
  e.actor = "alice";
  std::vector<StateChange> batch = {
      a,
      e,
      RepStatus{"b", Availability::kOutOfOffice, kT0 + absl::Hours(24), "leave",
                kT0},
      TeamCursor{"rr", "b", {{"a", 3}, {"b", -2}}},
      Cursor{"hook", 8},
      AuditRecord{0, kT0, "alice", "ipv4:127.0.0.1:1", "rep.status", "b",
                  "available", "out_of_office", "leave"}};
  ASSERT_TRUE(store_->Apply(batch).ok());

  // NUL is kept as U+FFFD, and looked up the same way.
  absl::StatusOr<std::optional<Assignment>> got =
      store_->FindAssignment(a.lead_id);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(got->has_value());
  const Assignment& b = **got;
  EXPECT_EQ(b.lead_id, "L\xEF\xBF\xBDx");
  EXPECT_EQ(b.owner, a.owner);
  EXPECT_EQ(b.owner_kind, a.owner_kind);
  EXPECT_EQ(b.team, a.team);
  EXPECT_EQ(b.status, a.status);
  EXPECT_EQ(b.email_key, a.email_key);
  EXPECT_EQ(b.repeat_of, a.repeat_of);
  EXPECT_EQ(b.decision_id, a.decision_id);
  EXPECT_EQ(b.ruleset, a.ruleset);
  EXPECT_EQ(b.priority, a.priority);
  EXPECT_EQ(b.priority_rank, a.priority_rank);
  EXPECT_EQ(b.sla, a.sla);
  EXPECT_EQ(b.channel, a.channel);
  EXPECT_EQ(b.decided_at, a.decided_at);
  EXPECT_EQ(b.respond_by, a.respond_by);
  EXPECT_EQ(b.ended_at, a.ended_at);
  EXPECT_EQ(b.score, a.score);
  EXPECT_EQ(b.seq, a.seq);
  EXPECT_EQ(b.routed_at, a.routed_at);
  EXPECT_EQ(b.sla_status, a.sla_status);
  EXPECT_EQ(b.contact_channel, a.contact_channel);
  EXPECT_EQ(b.contacted_by, a.contacted_by);
  EXPECT_EQ(b.reached, a.reached);
  EXPECT_EQ(b.outcome, a.outcome);
  EXPECT_EQ(b.escalation, a.escalation);
  EXPECT_EQ(b.escalation_step, a.escalation_step);
  EXPECT_EQ(b.hops, a.hops);
  EXPECT_EQ(b.had_by, a.had_by);
  EXPECT_EQ(b.next_due, a.next_due);
  EXPECT_EQ(b.clock_start, a.clock_start);
  EXPECT_EQ(b.clock_status, a.clock_status);
  EXPECT_EQ(b.missed_by, a.missed_by);
  EXPECT_EQ(b.choice, 2);
  EXPECT_EQ(b.source, a.source);
  EXPECT_EQ(b.rules, a.rules);

  absl::StatusOr<std::vector<LeadEvent>> events = store_->EventsAfter(0, 10);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const LeadEvent& f = events->front();
  EXPECT_EQ(f.lead_id, b.lead_id);
  EXPECT_EQ(f.at, e.at);
  EXPECT_EQ(f.kind, e.kind);
  EXPECT_EQ(f.from, e.from);
  EXPECT_EQ(f.to, e.to);
  EXPECT_EQ(f.reason, e.reason);
  EXPECT_EQ(f.id, e.id);
  EXPECT_EQ(f.owner_kind, e.owner_kind);
  EXPECT_EQ(f.team, e.team);
  EXPECT_EQ(f.channel, e.channel);
  EXPECT_EQ(f.priority, e.priority);
  EXPECT_EQ(f.sla, e.sla);
  EXPECT_EQ(f.respond_by, e.respond_by);
  EXPECT_EQ(f.actor, e.actor);

  absl::StatusOr<StateSnapshot> snapshot = store_->Load(kT0);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  ASSERT_EQ(snapshot->reps.size(), 1u);
  EXPECT_EQ(snapshot->reps[0].rep, "b");
  EXPECT_EQ(snapshot->reps[0].availability, Availability::kOutOfOffice);
  EXPECT_EQ(snapshot->reps[0].until, kT0 + absl::Hours(24));
  EXPECT_EQ(snapshot->reps[0].note, "leave");
  ASSERT_EQ(snapshot->teams.size(), 1u);
  EXPECT_EQ(snapshot->teams[0].last_rep, "b");
  EXPECT_EQ(
      snapshot->teams[0].running,
      (std::vector<std::pair<std::string, int64_t>>{{"a", 3}, {"b", -2}}));
  EXPECT_EQ(snapshot->last_assignment_seq, 7u);
  EXPECT_EQ(snapshot->last_event_id, 8u);
  EXPECT_EQ(store_->CursorValue("hook").value_or(std::nullopt), 8u);
  absl::StatusOr<std::vector<AuditRecord>> audit = store_->Audit({});
  ASSERT_TRUE(audit.ok()) << audit.status();
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ((*audit)[0].id, 1u);
  EXPECT_EQ((*audit)[0].after, "out_of_office");
  absl::StatusOr<std::vector<DueLead>> due =
      store_->DueAfter({absl::InfinitePast(), ""}, kT0 + absl::Hours(1), 10);
  ASSERT_TRUE(due.ok()) << due.status();
  EXPECT_EQ(*due, (std::vector<DueLead>{{*a.next_due, b.lead_id}}));
}

TEST_F(PgStoreTest, ARetriedCommitWhoseAnswerWasLostIsNotAppliedTwice) {
  std::vector<StateChange> batch = {Lead("L1", 1), Event("L1", 2)};
  ASSERT_TRUE(store_->Apply(batch).ok());
  // The commit landed but its answer never came: the CommitLog retries the
  // same batch, which would otherwise fail on event 2's key forever.
  PgStoreTestPeer::LoseAnswer(*store_, /*landed=*/true, 1, 2, batch.size());
  EXPECT_TRUE(store_->Apply(batch).ok());
  EXPECT_EQ(store_->recovered_commits(), 1u);
  EXPECT_EQ(Count("lead_events"), "1\n");
  // A batch whose answer was lost and that did not land is applied.
  std::vector<StateChange> next = {Lead("L2", 3), Event("L2", 4)};
  PgStoreTestPeer::LoseAnswer(*store_, /*landed=*/false, 3, 4, next.size());
  ASSERT_TRUE(store_->Apply(next).ok());
  EXPECT_EQ(store_->recovered_commits(), 1u);
  EXPECT_EQ(Count("lead_events"), "2\n");
}

TEST_F(PgStoreTest, ALostDatabaseIsUnavailableUntilItIsBack) {
  std::vector<StateChange> first = {Lead("L1", 1), Event("L1", 2)};
  ASSERT_TRUE(store_->Apply(first).ok());
  ASSERT_TRUE(store_->FindAssignment("L1").ok());

  ASSERT_TRUE(pg_->Stop().ok());
  std::vector<StateChange> second = {Lead("L2", 3), Event("L2", 4)};
  absl::Status s = store_->Apply(second);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  absl::StatusOr<std::optional<Assignment>> read = store_->FindAssignment("L1");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable)
      << read.status();
  EXPECT_EQ(store_->EventsAfter(0, 10).status().code(),
            absl::StatusCode::kUnavailable);

  ASSERT_TRUE(pg_->Restart().ok());
  // The retry commits once; reads reconnect by themselves.
  EXPECT_TRUE(store_->Apply(second).ok());
  read = store_->FindAssignment("L2");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->has_value());
  EXPECT_EQ(Count("lead_events"), "2\n");

  // A restart between two uses of the same connections: the first use
  // after it finds them broken. Reads try once more by themselves; a
  // commit fails (UNAVAILABLE) and its retry commits once.
  ASSERT_TRUE(pg_->Restart().ok());
  read = store_->FindAssignment("L1");
  EXPECT_TRUE(read.ok()) << read.status();
  std::vector<StateChange> third = {Lead("L3", 5), Event("L3", 6)};
  int tries = 1;
  while (!store_->Apply(third).ok() && tries < 5) ++tries;
  EXPECT_LE(tries, 2);
  EXPECT_EQ(Count("lead_events"), "3\n");
}

TEST_F(PgStoreTest, ConnectionsKilledMidCommitLoseAndDuplicateNothing) {
  // Another client kills the store's connections every 5 to 40 ms while
  // batches commit, as a failover or an administrator would.
  std::atomic<bool> done{false};
  std::atomic<int> killed{0};
  std::thread killer([&] {
    std::mt19937 random(7);
    PGconn* c = PQconnectdb(
        absl::StrCat(pg_->conninfo(), " application_name=killer").c_str());
    while (!done.load()) {
      PGresult* r = PQexec(c,
                           "SELECT COUNT(pg_terminate_backend(pid)) FROM "
                           "pg_stat_activity WHERE application_name = "
                           "'leadroute'");
      if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        killed += std::atoi(PQgetvalue(r, 0, 0));
      }
      PQclear(r);
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::uniform_int_distribution<int>(5, 40)(random)));
    }
    PQfinish(c);
  });
  absl::Cleanup stop_killer = [&] {
    done = true;
    if (killer.joinable()) killer.join();
  };
  constexpr int kBatches = 150;
  uint64_t n = 0;
  int failures = 0;
  for (int b = 0; b < kBatches; ++b) {
    std::vector<StateChange> batch;
    for (int i = 0; i < 20; ++i) {
      const std::string id = absl::StrCat("L", b, "-", i);
      ++n;
      batch.push_back(Lead(id, n));
      ++n;
      batch.push_back(Event(id, n));
    }
    // As the CommitLog does: the same batch until it commits.
    int tries = 0;
    absl::Status s;
    while (!(s = store_->Apply(batch)).ok() && ++tries < 200) {
      ASSERT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
      ++failures;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(s.ok()) << s;
  }
  std::move(stop_killer).Invoke();
  EXPECT_GT(killed.load(), 0);
  EXPECT_GT(failures, 0);
  EXPECT_EQ(Count("assignments"), absl::StrCat(kBatches * 20, "\n"));
  EXPECT_EQ(Count("lead_events"), absl::StrCat(kBatches * 20, "\n"));
  EXPECT_EQ(pg_->Psql("SELECT value FROM meta WHERE key = "
                      "'last_assignment_seq'")
                .value_or(""),
            absl::StrCat(n - 1, "\n"));
  std::printf("%d connections killed, %d commits failed, %llu found landed\n",
              killed.load(), failures,
              static_cast<unsigned long long>(store_->recovered_commits()));
}

// Kills every connection of the stores (application "leadroute").
void KillStoreConnections(PgServer& pg) {
  ASSERT_TRUE(pg.Psql("SELECT COUNT(pg_terminate_backend(pid)) FROM "
                      "pg_stat_activity WHERE application_name = 'leadroute'")
                  .ok());
}

TEST_F(PgStoreTest, OneReplicaAtATimeWritesAndOneTakenOverIsFenced) {
  auto a = PgStore::OpenReplica(pg_->conninfo());
  auto b = PgStore::OpenReplica(pg_->conninfo());
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  std::vector<StateChange> first = {Lead("L1", 1), Event("L1", 2)};
  EXPECT_EQ((*a)->Apply(first).code(), absl::StatusCode::kFailedPrecondition);

  PgStore::Writer current;
  EXPECT_EQ((*a)->TryBecomeWriter("10.0.0.1:50051", &current).value_or(false),
            true);
  EXPECT_EQ((*a)->epoch(), 1u);
  EXPECT_EQ((*b)->TryBecomeWriter("10.0.0.2:50051", &current).value_or(true),
            false);
  EXPECT_EQ(current.epoch, 1u);
  EXPECT_EQ(current.address, "10.0.0.1:50051");
  ASSERT_TRUE((*a)->Apply(first).ok());

  // A's session ends (its process died, or its connection was cut): the
  // lock is free once the server has ended it, and b, polling as a
  // replica does, takes over as epoch 2.
  KillStoreConnections(*pg_);
  bool taken = false;
  for (int i = 0; i < 500 && !taken; ++i) {
    taken = (*b)->TryBecomeWriter("10.0.0.2:50051", &current).value_or(false);
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(taken);
  EXPECT_EQ((*b)->epoch(), 2u);
  EXPECT_EQ((*b)->CurrentWriter().value_or(PgStore::Writer{}).address,
            "10.0.0.2:50051");
  EXPECT_TRUE((*b)->CheckStillWriter().ok());
  // A, between commits, reads that it was taken over: fenced.
  EXPECT_FALSE((*a)->fenced());
  absl::Status checked = (*a)->CheckStillWriter();
  EXPECT_EQ(checked.code(), absl::StatusCode::kFailedPrecondition) << checked;
  EXPECT_NE(checked.message().find("epoch 2 took over"), std::string::npos)
      << checked;
  EXPECT_TRUE((*a)->fenced());
  // A reconnects and finds the lock taken: fenced, for good. (Its first
  // try may still go out on the old connection, if the server had not
  // closed it yet, and fail UNAVAILABLE.)
  std::vector<StateChange> second = {Lead("L2", 3), Event("L2", 4)};
  absl::Status s = (*a)->Apply(second);
  if (s.code() == absl::StatusCode::kUnavailable) s = (*a)->Apply(second);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE((*a)->fenced());
  EXPECT_EQ((*a)->Apply(second).code(), absl::StatusCode::kFailedPrecondition);
  // B writes on from what the store holds.
  ASSERT_TRUE((*b)->Apply(second).ok());
  EXPECT_EQ(Count("lead_events"), "2\n");

  // B's connection is cut but nobody takes over: the retry takes the lock
  // back (same epoch) and commits.
  KillStoreConnections(*pg_);
  std::vector<StateChange> third = {Lead("L3", 5), Event("L3", 6)};
  int tries = 1;
  while (!(*b)->Apply(third).ok() && tries < 5) ++tries;
  EXPECT_LE(tries, 2);
  EXPECT_FALSE((*b)->fenced());
  EXPECT_EQ((*b)->epoch(), 2u);
  EXPECT_EQ(Count("lead_events"), "3\n");

  // The epoch raised behind the lock's back (what a pooler in transaction
  // mode could let happen): b's next commit is refused by the fence, and
  // writes nothing.
  ASSERT_TRUE(pg_->Psql("UPDATE leadroute_writer SET epoch = epoch + 1").ok());
  std::vector<StateChange> fourth = {Lead("L4", 7), Event("L4", 8)};
  s = (*b)->Apply(fourth);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("epoch 3 took over"), std::string::npos) << s;
  EXPECT_TRUE((*b)->fenced());
  EXPECT_EQ(Count("lead_events"), "3\n");
}

}  // namespace
}  // namespace leadroute::runtime
