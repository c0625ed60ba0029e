// SqliteStore: the embedded StateStore, one SQLite file in WAL mode under the
// server's --data-dir. The schema is versioned (PRAGMA user_version) and
// migrated forward on open, each step in its own transaction; a file from a
// newer leadroute is refused rather than guessed at. Statements are prepared
// once; each Apply is one transaction, committed with synchronous=FULL so an
// acknowledged change survives a crash of the process or the machine.
//
// The same class opens the file read-only for `leadroute state`.
#ifndef LEADROUTE_RUNTIME_SQLITE_STORE_H_
#define LEADROUTE_RUNTIME_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/state_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace leadroute::runtime {

class SqliteStore final : public StateStore {
 public:
  // The schema version this build writes.
  static constexpr int kSchemaVersion = 12;
  // The file's name inside a data dir.
  static constexpr const char* kFileName = "leadroute.db";

  struct OpenOptions {
    // Each commit's writes to the WAL as one write (sqlite_gather_vfs.h),
    // not two per page.
    bool gather_wal_writes = true;
  };
  // Opens (creating when needed) `path` and migrates it to kSchemaVersion.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, const OpenOptions& options);
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path) {
    return Open(path, OpenOptions());
  }
  // Opens an existing file without writing to it or migrating it.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> OpenReadOnly(
      const std::string& path);

  ~SqliteStore() override;

  absl::StatusOr<StateSnapshot> Load(absl::Time recent_since) override;
  absl::Status Apply(absl::Span<const StateChange> changes) override;
  absl::StatusOr<std::optional<Assignment>> FindAssignment(
      const std::string& lead_id) override;
  absl::StatusOr<std::optional<Assignment>> LastByEmail(
      const std::string& email_key) override;
  absl::StatusOr<std::vector<LeadEvent>> EventsAfter(uint64_t after,
                                                     int limit) override;
  absl::StatusOr<uint64_t> LastEventId() override;
  absl::StatusOr<StoredRulesets> Rulesets(int64_t unless_live,
                                          int64_t unless_scheduled) override;
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

  int schema_version() const { return schema_version_; }

 private:
  // Each assignment of `SELECT ... FROM assignments WHERE ...` (`where`,
  // its parameters bound by `bind`), read on the reader connection, or on
  // the scanner's for a `scan` (a whole window: KPIs); `what` names the
  // query in errors.
  absl::Status ReadAssignments(
      const char* what, const std::string& where,
      const std::function<void(sqlite3_stmt*)>& bind,
      const std::function<void(const Assignment&)>& visit, bool scan = false);
  // Steps `sql` on the reader connection (reader_mu_ taken) to its end,
  // after `bind` (may be null), handing each row to `row`; `what` names
  // it in errors.
  absl::Status ReadRows(const char* sql, const char* what,
                        const std::function<void(sqlite3_stmt*)>& bind,
                        const std::function<void(sqlite3_stmt*)>& row);
  SqliteStore(sqlite3* db, std::string path, bool read_only)
      : db_(db), path_(std::move(path)), read_only_(read_only) {}
  absl::Status Exec(const char* sql);
  // Steps `sql` on the writer's connection to its end (an early stop is an
  // error naming `what`), after `bind` (may be null), handing each row to
  // `row`.
  absl::Status Scan(const char* sql, absl::string_view what,
                    const std::function<void(sqlite3_stmt*)>& bind,
                    const std::function<void(sqlite3_stmt*)>& row);
  absl::Status Migrate();
  absl::Status Prepare();
  absl::Status Error(absl::string_view what);
  absl::Status Step(sqlite3_stmt* stmt, absl::string_view what);
  absl::Status PutMeta(const std::string& key, uint64_t value);
  // A meta key's value as committed (reader_mu_ taken); none when unset.
  absl::StatusOr<std::optional<uint64_t>> Meta(const std::string& key);
  absl::Status Prune(const EventPrune& prune);
  // Keeps `rs` and its files (once per revision), and deletes the
  // revisions neither live, scheduled nor the newest.
  absl::Status PutRuleset(const RulesetLive& rs);
  absl::Status PruneRulesets();
  // The kept revision `revision` with its files (reader_mu_ taken);
  // `named_by`, the meta key naming it, for the error when it is missing.
  absl::StatusOr<RulesetLive> ReadRuleset(int64_t revision,
                                          const char* named_by);
  absl::Status PruneAssignments(const AssignmentPrune& prune);
  // The one assignment `sql` (prepared once into `*stmt` on the reader
  // connection) finds for `key`; `what` names it in errors.
  absl::StatusOr<std::optional<Assignment>> ReadOne(sqlite3_stmt** stmt,
                                                    const char* sql,
                                                    const std::string& key,
                                                    const char* what);
  // The connection reads from any thread go through (reader_mu_ held).
  absl::StatusOr<sqlite3*> Reader() { return Connect(&reader_); }
  // `*slot`, a read-only connection of its own opened when first asked
  // for; the writer's in a read-only store.
  absl::StatusOr<sqlite3*> Connect(sqlite3** slot);

  sqlite3* db_;
  const std::string path_;
  const bool read_only_;
  int schema_version_ = 0;
  // The readers' own connection (writable stores only): the writer's is
  // used by one thread at a time.
  std::mutex reader_mu_;
  sqlite3* reader_ = nullptr;
  // KPI scans read a whole window, seconds on a big store: through a
  // connection of their own, so the point reads routing makes on the
  // reader's never wait for one.
  std::mutex scanner_mu_;
  sqlite3* scanner_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* put_assignment_ = nullptr;
  sqlite3_stmt* put_rep_ = nullptr;
  sqlite3_stmt* put_team_ = nullptr;
  sqlite3_stmt* add_event_ = nullptr;
  sqlite3_stmt* prune_events_ = nullptr;
  sqlite3_stmt* put_meta_ = nullptr;
  sqlite3_stmt* add_audit_ = nullptr;
  sqlite3_stmt* add_meta_ = nullptr;  // adds to a meta value
  sqlite3_stmt* prune_assignments_ = nullptr;
  sqlite3_stmt* put_ruleset_ = nullptr;
  sqlite3_stmt* put_ruleset_file_ = nullptr;
  sqlite3_stmt* end_schedule_ = nullptr;
  sqlite3_stmt* prune_ruleset_files_ = nullptr;
  sqlite3_stmt* prune_rulesets_ = nullptr;
  // On the reader connection (reader_mu_).
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* by_email_ = nullptr;
};

}  // namespace leadroute::runtime

#endif  // LEADROUTE_RUNTIME_SQLITE_STORE_H_
