// The format pass: one .route file's AST printed back in the one canonical
// layout `leadroute fmt` writes. Comments are kept; blank lines between
// items are kept (at most one); everything else is decided by the AST, so
// formatting is idempotent.
#ifndef LEADROUTE_COMPILER_FORMAT_H_
#define LEADROUTE_COMPILER_FORMAT_H_

#include <optional>
#include <string>

#include "compiler/diagnostic.h"
#include "compiler/source.h"

namespace leadroute::compiler {

// Rules longer than this break before `then`.
inline constexpr size_t kFormatWidth = 100;

// The formatted text of file `file_id`, or nullopt when it has syntax
// errors (reported in `diagnostics`): a file that does not parse is never
// rewritten.
std::optional<std::string> Format(const SourceSet& sources, int file_id,
                                  Diagnostics* diagnostics);

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_FORMAT_H_
