// Deciding whether an address may be served; see exposure.h.
#include "src/server/exposure.h"

#include <arpa/inet.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace leadroute {

bool IsLoopback(absl::string_view listen) {
  absl::string_view host = listen;
  if (size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  absl::ConsumePrefix(&host, "ipv4:");
  absl::ConsumePrefix(&host, "ipv6:");
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::string h(host);
  in_addr v4;
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;  // 0.0.0.0, [::], a host name: reachable from elsewhere
}

absl::Status CheckExposure(absl::string_view flag, absl::string_view listen,
                           const Exposure& e, std::string* warning) {
  if (IsLoopback(listen) || (e.auth && e.tls)) return absl::OkStatus();
  std::string missing;
  if (!e.auth) {
    missing =
        "no --auth FILE: anyone who reaches it could publish rules and "
        "move leads";
  }
  if (!e.tls) {
    absl::StrAppend(&missing, missing.empty() ? "" : "; ",
                    "no --tls-cert/--tls-key: tokens and leads would cross "
                    "the network in clear");
  }
  if (e.insecure) {
    *warning = absl::StrCat(flag, " ", listen,
                            " is reachable from other "
                            "machines with ",
                            missing, " (--insecure said so)");
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      flag, " ", listen, " is reachable from other machines, with ", missing,
      ". Listen on 127.0.0.1, add what is missing, or say --insecure (e.g. "
      "behind a proxy that terminates TLS)"));
}

}  // namespace leadroute
