"""A second deploy of the same version changes nothing, on either host.

Molecule's own idempotence step would run provision.yml and deploy.yml again;
this scenario checks the two apart instead, each where it is cheapest: this
file for deploy.yml, and test_drift.py for the provision roles (drift.yml runs
them, in check mode first, and its last run must report changed=0 on both
hosts).
"""

import os

import testinfra
from helpers import FIRST, SECOND, deploy, recap_changed, serving_release


def test_a_second_deploy_of_the_same_version_changes_nothing():
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    hosts = {
        name: testinfra.get_host("ansible://%s?ansible_inventory=%s" % (name, inventory)) for name in (FIRST, SECOND)
    }
    serving = {name: serving_release(host) for name, host in hosts.items()}
    code, output = deploy("%s,%s" % (FIRST, SECOND))
    assert code == 0, output[-3000:]
    assert {name: recap_changed(output, name) for name in hosts} == {FIRST: 0, SECOND: 0}, output[-3000:]
    assert {name: serving_release(host) for name, host in hosts.items()} == serving
