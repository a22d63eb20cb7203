"""Reading processes and socket owners from a fake /proc: the cases a live host rarely shows."""

import subprocess
import sys
import time

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _procfs
from ansible_collections.steadyops.stack.plugins.module_utils._process_policy import own_tree
from fake_proc import BTIME, FakeProc


@pytest.fixture
def proc(tmp_path):
    return FakeProc(tmp_path / "proc")


def test_reads_a_process(proc):
    proc.add_systemd()
    proc.add(
        4242,
        "next-server",
        ppid=1,
        uid=0,
        start_ticks=_procfs.clock_ticks() * 50,
        cmdline=["next-server (v14.2.3)"],
        exe="/usr/bin/node",
        cwd="/opt/tms/current",
        cgroup="0::/user.slice/user-0.slice/session-3.scope\n",
    )
    process = _procfs.read_process(4242, str(proc.root))
    assert process.command == "next-server (v14.2.3)"
    assert process.user == "root"
    assert process.exe == "/usr/bin/node"
    assert not process.exe_deleted
    assert process.cwd == "/opt/tms/current"
    assert process.unit == "session-3.scope"
    assert process.started_at == pytest.approx(BTIME + 50)


def test_deleted_executable_is_reported_without_the_suffix(proc):
    # After a deploy replaced the binary, the old process still runs the deleted file.
    proc.add(300, "node", cmdline=["node", "server.js"], exe="/opt/tms/releases/41/node (deleted)")
    process = _procfs.read_process(300, str(proc.root))
    assert process.exe == "/opt/tms/releases/41/node"
    assert process.exe_deleted


def test_kernel_threads_are_recognised(proc):
    proc.add(2, "kthreadd", ppid=0, flags=_procfs.PF_KTHREAD)
    proc.add(57, "kworker/0:1-events", ppid=2, flags=_procfs.PF_KTHREAD)
    table = _procfs.process_table(str(proc.root))
    assert table[2].is_kernel_thread
    assert table[57].is_kernel_thread
    assert table[57].command == "[kworker/0:1-events]"


def test_pid_2_is_a_kernel_thread_only_by_the_kernels_flag(proc):
    # Inside a PID namespace (a container) pid 2 is whatever started second.
    proc.add(2, "next-server", ppid=1, cmdline=["next-server"])
    proc.add(3, "worker", ppid=2, cmdline=["worker"])
    table = _procfs.process_table(str(proc.root))
    assert not table[2].is_kernel_thread
    assert not table[3].is_kernel_thread


def test_a_process_whose_first_thread_exited_is_alive_and_holds_its_socket(proc):
    proc.add_socket("tcp", "00000000:0BB8", 6001)
    # The leader is a zombie with no fds and no command line; a second thread runs on with the socket.
    proc.add(50, "next-server", state="Z", threads=2, cmdline=[])
    proc.add_thread(50, 51, "next-server", cmdline=["next-server", "start"], fds={3: "socket:[6001]"})
    process = _procfs.read_process(50, str(proc.root))
    assert not process.is_zombie
    assert process.state == "S"
    assert process.command == "next-server start"
    by_pid, ownerless = _procfs.port_holders([3000], "tcp", proc=str(proc.root))
    assert list(by_pid) == [50]
    assert ownerless == []


def test_a_zombie_with_one_thread_is_a_zombie(proc):
    proc.add(60, "defunct", state="Z")
    assert _procfs.read_process(60, str(proc.root)).is_zombie


def test_unreadable_details_stay_empty(proc):
    proc.add(77, "secretive", cmdline=["secretive"])
    (proc.root / "77" / "cgroup").unlink()
    process = _procfs.read_process(77, str(proc.root))
    assert process.cgroup is None
    assert process.unit is None
    assert process.exe is None


def test_a_process_that_is_gone_is_none(proc):
    assert _procfs.read_process(999, str(proc.root)) is None


def test_owners_of_ipv4_and_ipv6_sockets(proc):
    proc.add_socket("tcp", "00000000:0BB8", 1001)
    proc.add_socket("tcp6", "00000000000000000000000001000000:0BB8", 1002)
    proc.add_socket("udp6", "00000000000000000000000001000000:0BB8", 1003, state="07")
    proc.add_socket("tcp", "0100007F:1F40", 1004)  # another port
    proc.add(10, "next-server", cmdline=["next-server"], fds={0: "/dev/null", 3: "socket:[1001]", 4: "socket:[1002]"})
    proc.add(11, "worker", cmdline=["worker"], fds={3: "socket:[1001]"})  # a forked child shares the socket
    proc.add(12, "dns", cmdline=["dns"], fds={5: "socket:[1003]"})
    proc.add(13, "api", cmdline=["api"], fds={3: "socket:[1004]"})

    by_pid, ownerless = _procfs.port_holders([3000], "tcp", proc=str(proc.root))
    assert sorted(by_pid) == [10, 11]
    assert sorted(s["protocol"] for s in by_pid[10]) == ["tcp", "tcp6"]
    assert ownerless == []

    by_pid, _ownerless = _procfs.port_holders([3000], "both", proc=str(proc.root))
    assert sorted(by_pid) == [10, 11, 12]

    by_pid, _ownerless = _procfs.port_holders([3000], "udp", proc=str(proc.root))
    assert list(by_pid) == [12]
    assert by_pid[12][0]["local_address"] == "::1"


def test_time_wait_holds_nothing(proc):
    proc.add_socket("tcp", "0100007F:0BB8", 0, state="06")  # TIME_WAIT: no inode, no process
    proc.add_socket("tcp", "0100007F:0BB8", 2001, state="01")  # an accepted connection, not a listener
    proc.add(20, "client", fds={3: "socket:[2001]"})
    by_pid, ownerless = _procfs.port_holders([3000], "tcp", proc=str(proc.root))
    assert by_pid == {}
    assert ownerless == []


def test_unreadable_fd_table_is_skipped_not_fatal(proc):
    proc.add_socket("tcp", "00000000:0BB8", 3001)
    proc.add(30, "hidden", fds="unreadable")
    proc.add(31, "visible", fds={3: "socket:[3001]"})
    by_pid, _ownerless = _procfs.port_holders([3000], "tcp", proc=str(proc.root))
    assert list(by_pid) == [31]


def test_listener_with_no_visible_owner_is_reported_ownerless(proc):
    # Another PID namespace holds it: we see the socket, not the process.
    proc.add_socket("tcp", "00000000:0BB8", 4001)
    by_pid, ownerless = _procfs.port_holders([3000], "tcp", proc=str(proc.root))
    assert by_pid == {}
    assert [s["inode"] for s in ownerless] == [4001]


def test_address_filter_keeps_wildcards(proc):
    proc.add_socket("tcp", "0100007F:0BB8", 5001)  # 127.0.0.1
    proc.add_socket("tcp", "0200007F:0BB8", 5002)  # 127.0.0.2
    proc.add_socket("tcp", "00000000:0BB8", 5003)  # 0.0.0.0
    proc.add(40, "a", fds={3: "socket:[5001]"})
    proc.add(41, "b", fds={3: "socket:[5002]"})
    proc.add(42, "c", fds={3: "socket:[5003]"})
    by_pid, _ownerless = _procfs.port_holders([3000], "tcp", address="127.0.0.2", proc=str(proc.root))
    assert sorted(by_pid) == [41, 42]


def test_ancestors_and_descendants(proc):
    proc.add(1, "systemd", ppid=0)
    proc.add(100, "sshd", ppid=1)
    proc.add(200, "bash", ppid=100)
    proc.add(300, "python3", ppid=200)
    proc.add(400, "systemctl", ppid=300)
    proc.add(500, "unrelated", ppid=1)
    table = _procfs.process_table(str(proc.root))
    assert _procfs.ancestors(300, table) == [200, 100, 1]
    assert sorted(_procfs.descendants(100, table)) == [200, 300, 400]


def test_the_own_tree_from_ancestry_equals_the_one_from_the_whole_table():
    # A child with a grandchild of its own, both real processes of this test.
    child = subprocess.Popen([sys.executable, "-c", "import subprocess; subprocess.run(['sleep', '30'])"])
    try:
        for _attempt in range(100):
            if _procfs.children_of(child.pid):
                break
            time.sleep(0.02)
        fast = _procfs.own_tree_pids()
        assert child.pid in fast
        assert set(_procfs.children_of(child.pid)) <= fast, "the grandchild too"
        assert fast == own_tree(_procfs.process_table())
    finally:
        child.kill()
        child.wait()


def test_the_own_tree_falls_back_to_the_table_without_children_files(proc):
    # A fake /proc has no task/<tid>/children files, as a kernel without CONFIG_PROC_CHILDREN.
    proc.add_systemd()
    proc.add(100, "sshd", ppid=1)
    proc.add(200, "python3", ppid=100)
    proc.add(300, "sleep", ppid=200)
    proc.add(400, "other", ppid=1)
    proc.add_thread(200, 200, "python3")
    assert _procfs.own_tree_pids(200, str(proc.root)) == {1, 100, 200, 300}
