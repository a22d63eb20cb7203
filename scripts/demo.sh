#!/usr/bin/env bash
# The local demo: lab containers standing in for the staging hosts, reached
# through inventories/demo. The containers come from the `lab` Molecule
# scenario, so the container settings live in one place (.config/molecule).
# `--destroy` removes them. The deploy playbook plugs in here once it lands.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1

if [[ "${1:-}" == --destroy ]]; then
  step "Destroy the demo hosts"
  molecule destroy -s lab
  exit 0
fi

bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh

step "Demo hosts up (molecule create + prepare, scenario lab)"
molecule create -s lab
molecule prepare -s lab --force

step "Reach every demo host through inventories/demo"
ansible -i inventories/demo all -m ansible.builtin.ping

step "Demo hosts"
ansible-inventory -i inventories/demo --graph
printf '\nRun playbooks against them with: ansible-playbook -i inventories/demo <playbook> -l staging\n'
printf 'Remove them with: make clean\n'
