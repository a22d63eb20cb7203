# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the env_file role; the rules live in module_utils/_env_rules.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.steadyops.stack.plugins.module_utils import _env_rules


def env_problems(service, secrets, placeholder_patterns, example_text=""):
    return _env_rules.problems(service, secrets or {}, placeholder_patterns or [], example_text or "")


def env_quote(value):
    return _env_rules.quote(value)


def env_changed_keys(old_text, new_text):
    return _env_rules.changed_keys(old_text, new_text)


class FilterModule(object):
    def filters(self):
        return {
            "env_problems": env_problems,
            "env_quote": env_quote,
            "env_changed_keys": env_changed_keys,
        }
