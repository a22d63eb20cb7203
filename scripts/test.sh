#!/usr/bin/env bash
# The whole test suite, as the README and CI run it: setup, then lint, sanity,
# unit and integration tests, and the Molecule scenarios. Prints how long each
# stage took; stops at the first stage that fails.
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

run_stage setup bash scripts/setup.sh
run_stage lint bash scripts/lint.sh
run_stage sanity bash scripts/sanity.sh
run_stage unit bash scripts/pytest.sh
run_stage molecule bash scripts/molecule.sh
summary
