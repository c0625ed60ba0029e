// TlsFront: HTTPS for the admin port. Debian 12's civetweb 1.15 crashes on
// its first HTTPS request (docs/deployment.md), so with --tls-cert civetweb
// serves plain HTTP on a loopback port of its own and TlsFront stands in
// front of it: it listens on --admin-listen, completes each TLS handshake
// (TLS 1.2 or later) with the same PEM pair as the gRPC port, and relays the
// bytes of each connection both ways.
//
// Bounded: at most `max_connections` connections at once (more are closed
// as they arrive), a handshake must finish within `handshake_timeout`, and a
// connection with nothing to relay for `idle_timeout` is closed; a thread a
// connection. The pair is read again, for new connections, when its files
// change (checked at most every `refresh`); a pair that does not load (a
// rotation half done, a key of another certificate) keeps the previous one
// and is logged once.
//
// No client certificate is asked for here, even with --tls-client-ca: the
// admin port's callers are probes and scrapers, and /metrics and /status
// take a bearer token.
#ifndef LEADROUTE_SRC_SERVER_TLS_FRONT_H_
#define LEADROUTE_SRC_SERVER_TLS_FRONT_H_

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "src/server/tls_files.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace leadroute {

class TlsFront {
 public:
  struct Limits {
    int max_connections = 64;
    absl::Duration handshake_timeout = absl::Seconds(10);
    absl::Duration idle_timeout = absl::Seconds(60);
  };

  // Listens on `listen` (host:port; port 0 picks one) and relays to
  // 127.0.0.1:`backend_port`. The files must have passed CheckTlsFiles.
  static absl::StatusOr<std::unique_ptr<TlsFront>> Start(
      const std::string& listen, const TlsFiles& files, int backend_port,
      const Limits& limits);
  static absl::StatusOr<std::unique_ptr<TlsFront>> Start(
      const std::string& listen, const TlsFiles& files, int backend_port) {
    return Start(listen, files, backend_port, Limits());
  }
  // Stops accepting, closes every connection and waits for their threads.
  ~TlsFront();

  // host:port as listened on, with the port chosen.
  const std::string& address() const { return address_; }
  // Connections closed on arrival because `max_connections` were open.
  uint64_t refused() const { return refused_; }

 private:
  TlsFront(const TlsFiles& files, int backend_port, const Limits& limits)
      : files_(files), backend_port_(backend_port), limits_(limits) {}
  void AcceptLoop();
  void Serve(int client, std::shared_ptr<SSL_CTX> ctx);
  // The pair to use for a new connection, read again if its files changed.
  std::shared_ptr<SSL_CTX> Current();

  const TlsFiles files_;
  const int backend_port_;
  const Limits limits_;
  std::string address_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};  // a pipe that ends the accept loop's poll

  std::mutex ctx_mu_;
  std::shared_ptr<SSL_CTX> ctx_;
  std::string stamp_;       // the files as ctx_ was read from them
  std::string last_error_;  // the last failed reload, logged once
  absl::Time checked_ = absl::InfinitePast();

  std::mutex mu_;
  std::condition_variable done_;
  std::set<int> open_;  // client sockets being served
  bool stopping_ = false;
  std::atomic<uint64_t> refused_{0};
  std::thread acceptor_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_TLS_FRONT_H_
