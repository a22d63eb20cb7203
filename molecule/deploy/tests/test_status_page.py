"""report.yml's page in a real browser, after the drift and maintenance tests: a stopped service shows as failing,
at the top; the queue's counts and the last email audit show under their host.

Headless Chromium renders the page; the test reads the DOM it built and keeps
a screenshot in .cache/artefacts/ for a person to look at.
"""

import json
import os
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

from helpers import playbook, stop_health_checks

PROJECT = os.environ["MOLECULE_PROJECT_DIRECTORY"]
PREFIX = os.environ.get("STEADYOPS_LAB_PREFIX", "")
FAILING, CLEAN = PREFIX + "staging-1", PREFIX + "staging-2"
PAGE = Path(os.environ["STEADYOPS_REPORT_DIR"]) / "status"
ARTEFACTS = Path(PROJECT) / ".cache" / "artefacts"
testinfra_hosts = ["ansible://" + FAILING]
# As the lab's machines run it: no sandbox as root, and nothing that calls out to the network.
CHROMIUM = [
    "chromium",
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class LevelsInOrder(HTMLParser):
    """Every element with a data-level, in document order: (tag, host section, what it is, level)."""

    def __init__(self):
        super().__init__()
        self.found = []
        self.section = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id")
        if "data-level" in attrs:
            what = attrs.get("id") or attrs.get("data-service") or attrs.get("data-queue") or attrs.get("class")
            self.found.append((tag, self.section, what, attrs["data-level"]))


def chromium(*args):
    with tempfile.TemporaryDirectory() as profile:
        command = [*CHROMIUM, "--user-data-dir=" + profile, *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def test_a_stopped_service_is_failing_at_the_top_of_the_page(host):
    # cron stops too: the health check it runs would restart the worker mid-test.
    stop_health_checks(host, "tms-worker.service")
    try:
        status, output = playbook("report", "%s,%s" % (FAILING, CLEAN))
    finally:
        host.check_output("systemctl start tms-worker.service cron.service")
    assert status == 0, output

    data = json.loads((PAGE / "status.json").read_text())
    assert [h["name"] for h in data["hosts"]] == [FAILING, CLEAN]

    dom = chromium("--dump-dom", (PAGE / "index.html").as_uri())
    levels = LevelsInOrder()
    levels.feed(dom)
    sections = [(what, level) for tag, _section, what, level in levels.found if tag == "section"]
    assert sections == [("host-" + FAILING, "failing"), ("host-" + CLEAN, "ok")]
    rows = [(what, level) for tag, _section, what, level in levels.found if tag == "tr" and what.startswith("tms-")]
    assert rows[0] == ("tms-worker", "failing"), rows
    # The rest is ok, or a warning when the health check's cron restarted a service during the drift
    # tests (it counts against the budget for a while): never failing, and warnings before oks.
    levels_after = [level for _name, level in rows[1:]]
    assert set(levels_after) <= {"warning", "ok"}, rows
    assert levels_after == sorted(levels_after, key=["warning", "ok"].index), rows
    assert "tms-worker.service is inactive" in dom
    assert "1 failing" in dom

    # Counted now, in check mode; the audit is the maintenance tests' run, on the failing host only.
    queues = [(section, what, level) for tag, section, what, level in levels.found if what == "tds_sync_queue"]
    assert queues == [("host-" + FAILING, "tds_sync_queue", "ok"), ("host-" + CLEAN, "tds_sync_queue", "ok")]
    audits = [(section, level) for _tag, section, what, level in levels.found if what == "email-audit"]
    assert audits == [("host-" + FAILING, "warning")]
    assert "not-an-address@" in dom
    assert "no maintenance run recorded" in dom

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTEFACTS / "status-page.png"
    screenshot.unlink(missing_ok=True)
    chromium("--screenshot=%s" % screenshot, "--window-size=1280,1600", (PAGE / "index.html").as_uri())
    assert screenshot.stat().st_size > 10000, "the screenshot is too small to show the page"
