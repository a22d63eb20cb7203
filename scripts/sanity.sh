#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection placed where ansible-test
# demands it (…/ansible_collections/steadyops/stack), so the work tree's caches,
# virtualenv and test output are never scanned.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate

step "ansible-test sanity"
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
ansible-test sanity --local --python 3.11 --color no "$@"
