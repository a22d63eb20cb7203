"""A real SMTP server with STARTTLS on a loopback port, for the health check's mail, and the certificates it needs."""

import datetime
import ipaddress
import socketserver
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, key, issuer, issuer_key, *, ca, names=()):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certificates(directory, server_names):
    """A private CA (ca.pem) and a server certificate it signs for SERVER_NAMES (server.pem, server.key)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("steadyops test CA", ca_key, "steadyops test CA", ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    alt = [
        x509.IPAddress(ipaddress.ip_address(name)) if name[0].isdigit() else x509.DNSName(name) for name in server_names
    ]
    server = _certificate(server_names[0], key, "steadyops test CA", ca_key, ca=False, names=alt)
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "ca.pem"


class _Session(socketserver.StreamRequestHandler):
    """One client: EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, QUIT; everything it does is logged."""

    def say(self, *lines):
        for line in lines:
            self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        log = self.server.events
        tls = False
        self.say("220 sink.test ESMTP")
        while True:
            line = self.rfile.readline().decode(errors="replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if not line or verb == "QUIT":
                self.say("221 bye")
                return
            if verb in ("EHLO", "HELO"):
                self.say("250-sink.test", "250-AUTH PLAIN LOGIN", "250 STARTTLS" if not tls else "250 8BITMIME")
            elif verb == "STARTTLS":
                self.say("220 ready")
                try:
                    self.request = self.server.context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError) as exc:
                    log.append(("handshake failed", str(exc)))
                    return
                tls = True
                log.append(("tls",))
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb")
            elif verb == "AUTH":
                log.append(("auth", tls, line))
                self.say("235 ok")
            elif verb == "DATA":
                self.say("354 go on")
                body = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    body.append(data)
                log.append(("message", tls, b"".join(body).decode(errors="replace")))
                self.say("250 queued")
            else:
                self.say("250 ok")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server(certificate_dir):
    """An SMTP server on 127.0.0.1 offering STARTTLS with server.pem: (server, port); server.events logs."""
    server = _Server(("127.0.0.1", 0), _Session)
    server.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.context.load_cert_chain(certificate_dir / "server.pem", certificate_dir / "server.key")
    server.events = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]
