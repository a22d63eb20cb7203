# shellcheck shell=bash
# Helpers shared by the project's scripts: clear step logging and failures that
# say which step broke and what to do about it.

STEADYOPS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export STEADYOPS_ROOT
VENV="${STEADYOPS_VENV:-$STEADYOPS_ROOT/.venv}"
export VENV
# ansible-core's oldest supported release (requirements-oldest.txt).
OLDEST_VENV="${STEADYOPS_OLDEST_VENV:-$STEADYOPS_ROOT/.venv-oldest}"
export OLDEST_VENV
STATE_DIR="${STEADYOPS_STATE_DIR:-/var/lib/steadyops-lab}"
export STATE_DIR

CURRENT_STEP="(no step)"

step() {
  CURRENT_STEP="$1"
  printf '==> %s\n' "$1"
}

# note KIND MESSAGE: KIND is "ok" (nothing changed) or "changed".
note() {
  printf '    [%s] %s\n' "$1" "$2"
  # Sub-scripts run as their own processes; a shared file collects what changed.
  if [[ "$1" == changed && -n "${STEADYOPS_CHANGES_FILE:-}" ]]; then
    printf '%s\n' "$2" >>"$STEADYOPS_CHANGES_FILE"
  fi
}

# die WHAT_FAILED WHAT_TO_DO
die() {
  printf '\nFAILED in step "%s": %s\n' "$CURRENT_STEP" "$1" >&2
  if [[ -n "${2:-}" ]]; then
    printf 'What to do: %s\n' "$2" >&2
  fi
  exit 1
}

require_root() {
  [[ $(id -u) -eq 0 ]] || die "this step needs root (it installs packages and starts dockerd)" \
    "run it as root, for example: sudo make setup"
}

# require_free_space PATH MIB WHY
require_free_space() {
  local path="$1" need_mib="$2" why="$3" avail_kib
  avail_kib=$(df -Pk "$path" | awk 'NR==2 {print $4}')
  if (( avail_kib < need_mib * 1024 )); then
    die "only $(( avail_kib / 1024 )) MiB free on $(df -P "$path" | awk 'NR==2 {print $6}'), $why needs ${need_mib} MiB" \
      "free disk space (docker system prune, remove old images) and run the command again"
  fi
}

# apt_install PKG...: installs only what is missing; updates the index once.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if (( ${#missing[@]} == 0 )); then
    note ok "packages present: $*"
    return 0
  fi
  require_root
  if [[ ! -e "$STATE_DIR/apt-updated" ]] || [[ -n "$(find "$STATE_DIR/apt-updated" -mmin +720 2>/dev/null)" ]]; then
    apt-get update -q >/dev/null || die "apt-get update failed" \
      "check that the Debian mirror in /etc/apt/sources.list.d answers, then retry"
    mkdir -p "$STATE_DIR" && touch "$STATE_DIR/apt-updated"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed" \
      "read the apt output above (run 'apt-get install ${missing[*]}' by hand), fix it, then retry"
  note changed "installed ${missing[*]}"
}

venv_activate() {
  [[ -x "$VENV/bin/ansible" ]] || die "the virtualenv $VENV is missing or incomplete" "run: make setup"
  # shellcheck disable=SC1091
  source "$VENV/bin/activate"
}

# install_get_pip_standin VENV: ansible-test downloads get-pip.py from a host our
# machines cannot reach, but first looks for a cached copy named after the pip
# version it wants; put the offline stand-in there for VENV's ansible-test.
install_get_pip_standin() {
  local pip_version get_pip
  pip_version=$(grep -oP "pip='\K[0-9.]+" "$1"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1)
  get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
  if ! cmp -s "$STEADYOPS_ROOT/scripts/sanity/get_pip_standin.py" "$get_pip"; then
    mkdir -p "$(dirname "$get_pip")"
    cp "$STEADYOPS_ROOT/scripts/sanity/get_pip_standin.py" "$get_pip"
    note changed "installed stand-in $get_pip"
  else
    note ok "$get_pip"
  fi
}
