"""After the fix: tms-frontend is active and owns port 3000; nothing else may be stopped silently."""

from lab import port_owner_pids, run_module_on

UNIT = "tms-frontend.service"


def unit_of(host, pid):
    return host.file(f"/proc/{pid}/cgroup").content_string


def test_the_outage_was_really_reproduced(host):
    journal = host.run(f"journalctl -u {UNIT} --no-pager").stdout
    assert "Address already in use" in journal


def test_unit_is_active(host):
    assert host.service("tms-frontend").is_running


def test_port_is_owned_by_a_process_in_the_unit(host):
    pids = port_owner_pids(host, 3000)
    assert pids, "nothing listens on 3000"
    for pid in pids:
        assert f"/{UNIT}" in unit_of(host, pid)


def test_no_next_server_outside_the_unit(host):
    # Anchored, so pgrep's own shell (whose command line contains the pattern) is not matched.
    pids = host.run("pgrep -f '^/opt/tms/bin/next-server '").stdout.split()
    assert pids
    for pid in pids:
        assert f"/{UNIT}" in unit_of(host, pid), f"pid {pid} runs outside {UNIT}"


def test_frontend_answers(host):
    out = host.run(
        "python3 -c \"import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:3000/').read())\""
    )
    assert "tms-frontend ok" in out.stdout


def test_holder_not_allowed_fails_clearly_and_survives(host):
    host.run_test("ln -sf /usr/bin/python3 /usr/local/bin/postgres-stand-in")
    host.run_test("setsid -f /usr/local/bin/postgres-stand-in /opt/tms/server.py 3001")
    host.run_test("for i in $(seq 50); do ss -Htln 'sport = :3001' | grep -q . && exit 0; sleep 0.1; done; exit 1")
    holder = port_owner_pids(host, 3001)
    assert len(holder) == 1
    try:
        rc, result = run_module_on(host, "steadyops.stack.port_free", {"port": 3001, "allow_cmdline": ["next-server"]})
        assert rc != 0
        assert "nothing was signalled" in result["msg"]
        assert f"pid {holder[0]} (user root" in result["msg"]
        assert "allow_cmdline: ['postgres-stand-in']" in result["msg"]
        assert port_owner_pids(host, 3001) == holder, "the refused holder must stay alive"
    finally:
        host.run(f"kill {holder[0]}")
