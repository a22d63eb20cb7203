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

MODEL_YAML = r"""
name:
  description: The systemd unit name without C(.service); also names the env file.
  type: str
  required: true
exec:
  description: The command line systemd runs (C(ExecStart)). Required unless O(packaged).
  type: str
packaged:
  description: The unit belongs to a package (nginx, postgresql); only a drop-in is written.
  type: bool
  default: false
description:
  description: The unit's description.
  type: str
port:
  description: The TCP port the service listens on; freed of strays before start.
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
  description: Extra C([Service]) directives, or overrides of the profile's, for this service only.
  type: dict
  default: {}
"""


def model():
    # Imported here: only the controller reads the model (filters, the sync
    # script), and module_utils must import on hosts without PyYAML.
    import yaml  # noqa: PLC0415

    return yaml.safe_load(MODEL_YAML)


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


def order_problems(services):
    """Services listed before a stack service they start after: the list is the start order."""
    names = [s["name"] for s in services]
    found = []
    for index, service in enumerate(services):
        for dependency in service.get("after") or []:
            name = dependency[: -len(".service")] if dependency.endswith(".service") else dependency
            if name in names and names.index(name) > index:
                found.append("%s starts after %s but is listed before it" % (service["name"], name))
    return found
