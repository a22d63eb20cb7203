"""What the deploy scenario's tests share: the demo repository, ansible-playbook runs, HTTP inside a host."""

import json
import os
import subprocess
import time
from pathlib import Path

ROOT = "/opt/tms"
PROJECT = os.environ.get("MOLECULE_PROJECT_DIRECTORY", "/nonexistent")
REPO = Path(os.environ.get("STEADYOPS_DEMO_REPO", "/nonexistent"))
# scripts/molecule.sh may run this scenario on hosts with a prefix (a lane of its own).
FIRST = os.environ.get("STEADYOPS_LAB_PREFIX", "") + "staging-1"
SECOND = os.environ.get("STEADYOPS_LAB_PREFIX", "") + "staging-2"


def git(*args):
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit(message, write=None, remove=()):
    """A new version of the demo: a commit in the controller's repository; its release id."""
    for path, text in (write or {}).items():
        (REPO / path).parent.mkdir(parents=True, exist_ok=True)
        (REPO / path).write_text(text)
    for path in remove:
        git("rm", "-q", path)
    git("add", "-A")
    git("commit", "-q", "-m", message)
    return git("rev-parse", "HEAD")[:12]


def playbook(name, limit, *extra):
    """ansible-playbook NAME.yml -l LIMIT, as users run it; (returncode, output)."""
    command = ["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], "%s/playbooks/%s.yml" % (PROJECT, name)]
    result = subprocess.run([*command, "-l", limit, *extra], capture_output=True, text=True, timeout=900, check=False)
    return result.returncode, result.stdout + result.stderr


def deploy(limit, *extra):
    return playbook("deploy", limit, *extra)


def post_job(host):
    """Enqueue a job through nginx; its id."""
    probe = (
        "import json, urllib.request as u\n"
        "r = u.urlopen(u.Request('http://127.0.0.1/api/jobs', data=b'{}', method='POST'), timeout=10)\n"
        "print(json.loads(r.read())['id'])\n"
    )
    return int(host.check_output("python3 -c %s" % shell_quote(probe)))


def serving_release(host):
    return host.check_output("readlink %s/current" % ROOT).rsplit("/", 1)[-1]


def get(host, path, port=80):
    """(status, JSON body or None) of GET http://127.0.0.1:PORT/PATH inside the host."""
    probe = (
        "import json, sys, urllib.error, urllib.request\n"
        "try:\n"
        "    r = urllib.request.urlopen('http://127.0.0.1:%d%s', timeout=10); s, b = r.status, r.read()\n"
        "except urllib.error.HTTPError as e:\n"
        "    s, b = e.code, e.read()\n"
        "print(json.dumps([s, b.decode(errors='replace')]))\n" % (port, path)
    )
    status, body = json.loads(host.check_output("python3 -c %s" % shell_quote(probe)))
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def shell_quote(text):
    """TEXT as one word of a POSIX shell command line."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def write_file(host, path, text):
    """Write TEXT to PATH on a lab host (its directory made first), through a quoted here-document."""
    host.check_output("mkdir -p %s && cat > %s <<'EOF'\n%sEOF" % (os.path.dirname(path), path, text))


def recap_changed(output, name):
    """The changed= count of host NAME in an ansible-playbook run's recap."""
    line = next(line for line in output.splitlines() if line.startswith(name + " ") and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


# Every unit of the demo stack: both instances of each gapless service.
UNITS = ["tms-api@8000.service", "tms-api@8001.service", "tms-frontend@3000.service", "tms-frontend@3001.service",
         "tms-worker.service", "nginx.service"]  # fmt: skip


def main_pids(host, units):
    return {u: host.check_output("systemctl show -p MainPID --value %s" % u) for u in units}


def stop_health_checks(host, *units):
    """Stop cron, wait for a health check it already started to end, then stop UNITS.

    Debian's cron.service leaves the jobs it started running when it stops
    (KillMode=process): a health check still running would start again what a
    test stops, and `systemctl stop` of a unit it starts meanwhile fails with
    "Job canceled".
    """
    host.check_output("systemctl stop cron.service")
    deadline = time.monotonic() + 120
    # [h]: the pattern does not match the shell that runs pgrep, whose command line holds it.
    while host.run("pgrep -f 'steadyops_healt[h].py'").rc == 0:
        assert time.monotonic() < deadline, "a health check run did not end in 120 s"
        time.sleep(0.5)
    if units:
        host.check_output("systemctl stop %s" % " ".join(units))
