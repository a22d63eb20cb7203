#!/usr/bin/env bash
# Molecule scenarios on the systemd lab containers. With no argument every
# scenario runs; `scripts/molecule.sh lab` runs one.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"
bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh

export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
if (( $# == 0 )); then
  step "molecule test --all"
  exec molecule test --all
fi
for scenario in "$@"; do
  step "molecule test -s $scenario"
  molecule test -s "$scenario"
done
