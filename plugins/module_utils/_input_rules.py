# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The roles' own inputs that reach files root reads: nginx routes, paths, mail settings, account names.

Checked at preflight, before any host changes; each sentence names the
variable (or route) and the value. The service model's own rules are in
_service_model; these are about the roles' other variables. Pure functions,
used on the controller through the collection's filters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

URL_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")
ROUTE_FIELDS = ("path", "service", "health", "host")
HOST_HEADER = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
# nginx takes a "*" only as a whole first or last label (*.example.org, www.example.*),
# or a leading "." (.example.org); "x*y" stops nginx -t (a generated name found it).
_HOST = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
_SERVER_NAME_ONE = r"(?:\*\.%s|%s\.\*|\.?%s)" % (_HOST, _HOST, _HOST)
SERVER_NAME = re.compile(r"%s(?: %s)*" % (_SERVER_NAME_ONE, _SERVER_NAME_ONE))
SAFE_PATH = re.compile(r"/[A-Za-z0-9._@+/-]*")


def _has_dot_segment(path):
    return any(part in (".", "..") for part in path.split("/"))


def route_problems(routes, services, server_name=None):
    """Problems of nginx routes (and the server_name) before they are written into nginx's config.

    Each route is a location prefix and the service it goes to; what nginx parses is limited to
    characters that cannot end a directive or open a block (no ';', '{', space, quote, newline).
    """
    found = []
    ported = [s.get("name") for s in services or [] if isinstance(s, dict) and s.get("port") is not None]
    if server_name is not None and not (isinstance(server_name, str) and SERVER_NAME.fullmatch(server_name)):
        found.append(
            "server_name %r: host names separated by single spaces (letters, digits, '.', '-', '_'; a '*' only as "
            "the whole first or last label)" % (server_name,)
        )
    if not isinstance(routes, list):
        found.append("the nginx routes must be a list of {path, service}")
        return found
    for index, route in enumerate(routes):
        where = "routes[%d]" % index
        if not isinstance(route, dict):
            found.append("%s: a route is a mapping with path and service" % where)
            continue
        for field in ("path", "health"):
            value = route.get(field)
            if value is None and field == "health":
                continue
            if not isinstance(value, str) or not URL_PATH.fullmatch(value) or _has_dot_segment(value):
                found.append(
                    "%s.%s %r: a URL path from '/' of letters, digits and . _ ~ / - (no '..', no ';' or '{')"
                    % (where, field, value)
                )
        if route.get("service") not in ported:
            found.append("%s.service %r: not a service of stack_services with a port" % (where, route.get("service")))
        # The Host header the deploy checks the route with: a line break would add a header of its own.
        if "host" in route and not (isinstance(route["host"], str) and HOST_HEADER.fullmatch(route["host"])):
            found.append("%s.host %r: a host name or address, with an optional :port" % (where, route["host"]))
        unknown = sorted(str(key) for key in route if key not in ROUTE_FIELDS)
        if unknown:
            found.append("%s: unknown key(s) %s; a route has %s" % (where, ", ".join(unknown), ", ".join(ROUTE_FIELDS)))
    return found


MAIL_ADDRESS = re.compile(r"[^@\s,;<>\"()\[\]\\]+@[A-Za-z0-9.-]+")
MAIL_HOST = re.compile(r"[A-Za-z0-9.:\[\]-]*")


def mail_problems(settings):
    """Problems of alert mail settings (host, port, from, to) before they reach headers and SMTP.

    settings: {option name: value}; names ending in _host, _port, _from, _to are checked as such.
    """
    found = []
    for name in sorted(settings):
        value = settings[name]
        if name.endswith("_port"):
            # "587" from `-e key=value` is a port too; True (YAML yes) is not.
            number = int(value) if isinstance(value, str) and value.isdigit() else value
            if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 65535:
                found.append("%s %r: a port from 1 to 65535" % (name, value))
        elif name.endswith("_host"):
            if not isinstance(value, str) or not MAIL_HOST.fullmatch(value):
                found.append("%s %r: a host name or address, no space or line break" % (name, value))
        elif name.endswith(("_from", "_to")):
            addresses = value if isinstance(value, list) else [value]
            for address in addresses:
                if address in (None, "") and name.endswith("_from"):
                    continue
                if not isinstance(address, str) or not MAIL_ADDRESS.fullmatch(address):
                    found.append(
                        "%s %r: one plain address (name@host) per entry, no line break, comma or quote"
                        % (name, address)
                    )
    return found


# The operating system's own directories (the FHS's and Debian's): a role creates the directories it is given
# and sets their owner and mode, so one of these would be taken from the system (/etc at 0750 for the app's
# group locks every other account out of it). Below the pseudo-filesystems nothing is a directory to keep.
SYSTEM_DIRECTORIES = frozenset(
    ["/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt", "/opt",
     "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var"]  # noqa: S108 - named, not used
    + ["/usr/" + name for name in ("bin", "include", "lib", "lib64", "libexec", "local", "sbin", "share", "src")]
    + ["/usr/local/" + name for name in ("bin", "etc", "include", "lib", "sbin", "share", "src")]
    + ["/var/" + name for name in ("backups", "cache", "lib", "local", "lock", "log", "mail", "opt", "run", "spool",
                                   "tmp", "www")]
    + ["/etc/" + name for name in ("cron.d", "default", "nginx", "postgresql", "ssh", "ssl", "sudoers.d", "systemd")]
    + ["/etc/systemd/system", "/etc/nginx/conf.d", "/etc/nginx/sites-enabled", "/etc/nginx/sites-available",
       "/var/lib/postgresql", "/var/log/nginx", "/run/systemd"]
)  # fmt: skip
PSEUDO_FILESYSTEMS = ("/proc/", "/sys/", "/dev/", "/run/systemd/")


def path_problems(paths):
    """Problems of file-system paths (name -> value) that roles write into files root reads.

    Absolute, no '.' or '..' segment, no character that a unit, crontab or shell line would
    take as a separator (letters, digits and . _ @ + / - only); never a directory of the system's
    own, nor anything inside a pseudo-filesystem.
    """
    found = []
    for name in sorted(paths):
        value = paths[name]
        if not isinstance(value, str) or not SAFE_PATH.fullmatch(value) or _has_dot_segment(value.rstrip("/")):
            found.append(
                "%s %r: an absolute path of letters, digits and . _ @ + / - (no '..', no space, ';' or newline)"
                % (name, value)
            )
            continue
        plain = re.sub("/+", "/", value).rstrip("/") or "/"
        if plain in SYSTEM_DIRECTORIES or (plain + "/").startswith(PSEUDO_FILESYSTEMS):
            found.append(
                "%s %r: a directory of the system's own, which the role would take over (owner and mode); "
                "give one of the stack's own, such as /opt/tms" % (name, value)
            )
    return found


# useradd's default NAME_REGEX: what an account name may be, so it is one word in a unit or sudoers.
ACCOUNT = re.compile(r"[a-z_][a-z0-9_-]{0,31}")


def account_problems(accounts):
    """Problems of account names (option name -> value) that go into units and the sudo rule."""
    return [
        "%s %r: an account name (lower-case letters, digits, '_' and '-', at most 32)" % (name, accounts[name])
        for name in sorted(accounts)
        if accounts[name] is not None and not (isinstance(accounts[name], str) and ACCOUNT.fullmatch(accounts[name]))
    ]
