# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""PostgreSQL names the roles pass to commands, pg_hba.conf and SQL, checked at preflight."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.steadyops.stack.plugins.module_utils import _pg_names


def pg_name_problems(names, kind):
    """Sentences naming each variable whose value is not a usable PostgreSQL KIND name; [] when all are."""
    if not isinstance(names, dict):
        raise AnsibleFilterError("pg_name_problems takes a mapping of variable name to value, not %r" % (names,))
    try:
        return _pg_names.name_problems(names, kind)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from error


def psql_command_problems(commands):
    """Sentences naming each variable whose text psql's --command would not send to the server as SQL."""
    if not isinstance(commands, dict):
        raise AnsibleFilterError("psql_command_problems takes a mapping of variable name to text, not %r" % (commands,))
    return _pg_names.psql_command_problems(commands)


class FilterModule(object):
    def filters(self):
        return {"pg_name_problems": pg_name_problems, "psql_command_problems": psql_command_problems}
