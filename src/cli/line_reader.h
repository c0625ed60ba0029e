// What the commands that read big JSON-lines files (`replay`, `report
// --shadow`) share: a line reader with a bounded line length, progress on a
// terminal, and numbers grouped for people.
#ifndef LEADROUTE_SRC_CLI_LINE_READER_H_
#define LEADROUTE_SRC_CLI_LINE_READER_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"

namespace leadroute {

// 1234567 as "1,234,567".
std::string Grouped(int64_t n);

// Reads a file's lines, each at most `max_bytes` (a longer one is skipped
// to its end and reported), keeping one buffer.
class LineReader {
 public:
  LineReader(std::FILE* in, int64_t max_bytes)
      : in_(in), max_bytes_(max_bytes) {}

  // The next line without its newline (valid until the next call); false
  // at the end of the file. `too_long` says the line was longer than
  // `max_bytes` (its text is not returned).
  bool Next(absl::string_view* line, bool* too_long);

  int64_t number() const { return number_; }      // of the last line
  int64_t consumed() const { return consumed_; }  // bytes
  bool failed() const { return std::ferror(in_) != 0; }

 private:
  bool Fill();

  std::FILE* const in_;
  const int64_t max_bytes_;
  std::string buffer_, line_;
  size_t pos_ = 0, end_ = 0;
  bool partial_ = false;  // a line has begun and not ended
  int64_t number_ = 0, consumed_ = 0;
};

// "Replaying history.jsonl: 1,234,567 leads (45%)" on a terminal, a few
// times a second; nothing when stderr is not one (CI, a pipe).
class Progress {
 public:
  // `what`: "Replaying history.jsonl"; `size`: the file's bytes (-1:
  // unknown).
  Progress(std::string what, int64_t size);
  ~Progress();
  void Tick(int64_t leads, int64_t bytes);

 private:
  const std::string what_;
  const int64_t size_;
  const bool on_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point next_{};
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_CLI_LINE_READER_H_
