#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection placed where ansible-test
# demands it (…/ansible_collections/steadyops/stack), so the work tree's caches,
# virtualenv and test output are never scanned.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate

step "ansible-test sanity (ansible-core $(python -c 'from ansible.release import __version__; print(__version__)'))"
WORK="$(mktemp -d /tmp/steadyops-sanity.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
DEST="$WORK/ansible_collections/steadyops/stack"
mkdir -p "$DEST"
# Copy what git tracks plus new files not ignored, exactly what a clone would hold.
(cd "$STEADYOPS_ROOT" && git ls-files -z --cached --others --exclude-standard) \
  | rsync -a --from0 --files-from=- "$STEADYOPS_ROOT/" "$DEST/"
# ansible-test only looks at files git knows about when it runs inside a repo.
git -C "$DEST" init -q && git -C "$DEST" add -A

cd "$DEST"
# The venv's own Python: 3.11 here, 3.13 in the container scripts/versions.sh runs the newest ansible-core in.
ansible-test sanity --local --python "$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" --color no "$@"
