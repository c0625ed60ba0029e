// The PostgreSQL StateStore; see pg_store.h.
#include "runtime/pg_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <random>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "runtime/pg_connection.h"
#include "runtime/pg_schema.h"
#include "runtime/store_rows.h"

namespace leadroute::runtime {

namespace {

using pg::Params;
using pg::Row;

// The key of the commit token in `meta` (pg_store.h).
constexpr const char* kCommitTokenKey = "commit_token";

// Takes the writer lock on `c` if it is free: a session advisory lock (any
// number other than the migration's, pg_schema.cc, the same in every
// build). Whether it was taken.
absl::StatusOr<bool> TakeWriterLock(pg::Connection& c, absl::string_view what) {
  bool locked = false;
  pg::Params none;
  RETURN_IF_ERROR(c.Query(
      "SELECT pg_try_advisory_lock(7810826119401911413)", none,
      [&](const pg::Row& r) { locked = r.Text(0) == "t"; }, what));
  return locked;
}

// "$1, $2, ..., $n".
std::string Placeholders(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) absl::StrAppend(&out, i > 1 ? ", $" : "$", i);
  return out;
}

// "INSERT INTO table (columns) VALUES ($1...) ON CONFLICT (key) DO UPDATE
// SET each other column": a row written whole, new or not.
std::string Upsert(absl::string_view table, absl::string_view columns,
                   int count) {
  std::vector<std::string> sets;
  std::vector<absl::string_view> names = absl::StrSplit(columns, ", ");
  for (size_t i = 1; i < names.size(); ++i) {
    sets.push_back(absl::StrCat(names[i], " = EXCLUDED.", names[i]));
  }
  return absl::StrCat("INSERT INTO ", table, " (", columns, ") VALUES (",
                      Placeholders(count), ") ON CONFLICT (", names[0],
                      ") DO UPDATE SET ", absl::StrJoin(sets, ", "));
}

// The writer's statements, prepared on its connection.
struct Statement {
  const char* name;
  std::string sql;
};
const std::vector<Statement>& WriterStatements() {
  static const std::vector<Statement>* statements = new std::vector<Statement>{
      {"put_assignment",
       Upsert("assignments", kAssignmentColumns, kAssignmentColumnCount)},
      {"put_rep",
       Upsert("rep_status", "rep, availability, until_us, note, set_at_us", 5)},
      {"put_team", Upsert("team_cursors", "team, last_rep, running", 3)},
      // An event without an id (none today: the CommitLog numbers them) is
      // numbered after the highest, as SQLite's rowid would be.
      {"add_event",
       absl::StrCat("INSERT INTO lead_events (", kEventColumns,
                    ") VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7::bigint, "
                    "(SELECT COALESCE(MAX(id), 0) + 1 FROM lead_events)), "
                    "$8, $9, $10, $11, $12, $13, $14)")},
      {"add_audit",
       absl::StrCat("INSERT INTO audit (", kAuditColumns,
                    ") VALUES ((SELECT COALESCE(MAX(id), 0) + 1 FROM audit), "
                    "$1, $2, $3, $4, $5, $6, $7, $8)")},
      {"put_meta", Upsert("meta", "key, value", 2)},
      // A revision is kept once: a rollback makes a kept one live again.
      {"add_ruleset",
       "INSERT INTO rulesets (revision, root, fingerprint, published_by, "
       "published_from, at_us) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT "
       "(revision) DO NOTHING"},
      {"add_ruleset_file",
       "INSERT INTO ruleset_files (revision, path, text) VALUES ($1, $2, $3) "
       "ON CONFLICT (revision, path) DO NOTHING"},
      // A ruleset made live ends its own schedule, not another's.
      {"end_schedule", absl::StrCat("UPDATE meta SET value = 0 WHERE key = '",
                                    kScheduledRulesetKey, "' AND value = $1")},
      // What a ruleset change leaves: the live, the scheduled, the newest.
      {"prune_ruleset_files",
       absl::StrCat("DELETE FROM ruleset_files", RulesetsNotKept())},
      {"prune_rulesets",
       absl::StrCat("DELETE FROM rulesets", RulesetsNotKept())},
      {"fence", "SELECT leadroute_fence($1)"},
      // Deletes the oldest events and records the highest id deleted.
      {"prune_events",
       absl::StrCat("WITH d AS (DELETE FROM lead_events WHERE id IN (SELECT "
                    "id FROM lead_events WHERE at_us < $1 AND id <= $3 ORDER "
                    "BY id LIMIT $2) RETURNING id) INSERT INTO meta (key, "
                    "value) SELECT '",
                    kPrunedThroughKey,
                    "', MAX(id) FROM d HAVING COUNT(*) > 0 ON CONFLICT (key) "
                    "DO UPDATE SET value = EXCLUDED.value")},
      // Deletes the oldest ended leads and counts them.
      {"prune_assignments",
       absl::StrCat("WITH d AS (DELETE FROM assignments WHERE lead_id IN "
                    "(SELECT lead_id FROM assignments WHERE status IN (1, 2) "
                    "AND ended_at_us < $1 ORDER BY ended_at_us LIMIT $2) "
                    "RETURNING 1) INSERT INTO meta (key, value) SELECT '",
                    kPrunedAssignmentsKey,
                    "', COUNT(*) FROM d HAVING COUNT(*) > 0 ON CONFLICT (key) "
                    "DO UPDATE SET value = meta.value + EXCLUDED.value")},
  };
  return *statements;
}

Assignment ReadAssignment(const Row& r) {
  Assignment a;
  a.lead_id = r.Text(0);
  a.owner = r.Text(1);
  a.owner_kind = static_cast<OwnerKind>(r.Int(2));
  a.team = r.Text(3);
  a.status = static_cast<LeadStatus>(r.Int(4));
  a.email_key = r.Text(5);
  a.repeat_of = r.Text(6);
  a.decision_id = r.Text(7);
  a.ruleset = r.Text(8);
  a.priority = r.Text(9);
  a.priority_rank = static_cast<int>(r.Int(10));
  a.sla = r.Ms(11);
  a.channel = r.Text(12);
  a.decided_at = absl::FromUnixMicros(r.Int(13));
  a.respond_by = r.Time(14);
  a.ended_at = r.Time(15);
  a.score = r.Int(16);
  a.seq = r.Uint(17);
  a.routed_at = r.Time(18).value_or(a.decided_at);
  a.sla_status = static_cast<SlaStatus>(r.Int(19));
  a.contact_channel = r.Text(20);
  a.contacted_by = r.Text(21);
  for (int o = 1; o < kOutcomeCount; ++o) a.reached[o] = r.Time(21 + o);
  a.outcome = static_cast<Outcome>(r.Int(27));
  a.escalation = r.Text(28);
  a.escalation_step = static_cast<int>(r.Int(29));
  a.hops = static_cast<int>(r.Int(30));
  a.had_by = SplitReps(r.Text(31));
  a.next_due = r.Time(32);
  a.clock_start = r.Time(33);
  a.source = r.Text(34);
  a.rules = r.Text(35);
  a.clock_status = static_cast<SlaStatus>(r.Int(36));
  a.missed_by = SplitReps(r.Text(37));
  a.choice = static_cast<int>(r.Int(38));
  a.logged = r.Text(39);
  return a;
}

void WriteAssignment(const Assignment& a, Params& p) {
  p.Text(a.lead_id)
      .Text(a.owner)
      .Int(static_cast<int>(a.owner_kind))
      .Text(a.team)
      .Int(static_cast<int>(a.status))
      .Text(a.email_key)
      .Text(a.repeat_of)
      .Text(a.decision_id)
      .Text(a.ruleset)
      .Text(a.priority)
      .Int(a.priority_rank)
      .Ms(a.sla)
      .Text(a.channel)
      .Time(a.decided_at)
      .Time(a.respond_by)
      .Time(a.ended_at)
      .Int(a.score)
      .Int(static_cast<int64_t>(a.seq))
      .Time(a.routed_at)
      .Int(static_cast<int>(a.sla_status))
      .Text(a.contact_channel)
      .Text(a.contacted_by);
  for (int o = 1; o < kOutcomeCount; ++o) p.Time(a.reached[o]);
  p.Int(static_cast<int>(a.outcome))
      .Text(a.escalation)
      .Int(a.escalation_step)
      .Int(a.hops)
      .Text(JoinReps(a.had_by))
      .Time(a.next_due)
      .Time(a.clock_start)
      .Text(a.source)
      .Text(a.rules)
      .Int(static_cast<int>(a.clock_status))
      .Text(JoinReps(a.missed_by))
      .Int(a.choice)
      .Text(a.logged);
}

LeadEvent ReadEvent(const Row& r) {
  LeadEvent e;
  e.lead_id = r.Text(0);
  e.at = absl::FromUnixMicros(r.Int(1));
  e.kind = r.Text(2);
  e.from = r.Text(3);
  e.to = r.Text(4);
  e.reason = r.Text(5);
  e.id = r.Uint(6);
  e.owner_kind = static_cast<OwnerKind>(r.Int(7));
  e.team = r.Text(8);
  e.channel = r.Text(9);
  e.priority = r.Text(10);
  e.sla = r.Ms(11);
  e.respond_by = r.Time(12);
  e.actor = r.Text(13);
  return e;
}

void WriteEvent(const LeadEvent& e, Params& p) {
  p.Text(e.lead_id).Time(e.at).Text(e.kind).Text(e.from).Text(e.to).Text(
      e.reason);
  if (e.id != 0) {
    p.Int(static_cast<int64_t>(e.id));
  } else {
    p.Null();
  }
  p.Int(static_cast<int>(e.owner_kind))
      .Text(e.team)
      .Text(e.channel)
      .Text(e.priority)
      .Ms(e.sla)
      .Time(e.respond_by)
      .Text(e.actor);
}

AuditRecord ReadAudit(const Row& r) {
  AuditRecord a;
  a.id = r.Uint(0);
  a.at = absl::FromUnixMicros(r.Int(1));
  a.principal = r.Text(2);
  a.peer = r.Text(3);
  a.action = r.Text(4);
  a.target = r.Text(5);
  a.before = r.Text(6);
  a.after = r.Text(7);
  a.reason = r.Text(8);
  return a;
}

// The change numbers in a batch (assignments' seqs, events' ids): its
// lowest and highest, to know the batch again when it is retried.
std::pair<uint64_t, uint64_t> NumberRange(
    absl::Span<const StateChange> changes) {
  uint64_t lo = std::numeric_limits<uint64_t>::max(), hi = 0;
  for (const StateChange& c : changes) {
    uint64_t n = 0;
    if (const auto* a = std::get_if<Assignment>(&c)) n = a->seq;
    if (const auto* e = std::get_if<LeadEvent>(&c)) n = e->id;
    if (n == 0) continue;
    lo = std::min(lo, n);
    hi = std::max(hi, n);
  }
  return {hi == 0 ? 0 : lo, hi};
}

uint64_t RandomTokenBase() {
  std::random_device random;
  const uint64_t r = (static_cast<uint64_t>(random()) << 32) | random();
  // Positive as a BIGINT, with room for 2^40 commits above it.
  return (r >> 2) & ~((uint64_t{1} << 40) - 1);
}

}  // namespace

PgStore::PgStore(const std::string& conninfo, bool read_only)
    : read_only_(read_only),
      writer_(std::make_unique<pg::Connection>(conninfo, read_only)),
      reader_(std::make_unique<pg::Connection>(conninfo, read_only)),
      scanner_(std::make_unique<pg::Connection>(conninfo, read_only)),
      token_base_(RandomTokenBase()) {
  writer_->OnConnect([this](pg::Connection& c) { return Reclaim(c); });
}

absl::Status PgStore::Fenced(const pg::Connection& c, uint64_t now) {
  fenced_ = true;
  return absl::FailedPreconditionError(
      absl::StrCat("PostgreSQL database \"", c.database(),
                   "\": this replica was the "
                   "writer as epoch ",
                   epoch_.load(), ", but ",
                   now == 0 ? "another replica holds the writer lock"
                            : absl::StrCat("epoch ", now, " took over"),
                   "; it must start over"));
}

absl::Status PgStore::CheckStillWriter() {
  ASSIGN_OR_RETURN(const Writer now, CurrentWriter());
  if (now.epoch == epoch_.load()) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(reader_mu_);  // its database's name
  return Fenced(*reader_, now.epoch);
}

absl::Status PgStore::Reclaim(pg::Connection& c) {
  if (epoch_.load() == 0) return absl::OkStatus();
  if (fenced_.load()) return Fenced(c, 0);
  ASSIGN_OR_RETURN(bool locked,
                   TakeWriterLock(c, "taking the writer lock back"));
  if (!locked) return Fenced(c, 0);
  Params none;
  uint64_t now = 0;
  RETURN_IF_ERROR(c.Query(
      "SELECT epoch FROM leadroute_writer", none,
      [&](const Row& r) { now = r.Uint(0); }, "reading the epoch"));
  if (now != epoch_.load()) return Fenced(c, now);
  return absl::OkStatus();
}

absl::Status PgStore::CheckConnectionString(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    absl::Status s = absl::InvalidArgumentError(
        absl::StrCat("not a PostgreSQL connection string or URI: ",
                     error == nullptr ? "out of memory" : pg::Said(error)));
    PQfreemem(error);
    return s;
  }
  bool password = false;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr &&
        o->val[0] != '\0') {
      password = true;
    }
  }
  PQconninfoFree(options);
  if (password) {
    return absl::InvalidArgumentError(
        "holds a password, which every user of the machine can read on the "
        "command line; give it in PGPASSWORD, ~/.pgpass or PGPASSFILE");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PgStore>> PgStore::OpenReplica(
    const std::string& conninfo) {
  ASSIGN_OR_RETURN(std::unique_ptr<PgStore> store, Open(conninfo));
  store->replica_ = true;
  return store;
}

absl::StatusOr<bool> PgStore::TryBecomeWriter(const std::string& address,
                                              Writer* current) {
  if (!replica_) {
    return absl::FailedPreconditionError("not opened as a replica");
  }
  if (epoch_.load() != 0) return true;
  pg::Connection& c = *writer_;
  ASSIGN_OR_RETURN(bool locked, TakeWriterLock(c, "taking the writer lock"));
  if (!locked) {
    if (current == nullptr) return false;
    ASSIGN_OR_RETURN(*current, CurrentWriter());
    return false;
  }
  // The lock is this connection's until its session ends: the raise below
  // is the only one until then.
  Params p;
  p.Text(address).Time(absl::Now());
  uint64_t epoch = 0;
  RETURN_IF_ERROR(c.Query(
      "UPDATE leadroute_writer SET epoch = epoch + 1, address = $1, "
      "since_us = $2 RETURNING epoch",
      p, [&](const Row& r) { epoch = r.Uint(0); }, "raising the epoch"));
  epoch_ = epoch;
  return true;
}

absl::StatusOr<PgStore::Writer> PgStore::CurrentWriter() {
  Writer out;
  RETURN_IF_ERROR(Read(false, [&](pg::Connection& c) {
    Params none;
    return c.Query(
        "SELECT epoch, address, since_us FROM leadroute_writer", none,
        [&](const Row& r) {
          out = {r.Uint(0), r.Text(1), absl::FromUnixMicros(r.Int(2))};
        },
        "reading the writer");
  }));
  return out;
}

PgStore::~PgStore() = default;

absl::StatusOr<std::unique_ptr<PgStore>> PgStore::Open(
    const std::string& conninfo) {
  RETURN_IF_ERROR(pg::Migrate(conninfo).status());
  std::unique_ptr<PgStore> store(new PgStore(conninfo, false));
  RETURN_IF_ERROR(store->writer_->Ready().status());
  return store;
}

absl::StatusOr<std::unique_ptr<PgStore>> PgStore::OpenReadOnly(
    const std::string& conninfo) {
  std::unique_ptr<PgStore> store(new PgStore(conninfo, true));
  std::optional<int64_t> version;
  pg::Connection& c = *store->writer_;
  Params none;
  absl::Status s = c.Query(
      "SELECT version FROM leadroute_schema", none,
      [&](const Row& r) { version = r.Int(0); }, "reading the schema version");
  if (!s.ok() && !c.broken()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL database \"", c.database(),
        "\" holds no leadroute state (start `leadroute serve --state` on it "
        "once to create it): ",
        s.message()));
  }
  RETURN_IF_ERROR(s);
  if (version != pg::kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL database \"", c.database(), "\" has schema version ",
        version.value_or(0), "; this leadroute reads version ",
        pg::kSchemaVersion,
        " (start `leadroute serve --state` on it once to migrate it)"));
  }
  return store;
}

absl::StatusOr<StateSnapshot> PgStore::Load(absl::Time recent_since) {
  StateSnapshot out;
  pg::Connection& c = *writer_;
  absl::flat_hash_map<std::string, RepHistory> reps;
  Params none;
  // Each read of assignments goes through its own partial index, as on
  // SQLite: the time it takes follows the live state, not the history.
  RETURN_IF_ERROR(c.Query(
      "SELECT owner, COUNT(*), MAX(seq) FROM assignments "
      "WHERE owner_kind = 1 AND status = 0 GROUP BY owner",
      none,
      [&](const Row& r) {
        RepHistory& h = reps[r.Text(0)];
        h.open = r.Int(1);
        h.last_turn = r.Uint(2);
      },
      "loading reps' open leads"));
  Params since;
  since.Time(recent_since);
  RETURN_IF_ERROR(c.Query(
      "SELECT owner, decided_at_us, seq FROM assignments "
      "WHERE owner_kind = 1 AND decided_at_us >= $1 ORDER BY decided_at_us",
      since,
      [&](const Row& r) {
        RepHistory& h = reps[r.Text(0)];
        h.recent.push_back(*r.Time(1));
        h.last_turn = std::max(h.last_turn, r.Uint(2));
      },
      "loading reps' recent assignments"));
  for (auto& [rep, history] : reps) {
    history.rep = rep;
    out.rep_history.push_back(std::move(history));
  }
  RETURN_IF_ERROR(c.Query(
      "SELECT rep, availability, until_us, note, set_at_us FROM rep_status",
      none,
      [&](const Row& r) {
        out.reps.push_back({r.Text(0), static_cast<Availability>(r.Int(1)),
                            r.Time(2), r.Text(3), *r.Time(4)});
      },
      "loading rep status"));
  RETURN_IF_ERROR(c.Query(
      "SELECT team, last_rep, running FROM team_cursors", none,
      [&](const Row& r) {
        out.teams.push_back({r.Text(0), r.Text(1), DecodeRunning(r.Text(2))});
      },
      "loading team rotation"));
  RETURN_IF_ERROR(c.Query(
      "SELECT MAX(id) FROM lead_events", none,
      [&](const Row& r) { out.last_event_id = r.Uint(0); },
      "loading the last event id"));
  RETURN_IF_ERROR(c.Query(
      "SELECT key, value FROM meta", none,
      [&](const Row& r) {
        const std::string key = r.Text(0);
        if (key == kPrunedThroughKey) out.pruned_through = r.Uint(1);
        if (key == kLastAssignmentSeqKey) out.last_assignment_seq = r.Uint(1);
      },
      "loading meta"));
  out.last_event_id = std::max(out.last_event_id, out.pruned_through);
  for (const RepHistory& r : out.rep_history) {
    if (r.last_turn > out.last_assignment_seq) {
      return absl::DataLossError(absl::StrCat(
          "PostgreSQL database \"", c.database(), "\" is inconsistent: rep ",
          r.rep, " has a lead with change number ", r.last_turn,
          " but meta.last_assignment_seq says the last is ",
          out.last_assignment_seq,
          "; restore it from a backup, or set that row to the highest "
          "assignments.seq"));
    }
  }
  return out;
}

absl::StatusOr<bool> PgStore::UnknownCommitLanded() {
  Params key;
  key.Text(kCommitTokenKey);
  std::optional<uint64_t> token;
  RETURN_IF_ERROR(writer_->Query(
      "SELECT value FROM meta WHERE key = $1", key,
      [&](const Row& r) { token = r.Uint(0); }, "reading the last commit"));
  return token == unknown_->token;
}

absl::Status PgStore::Apply(absl::Span<const StateChange> changes) {
  if (read_only_) {
    return absl::FailedPreconditionError("the store was opened read-only");
  }
  if (replica_ && epoch_.load() == 0) {
    return absl::FailedPreconditionError("this replica is not the writer");
  }
  if (fenced_.load()) {
    return absl::FailedPreconditionError(
        absl::StrCat("this replica was the writer as epoch ", epoch_.load(),
                     " until another took over; it must start over"));
  }
  pg::Connection& c = *writer_;
  const auto [first, last] = NumberRange(changes);
  if (unknown_.has_value()) {
    // The last commit's answer never came: did it land?
    ASSIGN_OR_RETURN(bool landed, UnknownCommitLanded());
    const bool retry = unknown_->size == changes.size() &&
                       unknown_->first == first && unknown_->last == last;
    unknown_.reset();
    if (landed) {
      ++recovered_commits_;
      if (retry) return absl::OkStatus();
    }
  }
  // Nothing below opens the connection again: `conn` stays valid.
  ASSIGN_OR_RETURN(PGconn * conn, c.Ready());
  for (const Statement& s : WriterStatements()) {
    RETURN_IF_ERROR(c.PrepareOnce(s.name, s.sql));
  }
  const uint64_t token = token_base_ + ++commits_sent_;
  if (PQenterPipelineMode(conn) != 1 || PQsetnonblocking(conn, 1) != 0) {
    return c.Error(nullptr, "starting a commit");
  }
  // Every statement goes out before any answer is read; the Sync at the
  // end commits them as one implicit transaction, or none if one fails.
  int sent = 0;
  absl::Status status;
  auto send = [&](const char* name, Params& p) {
    if (!status.ok()) return;
    if (PQsendQueryPrepared(conn, name, p.size(), p.values(), nullptr, nullptr,
                            0) != 1) {
      status = c.Error(nullptr, "sending a commit");
      return;
    }
    ++sent;
  };
  // A revision's row and files, kept once (a rollback or the activation of
  // a scheduled one finds them there).
  auto add_ruleset = [&](const RulesetLive& rs) {
    Params p;
    p.Int(rs.revision)
        .Text(rs.root)
        .Text(rs.fingerprint)
        .Text(rs.published_by)
        .Text(rs.published_from)
        .Time(rs.at);
    send("add_ruleset", p);
    for (const auto& [path, text] : rs.files) {
      Params f;
      f.Int(rs.revision).Text(path).Text(text);
      send("add_ruleset_file", f);
    }
  };
  if (const uint64_t epoch = epoch_.load(); epoch != 0) {
    // First: is this replica still the writer? (pg_store.h)
    Params p;
    p.Int(static_cast<int64_t>(epoch));
    send("fence", p);
  }
  uint64_t last_seq = 0;
  bool rulesets_changed = false;
  for (const StateChange& change : changes) {
    Params p;
    if (const auto* a = std::get_if<Assignment>(&change)) {
      last_seq = std::max(last_seq, a->seq);
      WriteAssignment(*a, p);
      send("put_assignment", p);
    } else if (const auto* r = std::get_if<RepStatus>(&change)) {
      p.Text(r->rep)
          .Int(static_cast<int>(r->availability))
          .Time(r->until)
          .Text(r->note)
          .Time(r->set_at);
      send("put_rep", p);
    } else if (const auto* t = std::get_if<TeamCursor>(&change)) {
      p.Text(t->team).Text(t->last_rep).Text(EncodeRunning(t->running));
      send("put_team", p);
    } else if (const auto* e = std::get_if<LeadEvent>(&change)) {
      WriteEvent(*e, p);
      send("add_event", p);
    } else if (const auto* r = std::get_if<AuditRecord>(&change)) {
      p.Time(r->at)
          .Text(r->principal)
          .Text(r->peer)
          .Text(r->action)
          .Text(r->target)
          .Text(r->before)
          .Text(r->after)
          .Text(r->reason);
      send("add_audit", p);
    } else if (const auto* prune = std::get_if<EventPrune>(&change)) {
      p.Time(prune->before)
          .Int(prune->limit)
          .Int(static_cast<int64_t>(std::min<uint64_t>(
              prune->max_id, std::numeric_limits<int64_t>::max())));
      send("prune_events", p);
    } else if (const auto* cursor = std::get_if<Cursor>(&change)) {
      p.Text(absl::StrCat(kCursorKeyPrefix, cursor->name))
          .Int(static_cast<int64_t>(cursor->value));
      send("put_meta", p);
    } else if (const auto* prune = std::get_if<AssignmentPrune>(&change)) {
      p.Time(prune->before).Int(prune->limit);
      send("prune_assignments", p);
    } else if (const auto* rs = std::get_if<RulesetLive>(&change)) {
      add_ruleset(*rs);
      Params live;
      live.Text(kLiveRulesetKey).Int(rs->revision);
      send("put_meta", live);
      Params ended;
      ended.Int(rs->revision);
      send("end_schedule", ended);
      rulesets_changed = true;
    } else if (const auto* sc = std::get_if<RulesetSchedule>(&change)) {
      if (sc->ruleset) {
        add_ruleset(*sc->ruleset);
        Params at;
        at.Text(kScheduledAtKey).Time(sc->ruleset->activate_at);
        send("put_meta", at);
      }
      p.Text(kScheduledRulesetKey).Int(sc->ruleset ? sc->ruleset->revision : 0);
      send("put_meta", p);
      rulesets_changed = true;
    }
  }
  if (rulesets_changed) {
    // A replica reading a revision pruned here (meta named it live, then
    // this commit replaced it) fails that read and reads again at its next
    // poll.
    Params none;
    send("prune_ruleset_files", none);
    send("prune_rulesets", none);
  }
  // Numbering resumes after the highest seq ever kept, even when retention
  // deleted its row since.
  if (last_seq > 0) {
    Params p;
    p.Text(kLastAssignmentSeqKey).Int(static_cast<int64_t>(last_seq));
    send("put_meta", p);
  }
  Params p;
  p.Text(kCommitTokenKey).Int(static_cast<int64_t>(token));
  send("put_meta", p);
  if (status.ok() && PQpipelineSync(conn) != 1) {
    status = c.Error(nullptr, "sending a commit");
  }
  if (status.ok()) status = c.FlushAll(absl::Seconds(30));
  // Each statement's answer, then the Sync's.
  absl::Status failed;
  bool lost = !status.ok();
  for (int i = 0; i < sent && !lost; ++i) {
    PGresult* r = PQgetResult(conn);
    if (r == nullptr) {
      lost = true;
      break;
    }
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
        st != PGRES_PIPELINE_ABORTED && failed.ok()) {
      failed = c.Error(r, "committing");
    }
    PQclear(r);
    if (c.broken()) lost = true;
    // Each statement's results end with a null.
    while (!lost && (r = PQgetResult(conn)) != nullptr) PQclear(r);
  }
  if (!lost) {
    PGresult* r = PQgetResult(conn);
    lost = r == nullptr || PQresultStatus(r) != PGRES_PIPELINE_SYNC;
    PQclear(r);
  }
  if (lost || c.broken() || PQexitPipelineMode(conn) != 1) {
    // The Sync may have reached the server and committed: the retry finds
    // out (pg_store.h).
    if (sent > 0) unknown_ = Unknown{token, changes.size(), first, last};
    absl::Status s = !status.ok()   ? status
                     : !failed.ok() ? failed
                                    : c.Error(nullptr, "committing");
    c.Close();
    return absl::UnavailableError(s.message());
  }
  PQsetnonblocking(conn, 0);
  if (failed.code() == absl::StatusCode::kFailedPrecondition) fenced_ = true;
  return failed;
}

absl::Status PgStore::Read(
    bool scan, const std::function<absl::Status(pg::Connection&)>& read) {
  std::lock_guard<std::mutex> lock(scan ? scanner_mu_ : reader_mu_);
  pg::Connection& c = scan ? *scanner_ : *reader_;
  absl::Status s = read(c);
  // A connection broken since its last use (the database restarted): once
  // more on a fresh one.
  if (!s.ok() && c.broken()) s = read(c);
  return s;
}

template <typename T>
absl::StatusOr<std::vector<T>> PgStore::ReadRows(const std::string& sql,
                                                 pg::Params& params,
                                                 T (*make)(const pg::Row&),
                                                 absl::string_view what) {
  std::vector<T> out;
  RETURN_IF_ERROR(Read(false, [&](pg::Connection& c) {
    out.clear();
    return c.Query(
        sql, params, [&](const Row& r) { out.push_back(make(r)); }, what);
  }));
  return out;
}

absl::StatusOr<std::optional<Assignment>> PgStore::FindAssignment(
    const std::string& lead_id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kAssignmentColumns, " FROM assignments WHERE lead_id = $1");
  Params p;
  p.Text(lead_id);
  std::optional<Assignment> out;
  // Prepared: it runs for every lead the working set does not hold.
  RETURN_IF_ERROR(Read(false, [&](pg::Connection& c) {
    out.reset();
    return c.Query(
        sql, p, [&](const Row& r) { out = ReadAssignment(r); },
        "reading a lead", "find");
  }));
  return out;
}

absl::StatusOr<std::optional<Assignment>> PgStore::LastByEmail(
    const std::string& email_key) {
  // `email_key != ''` lets PostgreSQL use the partial index.
  static const std::string sql =
      absl::StrCat("SELECT ", kAssignmentColumns,
                   " FROM assignments WHERE email_key = $1 AND email_key != ''"
                   " ORDER BY routed_at_us DESC, seq DESC LIMIT 1");
  Params p;
  p.Text(email_key);
  std::optional<Assignment> out;
  RETURN_IF_ERROR(Read(false, [&](pg::Connection& c) {
    out.reset();
    return c.Query(
        sql, p, [&](const Row& r) { out = ReadAssignment(r); },
        "reading a person's last lead", "by_email");
  }));
  return out;
}

absl::StatusOr<std::vector<LeadEvent>> PgStore::EventsAfter(uint64_t after,
                                                            int limit) {
  static const std::string sql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM lead_events WHERE id > $1 ORDER BY id LIMIT $2");
  Params p;
  p.Int(static_cast<int64_t>(
            std::min<uint64_t>(after, std::numeric_limits<int64_t>::max())))
      .Int(limit);
  return ReadRows(sql, p, &ReadEvent, "reading events");
}

absl::Status PgStore::ScanAssignments(
    absl::Time from, absl::Time to,
    const std::function<void(const Assignment&)>& visit) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kAssignmentColumns,
      " FROM assignments WHERE routed_at_us >= $1 AND routed_at_us < $2"
      " ORDER BY routed_at_us, seq");
  // No second try here: `visit` may have seen part of the window.
  std::lock_guard<std::mutex> lock(scanner_mu_);
  Params p;
  p.Time(from).Time(to);
  return scanner_->Query(
      sql, p, [&](const Row& r) { visit(ReadAssignment(r)); },
      "reading assignments");
}

absl::Status PgStore::ScanLeadKeys(
    const std::function<bool(std::string_view, std::string_view)>& visit) {
  // Rows come one at a time (single-row mode); once `visit` says stop the
  // rest are read and dropped.
  std::lock_guard<std::mutex> lock(scanner_mu_);
  Params p;
  bool more = true;
  return scanner_->Query(
      "SELECT lead_id, email_key FROM assignments", p,
      [&](const Row& r) { more = more && visit(r.View(0), r.View(1)); },
      "reading lead ids");
}

absl::StatusOr<std::vector<Assignment>> PgStore::ListAssignments(
    const std::string& owner, std::optional<LeadStatus> status,
    const std::string& after_lead_id, int limit) {
  static const std::string sql = absl::StrCat(
      "SELECT ", kAssignmentColumns,
      " FROM assignments WHERE lead_id > $1 AND ($2 = '' OR owner = $2)"
      " AND ($3::integer < 0 OR status = $3) ORDER BY lead_id LIMIT $4");
  Params p;
  p.Text(after_lead_id)
      .Text(owner)
      .Int(status ? static_cast<int>(*status) : -1)
      .Int(limit);
  return ReadRows(sql, p, &ReadAssignment, "listing assignments");
}

absl::StatusOr<std::vector<Assignment>> PgStore::OpenLeadsOfRep(
    const std::string& rep, const std::string& after_lead_id, int limit) {
  // The literal owner_kind and status select the partial index.
  static const std::string sql = absl::StrCat(
      "SELECT ", kAssignmentColumns,
      " FROM assignments WHERE owner_kind = 1 AND status = 0 AND owner = $1"
      " AND lead_id > $2 ORDER BY lead_id LIMIT $3");
  Params p;
  p.Text(rep).Text(after_lead_id).Int(limit);
  return ReadRows(sql, p, &ReadAssignment, "listing a rep's open leads");
}

absl::StatusOr<std::vector<DueLead>> PgStore::DueAfter(const DueLead& after,
                                                       absl::Time before,
                                                       int limit) {
  // A range of the partial index assignments_due (next_due_us, lead_id).
  static const std::string sql =
      "SELECT next_due_us, lead_id FROM assignments"
      " WHERE next_due_us >= $1 AND next_due_us < $3"
      " AND (next_due_us > $1 OR lead_id > $2)"
      " ORDER BY next_due_us, lead_id LIMIT $4";
  Params p;
  p.Time(after.first).Text(after.second).Time(before).Int(limit);
  return ReadRows<DueLead>(
      sql, p, [](const Row& r) { return DueLead(*r.Time(0), r.Text(1)); },
      "reading what is due");
}

absl::StatusOr<std::optional<uint64_t>> PgStore::Meta(const std::string& key) {
  Params p;
  p.Text(key);
  ASSIGN_OR_RETURN(std::vector<uint64_t> values,
                   ReadRows<uint64_t>(
                       "SELECT value FROM meta WHERE key = $1", p,
                       [](const Row& r) { return r.Uint(0); }, "reading meta"));
  if (values.empty()) return std::nullopt;
  return values.front();
}

absl::StatusOr<StoredRulesets> PgStore::Rulesets(int64_t unless_live,
                                                 int64_t unless_scheduled) {
  RulesetReads reads;
  reads.newest = [this]() -> absl::StatusOr<int64_t> {
    Params none;
    ASSIGN_OR_RETURN(
        std::vector<int64_t> newest,
        ReadRows<int64_t>(
            "SELECT COALESCE(MAX(revision), 0) FROM rulesets", none,
            [](const Row& r) { return r.Int(0); }, "reading rulesets"));
    return newest.empty() ? 0 : newest.front();
  };
  reads.meta = [this](const char* key) { return Meta(key); };
  reads.ruleset = [this](int64_t revision, const char* named_by) {
    return ReadRuleset(revision, named_by);
  };
  return ReadRulesets(reads, unless_live, unless_scheduled);
}

absl::StatusOr<RulesetLive> PgStore::ReadRuleset(int64_t revision,
                                                 const char* named_by) {
  Params p;
  p.Int(revision);
  ASSIGN_OR_RETURN(
      std::vector<RulesetLive> rows,
      ReadRows<RulesetLive>(
          "SELECT revision, root, fingerprint, published_by, published_from, "
          "at_us FROM rulesets WHERE revision = $1",
          p,
          [](const Row& r) {
            RulesetLive rs;
            rs.revision = r.Int(0);
            rs.root = r.Text(1);
            rs.fingerprint = r.Text(2);
            rs.published_by = r.Text(3);
            rs.published_from = r.Text(4);
            rs.at = r.Time(5).value_or(absl::UnixEpoch());
            return rs;
          },
          "reading rulesets"));
  if (rows.empty()) {
    return absl::DataLossError(
        absl::StrCat("meta.", named_by, " names revision ", revision,
                     " but the rulesets table has no such row"));
  }
  using PathText = std::pair<std::string, std::string>;
  ASSIGN_OR_RETURN(
      std::vector<PathText> files,
      ReadRows<PathText>(
          "SELECT path, text FROM ruleset_files WHERE revision = $1", p,
          [](const Row& r) { return std::make_pair(r.Text(0), r.Text(1)); },
          "reading rulesets"));
  RulesetLive out = std::move(rows.front());
  for (auto& [path, text] : files) {
    out.files.emplace(std::move(path), std::move(text));
  }
  return out;
}

absl::StatusOr<uint64_t> PgStore::LastEventId() {
  Params none;
  ASSIGN_OR_RETURN(
      std::vector<uint64_t> values,
      ReadRows<uint64_t>(
          "SELECT COALESCE(MAX(id), 0) FROM lead_events", none,
          [](const Row& r) { return r.Uint(0); }, "reading events"));
  return values.empty() ? 0 : values.front();
}

absl::StatusOr<uint64_t> PgStore::PrunedThrough() {
  ASSIGN_OR_RETURN(std::optional<uint64_t> value, Meta(kPrunedThroughKey));
  return value.value_or(0);
}

absl::StatusOr<uint64_t> PgStore::PrunedAssignments() {
  ASSIGN_OR_RETURN(std::optional<uint64_t> value, Meta(kPrunedAssignmentsKey));
  return value.value_or(0);
}

absl::StatusOr<std::optional<uint64_t>> PgStore::CursorValue(
    const std::string& name) {
  return Meta(absl::StrCat(kCursorKeyPrefix, name));
}

absl::StatusOr<std::vector<Assignment>> PgStore::NewestAssignments(
    const std::string& owner, bool include_ended, int limit) {
  const std::string sql =
      absl::StrCat("SELECT ", kAssignmentColumns,
                   " FROM assignments WHERE ($1 = '' OR owner = $1)",
                   include_ended ? "" : " AND status IN (0, 3)",
                   " ORDER BY seq DESC LIMIT $2");
  Params p;
  p.Text(owner).Int(limit);
  return ReadRows(sql, p, &ReadAssignment, "listing assignments");
}

absl::StatusOr<std::vector<OwnerCount>> PgStore::CountByOwner() {
  Params none;
  return ReadRows<OwnerCount>(
      "SELECT owner, owner_kind, COUNT(*) FILTER (WHERE status = 0), "
      "COUNT(*), MAX(decided_at_us) FROM assignments "
      "GROUP BY owner, owner_kind ORDER BY owner_kind, owner",
      none,
      [](const Row& r) {
        return OwnerCount{r.Text(0), static_cast<OwnerKind>(r.Int(1)), r.Int(2),
                          r.Int(3), absl::FromUnixMicros(r.Int(4))};
      },
      "counting assignments");
}

absl::StatusOr<std::vector<LeadEvent>> PgStore::History(
    const std::string& lead_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", kEventColumns,
                   " FROM lead_events WHERE lead_id = $1 ORDER BY id");
  Params p;
  p.Text(lead_id);
  return ReadRows(sql, p, &ReadEvent, "reading a lead's history");
}

absl::StatusOr<std::vector<AuditRecord>> PgStore::Audit(
    const AuditQuery& query) {
  // The newest `limit`, shown oldest first.
  static const std::string sql = absl::StrCat(
      "SELECT * FROM (SELECT ", kAuditColumns,
      " FROM audit WHERE id > $1 AND ($2 = '' OR principal = $2)"
      " AND ($3 = '' OR target = $3) ORDER BY id DESC LIMIT $4) newest"
      " ORDER BY id");
  Params p;
  p.Int(static_cast<int64_t>(query.after_id))
      .Text(query.principal)
      .Text(query.target)
      .Int(query.limit);
  return ReadRows(sql, p, &ReadAudit, "reading the audit trail");
}

}  // namespace leadroute::runtime
