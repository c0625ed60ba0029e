// A Module: every file of one ruleset (the root and what it includes), the
// symbol tables the checking passes fill in, and the facts they establish.
// Passes run in the order written in compiler.cc; each reads what the
// earlier ones recorded here.
#ifndef LEADROUTE_COMPILER_MODULE_H_
#define LEADROUTE_COMPILER_MODULE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "compiler/ast.h"
#include "compiler/diagnostic.h"
#include "compiler/file_reader.h"
#include "compiler/source.h"

namespace leadroute::compiler {

// A lookup table's rows after loading (inline or from CSV).
struct TableRows {
  std::vector<std::pair<ast::Literal, ast::Literal>> rows;
};

struct Module {
  SourceSet sources;
  std::vector<ast::File> files;  // files[0] is the root
  // Where includes and CSV tables are read from; used while loading only.
  const FileReader* reader = &DiskReader();

  // Filled by resolve_names.
  const ast::RulesetHeader* header = nullptr;
  absl::flat_hash_map<std::string, const ast::AttrDecl*> attributes;
  absl::flat_hash_map<std::string, const ast::Entity*> reps;
  absl::flat_hash_map<std::string, const ast::Entity*> teams;
  absl::flat_hash_map<std::string, const ast::Entity*> queues;
  absl::flat_hash_map<std::string, const ast::Table*> tables;
  absl::flat_hash_map<std::string, const ast::Escalation*> escalations;
  absl::flat_hash_map<ast::StageKind, const ast::Stage*> stages;
  std::vector<const ast::Test*> tests;

  // Filled by load_tables: rows of every table, keyed by table name.
  absl::flat_hash_map<std::string, TableRows> table_rows;

  // Declarations of one kind across all files, in file then source order.
  template <typename T, typename F>
  void ForEach(F&& f) const {
    for (const ast::File& file : files) {
      for (const ast::Declaration& d : file.declarations) {
        if (const T* t = std::get_if<T>(&d)) f(*t);
      }
    }
  }
};

}  // namespace leadroute::compiler

#endif  // LEADROUTE_COMPILER_MODULE_H_
