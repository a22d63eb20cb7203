#!/usr/bin/env bash
# Unit and integration tests on this machine: real processes, sockets and
# PostgreSQL (tests/conftest.py starts a throw-away server). Arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"

if [ "$#" -eq 0 ]; then
  # The whole suite, as make test runs it: its slowest tests are printed, so a stage that grew says where.
  set -- --durations=15 tests
fi
step "pytest $*"
exec python -m pytest "$@"
