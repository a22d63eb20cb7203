#!/usr/bin/env bash
# Molecule scenarios on the systemd lab containers. With no argument every
# scenario runs, in two lanes at once: `deploy` (the demo stack deployed; drift,
# maintenance, the status page and the outages replayed on the same hosts; then
# new versions) with the two short ones, `lab` and `queue_maintenance`, on hosts
# named a-staging-1/2, every other scenario one after another on staging-1/2, so
# that the lanes take about as long. The lanes share nothing but the Docker engine: their hosts,
# networks and published ports differ (STEADYOPS_LAB_PREFIX, read by
# .config/molecule/config.yml). `scripts/molecule.sh lab` runs one scenario.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"
bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh

export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
if (( $# > 0 )); then
  for scenario in "$@"; do
    step "molecule test -s $scenario"
    molecule test -s "$scenario"
  done
  exit 0
fi

LONG_LANE=(deploy lab queue_maintenance)
mapfile -t OTHER_LANE < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' \
  | xargs -n1 basename | grep -vxF -e shared -e default "${LONG_LANE[@]/#/-e}" | sort)
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# lane NAME PREFIX SCENARIO...: the scenarios one after another, each timed and
# its output kept in $logs/SCENARIO.log; stops at the first that fails.
lane() {
  local name="$1" prefix="$2" scenario started
  shift 2
  for scenario in "$@"; do
    started=$(date +%s)
    if ! STEADYOPS_LAB_PREFIX="$prefix" molecule test -s "$scenario" 2>&1 | tee "$logs/$scenario.log"; then
      printf '%s %s FAILED after %ds\n' "$name" "$scenario" $(( $(date +%s) - started )) >>"$logs/times"
      echo "$scenario" >>"$logs/failed"
      return 1
    fi
    printf '%s %s passed in %ds\n' "$name" "$scenario" $(( $(date +%s) - started )) >>"$logs/times"
  done
}

# why SCENARIO: the lines that say why it failed (Ansible's fatal and failed
# results, pytest's failures), so that the end of a CI log, often all one gets
# to see, names the cause.
why() {
  grep -n -A12 -E '^(fatal|failed): \[|^FAILED |^E  |^(ERROR|CRITICAL) ' "$logs/$1.log" | tail -n 120 || true
}

step "molecule test, two lanes: [${LONG_LANE[*]}] and [${OTHER_LANE[*]}]"
lane long a- "${LONG_LANE[@]}" >/dev/null &
long_pid=$!
other_rc=0
lane other "" "${OTHER_LANE[@]}" || other_rc=$?
long_rc=0
wait "$long_pid" || long_rc=$?

step "The long lane's output (${LONG_LANE[*]})"
for scenario in "${LONG_LANE[@]}"; do
  [[ -f "$logs/$scenario.log" ]] && cat "$logs/$scenario.log"
done
if [[ -f "$logs/failed" ]]; then
  while read -r scenario; do
    step "Why $scenario failed (its fatal results and test failures; the whole output is above)"
    why "$scenario"
  done <"$logs/failed"
fi
step "Molecule scenario times"
cat "$logs/times"
if (( other_rc != 0 || long_rc != 0 )); then
  die "a Molecule scenario failed (see its output above)" "run it alone: scripts/molecule.sh <scenario>"
fi
