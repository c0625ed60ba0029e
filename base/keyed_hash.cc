// HMAC-SHA256 on OpenSSL's SHA-256; see keyed_hash.h.
#include "base/keyed_hash.h"

// SHA-256's low-level calls are deprecated in OpenSSL 3 in favour of EVP,
// whose contexts cannot be copied without an allocation; HMAC from copied
// SHA256_CTX states is ten times faster for the short texts hashed here.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace leadroute {
namespace {

static_assert(sizeof(SHA256_CTX) <= 112 && alignof(SHA256_CTX) <= 8,
              "KeyedHash keeps a SHA256_CTX");

SHA256_CTX* State(std::array<uint8_t, 112>& bytes) {
  return reinterpret_cast<SHA256_CTX*>(bytes.data());
}

// HMAC (RFC 2104) of `text` from the keyed inner and outer states.
std::string Mac(const std::array<uint8_t, 112>& inner,
                const std::array<uint8_t, 112>& outer, absl::string_view text) {
  SHA256_CTX c;
  std::memcpy(&c, inner.data(), sizeof(c));
  SHA256_Update(&c, text.data(), text.size());
  unsigned char h[SHA256_DIGEST_LENGTH];
  SHA256_Final(h, &c);
  std::memcpy(&c, outer.data(), sizeof(c));
  SHA256_Update(&c, h, sizeof(h));
  SHA256_Final(h, &c);
  return std::string(reinterpret_cast<const char*>(h), sizeof(h));
}

}  // namespace

absl::StatusOr<KeyedHash> KeyedHash::FromFile(const std::string& path,
                                              absl::string_view flag) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": not a regular file"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s %s: the key may be read by others (mode %04o); it must be "
        "readable by its owner only: chmod 600 %s",
        flag, path, st.st_mode & 07777, path));
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyBytes) + 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": ", st.st_size,
                     " bytes; a key has at most ", kMaxKeyBytes));
  }
  std::ifstream in(path, std::ios::binary);
  std::string key((std::istreambuf_iterator<char>(in)),
                  std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": cannot be read"));
  }
  while (!key.empty() && absl::ascii_isspace(key.back())) key.pop_back();
  absl::StatusOr<KeyedHash> hash = FromKey(std::move(key));
  if (!hash.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": ", hash.status().message()));
  }
  return hash;
}

absl::StatusOr<KeyedHash> KeyedHash::FromKey(std::string key) {
  if (key.size() < kMinKeyBytes || key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a key has ", kMinKeyBytes, " to ", kMaxKeyBytes, " bytes, not ",
        key.size(), " (make one with: head -c 32 /dev/urandom > FILE)"));
  }
  KeyedHash hash(key);
  OPENSSL_cleanse(key.data(), key.size());
  return hash;
}

KeyedHash::KeyedHash(absl::string_view key) {
  // A key longer than SHA-256's block is hashed first (RFC 2104).
  unsigned char block[SHA256_CBLOCK] = {};
  if (key.size() > sizeof(block)) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(),
           block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[SHA256_CBLOCK];
  for (auto [state, x] : {std::pair{&inner_, 0x36}, std::pair{&outer_, 0x5c}}) {
    for (size_t i = 0; i < sizeof(pad); ++i) pad[i] = block[i] ^ x;
    SHA256_Init(State(*state));
    SHA256_Update(State(*state), pad, sizeof(pad));
  }
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
  id_ = absl::BytesToHexString(
      Mac(inner_, outer_, "leadroute key id").substr(0, 4));
}

std::string KeyedHash::Hash(absl::string_view text) const {
  std::string out;
  absl::WebSafeBase64Escape(Mac(inner_, outer_, text), &out);
  return out;
}

}  // namespace leadroute
