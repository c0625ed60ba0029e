// `leadroute replay`: re-decide historical leads with a candidate ruleset
// (runtime/replay.h) and say what changes against what was decided then (a
// decision log) or against another ruleset, as a table, JSON or markdown
// for a pull request; `--max-changed` makes it a CI gate. Reads its input
// line by line with a bounded line length, so history of any size fits.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "base/keyed_hash.h"
#include "base/log.h"
#include "runtime/replay.h"
#include "src/cli/commands.h"
#include "src/cli/compile_rules.h"
#include "src/cli/lead_json.h"
#include "src/cli/line_reader.h"
#include "src/service/decision_log_reader.h"
#include "src/wire/convert.h"

namespace leadroute {
namespace {

using runtime::ReplayOutput;
using runtime::ReplayReport;

std::string Base(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Share(const ReplayReport& r, int64_t n) {
  return absl::StrFormat("%.1f%%", r.Share(n) * 100);
}

std::string Signed(int64_t n) { return n > 0 ? "+" + Grouped(n) : Grouped(n); }

// What was read, besides the report.
struct Input {
  std::string name;          // the history's file name
  std::string baseline;      // what "before" is
  std::string candidate;     // "name version" of the candidate
  int64_t lines = 0;         // lines read (blank ones not counted)
  int64_t unreadable = 0;    // lines that are not a lead or decision
  int64_t outside = 0;       // outside --from/--to
  int64_t shadow_lines = 0;  // a shadow's lines, skipped
  int64_t unkept = 0;        // stored leads the store kept no attributes of
};

// A section of the report as rows, rendered as an aligned text table or a
// markdown table.
struct Section {
  std::string title;
  std::vector<std::string> header;
  std::vector<bool> right;  // per column: numbers align right
  std::vector<std::vector<std::string>> rows;
};

std::vector<Section> Sections(const ReplayReport& r, int max_rows) {
  std::vector<Section> out;
  Section changed{"Changed outputs",
                  {"output", "leads changed", "share"},
                  {false, true, true},
                  {}};
  for (int o = 0; o < runtime::kReplayOutputs; ++o) {
    changed.rows.push_back(
        {runtime::ReplayOutputName(static_cast<ReplayOutput>(o)),
         Grouped(r.changed[o]), Share(r, r.changed[o])});
  }
  changed.rows.push_back(
      {"any", Grouped(r.changed_any), Share(r, r.changed_any)});
  out.push_back(std::move(changed));

  Section moves{"Owner transitions (the rules' choice: rep, team or queue)",
                {"from", "to", "leads", "share"},
                {false, false, true, true},
                {}};
  for (const ReplayReport::Transition& t : r.transitions) {
    if (static_cast<int>(moves.rows.size()) == max_rows) break;
    moves.rows.push_back({t.from, t.to, Grouped(t.leads), Share(r, t.leads)});
  }
  int64_t rest = r.other_transitions;
  for (size_t i = moves.rows.size(); i < r.transitions.size(); ++i) {
    rest += r.transitions[i].leads;
  }
  if (rest > 0) {
    moves.rows.push_back({"(other)", "", Grouped(rest), Share(r, rest)});
  }
  if (moves.rows.empty()) moves.rows.push_back({"(none)", "", "0", "0.0%"});
  out.push_back(std::move(moves));

  Section rules{"Rules: leads each decided",
                {"rule", "where", "before", "after", "change"},
                {false, false, true, true, false},
                {}};
  for (const ReplayReport::RuleRow& row : r.rules) {
    if (row.before == row.after) continue;
    const std::string change = row.before == 0 ? "starts firing"
                               : row.after == 0
                                   ? "stops firing"
                                   : Signed(row.after - row.before);
    rules.rows.push_back({row.rule, row.location, Grouped(row.before),
                          Grouped(row.after), change});
  }
  if (rules.rows.empty())
    rules.rows.push_back({"(no rule changes)", "", "", "", ""});
  out.push_back(std::move(rules));

  // Leads per owner, or per rep: the first max_rows rows.
  auto load = [max_rows](std::string title, const char* column,
                         const std::vector<ReplayReport::LoadRow>& rows) {
    Section s{std::move(title),
              {column, "before", "after", "change"},
              {false, true, true, true},
              {}};
    for (const ReplayReport::LoadRow& row : rows) {
      if (static_cast<int>(s.rows.size()) == max_rows) break;
      s.rows.push_back({row.owner, Grouped(row.before), Grouped(row.after),
                        Signed(row.after - row.before)});
    }
    return s;
  };
  out.push_back(load("Leads per owner", "owner", r.load));
  if (r.reps_simulated) {
    out.push_back(load(
        "Leads per rep (after: chosen as the server would, each lead holding "
        "its rep for --lead-hold)",
        "rep", r.rep_load));
  }
  return out;
}

std::string Escape(const std::string& cell) {  // for a markdown table
  std::string out;
  for (char c : cell) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

void PrintMarkdownTable(const Section& s) {
  std::printf("#### %s\n\n|", s.title.c_str());
  for (const std::string& h : s.header) std::printf(" %s |", h.c_str());
  std::printf("\n|");
  for (bool right : s.right) std::printf(right ? " ---: |" : " --- |");
  std::printf("\n");
  for (const auto& row : s.rows) {
    std::printf("|");
    for (const std::string& cell : row) {
      std::printf(" %s |", Escape(cell).c_str());
    }
    std::printf("\n");
  }
  std::printf("\n");
}

void PrintTextTable(const Section& s) {
  std::vector<size_t> width(s.header.size());
  for (size_t c = 0; c < width.size(); ++c) width[c] = s.header[c].size();
  for (const auto& row : s.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
    }
  }
  std::printf("%s\n", s.title.c_str());
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = " ";
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      absl::StrAppend(&out, " ", s.right[c] ? pad + cells[c] : cells[c] + pad);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::printf("%s\n", out.c_str());
  };
  line(s.header);
  for (const auto& row : s.rows) line(row);
  std::printf("\n");
}

// Findings beside the tables: unassigned leads, stages that stop deciding,
// rejections, masked attributes, unreadable input.
std::vector<std::string> Notes(const ReplayReport& r, const Input& in) {
  std::vector<std::string> out;
  if (r.became_unassigned > 0) {
    out.push_back(absl::StrCat(Grouped(r.became_unassigned),
                               " leads had an owner before and would have "
                               "none (no assign rule decides them)"));
  }
  for (int st = 0; st < runtime::kStageCount; ++st) {
    if (r.fell_through[st] == 0) continue;
    out.push_back(absl::StrCat(
        Grouped(r.fell_through[st]), " leads a ",
        runtime::StageIdName(static_cast<runtime::StageId>(st)),
        " rule decided before fall through that stage (no rule decides)"));
  }
  auto rejected = [&](int64_t n, const std::vector<ReplayReport::Rejection>& x,
                      const std::string& who) {
    if (n == 0) return;
    std::string line =
        absl::StrCat(Grouped(n), " leads ", who, " rejects, not compared");
    for (const ReplayReport::Rejection& e : x) {
      absl::StrAppend(&line, "; ", e.lead_id, ": ", e.message);
    }
    out.push_back(std::move(line));
  };
  rejected(r.rejected_after, r.rejections_after,
           absl::StrCat("the candidate's schema (", in.candidate, ")"));
  rejected(r.rejected_before, r.rejections_before,
           absl::StrCat("the baseline's schema (", in.baseline, ")"));
  for (const ReplayReport::MaskedRow& m : r.masked) {
    if (m.hashed > 0) {
      out.push_back(absl::StrCat(Grouped(m.hashed), " leads have `",
                                 m.attribute,
                                 "` masked in the history: decided on it from "
                                 "its keyed hashes"));
    }
    if (m.missing > 0) {
      out.push_back(absl::StrCat(
          Grouped(m.missing), " leads have `", m.attribute,
          "` masked in the history and the candidate's rules read it: they "
          "were decided as if it were missing (",
          m.why, ")"));
    }
  }
  if (in.unkept > 0) {
    out.push_back(absl::StrCat(
        Grouped(in.unkept),
        " leads of the window were routed before the "
        "store kept leads' attributes (schema v11): not replayed"));
  }
  if (in.unreadable > 0) {
    out.push_back(absl::StrCat(Grouped(in.unreadable), " of ",
                               Grouped(in.lines),
                               " lines could not be read (see stderr)"));
  }
  return out;
}

std::string Window(const ReplayReport& r) {
  if (!r.first) return "no leads";
  auto day = [](absl::Time t) {
    return absl::FormatTime("%Y-%m-%d %H:%M", t, absl::UTCTimeZone());
  };
  return absl::StrCat("received ", day(*r.first), " to ", day(*r.last), " UTC");
}

void PrintExamples(const ReplayReport& r, bool markdown, int max_rows) {
  if (r.transitions.empty()) return;
  std::printf(markdown ? "#### Examples\n\n" : "Examples\n");
  int shown = 0;
  for (const ReplayReport::Transition& t : r.transitions) {
    if (shown++ == max_rows) break;
    std::printf(markdown ? "**%s → %s**\n\n" : "  %s -> %s\n", t.from.c_str(),
                t.to.c_str());
    for (const ReplayReport::Example& e : t.examples) {
      const std::string when =
          absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", e.at, absl::UTCTimeZone());
      std::printf(markdown ? "- `%s` (%s)\n" : "    %s (%s)\n",
                  e.lead_id.c_str(), when.c_str());
      auto side = [&](const char* label, const ReplayReport::Side& s) {
        // The assign stage's reason: it is what chose the owner.
        std::string why = "no assign rule";
        for (const std::string& w : s.why) {
          if (absl::StartsWith(w, "assign/")) why = w;
        }
        std::printf(
            markdown ? "  - %s: %s, by `%s`\n" : "      %s: %s, by %s\n", label,
            s.owner.c_str(), why.c_str());
      };
      side("before", e.before);
      side("after", e.after);
    }
    if (markdown) std::printf("\n");
  }
  if (!markdown) std::printf("\n");
}

void PrintHuman(const ReplayReport& r, const Input& in, bool markdown) {
  const int kRows = 20;
  if (markdown) {
    std::printf("### leadroute replay: %s against %s\n\n", in.candidate.c_str(),
                in.baseline.c_str());
    std::printf("%s leads from `%s`, %s.\n\n", Grouped(r.leads).c_str(),
                in.name.c_str(), Window(r).c_str());
    std::printf("**%s of leads (%s) change owner.**\n\n",
                Share(r, r.changed[0]).c_str(), Grouped(r.changed[0]).c_str());
  } else {
    std::printf("Replay of %s against %s\n", in.candidate.c_str(),
                in.baseline.c_str());
    std::printf("%s leads from %s, %s\n", Grouped(r.leads).c_str(),
                in.name.c_str(), Window(r).c_str());
    std::printf("%s of leads (%s) change owner\n\n",
                Share(r, r.changed[0]).c_str(), Grouped(r.changed[0]).c_str());
  }
  for (const Section& s : Sections(r, kRows)) {
    markdown ? PrintMarkdownTable(s) : PrintTextTable(s);
  }
  const std::vector<std::string> notes = Notes(r, in);
  if (!notes.empty()) {
    std::printf(markdown ? "#### Findings\n\n" : "Findings\n");
    for (const std::string& n : notes) {
      std::printf(markdown ? "- %s\n" : "  - %s\n", n.c_str());
    }
    std::printf("\n");
  }
  PrintExamples(r, markdown, kRows);
}

void PrintJsonReport(const ReplayReport& r, const Input& in) {
  using Json = nlohmann::ordered_json;
  Json j;
  j["candidate"] = in.candidate;
  j["baseline"] = in.baseline;
  j["input"] = {{"file", in.name},
                {"lines", in.lines},
                {"unreadable", in.unreadable},
                {"outside_window", in.outside},
                {"shadow_lines", in.shadow_lines},
                {"without_attributes", in.unkept}};
  j["leads"] = r.leads;
  j["first"] = r.first ? Json(Rfc3339Micros(*r.first)) : Json(nullptr);
  j["last"] = r.last ? Json(Rfc3339Micros(*r.last)) : Json(nullptr);
  Json changed = Json::object();
  for (int o = 0; o < runtime::kReplayOutputs; ++o) {
    changed[runtime::ReplayOutputName(static_cast<ReplayOutput>(o))] =
        r.changed[o];
  }
  changed["any"] = r.changed_any;
  j["changed"] = std::move(changed);
  auto side = [](const ReplayReport::Side& s) {
    return Json{{"owner", s.owner}, {"why", s.why}};
  };
  Json moves = Json::array();
  for (const ReplayReport::Transition& t : r.transitions) {
    Json examples = Json::array();
    for (const ReplayReport::Example& e : t.examples) {
      examples.push_back({{"lead_id", e.lead_id},
                          {"received_at", Rfc3339Micros(e.at)},
                          {"before", side(e.before)},
                          {"after", side(e.after)}});
    }
    moves.push_back({{"from", t.from},
                     {"to", t.to},
                     {"leads", t.leads},
                     {"examples", std::move(examples)}});
  }
  j["transitions"] = std::move(moves);
  j["other_transitions"] = r.other_transitions;
  Json rules = Json::array();
  for (const ReplayReport::RuleRow& row : r.rules) {
    rules.push_back({{"rule", row.rule},
                     {"location", row.location},
                     {"before", row.before},
                     {"after", row.after}});
  }
  j["rules"] = std::move(rules);
  Json load = Json::array();
  for (const ReplayReport::LoadRow& row : r.load) {
    load.push_back(
        {{"owner", row.owner}, {"before", row.before}, {"after", row.after}});
  }
  j["load"] = std::move(load);
  if (r.reps_simulated) {
    Json reps = Json::array();
    for (const ReplayReport::LoadRow& row : r.rep_load) {
      reps.push_back(
          {{"rep", row.owner}, {"before", row.before}, {"after", row.after}});
    }
    j["rep_load"] = std::move(reps);
  }
  j["became_unassigned"] = r.became_unassigned;
  Json fell = Json::object();
  for (int st = 0; st < runtime::kStageCount; ++st) {
    fell[runtime::StageIdName(static_cast<runtime::StageId>(st))] =
        r.fell_through[st];
  }
  j["fell_through"] = std::move(fell);
  auto rejections = [](int64_t n,
                       const std::vector<ReplayReport::Rejection>& x) {
    Json first = Json::array();
    for (const ReplayReport::Rejection& e : x) {
      first.push_back({{"lead_id", e.lead_id}, {"message", e.message}});
    }
    return Json{{"leads", n}, {"first", std::move(first)}};
  };
  j["rejected"] = {
      {"candidate", rejections(r.rejected_after, r.rejections_after)},
      {"baseline", rejections(r.rejected_before, r.rejections_before)}};
  Json masked = Json::object();
  for (const ReplayReport::MaskedRow& m : r.masked) {
    masked[m.attribute] = {
        {"hashed", m.hashed}, {"missing", m.missing}, {"why", m.why}};
  }
  j["masked"] = std::move(masked);
  std::printf("%s\n",
              j.dump(2, ' ', false, Json::error_handler_t::replace).c_str());
}

// "5%", "5" or "0.5%": a percentage from 0 to 100.
std::optional<double> ParsePercent(std::string text) {
  absl::string_view t = absl::StripAsciiWhitespace(text);
  absl::ConsumeSuffix(&t, "%");
  double v;
  if (!absl::SimpleAtod(t, &v) || !(v >= 0 && v <= 100)) return std::nullopt;
  return v;
}

// Replays the leads a server's state store routed in [from, to), in
// routing order; unreadable ones are named on stderr and counted.
int ReplayStore(const ReplayFlags& flags, std::optional<absl::Time> from,
                std::optional<absl::Time> to, runtime::Replayer* replayer,
                Input* in) {
  absl::StatusOr<std::unique_ptr<runtime::StateReader>> store =
      OpenStateReadOnly(flags.data_dir, flags.state);
  if (!store.ok()) {
    std::cerr << "leadroute replay: " << store.status().message() << "\n";
    return kExitUsageOrIo;
  }
  in->name = flags.data_dir.empty() ? "--state" : Base(flags.data_dir);
  Progress progress(absl::StrCat("Replaying ", in->name), -1);
  LoggedDecision logged;
  const int kReported = 5;  // unreadable leads shown on stderr
  absl::Status scanned = (*store)->ScanAssignments(
      from.value_or(absl::UnixEpoch()), to.value_or(absl::InfiniteFuture()),
      [&](const runtime::Assignment& a) {
        ++in->lines;
        progress.Tick(in->lines, 0);
        absl::Status s = ReadStoredLead(a, &logged);
        if (absl::IsFailedPrecondition(s)) {
          ++in->unkept;
          return;
        }
        if (!s.ok()) {
          if (in->unreadable++ < kReported) {
            std::cerr << "leadroute replay: lead " << a.lead_id << ": "
                      << s.message() << "\n";
          }
          return;
        }
        replayer->Add(logged.lead_id, logged.received_at, logged.attributes,
                      &logged.decision, logged.masked, logged.hashed);
      });
  if (!scanned.ok()) {
    std::cerr << "leadroute replay: " << scanned.message() << "\n";
    return kExitUsageOrIo;
  }
  if (in->unreadable > kReported) {
    std::cerr << "leadroute replay: " << in->unreadable - kReported
              << " more leads could not be read\n";
  }
  return kExitOk;
}

}  // namespace

int ReplayCommand(const ReplayFlags& flags) {
  const bool from_log = !flags.decision_log.empty();
  const bool from_state = !flags.data_dir.empty() || !flags.state.empty();
  if (from_log + !flags.leads.empty() + !flags.data_dir.empty() +
          !flags.state.empty() !=
      1) {
    std::cerr << "leadroute replay: give the history: --decision-log FILE, "
                 "--data-dir DIR or --state postgres://… (a server's), or "
                 "--leads FILE.jsonl (one of them)\n";
    return kExitUsageOrIo;
  }
  if (!from_log && !from_state && flags.against.empty()) {
    std::cerr << "leadroute replay: --leads needs --against OLD.route (the "
                 "leads carry no decision to compare with)\n";
    return kExitUsageOrIo;
  }
  std::optional<double> max_changed;
  if (!flags.max_changed.empty()) {
    max_changed = ParsePercent(flags.max_changed);
    if (!max_changed) {
      std::cerr << "leadroute replay: --max-changed: \"" << flags.max_changed
                << "\" is not a percentage from 0 to 100 (e.g. 5%)\n";
      return kExitUsageOrIo;
    }
  }
  std::optional<absl::Time> from, to, at;
  for (auto [flag, text, out] : {std::tuple{"--from", &flags.from, &from},
                                 std::tuple{"--to", &flags.to, &to},
                                 std::tuple{"--at", &flags.at, &at}}) {
    if (text->empty()) continue;
    absl::StatusOr<absl::Time> t = ParseWhen(flag, *text);
    if (!t.ok()) {
      std::cerr << "leadroute replay: " << t.status().message() << "\n";
      return kExitUsageOrIo;
    }
    *out = *t;
  }

  Compiled after = CompileRules(flags.rules, false, /*show_warnings=*/false);
  if (after.exit_code != kExitOk) return after.exit_code;
  Compiled before;
  if (!flags.against.empty()) {
    before = CompileRules(flags.against, false, /*show_warnings=*/false);
    if (before.exit_code != kExitOk) return before.exit_code;
  }

  Input in;
  in.candidate =
      absl::StrCat(after.program()->name, " ", after.program()->version);
  in.baseline =
      flags.against.empty()
          ? (from_state ? "the decisions stored" : "the decisions logged")
          : absl::StrCat(before.program()->name, " ",
                         before.program()->version);

  runtime::ReplayOptions options;
  options.examples = flags.examples;
  options.simulate_reps = true;
  const std::optional<absl::Duration> hold = ParseSpan(flags.lead_hold);
  if (!hold || *hold <= absl::ZeroDuration() || *hold > absl::Hours(24 * 366)) {
    std::cerr << "leadroute replay: --lead-hold: \"" << flags.lead_hold
              << "\" is not a span from 1s to 366d, e.g. 1d or 8h\n";
    return kExitUsageOrIo;
  }
  options.lead_hold = *hold;
  if (!flags.decision_log_key.empty()) {
    absl::StatusOr<KeyedHash> key =
        KeyedHash::FromFile(flags.decision_log_key, "--decision-log-key");
    if (!key.ok()) {
      std::cerr << "leadroute replay: " << key.status().message() << "\n";
      return kExitUsageOrIo;
    }
    options.key = std::make_shared<const KeyedHash>(*std::move(key));
  }
  runtime::Replayer replayer(after.program(),
                             flags.against.empty() ? nullptr : before.program(),
                             options);
  if (from_state) {
    const int rc = ReplayStore(flags, from, to, &replayer, &in);
    if (rc != kExitOk) return rc;
  } else {
    const std::string& path = from_log ? flags.decision_log : flags.leads;
    std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
      std::cerr << "leadroute replay: " << path << ": " << std::strerror(errno)
                << "\n";
      return kExitUsageOrIo;
    }
    int64_t size = -1;
    if (file != stdin && std::fseek(file, 0, SEEK_END) == 0) {
      size = std::ftell(file);
      std::rewind(file);
    }

    in.name = path == "-" ? "stdin" : Base(path);
    LineReader lines(file, flags.max_line_bytes);
    Progress progress(absl::StrCat("Replaying ", in.name), size);
    LoggedDecision logged;
    std::vector<runtime::ReplayAttribute> attributes;
    const absl::Time now = absl::Now();
    const int kReported = 5;  // unreadable lines shown on stderr
    auto unreadable = [&](const std::string& message) {
      if (in.unreadable++ < kReported) {
        std::cerr << "leadroute replay: " << in.name << ":" << lines.number()
                  << ": " << message << "\n";
      }
    };
    absl::string_view line;
    bool too_long = false;
    while (lines.Next(&line, &too_long)) {
      if (!too_long && absl::StripAsciiWhitespace(line).empty()) continue;
      ++in.lines;
      progress.Tick(in.lines, lines.consumed());
      if (too_long) {
        unreadable(absl::StrCat("longer than ", flags.max_line_bytes,
                                " bytes (--max-line-bytes)"));
        continue;
      }
      if (from_log) {
        if (absl::Status s = ReadDecisionLine(line, &logged); !s.ok()) {
          unreadable(std::string(s.message()));
          continue;
        }
        if (!logged.shadow_of.empty()) {  // a shadow's line, not a lead
          --in.lines;
          ++in.shadow_lines;
          continue;
        }
        if ((from && logged.received_at < *from) ||
            (to && logged.received_at >= *to)) {
          ++in.outside;
          continue;
        }
        replayer.Add(logged.lead_id, logged.received_at, logged.attributes,
                     &logged.decision, logged.masked, logged.hashed);
        continue;
      }
      absl::StatusOr<nlohmann::json> j = ParseJson(std::string(line));
      if (!j.ok()) {
        unreadable(std::string(j.status().message()));
        continue;
      }
      // The lead's own time: `received_at` beside its attributes.
      absl::Time received = at.value_or(now);
      if (j->is_object()) {
        if (auto it = j->find("received_at"); it != j->end()) {
          absl::StatusOr<absl::Time> t =
              it->is_string() ? ParseWhen("received_at", it->get<std::string>())
                              : absl::InvalidArgumentError(
                                    "received_at: must be an RFC 3339 time");
          if (!t.ok()) {
            unreadable(std::string(t.status().message()));
            continue;
          }
          received = *t;
          j->erase(it);
        }
      }
      absl::StatusOr<v1::Lead> proto = LeadFromJson(*j);
      absl::StatusOr<runtime::Lead> lead =
          proto.ok() ? LeadFromProto(*proto)
                     : absl::StatusOr<runtime::Lead>(proto.status());
      if (!lead.ok()) {
        unreadable(std::string(lead.status().message()));
        continue;
      }
      if ((from && received < *from) || (to && received >= *to)) {
        ++in.outside;
        continue;
      }
      attributes.clear();
      for (auto& [name, value] : lead->attributes) {
        attributes.emplace_back(name, std::move(value));
      }
      replayer.Add(lead->id, received, attributes, nullptr);
    }
    const bool read_failed = lines.failed();
    if (file != stdin) std::fclose(file);
    if (read_failed) {
      std::cerr << "leadroute replay: " << path << ": read error\n";
      return kExitUsageOrIo;
    }
    if (in.unreadable > kReported) {
      std::cerr << "leadroute replay: " << in.unreadable - kReported
                << " more lines could not be read\n";
    }
  }
  const ReplayReport report = replayer.Report();
  if (flags.format == "json") {
    PrintJsonReport(report, in);
  } else {
    PrintHuman(report, in, flags.format == "markdown");
  }
  std::fflush(stdout);
  if (max_changed && report.Share(report.changed[0]) * 100 > *max_changed) {
    std::cerr << absl::StrFormat(
        "leadroute replay: %.1f%% of leads (%d) change owner, more than "
        "--max-changed %s\n",
        report.Share(report.changed[0]) * 100, report.changed[0],
        flags.max_changed);
    return kExitRulesOrInput;
  }
  return kExitOk;
}

}  // namespace leadroute
