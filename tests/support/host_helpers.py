"""The host helpers installed as the host_helpers role installs them: from its own list, into a bare directory."""

import os
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLE = ROOT / "roles" / "host_helpers"


def files():
    """{name on the host: (source path, mode)} from the role's one list."""
    listed = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())["__host_helpers_files"]
    return {Path(entry["src"]).name: (ROOT / entry["src"], int(entry["mode"], 8)) for entry in listed}


def install(target):
    """The role's files copied into TARGET with their modes, as on a host; TARGET."""
    for name, (source, mode) in files().items():
        shutil.copy(source, target / name)
        os.chmod(target / name, mode)
    return target
