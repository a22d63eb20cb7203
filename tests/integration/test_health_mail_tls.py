"""The health check's alert mail over STARTTLS: the server's certificate is checked before the password is sent."""

import json
import subprocess

import pytest
from support import host_helpers
from support.smtp_tls import make_certificates, start_server

# Runs the program's own alert() on the host's Python, as its cron job would.
SEND = """import json, sys
sys.path.insert(0, sys.argv[1])
import steadyops_health
run = steadyops_health.Run({"smtp": json.loads(sys.argv[2])}, {})
print(run.alert("[steadyops] CRITICAL tms-frontend", "the unit failed"))
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    """steadyops_health.py and the helpers beside it, installed from host_helpers' list."""
    return host_helpers.install(tmp_path_factory.mktemp("steadyops-health"))


def smtp_server(tmp_path, names):
    ca = make_certificates(tmp_path, names)
    server, port = start_server(tmp_path)
    return server, port, ca


def alert(program, **smtp):
    settings = dict(
        {"to": ["oncall@tms.test"], "from": "health@tms.test", "user": "alerts", "password": "s3cret"}, **smtp
    )
    result = subprocess.run(
        ["/usr/bin/python3", "-c", SEND, str(program), json.dumps(settings)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout.strip()


def logged_in(server):
    return [event for event in server.events if event[0] in ("auth", "message")]


def test_a_server_whose_certificate_no_trusted_ca_signed_gets_no_password(program, tmp_path):
    server, port, _ca = smtp_server(tmp_path, ["localhost", "127.0.0.1"])
    try:
        result = alert(program, host="127.0.0.1", port=port, starttls=True)
    finally:
        server.shutdown()
    assert result.startswith("failed:")
    assert "CERTIFICATE_VERIFY_FAILED" in result
    assert logged_in(server) == []


def test_the_configured_ca_lets_the_mail_through_encrypted(program, tmp_path):
    server, port, ca = smtp_server(tmp_path, ["localhost", "127.0.0.1"])
    try:
        result = alert(program, host="127.0.0.1", port=port, starttls=True, ca_file=str(ca))
    finally:
        server.shutdown()
    assert result == "sent"
    assert [event[:2] for event in logged_in(server)] == [("auth", True), ("message", True)]
    assert "Subject: [steadyops] CRITICAL tms-frontend" in server.events[-1][2]


def test_a_certificate_for_another_name_is_refused_even_from_the_configured_ca(program, tmp_path):
    server, port, ca = smtp_server(tmp_path, ["mail.elsewhere.test"])
    try:
        result = alert(program, host="127.0.0.1", port=port, starttls=True, ca_file=str(ca))
    finally:
        server.shutdown()
    assert result.startswith("failed:")
    assert "127.0.0.1" in result  # the name that did not match
    assert logged_in(server) == []


def test_no_password_goes_unencrypted_to_a_server_off_this_machine(program):
    # 192.0.2.1 (TEST-NET-1) is never reached: the refusal comes before any connection.
    result = alert(program, host="192.0.2.1", port=25, starttls=False)
    assert result == "failed: not logging in to 192.0.2.1 without STARTTLS: the password would go unencrypted"


def test_a_local_relay_may_take_a_login_without_tls(program, tmp_path):
    server, port, _ca = smtp_server(tmp_path, ["localhost"])
    try:
        result = alert(program, host="127.0.0.1", port=port, starttls=False)
    finally:
        server.shutdown()
    assert result == "sent"
    assert [event[:2] for event in logged_in(server)] == [("auth", False), ("message", False)]
