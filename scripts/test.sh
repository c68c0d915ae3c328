#!/usr/bin/env bash
# Set up hepframe with its test extra in ./.venv (ROOT 6.40 from PyPI included: the oracle of the
# differential tests) and run lint, type checks and the whole test suite. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh

# tests/test_screenshots.py renders the notebook displays in a headless Chromium, Debian's package
# (no browser download). Install it when it is missing and we can (root with apt-get, e.g. in CI).
ensure_chromium() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "== chromium: /usr/bin/chromium is missing and this is not root with apt-get; the screenshot tests" \
      "skip outside CI and fail in CI (install Debian's chromium)"
    return 0
  fi
  echo "== chromium: installing Debian's chromium for the screenshot tests (apt-get, quiet)"
  local start=$SECONDS log
  log=$(mktemp)
  local install=(apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 chromium fonts-dejavu-core)
  # A fresh image has no (or stale) package lists: update them when the first try fails.
  if ! DEBIAN_FRONTEND=noninteractive "${install[@]}" </dev/null >"$log" 2>&1; then
    echo "   first try failed ($(grep -m1 '^E:' "$log" || echo 'see below')); running apt-get update"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null \
           && DEBIAN_FRONTEND=noninteractive "${install[@]}" </dev/null; } >"$log" 2>&1; then
      tail -n 20 "$log"
      echo "== chromium: installation FAILED; tests/test_screenshots.py will fail"
      rm -f "$log"
      return 0
    fi
  fi
  rm -f "$log"
  echo "   $(/usr/bin/chromium --version 2>/dev/null || echo chromium) installed in $((SECONDS - start)) s"
}

ensure_venv ".[test]"
ensure_chromium
echo "== ruff" && .venv/bin/ruff check .
echo "== mypy" && .venv/bin/python scripts/typecheck.py
echo "== pytest" && HEPFRAME_PROGRESS=0 .venv/bin/python -m pytest "$@"
