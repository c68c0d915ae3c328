#!/usr/bin/env bash
# Set up hepframe with its test extra in ./.venv (ROOT 6.40 from PyPI included: the oracle of the
# differential tests) and run lint, type checks and the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
ensure_venv ".[test]"
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy" && .venv/bin/python scripts/typecheck.py
echo "== pytest" && HEPFRAME_PROGRESS=0 .venv/bin/python -m pytest "$@"
