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
    outside that unit's cgroup (the orphaned C(next-server) that kept port 3000 after its unit
    restarted) are terminated with SIGTERM, then O(final_signal) after O(grace) seconds.
    Processes that belong to another systemd service are never strays; they are reported, not
    signalled.
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

- name: Strays of every service in the stack model
  steadyops.stack.kill_zombies:
    zombies: false
    strays: "{{ stack_services | selectattr('stray_patterns', 'defined')
                | map('steadyops.stack.stray_spec') | list }}"

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
skipped:
  description: Processes that matched but were left alone, each with the reason.
  returned: always
  type: list
  elements: dict
actions:
  description: What was done, or in check mode what would be done, one sentence each.
  returned: always
  type: list
  elements: str
"""

import signal
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.steadyops.stack.plugins.module_utils import _procfs, _signals
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (
    PolicyError,
    Selection,
    bad_seconds,
    normalize_unit,
    own_tree,
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
            "skipped": [],
            "actions": [],
        }

    # ------------------------------------------------------------ finding

    def find_strays(self, table, self_tree):
        strays = {}
        for pid in sorted(table):
            process = table[pid]
            if process.is_zombie:
                continue
            for unit, selection in self.stray_specs:
                if process.unit == unit or not selection.matches(process):
                    continue
                entry = dict(process.as_dict(), expected_unit=unit)
                why = refusal(process, self_tree, self.protect)
                if why is None and process.unit and process.unit.endswith(".service"):
                    why = "it runs in another service, %s, which systemd manages" % process.unit
                if why:
                    self.result["skipped"].append(dict(entry, reason=why))
                else:
                    strays[pid] = process
                    self.result["strays"].append(entry)
                break
        return strays

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
                self.result["skipped"].append(dict(entry, reason=why))
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
            if self.reap_parents.matches(parent):
                self.result["actions"].append(
                    "terminate pid %d if it does not reap within %.1fs (matches reap_parents)"
                    % (parent_pid, self.module.params["reap_wait"])
                )
        if self.module.check_mode or not by_parent:
            return
        for parent_pid, (parent, _children) in sorted(by_parent.items()):
            outcome = _signals.notify(parent_pid, parent.start_ticks, signal.SIGCHLD, self.proc)
            self.result["parents_signalled"].append({"pid": parent_pid, "signals": ["SIGCHLD"], "outcome": outcome})
        unreaped = self.wait_for_reaping(by_parent, self.module.params["reap_wait"])
        doomed = [by_parent[pid][0] for pid in unreaped if self.reap_parents.matches(by_parent[pid][0])]
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
            entry["outcome"] = (
                "left: parent did not reap"
                if entry["ppid"] in unreaped and any(c.pid == entry["pid"] for c in unreaped[entry["ppid"]])
                else "reaped"
            )
        for parent_pid, left in sorted(unreaped.items()):
            parent = by_parent[parent_pid][0]
            self.module.warn(
                "zombie(s) %s not reaped: parent pid %d (%s) ignores SIGCHLD. To let this module terminate "
                "that parent, add to reap_parents a pattern such as %r."
                % (
                    ", ".join(str(c.pid) for c in left),
                    parent_pid,
                    parent.short_command(),
                    "^" + (parent.cmdline[0] if parent.cmdline else parent.comm),
                )
            )

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
        self.result["changed"] = bool(strays or by_parent)
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
        ),
        supports_check_mode=True,
    )


def main():
    module = build_module()
    wrong = bad_seconds(module.params, ("min_age", "reap_wait", "grace"))
    if wrong:
        module.fail_json(msg=wrong)
    if not module.params["zombies"] and not module.params["strays"]:
        module.fail_json(msg="Nothing to do: zombies is false and strays is empty. Enable one of them.")
    try:
        reaper = Reaper(module)
    except PolicyError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**reaper.run())


if __name__ == "__main__":
    main()
