"""Run on a lab host: read the generated files back through systemd and nginx.

Given a directory of rendered files (units/NAME.service, env/ID.env,
nginx/ID.conf) and the unit names whose Exec lines are wanted word by word,
installs the units, reloads systemd and prints one JSON object:
  units: NAME -> the properties systemctl show gives (and, for the exec
         names, ExecStart/ExecStartPre argv and ReadWritePaths from D-Bus);
  environ: the environment one process got from every env file;
  nginx: nginx -t's exit status and output, and nginx -T's dump.
Standard library only: the lab hosts' own python3.
"""

import json
import subprocess
import sys
from pathlib import Path

SHOWN = "Id,LoadState,LoadError,Description,After,User,Group,WorkingDirectory,EnvironmentFiles,ReadWritePaths," \
        "SyslogIdentifier,ExecStart,ExecStartPre"  # fmt: skip
UNIT_DIR = Path("/etc/systemd/system")
READER = "sogen-environ-reader.service"


def run(*command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def shown(names):
    """systemctl show of NAMES, in chunks: NAME -> {property: value}."""
    found = {}
    for start in range(0, len(names), 400):
        for block in run("systemctl", "show", "-p", SHOWN, *names[start : start + 400]).split("\n\n"):
            properties = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if properties.get("Id"):
                found[properties["Id"]] = properties
    return found


def dbus_exec(name):
    """ExecStart and ExecStartPre argv lists and ReadWritePaths, as D-Bus gives them."""
    path = json.loads(
        run(
            "busctl",
            "--json=short",
            "call",
            "org.freedesktop.systemd1",
            "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager",
            "LoadUnit",
            "s",
            name,
        )
    )["data"][0]
    lines = run(
        "busctl",
        "--json=short",
        "get-property",
        "org.freedesktop.systemd1",
        path,
        "org.freedesktop.systemd1.Service",
        "ExecStart",
        "ExecStartPre",
        "ReadWritePaths",
    ).splitlines()
    start, pre, paths = (json.loads(line)["data"] for line in lines)
    return {"ExecStartArgv": [entry[1] for entry in start], "ExecStartPreArgv": [entry[1] for entry in pre],
            "ReadWritePathList": paths}  # fmt: skip


def environ(env_files):
    """The environment of one process started with every env file (keys differ between cases)."""
    out = Path("/run/sogen-environ")
    lines = ["[Service]", "Type=oneshot", "ExecStart=/bin/cp /proc/self/environ %s" % out]
    lines += ["EnvironmentFile=%s" % path for path in env_files]
    (UNIT_DIR / READER).write_text("\n".join(lines) + "\n")
    run("systemctl", "daemon-reload")
    started = subprocess.run(["systemctl", "start", READER], capture_output=True, text=True, check=False)
    if started.returncode != 0:
        return {"error": started.stderr + run("journalctl", "-u", READER, "-n", "20", "--no-pager")}
    text = out.read_bytes().decode("utf-8")
    return dict(item.split("=", 1) for item in text.split("\0") if item)


def nginx(confs):
    main = Path("/run/sogen-nginx.conf")
    main.write_text("events {}\nhttp {\n%s}\n" % "".join("    include %s;\n" % conf for conf in confs))
    tested = subprocess.run(["nginx", "-t", "-c", str(main)], capture_output=True, text=True, check=False)
    dumped = subprocess.run(["nginx", "-T", "-c", str(main)], capture_output=True, text=True, check=False)
    return {"rc": tested.returncode, "test": tested.stderr, "dump": dumped.stdout}


def read_units(root, exec_names, chunk=1000):
    """Install, read and remove the units CHUNK at a time: systemd slows down with
    thousands of loaded units, and the host's own units must not wait on ours."""
    units = sorted(path.name for path in (root / "units").iterdir())
    found = {}
    for start in range(0, len(units), chunk):
        names = units[start : start + chunk]
        try:
            for name in names:
                (UNIT_DIR / name).write_bytes((root / "units" / name).read_bytes())
            run("systemctl", "daemon-reload")
            found.update(shown(names))
            for name in set(names) & exec_names:
                found.setdefault(name, {}).update(dbus_exec(name))
        finally:
            for name in names:
                (UNIT_DIR / name).unlink(missing_ok=True)
    run("systemctl", "daemon-reload")
    return found


def main():
    root, exec_names = Path(sys.argv[1]), set(json.loads(sys.argv[2]))
    result = {"units": read_units(root, exec_names)}
    result["environ"] = environ(sorted(str(path) for path in (root / "env").iterdir()))
    result["nginx"] = nginx(sorted(str(path) for path in (root / "nginx").iterdir()))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
