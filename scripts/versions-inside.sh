#!/usr/bin/env bash
# Inside the container scripts/versions.sh starts: a clone-like copy of /src
# (what git tracks plus new files), a virtualenv of requirements-newest.txt,
# then the unit tests, the drift report under ansible-playbook, and sanity.
set -euo pipefail
mkdir -p /work/stack
(cd /src && git -c safe.directory=/src ls-files -z --cached --others --exclude-standard) \
  | rsync -a --from0 --files-from=- /src/ /work/stack/
cd /work/stack
# sanity.sh copies what git knows of the work tree, as a clone holds it.
git init -q && git add -A
python3 -m venv /work/venv
/work/venv/bin/pip install --quiet --disable-pip-version-check -r requirements-newest.txt
mkdir -p .cache/collections/ansible_collections/steadyops
ln -s /work/stack .cache/collections/ansible_collections/steadyops/stack
# lib.sh's venv check looks for the `ansible` command, which ansible-core has too.
export STEADYOPS_VENV=/work/venv
source scripts/lib.sh
install_get_pip_standin /work/venv
# As on the oldest (versions.sh): the drift report's callback under a real ansible-playbook run too.
bash scripts/pytest.sh tests/unit tests/integration/test_drift_report.py -q -p no:cacheprovider
bash scripts/sanity.sh
