"""Each playbook's run on one lab host, in seconds and in "ping units", with its task counts.

A ping unit is the time of one `ansible.builtin.ping` task with playbook
start-up shared the same way (a playbook of PINGS pings, divided by PINGS),
measured at the start and the end of this same run: the figures then compare
across machines and loads that make every task slower alike. In one run, on
one bare host made like the lab's (bench-runs-1, bench/fleet.py's container
settings and network):

  cold      provision.yml, then deploy.yml, on the bare host
  no-op     drift.yml --check, drift.yml, deploy.yml, provision.yml, right after
  new       deploy.yml of a new commit (the app's own build, migration and
            health wait are in it; the deploy's summary prints them apart)

`--tree PATH` measures another checkout of the collection (a `git worktree` of
an older commit, say) with this script, so a before and an after come from the
same host and minutes. Not a test: nothing passes or fails on time.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import NETWORK, remove_hosts, run, start_hosts

HOST = "bench-runs-1"
PINGS = 20
RUNS = (
    ("cold provision", "provision", ()),
    ("cold deploy", "deploy", ()),
    ("no-op drift --check", "drift", ("--check",)),
    ("no-op drift", "drift", ()),
    ("no-op deploy", "deploy", ()),
    ("no-op provision", "provision", ()),
    ("deploy of a new commit", "deploy", ()),
)


def inventory(workdir, tree):
    directory = Path(workdir) / "inventory"
    directory.mkdir(exist_ok=True)
    (directory / "hosts.yml").write_text(
        "staging:\n  hosts:\n    %s:\n  vars:\n    ansible_connection: community.docker.docker\n"
        "    ansible_python_interpreter: /usr/bin/python3\n" % HOST
    )
    (directory / "group_vars").symlink_to(Path(tree) / "inventories/demo/group_vars")
    return str(directory)


def collections(workdir, tree):
    """A collections path where steadyops.stack is TREE."""
    path = Path(workdir) / "collections"
    (path / "ansible_collections" / "steadyops").mkdir(parents=True)
    (path / "ansible_collections" / "steadyops" / "stack").symlink_to(Path(tree).resolve())
    return str(path)


def playbook(tree, env, inventory_dir, name, *extra):
    """(seconds, the host's recap) of TREE's NAME.yml; a failure (drift's on drift aside) ends the bench."""
    started = time.monotonic()
    result = subprocess_run(tree, env, "ansible-playbook", "-i", inventory_dir, name, *extra)
    seconds = time.monotonic() - started
    recap = {}
    for line in result.stdout.splitlines():
        if line.startswith(HOST + " ") and "ok=" in line:
            recap = {key: int(value) for key, value in (pair.split("=") for pair in line.split(":", 1)[1].split())}
    if result.returncode != 0 and not name.startswith("drift"):
        sys.exit("bench/runs.py: %s failed:\n%s" % (name, (result.stdout + result.stderr)[-3000:]))
    return seconds, recap


def subprocess_run(tree, env, *command):
    """COMMAND run in TREE (its ansible.cfg and playbooks), whatever its exit status."""
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)


def ping_unit(tree, env, inventory_dir, workdir):
    """Seconds of one ping task: a playbook of PINGS pings on the host, divided by PINGS."""
    pings = Path(workdir) / "pings.yml"
    task = "    - name: Ping\n      ansible.builtin.ping:\n"
    pings.write_text("- name: Pings\n  hosts: all\n  gather_facts: false\n  tasks:\n" + task * PINGS)
    return playbook(tree, env, inventory_dir, str(pings))[0] / PINGS


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]), help="the checkout to measure")
    parser.add_argument("--keep", action="store_true", help="leave the host up")
    args = parser.parse_args()
    tree = str(Path(args.tree).resolve())
    workdir = tempfile.mkdtemp(prefix="steadyops-runs-")
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PY_COLORS="0")
    env["ANSIBLE_COLLECTIONS_PATH"] = collections(workdir, tree)
    env["STEADYOPS_DEMO_REPO"] = repo = os.path.join(workdir, "tms-app")
    env["STEADYOPS_REPORT_DIR"] = os.path.join(workdir, "reports")
    run("bash", "scripts/lab/docker-engine.sh", env=env)
    run("bash", "scripts/lab/base-image.sh", env=env)
    if run("docker", "network", "inspect", NETWORK, check=False).returncode != 0:
        run("docker", "network", "create", NETWORK)
    run("bash", "scripts/demo_repo.sh", repo, "examples/tms", env=env)
    inventory_dir = inventory(workdir, tree)
    figures = []
    try:
        start_hosts([HOST])
        unit_before = ping_unit(tree, env, inventory_dir, workdir)
        for label, name, extra in RUNS:
            if label == "deploy of a new commit":
                (Path(repo) / "BENCH_VERSION").write_text("%s\n" % time.time())
                run("git", "-C", repo, "add", "-A")
                run("git", "-C", repo, "commit", "-q", "-m", "bench: a new version")
            print("%s ..." % label, flush=True)
            figures.append((label, *playbook(tree, env, inventory_dir, "%s.yml" % name, *extra)))
        unit = (unit_before + ping_unit(tree, env, inventory_dir, workdir)) / 2
    finally:
        if not args.keep:
            remove_hosts([HOST])
    print("\n%s, one host (%s), linear strategy" % (tree, HOST))
    print("ping unit: %.3f s per task (%d pings, before and after the runs)\n" % (unit, PINGS))
    print("%-26s %9s %12s %6s %8s %8s" % ("run", "seconds", "ping units", "ok", "changed", "skipped"))
    for label, seconds, recap in figures:
        print(
            "%-26s %9.1f %12.0f %6d %8d %8d"
            % (label, seconds, seconds / unit, recap.get("ok", 0), recap.get("changed", 0), recap.get("skipped", 0))
        )


if __name__ == "__main__":
    main()
