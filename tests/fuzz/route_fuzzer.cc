// libFuzzer target over the whole front end: parse, every checking pass,
// and fmt. Any input must end in diagnostics or a clean result: never a
// crash, a hang, a sanitizer report, or a formatted text that differs when
// formatted again.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "compiler/compiler.h"
#include "compiler/format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  using namespace leadroute::compiler;

  CheckResult checked = CheckText("fuzz.route", text);
  for (const Diagnostic& d : checked.diagnostics.all()) {
    (void)RenderText(checked.module->sources, d);
  }
  (void)RenderJson(checked.module->sources, checked.diagnostics.all());

  SourceSet sources;
  Diagnostics diagnostics;
  std::optional<std::string> once =
      Format(sources, sources.Add("fuzz.route", text), &diagnostics);
  if (once.has_value()) {
    SourceSet again_sources;
    Diagnostics again_diagnostics;
    std::optional<std::string> twice =
        Format(again_sources, again_sources.Add("fuzz.route", *once),
               &again_diagnostics);
    // Formatted text parses, and formatting it again changes nothing.
    if (!twice.has_value() || *twice != *once) std::abort();
  }
  return 0;
}
