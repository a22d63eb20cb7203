#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: kill_zombies
short_description: Reap defunct processes and stop a unit's strays that live outside its cgroup
version_added: 0.1.0
description:
  - B(Zombies.) A defunct process is already dead; only its parent can remove it, by reaping it.
    For zombies older than O(min_age) the module sends SIGCHLD to the parent and waits O(reap_wait)
    seconds. If a zombie is still there and its parent's command line matches O(reap_parents)
    (opt-in), the parent is terminated so that init adopts and reaps its children.
  - B(Strays.) For each entry of O(strays), processes that match the unit's stray patterns but run
    outside that unit's control group (as systemd reports it) are terminated with SIGTERM, then
    O(final_signal) after O(grace) seconds (the orphaned C(next-server) that kept port 3000 after its
    unit restarted). Only on hosts whose PID 1 is systemd; elsewhere every process is outside every
    unit, and the module refuses.
  - A leftover in the unit's own control group counts as outside it - a process left there while the unit
    is inactive, failed or waiting to restart, or one that is not of the unit's current run (what
    C(KillMode=process) leaves behind when the unit stops). The stray's C(owner) says so.
  - A process is never a stray when it belongs to something systemd manages (another service, a user
    unit, a service's delegated subtree), runs in a container or another PID namespace, is a login
    shell, or runs in a login session while the stray entry names no O(strays[].users). Such processes
    are reported in RV(left_alone) with the reason, never signalled.
  - Patterns that match every process (the empty string, V(.*), V(.)) are refused. A run that matches
    more than O(max_strays) processes, or processes of more than O(max_stray_users) users, signals
    nothing and fails, until the caller raises the limit.
  - A zombie's parent that is a service's process is never terminated by pid (systemd would start it
    again); its service is restarted instead when O(restart_units) names it.
  - Never signals PID 1, kernel threads, the module's own process tree (the Ansible connection), or
    processes matching the protected patterns (sshd, systemd, Ansible, and O(protect)).
author:
  - steadyops engineering (@steadyops)
attributes:
  check_mode:
    support: full
    description: Finds the same zombies and strays and reports the signals it would send; sends none.
  diff_mode:
    support: full
    description: The pid sets of zombies and strays before and after.
  platform:
    support: full
    platforms: posix
    description: Linux only; reads C(/proc).
options:
  zombies:
    description: Whether to look for and reap defunct processes.
    type: bool
    default: true
  min_age:
    description: Only zombies whose process started at least this many seconds ago are handled.
    type: float
    default: 60
  reap_wait:
    description: Seconds to wait for parents to reap after SIGCHLD.
    type: float
    default: 2
  reap_parents:
    description:
      - Regular expressions searched in a zombie parent's command line. A matching parent that does
        not reap after SIGCHLD is terminated. Empty (the default) never terminates a parent.
    type: list
    elements: str
    default: []
  strays:
    description: Units whose strays to stop; usually built from C(stack_services).
    type: list
    elements: dict
    default: []
    suboptions:
      unit:
        description: The unit the strays escaped from (V(.service) is added when no suffix is given).
        type: str
        required: true
      patterns:
        description: Regular expressions searched in a process's command line; at least one.
        type: list
        elements: str
        required: true
      users:
        description: If given, a stray must run as one of these users (names or uids).
        type: list
        elements: str
        default: []
      cwd:
        description: If given, regular expressions one of which must match the stray's working directory.
        type: list
        elements: str
        default: []
  grace:
    description: Seconds between SIGTERM and O(final_signal).
    type: float
    default: 10
  final_signal:
    description: Sent to processes still alive after O(grace). V(none) never escalates.
    type: str
    choices: [SIGKILL, none]
    default: SIGKILL
  protect:
    description: Extra regular expressions; a process whose command line matches one is never signalled.
    type: list
    elements: str
    default: []
  max_strays:
    description:
      - The most strays one run may signal. More matches than this fail the task before any signal, since
        a pattern that matches many processes is far more likely a mistake than an outage.
    type: int
    default: 10
  max_stray_users:
    description: The most distinct users the strays of one run may belong to.
    type: int
    default: 1
  restart_units:
    description:
      - Services that may be restarted (C(systemctl restart)) when their process is a zombie's parent that
        matches O(reap_parents) and does not reap. V(.service) is added when no suffix is given.
    type: list
    elements: str
    default: []
notes:
  - A zombie's age is measured from when its process started, the only time C(/proc) records.
  - C(changed) means a signal was sent. A parent that ignores SIGCHLD leaves its zombies in place; the
    module then warns and says which O(reap_parents) pattern would let it terminate that parent.
seealso:
  - module: steadyops.stack.port_free
"""

EXAMPLES = r"""
- name: Stop orphaned Next.js servers of the frontend and reap old zombies
  steadyops.stack.kill_zombies:
    strays:
      - unit: tms-frontend
        patterns: ["next-server", "next start"]
        users: [tmsapp]

- name: Strays of every service in the stack model, run by the application account
  steadyops.stack.kill_zombies:
    zombies: false
    strays: "{{ stack_services | selectattr('stray_patterns', 'defined')
                | map('steadyops.stack.stray_spec', [stack_app_user]) | list }}"

- name: Reap zombies, terminating a known-broken supervisor that never reaps
  steadyops.stack.kill_zombies:
    min_age: 300
    reap_parents: ["^/opt/legacy/bin/supervisor"]
"""

RETURN = r"""
zombies:
  description: Zombies found older than O(min_age), with their parent and what happened to them.
  returned: always
  type: list
  elements: dict
  sample:
    - pid: 812
      ppid: 790
      parent_cmdline: /opt/legacy/bin/supervisor
      age_seconds: 4210.5
      outcome: reaped
strays:
  description: Processes that matched a unit's stray patterns outside its cgroup.
  returned: always
  type: list
  elements: dict
parents_signalled:
  description: Parents sent SIGCHLD or terminated, with the signals and the outcome.
  returned: always
  type: list
  elements: dict
signalled:
  description: Per terminated stray or parent, the signals sent and the outcome.
  returned: always
  type: list
  elements: dict
left_alone:
  description: Processes that matched but were left alone, each with the reason.
  returned: always
  type: list
  elements: dict
actions:
  description: What was done, or in check mode what would be done, one sentence each.
  returned: always
  type: list
  elements: str
restarted_units:
  description: Services restarted because their process did not reap (O(restart_units)), with the outcome.
  returned: always
  type: list
  elements: dict
"""

import signal
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.steadyops.stack.plugins.module_utils import _leftovers, _procfs, _signals, _systemd
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (
    PolicyError,
    Selection,
    bad_seconds,
    breadth_problem,
    normalize_unit,
    own_tree,
    plan_strays,
    protect_patterns,
    refusal,
)


class Reaper(object):
    def __init__(self, module, proc=_procfs.PROC):
        self.module = module
        self.proc = proc
        params = module.params
        self.final_signal = None if params["final_signal"] == "none" else signal.SIGKILL
        self.protect = protect_patterns(params["protect"])
        self.reap_parents = Selection(cmdline=params["reap_parents"], names={"cmdline": "reap_parents"})
        self.restart_units = [normalize_unit(u) for u in params["restart_units"]]
        self.warned = set()
        self.stray_specs = []
        for index, spec in enumerate(params["strays"]):
            where = "strays[%d]" % index
            if not spec["patterns"]:
                raise PolicyError(
                    "%s (unit %s) has no patterns: say what a stray of this unit looks like." % (where, spec["unit"])
                )
            self.stray_specs.append(
                (
                    normalize_unit(spec["unit"]),
                    Selection(
                        cmdline=spec["patterns"],
                        users=spec["users"],
                        cwd=spec["cwd"],
                        names={"cmdline": where + ".patterns", "users": where + ".users", "cwd": where + ".cwd"},
                    ),
                )
            )
        self.result = {
            "changed": False,
            "zombies": [],
            "strays": [],
            "parents_signalled": [],
            "signalled": [],
            "left_alone": [],
            "actions": [],
            "restarted_units": [],
        }

    # ------------------------------------------------------------ finding

    def find_strays(self, table, self_tree):
        if _procfs.manager_root(self.proc) is None:
            self.module.fail_json(
                msg="strays: PID 1 on this host is not systemd, so there are no units for a process to be outside "
                "of, and every matching process would count as a stray. Nothing was signalled. Run strays only on "
                "systemd hosts; use port_free to clear a port here.",
                **self.result,
            )
        control_groups = _systemd.control_groups([unit for unit, _selection in self.stray_specs])
        # A match inside a stopped unit's cgroup is that unit's leftover, a stray like any other.
        _leftovers.mark(
            [p for p in table.values() if any(sel.matches(p) for _unit, sel in self.stray_specs)], self.proc
        )
        strays, skipped = plan_strays(table, self.stray_specs, self_tree, self.protect, control_groups)
        for process, unit, why in skipped:
            self.result["left_alone"].append(dict(process.as_dict(), expected_unit=unit, reason=why))
        for pid in sorted(strays):
            self.result["strays"].append(dict(table[pid].as_dict(), expected_unit=strays[pid]))
        too_broad = breadth_problem(
            strays, table, self.module.params["max_strays"], self.module.params["max_stray_users"]
        )
        if too_broad:
            self.module.fail_json(msg="strays: %s." % too_broad, **self.result)
        return dict((pid, table[pid]) for pid in strays)

    def find_zombies(self, table, self_tree):
        now = time.time()
        by_parent = {}
        for pid in sorted(table):
            process = table[pid]
            if not process.is_zombie or process.age(now) < self.module.params["min_age"]:
                continue
            parent = table.get(process.ppid)
            entry = dict(process.as_dict(now), parent_cmdline=parent.command if parent else None)
            why = None
            if parent is None:
                why = "its parent %d is gone; init adopts and reaps it" % process.ppid
            elif parent.pid == 1:
                why = "its parent is PID 1, which reaps on its own and is never signalled"
            else:
                parent_why = refusal(parent, self_tree, self.protect)
                if parent_why:
                    why = "its parent %d is never signalled because %s" % (parent.pid, parent_why)
            if why:
                self.result["left_alone"].append(dict(entry, reason=why))
                continue
            self.result["zombies"].append(entry)
            by_parent.setdefault(parent.pid, (parent, []))[1].append(process)
        return by_parent

    # ------------------------------------------------------------ acting

    def stop_strays(self, strays):
        if not strays:
            return
        for pid in sorted(strays):
            self.result["actions"].append(
                "terminate stray pid %d (%s, unit %s)" % (pid, strays[pid].short_command(), strays[pid].unit or "none")
            )
        if self.module.check_mode:
            return
        outcomes = _signals.terminate(
            [(p.pid, p.start_ticks) for p in strays.values()],
            grace=self.module.params["grace"],
            final_signal=self.final_signal,
            proc=self.proc,
        )
        self.result["signalled"].extend(outcomes)
        by_pid = dict((o["pid"], o["outcome"]) for o in outcomes)
        for entry in self.result["strays"]:
            entry["outcome"] = by_pid.get(entry["pid"])

    def reap(self, by_parent):
        for parent_pid in sorted(by_parent):
            parent, children = by_parent[parent_pid]
            self.result["actions"].append(
                "send SIGCHLD to pid %d (%s), parent of zombie(s) %s"
                % (parent_pid, parent.short_command(), ", ".join(str(c.pid) for c in children))
            )
            remedy = self.parent_remedy(parent)
            if remedy:
                self.result["actions"].append(
                    "%s if it does not reap within %.1fs (matches reap_parents)"
                    % (remedy, self.module.params["reap_wait"])
                )
        if self.module.check_mode or not by_parent:
            return
        for parent_pid, (parent, _children) in sorted(by_parent.items()):
            outcome = _signals.notify(parent_pid, parent.start_ticks, signal.SIGCHLD, self.proc)
            self.result["parents_signalled"].append({"pid": parent_pid, "signals": ["SIGCHLD"], "outcome": outcome})
        unreaped = self.wait_for_reaping(by_parent, self.module.params["reap_wait"])
        remedies = dict((pid, self.parent_remedy(by_parent[pid][0])) for pid in unreaped)
        restarts = sorted({by_parent[pid][0].unit for pid, r in remedies.items() if r and r.startswith("restart")})
        for unit in restarts:
            ok, message = _systemd.restart(unit)
            self.result["restarted_units"].append({"unit": unit, "ok": ok, "message": message})
        doomed = [by_parent[pid][0] for pid, r in remedies.items() if r and r.startswith("terminate")]
        if restarts and not doomed:
            unreaped = self.wait_for_reaping(by_parent, self.module.params["reap_wait"])
        if doomed:
            outcomes = _signals.terminate(
                [(p.pid, p.start_ticks) for p in doomed],
                grace=self.module.params["grace"],
                final_signal=self.final_signal,
                proc=self.proc,
            )
            self.result["signalled"].extend(outcomes)
            self.result["parents_signalled"].extend(outcomes)
            unreaped = self.wait_for_reaping(by_parent, self.module.params["reap_wait"])
        for entry in self.result["zombies"]:
            left = entry["ppid"] in unreaped and any(c.pid == entry["pid"] for c in unreaped[entry["ppid"]])
            entry["outcome"] = "left: %s" % self.left_reason(by_parent[entry["ppid"]][0]) if left else "reaped"
        for parent_pid, left in sorted(unreaped.items()):
            parent = by_parent[parent_pid][0]
            if parent_pid in self.warned:
                continue
            if parent.owner is not None and parent.owner.restarted_by_systemd:
                hint = (
                    "it belongs to %s; to restart that service, add it to restart_units and match it with "
                    "reap_parents" % parent.owner.describe()
                )
            else:
                hint = "to let this module terminate that parent, add to reap_parents a pattern such as %r" % (
                    "^" + (parent.cmdline[0] if parent.cmdline else parent.comm)
                )
            self.module.warn(
                "zombie(s) %s not reaped: parent pid %d (%s) ignores SIGCHLD; %s."
                % (", ".join(str(c.pid) for c in left), parent_pid, parent.short_command(), hint)
            )

    def left_reason(self, parent):
        owner = parent.owner
        if self.reap_parents.matches(parent) and owner is not None and owner.restarted_by_systemd:
            return "parent belongs to %s; restart_units: [%r] would restart it" % (owner.describe(), parent.unit)
        return "parent did not reap"

    def parent_remedy(self, parent):
        """What is done to a parent that does not reap: terminate it, restart its service, or nothing."""
        if not self.reap_parents.matches(parent):
            return None
        owner = parent.owner
        if owner is not None and owner.restarted_by_systemd:
            # systemd would start it again at once; the service is restarted as a unit, or left.
            if parent.unit in self.restart_units:
                return "restart unit %s (pid %d is its process)" % (parent.unit, parent.pid)
            if parent.pid in self.warned:
                return None
            self.warned.add(parent.pid)
            self.module.warn(
                "pid %d (%s) matches reap_parents but belongs to %s, which systemd would restart: it is never "
                "terminated by pid. To restart that service instead, set restart_units: [%r]."
                % (parent.pid, parent.short_command(), owner.describe(), parent.unit)
            )
            return None
        return "terminate pid %d" % parent.pid

    def wait_for_reaping(self, by_parent, seconds):
        deadline = time.time() + seconds
        while True:
            unreaped = {}
            for parent_pid, (_parent, children) in by_parent.items():
                left = [c for c in children if _procfs.start_ticks_of(c.pid, self.proc) == c.start_ticks]
                if left:
                    unreaped[parent_pid] = left
            if not unreaped or time.time() >= deadline:
                return unreaped
            time.sleep(0.05)

    def run(self):
        table = _procfs.process_table(self.proc)
        self_tree = own_tree(table)
        strays = self.find_strays(table, self_tree) if self.stray_specs else {}
        by_parent = self.find_zombies(table, self_tree) if self.module.params["zombies"] else {}
        before = {"strays": sorted(strays), "zombies": sorted(z["pid"] for z in self.result["zombies"])}
        self.stop_strays(strays)
        self.reap(by_parent)
        self.result["changed"] = bool(strays or by_parent or self.result["restarted_units"])
        if self.module.check_mode:
            after = {"strays": [], "zombies": []}
        else:
            after = {
                "strays": sorted(s["pid"] for s in self.result["strays"] if s.get("outcome") in ("survived",)),
                "zombies": sorted(z["pid"] for z in self.result["zombies"] if z.get("outcome") != "reaped"),
            }
        self.result["diff"] = {"before": before, "after": after}
        return self.result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            zombies=dict(type="bool", default=True),
            min_age=dict(type="float", default=60),
            reap_wait=dict(type="float", default=2),
            reap_parents=dict(type="list", elements="str", default=[]),
            strays=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    unit=dict(type="str", required=True),
                    patterns=dict(type="list", elements="str", required=True),
                    users=dict(type="list", elements="str", default=[]),
                    cwd=dict(type="list", elements="str", default=[]),
                ),
            ),
            grace=dict(type="float", default=10),
            final_signal=dict(type="str", default="SIGKILL", choices=["SIGKILL", "none"]),
            protect=dict(type="list", elements="str", default=[]),
            max_strays=dict(type="int", default=10),
            max_stray_users=dict(type="int", default=1),
            restart_units=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    _systemd.use_module(module)
    wrong = bad_seconds(module.params, ("min_age", "reap_wait", "grace"))
    if wrong:
        module.fail_json(msg=wrong)
    if module.params["max_strays"] < 1 or module.params["max_stray_users"] < 1:
        module.fail_json(msg="max_strays and max_stray_users are at least 1: they limit what one run may signal.")
    if not module.params["zombies"] and not module.params["strays"]:
        module.fail_json(msg="Nothing to do: zombies is false and strays is empty. Enable one of them.")
    try:
        reaper = Reaper(module)
    except PolicyError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**reaper.run())


if __name__ == "__main__":
    main()
