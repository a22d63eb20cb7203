"""The deploy on one lab host: cold, no-op and a version bump; what requests see while it runs.

On a fresh lab host (staging-1 of the `lab` scenario, inventories/demo), with
the demo stack, measured in one run:

  cold      provision.yml + deploy.yml on a bare host            (the baseline of the times)
  no-op     deploy.yml again, nothing new                         (should change nothing)
  bump      deploy.yml of a new commit, gapless (blue/green)
  in-place  deploy.yml of a new commit with deploy_gapless=false  (the baseline of the gap)
  idle      the same load with no deploy running                  (the baseline of the latency)

A load generator inside the host sends 60 requests/s to its own nginx during
idle, bump and in-place. Prints the times, no-op/cold and bump/cold, the
tasks a no-op run executes, and per load window the requests sent and failed
and the p99 latency against idle. Not a test: nothing passes or fails on time.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "staging-1"
LOADGEN = "/usr/local/lib/steadyops-loadgen.py"
RATE = 60


def run(*command, env=None, check=True):
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        sys.exit("bench/deploy.py: %s failed:\n%s" % (" ".join(command), (result.stdout + result.stderr)[-3000:]))
    return result


def timed_playbook(name, env, *extra):
    started = time.monotonic()
    result = run("ansible-playbook", "%s.yml" % name, "-l", HOST, *extra, env=env)
    seconds = time.monotonic() - started
    recap = re.search(r"%s\s+: ok=(\d+)\s+changed=(\d+).*?skipped=(\d+)" % HOST, result.stdout)
    return seconds, {"ok": int(recap.group(1)), "changed": int(recap.group(2)), "skipped": int(recap.group(3))}


def load_during(action, seconds=None):
    """Load the host's nginx while action() runs (or for `seconds`); the load generator's summary."""
    run("docker", "exec", HOST, "rm", "-f", "/run/bench.stop", "/run/bench.json")
    run(
        "docker", "exec", "-d", HOST, "python3", LOADGEN, "--rate", str(RATE), "--seconds", "600",
        "--stop-file", "/run/bench.stop", "--out", "/run/bench.json", "/health", "/api/health",
    )  # fmt: skip
    time.sleep(2)
    result = action() if action else time.sleep(seconds)
    time.sleep(2)
    run("docker", "exec", HOST, "touch", "/run/bench.stop")
    for _attempt in range(60):
        done = run("docker", "exec", HOST, "cat", "/run/bench.json", check=False)
        if done.returncode == 0:
            return result, json.loads(done.stdout)
        time.sleep(0.5)
    sys.exit("bench/deploy.py: the load generator wrote no summary")


def main():
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", PY_COLORS="0")
    print("fresh lab hosts (molecule destroy/create/prepare -s lab) ...", flush=True)
    for step in ("destroy", "create", "prepare"):
        run("molecule", step, "-s", "lab", env=env)
    workdir = tempfile.mkdtemp(prefix="steadyops-bench-")
    env["STEADYOPS_DEMO_REPO"] = repo = os.path.join(workdir, "tms-app")
    run("bash", "scripts/demo_repo.sh", repo, "examples/tms", env=env)

    provision = timed_playbook("provision", env)[0]
    first = timed_playbook("deploy", env)[0]
    cold = provision + first
    noop, noop_recap = timed_playbook("deploy", env)
    run("docker", "cp", str(ROOT / "molecule/shared/files/loadgen.py"), "%s:%s" % (HOST, LOADGEN))

    idle = load_during(None, seconds=30)[1]

    def bump(*extra):
        Path(repo, "VERSION").write_text("%f\n" % time.time())
        run("git", "-C", repo, "add", "-A", env=env)
        run("git", "-C", repo, "commit", "-qm", "a new version", env=env)
        return timed_playbook("deploy", env, *extra)[0]

    gapless_seconds, gapless = load_during(bump)
    inplace_seconds, inplace = load_during(lambda: bump("-e", "deploy_gapless=false"))

    print("\n%-34s %9s" % ("one host, demo stack", "seconds"))
    for name, seconds in (
        ("cold: provision + deploy", cold),
        ("  provision", provision),
        ("  first deploy", first),
        ("no-op deploy", noop),
        ("version bump, gapless", gapless_seconds),
        ("version bump, in place", inplace_seconds),
    ):
        print("%-34s %9.1f" % (name, seconds))
    print("\nno-op / cold            %.2fx" % (noop / cold))
    print("bump (gapless) / cold   %.2fx" % (gapless_seconds / cold))
    print("no-op run: %(ok)d tasks ok, %(skipped)d skipped, %(changed)d changed" % noop_recap)
    columns = ("load at %d req/s" % RATE, "sent", "failed", "p50 ms", "p99 ms", "p99 / idle")
    print("\n%-24s %7s %7s %9s %9s %12s" % columns)
    for name, load in (("idle (baseline)", idle), ("deploy, gapless", gapless), ("deploy, in place", inplace)):
        print(
            "%-24s %7d %7d %9.1f %9.1f %11.2fx"
            % (name, load["sent"], load["failed"], load["p50_ms"], load["p99_ms"], load["p99_ms"] / idle["p99_ms"])
        )
    print("\nfailures during the in-place deploy:", inplace["failures"] or "none")
    print("failures during the gapless deploy: ", gapless["failures"] or "none")


if __name__ == "__main__":
    main()
