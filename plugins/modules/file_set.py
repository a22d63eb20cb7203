#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: file_set
short_description: Put a set of files in one directory in one task, each compared, written atomically, reported
version_added: 0.2.0
description:
  - Makes the files of O(files) exist in O(dest) with exactly the given content, mode, owner and group, in one
    module run on the host instead of one task (and one Python start) per file. The roles use it for the code
    they install on hosts.
  - Each file is compared with what is on the host; only a file that differs is written, to a temporary file in
    O(dest) that is renamed over it (a reader never sees half a file). RV(files) says per file what changed, so a
    drift report names the file, not the task.
  - O(dest) is created when missing, and its owner, group and mode are kept as O(dest_mode) says.
  - Files in O(dest) that O(files) does not name are left alone.
  - The action plugin reads O(files[].src) on the controller (relative to O(src_root), or to the role's or the
    play's C(files) directory) and sends the content; O(files[].content) gives it inline instead.
author:
  - steadyops engineering (@steadyops)
attributes:
  action:
    support: full
    description: The action plugin reads the sources on the controller.
  check_mode:
    support: full
    description: Compares every file and reports what it would change; writes nothing.
  diff_mode:
    support: full
    description: Per changed file, its content, mode, owner and group before and after (content only for text).
  platform:
    support: full
    platforms: posix
    description: Any POSIX host; owners and groups by name.
options:
  dest:
    description: The directory; an absolute path.
    type: path
    required: true
  dest_mode:
    description: Mode of O(dest), kept on every run (octal, as a string).
    type: str
    default: "0755"
  dest_owner:
    description: Owner of O(dest).
    type: str
    default: root
  dest_group:
    description: Group of O(dest).
    type: str
    default: root
  src_root:
    description: The controller directory a relative O(files[].src) is found in. Read by the action plugin.
    type: path
  files:
    description: The files.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The file's name in O(dest), a plain name (no C(/), not C(.) or C(..)). Default, the base name of
          O(files[].src).
        type: str
      src:
        description: A controller file whose content to put. Read by the action plugin; exclusive with
          O(files[].content).
        type: path
      content:
        description: The content, base64-encoded (the action plugin encodes O(files[].src)).
        type: str
      mode:
        description: The file's mode, octal as a string such as V("0644").
        type: str
        required: true
      owner:
        description: The file's owner.
        type: str
        default: root
      group:
        description: The file's group.
        type: str
        default: root
"""

EXAMPLES = r"""
- name: Install the helpers
  steadyops.stack.file_set:
    dest: /usr/local/lib/steadyops
    src_root: "{{ role_path }}/files"
    files:
      - {src: free_port.py, mode: "0755"}
      - {src: _host_exec.py, mode: "0644"}
"""

RETURN = r"""
files:
  description: Per file, in the order given, whether it was created, updated or left unchanged, and what differed.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "free_port.py", "state": "updated", "changes": ["content", "mode"]}]
dest:
  description: The directory.
  returned: always
  type: str
  sample: /usr/local/lib/steadyops
dest_changes:
  description: What differed on O(dest) itself (V(created), V(mode), V(owner), V(group)).
  returned: always
  type: list
  elements: str
"""

import base64
import grp
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule

TEXT_DIFF_LIMIT = 64 * 1024


def _octal(module, value, what):
    try:
        mode = int(str(value), 8)
    except ValueError:
        module.fail_json(msg='%s is %r: give an octal mode as a string, for example "0644"' % (what, value))
    if not 0 <= mode <= 0o7777:
        module.fail_json(msg="%s is %r: a mode is at most 07777" % (what, value))
    return mode


def _ids(module, owner, group, what):
    try:
        uid = pwd.getpwnam(owner).pw_uid
    except KeyError:
        module.fail_json(msg="%s: owner %r is not an account on this host" % (what, owner))
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        module.fail_json(msg="%s: group %r is not a group on this host" % (what, group))
    return uid, gid


def wanted_files(module):
    """Every file as (name, bytes, mode, uid, gid), all checked before anything is written."""
    wanted, seen = [], set()
    for index, entry in enumerate(module.params["files"]):
        name = entry.get("name") or ""
        what = "files[%d] (%s)" % (index, name or "no name")
        if entry.get("src"):
            module.fail_json(
                msg="%s: src is read on the controller; call file_set as a task, not through a module run" % what
            )
        if not name or "/" in name or name in (".", "..") or "\0" in name or "\n" in name:
            module.fail_json(msg="%s: a file's name is a plain name in dest (no '/', not '.' or '..')" % what)
        if name in seen:
            module.fail_json(msg="%s: two files are named %s" % (what, name))
        seen.add(name)
        if entry.get("content") is None:
            module.fail_json(msg="%s: give src (a controller file) or content" % what)
        try:
            content = base64.b64decode(entry["content"], validate=True)
        except (ValueError, TypeError):
            module.fail_json(msg="%s: content is not base64 (the action plugin encodes src)" % what)
        uid, gid = _ids(module, entry["owner"], entry["group"], what)
        wanted.append((name, content, _octal(module, entry["mode"], what + " mode"), uid, gid))
    return wanted


def _text(content):
    if content is None or len(content) > TEXT_DIFF_LIMIT:
        return None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return None


def compare(path, content, mode, uid, gid):
    """(state, changes, before content) of the file at PATH against what is wanted."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return "created", ["content", "mode", "owner", "group"], None
    if not stat.S_ISREG(info.st_mode):
        return "updated", ["type"], None
    with open(path, "rb") as current:
        before = current.read()
    changes = []
    if before != content:
        changes.append("content")
    if stat.S_IMODE(info.st_mode) != mode:
        changes.append("mode")
    if info.st_uid != uid:
        changes.append("owner")
    if info.st_gid != gid:
        changes.append("group")
    return ("updated" if changes else "unchanged"), changes, before


def write_atomically(dest, name, content, mode, uid, gid):
    handle, partial = tempfile.mkstemp(dir=dest, prefix=".%s." % name, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fchown(out.fileno(), uid, gid)
            os.fsync(out.fileno())
        os.rename(partial, os.path.join(dest, name))
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def keep_dest(module, dest, mode, uid, gid):
    """What differs on DEST itself, made right unless in check mode."""
    if not os.path.isabs(dest):
        module.fail_json(msg="dest is %r: give an absolute path" % dest)
    try:
        info = os.stat(dest)
    except FileNotFoundError:
        if not module.check_mode:
            os.makedirs(dest)
            os.chmod(dest, mode)
            os.chown(dest, uid, gid)
        return ["created"]
    if not stat.S_ISDIR(info.st_mode):
        module.fail_json(msg="dest %s exists and is not a directory; nothing was written" % dest)
    changes = [
        what for what, differs in (("mode", stat.S_IMODE(info.st_mode) != mode), ("owner", info.st_uid != uid),
                                   ("group", info.st_gid != gid)) if differs
    ]  # fmt: skip
    if changes and not module.check_mode:
        os.chmod(dest, mode)
        os.chown(dest, uid, gid)
    return changes


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            dest_mode=dict(type="str", default="0755"),
            dest_owner=dict(type="str", default="root"),
            dest_group=dict(type="str", default="root"),
            src_root=dict(type="path"),
            files=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    name=dict(type="str"),
                    src=dict(type="path"),
                    content=dict(type="str"),
                    mode=dict(type="str", required=True),
                    owner=dict(type="str", default="root"),
                    group=dict(type="str", default="root"),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    wanted = wanted_files(module)
    dest_uid, dest_gid = _ids(module, module.params["dest_owner"], module.params["dest_group"], "dest")
    dest_changes = keep_dest(module, dest, _octal(module, module.params["dest_mode"], "dest_mode"), dest_uid, dest_gid)
    reports, diffs = [], []
    for name, content, mode, uid, gid in wanted:
        path = os.path.join(dest, name)
        state, changes, before = (
            compare(path, content, mode, uid, gid) if os.path.isdir(dest) else ("created", ["content"], None)
        )
        reports.append({"name": name, "state": state, "changes": changes})
        if state == "unchanged":
            continue
        diffs.append(
            {
                "before_header": path,
                "after_header": path,
                "before": _text(before) if "content" in changes and before is not None else "",
                "after": _text(content) if "content" in changes else "",
            }
        )
        if not module.check_mode:
            write_atomically(dest, name, content, mode, uid, gid)
    changed = bool(dest_changes) or any(report["state"] != "unchanged" for report in reports)
    module.exit_json(changed=changed, dest=dest, files=reports, dest_changes=dest_changes, diff=diffs)


if __name__ == "__main__":
    main()
