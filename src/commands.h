// The `leadroute` subcommands, one function each; main.cc only parses flags.
// Every function returns the process exit code (see exit_codes below).
#ifndef LEADROUTE_SRC_COMMANDS_H_
#define LEADROUTE_SRC_COMMANDS_H_

#include <string>
#include <vector>

namespace leadroute {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRulesOrInput = 1;  // the rules or the input are wrong
inline constexpr int kExitUsageOrIo = 2;     // bad flags, unreadable file, I/O

struct ServeFlags {
  std::string listen = "127.0.0.1:50051";
  std::string rules;
  double grace_seconds = 10;
};
int ServeCommand(const ServeFlags& flags);

struct CheckFlags {
  std::vector<std::string> paths;  // files or folders
  std::string format = "text";     // text | json | github
  bool strict = false;             // warnings fail too
};
// Lints rule files: diagnostics on stdout, exit 1 on errors.
int CheckCommand(const CheckFlags& flags);

struct FmtFlags {
  std::vector<std::string> paths;  // files or folders
  bool check = false;              // list unformatted files, exit 1 if any
  bool write = false;              // rewrite files in place
};
// Formats rule files; by default prints them to stdout.
int FmtCommand(const FmtFlags& flags);

struct RouteFlags {
  std::string server = "127.0.0.1:50051";
  std::string
      lead_path;  // a Lead, or an array of Leads, as proto JSON; "-" is stdin
  bool explain = false;
  double timeout_seconds = 10;
};
// A thin client: sends the lead(s) to a running server and prints the
// answer as JSON on stdout.
int RouteCommand(const RouteFlags& flags);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_COMMANDS_H_
