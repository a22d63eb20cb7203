"""The health check's webhook, through the program's own send() on the host's Python, to a real HTTP receiver.

The receiver reads each POST as its consumer would and refuses what that
consumer refuses: Slack's incoming webhook takes a JSON object with `text`;
Alertmanager's API v2 (`POST /api/v2/alerts`) takes a list of alerts whose
`labels` (non-empty, names matching its label-name rule, values strings) and
`annotations` map text to text, with RFC 3339 `startsAt`/`endsAt`. The URL's
path stands for a token: no result may show it.
"""

import datetime
import json
import re
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import host_helpers
from support.smtp_tls import make_certificates

TOKEN = "T000/B000/hooktoken42"  # noqa: S105 - a stand-in for the token a webhook's path carries
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
ALERT_KEYS = {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}

# The program's own send(), as its run does when an incident opens or clears.
SEND = """import json, sys
sys.path.insert(0, sys.argv[1])
import steadyops_health
run = steadyops_health.Run({"webhook": json.loads(sys.argv[2])}, {})
run.send("[steadyops] " + sys.argv[3] + " tms-api on web-1", "tms-api@8000.service is failed", "tms-api",
         resolved=sys.argv[3] == "RECOVERED")
print(json.dumps({"actions": run.actions, "last_alert": run.state["last_alert"]}))
"""


def rfc3339(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def slack_problems(body):
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
        return ["Slack needs a JSON object with a non-empty text"]
    return []


def alertmanager_problems(body):
    """What Alertmanager's API v2 would refuse in a POST to /api/v2/alerts (its postableAlerts schema)."""
    if not isinstance(body, list) or not body:
        return ["not a non-empty list of alerts"]
    problems = []
    for alert in body:
        if not isinstance(alert, dict) or set(alert) - ALERT_KEYS:
            problems.append("an alert with fields Alertmanager does not know: %r" % (alert,))
            continue
        labels = alert.get("labels")
        if not isinstance(labels, dict) or not labels:
            problems.append("an alert without labels")
            continue
        for mapping in (labels, alert.get("annotations", {})):
            for name, value in mapping.items():
                if not LABEL_NAME.match(name) or not isinstance(value, str):
                    problems.append("label or annotation %r=%r" % (name, value))
        for field in ("startsAt", "endsAt"):
            if field in alert:
                try:
                    rfc3339(alert[field])
                except (TypeError, ValueError):
                    problems.append("%s is not RFC 3339: %r" % (field, alert[field]))
    return problems


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append((self.path, self.headers["Content-Type"], body))
        check = slack_problems if self.path.startswith("/slack/") else alertmanager_problems
        problems = check(body)
        self.send_response(self.server.status if not problems else 400)
        self.end_headers()
        self.wfile.write(json.dumps(problems).encode())

    def log_message(self, fmt, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received, server.status = [], 200
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    return host_helpers.install(tmp_path_factory.mktemp("steadyops-health"))


def send(program, hook, what="CRITICAL"):
    result = subprocess.run(
        ["/usr/bin/python3", "-c", SEND, str(program), json.dumps(hook), what],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return json.loads(result.stdout)


def test_slack_gets_the_alert_as_text(program, receiver):
    url = "http://127.0.0.1:%d/slack/%s" % (receiver.server_port, TOKEN)
    outcome = send(program, {"url": url, "format": "slack"})
    [(path, content_type, body)] = receiver.received
    assert path == "/slack/" + TOKEN
    assert content_type == "application/json"
    assert body == {"text": "*[steadyops] CRITICAL tms-api on web-1*\ntms-api@8000.service is failed"}
    assert outcome["actions"] == [
        {
            "action": "webhook",
            "subject": "[steadyops] CRITICAL tms-api on web-1",
            "result": "sent (HTTP 200) to http://127.0.0.1",
        }
    ]
    assert TOKEN not in json.dumps(outcome)


def test_alertmanager_gets_a_firing_alert_then_its_resolution(program, receiver):
    url = "http://127.0.0.1:%d/api/v2/alerts" % receiver.server_port
    firing = send(program, {"url": url, "format": "alertmanager"})
    resolved = send(program, {"url": url, "format": "alertmanager"}, what="RECOVERED")
    assert firing["last_alert"]["result"] == resolved["last_alert"]["result"] == "sent (HTTP 200) to http://127.0.0.1"
    [(_p1, _c1, [first]), (_p2, _c2, [second])] = receiver.received
    # The same labels: Alertmanager matches the resolution to the alert it fired by them.
    assert first["labels"] == second["labels"]
    assert first["labels"]["alertname"] == "SteadyopsServiceDown"
    assert first["labels"]["incident"] == "tms-api"
    assert "startsAt" in first
    assert "endsAt" not in first
    assert rfc3339(second["endsAt"]) <= datetime.datetime.now(datetime.UTC)


def test_a_refusing_receiver_is_a_failed_alert_that_keeps_the_token(program, receiver):
    receiver.status = 500
    url = "http://127.0.0.1:%d/slack/%s" % (receiver.server_port, TOKEN)
    outcome = send(program, {"url": url, "format": "slack"})
    assert outcome["last_alert"]["result"] == "failed: http://127.0.0.1 answered HTTP 500"
    assert TOKEN not in json.dumps(outcome)


def test_an_unreachable_receiver_is_a_failed_alert_not_a_crash(program, receiver):
    port = receiver.server_port
    receiver.shutdown()
    receiver.server_close()
    outcome = send(program, {"url": "http://127.0.0.1:%d/slack/%s" % (port, TOKEN), "format": "slack"})
    assert outcome["last_alert"]["result"].startswith("failed: http://127.0.0.1: ")
    assert "refused" in outcome["last_alert"]["result"].lower()
    assert TOKEN not in json.dumps(outcome)


@pytest.fixture
def tls_receiver(tmp_path):
    make_certificates(tmp_path, ["localhost", "127.0.0.1"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received, server.status = [], 200
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, tmp_path / "ca.pem"
    server.shutdown()


def test_https_sends_only_to_a_receiver_whose_certificate_is_trusted(program, tls_receiver):
    server, ca = tls_receiver
    url = "https://127.0.0.1:%d/slack/%s" % (server.server_port, TOKEN)
    untrusted = send(program, {"url": url, "format": "slack"})
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted["last_alert"]["result"]
    assert server.received == [], "nothing reached a receiver whose certificate no trusted CA signed"
    trusted = send(program, {"url": url, "format": "slack", "ca_file": str(ca)})
    assert trusted["last_alert"]["result"] == "sent (HTTP 200) to https://127.0.0.1"
    assert len(server.received) == 1
