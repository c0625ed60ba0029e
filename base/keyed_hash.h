// KeyedHash: HMAC-SHA256 under a secret key, for personal data that must
// stay comparable without being written out. The decision log keeps a
// masked attribute a rule reads as its keyed hash; `leadroute replay`,
// given the same key, hashes the values its rules name and so decides on
// the lead as the server did, without anyone reading the value back.
//
// The key lives in a file of its own (at least 32 bytes, e.g.
// `head -c 32 /dev/urandom`), readable by its owner only: a file others
// may read is refused, as ssh refuses a private key. Whoever has the key
// can test guesses against a hash, so it is kept like a password.
#ifndef LEADROUTE_BASE_KEYED_HASH_H_
#define LEADROUTE_BASE_KEYED_HASH_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadroute {

class KeyedHash {
 public:
  static constexpr size_t kMinKeyBytes = 32;
  static constexpr size_t kMaxKeyBytes = 4096;

  // The key in file `path`, trailing whitespace (a newline) left out. An
  // error names `flag` and the path: a missing, short, long, or
  // group/world-readable file.
  static absl::StatusOr<KeyedHash> FromFile(const std::string& path,
                                            absl::string_view flag);
  // `key` as it is; at least kMinKeyBytes.
  static absl::StatusOr<KeyedHash> FromKey(std::string key);

  // 43 base64url characters (256 bits, unpadded) of HMAC-SHA256(key, text).
  // Thread-safe: each call copies the keyed state set up once.
  std::string Hash(absl::string_view text) const;
  // Names the key without revealing it: 8 hex digits of its own hash, so
  // a hash made under another key is told apart, not misread.
  const std::string& id() const { return id_; }

 private:
  explicit KeyedHash(absl::string_view key);
  // SHA-256's state after the key's inner and outer pads (HMAC's first
  // block each way), copied for each hash: a hash of a short text is then
  // two compressions, about 0.1 µs, where OpenSSL's one-shot HMAC() took
  // 1.1 µs setting the key up each time (measured on this machine).
  alignas(8) std::array<uint8_t, 112> inner_{};  // a SHA256_CTX, opaque here
  alignas(8) std::array<uint8_t, 112> outer_{};
  std::string id_;
};

}  // namespace leadroute

#endif  // LEADROUTE_BASE_KEYED_HASH_H_
