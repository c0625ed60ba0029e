// The lowering pass: a checked Module (no errors) -> runtime::Program with
// its decision trees (lower_to_tree.h), and its test blocks -> TestCases the
// `test` command runs.
#ifndef LEADROUTE_COMPILER_LOWER_PROGRAM_H_
#define LEADROUTE_COMPILER_LOWER_PROGRAM_H_

#include <memory>
#include <string>
#include <vector>

#include "compiler/lower_to_tree.h"
#include "compiler/module.h"
#include "runtime/lead.h"
#include "runtime/program.h"
#include "runtime/state_store.h"

namespace leadroute::compiler {

// The program and what building its trees found. Requires a module that
// checked without errors.
struct Lowered {
  std::shared_ptr<const runtime::Program> program;
  std::vector<TreeFinding> findings;
};
Lowered LowerModule(const Module& module, const TreeOptions& options = {});

struct TestCase {
  std::string name;
  std::string location;  // file:line of the test
  runtime::Lead lead;
  std::optional<absl::Time> at;
  // The `given` state, when the test has one: it then chooses the rep as
  // the server would (runtime::RoutingSimulation) from this state — every
  // rep not named available with no open leads, every rotation at its
  // start.
  struct Given {
    std::vector<std::pair<std::string, runtime::Availability>> status;
    std::vector<std::pair<std::string, int64_t>> open;
    std::vector<std::pair<std::string, std::string>> last;  // team, rep
  };
  std::optional<Given> given;
  struct Expect {
    std::string output;  // owner, priority, sla, channel, score, skipped
    // "team x", "urgent", "15m" (as written), "30"; skipped: the text one
    // reason must contain
    std::string want;
    std::string location;
    absl::Duration sla;  // for output == "sla"
  };
  std::vector<Expect> expect;
};

std::vector<TestCase> LowerTests(const Module& module);

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_LOWER_PROGRAM_H_
