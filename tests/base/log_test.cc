// logfmt formatting: plain values bare, others quoted and escaped.
#include "base/log.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace leadroute {
namespace {

using testing::EndsWith;
using testing::StartsWith;

TEST(LogTest, FormatsLogfmt) {
  std::string line =
      FormatLogLine("info", "listening", {{"addr", "127.0.0.1:5"}, {"n", "3"}});
  EXPECT_THAT(line, StartsWith("ts="));
  EXPECT_THAT(line, EndsWith(" level=info msg=listening addr=127.0.0.1:5 n=3"));
}

TEST(LogTest, QuotesAndEscapesValues) {
  std::string line =
      FormatLogLine("error", "bad thing", {{"why", "a \"b\"\nc"}, {"e", ""}});
  EXPECT_THAT(line, EndsWith(R"(msg="bad thing" why="a \"b\"\nc" e="")"));
}

}  // namespace
}  // namespace leadroute
