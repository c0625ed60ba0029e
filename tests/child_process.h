// ChildProcess: a program a test starts (posix_spawn) and is sure to stop.
// Whatever path a test leaves by, a failed assertion included, the
// destructor kills the child with SIGKILL and reaps it, so no server is left
// running to hold ctest's pipe open until its timeout.
#ifndef LEADROUTE_TESTS_CHILD_PROCESS_H_
#define LEADROUTE_TESTS_CHILD_PROCESS_H_

#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <string>
#include <vector>

extern char** environ;

namespace leadroute::testing_util {

class ChildProcess {
 public:
  ChildProcess() = default;
  // Starts `args[0]` with `args`; running() is false if it could not.
  explicit ChildProcess(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], nullptr, nullptr, argv.data(), environ) !=
        0) {
      pid_ = 0;
    }
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ChildProcess& operator=(ChildProcess&& other) noexcept {
    if (this != &other) {
      Stop();
      pid_ = other.pid_;
      other.pid_ = 0;
    }
    return *this;
  }
  ~ChildProcess() { Stop(); }

  bool running() const { return pid_ > 0; }
  // Whether the child has ended by itself (then reaped: running() is false).
  bool Exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = 0;
    exit_status_ = status;
    return true;
  }
  // The wait status Exited reaped; -1 before.
  int exit_status() const { return exit_status_; }
  pid_t pid() const { return pid_; }

  // Sends `signal` and waits for the child to end; its wait status, or -1
  // when there was no child.
  int KillAndWait(int signal) {
    if (pid_ <= 0) return -1;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
    return status;
  }

 private:
  void Stop() {
    if (pid_ > 0) KillAndWait(SIGKILL);
  }

  pid_t pid_ = 0;
  int exit_status_ = -1;
};

}  // namespace leadroute::testing_util

#endif  // LEADROUTE_TESTS_CHILD_PROCESS_H_
