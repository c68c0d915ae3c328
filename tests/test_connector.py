"""The uproot connector: dtypes, pruning, chunking, entry numbering and bad input."""

from __future__ import annotations

import shutil

import awkward as ak
import numpy as np
import pyarrow as pa
import pytest
import uproot
from hepframe.connectors import RootSource, resolve_files

import hepframe
from hepframe.errors import DataSourceError
from hepframe.expr.types import CType, Scalar


def test_schema_keeps_root_types(nanoaod_file: str) -> None:
    schema = RootSource.open("Events", nanoaod_file).schema
    assert schema["nMuon"] == CType(Scalar.UINT)
    assert schema["luminosityBlock"] == CType(Scalar.UINT)
    assert schema["event"] == CType(Scalar.ULONG)
    assert schema["run"] == CType(Scalar.INT)
    assert schema["HLT_IsoMu24"] == CType(Scalar.BOOL)
    assert schema["Muon_pt"] == CType(Scalar.FLOAT, 1)
    assert schema["Muon_charge"] == CType(Scalar.INT, 1)
    assert schema["Muon_tightId"] == CType(Scalar.BOOL, 1)


def test_batches_hold_only_requested_branches_with_faithful_arrow_types(nanoaod_file: str) -> None:
    source = RootSource.open("Events", nanoaod_file, step_size=4000)
    batches = list(source.iter_batches(["Muon_pt", "nMuon", "HLT_IsoMu24"]))
    assert len(batches) == 5  # 20k entries in steps of 4000: bounded memory per batch
    for batch in batches:
        assert batch.table.column_names == ["HLT_IsoMu24", "Muon_pt", "nMuon"]
        assert batch.table.schema.field("Muon_pt").type == pa.large_list(pa.field("item", pa.float32(), nullable=False))
        assert batch.table.schema.field("nMuon").type == pa.uint32()
        assert batch.table.schema.field("HLT_IsoMu24").type == pa.bool_()
    starts = [b.entry_start for b in batches]
    assert starts == [0, 4000, 8000, 12000, 16000]
    # Values equal uproot's own read.
    expected = uproot.open(nanoaod_file)["Events"].arrays(["Muon_pt", "nMuon"])
    got = pa.concat_tables(b.table for b in batches)
    assert ak.to_list(expected["Muon_pt"][:50]) == got.column("Muon_pt").to_pylist()[:50]
    np.testing.assert_array_equal(got.column("nMuon").to_numpy(), expected["nMuon"].to_numpy())


def test_analysis_reads_only_the_branches_it_uses(nanoaod_file: str, branch_reads) -> None:
    read = branch_reads
    df = hepframe.RDataFrame("Events", nanoaod_file)
    m = df.Filter("nMuon == 2").Define("m", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
    m.Define("unused", "Jet_pt * 2")  # defined but never used: Jet_pt is not read
    m.Histo1D(("m", "", 10, 0, 100), "m").GetValue()
    assert read == [["Muon_eta", "Muon_mass", "Muon_phi", "Muon_pt", "nMuon"]]


def test_multiple_files_and_globs_continue_entry_numbers(nanoaod_file: str, tmp_path) -> None:
    for k in range(3):
        shutil.copy(nanoaod_file, tmp_path / f"part{k}.root")
    assert resolve_files(str(tmp_path / "part*.root")) == [str(tmp_path / f"part{k}.root") for k in range(3)]
    df = hepframe.RDataFrame("Events", str(tmp_path / "part*.root"), step_size=7000)
    entries = df.Define("e", "rdfentry_").AsNumpy(["e"])["e"]
    np.testing.assert_array_equal(entries, np.arange(60_000, dtype=np.uint64))
    listed = hepframe.RDataFrame("Events", [tmp_path / "part0.root", tmp_path / "part1.root"])
    assert listed.Count().GetValue() == 40_000


def test_missing_file_names_the_file(tmp_path) -> None:
    with pytest.raises(DataSourceError, match=r"file not found: .*nope\.root"):
        hepframe.RDataFrame("Events", tmp_path / "nope.root")
    with pytest.raises(DataSourceError, match=r"no file matches the pattern"):
        hepframe.RDataFrame("Events", str(tmp_path / "*.root"))


def test_missing_tree_names_file_and_tree(nanoaod_file: str) -> None:
    with pytest.raises(DataSourceError, match=r"tree 'Evnts' not found in .*nanoaod\.root'; did you mean 'Events'"):
        hepframe.RDataFrame("Evnts", nanoaod_file)


def test_not_a_root_file(tmp_path) -> None:
    bogus = tmp_path / "notes.root"
    bogus.write_text("this is not a ROOT file\n" * 100)
    with pytest.raises(DataSourceError, match=r"cannot open .*notes\.root.* as a ROOT file"):
        hepframe.RDataFrame("Events", bogus)


def test_truncated_file_is_a_clear_error(nanoaod_file: str, tmp_path) -> None:
    truncated = tmp_path / "truncated.root"
    data = open(nanoaod_file, "rb").read()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataSourceError, match=r"truncated\.root"):
        df = hepframe.RDataFrame("Events", truncated)
        df.Histo1D(("h", "", 10, 0, 100), "MET_pt").GetValue()


def test_missing_branch_in_second_file(nanoaod_file: str, tmp_path) -> None:
    other = tmp_path / "other.root"
    with uproot.recreate(other) as f:
        f.mktree("Events", {"run": np.int32}).extend({"run": np.zeros(5, np.int32)})
    df = hepframe.RDataFrame("Events", [nanoaod_file, other])
    with pytest.raises(DataSourceError, match=r"branch 'MET_pt' missing from tree 'Events' in .*other\.root"):
        df.Sum("MET_pt").GetValue()


def test_rntuple_written_by_uproot(tmp_path) -> None:
    path = tmp_path / "ntuple.root"
    v = ak.Array([[1.5, 2.0], [], [3.0], [4.0, 5.0, 6.0], []])
    with uproot.recreate(path) as f:
        f["Events"] = {"x": np.arange(5, dtype=np.float32), "v": v, "u": np.arange(5, dtype=np.uint32)}
    df = hepframe.RDataFrame("Events", path, step_size=2)
    assert df.GetColumnType("v") == "ROOT::VecOps::RVec<double>" and df.GetColumnType("u") == "std::uint32_t"  # as ROOT names RNTuple fields
    out = df.Define("s", "Sum(v) + x").AsNumpy(["s", "u"])
    np.testing.assert_array_equal(out["s"], ak.to_numpy(ak.sum(v, axis=1)) + np.arange(5))
    np.testing.assert_array_equal(out["u"], np.arange(5, dtype=np.uint32))


def test_files_with_different_schemas_are_an_error(tmp_path) -> None:
    with uproot.recreate(tmp_path / "a.root") as f:
        f.mktree("Events", {"x": np.float32}).extend({"x": np.zeros(3, np.float32)})
    with uproot.recreate(tmp_path / "b.root") as f:
        f.mktree("Events", {"x": np.float64}).extend({"x": np.zeros(3, np.float64)})
    df = hepframe.RDataFrame("Events", [tmp_path / "a.root", tmp_path / "b.root"])
    with pytest.raises(DataSourceError, match=r"branch 'x' of tree 'Events' is double in .*b\.root' but float in"):
        df.Sum("x").GetValue()


def test_entry_ranges_and_cluster_aligned_partitions(tmp_path) -> None:
    from hepframe.datasets import generate_nanoaod

    generate_nanoaod(tmp_path / "p0.root", n_events=20_000, seed=5, chunk_size=2_500)  # 8 clusters
    shutil.copy(tmp_path / "p0.root", tmp_path / "p1.root")
    files = [str(tmp_path / "p0.root"), str(tmp_path / "p1.root")]
    df = hepframe.RDataFrame("Events", files, entries=(15_000, 27_000), step_size=4000)
    entries = df.Define("e", "rdfentry_").AsNumpy(["e"])["e"]
    np.testing.assert_array_equal(entries, np.arange(15_000, 27_000, dtype=np.uint64))  # spans both files
    source = RootSource.open("Events", files, step_size=5000)
    parts = source.partitions()
    clusters = source.clusters(files[0])
    assert clusters[0] == 0 and clusters[-1] == 20_000
    assert clusters == list(range(0, 20_001, 2_500))
    assert [(p.start, p.stop) for p in parts][:2] == [(0, 5_000), (5_000, 10_000)]  # two clusters each
    assert parts[-1].stop == 40_000 and all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    for p in parts:  # partitions never split a cluster
        local = p.start - (20_000 if p.file == files[1] else 0)
        assert local in source.clusters(p.file)
    with pytest.raises(DataSourceError, match=r"entries must be \(start, stop\)"):
        hepframe.RDataFrame("Events", files, entries=(5, 1))


def test_uproot_arrays_become_arrow_without_copies(nanoaod_file: str) -> None:
    """The Arrow buffers are uproot's own: offsets and values are shared, not copied."""
    from hepframe.connectors.root import _to_arrow

    arrays = uproot.open(nanoaod_file)["Events"].arrays(["Jet_pt", "MET_pt"], entry_stop=5000, how=dict)
    jagged, flat = ak.to_layout(arrays["Jet_pt"]), ak.to_layout(arrays["MET_pt"])
    jet, met = _to_arrow(arrays["Jet_pt"]), _to_arrow(arrays["MET_pt"])
    assert jet.buffers()[1].address == np.asarray(jagged.offsets).ctypes.data  # offsets
    assert jet.buffers()[3].address == np.asarray(jagged.content.data).ctypes.data  # values
    assert met.buffers()[1].address == np.asarray(flat.data).ctypes.data


def test_default_batches_grow_for_small_branches_but_keep_one_per_thread(nanoaod_file: str) -> None:
    """step_bytes: few small branches read in fewer, larger batches; large ones keep the entry step."""
    small = RootSource.open("Events", nanoaod_file, step_size=5000, threads=2, cache=False, step_bytes=1 << 20)
    met = [b.table.num_rows for b in small.iter_batches(["MET_pt"])]  # 4 bytes per event
    assert sum(met) == 20_000 and len(met) == 2  # not 4: as large as 1 MiB allows, but two for two threads
    capped = RootSource.open("Events", nanoaod_file, step_size=1000, threads=2, cache=False, step_bytes=1 << 20)
    assert [b.table.num_rows for b in capped.iter_batches(["MET_pt"])] == [4000] * 5  # at most four steps
    tight = RootSource.open("Events", nanoaod_file, step_size=1000, threads=2, cache=False, step_bytes=20_000)
    jets = [b.table.num_rows for b in tight.iter_batches(["Jet_pt", "Jet_eta", "Jet_phi"])]
    assert sum(jets) == 20_000 and max(jets) <= 1000  # 20 kB holds fewer than 1000 events of jets
    exact = RootSource.open("Events", nanoaod_file, step_size=1000, threads=2, cache=False)
    assert [b.table.num_rows for b in exact.iter_batches(["MET_pt"])] == [1000] * 20  # an explicit step is kept
    # RDataFrame without step_size uses the byte budget; with one, the exact step.
    assert hepframe.RDataFrame("Events", nanoaod_file, progress=False)._node.source.step_bytes
    assert hepframe.RDataFrame("Events", nanoaod_file, step_size=500, progress=False)._node.source.step_bytes is None


def test_zlib_baskets_inflate_with_libdeflate_to_zlibs_bytes(nanoaod_file: str, monkeypatch) -> None:
    """The reader swaps uproot's ZLIB decompressor for libdeflate's: the same arrays as zlib gives."""
    import uproot.compression as compression

    branches = ["Muon_pt", "nJet", "Jet_eta", "MET_pt", "event"]
    source = RootSource.open("Events", [nanoaod_file], cache=False)
    ours = pa.concat_tables([b.table for b in source.iter_batches(branches)])
    assert type(compression._decompress_ZLIB).__name__ == "Libdeflate"
    with uproot.open(nanoaod_file) as f:
        assert type(f.file.compression).__name__ == "ZLIB"  # the generator writes ZLIB
    monkeypatch.setattr(compression, "_decompress_ZLIB", compression._DecompressZLIB())  # zlib itself
    with uproot.open(nanoaod_file) as f:
        theirs = f["Events"].arrays(branches, library="ak")
    for name in branches:
        assert ak.to_list(theirs[name]) == ours[name].to_pylist(), name

