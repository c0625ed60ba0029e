// A server child process for benchmarks: started with its log on a pipe,
// read until the "listening" line gives its address, then drained on a
// thread so the child never blocks on a full pipe; stopped with SIGTERM.
#ifndef LEADROUTE_BENCH_SERVER_PROCESS_H_
#define LEADROUTE_BENCH_SERVER_PROCESS_H_

#include <signal.h>
#include <spawn.h>
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
};

inline Child Spawn(const std::vector<std::string>& argv) {
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
  while (std::fgets(line, sizeof line, log) != nullptr) {
    if (const char* at = std::strstr(line, "msg=listening addr=")) {
      child.address = at + std::strlen("msg=listening addr=");
      child.address.erase(child.address.find_last_not_of(" \n") + 1);
      break;
    }
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

inline void Stop(const Child& child) {
  if (child.pid <= 0) return;
  kill(child.pid, SIGTERM);
  int status = 0;
  waitpid(child.pid, &status, 0);
}

}  // namespace leadroute::bench

#endif  // LEADROUTE_BENCH_SERVER_PROCESS_H_
