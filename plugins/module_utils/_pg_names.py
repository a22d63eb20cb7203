# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which PostgreSQL database and role names the roles may pass on, found before anything changes.

The names reach pg_hba.conf, CREATE ROLE / CREATE DATABASE, and pg_dump's and
pg_restore's command lines. A name PostgreSQL or those programs would read as
something else is refused: an option (`--schema-only`), a connection string
(`host=...`: pg_dump takes any dbname with `=` as one), a pg_hba keyword
(`all` would grant every database), PostgreSQL's own superuser and reserved
roles, its template databases, a line break, or a name longer than PostgreSQL
keeps (it cuts names at 63 bytes without an error, so the role created and
the one pg_hba names would differ). Pure functions, used through the
collection's filters.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# NAMEDATALEN - 1: PostgreSQL truncates longer identifiers.
MAX_BYTES = 63
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
# Words pg_hba.conf reads as keywords in its database and user columns.
PG_HBA_KEYWORDS = {"all", "sameuser", "samerole", "samegroup", "replication"}
RESERVED = {
    "database": {
        "postgres": "the maintenance database every PostgreSQL tool connects to",
        "template0": "a template PostgreSQL copies new databases from",
        "template1": "a template PostgreSQL copies new databases from",
    },
    "role": {
        "postgres": "PostgreSQL's own superuser",
        "public": "a pseudo-role meaning every role",
        "none": "a word PostgreSQL reserves in role positions",
        "current_user": "a word PostgreSQL reserves in role positions",
        "current_role": "a word PostgreSQL reserves in role positions",
        "session_user": "a word PostgreSQL reserves in role positions",
    },
}
WHAT_TO_DO = {
    "database": "name a database of the application's own, such as its name (letters, digits, _ and -)",
    "role": "name a role of the application's own, such as its name (letters, digits, _ and -)",
}


def name_problem(variable, value, kind):
    """A sentence saying why VALUE cannot be a PostgreSQL KIND ('database' or 'role') name; None when it can."""
    shown = "%s %r" % (variable, value)
    why = _why(value, kind)
    return None if why is None else "%s: %s; %s" % (shown, why, WHAT_TO_DO[kind])


def _why(value, kind):
    if not isinstance(value, str):
        return "must be text, not %s" % type(value).__name__
    lowered = value.lower()
    # The first that holds says why; the order puts what a program would misread first.
    checks = [
        (value == "", "is empty"),
        (len(value.encode("utf-8")) > MAX_BYTES, "is longer than the %d bytes PostgreSQL keeps of a name" % MAX_BYTES),
        (value.startswith("-"), "would be read as an option by pg_dump and psql"),
        ("=" in value, "would be read as a connection string by pg_dump and psql"),
        (not NAME.match(value), "holds characters other than letters, digits, _ and - (or starts with a digit)"),
        (lowered in PG_HBA_KEYWORDS, "is a keyword of pg_hba.conf, where it means more than this one %s" % kind),
        (lowered in RESERVED[kind], "is %s" % RESERVED[kind].get(lowered, "")),
        (kind == "role" and lowered.startswith("pg_"), "starts with pg_, which PostgreSQL reserves for its own roles"),
    ]
    return next((why for holds, why in checks if holds), None)


def name_problems(names, kind):
    """Sentences for each entry of NAMES (a mapping of variable name to value) that is not a usable KIND name."""
    if kind not in WHAT_TO_DO:
        raise ValueError("kind must be 'database' or 'role', not %r" % (kind,))
    found = (name_problem(variable, value, kind) for variable, value in sorted(names.items()))
    return [sentence for sentence in found if sentence]


def psql_command_problems(commands):
    """Sentences for each entry of COMMANDS (variable name -> text) that psql's --command would not send as SQL.

    psql runs a --command that starts with a backslash as one of its own
    meta-commands (`\\!` runs a shell, `\\c` connects as another role); any other
    text goes to the server whole. A NUL cannot be in an argument at all.
    """
    found = []
    for variable, text in sorted(commands.items()):
        if not isinstance(text, str):
            found.append("%s is not text: give a SQL query" % variable)
        elif text.lstrip().startswith("\\"):
            found.append(
                "%s starts with a backslash, which psql would run as a command of its own: give a SQL query" % variable
            )
        elif "\0" in text:
            found.append("%s holds a NUL character, which no command line can carry" % variable)
    return found
