"""Owner lookup for one port on a busy host: port_free's lookup against ss and psutil.

Builds the host the issue describes - 20 processes holding 500 listening
sockets each (10,000 sockets) and 2,000 idle processes - then times, in the
same run, finding the pid that owns one port with:

  ours    _procfs.port_holders([port])  (what port_free and kill_zombies use)
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
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".cache" / "collections"))

import psutil  # noqa: E402
from ansible_collections.steadyops.stack.plugins.module_utils import _procfs  # noqa: E402

HOLDER = """
import socket, sys, time
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
time.sleep(3600)
"""


def start_host(holders, sockets_each, idle):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, sockets_each + 64), max(hard, sockets_each + 64)))
    procs, ports = [], {}
    for _holder in range(holders):
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(sockets_each)], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
    for proc in procs:
        for port in proc.stdout.readline().split():
            ports[int(port)] = proc.pid
    for _sleeper in range(idle):
        procs.append(subprocess.Popen(["sleep", "3600"]))
    return procs, ports


def stop_host(procs):
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    for proc in procs:
        proc.wait()


def read_every_fd_link():
    """The floor: each process's fd directory opened and each fd link read once, nothing else."""
    for pid in psutil.pids():
        try:
            fd_dir = os.open("/proc/%d/fd" % pid, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            count = os.fstat(fd_dir).st_size  # the number of fds since Linux 6.2
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, default=20)
    parser.add_argument("--sockets-each", type=int, default=500)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    procs, ports = start_host(args.holders, args.sockets_each, args.idle)
    try:
        port = sorted(ports)[len(ports) // 2]
        owner = ports[port]

        def ours():
            by_pid, _ownerless = _procfs.port_holders([port], "tcp")
            assert list(by_pid) == [owner], by_pid

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

        for fn in (ours, ss, with_psutil):
            fn()  # warm the page cache and check every method finds the same owner
        results = {
            "ours (_procfs.port_holders)": time_call(ours, args.repeats),
            "ss -Htlnp (baseline)": time_call(ss, args.repeats),
            "psutil.net_connections": time_call(with_psutil, args.repeats),
            "floor: every fd link, 1 CPU": time_call(read_every_fd_link, args.repeats),
        }
    finally:
        stop_host(procs)

    baseline = results["ss -Htlnp (baseline)"]
    print(
        "host: %d listening sockets in %d processes, %d idle processes, %d processes in all; %d repeats, median"
        % (len(ports), args.holders, args.idle, len(psutil.pids()) + len(procs), args.repeats)
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
    print(
        "target: ours <= 0.25x ss -> %s"
        % ("met" if results["ours (_procfs.port_holders)"] <= 0.25 * baseline else "NOT met")
    )


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("run as root: ss -p and the lookup must see every process's sockets")
    main()
