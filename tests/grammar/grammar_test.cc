// The grammar has no rule that can loop without consuming input.
#include <tao/pegtl/contrib/analyze.hpp>

#include "grammar/route_grammar.h"
#include "gtest/gtest.h"

namespace leadroute::grammar {
namespace {

TEST(GrammarTest, AnalyzesClean) {
  EXPECT_EQ(tao::pegtl::analyze<file>(1), 0u);
}

TEST(GrammarTest, AcceptsTheSmallestRuleset) {
  tao::pegtl::memory_input in(
      "ruleset \"a\" version \"1\"\nassign { otherwise queue q }\nqueue q\n",
      "t");
  EXPECT_TRUE(tao::pegtl::parse<file>(in));
}

}  // namespace
}  // namespace leadroute::grammar
