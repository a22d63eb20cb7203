"""Which sockets block a bind, as the kernel decides, against what port_free's address filter says.

Every pair of a listener (IPv4, IPv6 dual-stack, IPv6-only, loopbacks, an
IPv4-mapped address) and an address a service would bind is tried with a real
bind(); the module's lookup must name the listener exactly when that bind fails.
Only sockets of this test's own process, on ports the kernel hands out.
"""

import errno
import os
import socket

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _procfs

LISTENERS = [
    ("0.0.0.0", None),
    ("127.0.0.1", None),
    ("::", False),  # dual-stack, the kernel's default (net.ipv6.bindv6only = 0)
    ("::", True),  # IPV6_V6ONLY
    ("::1", True),
    ("::ffff:127.0.0.1", False),
]
WANTED = ["0.0.0.0", "127.0.0.1", "::", "::1", "::ffff:127.0.0.1", "localhost"]


def listen(address, v6only):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(bool(v6only)))
    sock.bind((address, 0))
    sock.listen(1)
    return sock


def bind_fails(address, port):
    """Whether a server binding `address` gets EADDRINUSE (as Node does: SO_REUSEADDR, "::" dual-stack)."""
    addresses = ["127.0.0.1", "::1"] if address == "localhost" else [address]
    for each in addresses:
        family = socket.AF_INET6 if ":" in each else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            try:
                sock.bind((each, port))
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                return True
    return False


def inode_of(sock):
    return os.fstat(sock.fileno()).st_ino


@pytest.mark.parametrize(("bound", "v6only"), LISTENERS)
@pytest.mark.parametrize("wanted", WANTED)
def test_the_lookup_names_a_listener_exactly_when_the_kernel_refuses_the_bind(bound, v6only, wanted):
    sock = listen(bound, v6only)
    try:
        port = sock.getsockname()[1]
        by_pid, _ownerless = _procfs.port_holders([port], "tcp", wanted)
        ours = {entry["inode"] for entry in by_pid.get(os.getpid(), [])}
        named = inode_of(sock) in ours
        assert named is bind_fails(wanted, port), (
            "listener %s (v6only=%s) on %d, bind to %s: the kernel says %s, the lookup %s"
            % (bound, v6only, port, wanted, bind_fails(wanted, port), named)
        )
    finally:
        sock.close()
