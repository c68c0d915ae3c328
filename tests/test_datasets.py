"""The sample generator: deterministic, NanoAOD schema, UInt_t counters readable by ROOT."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

from hepframe.datasets import generate_events, generate_nanoaod


def test_same_seed_same_events() -> None:
    a, b = generate_events(500, seed=3), generate_events(500, seed=3)
    c = generate_events(500, seed=4)
    assert ak.to_list(a["Muon_pt"]) == ak.to_list(b["Muon_pt"])
    assert ak.to_list(a["Muon_pt"]) != ak.to_list(c["Muon_pt"])


def test_collections_are_pt_ordered_with_consistent_counters() -> None:
    ev = generate_events(2000, seed=1)
    for coll in ("Muon", "Electron", "Jet"):
        pt = ev[f"{coll}_pt"]
        assert ak.all(pt[:, :-1] >= pt[:, 1:])
        np.testing.assert_array_equal(ak.num(pt), ev[f"n{coll}"])


def test_file_schema_and_resonances(small_nanoaod_file: str) -> None:
    tree = uproot.open(small_nanoaod_file)["Events"]
    types = {name: tree[name].typename for name in tree.keys()}
    assert types["nMuon"] == "uint32_t" and types["luminosityBlock"] == "uint32_t"
    assert types["event"] == "uint64_t" and types["run"] == "int32_t" and types["HLT_IsoMu24"] == "bool"
    assert types["Muon_pt"] == "float[]" and types["Muon_charge"] == "int32_t[]" and types["Jet_puId"] == "bool[]"
    for name in ("MET_CovXX", "Electron_cutBasedId", "Tau_pt", "Photon_pt", "Jet_btag", "PV_npvs"):
        assert name in types
    assert tree.num_entries == 3000


@pytest.mark.root
def test_root_reads_counters_as_uint(small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    df = ROOT.RDataFrame("Events", small_nanoaod_file)
    assert str(df.GetColumnType("nMuon")) == "UInt_t"
    assert str(df.GetColumnType("Muon_pt")) == "ROOT::VecOps::RVec<Float_t>"
    assert int(df.Filter("nMuon == Muon_pt.size()").Count().GetValue()) == 3000


def test_output_is_atomic(tmp_path, monkeypatch) -> None:
    target = tmp_path / "sample.root"

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-write")

    monkeypatch.setattr("hepframe.datasets.generate_events", boom)
    with pytest.raises(RuntimeError):
        generate_nanoaod(target, n_events=10)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary is left behind


def test_many_chunks_keep_unsigned_counters(tmp_path) -> None:
    # More chunks than uproot's default basket capacity (10) used to break the retyped counters.
    path = generate_nanoaod(tmp_path / "chunks.root", n_events=1_200, chunk_size=100, seed=2)
    tree = uproot.open(path)["Events"]
    assert tree.num_entries == 1_200
    assert tree["nJet"].typename == "uint32_t"
    np.testing.assert_array_equal(tree["nJet"].array(library="np"), ak.num(tree["Jet_pt"].array()))
