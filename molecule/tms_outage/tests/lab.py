"""Running the collection's modules on the lab host, and watching its ports."""

import json
import os
import re
import subprocess
import tempfile
import time


def run_module_on(host, module, args, check=False):
    """Run a module on the lab host with the `ansible` CLI; (exit code, result dict).

    testinfra's host.ansible cannot see failures under ansible-core 2.19 (the
    tree callback drops the `failed` key), so the exit code decides here.
    """
    name = host.check_output("hostname")
    with tempfile.TemporaryDirectory() as tree:
        command = ["ansible", "-i", os.environ["MOLECULE_INVENTORY_FILE"], name, "-m", module]
        command += ["-a", json.dumps(args), "--tree", tree] + (["--check"] if check else [])
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if not os.path.exists(os.path.join(tree, name)):
            raise AssertionError(
                "ansible gave no result (rc %d):\n%s\n%s" % (completed.returncode, completed.stdout, completed.stderr)
            )
        with open(os.path.join(tree, name)) as result:
            return completed.returncode, json.load(result)


def port_owner_pids(host, port):
    out = host.run(f"ss -Htlnp 'sport = :{port}'").stdout
    return sorted({int(pid) for pid in re.findall(r"pid=(\d+)", out)})


def wait_for_listener(host, port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if host.run(f"ss -Htln 'sport = :{port}'").stdout.strip():
            return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on {port} after {seconds}s")
