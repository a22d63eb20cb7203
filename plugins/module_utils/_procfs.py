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
import ipaddress
import os
import pwd
import time

try:
    from ansible_collections.steadyops.stack.plugins.module_utils import _owners, _sockdiag
except ImportError:  # copied next to _sockdiag.py on a host
    import _owners  # type: ignore[no-redef]
    import _sockdiag  # type: ignore[no-redef]

PROC = "/proc"

# include/linux/sched.h: the task is a kernel thread.
PF_KTHREAD = 0x00200000

TCP_LISTEN = "0A"
NET_FILES = {
    "tcp": (("tcp", 4), ("tcp6", 6)),
    "udp": (("udp", 4), ("udp6", 6)),
}


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
        "owner",
        "pid_namespaces",
        "threads",
    )

    def __init__(self, **fields):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))

    @property
    def unit(self):
        """The system unit this process belongs to (the owner of a delegated subtree), or None."""
        return self.owner.unit if self.owner is not None else None

    @property
    def is_kernel_thread(self):
        # The kernel's own flag: pid 2 is an ordinary process inside a PID namespace.
        return bool((self.flags or 0) & PF_KTHREAD)

    @property
    def is_zombie(self):
        """Dead and waiting for its parent. A leader that exited while its threads run is not."""
        return self.state == "Z" and (self.threads or 1) <= 1

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
            "owner": self.owner.describe() if self.owner is not None else None,
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


def parse_status(text):
    """From /proc/<pid>/status: the real uid, how many PID namespaces the process has a pid in, its threads."""
    fields = {"uid": None, "pid_namespaces": 1, "threads": 1}
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        if key == "Uid":
            fields["uid"] = int(value.split()[0])
        elif key == "NSpid":
            # One pid per namespace from ours down to the process's own: more than one is a container.
            fields["pid_namespaces"] = max(1, len(value.split()))
        elif key == "Threads":
            fields["threads"] = int(value)
    return fields


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


def read_cgroup(pid, proc=PROC):
    try:
        return parse_cgroup(_read_text(os.path.join(proc, str(pid), "cgroup")))
    except (IOError, OSError):
        return None


def manager_root(proc=PROC):
    """The cgroup systemd manages from on this host, or None when PID 1 is not systemd."""
    return _owners.manager_root(read_cgroup(1, proc))


_UNSET = object()
_OWN = {}


def own_context(proc=PROC):
    """(cgroup, number of PID namespaces) of this process: where "another container" is measured from."""
    if proc not in _OWN:
        try:
            namespaces = parse_status(_read_text(os.path.join(proc, "self", "status")))["pid_namespaces"]
        except (IOError, OSError):
            namespaces = 1
        _OWN[proc] = (read_cgroup("self", proc), namespaces)
    return _OWN[proc]


def _live_thread(base, pid):
    """The /proc/<pid>/task/<tid> directory of a thread other than the (exited) first one."""
    try:
        tids = sorted(int(t) for t in os.listdir(os.path.join(base, "task")) if t.isdigit() and int(t) != pid)
    except OSError:
        return None
    for tid in tids:
        path = os.path.join(base, "task", str(tid))
        try:
            if parse_stat(_read_text(os.path.join(path, "stat")))["state"] not in ("Z", "X"):
                return path
        except (IOError, OSError, ValueError, IndexError):
            continue
    return None


def read_process(pid, proc=PROC, btime=None, ticks=None, root=_UNSET):
    """A Process for pid, or None when it has gone. Unreadable details stay None.

    root is the manager's cgroup root (manager_root()); read from PID 1 when not given.
    """
    base = os.path.join(proc, str(pid))
    try:
        stat = parse_stat(_read_text(os.path.join(base, "stat")))
        status = parse_status(_read_text(os.path.join(base, "status")))
    except (IOError, OSError) as exc:
        if exc.errno in (errno.ENOENT, errno.ESRCH):
            return None
        raise
    details = base
    if stat["state"] == "Z" and status["threads"] > 1:
        # The first thread exited and the others run on: the process lives, and its
        # command line, executable and state are read from a thread that runs.
        details = _live_thread(base, pid) or base
        if details != base:
            stat["state"] = parse_stat(_read_text(os.path.join(details, "stat")))["state"]
    try:
        cmdline = parse_cmdline(_read_bytes(os.path.join(details, "cmdline")))
    except (IOError, OSError):
        cmdline = []
    cgroup = read_cgroup(pid, proc)
    exe = _readlink(os.path.join(details, "exe"))
    exe_deleted = bool(exe and exe.endswith(" (deleted)"))
    if exe_deleted:
        exe = exe[: -len(" (deleted)")]
    btime = boot_time(proc) if btime is None else btime
    ticks = clock_ticks() if ticks is None else ticks
    root = manager_root(proc) if root is _UNSET else root
    return Process(
        pid=stat["pid"],
        ppid=stat["ppid"],
        state=stat["state"],
        comm=stat["comm"],
        flags=stat["flags"],
        uid=status["uid"],
        user=user_name(status["uid"]),
        start_ticks=stat["start_ticks"],
        started_at=btime + stat["start_ticks"] / float(ticks),
        cmdline=cmdline,
        exe=exe,
        exe_deleted=exe_deleted,
        cwd=_readlink(os.path.join(details, "cwd")),
        cgroup=cgroup,
        owner=_owners.classify(cgroup, root, status["pid_namespaces"], own_context(proc)),
        pid_namespaces=status["pid_namespaces"],
        threads=status["threads"],
    )


def process_table(proc=PROC):
    """Every process readable now, by pid. Processes that exit while we read are left out."""
    btime, ticks, root = boot_time(proc), clock_ticks(), manager_root(proc)
    table = {}
    for pid in list_pids(proc):
        process = read_process(pid, proc, btime, ticks, root)
        if process is not None:
            table[pid] = process
    return table


def start_ticks_of(pid, proc=PROC):
    """The start time of pid in clock ticks, or None if gone: identifies a pid against reuse."""
    try:
        return parse_stat(_read_text(os.path.join(proc, str(pid), "stat")))["start_ticks"]
    except (IOError, OSError, ValueError, IndexError):
        return None


def ancestor_pids(pid, proc=PROC):
    """pid's parent, grandparent, ... up to PID 1, read from /proc one process at a time.

    Cheaper than a whole process table when only one line of ancestry matters.
    """
    seen = []
    current = pid
    while True:
        try:
            parent = parse_stat(_read_text(os.path.join(proc, str(current), "stat")))["ppid"]
        except (IOError, OSError, ValueError, IndexError):
            return seen
        if not parent or parent in seen or parent == pid:
            return seen
        seen.append(parent)
        current = parent


def children_of(pid, proc=PROC):
    """pid's children, from each thread's /proc/<pid>/task/<tid>/children; None where the kernel has none."""
    try:
        tids = os.listdir(os.path.join(proc, str(pid), "task"))
    except OSError:
        return []
    found = []
    for tid in tids:
        try:
            found.extend(int(c) for c in _read_text(os.path.join(proc, str(pid), "task", tid, "children")).split())
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT and os.path.isdir(os.path.join(proc, str(pid), "task", tid)):
                return None  # a kernel without CONFIG_PROC_CHILDREN
        except ValueError:
            continue
    return found


def own_tree_pids(pid=None, proc=PROC):
    """This process, its ancestors (the Ansible connection) and its descendants.

    Read along the process's own line of ancestry and its children, not the
    whole process table: on a host with thousands of processes that table
    cost more than the port lookup itself.
    """
    pid = os.getpid() if pid is None else pid
    tree = {pid, *ancestor_pids(pid, proc)}
    stack = [pid]
    while stack:
        children = children_of(stack.pop(), proc)
        if children is None:
            table = process_table(proc)
            return tree | set(descendants(pid, table))
        for child in children:
            if child not in tree:
                tree.add(child)
                stack.append(child)
    return tree


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


def parse_address(text):
    """The addresses a caller's `address` stands for: an IP literal, or localhost (both loopbacks).

    Raises ValueError for anything else, so a typo never quietly matches nothing.
    """
    if text is None:
        return None
    value = text.strip()
    if value.lower() == "localhost":
        return [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    try:
        return [_plain(ipaddress.ip_address(value.strip("[]")))]
    except ValueError:
        raise ValueError(
            "%r is not an IP address: give an IPv4 or IPv6 address (127.0.0.1, ::1) or localhost" % text
        ) from None


def _plain(address):
    """An IPv4-mapped IPv6 address (::ffff:127.0.0.1) as the IPv4 address it carries."""
    return address.ipv4_mapped or address if address.version == 6 else address


def address_matches(bound, wanted, v6only=None):
    """Whether a socket bound to `bound` (text) blocks a bind to any of `wanted` (parse_address()) on its port.

    As the kernel decides: a wildcard takes every address of its family; an
    IPv6 wildcard takes IPv4 too unless the socket is IPv6-only (v6only, from
    sock_diag; None, unknown, counts as taking it); a bind to "::" is
    dual-stack (Node's listen(port)), so any IPv4 socket blocks it too; an
    IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 address.
    """
    if wanted is None:
        return True
    address = _plain(ipaddress.ip_address(bound))
    return any(_blocks(address, v6only, want) for want in wanted)


def _blocks(bound, v6only, want):
    if bound.version == 4:
        if want.version == 4:
            return bound.is_unspecified or want.is_unspecified or bound == want
        return want.is_unspecified
    if bound.is_unspecified:
        return want.version == 6 or not v6only
    return want.version == 6 and (want.is_unspecified or bound == want)


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
    return [
        (inode, int(path.split("/")[-2]))
        for inode, path in _scan_owners_at(["%s/%d/fd" % (proc, pid) for pid in pids], targets)
    ]


def _scan_owners_at(fd_paths, targets):
    """(inode, fd directory) pairs for each fd directory holding one of the target links."""
    pairs = []
    for path in fd_paths:
        try:
            fd_dir = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue  # gone, or not ours to read
        try:
            held = _held_targets(fd_dir, targets)
        except OSError:
            held = set()
        finally:
            os.close(fd_dir)
        pairs.extend((inode, path) for inode in held)
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
    found = {inode for inode, _pid in pairs}
    missing = dict((link, inode) for link, inode in targets.items() if inode not in found)
    if missing:
        pairs.extend(_scan_exited_leaders(pids, missing, proc))
    for inode, pid in sorted(pairs, key=lambda pair: pair[1]):
        owners[inode].append(pid)
    return owners


def _scan_exited_leaders(pids, targets, proc):
    """(inode, pid) pairs held by threads of a process whose first thread has exited.

    When a thread-group leader exits while other threads run, /proc/<pid> shows
    a zombie with no fds; the sockets are still open, in /proc/<pid>/task/<tid>/fd.
    """
    pairs = []
    for pid in pids:
        try:
            status = _read_text("%s/%d/status" % (proc, pid))
        except (IOError, OSError):
            continue
        if "\nState:\tZ" not in status or parse_status(status)["threads"] <= 1:
            continue
        try:
            tids = [int(t) for t in os.listdir("%s/%d/task" % (proc, pid)) if t.isdigit() and int(t) != pid]
        except OSError:
            continue
        held = set()
        for tid in tids:
            held |= {inode for inode, _path in _scan_owners_at(["%s/%d/task/%d/fd" % (proc, pid, tid)], targets)}
        pairs.extend((inode, pid) for inode in held)
    return pairs


def port_holders(ports, protocol="tcp", address=None, proc=PROC):
    """Who holds the given ports: ({pid: [socket, ...]}, [ownerless socket, ...])."""
    protocols = ("tcp", "udp") if protocol == "both" else (protocol,)
    if isinstance(address, str):
        address = parse_address(address)
    found = [
        s for s in sockets(protocols, ports, proc) if address_matches(s["local_address"], address, s.get("v6only"))
    ]
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
