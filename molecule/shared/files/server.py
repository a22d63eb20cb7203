"""A stand-in service: answers HTTP on the given port with its name and LOG_LEVEL.

/health answers 500 while the file /run/<name>-unhealthy exists, so tests can
make a running service unhealthy.
"""

import http.server
import os
import sys

NAME, PORT = sys.argv[1], int(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        failing = self.path == "/health" and os.path.exists("/run/%s-unhealthy" % NAME)
        body = "%s %s log_level=%s\n" % (NAME, "failing" if failing else "ok", os.environ.get("LOG_LEVEL", "unset"))
        body = body.encode()
        self.send_response(500 if failing else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
