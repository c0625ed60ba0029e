// WebhookSender: delivers lead events (the same ones WatchAssignments
// streams) to an HTTP endpoint, for tools that cannot speak gRPC. One
// thread, one POST at a time, in event id order:
//
//   POST <url>
//   Content-Type: application/json
//   X-Leadroute-Timestamp: <unix seconds>
//   X-Leadroute-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." +
//   body)> X-Leadroute-Event-Ids: <first id>-<last id>
//   {"events": [<AssignmentEvent as proto JSON>, ...]}
//
// A 2xx answer delivers the batch; anything else (or no answer within the
// timeout) is retried with exponential backoff and jitter from the same
// first event (the batch may have grown meanwhile), for as long as it
// takes: later events wait, so order holds. Except a batch the receiver
// refuses (a 4xx answer other than 408 and 429) `dead_letter_after` times
// in a row: it is appended to the dead-letter file (one JSON line, 0600),
// logged as an error, counted, and delivery goes on after it. Events that
// --event-retention deleted before they were delivered (only possible past
// the sweeper's bound on what it keeps for the webhook) are a gap: logged
// as an error and counted, never skipped silently. The
// last delivered id is kept in the state store (a Cursor), so a restart
// resumes where delivery stopped. Delivery is at least once: a crash
// between the endpoint's 2xx and the cursor's commit sends that batch again,
// so receivers dedupe by event id. A webhook set up on a store that already
// has events starts after the last of them.
#ifndef LEADROUTE_SRC_SERVER_WEBHOOK_H_
#define LEADROUTE_SRC_SERVER_WEBHOOK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "runtime/assigner.h"

namespace leadroute {

struct WebhookOptions {
  std::string url;      // http:// or https://; empty: no webhook
  std::string secret;   // the HMAC key; required with a url
  int max_batch = 100;  // events per POST
  absl::Duration timeout = absl::Seconds(10);  // per POST
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Minutes(1);
  // Refusals (4xx) of one batch before it goes to the dead-letter file.
  int dead_letter_after = 5;
  // Where refused batches go; set by the server (DATA_DIR/
  // webhook-dead-letter.jsonl).
  std::string dead_letter_path;
  // The file's size limit: a batch that would take it past this is not
  // written (logged, and counted with the failed deliveries) and is retried
  // as any failed batch, so delivery waits until someone empties the file.
  int64_t dead_letter_max_bytes = int64_t{64} << 20;
};

// "sha256=" and the hex HMAC-SHA256 of `timestamp + "." + body` under
// `secret`: what a receiver recomputes to check a delivery.
std::string WebhookSignature(absl::string_view secret,
                             absl::string_view timestamp,
                             absl::string_view body);

// `url` fit for a log: user:password@ and the query (which often carries a
// token) written as "***".
std::string RedactUrl(absl::string_view url);

class WebhookSender {
 public:
  // Starts delivering. `assigner` must outlive the sender.
  static absl::StatusOr<std::unique_ptr<WebhookSender>> Start(
      runtime::Assigner* assigner, WebhookOptions options);
  // Stops at once: a POST under way is abandoned (and sent again on the
  // next start, as it was never acknowledged).
  ~WebhookSender();

  // Delivery progress, for /metrics and tests.
  uint64_t delivered_through() const { return delivered_.load(); }
  uint64_t failures() const { return failures_.load(); }
  // Whether the oldest undelivered events have failed at least once and
  // are waiting for a retry: what to alert on.
  bool retrying() const { return retrying_.load(); }
  // Events written to the dead-letter file, and gaps retention made.
  uint64_t dead_lettered() const { return dead_lettered_.load(); }
  uint64_t gaps() const { return gaps_.load(); }
  // Appends the leadroute_webhook_* lines.
  void RenderMetrics(std::string* out) const;

 private:
  WebhookSender(runtime::Assigner* assigner, WebhookOptions options);
  void Loop();
  // POSTs `events`; OK on a 2xx answer, FAILED_PRECONDITION when the
  // receiver refused them (4xx but 408 and 429), else UNAVAILABLE.
  absl::Status Post(const std::vector<runtime::LeadEvent>& events);
  // Appends `events` to the dead-letter file with why they were refused.
  absl::Status DeadLetter(const std::vector<runtime::LeadEvent>& events,
                          const absl::Status& why, int attempts);
  // Waits up to `d`, or until the sender stops, or (when `wake_on_events`)
  // new events are committed; false when stopping.
  bool Wait(absl::Duration d, bool wake_on_events);

  static constexpr const char* kCursor = "webhook";

  runtime::Assigner* const assigner_;
  const WebhookOptions options_;
  uint64_t subscription_ = 0;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failures_{0};
  std::atomic<bool> retrying_{false};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint64_t> gaps_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_WEBHOOK_H_
