# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The service model's defaults for the roles that read `stack_services`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.steadyops.stack.plugins.module_utils import _service_model


def service_defaults(services):
    """Every entry of the model with the defaults it leaves out filled in."""
    return _service_model.with_defaults(services or [])


def service_order_problems(services):
    """Sentences naming services listed before a stack service they start after."""
    return _service_model.order_problems(services or [])


def service_model_problems(services):
    """Sentences naming each entry and field of the service model that is not usable; [] when it is."""
    return _service_model.model_problems(services)


def service_instances(services):
    """One entry per unit instance that runs: name, unit, port, gapless, and the service itself.

    A gapless service has two (C(name@port.service), C(name@gapless_port.service)), any other one.
    """
    instances = []
    for service in _service_model.with_defaults(services or []):
        gapless = service.get("gapless_port") is not None
        ports = _service_model.instance_ports(service) if gapless else [service.get("port")]
        for port in ports:
            health = dict(service.get("health") or {})
            if gapless and health.get("url"):
                health["url"] = _service_model.with_port(health["url"], service["port"], port)
            instances.append(
                {
                    "name": service["name"],
                    "unit": _service_model.instance_unit(service["name"], port if gapless else None),
                    "port": port,
                    "gapless": gapless,
                    "health": health,
                    "stray_patterns": list(service.get("stray_patterns") or []),
                }
            )
    return instances


def stray_spec(service, users=None):
    """A kill_zombies C(strays) entry for a service of the model or one of its instances."""
    return {
        "unit": service.get("unit") or service["name"] + ".service",
        "patterns": list(service.get("stray_patterns") or []),
        "users": list(users or []) if not isinstance(users, str) else [users],
    }


def running_instances(instances, enabled_units):
    """The instances that should run: all of a plain service; of a gapless one, the enabled instance.

    When neither instance of a gapless service is enabled (a first start), its first port's runs.
    """
    chosen, decided = [], set()
    for instance in instances:
        if not instance["gapless"]:
            chosen.append(instance)
            continue
        if instance["name"] in decided:
            continue
        pair = [i for i in instances if i["name"] == instance["name"]]
        enabled = [i for i in pair if i["unit"] in (enabled_units or [])]
        chosen.append((enabled or pair)[0])
        decided.add(instance["name"])
    return chosen


def cutover_plan(instances, enabled_units, restart_names, gapless=True):
    """What a deploy does per service, in start order.

    A gapless service that must restart moves from its serving instance (C(serving)) to the other
    one (C(start)); any other service restarts in place, or is only started when nothing changed.
    With C(gapless=False) every service restarts in place (the baseline the gapless test compares with).
    """
    plan = []
    for serving in running_instances(instances, enabled_units):
        step = {
            "name": serving["name"],
            "gapless": serving["gapless"],
            "restart": serving["name"] in (restart_names or []),
            "serving": serving,
            "start": serving,
        }
        if step["gapless"] and step["restart"] and gapless:
            step["start"] = next(i for i in instances if i["name"] == serving["name"] and i["unit"] != serving["unit"])
        plan.append(step)
    return plan


def with_port(url, from_port, to_port):
    """A health URL of one instance turned into the other's: the port changes only if it was C(from_port)."""
    return _service_model.with_port(url, from_port, to_port)


def after_units(names, services, wanted=False):
    """The units a service's after: names: a gapless stack service as its two instances (none for Wants=)."""
    return _service_model.after_units(names, services, wanted)


def unit_name(name):
    """A unit's full name: as given with a unit type (backup.timer), else the service (name.service)."""
    return _service_model.unit_name(name)


class FilterModule(object):
    def filters(self):
        return {
            "service_defaults": service_defaults,
            "service_order_problems": service_order_problems,
            "service_model_problems": service_model_problems,
            "service_instances": service_instances,
            "running_instances": running_instances,
            "cutover_plan": cutover_plan,
            "stray_spec": stray_spec,
            "unit_name": unit_name,
            "after_units": after_units,
            "with_port": with_port,
        }
