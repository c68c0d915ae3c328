"""The example notebooks under docs/notebooks/ execute headless (nbclient) and show what they promise.

Each notebook generates its own small sample in a temporary directory; the tests look at the
outputs of the executed cells: no errors, the MIME types of the displays (HTML tables, the graph's
SVG, PNG plots), and numbers the notebook computed two ways.
"""

from __future__ import annotations

import base64
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


def _cell_outputs(notebook: nbformat.NotebookNode, last_line: str) -> list[dict]:
    """The outputs of the one code cell whose source ends with the line ``last_line`` (what it displays)."""
    cells = [c for c in notebook.cells if c.cell_type == "code" and c.source.strip().splitlines()[-1] == last_line]
    assert len(cells) == 1, f"{len(cells)} cells end with {last_line!r}"
    return cells[0].get("outputs", [])


def _errors(outputs: list[dict]) -> list[str]:
    return [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]


def _text(outputs: list[dict]) -> str:
    """What the cells printed, and the plain-text form of what they displayed."""
    return "".join(o.get("text", "") for o in outputs) + "".join(o.get("data", {}).get("text/plain", "")
                                                                  for o in outputs)  # fmt: skip


def _data(outputs: list[dict], mime: str) -> list[str]:
    return [o["data"][mime] for o in outputs if mime in o.get("data", {})]


def _pngs(outputs: list[dict]) -> list[bytes]:
    images = [base64.b64decode(png) for png in _data(outputs, "image/png")]
    assert all(image.startswith(b"\x89PNG\r\n\x1a\n") for image in images)
    return images


def test_the_notebooks_are_all_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == ["agc.ipynb", "dimuon.ipynb", "spark.ipynb",
                                                                 "systematics.ipynb"]  # fmt: skip


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebooks_are_stored_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [c.source[:40] for c in code if c.get("outputs") or c.get("execution_count") is not None]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_agc_notebook_runs_the_analysis_and_shows_the_fit() -> None:
    notebook = _execute("agc.ipynb")
    outputs = _outputs(notebook)
    assert not _errors(outputs)
    text = _text(outputs)
    assert "124 histograms" in text
    fitted = re.search(r"ttbar_norm = ([0-9.]+) \+- ([0-9.]+)", text)
    assert fitted, text[-2000:]
    value, error = float(fitted.group(1)), float(fitted.group(2))
    assert abs(value - 1.0) < error < 0.5  # the pseudo-data hold the expected ttbar yield
    assert len(_pngs(outputs)) >= 3  # the stacked regions, the post-fit yields, the pulls


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dimuon_notebook_shows_tables_the_graph_and_the_spectrum() -> None:
    notebook = _execute("dimuon.ipynb")
    outputs = _outputs(notebook)
    assert not _errors(outputs)
    text = _text(outputs)

    # the histogram: pending before the event loop, an HTML display (hist's, with its SVG) after it
    assert "pending" in _text(_cell_outputs(notebook, "h  # booked, not computed"))
    shown = _cell_outputs(notebook, "h")
    assert "event loops run: 1\n" in _text(shown)  # every booked result from one event loop
    assert "<svg" in "".join(_data(shown, "text/html"))

    # the cut-flow table, whose count of selected events the notebook cross-checked
    (cutflow,) = _data(_cell_outputs(notebook, "report"), "text/html")
    assert "<table" in cutflow and "cut flow" in cutflow and "Events with exactly two muons" in cutflow
    in_table = re.search(r"Muons with opposite charge</td><td[^>]*>(\d+)</td>", cutflow)
    printed = re.search(r"selected events: (\d+), histogram entries: (\d+), np.histogram agrees in all 120 bins", text)
    assert in_table and printed, text[-2000:]
    assert int(in_table.group(1)) == int(printed.group(1)) == int(printed.group(2)) > 1000

    # Describe() (text) and Display() (an HTML table of the first events)
    assert "Dimuon_mass" in _text(_cell_outputs(notebook, "df_mass.Describe()"))
    (first_events,) = _data(_cell_outputs(notebook, "first_events"), "text/html")
    assert "<table" in first_events and "Dimuon_mass" in first_events and "Muon_charge" in first_events

    # the analysis graph as SVG, and the spectrum as a PNG
    (graph,) = _data(_cell_outputs(notebook, "hepframe.SaveGraph(df)"), "image/svg+xml")
    assert graph.lstrip().startswith("<svg") and "Muons with opposite charge" in graph
    assert len(_pngs(outputs)) == 1


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_spark_notebook_gives_the_polars_histogram() -> None:
    notebook = _execute("spark.ipynb")
    outputs = _outputs(notebook)
    assert not _errors(outputs)
    text = _text(outputs)
    assert re.search(r"Spark [0-9.]+ on local\[2\]", text)
    assert "engine: spark" in _text(_cell_outputs(notebook, "df_mass.explain()"))
    shown = _cell_outputs(notebook, "h_spark")
    assert "event loops run: 1\n" in _text(shown)
    assert "<svg" in "".join(_data(shown, "text/html"))
    (cutflow,) = _data(_cell_outputs(notebook, "report_spark"), "text/html")
    assert "cut flow" in cutflow and "Muons with opposite charge" in cutflow
    assert len(_pngs(outputs)) == 1
    # the notebook compares the histograms bin by bin (assert_array_equal) before it prints this
    agreed = re.search(r"Spark and Polars agree in all (\d+) bins \(under- and overflow included\), (\d+) entries", text)
    assert agreed, text[-2000:]
    assert int(agreed.group(1)) == 122 and int(agreed.group(2)) > 1000


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_systematics_notebook_fits_the_injected_momentum_scale() -> None:
    notebook = _execute("systematics.ipynb")
    outputs = _outputs(notebook)
    assert not _errors(outputs)
    text = _text(outputs)

    tables = [html for html in _data(outputs, "text/html") if "VariationsFor" in html]
    assert len(tables) == 2  # booked (pending), then computed (ready)
    for variation in ("nominal", "muon_scale:up", "muon_scale:down"):
        assert all(variation in html for html in tables)
    assert "pending" in tables[0] and "ready" in tables[1] and "pending" not in tables[1]
    assert "event loops over the simulation: 1\n" in text  # nominal and both variations in one pass
    assert len(_pngs(outputs)) == 2  # nominal/up/down with the data, and the post-fit yields

    number = r"(-?[0-9.]+)"
    scale = re.search(rf"muon_scale: fit {number} \+- {number}, injected {number}, from the medians {number}", text)
    norm = re.search(rf"mu: fit {number} \+- {number}, counted {number}", text)
    assert scale and norm, text[-2000:]
    theta, theta_error, injected, from_medians = map(float, scale.groups())
    mu, mu_error, counted = map(float, norm.groups())
    # the fit finds the miscalibration put into the pseudo-data (half the +1 % variation) ...
    assert injected == 0.5
    assert abs(theta - injected) < 3 * theta_error < 0.75
    # ... as the shift of the median dimuon mass does, and the normalisation that counting gives
    assert abs(theta - from_medians) < 3 * theta_error
    assert abs(mu - counted) < mu_error < 0.1
