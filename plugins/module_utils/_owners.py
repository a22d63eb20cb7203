# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Who owns a process: a system service, a scope, a session, a user unit, a container.

A cgroup path is read the way systemd lays it out: below the manager's root,
slices nest (``system.slice/app.slice``) and the first component that is not
a slice is the unit. Whatever lies below that unit is the unit's own
business: a service with ``Delegate=yes`` (a container engine, ``user@1000``)
may create sub-cgroups named like other units, and those are not the system
units of the same name. Standard library only: hosts run this file too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SERVICE = "service"  # a system service: systemd restarts it, so it is stopped as a unit, never by pid
USER = "user"  # inside a user manager (user@UID.service): the user's own units
SCOPE = "scope"  # a scope (systemd-run --scope, …): systemd never restarts it
SESSION = "session"  # a login session: shells and what people started by hand
INIT = "init"  # PID 1's own scope
UNIT = "unit"  # some other unit type (mount, swap) that systemd runs processes for
CONTAINER = "container"  # a container, or a PID namespace other than ours
NONE = "none"  # no unit: a slice or the root cgroup, or a host without systemd
UNKNOWN = "unknown"  # the cgroup could not be read

# Scopes and services container engines and machine managers create on the host.
_CONTAINER_UNIT = re.compile(
    r"^(?:docker|libpod|libpod-conmon|crio|crio-conmon|cri-containerd|containerd|podman|machine|lxc|nspawn)-.+\.scope$"
    r"|^systemd-nspawn@.+\.service$|^machine-.+\.scope$|^lxc@.+\.service$"
)
# Top-level cgroups of engines that do not go through systemd (the cgroupfs driver).
_CONTAINER_DIRS = ("docker", "lxc", "lxc.payload", "lxc.monitor", "kubepods", "libpod_parent", "machine")
UNIT_SUFFIXES = (".service", ".scope", ".socket", ".mount", ".swap")


class Owner(object):
    """What a process belongs to, as systemd sees it."""

    __slots__ = ("kind", "unit", "inner", "leftover")

    def __init__(self, kind, unit=None, inner=None):
        self.kind = kind
        self.unit = unit  # the system unit (or container scope), or None
        self.inner = inner  # below the unit: a user unit, a delegated sub-cgroup, a container's own unit
        # Why a process in a service's cgroup is not part of the service's current run (_leftovers.mark).
        self.leftover = None

    @property
    def restarted_by_systemd(self):
        """Processes systemd may start again: signalling one by pid does not free anything for long.

        A leftover of a service is not: the service's next start leaves it where it is.
        """
        return self.kind in (SERVICE, USER, UNIT) and not self.leftover

    @property
    def is_foreign(self):
        """Not this host's to touch: a container, or a cgroup outside this host's systemd tree."""
        return self.kind == CONTAINER

    def describe(self):  # noqa: PLR0911 - one phrase per kind of owner
        if self.leftover:
            return "a leftover in the control group of %s (%s)" % (self.unit, self.leftover)
        if self.kind == CONTAINER:
            return "a container (%s)" % (self.inner or self.unit or "another PID namespace")
        if self.kind == USER:
            return "user unit %s of %s" % (self.inner or "(none)", self.unit)
        if self.kind == SERVICE and self.inner:
            return "the delegated subtree %s of service %s" % (self.inner, self.unit)
        if self.kind in (SERVICE, SCOPE, SESSION, INIT, UNIT):
            return "%s %s" % ("login session" if self.kind == SESSION else "unit", self.unit)
        if self.kind == UNKNOWN:
            return "an unreadable cgroup"
        return "no unit"

    def as_dict(self):
        return {"kind": self.kind, "unit": self.unit, "inner": self.inner, "leftover": self.leftover}


def manager_root(pid1_cgroup):
    """The cgroup systemd (PID 1) manages from, or None when PID 1 is not systemd.

    systemd keeps itself in <root>/init.scope; in a container that shares the
    host's cgroup namespace the root is /docker/<id> or similar, not /.
    """
    if not pid1_cgroup or not pid1_cgroup.rstrip("/").endswith("/init.scope"):
        return None
    root = pid1_cgroup.rstrip("/")[: -len("/init.scope")]
    return root or "/"


def _components(path):
    return [c for c in path.strip("/").split("/") if c]


def _inner_unit(rest):
    """The innermost unit-like name below a unit, or the sub-cgroup path when none looks like a unit."""
    for component in reversed(rest):
        if component.endswith(UNIT_SUFFIXES):
            return component
    return "/".join(rest) or None


def _container_of(components):
    """The leading components that name the container a cgroup path lies in, or None."""
    if components and components[0] in _CONTAINER_DIRS:
        return tuple(components[:2])
    for index, component in enumerate(components):
        if _CONTAINER_UNIT.match(component):
            return tuple(components[: index + 1])
    return None


def classify(cgroup, root, pid_namespaces=1, own=None):  # noqa: PLR0911 - one answer per kind of owner
    """The Owner of a process with this cgroup path, under a manager rooted at `root` (None: no systemd).

    pid_namespaces is the number of PID namespaces the process has a pid in
    (the NSpid line of /proc/<pid>/status); more than the reader's own is a
    container. own is the reader's (cgroup, pid_namespaces): a process in the
    reader's own container (the module runs in a plain container, say) is not
    "another container".
    """
    own_cgroup, own_namespaces = own or (None, 1)
    if pid_namespaces and pid_namespaces > max(own_namespaces or 1, 1):
        return Owner(CONTAINER, inner="another PID namespace")
    if cgroup is None:
        return Owner(UNKNOWN)
    parts = _components(cgroup)
    if root is None:
        # No systemd on this host: nothing is a unit, but other containers still show in the path.
        container = _container_of(parts)
        if container and container != _container_of(_components(own_cgroup or "")):
            return Owner(CONTAINER, inner=cgroup)
        return Owner(NONE)
    base = _components(root)
    if parts[: len(base)] != base:
        return Owner(CONTAINER, inner=cgroup)  # outside this manager's tree
    parts = parts[len(base) :]
    index = 0
    while index < len(parts) and parts[index].endswith(".slice"):
        index += 1
    if index == len(parts):
        return Owner(NONE)
    unit, rest = parts[index], parts[index + 1 :]
    inner = _inner_unit(rest)
    if _CONTAINER_UNIT.match(unit) or parts[0] in _CONTAINER_DIRS:
        return Owner(CONTAINER, unit, inner)
    if re.match(r"^user@\d+\.service$", unit):
        return Owner(USER, unit, inner)
    if unit.endswith(".service"):
        return Owner(SERVICE, unit, inner)
    if unit == "init.scope":
        return Owner(INIT, unit)
    if unit.endswith(".scope"):
        return Owner(SESSION if unit.startswith("session-") else SCOPE, unit, inner)
    if unit.endswith(UNIT_SUFFIXES):
        return Owner(UNIT, unit, inner)
    return Owner(NONE, inner="/".join(parts))


def in_control_group(cgroup, control_group):
    """Whether a process cgroup path lies in a unit's ControlGroup (as systemctl show reports it)."""
    if not cgroup or not control_group:
        return False
    return cgroup == control_group or cgroup.startswith(control_group.rstrip("/") + "/")
