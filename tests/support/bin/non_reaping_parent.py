"""A parent with one zombie child: non_reaping_parent.py MODE. Prints the child's pid.

never-reap: SIGCHLD keeps its default action, so the dead child stays a zombie
whatever anyone sends. reap-on-second: reaps when a second SIGCHLD arrives,
like a daemon whose first notification was lost.
"""

import os
import signal
import sys
import time

seen = []


def reap_on_second(signum, _frame):
    seen.append(signum)
    if len(seen) < 2:
        return
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if sys.argv[1] == "reap-on-second":
    signal.signal(signal.SIGCHLD, reap_on_second)
child = os.fork()
if child == 0:
    os._exit(0)
print(child, flush=True)
while True:
    time.sleep(3600)
