#!/usr/bin/env bash
# Make sure a Docker engine answers. Installs Debian's docker.io when no dockerd
# exists and starts it in the background when it is not running: the machines
# we test on ship only the docker CLI.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

DOCKERD_LOG="${STEADYOPS_DOCKERD_LOG:-/var/log/steadyops-dockerd.log}"
WAIT_SECONDS="${STEADYOPS_DOCKERD_WAIT:-60}"

step "Docker engine"

if docker info >/dev/null 2>&1; then
  note ok "engine answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  apt_install docker.io
fi

require_root
require_free_space /var/lib 2048 "the Docker engine"
# The daemon outlives this script on purpose: the lab needs it until the machine
# stops. setsid detaches it from our process group so a Ctrl-C here leaves it up.
setsid dockerd >>"$DOCKERD_LOG" 2>&1 < /dev/null &
dockerd_pid=$!

for _ in $(seq "$WAIT_SECONDS"); do
  if docker info >/dev/null 2>&1; then
    note changed "started dockerd $(docker version --format '{{.Server.Version}}') (log: $DOCKERD_LOG)"
    exit 0
  fi
  # A daemon that already exited will never answer: report it now, not after the wait.
  kill -0 "$dockerd_pid" 2>/dev/null || break
  sleep 1
done

tail -n 15 "$DOCKERD_LOG" >&2 || true
die "dockerd did not answer within ${WAIT_SECONDS}s" \
  "read $DOCKERD_LOG (last lines above); common causes: another dockerd or containerd is running, /var/lib/docker is on an unsupported filesystem, or iptables is missing"
