// Token generation and hashing; see token.h.
#include "src/auth/token.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace leadroute::auth {

absl::StatusOr<std::string> GenerateToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("the system gave no random bytes for a token");
  }
  std::string encoded;
  absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes),
      &encoded);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return absl::StrCat("lr_", encoded);
}

TokenHash HashToken(absl::string_view token) {
  TokenHash hash;
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(),
         hash.data());
  return hash;
}

std::string HashText(const TokenHash& hash) {
  return absl::StrCat(
      "sha256:", absl::BytesToHexString(absl::string_view(
                     reinterpret_cast<const char*>(hash.data()), hash.size())));
}

std::optional<TokenHash> ParseHashText(absl::string_view text) {
  if (!absl::ConsumePrefix(&text, "sha256:") || text.size() != 64) {
    return std::nullopt;
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  const std::string bytes = absl::HexStringToBytes(text);
  TokenHash hash;
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

bool SameHash(const TokenHash& a, const TokenHash& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace leadroute::auth
