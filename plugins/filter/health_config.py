# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The health check program's config, built and checked on the controller with the program's own rules."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.steadyops.stack.plugins.module_utils import _health_config


def _typed_health(health):
    """The probe's numbers as the argument spec reads them ("204" is 204); anything else is left for the checks."""
    typed = dict(health or {})
    for field, kind in (("status", int), ("timeout", float)):
        value = typed.get(field)
        if isinstance(value, str):
            try:
                number = kind(value)
            except ValueError:
                continue
            typed[field] = int(number) if float(number).is_integer() else number
    return typed


def health_config_services(services, default_user):
    """The program's entry for each service (completed by service_defaults): what it checks and may free."""
    entries = []
    for service in services or []:
        gapless = service.get("gapless_port")
        entries.append(
            {
                "name": service["name"],
                "port": service.get("port"),
                "health": _typed_health(service.get("health")),
                "stray_patterns": service.get("stray_patterns") or [],
                "stray_users": [service.get("user") or default_user],
                "gapless_ports": [service.get("port"), gapless] if gapless else [],
            }
        )
    return entries


def health_config_problems(config):
    """Sentences naming each setting the health check program would refuse; [] when it takes the config."""
    return _health_config.config_problems(config)


class FilterModule(object):
    def filters(self):
        return {"health_config_services": health_config_services, "health_config_problems": health_config_problems}
