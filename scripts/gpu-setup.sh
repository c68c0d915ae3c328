#!/usr/bin/env bash
# On a GPU machine without registry access: install hepframe and its test tools offline into
# .venv-gpu, from the wheels scripts/gpu-bundle.sh made (build/gpu-bundle/part*, carried here).
# The venv sees the system's packages (numba-cuda, CuPy, numpy, numba), so part-numba is optional.
#
#   scripts/gpu-setup.sh && PYTHON=.venv-gpu/bin/python scripts/gpu-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE_PYTHON:-python3}
[ -d build/gpu-bundle ] || { echo "build/gpu-bundle is missing: make it with scripts/gpu-bundle.sh and carry its parts" >&2; exit 2; }
links=()
for part in build/gpu-bundle/part*; do links+=(--find-links "$part"); done
[ -x .venv-gpu/bin/python ] || "$BASE" -m venv --system-site-packages .venv-gpu
pip=(.venv-gpu/bin/python -m pip install -q --no-index "${links[@]}")
"${pip[@]}" setuptools wheel
"${pip[@]}" -r build/gpu-bundle/part1/requirements.txt
"${pip[@]}" --no-build-isolation --no-deps -e .
.venv-gpu/bin/python -c "import hepframe, numba; from numba import cuda; print('hepframe', hepframe.__version__, 'numba', numba.__version__, 'CUDA available:', cuda.is_available())"
