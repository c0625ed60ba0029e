// runtime::Replayer on generated histories: a territory change shows up as
// exactly the leads it moves, whether compared with a second ruleset or
// with what was recorded; the other findings (unassigned, fall-through,
// rejections, masked attributes, the leads' own time) each on a change made
// for it. Every count is checked against deciding each lead on its own.
#include "runtime/replay.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/civil_time.h"
#include "base/keyed_hash.h"
#include "compiler/compiler.h"
#include "runtime/masked.h"
#include "runtime/tree_policy.h"

namespace leadroute::runtime {
namespace {

constexpr const char* kRules = R"(ruleset "territories" version "1"
schema {
  email: string pii
  country: string required
  employees: int default 0
  source: enum { web, event, partner } required
  last_visit: time
}
rep ann {}
rep cyd {}
rep dan {}
team na { members = [ann] }
team emea { members = [cyd, dan] }
queue triage
queue partners
assign {
  allow overlap "partners first"
  rule partners when source == partner then queue partners
  rule na_leads when country in ["US", "CA"] then team na else queue triage
  rule emea_leads when country in ["GB", "FR", "DE"] then team emea else queue triage
  otherwise queue triage
}
priority {
  labels high > normal
  rule big when employees >= 1000 then high
  otherwise normal
}
sla {
  rule web_sla when source == web then 1h
  otherwise 4h
}
)";

std::shared_ptr<const Program> Compile(const std::string& text) {
  compiler::CheckResult r = compiler::CheckText("r.route", text);
  EXPECT_TRUE(r.ok()) << text;
  return r.program;
}

// `kRules` with `from` replaced by `to` (which must be there).
std::string Edit(const std::string& from, const std::string& to,
                 std::string text = kRules) {
  EXPECT_NE(text.find(from), std::string::npos) << from;
  return absl::StrReplaceAll(text, {{from, to}});
}

// The territory change under review: Germany to a new DACH team.
std::string Dach() {
  return Edit(
      "  rule emea_leads when country in [\"GB\", \"FR\", \"DE\"]",
      "  rule dach_leads when country == \"DE\" then team dach else queue "
      "triage\n  rule emea_leads when country in [\"GB\", \"FR\"]",
      Edit("team emea { members = [cyd, dan] }",
           "team emea { members = [cyd] }\nteam dach { members = [dan] }"));
}

struct HistoryLead {
  std::string id;
  absl::Time at;
  Lead lead;
};

// 3,000 leads over 30 days from seven countries (JP matches no territory).
std::vector<HistoryLead> History() {
  std::mt19937 rng(7);
  const char* countries[] = {"US", "CA", "GB", "FR", "DE", "DE", "JP"};
  const char* sources[] = {"web", "web", "event", "partner"};
  std::vector<HistoryLead> out;
  const absl::Time start = absl::FromUnixSeconds(1761955200);  // 2025-11-01
  for (int i = 0; i < 3000; ++i) {
    HistoryLead h;
    h.id = absl::StrCat("L-", i);
    h.at = start + absl::Minutes(i * 14);
    h.lead.id = h.id;
    h.lead.attributes["country"] = std::string(countries[rng() % 7]);
    h.lead.attributes["source"] = std::string(sources[rng() % 4]);
    h.lead.attributes["employees"] = static_cast<int64_t>(rng() % 3 * 900);
    h.lead.attributes["email"] = absl::StrCat("p", i, "@example.com");
    h.lead.attributes["last_visit"] = h.at - absl::Hours(1);
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<ReplayAttribute> Attributes(const Lead& lead) {
  std::vector<ReplayAttribute> out;
  for (const auto& [name, value] : lead.attributes)
    out.emplace_back(name, value);
  return out;
}

Decision DecideAt(const Program& p, const HistoryLead& h) {
  DecideOptions options;
  options.received_at = h.at;
  absl::StatusOr<Decision> d =
      TreePolicy(std::shared_ptr<const Program>(&p, [](const Program*) {
      })).Decide(h.lead, options);
  EXPECT_TRUE(d.ok()) << d.status();
  return *d;
}

// What a decision log records for `d`.
RecordedDecision Record(const Decision& d) {
  RecordedDecision r;
  r.owner = TargetOf(d);
  if (d.priority) r.priority = d.priority->label;
  r.sla = d.sla;
  r.channel = d.channel;
  r.escalation = d.escalation;
  for (const RuleRef& ref : d.decided_by) {
    r.rules.emplace_back(absl::StrCat(ref.stage, "/", ref.rule), ref.location);
  }
  return r;
}

ReplayReport ReplayAgainst(const std::string& after, const std::string& before,
                           const std::vector<HistoryLead>& history,
                           const std::vector<std::string>& masked = {}) {
  Replayer replayer(Compile(after), Compile(before));
  for (const HistoryLead& h : history) {
    std::vector<ReplayAttribute> attributes = Attributes(h.lead);
    replayer.Add(h.id, h.at, attributes, nullptr, masked);
  }
  return replayer.Report();
}

const ReplayReport::RuleRow* Row(const ReplayReport& r,
                                 const std::string& rule) {
  for (const ReplayReport::RuleRow& row : r.rules) {
    if (row.rule == rule) return &row;
  }
  return nullptr;
}

int64_t Owner(const ReplayReport& r, ReplayOutput o) {
  return r.changed[static_cast<int>(o)];
}

TEST(ReplayTest, MovingOneCountryChangesExactlyItsLeads) {
  const std::vector<HistoryLead> history = History();
  auto before = Compile(kRules);
  auto after = Compile(Dach());
  // Each lead decided on its own, both ways: the leads that must change.
  std::vector<std::string> moved;
  int64_t emea = 0;
  for (const HistoryLead& h : history) {
    const std::string was = TargetOf(DecideAt(*before, h));
    const std::string now = TargetOf(DecideAt(*after, h));
    if (was == "team:emea") ++emea;
    if (was != now) {
      EXPECT_EQ(std::get<std::string>(h.lead.attributes.at("country")), "DE");
      EXPECT_EQ(was, "team:emea");
      EXPECT_EQ(now, "team:dach");
      moved.push_back(h.id);
    }
  }
  ASSERT_GT(moved.size(),
            300u);  // the history has Germans who are not partners

  const ReplayReport r = ReplayAgainst(Dach(), kRules, history);
  EXPECT_EQ(r.leads, 3000);
  EXPECT_EQ(Owner(r, ReplayOutput::kOwner), static_cast<int64_t>(moved.size()));
  EXPECT_EQ(r.changed_any, static_cast<int64_t>(moved.size()));
  for (ReplayOutput o : {ReplayOutput::kPriority, ReplayOutput::kSla,
                         ReplayOutput::kChannel, ReplayOutput::kEscalation}) {
    EXPECT_EQ(Owner(r, o), 0) << ReplayOutputName(o);
  }
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].from, "team:emea");
  EXPECT_EQ(r.transitions[0].to, "team:dach");
  EXPECT_EQ(r.transitions[0].leads, static_cast<int64_t>(moved.size()));
  // The first three moved leads, in input order, explained on both sides.
  ASSERT_EQ(r.transitions[0].examples.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const ReplayReport::Example& e = r.transitions[0].examples[i];
    EXPECT_EQ(e.lead_id, moved[i]);
    EXPECT_EQ(e.before.owner, "team:emea");
    EXPECT_EQ(e.after.owner, "team:dach");
    EXPECT_NE(std::find(e.after.why.begin(), e.after.why.end(),
                        "assign/dach_leads (r.route:21): country == \"DE\""),
              e.after.why.end())
        << testing::PrintToString(e.after.why);
  }
  const ReplayReport::RuleRow* dach = Row(r, "assign/dach_leads");
  ASSERT_NE(dach, nullptr);
  EXPECT_EQ(dach->before, 0);
  EXPECT_EQ(dach->after, static_cast<int64_t>(moved.size()));
  const ReplayReport::RuleRow* rest = Row(r, "assign/emea_leads");
  ASSERT_NE(rest, nullptr);
  EXPECT_EQ(rest->before, emea);
  EXPECT_EQ(rest->after, emea - static_cast<int64_t>(moved.size()));
  for (const ReplayReport::RuleRow& row : r.rules) {
    if (row.rule != "assign/dach_leads" && row.rule != "assign/emea_leads") {
      EXPECT_EQ(row.before, row.after) << row.rule;
    }
  }
  EXPECT_EQ(r.became_unassigned, 0);
  EXPECT_EQ(r.rejected_after + r.rejected_before, 0);
  EXPECT_TRUE(r.masked.empty());
  EXPECT_EQ(*r.first, history.front().at);
  EXPECT_EQ(*r.last, history.back().at);
  int64_t load_total = 0;
  for (const ReplayReport::LoadRow& row : r.load) {
    load_total += row.after;
    if (row.owner == "team:dach") {
      EXPECT_EQ(row.after, dach->after);
    }
  }
  EXPECT_EQ(load_total, 3000);
}

TEST(ReplayTest, RecordedDecisionsCompareAsTheSecondRulesetDoes) {
  const std::vector<HistoryLead> history = History();
  auto before = Compile(kRules);
  Replayer replayer(Compile(Dach()), nullptr);
  for (const HistoryLead& h : history) {
    const RecordedDecision recorded = Record(DecideAt(*before, h));
    std::vector<ReplayAttribute> attributes = Attributes(h.lead);
    replayer.Add(h.id, h.at, attributes, &recorded);
  }
  const ReplayReport logged = replayer.Report();
  const ReplayReport against = ReplayAgainst(Dach(), kRules, history);
  EXPECT_EQ(logged.leads, against.leads);
  EXPECT_EQ(logged.changed, against.changed);
  ASSERT_EQ(logged.transitions.size(), 1u);
  EXPECT_EQ(logged.transitions[0].leads, against.transitions[0].leads);
  // The recorded side has the rule and where it was, without conditions.
  EXPECT_EQ(logged.transitions[0].examples[0].before.why[0],
            "assign/emea_leads (r.route:20)");
  for (const ReplayReport::RuleRow& row : against.rules) {
    const ReplayReport::RuleRow* same = Row(logged, row.rule);
    ASSERT_NE(same, nullptr) << row.rule;
    EXPECT_EQ(same->before, row.before) << row.rule;
    EXPECT_EQ(same->after, row.after) << row.rule;
  }
}

TEST(ReplayTest, AnSlaChangeCountsOnlyTheSla) {
  const std::vector<HistoryLead> history = History();
  int64_t web = 0;
  for (const HistoryLead& h : history) {
    web += std::get<std::string>(h.lead.attributes.at("source")) == "web";
  }
  const ReplayReport r = ReplayAgainst(
      Edit("source == web then 1h", "source == web then 2h"), kRules, history);
  EXPECT_EQ(Owner(r, ReplayOutput::kSla), web);
  EXPECT_EQ(Owner(r, ReplayOutput::kOwner), 0);
  EXPECT_EQ(r.changed_any, web);
  EXPECT_TRUE(r.transitions.empty());
}

TEST(ReplayTest, LeadsLeftWithoutAnOwnerOrAStageAreFound) {
  const std::vector<HistoryLead> history = History();
  auto before = Compile(kRules);
  int64_t otherwise = 0;  // leads only the assign stage's otherwise took
  for (const HistoryLead& h : history) {
    const Decision d = DecideAt(*before, h);
    for (const RuleRef& ref : d.decided_by) {
      otherwise += ref.stage == "assign" && ref.rule == "otherwise";
    }
  }
  ASSERT_GT(otherwise, 100);
  // No assign otherwise, and no priority otherwise.
  const std::string after = Edit(
      "  otherwise queue triage\n}", "}",
      Edit("  rule big when employees >= 1000 then high\n  otherwise normal",
           "  rule big when employees >= 1000 then high"));
  const ReplayReport r = ReplayAgainst(after, kRules, history);
  EXPECT_EQ(r.became_unassigned, otherwise);
  EXPECT_EQ(r.fell_through[static_cast<int>(StageId::kAssign)], otherwise);
  const ReplayReport::RuleRow* big = Row(r, "priority/big");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(r.fell_through[static_cast<int>(StageId::kPriority)],
            3000 - big->after);
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_EQ(r.transitions[0].from, "queue:triage");
  EXPECT_EQ(r.transitions[0].to, "none");
  const ReplayReport::RuleRow* gone = Row(r, "assign/otherwise");
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->before, otherwise);
  EXPECT_EQ(gone->after, 0);
}

TEST(ReplayTest, LeadsTheCandidatesSchemaRejectsAreCountedNotCompared) {
  const std::vector<HistoryLead> history = History();
  const ReplayReport r =
      ReplayAgainst(Edit("  last_visit: time\n",
                         "  last_visit: time\n  industry: string required\n"),
                    kRules, history);
  EXPECT_EQ(r.leads, 0);
  EXPECT_EQ(r.rejected_after, 3000);
  EXPECT_EQ(r.rejected_before, 0);
  ASSERT_EQ(r.rejections_after.size(), 5u);
  EXPECT_EQ(r.rejections_after[0].lead_id, "L-0");
  EXPECT_NE(r.rejections_after[0].message.find("industry"), std::string::npos)
      << r.rejections_after[0].message;
}

TEST(ReplayTest, MaskedAttributesTheCandidateReadsAreReported) {
  std::vector<HistoryLead> history = History();
  history.resize(100);
  for (HistoryLead& h : history) h.lead.attributes.erase("email");
  // The rules before never read email: masking it changed nothing then.
  const ReplayReport unread = ReplayAgainst(kRules, kRules, history, {"email"});
  EXPECT_TRUE(unread.masked.empty());
  const ReplayReport read = ReplayAgainst(
      Edit("  rule partners when source == partner",
           "  rule free_mail when domain(email) == \"gmail.com\" then queue "
           "triage\n  rule partners when source == partner"),
      kRules, history, {"email"});
  ASSERT_EQ(read.masked.size(), 1u);
  EXPECT_EQ(read.masked[0].attribute, "email");
  EXPECT_EQ(read.masked[0].missing, 100);
  EXPECT_EQ(read.masked[0].hashed, 0);
  EXPECT_NE(read.masked[0].why.find("\"***\""), std::string::npos)
      << read.masked[0].why;
}

// A masked email the candidate's schema requires: history's "***" is no
// reason to reject every lead. Each is decided on "***" (which no rule
// names, so no lead moves), and the report counts the email as missing and
// says it was required.
TEST(ReplayTest, ARequiredMaskedAttributeIsDecidedNotRejected) {
  std::vector<HistoryLead> history = History();
  history.resize(100);
  for (HistoryLead& h : history) h.lead.attributes.erase("email");
  const std::string required =
      Edit("  email: string pii\n", "  email: string required pii\n");
  const ReplayReport unread =
      ReplayAgainst(required, kRules, history, {"email"});
  EXPECT_EQ(unread.rejected_after, 0);
  EXPECT_EQ(unread.leads, 100);
  EXPECT_EQ(unread.changed_any, 0);
  EXPECT_TRUE(unread.masked.empty());  // the rules do not read it

  const ReplayReport read = ReplayAgainst(
      Edit("  rule partners when source == partner",
           "  rule free_mail when domain(email) == \"gmail.com\" then queue "
           "partners\n  rule partners when source == partner",
           required),
      kRules, history, {"email"});
  EXPECT_EQ(read.rejected_after, 0);
  EXPECT_EQ(read.leads, 100);
  EXPECT_EQ(read.changed_any, 0);
  ASSERT_EQ(read.masked.size(), 1u);
  EXPECT_EQ(read.masked[0].missing, 100);
  EXPECT_NE(read.masked[0].why.find("required, so decided as \"***\""),
            std::string::npos)
      << read.masked[0].why;

  // An email that is there is decided on as ever: the required stand-in
  // is for masked ones only.
  std::vector<HistoryLead> plain = History();
  plain.resize(100);
  const ReplayReport present = ReplayAgainst(required, kRules, plain);
  EXPECT_EQ(present.leads, 100);
  EXPECT_TRUE(present.masked.empty());
}

// Account-based routing on a masked email: by its domain in a table that
// ignores case, by the email itself in a list, and a team member test on a
// masked language.
constexpr const char* kAccounts = R"(ruleset "accounts" version "1"
schema {
  email: string pii
  language: string pii
  country: string required
}
rep ann { languages = ["de", "en"] }
rep cyd { languages = ["en"] }
rep dan { languages = ["fr", "en"] }
team emea { members = [ann, cyd, dan] }
queue triage
table account_owner: string -> rep ignoring case {
  "acme.com": ann  "Globex.com": cyd  "initech.com": dan
}
assign {
  allow overlap "named people first"
  rule boss when email in ["Boss@Initech.com", "ceo@acme.com"] then rep dan
  rule account when domain(email) in account_owner
    then account_owner(domain(email)) else queue triage
  rule speaks when country == "CH" then team emea where languages contains language
    else queue triage
  rule no_domain when not has email or domain(email) not in account_owner
    then queue triage
}
)";

std::vector<HistoryLead> AccountHistory() {
  const char* emails[] = {
      "p@acme.com",   "Q@ACME.com",       "ceo@acme.com",     "CEO@acme.com",
      "x@globex.com", "Boss@Initech.com", "boss@initech.com", "who@other.org",
      "no-at-sign",   "trailing@",        "a@b@Globex.COM"};
  const char* languages[] = {"de", "FR", "it", "En"};
  std::vector<HistoryLead> out;
  const absl::Time start = absl::FromUnixSeconds(1761955200);
  int i = 0;
  for (const char* email : emails) {
    for (const char* language : languages) {
      for (const char* country : {"CH", "US"}) {
        HistoryLead h;
        h.id = absl::StrCat("A-", i);
        h.at = start + absl::Minutes(i++);
        h.lead.id = h.id;
        h.lead.attributes["email"] = std::string(email);
        h.lead.attributes["language"] = std::string(language);
        h.lead.attributes["country"] = std::string(country);
        out.push_back(std::move(h));
      }
    }
  }
  return out;
}

// Replays `history`, reps chosen, as a decision log keeps it: email and
// language as keyed hashes under `logged` (the server's key; null: as
// they are), decided with `given` (replay's key; null: none).
ReplayReport ReplayHashed(const std::string& after, const std::string& before,
                          const std::vector<HistoryLead>& history,
                          const KeyedHash* logged,
                          std::shared_ptr<const KeyedHash> given) {
  ReplayOptions options;
  options.key = std::move(given);
  options.simulate_reps = true;
  Replayer replayer(Compile(after), Compile(before), options);
  for (const HistoryLead& h : history) {
    std::vector<ReplayAttribute> attributes;
    std::vector<HashedAttribute> hashed;
    for (const auto& [name, value] : h.lead.attributes) {
      if (logged != nullptr && (name == "email" || name == "language")) {
        hashed.push_back(
            {name, HashMasked(*logged, std::get<std::string>(value))});
      } else {
        attributes.emplace_back(name, value);
      }
    }
    replayer.Add(h.id, h.at, attributes, nullptr, {}, hashed);
  }
  return replayer.Report();
}

std::shared_ptr<const KeyedHash> Key(char fill) {
  return std::make_shared<const KeyedHash>(
      *KeyedHash::FromKey(std::string(32, fill)));
}

// Every owner change, as "from -> to: leads".
std::vector<std::string> Moves(const ReplayReport& r) {
  std::vector<std::string> out;
  for (const ReplayReport::Transition& t : r.transitions) {
    out.push_back(absl::StrCat(t.from, " -> ", t.to, ": ", t.leads));
  }
  return out;
}

TEST(ReplayTest, MaskedAttributesAreDecidedFromTheirKeyedHashes) {
  const std::vector<HistoryLead> history = AccountHistory();
  // Globex moves to ann, the CEO rule loses acme's CEO, and the Swiss
  // team needs French now: every kind of test on the masked values.
  const std::string candidate = absl::StrReplaceAll(
      kAccounts, {{"\"Globex.com\": cyd", "\"Globex.com\": ann"},
                  {", \"ceo@acme.com\"]", "]"},
                  {"where languages contains language",
                   "where languages contains \"fr\""}});
  ASSERT_NE(candidate, kAccounts);
  const std::shared_ptr<const KeyedHash> key = Key('k');
  // The truth: the same history replayed with the values themselves.
  const ReplayReport plain =
      ReplayHashed(candidate, kAccounts, history, nullptr, key);
  ASSERT_GT(plain.changed[0], 10);
  ASSERT_EQ(plain.leads, static_cast<int64_t>(history.size()));

  const ReplayReport hashed =
      ReplayHashed(candidate, kAccounts, history, key.get(), key);
  EXPECT_EQ(hashed.leads, plain.leads);
  EXPECT_EQ(hashed.changed, plain.changed);
  EXPECT_EQ(Moves(hashed), Moves(plain));
  ASSERT_EQ(hashed.load.size(), plain.load.size());
  for (size_t i = 0; i < plain.load.size(); ++i) {
    EXPECT_EQ(hashed.load[i].owner, plain.load[i].owner);
    EXPECT_EQ(hashed.load[i].before, plain.load[i].before);
    EXPECT_EQ(hashed.load[i].after, plain.load[i].after);
  }
  // Reps chosen by `where languages contains …` on the masked language.
  ASSERT_EQ(hashed.rep_load.size(), plain.rep_load.size());
  for (size_t i = 0; i < plain.rep_load.size(); ++i) {
    EXPECT_EQ(hashed.rep_load[i].owner, plain.rep_load[i].owner);
    EXPECT_EQ(hashed.rep_load[i].before, plain.rep_load[i].before);
    EXPECT_EQ(hashed.rep_load[i].after, plain.rep_load[i].after);
  }
  for (const ReplayReport::RuleRow& row : plain.rules) {
    const ReplayReport::RuleRow* other = Row(hashed, row.rule);
    ASSERT_NE(other, nullptr) << row.rule;
    EXPECT_EQ(other->before, row.before) << row.rule;
    EXPECT_EQ(other->after, row.after) << row.rule;
  }
  // The candidate no longer reads the language (only the baseline's reps
  // were chosen by it): only the email is reported.
  ASSERT_EQ(hashed.masked.size(), 1u);
  EXPECT_EQ(hashed.masked[0].attribute, "email");
  EXPECT_EQ(hashed.masked[0].hashed, plain.leads);
  EXPECT_EQ(hashed.masked[0].missing, 0) << hashed.masked[0].why;
}

TEST(ReplayTest, KeyedHashesATestCannotAnswerAreDecidedAsMissing) {
  const std::vector<HistoryLead> history = AccountHistory();
  const std::shared_ptr<const KeyedHash> key = Key('k');
  // Text tests need the text: only emails the rules name are known.
  const std::string suffix = absl::StrReplaceAll(
      kAccounts, {{"rule boss when email in",
                   "rule org when email ends_with \".org\" then queue "
                   "triage\n  rule boss when email in"}});
  const ReplayReport r =
      ReplayHashed(suffix, kAccounts, history, key.get(), key);
  const ReplayReport::MaskedRow* email = nullptr;
  for (const ReplayReport::MaskedRow& m : r.masked) {
    if (m.attribute == "email") email = &m;
  }
  ASSERT_NE(email, nullptr);
  // Named exactly: the list's two and the lower case of Boss@Initech.com,
  // 8 leads each.
  EXPECT_EQ(email->hashed, 24);
  EXPECT_EQ(email->missing, r.leads - 24);
  EXPECT_NE(email->why.find("email ends_with \".org\""), std::string::npos)
      << email->why;

  // No key, or another one: nothing is decided from the hashes, and the
  // report says why.
  const ReplayReport none =
      ReplayHashed(kAccounts, kAccounts, history, key.get(), nullptr);
  const ReplayReport other =
      ReplayHashed(kAccounts, kAccounts, history, key.get(), Key('o'));
  for (const ReplayReport* x : {&none, &other}) {
    ASSERT_EQ(x->masked.size(), 2u);
    EXPECT_EQ(x->masked[0].hashed, 0);
    EXPECT_EQ(x->masked[0].missing, x->leads);
  }
  EXPECT_NE(none.masked[0].why.find("no --decision-log-key"), std::string::npos)
      << none.masked[0].why;
  EXPECT_NE(other.masked[0].why.find(Key('o')->id()), std::string::npos)
      << other.masked[0].why;
}

TEST(ReplayTest, EachLeadIsDecidedAtItsOwnTime) {
  // Every lead's last visit is an hour before it came in: `within 48h`
  // holds at the lead's own time, never at today's.
  const std::vector<HistoryLead> history = History();
  const ReplayReport r =
      ReplayAgainst(Edit("  rule big when employees >= 1000 then high",
                         "  rule hot when last_visit within 48h then high\n"
                         "  rule big when employees >= 1000 then high"),
                    kRules, history);
  const ReplayReport::RuleRow* hot = Row(r, "priority/hot");
  ASSERT_NE(hot, nullptr);
  EXPECT_EQ(hot->after, 3000);
  const ReplayReport::RuleRow* big = Row(r, "priority/big");
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(Owner(r, ReplayOutput::kPriority), 3000 - big->before);
}

// The predicted load per rep: each side's rep chosen as the server would
// at each lead's time. A lead every 20 minutes for two days, to a team of
// two round-robin reps in Berlin's office hours (capacity 20, each lead
// held an hour) else the night queue: within hours they share the leads
// one for one, outside them nobody has one; a second team of one rep
// (capacity 2) passes the third lead of each hour on to its fallback.
TEST(ReplayTest, RepLoadIsPredictedAsTheServerWouldChoose) {
  constexpr const char* kTeams = R"(
ruleset "reps" version "1"
schema { region: string required }
rep ada { timezone = "Europe/Berlin" hours = mon-fri 09:00-17:00 capacity = 20 }
rep bo { timezone = "Europe/Berlin" hours = mon-fri 09:00-17:00 capacity = 20 }
rep cy { capacity = 2 }
rep dee { }
team day { members = [ada, bo] strategy = round_robin }
team small { members = [cy] }
team spare { members = [dee] }
queue night
assign {
  rule eu when region == "eu" then team day else queue night
  rule us when region == "us" then team small else team spare
  otherwise queue night
}
)";
  const std::string before = absl::StrReplaceAll(
      kTeams, {{"then team day else queue night", "then queue night"}});
  ReplayOptions options;
  options.simulate_reps = true;
  options.lead_hold = absl::Hours(1);
  Replayer replayer(Compile(kTeams), Compile(before), options);
  // Monday 2026-11-23 00:00 UTC, for 48 hours.
  const absl::Time start = absl::FromUnixSeconds(1795392000);
  int in_hours = 0;
  for (int i = 0; i < 48 * 3; ++i) {
    const absl::Time at = start + absl::Minutes(20) * i;
    const absl::CivilHour local =
        absl::ToCivilHour(at, absl::FixedTimeZone(3600));
    if (local.hour() >= 9 && local.hour() < 17) ++in_hours;
    for (const char* region : {"eu", "us"}) {
      std::vector<ReplayAttribute> attributes = {
          {"region", Value(std::string(region))}};
      replayer.Add(absl::StrCat(region, i), at, attributes, nullptr);
    }
  }
  const ReplayReport r = replayer.Report(/*examples=*/false);
  ASSERT_TRUE(r.reps_simulated);
  std::map<std::string, std::pair<int64_t, int64_t>> load;
  for (const ReplayReport::LoadRow& row : r.rep_load) {
    load[row.owner] = {row.before, row.after};
  }
  ASSERT_EQ(in_hours, 48);  // 8 hours a day, 3 leads an hour, 2 days
  EXPECT_EQ(load["ada"], std::make_pair(int64_t{0}, int64_t{24}));
  EXPECT_EQ(load["bo"], std::make_pair(int64_t{0}, int64_t{24}));
  // cy holds two leads at a time, each for an hour: the third of every
  // hour goes to dee, under both rulesets.
  EXPECT_EQ(load["cy"], std::make_pair(int64_t{96}, int64_t{96}));
  EXPECT_EQ(load["dee"], std::make_pair(int64_t{48}, int64_t{48}));
  EXPECT_EQ(load["(no rep)"], std::make_pair(int64_t{144}, int64_t{96}));
}

}  // namespace
}  // namespace leadroute::runtime
