#!/usr/bin/env bash
# Wheels for running scripts/gpu-check.sh on a GPU machine that cannot reach a package registry.
#
#   scripts/gpu-bundle.sh [PYTHON_VERSION]      (default: this venv's, e.g. 3.11)
#
# Downloads (here, where the registries are reachable) the wheels the GPU engine's tests and
# benchmark need for Linux x86-64 and that CPython version, and packs them into folders under 55 MB,
# build/gpu-bundle/part1, part2, ... (git-ignored), because the device tool carries at most 64 MiB
# per call. numpy, numba and llvmlite go into their own parts, "part-numba1", ...: a machine that
# has numba-cuda has them, and need not carry those. On the device, scripts/gpu-setup.sh installs them
# offline. docs/gpu.md, "On a machine with a GPU", has the sequence of calls.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
VERSION=${1:-$("$PY" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')}
OUT=build/gpu-bundle
LIMIT=$((55 * 1024 * 1024))
rm -rf "$OUT" && mkdir -p "$OUT/all"

# The core dependencies (pyproject.toml) but the statistics and plotting stack, which the GPU tests
# never import (about 75 MB: scipy, matplotlib, pyhf, iminuit, mplhep), and the test tools;
# setuptools builds hepframe.
"$PY" - > "$OUT/requirements.txt" <<'PYEOF'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
unused = {"pyhf", "iminuit", "matplotlib", "mplhep"}
deps = [d for d in deps if re.split(r"[<>=!~\[ ]", d)[0].lower() not in unused]
print("\n".join([*deps, "pytest>=8", "hypothesis>=6.100", "setuptools>=68", "wheel"]))
PYEOF
echo "== downloading wheels for CPython $VERSION, manylinux x86-64"
"$PY" -m pip download -q -d "$OUT/all" --only-binary=:all: --implementation cp --python-version "$VERSION" \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_24_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -r "$OUT/requirements.txt"

# Pack each group into folders of at most LIMIT bytes, largest wheels first.
pack() {  # pack SOURCE_DIR PREFIX
  local n=1 size=0 bytes wheel
  mkdir -p "$OUT/$2$n"
  while read -r bytes wheel; do
    if [ $((size + bytes)) -gt $LIMIT ] && [ $size -gt 0 ]; then
      n=$((n + 1)) size=0
      mkdir -p "$OUT/$2$n"
    fi
    mv "$1/$wheel" "$OUT/$2$n/"
    size=$((size + bytes))
  done < <(cd "$1" && for w in *.whl; do echo "$(stat -c %s "$w") $w"; done | sort -rn)
  rmdir "$1"
}
mkdir -p "$OUT/numba"
mv "$OUT"/all/numpy-*.whl "$OUT"/all/numba-*.whl "$OUT"/all/llvmlite-*.whl "$OUT/numba/"
pack "$OUT/all" part
pack "$OUT/numba" part-numba
cp "$OUT/requirements.txt" "$OUT/part1/"
echo "== $OUT:"
du -sh "$OUT"/part* | sed 's/^/   /'
echo "Carry each folder in its own run call, in quick succession (they stay while the machine is warm),"
echo "the part-numba folders only if the device lacks numba; then: scripts/gpu-setup.sh && PYTHON=.venv-gpu/bin/python scripts/gpu-check.sh"
