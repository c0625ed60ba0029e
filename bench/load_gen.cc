// The load generator: a closed-loop gRPC client on the callback API that
// keeps N calls in flight against a server process it starts itself, first
// the empty-handler floor (bench/empty_server), then `leadroute serve` with
// a 10k-rule territory plan, stateless and with --data-dir (every lead
// assigned to a rep and committed to SQLite before the answer), and
// stateless over TLS with --auth (a bearer token on every call; the CA and
// certificate made by the openssl command line, the token by `leadroute
// auth add`), and each of the two alone, and durable on PostgreSQL (a
// real PostgreSQL 15 it starts in a temporary folder, fsync on) with one
// replica and with three (calls spread evenly over the three, as a load
// balancer would), and prints calls/s, leads/s and p50/p99 latency for
// each, with ratios: leadroute to the floor, durable to stateless, TLS and
// tokens to plaintext without auth, PostgreSQL to SQLite; and stateless
// with a shadow ruleset (--shadow-rules: the plan with Germany moved)
// against stateless alone. Last, the
// alternative to one elected writer on the same database: every replica
// writing, one transaction a lead holding its team's row lock
// (bench/active_active.h).
//
//   load_gen --leadroute build/release/leadroute
//            --empty-server build/release/bench/empty_server
//            [--rules 10000] [--seconds 2] [--rounds 3] [--only TEXT]
//            [--servers TEXT] [--split-cores]
//   (one command line)
//
// --only runs the scenarios whose name holds TEXT; --servers the servers
// whose name holds one of TEXT's comma-separated parts (the empty handler
// and stateless leadroute always run: the ratios need them).
//
// --split-cores pins every server to CPU 0 (taskset) and the load
// generator to the others, so the client's own work (its TLS above all)
// does not take the server's core.
//
// Requests are serialised before each scenario (each with lead ids of its
// own, never sent before) and sent through a generic stub as raw bytes,
// and responses are not parsed: the client's share of the two cores goes
// to gRPC itself, the same for both servers.
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "bench/active_active.h"
#include "bench/lead_proto.h"
#include "bench/server_process.h"
#include "bench/territory_plan.h"
#include "leadroute/v1/leadroute.pb.h"
#include "tests/pg/pg_server.h"

namespace leadroute::bench {
namespace {

using Clock = std::chrono::steady_clock;

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

// A random lead of the territory plan, as the wire sends it.
v1::Lead RandomLeadProto(std::mt19937* rng, int i) {
  return LeadProto(RandomLead(rng), absl::StrCat("lead-", i));
}

struct Result {
  double seconds = 0;
  int64_t calls = 0;
  int64_t errors = 0;
  int64_t response_bytes = 0;         // of the last measured response
  std::vector<int64_t> latencies_ns;  // of measured calls, sorted
  double server_cpu_seconds = 0;      // the server's, in the measured window
  double database_cpu_seconds = 0;    // its database backends', likewise
};

// User + system CPU seconds process `pid` has used, from /proc.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold
  // spaces: state is field 3, utime 14 and stime 15.
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of the PostgreSQL backends connected to database `db` (their
// titles read "postgres: USER DB HOST(PORT) ..."); 0 for "".
double DatabaseCpuSeconds(const std::string& db) {
  if (db.empty()) return 0;
  double sum = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string title;
    std::getline(in, title, '\0');
    if (title.rfind("postgres: leadroute " + db + " ", 0) == 0) {
      sum += CpuSeconds(std::stoi(pid));
    }
  }
  return sum;
}

// Keeps `in_flight` calls of `method` going for warm-up + `measure`,
// cycling through `requests`; counts only calls that start and end within
// the measured window.
class ClosedLoop {
 public:
  // Requests are taken from `requests` starting at `*offset`, which is
  // advanced past those issued, so consecutive runs send new lead ids.
  // `authorization`: the metadata each call sends; "" for none. Slot i
  // calls through stubs[i % stubs.size()]: the replicas get equal shares.
  ClosedLoop(std::vector<grpc::GenericStub*> stubs, std::string method,
             const std::vector<grpc::ByteBuffer>& requests, int in_flight,
             size_t* offset, std::string authorization)
      : stubs_(std::move(stubs)),
        method_(std::move(method)),
        requests_(requests),
        slots_(in_flight),
        offset_(offset),
        authorization_(std::move(authorization)) {}

  // `servers`: the processes whose CPU time the window is charged with;
  // `database`: the PostgreSQL database they keep their state in, or "".
  Result Run(Clock::duration warmup, Clock::duration measure,
             const std::vector<pid_t>& servers, const std::string& database) {
    auto cpu = [&servers] {
      double sum = 0;
      for (pid_t pid : servers) sum += CpuSeconds(pid);
      return sum;
    };
    measure_from_ = Clock::now() + warmup;
    measure_to_ = measure_from_ + measure;
    active_ = static_cast<int>(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) Issue(i);
    std::this_thread::sleep_until(measure_from_);
    const double cpu_from = cpu();
    const double db_from = DatabaseCpuSeconds(database);
    std::this_thread::sleep_until(measure_to_);
    const double cpu_to = cpu();
    const double db_to = DatabaseCpuSeconds(database);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return active_ == 0; });
    Result r;
    r.server_cpu_seconds = cpu_to - cpu_from;
    r.database_cpu_seconds = db_to - db_from;
    r.seconds = std::chrono::duration<double>(measure).count();
    for (Slot& s : slots_) {
      r.calls += s.calls;
      r.errors += s.errors;
      r.response_bytes = std::max(r.response_bytes, s.response_bytes);
      r.latencies_ns.insert(r.latencies_ns.end(), s.latencies.begin(),
                            s.latencies.end());
    }
    std::sort(r.latencies_ns.begin(), r.latencies_ns.end());
    size_t most = 0;
    for (const Slot& s : slots_) most = std::max(most, s.next);
    *offset_ += most * slots_.size();
    return r;
  }

 private:
  struct Slot {
    std::unique_ptr<grpc::ClientContext> context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    Clock::time_point start;
    size_t next = 0;
    int64_t calls = 0;
    int64_t errors = 0;
    int64_t response_bytes = 0;
    std::vector<int64_t> latencies;
  };

  void Issue(size_t i) {
    Slot& s = slots_[i];
    s.context = std::make_unique<grpc::ClientContext>();
    if (!authorization_.empty()) {
      s.context->AddMetadata("authorization", authorization_);
    }
    s.request =
        requests_[(*offset_ + s.next++ * slots_.size() + i) % requests_.size()];
    s.start = Clock::now();
    stubs_[i % stubs_.size()]->UnaryCall(
        s.context.get(), method_, grpc::StubOptions(), &s.request, &s.response,
        [this, i](grpc::Status status) { Done(i, status); });
  }

  void Done(size_t i, const grpc::Status& status) {
    Slot& s = slots_[i];
    const Clock::time_point end = Clock::now();
    if (s.start >= measure_from_ && end <= measure_to_) {
      if (status.ok()) {
        ++s.calls;
        s.latencies.push_back((end - s.start).count());
        s.response_bytes = static_cast<int64_t>(s.response.Length());
      } else {
        ++s.errors;
      }
    }
    if (end < measure_to_) {
      Issue(i);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (--active_ == 0) done_.notify_one();
  }

  const std::vector<grpc::GenericStub*> stubs_;
  const std::string method_;
  const std::vector<grpc::ByteBuffer>& requests_;
  std::vector<Slot> slots_;
  size_t* offset_;
  const std::string authorization_;
  Clock::time_point measure_from_, measure_to_;
  std::mutex mu_;
  std::condition_variable done_;
  int active_ = 0;
};

struct Scenario {
  std::string name;
  std::string method;
  int batch = 0;  // leads per call; 0 for Route
  int in_flight = 1;
};

// Makes `dir`/ca.crt, server.crt and server.key (for 127.0.0.1) with the
// openssl command line; false when it is missing or fails.
bool MakeCertificates(const std::string& dir) {
  const std::string ec =
      "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  std::ofstream(dir + "/server.ext")
      << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  const std::string commands[] = {
      absl::StrCat("openssl req -x509 ", ec, " -days 2 -subj /CN=bench-ca",
                   " -keyout ", dir, "/ca.key -out ", dir, "/ca.crt"),
      absl::StrCat("openssl req ", ec, " -subj /CN=localhost -keyout ", dir,
                   "/server.key -out ", dir, "/server.csr"),
      absl::StrCat("openssl x509 -req -days 2 -in ", dir, "/server.csr -CA ",
                   dir, "/ca.crt -CAkey ", dir, "/ca.key -CAcreateserial -out ",
                   dir, "/server.crt -extfile ", dir, "/server.ext")};
  for (const std::string& c : commands) {
    if (std::system((c + " >/dev/null 2>&1").c_str()) != 0) return false;
  }
  return true;
}

// The token `leadroute auth add` printed for a new principal of role route
// in `auth_file`; "" on failure.
std::string AddPrincipal(const std::string& leadroute_bin,
                         const std::string& auth_file) {
  const std::string command =
      absl::StrCat(leadroute_bin, " auth add bench --roles route --file ",
                   auth_file, " 2>/dev/null");
  std::FILE* out = popen(command.c_str(), "r");
  if (out == nullptr) return "";
  char line[256] = {};
  const bool read = std::fgets(line, sizeof line, out) != nullptr;
  pclose(out);
  std::string token = read ? line : "";
  token.erase(token.find_last_not_of(" \n") + 1);
  return token;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1,
                         static_cast<size_t>(p * sorted.size()))] /
         1000.0;
}

// Whether a Route through `stub` succeeds within 20 s (a replica answers
// once a writer is elected and known to it).
bool WaitReady(grpc::GenericStub* stub, const grpc::ByteBuffer& request,
               const std::string& authorization) {
  for (int tries = 0; tries < 40; ++tries) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(500));
    if (!authorization.empty()) {
      context.AddMetadata("authorization", authorization);
    }
    grpc::ByteBuffer response;
    std::mutex mu;
    std::condition_variable cv;
    std::optional<grpc::Status> status;
    stub->UnaryCall(&context, "/leadroute.v1.LeadRouter/Route",
                    grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = std::move(s);
                      cv.notify_one();
                    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return status.has_value(); });
    if (status->ok()) return true;
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

int Main(int argc, char** argv) {
  // The client shares the machine's cores with the servers it measures:
  // like them (src/server/server.cc), it turns off the lock-graph update
  // Debian's Abseil does on every absl::Mutex lock, gRPC's included.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::string leadroute_bin, empty_bin;
  int rules = 10000;
  double seconds = 2;
  int rounds = 3;
  std::string only;          // run only the scenarios whose name contains this
  std::string only_servers;  // and only these servers (--servers)
  bool split_cores = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--split-cores") {
      split_cores = true;
      continue;
    }
    if (i + 1 == argc) break;
    const char* value = argv[++i];
    if (flag == "--leadroute") leadroute_bin = value;
    if (flag == "--empty-server") empty_bin = value;
    if (flag == "--rules") rules = std::stoi(value);
    if (flag == "--seconds") seconds = std::stod(value);
    if (flag == "--rounds") rounds = std::max(1, std::stoi(value));
    if (flag == "--only") only = value;
    if (flag == "--servers") only_servers = value;
  }
  if (split_cores) {
    // Before any thread starts: every thread made later inherits it.
    cpu_set_t client_cpus;
    CPU_ZERO(&client_cpus);
    for (int cpu = 1; cpu < CPU_SETSIZE && cpu < 1024; ++cpu) {
      CPU_SET(cpu, &client_cpus);
    }
    if (sched_setaffinity(0, sizeof client_cpus, &client_cpus) != 0) {
      std::fprintf(stderr, "load_gen: --split-cores needs two CPUs\n");
      return 2;
    }
  }
  if (leadroute_bin.empty() || empty_bin.empty()) {
    std::fprintf(stderr,
                 "usage: load_gen --leadroute PATH --empty-server PATH "
                 "[--rules N] [--seconds S] [--rounds R] [--only SCENARIO] "
                 "[--servers NAME,...] [--split-cores]\n");
    return 2;
  }
  char dir_template[] = "/tmp/leadroute-load-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string rules_path = dir + "/plan.route";
  std::ofstream(rules_path) << TerritoryPlan(rules);
  // A rule change under review, run as the shadow of the plan.
  const std::string candidate_path = dir + "/candidate.route";
  std::ofstream(candidate_path) << MoveGermanyToOneRep(TerritoryPlan(rules));

  // Each scenario sends lead ids of its own, never sent before: new leads,
  // as inbound traffic is. (A lead the store has, and the working set does
  // not, costs a read more; the pools are big enough not to come round in
  // a run at these rates.) Every request still asks to reroute, so a pool
  // that did come round would measure a durable write, not a replay; the
  // stateless server ignores it.
  auto requests_for = [](const Scenario& sc, int index) {
    std::mt19937 rng(42 + index);
    const int base = index * 10'000'000;
    std::vector<grpc::ByteBuffer> out;
    if (sc.batch == 0) {
      for (int i = 0; i < 200000; ++i) {
        v1::RouteRequest request;
        *request.mutable_lead() = RandomLeadProto(&rng, base + i);
        request.mutable_options()->set_reroute(true);
        out.push_back(Serialize(request));
      }
      return out;
    }
    for (int b = 0; b < 400000 / sc.batch; ++b) {
      v1::RouteBatchRequest request;
      request.mutable_options()->set_reroute(true);
      for (int i = 0; i < sc.batch; ++i) {
        *request.add_leads() = RandomLeadProto(&rng, base + b * sc.batch + i);
      }
      out.push_back(Serialize(request));
    }
    return out;
  };
  std::mt19937 ready_rng(7);
  v1::RouteRequest ready_request;
  *ready_request.mutable_lead() = RandomLeadProto(&ready_rng, -1);
  const grpc::ByteBuffer ready = Serialize(ready_request);
  const std::vector<Scenario> scenarios = {
      {"Route, 1 in flight", "/leadroute.v1.LeadRouter/Route", 0, 1},
      {"Route, 64 in flight", "/leadroute.v1.LeadRouter/Route", 0, 64},
      {"Route, 256 in flight", "/leadroute.v1.LeadRouter/Route", 0, 256},
      {"RouteBatch 100, 4 in flight", "/leadroute.v1.LeadRouter/RouteBatch",
       100, 4},
      {"RouteBatch 1000, 4 in flight", "/leadroute.v1.LeadRouter/RouteBatch",
       1000, 4},
  };
  if (!MakeCertificates(dir)) {
    std::fprintf(stderr, "load_gen: the openssl command line is needed\n");
    return 1;
  }
  const std::string token = AddPrincipal(leadroute_bin, dir + "/auth.txt");
  if (token.empty()) {
    std::fprintf(stderr, "load_gen: leadroute auth add failed\n");
    return 1;
  }
  struct Server {
    std::string name;
    std::vector<std::string> argv;
    bool tls = false;           // a TLS channel
    bool token = false;         // a bearer token on every call
    int replicas = 1;           // processes with the same flags, called in turn
    std::string database = "";  // its PostgreSQL database, if any
  };
  auto serve = [&](std::vector<std::string> more) {
    std::vector<std::string> argv = {leadroute_bin, "serve",   "--listen",
                                     "127.0.0.1:0", "--rules", rules_path,
                                     "--watch",     "0"};
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  };
  std::vector<Server> servers = {
      {"empty handler", {empty_bin, "--listen", "127.0.0.1:0"}},
      {absl::StrCat("leadroute, ", rules, " rules"), serve({})},
      {"leadroute, shadow rules", serve({"--shadow-rules", candidate_path})},
      {"leadroute, --data-dir", serve({"--data-dir", dir + "/data"})},
      {"leadroute, TLS + token",
       serve({"--auth", dir + "/auth.txt", "--tls-cert", dir + "/server.crt",
              "--tls-key", dir + "/server.key"}),
       true, true},
      // Each half alone, to tell what the pair costs.
      {"leadroute, token only", serve({"--auth", dir + "/auth.txt"}), false,
       true},
      {"leadroute, TLS only",
       serve({"--tls-cert", dir + "/server.crt", "--tls-key",
              dir + "/server.key"}),
       true, false},
      {"leadroute, PostgreSQL x1", {}},
      {"leadroute, PostgreSQL x3", {}, false, false, 3}};
  // The empty handler and stateless leadroute always run; the others as
  // --servers says.
  if (!only_servers.empty()) {
    const std::vector<std::string> wanted =
        absl::StrSplit(only_servers, ',', absl::SkipEmpty());
    std::vector<Server> kept(servers.begin(), servers.begin() + 2);
    for (size_t s = 2; s < servers.size(); ++s) {
      for (const std::string& w : wanted) {
        if (servers[s].name.find(w) != std::string::npos) {
          kept.push_back(servers[s]);
          break;
        }
      }
    }
    servers = std::move(kept);
  }
  // One PostgreSQL for the PostgreSQL servers, a database each, and one for
  // the active-active floor.
  std::unique_ptr<testing_util::PgServer> pg;
  constexpr const char* kActiveActiveDb = "active_active";
  for (Server& server : servers) {
    if (server.name.find("PostgreSQL") == std::string::npos) continue;
    if (pg == nullptr) {
      // A folder of its own in /tmp, not under `dir`: when load_gen runs as
      // root the server runs as nobody, who cannot enter `dir`.
      char pg_template[] = "/tmp/leadroute-load-pg-XXXXXX";
      auto started =
          testing_util::PgServer::Start(mkdtemp(pg_template), /*fsync=*/true);
      if (!started.ok()) {
        std::fprintf(stderr, "load_gen: PostgreSQL did not start: %s\n",
                     std::string(started.status().message()).c_str());
        return 1;
      }
      pg = *std::move(started);
    }
    const std::string db = absl::StrCat("r", server.replicas);
    if (!pg->Psql(absl::StrCat("CREATE DATABASE ", db)).ok()) return 1;
    server.argv = serve({"--state", pg->conninfo(db)});
    server.database = db;
  }

  // All servers run at once (an idle one costs nothing); each scenario
  // alternates between them `rounds` times and reports the median round, so
  // all see the same machine and the ratios are fair on a noisy host.
  std::vector<std::vector<Child>> children(servers.size());
  std::vector<std::vector<std::unique_ptr<grpc::GenericStub>>> stubs(
      servers.size());
  auto stop_all = [&children] {
    for (const std::vector<Child>& replicas : children) {
      for (const Child& c : replicas) Stop(c);
    }
  };
  for (size_t s = 0; s < servers.size(); ++s) {
    const Server& server = servers[s];
    std::vector<std::string> argv = server.argv;
    if (split_cores) argv.insert(argv.begin(), {"/usr/bin/taskset", "-c", "0"});
    for (int r = 0; r < server.replicas; ++r) {
      children[s].push_back(Spawn(argv));
      if (children[s].back().address.empty()) {
        std::fprintf(stderr, "load_gen: %s did not start\n",
                     server.name.c_str());
        stop_all();
        return 1;
      }
      grpc::SslCredentialsOptions tls;
      tls.pem_root_certs = ReadFile(dir + "/ca.crt");
      stubs[s].push_back(
          std::make_unique<grpc::GenericStub>(grpc::CreateChannel(
              children[s].back().address,
              server.tls ? grpc::SslCredentials(tls)
                         : grpc::InsecureChannelCredentials())));
    }
  }
  // Replicas answer once one of them is the writer and the others know it.
  for (size_t s = 0; s < servers.size(); ++s) {
    for (const auto& stub : stubs[s]) {
      if (!WaitReady(stub.get(), ready,
                     servers[s].token ? "Bearer " + token : "")) {
        std::fprintf(stderr, "load_gen: %s does not answer Route\n",
                     servers[s].name.c_str());
        stop_all();
        return 1;
      }
    }
  }
  std::printf("%d rounds of %.1f s each, median round shown\n\n", rounds,
              seconds);
  std::printf("%-25s %-30s %10s %10s %9s %9s %6s %10s %11s %10s\n", "server",
              "scenario", "calls/s", "leads/s", "p50 us", "p99 us", "errors",
              "resp bytes", "srv cpu us", "db cpu us");
  std::vector<std::vector<double>> rates(servers.size());
  // The server's CPU microseconds per call: its own cost, whoever is the
  // bottleneck (on two cores the client's TLS competes for the same CPUs).
  // All its replicas' together; not the database's.
  std::vector<std::vector<double>> cpu_per_call(servers.size());
  std::vector<Scenario> ran;
  for (size_t index = 0; index < scenarios.size(); ++index) {
    const Scenario& sc = scenarios[index];
    if (sc.name.find(only) == std::string::npos) continue;
    ran.push_back(sc);
    const std::vector<grpc::ByteBuffer> requests =
        requests_for(sc, static_cast<int>(index));
    std::vector<std::vector<Result>> runs(servers.size());
    std::vector<size_t> offsets(servers.size(), 0);
    for (int round = 0; round < rounds; ++round) {
      for (size_t s = 0; s < servers.size(); ++s) {
        std::vector<grpc::GenericStub*> replicas;
        std::vector<pid_t> pids;
        for (const auto& stub : stubs[s]) replicas.push_back(stub.get());
        for (const Child& c : children[s]) pids.push_back(c.pid);
        ClosedLoop loop(std::move(replicas), sc.method, requests, sc.in_flight,
                        &offsets[s], servers[s].token ? "Bearer " + token : "");
        runs[s].push_back(loop.Run(
            std::chrono::milliseconds(300),
            std::chrono::milliseconds(static_cast<int>(seconds * 1000)), pids,
            servers[s].database));
      }
    }
    for (size_t s = 0; s < servers.size(); ++s) {
      std::sort(
          runs[s].begin(), runs[s].end(),
          [](const Result& a, const Result& b) { return a.calls < b.calls; });
      const Result& r = runs[s][runs[s].size() / 2];
      const double calls = r.calls / r.seconds;
      const double leads = calls * std::max(sc.batch, 1);
      rates[s].push_back(calls);
      const double cpu_us =
          r.calls == 0 ? 0 : r.server_cpu_seconds * 1e6 / r.calls;
      cpu_per_call[s].push_back(cpu_us);
      const double db_us =
          r.calls == 0 ? 0 : r.database_cpu_seconds * 1e6 / r.calls;
      std::printf(
          "%-25s %-30s %10.0f %10.0f %9.1f %9.1f %6lld %10lld %11.1f %10.1f\n",
          servers[s].name.c_str(), sc.name.c_str(), calls, leads,
          Percentile(r.latencies_ns, 0.5), Percentile(r.latencies_ns, 0.99),
          static_cast<long long>(r.errors),
          static_cast<long long>(r.response_bytes), cpu_us, db_us);
      std::fflush(stdout);
    }
  }
  stop_all();
  auto index = [&servers](const std::string& name) -> int {
    for (size_t s = 0; s < servers.size(); ++s) {
      if (servers[s].name == name) return static_cast<int>(s);
    }
    return -1;
  };
  // `a` / `b` in calls/s (or b's CPU per call / a's, with `cpu`) for each
  // scenario, when both ran.
  auto ratios = [&](const std::string& title, int a, int b, bool cpu) {
    if (a < 0 || b < 0) return;
    std::printf("\n%s:\n", title.c_str());
    for (size_t i = 0; i < ran.size(); ++i) {
      std::printf("  %-30s %.2fx\n", ran[i].name.c_str(),
                  cpu ? cpu_per_call[b][i] / cpu_per_call[a][i]
                      : rates[a][i] / rates[b][i]);
    }
  };
  ratios("leadroute / empty handler, calls/s", 1, 0, false);
  ratios("with shadow rules / stateless leadroute, calls/s",
         index("leadroute, shadow rules"), 1, false);
  const int sqlite = index("leadroute, --data-dir");
  ratios("durable (--data-dir) / stateless leadroute, calls/s", sqlite, 1,
         false);
  for (const char* name : {"leadroute, TLS + token", "leadroute, token only",
                           "leadroute, TLS only"}) {
    ratios(absl::StrCat(name + 11, " / plaintext without auth, calls/s"),
           index(name), 1, false);
  }
  for (const char* name : {"leadroute, TLS + token", "leadroute, token only",
                           "leadroute, TLS only"}) {
    ratios(absl::StrCat("server CPU per call, plaintext without auth / ",
                        name + 11, " (1.00x: free)"),
           index(name), 1, true);
  }
  for (const char* name :
       {"leadroute, PostgreSQL x1", "leadroute, PostgreSQL x3"}) {
    ratios(absl::StrCat(name + 11, " / SQLite (--data-dir), calls/s"),
           index(name), sqlite, false);
  }
  if (pg != nullptr) {
    // The alternative design on the same database, with as many clients as
    // Route at 64 in flight keeps calls going: every lead to one team (a
    // round robin every replica shares), then spread over 100 teams.
    if (!pg->Psql(absl::StrCat("CREATE DATABASE ", kActiveActiveDb)).ok() ||
        !MakeActiveActiveSchema(pg->conninfo(kActiveActiveDb), 100)) {
      return 1;
    }
    constexpr int kConnections = 64;
    std::printf(
        "\nactive-active on the same PostgreSQL (database only, one "
        "transaction a lead holding its team's rotation row):\n");
    for (int teams : {1, 100}) {
      std::vector<ActiveActiveResult> results;
      for (int round = 0; round < rounds; ++round) {
        results.push_back(RunActiveActive(pg->conninfo(kActiveActiveDb),
                                          kConnections, teams, seconds,
                                          teams * 100 + round));
      }
      std::sort(results.begin(), results.end(),
                [](const auto& a, const auto& b) {
                  return a.leads_per_second < b.leads_per_second;
                });
      const ActiveActiveResult& r = results[results.size() / 2];
      std::printf("  %3d team%s, %3d connections %10.0f leads/s %6lld errors\n",
                  teams, teams == 1 ? " " : "s", kConnections,
                  r.leads_per_second, static_cast<long long>(r.errors));
    }
  }
  pg.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace leadroute::bench

int main(int argc, char** argv) { return leadroute::bench::Main(argc, argv); }
