"""ansible-playbook on this machine (localhost, local connection) with the work tree's collection."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_local(playbook, *flags, env=None, unset=(), cwd=None):
    """(exit status, stdout + stderr) of ansible-playbook PLAYBOOK FLAGS on localhost.

    env adds to this process's environment and unset removes names from it.
    """
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_NOCOLOR="1")
    environment.update(env or {})
    for name in unset:
        environment.pop(name, None)
    interpreter = "ansible_python_interpreter=" + sys.executable
    command = ["ansible-playbook", "-i", "localhost,", "-c", "local", "-e", interpreter, str(playbook), *flags]
    completed = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=cwd, check=False)
    return completed.returncode, completed.stdout + completed.stderr
