"""The owner scan on real processes: sock_diag against /proc/net, workers, fd gaps."""

import os

from ansible_collections.steadyops.stack.plugins.module_utils import _procfs, _sockdiag


def test_sock_diag_and_proc_net_agree(listeners):
    ports = [listeners(protocol=p, family=f)[1] for p, f in (("tcp", 4), ("tcp", 6), ("udp", 4), ("udp", 6))]
    by_kernel = sorted(_sockdiag.sockets_on_ports(("tcp", "udp"), ports), key=lambda s: s["inode"])
    by_file = sorted(_procfs.sockets_from_proc_net(("tcp", "udp"), ports), key=lambda s: s["inode"])
    assert len(by_kernel) == 4
    # Only the kernel tells whether an IPv6 socket is IPv6-only (listener.py sets it); /proc/net cannot.
    assert [s.pop("v6only") for s in by_kernel] == [None if s["family"] == 4 else True for s in by_kernel]
    assert [s.pop("v6only") for s in by_file] == [None] * 4
    assert by_kernel == by_file


def test_serial_and_parallel_scans_agree(listeners):
    procs = [listeners()[0] for _n in range(3)]
    inodes = []
    for proc in procs:
        links = [os.readlink("/proc/%d/fd/%s" % (proc.pid, fd)) for fd in os.listdir("/proc/%d/fd" % proc.pid)]
        inodes += [int(link[8:-1]) for link in links if link.startswith("socket:[")]
    serial = _procfs.socket_owners(inodes, workers=1)
    parallel = _procfs.socket_owners(inodes, workers=2)
    assert serial == parallel
    assert sorted(pid for pids in serial.values() for pid in pids) == sorted(p.pid for p in procs)


def test_a_gap_in_the_fd_table_falls_back_to_listing(listeners):
    # fds 0, 1, 2 and 200: the fd count (4) does not cover fd 200.
    proc, port = listeners(high_fd=200)
    assert os.readlink("/proc/%d/fd/200" % proc.pid).startswith("socket:[")
    by_pid, ownerless = _procfs.port_holders([port], "tcp")
    assert list(by_pid) == [proc.pid]
    assert ownerless == []
