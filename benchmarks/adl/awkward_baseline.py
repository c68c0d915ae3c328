"""The 8 ADL queries hand-written with uproot + awkward + numpy + boost-histogram.

Plain columnar code, the way a competent user writes it without a framework: read the branches,
compute with awkward/numpy ufuncs (four-vectors by hand: the ``vector`` package is not a
dependency), fill a ``boost_histogram.Histogram``. Not bit-identical to ROOT (other formulas,
float32 where ROOT::Math uses double), so only timed, not checked bin for bin.
"""

from __future__ import annotations

import awkward as ak
import boost_histogram as bh
import numpy as np
import uproot

TREE = "Events"


def _read(path: str, branches: list[str], pool) -> ak.Array:
    with uproot.open(path) as f:
        return f[TREE].arrays(branches, decompression_executor=pool)


def _hist(values, bins: int, low: float, high: float) -> bh.Histogram:
    h = bh.Histogram(bh.axis.Regular(bins, low, high))
    h.fill(ak.to_numpy(values))
    return h


def _p4(pt, eta, phi, mass):
    """px, py, pz, E in double."""
    pt, eta, phi, mass = (ak.values_astype(a, np.float64) for a in (pt, eta, phi, mass))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + mass**2)


def _mass(px, py, pz, e):
    m2 = e**2 - px**2 - py**2 - pz**2
    return np.sign(m2) * np.sqrt(np.abs(m2))


def q1(path, pool):
    return _hist(_read(path, ["MET_pt"], pool).MET_pt, 100, 0, 200)


def q2(path, pool):
    return _hist(ak.flatten(_read(path, ["Jet_pt"], pool).Jet_pt), 100, 15, 60)


def q3(path, pool):
    a = _read(path, ["Jet_pt", "Jet_eta"], pool)
    return _hist(ak.flatten(a.Jet_pt[abs(a.Jet_eta) < 1]), 100, 15, 60)


def q4(path, pool):
    a = _read(path, ["Jet_pt", "MET_pt"], pool)
    return _hist(a.MET_pt[ak.sum(a.Jet_pt > 40, axis=1) > 1], 100, 0, 200)


def q5(path, pool):
    a = _read(path, ["Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge", "MET_pt"], pool)
    a = a[ak.num(a.Muon_pt) >= 2]
    px, py, pz, e = _p4(a.Muon_pt, a.Muon_eta, a.Muon_phi, a.Muon_mass)
    mu = ak.zip({"px": px, "py": py, "pz": pz, "e": e, "charge": a.Muon_charge})
    m1, m2 = ak.unzip(ak.combinations(mu, 2))
    mass = _mass(m1.px + m2.px, m1.py + m2.py, m1.pz + m2.pz, m1.e + m2.e)
    z = (m1.charge != m2.charge) & (mass > 60) & (mass < 120)
    return _hist(a.MET_pt[ak.any(z, axis=1)], 100, 0, 200)


def q6(path, pool):
    a = _read(path, ["Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "Jet_btag"], pool)
    a = a[ak.num(a.Jet_pt) >= 3]
    px, py, pz, e = _p4(a.Jet_pt, a.Jet_eta, a.Jet_phi, a.Jet_mass)
    jets = ak.zip({"px": px, "py": py, "pz": pz, "e": e, "btag": a.Jet_btag})
    j1, j2, j3 = ak.unzip(ak.combinations(jets, 3))
    tx, ty, tz, te = (j1[f] + j2[f] + j3[f] for f in ("px", "py", "pz", "e"))
    best = ak.argmin(abs(_mass(tx, ty, tz, te) - 172.5), axis=1, keepdims=True)
    pt = ak.flatten(np.sqrt(tx**2 + ty**2)[best])
    btag = ak.flatten(np.maximum(np.maximum(j1.btag, j2.btag), j3.btag)[best])
    return _hist(pt, 100, 15, 40), _hist(btag, 100, 0, 1)


def q7(path, pool):
    a = _read(path, ["Jet_pt", "Jet_eta", "Jet_phi", "Muon_pt", "Muon_eta", "Muon_phi", "Electron_pt",
                     "Electron_eta", "Electron_phi"], pool)  # fmt: skip
    a = a[ak.num(a.Jet_pt) > 0]
    jets = ak.zip({"pt": a.Jet_pt, "eta": a.Jet_eta, "phi": a.Jet_phi})
    leptons = ak.concatenate([ak.zip({"pt": a.Muon_pt, "eta": a.Muon_eta, "phi": a.Muon_phi}),
                              ak.zip({"pt": a.Electron_pt, "eta": a.Electron_eta, "phi": a.Electron_phi})], axis=1)  # fmt: skip
    leptons = leptons[leptons.pt > 10]
    j, lep = ak.unzip(ak.cartesian([jets, leptons], nested=True))
    dphi = (lep.phi - j.phi + np.pi) % (2 * np.pi) - np.pi
    isolated = ak.all((j.eta - lep.eta) ** 2 + dphi**2 >= 0.4**2, axis=2)
    good = (jets.pt > 30) & isolated
    ht = ak.sum(jets.pt[good], axis=1)
    return _hist(ht[ak.any(good, axis=1)], 100, 15, 200)


def q8(path, pool):
    fields = ["pt", "eta", "phi", "mass", "charge"]
    a = _read(path, ["MET_pt", "MET_phi"] + [f"{c}_{v}" for c in ("Muon", "Electron") for v in fields], pool)
    a = a[ak.num(a.Muon_pt) + ak.num(a.Electron_pt) > 2]
    muons = ak.zip({f: a[f"Muon_{f}"] for f in fields} | {"flavour": ak.zeros_like(a.Muon_charge)})
    electrons = ak.zip({f: a[f"Electron_{f}"] for f in fields} | {"flavour": ak.ones_like(a.Electron_charge)})
    leptons = ak.concatenate([muons, electrons], axis=1)
    i1, i2 = ak.unzip(ak.argcombinations(leptons, 2))
    l1, l2 = leptons[i1], leptons[i2]
    sfos = (l1.charge != l2.charge) & (l1.flavour == l2.flavour)
    i1, i2, l1, l2 = i1[sfos], i2[sfos], l1[sfos], l2[sfos]
    p1, p2 = _p4(l1.pt, l1.eta, l1.phi, l1.mass), _p4(l2.pt, l2.eta, l2.phi, l2.mass)
    mass = _mass(*(c1 + c2 for c1, c2 in zip(p1, p2, strict=True)))
    has_pair = ak.num(mass) > 0
    best = ak.argmin(abs(mass - 91.2), axis=1, keepdims=True)
    b1, b2 = ak.firsts(i1[best])[has_pair], ak.firsts(i2[best])[has_pair]
    leptons, met = leptons[has_pair], a[has_pair]
    index = ak.local_index(leptons.pt)
    others = leptons[(index != b1) & (index != b2)]
    lead = ak.firsts(others[ak.argmax(others.pt, axis=1, keepdims=True)])
    dphi = (lead.phi - met.MET_phi + np.pi) % (2 * np.pi) - np.pi
    mt = np.sqrt(2.0 * lead.pt * met.MET_pt * (1.0 - np.cos(dphi)))
    return _hist(mt, 100, 0, 200)


QUERIES = {1: q1, 2: q2, 3: q3, 4: q4, 5: q5, 6: q6, 7: q7, 8: q8}
