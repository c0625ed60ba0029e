// LineReader, Progress and Grouped; see line_reader.h.
#include "src/cli/line_reader.h"

#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace leadroute {

std::string Grouped(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

bool LineReader::Fill() {
  buffer_.resize(1 << 20);
  pos_ = 0;
  end_ = std::fread(buffer_.data(), 1, buffer_.size(), in_);
  return end_ > 0;
}

bool LineReader::Next(absl::string_view* line, bool* too_long) {
  line_.clear();
  *too_long = false;
  for (;;) {
    if (pos_ == end_ && !Fill()) {
      if (!partial_) return false;  // the end, between lines
      partial_ = false;             // the last line had no newline
      break;
    }
    const char* start = buffer_.data() + pos_;
    const void* nl = std::memchr(start, '\n', end_ - pos_);
    const size_t n =
        nl == nullptr ? end_ - pos_ : static_cast<const char*>(nl) - start;
    if (!*too_long) {
      if (static_cast<int64_t>(line_.size() + n) > max_bytes_) {
        *too_long = true;
        line_.clear();
      } else {
        line_.append(start, n);
      }
    }
    pos_ += n;
    consumed_ += n;
    if (nl != nullptr) {
      ++pos_;
      ++consumed_;
      partial_ = false;
      break;
    }
    partial_ = true;
  }
  ++number_;
  *line = line_;
  return true;
}

Progress::Progress(std::string what, int64_t size)
    : what_(std::move(what)), size_(size), on_(isatty(2) == 1) {}

Progress::~Progress() {
  if (shown_) std::fputs("\r\033[K", stderr);
}

void Progress::Tick(int64_t leads, int64_t bytes) {
  if (!on_ || (leads & 0xfff) != 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_) return;
  next_ = now + std::chrono::milliseconds(250);
  std::fprintf(stderr, "\r%s: %s leads", what_.c_str(), Grouped(leads).c_str());
  if (size_ > 0) {
    std::fprintf(stderr, " (%d%%)", static_cast<int>(bytes * 100 / size_));
  }
  shown_ = true;
}

}  // namespace leadroute
