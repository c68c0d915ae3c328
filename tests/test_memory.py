"""Batch data is freed when a batch is done, by reference counting, not by the cycle collector.

A reference cycle that reaches a batch's frame (e.g. a recursive closure over it) keeps the batch
alive until Python's garbage collector happens to run: peak memory then grows with the number of
batches instead of staying bounded by the batch size (the 20M-event ADL runs, docs/performance.md).
"""

from __future__ import annotations

import gc
from collections.abc import Callable

import awkward as ak
import numpy as np
import polars as pl
import pyarrow as pa
import pytest

import hepframe
from hepframe.execution import Executor

#: Types that hold a batch's data.
DATA = (pl.DataFrame, pl.Series, pa.Table, pa.RecordBatch, pa.Array, pa.ChunkedArray, np.ndarray, ak.Array)


def _book(df):
    d = (df.Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.9f, MET_pt * 1.1f}", ["down", "up"], "met")
           .Define("ht", "Sum(Jet_pt[Jet_pt > 30]) + MET_pt")
           .Define("ht2", "2 * ht")  # a Define on a Define: the dependency walk recurses
           .Filter("nJet > 0", "a jet")
           .Define("lead", "Jet_pt[0] + ht2"))  # fmt: skip
    h = d.Histo1D(("h", "", 20, 0.0, 400.0), "lead", "MET_pt")
    hepframe.VariationsFor(h)  # the varied universes are walked in the same loop
    return [h, d.Filter("ht > 10").Sum("ht2"), df.Count(), d.Take("rdfentry_"), d.Report()]


def _held_by_cycles(run: Callable[[], object]) -> list[str]:
    """``run()``, then the types of the batch data that only reference cycles kept alive."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable goes to gc.garbage
    try:
        run()
        gc.collect()
        # Arrays are not tracked by the collector themselves: look at what the cycles hold too.
        return [type(o).__name__ for g in gc.garbage for o in (g, *gc.get_referents(g)) if isinstance(o, DATA)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


def _garbage_after_run(nanoaod_file: str, engine: str, threads: int, cache: bool = False) -> tuple[list, list]:
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine, progress=False, cache=cache,
                             threads=threads, step_size=2_000)  # fmt: skip
    results = _book(df)
    held = _held_by_cycles(lambda: [r.GetValue() for r in results])
    return held, [r.GetValue() for r in results]


@pytest.mark.parametrize("cache", [False, True], ids=["file", "column-cache"])
@pytest.mark.parametrize(("engine", "threads"), [("reference", 1), ("polars", 1), ("polars", 2)])  # reference: serial
def test_no_batch_data_in_reference_cycles(nanoaod_file, engine, threads, cache):
    _garbage_after_run(nanoaod_file, engine, threads, cache)  # the first run with cache=True fills it
    leaked, values = _garbage_after_run(nanoaod_file, engine, threads, cache)
    assert values[2] == 20_000  # the run really went over all batches
    assert leaked == []


def test_no_batch_data_in_reference_cycles_with_rungraphs(nanoaod_file):
    """Graphs sharing a read (RunGraphs) on the compute threads."""
    dfs = [hepframe.RDataFrame("Events", nanoaod_file, progress=False, cache=False, threads=2, step_size=2_000)
           for _ in range(2)]  # fmt: skip
    results = [*_book(dfs[0]), dfs[1].Define("m2", "MET_pt * MET_pt").Filter("m2 > 100").Sum("m2")]
    assert _held_by_cycles(lambda: hepframe.RunGraphs(results)) == []
    assert results[2].GetValue() == 20_000 and results[-1].GetValue() > 0


def test_the_check_sees_a_frame_kept_by_a_cycle(nanoaod_file, monkeypatch):
    """The test above can fail: a recursive closure over the frame (the old ``_ensure``) is caught."""
    original = Executor._ensure

    def ensure_with_cycle(self, frame, node, names, universe):
        def visit():  # calls itself: function -> cell -> function, and a cell holding the frame
            return visit, frame

        visit()
        return original(self, frame, node, names, universe)

    monkeypatch.setattr(Executor, "_ensure", ensure_with_cycle)
    leaked, _ = _garbage_after_run(nanoaod_file, "polars", 1)
    assert "DataFrame" in leaked
