#!/usr/bin/env bash
# verify_nginx.sh CANDIDATE: check a site file with nginx itself, inside a
# minimal main config, before it replaces the live one.
set -euo pipefail
main="$(mktemp)"
trap 'rm -f "$main"' EXIT
printf 'events {}\nhttp {\n  include /etc/nginx/mime.types;\n  include %s;\n}\n' "$1" >"$main"
/usr/sbin/nginx -t -q -c "$main"
