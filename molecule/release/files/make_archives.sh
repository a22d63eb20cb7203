#!/bin/sh
# In $1: app-v3 .. app-v5.tar.gz, each a VERSION file and a server.py at the
# top, and app-v6.tar.gz with the same files under tms-v6/, as release
# tarballs are often made. app-v7.tar.gz ships a symlink cfg -> /etc, as a
# hostile (or careless) release might.
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
work=$(mktemp -d)
printf 'v7\n' > "$work/VERSION"
ln -s /etc "$work/cfg"
tar -czf "$1/app-v7.tar.gz" -C "$work" VERSION cfg
rm -rf "$work"
