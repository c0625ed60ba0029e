// The parse pass: .route text -> ast::File. Syntax errors become diagnostics
// (all of them: the grammar recovers at the next declaration or rule); no
// exception leaves Parse().
#ifndef LEADROUTE_COMPILER_PARSE_H_
#define LEADROUTE_COMPILER_PARSE_H_

#include "compiler/ast.h"
#include "compiler/diagnostic.h"
#include "compiler/source.h"

namespace leadroute::compiler {

// How deep grammar rules may nest before the input is rejected (a level of
// parentheses costs about two, so some 400 nest). Keeps the stack bounded on
// pathological input such as 10,000 nested parentheses.
inline constexpr int kMaxParseDepth = 1000;

// Parses file `file_id` of `sources`. Declarations that fail to parse are
// left out of the result and reported in `diagnostics`.
ast::File Parse(const SourceSet& sources, int file_id,
                Diagnostics* diagnostics);

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_PARSE_H_
