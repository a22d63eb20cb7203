# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: drift_report
type: aggregate
short_description: What a drift run found and corrected, as a JSON file per host and a summary
version_added: 0.1.0
description:
  - Records the results of the plays that mark themselves with the play variable C(drift_report_phase)
    (V(check) or V(correct)), as C(playbooks/drift.yml) does, and ignores every other play, so it may stay
    enabled for every playbook.
  - A V(check) play's changed results are the drift (what a run in check mode would change); a V(correct)
    play's changed results are what was corrected. Each item has its host, role, task, loop item and a
    summary of its diff that holds no file content, only paths, line counts and file attributes, so no
    secret a file or a diff holds can reach the report. Results of tasks with C(no_log) say only that
    details are hidden.
  - Writes C(<report_dir>/drift/<run>/<host>.json) and C(summary.json) after every play and at the end,
    points C(<report_dir>/drift/latest) at the newest run, keeps the newest O(keep_runs) runs, and prints
    a short summary after the play recap.
  - Tells the playbook where this run's report is through the environment variable
    C(STEADYOPS_DRIFT_RUN) of the controller's processes, so the playbook's last play can read
    C(summary.json) and fail the hosts that drifted (the exit status says whether anything drifted).
requirements:
  - Enabled in C(ansible.cfg) (C(callbacks_enabled = steadyops.stack.drift_report)) or with
    C(ANSIBLE_CALLBACKS_ENABLED).
options:
  report_dir:
    description: The directory under which drift runs are written (in C(drift/)).
    type: path
    default: ~/.ansible/steadyops/reports
    env:
      - name: STEADYOPS_REPORT_DIR
    ini:
      - section: steadyops
        key: report_dir
  keep_runs:
    description: How many drift runs to keep; older run directories are removed.
    type: int
    default: 50
    env:
      - name: STEADYOPS_DRIFT_KEEP_RUNS
    ini:
      - section: steadyops
        key: drift_keep_runs
"""

import datetime
import difflib
import json
import os
import re
import shutil

from ansible import context
from ansible.playbook.handler import Handler
from ansible.plugins.callback import CallbackBase

RUN_ENV = "STEADYOPS_DRIFT_RUN"
PHASES = ("check", "correct")
RUN_NAME = re.compile(r"^\d{8}T\d{6}Z-\d+$")
# File attributes whose values are safe to show: never content.
SHOWN_ATTRIBUTES = ("path", "state", "mode", "owner", "group", "src", "enabled")


def _lines(text):
    return text.splitlines() if isinstance(text, str) else []


def _attribute(key, before, after):
    """A changed attribute: its values when they are file attributes, its sizes when lists, else its name."""
    if key in SHOWN_ATTRIBUTES:
        return "%s %s -> %s" % (key, "-" if before is None else before, "-" if after is None else after)
    if isinstance(before, list) and isinstance(after, list):
        return "%s %d -> %d" % (key, len(before), len(after))
    return key


def _one_diff(diff):
    """A line about one entry of a result's diff: what changed and how much, never what it says."""
    if not isinstance(diff, dict):
        return "changed"
    if diff.get("prepared"):
        return "%d lines of changes prepared" % len(_lines(diff["prepared"]))
    before, after = diff.get("before"), diff.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        before, after = before or {}, after or {}
        keys = [key for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
        return ", ".join(_attribute(key, before.get(key), after.get(key)) for key in keys) or "changed"
    added = removed = 0
    for line in difflib.ndiff(_lines(before), _lines(after)):
        added += line.startswith("+ ")
        removed += line.startswith("- ")
    # The destination: a template's after_header is its source on the controller.
    where = diff.get("before_header") or diff.get("after_header") or "content"
    return "%s: +%d -%d lines" % (where, added, removed)


def diff_summary(result):
    """What a changed result changed, in one line that holds no file content and no secret."""
    if result.get("censored"):
        return "details hidden (no_log)"
    diffs = result.get("diff")
    if isinstance(diffs, dict):
        diffs = [diffs]
    lines = [_one_diff(diff) for diff in diffs or [] if diff]
    if lines:
        return "; ".join(lines)
    # Modules that report no diff: say what they did in their own words.
    for key in ("state", "msg"):
        value = result.get(key)
        if isinstance(value, str) and value and "\n" not in value and len(value) <= 160:
            return "%s: %s" % (key, value)
    return "changed"


def per_file_changes(result):
    """(file, what changed) for each file a file_set result created or updated, or its directory; else []."""
    files = result.get("files")
    if result.get("censored") or not isinstance(files, list):
        return []
    changes = (
        [("%s/" % result.get("dest", "dest"), ", ".join(result["dest_changes"]))] if result.get("dest_changes") else []
    )
    for entry in files:
        if isinstance(entry, dict) and entry.get("state") in ("created", "updated"):
            changes.append((str(entry.get("name")), "%s: %s" % (entry["state"], ", ".join(entry.get("changes") or []))))
    return changes


# TaskResult's public host, task and result attributes exist from ansible-core 2.19; before it (the
# collection supports 2.16) the same objects are _host, _task and _result. Each is read the way the
# running core has it, never through a try that hides a missing result.
def _result_host(result):
    return result.host if hasattr(result, "host") else result._host


def _result_task(result):
    return result.task if hasattr(result, "task") else result._task


def _result_data(result):
    return result.result if hasattr(result, "result") else result._result


def _role_of(task):
    """The role a task came from (its FQCN), or None for a play's own tasks."""
    return task._role.get_name() if task._role else None


def item_label(result):
    """The loop item as the task labels it; a bare string item; otherwise nothing (a dict may hold secrets)."""
    if result.get("_ansible_no_log") or result.get("censored"):
        return None
    label = result.get("_ansible_item_label", result.get("item"))
    if isinstance(label, (str, int, float)):
        return str(label)
    return None


class CallbackModule(CallbackBase):
    """Writes the drift report of plays marked with drift_report_phase."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "steadyops.stack.drift_report"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.phase = None
        self.phased = False
        self.run_dir = None
        self.started = None
        self.hosts = {}

    def v2_playbook_on_start(self, playbook):
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.playbook = os.path.basename(playbook._file_name)
        base = os.path.join(self.get_option("report_dir"), "drift")
        self.run_dir = os.path.join(base, "%s-%d" % (self.started.strftime("%Y%m%dT%H%M%SZ"), os.getpid()))
        # Workers fork from this process for every task, so the playbook's lookups see it.
        os.environ[RUN_ENV] = self.run_dir

    def v2_playbook_on_play_start(self, play):
        self._write()
        phase = play.get_vars().get("drift_report_phase")
        self.phase = phase if phase in PHASES else None
        self.phased = self.phased or self.phase is not None

    def _host(self, name):
        return self.hosts.setdefault(
            name, {"host": name, "drifted": [], "corrected": [], "handlers": [], "failed": [], "unreachable": False}
        )

    def _record(self, result, data=None):
        if self.phase is None:
            return
        host = self._host(_result_host(result).get_name())
        data = _result_data(result) if data is None else data
        if not data.get("changed") or isinstance(data.get("results"), list):
            return  # loops are recorded item by item
        task = _result_task(result)
        # A handler acts on what changed (a restart after a new unit file): a consequence, not drift.
        key = "handlers" if isinstance(task, Handler) else ("drifted" if self.phase == "check" else "corrected")
        for item, summary in per_file_changes(data) or [(item_label(data), diff_summary(data))]:
            entry = {"role": _role_of(task), "task": result.task_name, "item": item, "summary": summary}
            if key == "handlers":
                entry["phase"] = self.phase
            host[key].append(entry)

    def _record_failure(self, result):
        if self.phase is None:
            return
        self._host(_result_host(result).get_name())["failed"].append(
            {"role": _role_of(_result_task(result)), "task": result.task_name, "phase": self.phase}
        )

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_item_on_ok(self, result):
        self._record(result)

    def v2_runner_on_skipped(self, result):
        # The host answered: the report covers it (drift.yml fails a host the report does not cover).
        if self.phase is not None:
            self._host(_result_host(result).get_name())

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record_failure(result)

    def v2_runner_on_unreachable(self, result):
        if self.phase is not None:
            self._host(_result_host(result).get_name())["unreachable"] = True

    def summary(self):
        check_only = bool(context.CLIARGS.get("check"))
        return {
            "run": os.path.basename(self.run_dir),
            "playbook": self.playbook,
            "started": self.started.isoformat(),
            "check_only": check_only,
            "hosts": dict(
                (
                    name,
                    {
                        "drifted": len(host["drifted"]),
                        "corrected": len(host["corrected"]),
                        "failed": len(host["failed"]),
                        "unreachable": host["unreachable"],
                    },
                )
                for name, host in sorted(self.hosts.items())
            ),
            "drifted_hosts": sorted(name for name, host in self.hosts.items() if host["drifted"] or host["corrected"]),
        }

    def _write(self):
        if not self.phased:
            return
        os.makedirs(self.run_dir, mode=0o750, exist_ok=True)
        for name, host in self.hosts.items():
            self._dump(os.path.join(self.run_dir, "%s.json" % name), dict(host, run=os.path.basename(self.run_dir)))
        self._dump(os.path.join(self.run_dir, "summary.json"), self.summary())
        base = os.path.dirname(self.run_dir)
        link = os.path.join(base, ".latest.%d" % os.getpid())
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.basename(self.run_dir), link)
        os.replace(link, os.path.join(base, "latest"))
        self._prune(base)

    @staticmethod
    def _dump(path, data):
        partial = path + ".partial"
        with open(partial, "w") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(partial, path)

    def _prune(self, base):
        runs = sorted(name for name in os.listdir(base) if RUN_NAME.match(name))
        for name in runs[: max(len(runs) - self.get_option("keep_runs"), 0)]:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)

    def v2_playbook_on_stats(self, stats):
        if not self.phased:
            return
        self._write()
        summary = self.summary()
        self._display.banner("DRIFT REPORT")
        self._display.display(
            "%s%s" % (self.run_dir, " (check mode: nothing was changed)" if summary["check_only"] else "")
        )
        for name, host in sorted(self.hosts.items()):
            counts = summary["hosts"][name]
            state = (
                "no drift"
                if not (host["drifted"] or host["corrected"])
                else "%d drifted, %d corrected" % (counts["drifted"], counts["corrected"])
            )
            if host["failed"] or host["unreachable"]:
                state += ", %s" % ("unreachable" if host["unreachable"] else "%d failed" % counts["failed"])
            self._display.display("%s: %s" % (name, state))
            for entry in host["drifted"] or host["corrected"]:
                self._display.display(
                    "  - %s | %s%s | %s"
                    % (
                        entry["role"] or "play",
                        entry["task"],
                        " (%s)" % entry["item"] if entry["item"] else "",
                        entry["summary"],
                    )
                )
