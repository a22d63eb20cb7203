"""Owner lookup for one port on a busy host: port_free's lookup against ss and psutil.

Builds a busy host - 20 processes holding 500 listening sockets each (10,000
sockets) and 2,000 idle processes - and a smaller one (2,000 sockets, about
520 processes), processes that are not the bench's own descendants, then
times, in the same run, finding the pid that owns one port with:

  ours    _procfs.port_holders([port])  (what port_free and kill_zombies use)
  decision  port_free's whole decision: holders, who they are, its own
          process tree (from its ancestry), the verdict on each
  ss      ss -Htlnp 'sport = :PORT'     (the baseline)
  psutil  psutil.net_connections('tcp') filtered to the port

and prints medians and ratios against ss. Not a test: nothing passes or fails.

A fourth row, the floor, is the bare kernel work any sound lookup does: open
every process's fd directory and read every fd link once, in one process,
with no other logic. Dividing it by the CPUs the lookup may use says how
close to the hardware "ours" is on this machine.
"""

import argparse
import contextlib
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

import psutil  # noqa: E402
from ansible_collections.steadyops.stack.plugins.module_utils import _port_release, _procfs  # noqa: E402
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import (  # noqa: E402
    Selection,
    own_tree,
    protect_patterns,
)

HOLDER = """
import os, socket, sys, time
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    socks.append(s)
path = os.path.join(sys.argv[2], str(os.getpid()))
with open(path + ".tmp", "w") as out:
    out.write(" ".join(str(s.getsockname()[1]) for s in socks))
os.rename(path + ".tmp", path)
time.sleep(3600)
"""

# Starts the host's processes and exits, so they are not the bench's descendants: a port_free run's own
# process tree is a handful of processes, and a tree of thousands would weigh on its decision.
LAUNCHER = """
import os, subprocess, sys
holder, holders, each, idle, where = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
# Not on the launcher's stdout: the bench reads it to its end, which would wait on them.
quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
pids = [subprocess.Popen([sys.executable, "-c", holder, str(each), where], **quiet).pid for _ in range(holders)]
pids += [subprocess.Popen(["sleep", "3600"], **quiet).pid for _ in range(idle)]
print(*pids, flush=True)
os._exit(0)
"""


def start_host(holders, sockets_each, idle):
    """({pid, ...} of the host's processes, {port: holder pid})."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, sockets_each + 64), max(hard, sockets_each + 64)))
    where = tempfile.mkdtemp(prefix="port-owner-bench-")
    command = [sys.executable, "-c", LAUNCHER, HOLDER, str(holders), str(sockets_each), str(idle), where]
    pids = [int(pid) for pid in subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()]
    while len(os.listdir(where)) < holders or any(name.endswith(".tmp") for name in os.listdir(where)):
        time.sleep(0.05)
    ports = {}
    for name in os.listdir(where):
        with open(os.path.join(where, name)) as listed:
            ports.update((int(port), int(name)) for port in listed.read().split())
    shutil.rmtree(where)
    return pids, ports


def stop_host(pids):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def read_every_fd_link():
    """The floor: each process's fd directory opened and each fd link read once, nothing else."""
    for pid in psutil.pids():
        try:
            fd_dir = os.open("/proc/%d/fd" % pid, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            count = os.fstat(fd_dir).st_size  # the number of fds since Linux 6.2
            with contextlib.suppress(OSError):  # the process exited while we looked
                for name in map(str, range(count)) if count else os.listdir(fd_dir):
                    with contextlib.suppress(OSError):
                        os.readlink(name, dir_fd=fd_dir)
        finally:
            os.close(fd_dir)


def time_call(fn, repeats):
    samples = []
    for _repeat in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# (holders, sockets each, idle processes): the busy host, and a smaller one of ~520 processes
# where reading the whole process table (the module's own tree, before) weighed most against the lookup.
SIZES = ((20, 500, 2000), (4, 500, 500))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, help="one size only: holders of sockets")
    parser.add_argument("--sockets-each", type=int, default=500)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    sizes = [(args.holders, args.sockets_each, args.idle)] if args.holders else SIZES
    for holders, sockets_each, idle in sizes:
        measure(holders, sockets_each, idle, args.repeats)
        print()


def measure(holders, sockets_each, idle, repeats):
    args = argparse.Namespace(holders=holders, sockets_each=sockets_each, idle=idle, repeats=repeats)
    procs, ports = start_host(args.holders, args.sockets_each, args.idle)
    try:
        port = sorted(ports)[len(ports) // 2]
        owner = ports[port]

        def ours():
            by_pid, _ownerless = _procfs.port_holders([port], "tcp")
            assert list(by_pid) == [owner], by_pid

        selection = Selection(cmdline=["python"])
        protect = protect_patterns()

        def decision():
            # What port_free does before it signals: the holders, who they are, and the verdict on each.
            holders, _ownerless, _kept = _port_release.current_holders([port], "tcp")
            (verdict,) = _port_release.judge(holders, selection, protect)
            assert (verdict.process.pid, verdict.action) == (owner, "signal"), (verdict.process.pid, verdict.why)

        def ss():
            out = subprocess.run(["ss", "-Htlnp", "sport = :%d" % port], capture_output=True, text=True, check=True)
            assert "pid=%d," % owner in out.stdout, out.stdout

        def with_psutil():
            found = {
                c.pid
                for c in psutil.net_connections("tcp")
                if c.laddr and c.laddr.port == port and c.status == "LISTEN"
            }
            assert found == {owner}, found

        for fn in (ours, decision, ss, with_psutil):
            fn()  # warm the page cache and check every method finds the same owner
        results = {
            "ours (_procfs.port_holders)": time_call(ours, args.repeats),
            "ours, port_free's decision": time_call(decision, args.repeats),
            "ss -Htlnp (baseline)": time_call(ss, args.repeats),
            "psutil.net_connections": time_call(with_psutil, args.repeats),
            "floor: every fd link, 1 CPU": time_call(read_every_fd_link, args.repeats),
        }
        tree_ms = {
            "ancestry": time_call(_procfs.own_tree_pids, repeats) * 1000,
            "table": time_call(lambda: own_tree(_procfs.process_table()), repeats) * 1000,
        }
    finally:
        stop_host(procs)

    baseline = results["ss -Htlnp (baseline)"]
    print(
        "host: %d listening sockets in %d processes, %d idle processes, %d processes in all; %d repeats, median"
        % (len(ports), args.holders, args.idle, len(psutil.pids()), args.repeats)
    )
    print("%-30s %10s %12s" % ("method", "ms", "x ss"))
    for name, seconds in results.items():
        print("%-30s %10.1f %12.2f" % (name, seconds * 1000, seconds / baseline))
    cpus = min(_procfs._MAX_WORKERS, os.cpu_count() or 1)
    print(
        "floor over the %d CPU(s) the lookup uses: %.1f ms = %.2fx ss; ours is %.2fx that"
        % (
            cpus,
            results["floor: every fd link, 1 CPU"] * 1000 / cpus,
            results["floor: every fd link, 1 CPU"] / cpus / baseline,
            results["ours (_procfs.port_holders)"] / (results["floor: every fd link, 1 CPU"] / cpus),
        )
    )
    floor = results["floor: every fd link, 1 CPU"]
    print(
        "port_free's whole decision (holders, owners, own tree, verdict): %.2fx the fd-walk floor on 1 CPU; "
        "its own process tree from its ancestry %.2f ms, from the whole process table (before) %.2f ms"
        % (results["ours, port_free's decision"] / floor, tree_ms["ancestry"], tree_ms["table"])
    )
    print(
        "target: ours <= 0.25x ss -> %s"
        % ("met" if results["ours (_procfs.port_holders)"] <= 0.25 * baseline else "NOT met")
    )


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: ss -p and the lookup must see every process's sockets")
    main()
