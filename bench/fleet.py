"""The main job on a fleet of lab hosts: cold, a no-op drift run, and a deploy to 1, 5 and 10 hosts.

Hosts are systemd containers made the way .config/molecule makes the lab's
(named bench-fleet-N, on a network of their own, so nothing else on this
machine is touched), with the demo inventory's model. In one run:

  cold      provision.yml + deploy.yml on one bare host     (the baseline)
  no-op     drift.yml on that host right after              (finds and changes nothing)
  deploy N  deploy.yml of a new commit to N deployed hosts at once, N = 1, 5, 10
            (the hosts beyond the first are provisioned and deployed first, unmeasured)

Then the deploys to 1 and 10 hosts again under Mitogen's strategy
(bench/strategy_plugins: one Python per host for the whole run instead of one
per task), which is not the default (docs/DESIGN.md, "Speed"). Prints the
times, no-op / cold, deploy N / deploy 1, Mitogen / default, and the tasks a
no-op drift run executes per host. The deploy rolls one host at a time by default
(deploy_serial: 1, right for production); here every host deploys at once
(deploy_serial=N), as a staging environment would. Not a test: nothing
passes or fails on time. `--keep` leaves the hosts up.
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
MITOGEN_SIZES = (1, 10)
MITOGEN = "mitogen_linear_unpinned"


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
    # `docker` is community.docker.docker under the short name Mitogen recognises (the comparison runs).
    (directory / "hosts.yml").write_text(
        "staging:\n  hosts:\n%s  vars:\n    ansible_connection: docker\n"
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


def new_commit(repo, label):
    """A new version of the demo: one changed file, committed."""
    (Path(repo) / "BENCH_VERSION").write_text(label + "\n")
    run("git", "-C", repo, "add", "-A")
    run("git", "-C", repo, "commit", "-q", "-m", "bench: %s" % label)


def deploy_new_commit(env, repo, inventory_dir, size):
    """Seconds of deploy.yml to SIZE hosts at once, of a commit they do not run yet."""
    new_commit(repo, "for %d hosts, strategy %s" % (size, env.get("ANSIBLE_STRATEGY", "default")))
    return timed_playbook("deploy", env, inventory_dir, "-e", "deploy_serial=%d" % size)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the hosts up")
    args = parser.parse_args()
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PY_COLORS="0")
    run("bash", "scripts/lab/docker-engine.sh", env=env)
    run("bash", "scripts/lab/base-image.sh", env=env)
    if run("docker", "network", "inspect", NETWORK, check=False).returncode != 0:
        run("docker", "network", "create", NETWORK)
    workdir = tempfile.mkdtemp(prefix="steadyops-fleet-")
    env["STEADYOPS_DEMO_REPO"] = repo = os.path.join(workdir, "tms-app")
    env["STEADYOPS_REPORT_DIR"] = os.path.join(workdir, "reports")
    run("bash", "scripts/demo_repo.sh", repo, "examples/tms", env=env)
    everyone = host_names(max(SIZES))
    deploys, mitogen_deploys = {}, {}
    try:
        print("cold: one bare host, provision + deploy ...", flush=True)
        start_hosts(everyone[:1])
        one = inventory(workdir, everyone[:1])
        cold = timed_playbook("provision", env, one)[0] + timed_playbook("deploy", env, one)[0]
        print("no-op drift run on that host ...", flush=True)
        noop, recaps = timed_playbook("drift", env, one)
        print("the other %d hosts: provision + deploy (not measured) ..." % (len(everyone) - 1), flush=True)
        start_hosts(everyone[1:])
        rest = inventory(workdir, everyone[1:])
        setup = timed_playbook("provision", env, rest)[0]
        setup += timed_playbook("deploy", env, rest, "-e", "deploy_serial=%d" % (len(everyone) - 1))[0]
        for size in SIZES:
            print("deploy of a new commit to %d host(s) at once ..." % size, flush=True)
            deploys[size] = deploy_new_commit(env, repo, inventory(workdir, everyone[:size]), size)
        mitogen = dict(env, ANSIBLE_STRATEGY_PLUGINS=str(ROOT / "bench/strategy_plugins"), ANSIBLE_STRATEGY=MITOGEN)
        for size in MITOGEN_SIZES:
            print("the same under Mitogen's strategy, %d host(s) ..." % size, flush=True)
            mitogen_deploys[size] = deploy_new_commit(mitogen, repo, inventory(workdir, everyone[:size]), size)
    finally:
        if not args.keep:
            remove_hosts(everyone)
            run("docker", "network", "rm", NETWORK, check=False)

    noop_recap = recaps[everyone[0]]
    # The settings the times depend on, as ansible-config reads them from this checkout.
    settings = run("ansible-config", "dump", env=env).stdout
    for name in ("DEFAULT_STRATEGY", "DEFAULT_FORKS", "ANSIBLE_PIPELINING", "DEFAULT_GATHERING"):
        found = re.search(r"^%s\(.*?\) = (.*)$" % name, settings, re.MULTILINE)
        print("%s = %s" % (name, found.group(1) if found else "(default)"))
    print("\n%-52s %9s" % ("demo stack, bench-fleet-N lab hosts", "seconds"))
    print("%-52s %9.1f" % ("cold: provision + deploy, one host (baseline)", cold))
    print("%-52s %9.1f" % ("no-op drift run, one host", noop))
    for size in SIZES:
        print("%-52s %9.1f" % ("deploy of a new commit, %d host(s) at once" % size, deploys[size]))
    for size in MITOGEN_SIZES:
        print("%-52s %9.1f" % ("the same, %d host(s), %s" % (size, MITOGEN), mitogen_deploys[size]))
    print("%-52s %9.1f" % ("(setup: provision + deploy %d more hosts at once)" % (len(everyone) - 1), setup))
    print("\nno-op drift / cold        %.2fx   (target <= 0.35x)" % (noop / cold))
    for size in SIZES[1:]:
        target = "   (target <= 3x)" if size == max(SIZES) else ""
        print("deploy %2d hosts / 1 host  %.2fx%s" % (size, deploys[size] / deploys[1], target))
    biggest = max(MITOGEN_SIZES)
    print(
        "%s: deploy %d hosts / 1 host %.2fx; %s / default at 1 host %.2fx, at %d hosts %.2fx"
        % (MITOGEN, biggest, mitogen_deploys[biggest] / mitogen_deploys[1], MITOGEN,
           mitogen_deploys[1] / deploys[1], biggest, mitogen_deploys[biggest] / deploys[biggest])
    )  # fmt: skip
    print(
        "no-op drift run, per host: %d tasks ok, %d changed, %d skipped"
        % (noop_recap.get("ok", 0), noop_recap.get("changed", 0), noop_recap.get("skipped", 0))
    )


if __name__ == "__main__":
    main()
