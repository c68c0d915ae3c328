"""Histogram results behave like ROOT's TH1D/TH2D/TH3D: stored statistics and accessors bit for bit.

Every number is compared with ROOT's RDataFrame on the same file with ``==`` (NaN == NaN).
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

import hepframe
from hepframe.roothist import RootHist
from tests.conftest import ENGINES

STEPS = [7, None]  # a step size cutting the events into many batches, and the default

# (model, column(s), weight): RVec columns, scalar and RVec weights, NaN, flows, values on edges
CASES_1D = [
    (("met", "MET;p_{T} [GeV];events", 100, 0.0, 200.0), "MET_pt", None),
    (("met_w", "", 50, 0.0, 200.0), "MET_pt", "Jet_n_w"),
    (("jet_pt", "", 60, 15.0, 60.0), "Jet_pt", None),  # RVec: one fill per element, flows on both sides
    (("eta_w", "", 40, -5.0, 5.0), "Jet_eta", "Jet_btag"),  # RVec weight
    (("var", "", 4, [0.0, 10.0, 30.0, 70.0, 200.0]), "MET_pt", None),  # variable bins
    (("var_w", "", 3, [0.0, 30.0, 70.0, 200.0]), "MET_pt", "MET_pt"),
    (("edges", "", 10, 0.0, 5.0), "q", None),  # values exactly on bin edges and on the upper edge
]
TINY_CASES = [
    (("x", "", 5, -3.0, 3.25), "x", None),  # NaN, 1e30, a value on the upper edge, float32
    (("d", "", 6, -1.0, 3.0), "d", "x"),  # NaN value and weights with NaN
    (("v", "", 8, -4.0, 41.0), "Obj_v", None),  # RVec with NaN and empty RVecs
    (("vi", "", 5, -3.0, 7.0), "Obj_i", "d"),  # int RVec, scalar weight repeated per element
]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_like_th1(ours, theirs) -> None:
    """Every TH1 accessor of ``ours`` equals ROOT's bit for bit."""
    dim = theirs.GetDimension()
    assert ours.GetDimension() == dim
    for name in ("GetEntries", "GetEffectiveEntries", "Integral", "GetMaximum", "GetMaximumBin", "GetMinimum",
                 "GetNbinsX", "GetNbinsY", "GetNbinsZ"):  # fmt: skip
        assert _same(getattr(ours, name)(), getattr(theirs, name)()), name
    for axis in range(1, dim + 1):
        for name in ("GetMean", "GetStdDev", "GetRMS", "GetMeanError", "GetStdDevError"):
            a, b = getattr(ours, name)(axis), getattr(theirs, name)(axis)
            assert _same(a, b), f"{name}({axis}): {a!r} != {b!r}"
    ncells = theirs.GetNcells()
    for i in range(ncells):
        assert _same(ours.GetBinContent(i), theirs.GetBinContent(i)), f"bin {i}"
        assert _same(ours.GetBinError(i), theirs.GetBinError(i)), f"error {i}"
    n = theirs.GetNbinsX()
    for lo, hi in ((0, n + 1), (2, n - 1), (0, 0), (n + 1, n + 1)):
        if dim == 1:
            assert _same(ours.Integral(lo, hi), theirs.Integral(lo, hi)), (lo, hi)
    ax, rax = ours.GetXaxis(), theirs.GetXaxis()
    assert (ax.GetNbins(), ax.GetXmin(), ax.GetXmax()) == (rax.GetNbins(), rax.GetXmin(), rax.GetXmax())
    for b in range(n + 2):
        assert ax.GetBinCenter(b) == rax.GetBinCenter(b)
        assert ax.GetBinLowEdge(b) == rax.GetBinLowEdge(b)
        assert ax.GetBinUpEdge(b) == rax.GetBinUpEdge(b)


def _define(frame):
    # q: multiples of 0.25 in [0, 6): many values exactly on edges of (10, 0, 5), and on 5.0 itself
    return frame.Define("Jet_n_w", "0.5 + 0.01 * nJet").Define("q", "0.25 * (nJet % 24)")


@pytest.mark.root
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("step", STEPS)
def test_histo1d_statistics_match_root(engine: str, step, nanoaod_file: str, ROOT) -> None:  # noqa: N803
    rdf = _define(ROOT.RDataFrame("Events", nanoaod_file))
    kwargs = {} if step is None else {"step_size": step * 1000}
    df = _define(hepframe.RDataFrame("Events", nanoaod_file, engine=engine, **kwargs))
    pairs = []
    for model, col, w in CASES_1D:
        rmodel = model if not isinstance(model[3], list) else (*model[:3], np.array(model[3]))
        args = (col,) if w is None else (col, w)
        pairs.append((df.Histo1D(model, *args), rdf.Histo1D(rmodel, *args)))
    for ours, theirs in pairs:
        assert isinstance(ours.GetValue(), RootHist)
        assert_like_th1(ours.GetValue(), theirs.GetValue())


@pytest.mark.root
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("step", STEPS)
def test_tiny_edge_cases_match_root(engine: str, step, tiny_file: str, ROOT) -> None:  # noqa: N803
    rdf = ROOT.RDataFrame("Events", tiny_file)
    kwargs = {} if step is None else {"step_size": step}
    df = hepframe.RDataFrame("Events", tiny_file, engine=engine, **kwargs)
    for model, col, w in TINY_CASES:
        args = (col,) if w is None else (col, w)
        assert_like_th1(df.Histo1D(model, *args).GetValue(), rdf.Histo1D(model, *args).GetValue())


@pytest.mark.root
@pytest.mark.parametrize("engine", ENGINES)
def test_histo2d_3d_statistics_match_root(engine: str, nanoaod_file: str, ROOT) -> None:  # noqa: N803
    rdf = _define(ROOT.RDataFrame("Events", nanoaod_file))
    df = _define(hepframe.RDataFrame("Events", nanoaod_file, engine=engine, step_size=7000))
    m2 = ("h2", "", 20, 0.0, 100.0, 10, -3.0, 3.0)
    m3 = ("h3", "", 5, 0.0, 100.0, 4, -3.0, 3.0, 6, 0.0, 5.0)
    pairs = [
        (df.Histo2D(m2, "Jet_pt", "Jet_eta"), rdf.Histo2D(m2, "Jet_pt", "Jet_eta")),
        (df.Histo2D(m2, "MET_pt", "q", "Jet_n_w"), rdf.Histo2D(m2, "MET_pt", "q", "Jet_n_w")),
        (df.Histo3D(m3, "Jet_pt", "Jet_eta", "Jet_phi"), rdf.Histo3D(m3, "Jet_pt", "Jet_eta", "Jet_phi")),
    ]
    for ours, theirs in pairs:
        assert_like_th1(ours.GetValue(), theirs.GetValue())


@pytest.mark.root
def test_scale_add_clone_match_root(nanoaod_file: str, ROOT) -> None:  # noqa: N803
    rdf = _define(ROOT.RDataFrame("Events", nanoaod_file))
    df = _define(hepframe.RDataFrame("Events", nanoaod_file, step_size=7000))
    model = ("m", "", 50, 0.0, 200.0)
    ours_u, theirs_u = df.Histo1D(model, "MET_pt").GetValue(), rdf.Histo1D(model, "MET_pt").GetValue()
    ours_w = df.Histo1D(model, "MET_pt", "Jet_n_w").GetValue()
    theirs_w = rdf.Histo1D(model, "MET_pt", "Jet_n_w").GetValue()
    for c in (1.0, 0.7, -0.5):
        o, t = ours_w.Clone("a"), theirs_w.Clone(f"a{c}")
        o.Add(ours_u, c)
        t.Add(theirs_u, c)
        assert_like_th1(o, t)
    o, t = ours_w.Clone("s"), theirs_w.Clone("s")
    o.Scale(3.3)
    t.Scale(3.3)
    assert_like_th1(o, t)
    assert o.GetName() == "s"
    assert ours_w.GetEntries() == theirs_w.GetEntries()  # the clones are copies
    # hist arithmetic: h + h is TH1::Add, h * c is TH1::Scale
    t2 = theirs_u.Clone("t2")
    t2.Add(theirs_u)
    assert_like_th1(ours_u + ours_u, t2)
    t3 = theirs_u.Clone("t3")
    t3.Scale(2.5)
    assert_like_th1(ours_u * 2.5, t3)


def test_hist_operations_and_pickle(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    h = df.Histo1D(("met", "Missing E_{T};MET [GeV];events", 40, 0.0, 200.0), "MET_pt").GetValue()
    assert h.GetTitle() == "Missing E_{T}" and h.GetXaxis().GetTitle() == "MET [GeV]"
    assert h.GetYaxis().GetTitle() == "events" and h.axes[0].label == "MET [GeV]"
    entries, mean = h.GetEntries(), h.GetMean()
    assert entries == 3000
    for copy_ in (pickle.loads(pickle.dumps(h)), h.copy(), h.Clone("c")):
        assert isinstance(copy_, RootHist)
        assert copy_.GetEntries() == entries and copy_.GetMean() == mean
        assert copy_ == h or copy_.GetName() == "c"
    try:
        import cloudpickle  # Spark ships results to the driver with it
    except ImportError:  # pragma: no cover - the spark extra is not installed
        cloudpickle = pickle
    assert cloudpickle.loads(cloudpickle.dumps(h)).GetStdDev() == h.GetStdDev()
    # slices and projections no longer match the stored sums: statistics from the bin centres
    part = h[5:20]
    centres = part.axes[0].centers
    values = part.values()
    assert part.GetMean() == pytest.approx(float((values * centres).sum() / values.sum()), rel=1e-12)
    h2 = df.Histo2D(("h2", "", 10, 0.0, 200.0, 5, 0.0, 10.0), "MET_pt", "nJet").GetValue()
    proj = h2.project(0)
    assert proj.GetEntries() > 0 and np.isfinite(proj.GetMean())
    from_bins = float((h.values() * h.axes[0].centers).sum() / h.values().sum())
    assert (h / 2.0).GetMean() == pytest.approx(from_bins, rel=1e-12)  # no TH1 equivalent: from the bins
    assert (h * 2.0).GetMean() == mean and (h * 2.0).GetEntries() == entries  # TH1::Scale
    # writing into the view invalidates the stored sums, as SetBinContent does in ROOT
    w = h.copy()
    w.view(flow=True)["value"][3] += 100
    assert w.GetMean() != mean


def test_mplhep_histplot(small_nanoaod_file: str) -> None:
    mplhep = pytest.importorskip("mplhep")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    h = df.Histo1D(("x", "x;x;n", 10, 0.0, 100.0), "MET_pt").GetValue()
    fig, ax = plt.subplots()
    mplhep.histplot(h, ax=ax)
    plt.close(fig)
    assert h.GetEntries() == 3000


@pytest.mark.root
def test_statistics_exact_when_batches_fill_on_worker_threads(nanoaod_file: str, ROOT, monkeypatch) -> None:  # noqa: N803
    """Unweighted histograms bin each batch on a worker (``partial``); the sums still follow entry order."""
    from hepframe.actions import HistoAcc

    merged: list[str] = []
    original = HistoAcc.merge

    def spy(self, other):
        merged.append(self.name)
        return original(self, other)

    monkeypatch.setattr(HistoAcc, "merge", spy)
    rdf = ROOT.RDataFrame("Events", nanoaod_file)
    df = hepframe.RDataFrame("Events", nanoaod_file, step_size=1000, threads=2, cache=False)
    models = [(("u", "", 40, 0.0, 200.0), ("Jet_pt",)), (("v", "", 3, [0.0, 30.0, 70.0, 200.0]), ("MET_pt",))]
    pairs = []
    for model, cols in models:
        rmodel = model if not isinstance(model[3], list) else (*model[:3], np.array(model[3]))
        pairs.append((df.Histo1D(model, *cols), rdf.Histo1D(rmodel, *cols)))
    m2 = ("u2", "", 20, 0.0, 100.0, 10, -3.0, 3.0)
    pairs.append((df.Histo2D(m2, "Jet_pt", "Jet_eta"), rdf.Histo2D(m2, "Jet_pt", "Jet_eta")))
    for ours, theirs in pairs:
        assert_like_th1(ours.GetValue(), theirs.GetValue())
    assert merged.count("u") == 20 and merged.count("u2") == 20


def test_results_write_and_read_back(small_nanoaod_file: str, tmp_path) -> None:
    """The stored statistics stay out of the UHI serialization (JSON) and travel with pickles."""
    from hepframe.outputs import read_histograms, write_results

    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    h = df.Histo1D(("met", "MET;x;y", 10, 0.0, 100.0), "MET_pt").GetValue()
    h2 = df.Histo2D(("h2", "", 3, 0.0, 100.0, 3, 0.0, 5.0), "MET_pt", "nJet").GetValue()
    write_results(tmp_path, {"met": h, "h2": h2})
    back = read_histograms(tmp_path / "histograms.json")
    assert np.array_equal(back["met"].values(flow=True), h.values(flow=True))
    with open(tmp_path / "histograms.pkl", "rb") as f:
        pickled = pickle.load(f)
    assert pickled["met"].GetMean() == h.GetMean() and pickled["h2"].GetMean(2) == h2.GetMean(2)


def _th1_cases(mode: str) -> dict:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent / "scripts" / "th1_cases.py"
    done = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "HEPFRAME_PROGRESS": "0"})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.root
def test_histograms_filled_by_hand_equal_roots() -> None:
    """ROOT.TH1D/TH1F/TH2D + Fill/FillN (scalars, arrays, weights, NaN, flows) and df017's PyROOT loop."""
    ours, root = _th1_cases("hepframe"), _th1_cases("root")
    assert ours == root
    assert root["df017 pyroot"]["entries"] > 0 and root["returned bins"] == [13, -1, -1, -1]
    assert root["df017 pyroot"]["contents"] == root["df017 rdataframe"]["contents"]


def test_filling_by_hand_checks_its_arguments() -> None:
    from hepframe import ROOT

    h = ROOT.TH1D("h", "h", 4, 0, 1)
    with pytest.raises(TypeError, match="1 coordinate"):
        h.Fill(1, 2, 3)
    with pytest.raises(ValueError, match="same length"):
        h.Fill(np.zeros(3), np.ones(2))
    with pytest.raises(hepframe.errors.AnalysisError, match="low < high"):
        ROOT.TH1D("auto", "auto", 10, 0, 0)
    assert h.Fill(0.3) == 2 and h.GetEntries() == 1 and h.GetMean() == 0.3
