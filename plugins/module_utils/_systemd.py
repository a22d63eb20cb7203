# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What systemd itself says about units: control groups, restart delays, sockets, triggers.

Asked with ``systemctl show`` and ``systemctl list-sockets``; every answer is
None or empty where systemd is not running, so callers fall back to reading
cgroup paths. Standard library only: hosts run this file too.

This file runs no process itself. A module hands in AnsibleModule.run_command
(use_module), as ansible-core asks of module code; the hosts' helpers hand in
their own runner (use(_host_exec.run)), installed beside this file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

SYSTEMCTL = "systemctl"

# RUN(argv, timeout) -> (returncode or None when it could not run, stdout, stderr); see use().
RUN = None


def use(run):
    """Run systemctl with RUN from now on."""
    global RUN  # noqa: PLW0603 - one runner per process, set once by its entry point
    RUN = run


def use_module(module):
    """Run systemctl through MODULE's run_command (no timeout there: the task's own applies)."""

    def run(argv, timeout):
        if not module.get_bin_path(argv[0]):
            return None, "", "%s not found" % argv[0]
        return module.run_command(argv, environ_update={"LC_ALL": "C"})

    use(run)


def _run(argv, timeout):
    if RUN is None:
        raise RuntimeError("no way to run %s: the caller must call _systemd.use() or use_module() first" % argv[0])
    return RUN(argv, timeout)


def available(root="/"):
    """Whether systemd is the running service manager (sd_booted's test)."""
    return os.path.isdir(os.path.join(root, "run/systemd/system"))


def _systemctl(args):
    returncode, stdout, _stderr = _run([SYSTEMCTL, *args], 30)
    return stdout if returncode == 0 else None


def parse_show(text):
    """{Id: {property: value}} from `systemctl show -p Id,...` output for several units."""
    units, current = {}, {}
    for line in [*(text or "").splitlines(), ""]:
        if not line.strip():
            if current.get("Id"):
                units[current["Id"]] = current
            current = {}
            continue
        key, _sep, value = line.partition("=")
        current[key] = value
    return units


def show(units, properties):
    """{unit: {property: value}} for the given units; {} when systemd cannot be asked."""
    units = sorted(set(units))
    if not units or not available():
        return {}
    return parse_show(_systemctl(["show", "-p", ",".join(["Id", *properties]), "--", *units]))


def control_groups(units):
    """{unit: ControlGroup} for the units that are running (an inactive unit has no control group)."""
    return dict((unit, props.get("ControlGroup") or None) for unit, props in show(units, ["ControlGroup"]).items())


def parse_usec(value):
    """Seconds from a systemd time span as `show` prints it ("100ms", "1min 30s", "infinity")."""
    value = (value or "").strip()
    if not value or value == "infinity":
        return 0.0
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
    total = 0.0
    for part in value.split():
        number = part.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = part[len(number) :] or "us"
        try:
            total += float(number) * scale.get(unit, 1e-6)
        except ValueError:
            return 0.0
    return total


def restart_delays(units):
    """{unit: seconds systemd waits before restarting it, or None when it never restarts}."""
    delays = {}
    for unit, props in show(units, ["Restart", "RestartUSec"]).items():
        delays[unit] = None if props.get("Restart", "no") == "no" else parse_usec(props.get("RestartUSec"))
    return delays


# What a unit must show to count as up, and how long it has been so.
UP_PROPERTIES = ["ActiveState", "SubState", "ActiveEnterTimestampMonotonic", "NRestarts"]


def not_up_reason(props, now, stable):
    """Why a unit does not count as up yet, or None when it has been active (running) for `stable` seconds.

    A service that crashes on start is "active (running)" for a moment between
    its restarts, and each restart enters the active state anew: the time since
    ActiveEnterTimestampMonotonic (CLOCK_MONOTONIC, what time.monotonic() reads;
    `now`) is how long it has stayed up, so one look settles a unit long up.
    """
    if not props:
        return "systemd does not know it"
    state = "%s (%s)" % (props.get("ActiveState", "?"), props.get("SubState", "?"))
    restarts = props.get("NRestarts", "0")
    if restarts not in ("", "0"):
        state += ", restarted %s times by systemd" % restarts
    if (props.get("ActiveState"), props.get("SubState")) != ("active", "running"):
        return state
    try:
        entered = int(props.get("ActiveEnterTimestampMonotonic") or 0) / 1e6
    except ValueError:
        entered = now
    if now - entered < stable:
        return "%s for %.1fs only, not yet %gs" % (state, max(now - entered, 0.0), stable)
    return None


def gave_up(props):
    """Whether systemd will not start the unit again by itself (failed, restart limit hit or no Restart=)."""
    return (props or {}).get("ActiveState") == "failed"


def triggers(unit):
    """Units tied to this one by activation: a socket's services, or a service's sockets."""
    props = show([unit], ["Triggers", "TriggeredBy"]).get(unit, {})
    return sorted(set((props.get("Triggers", "") + " " + props.get("TriggeredBy", "")).split()))


def parse_list_sockets(text):
    """[(port, socket unit, [activated units])] from `systemctl list-sockets --all --full --plain --no-legend`."""
    found = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 2 or not fields[1].endswith(".socket"):
            continue
        listen, unit, activates = fields[0], fields[1], [f for f in fields[2:] if "." in f]
        head, _sep, port = listen.rpartition(":")
        if head and port.isdigit():
            found.append((int(port), unit, activates))
    return found


def socket_units(ports):
    """{port: [(socket unit, [activated units])]} for sockets systemd listens on for units."""
    if not available():
        return {}
    by_port = {}
    for port, unit, activates in parse_list_sockets(
        _systemctl(["list-sockets", "--all", "--full", "--plain", "--no-legend"])
    ):
        if port in ports:
            by_port.setdefault(port, []).append((unit, activates))
    return by_port


def _act(verb, unit, *flags):
    """systemctl VERB [FLAGS] UNIT: (ok, what systemctl said)."""
    returncode, stdout, stderr = _run([SYSTEMCTL, verb, *flags, "--", unit], 120)
    if returncode is None:
        return False, "%s: %s" % (unit, stderr)
    return returncode == 0, (stderr or stdout).strip()


def stop(units, no_block=False):
    """Stop these units, sockets first so nothing starts their services again; (ok, message).

    A socket's service that is not loaded (never activated, or unloaded with
    its socket) has nothing left to stop. With no_block the stop jobs are only
    queued (stop_within() waits on them itself).
    """
    failures = []
    flags = ("--no-block",) if no_block else ()
    for unit in sorted(units, key=lambda u: not u.endswith(".socket")):
        ok, message = _act("stop", unit, *flags)
        if not ok and "not loaded" not in message:
            failures.append(message)
    return not failures, "; ".join(failures)


STOPPED_STATES = ("inactive", "failed")


def _states(units):
    props = show(units, ["ActiveState", "SubState"])
    return dict((unit, (p.get("ActiveState", ""), p.get("SubState", ""))) for unit, p in props.items())


def stop_within(units, grace, timeout, kill=True, clock=None, sleep=None):
    """Stop these units within the caller's times, never blocking on a unit's own TimeoutStopSec.

    The stop jobs are queued (stop() with --no-block, sockets first); a unit
    still not stopped after `grace` seconds gets SIGKILL in every process of its
    control group (systemctl kill) when `kill` is true; at `timeout` the stop
    has failed. Returns (stopped, {unit: "active (sub)"} of those left, [what was done]).
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    started = clock()
    queued, message = stop(units, no_block=True)
    errors = [] if queued else [message or "systemctl stop failed"]
    done = ["systemctl stop --no-block %s (SIGTERM, as each unit's KillSignal says)" % " ".join(units)]
    killed = False
    while True:
        left = dict((u, st) for u, st in _states(units).items() if st[0] not in STOPPED_STATES and st[0])
        if not left:
            return not errors, {}, done + errors
        elapsed = clock() - started
        if elapsed >= timeout:
            return False, dict((u, "%s (%s)" % st) for u, st in left.items()), done + errors
        if kill and not killed and elapsed >= grace:
            for unit in sorted(left):
                _run([SYSTEMCTL, "kill", "--signal=SIGKILL", "--", unit], 30)
            done.append("systemctl kill --signal=SIGKILL %s after %.1fs" % (" ".join(sorted(left)), elapsed))
            killed = True
        sleep(0.1)


def restart(unit):
    return _act("restart", unit)
