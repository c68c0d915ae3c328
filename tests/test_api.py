"""RDataFrame verbs without a ROOT equivalent, and the API's guarantees (one pass, atomic writes)."""

from __future__ import annotations

import subprocess
import sys

import awkward as ak
import numpy as np
import pyarrow as pa
import pytest

import hepframe
from hepframe.datasets import generate_nanoaod
from tests.conftest import ENGINES, assert_same_values, snapshot_killed_mid_write


@pytest.mark.parametrize("engine", ENGINES)
def test_one_pass_for_many_actions_and_variations(engine: str, small_nanoaod_file: str, branch_reads) -> None:
    reads = branch_reads
    df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, step_size=500)
    d = df.Filter("nJet >= 1", "jet").Define("lead", "Jet_pt[0]")
    d = d.Vary("lead", "ROOT::RVecF{lead * 0.9f, lead * 1.1f}", ["down", "up"], "jes")
    d = d.Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.8f, MET_pt * 1.2f}", ["down", "up"], "met")
    d = d.Vary("Jet_eta", "ROOT::RVec<ROOT::RVecF>{Jet_eta * 0.9f, Jet_eta * 1.1f}", ["lo", "hi"], "eta")
    handles = [
        d.Histo1D(("lead", "", 40, 0, 400), "lead"), d.Histo1D(("met", "", 40, 0, 200), "MET_pt"),
        d.Histo2D(("2d", "", 10, 0, 200, 10, -5, 5), "Jet_pt", "Jet_eta"), d.Count(), d.Sum("MET_pt"),
        d.Mean("lead"), d.Stats("MET_pt"), d.Profile1D(("p", "", 10, 0, 200), "lead", "MET_pt"),
        d.Filter("lead > 50", "hard").Count(), d.Max("Jet_pt"), df.Report(), d.StdDev("lead"),
    ]  # fmt: skip
    variations = [hepframe.VariationsFor(h) for h in handles[:3]]
    assert sorted(variations[0].keys()) == ["jes:down", "jes:up", "nominal"]
    assert sorted(variations[1].keys()) == ["met:down", "met:up", "nominal"]
    assert sorted(variations[2].keys()) == ["eta:hi", "eta:lo", "nominal"]
    for v in variations:
        for key in v.keys():
            assert v[key].sum(flow=True).value > 0
    for h in handles:
        h.GetValue()
    assert df.passes == 1
    assert len(reads) == 1  # the files were read once for 12 results and 3 variations
    nominal = variations[0]["nominal"].values()
    assert not np.array_equal(nominal, variations[0]["jes:up"].values())
    np.testing.assert_array_equal(nominal, handles[0].GetValue().values())


def test_from_spec_with_sample_weights(tmp_path) -> None:
    a = generate_nanoaod(tmp_path / "a.root", 4000, seed=11)
    b = generate_nanoaod(tmp_path / "b.root", 2500, seed=12)
    spec = {"samples": {
        "signal": {"trees": ["Events"], "files": [a], "metadata": {"xsec": 2.5, "sumw": 4000.0}},
        "background": {"trees": ["Events"], "files": [b], "metadata": {"xsec": 40.0, "sumw": 2500.0}},
    }}  # fmt: skip
    lumi = 10.0
    df = hepframe.FromSpec(spec)
    weighted = df.DefinePerSample("weight", lambda s: s.GetD("xsec") * lumi / s.GetD("sumw"))
    model = ("mjj", "", 25, 0, 250)
    combined_handle = weighted.Filter("nJet >= 2").Histo1D(model, "MET_pt", "weight")
    by_column = df.Define("w", "sample_xsec * 10.0 / sample_sumw").Filter("nJet >= 2").Histo1D(model, "MET_pt", "w")
    combined = combined_handle.GetValue()
    expected = np.zeros(27)
    expected_var = np.zeros(27)
    for path, xsec, sumw in ((a, 2.5, 4000.0), (b, 40.0, 2500.0)):
        h = hepframe.RDataFrame("Events", path).Filter("nJet >= 2").Histo1D(model, "MET_pt").GetValue()
        scale = xsec * lumi / sumw
        expected += h.values(flow=True) * scale
        expected_var += h.values(flow=True) * scale**2
    np.testing.assert_allclose(combined.values(flow=True), expected, rtol=1e-12)
    np.testing.assert_allclose(combined.variances(flow=True), expected_var, rtol=1e-12)
    np.testing.assert_allclose(by_column.GetValue().values(flow=True), expected, rtol=1e-12)
    assert df.passes == 1  # both histograms, both samples, one loop
    assert {"sample_xsec", "sample_sumw"} <= set(df.GetColumnNames())


def test_snapshot_killed_mid_write_leaves_no_output(small_nanoaod_file: str, tmp_path) -> None:
    target = tmp_path / "skim.parquet"
    script = snapshot_killed_mid_write(str(small_nanoaod_file), str(target), ["Jet_pt"])
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert proc.returncode == -9, proc.stderr  # killed mid-write
    assert not target.exists()
    leftovers = list(tmp_path.iterdir())
    assert all(p.name.startswith(".skim.parquet.") for p in leftovers)  # only a hidden temporary, never the file


@pytest.mark.parametrize("engine", ENGINES)
def test_as_arrow_and_awkward_match_the_reference(engine: str, tiny_file: str) -> None:
    df = hepframe.RDataFrame("Events", tiny_file, engine=engine, step_size=3).Define("sel", "Obj_v[Obj_v > 1]")
    table = df.AsArrow(["x", "sel", "nObj"]).GetValue()
    assert isinstance(table, pa.Table) and table.num_rows == 8
    assert table.schema.field("nObj").type == pa.uint32()
    arrays = df.AsAwkward(["x", "sel"]).GetValue()
    reference = hepframe.RDataFrame("Events", tiny_file, engine="reference").Define("sel", "Obj_v[Obj_v > 1]")
    expected = reference.AsNumpy(["x", "sel"])
    assert_same_values(np.asarray(table.column("x").to_numpy()), expected["x"], "x")
    assert [list(v) for v in expected["sel"]] == table.column("sel").to_pylist() == ak.to_list(arrays["sel"])


def test_run_graphs_shares_the_read(small_nanoaod_file: str, branch_reads) -> None:
    reads = branch_reads
    a = hepframe.RDataFrame("Events", small_nanoaod_file)
    b = hepframe.RDataFrame("Events", small_nanoaod_file)
    ha = a.Filter("nMuon >= 1").Histo1D(("a", "", 10, 0, 100), "MET_pt")
    hb = b.Define("ht", "Sum(Jet_pt)").Histo1D(("b", "", 10, 0, 500), "ht")
    assert hepframe.RunGraphs([ha, hb]) == 1
    assert len(reads) == 1 and reads[0] == ["Jet_pt", "MET_pt", "nMuon"]
    assert ha.IsReady() and hb.IsReady()
    assert ha.GetValue().sum(flow=True).value == a.Filter("nMuon >= 1").Count().GetValue()


def test_save_graph_display_describe_explain(small_nanoaod_file: str, tmp_path) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    sel = df.Filter("nJet >= 2", "two jets").Define("lead", "Jet_pt[0]")
    h = sel.Histo1D(("lead", "", 10, 0, 200), "lead")
    dot = hepframe.SaveGraph(h, tmp_path / "graph.dot")
    assert dot.startswith("digraph") and "Filter two jets" in dot and "Define lead" in dot
    assert (tmp_path / "graph.dot").read_text() == dot
    mermaid = hepframe.SaveGraph(df, format="mermaid")
    assert mermaid.startswith("flowchart TD") and "-->" in mermaid
    table = str(sel.Display(["lead", "Jet_pt", "nJet"], 3).GetValue())
    assert table.startswith("+-----+") and "| Row | lead " in table  # ROOT's RDisplay layout
    assert all(f"| {i}   |" in table for i in range(3)) and "| 3   |" not in table
    described = sel.Describe()
    assert described.startswith(f"Dataframe from TChain Events in file {small_nanoaod_file}\n")
    assert "lead" in described and "Define" in described and "Columns from defines        1" in described
    plan = sel.explain()
    assert "list.get" in plan and "engine: polars" in plan


@pytest.mark.parametrize("engine", ENGINES)
def test_weighted_and_per_variation_cut_flow(engine: str, small_nanoaod_file: str) -> None:
    root = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, step_size=600)
    weighted = root.Define("w", "MET_pt / 100")
    jets = weighted.Filter("nJet >= 2", "two jets").Define("lead", "Jet_pt[0]")
    jets.Vary("lead", "ROOT::RVecF{lead * 0.9f, lead * 1.1f}", ["down", "up"], "jes").Filter("lead > 50", "hard")
    report = root.Report(weight="w")
    per_variation = hepframe.VariationsFor(root.Report())
    # Independent expectations, booked on the same graph (same pass).
    w_all = weighted.Sum("w")
    w_two = jets.Sum("w")
    w_hard = jets.Filter("lead > 50").Sum("w")
    n_hard_up = jets.Filter("lead * 1.1f > 50").Count()
    entries = report.GetValue().entries
    assert [e.name for e in entries] == ["two jets", "hard"]
    assert entries[0].weighted_all == pytest.approx(w_all.GetValue(), rel=1e-12)
    assert entries[0].weighted_passed == pytest.approx(w_two.GetValue(), rel=1e-12)
    assert entries[1].weighted_all == pytest.approx(w_two.GetValue(), rel=1e-12)
    assert entries[1].weighted_passed == pytest.approx(w_hard.GetValue(), rel=1e-12)
    assert "weighted: pass=" in str(report.GetValue())
    assert sorted(per_variation.keys()) == ["jes:down", "jes:up", "nominal"]
    assert per_variation["jes:up"]["hard"].passed == n_hard_up.GetValue()
    assert per_variation["jes:up"]["two jets"].passed == per_variation["nominal"]["two jets"].passed
    assert root.passes == 1


def test_asnumpy_runs_now_like_root_and_lazy_on_request(small_nanoaod_file):
    df = hepframe.RDataFrame("Events", small_nanoaod_file, progress=False)
    h = df.Histo1D(("met", "", 10, 0.0, 200.0), "MET_pt")
    booked = df.AsNumpy(["MET_pt"], lazy=True)
    assert df.passes == 0 and not booked.IsReady()
    out = df.AsNumpy(["nJet"])  # ROOT: a dict, the event loop runs now, with everything booked
    assert isinstance(out, dict) and df.passes == 1
    assert booked.IsReady() and h.IsReady()
    assert len(out["nJet"]) == len(booked.GetValue()["MET_pt"]) == 3000


def test_asnumpy_all_columns_but_excluded_as_in_root(tiny_file):
    df = hepframe.RDataFrame("Events", tiny_file, progress=False).Define("y", "x * 2.f")
    everything = df.AsNumpy()
    assert sorted(everything) == df.GetColumnNames() and "y" in everything
    some = df.AsNumpy(exclude=["Obj_v", "y"])
    assert sorted(some) == [c for c in df.GetColumnNames() if c not in ("Obj_v", "y")]
    np.testing.assert_array_equal(everything["y"], everything["x"] * np.float32(2))
