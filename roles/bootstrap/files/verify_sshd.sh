#!/usr/bin/env bash
# verify_sshd.sh CANDIDATE: check an sshd drop-in as sshd will read it.
# Drop-ins are included at the top of sshd_config and the first value wins,
# so the candidate goes first, then the main config without its Include.
set -euo pipefail
full="$(mktemp)"
trap 'rm -f "$full"' EXIT
{ cat "$1"; grep -v '^Include ' /etc/ssh/sshd_config; } >"$full"
mkdir -p /run/sshd
/usr/sbin/sshd -t -f "$full"
