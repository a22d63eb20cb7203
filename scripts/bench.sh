#!/usr/bin/env bash
# Benchmarks: each prints ratios against a baseline measured in the same run.
# They never pass or fail on timing; a non-zero exit means the benchmark broke.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
venv_activate
cd "$STEADYOPS_ROOT"

for bench in bench/*.py; do
  step "$bench"
  python "$bench"
done
