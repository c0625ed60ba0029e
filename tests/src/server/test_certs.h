// Certificates for TLS tests, made at test time by the `openssl` command
// line (never checked in): a CA, a server certificate for localhost and
// 127.0.0.1, and client certificates, each signed by the CA, in a folder.
#ifndef LEADROUTE_TESTS_SRC_SERVER_TEST_CERTS_H_
#define LEADROUTE_TESTS_SRC_SERVER_TEST_CERTS_H_

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"

namespace leadroute::tests {

// Runs `command` in a shell; true when it exited 0.
inline bool Sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Makes `dir`/NAME.crt and NAME.key for a new CA called `ca`.
inline bool MakeCa(const std::filesystem::path& dir, const std::string& ca) {
  const std::string base = (dir / ca).string();
  return Sh(absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -days 2 -subj /CN=",
      ca, " -keyout ", base, ".key -out ", base, ".crt"));
}

// Makes `dir`/NAME.crt and NAME.key, with common name `cn`, signed by the CA
// `ca` of MakeCa; `extensions` as openssl's x509v3 config lines.
inline bool MakeCert(const std::filesystem::path& dir, const std::string& ca,
                     const std::string& name, const std::string& cn,
                     const std::string& extensions) {
  const std::string base = (dir / name).string();
  const std::string ca_base = (dir / ca).string();
  std::ofstream(base + ".ext") << extensions << "\n";
  return Sh(absl::StrCat(
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
             "-nodes -subj /CN=",
             cn, " -keyout ", base, ".key -out ", base, ".csr")) &&
         Sh(absl::StrCat("openssl x509 -req -days 2 -in ", base, ".csr -CA ",
                         ca_base, ".crt -CAkey ", ca_base,
                         ".key -CAcreateserial -out ", base, ".crt -extfile ",
                         base, ".ext"));
}

inline bool MakeServerCert(const std::filesystem::path& dir,
                           const std::string& ca, const std::string& name) {
  return MakeCert(dir, ca, name, "localhost",
                  "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                  "extendedKeyUsage=serverAuth");
}

inline bool MakeClientCert(const std::filesystem::path& dir,
                           const std::string& ca, const std::string& name,
                           const std::string& cn) {
  return MakeCert(dir, ca, name, cn, "extendedKeyUsage=clientAuth");
}

}  // namespace leadroute::tests

#endif  // LEADROUTE_TESTS_SRC_SERVER_TEST_CERTS_H_
