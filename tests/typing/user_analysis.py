"""A user's analysis script, type-checked by tests/test_typing.py with ``mypy --strict`` (never run).

It uses the public API as an analysis does and annotates what it gets back: a result of the wrong
type, or an untyped function that ``--strict`` refuses to call, fails the test.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

import hepframe
from hepframe import ROOT
from hepframe.actions import CutFlowReport, Statistic
from hepframe.roothist import RootHist
from hepframe.rootprofile import RootProfile


def scaled(pt: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return pt * np.float32(1.02)


@hepframe.udf("double", library="numpy")
def doubled(met: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    return met.astype(np.float64) * 2


def select(path: str) -> hepframe.RDataFrame:
    df = hepframe.RDataFrame("Events", path, threads=2)
    return (
        df.Filter("nMuon == 2", "two muons")
        .Filter("Muon_charge[0] != Muon_charge[1]", "opposite charge")
        .Define("mass", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
        .Define("met_scaled", scaled, ["MET_pt"], returns="float")
        .Redefine("mass", "mass * 1.001")
        .Define("weight", "1.0")
        .Define("met_doubled", "doubled(MET_pt)")
        .Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.98f, MET_pt * 1.02f}", ["down", "up"], "met_scale")
    )


def book_mass(df: hepframe.RDataFrame) -> hepframe.ResultPtr[RootHist]:
    return df.Histo1D(("mass", ";m_{#mu#mu} [GeV];Events", 60, 60.0, 120.0), "mass", "weight")


def analyse(path: str) -> dict[str, float]:
    muons = select(path)
    mass = book_mass(muons)
    met = muons.Histo1D["float"](("met", "MET", 40, 0.0, 200.0), "MET_pt")
    met_vs_mass = muons.Histo2D(("met_mass", "", 40, 0.0, 200.0, 60, 60.0, 120.0), "MET_pt", "mass")
    profile = muons.Profile1D(("p", "", 20, 60.0, 120.0), "mass", "MET_pt")
    count = muons.Count()
    total = muons.Sum("MET_pt")
    mean = muons.Mean("mass")
    stats = muons.Stats("mass", "weight")
    report = muons.Report()
    variations = hepframe.VariationsFor(met)
    arrays = muons.AsNumpy(["mass", "MET_pt"], lazy=True)
    first_masses = muons.Range(10).Take["double"]("mass")

    loops: int = hepframe.RunGraphs([mass, met, met_vs_mass, profile, count, total, report])

    h: RootHist = mass.GetValue()
    counts = h.values()  # what a plot takes, with h.axes[0].edges
    edges = h.axes[0].edges
    mean_mass: float = h.GetMean()
    entries: float = h.GetEntries()
    p: RootProfile = profile.GetValue()
    first_bin: float = p.GetBinContent(1)
    n: int = count.GetValue()
    s: float = total.GetValue() + mean.GetValue()
    st: Statistic = stats.GetValue()
    cuts: CutFlowReport = report.GetValue()
    passed: int = cuts["two muons"].GetPass()
    efficiency: float = cuts["opposite charge"].GetEff()
    columns: dict[str, npt.NDArray[np.float64]] = arrays.GetValue()
    m: npt.NDArray[np.float64] = columns["mass"]
    up: RootHist = variations["met_scale:up"]
    eager: dict[str, npt.NDArray[np.float64]] = muons.AsNumpy(["mass"])
    first: npt.NDArray[np.float64] = first_masses.GetValue()
    h2: RootHist = met_vs_mass.GetValue()
    skim: hepframe.RDataFrame = muons.Snapshot("Events", "skim.root", ["mass", "MET_pt"])
    print(hepframe.SaveGraph(mass), muons.Describe().AsString(), report.GetValue())
    return {
        "loops": float(loops),
        "sum": float(counts.sum()) + float(edges[0]) + mean_mass + entries + first_bin + s + passed + efficiency,
        "more": float(m.sum()) + len(eager) + float(first.sum()) + st.GetMean() + skim.Count().GetValue(),
        "events": float(n),
        "up": up.GetMean(),
        "nx": float(h2.GetNbinsX()),
    }


def root_script(path: str) -> int:
    """The same through the ROOT-compatible import swap."""
    ROOT.EnableImplicitMT(2)
    df = ROOT.RDataFrame("Events", path)
    h = df.Filter("nMuon >= 1").Histo1D(ROOT.RDF.TH1DModel("pt", "", 50, 0.0, 100.0), "Muon_pt")
    counts = df.Count()
    loops: int = ROOT.RDF.RunGraphs([h, counts])
    hist: RootHist = h.GetValue()
    return counts.GetValue() + hist.GetNbinsX() + loops


if __name__ == "__main__":
    print(analyse("data.root"), root_script("data.root"))
