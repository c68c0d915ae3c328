"""Histograms made and filled by hand (``ROOT.TH1D(...)``, ``Fill``, ``FillN``), and df017's PyROOT loop.

``python th1_cases.py root|hepframe`` prints, as one JSON line, every cell content and error,
entries, means, standard deviations and integrals of TH1D/TH1F/TH2D histograms filled with
scalars, arrays (PyROOT's array pythonization), weights, NaN and out-of-range values, plus the
histogram df017_vecOpsHEP fills while iterating its tree event by event, next to the one its
RDataFrame books. tests/test_th1.py compares the two modes.
"""

from __future__ import annotations

import json
import sys
from math import sqrt

import numpy as np

if sys.argv[1] == "root":
    import ROOT
else:
    from hepframe import ROOT


def dump(h, dim: int) -> dict:
    cells = (h.GetNbinsX() + 2) * (h.GetNbinsY() + 2 if dim > 1 else 1) * (h.GetNbinsZ() + 2 if dim > 2 else 1)
    return {"contents": [h.GetBinContent(i) for i in range(cells)], "errors": [h.GetBinError(i) for i in range(cells)],
            "entries": h.GetEntries(), "mean": [h.GetMean(a) for a in range(1, dim + 1)],
            "std": [h.GetStdDev(a) for a in range(1, dim + 1)], "integral": h.Integral()}  # fmt: skip


rng = np.random.default_rng(5)
out: dict = {}
h = ROOT.TH1D("a", "a", 20, -2, 2)
x = rng.normal(size=1000)
h.Fill(x)
out["returned bins"] = [h.Fill(v) for v in (0.5, 3.0, -7.0, float("nan"))]
h.Fill(x[:100], rng.uniform(0, 2, 100))
h.Fill(0.25, 2.5)
out["th1d"] = dump(h, 1)
f = ROOT.TH1F("f", "f", 16, 0, 4)
f.Fill(np.abs(x) * 2)
out["th1f"] = dump(f, 1)
g = ROOT.TH1D("g", "g", 5, np.array([0.0, 0.1, 0.5, 1.0, 2.0, 4.0]))
g.FillN(500, np.abs(x), np.ones(500))
out["variable bins"] = dump(g, 1)
h2 = ROOT.TH2D("b", "b", 10, -2, 2, 8, -1, 3)
y = rng.normal(1, 1, size=1000)
for xi, yi in zip(x[:300], y[:300], strict=True):
    h2.Fill(xi, yi)
h2.Fill(x[300:], y[300:], rng.uniform(0, 1, 700))
out["th2d"] = dump(h2, 2)

# df017_vecOpsHEP: the same histogram from a PyROOT event loop and from RDataFrame
filename = ROOT.gROOT.GetTutorialDir().Data() + "/analysis/dataframe/df017_vecOpsHEP.root"
pyroot = ROOT.TH1F("pt", "With PyROOT", 16, 0, 4)
with ROOT.TFile(filename) as tfile:
    for event in tfile["myDataset"]:
        pyroot.Fill(np.array([sqrt(px * px + py * py) for E, px, py in zip(event.E, event.px, event.py, strict=True)
                              if E > 100]))
rdf = ROOT.RDataFrame("myDataset", filename).Define("good_pt", "sqrt(px*px + py*py)[E>100]")
out["df017 pyroot"] = dump(pyroot, 1)
out["df017 rdataframe"] = dump(rdf.Histo1D(("pt", "With RDataFrame and RVec", 16, 0, 4), "good_pt").GetValue(), 1)
print(json.dumps(out))
