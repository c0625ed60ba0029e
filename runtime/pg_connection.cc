// libpq connections, statements and errors; see pg_connection.h.
#include "runtime/pg_connection.h"

#include <poll.h>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "base/status_macros.h"

namespace leadroute::runtime::pg {

Params& Params::Text(absl::string_view v) {
  std::string& out = Add();
  out.assign(v.data(), v.size());
  for (size_t at = out.find('\0'); at != std::string::npos;
       at = out.find('\0', at)) {
    out.replace(at, 1, "\xEF\xBF\xBD");
  }
  return *this;
}

const char* const* Params::values() {
  pointers_.clear();
  for (size_t i = 0; i < values_.size(); ++i) {
    pointers_.push_back(null_[i] ? nullptr : values_[i].c_str());
  }
  return pointers_.data();
}

std::string Said(const char* message) {
  return std::string(absl::StripTrailingAsciiWhitespace(
      absl::StrReplaceAll(message == nullptr ? "" : message, {{"\n", " "}})));
}

absl::StatusOr<PGconn*> Connection::Ready() {
  // Idle, or inside a transaction the caller began (a migration); never
  // one left failed or half-answered.
  const PGTransactionStatusType t =
      conn_ != nullptr ? PQtransactionStatus(conn_) : PQTRANS_UNKNOWN;
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK &&
      (t == PQTRANS_IDLE || t == PQTRANS_INTRANS)) {
    // Nothing is sent to a connection of ours between two statements
    // (none listens) but the server's goodbye: readable now means it
    // ended the session since its last use (a restart, a terminated
    // backend), and a new one is opened here instead of failing the call.
    pollfd p{PQsocket(conn_), POLLIN, 0};
    if (poll(&p, 1, 0) == 0) return conn_;
  }
  Close();
  // Defaults first: whatever the connection string sets wins.
  const char* const keys[] = {"connect_timeout",  "tcp_user_timeout",
                              "keepalives_idle",  "keepalives_interval",
                              "keepalives_count", "fallback_application_name",
                              "dbname",           nullptr};
  const char* const values[] = {
      "5", "10000", "10", "5", "2", "leadroute", conninfo_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    absl::Status s = absl::UnavailableError(absl::StrCat(
        "cannot connect to PostgreSQL database \"", database(), "\": ",
        conn_ == nullptr ? "out of memory" : Said(PQerrorMessage(conn_))));
    Close();
    return s;
  }
  // Notices ("already exists, skipping") are not for the server's log.
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  if (read_only_) {
    PGresult* r =
        PQexec(conn_, "SET SESSION default_transaction_read_only = on");
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
      absl::Status s = Error(nullptr, "making the connection read-only");
      Close();
      return s;
    }
  }
  if (on_connect_ != nullptr) {
    if (absl::Status s = on_connect_(*this); !s.ok()) {
      Close();
      return s;
    }
  }
  return conn_;
}

void Connection::Close() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

std::string Connection::database() const {
  const char* db = conn_ != nullptr ? PQdb(conn_) : nullptr;
  return db != nullptr ? db : "";
}

absl::Status Connection::Error(const PGresult* r,
                               absl::string_view what) const {
  std::string said = Said(r != nullptr ? PQresultErrorMessage(r) : nullptr);
  if (said.empty() && conn_ != nullptr) said = Said(PQerrorMessage(conn_));
  const char* state =
      r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const absl::string_view code = state != nullptr ? state : "";
  const std::string message =
      absl::StrCat("PostgreSQL database \"", database(), "\": ", what, ": ",
                   said.empty() ? "no answer" : said);
  if (code == kFencedState) return absl::FailedPreconditionError(message);
  if (broken() || absl::StartsWith(code, "08") ||
      absl::StartsWith(code, "57P") || code == "53300") {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

absl::Status Connection::PrepareOnce(const std::string& name,
                                     const std::string& sql) {
  if (prepared_.contains(name)) return absl::OkStatus();
  PGresult* r = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  absl::Status s =
      ok ? absl::OkStatus() : Error(r, absl::StrCat("preparing ", name));
  PQclear(r);
  if (ok) prepared_.insert(name);
  return s;
}

absl::Status Connection::Query(const std::string& sql, Params& params,
                               const std::function<void(const Row&)>& row,
                               absl::string_view what,
                               const char* prepared_as) {
  ASSIGN_OR_RETURN(PGconn * c, Ready());
  if (prepared_as != nullptr) RETURN_IF_ERROR(PrepareOnce(prepared_as, sql));
  const int sent =
      prepared_as != nullptr
          ? PQsendQueryPrepared(c, prepared_as, params.size(), params.values(),
                                nullptr, nullptr, 0)
          : PQsendQueryParams(c, sql.c_str(), params.size(), nullptr,
                              params.values(), nullptr, nullptr, 0);
  if (sent != 1) return Error(nullptr, what);
  PQsetSingleRowMode(c);
  absl::Status s;
  while (PGresult* r = PQgetResult(c)) {
    const ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_SINGLE_TUPLE) {
      if (s.ok() && row != nullptr) row(Row(r, 0));
    } else if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && s.ok()) {
      s = Error(r, what);
    }
    PQclear(r);
  }
  return s;
}

absl::Status Connection::Exec(const std::string& sql, absl::string_view what) {
  ASSIGN_OR_RETURN(PGconn * c, Ready());
  PGresult* r = PQexec(c, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  absl::Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
                       ? absl::OkStatus()
                       : Error(r, what);
  PQclear(r);
  return s;
}

absl::Status Connection::FlushAll(absl::Duration timeout) {
  for (;;) {
    const int f = PQflush(conn_);
    if (f == 0) return absl::OkStatus();
    if (f < 0) return Error(nullptr, "sending a commit");
    pollfd p{PQsocket(conn_), POLLIN | POLLOUT, 0};
    const int n =
        poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    if (n == 0) {
      return absl::UnavailableError(
          absl::StrCat("PostgreSQL database \"", database(),
                       "\": sending a commit: no progress in ",
                       absl::FormatDuration(timeout)));
    }
    if (n > 0 && (p.revents & POLLIN) != 0 && PQconsumeInput(conn_) != 1) {
      return Error(nullptr, "sending a commit");
    }
  }
}

}  // namespace leadroute::runtime::pg
