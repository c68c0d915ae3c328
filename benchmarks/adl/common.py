"""What both versions of the ADL queries share: histogram models, queries 1-4, query 8's leptons.

No import of hepframe or numba here: ``strings.py`` books these on ROOT in its own process too.
"""

from __future__ import annotations

MET = ("met", ";MET (GeV);N_{Events}", 100, 0.0, 200.0)
JET_PT = ("jet_pt", ";Jet p_{T} (GeV);N_{Events}", 100, 15.0, 60.0)


def q1(df):
    return df.Histo1D(MET, "MET_pt")


def q2(df):
    return df.Histo1D(JET_PT, "Jet_pt")


def q3(df):
    return df.Define("goodJet_pt", "Jet_pt[abs(Jet_eta) < 1.0]").Histo1D(JET_PT, "goodJet_pt")


def q4(df):
    return df.Filter("Sum(Jet_pt > 40) > 1", "At least two jets with pt > 40 GeV").Histo1D(MET, "MET_pt")


def leptons(df):
    """Query 8's leptons: muons then electrons, with a flavour (0: muon, 1: electron)."""
    return (df.Define("Lepton_pt", "Concatenate(Muon_pt, Electron_pt)")
              .Define("Lepton_eta", "Concatenate(Muon_eta, Electron_eta)")
              .Define("Lepton_phi", "Concatenate(Muon_phi, Electron_phi)")
              .Define("Lepton_mass", "Concatenate(Muon_mass, Electron_mass)")
              .Define("Lepton_charge", "Concatenate(Muon_charge, Electron_charge)")
              .Define("Lepton_flavour", "Concatenate(ROOT::RVec<int>(nMuon, 0), ROOT::RVec<int>(nElectron, 1))"))  # fmt: skip
