"""Real processes for the tests: listeners, stubborn holders, zombies, and a module runner."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".cache" / "collections"
BIN = Path(__file__).resolve().parent / "bin"

LISTENER = str(BIN / "listener.py")

# A parent that never reaps on its own: SIGCHLD keeps its default action, so a
# dead child stays a zombie. With "reap-on-second" it reaps when a second
# SIGCHLD arrives, like a daemon whose first notification was lost.
NON_REAPING_PARENT = str(BIN / "non_reaping_parent.py")

# A stand-in for init inside the test: adopts orphans (PR_SET_CHILD_SUBREAPER)
# and reaps them, so a terminated parent's zombies disappear as on a real host.
SUBREAPER = str(BIN / "subreaper.py")


# The system Python: readable by every user, unlike a virtualenv under /root.
SYSTEM_PYTHON = "/usr/bin/python3"
_NAMED = tempfile.mkdtemp(prefix="steadyops-named-")
os.chmod(_NAMED, 0o755)  # noqa: S103 - processes of other users (nobody) run from here


def named_python(name):
    """A path called `name` that runs Python, so a test process looks like the program it stands in for.

    A symlink rather than `exec -a`: Python finds its standard library from the
    executable's real path, which a fake argv[0] would send astray.
    """
    link = os.path.join(_NAMED, name)
    if not os.path.islink(link):
        os.symlink(SYSTEM_PYTHON, link)
    return link


def _spawn(argv0, script, args, user=None):
    command = [named_python(argv0), script, *[str(a) for a in args]]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, user=user, start_new_session=True)


def spawn_listener(protocol="tcp", family=4, port=0, argv0="fake-holder", ignore_term=False, user=None, high_fd=None):
    """A process holding a real socket; returns (Popen, port)."""
    args = [protocol, family, port, int(ignore_term)] + ([high_fd] if high_fd else [])
    proc = _spawn(argv0, LISTENER, args, user=user)
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError("listener %s did not start (port %s busy?)" % (argv0, port))
    return proc, int(line)


def spawn_zombie_parent(mode="never-reap", argv0="legacy-supervisor"):
    """A parent under a subreaper with one zombie child; returns (subreaper Popen, parent pid, zombie pid)."""
    command = [SYSTEM_PYTHON, SUBREAPER, named_python(argv0), NON_REAPING_PARENT, mode]
    reaper = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    zombie = int(reaper.stdout.readline())
    parent = read_ppid(zombie)
    wait_for(lambda: state_of(zombie) == "Z", what="child %d to become a zombie" % zombie)
    return reaper, parent, zombie


def read_ppid(pid):
    text = Path("/proc/%d/stat" % pid).read_text()
    return int(text.rpartition(")")[2].split()[1])


def state_of(pid):
    try:
        return Path("/proc/%d/stat" % pid).read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return None


def alive(pid):
    return state_of(pid) not in (None, "Z")


def wait_for(condition, timeout=10.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


def stop(proc):
    """Kill a spawned process group and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def start_module(name, args, check=False, tmp_path=None):
    """Start a collection module as Ansible would: a separate Python process reading its args file."""
    payload = dict(args)
    if check:
        payload["_ansible_check_mode"] = True
    args_file = Path(tmp_path or "/tmp") / ("%s-args-%d.json" % (name, time.monotonic_ns()))
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    command = [sys.executable, "-m", "ansible_collections.steadyops.stack.plugins.modules." + name, str(args_file)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    proc.module_args_file = args_file
    return proc


def module_result(name, proc, timeout=120):
    """The result a module started with start_module() printed."""
    stdout, stderr = proc.communicate(timeout=timeout)
    proc.module_args_file.unlink()
    try:
        return json.loads(stdout)
    except ValueError:
        message = "module %s printed no JSON (rc %d):\n%s\n%s" % (name, proc.returncode, stdout, stderr)
        raise AssertionError(message) from None


def run_module(name, args, check=False, tmp_path=None):
    """Run a collection module as Ansible would, and return its result."""
    return module_result(name, start_module(name, args, check, tmp_path))


def warnings_of(result):
    """Warning texts of a module result; ansible-core 2.19 wraps each one in an event dict."""
    texts = []
    for warning in result.get("warnings", []):
        texts.append(warning.get("event", {}).get("msg", "") if isinstance(warning, dict) else warning)
    return texts
