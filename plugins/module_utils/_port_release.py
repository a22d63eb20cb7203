# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who holds a port and what may be done about each holder.

Shared by the port_free module, the free_port.py pre-start helper that units
run on the hosts, and the health check. Standard library only.

A holder is one of:
- a process of the rightful owner (a unit and the sockets that activate it): kept,
  unless it is a leftover of the unit's earlier run (_leftovers);
- a process systemd would start again (a service, a user unit, a delegated
  subtree) or a socket systemd listens on for a unit: only ever stopped as a
  unit, and only when the caller's allow_units names it;
- any other process: signalled by pid when it matches the caller's selection.
Anything else is refused, naming the holder and the option that would allow it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from ansible_collections.steadyops.stack.plugins.module_utils import _leftovers, _procfs, _systemd
    from ansible_collections.steadyops.stack.plugins.module_utils._owners import in_control_group
    from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (
        normalize_unit,
        refusal,
    )
except ImportError:  # copied next to _procfs.py on a host
    import _leftovers  # type: ignore[no-redef]
    import _procfs  # type: ignore[no-redef]
    import _systemd  # type: ignore[no-redef]
    from _owners import in_control_group  # type: ignore[no-redef]
    from _process_policy import normalize_unit, refusal  # type: ignore[no-redef]

KEEP, SIGNAL, STOP, REFUSE = "keep", "signal", "stop", "refuse"


def socket_label(entry):
    return "%s/%s:%d" % (entry["protocol"], entry["local_address"], entry["local_port"])


class Owner(object):
    """The rightful owner of the ports: a unit, plus the units tied to it by socket activation."""

    def __init__(self, unit=None, systemd=_systemd):
        self.units = set()
        self.control_groups = {}
        if unit:
            unit = normalize_unit(unit)
            self.units = {unit, *systemd.triggers(unit)}
            self.control_groups = systemd.control_groups(self.units)

    def holds(self, process):
        if not self.units or (process.owner is not None and process.owner.leftover):
            # A leftover of the owner's earlier run holds the port against the owner: the outage itself.
            return False
        if self.control_groups:
            # systemd's own answer: a process of a same-named sub-cgroup elsewhere is not ours.
            return any(in_control_group(process.cgroup, cg) for cg in self.control_groups.values())
        return process.unit in self.units


class Holder(object):
    """One process holding some of the ports, and what is to be done with it."""

    def __init__(self, process, sockets):
        self.process = process
        self.sockets = sockets
        self.labels = [socket_label(s) for s in sockets]
        self.action = None
        self.units = []  # units to stop, for STOP
        self.why = None  # the refusal, for REFUSE

    def as_dict(self):
        return dict(self.process.as_dict(), ports=self.labels, action=self.action, units=list(self.units))


def current_holders(ports, protocol="tcp", address=None, owner=None, proc=_procfs.PROC, systemd=_systemd):
    """([Holder], ownerless sockets, [kept Holder]) for the ports now.

    Holders of PID 1 that are sockets systemd listens on for the owner are kept too.
    """
    owner = owner or Owner()
    by_pid, ownerless = _procfs.port_holders(ports, protocol, address, proc)
    root = _procfs.manager_root(proc)
    sockets_by_port = systemd.socket_units(set(ports)) if 1 in by_pid else {}
    processes = [p for p in (_procfs.read_process(pid, proc, root=root) for pid in sorted(by_pid)) if p is not None]
    _leftovers.mark(processes, proc, systemd)
    holders, kept = [], []
    for process in processes:
        pid = process.pid
        holder = Holder(process, by_pid[pid])
        if pid == 1:
            holder.units = _socket_units(holder.sockets, sockets_by_port)
        if owner.holds(process) or (holder.units and owner.units & set(holder.units)):
            holder.action = KEEP
            kept.append(holder)
        else:
            holders.append(holder)
    return holders, ownerless, kept


def _socket_units(sockets, sockets_by_port):
    units = []
    for entry in sockets:
        for socket_unit, activates in sockets_by_port.get(entry["local_port"], []):
            for unit in [socket_unit, *activates]:
                if unit not in units:
                    units.append(unit)
    return units


def _who(holder):
    process = holder.process
    return "pid %d (user %s, %r, %s) holds %s" % (
        process.pid,
        process.user,
        process.short_command(),
        process.owner.describe() if process.owner is not None else "no unit",
        ", ".join(holder.labels),
    )


def judge(holders, selection, protect, proc=_procfs.PROC, self_tree=None):
    """Decide each holder's action: SIGNAL, STOP (its units) or REFUSE (with why). Returns holders."""
    if self_tree is None:
        # Only a port with holders needs it; read along this process's own ancestry and children.
        self_tree = _procfs.own_tree_pids(proc=proc) if holders else set()
    allow_units = selection.names["units"]
    for holder in holders:
        process, who = holder.process, _who(holder)
        if process.pid == 1 and holder.units:
            socket_unit = holder.units[0]
            if set(holder.units) & set(selection.units):
                holder.action = STOP
                continue
            holder.action = REFUSE
            holder.why = "systemd (pid 1) holds %s for socket unit %s, which starts %s on demand: to stop them, " \
                "set %s: [%r]." % (
                    ", ".join(holder.labels), socket_unit, ", ".join(holder.units[1:]) or "nothing", allow_units,
                    socket_unit,
                )  # fmt: skip
            continue
        why = refusal(process, self_tree, protect)
        if why:
            holder.action, holder.why = REFUSE, "%s: it is never stopped because %s." % (who, why)
            continue
        owner = process.owner
        missing = [m for m in selection.mismatches(process) if not m.startswith(allow_units + ":")]
        if owner is not None and owner.restarted_by_systemd:
            if process.unit in selection.units and not missing:
                holder.action, holder.units = STOP, [process.unit]
                continue
            holder.action = REFUSE
            holder.why = (
                "%s: systemd would start it again, so it is never signalled by pid; to stop %s, set %s: [%r]%s."
                % (who, process.unit, allow_units, process.unit, (" and " + " and ".join(missing)) if missing else "")
            )
            continue
        # allow_units names units; a process in none is allowed by the other kinds alone.
        skip = ("units",) if process.unit is None else ()
        missing = selection.mismatches(process, skip)
        if not selection.given(skip):
            missing = [selection.any_hint(process)]
        if missing:
            holder.action = REFUSE
            holder.why = "%s and is not allowed; to allow it, set %s." % (who, " and ".join(missing))
            continue
        holder.action = SIGNAL
    return holders


def settle_seconds(units, systemd=_systemd, minimum=1.0):
    """How long a freed port must stay free: longer than any restart delay of the units involved."""
    delays = [d for d in systemd.restart_delays(units).values() if d is not None] if units else []
    return max([minimum] + [d + 1.0 for d in delays])
