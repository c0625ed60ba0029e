// KpiBuilder over hand-built assignments: every KPI's definition (kpi.h),
// the window, groups without a key, and rule groups overlapping.
#include "runtime/kpi.h"

#include "gtest/gtest.h"

namespace leadroute::runtime {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1795000000);

// A lead routed `minutes` after kT0 to `owner` (a rep unless `kind` says
// otherwise).
Assignment Lead(const std::string& id, int minutes, const std::string& owner,
                const std::string& team = "t",
                OwnerKind kind = OwnerKind::kRep) {
  Assignment a;
  a.lead_id = id;
  a.owner = owner;
  a.owner_kind = kind;
  a.team = team;
  a.routed_at = kT0 + absl::Minutes(minutes);
  a.decided_at = a.routed_at;
  a.ruleset = "acme 1";
  return a;
}

void Contact(Assignment& a, absl::Duration after, SlaStatus sla) {
  a.reached[static_cast<int>(Outcome::kContacted)] = a.routed_at + after;
  a.sla_status = sla;
}

TEST(KpiTest, TotalsFollowTheDefinitions) {
  KpiBuilder b(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1));
  // Ten leads contacted after 1..10 minutes: avg 5.5 min, p90 9 min.
  for (int i = 1; i <= 10; ++i) {
    Assignment a = Lead(absl::StrCat("L", i), i, i <= 6 ? "ann" : "bob");
    Contact(a, absl::Minutes(i), i <= 7 ? SlaStatus::kMet : SlaStatus::kMissed);
    if (i <= 4) a.reached[static_cast<int>(Outcome::kQualified)] = kT0;
    if (i == 1) a.reached[static_cast<int>(Outcome::kOpportunity)] = kT0;
    if (i == 2) a.reached[static_cast<int>(Outcome::kWon)] = kT0;
    if (i == 9) a.reached[static_cast<int>(Outcome::kLost)] = kT0;
    b.Add(a);
  }
  Assignment queued = Lead("Q", 30, "triage", "", OwnerKind::kQueue);
  queued.sla_status = SlaStatus::kPending;
  queued.choice = 1;  // `team t else queue triage`: a fallback
  b.Add(queued);
  Assignment nobody = Lead("U", 31, "", "", OwnerKind::kNone);
  nobody.status = LeadStatus::kUnassigned;
  nobody.choice = -1;  // no choice took it: unassigned, not a fallback
  b.Add(nobody);
  b.Add(Lead("late", 60, "ann"));   // routed at `to`: outside
  b.Add(Lead("early", -1, "ann"));  // before `from`: outside

  const KpiReport r = b.Finish();
  EXPECT_TRUE(r.rows.empty());
  const KpiRow& t = r.total;
  EXPECT_EQ(t.routed, 12);
  EXPECT_EQ(t.to_rep, 10);
  EXPECT_EQ(t.queued, 1);
  EXPECT_EQ(t.unassigned, 1);
  EXPECT_EQ(t.fallback, 1);
  EXPECT_EQ(t.contacted, 10);
  EXPECT_EQ(t.avg_first_response, absl::Seconds(330));
  EXPECT_EQ(t.p90_first_response, absl::Minutes(9));
  EXPECT_EQ(t.sla_met, 7);
  EXPECT_EQ(t.sla_missed, 3);
  EXPECT_EQ(t.sla_pending, 1);
  EXPECT_DOUBLE_EQ(*t.sla_met_rate, 0.7);
  // SQL: 1..4 qualified (1 with an opportunity, 2 won) = 4 of 12.
  EXPECT_EQ(t.sql, 4);
  EXPECT_EQ(t.opportunities, 2);
  EXPECT_EQ(t.won, 1);
  EXPECT_EQ(t.lost, 1);
  EXPECT_DOUBLE_EQ(*t.lead_to_sql, 4.0 / 12);
  EXPECT_DOUBLE_EQ(*t.sql_to_opportunity, 0.5);
  EXPECT_DOUBLE_EQ(t.share, 1.0);
  // ann 6, bob 4: (10)^2 / (2 * (36 + 16)).
  EXPECT_EQ(t.reps, 2);
  EXPECT_DOUBLE_EQ(*t.fairness, 100.0 / 104);
}

TEST(KpiTest, AWonLeadCountsAsSqlAndOpportunityWithoutEarlierStages) {
  KpiBuilder b(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1));
  Assignment a = Lead("W", 1, "ann");
  a.reached[static_cast<int>(Outcome::kWon)] = kT0 + absl::Minutes(5);
  b.Add(a);
  const KpiRow t = b.Finish().total;
  EXPECT_EQ(t.sql, 1);
  EXPECT_EQ(t.opportunities, 1);
  EXPECT_DOUBLE_EQ(*t.sql_to_opportunity, 1.0);
}

TEST(KpiTest, EmptyGroupsLeaveRatesUnset) {
  KpiBuilder b(KpiDimension::kTeam, kT0, kT0 + absl::Hours(1));
  b.Add(Lead("L1", 1, "triage", "", OwnerKind::kQueue));
  const KpiReport r = b.Finish();
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].key, kNoKey);
  EXPECT_FALSE(r.rows[0].avg_first_response.has_value());
  EXPECT_FALSE(r.rows[0].sla_met_rate.has_value());
  EXPECT_FALSE(r.rows[0].sql_to_opportunity.has_value());
  EXPECT_FALSE(r.rows[0].fairness.has_value());
  EXPECT_DOUBLE_EQ(*r.rows[0].lead_to_sql, 0.0);
}

TEST(KpiTest, RowsOnlyGivesTheSameRowsAndOnlyTheTotalsCount) {
  KpiOptions rows_only;
  rows_only.rows_only = true;
  KpiBuilder full(KpiDimension::kTeam, kT0, kT0 + absl::Hours(1));
  KpiBuilder rows(KpiDimension::kTeam, kT0, kT0 + absl::Hours(1), rows_only);
  for (int i = 1; i <= 9; ++i) {
    Assignment a = Lead(absl::StrCat("L", i), i, i % 3 ? "ann" : "bob",
                        i % 2 ? "na" : "emea");
    Contact(a, absl::Minutes(10 - i), SlaStatus::kMet);
    full.Add(a);
    rows.Add(a);
  }
  const KpiReport f = full.Finish(), r = rows.Finish();
  ASSERT_EQ(r.rows.size(), f.rows.size());
  for (size_t i = 0; i < r.rows.size(); ++i) {
    EXPECT_EQ(r.rows[i].key, f.rows[i].key);
    EXPECT_EQ(r.rows[i].routed, f.rows[i].routed);
    EXPECT_EQ(r.rows[i].p50_first_response, f.rows[i].p50_first_response);
    EXPECT_EQ(r.rows[i].p90_first_response, f.rows[i].p90_first_response);
    EXPECT_DOUBLE_EQ(r.rows[i].share, f.rows[i].share);
    EXPECT_EQ(r.rows[i].fairness, f.rows[i].fairness);
  }
  EXPECT_EQ(r.total.routed, 9);
  EXPECT_EQ(r.total.contacted, 0);
  EXPECT_EQ(f.total.contacted, 9);
  // Finish selects percentiles in place: a second call says the same.
  EXPECT_EQ(full.Finish().total.p90_first_response, f.total.p90_first_response);
  EXPECT_EQ(f.total.p50_first_response, absl::Minutes(5));
  EXPECT_EQ(f.total.p90_first_response, absl::Minutes(9));

  // Without percentiles: the same counts and average, no median or p90.
  KpiOptions counts;
  counts.percentiles = false;
  KpiBuilder c(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1), counts);
  for (int i = 1; i <= 9; ++i) {
    Assignment a = Lead(absl::StrCat("L", i), i, "ann");
    Contact(a, absl::Minutes(10 - i), SlaStatus::kMet);
    c.Add(a);
  }
  const KpiRow without = c.Finish().total;
  EXPECT_EQ(without.contacted, 9);
  EXPECT_EQ(without.avg_first_response, f.total.avg_first_response);
  EXPECT_FALSE(without.p50_first_response.has_value());
  EXPECT_FALSE(without.p90_first_response.has_value());
}

TEST(KpiTest, GroupsByTeamRepSourceRulesetAndRule) {
  auto build = [](KpiDimension by) {
    KpiBuilder b(by, kT0, kT0 + absl::Hours(1));
    Assignment a = Lead("L1", 1, "ann", "na");
    a.source = "demo_request";
    a.rules = "assign/na;sla/hot";
    b.Add(a);
    Assignment c = Lead("L2", 2, "bob", "na");
    c.rules = "assign/na";
    c.ruleset = "acme 2";
    b.Add(c);
    Assignment d = Lead("L3", 3, "ann", "na");
    d.source = "ebook";
    d.rules = "assign/na";
    b.Add(d);
    b.Add(Lead("L4", 4, "emea", "", OwnerKind::kTeam));
    return b.Finish();
  };
  auto keys = [](const KpiReport& r) {
    std::vector<std::pair<std::string, int64_t>> out;
    for (const KpiRow& row : r.rows) out.emplace_back(row.key, row.routed);
    return out;
  };
  using Rows = std::vector<std::pair<std::string, int64_t>>;
  const KpiReport team = build(KpiDimension::kTeam);
  EXPECT_EQ(keys(team), (Rows{{"emea", 1}, {"na", 3}}));
  // na: ann 2, bob 1 -> 9 / (2 * 5).
  EXPECT_DOUBLE_EQ(*team.rows[1].fairness, 0.9);
  EXPECT_DOUBLE_EQ(team.rows[1].share, 0.75);
  const KpiReport rep = build(KpiDimension::kRep);
  EXPECT_EQ(keys(rep), (Rows{{"(none)", 1}, {"ann", 2}, {"bob", 1}}));
  EXPECT_FALSE(rep.rows[1].fairness.has_value());
  EXPECT_EQ(keys(build(KpiDimension::kSource)),
            (Rows{{"(none)", 2}, {"demo_request", 1}, {"ebook", 1}}));
  EXPECT_EQ(keys(build(KpiDimension::kRuleset)),
            (Rows{{"acme 1", 3}, {"acme 2", 1}}));
  // A lead counts under each of its rules.
  EXPECT_EQ(keys(build(KpiDimension::kRule)),
            (Rows{{"(none)", 1}, {"assign/na", 3}, {"sla/hot", 1}}));
}

TEST(KpiTest, RepRowsCreditEachRepWithWhatTheyDid) {
  KpiBuilder b(KpiDimension::kRep, kT0, kT0 + absl::Hours(1));
  // ann missed L1's deadline; it was escalated to bob, who contacted it
  // within his own deadline and qualified it.
  Assignment l1 = Lead("L1", 0, "bob");
  l1.had_by = {"ann"};
  l1.missed_by = {"ann"};
  Contact(l1, absl::Minutes(70), SlaStatus::kMissed);
  l1.contacted_by = "bob";
  l1.clock_status = SlaStatus::kMet;
  l1.reached[static_cast<int>(Outcome::kQualified)] = kT0 + absl::Hours(2);
  b.Add(l1);
  // ann's clock on L2 still runs.
  Assignment l2 = Lead("L2", 1, "ann");
  l2.sla_status = l2.clock_status = SlaStatus::kPending;
  b.Add(l2);
  // bob contacted L3 after his deadline.
  Assignment l3 = Lead("L3", 2, "bob");
  Contact(l3, absl::Minutes(90), SlaStatus::kMissed);
  l3.contacted_by = "bob";
  l3.clock_status = SlaStatus::kMissed;
  l3.missed_by = {"bob"};
  b.Add(l3);
  const KpiReport r = b.Finish();
  ASSERT_EQ(r.rows.size(), 2u);
  const KpiRow& ann = r.rows[0];
  EXPECT_EQ(ann.key, "ann");
  EXPECT_EQ(ann.routed, 2);
  EXPECT_EQ(ann.contacted, 0);
  EXPECT_EQ(ann.sla_met, 0);
  EXPECT_EQ(ann.sla_missed, 1);
  EXPECT_EQ(ann.sla_pending, 1);
  EXPECT_EQ(ann.reassigned_to, 0);
  EXPECT_EQ(ann.reassigned_away, 1);
  EXPECT_EQ(ann.sql, 0);
  const KpiRow& bob = r.rows[1];
  EXPECT_EQ(bob.key, "bob");
  EXPECT_EQ(bob.routed, 2);
  EXPECT_EQ(bob.contacted, 2);
  EXPECT_EQ(*bob.avg_first_response, absl::Minutes(80));
  EXPECT_EQ(bob.sla_met, 1);
  EXPECT_EQ(bob.sla_missed, 1);
  EXPECT_DOUBLE_EQ(*bob.sla_met_rate, 0.5);
  EXPECT_EQ(bob.reassigned_to, 1);
  EXPECT_EQ(bob.reassigned_away, 0);
  EXPECT_EQ(bob.sql, 1);
  // The total is the leads': L1 and L3 missed the SLA of their routing.
  EXPECT_EQ(r.total.routed, 3);
  EXPECT_EQ(r.total.sla_missed, 2);
  EXPECT_EQ(r.total.sla_pending, 1);
  EXPECT_EQ(r.total.reassigned_to, 1);
}

TEST(KpiTest, AContactBeforeAReroutIsNotAResponseTime) {
  KpiBuilder b(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1));
  Assignment a = Lead("L1", 10, "ann");
  a.reached[static_cast<int>(Outcome::kContacted)] = kT0;  // before routed_at
  b.Add(a);
  const KpiRow t = b.Finish().total;
  EXPECT_EQ(t.contacted, 1);
  EXPECT_FALSE(t.avg_first_response.has_value());
}

TEST(KpiTest, TheMedianIsTheNearestRank) {
  KpiBuilder b(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1));
  // Responses of 1, 2, 3 and 10 minutes: the median is the 2nd (nearest
  // rank, ceil(n/2)), not an average of two.
  for (int m : {10, 1, 3, 2}) {
    Assignment a = Lead(absl::StrCat("L", m), m, "ann");
    Contact(a, absl::Minutes(m), SlaStatus::kMet);
    b.Add(a);
  }
  KpiRow t = b.Finish().total;
  EXPECT_EQ(t.p50_first_response, absl::Minutes(2));
  EXPECT_EQ(t.p90_first_response, absl::Minutes(10));
  KpiBuilder one(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1));
  Assignment a = Lead("only", 0, "ann");
  Contact(a, absl::Seconds(42), SlaStatus::kMet);
  one.Add(a);
  EXPECT_EQ(one.Finish().total.p50_first_response, absl::Seconds(42));
}

TEST(KpiTest, AFilterKeepsOnlyMatchingLeadsInEveryRow) {
  KpiOptions options;
  options.filter.team = "t";
  options.filter.source = "web";
  KpiBuilder b(KpiDimension::kRep, kT0, kT0 + absl::Hours(1), options);
  Assignment web = Lead("web", 1, "ann");
  web.source = "web";
  Assignment other_team = Lead("other", 2, "bob", "u");
  other_team.source = "web";
  Assignment event = Lead("event", 3, "bob");
  event.source = "event";
  for (const Assignment& a : {web, other_team, event}) b.Add(a);
  const KpiReport r = b.Finish();
  EXPECT_EQ(r.total.routed, 1);
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0].key, "ann");
  // "(none)" matches leads without a value, as the rows name them.
  KpiOptions none;
  none.filter.source = kNoKey;
  KpiBuilder n(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1), none);
  for (const Assignment& a : {web, Lead("plain", 4, "ann")}) n.Add(a);
  EXPECT_EQ(n.Finish().total.routed, 1);
  none.filter = {.ruleset = "acme 2"};
  KpiBuilder v2(KpiDimension::kTotal, kT0, kT0 + absl::Hours(1), none);
  v2.Add(web);
  EXPECT_EQ(v2.Finish().total.routed, 0);
}

TEST(KpiTest, HoursAndDaysAreLocalToTheReportsTimeZone) {
  absl::TimeZone paris;
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Paris", &paris));
  // 2026-10-25: Paris falls back from 03:00 CEST to 02:00 CET, so its
  // 02:00 hour happens twice; both count under the one key.
  const absl::Time first_two = absl::FromCivil(
      absl::CivilSecond(2026, 10, 25, 0, 30, 0), absl::UTCTimeZone());
  KpiOptions options;
  options.tz = paris;
  KpiBuilder hours(KpiDimension::kHour, first_two - absl::Hours(4),
                   first_two + absl::Hours(4), options);
  KpiBuilder days(KpiDimension::kDay, first_two - absl::Hours(4),
                  first_two + absl::Hours(4), options);
  int i = 0;
  // 00:30Z = 02:30 CEST; 01:30Z = 02:30 CET; 02:30Z = 03:30 CET; 21:30Z the
  // day before = 23:30 CEST on the 24th.
  for (absl::Time t :
       {first_two, first_two + absl::Hours(1), first_two - absl::Hours(3),
        first_two + absl::Hours(2)}) {
    Assignment a = Lead(absl::StrCat("L", ++i), 0, "ann");
    a.routed_at = t;
    hours.Add(a);
    days.Add(a);
  }
  std::vector<std::string> keys;
  for (const KpiRow& r : hours.Finish().rows) {
    keys.push_back(absl::StrCat(r.key, "=", r.routed));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"2026-10-24T23:00=1",
                                            "2026-10-25T02:00=2",
                                            "2026-10-25T03:00=1"}));
  keys.clear();
  for (const KpiRow& r : days.Finish().rows) {
    keys.push_back(absl::StrCat(r.key, "=", r.routed));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"2026-10-24=1", "2026-10-25=3"}));
}

TEST(KpiTest, DimensionsParseByName) {
  for (const char* name :
       {"total", "ruleset", "rule", "team", "rep", "source", "hour", "day"}) {
    std::optional<KpiDimension> d = ParseKpiDimension(name);
    ASSERT_TRUE(d.has_value()) << name;
    EXPECT_STREQ(KpiDimensionName(*d), name);
  }
  EXPECT_FALSE(ParseKpiDimension("owner").has_value());
}

}  // namespace
}  // namespace leadroute::runtime
