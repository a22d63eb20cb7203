"""A listener for the leftover matrix: binds PORT, tells systemd it is ready, serves until killed.

    next-server matrix_server.py PORT

It says READY=1 over $NOTIFY_SOCKET when a unit of Type=notify gave it one
(NotifyAccess=all): the same program stands in for every Type.
"""

import os
import socket
import sys

port = int(sys.argv[1])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", port))  # noqa: S104 - a server stand-in, as Node's listen(port)
server.listen(16)
where = os.environ.get("NOTIFY_SOCKET")
if where:
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.connect("\0" + where[1:] if where.startswith("@") else where)
    notify.sendall(b"READY=1")
while True:
    connection, _peer = server.accept()
    connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    connection.close()
