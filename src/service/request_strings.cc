// Bounds on a request's strings; see request_strings.h.
#include "src/service/request_strings.h"

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/field_error.h"

namespace leadroute {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

absl::Status CheckOne(const std::string& path, const FieldDescriptor& field,
                      const std::string& value) {
  const size_t limit = field.name() == "reason" || field.name() == "note"
                           ? kMaxTextBytes
                           : kMaxNameBytes;
  if (value.size() <= limit) return absl::OkStatus();
  return InvalidFieldError(
      path, absl::StrCat(value.size(), " bytes; at most ", limit));
}

absl::Status Walk(const Message& m, const std::string& prefix) {
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);  // only those set
  for (const FieldDescriptor* f : fields) {
    const std::string path = absl::StrCat(prefix, f->name());
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::string scratch;
      if (!f->is_repeated()) {
        if (absl::Status s =
                CheckOne(path, *f, r->GetStringReference(m, f, &scratch));
            !s.ok()) {
          return s;
        }
        continue;
      }
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (absl::Status s =
                CheckOne(absl::StrCat(path, "[", i, "]"), *f,
                         r->GetRepeatedStringReference(m, f, i, &scratch));
            !s.ok()) {
          return s;
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (!f->is_repeated()) {
        if (absl::Status s = Walk(r->GetMessage(m, f), path + "."); !s.ok()) {
          return s;
        }
        continue;
      }
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        if (absl::Status s = Walk(r->GetRepeatedMessage(m, f, i),
                                  absl::StrCat(path, "[", i, "]."));
            !s.ok()) {
          return s;
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequestStrings(const Message& request) {
  return Walk(request, "");
}

}  // namespace leadroute
