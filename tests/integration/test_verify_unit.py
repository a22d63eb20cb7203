"""The unit gate's --unprivileged check, read through systemd's own parser (systemd-analyze security --offline).

What systemd would run as root is decided by systemd: the last User= line
wins, a unit without one runs as root, and a '+' or '!' prefix lifts a step's
user and sandbox. Only the collection's own port helper may carry '+'.
"""

import subprocess
import sys

import pytest
from support.host_helpers import install

PLAIN = "[Service]\nUser=tmsapp\nExecStart=/usr/bin/python3 -m http.server\n"


@pytest.fixture
def helpers(tmp_path):
    target = tmp_path / "helpers"
    target.mkdir()
    return install(target)


def gate(helpers, tmp_path, text):
    candidate = tmp_path / "candidate.service"
    candidate.write_text(text)
    command = [sys.executable, str(helpers / "verify_unit.py"), str(candidate), "app.service", "--unprivileged"]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[Service]\nUser=tmsapp\nUser=root\nExecStart=/usr/bin/python3 -m http.server\n", "it runs as root"),
        ("[Service]\nExecStart=/usr/bin/python3 -m http.server\n", "it runs as root"),
        (PLAIN + "ExecStartPre=+/bin/touch /marker\n", "ExecStartPre has a '+' or '!' prefix"),
        (PLAIN + "ExecStartPost=-!!/bin/touch /marker\n", "ExecStartPost has a '+' or '!' prefix"),
        (PLAIN.replace("ExecStart=", "ExecStart=!"), "ExecStart has a '+' or '!' prefix"),
    ],
)
def test_anything_that_runs_as_root_is_refused(helpers, tmp_path, text, why):
    result = gate(helpers, tmp_path, text)
    assert result.returncode != 0, result.stdout
    assert why in result.stderr, result.stderr


def test_an_unprivileged_unit_and_the_collections_own_port_helper_pass(helpers, tmp_path):
    helper_line = "ExecStartPre=+/usr/bin/python3 %s/free_port.py --unit app.service --port 3000\n" % helpers
    result = gate(helpers, tmp_path, PLAIN + helper_line)
    assert result.returncode == 0, result.stderr
    impostor = gate(helpers, tmp_path, PLAIN + "ExecStartPre=+/usr/bin/python3 /tmp/free_port.py --port 1\n")
    assert impostor.returncode != 0, "only the installed helper itself"
