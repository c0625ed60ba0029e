#!/usr/bin/env python3
"""`leadroute eval` and `leadroute test` on real rule files."""
import json
import os

import cli_testlib
from cli_testlib import EXAMPLES, TempDirCase, leadroute, main

RULES = '''ruleset "r" version "1"
schema { n: int required }
queue small
queue big
assign {
  rule large when n > 10 then queue big
  otherwise queue small
}
test "large goes to big" {
  lead { n = 50 }
  expect { owner = queue big }
}
test "wrong on purpose" {
  lead { n = 1 }
  expect { owner = queue big }
}
'''


# Follow the sun: Paris by day, New York after; tests with a given state.
SUN = '''ruleset "sun" version "1"
schema { region: string required }
rep anne { timezone = "Europe/Paris" hours = mon-fri 09:00-18:00 }
rep bea { timezone = "Europe/Paris" hours = mon-fri 09:00-18:00 }
rep nick { timezone = "America/New_York" hours = mon-fri 09:00-17:00 }
team emea { members = [anne, bea] strategy = round_robin }
team us { members = [nick] }
queue later
assign {
  rule emea when region == "emea" then team emea else team us else queue later
  otherwise queue later
}
test "by day anne takes the first emea lead" {
  at "2026-11-23T10:00:00Z"
  given { }
  lead { region = "emea" }
  expect { owner = rep anne }
}
test "after bea had the last one, anne again" {
  at "2026-11-23T10:00:00Z"
  given { team emea last bea }
  lead { region = "emea" }
  expect { owner = rep anne }
}
test "anne away: bea" {
  at "2026-11-23T10:00:00Z"
  given {
    rep anne away
  }
  lead { region = "emea" }
  expect {
    owner = rep bea
    skipped = "anne away"
  }
}
test "Paris asleep: New York takes it" {
  at "2026-11-23T19:30:00Z"
  given { }
  lead { region = "emea" }
  expect {
    owner = rep nick
    skipped = "outside working hours"
  }
}
test "nobody awake: the queue" {
  at "2026-11-24T03:00:00Z"
  given { }
  lead { region = "emea" }
  expect { owner = queue later }
}
test "without given, the team" {
  lead { region = "emea" }
  expect { owner = team emea }
}
test "wrong on purpose" {
  at "2026-11-23T10:00:00Z"
  given { rep anne ooo }
  lead { region = "emea" }
  expect {
    owner = rep anne
    skipped = "holiday"
  }
}
'''


def run(*args):
    return leadroute(*args)


class RulesCliTest(TempDirCase):
    def test_example_tests_pass_and_coverage_is_reported(self):
        r = run("test", os.path.join(EXAMPLES, "acme.route"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("PASS  existing account goes to its owner", r.stdout)
        self.assertIn("rules no test reaches", r.stdout)
        self.assertIn("assign/na_smb (acme.route:", r.stdout)
        self.assertTrue(r.stdout.endswith("0 failed\n"), r.stdout)

    def test_a_failing_test_says_what_differs_and_exits_1(self):
        r = run("test", self.write("r.route", RULES))
        self.assertEqual(r.returncode, 1)
        self.assertIn("PASS  large goes to big", r.stdout)
        self.assertIn("FAIL  wrong on purpose (r.route:13)", r.stdout)
        self.assertIn("r.route:15: owner: want queue big, got queue small",
                      r.stdout)
        self.assertIn("tests: 1 passed, 1 failed", r.stdout)

    def test_given_states_choose_the_rep_as_the_server_would(self):
        r = run("test", self.write("sun.route", SUN))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        for name in ["by day anne takes the first emea lead",
                     "after bea had the last one, anne again",
                     "anne away: bea", "Paris asleep: New York takes it",
                     "nobody awake: the queue", "without given, the team"]:
            self.assertIn("PASS  " + name + "\n", r.stdout)
        self.assertIn("FAIL  wrong on purpose", r.stdout)
        self.assertRegex(r.stdout, r"sun.route:\d+: owner: want rep anne, "
                                   r"got rep bea")
        self.assertRegex(r.stdout, r'sun.route:\d+: skipped: want holiday, '
                                   r'got "choice 1 of 3: team emea: anne '
                                   r'out of office"')
        self.assertIn("tests: 6 passed, 1 failed", r.stdout)

    def test_eval_at_a_time_applies_hours_and_with_a_store_its_state(self):
        rules = self.write("sun.route", SUN)
        lead = self.write("lead.json", '{"id": "L1", "region": "emea"}')
        r = run("eval", rules, lead)  # no time given: the rules' choice
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["owner"], "emea")
        r = run("eval", rules, lead, "--at", "2026-11-23T19:30:00Z")
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        self.assertEqual((d["owner"], d["owner_kind"], d["team"]),
                         ("nick", "OWNER_KIND_REP", "us"))
        self.assertTrue(any("outside working hours" in s
                            for s in d["skipped"]), d)

        # A store's state: a real server with a data dir sets bea away;
        # eval from that data dir passes her over, saying why.
        data = os.path.join(self.tmp, "data")
        proc, addr = cli_testlib.serve("--rules", rules, "--data-dir", data,
                                       "--watch", "0")
        try:
            r = leadroute("reps", "status", "bea", "away", "--server", addr)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            cli_testlib.stop(proc)
        r = run("eval", rules, lead, "--at", "2026-11-23T10:00:00Z")
        self.assertEqual(json.loads(r.stdout)["owner"], "anne")
        r = run("eval", rules, lead, "--at", "2026-11-23T10:00:00Z",
                "--data-dir", data)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        self.assertEqual(d["owner"], "anne")
        self.assertTrue(any("bea away" in s for s in d["skipped"]), d)
        r = run("eval", rules, lead, "--data-dir",
                os.path.join(self.tmp, "missing"))
        self.assertEqual(r.returncode, 2)

    def test_eval_prints_the_decision(self):
        r = run("eval", os.path.join(EXAMPLES, "acme.route"),
                os.path.join(EXAMPLES, "leads", "demo_request.json"),
                "--at", "2026-11-23T17:00:00Z")  # 09:00 in Maya's LA
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        self.assertEqual(d["owner"], "maya")
        self.assertEqual(d["respond_by"], "2026-11-23T17:15:00Z")
        # At 10:00 UTC she is asleep: as the server would, eval passes her
        # and her team over to the rule's last choice.
        r = run("eval", os.path.join(EXAMPLES, "acme.route"),
                os.path.join(EXAMPLES, "leads", "demo_request.json"),
                "--at", "2026-11-23T10:00:00Z")
        d = json.loads(r.stdout)
        self.assertEqual(d["owner"], "triage")
        self.assertIn("choice 1 of 3: rep maya: outside working hours (Mon "
                      "02:00 America/Los_Angeles)", d["skipped"])

    def test_test_takes_a_folder_of_rulesets(self):
        # examples/ holds acme.route (a ruleset) and teams.route (a part it
        # includes): the folder runs acme's tests once.
        r = run("test", EXAMPLES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("PASS  existing account goes to its owner", r.stdout)
        self.assertEqual(r.stdout.count("rules no test reaches"), 1, r.stdout)
        self.assertEqual(run("test", os.path.join(self.tmp, "none")).returncode,
                         2)

    def test_eval_reads_the_lead_from_stdin(self):
        with open(os.path.join(EXAMPLES, "leads", "demo_request.json")) as f:
            lead = f.read()
        r = leadroute("eval", os.path.join(EXAMPLES, "acme.route"), "-",
                      "--at", "2026-11-23T17:00:00Z", stdin=lead)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["owner"], "maya")

    def test_eval_refuses_a_why_not_rule_that_does_not_exist(self):
        rules = self.write("r.route", RULES)
        lead = self.write("lead.json",
                          '{"id": "x", "attributes": {"n": {"intValue": "1"}}}')
        r = run("eval", rules, lead, "--why-not", "larg")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--why-not: no rule named `larg` (did you mean `large`?)",
                      r.stderr)
        r = run("eval", rules, lead, "--why-not", "assign/large")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_why_not_on_an_or_shows_every_value_it_read(self):
        rules = self.write("o.route", '''ruleset "o" version "1"
schema {
  visits: int default 0
  last_visit: time
}
queue q
score { rule intent when visits >= 2 or last_visit within 48h then +20 }
assign { otherwise queue q }
''')
        r = leadroute("eval", rules, "-", "--why-not", "intent",
                      stdin='{"id": "x", "visits": 1}')
        self.assertEqual(r.returncode, 0, r.stderr)
        [alt] = json.loads(r.stdout)["explanation"]["alternatives"]
        self.assertEqual(alt["reason"],
                         "visits >= 2 or last_visit within 48h is false: "
                         "visits is 1, last_visit has no value")

    def test_eval_reads_a_plain_json_lead_typed_by_the_schema(self):
        # The demo request of examples/leads, written as a person would.
        plain = json.dumps({
            "id": "lead-1001", "email": "maria.lopez@northwind.example",
            "country": "US", "state": "CA", "employees": 1200.0,
            "industry": "Software", "source": "demo_request", "score": 82,
            "products": ["cpq", "billing"],
            "last_pricing_visit": "2026-11-22T15:04:05Z", "phone": None})
        r = leadroute("eval", os.path.join(EXAMPLES, "acme.route"), "-",
                      "--at", "2026-11-23T10:00:00Z", stdin=plain)
        self.assertEqual(r.returncode, 0, r.stderr)
        proto = run("eval", os.path.join(EXAMPLES, "acme.route"),
                    os.path.join(EXAMPLES, "leads", "demo_request.json"),
                    "--at", "2026-11-23T10:00:00Z")
        self.assertEqual(json.loads(r.stdout), json.loads(proto.stdout))
        for lead, error in [
                ('{"id": "x", "n": "many"}', "attributes.n: expected int, got "
                                             "string"),
                ('{"id": "x", "n": 1.5}', "attributes.n: expected int, got "
                                          "number"),
                ('{"id": "x", "n": {"pets": 1}}', "n: not a value"),
                ('{"id": "x",\n "n": }', "not JSON: parse error at line 2, "
                                         "column 7"),
                # Beyond a double: an error, not std::terminate (found by
                # tests/fuzz/lead_json_fuzzer).
                ('{"id": "x", "n": 1e999999}',
                 "not JSON: number overflow parsing '1e999999'")]:
            r = leadroute("eval", self.write("r.route", RULES), "-",
                          stdin=lead)
            self.assertEqual(r.returncode, 1, lead)
            self.assertIn(error, r.stderr)

    def test_a_csv_saved_by_excel_with_a_byte_order_mark_loads(self):
        with open(os.path.join(self.tmp, "owners.csv"), "wb") as f:
            f.write(b"\xef\xbb\xbfdomain,owner\r\nacme.example,maya\r\n")
        rules = self.write("r.route", '''ruleset "csv" version "1"
schema { email: string required }
rep maya { }
queue q
table owner: string -> rep from csv "owners.csv" key "domain" value "owner"
assign {
  rule known when domain(email) in owner then owner(domain(email))
  otherwise queue q
}
''')
        self.assertEqual(run("check", rules).returncode, 0)
        r = leadroute("eval", rules, "-",
                      stdin='{"id": "x", "email": "kim@acme.example"}')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["owner"], "maya")

    def test_domain_and_email_tables_ignore_case_unless_told(self):
        with open(os.path.join(self.tmp, "owners.csv"), "w") as f:
            f.write("Domain,owner\nAcme.Example,maya\n")
        table = ('table owner: string -> rep%s from csv "owners.csv" '
                 'key "Domain" value "owner"')
        rules = '''ruleset "csv" version "1"
schema { email: string required }
rep maya { }
rep li { }
queue q
%s
table vip_email: string -> rep { "CEO@Globex.example": li }
assign {
  rule vip when email in vip_email then vip_email(email)
  rule known when domain(email) in owner then owner(domain(email))
  otherwise queue q
}
'''
        def owner(path, email):
            r = leadroute("eval", path, "-",
                          stdin='{"id": "x", "email": "%s"}' % email)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout).get("owner")

        default = self.write("default.route", rules % (table % ""))
        self.assertEqual(run("check", "--strict", default).returncode, 0)
        # domain() lower-cases; the CSV's key is mixed case: still a match.
        self.assertEqual(owner(default, "kim@ACME.example"), "maya")
        self.assertEqual(owner(default, "ceo@globex.EXAMPLE"), "li")
        self.assertEqual(owner(default, "kim@other.example"), "q")
        matching = self.write("matching.route",
                              rules % (table % " matching case"))
        self.assertEqual(owner(matching, "kim@acme.example"), "q")
        # fmt keeps the declaration.
        self.assertIn("table owner: string -> rep matching case from csv",
                      leadroute("fmt", matching).stdout)

    def test_eval_names_the_bad_field(self):
        rules = self.write("r.route", RULES)
        lead = self.write("lead.json", '{"id": "x", "attributes": {}}')
        r = run("eval", rules, lead)
        self.assertEqual(r.returncode, 1)
        self.assertIn("attributes.n: required", r.stderr)

    def test_a_lead_no_rule_takes_gets_no_owner_and_check_warns(self):
        rules = self.write("r.route", '''ruleset "f" version "1"
schema { n: int required }
queue q
assign { rule big when n > 10 then queue q }
priority {
  labels hi > lo
  rule h when n > 5 then hi
}
''')
        c = leadroute("check", rules)
        # eval keeps quiet about warnings unless asked; check is for them.
        quiet = run("eval", rules, self.write("l.json", '{"id": "x", "attributes": {"n": 1}}'))
        self.assertEqual(quiet.returncode, 0, quiet.stderr)
        self.assertEqual(quiet.stderr, "")
        loud = run("eval", "--warnings", rules, self.write("l.json", '{"id": "x", "attributes": {"n": 1}}'))
        self.assertIn("warning: some leads match no rule of the assign stage", loud.stderr)
        self.assertIn("some leads match no rule of the assign stage, e.g. "
                      "n = 0", c.stdout)
        self.assertIn("some leads match no rule of the priority stage, e.g. "
                      "n = 0", c.stdout)
        lead = self.write("lead.json", '{"id": "x", "attributes": {"n": {"intValue": 1}}}')
        r = run("eval", rules, lead)
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        for unset in ("owner", "owner_kind", "priority", "sla", "respond_by",
                      "decided_by"):
            self.assertNotIn(unset, d)
        lead = self.write("lead.json", '{"id": "x", "attributes": {"n": {"intValue": 11}}}')
        d = json.loads(run("eval", rules, lead).stdout)
        self.assertEqual(d["owner_kind"], "OWNER_KIND_QUEUE")
        self.assertEqual(d["priority"]["label"], "hi")
        self.assertNotIn("sla", d)

    def test_rules_with_errors_stop_both(self):
        bad = self.write("bad.route", 'ruleset "b" version "1"\n')
        lead = self.write("lead.json", '{"id": "x"}')
        self.assertEqual(run("test", bad).returncode, 1)
        r = run("eval", bad, lead)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no `assign` stage", r.stderr)


if __name__ == "__main__":
    main()
