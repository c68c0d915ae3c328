"""The on-disk column cache: hits skip decompression, changes invalidate, size is bounded, one switch; a bad entry
or a cache I/O problem never changes or stops a result."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

import awkward as ak
import numpy as np
import pyarrow as pa
import pytest
import uproot
import xxhash
from hepframe.connectors import RootSource
from hepframe.connectors import cache as cache_module
from hepframe.connectors.cache import CacheWarning, ColumnCache

import hepframe
from hepframe.datasets import generate_nanoaod


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


# --- Robustness: a bad entry is never used, a cache I/O problem never fails the analysis ----------------------------


@pytest.fixture(scope="module")
def file_2k(tmp_path_factory) -> str:
    return generate_nanoaod(tmp_path_factory.mktemp("data") / "n2k.root", n_events=2000, seed=1)


def _results(path, **kw) -> tuple:
    """Sum(MET_pt), the sum of the per-event Sum(Muon_pt) (a jagged kernel) and a Muon_pt histogram, in one loop."""
    df = hepframe.RDataFrame("Events", str(path), step_size=500, **kw)
    met = df.Sum("MET_pt")
    muons = df.Define("s", "Sum(Muon_pt)").Sum("s")
    hist = df.Histo1D(("h", "", 40, 0, 200), "Muon_pt")
    return met.GetValue(), muons.GetValue(), tuple(hist.GetValue().view(flow=True)["value"])


def _run_warned(path, **kw) -> tuple[tuple, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = _results(path, **kw)
    return out, [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]


def test_flipped_bytes_are_detected_and_recomputed(file_2k: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    expected = _results(file_2k, cache=False)
    assert _run_warned(file_2k) == (expected, [])  # fills the cache
    entries = sorted((tmp_path / "cache").glob("*/*.arrow"))
    assert len(entries) == 8  # 4 batches x 2 branches
    rng = np.random.default_rng(2024)
    for trial in range(400):
        entry = entries[trial % len(entries)]
        data = bytearray(entry.read_bytes())
        # Anywhere, or in the last 400 bytes: Arrow's footer and schema (metadata), and the trailer.
        lo = 0 if trial % 3 else max(0, len(data) - 400)
        for pos in rng.choice(np.arange(lo, len(data)), size=int(rng.integers(1, 17)), replace=False):
            data[pos] ^= int(rng.integers(1, 256))
        entry.write_bytes(bytes(data))
        got, warned = _run_warned(file_2k)
        assert got == expected, f"trial {trial}: a wrong result from a corrupt {entry}"
        assert len(warned) == 1 and str(entry) in warned[0] and "re-read from the file" in warned[0], warned
        assert entry.exists()  # recomputed and written again
    assert _run_warned(file_2k) == (expected, [])


def _reseal(path: Path, mutate) -> None:
    """Change an entry's Arrow bytes and write a matching checksum: only the structural checks can catch it."""
    body = bytearray(path.read_bytes()[: -cache_module._TRAILER.size])
    mutate(body)
    path.write_bytes(bytes(body) + cache_module._TRAILER.pack(xxhash.xxh3_64_intdigest(bytes(body)),
                                                               cache_module._MAGIC))  # fmt: skip


def test_well_sealed_entries_with_bad_contents_are_recomputed(file_2k: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    expected = _results(file_2k, cache=False)
    _results(file_2k)
    source = RootSource.open("Events", file_2k, step_size=500)
    cache, tree = source.cache, source._open_tree(file_2k)
    key = cache.key(tree, file_2k, "Events", "Muon_pt", 0, 500)
    entry = cache._file(key)
    good = cache.get(key, pa.large_list(pa.float32()), 500)
    offsets = np.frombuffer(good.buffers()[1], np.int64)[:501].copy()
    n_values = int(offsets[-1])

    def with_offsets(change):
        def mutate(body: bytearray) -> None:
            at = bytes(body).find(offsets.tobytes())
            assert at > 0
            bad = offsets.copy()
            change(bad)
            body[at : at + bad.nbytes] = bad.tobytes()

        return lambda: _reseal(entry, mutate)

    def swap(o):
        o[100], o[300] = o[300], o[100]

    def put(array):
        return lambda: cache.put(key, array)

    other = cache._file(cache.key(tree, file_2k, "Events", "Muon_pt", 500, 1000))
    met = cache._file(cache.key(tree, file_2k, "Events", "MET_pt", 0, 500))
    cases = {
        "non-monotonic offsets": with_offsets(swap),
        "offsets past the values": with_offsets(lambda o: o.__setitem__(-1, n_values + 10_000)),
        "huge offsets": with_offsets(lambda o: o.__setitem__(slice(250, None), 2**62)),
        "offsets not from 0": with_offsets(lambda o: o.__setitem__(0, 1)),
        "offsets short of the values": with_offsets(lambda o: o.__setitem__(-1, n_values - 1)),
        "too few entries": put(good.slice(0, 499)),
        "another dtype": put(good.cast(pa.large_list(pa.float64()))),
        "nulls": put(pa.concat_arrays([good.slice(0, 499), pa.nulls(1, good.type)])),
        "another branch's entry": lambda: shutil.copyfile(met, entry),
        "another range's entry": lambda: shutil.copyfile(other, entry),
    }
    for case, corrupt in cases.items():
        corrupt()
        got, warned = _run_warned(file_2k)
        assert got == expected, case
        assert len(warned) == 1 and str(entry) in warned[0] and "'Muon_pt', entries 0-500" in warned[0], (case, warned)
    assert _run_warned(file_2k) == (expected, [])


def test_a_same_size_file_with_the_old_mtime_is_not_served_from_the_cache(tmp_path, monkeypatch) -> None:
    """``cp -p`` / ``rsync -t`` of another file of the same size: the key names the content (ROOT's file UUID)."""
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))

    def write(path: Path, seed: int) -> None:  # uncompressed, same layout: the same size whatever the values
        rng = np.random.default_rng(seed)
        counts = np.tile([0, 1, 2, 3], 500)
        with uproot.recreate(path, compression=None) as f:
            f["Events"] = {"MET_pt": rng.random(2000, dtype=np.float32) * 100,
                           "Muon_pt": ak.unflatten(rng.random(int(counts.sum()), dtype=np.float32) * 100, counts)}  # fmt: skip

    path, other = tmp_path / "data.root", tmp_path / "next.root"  # names of one length: files of one size
    write(path, 1)
    write(other, 2)
    st = os.stat(path)
    assert os.path.getsize(other) == st.st_size
    first, warned = _run_warned(path)
    shutil.copyfile(other, path)  # in place, as cp -p does
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(path).st_size, os.stat(path).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    second, warned = _run_warned(path)
    assert second == _results(other, cache=False) and second != first and warned == []


def test_the_key_names_the_baskets(tmp_path) -> None:
    """Same file UUID (a file updated in place keeps it), other baskets: another identity."""
    fixed = uuid.uuid4()
    for name, parts in [("a.root", 1), ("b.root", 2)]:
        with uproot.recreate(tmp_path / name, uuid_function=lambda: fixed) as f:
            f.mktree("Events", {"x": np.float32})
            for x in np.array_split(np.arange(1000, dtype=np.float32), parts):
                f["Events"].extend({"x": x})  # a basket each
    a, b = (uproot.open(tmp_path / n)["Events"] for n in ("a.root", "b.root"))
    assert a.file.uuid == b.file.uuid == fixed
    assert cache_module.source_identity(a, "x") != cache_module.source_identity(b, "x")


class _Failing:
    """``os`` for the cache module, with one function raising ``OSError(err)`` (where ``when`` says)."""

    def __init__(self, name: str, err: int, when=lambda *a, **k: True):
        def failing(*args, **kwargs):
            if when(*args, **kwargs):
                raise OSError(err, os.strerror(err), str(args[0]) if args else None)
            return getattr(os, name)(*args, **kwargs)

        self._name, self._failing = name, failing

    def __getattr__(self, attr: str):
        return self._failing if attr == self._name else getattr(os, attr)


def _creating(path, flags, *rest) -> bool:
    return bool(flags & os.O_CREAT)


IO_FAILURES = {
    # name: (setup(tmp_path, monkeypatch) -> cache directory, fill the cache first)
    "directory is a file": (lambda t, m: _use(m, _touch(t / "file")), False),
    "directory under a file": (lambda t, m: _use(m, _touch(t / "file") / "cache"), False),
    "HOME unwritable": (lambda t, m: _home(t, m), False),
    "disk full": (lambda t, m: _fail(t, m, _Failing("write", errno.ENOSPC)), False),
    "cannot create entries": (lambda t, m: _fail(t, m, _Failing("open", errno.EACCES, _creating)), False),
    "cannot create a subdirectory": (lambda t, m: _fail(t, m, _Failing("makedirs", errno.EACCES)), False),
    "cannot rename": (lambda t, m: _fail(t, m, _Failing("replace", errno.EXDEV)), False),
    "cannot read entries": (lambda t, m: _fail(t, m, _Failing("open", errno.EACCES)), True),
    "cannot list for eviction": (lambda t, m: _fail(t, m, _Failing("scandir", errno.EACCES), limit=1), False),
    "cannot evict": (lambda t, m: _fail(t, m, _Failing("unlink", errno.EROFS), limit=1), False),
}


def _touch(path: Path) -> Path:
    path.write_text("not a directory")
    return path


def _use(monkeypatch, directory: Path) -> Path:
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(directory))
    return directory


def _home(tmp_path: Path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    _touch(home / ".cache")  # ~/.cache/hepframe cannot be created, also by root
    home.chmod(0o555)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("HEPFRAME_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return home / ".cache" / "hepframe"


def _fail(tmp_path: Path, monkeypatch, failing: _Failing, limit: int | None = None) -> Path:
    # Applied after the cache is filled (where the case needs one), by the test.
    monkeypatch.setattr(_fail, "pending", failing, raising=False)
    if limit is not None:
        monkeypatch.setenv("HEPFRAME_CACHE_SIZE", str(limit))
    return tmp_path / "cache"


def test_hits_on_another_users_entries_keep_the_cache_on(file_2k: str, tmp_path, monkeypatch) -> None:
    """A shared cache: updating another user's entry time fails (EPERM); hits still count, no warning."""
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    expected = _results(file_2k, cache=False)
    assert _run_warned(file_2k) == (expected, [])
    monkeypatch.setattr(cache_module, "os", _Failing("utime", errno.EPERM))
    for _ in range(2):
        assert _run_warned(file_2k) == (expected, [])


@pytest.mark.parametrize("case", list(IO_FAILURES))
def test_cache_io_problems_turn_the_cache_off_with_one_warning(case: str, file_2k: str, tmp_path,
                                                               monkeypatch) -> None:  # fmt: skip
    expected = _results(file_2k, cache=False)
    setup, fill_first = IO_FAILURES[case]
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_fail, "pending", None, raising=False)
    directory = setup(tmp_path, monkeypatch)
    if fill_first:
        assert _run_warned(file_2k) == (expected, [])
    if _fail.pending is not None:
        monkeypatch.setattr(cache_module, "os", _fail.pending)
    got, warned = _run_warned(file_2k)
    assert got == expected
    assert len(warned) == 1, warned
    assert str(directory) in warned[0] and "HEPFRAME_CACHE=0" in warned[0] and "HEPFRAME_CACHE_DIR" in warned[0]
    assert _run_warned(file_2k) == (expected, [])  # off for the rest of the process: no second warning
    assert not list(tmp_path.glob("**/.*.tmp"))  # no half-written entry left behind


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories: see the injected EACCES cases")
def test_a_read_only_shared_cache(file_2k: str, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HEPFRAME_CACHE_DIR", str(tmp_path / "cache"))
    expected = _results(file_2k, cache=False)
    (tmp_path / "cache").mkdir(mode=0o555)  # as another user's cache is to us
    got, warned = _run_warned(file_2k)
    assert got == expected and len(warned) == 1 and "HEPFRAME_CACHE=0" in warned[0]


CONCURRENT_CHILD = """
import json, os, sys, time
import hepframe
path, me, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
open(os.path.join(os.environ["HEPFRAME_CACHE_DIR"], f"ready-{me}"), "w").close()
while len([f for f in os.listdir(os.environ["HEPFRAME_CACHE_DIR"]) if f.startswith("ready-")]) < n:
    time.sleep(0.01)  # all processes read and evict at the same time
out, misses = [], 0
for _ in range(10):
    df = hepframe.RDataFrame("Events", path, step_size=250)
    met, hist = df.Sum("MET_pt"), df.Histo1D(("h", "", 40, 0, 200), "Muon_pt")
    mu = df.Define("s", "Sum(Muon_pt)").Sum("s")
    out.append([met.GetValue(), mu.GetValue(), list(hist.GetValue().view(flow=True)["value"])])
    misses += df._analysis.root.source.cache.misses
print(json.dumps({"results": out, "misses": misses}))
"""


@pytest.mark.slow
def test_processes_share_a_small_cache(file_2k: str, tmp_path) -> None:
    """Three processes read and evict (far more entries than fit) together: all succeed, with the same results."""
    df = hepframe.RDataFrame("Events", file_2k, cache=False)
    met, hist = df.Sum("MET_pt"), df.Histo1D(("h", "", 40, 0, 200), "Muon_pt")
    mu = df.Define("s", "Sum(Muon_pt)").Sum("s")
    expected = [met.GetValue(), mu.GetValue(), list(hist.GetValue().view(flow=True)["value"])]
    directory = tmp_path / "cache"
    directory.mkdir()
    env = {**os.environ, "HEPFRAME_CACHE_DIR": str(directory), "HEPFRAME_CACHE_SIZE": "20000"}  # ~1/4 of the entries
    n = 3
    procs = [subprocess.Popen([sys.executable, "-c", CONCURRENT_CHILD, file_2k, str(i), str(n)], env=env,
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(n)]  # fmt: skip
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "CacheWarning" not in err and "Traceback" not in err, err
        got = json.loads(out)
        assert got["results"] == [expected] * 10
        assert got["misses"] > 16  # entries evicted (by any of the processes) were read again
    assert 0 < sum(f.stat().st_size for f in directory.glob("*/*.arrow")) <= 20000 + 16_000


READ_ONLY_CHILD = """
import json, sys, warnings
import hepframe
df = hepframe.RDataFrame("Events", sys.argv[1], step_size=500)
met, mu = df.Sum("MET_pt"), df.Define("s", "Sum(Muon_pt)").Sum("s")
hist = df.Histo1D(("h", "", 40, 0, 200), "Muon_pt")
print(json.dumps([hepframe.__file__, met.GetValue(), mu.GetValue(), list(hist.GetValue().view(flow=True)["value"])]))
"""


@pytest.mark.slow
def test_import_with_read_only_home_and_install(file_2k: str, tmp_path) -> None:
    """numba's cache=True needs a writable directory: none in the package, none under HOME, also for root."""
    import hepframe.connectors
    import hepframe.udfs

    site = tmp_path / "site"
    skip = shutil.ignore_patterns("__pycache__", "connectors", "udfs")
    shutil.copytree(Path(hepframe.__file__).parent, site / "hepframe", ignore=skip)
    for sub in (hepframe.connectors, hepframe.udfs):
        shutil.copytree(Path(sub.__file__).parent, site / "hepframe" / sub.__name__.split(".")[-1], ignore=skip)
    _touch(site / "hepframe" / "udfs" / "__pycache__")  # numba's in-tree cache cannot be created
    home = tmp_path / "home"
    home.mkdir()
    _touch(home / ".cache")  # nor ~/.cache/numba, nor ~/.cache/hepframe
    (tmp_path / "tmp").mkdir()
    for p in [home, *site.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "HEPFRAME_CACHE_DIR", "PYTHONPATH")}  # fmt: skip
    env |= {"HOME": str(home), "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(tmp_path / "tmp")}
    try:
        proc = subprocess.run([sys.executable, "-c", READ_ONLY_CHILD, file_2k], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    finally:
        for p in [home, *site.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert proc.returncode == 0, proc.stderr
    where, *got = json.loads(proc.stdout)
    assert where.startswith(str(site))
    met, mu, hist = _results(file_2k, cache=False)
    assert got == [met, mu, list(hist)]
    assert proc.stderr.count("CacheWarning") == 1 and str(home / ".cache" / "hepframe") in proc.stderr
    assert not list((tmp_path / "tmp").glob("hepframe-numba-*"))  # numba's private directory is removed at exit


@pytest.mark.parametrize(("text", "size"), [("123", 123), ("500M", 500 * 1024**2), ("1.5GB", int(1.5 * 1024**3)),
                                            ("2k", 2048), ("", 5 * 1024**3)])  # fmt: skip
def test_cache_size_from_the_environment(monkeypatch, tmp_path, text: str, size: int) -> None:
    from hepframe.connectors.cache import ColumnCache

    monkeypatch.setenv("HEPFRAME_CACHE_SIZE", text)
    assert ColumnCache(tmp_path).limit == size


@pytest.mark.parametrize("text", ["five", "-1", "nan", "5X"])
def test_a_bad_cache_size_names_the_variable(monkeypatch, tmp_path, text: str) -> None:
    from hepframe.connectors.cache import ColumnCache

    from hepframe.errors import DataSourceError

    monkeypatch.setenv("HEPFRAME_CACHE_SIZE", text)
    with pytest.raises(DataSourceError, match="HEPFRAME_CACHE_SIZE=.*is not a size"):
        ColumnCache(tmp_path)
