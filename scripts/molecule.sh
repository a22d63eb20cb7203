#!/usr/bin/env bash
# Molecule scenarios on the systemd lab containers, in two lanes that run at
# once and share nothing but the Docker engine (hosts, networks and published
# ports differ: STEADYOPS_LAB_PREFIX, read by .config/molecule/config.yml):
#   long   `deploy` on hosts a-staging-1/2 (the demo stack deployed; drift,
#          maintenance, the status page and the outages replayed on the same
#          hosts; then new versions: the longest thing the suite runs), then
#          `lab` and `queue_maintenance` (short ones): in make test the other
#          lane starts only after lint, sanity and unit, and both should end
#          together.
#   other  every other scenario, one after another, on staging-1/2 (those of
#          ONE_HOST on staging-1 alone).
# staging-2 runs Debian 13 in the scenarios of SECOND_HOST_DEBIAN13, Debian 12
# everywhere else.
#
#   scripts/molecule.sh                 both lanes at once
#   scripts/molecule.sh --lane long     one lane (scripts/test.sh starts the long
#                                       lane beside lint, sanity and unit)
#   scripts/molecule.sh lab release     the named scenarios, one after another
#   scripts/molecule.sh lab@oldest      a scenario on the oldest ansible-core
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"
bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh debian12
bash scripts/lab/base-image.sh debian13

export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
# The scenarios whose second host runs Debian 13, beside Debian 12 on the
# first (.config/molecule/config.yml reads STEADYOPS_LAB_DISTRO_2).
SECOND_HOST_DEBIAN13=(bootstrap)
# The scenarios that run on staging-1 alone (molecule's --platform-name): their
# hosts are alike and nothing they check is between two hosts, so a second host
# would only do the same work again (deploy rolls over two hosts, bootstrap has
# Debian 13 on its second, health a timer instead of cron, hostile splits its
# cases over both).
ONE_HOST=(hardening lab queue_maintenance release tms_outage)
# The scenario that also runs on the oldest supported ansible-core
# (requirements-oldest.txt), at the end of the long lane: queue_maintenance
# (provision's PostgreSQL, then maintenance.yml's queue tasks through Ansible).
# molecule_test SCENARIO[@oldest]: `molecule test` with the scenario's second-host
# distro; with @oldest, Molecule, Ansible and pytest come from $OLDEST_VENV.
molecule_test() {
  local scenario="${1%@oldest}" distro=debian12 hosts=()
  if [[ " ${SECOND_HOST_DEBIAN13[*]} " == *" $scenario "* ]]; then distro=debian13; fi
  if [[ " ${ONE_HOST[*]} " == *" $scenario "* ]]; then hosts=(--platform-name "${STEADYOPS_LAB_PREFIX:-}staging-1"); fi
  if [[ "$1" == *@oldest ]]; then
    # Said in the log, so that a run on the wrong ansible-core cannot pass unnoticed.
    printf '    %s on %s\n' "$scenario" "$(PATH="$OLDEST_VENV/bin:$PATH" ansible-playbook --version | head -n1)"
    # Its own working directory: the same scenario may run on the current ansible-core at the same time.
    STEADYOPS_LAB_DISTRO_2="$distro" VIRTUAL_ENV="$OLDEST_VENV" PATH="$OLDEST_VENV/bin:$PATH" \
      MOLECULE_EPHEMERAL_DIRECTORY="$HOME/.ansible/tmp/molecule.oldest.$scenario" \
      "$OLDEST_VENV/bin/molecule" test -s "$scenario" "${hosts[@]}"
  else
    STEADYOPS_LAB_DISTRO_2="$distro" molecule test -s "$scenario" "${hosts[@]}"
  fi
}
only_lane=""
if [[ "${1:-}" == --lane ]]; then
  only_lane="${2:?--lane long|other}"
elif (( $# > 0 )); then
  for scenario in "$@"; do
    step "molecule test -s $scenario"
    molecule_test "$scenario"
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
    if ! STEADYOPS_LAB_PREFIX="$prefix" molecule_test "$scenario" 2>&1 | tee "$logs/$scenario.log"; then
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

# finish RC: the causes of what failed, the scenario times, and the exit status.
finish() {
  if [[ -f "$logs/failed" ]]; then
    while read -r scenario; do
      step "Why $scenario failed (its fatal results and test failures; the whole output is above)"
      why "$scenario"
    done <"$logs/failed"
  fi
  step "Molecule scenario times"
  cat "$logs/times"
  if (( $1 != 0 )); then
    die "a Molecule scenario failed (see its output above)" "run it alone: scripts/molecule.sh <scenario>"
  fi
}

case "$only_lane" in
  long)
    step "molecule test, the long lane: [${LONG_LANE[*]}]"
    rc=0
    lane long a- "${LONG_LANE[@]}" || rc=$?
    finish "$rc"
    ;;
  other)
    step "molecule test, the other lane: [${OTHER_LANE[*]}]"
    rc=0
    lane other "" "${OTHER_LANE[@]}" || rc=$?
    finish "$rc"
    ;;
  "")
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
    finish $(( other_rc || long_rc ))
    ;;
  *) die "no lane $only_lane" "use --lane long or --lane other" ;;
esac
