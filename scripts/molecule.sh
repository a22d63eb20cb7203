#!/usr/bin/env bash
# Molecule scenarios on the systemd lab containers. With no argument every
# scenario runs, in two lanes at once: `deploy` (the longest) and two short
# ones on hosts named a-staging-1/2, every other scenario one after another on
# staging-1/2, so that the lanes take about as long. The lanes share nothing but the Docker engine: their hosts,
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

LONG_LANE=(deploy tms_outage lab)
mapfile -t OTHER_LANE < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' \
  | xargs -n1 basename | grep -vxF -e shared -e default "${LONG_LANE[@]/#/-e}" | sort)
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# lane NAME PREFIX SCENARIO...: the scenarios one after another, each timed;
# stops at the first that fails.
lane() {
  local name="$1" prefix="$2" scenario started
  shift 2
  for scenario in "$@"; do
    started=$(date +%s)
    if ! STEADYOPS_LAB_PREFIX="$prefix" molecule test -s "$scenario"; then
      printf '%s %s FAILED after %ds\n' "$name" "$scenario" $(( $(date +%s) - started )) >>"$logs/times"
      return 1
    fi
    printf '%s %s passed in %ds\n' "$name" "$scenario" $(( $(date +%s) - started )) >>"$logs/times"
  done
}

step "molecule test, two lanes: [${LONG_LANE[*]}] and [${OTHER_LANE[*]}]"
lane long a- "${LONG_LANE[@]}" >"$logs/long.log" 2>&1 &
long_pid=$!
other_rc=0
lane other "" "${OTHER_LANE[@]}" || other_rc=$?
long_rc=0
wait "$long_pid" || long_rc=$?

step "The long lane's output (${LONG_LANE[*]})"
cat "$logs/long.log"
step "Molecule scenario times"
cat "$logs/times"
if (( other_rc != 0 || long_rc != 0 )); then
  die "a Molecule scenario failed (see its output above)" "run it alone: scripts/molecule.sh <scenario>"
fi
