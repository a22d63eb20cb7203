#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: port_free
short_description: Make sure no process holds a port, stopping only holders the caller allowed
version_added: 0.1.0
description:
  - Finds the processes that hold a listening TCP socket or a bound UDP socket on the given ports,
    by reading C(/proc/net) and every process's file descriptors.
  - When no process holds a port, nothing happens. When every holder matches what the caller
    allowed, each holder is stopped (or its systemd unit, with O(stop_unit)) and the module waits
    until no process holds the port any more. A TCP connection in TIME_WAIT holds no process and
    does not count.
  - When any holder is not allowed, the module fails before signalling anything, naming the holder
    (pid, user, command line, unit) and the parameter that would allow it.
  - When a listening socket's process cannot be seen (another PID namespace, or no permission to read
    other processes' file descriptors), the module fails, because the port is not free and its owner is unknown.
  - Never signals PID 1, kernel threads, the module's own process tree (the Ansible connection),
    or processes matching the protected patterns (sshd, systemd, Ansible, and O(protect)).
  - Written for the outage where an orphaned C(next-server) kept port 3000 and its unit failed
    twelve times with EADDRINUSE.
author:
  - steadyops engineering (@steadyops)
attributes:
  check_mode:
    support: full
    description: Reports the holders and the exact actions it would take; signals nothing.
  diff_mode:
    support: full
    description: Before and after, the pids holding each port.
  platform:
    support: full
    platforms: posix
    description: Linux only; reads C(/proc).
options:
  port:
    description: The port to free. Exactly one of O(port) and O(ports) is required.
    type: int
  ports:
    description: Several ports to free at once.
    type: list
    elements: int
  protocol:
    description: Which sockets count as holding the port.
    type: str
    choices: [tcp, udp, both]
    default: tcp
  address:
    description:
      - Only sockets bound to this local address count, plus wildcard sockets (V(0.0.0.0), V(::)), which
        also take the port on this address.
    type: str
  allow_cmdline:
    description: Regular expressions searched in a holder's command line.
    type: list
    elements: str
    default: []
  allow_exe:
    description: Regular expressions searched in the path of a holder's executable.
    type: list
    elements: str
    default: []
  allow_users:
    description: User names or uids a holder may run as.
    type: list
    elements: str
    default: []
  allow_units:
    description:
      - systemd units a holder may belong to (V(.service) is added when no suffix is given).
    type: list
    elements: str
    default: []
  owner_unit:
    description:
      - The unit that rightfully owns the ports (V(.service) is added when no suffix is given). Its
        processes are left alone and reported in RV(kept), so the module can run while the service is
        up, as drift correction does, and only clear the ports of everyone else.
    type: str
  stop_unit:
    description:
      - When a holder runs inside a systemd service, stop that service with systemctl rather than
        signal the process. Otherwise systemd would restart it and take the port back.
    type: bool
    default: false
  signal:
    description: The first signal sent to each holder.
    type: str
    choices: [SIGTERM, SIGINT, SIGHUP, SIGQUIT]
    default: SIGTERM
  grace:
    description: Seconds to wait after the first signal before escalating.
    type: float
    default: 10
  final_signal:
    description: Sent to holders still alive after O(grace). V(none) never escalates.
    type: str
    choices: [SIGKILL, none]
    default: SIGKILL
  timeout:
    description: Seconds to wait, after stopping the holders, for the ports to be free.
    type: float
    default: 30
  protect:
    description: Extra regular expressions; a holder whose command line matches one is never signalled.
    type: list
    elements: str
    default: []
notes:
  - Each kind of C(allow_*) that is given must match; within a kind any entry may. At least one
    C(allow_*) is required, so the module never stops something nobody named.
  - A holder is identified by its pid and start time, and signalled through a pidfd, so a pid reused
    by an unrelated process between the check and the signal is never hit.
seealso:
  - module: steadyops.stack.kill_zombies
  - module: community.general.listen_ports_facts
"""

EXAMPLES = r"""
- name: Free the frontend port of orphaned Next.js servers before starting the unit
  steadyops.stack.port_free:
    port: 3000
    allow_cmdline: ["next-server", "next start"]
    allow_users: [tmsapp]

- name: Drift run while the frontend is up - clear only processes outside its unit
  steadyops.stack.port_free:
    port: 3000
    owner_unit: tms-frontend
    allow_cmdline: ["next-server", "next start"]

- name: Free the API port held by its own (failing) service
  steadyops.stack.port_free:
    port: 8000
    allow_units: [tms-backend]
    stop_unit: true

- name: Free TCP and UDP 5353 for one address, escalating after 3 seconds
  steadyops.stack.port_free:
    ports: [5353]
    protocol: both
    address: 127.0.0.1
    allow_exe: ["^/usr/local/bin/mdns-relay$"]
    grace: 3
"""

RETURN = r"""
holders:
  description: The processes that held the ports when the module started.
  returned: always
  type: list
  elements: dict
  sample:
    - pid: 4242
      user: tmsapp
      cmdline: next-server (v14.2.3)
      unit: session-3.scope
      ports: ["tcp/0.0.0.0:3000"]
actions:
  description: What was done, or in check mode what would be done, one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["signal pid 4242 (next-server (v14.2.3)): SIGTERM, SIGKILL after 10.0s"]
signalled:
  description: Per signalled pid, the signals sent and the outcome (exited, killed, survived, gone).
  returned: always
  type: list
  elements: dict
kept:
  description: Holders inside O(owner_unit), left alone.
  returned: always
  type: list
  elements: dict
stopped_units:
  description: systemd units stopped because O(stop_unit) was set.
  returned: always
  type: list
  elements: str
elapsed:
  description: Seconds the module took.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.steadyops.stack.plugins.module_utils import _port_release, _procfs, _signals
from ansible_collections.steadyops.stack.plugins.module_utils._port_release import socket_label
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (
    PolicyError,
    Selection,
    bad_seconds,
    normalize_unit,
    protect_patterns,
)

WAIT_STEP = 0.1


class PortFreer(object):
    def __init__(self, module, proc=_procfs.PROC):
        self.module = module
        self.proc = proc
        params = module.params
        self.ports = [params["port"]] if params["port"] is not None else list(params["ports"])
        self.protocol = params["protocol"]
        self.address = params["address"]
        self.grace = params["grace"]
        self.first_signal = _signals.signal_number(params["signal"])
        self.final_signal = None if params["final_signal"] == "none" else _signals.signal_number(params["final_signal"])
        self.selection = Selection(
            cmdline=params["allow_cmdline"],
            exe=params["allow_exe"],
            users=params["allow_users"],
            units=params["allow_units"],
        )
        self.protect = protect_patterns(params["protect"])
        self.owner_unit = normalize_unit(params["owner_unit"]) if params["owner_unit"] else None
        self.result = {
            "changed": False,
            "holders": [],
            "kept": [],
            "actions": [],
            "signalled": [],
            "stopped_units": [],
        }

    def holders(self):
        return _port_release.current_holders(self.ports, self.protocol, self.address, self.owner_unit, self.proc)

    def refuse(self, reasons):
        self.module.fail_json(
            msg="Refusing to free port(s) %s; nothing was signalled. %s"
            % (", ".join(str(p) for p in self.ports), " ".join(reasons)),
            **self.result,
        )

    def plan(self, table, by_pid):
        reasons, units, targets = [], [], []
        for process, labels, why_not in _port_release.judge(table, by_pid, self.selection, self.protect, self.proc):
            self.result["holders"].append(dict(process.as_dict(), ports=labels))
            if why_not:
                reasons.append(why_not)
            elif self.module.params["stop_unit"] and process.unit and process.unit.endswith(".service"):
                if process.unit not in units:
                    units.append(process.unit)
                    self.result["actions"].append("stop unit %s (holds %s)" % (process.unit, ", ".join(labels)))
            else:
                targets.append(process)
                escalation = (
                    ", %s after %.1fs" % (self.module.params["final_signal"], self.grace) if self.final_signal else ""
                )
                self.result["actions"].append(
                    "signal pid %d (%s): %s%s"
                    % (process.pid, process.short_command(), self.module.params["signal"], escalation)
                )
        return reasons, units, targets

    def wait_until_free(self, deadline):
        while True:
            table, by_pid, _ownerless, _kept = self.holders()
            if not by_pid:
                return None
            if time.time() >= deadline:
                return table, by_pid
            time.sleep(WAIT_STEP)

    def run(self):
        started = time.time()
        table, by_pid, ownerless, self.result["kept"] = self.holders()
        before = dict((pid, [socket_label(s) for s in sockets]) for pid, sockets in by_pid.items())
        if ownerless:
            # A listener whose process we cannot see may be anyone's: the port is not
            # free, and nothing here can tell whether stopping its owner is allowed.
            self.module.fail_json(
                msg="Port(s) %s held by socket(s) %s whose process is not visible from here: it runs in another "
                "PID namespace, or this user may not read other processes' file descriptors (use become: true; "
                "in a container, root needs CAP_SYS_PTRACE). Nothing was signalled."
                % (", ".join(str(p) for p in self.ports), ", ".join(socket_label(s) for s in ownerless)),
                **self.result,
            )
        reasons, units, targets = self.plan(table, by_pid)
        if reasons:
            self.refuse(reasons)
        self.result["changed"] = bool(units or targets)
        self.result["diff"] = {
            "before": {"holders": before},
            "after": {"holders": {} if self.result["changed"] else before},
        }
        if self.module.check_mode or not self.result["changed"]:
            self.result["elapsed"] = round(time.time() - started, 3)
            return self.result

        for unit in units:
            rc, out, err = self.module.run_command(["systemctl", "stop", unit])
            if rc != 0:
                self.module.fail_json(msg="systemctl stop %s failed: %s" % (unit, (err or out).strip()), **self.result)
            self.result["stopped_units"].append(unit)
        if targets:
            self.result["signalled"] = _signals.terminate(
                [(p.pid, p.start_ticks) for p in targets],
                grace=self.grace,
                first_signal=self.first_signal,
                final_signal=self.final_signal,
                proc=self.proc,
            )
        still = self.wait_until_free(time.time() + self.module.params["timeout"])
        self.result["elapsed"] = round(time.time() - started, 3)
        if still:
            table, by_pid = still
            holders = "; ".join(
                "pid %d (%r, unit %s)"
                % (pid, table[pid].short_command() if pid in table else "?", table[pid].unit if pid in table else "?")
                for pid in sorted(by_pid)
            )
            hint = ""
            if any(pid in table and table[pid].unit and table[pid].unit.endswith(".service") for pid in by_pid):
                hint = " A systemd service took the port back: set stop_unit: true to stop the unit instead."
            self.module.fail_json(
                msg="Port(s) %s still held after %.0fs by %s.%s"
                % (", ".join(str(p) for p in self.ports), self.module.params["timeout"], holders, hint),
                **self.result,
            )
        return self.result


def build_module():
    return AnsibleModule(
        argument_spec=dict(
            port=dict(type="int"),
            ports=dict(type="list", elements="int"),
            protocol=dict(type="str", default="tcp", choices=["tcp", "udp", "both"]),
            address=dict(type="str"),
            allow_cmdline=dict(type="list", elements="str", default=[]),
            allow_exe=dict(type="list", elements="str", default=[]),
            allow_users=dict(type="list", elements="str", default=[]),
            allow_units=dict(type="list", elements="str", default=[]),
            stop_unit=dict(type="bool", default=False),
            signal=dict(type="str", default="SIGTERM", choices=["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"]),
            grace=dict(type="float", default=10),
            final_signal=dict(type="str", default="SIGKILL", choices=["SIGKILL", "none"]),
            timeout=dict(type="float", default=30),
            protect=dict(type="list", elements="str", default=[]),
            owner_unit=dict(type="str"),
        ),
        required_one_of=[["port", "ports"]],
        mutually_exclusive=[["port", "ports"]],
        supports_check_mode=True,
    )


def validate(module):
    params = module.params
    ports = [params["port"]] if params["port"] is not None else params["ports"]
    if not ports:
        module.fail_json(msg="ports is empty: give at least one port to free.")
    # A YAML true is an int to Python (port 1): refused like any other non-port.
    bad = [p for p in ports if isinstance(p, bool) or not 1 <= p <= 65535]
    if bad:
        module.fail_json(msg="Invalid port(s) %s: a port is a number from 1 to 65535." % ", ".join(str(p) for p in bad))
    wrong = bad_seconds(params, ("grace", "timeout"))
    if wrong:
        module.fail_json(msg=wrong)
    if not any(params[k] for k in ("allow_cmdline", "allow_exe", "allow_users", "allow_units")):
        module.fail_json(
            msg="Say which holders may be stopped: give at least one of allow_cmdline, allow_exe, allow_users "
            "or allow_units. Nothing is ever stopped without a match."
        )


def main():
    module = build_module()
    validate(module)
    try:
        freer = PortFreer(module)
    except PolicyError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**freer.run())


if __name__ == "__main__":
    main()
