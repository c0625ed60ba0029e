#!/usr/bin/env python3
"""`leadroute check` as CI runs it: exit codes, the three output formats,
--strict, and folders with included fragments."""
import json
import os

from cli_testlib import EXAMPLES, ROOT, TempDirCase, leadroute, main

CORPUS = os.path.join(ROOT, "tests", "compiler", "corpus")

WARNING_ONLY = '''ruleset "w" version "1"
schema { country: string required }
queue q
assign {
  rule r when has country then queue q
  otherwise queue q
}
'''

SHADOWED = '''ruleset "s" version "1"
schema {
  country: string required
  industry: enum { software, finance } required
}
assign {
  rule us when country == "US" then queue us
  rule us_big when country == "US" and industry == finance then queue big
  rule software when industry == software then queue sw
}
queue us
queue big
queue sw
'''


# A first-match priority ladder: each rung overlaps the ones above it.
LADDER = '''ruleset "l" version "1"
schema {
  fit: int required
  source: enum { demo, ebook } required
}
queue q
assign { otherwise queue q }
priority {
  labels urgent > high > low
%s
  rule hot when fit >= 80 then urgent
  rule demo when source == demo then high
  otherwise low
}
'''


def check(*args, cwd=None):
    return leadroute("check", *args, cwd=cwd)


class CheckCliTest(TempDirCase):
    def test_examples_folder_is_clean(self):
        r = check(EXAMPLES)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout.strip(),
                         "checked 1 ruleset: 0 errors, 0 warnings")

    def test_errors_exit_1_with_caret_and_summary(self):
        r = check("names.route", cwd=CORPUS)
        self.assertEqual(r.returncode, 1)
        self.assertIn("names.route:15:24: error: undefined attribute `contry`\n"
                      "    rule by_country when contry == \"US\" then team sale\n"
                      "                         ^~~~~~\n"
                      "  hint: did you mean `country`?", r.stdout)
        self.assertTrue(r.stdout.endswith("checked 1 ruleset: 10 errors, "
                                          "0 warnings\n"), r.stdout)

    def test_github_format_annotates_each_error(self):
        r = check("--format=github", "names.route", cwd=CORPUS)
        self.assertEqual(r.returncode, 1)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 10)
        self.assertEqual(lines[0], "::error file=names.route,line=6,col=3::"
                                   "duplicate attribute `country`")
        self.assertTrue(all(l.startswith("::error file=") for l in lines))

    def test_json_format_is_machine_readable(self):
        r = check("--format=json", "types.route", cwd=CORPUS)
        self.assertEqual(r.returncode, 1)
        items = json.loads(r.stdout)
        first = items[0]
        self.assertEqual((first["file"], first["line"], first["column"]),
                         ("types.route", 5, 26))
        self.assertEqual(first["severity"], "error")
        warnings = [i for i in items if i["severity"] == "warning"]
        self.assertEqual(len(warnings), 1)
        self.assertEqual(warnings[0]["notes"][0]["line"], 4)

    def test_json_of_a_clean_file_is_an_empty_array(self):
        r = check("--format=json", os.path.join(EXAMPLES, "acme.route"))
        self.assertEqual(r.returncode, 0)
        self.assertEqual(json.loads(r.stdout), [])

    def test_warnings_fail_only_with_strict(self):
        path = self.write("w.route", WARNING_ONLY)
        r = check(path)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("warning: `has country` is always true", r.stdout)
        self.assertEqual(check("--strict", path).returncode, 1)

    def test_an_allowed_finding_passes_strict_and_stays_visible_on_request(self):
        plain = self.write("plain.route", LADDER % "")
        r = check("--strict", plain)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("rule `demo` overlaps `hot`", r.stdout)
        self.assertIn("[overlap]", r.stdout)
        self.assertIn('accept it with `allow overlap "why"`', r.stdout)

        # The stage accepts it, with a reason: strict CI passes.
        stage = self.write("stage.route", LADDER %
                           '  allow overlap "a priority ladder: first match wins"')
        r = check("--strict", stage)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertEqual(r.stdout, "checked 1 ruleset: 0 errors, 0 warnings "
                         "(1 more allowed by the rules; --show-allowed)\n")
        self.assertEqual(json.loads(check("--format=json", stage).stdout), [])
        shown = check("--show-allowed", "--format=json", stage)
        [item] = json.loads(shown.stdout)
        self.assertEqual(item["code"], "overlap")
        self.assertEqual(item["allowed"]["reason"],
                         "a priority ladder: first match wins")
        self.assertEqual(item["allowed"]["line"], 10)
        gh = check("--show-allowed", "--format=github", stage).stdout
        self.assertRegex(gh, r"^::notice file=[^,]*stage.route,line=12,col=8::"
                             "rule `demo` overlaps")
        self.assertIn("(allowed: a priority ladder: first match wins)", gh)

        # Or the one rule accepts it.
        rule = self.write("rule.route", (LADDER % "").replace(
            "then high\n", "then high\n    allow overlap \"demo requests "
            "outrank fit\"\n"))
        self.assertEqual(check("--strict", rule).returncode, 0)

    def test_a_stale_or_wrong_allow_is_reported(self):
        stale = self.write("stale.route", (LADDER % "").replace(
            "otherwise low", "otherwise low\n  allow never_fires \"old\""))
        r = check(stale)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("warning: `allow never_fires` accepts nothing here: no "
                      "such finding [unused_allow]", r.stdout)
        typo = self.write("typo.route", LADDER % '  allow overlaps "ladder"')
        r = check(typo)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("typo.route:10:9: error: `overlaps` is not a finding of "
                      "check", r.stdout)
        self.assertIn("hint: did you mean `overlap`?", r.stdout)
        noreason = self.write("noreason.route", LADDER % "  allow overlap")
        r = check(noreason)
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("error: expected the reason as a quoted string", r.stdout)

    def test_shadowed_rule_names_the_rule_that_takes_its_leads(self):
        path = self.write("s.route", SHADOWED)
        r = check(path)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("s.route:8:8: warning: rule `us_big` can never fire: "
                      "earlier rules take every lead it matches "
                      "[never_fires]\n", r.stdout)
        self.assertIn("s.route:7:8: note: `us` takes some of them", r.stdout)
        self.assertEqual(check("--strict", path).returncode, 1)

    def test_overlap_and_fall_through_come_with_an_example_lead(self):
        path = self.write("s.route", SHADOWED)
        r = check(path)
        self.assertIn("s.route:9:8: warning: rule `software` overlaps `us` "
                      "with a different outcome, and order decides: `us` "
                      "takes leads like country = \"US\", industry = software",
                      r.stdout)
        self.assertIn("s.route:6:1: warning: some leads match no rule of the "
                      "assign stage, e.g. country = \"other\", industry = "
                      "finance", r.stdout)
        self.assertIn("such leads get no owner", r.stdout)

    def test_stats_give_tree_size_and_worst_case_tests_per_stage(self):
        r = check("--stats", os.path.join(EXAMPLES, "acme.route"))
        self.assertEqual(r.returncode, 0, r.stdout)
        lines = r.stdout.splitlines()
        header = next(l for l in lines if "max tests" in l)
        self.assertEqual(header.split(), ["stage", "rules", "nodes", "leaves",
                                          "max", "tests", "rules/leaf"])
        rows = {l.split()[0]: l.split()[1:] for l in lines
                if l.split() and l.split()[0] in
                ("score", "assign", "priority", "sla", "channel")}
        self.assertEqual(set(rows), {"score", "assign", "priority", "sla",
                                     "channel"})
        self.assertEqual(rows["assign"][0], "9")  # rules
        self.assertEqual(rows["sla"][0], "4")
        for row in rows.values():
            nodes, leaves, tests = int(row[1]), int(row[2]), int(row[3])
            self.assertGreaterEqual(nodes, leaves)
            self.assertGreaterEqual(leaves, 1)
            self.assertGreaterEqual(tests, 1)

    def test_dump_trees_shows_branches_and_leaves(self):
        path = self.write("s.route", SHADOWED)
        r = check("--dump-trees", path)
        self.assertIn("  assign:\n*n0: country: ", r.stdout)
        self.assertIn("leaf | us\n", r.stdout)

    def test_fragment_included_by_a_root_is_not_checked_alone(self):
        self.write("teams.route", "queue q\n")
        self.write("main.route", 'ruleset "m" version "1"\n'
                                 'include "teams.route"\n'
                                 'assign { otherwise queue q }\n')
        r = check(self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("checked 1 ruleset", r.stdout)

    def test_orphan_fragment_is_reported(self):
        self.write("orphan.route", "queue q\n")
        r = check(self.tmp)
        self.assertEqual(r.returncode, 1)
        self.assertIn("orphan.route:1:1: error: missing `ruleset", r.stdout)

    def test_missing_path_is_a_usage_error(self):
        r = check("/nonexistent.route")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no such file or folder", r.stderr)

    def test_bad_format_is_a_usage_error(self):
        self.assertEqual(check("--format=xml", EXAMPLES).returncode, 2)


if __name__ == "__main__":
    main()
