#!/usr/bin/env bash
# Unit and integration tests on this machine: real processes, sockets and
# PostgreSQL (tests/conftest.py starts a throw-away server). Arguments go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"

step "pytest ${*:-tests}"
exec python -m pytest "${@:-tests}"
