#!/usr/bin/env python
"""Gate a unit file before it goes live: systemd-analyze verify, then its security exposure.

    verify_unit.py CANDIDATE UNIT_NAME [--max-exposure N] [--unprivileged] [--dropin] [--missing-ok-under DIR]

CANDIDATE is the rendered file (Ansible's `validate` passes a temporary
path). It is checked under its real name in a scratch directory; with
--dropin, CANDIDATE is a drop-in and is checked merged with the unit it
extends (`systemctl cat`). Exits non-zero, printing systemd's words, when
the unit is invalid or its exposure is above N. With --unprivileged (the
strict and standard profiles), also when the service would run as root as
systemd reads the unit (its effective User=, whatever line set it), or when
any Exec line carries a '+' or '!' prefix (full privileges for that step).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

EXPOSURE = re.compile(r"Overall exposure level for \S+:\s*([0-9.]+)")
# An Exec line and its leading prefixes (systemd.service(5)); "+", "!" and "!!" lift the sandbox and user.
PRIVILEGED_EXEC = re.compile(r"^\s*(Exec[A-Za-z]+)\s*=\s*[@\-:]*[+!]+\s*(.*)$")
# The one step that runs privileged by design: the collection's own port helper (free_port.py), which
# must see and signal every process. Nothing a user writes can name it: the service model refuses
# '+' and '!' under these profiles.
HELPER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "free_port.py")


def root_problems(path, text):
    """Why the unit would run something as root, as systemd reads it; [] when nothing does."""
    found = []
    for match in map(PRIVILEGED_EXEC.match, text.splitlines()):
        if match and not match.group(2).startswith("/usr/bin/python3 %s " % HELPER):
            found.append("%s has a '+' or '!' prefix: that step runs with full privileges" % match.group(1))
    analysis = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--json=short", "--no-pager", path],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        checks = {entry["json_field"]: entry for entry in json.loads(analysis.stdout)}
    except (ValueError, KeyError, TypeError):
        return [*found, "systemd-analyze security gave no verdict on its user: %s" % analysis.stderr.strip()]
    user = checks.get("UserOrDynamicUser")
    if not user or not user.get("set"):
        found.append("it runs as root (%s)" % (user or {}).get("description", "no User= in effect"))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidate")
    parser.add_argument("unit")
    parser.add_argument("--max-exposure", type=float)
    parser.add_argument("--unprivileged", action="store_true", help="refuse anything that runs as root")
    parser.add_argument("--dropin", action="store_true")
    parser.add_argument("--missing-ok-under", help="a missing executable below this path is the next release's")
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="steadyops-verify-")
    try:
        path = os.path.join(scratch, args.unit)
        with open(path, "w") as merged:
            if args.dropin:
                base = subprocess.run(["systemctl", "cat", args.unit], capture_output=True, text=True, check=False)
                if base.returncode != 0:
                    sys.exit("%s: cannot read the packaged unit to extend: %s" % (args.unit, base.stderr.strip()))
                merged.write(base.stdout + "\n")
            with open(args.candidate) as candidate:
                merged.write(candidate.read())
        verify = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", path], capture_output=True, text=True, check=False
        )
        problems = [line for line in (verify.stderr + verify.stdout).splitlines() if line.strip()]
        if args.missing_ok_under:
            # The first deploy renders units before the release they start is switched in.
            pending = re.compile(r"Command %s/\S* is not executable: No such file" % re.escape(args.missing_ok_under))
            problems = [line for line in problems if not pending.search(line)]
        if verify.returncode != 0 and problems:
            sys.exit("%s does not verify:\n%s" % (args.unit, "\n".join(problems)))
        if args.unprivileged:
            with open(path) as merged:
                problems = root_problems(path, merged.read())
            if problems:
                sys.exit("%s: its profile runs nothing as root, but %s" % (args.unit, "; ".join(problems)))
        if args.max_exposure is not None:
            security = subprocess.run(
                ["systemd-analyze", "security", "--offline=true", "--no-pager", path],
                capture_output=True,
                text=True,
                check=False,
            )
            found = EXPOSURE.search(security.stdout)
            if not found:
                sys.exit(
                    "%s: no exposure in systemd-analyze security output:\n%s"
                    % (args.unit, (security.stderr or security.stdout).strip())
                )
            exposure = float(found.group(1))
            if exposure > args.max_exposure:
                sys.exit(
                    "%s: exposure %.1f is above this profile's limit %.1f; tighten its sandbox or use a "
                    "looser profile" % (args.unit, exposure, args.max_exposure)
                )
            print("%s: exposure %.1f (limit %.1f)" % (args.unit, exposure, args.max_exposure))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
