"""Property test: over generated process tables, no plan ever signals what must never be signalled.

Each table mixes what a busy systemd host runs: services (some with delegated
subtrees and same-named sub-cgroups), user managers and their units, login
sessions with shells and their children, scopes, containers (by cgroup and by
PID namespace), zombies, thread groups whose leader exited, kernel threads
(some at pid 2 and some not), protected daemons, the module's own tree. The
generator records the truth about every process; the invariants are checked
against that truth, not against the code under test.
"""

import os
import random
import re

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _port_release
from ansible_collections.steadyops.stack.plugins.module_utils._owners import classify
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (
    PolicyError,
    Selection,
    plan_strays,
    protect_patterns,
)
from ansible_collections.steadyops.stack.plugins.module_utils._procfs import PF_KTHREAD, Process

SEED = int(os.environ.get("STEADYOPS_PROPERTY_SEED", "20261129"))
TABLES = int(os.environ.get("STEADYOPS_PROPERTY_TABLES", "1500"))
ROOTS = ["/", "/docker/0a1b2c"]  # a real host, and a lab container sharing the host's cgroup namespace
PROGRAMS = [
    "/opt/tms/bin/next-server server.js",
    "node /opt/tms/api.js",
    "python3 worker.py",
    "sleep 600",
    "nginx: worker",
]
PROTECTED = ["/usr/sbin/sshd -D", "sshd: admin@pts/0", "/lib/systemd/systemd-journald", "/usr/bin/dbus-daemon --system"]
USERS = [("root", 0), ("tmsapp", 998), ("www-data", 33), ("admin", 1000)]
PATTERNS = ["next-server", "node", "worker", "sleep", "nginx", "(^|/)python3 ", "api", "^-bash", "sshd", "server"]

# What each generated process is, by the generator's own account.
NEVER_BY_PID = {"pid1", "kthread", "self", "protected", "container", "service", "user", "delegated"}


def build_table(rng):
    root = rng.choice(ROOTS)
    base = "" if root == "/" else root
    table, truth = {}, {}
    next_pid = [rng.choice([2, 3, 100])]

    def add(kind, cgroup, command, ppid=1, user=None, **extra):
        pid = next_pid[0]
        next_pid[0] += rng.randint(1, 40)
        name, uid = user or rng.choice(USERS)
        argv = command.split()
        fields = dict(  # noqa: C408 - keyword form reads like the Process fields
            pid=pid, ppid=ppid, state="S", comm=os.path.basename(argv[0]) if argv else "kworker", flags=0, uid=uid,
            user=name, start_ticks=rng.randint(1, 10**6), started_at=0.0, cmdline=argv, exe=None, cwd="/",
            cgroup=cgroup, pid_namespaces=1, threads=1,
        )  # fmt: skip
        fields.update(extra)
        fields["owner"] = classify(fields["cgroup"], root, fields["pid_namespaces"])
        table[pid] = Process(**fields)
        truth[pid] = kind
        return pid

    table[1] = Process(
        pid=1, ppid=0, state="S", comm="systemd", flags=0, uid=0, user="root", start_ticks=1, started_at=0.0,
        cmdline=["/sbin/init"], cgroup=base + "/init.scope", owner=classify(base + "/init.scope", root),
        pid_namespaces=1, threads=1,
    )  # fmt: skip
    truth[1] = "pid1"
    for _index in range(rng.randint(3, 40)):
        kind = rng.choice(
            ["service", "delegated", "user", "session", "shell", "scope", "container", "nsproc", "zombie",
             "leaderless", "kthread", "protected", "rootcg"]
        )  # fmt: skip
        program = rng.choice(PROGRAMS)
        uid = rng.randint(1000, 1003)
        if kind == "service":
            add("service", base + "/system.slice/tms-%s.service" % rng.choice(["frontend", "api", "worker"]), program)
        elif kind == "delegated":
            add("delegated", base + "/system.slice/engine.service/tms-frontend.service", program)
        elif kind == "user":
            add(
                "user",
                base + "/user.slice/user-%d.slice/user@%d.service/app.slice/tms-frontend.service" % (uid, uid),
                program,
            )
        elif kind in ("session", "shell"):
            command = "-bash" if kind == "shell" else program
            add(kind, base + "/user.slice/user-%d.slice/session-%d.scope" % (uid, rng.randint(1, 9)), command)
        elif kind == "scope":
            add("scope", base + "/system.slice/run-r%x.scope" % rng.randint(1, 10**6), program)
        elif kind == "container":
            add("container", base + "/system.slice/docker-%x.scope" % rng.randint(1, 10**6), program)
        elif kind == "nsproc":
            add("container", base + "/system.slice/tms-frontend.service", program, pid_namespaces=2)
        elif kind == "zombie":
            add("zombie", base + "/user.slice/user-%d.slice/session-2.scope" % uid, program, state="Z")
        elif kind == "leaderless":
            add("leaderless", base + "/system.slice/run-r1.scope", program, state="Z", threads=rng.randint(2, 8))
        elif kind == "kthread":
            add("kthread", "/", "", ppid=rng.choice([0, 2]), flags=PF_KTHREAD, cmdline=[])
        elif kind == "protected":
            add("protected", base + "/system.slice/ssh.service", rng.choice(PROTECTED))
        else:
            add("rootcg", base or "/", program)
    # The module's own tree: a connection and the module under it, matching broad patterns on purpose.
    connection = add(
        "self", base + "/user.slice/user-0.slice/session-1.scope", "python3 /tmp/ansible-worker.py next-server"
    )
    module = add(
        "self", base + "/user.slice/user-0.slice/session-1.scope", "python3 AnsiballZ_kill_zombies.py", ppid=connection
    )
    return table, truth, {connection, module}, root


def random_selection(rng, prefix):
    kinds = {"cmdline": rng.sample(PATTERNS, rng.randint(1, 3))}
    if rng.random() < 0.5:
        kinds["users"] = [rng.choice(USERS)[0]]
    if rng.random() < 0.5:
        kinds["units"] = rng.sample(
            ["tms-frontend", "tms-api", "engine", "user@1000", "run-r1.scope", "legacy.socket"], 2
        )
    return kinds, Selection(prefix=prefix, **kinds)


def matched_by_oracle(process, kinds):
    """The caller's selection evaluated independently of Selection."""
    command = " ".join(process.cmdline) if process.cmdline else "[%s]" % process.comm
    if not any(re.search(p, command) for p in kinds["cmdline"]):
        return False
    return not ("users" in kinds and process.user not in kinds["users"])


def test_no_plan_ever_signals_what_it_must_not():
    rng = random.Random(SEED)  # noqa: S311 - reproducible tables, not secrets
    protect = protect_patterns()
    checked = {"tables": 0, "stray_targets": 0, "signal_targets": 0, "stops": 0}
    for _table in range(TABLES):
        table, truth, self_tree, _root = build_table(rng)
        kinds, selection = random_selection(rng, "strays[0].")
        unit = "tms-frontend.service"
        strays, _skipped = plan_strays(table, [(unit, selection)], self_tree, protect)
        for pid in strays:
            process, kind = table[pid], truth[pid]
            assert kind not in NEVER_BY_PID | {"zombie", "shell"}, (SEED, pid, kind, process.cgroup)
            assert matched_by_oracle(process, kinds), (SEED, pid, kinds)
            if kind == "session":
                assert "users" in kinds, "a login session's process without a user named"
        checked["stray_targets"] += len(strays)

        holders = [
            _port_release.Holder(table[pid], [{"protocol": "tcp", "local_address": "0.0.0.0", "local_port": 3000}])
            for pid in rng.sample(sorted(table), min(len(table), rng.randint(1, 6)))
        ]
        for found in holders:
            if found.process.pid == 1 and rng.random() < 0.5:
                found.units = ["legacy.socket", "legacy.service"]
        kinds, selection = random_selection(rng, "allow_")
        for verdict in _port_release.judge(holders, selection, protect, self_tree=self_tree):
            process, kind = verdict.process, truth[verdict.process.pid]
            if verdict.action == "signal":
                assert kind not in NEVER_BY_PID, (SEED, process.pid, kind, process.cgroup)
                assert matched_by_oracle(process, kinds)
                checked["signal_targets"] += 1
            elif verdict.action == "stop":
                # Only units the caller named, and only for what systemd owns.
                assert set(verdict.units) & set(selection.units), (SEED, verdict.units, selection.units)
                assert kind in ("service", "user", "delegated") or (kind == "pid1" and verdict.units)
                checked["stops"] += 1
            else:
                assert verdict.action == "refuse"
                assert verdict.why
        checked["tables"] += 1
    assert checked["tables"] >= 1000
    # The generator must exercise the permitted paths too, or the invariants prove nothing.
    assert checked["stray_targets"] > 100, checked
    assert checked["signal_targets"] > 100, checked
    assert checked["stops"] > 20, checked
    print("property test: seed %d, %s" % (SEED, checked))


@pytest.mark.parametrize("pattern", ["", ".*", ".", "^", "\\S*", "(?s).*", "x*", "[\\s\\S]"])
def test_match_everything_patterns_are_refused(pattern):
    with pytest.raises(PolicyError, match="matches every process"):
        Selection(cmdline=[pattern], prefix="strays[0].")
