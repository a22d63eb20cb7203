"""The whole job on a fleet of lab hosts: cold, no-op drift, and 1, 5 and 10 hosts at once.

Hosts are systemd containers made the way .config/molecule makes the lab's
(named bench-fleet-N, on a network of their own, so nothing else on this
machine is touched), with the demo inventory's model. In one run:

  cold      provision.yml + deploy.yml on one bare host    (the baseline)
  no-op     drift.yml on that host right after             (should find and change nothing)
  fleet N   provision.yml + deploy.yml on N bare hosts at once, N = 1, 5, 10

Prints the times, no-op / cold and N hosts / one host, and the tasks a no-op
drift run executes per host. The deploy rolls one host at a time by default
(deploy_serial: 1, right for production); a fleet run here deploys all N at
once (deploy_serial=N), as a staging environment would. Not a test: nothing
passes or fails on time. `--keep` leaves the hosts up; `--sizes 1` measures
only the baseline and the no-op run.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "steadyops/systemd-debian12:latest"
NETWORK = "bench-fleet"
SIZES = (1, 5, 10)


def run(*command, env=None, check=True):
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        sys.exit("bench/fleet.py: %s failed:\n%s" % (" ".join(command), (result.stdout + result.stderr)[-3000:]))
    return result


def host_names(count, first=1):
    return ["bench-fleet-%d" % n for n in range(first, first + count)]


def start_hosts(names):
    """Bare lab hosts, booted; the container settings of .config/molecule/config.yml."""
    for name in names:
        run("docker", "rm", "-f", name, check=False)
        run(
            "docker", "run", "-d", "--name", name, "--hostname", name, "--network", NETWORK,
            "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE",
            "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
            "--cgroupns", "host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
            "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",  # noqa: S108 - the host's own /tmp
            IMAGE, "/lib/systemd/systemd",
        )  # fmt: skip
    for name in names:
        # `docker exec` can come before the container's init is up; ask again for a minute.
        for _attempt in range(60):
            answer = run("docker", "exec", name, "systemctl", "is-system-running", "--wait", check=False)
            if answer.stdout.strip() in ("running", "degraded"):
                break
            time.sleep(1)
        else:
            sys.exit("bench/fleet.py: %s did not boot: %s" % (name, (answer.stdout + answer.stderr).strip()))


def remove_hosts(names):
    for name in names:
        run("docker", "rm", "-f", name, check=False)


def inventory(workdir, names):
    """An inventory of NAMES in the staging group, with the demo inventory's group_vars."""
    directory = Path(workdir) / ("inventory-%d" % len(names))
    directory.mkdir(exist_ok=True)
    hosts = "".join("    %s:\n" % name for name in names)
    (directory / "hosts.yml").write_text(
        "staging:\n  hosts:\n%s  vars:\n    ansible_connection: community.docker.docker\n"
        "    ansible_python_interpreter: /usr/bin/python3\n" % hosts
    )
    link = directory / "group_vars"
    if not link.exists():
        link.symlink_to(ROOT / "inventories/demo/group_vars")
    return str(directory)


def timed_playbook(name, env, inventory_dir, *extra):
    """(seconds, {host: recap}) of ansible-playbook NAME.yml from the checkout."""
    started = time.monotonic()
    result = run("ansible-playbook", "-i", inventory_dir, "%s.yml" % name, *extra, env=env, check=False)
    seconds = time.monotonic() - started
    recaps = {
        match.group(1): {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(2))}
        for match in re.finditer(r"^(bench-fleet-\d+)\s+:\s+(.*)$", result.stdout, re.MULTILINE)
    }
    if name != "drift" and result.returncode != 0:
        sys.exit("bench/fleet.py: %s.yml failed:\n%s" % (name, (result.stdout + result.stderr)[-3000:]))
    return seconds, recaps


def cold(env, workdir, names):
    """provision.yml + deploy.yml on bare NAMES at once: seconds."""
    start_hosts(names)
    where = inventory(workdir, names)
    provision = timed_playbook("provision", env, where)[0]
    deploy = timed_playbook("deploy", env, where, "-e", "deploy_serial=%d" % len(names))[0]
    return provision + deploy, where


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the largest fleet's hosts up")
    parser.add_argument(
        "--sizes", default=",".join(map(str, SIZES)), help="fleet sizes, comma-separated; 1 must be first"
    )
    args = parser.parse_args()
    keep, sizes = args.keep, tuple(int(size) for size in args.sizes.split(","))
    if sizes[0] != 1:
        sys.exit("bench/fleet.py: --sizes must start with 1, the baseline")
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PY_COLORS="0")
    run("bash", "scripts/lab/docker-engine.sh", env=env)
    run("bash", "scripts/lab/base-image.sh", env=env)
    if run("docker", "network", "inspect", NETWORK, check=False).returncode != 0:
        run("docker", "network", "create", NETWORK)
    workdir = tempfile.mkdtemp(prefix="steadyops-fleet-")
    env["STEADYOPS_DEMO_REPO"] = repo = os.path.join(workdir, "tms-app")
    env["STEADYOPS_REPORT_DIR"] = os.path.join(workdir, "reports")
    run("bash", "scripts/demo_repo.sh", repo, "examples/tms", env=env)

    times = {}
    try:
        for size in sizes:
            print("fleet of %d: bare hosts, provision + deploy ..." % size, flush=True)
            times[size], where = cold(env, workdir, host_names(size))
            if size == 1:
                print("no-op drift run on the one host ...", flush=True)
                noop, recaps = timed_playbook("drift", env, where)
                noop_recap = recaps["bench-fleet-1"]
            if not keep or size != sizes[-1]:
                remove_hosts(host_names(size))
    finally:
        if not keep:
            remove_hosts(host_names(max(sizes)))
            run("docker", "network", "rm", NETWORK, check=False)

    one = times[1]
    print("\n%-44s %9s" % ("demo stack, bench-fleet-N lab hosts", "seconds"))
    print("%-44s %9.1f" % ("cold: provision + deploy, one host (baseline)", one))
    print("%-44s %9.1f" % ("no-op drift run, one host", noop))
    for size in sizes[1:]:
        print("%-44s %9.1f" % ("cold: provision + deploy, %d hosts at once" % size, times[size]))
    print("\nno-op drift / cold        %.2fx   (target <= 0.35x)" % (noop / one))
    for size in sizes[1:]:
        print(
            "%2d hosts / one host       %.2fx%s" % (size, times[size] / one, "   (target <= 3x)" if size == 10 else "")
        )
    print(
        "no-op drift run, per host: %d tasks ok, %d changed, %d skipped"
        % (noop_recap.get("ok", 0), noop_recap.get("changed", 0), noop_recap.get("skipped", 0))
    )


if __name__ == "__main__":
    main()
