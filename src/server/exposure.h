// Who can reach a listening address, and whether serve may listen there:
// without --auth the server answers anyone who connects, and without TLS
// tokens and leads cross the network in clear, so a non-loopback address
// needs both, or the operator's explicit --insecure.
#ifndef LEADROUTE_SRC_SERVER_EXPOSURE_H_
#define LEADROUTE_SRC_SERVER_EXPOSURE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace leadroute {

// True for host:port addresses only this machine can reach: 127.0.0.0/8,
// [::1], localhost.
bool IsLoopback(absl::string_view listen);

struct Exposure {
  bool auth = false;      // --auth given
  bool tls = false;       // --tls-cert/--tls-key given
  bool insecure = false;  // --insecure given
};

// OK when `listen` (named by `flag`) may be served as `e` allows; else
// FAILED_PRECONDITION naming what is missing and the flags that add it.
// With --insecure, OK, and `*warning` says what is exposed.
absl::Status CheckExposure(absl::string_view flag, absl::string_view listen,
                           const Exposure& e, std::string* warning);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVER_EXPOSURE_H_
