// KeyedHash: HMAC-SHA256 as RFC 4231 gives it, keys read from files that
// only their owner may read, and errors that name the flag and the file.
#include "base/keyed_hash.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "tests/test_dir.h"

namespace leadroute {
namespace {

std::string WriteKey(const std::filesystem::path& path,
                     const std::string& bytes, mode_t mode) {
  std::ofstream(path, std::ios::binary) << bytes;
  chmod(path.c_str(), mode);
  return path.string();
}

TEST(KeyedHashTest, IsHmacSha256AsRfc4231GivesIt) {
  // RFC 4231, test case 6: a 131-byte key of 0xaa.
  absl::StatusOr<KeyedHash> key = KeyedHash::FromKey(std::string(131, '\xaa'));
  ASSERT_TRUE(key.ok()) << key.status();
  std::string expected;
  absl::WebSafeBase64Escape(
      absl::HexStringToBytes("60e431591ee0b67f0d8a26aacbf5b77f"
                             "8e0bc6213728c5140546040f0ee37f54"),
      &expected);
  EXPECT_EQ(key->Hash("Test Using Larger Than Block-Size Key - Hash Key First"),
            expected);
  EXPECT_EQ(expected.size(), 43u);
}

TEST(KeyedHashTest, AnIdNamesTheKeyWithoutRevealingIt) {
  const KeyedHash a = *KeyedHash::FromKey(std::string(32, 'a'));
  const KeyedHash a2 = *KeyedHash::FromKey(std::string(32, 'a'));
  const KeyedHash b = *KeyedHash::FromKey(std::string(32, 'b'));
  EXPECT_EQ(a.id().size(), 8u);
  // HMAC-SHA256(key, "leadroute key id"), first 4 bytes, as Python's hmac
  // module gives them for this key.
  EXPECT_EQ(KeyedHash::FromKey(std::string(32, 'k'))->id(), "835ed187");
  EXPECT_EQ(a.id(), a2.id());
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(a.Hash("x@acme.com"), a2.Hash("x@acme.com"));
  EXPECT_NE(a.Hash("x@acme.com"), b.Hash("x@acme.com"));
  EXPECT_NE(a.Hash("x@acme.com"), a.Hash("X@acme.com"));
}

TEST(KeyedHashTest, AKeyFileIsReadWithoutItsNewline) {
  const auto dir = testing_util::FreshTestDir("keyed-hash");
  const std::string secret(40, 'z');
  absl::StatusOr<KeyedHash> from_file = KeyedHash::FromFile(
      WriteKey(dir / "key", secret + "\n", 0600), "--decision-log-key");
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->id(), KeyedHash::FromKey(secret)->id());
}

TEST(KeyedHashTest, BadKeyFilesAreRefusedNamingTheFlagAndTheFile) {
  const auto dir = testing_util::FreshTestDir("keyed-hash");
  struct Case {
    std::string path;
    std::string says;
  } cases[] = {
      {(dir / "missing").string(), "No such file"},
      {WriteKey(dir / "short", "too short\n", 0600), "32 to 4096 bytes, not 9"},
      {WriteKey(dir / "open", std::string(32, 'k'), 0644),
       "may be read by others (mode 0644)"},
      {WriteKey(dir / "long", std::string(5000, 'k'), 0600), "at most 4096"},
      {dir.string(), "not a regular file"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<KeyedHash> key = KeyedHash::FromFile(c.path, "--key-flag");
    ASSERT_FALSE(key.ok()) << c.path;
    const std::string message(key.status().message());
    EXPECT_NE(message.find("--key-flag " + c.path), std::string::npos)
        << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace leadroute
