#!/usr/bin/env bash
# Set up hepframe in ./.venv (first run only) and run the main job: the dimuon demo on Polars.
# Extra arguments go to `hepframe demo` (e.g. --events 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
exec .venv/bin/hepframe demo "$@"
