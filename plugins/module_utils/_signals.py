# -*- coding: utf-8 -*-
# Copyright: (c) 2026, steadyops engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Stop processes with escalation, never hitting a recycled pid.

A pid that was matched a moment ago may have exited and been reused by an
unrelated process. Every target therefore carries the start time it had when
it was matched; the signal goes through a pidfd opened *after* that start time
was checked again, so it reaches the matched process or nothing. Standard
library only, like _procfs, so hosts can run it too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import select
import signal
import time

try:
    from ansible_collections.steadyops.stack.plugins.module_utils._procfs import PROC, start_ticks_of, read_process
except ImportError:  # copied next to _procfs.py on a host
    from _procfs import PROC, start_ticks_of, read_process  # type: ignore[no-redef]

POLL_INTERVAL = 0.05

SIGNALS = {
    "SIGTERM": signal.SIGTERM,
    "SIGINT": signal.SIGINT,
    "SIGHUP": signal.SIGHUP,
    "SIGQUIT": signal.SIGQUIT,
    "SIGKILL": signal.SIGKILL,
    "SIGCHLD": signal.SIGCHLD,
}


def signal_number(name):
    return SIGNALS[name]


class Target(object):
    """A matched process: its pid and the start time that identifies it."""

    def __init__(self, pid, start_ticks):
        self.pid = pid
        self.start_ticks = start_ticks
        self.pidfd = None
        self.signals = []
        self.outcome = None

    def result(self, started):
        return {
            "pid": self.pid,
            "signals": list(self.signals),
            "outcome": self.outcome,
            "seconds": round(time.time() - started, 3),
        }


def _open(target, proc):
    """Open a pidfd, then confirm it is still the process that was matched."""
    if hasattr(os, "pidfd_open"):
        try:
            target.pidfd = os.pidfd_open(target.pid)
        except OSError as exc:
            if exc.errno == errno.ESRCH:
                target.outcome = "gone"
                return False
            if exc.errno not in (errno.ENOSYS, errno.EPERM):
                raise
    now_ticks = start_ticks_of(target.pid, proc)
    if now_ticks != target.start_ticks:
        target.outcome = "gone" if now_ticks is None else "pid reused, left alone"
        _close(target)
        return False
    return True


def _close(target):
    if target.pidfd is not None:
        os.close(target.pidfd)
        target.pidfd = None


def _send(target, signum, proc):
    try:
        if target.pidfd is not None:
            signal.pidfd_send_signal(target.pidfd, signum)
        else:
            # No pidfd (kernel < 5.3): check identity right before the signal.
            if start_ticks_of(target.pid, proc) != target.start_ticks:
                target.outcome = "gone"
                return False
            os.kill(target.pid, signum)
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            target.outcome = "gone"
            return False
        raise
    target.signals.append(signal.Signals(signum).name)
    return True


def has_exited(target, proc=PROC):
    """True once the process is a zombie or gone: it no longer runs or holds anything."""
    if target.pidfd is not None:
        poller = select.poll()
        poller.register(target.pidfd, select.POLLIN)
        return bool(poller.poll(0))
    if start_ticks_of(target.pid, proc) != target.start_ticks:
        return True
    process = read_process(target.pid, proc)
    return process is None or process.is_zombie


def _wait(targets, seconds, proc):
    deadline = time.time() + seconds
    pending = [t for t in targets if not has_exited(t, proc)]
    while pending and time.time() < deadline:
        time.sleep(POLL_INTERVAL)
        pending = [t for t in pending if not has_exited(t, proc)]
    return pending


def terminate(targets, grace=10.0, first_signal=signal.SIGTERM, final_signal=signal.SIGKILL, final_wait=5.0, proc=PROC):
    """Signal every target, wait up to `grace`, escalate to `final_signal` (None: don't), wait again.

    targets: iterable of (pid, start_ticks). Returns one dict per target with
    the signals sent and the outcome: exited, killed, survived, gone, or
    "pid reused, left alone".
    """
    started = time.time()
    targets = [Target(pid, ticks) for pid, ticks in targets]
    live = [t for t in targets if _open(t, proc)]
    try:
        live = [t for t in live if _send(t, first_signal, proc)]
        stubborn = _wait(live, grace, proc)
        for target in live:
            if target not in stubborn:
                target.outcome = "exited"
        if stubborn and final_signal is not None:
            escalated = [t for t in stubborn if _send(t, final_signal, proc)]
            still = _wait(escalated, final_wait, proc)
            for target in escalated:
                target.outcome = "survived" if target in still else "killed"
        else:
            for target in stubborn:
                target.outcome = "survived"
    finally:
        for target in targets:
            _close(target)
    return [t.result(started) for t in targets]


def notify(pid, start_ticks, signum, proc=PROC):
    """Send one signal (SIGCHLD to a zombie's parent, say) with the same identity check."""
    target = Target(pid, start_ticks)
    try:
        if not _open(target, proc):
            return target.outcome
        return "sent" if _send(target, signum, proc) else target.outcome
    finally:
        _close(target)
