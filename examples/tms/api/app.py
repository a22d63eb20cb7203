"""The demo API: /health reads PostgreSQL; /api/jobs enqueues work for the worker.

Standard library HTTP plus psycopg. It reads its port from PORT (the unit sets
it) and the database from DATABASE_URL (the env file, from the vault).
"""

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RELEASE = ROOT.name
BROKEN = (ROOT / "BREAK_API_HEALTH").exists()


def query(sql, args=(), fetch=True):
    with psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=3) as conn:
        rows = conn.execute(sql, args)
        return rows.fetchall() if fetch else None


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path in ("/health", "/api/health"):
            try:
                counts = dict(query("SELECT status, count(*) FROM tds_sync_queue GROUP BY status"))
            except psycopg.Error as exc:
                self.reply(503, {"status": "database unreachable", "error": str(exc).splitlines()[0]})
                return
            status = 500 if BROKEN else 200
            self.reply(status, {"status": "broken on purpose" if BROKEN else "ok", "release": RELEASE, "jobs": counts})
        elif self.path.startswith("/api/jobs/"):
            job = self.path.rsplit("/", 1)[1]
            rows = query("SELECT status, attempt_count FROM tds_sync_queue WHERE id = %s", (job,))
            self.reply(200 if rows else 404, {"status": rows[0][0], "attempts": rows[0][1]} if rows else {})
        else:
            self.reply(200 if self.path == "/api/" else 404, {"service": "tms-api", "release": RELEASE})

    def do_POST(self):
        if self.path != "/api/jobs":
            self.reply(404, {})
            return
        length = int(self.headers.get("Content-Length") or 0)
        payload = self.rfile.read(length).decode() or "{}"
        rows = query("INSERT INTO tds_sync_queue (status, payload) VALUES ('pending', %s) RETURNING id", (payload,))
        self.reply(201, {"id": rows[0][0]})

    def log_message(self, fmt, *args):
        sys.stderr.write("tms-api %s: %s\n" % (RELEASE, fmt % args))


def main():
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8000"))), Handler)
    # On SIGTERM: stop accepting, let in-flight requests finish (block_on_close), exit.
    server.daemon_threads = False
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print("tms-api %s listening on %s" % (RELEASE, server.server_address[1]), flush=True)
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
