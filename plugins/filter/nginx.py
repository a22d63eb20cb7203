# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""nginx's own includes against the directories the roles write into, checked at preflight."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.steadyops.stack.plugins.module_utils import _nginx_includes


def nginx_upstream_dir_problems(directory, names, nginx_config="", variable="the upstream directory"):
    """Sentences when nginx's includes reach the upstream DIRECTORY or its NAMES.conf files; [] otherwise."""
    return _nginx_includes.upstream_dir_problems(variable, directory, list(names or []), nginx_config or "")


class FilterModule(object):
    def filters(self):
        return {"nginx_upstream_dir_problems": nginx_upstream_dir_problems}
