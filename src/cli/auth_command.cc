// `leadroute auth add|list|remove`: edits an --auth file (principals.h) as
// htpasswd edits its file: `add` makes a random token, prints it once and
// keeps only its hash. Every write replaces the file whole (a temporary
// file renamed over it, mode 0600), so a server watching it never reads half
// a line.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "src/auth/principals.h"
#include "src/auth/token.h"
#include "src/cli/commands.h"

namespace leadroute {
namespace {

constexpr char kHeader[] =
    "# leadroute principals: NAME ROLES CREDENTIAL (leadroute auth "
    "add/list/remove)\n";

int Fail(absl::string_view message, int code = kExitUsageOrIo) {
  std::cerr << "leadroute auth: " << message << "\n";
  return code;
}

// The file's text; "" when it does not exist and `missing_ok`.
absl::StatusOr<std::string> ReadText(const std::string& path, bool missing_ok) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (missing_ok && access(path.c_str(), F_OK) != 0) return std::string();
    return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  }
  std::string text(auth::kMaxAuthFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

// The file as it stands: its text (kept, comments and all, when it is
// rewritten) and its principals.
struct AuthFile {
  std::string text;
  auth::PrincipalSet set;
};

// Reads and parses `flags.file` into `*out`; else says why and returns the
// exit code (2: unreadable, 1: not a valid --auth file).
std::optional<int> ReadAuthFile(const AuthFlags& flags, bool missing_ok,
                                AuthFile* out) {
  absl::StatusOr<std::string> text = ReadText(flags.file, missing_ok);
  if (!text.ok()) return Fail(text.status().message());
  absl::StatusOr<auth::PrincipalSet> set =
      auth::PrincipalSet::Parse(*text, flags.file);
  if (!set.ok()) return Fail(set.status().message(), kExitRulesOrInput);
  *out = {*std::move(text), *std::move(set)};
  return std::nullopt;
}

absl::Status WriteWhole(const std::string& path, const std::string& text) {
  const std::string temp = absl::StrCat(path, ".tmp.", getpid());
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(temp, ": cannot create"));
  }
  bool ok =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = fsync(fd) == 0 && ok;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(temp.c_str(), path.c_str()) != 0) {
    unlink(temp.c_str());
    return absl::UnavailableError(
        absl::StrCat(path, ": cannot write (disk full or read-only?)"));
  }
  return absl::OkStatus();
}

int Add(const AuthFlags& flags) {
  AuthFile file;
  if (std::optional<int> failed = ReadAuthFile(flags, true, &file)) {
    return *failed;
  }
  auth::Principal p;
  p.name = flags.name;
  absl::StatusOr<auth::Roles> roles = auth::ParseRoles(flags.roles);
  if (!roles.ok()) {
    return Fail(absl::StrCat("--roles: ", roles.status().message()));
  }
  p.roles = *roles;
  for (const auth::Principal& other : file.set.entries()) {
    if (other.name == p.name && other.roles != p.roles) {
      return Fail(absl::StrCat(
          "\"", p.name, "\" already has roles ", auth::RolesText(other.roles),
          " (line ", other.line,
          "); every credential of a name has the same roles: remove it "
          "first, or use another name"));
    }
  }
  std::string token;
  if (!flags.cert.empty()) {
    p.cert = flags.cert;
  } else {
    absl::StatusOr<std::string> made = auth::GenerateToken();
    if (!made.ok()) return Fail(made.status().message());
    token = *std::move(made);
    p.token = auth::HashToken(token);
  }
  p.comment = absl::StrCat(
      "added ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone()),
      flags.comment.empty() ? "" : " ", flags.comment);
  std::string out = file.text.empty() ? kHeader : file.text;
  if (!out.empty() && out.back() != '\n') out += '\n';
  absl::StrAppend(&out, auth::FormatEntry(p), "\n");
  // The new line must read back as the principal it is meant to be.
  absl::StatusOr<auth::PrincipalSet> check =
      auth::PrincipalSet::Parse(out, flags.file);
  if (!check.ok()) return Fail(check.status().message(), kExitRulesOrInput);
  if (absl::Status s = WriteWhole(flags.file, out); !s.ok()) {
    return Fail(s.message());
  }
  std::cerr << "added " << p.name << " (" << auth::RolesText(p.roles) << ") to "
            << flags.file;
  if (!token.empty()) {
    std::cerr << "; this is the only time the token is shown: store it now "
                 "(e.g. in a file for --token-file)";
    std::cout << token << "\n";
  }
  std::cerr << ". A server with --auth " << flags.file
            << " takes it within a second, or on SIGHUP.\n";
  return kExitOk;
}

int List(const AuthFlags& flags) {
  AuthFile file;
  if (std::optional<int> failed = ReadAuthFile(flags, false, &file)) {
    return *failed;
  }
  if (flags.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auth::Principal& p : file.set.entries()) {
      nlohmann::json roles = nlohmann::json::array();
      for (auth::Role role : auth::AllRoles()) {
        if (auth::Has(p.roles, role)) roles.push_back(auth::RoleName(role));
      }
      out.push_back({{"name", p.name},
                     {"roles", roles},
                     {"kind", p.token ? "token" : "cert"},
                     {"id", p.Id()},
                     {"comment", p.comment}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("%-20s %-34s %-26s %s\n", "NAME", "ROLES", "ID", "COMMENT");
  for (const auth::Principal& p : file.set.entries()) {
    std::printf("%-20s %-34s %-26s %s\n", p.name.c_str(),
                auth::RolesText(p.roles).c_str(), p.Id().c_str(),
                p.comment.c_str());
  }
  return kExitOk;
}

int Remove(const AuthFlags& flags) {
  AuthFile file;
  if (std::optional<int> failed = ReadAuthFile(flags, false, &file)) {
    return *failed;
  }
  std::vector<int> drop;  // line numbers
  for (const auth::Principal& p : file.set.entries()) {
    if (p.name == flags.name && (flags.id.empty() || p.Id() == flags.id)) {
      drop.push_back(p.line);
    }
  }
  if (drop.empty()) {
    return Fail(
        flags.id.empty()
            ? absl::StrCat("no principal \"", flags.name, "\" in ", flags.file)
            : absl::StrCat("\"", flags.name, "\" has no credential ", flags.id,
                           " (see leadroute auth list)"),
        kExitRulesOrInput);
  }
  std::string out;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(file.text, '\n')) {
    ++number;
    if (std::find(drop.begin(), drop.end(), number) != drop.end()) continue;
    absl::StrAppend(&out, line, "\n");
  }
  if (!out.empty()) out.pop_back();  // StrSplit's last piece had no newline
  if (absl::Status s = WriteWhole(flags.file, out); !s.ok()) {
    return Fail(s.message());
  }
  std::cerr << "removed " << drop.size()
            << (drop.size() == 1 ? " credential" : " credentials") << " of "
            << flags.name << " from " << flags.file << "; a server with --auth "
            << flags.file << " refuses them within a second, or on SIGHUP.\n";
  return kExitOk;
}

}  // namespace

int AuthCommand(const AuthFlags& flags) {
  if (flags.action == "add") return Add(flags);
  if (flags.action == "list") return List(flags);
  if (flags.action == "remove") return Remove(flags);
  return kExitUsageOrIo;
}

}  // namespace leadroute
