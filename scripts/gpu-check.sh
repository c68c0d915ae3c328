#!/usr/bin/env bash
# The GPU engine on a real device, in one prepared run (at most 8 minutes):
#   1. the GPU engine's conformance suite (tests/test_gpu_engine.py) with NUMBA_ENABLE_CUDASIM=0;
#   2. benchmarks/gpu.py: the GPU engine against the Polars engine (all cores) on EVENTS events.
# Results go to $OUT (default benchmarks/results/): gpu-check.log, gpu-conformance.txt and
# gpu-benchmark.json, which docs/performance.md quotes with the device named.
#
#   scripts/gpu-check.sh [EVENTS]        (default 2000000)
#
# Needs a Python with hepframe's dependencies and numba-cuda (PYTHON, default .venv/bin/python, else
# python3); nothing is downloaded. Exits non-zero if the conformance run or an identity check fails.
set -uo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-2000000}
OUT=${OUT:-benchmarks/results}
PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
mkdir -p "$OUT"
export NUMBA_ENABLE_CUDASIM=0 HEPFRAME_PROGRESS=0
log="$OUT/gpu-check.log"
{
  echo "== gpu-check $(date -u +%FT%TZ) on $(hostname)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: not found"
  "$PYTHON" -c "from numba import cuda; print('numba-cuda device:', cuda.get_current_device().name)" 2>&1
} | tee "$log"

status=0
echo "== 1. conformance on the device" | tee -a "$log"
timeout 240 "$PYTHON" -m pytest -q -p no:cacheprovider tests/test_gpu_engine.py -rfx 2>&1 | tail -n 40 \
  | tee "$OUT/gpu-conformance.txt" | tee -a "$log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

echo "== 2. benchmark: $EVENTS events, GPU against Polars" | tee -a "$log"
timeout 220 "$PYTHON" -m benchmarks.gpu --events "$EVENTS" --repeats 2 --json "$OUT/gpu-benchmark.json" 2>&1 | tee -a "$log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
echo "== done: status $status (results in $OUT)" | tee -a "$log"
exit $status
