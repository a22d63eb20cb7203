"""A stand-in service: answers HTTP on the given port with its name and LOG_LEVEL."""

import http.server
import os
import sys

NAME, PORT = sys.argv[1], int(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s ok log_level=%s\n" % (NAME, os.environ.get("LOG_LEVEL", "unset"))).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
