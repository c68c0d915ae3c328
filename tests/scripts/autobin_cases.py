"""Default-model Histo1D cases, run with ``root`` (real ROOT) or ``hepframe`` (the facade); prints JSON.

Reading a bin content first empties ROOT's fill buffer, so the axis limits printed are the final ones.
"""

import json
import sys

mode = sys.argv[1]

if mode == "root":
    import ROOT
else:
    from hepframe import ROOT

out = []


def dump(h):
    h = h.GetValue()
    n = h.GetNbinsX()
    h.GetBinContent(1)  # empties ROOT's fill buffer before the axis is read
    out.append(dict(name=h.GetName(), title=h.GetTitle(), n=n, lo=h.GetXaxis().GetBinLowEdge(1), hi=h.GetXaxis().GetBinUpEdge(n),
      c=[h.GetBinContent(i) for i in range(n+2)], e=[h.GetBinError(i) for i in range(n+2)], entries=h.GetEntries(),
      mean=h.GetMean(), std=h.GetStdDev(), xt=h.GetXaxis().GetTitle(), yt=h.GetYaxis().GetTitle()))
cases = [
  ("sin(rdfentry_*0.37)*3.0+0.1", 1000), ("sin(rdfentry_*0.37)*3.0+0.1", 999), ("rdfentry_*0.5", 5000),
  ("rdfentry_ < 1000 ? 1.0*rdfentry_ : -3.0*rdfentry_", 3000), ("2.5", 10), ("-7.25e-5*(rdfentry_%17)", 2000),
  ("rdfentry_ == 1500 ? (0.0/0.0) : 1e6 + rdfentry_ % 100", 1800),
  ("rdfentry_ == 10 ? (1.0/0.0) : 0.001*rdfentry_", 1200),
  ("1e12 + rdfentry_", 50), ("rdfentry_ % 2 == 0 ? 3.0 : -1e-3", 1500),
]
for i, (e, n) in enumerate(cases):
    df = ROOT.RDataFrame(n).Define("x", e).Define("w", "0.5 + (rdfentry_ % 3)")
    dump(df.Histo1D("x"))
    dump(df.Histo1D("x", "w"))
    dump(df.Histo1D((f"h{i}", "t;a;b", 7, 0, 0), "x"))
    dump(df.Histo1D((f"g{i}", "t", 64, 5, 5), "x"))
    dump(df.Histo1D((f"k{i}", "t", 16, 5, 1), "x"))
print(json.dumps(out))
