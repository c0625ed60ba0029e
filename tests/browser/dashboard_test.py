#!/usr/bin/env python3
"""The dashboard in a real browser (issue 23).

Starts the real `leadroute serve` with --auth on ephemeral loopback ports, a
data dir in a temporary folder and tests/browser/dashboard.route; seeds its
store through the gRPC API only (Route with leads received now and earlier,
RecordContact, RecordOutcome, SetRepStatus), then drives Debian's chromium
headless through chromedriver (python3-selenium) and checks:
- the page asks for a token, and shows the dashboard once given one; it
  logs no console error;
- every headline tile equals `leadroute report --format json` over the
  same window (and with a team filter, `report --team`);
- changing the window or a filter changes the URL and the numbers;
- a lead made overdue shows in the SLA list within one refresh, and a rep
  set out of office shows so;
- the JSON API refuses a caller without a token.
Screenshots at 1280x800 and 390x844 go to --work-dir. Exits non-zero on
failure.
"""
import argparse
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

ARGS = None
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "contract"))
from route_contract_test import generate_clients  # noqa: E402

# How long the page may take to show what changed: one refresh (5 s), a
# sweep, and slack for a loaded CI machine.
SETTLE_S = 20


def iso(t):
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def start_server(binary, folder, auth_file):
    data = os.path.join(folder, "data")
    proc = subprocess.Popen(
        [binary, "serve", "--rules", os.path.join(HERE, "dashboard.route"),
         "--data-dir", data, "--listen", "127.0.0.1:0", "--admin-listen",
         "127.0.0.1:0", "--auth", auth_file,
         "--grace", "5"],
        stderr=subprocess.PIPE, text=True)
    grpc_address = admin = None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        m = re.search(r"msg=listening addr=(\S+)", line)
        if m:
            grpc_address = m.group(1)
        m = re.search(r'msg="admin http listening" addr=(\S+)', line)
        if m:
            admin = m.group(1)
        if grpc_address and admin:
            return proc, data, grpc_address, admin
    raise RuntimeError("server exited before listening:\n" + "".join(seen))


def add_principal(binary, auth_file, name, roles):
    out = subprocess.run([binary, "auth", "add", name, "--roles", roles,
                          "--file", auth_file], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def browser(width, height):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--window-size={width},{height}",
                 "--user-data-dir=" + tempfile.mkdtemp(prefix="chromium-")):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"),
                              options=opts)
    # The viewport exactly (a window has a minimum width a phone's is
    # under), with a phone's touch and viewport rules below 600 px.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1,
        "mobile": width < 600})
    return driver


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        import grpc
        from leadroute.v1 import leadroute_pb2, leadroute_pb2_grpc

        cls.pb = leadroute_pb2
        cls.folder = tempfile.TemporaryDirectory()
        auth = os.path.join(cls.folder.name, "auth.txt")
        cls.ops_token = add_principal(ARGS.leadroute, auth, "crm",
                                      "route,activity,manage")
        cls.read_token = add_principal(ARGS.leadroute, auth, "revops", "read")
        cls.proc, cls.data, address, admin = start_server(
            ARGS.leadroute, cls.folder.name, auth)
        cls.base = f"http://{admin}"
        cls.channel = grpc.insecure_channel(address)
        grpc.channel_ready_future(cls.channel).result(timeout=30)
        cls.meta = [("authorization", "Bearer " + cls.ops_token)]
        cls.router = leadroute_pb2_grpc.LeadRouterStub(cls.channel)
        cls.assignments = leadroute_pb2_grpc.AssignmentsStub(cls.channel)
        cls.seed()
        cls.driver = browser(1280, 800)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        cls.channel.close()
        cls.proc.send_signal(signal.SIGTERM)
        cls.proc.wait(timeout=30)
        cls.folder.cleanup()

    # ---- seeding, through the API only ------------------------------------
    @classmethod
    def route(cls, lead_id, country, source, received=None):
        lead = cls.pb.Lead(id=lead_id)
        lead.attributes["country"].string_value = country
        lead.attributes["source"].string_value = source
        request = cls.pb.RouteRequest(lead=lead)
        if received is not None:
            request.options.received_at.FromDatetime(received)
        return cls.router.Route(request, timeout=10,
                                metadata=cls.meta).decision

    @classmethod
    def seed(cls):
        """Two batches: the first alone is the 'early' window."""
        pb = cls.pb
        cls.t0 = datetime.datetime.now(datetime.timezone.utc).replace(
            microsecond=0) - datetime.timedelta(seconds=1)
        plan = [("US", "web")] * 12 + [("DE", "event")] * 6 + \
            [("FR", "partner")] * 3 + [("GB", "web")] * 3
        for i, (country, source) in enumerate(plan):
            cls.route(f"early-{i}", country, source)
        # Half the US and DE leads contacted, within the server's allowance
        # for clock skew (5 minutes ahead): response times of 0 to 4 min.
        for i in range(0, 18, 2):
            request = pb.RecordContactRequest(lead_id=f"early-{i}",
                                              channel="phone")
            request.at.FromDatetime(datetime.datetime.now(
                datetime.timezone.utc) + datetime.timedelta(seconds=15 * i))
            cls.assignments.RecordContact(request, timeout=10,
                                          metadata=cls.meta)
        for i, outcome in ((0, pb.OUTCOME_QUALIFIED),
                           (2, pb.OUTCOME_OPPORTUNITY), (4, pb.OUTCOME_WON),
                           (6, pb.OUTCOME_QUALIFIED)):
            cls.assignments.RecordOutcome(
                pb.RecordOutcomeRequest(lead_id=f"early-{i}",
                                        outcome=outcome),
                timeout=10, metadata=cls.meta)
        time.sleep(1.2)
        cls.t1 = datetime.datetime.now(datetime.timezone.utc).replace(
            microsecond=0)
        time.sleep(1.2)
        for i, (country, source) in enumerate([("US", "event")] * 8 +
                                              [("DE", "web")] * 4):
            cls.route(f"late-{i}", country, source)
        cls.t2 = datetime.datetime.now(datetime.timezone.utc).replace(
            microsecond=0) + datetime.timedelta(seconds=2)

    # ---- helpers ----------------------------------------------------------
    def report(self, start, end, *flags):
        out = subprocess.run(
            [ARGS.leadroute, "report", "--data-dir", self.data, "--from",
             iso(start), "--to", iso(end), "--format", "json", *flags],
            check=True, capture_output=True, text=True)
        return json.loads(out.stdout)["total"]

    def open_page(self, query=""):
        self.driver.get(self.base + "/" + query)
        self.wait_for(lambda d: not d.find_element("id", "main")
                      .get_attribute("hidden") or not d.find_element(
                          "id", "login").get_attribute("hidden"))

    def wait_for(self, condition, timeout=SETTLE_S):
        """`condition`'s first truthy value; the page redraws its tables on
        every refresh, so an element may go stale between find and read."""
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(
            self.driver, timeout, poll_frequency=0.2,
            ignored_exceptions=[StaleElementReferenceException]).until(
                condition)

    def text_of(self, selector):
        return self.wait_for(lambda d: d.find_element(
            "css selector", selector).text or None)

    def sign_in(self):
        d = self.driver
        if d.find_element("id", "login").get_attribute("hidden"):
            return
        d.find_element("id", "token").send_keys(self.read_token)
        d.find_element("css selector", "#login-form button").click()
        self.wait_for(lambda d: not d.find_element("id", "main")
                      .get_attribute("hidden"))

    def tile(self, name):
        return self.driver.find_element("id", "tile-" + name) \
            .get_attribute("data-value")

    def tiles_loaded(self):
        self.wait_for(lambda d: d.find_elements("id", "tile-routed"))

    def assert_tiles_equal(self, report):
        expected = {
            "routed": report["routed"],
            "p50": report["p50_first_response_s"],
            "p90": report["p90_first_response_s"],
            "sla": report["sla_met_rate"],
            "sql": report["lead_to_sql"],
            "opp": report["sql_to_opportunity"],
            "queued": report["queued"],
            "unassigned": report["unassigned"],
        }
        # Read in one script, so no refresh falls between two tiles.
        shown = self.driver.execute_script(
            "const out = {};"
            "document.querySelectorAll('.tile').forEach(t => {"
            "  out[t.id.slice(5)] = [t.dataset.value,"
            "                        t.querySelector('.value').textContent];"
            "}); return out;")
        for name, want in expected.items():
            got, text = shown[name]
            if want is None:
                self.assertEqual(got, "", name)
            else:
                self.assertAlmostEqual(float(got), float(want), places=6,
                                       msg=name)
            self.assertTrue(text and text != "–" or want is None, name)

    def console_errors(self):
        return [e for e in self.driver.get_log("browser")
                if e["level"] == "SEVERE"]

    def url_params(self):
        return urllib.parse.parse_qs(
            urllib.parse.urlparse(self.driver.current_url).query)

    # ---- the tests, in order (unittest sorts by name) ---------------------
    def test_1_api_refuses_a_caller_without_a_token(self):
        for path in ("/api/v1/dashboard", "/status"):
            with self.assertRaises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(self.base + path, timeout=10)
            self.assertEqual(caught.exception.code, 401, path)
        request = urllib.request.Request(
            self.base + "/api/v1/dashboard?window=bad",
            headers={"Authorization": "Bearer " + self.read_token})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        self.assertEqual(caught.exception.code, 400)
        body = json.loads(caught.exception.read())
        self.assertEqual(body["field"], "window")
        # The page itself holds no data and needs none.
        with urllib.request.urlopen(self.base + "/", timeout=10) as r:
            self.assertIn("routing dashboard", r.read().decode())

    def test_2_tiles_equal_the_report_for_the_same_window(self):
        self.open_page(f"?from={iso(self.t0)}&to={iso(self.t2)}")
        self.assertFalse(self.driver.find_element("id", "login")
                         .get_attribute("hidden"), "asks for a token")
        # The 401s that made the page ask are logged as network errors.
        refused = [e["message"] for e in self.console_errors()]
        self.assertTrue(refused and all("401" in m for m in refused), refused)
        self.sign_in()
        self.tiles_loaded()
        whole = self.report(self.t0, self.t2)
        self.assertEqual(whole["routed"], 36)
        self.assert_tiles_equal(whole)
        self.assertEqual(self.driver.find_element("id", "window")
                         .get_attribute("value"), "custom")
        self.assertEqual(self.console_errors(), [])

    def test_3_window_and_filters_change_numbers_and_url(self):
        self.open_page(f"?from={iso(self.t0)}&to={iso(self.t1)}")
        self.sign_in()
        self.wait_for(lambda d: self.tile("routed") == "24")
        self.assert_tiles_equal(self.report(self.t0, self.t1))
        # A filter: the URL says so, and the numbers are the team's.
        from selenium.webdriver.support.ui import Select
        self.wait_for(lambda d: "us" in [
            o.get_attribute("value") for o in
            Select(d.find_element("id", "team")).options])
        Select(self.driver.find_element("id", "team")).select_by_value("us")
        us = self.report(self.t0, self.t1, "--team", "us")
        self.assertEqual(us["routed"], 12)
        self.wait_for(lambda d: self.tile("routed") == "12")
        self.assertEqual(self.url_params().get("team"), ["us"])
        self.assert_tiles_equal(us)
        # The window: 7 days holds every lead of the team, early and late.
        Select(self.driver.find_element("id", "window")).select_by_value("7d")
        self.wait_for(lambda d: self.tile("routed") == "20")
        params = self.url_params()
        self.assertEqual(params.get("window"), ["7d"])
        self.assertNotIn("from", params)
        # The view survives a reload from its URL.
        self.driver.refresh()
        self.wait_for(lambda d: d.find_elements("id", "tile-routed") and
                      self.tile("routed") == "20")  # noqa: E127
        self.assertEqual(Select(self.driver.find_element("id", "team"))
                         .first_selected_option.get_attribute("value"), "us")
        self.assertEqual(self.console_errors(), [])

    def test_4_overdue_lead_and_out_of_office_rep_show_within_a_refresh(self):
        pb = self.pb
        self.open_page("?window=24h")
        self.sign_in()
        self.tiles_loaded()
        # Received two hours ago with a one-hour SLA: overdue as it lands.
        received = datetime.datetime.now(datetime.timezone.utc) - \
            datetime.timedelta(hours=2)
        d = self.route("overdue-1", "US", "web", received=received)
        self.assertEqual(d.owner_kind, pb.OWNER_KIND_REP)
        row = self.wait_for(lambda d: d.find_element(
            "css selector", '#open-table tr[data-lead="overdue-1"]').text)
        self.assertIn("overdue by", row)
        self.assertIn(d.owner, row)
        # The overdue lead sorts first (least time left).
        self.assertEqual(self.wait_for(lambda d: d.find_element(
            "css selector", "#open-table tbody tr").get_attribute(
                "data-lead")), "overdue-1")

        until = datetime.datetime.now(datetime.timezone.utc) + \
            datetime.timedelta(days=2)
        request = pb.SetRepStatusRequest(
            rep="cyd", availability=pb.REP_AVAILABILITY_OUT_OF_OFFICE,
            note="conference")
        request.until.FromDatetime(until)
        self.assignments.SetRepStatus(request, timeout=10, metadata=self.meta)
        self.wait_for(lambda d: "out of office" in d.find_element(
            "css selector", '#rep-table tr[data-rep="cyd"]').text)
        self.assertIn("available", self.text_of('#rep-table tr[data-rep="ann"]'))
        # With cyd away, the next German lead falls back to the triage
        # queue (`team eu else queue triage`): the rules panel counts it as
        # `report --by rule` does.
        d = self.route("fallback-1", "DE", "event")
        self.assertEqual(d.owner, "triage")
        cells = self.wait_for(lambda d: (lambda c: c if c[3] == "1" else None)(
            d.execute_script(
                "const r = document.querySelector("
                "'#rule-table tr[data-rule=\"assign/eu_leads\"]');"
                "return r ? Array.from(r.cells).map(c => c.textContent)"
                " : ['', '', '', ''];")))
        now = datetime.datetime.now(datetime.timezone.utc)
        out = subprocess.run(
            [ARGS.leadroute, "report", "--data-dir", self.data, "--from",
             iso(now - datetime.timedelta(hours=1)), "--to",
             iso(now + datetime.timedelta(minutes=1)), "--by", "rule",
             "--format", "json"], check=True, capture_output=True, text=True)
        eu = [r for r in json.loads(out.stdout)["rows"]
              if r["key"] == "assign/eu_leads"][0]
        self.assertEqual(eu["fallback"], 1)
        self.assertEqual(cells[1], str(eu["routed"]))
        self.assertIn("taken by a fallback", self.text_of("#rates"))
        # Rules: the one that matched nothing is listed as never fired.
        never = self.text_of("#never")
        self.assertIn("assign/never_matches", never)
        self.assertNotIn("assign/us_leads", never)
        self.assertEqual(self.console_errors(), [])

        os.makedirs(ARGS.work_dir, exist_ok=True)
        self.driver.save_screenshot(
            os.path.join(ARGS.work_dir, "dashboard-1280x800.png"))
        # And the whole page at that width, for the README.
        height = self.driver.execute_script(
            "return document.documentElement.scrollHeight")
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": height, "deviceScaleFactor": 1,
            "mobile": False})
        time.sleep(0.5)  # the charts redraw at the new size
        self.driver.save_screenshot(
            os.path.join(ARGS.work_dir, "dashboard-1280-full.png"))
        phone = browser(390, 844)
        try:
            # The token first, in the tab's storage on this origin, as the
            # sign-in form leaves it.
            phone.get(self.base + "/dashboard/app.css")
            phone.execute_script(
                "sessionStorage.setItem('leadroute-token', arguments[0])",
                self.read_token)
            phone.get(self.driver.current_url)
            from selenium.webdriver.support.ui import WebDriverWait
            WebDriverWait(phone, SETTLE_S).until(
                lambda d: d.find_elements("id", "tile-routed"))
            phone.save_screenshot(
                os.path.join(ARGS.work_dir, "dashboard-390x844.png"))
            # One column: nothing is wider than the phone (tables scroll in
            # their own box).
            wide = phone.execute_script(
                "return Array.from(document.querySelectorAll('body *'))"
                ".filter(e => e.getBoundingClientRect().right > 391 &&"
                " !e.closest('.scroll')).map(e => e.tagName + '#' + e.id +"
                " '.' + e.className).slice(0, 5)")
            self.assertEqual(wide, [])
            self.assertEqual([e for e in phone.get_log("browser")
                              if e["level"] == "SEVERE"], [])
        finally:
            phone.quit()


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--leadroute", required=True)
    parser.add_argument("--proto-dir", required=True)
    parser.add_argument("--work-dir", required=True)
    ARGS, rest = parser.parse_known_args()
    generate_clients(ARGS.proto_dir, os.path.join(ARGS.work_dir, "gen"))
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
