"""free_port.py, the units' pre-start helper, installed as the role installs it and run on real processes."""

import subprocess
from pathlib import Path

import pytest
from support import host_helpers
from support.procs import alive, spawn_listener, stop

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def helper(tmp_path_factory):
    """The helpers installed from the role's own list, into a bare directory as on a host."""
    return host_helpers.install(tmp_path_factory.mktemp("steadyops-helper")) / "free_port.py"


def run(helper, *args):
    return subprocess.run(["/usr/bin/python3", str(helper), *args], capture_output=True, text=True, check=False)


def test_the_host_python_has_no_ansible():
    # What makes the other tests meaningful: the helper runs as on a host, on the
    # system Python, with only its neighbour files and the standard library.
    assert (
        subprocess.run(["/usr/bin/python3", "-c", "import ansible"], capture_output=True, check=False).returncode == 1
    )


def test_stray_is_stopped_and_the_port_freed(helper):
    proc, port = spawn_listener(argv0="next-server")
    try:
        result = run(
            helper, "--unit", "tms-frontend", "--port", str(port), "--pattern", "/next-server ", "--grace", "2"
        )
        assert result.returncode == 0, result.stderr
        assert "stray pid %d of tms-frontend.service: exited after SIGTERM" % proc.pid in result.stdout
        assert proc.wait(timeout=5) == -15
    finally:
        stop(proc)


def test_free_port_is_quiet(helper):
    proc, port = spawn_listener()
    stop(proc)
    result = run(helper, "--unit", "tms-frontend", "--port", str(port), "--pattern", "x")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_other_holder_is_refused_and_survives(helper):
    proc, port = spawn_listener(argv0="postgres")
    try:
        result = run(helper, "--unit", "tms-frontend", "--port", str(port), "--pattern", "/next-server ")
        assert result.returncode == 1
        assert "refusing to free %d for tms-frontend.service; nothing was signalled" % port in result.stderr
        assert "--pattern: ['postgres']" in result.stderr
        assert alive(proc.pid)
    finally:
        stop(proc)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--port", "3000", "--grace", "nan"), "free_port: grace is nan: it is a number of seconds from 0 to 86400"),
        (("--port", "3000", "--timeout", "inf"), "free_port: timeout is inf"),
        (("--port", "70000"), "free_port: invalid port(s) [70000]"),
    ],
)
def test_bad_input_is_refused_before_anything_is_read(helper, args, message):
    result = run(helper, "--unit", "tms-frontend", "--pattern", "x", *args)
    assert result.returncode == 1
    assert message in result.stderr
