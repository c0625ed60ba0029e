#!/usr/bin/env python3
"""The `leadroute` binary as a user runs it: help, exit codes, the listening
line, `route` against a running server, and a graceful stop on SIGTERM and
SIGINT with exit code 0."""
import datetime
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

import cli_testlib
from cli_testlib import EXAMPLES, leadroute, main



def run(*args, stdin=None):
    return leadroute(*args, stdin=stdin, timeout=60)


def start_server(*extra):
    proc = subprocess.Popen([cli_testlib.BINARY, "serve", "--listen", "127.0.0.1:0",
                             *extra], stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    while line and "msg=listening" not in line:
        line = proc.stderr.readline()
    return proc, line


class ServeCliTest(unittest.TestCase):
    def test_help_exits_zero_and_lists_serve(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("serve", r.stdout)
        self.assertIn("Exit codes", r.stdout)

    def test_no_subcommand_is_a_usage_error(self):
        self.assertEqual(run().returncode, 2)

    def test_unknown_flag_is_a_usage_error(self):
        r = run("serve", "--no-such-flag")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no-such-flag", r.stderr)

    def test_a_removed_reps_policy_it_does_not_know_is_a_usage_error(self):
        r = run("serve", "--removed-reps", "drop")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--removed-reps", r.stderr)
        self.assertIn("keep", r.stderr)

    def test_limits_out_of_range_are_usage_errors_naming_the_flag(self):
        for args, flag in [
                (("--max-response-bytes", "1000"), "--max-response-bytes"),
                (("--watch-buffer-bytes", "0"), "--watch-buffer-bytes"),
                (("--max-stats-scans", "0"), "--max-stats-scans"),
                (("--lead-retention", "1h"), "--lead-retention"),
                (("--lead-retention", "soon"), "--lead-retention"),
                (("--lead-cache", "0"), "--lead-cache"),
                (("--sla-ahead", "30s"), "--sla-ahead"),
                (("--sla-ahead", "8d"), "--sla-ahead"),
                (("--webhook-dead-letter-max-bytes", "10"),
                 "--webhook-dead-letter-max-bytes")]:
            r = run("serve", *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(flag, r.stderr)

    def test_state_refuses_a_password_on_the_command_line_and_a_data_dir(self):
        rules = os.path.join(EXAMPLES, "acme.route")
        with tempfile.TemporaryDirectory() as tmp:
            for args, said in [
                    (("--state", "host=127.0.0.1 password=hunter2"),
                     "--state: holds a password"),
                    (("--state", "postgresql://lr:hunter2@127.0.0.1/lr"),
                     "--state: holds a password"),
                    (("--state", "host=127.0.0.1 nonsense"),
                     "--state: not a PostgreSQL connection string"),
                    (("--state", "host=127.0.0.1", "--data-dir", tmp),
                     "--data-dir and --state"),
                    (("--state", "host=127.0.0.1", "--listen", "0.0.0.0:0"),
                     "flag=--advertise"),
                    (("--state", "host=127.0.0.1", "--listen", "[::]:50051"),
                     "flag=--advertise"),
                    (("--state", "host=127.0.0.1", "--webhook-url",
                      "http://127.0.0.1:9/hook", "--webhook-secret-file",
                      rules),
                     "--webhook-dead-letter"),
                    (("--writer-poll", "10ms"), "--writer-poll")]:
                r = run("serve", "--rules", rules, *args)
                self.assertEqual(r.returncode, 2, args)
                self.assertIn(said, r.stderr)
                self.assertNotIn("hunter2", r.stderr)

    def test_missing_rules_path_is_an_io_error(self):
        r = run("serve", "--rules", "/nonexistent/rules.route")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read rules", r.stderr)
        self.assertIn("/nonexistent/rules.route", r.stderr)

    def test_broken_rules_are_refused_with_their_diagnostics(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.route")
            with open(path, "w") as f:
                f.write('ruleset "bad" version "1"\nassign {\n'
                        '  rule r when nope == 1 then queue q\n}\n')
            r = run("serve", "--listen", "127.0.0.1:0", "--rules", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn('level=error msg="rule error" at=', r.stderr)
        self.assertIn("bad.route:3:15 message=\"undefined attribute `nope`\"",
                      r.stderr)
        self.assertIn("rules have errors; not serving", r.stderr)
        self.assertTrue(all(l.startswith("ts=") for l in r.stderr.splitlines()),
                        r.stderr)

    def test_rule_warnings_are_logged_one_logfmt_line_each(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "warn.route")
            with open(path, "w") as f:
                f.write('ruleset "w" version "1"\nschema { n: int required }\n'
                        'queue q\nassign {\n'
                        '  rule r when n > 1 then queue q\n}\n')
            proc = subprocess.Popen(
                [cli_testlib.BINARY, "serve", "--listen", "127.0.0.1:0",
                 "--rules", path], stderr=subprocess.PIPE, text=True)
            err = ""
            while "msg=listening" not in err:
                line = proc.stderr.readline()
                if not line:
                    break
                err += line
            proc.terminate()
            err += proc.stderr.read()
            self.assertEqual(proc.wait(timeout=30), 0)
        warnings = [l for l in err.splitlines() if "level=warn" in l]
        self.assertEqual(len(warnings), 1, err)
        self.assertIn('msg="rule warning" at=', warnings[0])
        self.assertIn("warn.route:4:1 code=fall_through message=\"some leads "
                      "match no rule of the assign stage", warnings[0])
        self.assertTrue(all(l.startswith("ts=") for l in err.splitlines()), err)

    def test_serves_the_example_rules(self):
        proc, line = start_server(
            "--rules", os.path.join(EXAMPLES, "acme.route"))
        proc.terminate()
        proc.stderr.read()  # drain, so the server never blocks on a full pipe
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertIn("msg=listening", line)

    def test_busy_port_is_an_error_not_a_hang(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            r = run("serve", "--listen", f"127.0.0.1:{port}")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot listen", r.stderr)

    def test_route_calls_a_running_server(self):
        proc, line = start_server()
        try:
            addr = line.split("addr=")[1].strip()
            r = run("route", "--server", addr,
                    os.path.join(EXAMPLES, "leads", "demo_request.json"))
            self.assertEqual(r.returncode, 0, r.stderr)
            decision = json.loads(r.stdout)
            self.assertEqual(decision["lead_id"], "lead-1001")
            self.assertEqual(decision["channel"], "phone")

            r = run("route", "--server", addr, "-",
                    stdin='[{"id": "b-1"}, {"id": ""}]')
            self.assertEqual(r.returncode, 1)
            results = json.loads(r.stdout)["results"]
            self.assertEqual(results[0]["decision"]["lead_id"], "b-1")
            self.assertEqual(results[1]["error"]["field"], "id")

            r = run("route", "--server", addr, "-", stdin='{"id": 5')
            self.assertEqual(r.returncode, 1)
            self.assertIn("leadroute route:", r.stderr)

            for empty in ("[]", "[[]]"):
                r = run("route", "--server", addr, "-", stdin=empty)
                self.assertEqual(r.returncode, 1, empty)
                self.assertEqual(r.stdout, "", empty)
            self.assertIn("an empty array, no lead to route",
                          run("route", "--server", addr, "-",
                              stdin="[]").stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    def test_route_refuses_a_why_not_rule_the_rules_do_not_have(self):
        proc, line = start_server(
            "--rules", os.path.join(EXAMPLES, "acme.route"))
        try:
            addr = line.split("addr=")[1].strip()
            lead = os.path.join(EXAMPLES, "leads", "demo_request.json")
            r = run("route", "--server", addr, lead, "--why-not", "pricing_intnt")
            self.assertEqual(r.returncode, 1, r.stdout)
            self.assertIn("options.why_not[0]: no rule named `pricing_intnt` "
                          "(did you mean `pricing_intent`?)", r.stderr)
            r = run("route", "--server", addr, lead, "--why-not", "pricing_intent")
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    def test_route_takes_plain_json_a_reroute_and_a_received_time(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc, line = start_server(
                "--rules", os.path.join(EXAMPLES, "acme.route"),
                "--data-dir", tmp)
            try:
                addr = line.split("addr=")[1].strip()
                lead = json.dumps({
                    "id": "p-1", "email": "kim@plain.example",
                    "country": "US", "employees": 40, "source": "Webinar",
                    "products": ["cpq"],
                    "last_pricing_visit": "2026-11-29T10:00:00Z"})
                r = run("route", "--server", addr, "-",
                        "--received-at", "2026-11-30T09:00:00Z", stdin=lead)
                self.assertEqual(r.returncode, 0, r.stderr)
                first = json.loads(r.stdout)
                self.assertEqual(first["lead_id"], "p-1")
                self.assertNotIn("replayed", first)
                # The SLA counts from when the lead came in, not from now.
                received = datetime.datetime(2026, 11, 30, 9, 0, 0,
                                             tzinfo=datetime.timezone.utc)
                sla = datetime.timedelta(seconds=int(first["sla"][:-1]))
                self.assertEqual(first["respond_by"],
                                 (received + sla).strftime("%Y-%m-%dT%H:%M:%SZ"))

                r = run("route", "--server", addr, "-", stdin=lead)
                self.assertTrue(json.loads(r.stdout)["replayed"])
                r = run("route", "--server", addr, "-", "--reroute",
                        stdin=lead)
                self.assertEqual(r.returncode, 0, r.stderr)
                again = json.loads(r.stdout)
                self.assertNotIn("replayed", again)
                self.assertNotEqual(again["decision_id"], first["decision_id"])

                # A batch of plain leads, each checked where it stands.
                r = run("route", "--server", addr, "-", stdin=json.dumps(
                    [{"id": "p-2", "email": "a@b.example", "country": "DE",
                      "source": "ebook"},
                     {"id": "p-3", "country": "DE", "products": ["x", 3]}]))
                self.assertEqual(r.returncode, 1)
                self.assertIn("[1] products[1]: a list holds strings",
                              r.stderr)

                r = run("route", "--server", addr, "-", "--received-at",
                        "yesterday", stdin=lead)
                self.assertEqual(r.returncode, 2)
                self.assertIn("--received-at", r.stderr)
            finally:
                proc.terminate()
                proc.wait(timeout=30)

    def test_route_to_no_server_is_an_io_error(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        r = run("route", "--server", f"127.0.0.1:{port}", "--timeout", "2",
                os.path.join(EXAMPLES, "leads", "demo_request.json"))
        self.assertEqual(r.returncode, 2)

    def test_route_unreadable_file_is_an_io_error(self):
        r = run("route", "/nonexistent/lead.json")
        self.assertEqual(r.returncode, 2)
        self.assertIn("cannot read /nonexistent/lead.json", r.stderr)

    def test_sighup_reloads_good_rules_and_keeps_serving_on_broken_ones(self):
        def rules(version, owner):
            return (f'ruleset "r" version "{version}"\n'
                    f'queue {owner}\nassign {{ otherwise queue {owner} }}\n')

        def wait_for(proc, text):
            seen = []
            line = proc.stderr.readline()
            while line and text not in line:
                seen.append(line)
                line = proc.stderr.readline()
            self.assertIn(text, line, "".join(seen))
            return "".join(seen)

        leads = iter(range(1000))

        def route(addr):
            # A new lead each time: with --data-dir a lead id sent again
            # keeps the owner it got first.
            r = run("route", "--server", addr, "-",
                    stdin=json.dumps({"id": f"x{next(leads)}"}))
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.loads(r.stdout)

        def revision_and_owner(addr):
            d = route(addr)
            return d["ruleset"]["revision"], d["owner"]

        def decide(addr):
            d = route(addr)
            return d["ruleset"]["version"], d["owner"]

        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "r.route")
            data = os.path.join(tmp, "data")
            with open(path, "w") as f:
                f.write(rules("1", "first"))
            proc, line = start_server("--rules", path, "--watch", "0",
                                      "--data-dir", data)
            try:
                addr = line.split("addr=")[1].strip()
                self.assertEqual(decide(addr), ("1", "first"))

                with open(path, "w") as f:
                    f.write('ruleset "r" version "2"\nassign {\n'
                            '  rule r when nope == 1 then queue q\n}\n')
                proc.send_signal(signal.SIGHUP)
                before = wait_for(proc, "reload failed")
                self.assertIn("r.route:3:15 message=\"undefined attribute "
                              "`nope`\"", before)
                self.assertEqual(decide(addr), ("1", "first"))

                with open(path, "w") as f:
                    f.write(rules("3", "third"))
                proc.send_signal(signal.SIGHUP)
                wait_for(proc, 'msg="rules loaded"')
                self.assertEqual(decide(addr), ("3", "third"))
                self.assertEqual(revision_and_owner(addr), ("2", "third"))

                # Saved again unchanged: the same rules are not a new
                # revision (nor a new audit row).
                with open(path, "w") as f:
                    f.write(rules("3", "third"))
                proc.send_signal(signal.SIGHUP)
                # Up to the reload's outcome, whichever it is.
                line = proc.stderr.readline()
                while line and not ("rules unchanged" in line or
                                    'msg="rules loaded"' in line):
                    line = proc.stderr.readline()
                self.assertIn('msg="rules unchanged; serving on"', line)
                self.assertIn("revision=2 ", line)
                self.assertEqual(revision_and_owner(addr), ("2", "third"))
            finally:
                proc.terminate()
                proc.stderr.read()
                self.assertEqual(proc.wait(timeout=30), 0)
            r = run("state", "audit", "--data-dir", data, "--json")
            self.assertEqual(r.returncode, 0, r.stderr)
            rows = [json.loads(l) for l in r.stdout.splitlines()]
            self.assertEqual([(x["action"], x["before"].split(" fingerprint")[0],
                               x["after"].split(" fingerprint")[0])
                              for x in rows],
                             [("rules.load", "", "revision 1"),
                              ("rules.load", "revision 1", "revision 2")])

    def test_a_change_of_the_rules_folder_reloads_it(self):
        """--rules DIR: the file declaring the ruleset is the root; a change
        to an included file, broken or good, is picked up without a
        signal, and the admin port reports it."""
        def wait_for(proc, text):
            line = proc.stderr.readline()
            while line and text not in line:
                line = proc.stderr.readline()
            self.assertIn(text, line)
            return line

        def decide(addr):
            r = run("route", "--server", addr, "-", stdin='{"id": "x"}')
            self.assertEqual(r.returncode, 0, r.stderr)
            d = json.loads(r.stdout)
            return d["ruleset"]["revision"], d["owner"]

        def write(path, text):
            # Write beside and rename, as editors and deploy tools do.
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)

        with tempfile.TemporaryDirectory() as tmp:
            write(os.path.join(tmp, "main.route"),
                  'ruleset "r" version "1"\ninclude "queues.route"\n'
                  'assign { otherwise queue first }\n')
            queues = os.path.join(tmp, "queues.route")
            write(queues, "queue first\nqueue second\n")
            proc, line = start_server("--rules", tmp, "--watch", "0.1",
                                      "--admin-listen", "127.0.0.1:0")
            try:
                addr = line.split("addr=")[1].strip()
                http = wait_for(proc, "admin http listening").split(
                    "addr=")[1].split()[0]
                self.assertEqual(decide(addr), ("1", "first"))

                write(queues, "queue first\nqueue second\nqueue first\n")
                wait_for(proc, "reload failed")
                self.assertEqual(decide(addr), ("1", "first"))
                status = json.loads(urllib.request.urlopen(
                    f"http://{http}/status", timeout=10).read())
                self.assertEqual(status["live"]["revision"], 1)
                self.assertIn("queues.route",
                              status["last_reload_error"]["diagnostics"][0]
                              ["file"])

                write(os.path.join(tmp, "main.route"),
                      'ruleset "r" version "2"\ninclude "queues.route"\n'
                      'assign { otherwise queue second }\n')
                write(queues, "queue first\nqueue second\n")
                wait_for(proc, 'msg="rules loaded"')
                # Two files written one after the other: when the watcher
                # compiled between them and the second landed while it read,
                # the next poll loads the same rules again (rules_watcher.cc),
                # so the revision may be 3 as well as 2.
                for _ in range(50):  # until a second load, if any, is done
                    revision, owner = decide(addr)
                    metrics = urllib.request.urlopen(
                        f"http://{http}/metrics", timeout=10).read().decode()
                    if (f"leadroute_ruleset_live_revision {revision}\n"
                            in metrics):
                        break
                    time.sleep(0.1)
                self.assertEqual(owner, "second")
                self.assertIn(revision, ("2", "3"))
                self.assertIn(f"leadroute_ruleset_live_revision {revision}\n",
                              metrics)
                self.assertIn('leadroute_reloads_total{result="failure"} ',
                              metrics)
            finally:
                proc.terminate()
                proc.stderr.read()
                self.assertEqual(proc.wait(timeout=30), 0)

    def check_graceful_stop(self, sig, name):
        proc, line = start_server()
        self.assertRegex(line, r"level=info msg=listening addr=127\.0\.0\.1:\d+")
        proc.send_signal(sig)
        rest = proc.stderr.read()
        self.assertEqual(proc.wait(timeout=30), 0)
        self.assertRegex(rest, rf"msg=stopping signal=\"?{name}")
        self.assertIn("msg=stopped", rest)

    def test_sigterm_stops_gracefully(self):
        self.check_graceful_stop(signal.SIGTERM, "Terminated")

    def test_sigint_stops_gracefully(self):
        self.check_graceful_stop(signal.SIGINT, "Interrupt")


if __name__ == "__main__":
    main()
