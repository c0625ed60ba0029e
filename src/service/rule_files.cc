// Rule-file expansion for the CLI; see rule_files.h.
#include "src/service/rule_files.h"

#include <algorithm>
#include <filesystem>

namespace leadroute {

bool ExpandRuleFiles(const std::string& path, std::vector<std::string>* out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (!fs::exists(path, ec)) return false;
    out->push_back(path);
    return true;
  }
  std::vector<std::string> found;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec) && it->path().extension() == ".route") {
      found.push_back(it->path().string());
    }
  }
  std::sort(found.begin(), found.end());
  out->insert(out->end(), found.begin(), found.end());
  return !ec;
}

}  // namespace leadroute
