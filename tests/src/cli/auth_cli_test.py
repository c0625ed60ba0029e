#!/usr/bin/env python3
"""Trust as an operator meets it through the binary: `leadroute auth
add/list/remove` editing an --auth file, `serve --auth` picking changes up
(on its own and on SIGHUP) and saying so, client commands with
--token-file, and `serve` refusing a public address without --auth and TLS
unless told --insecure."""
import json
import os
import signal
import stat
import subprocess
import threading
import time

import cli_testlib
from cli_testlib import EXAMPLES, TempDirCase, leadroute, main

LEAD = ('{"id": "L1", "country": "FR", "employees": 40, "email": "a@b.fr", '
        '"source": "demo_request"}')


class Server:
    """`leadroute serve` with its stderr collected line by line."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([cli_testlib.BINARY, "serve", *args],
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for(self, text, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and text not in "".join(self.lines):
                break
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in:\n{''.join(self.lines)}")

    def address(self):
        line = self.wait_for("msg=listening")
        return line.split("addr=")[1].split()[0]

    def stop(self):
        self.proc.terminate()
        code = self.proc.wait(timeout=30)
        self.thread.join(timeout=5)
        self.proc.stderr.close()
        return code


class AuthCliTest(TempDirCase):
    def add(self, name, roles, *extra):
        r = leadroute("auth", "add", name, "--roles", roles, "--file",
                      self.path, *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def setUp(self):
        super().setUp()
        self.path = os.path.join(self.tmp, "auth.txt")

    def test_add_prints_the_token_once_and_keeps_only_its_hash(self):
        r = self.add("crm", "route,activity", "--comment", "salesforce")
        token = r.stdout.strip()
        self.assertRegex(token, r"^lr_[A-Za-z0-9_-]{43}$")
        self.assertIn("only time the token is shown", r.stderr)
        text = self.read(self.path)
        self.assertNotIn(token, text)
        self.assertRegex(text, r"crm route,activity sha256:[0-9a-f]{64}  # "
                               r"added \d{4}-\d\d-\d\dT[\d:]+Z salesforce")
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        self.add("ci", "rules,read", "--cert", "ci.example.com")
        self.add("crm", "route,activity")  # a second token, for rotation
        r = leadroute("auth", "list", "--file", self.path, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = json.loads(r.stdout)
        self.assertEqual([p["name"] for p in listed], ["crm", "ci", "crm"])
        self.assertEqual(listed[0]["roles"], ["route", "activity"])
        self.assertEqual(listed[1]["id"], "cert:ci.example.com")
        self.assertEqual(listed[1]["kind"], "cert")
        text = leadroute("auth", "list", "--file", self.path).stdout
        self.assertIn("NAME", text)
        self.assertIn(listed[2]["id"], text)
        # The same name with other roles is refused, the file untouched.
        before = self.read(self.path)
        r = leadroute("auth", "add", "crm", "--roles", "rules", "--file",
                      self.path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("already has roles route,activity", r.stderr)
        r = leadroute("auth", "add", "x", "--roles", "raed", "--file",
                      self.path)
        self.assertEqual(r.returncode, 2)
        self.assertIn('did you mean "read"', r.stderr)
        self.assertEqual(self.read(self.path), before)
        # Remove one credential by id, then the whole principal.
        r = leadroute("auth", "remove", "crm", "--id", listed[0]["id"],
                      "--file", self.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(leadroute(
            "auth", "list", "--file", self.path, "--format",
            "json").stdout)), 2)
        r = leadroute("auth", "remove", "nobody", "--file", self.path)
        self.assertEqual(r.returncode, 1)
        self.assertIn('no principal "nobody"', r.stderr)
        r = leadroute("auth", "remove", "crm", "--file", self.path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("crm", self.read(self.path))

    def test_a_broken_file_names_its_line(self):
        self.write("auth.txt", "crm route lr_not_a_hash\n")
        r = leadroute("auth", "list", "--file", self.path)
        self.assertEqual(r.returncode, 1)
        self.assertIn("auth.txt:1:11:", r.stderr)
        r = leadroute("serve", "--auth", self.path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--auth: ", r.stderr)
        self.assertIn("auth.txt:1:11:", r.stderr)

    def test_serve_with_auth_reloads_and_clients_send_tokens(self):
        token_file = self.write("crm.token", self.add("crm", "route").stdout)
        server = Server("--listen", "127.0.0.1:0", "--auth", self.path,
                        "--rules", os.path.join(EXAMPLES, "acme.route"),
                        "--data-dir", os.path.join(self.tmp, "data"))
        try:
            addr = server.address()
            self.assertIn("principals=1", server.wait_for("msg=\"auth loaded\""))
            lead = self.write("lead.json", LEAD)
            r = leadroute("route", lead, "--server", addr)
            self.assertEqual(r.returncode, 2)
            self.assertIn("UNAUTHENTICATED: no credentials", r.stderr)
            r = leadroute("route", lead, "--server", addr, "--token-file",
                          token_file)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout)["lead_id"], "L1")
            r = leadroute("reps", "list", "--server", addr, "--token-file",
                          token_file)
            self.assertEqual(r.returncode, 2)
            self.assertIn('PERMISSION_DENIED: Assignments/ListReps needs role '
                          '"manage"; principal "crm" has route', r.stderr)
            # The environment names the token file too.
            env = dict(os.environ, LEADROUTE_TOKEN_FILE=token_file)
            r = subprocess.run([cli_testlib.BINARY, "route", lead, "--server",
                                addr], capture_output=True, text=True,
                               env=env, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            # A principal added while serving is let in within a second or
            # two, without a signal.
            ops_file = self.write("ops.token", self.add("ops", "manage").stdout)
            deadline = time.time() + 10
            while True:
                r = leadroute("reps", "list", "--server", addr,
                              "--token-file", ops_file)
                if r.returncode == 0 or time.time() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(r.returncode, 0, r.stderr)
            rep = json.loads(leadroute("reps", "list", "--server", addr,
                                       "--token-file", ops_file, "--format",
                                       "json").stdout)["reps"][0]["rep"]
            r = leadroute("reps", "status", rep, "away", "--until", "4h",
                          "--note", "training", "--server", addr,
                          "--token-file", ops_file)
            self.assertEqual(r.returncode, 0, r.stderr)
            # A broken edit keeps the principals in force and says why.
            with open(self.path, "a") as f:
                f.write("oops\n")
            server.wait_for("auth reload failed; keeping the previous "
                            "principals")
            r = leadroute("route", lead, "--server", addr, "--token-file",
                          token_file)
            self.assertEqual(r.returncode, 0, r.stderr)
            # Removed, and SIGHUP makes it so at once.
            lines = self.read(self.path).splitlines()
            with open(self.path, "w") as f:
                f.write("".join(l + "\n" for l in lines
                                if not l.startswith(("crm ", "oops"))))
            server.proc.send_signal(signal.SIGHUP)
            deadline = time.time() + 10
            while True:
                r = leadroute("route", lead, "--server", addr,
                              "--token-file", token_file)
                if r.returncode != 0 or time.time() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(r.returncode, 2)
            self.assertIn("matches no principal", r.stderr)
        finally:
            self.assertEqual(server.stop(), 0)
        # Who did what, from the data dir.
        data = os.path.join(self.tmp, "data")
        r = leadroute("state", "audit", "--data-dir", data, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [json.loads(l) for l in r.stdout.splitlines()]
        # The start's load and the status; the SIGHUP found the rules
        # unchanged, which makes no new revision.
        self.assertEqual([(x["principal"], x["action"]) for x in rows],
                         [("file", "rules.load"), ("ops", "rep.status")])
        self.assertEqual(rows[0]["peer"], os.path.join(EXAMPLES, "acme.route"))
        self.assertTrue(rows[1]["peer"].startswith("ipv4:127.0.0.1:"), rows[1])
        self.assertEqual(rows[1]["target"], rep)
        self.assertEqual(rows[1]["before"], "available")
        self.assertRegex(rows[1]["after"], r"^away until \d{4}-")
        self.assertEqual(rows[1]["reason"], "training")
        text = leadroute("state", "audit", "--data-dir", data,
                         "--principal", "ops").stdout
        self.assertEqual(len(text.splitlines()), 1, text)
        self.assertIn("ops", text)
        self.assertIn("rep.status", text)

    def test_public_address_needs_auth_and_tls_or_insecure(self):
        r = leadroute("serve", "--listen", "0.0.0.0:0")
        self.assertEqual(r.returncode, 2)
        for flag in ("--listen 0.0.0.0:0", "--auth", "--tls-cert",
                     "--insecure"):
            self.assertIn(flag, r.stderr)
        server = Server("--listen", "0.0.0.0:0", "--insecure")
        try:
            server.address()
            warning = server.wait_for("level=warn msg=insecure")
            self.assertIn("no --auth FILE", warning)
        finally:
            self.assertEqual(server.stop(), 0)


if __name__ == "__main__":
    main()
