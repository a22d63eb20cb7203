#!/usr/bin/env bash
# demo_repo.sh REPO SOURCE_DIR: make REPO a git repository holding SOURCE_DIR,
# with a new commit only when SOURCE_DIR changed. "A new version" of the demo
# is a new commit here.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
repo="$1" source_dir="$2"
if [[ ! -d "$repo/.git" ]]; then
  mkdir -p "$repo"
  git init -q -b main "$repo"
  git -C "$repo" config user.name "steadyops demo"
  git -C "$repo" config user.email demo@steadyops.invalid
  note changed "created $repo"
fi
rsync -a --delete --exclude=.git "$source_dir"/ "$repo"/
git -C "$repo" add -A
if git -C "$repo" diff --cached --quiet && git -C "$repo" rev-parse -q --verify HEAD >/dev/null; then
  note ok "$repo already holds $source_dir at $(git -C "$repo" rev-parse --short=12 HEAD)"
else
  git -C "$repo" commit -q -m "Demo stack from $source_dir"
  note changed "committed $source_dir as $(git -C "$repo" rev-parse --short=12 HEAD)"
fi
