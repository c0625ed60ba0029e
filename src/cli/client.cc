// The client subcommands' shared calls; see client.h.
#include "src/cli/client.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace leadroute {
namespace {

absl::StatusOr<std::string> ReadFile(const char* flag,
                                     const std::string& path) {
  constexpr size_t kMaxBytes = 1 << 20;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot read"));
  }
  std::string text(kMaxBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": more than ", kMaxBytes, " bytes"));
  }
  return text;
}

}  // namespace

void AddClientFlags(CLI::App* command, ClientFlags* flags) {
  command->add_option("--server", flags->server, "host:port of the server")
      ->capture_default_str();
  command
      ->add_option("--timeout", flags->timeout_seconds, "Deadline in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      ->add_option("--token-file", flags->token_file,
                   "A file whose first line is your bearer token (from "
                   "`leadroute auth add`)")
      ->envname("LEADROUTE_TOKEN_FILE");
  command->add_option("--tls-ca", flags->tls_ca,
                      "Connect with TLS, trusting these CA certificates (PEM)");
  command->add_option("--tls-cert", flags->tls_cert,
                      "Your client certificate (PEM), for mutual TLS");
  command->add_option("--tls-key", flags->tls_key,
                      "The private key of --tls-cert (PEM)");
  command->add_option("--tls-server-name", flags->tls_server_name,
                      "The name to expect in the server's certificate, when "
                      "it is not the --server host");
}

absl::StatusOr<Client> Client::Connect(const ClientFlags& flags) {
  Client client;
  client.timeout_seconds_ = flags.timeout_seconds;
  if (!flags.token_file.empty()) {
    absl::StatusOr<std::string> text =
        ReadFile("--token-file", flags.token_file);
    if (!text.ok()) return text.status();
    std::string token(absl::StripAsciiWhitespace(
        absl::string_view(*text).substr(0, text->find('\n'))));
    if (token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--token-file ", flags.token_file, ": the first line is empty"));
    }
    client.authorization_ = absl::StrCat("Bearer ", token);
  }
  if ((flags.tls_cert.empty()) != (flags.tls_key.empty())) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: your certificate and its key");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  grpc::ChannelArguments args;
  if (flags.tls_ca.empty() && flags.tls_cert.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!flags.tls_ca.empty()) {
      absl::StatusOr<std::string> ca = ReadFile("--tls-ca", flags.tls_ca);
      if (!ca.ok()) return ca.status();
      ssl.pem_root_certs = *std::move(ca);
    }
    if (!flags.tls_cert.empty()) {
      absl::StatusOr<std::string> cert = ReadFile("--tls-cert", flags.tls_cert);
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadFile("--tls-key", flags.tls_key);
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *std::move(cert);
      ssl.pem_private_key = *std::move(key);
    }
    credentials = grpc::SslCredentials(ssl);
    if (!flags.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(flags.tls_server_name);
    }
  }
  client.channel_ = grpc::CreateCustomChannel(flags.server, credentials, args);
  return client;
}

void Client::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds_ * 1000)));
  if (!authorization_.empty()) {
    context->AddMetadata("authorization", authorization_);
  }
}

void PrintJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json;
}

int FailedCall(const char* command, const grpc::Status& status) {
  // gRPC's codes are absl's, number for number.
  std::cerr << "leadroute " << command << ": "
            << absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(status.error_code()))
            << ": " << status.error_message() << "\n";
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::FAILED_PRECONDITION:
      return 1;
    default:
      return 2;
  }
}

}  // namespace leadroute
