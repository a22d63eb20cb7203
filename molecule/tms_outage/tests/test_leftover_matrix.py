"""Every way systemd leaves a listener behind, generated: KillMode x Type x Restart, three ways to start it.

64 units (4 KillModes x 4 Types x 4 Restart settings), each starting the
matrix listener on a port of its own in one of three ways (a child of the main
process, a double fork, setsid). What counts is read back from systemd and the
kernel, never predicted from the unit text: after `systemctl stop`, a listener
still in its inactive unit's cgroup is a leftover. Then:

- kill_zombies lists exactly those leftovers as strays of their units;
- port_free frees exactly those ports, signals nothing else, and they stay
  free past every restart delay;
- started again with the leftovers in place (the outage: EADDRINUSE loops),
  port_free with each unit as owner_unit frees its port, and once failed
  units are reset and started (as the health check does) every unit is
  active with its port held inside its own cgroup;
- the same outage once more, and one run of the health check program itself
  (installed by the host_helpers role, each unit a service of its config)
  leaves every unit active with its port held inside its own cgroup.

Every process here is one the test started, on ports 3100-3163.
"""

import itertools
import json
import os
import subprocess
import tempfile
import time

import pytest
from lab import run_module_on

KILL_MODES = ["control-group", "mixed", "process", "none"]
TYPES = ["simple", "exec", "forking", "notify"]
RESTARTS = [("no", None), ("on-failure", 0), ("always", 1), ("always", 5)]
WAYS = ["child", "double-fork", "setsid"]
FIRST_PORT = 3100
SERVER = "/opt/tms/bin/next-server /opt/tms/matrix_server.py"


def combinations():
    """(unit, port, KillMode, Type, (Restart, RestartSec), way): the full product of the first three, ways in turn."""
    found = []
    for index, (kill, kind, restart) in enumerate(itertools.product(KILL_MODES, TYPES, RESTARTS)):
        way = WAYS[index % len(WAYS)]
        unit = "mx-%s-%s-%s%s.service" % (kill, kind, restart[0], "" if restart[1] is None else restart[1])
        found.append((unit, FIRST_PORT + index, kill, kind, restart, way))
    return found


def exec_start(kind, way, port):
    launch = {
        "child": f"{SERVER} {port} &",
        "double-fork": f"( {SERVER} {port} & ) ;",
        "setsid": f"setsid {SERVER} {port} &",
    }[way]
    # A forking service's start command ends once it has started the daemon. The others stay as its main
    # process: `npm start` style, ending with the server it waits for; a double-forked server is nobody's
    # child to wait for, so that shell just stays.
    rest = {"child": "wait -n", "double-fork": "sleep infinity", "setsid": "wait -n"}[way]
    return f"/bin/bash -c '{launch} {'' if kind == 'forking' else rest}'"


def unit_text(kill, kind, restart, way, port):
    lines = ["[Unit]", "Description=leftover matrix", "[Service]", f"Type={kind}", f"KillMode={kill}"]
    lines.append(f"ExecStart={exec_start(kind, way, port)}")
    if kind == "notify":
        lines.append("NotifyAccess=all")
    lines.append(f"Restart={restart[0]}")
    if restart[1] is not None:
        lines.append(f"RestartSec={restart[1]}")
    lines.append("TimeoutStartSec=20")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def matrix(host):
    combos = combinations()
    for unit, port, kill, kind, restart, way in combos:
        text = unit_text(kill, kind, restart, way, port)
        host.run_test(f"cat > /etc/systemd/system/{unit} <<'EOF'\n{text}EOF")
    host.run_test("systemctl daemon-reload")
    yield combos
    units = " ".join(c[0] for c in combos)
    host.run(f"systemctl stop {units}; systemctl reset-failed {units}")
    host.run(f"pkill -KILL -f '^{SERVER} 31'")
    host.run(f"rm -f {' '.join('/etc/systemd/system/' + c[0] for c in combos)}; systemctl daemon-reload")


def listeners(host):
    """{port: [pids]} of the matrix's ports, as the kernel reports them."""
    out = host.run(f"ss -Htlnp 'sport >= :{FIRST_PORT} and sport <= :{FIRST_PORT + 63}'").stdout
    found = {}
    for line in out.splitlines():
        port = int(line.split()[3].rsplit(":", 1)[1])
        found[port] = sorted(int(p) for p in __import__("re").findall(r"pid=(\d+)", line))
    return found


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while True:
        value = predicate()
        if value or time.time() > deadline:
            assert value, "not within %ss: %s" % (seconds, what)
            return value
        time.sleep(0.5)


def states(host, units):
    out = host.run("systemctl show -p Id,ActiveState " + " ".join(units)).stdout
    found, current = {}, None
    for line in out.splitlines():
        if line.startswith("Id="):
            current = line[3:]
        elif line.startswith("ActiveState=") and current:
            found[current] = line[len("ActiveState=") :]
    return found


def start_all_and_leave_behind(host, combos):
    """Start every unit, wait for every port, stop them all: {port: pid} of what systemd left in the cgroups."""
    units = [c[0] for c in combos]
    host.run_test("systemctl start --no-block " + " ".join(units))
    wait_for(lambda: len(listeners(host)) == len(combos), 60, "every matrix unit listening")
    host.run_test("systemctl stop " + " ".join(units))
    assert set(states(host, units).values()) <= {"inactive", "failed"}
    left = {}
    by_port = {c[1]: c[0] for c in combos}
    for port, pids in listeners(host).items():
        (pid,) = pids
        cgroup = host.file(f"/proc/{pid}/cgroup").content_string
        # The premise, read from the kernel: the listener is still in its stopped unit's cgroup.
        assert f"/system.slice/{by_port[port]}" in cgroup, (port, cgroup)
        left[port] = pid
    return left


def pattern(port):
    return f"^{SERVER} {port}$"


def test_kill_zombies_and_port_free_take_exactly_the_leftovers(host, matrix):
    bystander = host.run_test(f"setsid -f {SERVER} 3199 >/dev/null 2>&1; sleep 0.5; pgrep -f '^{SERVER} 3199$'")
    left = start_all_and_leave_behind(host, matrix)
    by_port = {c[1]: c for c in matrix}
    kill_modes = sorted({by_port[port][2] for port in left})
    # systemd's own rules decide who is left: KillMode=process and none leave listeners, the others never do.
    assert kill_modes == ["none", "process"], kill_modes
    print("leftover matrix: %d units, %d left a listener behind" % (len(matrix), len(left)))

    strays = [{"unit": c[0], "patterns": [pattern(c[1])]} for c in matrix]
    args = {"zombies": False, "strays": strays, "max_strays": 64, "grace": 2}
    rc, listed = run_module_on(host, "steadyops.stack.kill_zombies", args, check=True)
    assert rc == 0, listed.get("msg")
    assert sorted((s["pid"], s["expected_unit"]) for s in listed["strays"]) == sorted(
        (pid, by_port[port][0]) for port, pid in left.items()
    )

    free = {"ports": [c[1] for c in matrix], "allow_cmdline": [f"^{SERVER} 31"], "grace": 2}
    rc, check = run_module_on(host, "steadyops.stack.port_free", free, check=True)
    assert rc == 0, check.get("msg")
    assert sorted(h["pid"] for h in check["holders"]) == sorted(left.values())
    assert {h["action"] for h in check["holders"]} == {"signal"}

    rc, apply = run_module_on(host, "steadyops.stack.port_free", free)
    assert (rc, apply["changed"]) == (0, True), apply.get("msg")
    assert sorted(s["pid"] for s in apply["signalled"]) == sorted(left.values()), "nothing else is signalled"
    time.sleep(6)  # past the longest RestartSec (5 s): nothing takes a port back
    assert listeners(host) == {}
    assert host.run(f"pgrep -f '^{SERVER} 3199$'").stdout.split() == bystander.stdout.split()
    host.run(f"kill {bystander.stdout.strip()}")


def run_playbook(host, tasks):
    """ansible-playbook on this lab host; the json callback's task results."""
    name = host.check_output("hostname")
    play = [{"hosts": name, "gather_facts": False, "tasks": tasks}]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as playbook:
        playbook.write(json.dumps(play))
        playbook.flush()
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
        command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], playbook.name]
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    report = json.loads(completed.stdout[completed.stdout.index("{") :])
    return completed.returncode, [t["hosts"][name] for t in report["plays"][0]["tasks"]]


def held_by_their_units(host, matrix):
    """A function listing each unit that is not active with its port held by one process inside its own cgroup."""
    units = [c[0] for c in matrix]

    def problems():
        owners, state = listeners(host), states(host, units)
        found = []
        for unit, port, *_rest in matrix:
            pids = owners.get(port, [])
            cgroups = [host.file(f"/proc/{pid}/cgroup").content_string for pid in pids]
            if state.get(unit) != "active" or len(pids) != 1 or f"/system.slice/{unit}" not in cgroups[0]:
                found.append((unit, state.get(unit), pids, [c.strip().splitlines()[-1] for c in cgroups]))
        return found

    return problems


def test_units_looping_on_their_leftovers_get_their_ports_back(host, matrix):
    left = start_all_and_leave_behind(host, matrix)
    units = [c[0] for c in matrix]
    host.run_test("systemctl start --no-block " + " ".join(units))
    time.sleep(3)  # the outage: the units with a leftover fail on EADDRINUSE and loop or give up

    items = [{"unit": c[0], "port": c[1], "pattern": pattern(c[1])} for c in matrix]
    free_each = {
        "name": "Free each unit's port of anything but its own current run",
        "steadyops.stack.port_free": {
            "port": "{{ item.port }}",
            "owner_unit": "{{ item.unit }}",
            "allow_cmdline": ["{{ item.pattern }}"],
            "grace": 2,
        },
        "loop": items,
    }
    rc, (freed,) = run_playbook(host, [free_each])
    assert rc == 0, [r.get("msg") for r in freed["results"] if r.get("failed")]
    signalled = sorted(s["pid"] for r in freed["results"] for s in r["signalled"])
    # A forking unit may adopt its leftover as its main process (systemd guesses the main PID from the cgroup):
    # then it is the unit's own, and kept.
    adopted = sorted(k["pid"] for r in freed["results"] for k in r["kept"] if k["pid"] in left.values())
    assert sorted(signalled + adopted) == sorted(left.values())
    adopted_by = {c[3] for c in matrix if left.get(c[1]) in adopted}
    assert adopted_by <= {"forking"}, adopted_by

    problems = held_by_their_units(host, matrix)
    # Past the longest RestartSec, units that restart on their own have. The others are repaired as the health
    # check repairs a unit that is not active or does not hold its port (a shell still up whose server died
    # on EADDRINUSE): stop it, free its port, start it. Stopping first matters: KillMode=process and none
    # leave the old processes behind, and only once the unit is inactive are they leftovers to clear.
    time.sleep(6)
    broken = sorted({problem[0] for problem in problems()})
    if broken:
        host.run_test("systemctl stop " + " ".join(broken))
        rc, (freed_again,) = run_playbook(host, [dict(free_each, loop=[i for i in items if i["unit"] in broken])])
        assert rc == 0, [r.get("msg") for r in freed_again["results"] if r.get("failed")]
        host.run_test("systemctl reset-failed %s; systemctl start --no-block %s" % (" ".join(broken), " ".join(broken)))
    print("leftover matrix: %d units repaired by stop, free, start" % len(broken))
    deadline = time.time() + 60
    while problems() and time.time() < deadline:
        time.sleep(1)
    left_broken = problems()
    assert not left_broken, "not every unit is active with its port held inside its own cgroup:\n%s" % "\n".join(
        map(str, left_broken)
    )


HELPERS = "/usr/local/lib/steadyops-matrix"
STATE = "/var/lib/steadyops-matrix"


def test_one_health_check_run_brings_every_looping_unit_back(host, matrix):
    """The real program, configured with the matrix as its services, repairs the outage by itself."""
    rc, _results = run_playbook(
        host,
        [
            {
                "name": "Install the health check program",
                "ansible.builtin.include_role": {"name": "steadyops.stack.host_helpers"},
                "vars": {"host_helpers_dir": HELPERS},
            }
        ],
    )
    assert rc == 0
    config = {
        # As the role writes it for these units: each one's port, the pattern of its server, the account it runs as.
        "services": [
            {"name": unit[: -len(".service")], "port": port, "stray_patterns": [pattern(port)], "stray_users": ["root"]}
            for unit, port, *_rest in matrix
        ],
        "restart": True,
        "free_port": True,
        "restart_budget": {"max_restarts": 3, "window_runs": 12},
        "restart_settle_seconds": 20,
        "state_dir": STATE,
    }
    host.run_test("rm -rf %s; mkdir -p %s" % (STATE, STATE))
    host.run_test("cat > %s/health.json <<'EOF'\n%s\nEOF" % (STATE, json.dumps(config)))

    start_all_and_leave_behind(host, matrix)
    host.run_test("systemctl start --no-block " + " ".join(c[0] for c in matrix))
    time.sleep(8)  # the outage, past the longest RestartSec: loops, give-ups and shells without their server
    problems = held_by_their_units(host, matrix)
    outage = problems()
    assert outage, "the outage did not happen: every unit got its port back by itself"

    checked = host.run("/usr/bin/python3 %s/steadyops_health.py --config %s/health.json" % (HELPERS, STATE))
    status = json.loads(host.file(STATE + "/status.json").content_string)
    after = {name: report["after_restart"] for name, report in status["services"].items() if "after_restart" in report}
    print("leftover matrix: %d units down, one health check run, %d restarted" % (len(outage), len(after)))
    # The run that finds an outage reports it (CRITICAL, as it alerts); each repair must have worked:
    # a restarted service passes its checks again within the settle time, none is "still failing".
    assert checked.rc == 2, checked.stdout[-4000:]
    assert "still failing" not in checked.stdout, checked.stdout[-4000:]
    assert {unit[: -len(".service")] for unit, *_rest in outage} <= set(after), (outage, sorted(after))
    assert all(report["healthy"] for report in after.values()), after
    deadline = time.time() + 15
    while problems() and time.time() < deadline:
        time.sleep(1)
    assert not problems(), "after one health check run:\n%s\n%s" % (
        "\n".join(map(str, problems())),
        checked.stdout[-3000:],
    )
    host.run("rm -rf %s %s" % (STATE, HELPERS))
