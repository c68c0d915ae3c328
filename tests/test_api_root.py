"""Every RDataFrame verb against ROOT's RDataFrame on the same generated file."""

from __future__ import annotations

import numpy as np
import pytest

import hepframe
from tests.conftest import ENGINES, assert_same_values, root_hist_arrays

pytestmark = pytest.mark.root


def _both(engine: str, path: str, ROOT):  # noqa: N803
    return hepframe.RDataFrame("Events", path, engine=engine, step_size=700), ROOT.RDataFrame("Events", path)


def _prepare(df):
    return df.Filter("nJet >= 1", "one jet").Define("lead", "Jet_pt[0]").Define("ht", "Sum(Jet_pt)")


def _hist_nd(h, dims):
    """ROOT histogram contents with flow bins, indexed [x, y(, z)] like hist's view(flow=True)."""
    shape = [getattr(h, f"GetNbins{a}")() + 2 for a in "XYZ"[:dims]]
    out = np.zeros(shape)
    var = np.zeros(shape)
    for idx in np.ndindex(*shape):
        b = h.GetBin(*[int(i) for i in idx])
        out[idx] = h.GetBinContent(b)
        var[idx] = h.GetBinError(b) ** 2
    return out, var


@pytest.mark.parametrize("engine", ENGINES)
def test_histograms_and_profiles(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    ours, theirs = (_prepare(d) for d in _both(engine, small_nanoaod_file, ROOT))
    m2 = ("h2", "", 12, 0, 120, 8, -4, 4)
    m3 = ("h3", "", 5, 0, 100, 4, -3, 3, 3, -3.2, 3.2)
    booked = []
    for d in (ours, theirs):
        booked.append({
            "h2": d.Histo2D(m2, "Jet_pt", "Jet_eta"),
            "h2w": d.Histo2D(m2, "lead", "MET_phi", "MET_pt"),
            "h3": d.Histo3D(m3, "Jet_pt", "Jet_eta", "Jet_phi"),
            "p1": d.Profile1D(("p1", "", 10, 0, 200), "lead", "MET_pt"),
            "p1w": d.Profile1D(("p1w", "", 10, 0, 200), "ht", "lead", "MET_pt"),
            "p2": d.Profile2D(("p2", "", 5, 0, 200, 4, 0, 8), "lead", "nJet", "MET_pt"),
            "var": d.Histo1D(("v", "", 3, np.array([0.0, 20.0, 50.0, 400.0])), "Jet_pt", "Jet_btag"),
        })  # fmt: skip
    o, r = booked
    for key, dims in (("h2", 2), ("h2w", 2), ("h3", 3)):
        contents, variances = _hist_nd(r[key].GetValue(), dims)
        view = o[key].GetValue().view(flow=True)
        np.testing.assert_allclose(view["value"], contents, rtol=1e-12, err_msg=key)
        np.testing.assert_allclose(view["variance"], variances, rtol=1e-12, err_msg=key)
    contents, variances = root_hist_arrays(r["var"].GetValue())
    np.testing.assert_allclose(o["var"].GetValue().view(flow=True)["value"], contents, rtol=1e-12)
    for key in ("p1", "p1w", "p2"):
        prof = r[key].GetValue()
        view = o[key].GetValue().view(flow=True)
        shape = view.shape
        for idx in np.ndindex(*shape):
            b = prof.GetBin(*[int(i) for i in idx])
            assert view["value"][idx] == pytest.approx(prof.GetBinContent(b), rel=1e-9, abs=1e-12), (key, idx)
            assert view["sum_of_weights"][idx] == pytest.approx(prof.GetBinEntries(b), rel=1e-12), (key, idx)
    assert ours.passes == 1  # seven results, one event loop


@pytest.mark.parametrize("engine", ENGINES)
def test_scalar_actions_take_and_graph(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    ours, theirs = (_prepare(d) for d in _both(engine, small_nanoaod_file, ROOT))
    o = dict(mn=ours.Min("Jet_pt"), mx=ours.Max("MET_pt"), sd=ours.StdDev("ht"), st=ours.Stats("lead", "MET_pt"),
             st1=ours.Stats("Jet_eta"), take=ours.Take("lead"), take_rvec=ours.Take("Jet_pt"),
             graph=ours.Graph("lead", "MET_pt"), count=ours.Count())  # fmt: skip
    r = dict(mn=theirs.Min("Jet_pt"), mx=theirs.Max("MET_pt"), sd=theirs.StdDev("ht"), st=theirs.Stats("lead", "MET_pt"),
             st1=theirs.Stats("Jet_eta"), take=theirs.Take["float"]("lead"),
             take_rvec=theirs.Take["ROOT::VecOps::RVec<float>"]("Jet_pt"), graph=theirs.Graph("lead", "MET_pt"),
             count=theirs.Count())  # fmt: skip
    assert o["mn"].GetValue() == r["mn"].GetValue()
    assert o["mx"].GetValue() == r["mx"].GetValue()
    assert o["sd"].GetValue() == pytest.approx(r["sd"].GetValue(), rel=1e-12)
    for key in ("st", "st1"):
        ours_s, root_s = o[key].GetValue(), r[key].GetValue()
        assert ours_s.GetN() == root_s.GetN()
        for getter in ("GetW", "GetW2", "GetMean", "GetRMS", "GetMin", "GetMax", "GetMeanErr"):
            assert getattr(ours_s, getter)() == pytest.approx(getattr(root_s, getter)(), rel=1e-10), (key, getter)
    np.testing.assert_array_equal(o["take"].GetValue(), np.array(list(r["take"].GetValue()), dtype=np.float32))
    expected_rvecs = np.empty(len(r["take_rvec"].GetValue()), dtype=object)
    expected_rvecs[:] = [np.array(v, dtype=np.float32) for v in r["take_rvec"].GetValue()]
    assert_same_values(o["take_rvec"].GetValue(), expected_rvecs, "Take RVec")
    g_ours, g_root = o["graph"].GetValue(), r["graph"].GetValue()
    assert g_ours.GetN() == g_root.GetN() == o["count"].GetValue()
    np.testing.assert_array_equal(g_ours.GetX(), np.frombuffer(g_root.GetX(), dtype=np.float64, count=g_root.GetN()))
    np.testing.assert_array_equal(g_ours.GetY(), np.frombuffer(g_root.GetY(), dtype=np.float64, count=g_root.GetN()))


@pytest.mark.parametrize("engine", ENGINES)
def test_transformations_match_root(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    booked = []
    for d in _both(engine, small_nanoaod_file, ROOT):
        base = _prepare(d)
        red = base.Redefine("lead", "lead * 2").Redefine("Jet_pt", "Jet_pt * 0.5f")
        booked.append(dict(
            redefined=red.Histo1D(("r", "", 40, 0, 400), "lead"),
            redefined_branch=red.Sum("Jet_pt"),
            alias=base.Alias("met", "MET_pt").Mean("met"),
            range=d.Range(100, 2000, 7).Filter("nMuon > 0").Count(),
            range_after_filter=d.Filter("nJet > 2").Range(50).Sum("MET_pt"),
            filtered_range=d.Range(10).Filter("nJet > 2").Count(),
            report=base.Filter("lead > 40", "hard lead").Report(),
        ))  # fmt: skip
    o, r = booked
    assert_same_values(o["redefined"].GetValue().view(flow=True)["value"], root_hist_arrays(r["redefined"].GetValue())[0])
    assert o["redefined_branch"].GetValue() == pytest.approx(r["redefined_branch"].GetValue(), rel=1e-12)
    assert o["alias"].GetValue() == pytest.approx(r["alias"].GetValue(), rel=1e-12)
    for key in ("range", "filtered_range"):
        assert o[key].GetValue() == r[key].GetValue(), key
    assert o["range_after_filter"].GetValue() == pytest.approx(r["range_after_filter"].GetValue(), rel=1e-12)
    assert [(e.name, e.passed, e.all) for e in o["report"].GetValue()] == [
        (c.GetName(), c.GetPass(), c.GetAll()) for c in r["report"].GetValue()
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_variations_match_root(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    results = []
    for d, variations_for in ((hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, step_size=700),
                               hepframe.VariationsFor),
                              (ROOT.RDataFrame("Events", small_nanoaod_file), ROOT.RDF.Experimental.VariationsFor)):  # fmt: skip
        base = _prepare(d)
        varied = base.Vary("lead", "ROOT::RVecF{lead * 0.9f, lead * 1.1f}", ["down", "up"], "jes")
        varied = varied.Vary("Jet_pt", "ROOT::RVec<ROOT::RVecF>{Jet_pt * 0.95f, Jet_pt * 1.05f}", ["lo", "hi"], "jpt")
        sel = varied.Filter("lead > 30")
        h = sel.Histo1D(("h", "", 30, 0, 300), "lead")
        n = sel.Define("n40", "Sum(Jet_pt > 40)").Histo1D(("n", "", 10, 0, 10), "n40")
        results.append((variations_for(h), variations_for(n)))
    (oh, on), (rh, rn) = results
    assert sorted(oh.keys()) == sorted(str(k) for k in rh.GetKeys()) == ["jes:down", "jes:up", "nominal"]
    assert sorted(on.keys()) == sorted(str(k) for k in rn.GetKeys()) == ["jes:down", "jes:up", "jpt:hi", "jpt:lo",
                                                                         "nominal"]  # fmt: skip
    for ours_map, root_map in ((oh, rh), (on, rn)):
        for key in ours_map.keys():
            contents, _ = root_hist_arrays(root_map[key])
            np.testing.assert_array_equal(ours_map[key].view(flow=True)["value"], contents, err_msg=key)


@pytest.mark.parametrize("engine", ENGINES)
def test_introspection_matches_root(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    ours, theirs = (_prepare(d).Filter("ht > 50", "ht cut").Alias("met", "MET_pt")
                    for d in _both(engine, small_nanoaod_file, ROOT))  # fmt: skip
    assert ours.GetDefinedColumnNames() == sorted(str(c) for c in theirs.GetDefinedColumnNames())
    assert ours.GetFilterNames() == [str(c) for c in theirs.GetFilterNames()]
    root_names = {str(c) for c in theirs.GetColumnNames()}
    assert set(ours.GetColumnNames()) == root_names
    for name in ("MET_pt", "Jet_pt", "nJet", "event", "lead", "ht", "HLT_IsoMu24", "Muon_tightId"):
        assert ours.GetColumnType(name) == str(theirs.GetColumnType(name)), name


@pytest.mark.parametrize("engine", ENGINES)
def test_snapshot_is_readable_by_root_and_round_trips(engine: str, small_nanoaod_file: str, tmp_path, ROOT) -> None:  # noqa: N803
    ours = _prepare(hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, step_size=700))
    out = ours.Snapshot("Skim", tmp_path / "skim.root", ["lead", "Jet_pt", "Muon_charge", "nJet", "HLT_IsoMu24"])
    assert (tmp_path / "skim.root").exists() and not list(tmp_path.glob(".*.tmp"))
    rdf = ROOT.RDataFrame("Skim", str(tmp_path / "skim.root"))
    assert int(rdf.Count().GetValue()) == ours.Count().GetValue() == out.Count().GetValue()
    assert rdf.Sum("Jet_pt").GetValue() == pytest.approx(ours.Sum("Jet_pt").GetValue(), rel=1e-12)
    assert str(rdf.GetColumnType("Jet_pt")) == "ROOT::VecOps::RVec<Float_t>"
    assert_same_values(out.AsNumpy(["Muon_charge"])["Muon_charge"],
                       ours.AsNumpy(["Muon_charge"])["Muon_charge"], "round trip")  # fmt: skip
    for suffix in ("parquet", "arrow"):
        other = ours.Snapshot("Skim", tmp_path / f"skim.{suffix}", ["lead", "Jet_pt"])
        assert_same_values(other.AsNumpy(["Jet_pt"])["Jet_pt"],
                           ours.AsNumpy(["Jet_pt"])["Jet_pt"], suffix)  # fmt: skip


def test_cache_and_reduce_match_root(small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    ROOT.gInterpreter.Declare("float hepframe_test_fmax(float a, float b) { return a > b ? a : b; }")
    ours, theirs = (_prepare(d) for d in _both("polars", small_nanoaod_file, ROOT))
    cached = ours.Cache(["lead", "MET_pt", "Jet_pt"])
    root_cached = theirs.Cache(["lead", "MET_pt", "Jet_pt"])
    assert cached.Sum("lead").GetValue() == pytest.approx(root_cached.Sum("lead").GetValue(), rel=1e-12)
    assert cached.Filter("MET_pt > 30").Count().GetValue() == root_cached.Filter("MET_pt > 30").Count().GetValue()
    assert ours.Reduce(np.maximum, "MET_pt").GetValue() == theirs.Reduce(ROOT.hepframe_test_fmax, "MET_pt").GetValue()
    n_jets = ours.Aggregate(lambda acc, x: acc + len(x), lambda a, b: a + b, "Jet_pt", 0).GetValue()
    assert n_jets == int(theirs.Sum("nJet").GetValue())


@pytest.mark.parametrize("engine", ENGINES)
def test_branches_missing_in_some_files_match_root(engine: str, tmp_path, ROOT) -> None:  # noqa: N803
    import uproot

    with uproot.recreate(tmp_path / "with.root") as f:
        f.mktree("Events", {"x": np.float32, "y": np.int32}).extend(
            {"x": np.arange(6, dtype=np.float32), "y": np.arange(6, dtype=np.int32) * 3}
        )
    with uproot.recreate(tmp_path / "without.root") as f:
        f.mktree("Events", {"x": np.float32}).extend({"x": np.arange(4, dtype=np.float32) + 10})
    files = [str(tmp_path / "without.root"), str(tmp_path / "with.root")]  # the first file lacks 'y'
    ours = hepframe.RDataFrame("Events", files, engine=engine)
    theirs = ROOT.RDataFrame("Events", files)
    np.testing.assert_array_equal(ours.DefaultValueFor("y", -7).AsNumpy(["y"])["y"],
                                  theirs.DefaultValueFor("y", -7).AsNumpy(["y"])["y"])  # fmt: skip
    assert ours.FilterAvailable("y").Count().GetValue() == theirs.FilterAvailable("y").Count().GetValue() == 6
    assert ours.FilterMissing("y").Count().GetValue() == theirs.FilterMissing("y").Count().GetValue() == 4
    # ROOT cannot type 'y' here (its first file lacks it); the values are those written above.
    assert ours.FilterAvailable("y").Sum("y").GetValue() == float(np.sum(np.arange(6) * 3))
    with pytest.raises(hepframe.EventError, match=r"'y' is undefined in entry 0: .*missing from its file"):
        ours.Sum("y").GetValue()


def test_from_spec_and_define_per_sample_match_root(tmp_path, ROOT) -> None:  # noqa: N803
    import json

    from hepframe.datasets import generate_nanoaod

    a = generate_nanoaod(tmp_path / "a.root", 2000, seed=21)
    b = generate_nanoaod(tmp_path / "b.root", 1500, seed=22)
    spec = {"samples": {"sig": {"trees": ["Events"], "files": [a], "metadata": {"xsec": 1.5, "sumw": 2000.0}},
                        "bkg": {"trees": ["Events"], "files": [b], "metadata": {"xsec": 30.0, "sumw": 1500.0}}}}  # fmt: skip
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    model = ("met", "", 20, 0, 200)
    ours = hepframe.FromSpec(str(spec_path)).DefinePerSample("w", lambda s: s.GetD("xsec") * 10 / s.GetD("sumw"))
    theirs = ROOT.RDF.Experimental.FromSpec(str(spec_path)).DefinePerSample(
        "w", 'rdfsampleinfo_.GetD("xsec") * 10 / rdfsampleinfo_.GetD("sumw")'
    )
    h_ours = ours.Filter("nJet >= 1").Histo1D(model, "MET_pt", "w")
    h_root = theirs.Filter("nJet >= 1").Histo1D(model, "MET_pt", "w")
    contents, variances = root_hist_arrays(h_root.GetValue())
    np.testing.assert_allclose(h_ours.GetValue().values(flow=True), contents, rtol=1e-12)
    np.testing.assert_allclose(h_ours.GetValue().variances(flow=True), variances, rtol=1e-12)


@pytest.mark.parametrize("engine", ENGINES)
def test_histond_and_th1dmodel_match_root(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    ours, theirs = (_prepare(d) for d in _both(engine, small_nanoaod_file, ROOT))
    nd_model = ("nd", "", 2, [8, 6], [0.0, -3.0], [160.0, 3.0])
    h_ours = ours.HistoND(nd_model, ["Jet_pt", "Jet_eta"]).GetValue()
    h_root = theirs.HistoND(nd_model, ["Jet_pt", "Jet_eta"]).GetValue()
    view = h_ours.view(flow=True)["value"]
    for idx in np.ndindex(*view.shape):
        assert view[idx] == h_root.GetBinContent(np.array(idx, dtype=np.int32)), idx
    m = ROOT.RDF.TH1DModel("lead", "leading jet", 25, 0.0, 250.0)
    h1, r1 = ours.Histo1D(m, "lead").GetValue(), theirs.Histo1D(m, "lead").GetValue()
    np.testing.assert_array_equal(h1.view(flow=True)["value"], root_hist_arrays(r1)[0])
    assert h1.name == "lead" and h1.label == "leading jet"


REVIEW_FILE_EVENTS = 4000


@pytest.mark.parametrize("engine", ENGINES)
def test_review_regressions_match_root(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    """Cases a review found wrong: weighted profiles with negative weights, zero weights in Stats,
    NaN in Max/Min, empty Max/Min, an Alias above a Vary, redefined columns in introspection."""
    ours, theirs = _both(engine, small_nanoaod_file, ROOT)
    booked = []
    for d in (ours, theirs):
        w = d.Define("w", "nJet > 2 ? 0.0 : 1.0").Define("logphi", "log(MET_phi)")
        alias = d.Define("x", "MET_pt").Alias("ax", "x").Vary("x", "ROOT::RVecF{x * 0.5f, x * 2.f}", ["down", "up"], "s")
        booked.append(dict(
            profile=d.Profile1D(("p", "", 10, 0, 100), "MET_pt", "MET_sumet", "MET_phi"),
            profile_range=d.Profile1D(("pr", "", 10, 0, 100, 100, 600), "MET_pt", "MET_sumet"),
            stats=w.Stats("MET_pt", "w"), max_nan=w.Max("logphi"), min_nan=w.Min("logphi"),
            max_empty=d.Filter("nJet > 1000").Max("Jet_pt"), min_empty=d.Filter("nJet > 1000").Min("Jet_pt"),
            alias_sum=alias.Sum("ax"),
        ))  # fmt: skip
    o, r = booked
    ours_v = hepframe.VariationsFor(o["alias_sum"])  # before the event loop, as in ROOT
    root_v = ROOT.RDF.Experimental.VariationsFor(r["alias_sum"])
    for key in ("profile", "profile_range"):
        prof, view = r[key].GetValue(), o[key].GetValue().view(flow=True)
        for b in range(12):
            assert view["value"][b] == pytest.approx(prof.GetBinContent(b), rel=1e-9, abs=1e-12), (key, b)
    s_o, s_r = o["stats"].GetValue(), r["stats"].GetValue()
    assert (s_o.GetN(), s_o.GetMin(), s_o.GetMax()) == (s_r.GetN(), s_r.GetMin(), s_r.GetMax())
    assert s_o.GetRMS() == pytest.approx(s_r.GetRMS(), rel=1e-10)
    for key in ("max_nan", "min_nan", "max_empty", "min_empty"):
        assert_same_values(np.array([o[key].GetValue()]), np.array([r[key].GetValue()]), key)
    assert sorted(ours_v.keys()) == ["nominal", "s:down", "s:up"]
    for key in ours_v.keys():
        assert ours_v[key] == pytest.approx(root_v[key], rel=1e-12), key
    graph = [d.Define("x", "MET_pt").Filter("x > 1", "cx").Filter("nJet > 0").Alias("ax", "x")
             .Redefine("MET_pt", "MET_pt * 2").Define("y", "1").Redefine("y", "2") for d in (ours, theirs)]  # fmt: skip
    assert graph[0].GetDefinedColumnNames() == sorted(str(c) for c in graph[1].GetDefinedColumnNames())
    assert graph[0].GetFilterNames() == [str(c) for c in graph[1].GetFilterNames()]


def test_run_graphs_matches_root(small_nanoaod_file: str, nanoaod_file: str, ROOT) -> None:  # noqa: N803
    results = []
    for frame, run_graphs in ((hepframe.RDataFrame, hepframe.RunGraphs), (ROOT.RDataFrame, ROOT.RDF.RunGraphs)):
        a, b = frame("Events", small_nanoaod_file), frame("Events", nanoaod_file)
        handles = [a.Filter("nMuon >= 1").Histo1D(("a", "", 20, 0, 200), "MET_pt"),
                   b.Define("ht", "Sum(Jet_pt)").Histo1D(("b", "", 20, 0, 800), "ht"),
                   a.Define("lead", "nJet > 0 ? Jet_pt[0] : -1.f").Mean("lead")]  # fmt: skip
        run_graphs(handles)
        results.append(handles)
    (ha, hb, mean), (ra, rb, rmean) = results
    for ours, theirs in ((ha, ra), (hb, rb)):
        np.testing.assert_array_equal(ours.GetValue().view(flow=True)["value"], root_hist_arrays(theirs.GetValue())[0])
    assert mean.GetValue() == pytest.approx(rmean.GetValue(), rel=1e-12)
