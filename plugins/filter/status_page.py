# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the fleet's status page shows, worst first: the model behind playbooks/report.yml's page."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: status_page
short_description: The fleet's status, ordered for an on-call engineer (failing first)
version_added: 0.1.0
description:
  - Takes what C(playbooks/report.yml) read on each host (the health check's look, the releases,
    the job queues' counts, the host's last drift report and last maintenance record) and returns
    the page's model. Each service gets a level,
    V(failing) (not active, its port held by an orphan or unheld, its health URL not answering as
    expected, or out of restart budget), V(warning) (restarted by the health check within the budget's
    window) or V(ok); each host the worst of its services and host checks. Hosts and services are
    ordered failing first, then warning, then ok, so what is wrong is at the top.
  - A queue with dead letters or stuck rows, a queue that could not be counted or whose maintenance
    would fail, and an email audit that found invalid addresses make their host a V(warning) at least.
positional: names
options:
  _input:
    description: One entry per host that answered, C({name, look, release, drift, queues, maintenance}).
    type: list
    elements: dict
    required: true
  names:
    description: Every host the run targeted; one without an entry is shown failing, as unreachable.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Build the page's model
  ansible.builtin.set_fact:
    status_page_model: "{{ status_page_hosts | steadyops.stack.status_page(ansible_play_hosts_all) }}"
"""

RETURN = r"""
_value:
  description:
    - C({counts, hosts}); each host C({name, level, release, services, findings, last_alert, drift, queues,
      email_audit}).
  type: dict
"""

LEVELS = ("failing", "warning", "ok")


def _rank(level):
    return LEVELS.index(level)


def _port_text(port):
    if not port:
        return ""
    if port.get("orphans"):
        orphan = port["orphans"][0]
        return ":%s held by pid %s (%s) outside the unit" % (port.get("port"), orphan.get("pid"), orphan.get("cmdline"))
    if not port.get("owners_in_unit"):
        return ":%s: nothing listens" % port.get("port")
    return ":%s held by the unit" % port.get("port")


def _health_text(http):
    if not http:
        return ""
    if http.get("error"):
        return "%s: %s" % (http.get("url"), http["error"])
    return "%s answered %s in %s ms" % (http.get("url"), http.get("status"), http.get("latency_ms"))


def service_row(name, report, restarts, budget):
    """One service's row: its texts and its level."""
    used, allowed = len(restarts), budget.get("max_restarts", 3)
    level = "ok"
    if not report.get("healthy") or used >= allowed:
        level = "failing"
    elif used:
        level = "warning"
    return {
        "name": name,
        "unit": report.get("unit", ""),
        "state": report.get("active", "unknown"),
        "port": _port_text(report.get("port")),
        "health": _health_text(report.get("http")),
        "restarts": "%d of %d in the last %d runs" % (used, allowed, budget.get("window_runs", 12)),
        "level": level,
    }


def queue_row(queue):
    """One job queue's counts now: rows per state, dead letters, rows stuck in processing."""
    stuck = sum((queue.get("rescued") or {}).values())
    dead = queue.get("dead_letters_before")
    states = queue.get("states_before") or {}
    problems = []
    if queue.get("lock") == "busy":
        problems.append("not counted: a purge was running")
    if queue.get("error"):
        problems.append("maintenance would fail: %s" % queue["error"])
    if stuck:
        problems.append("%d stuck in processing" % stuck)
    # Counts are under the table's own state values; state_names says which one is dead letter.
    dead_lettered = states.get((queue.get("state_names") or {}).get("dead_letter", "dead_letter"))
    if dead_lettered:
        problems.append("%d dead-lettered" % dead_lettered)
    if dead:
        problems.append("%d in the dead-letter table" % dead)
    return {
        "table": queue.get("table", ""),
        "states": ", ".join("%s %s" % (state, count) for state, count in sorted(states.items())) or "empty",
        "problems": "; ".join(problems),
        "level": "warning" if problems else "ok",
    }


def email_audit(record):
    """The last maintenance run's email audit: what it checked and what it refused."""
    audit = (record or {}).get("email_audit")
    if not audit:
        return None
    totals = audit.get("totals") or {}
    invalid = audit.get("invalid") or {}
    return {
        "finished": record.get("finished", ""),
        "policy": audit.get("policy", ""),
        "checked": totals.get("checked", 0),
        "would_fail_in": totals.get("would_fail_in") or {},
        "invalid": sorted(invalid.items()),
        "level": "warning" if invalid else "ok",
    }


def drift_entries(drift):
    """Each item of a drift run once: found by the check and corrected by the apply is one item, corrected.

    An item only the check found (a check-only run, or one the apply did not change after all) stays,
    marked as drifted.
    """

    def key(entry):
        return (entry.get("role"), entry.get("task"), entry.get("item"))

    corrected = [dict(entry, state="corrected") for entry in drift.get("corrected") or []]
    fixed = {key(entry) for entry in corrected}
    found = [dict(entry, state="drifted") for entry in drift.get("drifted") or [] if key(entry) not in fixed]
    return found + corrected


def host_model(entry):
    look = entry.get("look") or {}
    budget = look.get("restart_budget") or {}
    restarts = look.get("restarts") or {}
    services = [
        service_row(name, report, restarts.get(name) or [], budget)
        for name, report in sorted((look.get("services") or {}).items())
    ]
    services.sort(key=lambda row: (_rank(row["level"]), row["name"]))
    findings = [f for f in look.get("findings") or [] if f.get("level") != "OK"]
    host_level = "failing" if not look else min([row["level"] for row in services] or ["ok"], key=_rank)
    queues = [queue_row(queue) for queue in entry.get("queues") or []]
    audit = email_audit(entry.get("maintenance"))
    warnings = [part for part in [*queues, audit or {}] if part.get("level") == "warning"]
    if any(f.get("level") == "CRITICAL" for f in findings):
        host_level = "failing"
    elif host_level == "ok" and (findings or warnings):
        host_level = "warning"
    drift = entry.get("drift") or {}
    return {
        "name": entry["name"],
        "level": host_level,
        "reachable": bool(look),
        "release": entry.get("release") or {},
        "services": services,
        "findings": sorted(findings, key=lambda f: (f.get("level") != "CRITICAL", f.get("check", ""))),
        "last_alert": look.get("last_alert"),
        "queues": queues,
        "email_audit": audit,
        "drift": {"run": drift.get("run"), "entries": drift_entries(drift)},
    }


def status_page(hosts, names=None):
    """The page's model: hosts worst first, each with its services worst first, and the counts."""
    hosts = list(hosts or [])
    answered = {entry["name"] for entry in hosts}
    hosts += [{"name": name} for name in names or [] if name not in answered]
    models = sorted((host_model(entry) for entry in hosts), key=lambda h: (_rank(h["level"]), h["name"]))
    counts = dict((level, 0) for level in LEVELS)
    for model in models:
        for row in model["services"]:
            counts[row["level"]] += 1
    return {"counts": counts, "hosts": models, "level": models[0]["level"] if models else "ok"}


class FilterModule(object):
    def filters(self):
        return {"status_page": status_page}
