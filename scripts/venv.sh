# Sourced by demo.sh and test.sh: create ./.venv if needed and install hepframe with the given extras.
ensure_venv() {
  local spec="$1"
  PYTHON="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
}
