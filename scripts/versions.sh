#!/usr/bin/env bash
# The unit tests and ansible-test sanity on the oldest and the newest
# ansible-core the collection supports (meta/runtime.yml: requires_ansible);
# the current one (requirements.txt) runs them in its own stages.
#   oldest  2.16 (requirements-oldest.txt): .venv-oldest on this machine
#   newest  2.21 (requirements-newest.txt): needs Python 3.12+, so inside a
#           Debian 13 container (Python 3.13) of the lab's base image with
#           python3-venv, git and rsync added (steadyops/controller-debian13)
# and then one Molecule scenario on the oldest, queue_maintenance, on hosts of
# its own (o-staging-1/2), so that make test can run all this beside lint,
# sanity, unit and the long Molecule lane.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$STEADYOPS_ROOT"
# Its last line, for make test's summary (it runs in the background there).
trap 'printf "\nversions took %ds\n" "$SECONDS"' EXIT

# The controller-side plugins run on every core: the drift report's callback under a real
# ansible-playbook run (its TaskResult changed in 2.19) beside the unit tests.
CONTROLLER_TESTS=(tests/unit tests/integration/test_drift_report.py)
step "unit tests and the drift report on the oldest ansible-core ($OLDEST_VENV)"
STEADYOPS_VENV="$OLDEST_VENV" bash scripts/pytest.sh "${CONTROLLER_TESTS[@]}" -q -p no:cacheprovider
STEADYOPS_VENV="$OLDEST_VENV" bash scripts/sanity.sh

step "the newest ansible-core, in a Debian 13 container"
bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh debian13
image=steadyops/controller-debian13
if ! docker image inspect "$image" >/dev/null 2>&1; then
  builder="steadyops-controller-build-$$"
  docker run --name "$builder" --entrypoint /bin/bash steadyops/systemd-debian13 -c \
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv git rsync >/dev/null && apt-get clean" \
    || { docker rm -f "$builder" >/dev/null 2>&1; die "could not add python3-venv, git and rsync to the Debian 13 image" \
      "check that the Debian mirror answers from a container, then run: make test"; }
  docker commit "$builder" "$image" >/dev/null
  docker rm "$builder" >/dev/null
  note changed "built $image"
fi
# The work tree read-only, the machine's CA bundle for PyPI (as pip here uses it).
docker run --rm --entrypoint /bin/bash \
  -v "$STEADYOPS_ROOT:/src:ro" \
  -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
  "$image" /src/scripts/versions-inside.sh

step "Molecule on the oldest ansible-core"
STEADYOPS_LAB_PREFIX=o- bash scripts/molecule.sh queue_maintenance@oldest
