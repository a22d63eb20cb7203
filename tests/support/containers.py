"""A Docker container for a test: started from a local image, waited for, always removed."""

import subprocess
import time
import uuid


class Container:
    def __init__(self, name):
        self.name = name

    @classmethod
    def run(cls, image, command, network="none", ready=None, timeout=30):
        name = "steadyops-test-%s" % uuid.uuid4().hex[:12]
        subprocess.run(
            ["docker", "run", "-d", "--rm", "--pull", "never", "--name", name, "--network", network, image, *command],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
        container = cls(name)
        if ready:
            container.wait_for_log(ready, timeout)
        return container

    def logs(self):
        return subprocess.run(["docker", "logs", self.name], capture_output=True, text=True, check=False).stdout

    def wait_for_log(self, text, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.logs():
                return
            time.sleep(0.2)
        raise AssertionError("container %s did not print %r within %ss" % (self.name, text, timeout))

    def is_running(self):
        state = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}}", self.name], capture_output=True, text=True, check=False
        )
        return state.stdout.strip() == "true"

    def remove(self):
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True, check=False, timeout=60)
