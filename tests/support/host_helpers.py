"""The host helpers installed as the host_helpers role installs them: from its own lists, into a bare directory."""

import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "host_helpers"


def install(target):
    """The role's module_utils and programs copied into TARGET, as on a host; TARGET."""
    lists = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    for name in lists["__host_helpers_module_utils"]:
        shutil.copy(ROOT / "plugins" / "module_utils" / name, target / name)
    for name in lists["__host_helpers_programs"]:
        shutil.copy(ROLE / "files" / name, target / name)
    return target
