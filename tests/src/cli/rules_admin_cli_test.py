#!/usr/bin/env python3
"""`leadroute rules ...` against a real `leadroute serve`: status, publish
(checked here first; every file the rules read is sent), publish at a set
time (a wall-clock time in a zone, or an instant) and cancel it, a shadow
promoted, a rollback — the output and the exit codes; and with a data
dir, published rules and a schedule kept through a kill -9."""
import datetime
import json
import os
import time
import unittest

import cli_testlib
from cli_testlib import TempDirCase, leadroute, main


def rules(tag):
    # The root includes the queue's declaration: publishing must send both.
    return ('ruleset "r" version "%s"\ninclude "queues.route"\n'
            'assign { otherwise queue q%s }\n' % (tag, tag))


class RulesAdminCliTest(TempDirCase):
    def setUp(self):
        super().setUp()
        self.root = self.write_rules("1")
        self.proc, self.addr = cli_testlib.serve("--rules", self.root,
                                                 "--watch", "0")

    def tearDown(self):
        if self.proc is not None:
            cli_testlib.stop(self.proc)
        super().tearDown()

    def write_rules(self, tag, folder="v"):
        os.makedirs(os.path.join(self.tmp, folder + tag), exist_ok=True)
        self.write(os.path.join(folder + tag, "queues.route"),
                   "queue q%s\n" % tag)
        return self.write(os.path.join(folder + tag, "main.route"), rules(tag))

    def cli(self, *args):
        return leadroute("rules", *args, "--server", self.addr)

    def status(self):
        r = self.cli("status", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def route(self):
        r = leadroute("route", "--server", self.addr, "-",
                      stdin=json.dumps({"id": "L"}))
        self.assertEqual(r.returncode, 0, r.stderr)
        d = json.loads(r.stdout)
        return d["owner"], d["ruleset"]["revision"]

    def test_publish_schedule_shadow_promote_rollback(self):
        r = self.cli("status")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^live +revision 1  r 1  [0-9a-f]{16}  "
                                   r"1 rules  file \S+ by file")

        # Broken rules never leave this machine.
        broken = self.write("broken.route",
                            'ruleset "r" version "x"\n'
                            'assign { otherwise queue nowhere }\n')
        r = self.cli("publish", broken)
        self.assertEqual(r.returncode, 1)
        self.assertIn("broken.route:2:", r.stderr)
        self.assertIn("nothing was sent", r.stderr)
        self.assertEqual(self.status()["live"]["ruleset"]["revision"], "1")

        # Now: the root and its include travel together.
        r = self.cli("publish", self.write_rules("2"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^live  revision 2  r 2 ")
        self.assertEqual(self.route(), ("q2", "2"))

        # At a wall-clock time in a zone: a day ahead, then cancelled.
        tomorrow = (datetime.datetime.now(datetime.timezone.utc) +
                    datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        r = self.cli("publish", self.write_rules("3"), "--activate-at",
                     tomorrow, "--time-zone", "Asia/Kolkata")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^scheduled  revision 3  r 3 .* goes live ")
        scheduled = self.status()["scheduled"]
        # Kolkata is UTC+05:30 all year.
        want = (datetime.datetime.strptime(tomorrow, "%Y-%m-%dT%H:%M") -
                datetime.timedelta(hours=5, minutes=30))
        self.assertEqual(scheduled["activate_at"],
                         want.strftime("%Y-%m-%dT%H:%M:00Z"))
        r = self.cli("unschedule")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("scheduled", self.status())
        self.assertEqual(self.route(), ("q2", "2"))

        # At an instant two seconds ahead: it goes live then, by itself.
        at = datetime.datetime.now(datetime.timezone.utc) + \
            datetime.timedelta(seconds=2)
        r = self.cli("publish", self.write_rules("4"), "--activate-at",
                     at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.route(), ("q2", "2"))
        time.sleep(max(0, (at - datetime.datetime.now(
            datetime.timezone.utc)).total_seconds()) + 0.2)
        self.assertEqual(self.route(), ("q4", "4"))
        status = self.status()
        self.assertEqual(status["live"]["origin"], "scheduled")
        self.assertNotIn("scheduled", status)

        # A time in the past is a mistake, refused by the server.
        r = self.cli("publish", self.write_rules("5"), "--activate-at",
                     "2020-01-01T00:00:00Z")
        self.assertEqual(r.returncode, 1)
        self.assertIn("activate: 2020-01-01T00:00:00Z is in the past",
                      r.stderr)

        # As the shadow, then promoted; then rolled back.
        r = self.cli("publish", self.write_rules("6"), "--shadow")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.route(), ("q4", "4"))
        r = self.cli("status")
        self.assertRegex(r.stdout, r"\nshadow +r 6  [0-9a-f]{16}  since ")
        r = self.cli("promote")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^live  revision 5  r 6 .* promote by ")
        self.assertEqual(self.route(), ("q6", "5"))
        self.assertNotIn("shadow", self.status())
        r = self.cli("rollback")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^live  revision 4  r 4 ")
        self.assertEqual(self.route(), ("q4", "4"))

        # Cancelling what is not there changes nothing, and says so.
        r = self.cli("unschedule")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no ruleset was scheduled", r.stderr)

    def test_a_kill_9_keeps_published_rules_and_the_schedule(self):
        """With a data dir, what PublishRules acknowledged is in the store:
        a kill -9 right after loses neither the published ruleset nor the
        schedule, and the restart numbers on after them."""
        cli_testlib.stop(self.proc)  # setUp's, without a data dir
        self.proc = None
        serve = ("--rules", self.root, "--watch", "0", "--data-dir",
                 os.path.join(self.tmp, "data"))
        at = (datetime.datetime.now(datetime.timezone.utc) +
              datetime.timedelta(days=30)).strftime("%Y-%m-%dT00:00:00Z")
        proc, addr = cli_testlib.serve(*serve)
        try:
            r = leadroute("rules", "publish", self.write_rules("2"),
                          "--server", addr)
            self.assertEqual(r.returncode, 0, r.stderr)
            r = leadroute("rules", "publish", self.write_rules("3"),
                          "--activate-at", at, "--server", addr)
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            proc.kill()
            proc.stderr.close()
            proc.wait(timeout=30)
        proc, self.addr = cli_testlib.serve(*serve)
        try:
            status = self.status()
            self.assertEqual(status["live"]["ruleset"]["revision"], "2")
            self.assertEqual(status["live"]["origin"], "stored revision 2")
            self.assertEqual(status["scheduled"]["ruleset"]["revision"], "3")
            self.assertEqual(status["scheduled"]["activate_at"], at)
            self.assertEqual(self.route(), ("q2", "2"))
            r = self.cli("publish", self.write_rules("4"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertRegex(r.stdout, r"^live  revision 4  r 4 ")
        finally:
            cli_testlib.stop(proc)

    def test_bad_invocations(self):
        r = self.cli("publish", self.root, "--time-zone", "Europe/Berlin")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--time-zone needs --activate-at", r.stderr)
        r = self.cli("publish", self.root, "--shadow", "--activate-at",
                     "2030-01-01T00:00:00Z")
        self.assertEqual(r.returncode, 2)
        r = self.cli("publish", self.root, "--activate-at", "next tuesday")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--activate-at", r.stderr)
        r = self.cli("publish", os.path.join(self.tmp, "missing.route"))
        self.assertEqual(r.returncode, 2)
        r = self.cli("promote")
        self.assertEqual(r.returncode, 1)
        self.assertIn("FAILED_PRECONDITION", r.stderr)
        r = self.cli("rollback", "99")
        self.assertEqual(r.returncode, 1)
        self.assertIn("NOT_FOUND", r.stderr)
        r = leadroute("rules", "status", "--server", "127.0.0.1:1",
                      "--timeout", "1")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    main()
