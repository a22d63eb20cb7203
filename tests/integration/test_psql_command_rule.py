"""The audit query's rule against psql itself: every --command psql runs as its own meta-command is refused.

Generated texts (blanks, comments and SQL before a meta-command, or a query
alone) go to the real psql, connected to a real server. A meta-command that
runs prints a marker its own text does not hold (`\\echo 'ME' 'TA'` prints
`ME TA`, a shell's `$((1000+337))` is 1337): a server's error, which quotes the
text back, cannot print it. Whatever ran as a meta-command must be refused by
the rule (psql_command_problems), and a plain query must pass.
"""

import itertools
import subprocess

from ansible_collections.steadyops.stack.plugins.module_utils._pg_names import psql_command_problems
from support.postgres import PG_BIN

PREFIXES = ["", " ", "\t", "\n", "  \n ", "SELECT 1; ", "/* note */ ", "-- note\n"]
BODIES = ["\\echo 'ME' 'TA'", "\\! echo $((1000+337))", "\\qecho 'ME' 'TA'", "SELECT 'SER' || 'VER'", "SELECT 1 \\g"]
MARKERS = ("ME TA", "1337")


def psql_runs(server, text):
    """What psql printed for --command=TEXT: stdout and stderr together."""
    command = [str(PG_BIN / "psql"), "--no-psqlrc", "-At", "-h", str(server.socket_dir), "-p", str(server.port)]
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", *command, "-U", "postgres", "-d", "postgres", "--command=" + text],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.stdout + result.stderr


def test_every_text_psql_runs_as_its_own_command_is_refused(postgres_server):
    cases = ["%s%s" % pair for pair in itertools.product(PREFIXES, BODIES)]
    meta = [text for text in cases if any(marker in psql_runs(postgres_server, text) for marker in MARKERS)]
    # The generator reaches psql's own commands: without this the check below would hold vacuously.
    assert meta, "no generated text ran a psql command"
    for text in meta:
        assert psql_command_problems({"query": text}), "psql ran %r as its own command, and the rule let it pass" % text


def test_a_query_psql_sends_to_the_server_passes():
    for text in ["SELECT email FROM app_users ORDER BY id", "SELECT 'a\\b'", "SELECT 1; SELECT 2"]:
        assert psql_command_problems({"query": text}) == [], text


def test_each_refusal_names_the_variable_and_why():
    assert psql_command_problems({"maintenance_email_audit_query": " \\! id", "other": "a\0b", "third": 5}) == [
        "maintenance_email_audit_query starts with a backslash, which psql would run as a command of its own:"
        " give a SQL query",
        "other holds a NUL character, which no command line can carry",
        "third is not text: give a SQL query",
    ]
