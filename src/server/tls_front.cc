// TLS in front of the admin port's civetweb; see tls_front.h.
#include "src/server/tls_front.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "src/server/rules_watcher.h"

namespace leadroute {
namespace {

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out.empty() ? "unknown error" : out;
}

absl::StatusOr<std::shared_ptr<SSL_CTX>> LoadContext(const TlsFiles& files) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), CtxFree());
  if (ctx == nullptr) return absl::InternalError(OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  // Client-initiated renegotiation is a cheap way to make a server work.
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-cert ", files.cert, ": cannot load (", OpenSslErrors(), ")"));
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(),
                                  SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", files.key, ": not the key of --tls-cert ",
                     files.cert, " (", OpenSslErrors(), ")"));
  }
  return ctx;
}

// host:port (host may be [v6], empty or *) to a listening socket.
absl::StatusOr<int> Listen(const std::string& listen, std::string* address) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--admin-listen ", listen, ": not a host:port"));
  }
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const bool any = host.empty() || host == "*";
  if (getaddrinfo(any ? nullptr : host.c_str(), port.c_str(), &hints, &found) !=
      0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--admin-listen ", listen, ": not a host:port this machine has"));
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(
        "--admin-listen ", listen, ": cannot listen (", strerror(errno), ")"));
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const int bound_port =
      bound.ss_family == AF_INET6
          ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
          : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  *address = absl::StrCat(listen.substr(0, colon), ":", bound_port);
  return fd;
}

int ConnectBackend(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Blocking sends and receives on `fd` give up after `d`.
void SetTimeouts(int fd, absl::Duration d) {
  const timeval tv = absl::ToTimeval(d);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t sent = send(fd, data, n, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsFront>> TlsFront::Start(
    const std::string& listen, const TlsFiles& files, int backend_port,
    const Limits& limits) {
  std::unique_ptr<TlsFront> front(new TlsFront(files, backend_port, limits));
  absl::StatusOr<std::shared_ptr<SSL_CTX>> ctx = LoadContext(files);
  if (!ctx.ok()) return ctx.status();
  front->ctx_ = *std::move(ctx);
  front->stamp_ = FilesStamp("", {files.cert, files.key});
  front->checked_ = absl::Now();
  absl::StatusOr<int> fd = Listen(listen, &front->address_);
  if (!fd.ok()) return fd.status();
  front->listen_fd_ = *fd;
  if (pipe2(front->wake_, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", strerror(errno)));
  }
  TlsFront* self = front.get();
  front->acceptor_ = std::thread([self] { self->AcceptLoop(); });
  return front;
}

TlsFront::~TlsFront() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    // Wakes connections blocked in a handshake, a read or a poll.
    for (int fd : open_) shutdown(fd, SHUT_RDWR);
  }
  if (wake_[1] >= 0) (void)!write(wake_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return open_.empty(); });
  }
  for (int fd : {listen_fd_, wake_[0], wake_[1]}) {
    if (fd >= 0) close(fd);
  }
}

std::shared_ptr<SSL_CTX> TlsFront::Current() {
  std::lock_guard<std::mutex> lock(ctx_mu_);
  const absl::Time now = absl::Now();
  if (now - checked_ < files_.refresh) return ctx_;
  checked_ = now;
  std::string stamp = FilesStamp("", {files_.cert, files_.key});
  if (stamp == stamp_) return ctx_;
  absl::StatusOr<std::shared_ptr<SSL_CTX>> ctx = LoadContext(files_);
  if (!ctx.ok()) {
    // Tried again at the next check: the other file may be on its way.
    const std::string error(ctx.status().message());
    if (error != last_error_) {
      LogWarn("admin tls reload failed; keeping the previous certificate",
              {{"error", error}});
      last_error_ = error;
    }
    return ctx_;
  }
  ctx_ = *std::move(ctx);
  stamp_ = std::move(stamp);
  last_error_.clear();
  return ctx_;
}

void TlsFront::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      // Out of descriptors, or a connection reset before it was taken.
      if (errno == EMFILE || errno == ENFILE) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_ ||
          open_.size() >= static_cast<size_t>(limits_.max_connections)) {
        close(client);
        ++refused_;
        continue;
      }
      open_.insert(client);
    }
    std::thread([this, client, ctx = Current()] {
      Serve(client, ctx);
      std::lock_guard<std::mutex> lock(mu_);
      open_.erase(client);
      close(client);
      done_.notify_all();
    }).detach();
  }
}

void TlsFront::Serve(int client, std::shared_ptr<SSL_CTX> ctx) {
  // A peer gone mid-write is an error to return, not a signal to die of.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  const int one = 1;
  setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  SetTimeouts(client, limits_.handshake_timeout);
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (ssl == nullptr || SSL_set_fd(ssl.get(), client) != 1 ||
      SSL_accept(ssl.get()) != 1) {
    ERR_clear_error();
    return;
  }
  const int backend = ConnectBackend(backend_port_);
  if (backend < 0) {
    ERR_clear_error();
    return;
  }
  SetTimeouts(client, limits_.idle_timeout);
  SetTimeouts(backend, limits_.idle_timeout);
  char buffer[16384];
  const int idle_ms = static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(limits_.idle_timeout),
                        std::numeric_limits<int>::max()));
  for (bool open = true; open;) {
    pollfd fds[2] = {{client, POLLIN, 0}, {backend, POLLIN, 0}};
    // Bytes OpenSSL already read and decrypted are not on the socket.
    if (SSL_pending(ssl.get()) > 0) {
      fds[0].revents = POLLIN;
      poll(&fds[1], 1, 0);
    } else if (poll(fds, 2, idle_ms) <= 0) {
      break;  // idle too long, or an error
    }
    if (fds[0].revents != 0) {
      const int n = SSL_read(ssl.get(), buffer, sizeof buffer);
      open = n > 0 && SendAll(backend, buffer, static_cast<size_t>(n));
    }
    if (open && fds[1].revents != 0) {
      const ssize_t n = recv(backend, buffer, sizeof buffer, 0);
      open = n > 0 && SSL_write(ssl.get(), buffer, static_cast<int>(n)) > 0;
    }
  }
  SSL_shutdown(ssl.get());
  ERR_clear_error();
  close(backend);
}

}  // namespace leadroute
