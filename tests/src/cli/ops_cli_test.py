#!/usr/bin/env python3
"""`leadroute leads ...` and `leadroute reps ...` as a RevOps person types
them, against a real `leadroute serve` with a data dir: every day-to-day
operation of docs/operations.md, its output and its exit codes."""
import json
import os
import unittest

import cli_testlib
from cli_testlib import TempDirCase, leadroute, main

RULES = '''ruleset "ops" version "1"
schema {
  email: string
  region: string required
}
rep maya { }
rep sam { }
rep lee { }
team na { members = [maya, sam] }
queue triage
assign {
  rule na when region == "na" then team na
  otherwise queue triage
}
sla { otherwise 1h }
'''


class OpsCliTest(TempDirCase):
    def setUp(self):
        super().setUp()
        rules = self.write("ops.route", RULES)
        self.proc, self.addr = cli_testlib.serve(
            "--rules", rules, "--data-dir", os.path.join(self.tmp, "data"))

    def tearDown(self):
        cli_testlib.stop(self.proc)
        super().tearDown()

    def cli(self, *args, stdin=None):
        return leadroute(*args, "--server", self.addr, stdin=stdin)

    def route(self, lead):
        r = leadroute("route", "--server", self.addr, "-",
                      stdin=json.dumps(lead))
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_the_day_to_day_operations(self):
        self.assertEqual(self.route({"id": "L1", "region": "na"})["owner"],
                         "maya")
        self.assertEqual(self.route({"id": "L2", "region": "na"})["owner"],
                         "sam")
        self.assertEqual(self.route({"id": "L3", "region": "eu"})["owner"],
                         "triage")

        # Set a rep away until tomorrow: the next lead goes to the other.
        r = self.cli("reps", "status", "maya", "away", "--until", "1d",
                     "--note", "offsite")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^maya  away until \S+ \(offsite\)  "
                                   r"open 1, .*takes none: away")
        self.assertEqual(self.route({"id": "L4", "region": "na"})["owner"],
                         "sam")
        r = self.cli("reps", "list", "--format", "json")
        reps = {x["rep"]: x for x in json.loads(r.stdout)["reps"]}
        self.assertEqual(reps["sam"]["open_leads"], "2")
        self.assertEqual(reps["maya"]["availability"], "REP_AVAILABILITY_AWAY")

        # See a rep's leads and a queue's.
        r = self.cli("leads", "list", "--owner", "sam")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([l.split()[0] for l in r.stdout.splitlines()],
                         ["L2", "L4"])
        self.assertIn("L2  sam (rep, team na)  open  SLA pending, respond by",
                      r.stdout)
        r = self.cli("leads", "list", "--queue", "triage", "--format", "json")
        self.assertEqual([l["lead_id"] for l in json.loads(r.stdout)["leads"]],
                         ["L3"])
        # --limit stops early and says there are more.
        r = self.cli("leads", "list", "--limit", "3")
        self.assertEqual(len(r.stdout.splitlines()), 3)
        self.assertIn("raise --limit", r.stderr)

        # Move a lead, record a contact and an outcome, release, close.
        r = self.cli("leads", "reassign", "L3", "--to", "rep:lee",
                     "--reason", "speaks German")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("L3  lee (rep)  open"), r.stdout)
        r = self.cli("leads", "contact", "L3", "--channel", "phone")
        self.assertIn("SLA met", r.stdout)
        r = self.cli("leads", "outcome", "L3", "qualified", "--format", "json")
        self.assertEqual(json.loads(r.stdout)["outcome"], "OUTCOME_QUALIFIED")
        r = self.cli("leads", "release", "L2", "--reason", "duplicate")
        self.assertIn("L2  sam (rep, team na)  released", r.stdout)
        r = self.cli("leads", "close", "L4")
        self.assertIn("closed", r.stdout)
        r = self.cli("leads", "list", "--owner", "sam", "--status", "open")
        self.assertEqual(r.stdout, "")
        r = self.cli("leads", "get", "L1")
        self.assertTrue(r.stdout.startswith("L1  maya (rep, team na)  open"))

    def test_mistakes_say_what_is_wrong(self):
        self.route({"id": "L1", "region": "na"})
        r = self.cli("leads", "get", "nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn('no lead "nope" was routed', r.stderr)
        r = self.cli("leads", "reassign", "L1", "--to", "maya")
        self.assertEqual(r.returncode, 2)
        self.assertIn("rep:NAME, team:NAME or queue:NAME", r.stderr)
        r = self.cli("leads", "reassign", "L1", "--to", "rep:mya")
        self.assertEqual(r.returncode, 1)
        self.assertIn('INVALID_ARGUMENT: rep: "mya" is not a rep', r.stderr)
        r = self.cli("leads", "outcome", "L1", "signed")
        self.assertEqual(r.returncode, 2)
        self.assertIn("contacted, qualified, opportunity, won, lost",
                      r.stderr)
        r = self.cli("reps", "status", "maya", "gone")
        self.assertEqual(r.returncode, 2)
        r = self.cli("reps", "status", "maya", "away", "--until", "soon")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--until", r.stderr)
        r = self.cli("leads", "list", "--status", "lost")
        self.assertEqual(r.returncode, 2)
        self.assertIn("open, released, closed, unassigned", r.stderr)
        r = self.cli("leads", "list", "--owner", "maya", "--queue", "triage")
        self.assertEqual(r.returncode, 2)
        r = self.cli("leads", "release", "L1")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.cli("leads", "close", "L1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("already released", r.stderr)


if __name__ == "__main__":
    main()
