# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who holds a port and whether each holder may be stopped.

Shared by the port_free module and the free_port.py pre-start helper that
units run on the hosts. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from ansible_collections.steadyops.stack.plugins.module_utils import _procfs
    from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import own_tree, refusal
except ImportError:  # copied next to _procfs.py on a host
    import _procfs  # type: ignore[no-redef]
    from _process_policy import own_tree, refusal  # type: ignore[no-redef]


def socket_label(entry):
    return "%s/%s:%d" % (entry["protocol"], entry["local_address"], entry["local_port"])


def current_holders(ports, protocol="tcp", address=None, owner_unit=None, proc=_procfs.PROC):
    """({pid: Process}, {pid: sockets}, ownerless sockets, kept) where kept are owner_unit's holders."""
    by_pid, ownerless = _procfs.port_holders(ports, protocol, address, proc)
    table, kept = {}, []
    for pid in list(by_pid):
        process = _procfs.read_process(pid, proc)
        if process is None:
            del by_pid[pid]  # exited while we looked
        elif owner_unit and process.unit == owner_unit:
            kept.append(dict(process.as_dict(), ports=[socket_label(s) for s in by_pid.pop(pid)]))
        else:
            table[pid] = process
    return table, by_pid, ownerless, kept


def judge(table, by_pid, selection, protect, proc=_procfs.PROC):
    """[(process, socket labels, why not)] per holder; `why not` is None for a holder that may be stopped."""
    # Reading the whole process table costs; only a port with holders needs it.
    self_tree = own_tree(_procfs.process_table(proc)) if table else set()
    verdicts = []
    for pid in sorted(table):
        process = table[pid]
        labels = [socket_label(s) for s in by_pid[pid]]
        who = "pid %d (user %s, %r, unit %s) holds %s" % (
            pid,
            process.user,
            process.short_command(),
            process.unit or "none",
            ", ".join(labels),
        )
        why = refusal(process, self_tree, protect)
        if why:
            verdicts.append((process, labels, "%s: it is never stopped because %s." % (who, why)))
            continue
        missing = selection.mismatches(process)
        if missing:
            verdicts.append(
                (process, labels, "%s and is not allowed; to allow it, set %s." % (who, " and ".join(missing)))
            )
            continue
        verdicts.append((process, labels, None))
    return verdicts
