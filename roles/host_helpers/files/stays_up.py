#!/usr/bin/env python
"""Wait until each unit stays up: active (running) for --stable seconds in a row.

    stays_up.py [--stable 3] [--timeout 20] UNIT...

Polling "is it active?" once a second passes a service that crashes on start
whenever a poll lands in the moment between its restarts. This asks systemd
when each unit last entered the active state, so a unit up for longer than
--stable passes at once, and one that restarted counts from its restart.
Exits 0 when every unit is up; 1 after --timeout (or as soon as systemd has
given up on a unit: failed, its restart limit hit) with one line per unit
that is not, saying its state and how often systemd restarted it.
Installed by the host_helpers role next to the collection's module_utils.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _host_exec
import _systemd

# systemctl runs through this script's own runner (the shared code runs no process itself).
_systemd.use(_host_exec.run)

POLL_SECONDS = 0.25


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stable", type=float, default=3.0, help="seconds a unit must have been up")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for all of them")
    parser.add_argument("units", nargs="+")
    args = parser.parse_args()
    if args.stable < 0 or args.timeout <= 0:
        sys.exit("stays_up: --stable must be 0 or more and --timeout more than 0 (seconds)")
    if not _systemd.available():
        sys.exit("stays_up: systemd is not the service manager here; nothing to ask")

    deadline = time.monotonic() + args.timeout
    while True:
        props = _systemd.show(args.units, _systemd.UP_PROPERTIES)
        now = time.monotonic()
        reasons = {unit: _systemd.not_up_reason(props.get(unit), now, args.stable) for unit in args.units}
        waiting = {unit: reason for unit, reason in reasons.items() if reason}
        if not waiting:
            print("up for %gs or more: %s" % (args.stable, " ".join(args.units)))
            return
        given_up = [unit for unit in waiting if _systemd.gave_up(props.get(unit))]
        if given_up or now >= deadline:
            for unit, reason in sorted(waiting.items()):
                print("%s did not stay up: %s" % (unit, reason))
            sys.exit(1)
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    main()
