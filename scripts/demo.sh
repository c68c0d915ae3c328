#!/usr/bin/env bash
# Set up hepframe in ./.venv (first run only) and run the main job: the dimuon demo on Polars.
# Extra arguments go to `hepframe demo` (e.g. --events 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
extras="."
for arg in "$@"; do  # the Spark engine needs the spark extra (pyspark)
  if [ "$arg" = "spark" ] || [ "$arg" = "--engine=spark" ]; then extras=".[spark]"; fi
done
ensure_venv "$extras"
exec .venv/bin/hepframe demo "$@"
