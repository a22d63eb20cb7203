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
    from ansible_collections.steadyops.stack.plugins.module_utils._owners import in_control_group
    from ansible_collections.steadyops.stack.plugins.module_utils._procfs import ancestors, descendants
except ImportError:  # copied next to _procfs.py on a host
    from _owners import in_control_group  # type: ignore[no-redef]
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


# Command lines of unrelated programs. A pattern that finds all of them selects
# every process on a host (".", "\\S", "^"): the most dangerous input taken here.
_UNRELATED_COMMANDS = (
    "/sbin/init",
    "sshd: admin@pts/0",
    "-bash",
    "/usr/bin/dockerd -H fd://",
    "postgres: checkpointer",
    "[kthreadd]",
    "Z",
)


def matches_everything(compiled):
    """Whether a pattern selects any process at all: it matches the empty string or every unrelated command."""
    return compiled.search("") is not None or all(compiled.search(c) for c in _UNRELATED_COMMANDS)


def compile_patterns(patterns, parameter, allow_everything=False):
    compiled = []
    for pattern in patterns or []:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise PolicyError(
                "%s: %r is not a valid regular expression (%s); fix or quote it" % (parameter, pattern, exc)
            ) from None
        if not allow_everything and matches_everything(regex):
            raise PolicyError(
                "%s: %r matches every process (it finds the empty string, or sshd, dockerd and init alike); "
                "name the program, e.g. '(^|/)next-server( |$)'" % (parameter, pattern)
            )
        compiled.append(regex)
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

    def given(self, skip=()):
        """The kinds the caller gave, less those in skip."""
        kinds = {"cmdline": self.cmdline, "exe": self.exe, "cwd": self.cwd, "users": self.users, "units": self.units}
        return [kind for kind, values in kinds.items() if values and kind not in skip]

    def mismatches(self, process, skip=()):
        """The kinds this process fails (less those in skip), each with a value that would let it pass.

        Every hint is a value this selection accepts: a pattern that matches nothing would be refused
        (compile_patterns), so a blank command line is pointed at other kinds.
        """
        failed = []
        if "cmdline" not in skip and self.cmdline and not any(p.search(process.command) for p in self.cmdline):
            failed.append(self._cmdline_hint(process))
        if "exe" not in skip and self.exe and not (process.exe and any(p.search(process.exe) for p in self.exe)):
            failed.append(self._exe_hint(process))
        if "cwd" not in skip and self.cwd and not (process.cwd and any(p.search(process.cwd) for p in self.cwd)):
            failed.append(
                "%s: [%s]"
                % (self.names["cwd"], quote("^%s$" % re.escape(process.cwd)) if process.cwd else "<unreadable>")
            )
        if "users" not in skip and self.users and process.user not in self.users and str(process.uid) not in self.users:
            failed.append("%s: [%s]" % (self.names["users"], quote(process.user)))
        if "units" not in skip and self.units and process.unit not in self.units:
            # A process in no unit is named by the other kinds.
            named = "%s: [%s]" % (self.names["units"], quote(process.unit)) if process.unit else None
            failed.append(named or self.any_hint(process))
        return failed

    def any_hint(self, process):
        """Values of the kinds that would select this process, for one that no kind given can name."""
        pattern = _example_pattern(process)
        hints = ["%s: [%s]" % (self.names["cmdline"], quote(pattern))] if pattern else []
        if process.exe:
            hints.append(self._exe_hint(process))
        hints.append("%s: [%s]" % (self.names["users"], quote(process.user)))
        return " or ".join(hints)

    def _cmdline_hint(self, process):
        pattern = _example_pattern(process)
        if pattern:
            return "%s: [%s]" % (self.names["cmdline"], quote(pattern))
        # A blank command line: only a pattern that matches everything would find it.
        return "%s (its command line is blank) or %s: [%s] instead of %s" % (
            self._exe_hint(process),
            self.names["users"],
            quote(process.user),
            self.names["cmdline"],
        )

    def _exe_hint(self, process):
        if not process.exe:
            return "%s: [%s] (its executable is unreadable)" % (self.names["users"], quote(process.user))
        return "%s: [%s]" % (self.names["exe"], quote("^%s$" % re.escape(process.exe)))

    def matches(self, process):
        return not self.is_empty and not self.mismatches(process)


def quote(value):
    """A value as a YAML single-quoted string: what a user pastes into a playbook reads back as it is."""
    return "'%s'" % str(value).replace("'", "''")


def _example_pattern(process):
    """A pattern that matches this process's program, for error messages ('' when it has no name)."""
    if not process.cmdline:
        # No argv at all: the command reads "[comm]" (Process.command).
        return r"^\[%s\]$" % re.escape(process.comm) if process.comm else ""
    argv0 = process.cmdline[0]
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
    if process.owner is not None and process.owner.is_foreign:
        return "it runs in %s, which this host does not manage" % process.owner.describe()
    if process.pid in self_tree:
        return "it belongs to this module's own process tree (the Ansible connection)"
    for pattern in protect:
        if pattern.search(process.command):
            return "it is protected by the pattern %r" % pattern.pattern
    return None


def protect_patterns(extra=None, use_defaults=True):
    patterns = list(DEFAULT_PROTECT) if use_defaults else []
    # Protecting everything is safe, if useless: a broad pattern here is allowed.
    return compile_patterns(patterns + list(extra or []), "protect", allow_everything=True)


def is_login_shell(process):
    """A shell login started (argv[0] begins with '-'): never anyone's stray."""
    return bool(process.cmdline) and process.cmdline[0].startswith("-")


def in_unit(process, unit, control_groups):
    """Whether process runs inside `unit`: by the ControlGroup systemd reports, else by its cgroup path.

    A leftover of the unit's earlier run (_leftovers.mark) is outside it: systemd reports an inactive
    unit's ControlGroup all the same.
    """
    if process.owner is not None and process.owner.leftover and process.unit == normalize_unit(unit):
        return False
    control_group = (control_groups or {}).get(unit)
    if control_group:
        return in_control_group(process.cgroup, control_group)
    return process.unit == unit


def stray_refusal(process, selection, self_tree, protect):
    """Why a process that matched a stray pattern is still left alone, or None."""
    why = refusal(process, self_tree, protect)
    if why:
        return why
    owner = process.owner
    if owner is not None and owner.restarted_by_systemd:
        return "it belongs to %s, which systemd manages: it is never a stray" % owner.describe()
    if is_login_shell(process):
        return "it is a login shell"
    if owner is not None and owner.kind == "session" and not selection.users:
        return "it runs in %s; processes of a login session are strays only when %s names their user" % (
            owner.describe(),
            selection.names["users"],
        )
    return None


def plan_strays(table, specs, self_tree, protect, control_groups=None):
    """Which processes are strays of which unit: ({pid: unit}, [(process, unit, reason left alone)]).

    specs: [(unit, Selection)]. A process counts for the first spec whose
    selection matches it and whose unit it is not in.
    """
    strays, skipped = {}, []
    for pid in sorted(table):
        process = table[pid]
        if process.is_zombie:
            continue
        for unit, selection in specs:
            if in_unit(process, unit, control_groups) or not selection.matches(process):
                continue
            why = stray_refusal(process, selection, self_tree, protect)
            if why:
                skipped.append((process, unit, why))
            else:
                strays[pid] = unit
            break
    return strays, skipped


def breadth_problem(strays, table, max_processes, max_users, names=("max_strays", "max_stray_users")):
    """A refusal when a selection is broader than the caller allowed, or None.

    A pattern that matches far more than intended is the worst input a killer of
    processes can take; past the limits nothing is signalled until the caller
    raises them explicitly.
    """
    users = sorted({str(table[pid].user) for pid in strays})
    if len(strays) > max_processes:
        return "%d processes matched (%s), more than %s=%d: refusing to signal any; narrow the patterns or raise %s" % (
            len(strays),
            ", ".join(str(pid) for pid in sorted(strays)[:10]) + (", ..." if len(strays) > 10 else ""),
            names[0],
            max_processes,
            names[0],
        )
    if len(users) > max_users:
        return (
            "the matched processes run as %d users (%s), more than %s=%d: refusing to signal any; add users "
            "to the stray spec or raise %s" % (len(users), ", ".join(users), names[1], max_users, names[1])
        )
    return None
