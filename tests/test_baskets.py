"""hepframe's basket reader (connectors/baskets.py): the same arrays as uproot, on every file the tests read."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path

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
def test_batches_equal_uproots_across_basket_edges(many_baskets: str, entries) -> None:  # noqa: PT006
    def tables(reader: bool) -> pa.Table:
        source = RootSource.open("Events", many_baskets, 450, threads=2, cache=False, entries=entries)
        source.basket_reader = reader
        return pa.concat_tables(b.table for b in source.iter_batches(list(source.schema)))

    ours, theirs = tables(True), tables(False)
    assert ours.num_rows == (3000 if entries is None else entries[1] - entries[0])
    assert ours.schema == theirs.schema
    for name in ours.column_names:
        assert same(ours[name].combine_chunks(), theirs[name].combine_chunks()), name


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
    assert "read by hepframe basket reader: nv, var\n" in plan
    assert "read by uproot: f16, vf\n" in plan
