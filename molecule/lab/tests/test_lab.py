"""Behaviour of a lab host after converge: systemd runs, the unit serves, the sandbox holds."""

import re

LAB_WEB_PORT = 8080
STRICT_EXPOSURE_MAX = 2.0


def test_systemd_is_pid_1(host):
    assert host.file("/proc/1/comm").content_string.strip() == "systemd"


def test_system_is_running(host):
    state = host.run("systemctl is-system-running").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state == "running", f"system state {state}; failed units:\n{failed}"


def test_unit_is_active_and_enabled(host):
    service = host.service("lab-web")
    assert service.is_running
    assert service.is_enabled


def test_unit_file_is_root_owned_and_not_writable_by_others(host):
    unit = host.file("/etc/systemd/system/lab-web.service")
    assert unit.user == "root"
    assert unit.mode == 0o644


def test_port_answers_http(host):
    assert host.socket(f"tcp://0.0.0.0:{LAB_WEB_PORT}").is_listening
    page = host.run(
        f"python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:{LAB_WEB_PORT}/').read().decode())\""
    )
    assert page.rc == 0, page.stderr
    assert page.stdout.startswith("lab host ")


def test_unit_runs_as_its_own_user(host):
    pid = host.run("systemctl show -p MainPID --value lab-web").stdout.strip()
    assert pid not in ("", "0")
    assert host.run(f"ps -o user= -p {pid}").stdout.strip() == "labweb"


def test_sandbox_exposure_is_strict(host):
    out = host.run("systemd-analyze security --no-pager lab-web.service")
    assert out.rc == 0, out.stderr
    match = re.search(r"Overall exposure level for lab-web\.service:\s*([0-9.]+)", out.stdout)
    assert match, out.stdout[-500:]
    assert float(match.group(1)) <= STRICT_EXPOSURE_MAX
