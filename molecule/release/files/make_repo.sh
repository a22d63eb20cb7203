#!/bin/sh
# A bare repository at $1 with tags v1 and v2, made by the account that deploys.
set -eu
work=$(mktemp -d)
git init -q -b main "$work"
cd "$work"
git config user.name steadyops
git config user.email dev@steadyops.invalid
for version in v1 v2; do
  printf '%s\n' "$version" > VERSION
  printf 'print("tms %s")\n' "$version" > server.py
  git add VERSION server.py
  git commit -q -m "$version"
  git tag -a -m "$version" "$version"
done
mkdir -p "$(dirname "$1")"
git clone -q --bare "$work" "$1"
rm -rf "$work"
