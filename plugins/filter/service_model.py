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


class FilterModule(object):
    def filters(self):
        return {"service_defaults": service_defaults, "service_order_problems": service_order_problems}
