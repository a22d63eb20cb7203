#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: setup, then lint, sanity,
# unit and integration tests, units and sanity on the oldest and the newest
# supported ansible-core, and the Molecule scenarios. Prints how long each
# stage took (the long Molecule lane and the versions checks run beside lint,
# sanity and unit, so the molecule stage is the time left after them); stops at
# the first stage that fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$STEADYOPS_ROOT"

declare -a STAGE_NAMES=() STAGE_SECONDS=()

run_stage() {
  local name="$1" started rc=0
  shift
  printf '\n######## stage: %s ########\n' "$name"
  started=$(date +%s)
  "$@" || rc=$?
  STAGE_NAMES+=("$name")
  STAGE_SECONDS+=($(( $(date +%s) - started )))
  if (( rc != 0 )); then
    summary
    printf '\nFAILED: stage "%s" (exit %d); the output above says why.\n' "$name" "$rc" >&2
    exit "$rc"
  fi
}

summary() {
  local i total=0
  printf '\n%-12s %8s\n' stage seconds
  for i in "${!STAGE_NAMES[@]}"; do
    printf '%-12s %8d\n' "${STAGE_NAMES[$i]}" "${STAGE_SECONDS[$i]}"
    total=$(( total + STAGE_SECONDS[i] ))
  done
  printf '%-12s %8d\n' total "$total"
}

# The long Molecule lane (the deploy scenario) takes longest and needs nothing
# that lint, sanity and unit make or check, so it starts right after setup, in
# a process group of its own (stopped if an earlier stage fails); the molecule
# stage runs the other lane, then waits for it and shows its output.
# The oldest and newest ansible-core checks (scripts/versions.sh: units,
# sanity, one scenario on hosts of their own) are independent of everything
# else too and start beside them; the molecule stage waits for both.
long_lane_log="$(mktemp)"
versions_log="$(mktemp)"
long_lane_pid=""
versions_pid=""
stop_background() {
  local pid
  for pid in "$long_lane_pid" "$versions_pid"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill -- "-$pid" 2>/dev/null || true
    fi
  done
  rm -f "$long_lane_log" "$versions_log"
}
trap stop_background EXIT

molecule_stage() {
  local other_rc=0 long_rc=0 versions_rc=0
  bash scripts/molecule.sh --lane other || other_rc=$?
  wait "$versions_pid" || versions_rc=$?
  printf '\n######## versions (the oldest and newest ansible-core), started after setup ########\n'
  cat "$versions_log"
  wait "$long_lane_pid" || long_rc=$?
  printf '\n######## the long Molecule lane, started after setup ########\n'
  cat "$long_lane_log"
  if (( versions_rc )); then
    printf '\nFAILED: versions (the oldest and newest ansible-core); its output is above.\n' >&2
  fi
  return $(( other_rc || long_rc || versions_rc ))
}

run_stage setup bash scripts/setup.sh
setsid bash scripts/molecule.sh --lane long >"$long_lane_log" 2>&1 &
long_lane_pid=$!
setsid bash scripts/versions.sh >"$versions_log" 2>&1 &
versions_pid=$!
run_stage lint bash scripts/lint.sh
run_stage sanity bash scripts/sanity.sh
run_stage unit bash scripts/pytest.sh
run_stage molecule molecule_stage
summary
printf '(versions ran beside lint, sanity, unit and the other lane; %s)\n' "$(tail -n1 "$versions_log")"
