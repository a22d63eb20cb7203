#!/usr/bin/env bash
# Build the systemd base image for the Molecule lab, offline from any registry:
# debootstrap a root filesystem from the Debian mirror apt already uses and
# `docker import` it. Skips the build when the image exists. A failed build
# leaves neither a half-written root filesystem nor a half-imported image.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

DISTRO="${1:-${STEADYOPS_DISTRO:-debian12}}"
step "systemd base image for $DISTRO"
DISTRO_FILE="$STEADYOPS_ROOT/scripts/lab/distros/$DISTRO.env"
[[ -f "$DISTRO_FILE" ]] || die "unknown distro '$DISTRO'" \
  "use one of: $(find "$STEADYOPS_ROOT/scripts/lab/distros" -name '*.env' -printf '%f ' | sed 's/\.env//g')"
# shellcheck disable=SC1090
source "$DISTRO_FILE"
# Overrides exist for the tests of this script's failure handling.
IMAGE="${STEADYOPS_IMAGE:-$IMAGE_NAME:$IMAGE_TAG}"
BUILD_DIR="${STEADYOPS_BUILD_DIR:-/var/tmp}"
# Failures from here on name the image (lib.sh's die reads CURRENT_STEP).
# shellcheck disable=SC2034
CURRENT_STEP="systemd base image $IMAGE"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  note ok "image exists ($(docker image inspect -f '{{.Id}}' "$IMAGE" | cut -c8-19))"
  exit 0
fi

debian_mirror() {
  # The mirror apt uses on this machine: deb822 sources first, then the classic list.
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1 || true)
  if [[ -z "$uri" ]]; then
    uri=$(awk '/^deb / && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  fi
  printf '%s\n' "${STEADYOPS_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

require_root
command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
require_free_space "$BUILD_DIR" 1024 "debootstrap"
require_free_space "$(docker info -f '{{.DockerRootDir}}')" 1024 "the imported image"

ROOTFS="$(mktemp -d "$BUILD_DIR/steadyops-rootfs.XXXXXX")"
cleanup() {
  local rc=$?
  rm -rf --one-file-system "$ROOTFS" "$ROOTFS.log"
  if (( rc != 0 )); then
    # An import interrupted half-way must not look like a usable image next time.
    docker image rm -f "$IMAGE" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

MIRROR="$(debian_mirror)"
printf '    debootstrap %s from %s (about a minute)\n' "$DISTRO_SUITE" "$MIRROR"
if ! debootstrap --variant=minbase --include="$DISTRO_PACKAGES" "$DISTRO_SUITE" "$ROOTFS" "$MIRROR" \
  >"$ROOTFS.log" 2>&1; then
  tail -n 20 "$ROOTFS.log" >&2
  if [[ -f "$ROOTFS/debootstrap/debootstrap.log" ]]; then tail -n 20 "$ROOTFS/debootstrap/debootstrap.log" >&2; fi
  rm -f "$ROOTFS.log"
  die "debootstrap of $DISTRO_SUITE from $MIRROR failed (last lines above)" \
    "check that the mirror answers (apt-get update) and that the disk is not full, then run the command again"
fi
rm -f "$ROOTFS.log"

# Make the tree behave like a container host: no consoles to spawn, no hardware
# to probe, a fresh machine-id per container, apt sources that match the host.
chroot_prepare() {
  local root="$1"
  rm -f "$root"/etc/machine-id "$root"/var/lib/dbus/machine-id
  : >"$root/etc/machine-id"
  for unit in getty.target systemd-udevd.service systemd-udev-trigger.service \
    systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount \
    systemd-remount-fs.service dev-hugepages.mount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done
  printf 'deb %s %s main\ndeb %s %s-updates main\n' "$MIRROR" "$DISTRO_SUITE" "$MIRROR" "$DISTRO_SUITE" \
    >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
}
chroot_prepare "$ROOTFS"

tar -C "$ROOTFS" -c . | docker import \
  --change 'CMD ["/lib/systemd/systemd"]' \
  --change 'ENV container=docker' \
  - "$IMAGE" >/dev/null \
  || die "docker import of the root filesystem failed" "check 'docker info' and free disk space, then run the command again"

note changed "built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%d MiB", $1/1048576}'))"
