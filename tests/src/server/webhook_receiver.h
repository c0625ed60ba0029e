// A webhook receiver for tests: a real HTTP endpoint on loopback.
#ifndef LEADROUTE_TESTS_SRC_SERVER_WEBHOOK_RECEIVER_H_
#define LEADROUTE_TESTS_SRC_SERVER_WEBHOOK_RECEIVER_H_

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "civetweb.h"
#include "gtest/gtest.h"

namespace leadroute::tests {

// A real HTTP endpoint (civetweb) that records each POST and answers with
// the next scripted status (200 once the script runs out).
class Receiver {
 public:
  struct Request {
    int answered = 0;
    std::string timestamp;
    std::string signature;
    std::string event_ids;
    std::string body;
  };

  Receiver() {
    mg_init_library(0);
    const char* options[] = {"listening_ports", "127.0.0.1:0", "num_threads",
                             "2", nullptr};
    mg_callbacks callbacks{};
    callbacks.log_message = [](const mg_connection*, const char*) { return 1; };
    context_ = mg_start(&callbacks, nullptr, options);
    EXPECT_NE(context_, nullptr);
    mg_set_request_handler(context_, "/hook", &Receiver::Handle, this);
    mg_server_port port;
    EXPECT_EQ(mg_get_server_ports(context_, 1, &port), 1);
    url_ = absl::StrCat("http://127.0.0.1:", port.port, "/hook");
  }
  ~Receiver() { mg_stop(context_); }

  const std::string& url() const { return url_; }
  // Each request is answered this much later (a slow receiver).
  void set_delay(std::chrono::milliseconds delay) { delay_ = delay; }
  void Script(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_ = std::move(statuses);
  }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // The lead ids of the events in answered-200 requests, in order; waits
  // (up to 10 s) until there are `n`.
  std::vector<std::string> Delivered(size_t n) {
    std::vector<std::string> out;
    for (int i = 0; i < 1000; ++i) {
      out.clear();
      for (const Request& r : requests()) {
        if (r.answered != 200) continue;
        const nlohmann::json body = nlohmann::json::parse(r.body);
        for (const auto& e : body["events"]) {
          out.push_back(e["leadId"].get<std::string>());
        }
      }
      if (out.size() >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return out;
  }

 private:
  static int Handle(mg_connection* conn, void* self_ptr) {
    auto* self = static_cast<Receiver*>(self_ptr);
    Request r;
    char buf[4096];
    for (int n; (n = mg_read(conn, buf, sizeof buf)) > 0;)
      r.body.append(buf, n);
    auto header = [&](const char* name) {
      const char* v = mg_get_header(conn, name);
      return std::string(v == nullptr ? "" : v);
    };
    r.timestamp = header("X-Leadroute-Timestamp");
    r.signature = header("X-Leadroute-Signature");
    r.event_ids = header("X-Leadroute-Event-Ids");
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      r.answered = 200;
      if (!self->script_.empty()) {
        r.answered = self->script_.front();
        self->script_.erase(self->script_.begin());
      }
      self->requests_.push_back(r);
    }
    // Recorded on arrival: a test sees the request while its sender still
    // waits for the answer.
    std::this_thread::sleep_for(self->delay_.load());
    mg_printf(conn,
              "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: "
              "close\r\n\r\n",
              r.answered);
    return r.answered;
  }

  std::atomic<std::chrono::milliseconds> delay_{std::chrono::milliseconds(0)};
  mg_context* context_ = nullptr;
  std::string url_;
  std::mutex mu_;
  std::vector<int> script_;
  std::vector<Request> requests_;
};

}  // namespace leadroute::tests

#endif  // LEADROUTE_TESTS_SRC_SERVER_WEBHOOK_RECEIVER_H_
