"""Results used as the wrong types: tests/test_typing.py expects mypy to refuse every marked line."""

from __future__ import annotations

import hepframe
from hepframe import ROOT

df = hepframe.RDataFrame("Events", "data.root")
n: int = df.Histo1D(("h", "", 10, 0.0, 1.0), "x").GetValue()  # error: RootHist
label: str = df.Count().GetValue()  # error: int
total: int = df.Sum("x").GetValue()  # error: float
cuts: float = df.Report().GetValue()  # error: CutFlowReport
taken: str = df.Take["float"]("x").GetValue()  # error: ndarray
mean: str = ROOT.RDataFrame("Events", "data.root").Profile1D(("p", "", 10, 0.0, 1.0), "x", "y").GetValue()  # error: RootProfile
varied: int = hepframe.VariationsFor(df.Histo1D(("h", "", 10, 0.0, 1.0), "x"))["x:up"]  # error: RootHist
