// One-line structured logs (logfmt: ts=... level=... msg="..." key=value) on
// stderr, so a log shipper can parse every line without a schema.
#ifndef LEADROUTE_BASE_LOG_H_
#define LEADROUTE_BASE_LOG_H_

#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace leadroute {

using LogField = std::pair<absl::string_view, std::string>;

void LogInfo(absl::string_view msg, absl::Span<const LogField> fields = {});
void LogWarn(absl::string_view msg, absl::Span<const LogField> fields = {});
void LogError(absl::string_view msg, absl::Span<const LogField> fields = {});

// `t` in UTC as RFC 3339 with microseconds: 2026-11-23T10:00:00.000123Z.
std::string Rfc3339Micros(absl::Time t);

// One formatted line without the trailing newline (for tests).
std::string FormatLogLine(absl::string_view level, absl::string_view msg,
                          absl::Span<const LogField> fields);

}  // namespace leadroute

#endif  // LEADROUTE_BASE_LOG_H_
