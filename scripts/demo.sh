#!/usr/bin/env bash
# The local demo: the main job, as its users run it, on systemd containers
# standing in for the staging hosts (inventories/demo, the default inventory
# of a checkout):
#   1. the demo hosts up (the `lab` Molecule scenario's containers, so the
#      container settings live in one place, .config/molecule);
#   2. examples/tms committed to a git repository on this machine;
#   3. ansible-playbook provision.yml -l staging, then deploy.yml -l staging;
#   4. a table: per host the URL nginx answers on and each service's health.
# A second run deploys nothing new and says so. `--destroy` removes the hosts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
DEMO_REPO="${STEADYOPS_DEMO_REPO:-$STEADYOPS_ROOT/.cache/demo/tms-app}"
export STEADYOPS_DEMO_REPO="$DEMO_REPO"
HOSTS=(staging-1 staging-2)

if [[ "${1:-}" == --destroy ]]; then
  step "Destroy the demo hosts"
  molecule destroy -s lab
  exit 0
fi

declare -a TIMING=()
timed() {
  local name="$1" started
  shift
  started=$(date +%s)
  "$@"
  TIMING+=("$(printf '%-28s %5ds' "$name" $(( $(date +%s) - started )))")
}

logged() {  # logged FILE COMMAND...: show the output and keep it in FILE
  local log="$1"
  shift
  "$@" 2>&1 | tee "$log"
}

bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh

hosts_up() {
  local host
  for host in "${HOSTS[@]}"; do
    [[ "$(docker inspect -f '{{.State.Running}}' "$host" 2>/dev/null)" == true ]] || return 1
  done
}

step "Demo hosts up"
if hosts_up; then
  note ok "staging-1 and staging-2 are running"
else
  timed "demo hosts up" bash -c 'molecule create -s lab && molecule prepare -s lab --force'
fi

step "The demo's source: examples/tms as a git repository ($DEMO_REPO)"
bash scripts/demo_repo.sh "$DEMO_REPO" examples/tms

step "ansible-playbook provision.yml -l staging"
timed "provision (both hosts)" ansible-playbook provision.yml -l staging

step "ansible-playbook deploy.yml -l staging"
timed "deploy (both hosts)" logged "$STEADYOPS_ROOT/.cache/demo/deploy.log" ansible-playbook deploy.yml -l staging
if grep -Eq '^staging-[0-9]+ +: .*changed=0 ' "$STEADYOPS_ROOT/.cache/demo/deploy.log" \
  && ! grep -Eq '^staging-[0-9]+ +: .*changed=[1-9]' "$STEADYOPS_ROOT/.cache/demo/deploy.log"; then
  printf '\nNothing new to deploy: every host already serves commit %s; no service was restarted.\n' \
    "$(git -C "$DEMO_REPO" rev-parse --short=12 HEAD)"
fi

step "Where the demo answers"
bash scripts/demo_status.sh "${HOSTS[@]}"

printf '\nTimings:\n'
printf '  %s\n' "${TIMING[@]}"
printf '\nDeploy a new version: commit to %s (or change examples/tms and run make demo again),\n' "$DEMO_REPO"
printf 'then: source .venv/bin/activate && ansible-playbook deploy.yml -l staging\n'
printf 'Remove the demo hosts with: make clean\n'
