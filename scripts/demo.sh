#!/usr/bin/env bash
# Set up hepframe in ./.venv (first run only) and run the main job: the dimuon demo on Polars.
# Extra arguments go to `hepframe demo` (e.g. --events 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv "."
exec .venv/bin/hepframe demo "$@"
