# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Process table, socket ownership and systemd units, read from /proc.

Standard library only and no Ansible import: the same file runs inside the
collection's modules and, copied to a host, in units' pre-start steps and the
health check. The /proc root is a parameter everywhere so tests can point it
at a fake tree. Parsing is pure and lives in the ``parse_*`` functions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import pwd
import time

try:
    from ansible_collections.steadyops.stack.plugins.module_utils import _sockdiag
except ImportError:  # copied next to _sockdiag.py on a host
    import _sockdiag  # type: ignore[no-redef]

PROC = "/proc"

# include/linux/sched.h: the task is a kernel thread.
PF_KTHREAD = 0x00200000

TCP_LISTEN = "0A"
NET_FILES = {
    "tcp": (("tcp", 4), ("tcp6", 6)),
    "udp": (("udp", 4), ("udp6", 6)),
}
UNIT_SUFFIXES = (".service", ".scope")


class Process(object):
    """One process as /proc shows it at the time it was read."""

    __slots__ = (
        "pid",
        "ppid",
        "state",
        "comm",
        "flags",
        "uid",
        "user",
        "start_ticks",
        "started_at",
        "cmdline",
        "exe",
        "exe_deleted",
        "cwd",
        "cgroup",
        "unit",
    )

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    @property
    def is_kernel_thread(self):
        return bool((self.flags or 0) & PF_KTHREAD) or self.pid == 2 or self.ppid == 2

    @property
    def is_zombie(self):
        return self.state == "Z"

    def short_command(self, limit=120):
        """The command line cut to a length that reads well in a message."""
        command = self.command
        return command if len(command) <= limit else command[: limit - 3] + "..."

    @property
    def command(self):
        """The command line as one string; kernel threads and zombies show [comm]."""
        if self.cmdline:
            return " ".join(self.cmdline)
        return "[%s]" % (self.comm or "?")

    def age(self, now=None):
        if self.started_at is None:
            return None
        return max(0.0, (time.time() if now is None else now) - self.started_at)

    def as_dict(self, now=None):
        age = self.age(now)
        return {
            "pid": self.pid,
            "ppid": self.ppid,
            "state": self.state,
            "user": self.user,
            "uid": self.uid,
            "cmdline": self.command,
            "exe": self.exe,
            "cwd": self.cwd,
            "unit": self.unit,
            "age_seconds": None if age is None else round(age, 1),
        }


# ---------------------------------------------------------------- parsing


def parse_stat(text):
    """Fields of /proc/<pid>/stat: comm may hold spaces and parentheses, so split at the last ')'."""
    left, _sep, right = text.rpartition(")")
    pid_part, _sep, comm = left.partition(" (")
    rest = right.split()
    # rest[0] is field 3 (state); field N is rest[N - 3].
    return {
        "pid": int(pid_part),
        "comm": comm,
        "state": rest[0],
        "ppid": int(rest[1]),
        "flags": int(rest[6]),
        "start_ticks": int(rest[19]),
    }


def parse_status_uid(text):
    """The real uid from /proc/<pid>/status."""
    for line in text.splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None


def parse_cmdline(raw):
    """argv from the NUL-separated /proc/<pid>/cmdline bytes."""
    if not raw:
        return []
    parts = raw.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("utf-8", "replace") for p in parts]


def parse_cgroup(text):
    """The cgroup path: the unified (v2) entry, else systemd's v1 hierarchy."""
    v1_systemd = None
    unified = None
    for line in text.splitlines():
        hierarchy, _sep, rest = line.partition(":")
        controllers, _sep, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            unified = path
        elif controllers == "name=systemd":
            v1_systemd = path
    # On hybrid cgroup v1 hosts the unified entry is "/" or empty for every
    # process, and systemd's own hierarchy is the one that names units.
    if v1_systemd is not None and (unified in (None, "", "/") or v1_systemd != "/"):
        return v1_systemd
    return unified


def unit_of_cgroup(path):
    """The systemd unit a cgroup path belongs to: its last *.service or *.scope component.

    Works inside containers too, where paths look like /docker/<id>/system.slice/x.service.
    """
    if not path:
        return None
    for component in reversed(path.strip("/").split("/")):
        if component.endswith(UNIT_SUFFIXES):
            return component
    return None


def parse_hex_address(hex_addr, family):
    """A /proc/net address such as 0100007F:0BB8 to ("127.0.0.1", 3000)."""
    host_hex, _sep, port_hex = hex_addr.partition(":")
    raw = bytes.fromhex(host_hex)
    # The kernel prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    host = ".".join(str(b) for b in words) if family == 4 else _format_ipv6(words)
    return host, int(port_hex, 16)


def _format_ipv6(packed):
    groups = ["%x" % ((packed[i] << 8) | packed[i + 1]) for i in range(0, 16, 2)]
    if groups[:5] == ["0"] * 5 and groups[5] == "ffff":
        return "::ffff:%d.%d.%d.%d" % tuple(packed[12:16])
    # Compress the longest run of zero groups, as inet_ntop does.
    best_start, best_len, start = -1, 0, None
    for i, group in enumerate([*groups, "end"]):
        if group == "0":
            start = i if start is None else start
        elif start is not None:
            if i - start > best_len and i - start > 1:
                best_start, best_len = start, i - start
            start = None
    if best_start < 0:
        return ":".join(groups)
    head = ":".join(groups[:best_start])
    tail = ":".join(groups[best_start + best_len :])
    return head + "::" + tail


def parse_net_line(line, protocol, family):
    """One socket line of /proc/net/{tcp,tcp6,udp,udp6}, or None for the header."""
    fields = line.split()
    if len(fields) < 10 or fields[0] == "sl":
        return None
    local_host, local_port = parse_hex_address(fields[1], family)
    remote_host, remote_port = parse_hex_address(fields[2], family)
    return _sockdiag.socket_entry(
        protocol,
        family,
        (local_host, local_port),
        (remote_host, remote_port),
        fields[3],
        int(fields[7]),
        int(fields[9]),
    )


# ---------------------------------------------------------------- reading


def _read_text(path):
    with open(path, "r") as handle:
        return handle.read()


def _read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def _readlink(path):
    try:
        return os.readlink(path)
    except OSError:
        return None


def clock_ticks():
    return os.sysconf("SC_CLK_TCK")


def boot_time(proc=PROC):
    for line in _read_text(os.path.join(proc, "stat")).splitlines():
        if line.startswith("btime "):
            return int(line.split()[1])
    raise RuntimeError("no btime line in %s/stat" % proc)


def user_name(uid):
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def list_pids(proc=PROC):
    return sorted(int(name) for name in os.listdir(proc) if name.isdigit())


def read_process(pid, proc=PROC, btime=None, ticks=None):
    """A Process for pid, or None when it has gone. Unreadable details stay None."""
    base = os.path.join(proc, str(pid))
    try:
        stat = parse_stat(_read_text(os.path.join(base, "stat")))
        uid = parse_status_uid(_read_text(os.path.join(base, "status")))
    except (IOError, OSError) as exc:
        if exc.errno in (errno.ENOENT, errno.ESRCH):
            return None
        raise
    try:
        cmdline = parse_cmdline(_read_bytes(os.path.join(base, "cmdline")))
    except (IOError, OSError):
        cmdline = []
    try:
        cgroup = parse_cgroup(_read_text(os.path.join(base, "cgroup")))
    except (IOError, OSError):
        cgroup = None
    exe = _readlink(os.path.join(base, "exe"))
    exe_deleted = bool(exe and exe.endswith(" (deleted)"))
    if exe_deleted:
        exe = exe[: -len(" (deleted)")]
    btime = boot_time(proc) if btime is None else btime
    ticks = clock_ticks() if ticks is None else ticks
    return Process(
        pid=stat["pid"],
        ppid=stat["ppid"],
        state=stat["state"],
        comm=stat["comm"],
        flags=stat["flags"],
        uid=uid,
        user=user_name(uid),
        start_ticks=stat["start_ticks"],
        started_at=btime + stat["start_ticks"] / float(ticks),
        cmdline=cmdline,
        exe=exe,
        exe_deleted=exe_deleted,
        cwd=_readlink(os.path.join(base, "cwd")),
        cgroup=cgroup,
        unit=unit_of_cgroup(cgroup),
    )


def process_table(proc=PROC):
    """Every process readable now, by pid. Processes that exit while we read are left out."""
    btime, ticks = boot_time(proc), clock_ticks()
    table = {}
    for pid in list_pids(proc):
        process = read_process(pid, proc, btime, ticks)
        if process is not None:
            table[pid] = process
    return table


def start_ticks_of(pid, proc=PROC):
    """The start time of pid in clock ticks, or None if gone: identifies a pid against reuse."""
    try:
        return parse_stat(_read_text(os.path.join(proc, str(pid), "stat")))["start_ticks"]
    except (IOError, OSError, ValueError, IndexError):
        return None


def ancestors(pid, table):
    """pid's parent, grandparent, … up to PID 1, from a process table."""
    seen = []
    current = table.get(pid)
    while current is not None and current.ppid and current.ppid not in seen:
        seen.append(current.ppid)
        current = table.get(current.ppid)
    return seen


def descendants(pid, table):
    children = {}
    for process in table.values():
        children.setdefault(process.ppid, []).append(process.pid)
    found, stack = [], list(children.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(children.get(child, []))
    return found


# ---------------------------------------------------------------- sockets


def sockets(protocols=("tcp",), ports=None, proc=PROC):
    """Sockets for the given protocols, optionally only those on given local ports.

    TCP gives listening sockets only: a connection in TIME_WAIT holds no process
    and never blocks a new listener. UDP gives every bound socket. On the live
    /proc with ports given, the kernel is asked over sock_diag (_sockdiag);
    /proc/net is read otherwise and whenever the kernel cannot answer.
    """
    if ports and proc == PROC:
        try:
            return _sockdiag.sockets_on_ports(protocols, ports)
        except _sockdiag.Unsupported:
            pass
    return sockets_from_proc_net(protocols, ports, proc)


def sockets_from_proc_net(protocols=("tcp",), ports=None, proc=PROC):
    """Like sockets(), parsed from /proc/net/{tcp,tcp6,udp,udp6}."""
    wanted_hex = None if not ports else {"%04X" % port for port in ports}
    found = []
    for protocol in protocols:
        for name, family in NET_FILES[protocol]:
            try:
                text = _read_text(os.path.join(proc, "net", name))
            except (IOError, OSError):
                continue  # e.g. IPv6 disabled on this host
            for line in text.splitlines()[1:]:
                if wanted_hex is not None:
                    # Filter on the raw local address ("0100007F:0BB8") before parsing:
                    # a host with thousands of sockets asks about one port.
                    fields = line.split(None, 2)
                    if len(fields) < 2 or fields[1][-4:] not in wanted_hex:
                        continue
                entry = parse_net_line(line, protocol, family)
                if entry is None:
                    continue
                if protocol == "tcp" and entry["raw_state"] != TCP_LISTEN:
                    continue
                found.append(entry)
    return found


def address_matches(bound, wanted):
    """Whether a socket bound to `bound` takes port traffic for `wanted`; wildcards take all."""
    if wanted is None:
        return True
    return bound in (wanted, "0.0.0.0", "::") or bound == "::ffff:" + wanted  # noqa: S104 (a comparison)


# Names of the first fds, made once: a scan reads tens of thousands of them.
_FD_NAMES = [str(n) for n in range(1024)]
# Below this many processes a second worker costs more (fork) than it saves.
_PARALLEL_MIN_PIDS = 400
_MAX_WORKERS = 4


_FD_COUNT_PROBE = {}


def _fd_count_in_size():
    """Whether this kernel reports the number of open fds as the size of /proc/<pid>/fd (Linux 6.2+)."""
    if "supported" not in _FD_COUNT_PROBE:
        # This process has stdin, stdout and stderr at least; older kernels say 0.
        _FD_COUNT_PROBE["supported"] = os.stat("/proc/self/fd").st_size > 0
    return _FD_COUNT_PROBE["supported"]


def _held_targets(fd_dir, targets):
    """The target inodes among a process's fd links.

    Since Linux 6.2 the size of /proc/<pid>/fd is the number of open fds. When
    fds 0..size-1 all exist they are all of them, so the directory listing
    (which costs as much as the reads) is skipped; a gap falls back to it.
    The reads stop once every target is found: more fds to the same socket
    do not make the process any more of a holder.
    """
    readlink = os.readlink
    wanted = len(targets)
    held = set()
    count = os.fstat(fd_dir).st_size
    if count == 0 and _fd_count_in_size():
        return held  # no open files at all: a kernel thread, say
    if 0 < count <= len(_FD_NAMES):
        try:
            for name in _FD_NAMES[:count]:
                link = readlink(name, dir_fd=fd_dir)
                if link in targets:
                    held.add(targets[link])
                    if len(held) == wanted:
                        return held
            return held
        except OSError:
            held = set()  # a gap in the fd numbers, or an fd closed meanwhile
    for name in os.listdir(fd_dir):
        try:
            link = readlink(name, dir_fd=fd_dir)
        except OSError:
            continue
        if link in targets:
            held.add(targets[link])
            if len(held) == wanted:
                break
    return held


def _scan_owners(pids, targets, proc):
    """(inode, pid) pairs for every process in pids holding one of the target links."""
    pairs = []
    for pid in pids:
        try:
            fd_dir = os.open("%s/%d/fd" % (proc, pid), os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue  # gone, or not ours to read
        try:
            held = _held_targets(fd_dir, targets)
        except OSError:
            held = set()
        finally:
            os.close(fd_dir)
        pairs.extend((inode, pid) for inode in held)
    return pairs


def _scan_owners_parallel(pids, targets, proc, workers):
    """_scan_owners split over processes: the scan is syscall-bound and the GIL would serialise threads.

    This process scans one share itself and forks a worker for each other
    share; a worker that fails makes this process scan its share again.
    """
    shares = [pids[index::workers] for index in range(workers)]
    children = []
    for share in shares[1:]:
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the worker
            status = 0
            try:
                os.close(read_end)
                found = _scan_owners(share, targets, proc)
                os.write(write_end, "".join("%d %d\n" % pair for pair in found).encode())
            except BaseException:  # a worker must never return into the caller's code
                status = 1
            finally:
                os._exit(status)
        os.close(write_end)
        children.append((child, read_end, share))
    pairs = _scan_owners(shares[0], targets, proc)
    for child, read_end, share in children:
        chunks = []
        while True:
            chunk = os.read(read_end, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read_end)
        if os.waitpid(child, 0)[1] != 0:
            pairs.extend(_scan_owners(share, targets, proc))
            continue
        pairs.extend(tuple(int(n) for n in line.split()) for line in b"".join(chunks).decode().splitlines())
    return pairs


def socket_owners(inodes, proc=PROC, pids=None, workers=None):
    """Map each socket inode to the pids holding it, by reading every process's fd links.

    This scan is the cost of every lookup: one readlink per open fd on the
    host. It uses a directory fd per process, skips the listing where the fd
    count allows, and splits the processes over the CPUs on a busy host.
    """
    targets = dict(("socket:[%d]" % inode, inode) for inode in inodes)
    owners = dict((inode, []) for inode in inodes)
    if not targets:
        return owners
    pids = list_pids(proc) if pids is None else list(pids)
    if workers is None:
        workers = min(_MAX_WORKERS, os.cpu_count() or 1) if len(pids) >= _PARALLEL_MIN_PIDS else 1
    try:
        pairs = (
            _scan_owners_parallel(pids, targets, proc, workers) if workers > 1 else _scan_owners(pids, targets, proc)
        )
    except OSError:  # no fork or no pipe here: do it in this process
        pairs = _scan_owners(pids, targets, proc)
    for inode, pid in sorted(pairs, key=lambda pair: pair[1]):
        owners[inode].append(pid)
    return owners


def port_holders(ports, protocol="tcp", address=None, proc=PROC):
    """Who holds the given ports: ({pid: [socket, ...]}, [ownerless socket, ...])."""
    protocols = ("tcp", "udp") if protocol == "both" else (protocol,)
    found = [s for s in sockets(protocols, ports, proc) if address_matches(s["local_address"], address)]
    # Inode 0 is a socket no file refers to any more; it has no owner to find.
    owners = socket_owners([s["inode"] for s in found if s["inode"]], proc)
    by_pid, ownerless = {}, []
    for entry in found:
        pids = owners.get(entry["inode"], [])
        if not pids:
            ownerless.append(entry)
        for pid in pids:
            by_pid.setdefault(pid, []).append(entry)
    return by_pid, ownerless
