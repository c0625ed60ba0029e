// The load_tables pass; see passes.h. CSV files are added to the module's
// SourceSet, so a bad cell is reported as file.csv:line:col like rule text.
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/closest_match.h"
#include "compiler/load_files.h"
#include "compiler/pass_helpers.h"
#include "compiler/passes.h"

namespace leadroute::compiler {
namespace {

using Kind = ast::Literal::Kind;

struct CsvCell {
  std::string text;
  Span span;
};

// RFC 4180: fields separated by commas, optionally double-quoted with ""
// as an escaped quote; CRLF or LF line ends. Reports unterminated quotes.
std::vector<std::vector<CsvCell>> ParseCsv(const SourceSet& sources, int file,
                                           Diagnostics* d) {
  const std::string& text = sources.file(file).text();
  std::vector<std::vector<CsvCell>> rows;
  std::vector<CsvCell> row;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    CsvCell cell;
    const size_t begin = i;
    if (text[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            cell.text.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        cell.text.push_back(text[i++]);
      }
      if (!closed) {
        d->Error({file, static_cast<uint32_t>(begin),
                  static_cast<uint32_t>(begin + 1)},
                 "unterminated quoted CSV field");
        return rows;
      }
      while (i < n && text[i] != ',' && text[i] != '\n') ++i;  // junk after "
    } else {
      while (i < n && text[i] != ',' && text[i] != '\n')
        cell.text.push_back(text[i++]);
      if (!cell.text.empty() && cell.text.back() == '\r') cell.text.pop_back();
    }
    cell.span = {file, static_cast<uint32_t>(begin), static_cast<uint32_t>(i)};
    row.push_back(std::move(cell));
    if (i < n && text[i] == ',') {
      ++i;
      if (i == n)
        row.push_back(
            {"", {file, static_cast<uint32_t>(i), static_cast<uint32_t>(i)}});
      continue;
    }
    if (i < n) ++i;  // '\n'
    const bool blank = row.size() == 1 && row[0].text.empty();
    if (!blank) rows.push_back(std::move(row));
    row.clear();
  }
  if (!row.empty() && !(row.size() == 1 && row[0].text.empty())) {
    rows.push_back(std::move(row));
  }
  return rows;
}

class TableLoader {
 public:
  TableLoader(Module* m, Diagnostics* d) : m_(m), d_(d) {}

  void Load(const ast::Table& t) {
    if (t.key_type == ast::Type::kRep || t.key_type == ast::Type::kTeam ||
        t.key_type == ast::Type::kList || t.key_type == ast::Type::kTime) {
      d_->Error(t.key_type_span, absl::StrCat("a table key cannot be ",
                                              ast::TypeName(t.key_type)))
          .hint = "keys are string, int, number or bool";
      return;
    }
    if (t.value_type == ast::Type::kList || t.value_type == ast::Type::kTime) {
      d_->Error(t.value_type_span, absl::StrCat("a table value cannot be ",
                                                ast::TypeName(t.value_type)));
      return;
    }
    if (t.ignore_case.has_value() && t.key_type != ast::Type::kString) {
      d_->Error(t.case_span,
                absl::StrCat("only string keys have a case; this table's "
                             "keys are ",
                             ast::TypeName(t.key_type)))
          .hint = absl::StrCat(
          "delete `", *t.ignore_case ? "ignoring" : "matching", " case`");
    }
    TableRows& rows = m_->table_rows[t.name.text];
    if (t.csv.has_value()) {
      FromCsv(t, &rows);
    } else {
      for (const ast::TableEntry& e : t.entries) {
        if (Fits(t.key_type, e.key, "key") &&
            Fits(t.value_type, e.value, "value")) {
          rows.rows.emplace_back(e.key, e.value);
        }
      }
    }
    CheckDuplicates(t, rows);
  }

 private:
  // A literal as a value of `type`; rep/team values must name one.
  bool Fits(ast::Type type, const ast::Literal& lit, absl::string_view role) {
    auto mismatch = [&](absl::string_view want) {
      d_->Error(lit.span, absl::StrCat("table ", role, " should be ", want));
      return false;
    };
    switch (type) {
      case ast::Type::kString:
        return lit.kind == Kind::kString || mismatch("a quoted string");
      case ast::Type::kInt:
        return lit.kind == Kind::kInt || mismatch("an int");
      case ast::Type::kNumber:
        return lit.kind == Kind::kInt || lit.kind == Kind::kNumber ||
               mismatch("a number");
      case ast::Type::kBool:
        return lit.kind == Kind::kBool || mismatch("true or false");
      case ast::Type::kRep:
      case ast::Type::kTeam: {
        if (lit.kind != Kind::kName && lit.kind != Kind::kString) {
          return mismatch(type == ast::Type::kRep ? "a rep" : "a team");
        }
        const auto& map = type == ast::Type::kRep ? m_->reps : m_->teams;
        if (!map.contains(lit.text)) {
          d_->Error(lit.span, absl::StrCat("undefined ", ast::TypeName(type),
                                           " `", lit.text, "`"))
              .hint = DidYouMean(lit.text, map);
          return false;
        }
        return true;
      }
      default:
        return mismatch(ast::TypeName(type));
    }
  }

  // A CSV cell as a literal of `type`.
  std::optional<ast::Literal> Cell(ast::Type type, const CsvCell& cell,
                                   absl::string_view role) {
    ast::Literal lit;
    lit.span = cell.span;
    lit.text = cell.text;
    lit.kind = Kind::kString;
    if (type == ast::Type::kInt) {
      lit.kind = Kind::kInt;
      if (!absl::SimpleAtoi(cell.text, &lit.int_value)) {
        d_->Error(cell.span, absl::StrCat("CSV ", role, " \"", cell.text,
                                          "\" is not a whole number"));
        return std::nullopt;
      }
    } else if (type == ast::Type::kNumber) {
      lit.kind = Kind::kNumber;
      if (!absl::SimpleAtod(cell.text, &lit.number_value)) {
        d_->Error(cell.span, absl::StrCat("CSV ", role, " \"", cell.text,
                                          "\" is not a number"));
        return std::nullopt;
      }
    } else if (type == ast::Type::kBool) {
      lit.kind = Kind::kBool;
      if (cell.text != "true" && cell.text != "false") {
        d_->Error(cell.span, absl::StrCat("CSV ", role, " \"", cell.text,
                                          "\" is not true or false"));
        return std::nullopt;
      }
      lit.bool_value = cell.text == "true";
    }
    if (!Fits(type, lit, role)) return std::nullopt;
    return lit;
  }

  void FromCsv(const ast::Table& t, TableRows* rows) {
    const ast::CsvSource& csv = *t.csv;
    const std::string dir =
        std::filesystem::path(m_->sources.file(t.span.file).path())
            .parent_path();
    const std::string path =
        (std::filesystem::path(dir) / csv.path.text).string();
    const std::vector<std::vector<CsvCell>>* parsed = ReadCsv(path, csv);
    if (parsed == nullptr) return;
    const std::vector<std::vector<CsvCell>>& cells = *parsed;
    if (cells.empty()) {
      d_->Error(csv.path.span,
                absl::StrCat(path, " is empty: expected a header row"));
      return;
    }
    const std::vector<CsvCell>& header = cells[0];
    auto column = [&](const ast::Literal& name) -> int {
      std::vector<std::string> names;
      for (size_t i = 0; i < header.size(); ++i) {
        if (header[i].text == name.text) return static_cast<int>(i);
        names.push_back(header[i].text);
      }
      std::string best = ClosestMatch(name.text, names);
      d_->Error(name.span,
                absl::StrCat("no column \"", name.text, "\" in ", path))
          .hint = best.empty() ? absl::StrCat("its columns: ",
                                              absl::StrJoin(names, ", "))
                               : absl::StrCat("did you mean \"", best, "\"?");
      return -1;
    };
    const int key_col = column(csv.key_column);
    const int value_col = column(csv.value_column);
    if (key_col < 0 || value_col < 0) return;
    for (size_t r = 1; r < cells.size(); ++r) {
      const std::vector<CsvCell>& row = cells[r];
      if (static_cast<int>(row.size()) <= std::max(key_col, value_col)) {
        d_->Error(row[0].span,
                  absl::StrCat("row has ", row.size(),
                               " fields; the header has ", header.size()));
        continue;
      }
      std::optional<ast::Literal> key = Cell(t.key_type, row[key_col], "key");
      std::optional<ast::Literal> value =
          Cell(t.value_type, row[value_col], "value");
      if (key && value)
        rows->rows.emplace_back(*std::move(key), *std::move(value));
    }
  }

  // Each CSV file is read and parsed once, however many tables use it, so
  // its own errors are reported once. Null when it cannot be read.
  const std::vector<std::vector<CsvCell>>* ReadCsv(const std::string& path,
                                                   const ast::CsvSource& csv) {
    const std::string key = m_->reader->Key(path);
    if (auto it = csv_cache_.find(key); it != csv_cache_.end()) {
      return it->second.has_value() ? &*it->second : nullptr;
    }
    std::string text;
    if (absl::Status s = m_->reader->Read(path, &text); !s.ok()) {
      d_->Error(csv.path.span,
                absl::StrCat("cannot read the table's CSV: ", s.message()));
      csv_cache_[key] = std::nullopt;
      return nullptr;
    }
    // Excel's "CSV UTF-8" starts with a byte-order mark: not part of the
    // first column's name.
    if (absl::StartsWith(text, "\xEF\xBB\xBF")) text.erase(0, 3);
    const int file = m_->sources.Add(path, std::move(text));
    return &*(csv_cache_[key] = ParseCsv(m_->sources, file, d_));
  }

  void CheckDuplicates(const ast::Table& t, const TableRows& rows) {
    absl::flat_hash_map<std::string, const ast::Literal*> seen;
    const bool ignore_case = ast::KeysIgnoreCase(t);
    for (const auto& [key, value] : rows.rows) {
      std::string k = key.kind == Kind::kString
                          ? key.text
                          : std::string(m_->sources.Text(key.span));
      auto [it, inserted] =
          seen.emplace(ignore_case ? absl::AsciiStrToLower(k) : k, &key);
      if (!inserted) {
        Diagnostic& d = d_->Error(
            key.span,
            absl::StrCat("duplicate key ", k, " in table `", t.name.text, "`",
                         ignore_case && it->second->text != key.text
                             ? " (its keys ignore case)"
                             : ""));
        d.notes.push_back({it->second->span, "first defined here"});
        if (ignore_case && it->second->text != key.text &&
            !t.ignore_case.has_value()) {
          d.hint = absl::StrCat("if case matters here, declare `table ",
                                t.name.text, ": ... matching case`");
        }
      }
    }
  }

  Module* m_;
  Diagnostics* d_;
  absl::flat_hash_map<std::string,
                      std::optional<std::vector<std::vector<CsvCell>>>>
      csv_cache_;
};

}  // namespace

void LoadTables(Module* module, Diagnostics* diagnostics) {
  TableLoader loader(module, diagnostics);
  std::vector<const ast::Table*> tables;
  module->ForEach<ast::Table>(
      [&](const ast::Table& t) { tables.push_back(&t); });
  for (const ast::Table* t : tables) loader.Load(*t);
}

}  // namespace leadroute::compiler
