#!/bin/sh
# app-v3 .. app-v5.tar.gz in $1: each a VERSION file and a server.py.
set -eu
for version in v3 v4 v5; do
  work=$(mktemp -d)
  printf '%s\n' "$version" > "$work/VERSION"
  printf 'print("tms %s")\n' "$version" > "$work/server.py"
  tar -czf "$1/app-$version.tar.gz" -C "$work" VERSION server.py
  rm -rf "$work"
done
