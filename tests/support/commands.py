"""Commands the tests run as a user would: their output, or a failure that shows the command and what it said."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_ok(*command, env=None, cwd=None):
    """COMMAND's stdout; the test fails naming the command and its output when it exits non-zero."""
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, check=False)
    assert completed.returncode == 0, "%s\n%s%s" % (" ".join(map(str, command)), completed.stdout, completed.stderr)
    return completed.stdout


def build_collection(dist):
    """This checkout built with ansible-galaxy into DIST; the tarball."""
    run_ok("ansible-galaxy", "collection", "build", "--output-path", str(dist), str(ROOT))
    (built,) = Path(dist).glob("steadyops-stack-*.tar.gz")
    return built
