// Decision ids; see the header.
#include "src/service/decision_ids.h"

#include <random>

namespace leadroute {
namespace {

// Writes `v` as `digits` hex digits at `out`; returns the end.
char* PutHex(uint64_t v, int digits, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) *out++ = kHex[(v >> (4 * i)) & 15];
  return out;
}

}  // namespace

DecisionIds::DecisionIds() {
  std::random_device random;
  process_ = random();
  counter_ = (static_cast<uint64_t>(random()) << 32) | random();
}

DecisionIds::Block DecisionIds::Reserve(absl::Time now, uint64_t n) {
  return {static_cast<uint64_t>(absl::ToUnixMillis(now)), process_,
          counter_.fetch_add(n, std::memory_order_relaxed)};
}

void DecisionIds::Block::Write(uint64_t i, char out[kLength]) const {
  PutHex(first + i, 12, PutHex(process, 8, PutHex(millis, 12, out)));
}

void DecisionIds::Block::Write(uint64_t i, std::string* out) const {
  char id[kLength];
  Write(i, id);
  out->assign(id, kLength);
}

}  // namespace leadroute
