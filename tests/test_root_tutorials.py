"""ROOT 6.40's own Python dataframe tutorials, run with only the import changed (issue #15).

Each tutorial listed in WORKING runs twice in a fresh process, with ``import ROOT`` and with
``from hepframe import ROOT``, in a scratch directory; the printed output must be identical.
docs/migrating-from-root.md lists every tutorial with its status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.slow]

WORKING = ["df004_cutFlowReport", "df006_ranges"]


def _tutorials() -> Path:
    import ROOT

    return Path(os.path.dirname(ROOT.__file__)) / "tutorials" / "analysis" / "dataframe"


def _run(script: Path, cwd: Path) -> str:
    env = {**os.environ, "HEPFRAME_PROGRESS": "0"}
    done = subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return "\n".join(line for line in done.stdout.splitlines() if line.strip())


@pytest.mark.parametrize("name", WORKING)
def test_tutorial_prints_what_root_prints(name: str, tmp_path: Path) -> None:
    source = _tutorials() / f"{name}.py"
    text = source.read_text()
    assert "\nimport ROOT\n" in text
    outputs = []
    for tag, swapped in [("root", text), ("hepframe", text.replace("\nimport ROOT\n", "\nfrom hepframe import ROOT\n"))]:
        workdir = tmp_path / tag
        workdir.mkdir()
        for data in _tutorials().glob("*.root"):
            shutil.copy(data, workdir)
        script = workdir / source.name
        script.write_text(swapped)
        outputs.append(_run(script, workdir))
    assert outputs[0] == outputs[1]
    assert outputs[0]  # the tutorial printed something to compare
