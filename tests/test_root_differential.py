"""Differential tests: hepframe and ROOT's RDataFrame (ROOT 6.40, `pip install root`) on the same file.

Histograms must be bin-identical (flow bins included); per-event values must be identical bit
for bit (NaN included), with the same C++ types.
"""

from __future__ import annotations

import numpy as np
import pytest

import hepframe
from tests.conftest import ENGINES, assert_same_hist, assert_same_values, root_hist_arrays
from tests.test_conformance import EXPRESSIONS as TINY_EXPRESSIONS

pytestmark = [pytest.mark.root, pytest.mark.filterwarnings("ignore::hepframe.expr.binder.UnsignedUnderflowWarning")]

DIMUON_MODEL = ("dimuon", "Dimuon mass", 30000, 0.25, 300)
MET_MODEL = ("met", "MET", 100, 0, 200)


def _dimuon(df):
    return (
        df.Filter("nMuon == 2", "two muons")
        .Filter("Muon_charge[0] != Muon_charge[1]", "opposite charge")
        .Define("Dimuon_mass", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_acceptance_histograms_bin_identical(engine: str, nanoaod_file: str, ROOT) -> None:  # noqa: N803
    rdf = ROOT.RDataFrame("Events", nanoaod_file)
    r_dimuon = _dimuon(rdf).Histo1D(DIMUON_MODEL, "Dimuon_mass")
    r_met = rdf.Filter("Sum(Jet_pt > 40) > 1").Histo1D(MET_MODEL, "MET_pt")

    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine, step_size=6000)
    h_dimuon = _dimuon(df).Histo1D(DIMUON_MODEL, "Dimuon_mass")
    h_met = df.Filter("Sum(Jet_pt > 40) > 1").Histo1D(MET_MODEL, "MET_pt")

    for ours, theirs in ((h_dimuon, r_dimuon), (h_met, r_met)):
        contents, variances = root_hist_arrays(theirs.GetValue())
        assert contents.sum() > 100  # the selection is not empty
        assert_same_hist(ours.GetValue(), contents, variances)
    assert df.passes == 1


@pytest.mark.parametrize("engine", ENGINES)
def test_other_actions_match_root(engine: str, nanoaod_file: str, ROOT) -> None:  # noqa: N803
    rdf = ROOT.RDataFrame("Events", nanoaod_file)
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine, step_size=7000)
    booked = []
    for frame in (rdf, df):
        sel = _dimuon(frame)
        booked.append(
            dict(
                jets=frame.Histo1D(("jet_pt", "", 60, 15, 60), "Jet_pt"),  # RVec column: one fill per element
                weighted=frame.Histo1D(("jet_w", "", 50, 0, 200), "Jet_pt", "MET_pt"),  # scalar weight
                rvec_weighted=frame.Histo1D(("eta_w", "", 40, -5, 5), "Jet_eta", "Jet_btag"),  # RVec weight
                variable=frame.Histo1D(("var", "", 4, np.array([0.0, 10.0, 30.0, 70.0, 200.0])), "MET_pt"),
                count=sel.Count(),
                sum=sel.Sum("Dimuon_mass"),
                mean=frame.Mean("Jet_pt"),
                report=frame.Report(),
            )
        )
    theirs, ours = booked
    for key in ("jets", "weighted", "rvec_weighted", "variable"):
        contents, variances = root_hist_arrays(theirs[key].GetValue())
        exact = key in ("jets", "variable")
        assert_same_hist(ours[key].GetValue(), contents, variances, rtol=0.0 if exact else 1e-12)
    assert ours["count"].GetValue() == theirs["count"].GetValue()
    assert ours["sum"].GetValue() == pytest.approx(theirs["sum"].GetValue(), rel=1e-12)
    assert ours["mean"].GetValue() == pytest.approx(theirs["mean"].GetValue(), rel=1e-12)
    root_report = [(c.GetName(), c.GetPass(), c.GetAll()) for c in theirs["report"].GetValue()]
    our_report = [(e.name, e.passed, e.all) for e in ours["report"].GetValue()]
    assert our_report == root_report
    assert df.passes == 1


def _root_values(ROOT, path: str, expressions: list[str]) -> dict[str, np.ndarray]:  # noqa: N803
    rdf = ROOT.RDataFrame("Events", path)
    names = [f"e{k}" for k in range(len(expressions))]
    for name, expression in zip(names, expressions, strict=True):
        rdf = rdf.Define(name, expression)
    raw = rdf.AsNumpy(names)
    out = {}
    for name, expression in zip(names, expressions, strict=True):
        column = raw[name]
        if column.dtype == object:  # RVecs: convert each to a numpy array
            converted = np.empty(len(column), dtype=object)
            converted[:] = [np.array(v) for v in column]
            column = converted
        out[expression] = column
    return out


def _hepframe_values(engine: str, path: str, expressions: list[str]) -> dict[str, np.ndarray]:
    df = hepframe.RDataFrame("Events", path, engine=engine, step_size=1000)
    names = [f"e{k}" for k in range(len(expressions))]
    for name, expression in zip(names, expressions, strict=True):
        df = df.Define(name, expression)
    raw = df.AsNumpy(names)
    return {e: raw[n] for n, e in zip(names, expressions, strict=True)}


NANOAOD_EXPRESSIONS = [
    "Sum(Jet_pt > 40) > 1", "Jet_pt[abs(Jet_eta) < 1.0]", "Muon_pt[Muon_charge > 0]", "nMuon > 0 ? Muon_pt[0] : -1.f",
    "nMuon > 0 ? sqrt(2 * Muon_pt[0] * MET_pt * (1 - cos(ROOT::VecOps::DeltaPhi(Muon_phi[0], MET_phi)))) : 0.f",
    "DeltaR(Jet_eta, Jet_eta * 0.5f, Jet_phi, Jet_phi + 0.1f)", "InvariantMass(Jet_pt, Jet_eta, Jet_phi, Jet_mass)",
    "Mean(Jet_pt)", "Any(Muon_tightId)", "All(Jet_puId)", "Sum(Muon_softId)", "event % 7 == 3",
    "luminosityBlock * 2u", "run + PV_npvs", "HLT_IsoMu24 && nMuon >= 1", "PV_z / 3 + PV_x * 2.5",
    "Sum(Electron_pt[Electron_cutBasedId])", "Jet_btag[Jet_pt > 30 && abs(Jet_eta) < 2.4]",
    "nJet > 1 ? ROOT::VecOps::DeltaPhi(Jet_phi[0], Jet_phi[1]) : 9.f", "Sum(Jet_pt * cosh(Jet_eta))",
    "MET_pt > 30 || nElectron == 2u", "ROOT::VecOps::Sum(Jet_pt[Jet_btag > 0.5f])", "std::abs(PV_z) < 10",
    "Jet_pt.size() > 2 && Jet_pt[2] > 25", "rdfentry_ % 3", "exp(-MET_significance) * sinh(PV_z / 10)",
    "Concatenate(Muon_pt, Electron_pt)", "Reverse(Argsort(Jet_pt))", "Take(Jet_pt, Argsort(-Jet_eta))",
    "Sum(Take(Jet_btag, Nonzero(Jet_pt > 30)))", "StdDev(Jet_pt)", "nJet > 0 ? ArgMax(Jet_btag) : 99",
    "Product(Muon_charge)", "Where(abs(Jet_eta) < 2.4f, Jet_pt, 0.f)", "Intersect(Muon_jetIdx, Electron_jetIdx)",
    "nMuon >= 2 ? InvariantMasses(Take(Muon_pt, Combinations(Muon_pt, 2)[0]), Take(Muon_eta, Combinations(Muon_pt, 2)[0]),"
    " Take(Muon_phi, Combinations(Muon_pt, 2)[0]), Take(Muon_mass, Combinations(Muon_pt, 2)[0]),"
    " Take(Muon_pt, Combinations(Muon_pt, 2)[1]), Take(Muon_eta, Combinations(Muon_pt, 2)[1]),"
    " Take(Muon_phi, Combinations(Muon_pt, 2)[1]), Take(Muon_mass, Combinations(Muon_pt, 2)[1])) : Muon_pt[Muon_pt < 0]",
    "Take(Electron_pt, Combinations(Muon_pt, Electron_pt)[1])", "Sum(DeltaR2(Jet_eta, Jet_eta * 0.5f, Jet_phi, -Jet_phi))",
    "nJet >= 3 ? Combinations(Jet_pt, 3)[2] : ROOT::VecOps::Range(nJet)",
]  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
def test_expressions_on_nanoaod_match_root(engine: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    expected = _root_values(ROOT, small_nanoaod_file, NANOAOD_EXPRESSIONS)
    actual = _hepframe_values(engine, small_nanoaod_file, NANOAOD_EXPRESSIONS)
    for expression in NANOAOD_EXPRESSIONS:
        assert_same_values(actual[expression], expected[expression], f"{engine}: {expression}")


# Valid C++ that RDataFrame's own expression tokenizer rejects (ROOT 6.40).
ROOT_UNSUPPORTED = {"#Obj_v", "~i"}


@pytest.mark.parametrize("engine", ENGINES)
def test_edge_case_expressions_match_root(engine: str, tiny_file: str, ROOT) -> None:  # noqa: N803
    expressions = [e for e in TINY_EXPRESSIONS if e not in ROOT_UNSUPPORTED]
    expected = _root_values(ROOT, tiny_file, expressions)
    actual = _hepframe_values(engine, tiny_file, expressions)
    for expression in expressions:
        assert_same_values(actual[expression], expected[expression], f"{engine}: {expression}")
