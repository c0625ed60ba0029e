// The bundled examples check clean: no errors and no warnings.
#include <filesystem>

#include "compiler/compiler.h"
#include "gtest/gtest.h"

namespace leadroute::compiler {
namespace {

TEST(ExamplesTest, AcmeChecksClean) {
  absl::StatusOr<CheckResult> r =
      Check(std::string(LEADROUTE_EXAMPLES_DIR) + "/acme.route");
  ASSERT_TRUE(r.ok()) << r.status();
  std::string rendered;
  for (const Diagnostic& d : r->diagnostics.all()) {
    rendered += RenderText(r->module->sources, d);
  }
  EXPECT_TRUE(r->diagnostics.all().empty()) << rendered;
  // The root, teams.route, and accounts.csv.
  EXPECT_EQ(r->module->sources.size(), 3);
  EXPECT_EQ(r->module->header->name.text, "acme-inbound");
  EXPECT_EQ(r->module->tests.size(), 4u);
  EXPECT_EQ(r->module->table_rows.at("account_owner").rows.size(), 5u);
}

}  // namespace
}  // namespace leadroute::compiler
