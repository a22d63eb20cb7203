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
  - Finds the processes that hold a TCP socket (listening, or bound and not yet listening, which blocks
    the next bind just the same; the kernel reports the latter from Linux 6.5) or a bound UDP socket on the
    given ports, by asking the kernel over sock_diag (or reading C(/proc/net)) and reading every process's
    file descriptors, including those of threads whose first thread has exited.
  - When no process holds a port, nothing happens. Holders that belong to O(owner_unit) (and the
    socket units that activate it) are left alone. Every other holder must be allowed by the caller.
  - A holder that systemd would start again (a process of a service, of a user unit, or of a service's
    delegated subtree) is never signalled by pid, since systemd would restart it and take the port
    back. It is stopped as a unit with C(systemctl stop), only when O(allow_units) names its system unit.
    A port systemd itself listens on for a socket unit is freed by stopping that socket unit and the
    services it starts, only when O(allow_units) names one of them.
  - A unit is stopped within O(grace) and O(timeout), whatever its own C(TimeoutStopSec) says - the stop
    is queued without waiting, C(systemctl kill --signal=SIGKILL) follows after O(grace) when O(final_signal)
    allows it, and at O(timeout) the task fails naming each unit and its state.
  - A leftover in a service's control group (the unit is inactive, failed or waiting to restart, or the
    process is not of its current run - what C(KillMode=process) leaves behind) is not the service's - it is
    never kept for O(owner_unit) and nothing would restart it, so it is signalled by pid when the caller's
    selection matches it (O(allow_units) naming its unit counts).
  - Any other holder (an orphan in a login session or a scope) that matches everything the caller gave
    is signalled through a pidfd, escalating after O(grace). O(allow_units) does not apply to a process
    that runs in no unit; the other kinds decide.
  - When any holder is not allowed, the module fails before changing anything, naming the holder (pid,
    user, command line, what it belongs to) and the parameter that would allow it.
  - After the holders are gone the port must stay free for a settle time longer than the restart delay of
    every unit involved (read from systemd), and is checked again; a port taken back fails the task.
  - When a socket's process cannot be seen (another PID namespace, or no permission to read other
    processes' file descriptors), the module fails, because the port is not free and its owner is unknown.
  - Never signals PID 1, kernel threads (by the kernel's PF_KTHREAD flag), processes in containers or
    other PID namespaces, the module's own process tree (the Ansible connection), or processes matching
    the protected patterns (sshd, systemd, Ansible, and O(protect)).
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
      - Only sockets that would block a bind to this address count, as the kernel decides - a wildcard
        (V(0.0.0.0), V(::)) blocks every address of its family, an IPv6 wildcard blocks IPv4 too unless it is
        IPv6-only, and V(::) is taken as a dual-stack bind (as Node's C(listen(port)) makes), which any IPv4
        socket on the port blocks.
      - An IPv4 or IPv6 address, compared as an address (V(0:0:0:0:0:0:0:1) is V(::1)), or V(localhost) for
        both loopback addresses. Anything else is refused.
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
      - systemd units that may be stopped to free the ports (V(.service) is added when no suffix is given),
        that is a service whose process holds a port, or a socket unit (or the service it activates) that
        systemd listens on for. Given together with other C(allow_*) options, a holder must match those too.
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
      - Deprecated and without effect. A holder inside a systemd service is always stopped as a unit,
        and only when O(allow_units) names it.
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

- name: Free the API port held by its own (failing) service - stopped with systemctl, never by pid
  steadyops.stack.port_free:
    port: 8000
    allow_units: [tms-backend]

- name: Free a port systemd listens on for a socket-activated service
  steadyops.stack.port_free:
    port: 3002
    allow_units: [legacy-api.socket]

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
      owner: login session session-3.scope
      ports: ["tcp/0.0.0.0:3000"]
      action: signal
      units: []
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
  description: systemd units stopped because they held the ports and O(allow_units) named them.
  returned: always
  type: list
  elements: str
stop_steps:
  description:
    - What was done to stop O(allow_units)' units, bounded by O(grace) and O(timeout) whatever a unit's own
      C(TimeoutStopSec) says - the stop queued without waiting, then C(systemctl kill --signal=SIGKILL) after
      O(grace) when O(final_signal) allows it.
  returned: when units were stopped
  type: list
  elements: str
settle:
  description: Seconds the freed ports were watched to stay free (longer than any restart delay involved).
  returned: always
  type: float
elapsed:
  description: Seconds the module took.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.steadyops.stack.plugins.module_utils import _port_release, _procfs, _signals, _systemd
from ansible_collections.steadyops.stack.plugins.module_utils._port_release import REFUSE, SIGNAL, STOP
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (
    PolicyError,
    Selection,
    bad_seconds,
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
        self.address = _procfs.parse_address(params["address"]) if params["address"] else None
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
        self.owner = _port_release.Owner(params["owner_unit"])
        self.result = {
            "changed": False,
            "holders": [],
            "kept": [],
            "actions": [],
            "signalled": [],
            "stopped_units": [],
            "settle": 0.0,
        }

    def holders(self):
        return _port_release.current_holders(self.ports, self.protocol, self.address, self.owner, self.proc)

    def fail(self, msg):
        self.result["elapsed"] = round(time.time() - self.started, 3)
        self.module.fail_json(msg=msg, **self.result)

    def plan(self, holders):
        """(units to stop, processes to signal); fails naming every holder that may not be stopped."""
        units, targets, reasons = [], [], []
        for holder in _port_release.judge(holders, self.selection, self.protect, self.proc):
            self.result["holders"].append(holder.as_dict())
            if holder.action == REFUSE:
                reasons.append(holder.why)
            elif holder.action == STOP:
                new = [u for u in holder.units if u not in units]
                units.extend(new)
                if new:
                    self.result["actions"].append(
                        "stop unit(s) %s (hold %s)" % (" ".join(new), ", ".join(holder.labels))
                    )
            elif holder.action == SIGNAL:
                process = holder.process
                targets.append(process)
                escalation = (
                    ", %s after %.1fs" % (self.module.params["final_signal"], self.grace) if self.final_signal else ""
                )
                self.result["actions"].append(
                    "signal pid %d (%s): %s%s"
                    % (process.pid, process.short_command(), self.module.params["signal"], escalation)
                )
        if reasons:
            self.fail("Refusing to free port(s) %s; nothing was signalled. %s" % (self.port_list(), " ".join(reasons)))
        return units, targets

    def port_list(self):
        return ", ".join(str(p) for p in self.ports)

    def wait_until_free(self, deadline):
        while True:
            holders, ownerless, _kept = self.holders()
            if not holders and not ownerless:
                return []
            if time.time() >= deadline:
                return holders
            time.sleep(WAIT_STEP)

    def stop_units(self, units):
        """Stop the units within grace and timeout, whatever their own TimeoutStopSec says."""
        ok, left, done = _systemd.stop_within(
            units, self.grace, self.module.params["timeout"], kill=bool(self.final_signal)
        )
        self.result["stop_steps"] = done
        if not ok:
            states = ", ".join("%s is %s" % item for item in sorted(left.items()))
            escalation = (
                "SIGKILL followed after grace %.1fs" % self.grace
                if self.final_signal
                else "final_signal is none, so no SIGKILL was sent"
            )
            self.fail(
                "Could not stop %s within timeout %.0fs: %s. systemctl stop sent each unit's stop signal, %s. "
                "Look at the unit's journal (journalctl -u UNIT) for what keeps it up."
                % (" ".join(units), self.module.params["timeout"], states or "systemctl refused", escalation)
            )
        self.result["stopped_units"].extend(units)

    def report_retaken(self, holders, after):
        sent = dict((o["pid"], o) for o in self.result["signalled"])

        def what_was_sent(pid):
            outcome = sent.get(pid)
            if not outcome:
                return "not signalled by this run"
            return "sent %s, %s" % ("+".join(outcome["signals"]) or "nothing", outcome["outcome"])

        names = "; ".join(
            "pid %d (%r, %s; %s)"
            % (h.process.pid, h.process.short_command(), h.process.owner.describe(), what_was_sent(h.process.pid))
            for h in holders
        )
        survivors = [h for h in holders if sent.get(h.process.pid, {}).get("outcome") == "survived"]
        if survivors:
            advice = "It survived %s: raise grace, or allow final_signal: SIGKILL." % (
                "+".join(sent[survivors[0].process.pid]["signals"]) or "the signals"
            )
        else:
            advice = "Something starts it again: stop its unit (allow_units) rather than its process."
        self.fail("Port(s) %s %s by %s. %s" % (self.port_list(), after, names, advice))

    def run(self):
        self.started = time.time()
        holders, ownerless, kept = self.holders()
        self.result["kept"] = [h.as_dict() for h in kept]
        before = dict((h.process.pid, h.labels) for h in holders)
        if ownerless:
            # A listener whose process we cannot see may be anyone's: the port is not
            # free, and nothing here can tell whether stopping its owner is allowed.
            self.fail(
                "Port(s) %s held by socket(s) %s whose process is not visible from here: it runs in another "
                "PID namespace, or this user may not read other processes' file descriptors (use become: true; "
                "in a container, root needs CAP_SYS_PTRACE). Nothing was signalled."
                % (self.port_list(), ", ".join(_port_release.socket_label(s) for s in ownerless))
            )
        units, targets = self.plan(holders)
        self.result["changed"] = bool(units or targets)
        self.result["diff"] = {
            "before": {"holders": before},
            "after": {"holders": {} if self.result["changed"] else before},
        }
        if self.module.check_mode or not self.result["changed"]:
            self.result["elapsed"] = round(time.time() - self.started, 3)
            return self.result

        # Read restart delays now: a stopped transient unit no longer has any.
        involved = set(units) | {h.process.unit for h in holders if h.process.unit}
        self.result["settle"] = _port_release.settle_seconds(sorted(involved))
        if units:
            self.stop_units(units)
        if targets:
            self.result["signalled"] = _signals.terminate(
                [(p.pid, p.start_ticks) for p in targets],
                grace=self.grace,
                first_signal=self.first_signal,
                final_signal=self.final_signal,
                proc=self.proc,
            )
        still = self.wait_until_free(time.time() + self.module.params["timeout"])
        if still:
            self.report_retaken(still, "still held after %.0fs" % self.module.params["timeout"])
        # Free now is not free for good: a unit that restarts would take the port back
        # after its RestartSec. Wait longer than that, then look again.
        time.sleep(self.result["settle"])
        retaken, ownerless, _kept = self.holders()
        if retaken or ownerless:
            self.report_retaken(retaken, "was free, then taken again within %.1fs" % self.result["settle"])
        self.result["elapsed"] = round(time.time() - self.started, 3)
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
            stop_unit=dict(
                type="bool", default=False, removed_in_version="2.0.0", removed_from_collection="steadyops.stack"
            ),
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
    try:
        _procfs.parse_address(params["address"])
    except ValueError as exc:
        module.fail_json(msg="address: %s." % exc)
    if not any(params[k] for k in ("allow_cmdline", "allow_exe", "allow_users", "allow_units")):
        module.fail_json(
            msg="Say which holders may be stopped: give at least one of allow_cmdline, allow_exe, allow_users "
            "or allow_units. Nothing is ever stopped without a match."
        )


def main():
    module = build_module()
    _systemd.use_module(module)
    validate(module)
    try:
        freer = PortFreer(module)
    except PolicyError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**freer.run())


if __name__ == "__main__":
    main()
