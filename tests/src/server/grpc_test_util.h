// Helpers for tests that talk to the real server: the field violations a
// client finds in a failed call's details, a plain HTTP GET for the admin
// port, a free port for a server started as a child process, and a wait
// until that server answers.
#ifndef LEADROUTE_TESTS_SRC_SERVER_GRPC_TEST_UTIL_H_
#define LEADROUTE_TESTS_SRC_SERVER_GRPC_TEST_UTIL_H_

#include <arpa/inet.h>
#include <grpcpp/support/status.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "leadroute/v1/leadroute.grpc.pb.h"

namespace leadroute::tests {

// (field, description) of each google.rpc.BadRequest field violation in
// the status details; {{"?", "?"}} when the details are not that.
inline std::vector<std::pair<std::string, std::string>> Violations(
    const grpc::Status& s) {
  google::rpc::Status details;
  google::rpc::BadRequest bad;
  if (!details.ParseFromString(s.error_details()) ||
      details.details_size() != 1 || !details.details(0).UnpackTo(&bad)) {
    return {{"?", "?"}};
  }
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : bad.field_violations()) {
    out.emplace_back(v.field(), v.description());
  }
  return out;
}

// GET http://`address``path` (address "127.0.0.1:port") with `headers`
// (each line ending in \r\n): the status code and the body, or {-1, why}
// when the server cannot be reached or says nothing for `timeout_seconds`.
inline std::pair<int, std::string> HttpGet(const std::string& address,
                                           const std::string& path,
                                           const std::string& headers = "",
                                           int timeout_seconds = 10) {
  const size_t colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port =
      htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    if (fd >= 0) close(fd);
    return {-1, "cannot connect"};
  }
  const timeval timeout{timeout_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n" +
      headers + "\r\n";
  (void)!write(fd, request.data(), request.size());
  std::string response;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) response.append(buf, n);
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  if (response.size() < 12 || body == std::string::npos) return {-1, response};
  return {std::stoi(response.substr(9, 3)), response.substr(body + 4)};
}

// `n` different loopback ports, free a moment ago, for child processes to
// listen on: all held at once while they are picked, so none repeats.
inline std::vector<int> FreePorts(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    fds.push_back(fd);
    ports.push_back(ntohs(sa.sin_port));
  }
  for (int fd : fds) close(fd);
  return ports;
}

// A loopback port free a moment ago, for a child process to listen on.
inline int FreePort() { return FreePorts(1)[0]; }

// Waits (up to 10 s) until the server behind `stub` answers a call; false
// when it never did.
inline bool WaitReady(v1::Assignments::Stub* stub) {
  for (int i = 0; i < 500; ++i) {
    grpc::ClientContext c;
    c.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(200));
    v1::ListRepsResponse resp;
    if (stub->ListReps(&c, v1::ListRepsRequest(), &resp).ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace leadroute::tests

#endif  // LEADROUTE_TESTS_SRC_SERVER_GRPC_TEST_UTIL_H_
