"""port_free and kill_zombies run inside a plain container: no systemd, the host's cgroup namespace.

There every process of the container has the cgroup /docker/<id> (cgroup v1, as
this machine has), the module's own included. A process in the module's own PID
namespace and cgroup is not "another container": its holder is freed and its
non-reaping parent handled like anywhere else. Signals go only to processes
inside the test's own container.
"""

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.containers import Container

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "steadyops/systemd-debian12:latest"
LISTENER = "import socket, time; s = socket.socket(); s.bind(('127.0.0.1', 3061)); s.listen(); time.sleep(600)"
NEVER_REAPS = "import os, time\nif os.fork() == 0:\n    os._exit(0)\ntime.sleep(600)"
# The container's PID 1: no systemd, but it reaps what it adopts, as tini or dumb-init do.
INIT = """
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.2)
"""


@pytest.fixture
def plain_container():
    container = Container.run(IMAGE, ["python3", "-c", INIT])
    try:
        yield container
    finally:
        container.remove()


def docker_exec(container, *command, detach=False):
    flags = ["-d"] if detach else []
    return subprocess.run(
        ["docker", "exec", *flags, container.name, *command], capture_output=True, text=True, check=False, timeout=60
    )


def run_module(container, module, args, check=False):
    """(exit status, result) of the module run by `ansible` in the container over the docker connection."""
    with tempfile.TemporaryDirectory() as tree:
        command = ["ansible", "all", "-i", container.name + ",", "-c", "community.docker.docker", "-m", module]
        command += ["-a", json.dumps(args), "--tree", tree, "-e", "ansible_python_interpreter=/usr/bin/python3"]
        command += ["--check"] if check else []
        env = {"ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections"), "ANSIBLE_NOCOLOR": "1"}
        completed = subprocess.run(command, capture_output=True, text=True, check=False, env=_env(env))
        result_file = Path(tree) / container.name
        assert result_file.exists(), completed.stdout + completed.stderr
        return completed.returncode, json.loads(result_file.read_text())


def _env(extra):
    return dict(os.environ, **extra)


def pids_of(container, pattern):
    out = docker_exec(container, "pgrep", "-f", pattern).stdout
    return sorted(int(p) for p in out.split())


def test_the_cgroup_is_the_containers_own(plain_container):
    assert docker_exec(plain_container, "cat", "/proc/self/cgroup").stdout.count("/docker/") > 0


def test_a_holder_in_the_modules_own_container_is_freed(plain_container):
    docker_exec(plain_container, "python3", "-c", LISTENER, detach=True)
    args = {"port": 3061, "allow_cmdline": ["socket.socket"], "grace": 1}
    for _attempt in range(50):
        if pids_of(plain_container, "socket.socket"):
            break
        time.sleep(0.1)
    rc, check = run_module(plain_container, "steadyops.stack.port_free", args, check=True)
    assert (rc, check["changed"]) == (0, True), check.get("msg")
    (holder,) = check["holders"]
    assert holder["owner"] == "no unit", "the module's own container is not 'a container'"

    rc, apply = run_module(plain_container, "steadyops.stack.port_free", args)
    assert (rc, apply["changed"]) == (0, True), apply.get("msg")
    assert pids_of(plain_container, "socket.socket") == []
    rc, again = run_module(plain_container, "steadyops.stack.port_free", args)
    assert (rc, again["changed"]) == (0, False)


def test_a_parent_that_never_reaps_in_the_modules_own_container_is_handled(plain_container):
    docker_exec(plain_container, "python3", "-c", NEVER_REAPS, detach=True)
    args = {"min_age": 0, "reap_wait": 1, "grace": 1, "reap_parents": ["os._exit"]}
    rc, result = run_module(plain_container, "steadyops.stack.kill_zombies", args)
    assert (rc, result["changed"]) == (0, True), result
    (zombie,) = result["zombies"]
    assert zombie["outcome"] == "reaped", result
    assert pids_of(plain_container, "os._exit") == [], "the parent matched reap_parents and was terminated"
