"""A local SMTP sink for the tests: every message received becomes a file in the spool directory."""

import asyncore
import os
import smtpd
import sys
import time

SPOOL = sys.argv[2] if len(sys.argv) > 2 else "/var/spool/smtp-sink"


class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        os.makedirs(SPOOL, exist_ok=True)
        name = os.path.join(SPOOL, "%d.eml" % time.time_ns())
        with open(name, "wb") as handle:
            handle.write(data if isinstance(data, bytes) else data.encode())


Sink(("127.0.0.1", int(sys.argv[1])), None)
asyncore.loop()
