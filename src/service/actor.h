// Who made a change, for the audit trail: the principal the Authorizer let
// the call in as, and the call's peer address.
#ifndef LEADROUTE_SRC_SERVICE_ACTOR_H_
#define LEADROUTE_SRC_SERVICE_ACTOR_H_

#include <grpcpp/server_context.h>

#include "runtime/state_store.h"
#include "src/auth/authorizer.h"

namespace leadroute {

inline runtime::Actor ActorOf(const auth::Caller& caller,
                              const grpc::ServerContextBase& context) {
  return runtime::Actor{caller.name, context.peer()};
}

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_ACTOR_H_
