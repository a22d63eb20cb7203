# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Small computations of the deploy role, kept out of Jinja so they are tested."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _label(item):
    if isinstance(item, dict):
        for key in ("unit", "path", "name"):
            if key in item:
                return str(item[key])
    return str(item)


def failed_check(task_name, result):
    """One line naming the check that failed: the task, the loop item that failed, and why."""
    result = result or {}
    failed = [r for r in result.get("results") or [] if isinstance(r, dict) and r.get("failed")]
    if failed:
        first = failed[0]
        why = first.get("msg") or first.get("stderr") or "failed"
        return "%s [%s]: %s" % (task_name, _label(first.get("item")), why)
    return "%s: %s" % (task_name, result.get("msg") or result.get("stderr") or "failed")


def summary_line(result_and_host):
    """One line of the deploy's summary: which release serves on a host, and how it came to."""
    result, host = result_and_host
    state = (result or {}).get("state")
    if state == "deployed":
        return "%s: serves %s (new; was %s)" % (host, result["release"], result.get("previous") or "nothing")
    if state == "unchanged":
        return "%s: serves %s (unchanged)" % (host, result["release"])
    if state == "rolled back":
        return "%s: serves %s (rolled back from %s: %s)" % (
            host,
            result.get("release") or "nothing",
            result.get("failed_release"),
            result.get("failure"),
        )
    return "%s: not switched in this run (not reached, or stopped before the switch); what served still serves" % host


class FilterModule(object):
    def filters(self):
        return {"failed_check": failed_check, "summary_line": summary_line}
