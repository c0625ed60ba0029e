// One-line structured logs (logfmt: ts=... level=... msg="..." key=value) on
// stderr, so a log shipper can parse every line without a schema.
#ifndef LEADROUTE_SRC_LOG_H_
#define LEADROUTE_SRC_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace leadroute {

using LogField = std::pair<absl::string_view, std::string>;

void LogInfo(absl::string_view msg,
             std::initializer_list<LogField> fields = {});
void LogError(absl::string_view msg,
              std::initializer_list<LogField> fields = {});

// One formatted line without the trailing newline (for tests).
std::string FormatLogLine(absl::string_view level, absl::string_view msg,
                          std::initializer_list<LogField> fields);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_LOG_H_
