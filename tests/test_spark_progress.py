"""Per-task progress of Spark jobs: a bar of the tasks done and the events read, or nothing at all."""

from __future__ import annotations

import io
import re
import sys
from contextlib import contextmanager

import pytest

import hepframe
from hepframe import progress
from hepframe.datasets import generate_nanoaod
from hepframe.engines.spark_engine import SparkEngine

pytestmark = pytest.mark.usefixtures("spark_session")


@pytest.fixture(scope="module")
def clustered_file(tmp_path_factory) -> str:
    """32 000 events in 64 clusters of 500: four partitions of 16 clusters each."""
    return generate_nanoaod(tmp_path_factory.mktemp("progress") / "clustered.root", n_events=32_000, seed=11,
                            chunk_size=500)  # fmt: skip


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _no_delay(monkeypatch) -> None:
    """Bars drawn at once instead of after a second; the default rule, not the test run's HEPFRAME_PROGRESS=0."""
    monkeypatch.setitem(progress.TQDM_OPTIONS, "delay", 0.0)
    monkeypatch.delenv("HEPFRAME_PROGRESS", raising=False)


@contextmanager
def _stderr(stream: io.StringIO):
    """``stream`` as stderr, in the test itself (pytest sets its own capture again for each phase)."""
    saved, sys.stderr = sys.stderr, stream
    try:
        yield stream
    finally:
        sys.stderr = saved


def _book(path: str, native: bool, **options):
    df = hepframe.RDataFrame("Events", path, engine=SparkEngine(npartitions=4, native=native), **options)
    return df.Filter("nMuon >= 2").Count(), df.Histo1D(("met", "", 20, 0, 200), "MET_pt")


@pytest.mark.parametrize("native", [False, True], ids=["read-in-tasks", "native-columns"])
def test_the_bar_counts_the_tasks_and_the_events(native: bool, clustered_file: str, spark_session) -> None:
    count, hist = _book(clustered_file, native)
    with _stderr(_Terminal()) as terminal:
        assert count.GetValue() > 0
    lines = [line for line in re.split(r"[\r\n]", terminal.getvalue()) if line.strip()]
    assert lines, "no progress bar"
    assert all(line.startswith("hepframe [spark]") for line in lines)
    # The bar kept after the loop: every task of the job, every event read, and the rates.
    final = lines[-1]
    assert re.search(r"\b4/4 \[", final), final
    assert re.search(r"(task/s|s/task), 32\.0k ev, [\d.]+k? ev/s\]$", final), final
    assert hist.GetValue().sum(flow=True).value == 32_000
    # The job's own tag is gone: later jobs of this thread are not counted by a stale bar.
    assert not any(t.startswith("hepframe-progress") for t in spark_session.sparkContext.getJobTags())


def test_the_bar_knows_the_tasks_from_the_start_when_tasks_read_the_files(clustered_file: str) -> None:
    with _stderr(_Terminal()) as terminal:
        _book(clustered_file, native=False)[0].GetValue()
    first = re.split(r"[\r\n]", terminal.getvalue().lstrip("\r"))[0]
    assert re.search(r"\b0/4 \[", first), first


def test_hepframe_progress_0_shows_nothing(clustered_file: str, monkeypatch) -> None:
    monkeypatch.setenv("HEPFRAME_PROGRESS", "0")
    count, hist = _book(clustered_file, native=False)
    with _stderr(_Terminal()) as terminal:
        assert hist.GetValue().sum(flow=True).value == 32_000 and count.GetValue() > 0
    assert terminal.getvalue() == ""


def test_progress_false_shows_nothing(clustered_file: str) -> None:
    count, _ = _book(clustered_file, native=True, progress=False)
    with _stderr(_Terminal()) as terminal:
        assert count.GetValue() > 0
    assert terminal.getvalue() == ""


def test_add_progress_bar_shows_the_bar_outside_terminals(clustered_file: str) -> None:
    from hepframe import ROOT

    count, _ = _book(clustered_file, native=False)
    df = hepframe.RDataFrame("Events", clustered_file, engine=SparkEngine(npartitions=4))
    ROOT.RDF.Experimental.AddProgressBar(df)
    with _stderr(io.StringIO()) as buffer:  # not a terminal: no bar by default
        count.GetValue()
        assert buffer.getvalue() == ""
        df.Count().GetValue()
    assert re.search(r"4/4 \[.*32\.0k ev", buffer.getvalue())


def test_pyspark_importing_ipykernel_is_not_a_notebook(spark_session) -> None:
    pytest.importorskip("ipykernel")
    from pyspark.sql import functions as F

    F.col("x")  # PySpark imports ipykernel here (where installed), in scripts and batch jobs too
    assert "ipykernel" in sys.modules
    with _stderr(io.StringIO()):
        assert not progress.in_notebook()
        assert not progress.progress_enabled(None)
    with _stderr(_Terminal()):
        assert progress.progress_enabled(None)
