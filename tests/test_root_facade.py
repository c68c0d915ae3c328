"""``from hepframe import ROOT``: the same script body runs on real ROOT and on hepframe, same numbers."""

from __future__ import annotations

import numpy as np
import pytest

import hepframe
from hepframe import ROOT as HF
from hepframe.errors import AnalysisError, CppRequiredError, UnknownColumnError


def _script(R, path: str) -> dict:  # noqa: N803 - the module, as a ROOT user names it
    """A ROOT user's analysis, written once against the ``ROOT`` namespace it is given."""
    files = R.std.vector["string"]()
    files.push_back(path)
    df = R.RDataFrame("Events", files)
    two = df.Filter("nMuon >= 2", "two muons").Define("pt0", "Muon_pt[0]").Define("ht", "Sum(Jet_pt)")
    met = two.Filter("MET_pt > 20 && ht > 40", "met and ht")
    booked = {
        "count": met.Count(), "sum": met.Sum("pt0"), "mean": met.Mean("pt0"), "min": met.Min("pt0"),
        "max": met.Max("pt0"), "stddev": met.StdDev("MET_pt"),
        "h": met.Histo1D(R.RDF.TH1DModel("h", "leading muon;p_{T} (GeV);events", 40, 0, 120), "pt0"),
        "hw": met.Histo1D(("hw", "", 30, 0, 300), "Jet_pt", "MET_pt"), "report": df.Report(),
    }  # fmt: skip
    R.RDF.RunGraphs([booked["count"]])
    out = {k: v.GetValue() for k, v in booked.items() if k not in ("h", "hw", "report")}
    for name in ("h", "hw"):
        h = booked[name].GetValue()
        if isinstance(h, _HIST):  # contents and errors (sqrt of the sums of squared weights), flow bins included
            out[name] = (h.view(flow=True)["value"], np.sqrt(h.view(flow=True)["variance"]))
        else:
            n = h.GetNbinsX() + 2
            out[name] = (np.array([h.GetBinContent(i) for i in range(n)]), np.array([h.GetBinError(i) for i in range(n)]))
    out["report"] = [(c.GetName(), c.GetPass(), c.GetAll()) for c in booked["report"].GetValue()]
    out["numpy"] = two.Range(0, 50).AsNumpy(["pt0", "nMuon"]) if not R.IsImplicitMTEnabled() else None
    return out


try:
    import hist

    _HIST = hist.Hist
except ImportError:  # pragma: no cover - a core dependency
    _HIST = ()


@pytest.mark.root
@pytest.mark.parametrize("threads", [None, 2])
def test_a_root_script_gives_roots_numbers(ROOT, nanoaod_file: str, threads) -> None:  # noqa: N803
    if threads:
        HF.EnableImplicitMT(threads)
    try:
        ours = _script(HF, nanoaod_file)
    finally:
        HF.DisableImplicitMT()
    theirs = _script(ROOT, nanoaod_file)
    for key in ("count", "sum", "mean", "min", "max", "stddev"):
        assert float(ours[key]) == float(theirs[key]), key
    for key in ("h", "hw"):
        np.testing.assert_array_equal(ours[key][0], theirs[key][0])
        np.testing.assert_array_equal(ours[key][1], theirs[key][1])
    assert ours["report"] == theirs["report"] and len(ours["report"]) == 2
    if ours["numpy"] is not None:
        for column in ("pt0", "nMuon"):
            np.testing.assert_array_equal(ours["numpy"][column], theirs["numpy"][column])


@pytest.mark.root
def test_rdataframe_of_n_entries(ROOT) -> None:  # noqa: N803
    """df001's fill_tree: RDataFrame(10) with columns from rdfentry_."""
    results = []
    for R in (HF, ROOT):
        d = R.RDataFrame(10).Define("b1", "static_cast<double>(rdfentry_)") \
            .Define("b2", "static_cast<int>(rdfentry_ * rdfentry_)")  # fmt: skip
        cut = d.Filter("b2 % 2 && b1 < 4.")
        results.append((cut.Count().GetValue(), d.Filter("b1 < 5.").Count().GetValue(), cut.Mean("b1").GetValue(),
                        d.Sum("b2").GetValue(), d.AsNumpy(["b1", "b2"])))  # fmt: skip
    (c1, c2, m, s, a), (rc1, rc2, rm, rs, ra) = results
    assert (c1, c2, m, s) == (rc1, rc2, rm, rs) == (2, 5, 2.0, 285.0)
    for column in ("b1", "b2"):
        np.testing.assert_array_equal(a[column], ra[column])
        assert a[column].dtype == ra[column].dtype


def test_implicit_mt_switches() -> None:
    assert not HF.IsImplicitMTEnabled()
    HF.ROOT.EnableImplicitMT(3)
    try:
        assert HF.IsImplicitMTEnabled() and HF.GetThreadPoolSize() == 3
    finally:
        HF.DisableImplicitMT()
    assert not HF.IsImplicitMTEnabled() and HF.GetThreadPoolSize() == 0
    with pytest.raises(AnalysisError, match="non-negative"):
        HF.EnableImplicitMT(-1)


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: HF.gInterpreter.ProcessLine("gSystem->Load(\"x\")"), ["ProcessLine", "Python"]),
        (lambda: HF.TCanvas("c", "c"), ["TCanvas", "mplhep"]),
        (lambda: HF.RDF.Experimental.Distributed.DistributeSharedLibs("h.so"), ["DistributeSharedLibs", "Numba.Declare"]),
    ],
)
def test_cpp_only_constructs_name_the_alternative(call, names: list[str]) -> None:
    with pytest.raises(CppRequiredError) as info:
        call()
    assert all(n in str(info.value) for n in names)


def test_bad_constructor_arguments(nanoaod_file: str) -> None:
    with pytest.raises(UnknownColumnError, match="MET_ptt"):
        HF.RDataFrame("Events", nanoaod_file, ["MET_ptt"])
    with pytest.raises(AnalysisError, match="no default columns"):
        HF.RDataFrame("Events", nanoaod_file).Sum()
    with pytest.raises(AnalysisError, match="takes"):
        HF.RDataFrame()
    with pytest.raises(AnalysisError, match="non-negative"):
        HF.RDataFrame(-5)
    assert isinstance(HF.RDataFrame("Events", [nanoaod_file]), hepframe.RDataFrame)


@pytest.mark.parametrize("get", [lambda: HF.gStyle, lambda: HF.RDF.FromArrow, lambda: HF.gROOT.GetListOfFiles,
                                 lambda: HF.ROOT.TChain, lambda: HF.std.map])  # fmt: skip
def test_missing_names_say_so(get) -> None:
    with pytest.raises(AttributeError, match="not provided by hepframe's ROOT facade.*migrating-from-root"):
        get()


def _extras(R, path: str) -> dict:  # noqa: N803
    """More of ROOT's Python surface, written once against the ``ROOT`` namespace it is given."""
    import numpy as np

    out: dict = {}
    numpy_df = R.RDF.FromNumpy({"x": np.array([1, 2, 3], dtype=np.int32), "y": np.array([0.5, 1.5, 2.5])})
    described = numpy_df.Define("z", "x + y").Describe()
    out["describe"] = str(described.AsString()).replace("RVecDS", "<label>")
    out["display"] = str(numpy_df.Define("v", "ROOT::RVecF{1.f, 2.5f}").Display("", 2).AsString())
    trivial = R.RDF.MakeTrivialDataFrame(10)
    out["trivial"] = (list(trivial.GetColumnNames()), float(trivial.Sum("col0").GetValue()))
    df = R.RDataFrame("Events", path)
    out["take"] = [int(v) for v in df.Range(20).Take["unsigned int"]("nMuon").GetValue()]
    count = df.Filter("nMuon > 1").Count()
    out["ptr"] = int(count.GetPtr()[0] if hasattr(count.GetPtr(), "__getitem__") else count.GetPtr())
    out["slots_runs"] = (df.GetNSlots(), df.GetNRuns())
    varied = df.Vary("MET_pt", "ROOT::RVecF{MET_pt*0.9f, MET_pt*1.1f}", ["down", "up"], "met")
    h = varied.Histo1D(("m", "", 20, 0, 200), "MET_pt")
    nominal = h.GetEntries()
    variations = R.RDF.Experimental.VariationsFor(h)  # after the loop ran: ROOT runs it again
    out["vary"] = (nominal, [variations[k].GetBinContent(3) for k in ("nominal", "met:down", "met:up")])
    with_defaults = R.RDataFrame("Events", path, ["MET_pt", "nJet"])
    out["defaults"] = (float(with_defaults.Sum().GetValue()), float(with_defaults.Max().GetValue()),
                       with_defaults.Histo1D(("d", "", 10, 0, 100)).GetEntries(),
                       with_defaults.Histo2D(("d2", "", 10, 0, 100, 5, 0, 5)).GetEntries())  # fmt: skip
    out["limits"] = (R.std.numeric_limits["double"].max(), R.std.numeric_limits["int"].lowest(),
                     R.std.numeric_limits["float"].epsilon())  # fmt: skip
    R.gRandom.SetSeed(7)
    draws = R.RDataFrame(6).Define("u", "gRandom->Uniform(-1, 1)").Define("g", "gRandom->Gaus(2, 0.5)")
    total, top = draws.Sum("g"), draws.Max("u")
    R.RDF.RunGraphs([total, top])  # the draws are prepared for RunGraphs' event loop too
    out["random"] = (total.GetValue(), top.GetValue(), R.gRandom.Rndm())
    f = R.TFile(path)
    out["keys"] = [(k.GetName(), k.GetClassName()) for k in f.GetListOfKeys()]
    chain = R.TChain("Events")
    chain.Add(path)
    chain.Add(path)
    out["chain"] = (int(chain.GetEntries()), int(R.RDataFrame(chain).Count().GetValue()))
    return out


@pytest.mark.root
def test_more_of_roots_python_surface(ROOT, small_nanoaod_file: str) -> None:  # noqa: N803
    ours = _extras(HF, small_nanoaod_file)
    theirs = _extras(ROOT, small_nanoaod_file)
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert ours[key] == theirs[key], key


def test_drawing_writes_images_and_root_files(tmp_path) -> None:
    import uproot

    df = HF.RDataFrame(50).Define("x", "rdfentry_ * 0.1").Define("y", "x * x")
    h = df.Histo1D(("h", "t;x;y", 10, 0, 5), "x")
    h.SaveAs(str(tmp_path / "h.png"))
    h.GetValue().SaveAs(str(tmp_path / "h.root"))
    df.Profile1D(("p", "", 5, 0, 5), "x", "y").SaveAs(str(tmp_path / "p.pdf"))
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "p.pdf").read_bytes()[:4] == b"%PDF"
    assert list(uproot.open(tmp_path / "h.root")["h"].values()) == [5.0] * 10
    with pytest.raises(AnalysisError, match="write .root or an image"):
        h.SaveAs(str(tmp_path / "h.txt"))


def test_snapshot_options_and_progress_bar(tmp_path) -> None:
    df = HF.RDataFrame(5).Define("x", "rdfentry_ * 1.5")
    options = HF.RDF.RSnapshotOptions()
    options.fLazy = True
    handle = df.Snapshot("t", str(tmp_path / "t.root"), ["x"], options)
    assert isinstance(handle, hepframe.ResultPtr) and not (tmp_path / "t.root").exists()
    assert handle.GetValue().Sum("x").GetValue() == 15.0
    options.fMode = "UPDATE"
    with pytest.raises(AnalysisError, match="UPDATE"):
        df.Snapshot("t", str(tmp_path / "u.root"), ["x"], options)
    HF.RDF.Experimental.AddProgressBar(df)
    assert df.Count().GetValue() == 5
    with pytest.raises(AnalysisError, match="unknown C"):
        df.Take["unsigned blah"]("x")
