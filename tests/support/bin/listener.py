"""Hold one socket until killed: listener.py PROTOCOL FAMILY PORT IGNORE_TERM [HIGH_FD].

PROTOCOL is tcp, udp, tcp-bound (bound, never listening: it still blocks the
next bind) or tcp-leaderless (listening from a second thread after the first
thread exited, so /proc/<pid> looks like a zombie).
Prints the bound port once listening. With IGNORE_TERM=1 it ignores SIGTERM,
like a server stuck in shutdown, so only escalation stops it. With HIGH_FD the
socket moves to that fd number, leaving a gap in the fd table.
"""

import ctypes
import os
import signal
import socket
import sys
import threading
import time

mode, family, port, ignore_term = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
protocol = mode.split("-")[0]
if ignore_term:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
sock = socket.socket(
    socket.AF_INET if family == 4 else socket.AF_INET6,
    socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM,
)
if family == 6:
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
sock.bind(("127.0.0.1" if family == 4 else "::1", port))
if mode in ("tcp", "tcp-leaderless"):
    sock.listen(16)
if len(sys.argv) > 5:
    high = os.dup2(sock.fileno(), int(sys.argv[5]))
    sock.detach()
    os.close(3)
    sock = socket.socket(fileno=high)
print(sock.getsockname()[1], flush=True)
if mode == "tcp-leaderless":
    keeper = threading.Thread(target=time.sleep, args=(3600,))
    keeper.start()
    # pthread_exit through ctypes releases the GIL first: the keeper thread runs on, holding the socket.
    ctypes.CDLL(None).pthread_exit(None)
while True:
    time.sleep(3600)
