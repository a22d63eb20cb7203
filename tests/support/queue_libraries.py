"""Real queue libraries for the queue_purge tests, installed from their registries at test time.

Each gets a virtualenv of its own under .cache/queue-libraries (kept between
runs; pip upgrades it to the registry's current release every time), so the
suite's own environment never sees them.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from support.playbook import run_local
from support.procs import stop

ROOT = Path(__file__).resolve().parents[2]
LIBRARIES = ROOT / ".cache" / "queue-libraries"
# The apps' own directory, on their PYTHONPATH: tests/support's modules (queue.py) would shadow the stdlib's.
APPS = Path(__file__).resolve().parent / "queue_apps"


def python_with(name, *requirements):
    """The python of a virtualenv holding REQUIREMENTS at the registry's current release."""
    venv = LIBRARIES / name
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade"]
    completed = subprocess.run(
        [*install, "--disable-pip-version-check", *requirements], capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise AssertionError("pip could not install %s from PyPI:\n%s" % (" ".join(requirements), completed.stderr))
    return str(venv / "bin" / "python")


def app_command(app, args, env):
    """What one command of a queue app (APP: its interpreter and file) printed last, as JSON."""
    completed = subprocess.run(
        [*app, *map(str, args)], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    if completed.returncode != 0:
        raise AssertionError("%s %s failed:\n%s" % (Path(app[-1]).name, " ".join(map(str, args)), completed.stderr))
    return json.loads(completed.stdout.splitlines()[-1])


class Procrastinate:
    """procrastinate on database DSN: its commands (tests/support/queue_apps/procrastinate_app.py) and its workers."""

    def __init__(self, python, dsn):
        self.python = python
        self.env = dict(os.environ, PROCRASTINATE_DSN=dsn, PYTHONPATH=str(APPS))
        self.workers = []

    def call(self, *args):
        return app_command([self.python, str(APPS / "procrastinate_app.py")], args, self.env)

    def worker(self, queue, concurrency=1, slow_seconds=3600, burst=False):
        """The library's own worker on QUEUE, in a process group of its own (so a kill reaches only it)."""
        command = [self.python, "-m", "procrastinate", "--app", "procrastinate_app.app", "worker"]
        command += ["--queues", queue, "--concurrency", str(concurrency)]
        if burst:
            command += ["--one-shot"]
        env = dict(self.env, SLOW_SECONDS=str(slow_seconds))
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        self.workers.append(proc)
        return proc

    def burst(self, queue, concurrency=4):
        """A worker that runs every runnable job of QUEUE (slow ones at once) and exits."""
        proc = self.worker(queue, concurrency=concurrency, slow_seconds=0, burst=True)
        output = proc.communicate(timeout=120)[0]
        if proc.returncode != 0:
            raise AssertionError("the procrastinate worker failed:\n%s" % output)
        return output

    def stop_all(self):
        for proc in self.workers:
            stop(proc)


def node_with(name, *packages):
    """(node, directory): Node.js 22 and PACKAGES at the npm registry's current release, in a directory of their own.

    pg-boss 12 needs Node.js 22.12 or later; the machine's own node may be older, so
    Node.js itself comes from npm too (the node-linux-<arch> package: the binary, no install script).
    """
    home = LIBRARIES / name
    home.mkdir(parents=True, exist_ok=True)
    arch = {"x86_64": "x64", "aarch64": "arm64"}[os.uname().machine]
    runtime = "node-linux-%s" % arch
    npm = ["npm", "install", "--prefix", str(home), "--no-audit", "--no-fund", "--loglevel=error"]
    steps = [["%s@22" % runtime], ["%s@latest" % package for package in packages]]
    node_bin = home / "node_modules" / runtime / "bin"
    # npm resolves packages against the node that runs it: Node.js 22 for the second step.
    env = dict(os.environ, PATH="%s:%s" % (node_bin, os.environ["PATH"]))
    for wanted in steps:
        completed = subprocess.run([*npm, *wanted], capture_output=True, text=True, env=env, timeout=600, check=False)
        if completed.returncode != 0:
            raise AssertionError("npm could not install %s:\n%s" % (" ".join(wanted), completed.stderr))
    return str(node_bin / "node"), home


class PgBoss:
    """pg-boss on database DB of SERVER: its commands (tests/support/queue_apps/pgboss_app.mjs) and its workers."""

    def __init__(self, node, home, server, db):
        self.node = node
        # Node resolves the app's imports from where the file lies: beside the installed packages.
        self.app = home / "pgboss_app.mjs"
        shutil.copyfile(APPS / "pgboss_app.mjs", self.app)
        self.env = dict(
            os.environ, PGHOST=str(server.socket_dir), PGPORT=str(server.port), PGUSER="postgres", PGDATABASE=db
        )
        self.workers = []

    def call(self, *args):
        return app_command([self.node, str(self.app)], args, self.env)

    def worker(self, queue, batch=1, slow_seconds=3600):
        """The library's own worker on QUEUE, in a process group of its own (so a kill reaches only it)."""
        proc = subprocess.Popen(
            [self.node, str(self.app), "worker", queue, str(batch)],
            env=dict(self.env, SLOW_SECONDS=str(slow_seconds)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.workers.append(proc)
        return proc

    def stop_all(self):
        for proc in self.workers:
            stop(proc)


def purge(tmp_path, args, *flags):
    """queue_purge's result with ARGS, run by ansible-playbook on this machine (FLAGS: --check, say)."""
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Purge the queue", "steadyops.stack.queue_purge": args},
    ]}]  # fmt: skip
    path = tmp_path / "purge.yml"
    path.write_text(yaml.safe_dump(play))
    code, output = run_local(path, *flags, env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json"})
    assert code == 0, output
    # The JSON document, without the warnings that follow it on stderr (a strategy's deprecation, say).
    document = json.JSONDecoder().raw_decode(output[output.index("{") :])[0]
    return document["plays"][0]["tasks"][0]["hosts"]["localhost"]


def check_apply_reapply(tmp_path, args):
    """The apply's result, after checking that check, apply and re-apply say changed, changed, not changed
    and that check mode counted what the apply did."""
    check = purge(tmp_path, args, "--check")
    applied = purge(tmp_path, args)
    again = purge(tmp_path, args)
    assert (check["changed"], applied["changed"], again["changed"]) == (True, True, False), (check, applied, again)
    assert check["rescued"] == applied["rescued"]
    assert check["deleted"] == applied["deleted"]
    return applied
