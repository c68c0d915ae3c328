"""Before a filter copies the surviving rows, the executor drops the columns nothing below reads.

On Polars (``LAZY_BRANCHES``) it also leaves out the source branches that only later steps
read: they are taken from the batch where they are read, so each is copied once.
"""

from __future__ import annotations

import numpy as np
import pytest

import hepframe
from hepframe.engines.polars_engine import PolarsEngine
from tests.conftest import assert_same_values


def _analysis(path: str, engine: str, threads: int = 1):
    df = hepframe.RDataFrame("Events", path, engine=engine, progress=False, threads=threads, step_size=700)
    a = df.Define("a", "Jet_pt * 2").Filter("Sum(a > 50) > 0", "a jet above 25")
    b = a.Define("b", "Jet_eta + 1").Define("unused", "Electron_pt * 3").Filter("nMuon > 0", "a muon")
    return [b.Histo1D(("b", "", 20, -3.0, 5.0), "b"), b.Sum("a"), b.Take("MET_pt"),
            a.AsNumpy(["Electron_pt"], lazy=True), b.Report()]  # fmt: skip


def test_filters_receive_only_the_columns_used_below(small_nanoaod_file, monkeypatch):
    seen: list[tuple[str, frozenset[str]]] = []
    original = PolarsEngine.apply_filter

    def spy(self, frame, expr, text):
        seen.append((text, frozenset(frame.columns)))
        return original(self, frame, expr, text)

    monkeypatch.setattr(PolarsEngine, "apply_filter", spy)
    results = _analysis(small_nanoaod_file, "polars")
    results[0].GetValue()
    second = {cols for text, cols in seen if text == "nMuon > 0"}
    assert second, "the second filter ran"
    for cols in second:
        # a is computed above: kept as a column, its input Jet_pt is not needed again; Electron_pt
        # is read above the filter (AsNumpy) but nothing below uses it ("unused" is never computed).
        # The filter reads nMuon; Jet_eta (for b) and MET_pt (Take) are read below it: taken then.
        assert {"nMuon", "rdfentry_"} <= cols and any(c.startswith("a@") for c in cols)
        assert not cols & {"Jet_pt", "Electron_pt", "Jet_eta", "MET_pt"}, cols


@pytest.mark.parametrize("threads", [1, 2])
def test_pruned_results_equal_the_reference_engine(small_nanoaod_file, threads):
    got = _analysis(small_nanoaod_file, "polars", threads)
    want = _analysis(small_nanoaod_file, "reference", threads)
    np.testing.assert_array_equal(got[0].GetValue().values(flow=True), want[0].GetValue().values(flow=True))
    assert got[1].GetValue() == want[1].GetValue()
    assert_same_values(np.asarray(got[2].GetValue()), np.asarray(want[2].GetValue()))
    assert [len(x) for x in got[3].GetValue()["Electron_pt"]] == [len(x) for x in want[3].GetValue()["Electron_pt"]]
    assert [(c.GetName(), c.GetPass(), c.GetAll()) for c in got[4].GetValue()] == \
           [(c.GetName(), c.GetPass(), c.GetAll()) for c in want[4].GetValue()]  # fmt: skip
