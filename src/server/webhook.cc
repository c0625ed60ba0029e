// WebhookSender; see webhook.h.
#include "src/server/webhook.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "src/wire/convert.h"

namespace leadroute {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// libcurl's progress callback: non-zero aborts the transfer.
int AbortWhenStopping(void* stopping, curl_off_t, curl_off_t, curl_off_t,
                      curl_off_t) {
  return static_cast<std::atomic<bool>*>(stopping)->load() ? 1 : 0;
}

std::string Body(const std::vector<runtime::LeadEvent>& events) {
  std::string body = "{\"events\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    v1::AssignmentEvent e;
    EventToProto(events[i], &e);
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(e, &json);
    absl::StrAppend(&body, i > 0 ? "," : "", json);
  }
  return body + "]}";
}

}  // namespace

std::string RedactUrl(absl::string_view url) {
  const size_t scheme = url.find("://");
  const size_t host_from = scheme == absl::string_view::npos ? 0 : scheme + 3;
  const size_t path_from = url.find_first_of("/?#", host_from);
  absl::string_view authority = url.substr(
      host_from, path_from == absl::string_view::npos ? absl::string_view::npos
                                                      : path_from - host_from);
  std::string out(url.substr(0, host_from));
  const size_t at = authority.rfind('@');
  if (at != absl::string_view::npos) {
    absl::StrAppend(&out, "***@", authority.substr(at + 1));
  } else {
    absl::StrAppend(&out, authority);
  }
  if (path_from == absl::string_view::npos) return out;
  absl::string_view rest = url.substr(path_from);
  const size_t query = rest.find_first_of("?#");
  absl::StrAppend(&out, rest.substr(0, query));
  if (query != absl::string_view::npos) absl::StrAppend(&out, "?***");
  return out;
}

std::string WebhookSignature(absl::string_view secret,
                             absl::string_view timestamp,
                             absl::string_view body) {
  const std::string message = absl::StrCat(timestamp, ".", body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       mac, &len);
  return absl::StrCat("sha256=", absl::BytesToHexString(absl::string_view(
                                     reinterpret_cast<const char*>(mac), len)));
}

absl::StatusOr<std::unique_ptr<WebhookSender>> WebhookSender::Start(
    runtime::Assigner* assigner, WebhookOptions options) {
  if (!absl::StartsWith(options.url, "http://") &&
      !absl::StartsWith(options.url, "https://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--webhook-url: \"", options.url, "\" is not an http(s):// URL"));
  }
  if (options.secret.empty()) {
    return absl::InvalidArgumentError(
        "--webhook-secret-file: a webhook needs a non-empty secret to sign "
        "its deliveries");
  }
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<WebhookSender> sender(
      new WebhookSender(assigner, std::move(options)));
  // First start on this store: begin after what is already there, and say
  // so durably, so events committed before the first delivery are not
  // skipped by a restart.
  absl::StatusOr<std::optional<uint64_t>> cursor =
      assigner->committed().CursorValue(kCursor);
  if (!cursor.ok()) return cursor.status();
  if (!*cursor) {
    *cursor = assigner->log().Committed();
    absl::StatusOr<uint64_t> seq =
        assigner->log().AppendIfUsable(runtime::Cursor{kCursor, **cursor});
    if (!seq.ok()) return seq.status();
    if (absl::Status s = assigner->log().WaitDurable(*seq); !s.ok()) return s;
  }
  sender->delivered_ = **cursor;
  WebhookSender* self = sender.get();
  sender->subscription_ = assigner->log().Subscribe([self](const auto&) {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->wake_ = true;
    self->cv_.notify_one();
  });
  sender->thread_ = std::thread([self] { self->Loop(); });
  return sender;
}

WebhookSender::WebhookSender(runtime::Assigner* assigner,
                             WebhookOptions options)
    : assigner_(assigner), options_(std::move(options)) {}

WebhookSender::~WebhookSender() {
  assigner_->log().Unsubscribe(subscription_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool WebhookSender::Wait(absl::Duration d, bool wake_on_events) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(d),
               [&] { return stopping_.load() || (wake_on_events && wake_); });
  wake_ = false;
  return !stopping_.load();
}

absl::Status WebhookSender::Post(
    const std::vector<runtime::LeadEvent>& events) {
  const std::string body = Body(events);
  const std::string timestamp = absl::StrCat(absl::ToUnixSeconds(absl::Now()));
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("curl_easy_init failed");
  curl_slist* headers = nullptr;
  for (const std::string& h :
       {std::string("Content-Type: application/json"),
        absl::StrCat("X-Leadroute-Timestamp: ", timestamp),
        absl::StrCat("X-Leadroute-Signature: ",
                     WebhookSignature(options_.secret, timestamp, body)),
        absl::StrCat("X-Leadroute-Event-Ids: ", events.front().id, "-",
                     events.back().id)}) {
    headers = curl_slist_append(headers, h.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(
      curl, CURLOPT_TIMEOUT_MS,
      static_cast<long>(absl::ToInt64Milliseconds(options_.timeout)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Discard);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &AbortWhenStopping);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stopping_);
  const CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    return absl::UnavailableError(curl_easy_strerror(rc));
  }
  if (code >= 400 && code < 500 && code != 408 && code != 429) {
    return absl::FailedPreconditionError(absl::StrCat("HTTP ", code));
  }
  if (code < 200 || code >= 300) {
    return absl::UnavailableError(absl::StrCat("HTTP ", code));
  }
  return absl::OkStatus();
}

absl::Status WebhookSender::DeadLetter(
    const std::vector<runtime::LeadEvent>& events, const absl::Status& why,
    int attempts) {
  if (options_.dead_letter_path.empty()) {
    return absl::FailedPreconditionError("no dead-letter file");
  }
  const int fd = open(options_.dead_letter_path.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat(options_.dead_letter_path, ": ", strerror(errno)));
  }
  const std::string line =
      absl::StrCat("{\"at\":\"", Rfc3339Micros(absl::Now()), "\",\"error\":\"",
                   why.message(), "\",\"attempts\":", attempts,
                   ",\"event_ids\":\"", events.front().id, "-",
                   events.back().id, "\",\"batch\":", Body(events), "}\n");
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int error = errno;
    close(fd);
    return absl::UnavailableError(
        absl::StrCat(options_.dead_letter_path, ": ", strerror(error)));
  }
  if (st.st_size + static_cast<int64_t>(line.size()) >
      options_.dead_letter_max_bytes) {
    close(fd);
    return absl::ResourceExhaustedError(absl::StrCat(
        options_.dead_letter_path, " is full (", st.st_size, " bytes; ",
        line.size(), " more would pass --webhook-dead-letter-max-bytes ",
        options_.dead_letter_max_bytes,
        "): empty it (the batches in it are kept nowhere else) and delivery "
        "goes on"));
  }
  const bool written = write(fd, line.data(), line.size()) ==
                           static_cast<ssize_t>(line.size()) &&
                       fsync(fd) == 0;
  const int error = errno;
  close(fd);
  if (!written) {
    return absl::UnavailableError(
        absl::StrCat(options_.dead_letter_path, ": ", strerror(error)));
  }
  return absl::OkStatus();
}

void WebhookSender::RenderMetrics(std::string* out) const {
  absl::StrAppend(
      out,
      "# HELP leadroute_webhook_delivered_event_id The last event id the "
      "webhook endpoint acknowledged.\n"
      "# TYPE leadroute_webhook_delivered_event_id gauge\n"
      "leadroute_webhook_delivered_event_id ",
      delivered_through(),
      "\n# HELP leadroute_webhook_failed_deliveries_total POSTs that got no "
      "2xx answer (each is retried).\n"
      "# TYPE leadroute_webhook_failed_deliveries_total counter\n"
      "leadroute_webhook_failed_deliveries_total ",
      failures(),
      "\n# HELP leadroute_webhook_retrying 1 while the oldest undelivered "
      "events wait for a retry.\n"
      "# TYPE leadroute_webhook_retrying gauge\n"
      "leadroute_webhook_retrying ",
      retrying() ? 1 : 0,
      "\n# HELP leadroute_webhook_dead_lettered_events_total Events of "
      "batches the receiver refused (4xx) too often, written to the "
      "dead-letter file instead.\n"
      "# TYPE leadroute_webhook_dead_lettered_events_total counter\n"
      "leadroute_webhook_dead_lettered_events_total ",
      dead_lettered(),
      "\n# HELP leadroute_webhook_gaps_total Times events were deleted by "
      "--event-retention before the webhook delivered them.\n"
      "# TYPE leadroute_webhook_gaps_total counter\n"
      "leadroute_webhook_gaps_total ",
      gaps(), "\n");
}

void WebhookSender::Loop() {
  std::mt19937_64 random(std::random_device{}());
  uint64_t last = delivered_.load();
  absl::Duration backoff = options_.initial_backoff;
  auto retry_wait = [&] {
    // Full jitter on top of the doubling: many servers failing together
    // do not retry together.
    std::uniform_int_distribution<int64_t> jitter(
        0, absl::ToInt64Milliseconds(backoff) / 2);
    const absl::Duration d = backoff + absl::Milliseconds(jitter(random));
    backoff = std::min(backoff * 2, options_.max_backoff);
    return Wait(d, /*wake_on_events=*/false);
  };
  uint64_t refused_first = 0;  // the batch refused in a row, and how often
  int refused = 0;
  while (!stopping_.load()) {
    // Events after `last` that retention deleted are gone: say so.
    if (absl::StatusOr<uint64_t> pruned =
            assigner_->committed().PrunedThrough();
        pruned.ok() && *pruned > last) {
      gaps_.fetch_add(1);
      LogError(
          "webhook: events were deleted by --event-retention before they "
          "were delivered",
          {{"after", absl::StrCat(last)}, {"through", absl::StrCat(*pruned)}});
      last = *pruned;
    }
    absl::StatusOr<std::vector<runtime::LeadEvent>> events =
        assigner_->committed().EventsAfter(last, options_.max_batch);
    if (!events.ok()) {
      LogError("webhook: cannot read events",
               {{"error", std::string(events.status().message())}});
      if (!retry_wait()) return;
      continue;
    }
    if (events->empty()) {
      if (!Wait(absl::Seconds(1), /*wake_on_events=*/true)) return;
      continue;
    }
    absl::Status sent = Post(*events);
    if (sent.code() == absl::StatusCode::kFailedPrecondition) {
      refused = events->front().id == refused_first ? refused + 1 : 1;
      refused_first = events->front().id;
      if (refused >= options_.dead_letter_after) {
        if (absl::Status s = DeadLetter(*events, sent, refused); s.ok()) {
          dead_lettered_.fetch_add(events->size());
          LogError(
              "webhook: a batch the receiver keeps refusing went to the "
              "dead-letter file; delivery goes on after it",
              {{"events",
                absl::StrCat(events->front().id, "-", events->back().id)},
               {"error", std::string(sent.message())},
               {"file", options_.dead_letter_path}});
          sent = absl::OkStatus();  // as if delivered
        } else {
          LogError("webhook: cannot write the dead-letter file",
                   {{"error", std::string(s.message())}});
        }
      }
    }
    if (!sent.ok()) {
      if (stopping_.load()) return;
      failures_.fetch_add(1);
      retrying_.store(true);
      LogError(
          "webhook delivery failed; retrying",
          {{"url", RedactUrl(options_.url)},
           {"events", absl::StrCat(events->front().id, "-", events->back().id)},
           {"error", std::string(sent.message())},
           {"retry_in", absl::FormatDuration(backoff)}});
      if (!retry_wait()) return;
      continue;
    }
    backoff = options_.initial_backoff;
    retrying_.store(false);
    last = events->back().id;
    delivered_.store(last);
    // Not waited for: a crash before it commits sends this batch again.
    (void)assigner_->log().AppendIfUsable(runtime::Cursor{kCursor, last});
  }
}

}  // namespace leadroute
