"""Run mypy on hepframe as it is installed: connectors/ and udfs/ mapped to hepframe.connectors/.udfs.

mypy cannot follow setuptools' package-dir mapping, so this builds the installed layout as a
tree of symlinks under build/typecheck/ and checks that (errors show the mapped paths).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPING = {"hepframe": ROOT / "hepframe", "hepframe/connectors": ROOT / "connectors", "hepframe/udfs": ROOT / "udfs"}


def main() -> int:
    tree = ROOT / "build" / "typecheck"
    shutil.rmtree(tree, ignore_errors=True)
    for target, source in MAPPING.items():
        for path in source.rglob("*"):
            if path.suffix not in (".py", ".typed") or "__pycache__" in path.parts:
                continue
            link = tree / target / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path)
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "-p", "hepframe"]
    return subprocess.call(cmd, cwd=tree)


if __name__ == "__main__":
    sys.exit(main())
