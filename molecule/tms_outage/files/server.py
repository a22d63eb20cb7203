"""Stand-in for the Next.js server: serves HTTP on the port given, like `next start`."""

import http.server
import sys

PORT = int(sys.argv[1])


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"tms-frontend ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("0.0.0.0", PORT), Health).serve_forever()  # noqa: S104 - a server stand-in
