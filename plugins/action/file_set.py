# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""file_set on the controller: read each files[].src here and send every file's content in one module run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def _source_path(self, index, src, src_root):
        if os.path.isabs(src):
            return src
        if src_root:
            return os.path.join(os.path.expanduser(src_root), src)
        try:
            return self._find_needle("files", src)
        except AnsibleError as exc:
            raise AnsibleActionFail("files[%d]: src %s is not in a files directory: %s" % (index, src, exc)) from exc

    def _with_content(self, index, entry, src_root):
        if not isinstance(entry, dict):
            raise AnsibleActionFail(
                "files[%d] is %r: each file is a mapping with src (or content) and mode" % (index, entry)
            )
        entry = dict(entry)
        src = entry.pop("src", None)
        if src is None:
            return entry
        if entry.get("content") is not None:
            raise AnsibleActionFail("files[%d]: give src or content, not both" % index)
        path = self._source_path(index, src, src_root)
        try:
            with open(path, "rb") as source:
                entry["content"] = base64.b64encode(source.read()).decode("ascii")
        except OSError as exc:
            raise AnsibleActionFail(
                "files[%d]: cannot read %s on the controller: %s" % (index, path, exc.strerror)
            ) from exc
        entry.setdefault("name", os.path.basename(src))
        return entry

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise AnsibleActionFail("files is %r: give a list of files, each with src (or content) and mode" % (files,))
        src_root = args.pop("src_root", None)
        args["files"] = [self._with_content(index, entry, src_root) for index, entry in enumerate(files)]
        result.update(
            self._execute_module(module_name="steadyops.stack.file_set", module_args=args, task_vars=task_vars)
        )
        return result
