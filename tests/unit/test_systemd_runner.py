"""_systemd runs no process itself: the caller hands in a runner (a module's run_command, the hosts' _host_exec)."""

import sys
from pathlib import Path

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _systemd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "roles" / "host_helpers" / "files"))
import _host_exec  # the hosts' runner, from the role's files


@pytest.fixture
def runner():
    calls = []

    def run(argv, timeout):
        calls.append((argv, timeout))
        if argv[-1] == "broken.service":
            return 5, "", "Failed to stop broken.service: Unit broken.service not loaded.\n"
        if argv[-1] == "stuck.service":
            return 1, "", "Job for stuck.service canceled.\n"
        return 0, "", ""

    previous = _systemd.RUN
    _systemd.use(run)
    yield calls
    _systemd.use(previous)


def test_stop_asks_the_runner_sockets_first_then_services_in_order_and_reports_real_failures(runner):
    ok, message = _systemd.stop(["web.service", "web.socket", "broken.service", "stuck.service"])
    assert [argv for argv, _timeout in runner] == [
        ["systemctl", "stop", "--", "web.socket"],
        ["systemctl", "stop", "--", "web.service"],
        ["systemctl", "stop", "--", "broken.service"],
        ["systemctl", "stop", "--", "stuck.service"],
    ]
    # A unit that is not loaded has nothing to stop; a job that failed is a failure.
    assert (ok, message) == (False, "Job for stuck.service canceled.")


def test_without_a_runner_the_shared_code_says_what_the_caller_forgot():
    previous = _systemd.RUN
    _systemd.use(None)
    try:
        with pytest.raises(RuntimeError, match=r"must call _systemd.use\(\) or use_module\(\) first"):
            _systemd.restart("web.service")
    finally:
        _systemd.use(previous)


def test_the_hosts_runner_runs_in_the_c_locale_and_reports_what_could_not_run():
    assert _host_exec.run([sys.executable, "-c", "import os; print(os.environ['LC_ALL'])"], 10) == (0, "C\n", "")
    returncode, stdout, stderr = _host_exec.run(["/nonexistent/systemctl"], 10)
    assert (returncode, stdout) == (None, "")
    assert "No such file" in stderr
