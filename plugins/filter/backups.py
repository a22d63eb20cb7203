# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which of Ansible's backup files (``<file>.<pid>.<YYYY-MM-DD@HH:MM:SS>~``) are beyond the newest few."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DOCUMENTATION = r"""
name: backups_beyond
short_description: The backup files Ansible's C(backup) option left beyond the newest few of each file
version_added: 0.1.0
description:
  - Given the C(files) of an M(ansible.builtin.find) result, returns the paths of backups older than the
    newest O(keep) of the same original file, by modification time. Only names with the exact suffix
    Ansible's C(backup) option writes (C(.<pid>.<YYYY-MM-DD@HH:MM:SS>~)) count; any other file is never
    returned, whatever the find matched.
  - Old env-file backups hold old secrets, so they must not pile up for ever.
positional: keep
options:
  _input:
    description: The C(files) list of a find result (each with C(path) and C(mtime)).
    type: list
    elements: dict
    required: true
  keep:
    description: How many backups of each original file stay.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Remove env-file backups beyond the newest 3 of each file
  ansible.builtin.file:
    path: "{{ item }}"
    state: absent
  loop: "{{ found.files | steadyops.stack.backups_beyond(3) }}"
"""

RETURN = r"""
_value:
  description: Paths to remove, oldest last.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

BACKUP_SUFFIX = re.compile(r"\.\d+\.\d{4}-\d{2}-\d{2}@\d{2}:\d{2}:\d{2}~$")


def backups_beyond(files, keep):
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 0:
        raise AnsibleFilterError("backups_beyond: keep must be a whole number of backups, 0 or more; got %r" % (keep,))
    by_original = {}
    for entry in files or []:
        path = entry.get("path", "")
        if BACKUP_SUFFIX.search(path):
            by_original.setdefault(BACKUP_SUFFIX.sub("", path), []).append(entry)
    beyond = []
    for original in sorted(by_original):
        newest_first = sorted(
            by_original[original], key=lambda entry: (entry.get("mtime", 0), entry["path"]), reverse=True
        )
        beyond += [entry["path"] for entry in newest_first[keep:]]
    return beyond


class FilterModule(object):
    def filters(self):
        return {"backups_beyond": backups_beyond}
