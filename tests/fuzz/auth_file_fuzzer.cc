// libFuzzer target over the auth file `serve --auth` reads (principals,
// token hashes, roles; src/auth/principals.h): any text must end in a set
// of principals or an error naming PATH:LINE:COL — never a crash, a hang
// or a sanitizer report. What it accepts, written back line by line
// (FormatEntry), must parse to the same principals.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "src/auth/principals.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using leadroute::auth::PrincipalSet;
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<PrincipalSet> set = PrincipalSet::Parse(text, "auth");
  if (!set.ok()) {
    if (set.status().message().rfind("auth:", 0) != 0) std::abort();
    return 0;
  }
  std::string written;
  for (const auto& p : set->entries()) {
    written += leadroute::auth::FormatEntry(p) + "\n";
  }
  absl::StatusOr<PrincipalSet> again = PrincipalSet::Parse(written, "again");
  if (!again.ok() || again->entries().size() != set->entries().size()) {
    std::abort();
  }
  for (size_t i = 0; i < set->entries().size(); ++i) {
    if (leadroute::auth::FormatEntry(again->entries()[i]) !=
        leadroute::auth::FormatEntry(set->entries()[i])) {
      std::abort();
    }
  }
  return 0;
}
