#!/usr/bin/env python
"""Free a service's port of its strays before systemd starts it (ExecStartPre=+).

    free_port.py --unit tms-frontend.service --port 3000 --pattern 'next-server' [--user tmsapp]

Processes of the unit itself are the port's rightful owner and are left
alone. Any other holder must match a --pattern (and a --user, when given);
it is then stopped with SIGTERM, then SIGKILL after --grace seconds. A
holder that does not match, or is protected, is never signalled: the helper
prints why and exits 1, so the unit fails with that reason in its journal
instead of looping on EADDRINUSE. Installed by the systemd_hardening role
next to the collection's module_utils: the same code the port_free module runs.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _host_exec
import _port_release
import _signals
import _systemd
from _process_policy import PolicyError, Selection, bad_seconds, normalize_unit, protect_patterns

# systemctl runs through this script's own runner (the shared code runs no process itself).
_systemd.use(_host_exec.run)


def fail(message):
    sys.exit("free_port: %s" % message)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unit", required=True, help="the unit that owns the port")
    parser.add_argument("--port", type=int, action="append", required=True)
    parser.add_argument("--pattern", action="append", default=[], help="command-line regex of a stray")
    parser.add_argument("--user", action="append", default=[], help="a stray's user (name or uid)")
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()
    unit = normalize_unit(args.unit)
    wrong = bad_seconds(vars(args), ("grace", "timeout"))
    bad_ports = [p for p in args.port if not 1 <= p <= 65535]
    if wrong or bad_ports:
        fail(wrong or "invalid port(s) %s: a port is a number from 1 to 65535" % bad_ports)
    if not args.pattern:
        print("free_port: no --pattern: nothing may be stopped, so %s's ports are only checked" % unit, file=sys.stderr)
    try:
        # Strays are signalled by pid: never a service's process, whatever --unit says.
        selection = Selection(
            cmdline=args.pattern,
            users=args.user,
            names={"cmdline": "--pattern", "users": "--user", "units": "port_free's allow_units"},
        )
        protect = protect_patterns()
    except PolicyError as exc:
        fail(str(exc))
    ports = ", ".join(map(str, args.port))
    owner = _port_release.Owner(unit)
    holders, ownerless, _kept = _port_release.current_holders(args.port, owner=owner)
    if ownerless:
        fail("port(s) %s held by a socket whose process is not visible; %s cannot start" % (ports, unit))
    holders = _port_release.judge(holders, selection, protect)
    refusals = [h.why for h in holders if h.action != _port_release.SIGNAL and h.why]
    if not args.pattern and holders:
        refusals.append("no stray patterns are configured for %s" % unit)
    if refusals:
        fail("refusing to free %s for %s; nothing was signalled. %s" % (ports, unit, " ".join(refusals)))
    if not holders:
        return
    for outcome in _signals.terminate([(h.process.pid, h.process.start_ticks) for h in holders], grace=args.grace):
        print(
            "free_port: stray pid %d of %s: %s after %s"
            % (outcome["pid"], unit, outcome["outcome"], "+".join(outcome["signals"]) or "no signal")
        )
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        if not _port_release.current_holders(args.port, owner=owner)[0]:
            # Strays live outside units, so nothing restarts them; one short look again is enough.
            time.sleep(_port_release.settle_seconds([], minimum=0.2))
            if not _port_release.current_holders(args.port, owner=owner)[0]:
                return
        time.sleep(0.1)
    fail("port(s) %s still held after %.0fs" % (ports, args.timeout))


if __name__ == "__main__":
    main()
