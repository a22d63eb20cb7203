"""Offline stand-in for ansible-test's pip bootstrap script (get-pip.py).

ansible-test downloads get-pip.py from a host our machines cannot reach, but it
first looks for a cached copy under ~/.ansible/test/cache/. `make setup` puts
this file there. It is run inside a fresh virtualenv with pip's install
arguments: bring pip in with ensurepip, then install exactly what ansible-test
asked for. ansible-test sets PIP_CONFIG_FILE=/dev/null, which drops the
machine's CA setting, so the system trust store is passed explicitly.
"""

import os
import subprocess
import sys

SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
GET_PIP_ONLY_FLAGS = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_FLAGS]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    command = [sys.executable, "-m", "pip", "install", "--upgrade", "--force-reinstall"]
    if os.path.exists(SYSTEM_CA_BUNDLE):
        command += ["--cert", SYSTEM_CA_BUNDLE]
    subprocess.check_call(command + args)


if __name__ == "__main__":
    main()
