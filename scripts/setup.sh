#!/usr/bin/env bash
# Prepare this machine for the demo and the test suite. Idempotent: every step
# checks before it acts, and a second run ends with "nothing changed".
#   scripts/setup.sh                  everything: packages, virtualenvs, Docker, base images
#   scripts/setup.sh --ansible-only   the virtualenv with Ansible alone (make build needs no more)
set -euo pipefail
ANSIBLE_ONLY=false
[[ "${1:-}" == "--ansible-only" ]] && ANSIBLE_ONLY=true
source "$(dirname "$0")/lib.sh"
cd "$STEADYOPS_ROOT"

STEADYOPS_CHANGES_FILE="$(mktemp)"
export STEADYOPS_CHANGES_FILE
trap 'rm -f "$STEADYOPS_CHANGES_FILE"' EXIT
# chromium renders the status page in its test (molecule/deploy).
SYSTEM_PACKAGES=(git rsync postgresql debootstrap shellcheck chromium)
COLLECTION_LINK="$STEADYOPS_ROOT/.cache/collections/ansible_collections/steadyops/stack"

if ! $ANSIBLE_ONLY; then
  step "System packages"
  apt_install "${SYSTEM_PACKAGES[@]}"
fi

python_bin="${STEADYOPS_PYTHON:-python3}"
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$python_bin is older than 3.11" "install Python 3.11 or set STEADYOPS_PYTHON to one"

# make_venv DIR REQUIREMENTS: a virtualenv holding exactly REQUIREMENTS, reinstalled when it changes.
make_venv() {
  local dir="$1" requirements="$2" want_hash
  step "Python virtualenv $dir ($requirements)"
  if [[ ! -x "$dir/bin/python" ]]; then
    "$python_bin" -m venv "$dir" || die "could not create $dir" "check free disk space and that the venv module is installed"
    note changed "created $dir"
  fi
  want_hash=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ "$(cat "$dir/.requirements.sha256" 2>/dev/null)" != "$want_hash" ]]; then
    require_free_space "$STEADYOPS_ROOT" 1024 "the Python dependencies"
    # This machine's pip config names local wheel folders that may be absent;
    # pip warns about each of them, which only buries real errors.
    if ! "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" 2>&1 \
      | { grep -v "^WARNING: Location 'file:" || true; }; then
      die "pip install -r $requirements failed (output above)" \
        "check that PyPI answers and the pins in $requirements exist, then run: make setup"
    fi
    echo "$want_hash" >"$dir/.requirements.sha256"
    note changed "installed $requirements"
  else
    note ok "$requirements already installed"
  fi
}
make_venv "$VENV" requirements.txt
if $ANSIBLE_ONLY; then
  printf '\nsetup: the virtualenv is ready (%s)\n' "$VENV"
  exit 0
fi
make_venv "$OLDEST_VENV" requirements-oldest.txt

step "Collection on the Ansible collections path"
# Ansible finds steadyops.stack through this link (ansible.cfg points at it),
# so the working tree is what runs: no build-install loop while developing.
if [[ "$(readlink "$COLLECTION_LINK" 2>/dev/null)" != "$STEADYOPS_ROOT" ]]; then
  mkdir -p "$(dirname "$COLLECTION_LINK")"
  ln -sfn "$STEADYOPS_ROOT" "$COLLECTION_LINK"
  note changed "linked $COLLECTION_LINK"
else
  note ok "$COLLECTION_LINK"
fi

step "ansible-test pip bootstrap (offline)"
for each_venv in "$VENV" "$OLDEST_VENV"; do
  install_get_pip_standin "$each_venv"
done

bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh debian12
bash scripts/lab/base-image.sh debian13

changes=$(wc -l <"$STEADYOPS_CHANGES_FILE")
if (( changes == 0 )); then
  printf '\nsetup: nothing changed, the machine was already ready\n'
else
  printf '\nsetup: %d change(s) made, the machine is ready\n' "$changes"
fi
