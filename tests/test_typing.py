"""The result types a user's type checker sees: ``mypy --strict`` on scripts in tests/typing/ (never run).

mypy cannot follow the editable install's import hook, so hepframe is laid out as installed (with
py.typed; connectors/ and udfs/ as hepframe.connectors/.udfs) in symlinks, as scripts/typecheck.py
does. hepframe's own modules are followed silently (as an installed package's are); the scripts
are checked strictly. Both runs share one cache: the second takes seconds.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")
pytestmark = pytest.mark.slow  # the first mypy run analyses numpy, polars, hist, ...: about 20 s of CPU

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "tests" / "typing"
LAYOUT = {"hepframe": REPO / "hepframe", "hepframe/connectors": REPO / "connectors", "hepframe/udfs": REPO / "udfs"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("installed")
    for target, source in LAYOUT.items():
        for path in source.rglob("*"):
            if path.suffix in (".py", ".typed") and "__pycache__" not in path.parts:
                link = tree / target / path.relative_to(source)
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(path)
    return tree


def mypy(script: str, tree: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--cache-dir", str(tree / ".mypy_cache"),
           "--no-error-summary", "--show-error-codes", str(SCRIPTS / script)]  # fmt: skip
    return subprocess.run(cmd, cwd=tree, capture_output=True, text=True, check=False, timeout=600)


def test_user_analysis_passes_mypy_strict(installed: Path) -> None:
    result = mypy("user_analysis.py", installed)
    assert result.returncode == 0, result.stdout + result.stderr


def test_results_are_typed_not_any(installed: Path) -> None:
    """Each line marked ``# error: T`` uses a result as the wrong type: mypy names the result's type T."""
    script = SCRIPTS / "wrong_types.py"
    expected = {i: m.group(1) for i, line in enumerate(script.read_text().splitlines(), 1)
                if (m := re.search(r"# error: (\w+)", line))}  # fmt: skip
    result = mypy(script.name, installed)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = {int(m.group(1)): m.group(2) for m in re.finditer(r"wrong_types\.py:(\d+): error: (.*)", result.stdout)}
    assert set(errors) == set(expected), result.stdout
    for line, type_name in expected.items():
        assert f'expression has type "{type_name}' in errors[line], errors[line]
