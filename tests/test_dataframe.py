"""The RDataFrame API: laziness, one pass for all booked results, cut-flows and clear errors."""

from __future__ import annotations

import re

import hist
import numpy as np
import pytest

import hepframe
from hepframe.errors import (
    AnalysisError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    UnknownColumnError,
    UnsupportedOperationError,
)
from tests.conftest import ENGINES


@pytest.mark.parametrize("engine", ENGINES)
def test_results_are_lazy_and_computed_in_one_pass(engine: str, nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine, step_size=5000)
    sel = df.Filter("nJet >= 2", "two jets").Define("ht", "Sum(Jet_pt)")
    handles = [
        sel.Histo1D(("ht", "", 50, 0, 500), "ht"),
        sel.Histo1D(("j", "", 50, 0, 200), "Jet_pt", "MET_pt"),
        df.Count(),
        sel.Count(),
        sel.Mean("ht"),
        sel.Sum("MET_pt"),
        df.Report(),
        df.Filter("MET_pt > 50", "high MET").Count(),
    ]
    assert df.passes == 0 and not any(h.IsReady() for h in handles)
    assert handles[2].GetValue() == 20_000
    assert df.passes == 1 and all(h.IsReady() for h in handles)
    for h in handles:
        h.GetValue()
    assert df.passes == 1  # every result came from the same event loop
    # Booking more and asking again runs one more pass, for the new result only.
    extra = df.Sum("PV_npvs")
    assert extra.GetValue() > 0 and df.passes == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_report_lists_named_filters_in_order(engine: str, nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine)
    a = df.Filter("nMuon >= 1", "at least one muon")
    b = a.Filter("Muon_pt[0] > 10", "leading muon pt")
    b.Filter("MET_pt > 0")  # unnamed: counted by ROOT but not reported
    c = df.Filter("nJet >= 1", "a jet")
    report = df.Report().GetValue()
    names = [e.name for e in report]
    assert names == ["at least one muon", "leading muon pt", "a jet"]
    assert report["at least one muon"].all == 20_000
    assert report["leading muon pt"].all == report["at least one muon"].passed
    assert report["leading muon pt"].passed == b.Count().GetValue()
    assert report["a jet"].passed == c.Count().GetValue()
    text = str(report)
    assert re.search(r"leading muon pt *: pass=\d+ +all=\d+ +-- eff=\d+\.\d\d %", text)
    # Report on a node: only the filters upstream of it.
    assert [e.name for e in b.Report().GetValue()] == ["at least one muon", "leading muon pt"]


@pytest.mark.parametrize("engine", ENGINES)
def test_defines_are_evaluated_only_where_used(engine: str, nanoaod_file: str) -> None:
    # Muon_pt[1] is out of range without two muons; ROOT evaluates the Define only after the Filter.
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine)
    sub = df.Define("pt2", "Muon_pt[1]").Filter("nMuon >= 2")
    values = sub.AsNumpy(["pt2"])["pt2"]
    assert len(values) == sub.Count().GetValue() > 0
    assert values.dtype == np.float32


def test_histograms_are_hist_objects_with_flow(nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file)
    h = df.Histo1D(hist.axis.Regular(10, 0, 50, name="met", label="MET"), "MET_pt").GetValue()
    assert isinstance(h, hist.Hist)
    assert h.axes[0].name == "met"
    total = h.sum(flow=True).value
    assert total == 20_000
    assert h.view(flow=True)["value"][-1] > 0  # overflow is kept
    # Variable binning from a ROOT-style model.
    hv = df.Histo1D(("v", "title", 3, [0.0, 10.0, 20.0, 100.0]), "MET_pt").GetValue()
    assert hv.axes[0].edges.tolist() == [0.0, 10.0, 20.0, 100.0]
    # Partial histograms merge with +.
    assert (hv + hv).sum(flow=True).value == 2 * hv.sum(flow=True).value


def test_result_handle_forwards_to_the_value(nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file)
    h = df.Histo1D(("met", "", 10, 0, 100), "MET_pt")
    assert h.sum(flow=True).value == 20_000  # like RResultPtr's operator->
    assert df.GetColumnType("nMuon") == "UInt_t"  # as ROOT names the branch type
    assert df.GetColumnType("Muon_pt") == "ROOT::VecOps::RVec<Float_t>"  # a leaf array, not a std::vector
    assert "MET_pt" in df.GetColumnNames()


def test_errors_name_what_and_where(nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file)
    with pytest.raises(ExpressionSyntaxError, match=r"column 13:\n    Sum\(Jet_pt >\) > 1\n {16}\^"):
        df.Filter("Sum(Jet_pt >) > 1")
    with pytest.raises(UnknownColumnError, match=r"unknown column 'Jet_ptt'; did you mean 'Jet_pt'"):
        df.Filter("Sum(Jet_ptt > 40) > 1")
    with pytest.raises(UnknownColumnError, match=r"'MET_ptt'.*did you mean 'MET_pt'"):
        df.Histo1D(("h", "", 10, 0, 1), "MET_ptt")
    with pytest.raises(ExpressionTypeError, match=r"RVec<float>.*const char\*"):
        df.Filter('Muon_pt > "40"')
    with pytest.raises(AnalysisError, match=r"RVec<int>, not a condition"):
        df.Filter("Muon_pt > 40")
    with pytest.raises(AnalysisError, match=r"already exists"):
        df.Define("MET_pt", "1")
    with pytest.raises(AnalysisError, match=r"axis needs low < high.*Histo1D only"):
        df.Histo2D(("h", "", 10, 5, 5, 10, 0, 1), "MET_pt", "MET_pt")
    with pytest.raises(AnalysisError, match=r"limits must be finite"):
        df.Histo1D(("h", "", 10, 0, float("inf")), "MET_pt")
    with pytest.raises(UnsupportedOperationError, match=r"unknown engine 'spork'"):
        hepframe.RDataFrame("Events", nanoaod_file, engine="spork")


def test_user_strings_are_never_executed(nanoaod_file: str, tmp_path, monkeypatch) -> None:
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("user text reached eval/exec/compile")

    import hepframe.cpp  # noqa: F401 - imported first: importing a module compiles its source (without .pyc files)

    df = hepframe.RDataFrame("Events", nanoaod_file)
    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    sentinel = tmp_path / "pwned"
    for text in (f"__import__('os').system('touch {sentinel}')", "exec(\"1\")", "().__class__.__bases__"):
        with pytest.raises(hepframe.HepframeError):
            df.Define("x", text)
    assert not sentinel.exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_same_name_defines_on_sibling_branches_stay_separate(engine: str, nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine)
    a = df.Define("x", "MET_pt").Sum("x")
    b = df.Define("x", "PV_npvs").Sum("x")
    c = df.Filter("nJet > 0").Define("x", "nJet").Define("y", "x * 2").Sum("y")
    assert a.GetValue() == pytest.approx(df.Sum("MET_pt").GetValue())
    assert b.GetValue() == df.Sum("PV_npvs").GetValue()
    assert c.GetValue() == 2 * df.Sum("nJet").GetValue()
