// libFuzzer target over the CSV files rules read tables from (`table ...
// from csv "FILE" key "K" value "V"`): the fuzzed bytes are the CSV file
// of a fixed ruleset, checked and compiled in memory as PublishRules does
// (compiler::CheckFiles). Any bytes must end in diagnostics naming
// FILE:line:col or a compiled program — never a crash, a hang or a
// sanitizer report.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>

#include "compiler/compiler.h"

namespace {

constexpr const char* kRules = R"(ruleset "csv" version "1"
schema {
  domain: string
  country: string
}
rep ana { }
rep ben { }
queue q
table owner: string -> rep ignoring case from csv "accounts.csv" key "domain" value "owner"
table region: string -> string from csv "accounts.csv" key "domain" value "region"
assign {
  rule named when domain in owner then owner(domain)
  rule emea when domain in region and region(domain) == "EMEA" then rep ben
  otherwise queue q
}
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace leadroute::compiler;
  std::map<std::string, std::string> files{
      {"rules.route", kRules},
      {"accounts.csv", std::string(reinterpret_cast<const char*>(data), size)}};
  CheckResult checked = CheckFiles("rules.route", std::move(files));
  for (const Diagnostic& d : checked.diagnostics.all()) {
    if (RenderText(checked.module->sources, d).empty()) std::abort();
  }
  // Errors and a program never come together.
  if (checked.ok() != (checked.program != nullptr)) std::abort();
  return 0;
}
