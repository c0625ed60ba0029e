// A PostgreSQL server for a test; see pg_server.h.
#include "tests/pg/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace leadroute::testing_util {
namespace {

constexpr char kBin[] = "/usr/lib/postgresql/15/bin/";
constexpr char kPsql[] = "/usr/bin/psql";
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// A loopback port nothing listens on now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgServer>> PgServer::Start(
    const std::filesystem::path& dir, bool fsync) {
  std::unique_ptr<PgServer> pg(new PgServer(dir, fsync));
  if (absl::Status s = pg->Init(); !s.ok()) return s;
  // Another process may take the port between FreePort and the start: try
  // a few.
  absl::Status started;
  for (int attempt = 0; attempt < 5; ++attempt) {
    pg->port_ = FreePort();
    started = pg->StartServer();
    if (started.ok()) return pg;
  }
  return started;
}

PgServer::~PgServer() {
  if (running_) {
    Run({absl::StrCat(kBin, "pg_ctl"), "-D", (dir_ / "data").string(), "-m",
         "immediate", "-w", "stop"});
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string PgServer::conninfo(const std::string& dbname) const {
  return absl::StrCat("host=127.0.0.1 port=", port_,
                      " user=leadroute connect_timeout=5 dbname=", dbname);
}

int PgServer::Run(std::vector<std::string> args, std::string* output) {
  // PostgreSQL will not run as root: drop to nobody, who owns the folder.
  if (geteuid() == 0) {
    args.insert(args.begin(),
                {"/usr/bin/setpriv", absl::StrCat("--reuid=", kNobody),
                 absl::StrCat("--regid=", kNogroup), "--clear-groups"});
  }
  const std::filesystem::path out = dir_ / "run.out";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string text = ReadFile(out);
  std::ofstream(dir_ / "pg_server.log", std::ios::app)
      << "$ " << absl::StrJoin(args, " ") << "\n"
      << text;
  if (output != nullptr) *output = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

absl::Status PgServer::Init() {
  std::filesystem::create_directories(dir_);
  if (geteuid() == 0 && chown(dir_.c_str(), kNobody, kNogroup) != 0) {
    return absl::InternalError(absl::StrCat("cannot chown ", dir_.string()));
  }
  std::string out;
  if (Run({absl::StrCat(kBin, "initdb"), "-D", (dir_ / "data").string(), "-U",
           "leadroute", "--auth=trust", "-E", "UTF8", "--locale=C",
           "--no-sync"},
          &out) != 0) {
    return absl::InternalError(absl::StrCat("initdb failed: ", out));
  }
  return absl::OkStatus();
}

absl::Status PgServer::StartServer() {
  // postgresql.auto.conf is read last: each start rewrites it.
  std::ofstream(dir_ / "data" / "postgresql.auto.conf", std::ios::trunc)
      << "port = " << port_ << "\n"
      << "listen_addresses = '127.0.0.1'\n"
      << "unix_socket_directories = ''\n"
      << "max_connections = 200\n";
  if (!fsync_) {
    // Durable against a crash of the server (what the tests do), not of
    // the machine: a test's data dies with its folder anyway.
    std::ofstream(dir_ / "data" / "postgresql.auto.conf", std::ios::app)
        << "fsync = off\n"
        << "full_page_writes = off\n";
  }
  std::string out;
  if (Run({absl::StrCat(kBin, "pg_ctl"), "-D", (dir_ / "data").string(), "-l",
           (dir_ / "postgres.log").string(), "-w", "-t", "60", "start"},
          &out) != 0) {
    return absl::UnavailableError(
        absl::StrCat("pg_ctl start on port ", port_, " failed: ", out,
                     ReadFile(dir_ / "postgres.log")));
  }
  running_ = true;
  return absl::OkStatus();
}

absl::Status PgServer::Stop() {
  std::string out;
  if (Run({absl::StrCat(kBin, "pg_ctl"), "-D", (dir_ / "data").string(), "-m",
           "fast", "-w", "stop"},
          &out) != 0) {
    return absl::InternalError(absl::StrCat("pg_ctl stop failed: ", out));
  }
  running_ = false;
  return absl::OkStatus();
}

absl::Status PgServer::Restart() {
  if (running_) {
    if (absl::Status s = Stop(); !s.ok()) return s;
  }
  return StartServer();
}

absl::Status PgServer::CrashAndRestart() {
  // The postmaster's pid is the first line of postmaster.pid.
  std::ifstream in(dir_ / "data" / "postmaster.pid");
  pid_t pid = 0;
  in >> pid;
  if (pid <= 0 || kill(pid, SIGKILL) != 0) {
    return absl::InternalError("no postmaster to kill");
  }
  // Its children notice and exit; the next start waits for the port.
  for (int i = 0; i < 500 && kill(pid, 0) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running_ = false;
  absl::Status started;
  for (int i = 0; i < 50; ++i) {
    started = StartServer();
    if (started.ok()) return started;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return started;
}

absl::StatusOr<std::string> PgServer::Psql(const std::string& sql,
                                           const std::string& dbname) {
  std::string out;
  if (Run({kPsql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
           conninfo(dbname), "-c", sql},
          &out) != 0) {
    return absl::InternalError(absl::StrCat("psql: ", out));
  }
  return out;
}

}  // namespace leadroute::testing_util
