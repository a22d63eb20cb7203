#!/usr/bin/env bash
# Static checks: yamllint, ansible-lint (production profile), ruff.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"

step "yamllint"
yamllint --strict .
step "ansible-lint (production profile)"
ansible-lint --nocolor
step "shellcheck"
shellcheck -S warning .ci/run scripts/*.sh scripts/lab/*.sh
step "service model copies in role argument specs"
python scripts/sync_service_model.py --check
step "ruff"
ruff check .
ruff format --check .
