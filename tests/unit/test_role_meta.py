"""The oldest ansible-core is stated once: every role's meta says what meta/runtime.yml requires."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(path.parents[1].name for path in ROOT.glob("roles/*/meta/main.yml"))


def oldest_core():
    required = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    return re.fullmatch(r">=(\d+\.\d+)\.\d+", required).group(1)


@pytest.mark.parametrize("role", ROLES)
def test_a_roles_oldest_core_is_the_collections(role):
    meta = yaml.safe_load((ROOT / "roles" / role / "meta" / "main.yml").read_text())
    assert meta["galaxy_info"]["min_ansible_version"] == oldest_core()
