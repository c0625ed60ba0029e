// A fresh, empty folder for the running test: under gtest's TempDir, named
// for the prefix, the process and the test, so parallel runs never share one.
#ifndef LEADROUTE_TESTS_TEST_DIR_H_
#define LEADROUTE_TESTS_TEST_DIR_H_

#include <unistd.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"

namespace leadroute::testing_util {

inline std::filesystem::path FreshTestDir(absl::string_view prefix) {
  const std::filesystem::path dir =
      std::filesystem::path(testing::TempDir()) /
      absl::StrCat(
          prefix, "-", getpid(), "-",
          testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace leadroute::testing_util

#endif  // LEADROUTE_TESTS_TEST_DIR_H_
