#!/usr/bin/env bash
# Prepare this machine for the demo and the test suite. Idempotent: every step
# checks before it acts, and a second run ends with "nothing changed".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$STEADYOPS_ROOT"

STEADYOPS_CHANGES_FILE="$(mktemp)"
export STEADYOPS_CHANGES_FILE
trap 'rm -f "$STEADYOPS_CHANGES_FILE"' EXIT
# chromium renders the status page in its test (molecule/deploy).
SYSTEM_PACKAGES=(git rsync postgresql debootstrap shellcheck chromium)
COLLECTION_LINK="$STEADYOPS_ROOT/.cache/collections/ansible_collections/steadyops/stack"

step "System packages"
apt_install "${SYSTEM_PACKAGES[@]}"

step "Python virtualenv $VENV"
python_bin="${STEADYOPS_PYTHON:-python3}"
"$python_bin" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$python_bin is older than 3.11" "install Python 3.11 or set STEADYOPS_PYTHON to one"
if [[ ! -x "$VENV/bin/python" ]]; then
  "$python_bin" -m venv "$VENV" || die "could not create $VENV" "check free disk space and that the venv module is installed"
  note changed "created $VENV"
fi
want_hash=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want_hash" ]]; then
  require_free_space "$STEADYOPS_ROOT" 1024 "the Python dependencies"
  # This machine's pip config names local wheel folders that may be absent;
  # pip warns about each of them, which only buries real errors.
  if ! "$VENV/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt 2>&1 \
    | { grep -v "^WARNING: Location 'file:" || true; }; then
    die "pip install -r requirements.txt failed (output above)" \
      "check that PyPI answers and the pins in requirements.txt exist, then run: make setup"
  fi
  echo "$want_hash" >"$VENV/.requirements.sha256"
  note changed "installed requirements.txt"
else
  note ok "requirements.txt already installed"
fi

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
pip_version=$(grep -oP "pip='\K[0-9.]+" "$VENV"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if ! cmp -s scripts/sanity/get_pip_standin.py "$get_pip"; then
  mkdir -p "$(dirname "$get_pip")"
  cp scripts/sanity/get_pip_standin.py "$get_pip"
  note changed "installed stand-in $get_pip"
else
  note ok "$get_pip"
fi

bash scripts/lab/docker-engine.sh
bash scripts/lab/base-image.sh debian12
bash scripts/lab/base-image.sh debian13

changes=$(wc -l <"$STEADYOPS_CHANGES_FILE")
if (( changes == 0 )); then
  printf '\nsetup: nothing changed, the machine was already ready\n'
else
  printf '\nsetup: %d change(s) made, the machine is ready\n' "$changes"
fi
