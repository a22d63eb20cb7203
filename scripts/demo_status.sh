#!/usr/bin/env bash
# demo_status.sh HOST...: per host, the URL nginx answers on (a port of this
# machine's loopback) and each service's health, asked through that URL and
# from systemd inside the host.
set -euo pipefail
probe() {  # probe URL: the HTTP status, or "-" when nothing answers
  python3 - "$1" <<'PY'
import sys, urllib.error, urllib.request
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError:
    print("-")
PY
}
printf '%-10s %-24s %-18s %-10s %-10s %s\n' host url release frontend api units
for host in "$@"; do
  port=$(docker port "$host" 80/tcp 2>/dev/null | head -n1 | sed 's/.*://')
  url="http://127.0.0.1:${port:-?}/"
  release=$(docker exec "$host" readlink /opt/tms/current 2>/dev/null | xargs -r basename)
  units=$(docker exec "$host" sh -c 'systemctl list-units --no-legend --plain "tms-*" nginx.service postgresql.service | awk "{print \$1 \"=\" \$4}"' | tr '\n' ' ')
  printf '%-10s %-24s %-18s %-10s %-10s %s\n' "$host" "$url" "${release:--}" \
    "$(probe "${url}health")" "$(probe "${url}api/health")" "$units"
done
