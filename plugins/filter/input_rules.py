# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The roles' own inputs checked at preflight: nginx routes, paths, alert mail settings, account names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.steadyops.stack.plugins.module_utils import _input_rules


def nginx_route_problems(routes, services, server_name=None):
    """Sentences naming each nginx route (and the server_name) nginx must not be given."""
    return _input_rules.route_problems(routes, services, server_name)


def mail_problems(settings):
    """Sentences naming each alert mail setting (host, port, from, to) that would break a header or SMTP."""
    return _input_rules.mail_problems(settings or {})


def account_problems(accounts):
    """Sentences naming each account name (option -> value) that is not one plain word for units and sudoers."""
    return _input_rules.account_problems(accounts or {})


def path_problems(paths):
    """Sentences naming each path (a mapping of variable name to path) that must not be written."""
    return _input_rules.path_problems(paths or {})


class FilterModule(object):
    def filters(self):
        return {
            "nginx_route_problems": nginx_route_problems,
            "mail_problems": mail_problems,
            "account_problems": account_problems,
            "path_problems": path_problems,
        }
