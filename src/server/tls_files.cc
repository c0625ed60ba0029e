// Checking PEM files and building watched TLS credentials; see tls_files.h.
#include "src/server/tls_files.h"

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace leadroute {
namespace {

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "not PEM";
  char buffer[256];
  ERR_error_string_n(code, buffer, sizeof buffer);
  return buffer;
}

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};
using File = std::unique_ptr<FILE, FileCloser>;

absl::StatusOr<File> OpenPem(const char* flag, const std::string& path) {
  File f(fopen(path.c_str(), "rb"));
  if (f == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read"));
  }
  return f;
}

absl::Time Asn1ToTime(const ASN1_TIME* t) {
  struct tm parts = {};
  if (ASN1_TIME_to_tm(t, &parts) != 1) return absl::InfinitePast();
  return absl::FromTM(parts, absl::UTCTimeZone());
}

}  // namespace

absl::StatusOr<TlsSummary> CheckTlsFiles(const TlsFiles& files) {
  if (files.cert.empty() || files.key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: the server's certificate and "
        "its private key");
  }
  TlsSummary out;
  absl::StatusOr<File> cert_file = OpenPem("--tls-cert", files.cert);
  if (!cert_file.ok()) return cert_file.status();
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_X509(cert_file->get(), nullptr, nullptr, nullptr), X509_free);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-cert ", files.cert,
                                                   ": not a PEM certificate (",
                                                   OpenSslError(), ")"));
  }
  absl::StatusOr<File> key_file = OpenPem("--tls-key", files.key);
  if (!key_file.ok()) return key_file.status();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_PrivateKey(key_file->get(), nullptr, nullptr, nullptr),
      EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key ", files.key, ": not an unencrypted PEM private key (",
        OpenSslError(), ")"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls-key ", files.key, " is not the key of --tls-cert ", files.cert));
  }
  char subject[512];
  X509_NAME_oneline(X509_get_subject_name(cert.get()), subject, sizeof subject);
  out.subject = subject;
  out.not_after = Asn1ToTime(X509_get0_notAfter(cert.get()));
  if (!files.client_ca.empty()) {
    absl::StatusOr<File> ca_file = OpenPem("--tls-client-ca", files.client_ca);
    if (!ca_file.ok()) return ca_file.status();
    while (X509* ca =
               PEM_read_X509(ca_file->get(), nullptr, nullptr, nullptr)) {
      ++out.client_cas;
      X509_free(ca);
    }
    ERR_clear_error();
    if (out.client_cas == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tls-client-ca ", files.client_ca, ": holds no PEM certificate"));
    }
  }
  return out;
}

namespace {

// A provider that reads the files every `files.refresh` (at least 1 s).
std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> WatchFiles(
    const TlsFiles& files) {
  const unsigned int refresh = static_cast<unsigned int>(
      std::max<int64_t>(1, absl::ToInt64Seconds(files.refresh)));
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key, files.cert, files.client_ca, refresh);
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> WatchedTlsCredentials(
    const TlsFiles& files) {
  grpc::experimental::TlsServerCredentialsOptions options(WatchFiles(files));
  options.watch_identity_key_cert_pairs();
  if (files.client_ca.empty()) {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  } else {
    options.watch_root_certs();
    options.set_cert_request_type(
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> WatchedTlsChannelCredentials(
    const TlsFiles& files) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(WatchFiles(files));
  options.watch_identity_key_cert_pairs();
  // Without a client CA file, the system's authorities check the server.
  if (!files.client_ca.empty()) options.watch_root_certs();
  return grpc::experimental::TlsCredentials(options);
}

}  // namespace leadroute
