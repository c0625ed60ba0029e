// PgStore: the StateStore on PostgreSQL, for replicas that share one
// database (serve --state postgres://...; docs/deployment.md, "Several
// replicas"). Same rows as SqliteStore (pg_schema.h), same guarantees
// (state_store.h), through libpq:
// - Each Apply is one transaction sent as one pipeline (every statement,
//   then one Sync: one round trip per batch, however large), committed at
//   the Sync with the server's synchronous_commit, so a change is durable
//   in PostgreSQL's write-ahead log before Apply returns.
// - A commit whose outcome is unknown (the connection dropped after the
//   Sync was sent) is not applied twice: each commit also writes a token of
//   its own into `meta`, and the retry of that batch first reads whether
//   the token is there.
// - Three connections, each opened when first needed and opened again
//   after it broke: the writer's (Load, Apply), the readers' (point reads,
//   reader_mu_) and the scans' (ScanAssignments: KPIs over a window,
//   scanner_mu_), so a long scan never holds up a lookup. A read that
//   finds its connection broken reconnects and runs once more; when the
//   database cannot be reached the call fails with UNAVAILABLE, quickly
//   (connect_timeout and tcp_user_timeout unless the connection string
//   sets its own).
// - Replicas sharing the database (OpenReplica) take turns as its one
//   writer: the writer lock is a session advisory lock held by the writer's
//   connection, each new writer raises an epoch, and every commit starts
//   by checking it (leadroute_fence), so a replica that was taken over can
//   never commit again (fenced) — not even through a pooler that would
//   hand its session to another. docs/deployment.md, "Several replicas".
// - PostgreSQL text cannot hold a NUL byte, which SQLite's can: a NUL in a
//   string written or looked up is stored as U+FFFD instead, the same way
//   both ways, so a batch holding one still commits.
#ifndef LEADROUTE_RUNTIME_PG_STORE_H_
#define LEADROUTE_RUNTIME_PG_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/state_store.h"

namespace leadroute::runtime {

namespace pg {
class Connection;
class Params;
class Row;
}  // namespace pg

class PgStore final : public StateStore {
 public:
  // Connects to `conninfo` (a libpq connection string or postgres:// URI;
  // serve takes a password from PGPASSWORD, ~/.pgpass or PGPASSFILE only,
  // see CheckConnectionString) and migrates the database (pg::Migrate).
  // UNAVAILABLE when the database cannot be reached.
  static absl::StatusOr<std::unique_ptr<PgStore>> Open(
      const std::string& conninfo);
  // Connects as a replica of several sharing the database (serve --state),
  // migrating it first: reads work at once; commits only once
  // TryBecomeWriter has made this replica the writer.
  static absl::StatusOr<std::unique_ptr<PgStore>> OpenReplica(
      const std::string& conninfo);
  // OK, or INVALID_ARGUMENT when `conninfo` does not parse or holds a
  // password (which `ps` would show every user of the machine).
  static absl::Status CheckConnectionString(const std::string& conninfo);

  // Where the writer answers, and since when (epoch 0: none ever).
  struct Writer {
    uint64_t epoch = 0;
    std::string address;
    absl::Time since;
  };
  // Tries to become the writer: its connection takes the writer lock (a
  // session advisory lock: free again only when the holder's session
  // ends), raises the epoch and records this replica's address. True when
  // it did; false when another replica holds the lock, with `*current`
  // (may be null) set to that writer. Once the writer, every commit checks
  // that the epoch is still this one (leadroute_fence). When the writer's
  // connection breaks, the next commit reconnects and takes the lock again
  // if no other replica took over meanwhile (the epoch is unchanged), so a
  // database restart costs a retry; otherwise the store is fenced: every
  // commit fails with FAILED_PRECONDITION from then on, and the replica
  // must start over (what it holds in memory is stale).
  absl::StatusOr<bool> TryBecomeWriter(const std::string& address,
                                       Writer* current);
  // The writer recorded in the database, read on the readers' connection.
  absl::StatusOr<Writer> CurrentWriter();
  // The writer's check, between commits, that no replica took over: OK
  // while the recorded epoch is this store's; else the store is fenced and
  // FAILED_PRECONDITION says so, as a commit would (UNAVAILABLE while the
  // database cannot be read).
  absl::Status CheckStillWriter();
  // This store's epoch as the writer (0: not the writer).
  uint64_t epoch() const { return epoch_.load(); }
  // Whether another replica took over since this one became the writer.
  bool fenced() const { return fenced_.load(); }

  // Connects for reading only (`leadroute state`, `report`): every
  // transaction is read-only, and a database at another schema version is
  // refused.
  static absl::StatusOr<std::unique_ptr<PgStore>> OpenReadOnly(
      const std::string& conninfo);

  ~PgStore() override;

  absl::StatusOr<StateSnapshot> Load(absl::Time recent_since) override;
  absl::Status Apply(absl::Span<const StateChange> changes) override;
  absl::StatusOr<std::optional<Assignment>> FindAssignment(
      const std::string& lead_id) override;
  absl::StatusOr<std::optional<Assignment>> LastByEmail(
      const std::string& email_key) override;
  absl::StatusOr<std::vector<LeadEvent>> EventsAfter(uint64_t after,
                                                     int limit) override;
  absl::StatusOr<uint64_t> LastEventId() override;
  absl::StatusOr<StoredRulesets> Rulesets(
      int64_t unless_live = -1, int64_t unless_scheduled = -1) override;
  absl::StatusOr<std::vector<Assignment>> ListAssignments(
      const std::string& owner, std::optional<LeadStatus> status,
      const std::string& after_lead_id, int limit) override;
  absl::Status ScanAssignments(
      absl::Time from, absl::Time to,
      const std::function<void(const Assignment&)>& visit) override;
  absl::Status ScanLeadKeys(
      const std::function<bool(std::string_view lead_id,
                               std::string_view email_key)>& visit) override;
  absl::StatusOr<std::vector<Assignment>> OpenLeadsOfRep(
      const std::string& rep, const std::string& after_lead_id,
      int limit) override;
  absl::StatusOr<std::vector<DueLead>> DueAfter(const DueLead& after,
                                                absl::Time before,
                                                int limit) override;
  absl::StatusOr<uint64_t> PrunedThrough() override;
  absl::StatusOr<uint64_t> PrunedAssignments() override;
  absl::StatusOr<std::optional<uint64_t>> CursorValue(
      const std::string& name) override;
  absl::StatusOr<std::vector<Assignment>> NewestAssignments(
      const std::string& owner, bool include_ended, int limit) override;
  absl::StatusOr<std::vector<OwnerCount>> CountByOwner() override;
  absl::StatusOr<std::vector<LeadEvent>> History(
      const std::string& lead_id) override;
  absl::StatusOr<std::vector<AuditRecord>> Audit(
      const AuditQuery& query) override;

  // Commits whose outcome was unknown and that were found committed on
  // their retry (so not applied again), for tests.
  uint64_t recovered_commits() const { return recovered_commits_.load(); }

 private:
  // Tests put a store in the state a lost answer leaves it in.
  friend class PgStoreTestPeer;
  PgStore(const std::string& conninfo, bool read_only);
  // On the writer's connection, after it was opened again: takes the lock
  // back if the epoch is still this store's, else fences the store.
  absl::Status Reclaim(pg::Connection& c);
  // Fences the store: the error every later commit fails with, naming
  // `c`'s database and the epoch `now` that took over (0: unknown).
  absl::Status Fenced(const pg::Connection& c, uint64_t now);
  // Runs `read` on the readers' connection (the scans' for `scan`) under
  // its lock; once more on a fresh connection when the first found it
  // broken. `read` must start its answer afresh each time.
  absl::Status Read(bool scan,
                    const std::function<absl::Status(pg::Connection&)>& read);
  // The rows `sql` returns for `params`, each made by `make`, through
  // Read.
  template <typename T>
  absl::StatusOr<std::vector<T>> ReadRows(const std::string& sql,
                                          pg::Params& params,
                                          T (*make)(const pg::Row&),
                                          absl::string_view what);
  absl::StatusOr<std::optional<uint64_t>> Meta(const std::string& key);
  // Revision `revision` with its files; DATA_LOSS when meta key `named_by`
  // names it and the table has none.
  absl::StatusOr<RulesetLive> ReadRuleset(int64_t revision,
                                          const char* named_by);
  // Whether the batch whose commit's outcome was unknown is in the
  // database (its token is), on the writer's connection.
  absl::StatusOr<bool> UnknownCommitLanded();

  const bool read_only_;
  std::unique_ptr<pg::Connection> writer_;
  std::mutex reader_mu_;
  std::unique_ptr<pg::Connection> reader_;
  std::mutex scanner_mu_;
  std::unique_ptr<pg::Connection> scanner_;

  // A replica's: once the writer, its epoch; whether it was fenced.
  bool replica_ = false;
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> fenced_{false};

  // Commit tokens: this store's random base, plus one per commit sent.
  const uint64_t token_base_;
  uint64_t commits_sent_ = 0;
  // The batch whose Sync was sent but whose answer never came: its token,
  // and what identifies it when the CommitLog retries it (its size and its
  // first and last change numbers).
  struct Unknown {
    uint64_t token = 0;
    size_t size = 0;
    uint64_t first = 0;
    uint64_t last = 0;
  };
  std::optional<Unknown> unknown_;
  std::atomic<uint64_t> recovered_commits_{0};
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_PG_STORE_H_
