#!/bin/sh
# In $1: app-v3 .. app-v5.tar.gz, each a VERSION file and a server.py at the
# top, and app-v6.tar.gz with the same files under tms-v6/, as release
# tarballs are often made.
set -eu
for version in v3 v4 v5 v6; do
  work=$(mktemp -d)
  top="$work"
  if [ "$version" = v6 ]; then top="$work/tms-v6"; mkdir "$top"; fi
  printf '%s\n' "$version" > "$top/VERSION"
  printf 'print("tms %s")\n' "$version" > "$top/server.py"
  if [ "$version" = v6 ]; then
    tar -czf "$1/app-$version.tar.gz" -C "$work" tms-v6
  else
    tar -czf "$1/app-$version.tar.gz" -C "$work" VERSION server.py
  fi
  rm -rf "$work"
done
