// A server child process for benchmarks: started with its log on a pipe,
// read until the "listening" line gives its address (and, when asked, the
// admin port's line its address), then drained on a thread so the child
// never blocks on a full pipe; stopped with SIGTERM. HttpGet reads a page
// of its admin port.
#ifndef LEADROUTE_BENCH_SERVER_PROCESS_H_
#define LEADROUTE_BENCH_SERVER_PROCESS_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace leadroute::bench {

// A server child process and the address it listens on.
struct Child {
  pid_t pid = -1;
  std::string address;
  std::string admin;  // with `admin`: the admin port's host:port
};

// With `admin`, `argv` must have --admin-listen: its line is waited for too.
inline Child Spawn(const std::vector<std::string>& argv, bool admin = false) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  Child child;
  if (posix_spawn(&child.pid, args[0], &actions, nullptr, args.data(),
                  environ) != 0) {
    std::fprintf(stderr, "cannot start %s\n", args[0]);
    return {};
  }
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  // Read the log until the listening line.
  std::FILE* log = fdopen(pipe_fds[0], "r");
  char line[4096];
  auto value = [](const char* at, const char* key) {
    std::string v = at + std::strlen(key);
    return v.substr(0, v.find_first_of(" \n"));
  };
  while (std::fgets(line, sizeof line, log) != nullptr) {
    if (const char* at = std::strstr(line, "msg=listening addr=")) {
      child.address = value(at, "msg=listening addr=");
    }
    constexpr const char* kAdmin = "msg=\"admin http listening\" addr=";
    if (const char* at = std::strstr(line, kAdmin)) {
      child.admin = value(at, kAdmin);
    }
    if (!child.address.empty() && (!admin || !child.admin.empty())) break;
  }
  // Keep draining the child's log so it never blocks on a full pipe.
  std::thread([log] {
    char rest[4096];
    while (std::fgets(rest, sizeof rest, log) != nullptr) {
    }
    std::fclose(log);
  }).detach();
  return child;
}

// GET http://`address``path` (address "127.0.0.1:port"), HTTP/1.0: the
// whole response, status line and headers included; empty when the server
// cannot be reached.
inline std::string HttpGet(const std::string& address,
                           const std::string& path) {
  const size_t colon = address.rfind(':');
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port =
      htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &to.sin_addr) != 1) {
    return "";
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\n\r\n";
    if (send(fd, request.data(), request.size(), 0) ==
        static_cast<ssize_t>(request.size())) {
      char buf[65536];
      for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;)
        out.append(buf, n);
    }
  }
  close(fd);
  return out;
}

inline void Stop(const Child& child) {
  if (child.pid <= 0) return;
  kill(child.pid, SIGTERM);
  int status = 0;
  waitpid(child.pid, &status, 0);
}

}  // namespace leadroute::bench

#endif  // LEADROUTE_BENCH_SERVER_PROCESS_H_
