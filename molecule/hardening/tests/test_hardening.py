"""After converge and the side effects: units up, sandboxed, env files private, the port owned by the unit."""

import re

STRICT_EXPOSURE_MAX = 2.0


def exposure(host, unit):
    out = host.run(f"systemd-analyze security --no-pager {unit}").stdout
    return float(re.search(r"Overall exposure level for \S+:\s*([0-9.]+)", out).group(1))


def test_services_active(host):
    for name in ("tms-backend", "tms-frontend", "nginx"):
        assert host.service(name).is_running, name
        assert host.service(name).is_enabled, name


def test_strict_service_exposure(host):
    assert exposure(host, "tms-backend.service") <= STRICT_EXPOSURE_MAX


def test_standard_service_is_sandboxed_more_than_stock(host):
    assert exposure(host, "tms-frontend.service") <= 5.0


def test_lifecycle_defaults(host):
    for name in ("tms-backend", "tms-frontend", "nginx"):
        show = host.run(f"systemctl show -p KillMode -p Restart -p StartLimitBurst {name}").stdout
        assert "KillMode=mixed" in show, name
        assert "Restart=on-failure" in show, name
        assert "StartLimitBurst=5" in show, name


def test_backend_runs_with_its_env_and_user(host):
    page = host.run(
        "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8000/').read())\""
    )
    assert "tms-backend ok log_level=debug" in page.stdout  # the side effect's change is live
    pid = host.run("systemctl show -p MainPID --value tms-backend").stdout.strip()
    assert host.run(f"ps -o user= -p {pid}").stdout.strip() == "tmsapp"


def test_env_file_is_private(host):
    env = host.file("/opt/tms/shared/tms-backend.env")
    assert env.user == "tmsapp"
    assert env.mode == 0o600


def test_port_belongs_to_the_unit(host):
    out = host.run("ss -Htlnp 'sport = :3000'").stdout
    pid = re.search(r"pid=(\d+)", out).group(1)
    assert "tms-frontend.service" in host.file(f"/proc/{pid}/cgroup").content_string


def test_no_stray_backend_left(host):
    # The side effect started one outside the unit; the unit's pre-start step stopped it.
    pids = host.run("pgrep -f '^/usr/bin/python3 /opt/tms/current/server.py tms-backend'").stdout.split()
    assert len(pids) == 1
    assert "tms-backend.service" in host.file(f"/proc/{pids[0]}/cgroup").content_string
    journal = host.run("journalctl -u tms-backend --no-pager").stdout
    assert "free_port: stray pid" in journal


def test_a_unit_named_with_its_type_is_started_after_as_that_unit(host):
    after = host.run("systemctl show -p After --value tms-frontend").stdout.split()
    assert "tms-backend.service" in after
    assert "systemd-tmpfiles-clean.timer" in after
    assert "systemd-tmpfiles-clean.timer.service" not in after
