"""Run a command under a child subreaper that reaps every orphan: subreaper.py CMD...

A stand-in for init inside a test: when the command's parent process is
terminated, its zombies are adopted and reaped here, as on a real host.
"""

import ctypes
import os
import subprocess
import sys

PR_SET_CHILD_SUBREAPER = 36
ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
subprocess.Popen(sys.argv[1:])
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
