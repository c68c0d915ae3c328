"""scan_root: a TTree as a Polars LazyFrame with projection and predicate pushdown."""

from __future__ import annotations

import awkward as ak
import numpy as np
import polars as pl
import uproot

import hepframe


def test_scan_reads_only_projected_branches(nanoaod_file: str, branch_reads) -> None:
    reads = branch_reads
    lf = hepframe.scan_root(nanoaod_file)
    out = lf.filter(pl.col("nMuon") == 2).select("MET_pt", "Muon_pt").collect()
    assert reads == [["MET_pt", "Muon_pt", "nMuon"]]  # 3 of the file's ~70 branches
    expected = uproot.open(nanoaod_file)["Events"].arrays(["MET_pt", "Muon_pt", "nMuon"])
    expected = expected[expected.nMuon == 2]
    np.testing.assert_array_equal(out["MET_pt"].to_numpy(), ak.to_numpy(expected.MET_pt))
    assert out["Muon_pt"].to_list()[:20] == ak.to_list(expected.Muon_pt)[:20]
    assert out.schema["Muon_pt"] == pl.List(pl.Float32)


def test_scan_limits_and_streaming(nanoaod_file: str) -> None:
    lf = hepframe.scan_root(nanoaod_file, step_size=3000)
    assert lf.head(7).collect().height == 7
    n_jets = lf.select(pl.col("Jet_pt").list.len().sum()).collect(engine="streaming").item()
    assert n_jets == hepframe.RDataFrame("Events", nanoaod_file).Sum("nJet").GetValue()
    assert lf.collect_schema()["nMuon"] == pl.UInt32


def test_nanoaod_collection_view(nanoaod_file: str) -> None:
    lf = hepframe.scan_root(nanoaod_file, collections=True, step_size=6000)
    schema = lf.collect_schema()
    assert "Muon_pt" not in schema and schema["Muon"] == pl.List(pl.Struct(schema["Muon"].inner.fields))
    assert schema["Muon"].inner.to_schema()["charge"] == pl.Int32
    records = lf.select("Muon").collect()["Muon"]
    flat = hepframe.scan_root(nanoaod_file).select("Muon_pt", "Muon_charge").collect()
    got_pt = records.list.eval(pl.element().struct.field("pt")).to_list()
    got_q = records.list.eval(pl.element().struct.field("charge")).to_list()
    assert got_pt == flat["Muon_pt"].to_list() and got_q == flat["Muon_charge"].to_list()
