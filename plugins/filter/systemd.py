# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Quoting for what systemd parses: one argument of an Exec*= command line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError


def systemd_quote(value):
    """One word of an Exec*= line that reaches the program exactly as given.

    systemd unquotes C-style escapes in a quoted word, expands %-specifiers and
    $VARIABLES everywhere: each is escaped here. A control character (a newline)
    would end the directive and start another, so it is refused.
    """
    text = "%s" % (value,)
    bad = [c for c in text if ord(c) < 32 or ord(c) == 127]
    if bad:
        raise AnsibleFilterError(
            "%r holds a control character (%r): it cannot be one argument of a systemd command line" % (text, bad[0])
        )
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return '"%s"' % escaped


class FilterModule(object):
    def filters(self):
        return {"systemd_quote": systemd_quote}
