"""The on-disk column cache: hits skip decompression, changes invalidate, size is bounded, one switch."""

from __future__ import annotations

import os
import shutil

import numpy as np
from hepframe.connectors import RootSource
from hepframe.connectors.cache import ColumnCache

import hepframe


def _run(path: str, **kw) -> tuple[np.ndarray, ColumnCache | None]:
    df = hepframe.RDataFrame("Events", path, step_size=4000, **kw)
    values = df.Define("cj", "Jet_pt[abs(Jet_eta) < 1]").Histo1D(("cj", "", 50, 0, 200), "cj").GetValue()
    return values.view(flow=True)["value"].copy(), df._analysis.root.source.cache


def test_hits_skip_decompression_and_give_the_same_values(nanoaod_file: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    cold, cache = _run(nanoaod_file)
    assert cache is not None and cache.misses == 10 and cache.hits == 0  # 5 batches x 2 branches
    decompressions = []
    original = RootSource._read_file_cached

    def spy(self, tree, *args, **kwargs):
        real_arrays = tree.arrays
        tree.arrays = lambda *a, **k: decompressions.append(a) or real_arrays(*a, **k)
        try:
            yield from original(self, tree, *args, **kwargs)
        finally:
            tree.arrays = real_arrays

    monkeypatch.setattr(RootSource, "_read_file_cached", spy)
    warm, cache = _run(nanoaod_file)
    assert cache.hits == 10 and cache.misses == 0 and decompressions == []
    np.testing.assert_array_equal(warm, cold)
    uncached, none = _run(nanoaod_file, cache=False)
    assert none is None
    np.testing.assert_array_equal(uncached, cold)


def test_a_changed_file_is_not_served_from_the_cache(nanoaod_file: str, small_nanoaod_file: str, tmp_path,
                                                     monkeypatch) -> None:  # fmt: skip
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    path = str(tmp_path / "data.root")
    shutil.copy(nanoaod_file, path)
    first, _ = _run(path)
    shutil.copy(small_nanoaod_file, path)  # same path, different content, size and mtime
    os.utime(path, ns=(1, 1))
    second, cache = _run(path)
    assert cache.hits == 0
    expected, _ = _run(small_nanoaod_file, cache=False)
    np.testing.assert_array_equal(second, expected)
    assert not np.array_equal(first, second)


def test_size_limit_and_switch(nanoaod_file: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HEPFRAME_CACHE_SIZE", "200000")  # 200 kB: far less than the branches read
    _, cache = _run(nanoaod_file)
    assert 0 < cache.size() <= 200_000
    monkeypatch.setenv("HEPFRAME_CACHE", "0")
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "other"))
    _, cache = _run(nanoaod_file)
    assert cache is None and not (tmp_path / "other").exists()
