// A runtime lead as the wire's v1::Lead, for benchmarks that send leads
// they generate (load_gen, soak).
#ifndef LEADROUTE_BENCH_LEAD_PROTO_H_
#define LEADROUTE_BENCH_LEAD_PROTO_H_

#include <cstdint>
#include <string>
#include <variant>

#include "leadroute/v1/leadroute.pb.h"
#include "runtime/lead.h"

namespace leadroute::bench {

// `lead`'s string and int attributes under lead id `id`.
inline v1::Lead LeadProto(const runtime::Lead& lead, const std::string& id) {
  v1::Lead out;
  out.set_id(id);
  for (const auto& [name, value] : lead.attributes) {
    v1::Value& v = (*out.mutable_attributes())[name];
    if (const auto* s = std::get_if<std::string>(&value)) {
      v.set_string_value(*s);
    } else if (const auto* n = std::get_if<int64_t>(&value)) {
      v.set_int_value(*n);
    }
  }
  return out;
}

}  // namespace leadroute::bench

#endif  // LEADROUTE_BENCH_LEAD_PROTO_H_
