"""hepframe's basket reader (connectors/baskets.py): the same arrays as uproot, on every file the tests read."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path

import awkward as ak
import numpy as np
import pyarrow as pa
import pytest
import uproot
from hepframe.connectors import baskets
from hepframe.connectors.root import RootSource, _fast_inflate, _to_arrow

import hepframe
from hepframe.datasets import generate_nanoaod
from hepframe.errors import DataSourceError


def same(a: pa.Array, b: pa.Array) -> bool:
    """Equal types, offsets and value bits (NaN equals NaN)."""
    if a.type != b.type or len(a) != len(b) or a.null_count or b.null_count:
        return False
    if pa.types.is_large_list(a.type):
        return np.array_equal(np.asarray(a.offsets), np.asarray(b.offsets)) and same(a.flatten(), b.flatten())
    return a.to_numpy(zero_copy_only=False).tobytes() == b.to_numpy(zero_copy_only=False).tobytes()


def compare_with_uproot(path: str) -> tuple[int, set[str]]:
    """Read every planned branch of every TTree of ``path`` whole and in a middle slice; (reads, unplanned)."""
    _fast_inflate()
    reads, unplanned = 0, set()
    file = uproot.open(path)
    trees = [k for k, c in file.classnames().items() if c in ("TTree", "TNtuple", "TNtupleD")]
    fd = os.open(path, os.O_RDONLY)
    try:
        for key in trees:
            try:
                tree = file[key]
            except Exception:  # noqa: BLE001 - a tree uproot cannot read at all ('CS' codec): nothing to compare
                continue
            for branch in tree.itervalues(recursive=True):
                plan = baskets.plan(branch)
                if plan is None:
                    unplanned.add(branch.name)
                    continue
                n = branch.num_entries
                for lo, hi in ((0, n), (n // 3, 2 * n // 3 + 1)):
                    try:
                        expected = _to_arrow(branch.array(entry_start=lo, entry_stop=hi, library="ak"))
                    except Exception as exc:  # noqa: BLE001 - e.g. ROOT's pre-2000 'CS' codec: refused here too
                        with pytest.raises(baskets.BasketError, match=re.escape(str(exc).splitlines()[0])):
                            baskets.read(plan, fd, file.file.source, lo, hi)
                        continue
                    got = baskets.read(plan, fd, file.file.source, lo, hi)
                    assert same(got, expected), f"{path}: {key}/{branch.name} entries {lo}-{hi}"
                    reads += 1
    finally:
        os.close(fd)
    return reads, unplanned


@pytest.fixture(scope="module")
def many_baskets(tmp_path_factory) -> str:
    """3000 events in baskets of 700 (uproot writes one basket per chunk): batches cross basket edges."""
    return generate_nanoaod(tmp_path_factory.mktemp("baskets") / "many.root", n_events=3000, seed=11, chunk_size=700)


def test_generated_files_read_as_uproot_reads_them(many_baskets: str, tiny_file: str) -> None:
    for path in (many_baskets, tiny_file):
        reads, unplanned = compare_with_uproot(path)
        assert reads >= 2 * len(uproot.open(path)["Events"].keys()) and not unplanned, path
    assert uproot.open(many_baskets)["Events"]["Jet_pt"].num_baskets == 5


@pytest.mark.parametrize("entries", [None, (350, 2650), (700, 1400), (5, 6)])
def test_batches_equal_uproots_across_basket_edges(many_baskets: str, entries, monkeypatch) -> None:
    calls = {"baskets": 0, "uproot": 0}
    read, arrays = baskets.read, uproot.TTree.arrays

    def counted_read(*args, **kwargs):
        calls["baskets"] += 1
        return read(*args, **kwargs)

    def counted_arrays(*args, **kwargs):
        calls["uproot"] += 1
        return arrays(*args, **kwargs)

    monkeypatch.setattr(baskets, "read", counted_read)
    monkeypatch.setattr(uproot.TTree, "arrays", counted_arrays)

    def tables(reader: bool) -> pa.Table:
        source = RootSource.open("Events", many_baskets, 450, threads=2, cache=False, entries=entries)
        source.basket_reader = reader
        calls.update(baskets=0, uproot=0)
        table = pa.concat_tables(b.table for b in source.iter_batches(list(source.schema)))
        if reader:  # every branch of this file has a plan: the basket reader reads every batch, uproot none
            assert calls["baskets"] > 0 and calls["uproot"] == 0
            assert all(plan is not None for plan in source._plans[many_baskets].values())
        else:
            assert calls["baskets"] == 0 and calls["uproot"] > 0
        return table

    ours, theirs = tables(True), tables(False)
    assert ours.num_rows == (3000 if entries is None else entries[1] - entries[0])
    assert ours.schema == theirs.schema
    for name in ours.column_names:
        assert same(ours[name].combine_chunks(), theirs[name].combine_chunks()), name


NUMBERS = [np.bool_, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64, np.float32,
           np.float64]  # fmt: skip


def _write_layouts(path: str, sizes: list[int], compression, empty_lists: bool = False) -> str:
    """One basket per chunk of ``sizes`` entries (empty baskets too): every dtype, flat and jagged."""
    rng = np.random.default_rng(5)

    def chunk(n: int) -> dict:
        counts = np.zeros(n, np.int64) if empty_lists else rng.integers(0, 4, n)
        out = {}
        for dtype in NUMBERS:
            name = np.dtype(dtype).name
            out[f"s_{name}"] = rng.integers(0, 100, n).astype(dtype)
            out[f"j_{name}"] = ak.unflatten(rng.integers(0, 100, int(counts.sum())).astype(dtype), counts)
        return out

    with uproot.recreate(path, compression=compression) as f:
        first = chunk(sizes[0])
        f.mktree("Events", {k: v.dtype if isinstance(v, np.ndarray) else ak.type(v).content for k, v in first.items()})
        f["Events"].extend(first)
        for n in sizes[1:]:
            f["Events"].extend(chunk(n))
    return path


@pytest.mark.parametrize(("codec", "sizes", "empty_lists"), [
    ("ZLIB", [3, 0, 2, 0, 0, 4, 1], False), ("none", [3, 0, 2, 0, 0, 4, 1], False), ("LZ4", [3, 0, 2, 4], False),
    ("ZSTD", [3, 0, 2, 4], False), ("LZMA", [0, 3, 2, 4], False), ("ZLIB", [3, 0, 2, 4], True)])  # fmt: skip
def test_every_dtype_codec_and_range_reads_as_uproot(tmp_path, codec: str, sizes: list[int], empty_lists: bool) -> None:
    """Every entry range (inside, across and at basket edges, empty) of baskets of every size, empty included."""
    compression = None if codec == "none" else getattr(uproot, codec)(1)
    path = _write_layouts(str(tmp_path / f"{codec}.root"), sizes, compression, empty_lists)
    file = uproot.open(path)
    tree, n, fd = file["Events"], sum(sizes), os.open(path, os.O_RDONLY)
    try:
        for branch in tree.values():
            plan = baskets.plan(branch)
            assert plan is not None and plan.jagged == branch.name.startswith("j_"), branch.name
            for lo in range(n + 1):
                for hi in range(lo, n + 1):
                    expected = _to_arrow(branch.array(entry_start=lo, entry_stop=hi, library="ak"))
                    got = baskets.read(plan, fd, file.file.source, lo, hi)
                    got.validate(full=True)
                    assert same(got, expected), (branch.name, lo, hi)
        with pytest.raises(ValueError, match=f"entries 0-{n + 1} of branch .s_int8., which has {n}"):
            baskets.read(baskets.plan(tree["s_int8"]), fd, file.file.source, 0, n + 1)
    finally:
        os.close(fd)


def test_a_basket_the_reader_does_not_cover_goes_through_uproot(many_baskets: str, monkeypatch) -> None:
    """NotCovered (e.g. entry offsets left for the reader to rebuild): that branch of that file goes to uproot."""
    def not_covered(plan, *args):
        if plan.name == "Jet_eta":
            raise baskets.NotCovered("no entry offsets")
        return read(plan, *args)

    read = baskets.read
    monkeypatch.setattr(baskets, "read", not_covered)
    source = RootSource.open("Events", many_baskets, 1000, threads=1, cache=False)
    table = pa.concat_tables(b.table for b in source.iter_batches(["Jet_eta", "Jet_pt"]))
    expected = uproot.open(many_baskets)["Events"].arrays(["Jet_eta", "Jet_pt"], library="ak")
    for name in ("Jet_eta", "Jet_pt"):
        assert same(table[name].combine_chunks(), _to_arrow(expected[name])), name
    assert source._plans[many_baskets]["Jet_eta"] is None and source._plans[many_baskets]["Jet_pt"] is not None


@pytest.mark.root
def test_every_root_tutorial_tree_reads_as_uproot(ROOT, tmp_path) -> None:  # noqa: N803
    """ROOT's own files (many ROOT versions, layouts, codecs) and one with every leaf type, written by ROOT."""
    from tests.test_root_files import WRITER

    ROOT.gInterpreter.Declare(WRITER)
    leaf_file = str(tmp_path / "leaf_types.root")
    ROOT.hepframe_write_leaf_types(leaf_file, 3000)
    reads, unplanned = compare_with_uproot(leaf_file)
    # numbers and counted leaf arrays here; fixed-size arrays, Float16_t/Double32_t and std::vector by uproot
    assert unplanned == {"f16", "d32", "arr", "vf", "vi", "vb", "vvf"}
    assert reads == 2 * 13
    tutorials = Path(os.path.dirname(ROOT.__file__)) / "tutorials"
    total, files = 0, sorted(tutorials.rglob("*.root"))
    for path in files:
        try:
            uproot.open(path).classnames()
        except Exception:  # noqa: BLE001 - files uproot cannot open at all (e.g. 'CS' compression) are not ours
            continue
        total += compare_with_uproot(str(path))[0]
    assert len(files) >= 15 and total >= 150, (len(files), total)


def test_corrupt_basket_is_an_error_naming_file_branch_and_basket(many_baskets: str, tmp_path) -> None:
    path = str(tmp_path / "corrupt.root")
    shutil.copy(many_baskets, path)
    plan = baskets.plan(uproot.open(path)["Events"]["Jet_eta"])
    assert plan is not None
    with open(path, "r+b") as f:  # garbage in the middle of basket 2's compressed bytes
        f.seek(int(plan.seeks[2] + plan.sizes[2] // 2))
        f.write(b"\xff" * 64)
    df = hepframe.RDataFrame("Events", path, cache=False)
    with pytest.raises(DataSourceError, match=r"corrupt\.root.*basket 2 of branch 'Jet_eta'"):
        df.Sum("Jet_eta").GetValue()
    # the other branches of the file still read, with the values of the intact file
    intact = hepframe.RDataFrame("Events", many_baskets, cache=False).Sum("Jet_phi").GetValue()
    assert hepframe.RDataFrame("Events", path, cache=False).Sum("Jet_phi").GetValue() == intact


def test_basket_beyond_the_end_of_the_file_is_an_error(many_baskets: str) -> None:
    file = uproot.open(many_baskets)
    plan = baskets.plan(file["Events"]["MET_pt"])
    assert plan is not None
    moved = dataclasses.replace(plan, seeks=plan.seeks + os.path.getsize(many_baskets) - plan.seeks.max() - 10)
    fd = os.open(many_baskets, os.O_RDONLY)
    try:
        with pytest.raises(baskets.BasketError, match=r"branch 'MET_pt'.*the file ends after 10 of its"):
            baskets.read(moved, fd, file.file.source, 2800, 3000)
    finally:
        os.close(fd)


@pytest.mark.root
def test_explain_names_the_reader_of_each_branch(ROOT, tmp_path) -> None:  # noqa: N803
    from tests.test_root_files import WRITER

    ROOT.gInterpreter.Declare(WRITER)
    path = str(tmp_path / "leaf_types.root")
    ROOT.hepframe_write_leaf_types(path, 100)
    plan = hepframe.RDataFrame("Events", path).Filter("nv > 1").Define("x", "Sum(var) + Sum(vf) + f16").explain()
    assert "reads with hepframe's basket reader (first file): nv, var\n" in plan
    assert "reads with uproot (first file): f16, vf\n" in plan
