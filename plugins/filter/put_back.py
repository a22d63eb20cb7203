# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What a failed start put back (systemd_hardening's put_back.yml), said in one sentence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

RECORD_LISTS = ("units", "env_files", "units_removed", "env_files_removed", "env_files_kept")


def put_back_summary(put_back):
    """The files put back, removed and kept, by path; no value of any file is in the record."""
    record = put_back or {}
    # Said in the filter's own error: ansible-core 2.16 fails a run on a bad record
    # with an empty message otherwise.
    if not isinstance(record, Mapping):
        raise AnsibleFilterError(
            "put_back_summary needs systemd_hardening's put_back record (a mapping), not %s" % type(record).__name__
        )
    wrong = [name for name in RECORD_LISTS if not isinstance(record.get(name) or [], (list, tuple))]
    if wrong:
        raise AnsibleFilterError("put_back_summary: %s must be lists of paths" % ", ".join(wrong))
    parts = []
    if record.get("units"):
        parts.append("the unit files %s" % ", ".join(record["units"]))
    if record.get("env_files"):
        parts.append("the env files %s" % ", ".join(record["env_files"]))
    if record.get("units_removed") or record.get("env_files_removed"):
        removed = list(record.get("units_removed") or []) + list(record.get("env_files_removed") or [])
        parts.append("removed, new in this run: %s" % ", ".join(removed))
    if record.get("env_files_kept"):
        parts.append(
            "NOT put back, kept without a backup (env_file_backup is off): %s" % ", ".join(record["env_files_kept"])
        )
    return "; ".join(parts) or "nothing (no unit or env file changed in this run)"


class FilterModule(object):
    def filters(self):
        return {"put_back_summary": put_back_summary}
