// The one way leadroute's PostgreSQL code (pg_schema.cc, pg_store.cc) talks
// to the database: a libpq connection opened when first needed and again
// after it broke, with timeouts that notice a dead database within seconds;
// statements with text parameters; rows read one at a time; and errors as
// absl::Status, UNAVAILABLE when the database cannot be reached (so callers
// fail fast and retry), naming the database.
#ifndef LEADROUTE_RUNTIME_PG_CONNECTION_H_
#define LEADROUTE_RUNTIME_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace leadroute::runtime::pg {

// The SQLSTATE leadroute_fence raises (pg_schema.cc, schema 2): such an
// error is FAILED_PRECONDITION.
inline constexpr absl::string_view kFencedState = "LR001";

// A statement's parameters, all sent as text (NULL for a missing value).
// PostgreSQL text cannot hold NUL: a NUL byte is sent as U+FFFD, the same
// way when written and when looked up.
class Params {
 public:
  Params& Text(absl::string_view v);
  Params& Int(int64_t v) {
    Add() = absl::StrCat(v);
    return *this;
  }
  Params& Time(absl::Time t) { return Int(absl::ToUnixMicros(t)); }
  Params& Time(const std::optional<absl::Time>& t) {
    return t ? Time(*t) : Null();
  }
  Params& Ms(const std::optional<absl::Duration>& d) {
    return d ? Int(absl::ToInt64Milliseconds(*d)) : Null();
  }
  Params& Null() {
    Add();
    null_.back() = true;
    return *this;
  }
  int size() const { return static_cast<int>(values_.size()); }
  // Valid until the next change to the parameters.
  const char* const* values();

 private:
  std::string& Add() {
    values_.emplace_back();
    null_.push_back(false);
    return values_.back();
  }
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<const char*> pointers_;
};

// One row of a result.
class Row {
 public:
  Row(const PGresult* r, int row) : r_(r), row_(row) {}
  bool Null(int col) const { return PQgetisnull(r_, row_, col) != 0; }
  std::string Text(int col) const { return std::string(View(col)); }
  // Valid while the row is.
  std::string_view View(int col) const {
    return std::string_view(PQgetvalue(r_, row_, col),
                            static_cast<size_t>(PQgetlength(r_, row_, col)));
  }
  int64_t Int(int col) const {
    int64_t v = 0;
    if (!Null(col)) (void)absl::SimpleAtoi(PQgetvalue(r_, row_, col), &v);
    return v;
  }
  uint64_t Uint(int col) const { return static_cast<uint64_t>(Int(col)); }
  std::optional<absl::Time> Time(int col) const {
    if (Null(col)) return std::nullopt;
    return absl::FromUnixMicros(Int(col));
  }
  std::optional<absl::Duration> Ms(int col) const {
    if (Null(col)) return std::nullopt;
    return absl::Milliseconds(Int(col));
  }

 private:
  const PGresult* r_;
  int row_;
};

// What a server said, on one line.
std::string Said(const char* message);

// One libpq connection, opened when first needed and again after it broke.
class Connection {
 public:
  // `read_only`: every transaction on it is read-only.
  Connection(std::string conninfo, bool read_only)
      : conninfo_(std::move(conninfo)), read_only_(read_only) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The connection, (re)connecting when it is not open; UNAVAILABLE,
  // naming the database, when that fails. Connecting gives up after
  // connect_timeout, and an open connection whose peer stopped answering
  // fails after tcp_user_timeout, unless the connection string sets its
  // own.
  absl::StatusOr<PGconn*> Ready();
  // Runs after each connection is opened, before it is used; when it fails,
  // the connection is closed and the error returned.
  void OnConnect(std::function<absl::Status(Connection&)> hook) {
    on_connect_ = std::move(hook);
  }
  void Close();
  bool broken() const {
    return conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK;
  }
  // The database's name, for messages.
  std::string database() const;

  // The error of `r` (or of the connection, with none): FAILED_PRECONDITION
  // for a fenced writer (kFencedState); UNAVAILABLE when the connection is
  // lost or the server is shutting down or refusing connections; INTERNAL
  // otherwise.
  absl::Status Error(const PGresult* r, absl::string_view what) const;

  // Prepares statement `name` as `sql` on the open connection (after
  // Ready, which forgets what a closed connection had prepared), once.
  absl::Status PrepareOnce(const std::string& name, const std::string& sql);

  // Runs `sql` with `params` (as the statement `prepared_as`, prepared on
  // this connection the first time: for queries run once a lead), handing
  // each row to `row` as it arrives (single-row mode: a scan of a million
  // rows holds one at a time). An error stops nothing early that was
  // answered: every row handed over was read whole.
  absl::Status Query(const std::string& sql, Params& params,
                     const std::function<void(const Row&)>& row,
                     absl::string_view what, const char* prepared_as = nullptr);
  // Runs `sql`, which may hold several statements and no parameters (DDL).
  absl::Status Exec(const std::string& sql, absl::string_view what);

  // Sends what libpq holds, reading what the server answers meanwhile so
  // that neither side's buffers fill while the other waits (a pipeline of
  // thousands of statements). UNAVAILABLE after `timeout` without progress.
  absl::Status FlushAll(absl::Duration timeout);

 private:
  const std::string conninfo_;
  const bool read_only_;
  PGconn* conn_ = nullptr;
  absl::flat_hash_set<std::string> prepared_;
  std::function<absl::Status(Connection&)> on_connect_;
};

}  // namespace leadroute::runtime::pg

#endif  // LEADROUTE_RUNTIME_PG_CONNECTION_H_
