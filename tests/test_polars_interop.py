"""Polars in and out (issue #19 item 5): FromPolars and AsPolars keep types and order."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import hepframe
from hepframe.errors import AnalysisError


def test_from_polars_and_back_keeps_types(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    out = df.Filter("nMuon >= 1").AsPolars(["MET_pt", "nMuon", "Muon_pt"])
    assert out.schema == pl.Schema({"MET_pt": pl.Float32, "nMuon": pl.UInt32, "Muon_pt": pl.List(pl.Float32)})
    expected = df.Filter("nMuon >= 1").AsNumpy(["MET_pt"])["MET_pt"]
    np.testing.assert_array_equal(out["MET_pt"].to_numpy(), expected)
    back = hepframe.FromPolars(out.lazy().with_columns(label=pl.lit("x")))  # the string column is left out
    assert sorted(back.GetColumnNames()) == ["MET_pt", "Muon_pt", "nMuon"]
    assert back.GetColumnType("Muon_pt") == "ROOT::VecOps::RVec<float>"
    lead = back.Define("lead", "Muon_pt[0]").AsNumpy(["lead"])["lead"]
    np.testing.assert_array_equal(lead, out["Muon_pt"].list.first().to_numpy())
    assert back.Count().GetValue() == out.height


def test_from_polars_refuses_what_it_cannot_read() -> None:
    with pytest.raises(AnalysisError, match="no numeric or list-of-numbers column among name"):
        hepframe.FromPolars(pl.DataFrame({"name": ["a", "b"]}))
    with pytest.raises(AnalysisError, match="polars DataFrame or LazyFrame, got dict"):
        hepframe.FromPolars({"x": [1]})
