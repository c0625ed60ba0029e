// HMAC-SHA256 with OpenSSL's one-shot HMAC(); see keyed_hash.h.
#include "base/keyed_hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace leadroute {
namespace {

std::string Mac(absl::string_view key, absl::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac,
       &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
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
  return KeyedHash(std::move(key));
}

KeyedHash::KeyedHash(std::string key) : key_(std::move(key)) {
  id_ = absl::BytesToHexString(Mac(key_, "leadroute key id").substr(0, 4));
}

std::string KeyedHash::Hash(absl::string_view text) const {
  std::string out;
  absl::WebSafeBase64Escape(Mac(key_, text), &out);
  return out;
}

}  // namespace leadroute
