// AnswerWhenDurable (FinishWhenDurable off the callback API): how every
// unary handler that may change state ends.
// A call that failed, or changed nothing (seq 0), is finished at once; a
// call whose change has a number is finished only once the Assigner's
// commit log has made that change durable (runtime/commit_log.h), so
// a client is never told of an assignment a crash could lose. If the commit
// fails, the call fails with the store's UNAVAILABLE instead.
//
// `settle(status)` runs just before the call is finished, with the status
// the call ends with: it counts the call (after Finish, a shutdown may free
// the metrics) and clears an answer that must not go out.
#ifndef LEADROUTE_SRC_SERVICE_ANSWER_H_
#define LEADROUTE_SRC_SERVICE_ANSWER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "runtime/assigner.h"
#include "src/wire/convert.h"

namespace leadroute {

// `field_prefix` makes a field error's path one in the request ("lead.");
// see ToGrpcStatus. `assigner` may be null when `seq` is 0. `finish(status)`
// ends the call, once, here or on the commit log's writer.
template <typename Settle, typename Finish>
void FinishWhenDurable(runtime::Assigner* assigner, const absl::Status& status,
                       uint64_t seq, Settle settle, Finish finish,
                       absl::string_view field_prefix = "") {
  if (!status.ok() || seq == 0) {
    settle(status);
    finish(ToGrpcStatus(status, field_prefix));
    return;
  }
  assigner->log().WhenDurable(
      seq, [settle = std::move(settle),
            finish = std::move(finish)](absl::Status stored) mutable {
        settle(stored);
        finish(ToGrpcStatus(stored));
      });
}

// The same for a handler on gRPC's callback API.
template <typename Settle>
grpc::ServerUnaryReactor* AnswerWhenDurable(
    grpc::CallbackServerContext* context, runtime::Assigner* assigner,
    const absl::Status& status, uint64_t seq, Settle settle,
    absl::string_view field_prefix = "") {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FinishWhenDurable(
      assigner, status, seq, std::move(settle),
      [reactor](const grpc::Status& s) { reactor->Finish(s); }, field_prefix);
  return reactor;
}

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_ANSWER_H_
