# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which processes may be signalled: the caller's selection and the lines never crossed.

Pure functions over _procfs.Process objects; standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from ansible_collections.steadyops.stack.plugins.module_utils._procfs import ancestors, descendants
except ImportError:  # copied next to _procfs.py on a host
    from _procfs import ancestors, descendants  # type: ignore[no-redef]

# Processes that keep the host reachable and managed. Matched against the
# command line; callers add their own with `protect`.
DEFAULT_PROTECT = (
    r"(^|/)sshd(:|\s|$)",
    r"(^|/)(init|systemd)(\s|$)",
    r"(^|/)systemd-[a-z-]+(\s|$)",
    r"(^|/)(dbus-daemon|dbus-broker)(\s|$)",
    r"AnsiballZ_",
    r"(^|/)ansible(-[a-z]+)?(\s|$)",
)


class PolicyError(ValueError):
    """Bad selection input; the message says what to change."""


def compile_patterns(patterns, parameter):
    compiled = []
    for pattern in patterns or []:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise PolicyError(
                "%s: %r is not a valid regular expression (%s); fix or quote it" % (parameter, pattern, exc)
            ) from None
    return compiled


MAX_SECONDS = 86400.0


def bad_seconds(params, names, maximum=MAX_SECONDS):
    """A message for the first of these durations that is not a finite number of seconds from 0 to maximum.

    NaN compares false with everything, so it would pass a plain "< 0" check and then make a wait loop
    never end; infinity would do the same.
    """
    for name in names:
        value = params[name]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= maximum:
            return "%s is %r: it is a number of seconds from 0 to %d." % (name, value, maximum)
    return None


def normalize_unit(name):
    return name if name.endswith((".service", ".scope", ".socket")) else name + ".service"


class Selection(object):
    """What the caller allows: each given kind must match, any entry within a kind may.

    A holder of `next-server` run by `tmsapp` matches cmdline=['next-server']
    with users=['tmsapp'], but not users=['www-data'].
    """

    def __init__(self, cmdline=None, exe=None, users=None, units=None, cwd=None, prefix="allow_", names=None):
        # The caller's own name for each kind, so messages name options that exist:
        # allow_cmdline, reap_parents, strays[0].patterns, --pattern.
        self.names = dict((kind, prefix + kind) for kind in ("cmdline", "exe", "cwd", "users", "units"))
        self.names.update(names or {})
        self.cmdline = compile_patterns(cmdline, self.names["cmdline"])
        self.exe = compile_patterns(exe, self.names["exe"])
        self.cwd = compile_patterns(cwd, self.names["cwd"])
        self.users = [str(u) for u in users or []]
        self.units = [normalize_unit(u) for u in units or []]

    @property
    def is_empty(self):
        return not (self.cmdline or self.exe or self.users or self.units or self.cwd)

    def mismatches(self, process):
        """The kinds this process fails, each with the parameter value that would let it pass."""
        failed = []
        if self.cmdline and not any(p.search(process.command) for p in self.cmdline):
            failed.append("%s: ['%s']" % (self.names["cmdline"], _example_pattern(process)))
        if self.exe and not (process.exe and any(p.search(process.exe) for p in self.exe)):
            failed.append("%s: [%r]" % (self.names["exe"], process.exe or "<unreadable>"))
        if self.cwd and not (process.cwd and any(p.search(process.cwd) for p in self.cwd)):
            failed.append("%s: [%r]" % (self.names["cwd"], process.cwd or "<unreadable>"))
        if self.users and process.user not in self.users and str(process.uid) not in self.users:
            failed.append("%s: [%r]" % (self.names["users"], process.user))
        if self.units and process.unit not in self.units:
            failed.append("%s: [%r]" % (self.names["units"], process.unit or "<no unit>"))
        return failed

    def matches(self, process):
        return not self.is_empty and not self.mismatches(process)


def _example_pattern(process):
    """A pattern that matches this process's program, for error messages."""
    argv0 = process.cmdline[0] if process.cmdline else process.comm or ""
    # Programs that set a title ("next-server (v14.2.3)") are named by its first word.
    program = os.path.basename(argv0.split()[0]) if argv0.strip() else ""
    # Escape only what is special in a regex, so the hint reads like the program name.
    return re.sub(r"([.^$*+?{}\[\]\\|()])", r"\\\1", program)


def own_tree(table, pid=None):
    """This process, its ancestors (the Ansible connection) and its children."""
    pid = os.getpid() if pid is None else pid
    return {pid} | set(ancestors(pid, table)) | set(descendants(pid, table))


def refusal(process, self_tree, protect):
    """Why this process must never be signalled, or None when it may be."""
    if process.pid == 1:
        return "PID 1 is never signalled"
    if process.is_kernel_thread:
        return "it is a kernel thread"
    if process.pid in self_tree:
        return "it belongs to this module's own process tree (the Ansible connection)"
    for pattern in protect:
        if pattern.search(process.command):
            return "it is protected by the pattern %r" % pattern.pattern
    return None


def protect_patterns(extra=None, use_defaults=True):
    patterns = list(DEFAULT_PROTECT) if use_defaults else []
    return compile_patterns(patterns + list(extra or []), "protect")
