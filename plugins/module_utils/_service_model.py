# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one service model (docs/DESIGN.md): the options of an entry of `stack_services`.

Written once, here. scripts/sync_service_model.py copies MODEL into the
argument specs of every role that reads the model (the lint stage fails when
a copy drifts), and the `service_defaults` filter fills in its defaults, since
role argument validation checks entries but does not complete them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
from urllib.parse import urlsplit, urlunsplit

# The account and path rules are the roles' too (_input_rules); the model applies them to its fields.
try:
    from ansible_collections.steadyops.stack.plugins.module_utils._input_rules import account_problems, path_problems
except ImportError:  # copied next to the health check program on a host
    from _input_rules import account_problems, path_problems  # type: ignore[no-redef]

MODEL_YAML = r"""
name:
  description: The systemd unit name without C(.service); also names the env file.
  type: str
  required: true
exec:
  description:
    - The command line systemd runs (C(ExecStart)), one line. Required unless O(packaged).
    - Words, quotes and C($VARIABLE) references follow systemd's syntax (the unit sets C(PORT)); a C(%) is
      passed to the program as it is, never read as a systemd specifier.
  type: str
packaged:
  description: The unit belongs to a package (nginx, postgresql); only a drop-in is written.
  type: bool
  default: false
description:
  description: The unit's description, one line; a C(%) is shown as it is.
  type: str
port:
  description:
    - The TCP port the service listens on; freed of strays before start. The unit passes it to the
      service as C(PORT) in its environment.
  type: int
gapless_port:
  description:
    - The second port of a blue/green pair with O(port), for a service behind nginx. A deploy starts
      the new release on whichever of the two is idle, checks its health there, switches nginx to it
      with a graceful reload and only then stops the old instance, so no request fails. The unit
      becomes a template, C(<name>@<port>.service), and the service reads its port from C(PORT).
  type: int
health:
  description: How the health check probes the service.
  type: dict
  options:
    url:
      description: URL answering when the service is healthy.
      type: str
    status:
      description: Expected HTTP status.
      type: int
      default: 200
    timeout:
      description: Seconds to wait for health after a start.
      type: int
      default: 30
stray_patterns:
  description: Regular expressions matching the command line of an orphan of this service.
  type: list
  elements: str
  default: []
hardening:
  description: Sandbox profile.
  type: str
  choices: [strict, standard, minimal]
  default: standard
user:
  description: The account the service runs as; defaults to C(stack_app_user).
  type: str
group:
  description: The service's group; defaults to its user.
  type: str
working_directory:
  description: The service's working directory; defaults to C(stack_app_root)/current.
  type: str
read_write_paths:
  description: Paths the sandbox leaves writable, beyond the app's shared data.
  type: list
  elements: path
  default: []
env:
  description: Plain environment variables for the env file.
  type: dict
  default: {}
env_secrets:
  description: Keys whose values come from the vault (C(env_file_secrets)); never shown.
  type: list
  elements: str
  default: []
env_required:
  description: Keys that must be present and non-empty in the env file.
  type: list
  elements: str
  default: []
after:
  description: Units (with or without C(.service)) that start before this one.
  type: list
  elements: str
  default: []
unit_overrides:
  description:
    - Extra C([Service]) directives, or overrides of the profile's, for this service only.
    - A C(%) in a value is passed as it is, never read as a systemd specifier.
  type: dict
  default: {}
"""


_PARSED_MODEL = []


def model():
    """The model's options, parsed once per process (a parse costs ~18 ms, and the
    roles complete the model with its defaults many times a run); each caller
    gets its own copy to change."""
    if not _PARSED_MODEL:
        # Imported here: only the controller reads the model (filters, the sync
        # script), and module_utils must import on hosts without PyYAML.
        import yaml  # noqa: PLC0415

        _PARSED_MODEL.append(yaml.safe_load(MODEL_YAML))
    return copy.deepcopy(_PARSED_MODEL[0])


def _defaults(options):
    filled = {}
    for name, spec in options.items():
        if "default" in spec:
            filled[name] = copy.deepcopy(spec["default"])
    return filled


def with_defaults(services):
    """Each entry with every model default it leaves out; nested options too."""
    options = model()
    completed = []
    for service in services:
        entry = _defaults(options)
        entry.update(copy.deepcopy(service))
        for name, spec in options.items():
            if spec.get("options") and isinstance(entry.get(name), dict):
                entry[name] = dict(_defaults(spec["options"]), **entry[name])
        completed.append(entry)
    return completed


# The model's options of type bool (a test keeps this equal to MODEL_YAML).
BOOLEAN_FIELDS = ("packaged",)
# One "@" at most, and only before an instance name: "name@" alone is a template,
# a unit systemd can neither start nor show (a generated name found it).
# ("x@.socket" is one too: the instance starts after the '@', not with the suffix's dot.)
NAME_RULE = re.compile(r"(?=.{1,100}$)[A-Za-z0-9][A-Za-z0-9_.-]*(@[A-Za-z0-9_-][A-Za-z0-9_.-]*)?")
UNIT_SUFFIXES = (".service", ".target", ".socket", ".mount", ".path", ".timer")


def _is_port(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def _where(index, service, field=None):
    name = service.get("name") if isinstance(service, dict) else None
    place = "stack_services[%d]%s" % (index, " (%s)" % name if isinstance(name, str) else "")
    return place + ("." + field if field else "")


def _port_problems(services):
    found, owners = [], {}
    for index, service in enumerate(services):
        for field in ("port", "gapless_port"):
            value = service.get(field)
            if value is None:
                continue
            if not _is_port(value):
                found.append(
                    "%s: %r is not a port (a whole number from 1 to 65535)" % (_where(index, service, field), value)
                )
                continue
            if value in owners:
                found.append(
                    "%s: port %d is already taken by %s; every port of the stack, gapless pairs included, "
                    "belongs to one service" % (_where(index, service, field), value, owners[value])
                )
            else:
                owners[value] = _where(index, service, field)
        if service.get("gapless_port") is not None and service.get("port") is None:
            found.append("%s: a gapless service needs its first port in port" % _where(index, service, "gapless_port"))
        if service.get("gapless_port") is not None and "@" in str(service.get("name")):
            found.append(
                "%s: a gapless service runs as NAME@PORT, so its name cannot hold an '@' itself"
                % _where(index, service, "name")
            )
        if service.get("gapless_port") is not None and service.get("packaged"):
            found.append("%s: a packaged unit cannot be switched blue/green" % _where(index, service, "gapless_port"))
    return found


def _after_problems(services, names):
    found = []
    for index, service in enumerate(services):
        after = service.get("after") or []
        if not isinstance(after, list):
            found.append("%s: must be a list of unit names" % _where(index, service, "after"))
            continue
        for position, unit in enumerate(after):
            if not isinstance(unit, str) or not NAME_RULE.fullmatch(unit):
                found.append("%s %r: a unit name" % (_where(index, service, "after[%d]" % position), unit))
                continue
            if unit_name(unit) in [unit_name(name) for name in names if isinstance(name, str)] or unit.endswith(
                UNIT_SUFFIXES
            ):
                continue
            found.append(
                "%s: %r is not a service of stack_services; name a unit outside the stack with its suffix "
                "(for example postgresql.service)" % (_where(index, service, "after[%d]" % position), unit)
            )
    return found


# A health URL the check program fetches: http(s), no space or control character anywhere.
HEALTH_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f/?#]+(?:[/?#][^\s\x00-\x1f\x7f]*)?")


def model_problems(services):
    """Every problem of the whole service model, each naming the entry and the field; [] when usable.

    Run once, before any role changes anything, so a deploy never stops halfway over a model error.
    """
    if not isinstance(services, list):
        return ["stack_services must be a list of services, not %s" % type(services).__name__]
    found, names = [], []
    for index, service in enumerate(services):
        if not isinstance(service, dict):
            found.append("stack_services[%d]: each service is a mapping with at least a name" % index)
            continue
        name = service.get("name")
        if not isinstance(name, str) or not NAME_RULE.fullmatch(name) or ".." in name:
            found.append(
                "%s: %r is not a usable unit name (letters, digits, '-', '_', '.', and one '@' only before an instance "
                "name; no '..'; at most 100)" % (_where(index, service, "name"), name)
            )
        elif name.lower() in [str(seen).lower() for seen in names]:
            # nginx names each service's upstream after it, and compares upstream names
            # without regard to case: "api" and "API" would be one upstream twice.
            found.append(
                "%s: %s is listed twice (names differ in more than case)" % (_where(index, service, "name"), name)
            )
        names.append(name)
        for field in BOOLEAN_FIELDS:
            value = service.get(field)
            if value is not None and not isinstance(value, bool):
                found.append(
                    "%s %r: true or false, a YAML boolean unquoted (a string such as 'no' would read as true)"
                    % (_where(index, service, field), value)
                )
        if not service.get("packaged") and not service.get("exec"):
            found.append("%s: needed unless the unit is packaged" % _where(index, service, "exec"))
        if service.get("port") is not None and "PORT" in (service.get("env") or {}):
            found.append("%s: PORT is set by the unit from port; remove it from env" % _where(index, service, "env"))
        found += _unit_text_problems(index, service)
        found += _privilege_problems(index, service)
        found += _stray_pattern_problems(index, service)
        found += _health_problems(index, service)
    services = [s for s in services if isinstance(s, dict)]
    found += _port_problems(services)
    found += _after_problems(services, names)
    found += order_problems([s for s in services if isinstance(s.get("name"), str)])
    return found


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
DIRECTIVE = re.compile(r"[A-Z][A-Za-z0-9]*")


def _unit_text_problems(index, service):
    """Fields that are written into the unit: one line each, no character that would start another directive."""
    found = []
    for field in ("exec", "description"):
        value = service.get(field)
        if value is not None and (not isinstance(value, str) or CONTROL.search(value)):
            found.append("%s: one line of text, no line break or control character" % _where(index, service, field))
        elif isinstance(value, str) and value.endswith("\\"):
            # systemd joins a line ending in a backslash with the next: the directive after it would be lost.
            found.append("%s: ends with a backslash, which a unit file reads as 'continued on the next line'"
                         % _where(index, service, field))  # fmt: skip
        elif isinstance(value, str) and field == "exec" and _exec_line_problem(value):
            found.append("%s: %s" % (_where(index, service, field), _exec_line_problem(value)))
        elif isinstance(value, str) and field == "description" and value != value.strip():
            # systemd strips a value's outer spaces: they would never arrive.
            found.append("%s: starts or ends with a space, which systemd drops" % _where(index, service, field))
    for field in ("user", "group"):
        value = service.get(field)
        if value is not None and account_problems({field: value}):
            found.append("%s %r: an account name (lower-case letters, digits, '_' and '-', at most 32)"
                         % (_where(index, service, field), value))  # fmt: skip
    paths = [("working_directory", service.get("working_directory"))]
    paths += [("read_write_paths[%d]" % i, p) for i, p in enumerate(service.get("read_write_paths") or [])]
    for name, value in paths:
        if value is not None and path_problems({name: value}):
            found.append("%s %r: an absolute path of letters, digits and . _ @ + / - (no '..', space or line break)"
                         % (_where(index, service, name), value))  # fmt: skip
    overrides = service.get("unit_overrides") or {}
    if not isinstance(overrides, dict):
        return [*found, "%s: a mapping of directive to value" % _where(index, service, "unit_overrides")]
    for key, value in overrides.items():
        values = value if isinstance(value, list) else [value]
        if not (isinstance(key, str) and DIRECTIVE.fullmatch(key)) or any(
            isinstance(v, (dict, list)) or CONTROL.search(str(v)) or str(v).endswith("\\") or str(v) != str(v).strip()
            for v in values
        ):
            found.append(
                "%s %r: a directive name (letters and digits) and one-line values, none ending in a backslash or "
                "starting or ending with a space (systemd drops those)"
                % (_where(index, service, "unit_overrides"), key)
            )
    return found


# Profiles under which nothing of the service runs as root.
UNPRIVILEGED_PROFILES = ("strict", "standard")
# Directives that decide who the service runs as: set through user and group, never overridden.
IDENTITY_DIRECTIVES = ("User", "Group", "DynamicUser", "SupplementaryGroups", "PrivateUsers")
# An Exec line's leading prefixes (systemd.service(5)); "+" and "!"/"!!" run it with full privileges.
EXEC_PREFIXES = re.compile(r"^[@\-:+!]*")


def _exec_words(line):
    """The words of an Exec line as systemd splits them, raw (quotes and escapes kept); None when a quote is open.

    systemd (extract_first_word with unquoting): a quote opens anywhere in a word and must close; a
    backslash takes the next character with it, inside quotes too; spaces and tabs end a word.
    """
    words, word, quote, escaped = [], None, None, False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in " \t":
            if word is not None:
                words.append(word)
            word = None
            continue
        word = (word or "") + char
    if word is not None:
        words.append(word)
    return None if quote or escaped else words


def _exec_line_problem(line):
    """Why systemd could not read LINE as one command; None when it can."""
    words = _exec_words(line)
    if words is None:
        return "a quote is not closed (systemd would ignore the whole line)"
    if not words:
        return "no command"
    if ";" in words[1:]:
        # An unquoted ';' word starts a second command, which a Type=simple service refuses.
        return "a ';' word starts a second command; write it as \\; or quote it to pass it on"
    return None


def _privileged_exec(line):
    prefixes = EXEC_PREFIXES.match(line.lstrip()).group(0) if isinstance(line, str) else ""
    return "+" in prefixes or "!" in prefixes


def _privilege_problems(index, service):
    """Under strict and standard, nothing of the service runs as root: its user, its Exec lines, its overrides."""
    profile = service.get("hardening", "standard")
    # A packaged unit runs as its package says (nginx's master is root); only a drop-in is written.
    if profile not in UNPRIVILEGED_PROFILES or service.get("packaged"):
        return []
    found = []
    why = "the %s profile never runs a service or any of its steps as root" % profile
    for field in ("user", "group"):
        if service.get(field) in ("root", "0"):
            found.append("%s: %s; run it as the application account, or choose hardening: minimal"
                         % (_where(index, service, field), why))  # fmt: skip
    if _privileged_exec(service.get("exec")):
        found.append("%s: a '+' or '!' prefix runs it with full privileges; %s" % (_where(index, service, "exec"), why))
    overrides = service.get("unit_overrides") if isinstance(service.get("unit_overrides"), dict) else {}
    for key in sorted(overrides, key=str):
        values = overrides[key] if isinstance(overrides[key], list) else [overrides[key]]
        if key in IDENTITY_DIRECTIVES:
            found.append(
                "%s: %s sets who the service runs as; use the service's user and group fields (%s)"
                % (_where(index, service, "unit_overrides.%s" % key), key, why)
            )
        elif isinstance(key, str) and key.startswith("Exec") and any(_privileged_exec(str(v)) for v in values):
            found.append(
                "%s: a '+' or '!' prefix runs it with full privileges; %s"
                % (_where(index, service, "unit_overrides.%s" % key), why)
            )
    return found


def _stray_pattern_problems(index, service):
    patterns = service.get("stray_patterns", [])
    where = _where(index, service, "stray_patterns")
    if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
        return ["%s: must be a list of non-empty regular expressions" % where]
    for pattern in patterns:
        if CONTROL.search(pattern):
            # Each pattern is one word of the unit's pre-start line: a line break or control
            # character cannot be one (found by a generated pattern, refused only at render).
            return ["%s: %r holds a line break or control character; write it as \\n or \\x.. in the "
                    "expression" % (where, pattern)]  # fmt: skip
        try:
            compiled = re.compile(pattern)
        except re.error as exc:
            return ["%s: %r is not a valid regular expression (%s)" % (where, pattern, exc)]
        # The unit's pre-start step would refuse it at every start: say so now.
        if compiled.search("") is not None:
            return ["%s: %r matches every process; name the program, e.g. '(^|/)next-server( |$)'" % (where, pattern)]
    return []


def _health_problems(index, service):
    health = service.get("health")
    if health is None:
        return []
    if not isinstance(health, dict):
        return ["%s: a mapping with url (and timeout)" % _where(index, service, "health")]
    url = health.get("url")
    if url is not None and not (isinstance(url, str) and HEALTH_URL.fullmatch(url)):
        return [
            "%s: %r is not an http(s) URL without spaces or control characters"
            % (_where(index, service, "health.url"), url)
        ]
    return []


def unit_name(name):
    """A unit's full name: as given when it ends with a unit type (backup.timer), else a service (name.service).

    The one rule for names in the model (after:, the units' own names); templates use it through the filter.
    """
    return name if name.endswith(UNIT_SUFFIXES) else name + ".service"


def instance_unit(name, port=None):
    """The unit of one instance: C(name@port.service) for a port of a gapless pair, else C(name.service).

    The one naming rule; the filters and the health check program on the hosts both use it.
    """
    return "%s@%d.service" % (name, port) if port is not None else name + ".service"


def after_units(names, services, wanted=False):
    """The units NAMES (a service's after:) stand for: a gapless stack service's two instances, else unit_name.

    A gapless service runs as C(name@port.service) instances only; C(name.service) does not exist, and
    ordering after it orders after nothing. For Wants= (WANTED) a gapless service is left out: wanting
    both instances would start the idle one too, and the deploy starts the one that serves.
    """
    gapless = {s.get("name"): s for s in services or [] if isinstance(s, dict) and s.get("gapless_port") is not None}
    units = []
    for name in names or []:
        if name not in gapless:
            units.append(unit_name(name))
        elif not wanted:
            units.extend(instance_unit(name, port) for port in instance_ports(gapless[name]))
    return units


def instance_ports(service):
    """The ports a service's instances listen on: its blue/green pair, or its one port."""
    ports = [service.get("port"), service.get("gapless_port")]
    return [p for p in ports if p is not None]


def with_port(url, from_port, to_port):
    """A health URL of one instance turned into the other's: the port changes only if it was C(from_port).

    Standard library only: the health check program imports this on the hosts.
    """
    parts = urlsplit(url)
    if parts.port != from_port or from_port == to_port:
        return url
    return urlunsplit(parts._replace(netloc="%s:%d" % (parts.hostname, to_port)))


def order_problems(services):
    """Services listed before a stack service they start after: the list is the start order."""
    names = [s["name"] for s in services]
    found = []
    for index, service in enumerate(services):
        after = service.get("after") or []
        for dependency in after if isinstance(after, list) else []:
            if not isinstance(dependency, str):
                continue
            name = dependency[: -len(".service")] if dependency.endswith(".service") else dependency
            if name in names and names.index(name) > index:
                found.append("%s starts after %s but is listed before it" % (service["name"], name))
    return found
