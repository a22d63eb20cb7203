"""What is not refused arrives exactly as given: a running service's argv and environment, read from /proc.

exact_values.yml writes one service with the env_file and systemd_hardening
roles alone; its values hold what systemd (%-specifiers, quotes, backslashes),
a shell ($, backticks) or an env file (#, =, spaces) would otherwise read.
"""

import base64
import os
import subprocess
from pathlib import Path

import pytest
import yaml

PLAYBOOK = Path(__file__).resolve().parents[1] / "exact_values.yml"
SCENARIO_VARS = yaml.safe_load(PLAYBOOK.read_text())[0]["vars"]
SERVICE = SCENARIO_VARS["exact_service"]
SECRETS = SCENARIO_VARS["exact_secrets"]
HOST = os.environ.get("STEADYOPS_LAB_PREFIX", "") + "staging-1"
testinfra_hosts = ["ansible://" + HOST]


@pytest.fixture(scope="module")
def run(host):
    """exact_values.yml on one host: (exit status, output); the service is removed afterwards."""
    completed = subprocess.run(
        ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "-l", HOST, str(PLAYBOOK)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    yield completed.returncode, completed.stdout + completed.stderr
    unit = SERVICE["name"] + ".service"
    host.run("systemctl disable --now %s" % unit)
    host.run("rm -f /etc/systemd/system/%s* /opt/tms/shared/%s.env*; systemctl daemon-reload" % (unit, SERVICE["name"]))


def main_pid(host):
    return host.check_output("systemctl show -p MainPID --value %s.service" % SERVICE["name"])


def proc_strings(host, pid, name):
    """/proc/PID/NAME (NUL-separated) as a list, read as root; base64 keeps every byte."""
    encoded = host.check_output("base64 -w0 /proc/%s/%s" % (pid, name))
    return base64.b64decode(encoded).decode("utf-8").rstrip("\0").split("\0")


def test_the_run_passes_and_prints_no_secret(run):
    code, output = run
    assert code == 0, output[-3000:]
    assert SECRETS["EXACT_SECRET"] not in output


def test_the_command_line_arrives_word_for_word(host, run):
    assert run[0] == 0
    argv = proc_strings(host, main_pid(host), "cmdline")
    assert argv == ["/usr/bin/python3", "-c", "import time; time.sleep(3600)", "100%H", "two  words", 'say "hi"']


def test_every_environment_value_arrives_as_written(host, run):
    assert run[0] == 0
    environ = dict(line.split("=", 1) for line in proc_strings(host, main_pid(host), "environ"))
    expected = {**SERVICE["env"], **SECRETS}
    assert {key: environ.get(key) for key in expected} == expected


def test_the_description_keeps_its_percent_signs(host, run):
    assert run[0] == 0
    shown = host.check_output("systemctl show -p Description --value %s.service" % SERVICE["name"])
    assert shown == SERVICE["description"]
