#!/usr/bin/env python3
"""`leadroute replay` on a history a real server wrote: a month of leads
routed by `leadroute serve --data-dir --decision-log` (territories.route,
with territories_dach.route as its shadow), replayed with the change under
review (territories_dach.route: Germany moves to a new DACH team). Exactly the German leads change; the markdown
is a golden file (replay/dach.md; UPDATE_GOLDEN=1 rewrites it); the CI
gate exits 1 past its threshold."""
import difflib
import json
import os
import random
import shutil
import sqlite3
import tempfile
import unittest

import cli_testlib
from cli_testlib import TempDirCase, leadroute, main

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "replay")
GOLDEN = os.path.join(HERE, "dach.md")
DAYS = 30
PER_DAY = 40


def generate_leads():
    """30 days of 40 leads, the same every run."""
    rng = random.Random(2026)
    days = []
    for day in range(DAYS):
        leads = []
        for i in range(PER_DAY):
            leads.append({
                "id": f"L-{day + 1:02d}-{i:02d}",
                "email": f"person{day}x{i}@example.com",
                "country": rng.choice(["US", "CA", "GB", "FR", "DE", "DE",
                                       "JP"]),
                "employees": rng.choice([12, 250, 1800]),
                "source": rng.choice(["web", "web", "event", "partner"]),
            })
        days.append((f"2026-11-{day + 1:02d}T{9 + day % 8:02d}:30:00Z",
                     leads))
    return days


class ReplayCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        for name in ("territories.route", "territories_dach.route"):
            shutil.copy(os.path.join(HERE, name), cls.tmp)
        cls.days = generate_leads()
        proc, addr = cli_testlib.serve(
            "--rules", "territories.route", "--data-dir", "data",
            "--decision-log", "decisions.jsonl",
            "--shadow-rules", "territories_dach.route", cwd=cls.tmp)
        try:
            for when, leads in cls.days:
                r = leadroute("route", "-", "--server", addr,
                              "--received-at", when, stdin=json.dumps(leads))
                assert r.returncode == 0, r.stderr
        finally:
            cli_testlib.stop(proc)  # the log is flushed on the way out
        cls.log = os.path.join(cls.tmp, "decisions.jsonl")
        with open(cls.log) as f:
            everything = f.read().splitlines()
        # The shadow's disagreements are lines of their own.
        cls.lines = [l for l in everything if '"shadow_of"' not in l]
        cls.shadow_lines = [json.loads(l) for l in everything
                            if '"shadow_of"' in l]
        cls.leads = [lead for _, leads in cls.days for lead in leads]
        # What must change: German leads that are not partners (partners
        # go to their queue wherever they are from).
        cls.german = [l["id"] for l in cls.leads
                      if l["country"] == "DE" and l["source"] != "partner"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def replay(self, *args):
        return leadroute("replay", *args, cwd=self.tmp)

    def replay_json(self, *args):
        r = self.replay(*args, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_the_log_holds_every_lead_as_the_rules_chose(self):
        self.assertEqual(len(self.lines), DAYS * PER_DAY)
        first = json.loads(self.lines[0])
        self.assertEqual(first["received_at"], "2026-11-01T09:30:00.000000Z")
        # A stateful server: the owner is a rep, the target the team.
        emea = [json.loads(l) for l in self.lines
                if json.loads(l)["target"] == "team:emea"]
        self.assertTrue(emea)
        for d in emea:
            self.assertEqual(d["team"], "emea")
            self.assertIn(d["owner"], ("cyd", "dan"))
            self.assertEqual(d["attributes"]["email"], "***")

    def test_the_shadow_logged_what_replay_finds(self):
        # A shadow line per German lead, naming the live decision.
        self.assertEqual(sorted(d["lead_id"] for d in self.shadow_lines),
                         sorted(self.german))
        ids = {json.loads(l)["decision_id"] for l in self.lines}
        for d in self.shadow_lines:
            self.assertIn(d["shadow_of"], ids)
            self.assertEqual((d["live_target"], d["target"], d["changed"]),
                             ("team:emea", "team:dach", ["owner"]))
        # Replay reads past them.
        j = self.replay_json("territories_dach.route", "--decision-log",
                             "decisions.jsonl")
        self.assertEqual(j["input"]["shadow_lines"], len(self.german))
        self.assertEqual(j["input"]["lines"], DAYS * PER_DAY)

    def test_report_shadow_sums_up_the_shadow_lines(self):
        r = leadroute("report", "--shadow", "--decision-log",
                      "decisions.jsonl", "--last", "1d", "--format", "json",
                      cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(r.stdout)
        self.assertEqual(j["routed"], DAYS * PER_DAY)
        self.assertEqual(len(j["shadows"]), 1)
        s = j["shadows"][0]
        self.assertEqual(s["ruleset"], "territories 2")
        self.assertEqual(s["leads"], len(self.german))
        self.assertEqual(s["changed"], {"owner": len(self.german)})
        self.assertEqual(s["transitions"], [{"from": "team:emea",
                                             "to": "team:dach",
                                             "leads": len(self.german)}])
        r = leadroute("report", "--shadow", "--decision-log",
                      "decisions.jsonl", "--last", "1d", cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("territories 2 (", r.stdout)
        self.assertIn("team:emea -> team:dach: %d" % len(self.german),
                      r.stdout)
        r = leadroute("report", "--shadow", cwd=self.tmp)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--shadow reads --decision-log", r.stderr)

    def test_the_same_rules_change_nothing(self):
        j = self.replay_json("territories.route", "--decision-log",
                             "decisions.jsonl")
        self.assertEqual(j["leads"], DAYS * PER_DAY)
        self.assertEqual(j["changed"]["any"], 0)
        self.assertEqual(j["transitions"], [])
        for row in j["rules"]:
            self.assertEqual(row["before"], row["after"], row)

    def test_exactly_the_german_leads_change(self):
        j = self.replay_json("territories_dach.route", "--decision-log",
                             "decisions.jsonl", "--examples", "100")
        self.assertEqual(j["leads"], DAYS * PER_DAY)
        self.assertEqual(j["changed"]["owner"], len(self.german))
        self.assertEqual(j["changed"]["any"], len(self.german))
        for output in ("priority", "sla", "channel", "escalation"):
            self.assertEqual(j["changed"][output], 0, output)
        self.assertEqual(len(j["transitions"]), 1)
        t = j["transitions"][0]
        self.assertEqual((t["from"], t["to"], t["leads"]),
                         ("team:emea", "team:dach", len(self.german)))
        self.assertEqual([e["lead_id"] for e in t["examples"]],
                         self.german[:100])
        e = t["examples"][0]
        self.assertEqual(e["before"]["why"][0],
                         "assign/emea_leads (territories.route:41)")
        self.assertIn('assign/dach_leads (territories_dach.route:44): '
                      'country == "DE"', e["after"]["why"])
        rules = {r["rule"]: r for r in j["rules"]}
        self.assertEqual(rules["assign/dach_leads"]["before"], 0)
        self.assertEqual(rules["assign/dach_leads"]["after"], len(self.german))
        load = {r["owner"]: r for r in j["load"]}
        self.assertEqual(load["team:dach"]["after"], len(self.german))
        self.assertEqual(load["team:emea"]["before"] - load["team:emea"]["after"],
                         len(self.german))
        # Predicted per rep: DACH's one rep (dan) gets every German lead;
        # before, the server's log gave EMEA's leads to cyd and dan in turn.
        reps = {r["rep"]: r for r in j["rep_load"]}
        self.assertEqual(reps["dan"]["after"], len(self.german))
        self.assertEqual(reps["cyd"]["after"], load["team:emea"]["after"])
        self.assertEqual(reps["cyd"]["before"] + reps["dan"]["before"],
                         load["team:emea"]["before"])
        self.assertEqual(sum(r["before"] for r in j["rep_load"]), j["leads"])
        self.assertEqual(sum(r["after"] for r in j["rep_load"]), j["leads"])

    def test_against_the_old_rules_counts_the_same(self):
        log = self.replay_json("territories_dach.route", "--decision-log",
                               "decisions.jsonl")
        against = self.replay_json("territories_dach.route", "--decision-log",
                                   "decisions.jsonl", "--against",
                                   "territories.route")
        self.assertEqual(against["baseline"], "territories 1")
        self.assertEqual(against["changed"], log["changed"])
        self.assertEqual(against["transitions"][0]["leads"],
                         log["transitions"][0]["leads"])

    def test_the_state_store_replays_as_the_log_does(self):
        """The server's --data-dir kept every lead as the log did: replay
        from it finds the same changes, loads and examples."""
        log = self.replay_json("territories_dach.route", "--decision-log",
                               "decisions.jsonl")
        store = self.replay_json("territories_dach.route", "--data-dir",
                                 "data")
        self.assertEqual(store["baseline"], "the decisions stored")
        self.assertEqual(store["input"]["without_attributes"], 0)
        self.assertEqual(store["leads"], DAYS * PER_DAY)
        for field in ("changed", "load", "rep_load", "first", "last"):
            self.assertEqual(store[field], log[field], field)
        def moves(j):
            return [(t["from"], t["to"], t["leads"],
                     [e["lead_id"] for e in t["examples"]])
                    for t in j["transitions"]]
        self.assertEqual(moves(store), moves(log))
        self.assertEqual([(r["rule"], r["before"], r["after"])
                          for r in store["rules"]],
                         [(r["rule"], r["before"], r["after"])
                          for r in log["rules"]])
        # A window reads routing times: everything was routed just now.
        empty = self.replay_json("territories_dach.route", "--data-dir",
                                 "data", "--to", "2026-01-01T00:00:00Z")
        self.assertEqual(empty["leads"], 0)

    def test_markdown_is_the_golden_file(self):
        r = self.replay("territories_dach.route", "--decision-log",
                        "decisions.jsonl", "--format", "markdown")
        self.assertEqual(r.returncode, 0, r.stderr)
        if os.environ.get("UPDATE_GOLDEN"):
            with open(GOLDEN, "w") as f:
                f.write(r.stdout)
        with open(GOLDEN) as f:
            want = f.read()
        if r.stdout != want:
            self.fail("markdown differs from replay/dach.md:\n" + "".join(
                difflib.unified_diff(want.splitlines(True),
                                     r.stdout.splitlines(True),
                                     "dach.md", "replay")))

    def test_the_gate_exits_1_past_its_threshold(self):
        share = 100.0 * len(self.german) / (DAYS * PER_DAY)
        r = self.replay("territories_dach.route", "--decision-log",
                        "decisions.jsonl", "--max-changed", "5%")
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%.1f%% of leads (%d) change owner, more than "
                      "--max-changed 5%%" % (share, len(self.german)),
                      r.stderr)
        self.assertIn("Replay of territories 2", r.stdout)  # still reported
        r = self.replay("territories_dach.route", "--decision-log",
                        "decisions.jsonl", "--max-changed", "%.1f" % (share + 1))
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.replay("territories.route", "--decision-log",
                        "decisions.jsonl", "--max-changed", "0%")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.replay("territories_dach.route", "--decision-log",
                        "decisions.jsonl", "--max-changed", "lots")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--max-changed: \"lots\" is not a percentage", r.stderr)

    def test_a_window_replays_only_its_leads(self):
        j = self.replay_json("territories_dach.route", "--decision-log",
                             "decisions.jsonl", "--from",
                             "2026-11-03T00:00:00Z", "--to",
                             "2026-11-05T00:00:00Z")
        self.assertEqual(j["leads"], 2 * PER_DAY)
        self.assertEqual(j["input"]["outside_window"], (DAYS - 2) * PER_DAY)
        self.assertEqual(j["first"], "2026-11-03T11:30:00.000000Z")
        window = [i for i in self.german if i[2:4] in ("03", "04")]
        self.assertEqual(j["changed"]["owner"], len(window))

    def test_leads_from_a_file_are_decided_at_their_own_time(self):
        path = os.path.join(self.tmp, "leads.jsonl")
        with open(path, "w") as f:
            for when, leads in self.days:
                for lead in leads:
                    f.write(json.dumps(dict(lead, received_at=when)) + "\n")
        j = self.replay_json("territories_dach.route", "--leads", "leads.jsonl",
                             "--against", "territories.route")
        self.assertEqual(j["leads"], DAYS * PER_DAY)
        self.assertEqual(j["changed"]["owner"], len(self.german))
        self.assertEqual(j["first"], "2026-11-01T09:30:00.000000Z")
        r = self.replay("territories_dach.route", "--leads", "leads.jsonl")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--leads needs --against", r.stderr)

    def test_unreadable_lines_are_named_and_the_rest_replayed(self):
        path = os.path.join(self.tmp, "damaged.jsonl")
        with open(path, "w") as f:
            f.write(self.lines[0] + "\n")
            f.write("{\"lead_id\": \"cut\", \"ts\": \"2026-11-\n")
            f.write('{"lead_id":"L","ts":"2026-11-02T10:00:05Z",'
                    '"sla_seconds":"soon"}\n')
            f.write("x" * 5000 + "\n")
            f.write("\n")  # blank lines are skipped
            f.write(self.lines[1])  # the last line may lack its newline
        j = self.replay_json("territories_dach.route", "--decision-log",
                             "damaged.jsonl", "--max-line-bytes", "1024")
        self.assertEqual(j["leads"], 2)
        self.assertEqual(j["input"]["lines"], 5)
        self.assertEqual(j["input"]["unreadable"], 3)
        r = self.replay("territories_dach.route", "--decision-log",
                        "damaged.jsonl", "--max-line-bytes", "1024")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("damaged.jsonl:2: not JSON: parse error", r.stderr)
        self.assertIn("damaged.jsonl:3: sla_seconds: must be a whole number",
                      r.stderr)
        self.assertIn("damaged.jsonl:4: longer than 1024 bytes "
                      "(--max-line-bytes)", r.stderr)
        self.assertIn("3 of 5 lines could not be read", r.stdout)

    def test_bad_invocations_say_what_is_wrong(self):
        r = self.replay("territories_dach.route")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--decision-log FILE, --data-dir DIR or --state "
                      "postgres://… (a server's), or --leads FILE.jsonl",
                      r.stderr)
        r = self.replay("territories_dach.route", "--data-dir", "data",
                        "--leads", "leads.jsonl")
        self.assertEqual(r.returncode, 2)
        self.assertIn("(one of them)", r.stderr)
        r = self.replay("territories_dach.route", "--data-dir", "nowhere")
        self.assertEqual(r.returncode, 2)
        self.assertIn("nowhere", r.stderr)
        r = self.replay("territories_dach.route", "--decision-log", "nope.jsonl")
        self.assertEqual(r.returncode, 2)
        self.assertIn("nope.jsonl: No such file or directory", r.stderr)
        r = self.replay("territories_dach.route", "--decision-log",
                        "decisions.jsonl", "--from", "last week")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--from", r.stderr)
        r = self.replay("territories_dach.route", "--decision-log",
                        "decisions.jsonl", "--lead-hold", "forever")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--lead-hold: \"forever\" is not a span", r.stderr)


class KeyedHashReplayTest(unittest.TestCase):
    """A server with --decision-log-key logs the masked email the rules
    read as keyed hashes, never as text; replay with the same key decides
    on it as the server did, and without it says why it cannot."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        for name in ("accounts.route", "accounts_globex.route"):
            shutil.copy(os.path.join(HERE, name), cls.tmp)
        cls.key = os.path.join(cls.tmp, "log.key")
        with open(cls.key, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(cls.key, 0o600)
        rng = random.Random(24)
        cls.leads = []
        for i in range(300):
            domain = rng.choice(["acme.com", "ACME.com", "Globex.COM",
                                 "globex.com", "initech.com", "other.org"])
            user = rng.choice(["kim", "Lee", "max.power"])
            cls.leads.append({"id": f"K-{i:03d}",
                              "email": f"{user}{i}@{domain}",
                              "country": rng.choice(["DE", "FR", "US"])})
        proc, addr = cli_testlib.serve(
            "--rules", "accounts.route", "--decision-log", "decisions.jsonl",
            "--data-dir", "data", "--decision-log-key", cls.key, cwd=cls.tmp)
        try:
            r = leadroute("route", "-", "--server", addr, "--received-at",
                          "2026-11-02T10:00:00Z", stdin=json.dumps(cls.leads))
            assert r.returncode == 0, r.stderr
        finally:
            cli_testlib.stop(proc)
        with open(os.path.join(cls.tmp, "decisions.jsonl")) as f:
            cls.lines = [json.loads(l) for l in f.read().splitlines()]
        cls.globex = [l["id"] for l in cls.leads
                      if l["email"].lower().endswith("@globex.com")]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def replay_json(self, *args, history=("--decision-log",
                                           "decisions.jsonl")):
        r = leadroute("replay", *args, *history, "--format", "json",
                      cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_the_log_never_holds_an_email(self):
        self.assertEqual(len(self.lines), len(self.leads))
        # Hashes are base64url: no '@' or '.', which every email has.
        text = json.dumps([l["attributes"] for l in self.lines])
        self.assertNotIn("@", text)
        self.assertNotIn(".", text)
        email = self.lines[0]["attributes"]["email"]
        self.assertLessEqual({"hmac", "domain", "key"}, set(email))
        self.assertLessEqual(set(email), {"hmac", "lower", "domain", "key"})
        self.assertEqual(len(email["hmac"]), 43)
        self.assertEqual(len(email["key"]), 8)
        self.assertEqual(self.lines[0]["attributes"]["country"],
                         self.leads[0]["country"])

    def test_with_the_key_the_same_rules_change_nothing(self):
        j = self.replay_json("accounts.route", "--decision-log-key", self.key)
        self.assertEqual(j["leads"], len(self.leads))
        self.assertEqual(j["changed"]["owner"], 0, j["transitions"])
        self.assertEqual(j["masked"]["email"],
                         {"hashed": len(self.leads), "missing": 0, "why": ""})

    def test_with_the_key_exactly_the_globex_leads_move(self):
        j = self.replay_json("accounts_globex.route",
                             "--decision-log-key", self.key)
        self.assertEqual(j["changed"]["owner"], len(self.globex))
        self.assertEqual([(t["from"], t["to"], t["leads"])
                          for t in j["transitions"]],
                         [("rep:cyd", "rep:ann", len(self.globex))])
        moved = sorted(e["lead_id"] for e in
                       j["transitions"][0]["examples"])
        self.assertTrue(set(moved) <= set(self.globex), moved)

    def test_the_state_store_keeps_the_same_hashes(self):
        j = self.replay_json("accounts_globex.route", "--decision-log-key",
                             self.key, history=("--data-dir", "data"))
        self.assertEqual(j["changed"]["owner"], len(self.globex))
        self.assertEqual(j["masked"]["email"]["hashed"], len(self.leads))
        # What the store keeps for replay holds no email (its repeat key,
        # documented, is another column).
        db = sqlite3.connect(os.path.join(self.tmp, "data", "leadroute.db"))
        kept = [row[0] for row in db.execute("SELECT logged FROM assignments")]
        db.close()
        self.assertEqual(len(kept), len(self.leads))
        for text in kept:
            self.assertNotIn("@", text)
            self.assertIn('"hmac"', text)

    def test_without_the_key_replay_says_why_it_cannot_decide(self):
        j = self.replay_json("accounts.route")
        self.assertEqual(j["masked"]["email"]["hashed"], 0)
        self.assertEqual(j["masked"]["email"]["missing"], len(self.leads))
        self.assertIn("no --decision-log-key", j["masked"]["email"]["why"])
        r = leadroute("replay", "accounts.route", "--decision-log",
                      "decisions.jsonl", cwd=self.tmp)
        self.assertIn("decided as if it were missing", r.stdout)

    def test_a_key_others_may_read_is_refused(self):
        open_key = os.path.join(self.tmp, "open.key")
        with open(open_key, "wb") as f:
            f.write(b"k" * 32)
        os.chmod(open_key, 0o644)
        r = leadroute("replay", "accounts.route", "--decision-log",
                      "decisions.jsonl", "--decision-log-key", open_key,
                      cwd=self.tmp)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--decision-log-key " + open_key, r.stderr)
        self.assertIn("chmod 600", r.stderr)
        r = leadroute("serve", "--rules", "accounts.route", "--listen",
                      "127.0.0.1:0", "--decision-log", "d.jsonl",
                      "--decision-log-key", open_key, cwd=self.tmp)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--decision-log-key", r.stderr)
        self.assertIn("may be read by others", r.stderr)


if __name__ == "__main__":
    main()
