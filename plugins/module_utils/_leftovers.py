# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Leftovers: processes in a service's control group that are not part of its current run.

A unit with ``KillMode=process`` (or ``none``) loses track of the children of
its main process when it stops: they stay in ``system.slice/<unit>`` while the
unit is inactive, and systemd's next start only logs "Found left-over process
... in control group while starting unit. Ignoring." The leftover keeps the
port and the unit loops on EADDRINUSE: the outage this collection exists for.

Such a process belongs to no running service. systemd will not start it again
and will not stop it (stopping an inactive unit does nothing), so it is
neither the rightful owner of a port nor something to stop as a unit: it is a
stray, signalled by pid when the caller's selection matches it.

A process in a service's control group is a leftover when:
- the unit is not running at all (inactive, failed, or waiting to restart:
  SubState auto-restart), or
- it is not the unit's main or control process nor one of their descendants,
  and it started before the unit's current run did (the run starts when the
  unit leaves the inactive state, or, for a unit restarting on its own, when
  its current main process started or its last one exited).

Standard library only: hosts run this file too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    from ansible_collections.steadyops.stack.plugins.module_utils import _procfs, _systemd
    from ansible_collections.steadyops.stack.plugins.module_utils._owners import SERVICE
except ImportError:  # copied next to _procfs.py on a host
    import _procfs  # type: ignore[no-redef]
    import _systemd  # type: ignore[no-redef]
    from _owners import SERVICE  # type: ignore[no-redef]

RUN_PROPERTIES = [
    "ActiveState",
    "SubState",
    "MainPID",
    "ControlPID",
    "InactiveExitTimestampMonotonic",
    "ExecMainStartTimestampMonotonic",
    "ExecMainExitTimestampMonotonic",
]

# The kernel reports a process's start in clock ticks (10 ms), rounded down; a
# process of the current run can read up to a tick before the run began.
START_MARGIN = 0.05


def _seconds(props, name):
    try:
        return int(props.get(name) or 0) / 1e6
    except ValueError:
        return 0.0


def _pid(props, name):
    try:
        return int(props.get(name) or 0)
    except ValueError:
        return 0


def run_started(props):
    """CLOCK_MONOTONIC seconds at which the unit's current run began (0.0 when unknown)."""
    started = [_seconds(props, "InactiveExitTimestampMonotonic")]
    if _pid(props, "MainPID"):
        # A unit that restarts on its own never passes through "inactive": its run is its main process's.
        started.append(_seconds(props, "ExecMainStartTimestampMonotonic"))
    elif props.get("ActiveState") == "activating":
        # Starting again after its main process exited (pre-start steps): the run began at that exit.
        started.append(_seconds(props, "ExecMainExitTimestampMonotonic"))
    return max(started)


def verdict(props, started_at, lineage):
    """Why a process in the unit's control group is a leftover (the unit's state), or None when it is the unit's.

    props: the unit's RUN_PROPERTIES from systemctl show; started_at: when the
    process started, CLOCK_MONOTONIC seconds; lineage: the process's pid and
    its ancestors' pids.
    """
    active, sub = props.get("ActiveState"), props.get("SubState")
    if not active:
        return None  # systemd does not know the unit: nothing says the process is not its own
    state = "%s (%s)" % (active, sub or "?")
    if active in ("inactive", "failed") or sub == "auto-restart":
        return "%s is %s" % (props.get("Id", "the unit"), state)
    current = {_pid(props, "MainPID"), _pid(props, "ControlPID")} - {0}
    if current & set(lineage):
        return None
    began = run_started(props)
    if started_at is not None and began and started_at < began - START_MARGIN:
        return "%s is %s, and this process started %.1fs before its current run" % (
            props.get("Id", "the unit"),
            state,
            began - started_at,
        )
    return None


def monotonic_start(process, ticks=None):
    """When the process started, on CLOCK_MONOTONIC (what systemd's *Monotonic timestamps use)."""
    if process.start_ticks is None:
        return None
    ticks = ticks or _procfs.clock_ticks()
    # /proc counts from boot including suspended time (CLOCK_BOOTTIME); systemd's monotonic clock does not.
    suspended = time.clock_gettime(time.CLOCK_BOOTTIME) - time.monotonic()
    return process.start_ticks / float(ticks) - max(suspended, 0.0)


def mark(processes, proc=_procfs.PROC, systemd=_systemd):
    """Mark each process that is a leftover of its service (owner.leftover = why). Returns the processes.

    One systemctl call for all the services involved; nothing is asked where systemd is not running.
    """
    services = sorted({p.owner.unit for p in processes if p.owner is not None and p.owner.kind == SERVICE})
    if not services:
        return processes
    states = systemd.show(services, RUN_PROPERTIES)
    for process in processes:
        owner = process.owner
        if owner is None or owner.kind != SERVICE or owner.unit not in states:
            continue
        lineage = [process.pid, *_procfs.ancestor_pids(process.pid, proc)]
        owner.leftover = verdict(states[owner.unit], monotonic_start(process), lineage)
    return processes
