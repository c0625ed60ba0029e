// Protobuf's wire types, shared by the lead reader and the decision writer
// (https://protobuf.dev/programming-guides/encoding/).
#ifndef LEADROUTE_SRC_WIRE_WIRE_FORMAT_H_
#define LEADROUTE_SRC_WIRE_WIRE_FORMAT_H_

#include <cstdint>

namespace leadroute {

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLength = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

}  // namespace leadroute

#endif  // LEADROUTE_SRC_WIRE_WIRE_FORMAT_H_
