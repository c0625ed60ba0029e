// Reading and writing the --auth file; see principals.h.
#include "src/auth/principals.h"

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/closest_match.h"

namespace leadroute::auth {
namespace {

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-' &&
        c != '@') {
      return false;
    }
  }
  return true;
}

// The fields of a line (before any '#') with their 1-based columns.
struct Field {
  absl::string_view text;
  int column;
};

std::vector<Field> SplitFields(absl::string_view line) {
  std::vector<Field> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && absl::ascii_isspace(line[i])) ++i;
    if (i == line.size()) break;
    const size_t start = i;
    while (i < line.size() && !absl::ascii_isspace(line[i])) ++i;
    out.push_back({line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return out;
}

}  // namespace

std::string Principal::Id() const {
  if (token) return HashText(*token).substr(0, 19);
  return absl::StrCat("cert:", cert);
}

absl::StatusOr<Roles> ParseRoles(absl::string_view text) {
  if (text == "all") return kAllRoles;
  Roles roles = 0;
  std::vector<std::string> names;
  for (Role role : AllRoles()) names.emplace_back(RoleName(role));
  for (absl::string_view name : absl::StrSplit(text, ',')) {
    std::optional<Role> role = ParseRole(name);
    if (!role) {
      std::string message =
          absl::StrCat("unknown role \"", name, "\" (roles: ",
                       RolesText(kAllRoles | Bit(Role::kReplica)), ", or all)");
      if (std::string close = ClosestMatch(name, names); !close.empty()) {
        absl::StrAppend(&message, "; did you mean \"", close, "\"?");
      }
      return absl::InvalidArgumentError(message);
    }
    roles |= Bit(*role);
  }
  return roles;
}

absl::StatusOr<PrincipalSet> PrincipalSet::Parse(absl::string_view text,
                                                 absl::string_view path) {
  if (text.size() > kMaxAuthFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", text.size(), " bytes; an --auth file holds at most ",
        kMaxAuthFileBytes));
  }
  PrincipalSet set;
  absl::flat_hash_map<std::string, const Principal*> by_name;
  absl::flat_hash_map<std::string, int> credential_line;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    auto at = [&](int column, absl::string_view what) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ":", column, ": ", what));
    };
    absl::string_view comment;
    if (size_t hash = line.find('#'); hash != absl::string_view::npos) {
      comment = absl::StripAsciiWhitespace(line.substr(hash + 1));
      line = line.substr(0, hash);
    }
    std::vector<Field> fields = SplitFields(line);
    if (fields.empty()) continue;
    if (fields.size() != 3) {
      return at(fields.size() > 3 ? fields[3].column : 1,
                "expected NAME ROLES CREDENTIAL (e.g. crm route,activity "
                "sha256:...; `leadroute auth add` writes such lines)");
    }
    if (set.entries_.size() == kMaxPrincipals) {
      return at(1, absl::StrCat("more than ", kMaxPrincipals, " credentials"));
    }
    Principal p;
    p.line = number;
    p.comment = std::string(comment);
    if (!ValidName(fields[0].text)) {
      return at(fields[0].column,
                absl::StrCat("\"", fields[0].text,
                             "\" is not a name: 1 to 128 letters, digits and "
                             "._-@"));
    }
    p.name = std::string(fields[0].text);
    absl::StatusOr<Roles> roles = ParseRoles(fields[1].text);
    if (!roles.ok()) return at(fields[1].column, roles.status().message());
    p.roles = *roles;
    absl::string_view credential = fields[2].text;
    if (absl::StartsWith(credential, "cert:")) {
      p.cert = std::string(credential.substr(5));
      if (p.cert.empty()) {
        return at(fields[2].column + 5,
                  "cert: needs the identity a client certificate names (its "
                  "common name or a subject alternative name)");
      }
    } else if (std::optional<TokenHash> hash = ParseHashText(credential)) {
      p.token = *hash;
    } else {
      return at(fields[2].column,
                absl::StrCat("\"", credential.substr(0, 24),
                             credential.size() > 24 ? "…" : "",
                             "\" is not a credential: sha256: and 64 hex "
                             "digits (a token's hash, never the token), or "
                             "cert:IDENTITY"));
    }
    if (auto [it, fresh] =
            credential_line.try_emplace(std::string(credential), number);
        !fresh) {
      return at(
          fields[2].column,
          absl::StrCat("this credential is already on line ", it->second));
    }
    set.entries_.push_back(std::move(p));
  }
  for (const Principal& p : set.entries_) {
    auto [it, fresh] = by_name.try_emplace(p.name, &p);
    if (!fresh && it->second->roles != p.roles) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", p.line, ":1: \"", p.name, "\" has roles ",
          RolesText(p.roles), " here but ", RolesText(it->second->roles),
          " on line ", it->second->line,
          "; every line of a principal has the same roles"));
    }
  }
  return set;
}

absl::StatusOr<PrincipalSet> PrincipalSet::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  }
  std::string text;
  text.resize(kMaxAuthFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return Parse(text, path);
}

const Principal* PrincipalSet::ByToken(const TokenHash& hash) const {
  const Principal* found = nullptr;
  for (const Principal& p : entries_) {
    if (p.token && SameHash(*p.token, hash) && found == nullptr) found = &p;
  }
  return found;
}

const Principal* PrincipalSet::ByCertificate(
    absl::Span<const std::string> identities) const {
  for (const Principal& p : entries_) {
    if (p.cert.empty()) continue;
    for (const std::string& id : identities) {
      if (id == p.cert) return &p;
    }
  }
  return nullptr;
}

const Principal* PrincipalSet::ByName(absl::string_view name) const {
  for (const Principal& p : entries_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string FormatEntry(const Principal& p) {
  std::string out = absl::StrCat(
      p.name, " ", RolesText(p.roles), " ",
      p.token ? HashText(*p.token) : absl::StrCat("cert:", p.cert));
  if (!p.comment.empty()) absl::StrAppend(&out, "  # ", p.comment);
  return out;
}

}  // namespace leadroute::auth
