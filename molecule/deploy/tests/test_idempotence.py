"""On the deployed hosts, deploy.yml in check mode and a second deploy of the same version change nothing.

Molecule's own idempotence and after-converge check steps would run
provision.yml and deploy.yml again; this scenario checks them apart instead,
each where it is cheapest: this file for deploy.yml, and test_drift.py for
the provision roles (drift.yml runs them in check mode first, and its last
run must report changed=0 on both hosts). The scenario's `check` step runs
before converge, on the bare hosts.
"""

import os

import pytest
import testinfra
from helpers import FIRST, SECOND, UNITS, deploy, main_pids, recap_changed, serving_release


@pytest.fixture(scope="module")
def hosts():
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    return {
        name: testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, inventory)) for name in (FIRST, SECOND)
    }


def test_deploy_in_check_mode_on_deployed_hosts_predicts_and_changes_nothing(hosts):
    serving = {name: serving_release(host) for name, host in hosts.items()}
    pids = {name: main_pids(host, UNITS) for name, host in hosts.items()}
    code, output = deploy("%s,%s" % (FIRST, SECOND), "--check")
    assert code == 0, output[-3000:]
    assert {name: recap_changed(output, name) for name in hosts} == {FIRST: 0, SECOND: 0}, output[-3000:]
    assert {name: serving_release(host) for name, host in hosts.items()} == serving
    assert {name: main_pids(host, UNITS) for name, host in hosts.items()} == pids


def test_a_second_deploy_of_the_same_version_changes_nothing(hosts):
    serving = {name: serving_release(host) for name, host in hosts.items()}
    code, output = deploy("%s,%s" % (FIRST, SECOND))
    assert code == 0, output[-3000:]
    assert {name: recap_changed(output, name) for name in hosts} == {FIRST: 0, SECOND: 0}, output[-3000:]
    assert {name: serving_release(host) for name, host in hosts.items()} == serving
