"""A fake /proc tree on disk, for the edge cases a live system will not produce on demand."""

import os
from pathlib import Path

BTIME = 1_700_000_000
NET_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


class FakeProc:
    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        (root / "stat").write_text("cpu  1 2 3 4\nbtime %d\n" % BTIME)
        (root / "net").mkdir(exist_ok=True)
        self.net = {"tcp": [], "tcp6": [], "udp": [], "udp6": []}
        self._write_net()

    def add(
        self,
        pid,
        comm,
        *,
        ppid=1,
        state="S",
        flags=0,
        uid=0,
        start_ticks=100,
        cmdline=None,
        exe=None,
        cwd="/",
        cgroup="0::/\n",
        fds=None,
        nspid=None,
        threads=1,
    ):
        base = self.root / str(pid)
        base.mkdir()
        (base / "stat").write_text(
            "%d (%s) %s %d %d %d 0 -1 %d 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0\n"
            % (pid, comm, state, ppid, pid, pid, flags, start_ticks)
        )
        (base / "status").write_text(
            "Name:\t%s\nState:\t%s\nUid:\t%d\t%d\t%d\t%d\nNSpid:\t%s\nThreads:\t%d\n"
            % (comm, state, uid, uid, uid, uid, " ".join(str(p) for p in (nspid or [pid])), threads)
        )
        (base / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in (cmdline or [])))
        (base / "cgroup").write_text(cgroup)
        if exe is not None:
            os.symlink(exe, base / "exe")
        os.symlink(cwd, base / "cwd")
        if fds == "unreadable":
            # Not a directory: opening it as one fails like an fd table we may not read.
            (base / "fd").write_text("")
        else:
            (base / "fd").mkdir()
            for number, target in (fds or {}).items():
                os.symlink(target, base / "fd" / str(number))
        return base

    def add_thread(self, pid, tid, comm, state="S", cmdline=None, fds=None):
        """A thread of pid that runs on: /proc/<pid>/task/<tid> with its own stat, cmdline and fds."""
        base = self.root / str(pid) / "task" / str(tid)
        base.mkdir(parents=True)
        (base / "stat").write_text(
            "%d (%s) %s 1 %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0\n" % (tid, comm, state, pid, pid)
        )
        (base / "cmdline").write_bytes(b"".join(a.encode() + b"\0" for a in (cmdline or [])))
        (base / "fd").mkdir()
        for number, target in (fds or {}).items():
            os.symlink(target, base / "fd" / str(number))

    def add_systemd(self):
        """PID 1 as systemd, so cgroup paths name units."""
        return self.add(1, "systemd", ppid=0, cmdline=["/sbin/init"], cgroup="0::/init.scope\n")

    def add_socket(self, name, local_hex, inode, state="0A", uid=0):
        index = len(self.net[name])
        remote = "00000000:0000" if len(local_hex) < 20 else "0" * 32 + ":0000"
        self.net[name].append(
            "%4d: %s %s %s 00000000:00000000 00:00000000 00000000 %5d        0 %d 1 0000000000000000 100 0 0 10 0\n"
            % (index, local_hex, remote, state, uid, inode)
        )
        self._write_net()

    def _write_net(self):
        for name, lines in self.net.items():
            (self.root / "net" / name).write_text(NET_HEADER + "".join(lines))
