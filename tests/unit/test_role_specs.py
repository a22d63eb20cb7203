"""Each role documents the defaults it really has: an option of defaults/main.yml has that default in its spec."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(path.parents[1] for path in ROOT.glob("roles/*/defaults/main.yml"))


@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_spec_defaults_are_the_defaults_file(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    wrong = []
    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            if name not in defaults:
                continue
            if option.get("required"):
                wrong.append("%s: %s is required although defaults/main.yml sets it" % (entry, name))
            elif option.get("default") != defaults[name]:
                wrong.append(
                    "%s: %s documents %r, defaults/main.yml has %r"
                    % (entry, name, option.get("default"), defaults[name])
                )
    assert wrong == []


@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_every_default_is_documented(role):
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    documented = {name for spec in specs.values() for name in (spec.get("options") or {})}
    assert sorted(set(defaults) - documented) == []
