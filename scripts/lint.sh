#!/usr/bin/env bash
# Static checks: yamllint, ansible-lint (production profile), shellcheck, changelog fragments, ruff.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"

step "yamllint"
yamllint --strict .
step "ansible-lint (production profile)"
# Molecule's prerun (off in our config since) copied this collection into
# ~/.ansible/collections; such a copy shadows the work tree and hides roles
# added after it was made, so it is removed here.
stale="$HOME/.ansible/collections/ansible_collections/steadyops/stack"
if [[ -d "$stale" && ! -L "$stale" ]]; then
  rm -rf "$stale"
  note changed "removed $stale, a stale copy of this collection"
fi
ansible-lint --nocolor
step "shellcheck"
shellcheck -S warning .ci/run scripts/*.sh scripts/lab/*.sh
step "service model copies in role argument specs"
python scripts/sync_service_model.py --check
step "queue_purge's options in the maintenance role"
python scripts/sync_queue_options.py --check
step "changelog fragments"
antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
python scripts/changelog_check.py
step "ruff"
ruff check .
ruff format --check .
