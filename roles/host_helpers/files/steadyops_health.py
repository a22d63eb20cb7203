#!/usr/bin/env python
"""The stack's health check: notices what is down, repairs within a budget, alerts once.

    steadyops_health.py [--config /etc/steadyops/health.json] [--look | --check-config]

Per service: the unit is active; its port listens and is held by a process
inside the unit's cgroup (an orphan holding it is reported as exactly that);
its HTTP endpoint answers with the expected status, and how fast. Per host:
disk and memory use, zombies, failed units. A failing service is restarted
(its port first cleared of strays, when configured) at most
`restart_budget.max_restarts` times in `restart_budget.window_runs` runs; then
it is left alone and alerted on, so a broken unit never flaps. A restart is
a repair only once the service passes its checks again (within
`restart_settle_seconds`); one that still fails stays CRITICAL. An alert goes
out once when an incident opens and once when it clears, by mail and to a
webhook (Slack's or Alertmanager's shape), whichever are configured; state is
kept between runs, and `textfile` gets the run's numbers for node_exporter.
Each run logs `[HEALTH] <time> - OK|WARNING|CRITICAL: <what>` lines,
writes a JSON status that deploys read, and exits 0 (OK), 1 (WARNING) or
2 (CRITICAL), as monitoring plugins do. While a deploy holds its lock
(app_root/deploy.lock), services are checked but not repaired, their
findings are at most WARNING, and no mail goes out. --look checks the same and prints the
status as JSON, repairing nothing, mailing nothing and keeping no state (the
status page's view). A config file the program cannot use (a setting of the
wrong type, one it does not know) is refused at the start of every run, as
CRITICAL naming the setting; --check-config only checks it (exit 0, or 3 with
the reasons), which the role runs before it installs a new file. Standard library only; the process
code is the collection's own _procfs, installed next to this file.
"""

import argparse
import fcntl
import http.client
import ipaddress
import json
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email.message import EmailMessage

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _health_channels
import _health_config
import _host_exec
import _port_release
import _procfs
import _service_model
import _systemd

# systemctl runs through this script's own runner (the shared code runs no process itself).
_systemd.use(_host_exec.run)

OK, WARNING, CRITICAL = 0, 1, 2
# --check-config's answer for a file the program refuses (monitoring plugins' UNKNOWN).
CONFIG_REFUSED = 3
LEVELS = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL"}


class Run:
    def __init__(self, config, state):
        self.config = config
        self.state = state
        self.run_number = state.get("run", 0) + 1
        self.findings = []  # (level, key, text)
        self.deploying = None  # the deploy lock, when a deploy held it during this run
        self.actions = []
        self.services = {}
        self.host = {}

    def find(self, level, key, text):
        self.findings.append((level, key, text))

    def during_deploy(self, service, lock):
        """A service a deploy is switching: its findings say so, at most WARNING, and nothing is repaired."""
        name = service["name"]
        self.deploying = lock
        for index, (level, key, text) in enumerate(self.findings):
            if key.split(":")[0] == name and level == CRITICAL:
                self.findings[index] = (WARNING, key, "%s (a deploy is in progress: not repaired)" % text)

    # ------------------------------------------------------------ checks

    def check_service(self, service):
        name, unit = service["name"], service["unit"]
        report = {"unit": unit}
        active = subprocess.run(["systemctl", "is-active", unit], capture_output=True, text=True, check=False)
        report["active"] = active.stdout.strip()
        healthy = report["active"] == "active"
        if not healthy:
            self.find(CRITICAL, name + ":unit", "%s is %s" % (unit, report["active"] or "unknown"))
        else:
            self.find(OK, name + ":unit", "%s is active" % unit)
        if service.get("port"):
            healthy = self.check_port(service, unit, report) and healthy
        if service.get("health", {}).get("url"):
            healthy = self.check_http(service, report) and healthy
        report["healthy"] = healthy
        self.services[name] = report
        return healthy

    def check_port(self, service, unit, report):
        name, port = service["name"], service["port"]
        holders, ownerless, kept = _port_release.current_holders([port], owner=_port_release.Owner(unit))
        report["port"] = {
            "port": port,
            "owners_in_unit": [k.process.pid for k in kept],
            "orphans": [dict(h.process.as_dict(), cmdline=h.process.short_command()) for h in holders],
        }
        if holders:
            orphan = holders[0].process
            self.find(
                CRITICAL,
                name + ":port",
                "port %d is held by pid %d (%s) outside %s: an orphan"
                % (port, orphan.pid, orphan.short_command(), unit),
            )
            return False
        if ownerless:
            self.find(CRITICAL, name + ":port", "port %d is held by a process this check cannot see" % port)
            return False
        if not kept:
            self.find(CRITICAL, name + ":port", "nothing listens on port %d" % port)
            return False
        self.find(OK, name + ":port", "port %d is held by %s" % (port, unit))
        return True

    def check_http(self, service, report):
        name, health = service["name"], service["health"]
        started = time.time()
        if not health["url"].startswith(("http://", "https://")):
            self.find(CRITICAL, name + ":http", "health url %r is not http(s)" % health["url"])
            return False
        try:
            with urllib.request.urlopen(health["url"], timeout=health.get("timeout", 10)) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (TimeoutError, urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            # A URL http.client refuses (InvalidURL: a control character) is a finding, never a crash.
            status = None
            report["http"] = {"url": health["url"], "error": str(getattr(exc, "reason", exc))}
        latency_ms = round((time.time() - started) * 1000, 1)
        report.setdefault("http", {}).update({"url": health["url"], "status": status, "latency_ms": latency_ms})
        expected = health.get("status", 200)
        if status != expected:
            self.find(CRITICAL, name + ":http", "%s answered %s, expected %s" % (health["url"], status, expected))
            return False
        self.find(OK, name + ":http", "%s answered %s in %.0f ms" % (health["url"], status, latency_ms))
        return True

    def check_host(self):
        limits = self.config.get("thresholds", {})
        for path in self.config.get("disk_paths", ["/"]):
            stat = os.statvfs(path)
            used = 100.0 * (1 - float(stat.f_bavail) / stat.f_blocks) if stat.f_blocks else 0.0
            self.host.setdefault("disk_percent", {})[path] = round(used, 1)
            level = WARNING if used >= limits.get("disk_percent", 90) else OK
            self.find(level, "host:disk:" + path, "disk %s %.0f%% used" % (path, used))
        with open("/proc/meminfo") as handle:
            meminfo = dict(line.split(":", 1) for line in handle.read().splitlines() if ":" in line)
        total = int(meminfo["MemTotal"].split()[0])
        available = int(meminfo["MemAvailable"].split()[0])
        used = 100.0 * (1 - float(available) / total)
        self.host["memory_percent"] = round(used, 1)
        self.find(
            WARNING if used >= limits.get("memory_percent", 90) else OK, "host:memory", "memory %.0f%% used" % used
        )
        zombies = [p.pid for p in _procfs.process_table().values() if p.is_zombie]
        self.host["zombies"] = len(zombies)
        self.find(
            WARNING if len(zombies) > limits.get("zombies", 5) else OK,
            "host:zombies",
            "%d zombie process(es)" % len(zombies),
        )
        failed = subprocess.run(
            ["systemctl", "--failed", "--plain", "--no-legend"], capture_output=True, text=True, check=False
        ).stdout.split("\n")
        failed_units = [line.split()[0] for line in failed if line.strip()]
        self.host["failed_units"] = failed_units
        self.find(
            WARNING if failed_units else OK,
            "host:failed-units",
            "failed units: %s" % (", ".join(failed_units) if failed_units else "none"),
        )

    # ------------------------------------------------------------ repair

    def restart(self, service):
        name, unit = service["name"], service["unit"]
        budget = restart_budget(self.config)
        history = [
            n
            for n in self.state.setdefault("restarts", {}).get(name, [])
            if n > self.run_number - budget["window_runs"]
        ]
        if len(history) >= budget["max_restarts"]:
            self.find(
                CRITICAL,
                name + ":budget",
                "%s restarted %d times in the last %d runs: not restarting it again "
                "until it stays up" % (unit, len(history), budget["window_runs"]),
            )
            self.state["restarts"][name] = history
            return
        # Stop first, then free the port, then start: a unit with KillMode=process (or none) leaves its
        # children in its cgroup when it stops, and only once it is inactive are they leftovers that the
        # port's helper may clear. A plain restart would leave them holding the port against the new start.
        stopped = subprocess.run(["systemctl", "stop", unit], capture_output=True, text=True, check=False)
        self.actions.append(
            {"service": name, "action": "stop", "rc": stopped.returncode, "output": stopped.stderr.strip()}
        )
        helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "free_port.py")
        if (
            self.config.get("free_port")
            and service.get("port")
            and service.get("stray_patterns")
            and os.path.exists(helper)
        ):
            command = [sys.executable, helper, "--unit", unit, "--port", str(service["port"])]
            # The unit's pre-start step passes the same patterns and users: one rule for the port.
            for pattern in service["stray_patterns"]:
                command += ["--pattern", pattern]
            for user in service.get("stray_users") or []:
                command += ["--user", user]
            freed = subprocess.run(command, capture_output=True, text=True, check=False)
            self.actions.append(
                {
                    "service": name,
                    "action": "free port %d" % service["port"],
                    "rc": freed.returncode,
                    "output": (freed.stdout + freed.stderr).strip(),
                }
            )
        subprocess.run(["systemctl", "reset-failed", unit], capture_output=True, check=False)
        restarted = subprocess.run(["systemctl", "start", unit], capture_output=True, text=True, check=False)
        history.append(self.run_number)
        self.state["restarts"][name] = history
        self.actions.append(
            {"service": name, "action": "restart", "rc": restarted.returncode, "output": restarted.stderr.strip()}
        )
        done = "restarted %s (%d of %d allowed in %d runs)" % (
            unit,
            len(history),
            budget["max_restarts"],
            budget["window_runs"],
        )
        healthy, seconds, problems = self.wait_until_healthy(service)
        self.services[name]["after_restart"] = {"healthy": healthy, "seconds": seconds, "problems": problems}
        if healthy:
            self.find(WARNING, name + ":restart", "%s: serving again after %.1f s" % (done, seconds))
        else:
            self.find(
                CRITICAL,
                name + ":restart",
                "%s: still failing after %.1f s: %s" % (done, seconds, "; ".join(problems)),
            )

    def wait_until_healthy(self, service):
        """Whether SERVICE passes its checks again within restart_settle_seconds, how long it took, and why not.

        A Type=simple unit is "active" the moment its process starts, long before it
        listens: a repair reported from that alone leaves nginx answering 502 behind it.
        The probes are a scratch run's, so their findings never reach this run's report.
        """
        started = time.monotonic()
        deadline = started + self.config.get("restart_settle_seconds", 30)
        while True:
            probe = Run(self.config, {})
            healthy = probe.check_service(service)
            if healthy or time.monotonic() >= deadline:
                problems = [text for level, _key, text in probe.findings if level == CRITICAL]
                return healthy, round(time.monotonic() - started, 1), problems
            time.sleep(0.5)

    # ------------------------------------------------------------ reporting

    def level(self):
        return max([level for level, _key, _text in self.findings] or [OK])

    def alert(self, subject, body):
        smtp = self.config.get("smtp") or {}
        if not smtp.get("host") or not smtp.get("to"):
            return "no smtp configured"
        try:
            # Building the message is inside the try: a header with a line break raises
            # ValueError, and a failed mail must never stop the run before it saves its state.
            message = EmailMessage()
            message["Subject"] = subject
            message["From"] = smtp.get("from", "steadyops-health@" + socket.getfqdn())
            message["To"] = ", ".join(smtp["to"])
            message.set_content(body)
            if smtp.get("user") and not smtp.get("starttls") and not is_loopback(smtp["host"]):
                return "failed: not logging in to %s without STARTTLS: the password would go unencrypted" % smtp["host"]
            with smtplib.SMTP(smtp["host"], smtp.get("port", 25), timeout=10) as client:
                if smtp.get("starttls"):
                    # The server's certificate and name are checked before anything,
                    # the password above all, goes over the connection: the system's
                    # CAs, or only the one in ca_file (a private mail relay's).
                    client.starttls(context=ssl.create_default_context(cafile=smtp.get("ca_file") or None))
                if smtp.get("user"):
                    client.login(smtp["user"], smtp.get("password", ""))
                client.send_message(message)
            return "sent"
        except (OSError, ValueError, smtplib.SMTPException) as exc:
            return "failed: %s" % exc

    def notify(self):
        """One mail when an incident opens, one when it clears; nothing while it stays open.

        An incident is a service (or a host check): its unit, port and HTTP
        failures at the same time are one incident, not three mails.
        """
        host = socket.gethostname()
        open_now = {}
        for level, key, text in self.findings:
            if level == CRITICAL:
                incident = key.split(":")[0] if not key.startswith("host:") else key
                open_now.setdefault(incident, []).append(text)
        before = self.state.get("incidents", {})
        for incident in sorted(open_now):
            if incident not in before:
                body = "\n".join(open_now[incident])
                self.send("[steadyops] CRITICAL %s on %s" % (incident, host), body, incident, resolved=False)
        for incident in sorted(before):
            if incident not in open_now:
                body = "recovered; it was:\n" + "\n".join(before[incident])
                self.send("[steadyops] RECOVERED %s on %s" % (incident, host), body, incident, resolved=True)
        self.state["incidents"] = open_now

    def send(self, subject, body, incident, resolved):
        """The alert over every channel configured (mail, webhook): an action per channel, and the last alert."""
        results = []
        if (self.config.get("smtp") or {}).get("host"):
            results.append(("mail", self.alert(subject, body)))
        if (self.config.get("webhook") or {}).get("url"):
            alert = {"subject": subject, "body": body, "incident": incident, "host": socket.gethostname(),
                     "resolved": resolved, "at": time.time()}  # fmt: skip
            results.append(("webhook", _health_channels.post_webhook(self.config["webhook"], alert)))
        if not results:
            results.append(("mail", "no alert channel configured (neither smtp nor webhook)"))
        for channel, result in results:
            self.actions.append({"action": channel, "subject": subject, "result": result})
        said = results[0][1] if len(results) == 1 else "; ".join("%s %s" % pair for pair in results)
        # Kept between runs: the status page shows the last alert and whether it went out.
        self.state["last_alert"] = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "subject": subject, "result": said}


def is_loopback(host):
    """Whether HOST (a name or an address) is this machine's loopback."""
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def restart_budget(config):
    return config.get("restart_budget", {"max_restarts": 3, "window_runs": 12})


def serving_instance(service):
    """The service with the unit, port and health URL of the instance that serves.

    A gapless service runs as one of two template instances, C(name@port.service); the deploy
    enables the one nginx sends traffic to, so the enabled one is checked (the first when neither is).
    """
    ports = service.get("gapless_ports") or []
    if not ports:
        return dict(service, unit=_service_model.instance_unit(service["name"]))
    units = [_service_model.instance_unit(service["name"], port) for port in ports]
    serving = 0
    for index, unit in enumerate(units):
        state = subprocess.run(["systemctl", "is-enabled", unit], capture_output=True, text=True, check=False)
        if state.stdout.strip() == "enabled":
            serving = index
            break
    resolved = dict(service, unit=units[serving], port=ports[serving])
    url = (service.get("health") or {}).get("url")
    if url:
        resolved["health"] = dict(service["health"], url=_service_model.with_port(url, ports[0], ports[serving]))
    return resolved


def load_json(path, default):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def deploy_in_progress(config):
    """The deploy lock's path while a deploy holds it (the deploy role's app_root/deploy.lock), else None."""
    lock = os.path.join(config["app_root"], "deploy.lock") if config.get("app_root") else None
    return lock if lock and os.path.isdir(lock) else None


def check(run, config, repair):
    """Every service and the host; a failing service is repaired only when `repair`.

    While a deploy holds its lock, the services it switches are checked but neither repaired nor alerted
    on: their units stop and start under it, and a repair would fight the cutover (start instances it
    then stops, spend the restart budget) and page someone for a deploy that succeeds.
    """
    current = os.path.join(config["app_root"], "current") if config.get("app_root") else None
    if current and not os.path.exists(current):
        # Provisioned, never deployed: nothing can run yet, so nothing is restarted.
        run.find(WARNING, "host:release", "no release is deployed yet (%s is missing): services not checked" % current)
    else:
        for service in map(serving_instance, config.get("services", [])):
            healthy = run.check_service(service)
            lock = deploy_in_progress(config)
            if lock:
                run.during_deploy(service, lock)
            elif not healthy and repair and config.get("restart", True):
                run.restart(service)
    run.check_host()


def status_of(run, config):
    budget = restart_budget(config)
    # The restarts that still count against the budget, as restart() counts them.
    window = run.run_number - budget["window_runs"]
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "run": run.run_number,
        "status": LEVELS[run.level()],
        "exit_code": run.level(),
        "services": run.services,
        "host": run.host,
        "findings": [{"level": LEVELS[level], "check": key, "text": text} for level, key, text in run.findings],
        "actions": run.actions,
        "incidents": sorted(run.state.get("incidents", {})),
        "restart_budget": budget,
        "restarts": {name: [n for n in runs if n > window] for name, runs in run.state.get("restarts", {}).items()},
        "last_alert": run.state.get("last_alert"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="/etc/steadyops/health.json")
    parser.add_argument("--look", action="store_true", help="print the status as JSON; repair, mail and keep nothing")
    parser.add_argument("--check-config", action="store_true", help="only check the config file (exit 0, or 3)")
    args = parser.parse_args()
    config = load_json(args.config, None)
    if config is None:
        problems = ["it is not a JSON file this program can read"]
    else:
        problems = _health_config.config_problems(config)
    if args.check_config:
        for problem in problems:
            print("%s: %s" % (args.config, problem), file=sys.stderr)
        return CONFIG_REFUSED if problems else OK
    if problems:
        # Loudly, before anything is checked or repaired: a value of the wrong type would otherwise crash
        # the run that has something to alert on.
        print(
            "[HEALTH] %s - CRITICAL: %s is not usable: %s"
            % (time.strftime("%Y-%m-%dT%H:%M:%S"), args.config, "; ".join(problems))
        )
        return CRITICAL
    state_dir = config.get("state_dir", "/var/lib/steadyops/health")
    state_path = os.path.join(state_dir, "state.json")
    if args.look:
        run = Run(config, load_json(state_path, {}))
        run.run_number -= 1  # the last run's numbering: a look is not a run
        check(run, config, repair=False)
        print(json.dumps(status_of(run, config), sort_keys=True))
        return run.level()
    os.makedirs(state_dir, exist_ok=True)
    # Never two runs at once: the lock lives as long as this process.
    lock = open(os.path.join(state_dir, "run.lock"), "w")  # noqa: SIM115
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("[HEALTH] %s - OK: another run is in progress; this one stops" % time.strftime("%Y-%m-%dT%H:%M:%S"))
        return OK
    run = Run(config, load_json(state_path, {}))
    check(run, config, repair=True)
    if run.deploying:
        # Incidents are left as they were: the run after the deploy opens or clears them.
        run.find(OK, "host:deploy", "a deploy is in progress (%s): nothing repaired, nothing alerted" % run.deploying)
    else:
        run.notify()
    run.state["run"] = run.run_number
    write_json(state_path, run.state)
    status = status_of(run, config)
    if config.get("textfile"):
        # node_exporter's textfile collector reads it; a directory missing is a finding, not a crash.
        try:
            _health_channels.write_textfile(config["textfile"], status, run.deploying)
        except OSError as exc:
            run.find(
                WARNING, "host:textfile", "the metrics file %s could not be written: %s" % (config["textfile"], exc)
            )
            status = status_of(run, config)
    write_json(config.get("status_file", os.path.join(state_dir, "status.json")), status)
    now = status["time"]
    for level, _key, text in run.findings:
        print("[HEALTH] %s - %s: %s" % (now, LEVELS[level], text))
    return run.level()


if __name__ == "__main__":
    sys.exit(main())
