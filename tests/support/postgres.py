"""A throw-away PostgreSQL server for the tests, run as the postgres user on a Unix socket."""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """initdb, pg_ctl start, and stop; connections go through the socket directory."""

    def __init__(self):
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError("PostgreSQL 15 is not installed (%s missing): run `make setup`" % (PG_BIN / "initdb"))
        self.account = pwd.getpwnam("postgres")
        self.root = Path(tempfile.mkdtemp(prefix="steadyops-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.port = _free_port()
        os.chown(self.root, self.account.pw_uid, self.account.pw_gid)

    def _as_postgres(self, *command):
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *map(str, command)],
            check=True,
            capture_output=True,
            text=True,
        )

    def start(self):
        self._as_postgres(PG_BIN / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")
        return self.resume()

    def resume(self):
        """Start the server on its data directory (after halt())."""
        options = "-p %d -k %s -c listen_addresses='' -c fsync=off" % (self.port, self.socket_dir)
        self._as_postgres(
            PG_BIN / "pg_ctl", "-D", self.data, "-o", options, "-l", self.root / "server.log", "-w", "start"
        )
        return self

    def halt(self, mode="fast"):
        """pg_ctl stop -m MODE, keeping the data: what an operator's restart does to a running client."""
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def stop(self):
        with contextlib.suppress(subprocess.CalledProcessError):
            self._as_postgres(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def login(self, db="postgres"):
        """Module parameters that reach this server."""
        return {
            "login_unix_socket": str(self.socket_dir),
            "login_port": self.port,
            "login_user": "postgres",
            "login_db": db,
        }

    def conninfo(self, db="postgres"):
        return "host=%s port=%d user=postgres dbname=%s" % (self.socket_dir, self.port, db)
