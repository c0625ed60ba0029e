// A GET over HTTPS for tests of the admin port, with OpenSSL: the server's
// certificate must verify against a CA file and name 127.0.0.1.
#ifndef LEADROUTE_TESTS_SRC_SERVER_HTTPS_GET_H_
#define LEADROUTE_TESTS_SRC_SERVER_HTTPS_GET_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

namespace leadroute::tests {

struct HttpsResponse {
  int code = -1;  // -1: no HTTP response; `body` says why
  std::string body;
  std::string issuer;  // of the server's certificate, one line
};

// A TCP connection to 127.0.0.1:port, or -1.
inline int ConnectLoopback(const std::string& address) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(
      static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  const timeval tv{10, 0};  // a stuck server fails the test, not hangs it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

// GET https://`address``path` (address "127.0.0.1:port") trusting the CAs
// in `ca_file`, with `headers` (each line ending in \r\n).
inline HttpsResponse HttpsGet(const std::string& address,
                              const std::string& path,
                              const std::string& ca_file,
                              const std::string& headers = "") {
  HttpsResponse out;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
      SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    out.body = "cannot read " + ca_file;
    return out;
  }
  const int fd = ConnectLoopback(address);
  if (fd < 0) {
    out.body = "cannot connect";
    return out;
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), "127.0.0.1");
  SSL_set_fd(ssl.get(), fd);
  if (SSL_connect(ssl.get()) != 1) {
    char why[256];
    ERR_error_string_n(ERR_get_error(), why, sizeof why);
    ERR_clear_error();
    close(fd);
    out.body = std::string("handshake failed: ") + why;
    return out;
  }
  if (X509* cert = SSL_get_peer_certificate(ssl.get())) {
    char issuer[256];
    X509_NAME_oneline(X509_get_issuer_name(cert), issuer, sizeof issuer);
    out.issuer = issuer;
    X509_free(cert);
  }
  const std::string request = "GET " + path +
                              " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Connection: close\r\n" +
                              headers + "\r\n";
  SSL_write(ssl.get(), request.data(), static_cast<int>(request.size()));
  std::string response;
  char buf[16384];
  for (int n; (n = SSL_read(ssl.get(), buf, sizeof buf)) > 0;) {
    response.append(buf, static_cast<size_t>(n));
  }
  ERR_clear_error();
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.size() < 12 || body == std::string::npos) {
    out.body = "no HTTP response: " + response;
    return out;
  }
  out.code = std::stoi(response.substr(9, 3));
  out.body = response.substr(body + 4);
  return out;
}

}  // namespace leadroute::tests

#endif  // LEADROUTE_TESTS_SRC_SERVER_HTTPS_GET_H_
