"""Edge cases and bad input found in review: each must give the right numbers or a hepframe error."""

from __future__ import annotations

import numpy as np
import pytest
import uproot

import hepframe
from hepframe.errors import AnalysisError, EventError, HepframeError


def test_run_graphs_keeps_cached_graphs_apart(small_nanoaod_file: str) -> None:
    a = hepframe.RDataFrame("Events", small_nanoaod_file).Filter("nMuon >= 2").Cache(["MET_pt"])
    b = hepframe.RDataFrame("Events", small_nanoaod_file).Filter("nJet >= 3").Cache(["MET_pt"])
    ha, hb = a.Sum("MET_pt"), b.Sum("MET_pt")
    hepframe.RunGraphs([ha, hb])
    full = hepframe.RDataFrame("Events", small_nanoaod_file)
    assert ha.GetValue() == pytest.approx(full.Filter("nMuon >= 2").Sum("MET_pt").GetValue(), rel=1e-12)
    assert hb.GetValue() == pytest.approx(full.Filter("nJet >= 3").Sum("MET_pt").GetValue(), rel=1e-12)


def test_from_spec_with_a_branch_missing_in_one_sample(tmp_path) -> None:
    with uproot.recreate(tmp_path / "with.root") as f:
        f.mktree("Events", {"x": np.float32, "xnew": np.float64}).extend(
            {"x": np.ones(4, np.float32), "xnew": np.arange(4.0)}
        )
    with uproot.recreate(tmp_path / "without.root") as f:
        f.mktree("Events", {"x": np.float32}).extend({"x": np.ones(3, np.float32)})
    spec = {"samples": {"a": {"trees": ["Events"], "files": [str(tmp_path / "with.root")]},
                        "b": {"trees": ["Events"], "files": [str(tmp_path / "without.root")]}}}  # fmt: skip
    df = hepframe.FromSpec(spec)
    assert df.DefaultValueFor("xnew", -1.0).Sum("xnew").GetValue() == 0 + 1 + 2 + 3 - 3
    assert df.FilterMissing("xnew").Count().GetValue() == 3


def test_models_and_column_types(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    edges_x, edges_y = [0.0, 10.0, 50.0, 200.0], [-5.0, 0.0, 5.0]
    h = df.Histo2D(("h", "", 3, edges_x, 2, edges_y), "MET_pt", "PV_z").GetValue()
    assert list(h.axes[0].edges) == edges_x and list(h.axes[1].edges) == edges_y
    assert h.sum(flow=True).value == 3000
    combos = df.Define("c", "Combinations(Jet_pt, Jet_eta)")
    with pytest.raises(AnalysisError, match=r"'c', which is RVec<RVec<unsigned long>>"):
        combos.Histo1D(("h", "", 10, 0, 10), "c")
    with pytest.raises(AnalysisError, match=r"Sum cannot use 'c'"):
        combos.Sum("c")


def test_a_failed_event_loop_does_not_poison_the_graph(small_nanoaod_file: str, tmp_path) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    bad = df.Define("first", "Jet_pt[0]").Sum("first")  # out of range in events without jets
    with pytest.raises(EventError, match=r"'first = Jet_pt\[0\]' is undefined in entry \d+"):
        bad.GetValue()
    with pytest.raises(EventError):
        bad.GetValue()  # the failed result keeps failing ...
    assert df.Count().GetValue() == 3000  # ... but new results run
    with pytest.raises(AnalysisError, match=r"Snapshot: cannot write to '/proc/nope/x\.root'"):
        df.Snapshot("Events", "/proc/nope/x.root", ["MET_pt"])


def test_snapshot_size_branches_do_not_collide(small_nanoaod_file: str, tmp_path) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file).Define("Jet", "Jet_pt[Jet_pt > 30]")
    out = df.Snapshot("Events", tmp_path / "s.root", ["nJet", "Jet"])
    assert out.GetColumnNames() == ["Jet", "nJet"]
    assert out.Sum("Jet").GetValue() == pytest.approx(df.Sum("Jet").GetValue(), rel=1e-12)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: d.Filter(5), "must be a C\\+\\+ string or a Python callable"),
        (lambda d: d.Define("a", None), "must be a C\\+\\+ string or a Python callable"),
        (lambda d: d.Range("5"), "Range needs integers"),
        (lambda d: d.Range(2.5), "Range needs integers"),
        (lambda d: d.AsNumpy(5), "AsNumpy needs column names"),
        (lambda d: d.Vary("MET_pt", "ROOT::RVecF{MET_pt * 2.f}", ["a"], "v:6"), "without ':'"),
        (lambda d: d.Vary("MET_pt", "ROOT::RVecF{MET_pt, MET_pt}", ["a", "a"], "v"), "duplicate variation tags"),
        (lambda d: d.Vary("MET_pt", "ROOT::RVecD{MET_pt * 2.0}", ["a"], "v"), "must give RVec<float>"),
        (lambda d: d.Vary("MET_pt", "ROOT::RVecF{MET_pt, MET_pt}", ["a", "b", "c"], "v"), "2 values for 3 tags"),
        (lambda d: d.DefaultValueFor("MET_pt", "abc"), "the default must be a number"),
        (lambda d: hepframe.VariationsFor(d), "VariationsFor needs a booked result"),
        (lambda d: hepframe.RunGraphs([d]), "RunGraphs needs booked results"),
    ],
)
def test_bad_input_gives_hepframe_errors(small_nanoaod_file: str, call, message: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    with pytest.raises(HepframeError, match=message):
        call(df)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"samples": {"a": "x"}}, "must be an object"),
        ("[1, 2]", "must be a JSON object"),
        ({"samples": {"a": {"trees": ["Events"], "files": "f.root"}}}, "must be lists of strings"),
        ({"samples": {"a": {"trees": ["Events"], "files": ["f.root"], "metadata": [1]}}}, "'metadata' must be an object"),
    ],
)
def test_malformed_specs(spec, message: str) -> None:
    with pytest.raises(AnalysisError, match=message):
        hepframe.FromSpec(spec)


def test_bad_constructor_arguments(small_nanoaod_file: str) -> None:
    with pytest.raises(AnalysisError, match="files must be a path"):
        hepframe.RDataFrame("Events", 5)
    with pytest.raises(AnalysisError, match="step_size must be a positive"):
        hepframe.RDataFrame("Events", small_nanoaod_file, step_size=0)
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    assert df.Filter("nJet > 1000").Reduce(np.maximum, "MET_pt").GetValue() is None  # nothing reached it
    graph = df.Graph("MET_pt", "MET_pt").GetValue()
    np.testing.assert_array_equal(graph.GetX(), graph.GetY())
