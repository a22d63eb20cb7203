"""An env file's size against the kernel's execve: what the preflight accepts starts; what cannot is refused."""

import errno
import subprocess

import pytest
from ansible_collections.steadyops.stack.plugins.module_utils import _env_rules

SERVICE = {"name": "tms-api", "env_secrets": []}


def starts(values):
    """Whether /bin/true starts with VALUES as its whole environment (the kernel's answer, E2BIG or not)."""
    try:
        subprocess.run(["/bin/true"], env={k: str(v) for k, v in values.items()}, check=True)
    except OSError as exc:
        if exc.errno != errno.E2BIG:
            raise
        return False
    return True


def refused(values):
    return bool(_env_rules.problems(dict(SERVICE, env=values), {}, []))


# One entry around MAX_ARG_STRLEN (KEY=value plus its NUL at most 131072 bytes), in ASCII and in UTF-8.
ONE_ENTRY = [{"BIG": "x" * n} for n in range(131060, 131075)] + [{"BIG": "\u00fc" * n} for n in (65532, 65533, 65534)]
# Many entries that together pass half and all of ARG_MAX (2 MiB under the default 8 MiB stack limit).
MANY = [{"K%04d" % i: "y" * 100000 for i in range(count)} for count in (5, 10, 11, 20, 21, 25)]


@pytest.mark.parametrize(
    "values", ONE_ENTRY + MANY, ids=lambda v: "%d-keys-%d-bytes" % (len(v), sum(map(len, v.values())))
)
def test_an_accepted_env_starts_and_one_that_would_not_start_is_refused(values):
    if not refused(values):
        assert starts(values)
    if not starts(values):
        assert refused(values)


def test_one_entry_is_refused_exactly_where_the_kernel_refuses_it():
    verdicts = [(refused(values), not starts(values)) for values in ONE_ENTRY]
    assert all(said == kernel for said, kernel in verdicts), verdicts
    assert {said for said, _kernel in verdicts} == {True, False}
