// Golden tests from rule text to decision-tree dump: the shape the compiler
// builds (branch keys, cells, shared subtrees, what leaves still test).
#include "compiler/compiler.h"
#include "gtest/gtest.h"

namespace leadroute::compiler {
namespace {

std::string Dump(const std::string& stages, int stage) {
  CheckResult r = CheckText("t.route", R"(ruleset "t" version "1"
schema {
  country: string required
  employees: int default 0
  source: enum { demo, ebook } required
  email: string
}
queue a
queue b
queue c
)" + stages);
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return "";
  return r.program->trees[stage].DebugString(*r.program, stage);
}

TEST(TreeDumpTest, BranchesOnStringsAndThresholdsAndSharesSubtrees) {
  EXPECT_EQ(Dump(R"(assign {
  rule us_big when country == "US" and employees >= 1000 then queue a
  rule ca_big when country == "CA" and employees >= 1000 then queue a
  rule edu when email ends_with ".edu" then queue b
  otherwise queue c
})",
                 1),
            // The `edu | otherwise` leaf is built once and shared by every
            // branch that reaches it.
            "*n0: country: \"CA\" -> n2, \"US\" -> n4, other -> n1, "
            "missing -> n1\n"
            "n1: leaf | edu if email ends_with \".edu\" | otherwise\n"
            "n2: employees: <1000 -> n1, =1000 -> n3, >1000 -> n3, "
            "missing -> n1\n"
            "n3: leaf | ca_big\n"
            "n4: employees: <1000 -> n1, =1000 -> n5, >1000 -> n5, "
            "missing -> n1\n"
            "n5: leaf | us_big\n");
}

TEST(TreeDumpTest, LaterStagesBranchOnEarlierOutputs) {
  EXPECT_EQ(Dump(R"(assign { otherwise queue a }
priority {
  labels hot > cold
  rule demo when source == demo then hot
  otherwise cold
}
sla {
  rule fast when priority == hot then 1h
  otherwise 1d
})",
                 3),
            // Rank 0 is `hot`. No lead has a rank below 0 or none at all
            // (the priority stage has an `otherwise`): those arms are
            // unreachable and point anywhere.
            "*n0: priority: <0 -> n1, =0 -> n1, >0 -> n2, missing -> n1\n"
            "n1: leaf | fast\n"
            "n2: leaf | otherwise\n");
}

}  // namespace
}  // namespace leadroute::compiler
