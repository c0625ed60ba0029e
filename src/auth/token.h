// Bearer tokens: made from 32 random bytes (OpenSSL's RAND_bytes), shown to
// their owner once, and kept only as a SHA-256 hash. A token of 256 random
// bits needs no salt or slow hash: nobody can guess it, so its hash cannot
// be searched for either, and checking one costs a single SHA-256.
#ifndef LEADROUTE_SRC_AUTH_TOKEN_H_
#define LEADROUTE_SRC_AUTH_TOKEN_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadroute::auth {

using TokenHash = std::array<uint8_t, 32>;

// Longer presented tokens are refused before they are hashed.
inline constexpr size_t kMaxTokenBytes = 512;

// "lr_" and 43 base64url characters (256 random bits).
absl::StatusOr<std::string> GenerateToken();
TokenHash HashToken(absl::string_view token);
// "sha256:" and 64 lowercase hex digits, as the --auth file keeps it.
std::string HashText(const TokenHash& hash);
// HashText's form back; nullopt when it is not one.
std::optional<TokenHash> ParseHashText(absl::string_view text);
// Compares without stopping at the first difference (CRYPTO_memcmp).
bool SameHash(const TokenHash& a, const TokenHash& b);

}  // namespace leadroute::auth

#endif  // LEADROUTE_SRC_AUTH_TOKEN_H_
