// Finding rule files on the command line: a file stands for itself, a
// folder for every .route file beneath it.
#ifndef LEADROUTE_SRC_SERVICE_RULE_FILES_H_
#define LEADROUTE_SRC_SERVICE_RULE_FILES_H_

#include <string>
#include <vector>

namespace leadroute {

// Appends the .route files `path` names (sorted, for a folder) to `out`;
// false when `path` does not exist or cannot be listed.
bool ExpandRuleFiles(const std::string& path, std::vector<std::string>* out);

}  // namespace leadroute

#endif  // LEADROUTE_SRC_SERVICE_RULE_FILES_H_
