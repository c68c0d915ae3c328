"""The example notebooks under docs/notebooks/ execute headless (nbclient) and show what they promise."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "docs" / "notebooks"


def _execute(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()  # fmt: skip
    return notebook


def _outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


def test_the_notebooks_are_all_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == ["agc.ipynb"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_agc_notebook_runs_the_analysis_and_shows_the_fit() -> None:
    notebook = _execute("agc.ipynb")
    outputs = _outputs(notebook)
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs) + "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "124 histograms" in text
    fitted = re.search(r"ttbar_norm = ([0-9.]+) \+- ([0-9.]+)", text)
    assert fitted, text[-2000:]
    value, error = float(fitted.group(1)), float(fitted.group(2))
    assert abs(value - 1.0) < error < 0.5  # the pseudo-data hold the expected ttbar yield
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3  # the stacked regions, the post-fit yields, the pulls
