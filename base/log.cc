// logfmt lines on stderr; see log.h.
#include "base/log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace leadroute {
namespace {

void AppendValue(std::string* out, absl::string_view v) {
  const bool plain =
      !v.empty() && v.find_first_of(" \"=\\\n\t") == absl::string_view::npos;
  if (plain) {
    absl::StrAppend(out, v);
    return;
  }
  absl::StrAppend(
      out, "\"",
      absl::StrReplaceAll(
          v, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}, {"\t", "\\t"}}),
      "\"");
}

void Emit(absl::string_view level, absl::string_view msg,
          absl::Span<const LogField> fields) {
  std::string line = FormatLogLine(level, msg, fields);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace

std::string FormatLogLine(absl::string_view level, absl::string_view msg,
                          absl::Span<const LogField> fields) {
  std::string line = absl::StrCat(
      "ts=",
      absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()),
      " level=", level, " msg=");
  AppendValue(&line, msg);
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, " ", key, "=");
    AppendValue(&line, value);
  }
  return line;
}

void LogInfo(absl::string_view msg, absl::Span<const LogField> fields) {
  Emit("info", msg, fields);
}

void LogWarn(absl::string_view msg, absl::Span<const LogField> fields) {
  Emit("warn", msg, fields);
}

void LogError(absl::string_view msg, absl::Span<const LogField> fields) {
  Emit("error", msg, fields);
}

std::string Rfc3339Micros(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

}  // namespace leadroute
