"""uproot TTree reader that streams Arrow record batches of only the requested branches.

Flat branches become Arrow primitives and jagged branches ``list<T>`` (64-bit offsets), with
the file's dtypes kept: float32 stays float32, ``UInt_t`` stays uint32, ``Bool_t`` is bool.
Memory is bounded by the step size, not by the file size.
"""

from __future__ import annotations

import glob
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import awkward as ak
import numpy as np
import pyarrow as pa

from hepframe.errors import DataSourceError, did_you_mean
from hepframe.expr.types import CType

DEFAULT_STEP_SIZE = 250_000  # entries per batch: ~10-50 MB for NanoAOD-like event sizes
#: With the default step, batches of few or small branches grow up to this many bytes of
#: uncompressed branch data plus the 8-byte entry numbers (each batch costs a fixed ~1 ms: one
#: MET_pt batch of 250k entries is only 1 MB).
DEFAULT_STEP_BYTES = 16 * 1024 * 1024

#: Open files of this process, reused by later sources on the same unchanged local file:
#: reading a TTree's metadata costs tens of ms, which dominates short queries and the many small
#: tasks of a Spark job (Python workers are reused across tasks). Keyed by file identity.
_OPEN_FILES: OrderedDict[tuple, Any] = OrderedDict()
_OPEN_FILES_MAX = 16


@dataclass(frozen=True)
class Partition:
    """A run of whole clusters of one file: global entries ``start`` to ``stop`` (for parallel engines)."""

    file: str
    start: int
    stop: int


@dataclass(frozen=True)
class Batch:
    """A chunk of consecutive entries: ``table`` holds entries ``entry_start`` onwards."""

    entry_start: int
    table: pa.Table
    file: str


def resolve_files(files: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """Expand a path, a glob or a list of them into existing file paths (globs sorted)."""
    items = [files] if isinstance(files, (str, os.PathLike)) else list(files)
    if not items:
        raise DataSourceError("no input files given")
    out: list[str] = []
    for item in items:
        path = os.fspath(item)
        if "://" in path:
            out.append(path)
        elif glob.has_magic(path):
            matches = sorted(glob.glob(path))
            if not matches:
                raise DataSourceError(f"no file matches the pattern {path!r}")
            out.extend(matches)
        elif not os.path.exists(path):
            raise DataSourceError(f"file not found: {path!r}")
        else:
            out.append(path)
    return out


def ctype_of_interpretation(interpretation) -> CType | None:
    """The C++ column type RDataFrame would give a branch, or None if hepframe cannot read it.

    Handles every numeric leaf (Bool_t to ULong64_t, Float16_t and Double32_t), C-style
    variable arrays ``x[n]``, fixed-size arrays ``x[3]``, ``std::vector<T>`` and
    ``std::vector<std::vector<T>>`` (the last as ``RVec<RVec<T>>``).
    """
    import uproot

    numerical = uproot.interpretation.numerical
    depth = 0
    if isinstance(interpretation, uproot.interpretation.jagged.AsJagged):
        depth = 1
        interpretation = interpretation.content
    elif isinstance(interpretation, uproot.interpretation.objects.AsObjects):
        model = interpretation.model
        while isinstance(model, uproot.containers.AsVector):
            depth += 1
            model = model.values
        if depth == 0 or not isinstance(model, np.dtype):
            return None
        try:
            return CType.from_dtype(model, depth)
        except TypeError:
            return None
    if isinstance(interpretation, (numerical.AsFloat16, numerical.AsDouble32)):
        return CType.from_dtype(interpretation.to_dtype, depth)
    if not isinstance(interpretation, numerical.AsDtype):
        return None
    dtype = interpretation.to_dtype
    if dtype.shape:  # fixed-size array, e.g. float x[3]: an RVec in RDataFrame
        if len(dtype.shape) != 1 or depth:
            return None
        dtype, depth = dtype.base, 1
    try:
        return CType.from_dtype(dtype, depth)
    except TypeError:
        return None


@dataclass
class RootSource:
    """A TTree over one or more files, read lazily.

    Parameters
    ----------
    tree
        Name of the TTree, e.g. ``"Events"``.
    files
        A path, a glob, or a list of them.
    step_size
        Entries per Arrow batch.
    step_bytes
        If set, a batch may hold more than ``step_size`` entries, up to this many uncompressed bytes
        of the branches read, while leaving at least one batch per reading thread.

    """

    tree: str
    files: list[str]
    step_size: int = DEFAULT_STEP_SIZE
    #: Threads that decompress baskets in parallel (zlib/LZ4/ZSTD release the GIL); None: all CPUs.
    threads: int | None = None
    #: The on-disk column cache (connectors/cache.py); None: off.
    cache: Any = None
    #: Only these global entries, [start, stop), are read (RDataFrame(..., entries=...)).
    entry_range: tuple[int, int] | None = None
    step_bytes: int | None = None
    _unsupported: dict[str, str] = field(default_factory=dict, repr=False)
    _trees: dict[str, object] = field(default_factory=dict, repr=False)
    #: Branches that may be missing in some files (DefaultValueFor, FilterAvailable, FilterMissing):
    #: where a file lacks one, its events get nulls instead of an error.
    optional: set[str] = field(default_factory=set, repr=False)

    def _read_file_cached(self, tree, path: str, columns: list[str], lo: int, hi: int, start_global: int):
        """Batches at fixed step boundaries, each branch from the cache or decompressed (then cached)."""
        cache = self.cache

        def read(start: int, stop: int) -> tuple[Batch, bool]:
            keys = {b: cache.key(tree, path, self.tree, b, start, stop) for b in columns} if cache else {}
            # Each entry is checked against what uproot gives: the branch's type and stop - start entries.
            arrays = {b: cache.get(keys[b], _arrow_type(self.schema[b]), stop - start,
                                   f"branch {b!r}, entries {start}-{stop} of {path!r}") if cache else None
                      for b in columns}  # fmt: skip
            missing = [b for b, a in arrays.items() if a is None]
            if missing:
                try:
                    chunk = tree.arrays(missing, entry_start=start, entry_stop=stop, library="ak", how=dict)
                except Exception as exc:  # corrupt or truncated input
                    raise _read_error(self.tree, path, missing, start, stop, exc) from None
                for b in missing:
                    arrays[b] = _to_arrow(chunk[b])
                    if cache:
                        cache.put(keys[b], arrays[b])
            return Batch(start_global + start, pa.table({b: arrays[b] for b in columns}), path), bool(missing)

        steps = [(start, min(start + self.step_size, hi)) for start in range(lo, hi, self.step_size)]
        for batch, wrote in _in_order(self._executor(), read, steps):
            if wrote and cache:
                cache.evict()  # in this thread only: eviction scans and deletes files
            yield batch

    def _check_types(self, tree, path: str, columns: list[str]) -> None:
        """Files of one dataset must agree on branch types (RDataFrame takes them from the first file)."""
        if path == self.files[0]:
            return
        for name in columns:
            if _is_rntuple(tree):
                ctype = ctype_of_awkward_type(ak.type(tree.arrays([name], entry_stop=0)[name]).content)
            else:
                ctype = ctype_of_interpretation(tree[name].interpretation)
            if ctype != self.schema[name]:
                found = ctype.short if ctype is not None else "an unsupported type"
                raise DataSourceError(
                    f"branch {name!r} of tree {self.tree!r} is {found} in {path!r} but {self.schema[name].short} "
                    f"in {self.files[0]!r}: files of one dataset must have the same schema"
                )

    def __getstate__(self) -> dict:
        # Open files and thread pools stay in their process; a copy (e.g. in a Spark task) reopens.
        return {k: v for k, v in self.__dict__.items() if k != "_trees"} | {"_trees": {}}

    def _executor(self):
        n = self.threads if self.threads is not None else (os.cpu_count() or 1)
        if n <= 1:
            return None  # uproot decompresses serially
        return _reader_pool(n)

    def find_column(self, name: str) -> CType | None:
        """The type of ``name`` in the first file that has it (for branches missing in some files)."""
        if name in self.schema:
            return self.schema[name]
        for path in self.files[1:]:
            branch = self._open_tree(path).get(name) if name in self._open_tree(path).keys() else None
            if branch is not None:
                ctype = ctype_of_interpretation(branch.interpretation)
                if ctype is not None:
                    self.schema[name] = ctype
                    return ctype
        return None

    @classmethod
    def open(cls, tree: str, files, step_size: int = DEFAULT_STEP_SIZE, threads: int | None = None,
             cache: bool | None = None, entries: tuple[int, int] | None = None,
             step_bytes: int | None = None) -> RootSource:  # fmt: skip
        from hepframe.connectors.cache import ColumnCache, cache_enabled

        files = resolve_files(files)
        use_cache = cache_enabled(cache) and all("://" not in f for f in files)
        if entries is not None and (len(entries) != 2 or not 0 <= entries[0] <= entries[1]):
            raise DataSourceError(f"entries must be (start, stop) with 0 <= start <= stop, got {entries!r}")
        column_cache = ColumnCache() if use_cache else None  # a broken cache directory warns and is off
        source = cls(tree, files, step_size, threads, column_cache if column_cache and column_cache.enabled else None,
                     None if entries is None else (int(entries[0]), int(entries[1])), step_bytes)  # fmt: skip
        source.schema  # noqa: B018 - validate the first file eagerly: errors at construction
        return source

    def _open_tree(self, path: str):
        # One open file per path for the source's lifetime: schema, sizes and reads share it.
        if path not in self._trees:
            self._trees[path] = self._open_tree_uncached(path)
        return self._trees[path]

    def _open_tree_uncached(self, path: str):
        key = None
        if "://" not in path:
            try:
                st = os.stat(path)
                # ctime too: utime cannot restore it, so a copy in place with the old mtime (cp -p) is new
                key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, self.tree)
            except OSError:
                key = None
        if key is not None and key in _OPEN_FILES:
            _OPEN_FILES.move_to_end(key)
            return _OPEN_FILES[key]
        tree = self._open_tree_from_disk(path)
        if key is not None:
            _OPEN_FILES[key] = tree
            while len(_OPEN_FILES) > _OPEN_FILES_MAX:
                _OPEN_FILES.popitem(last=False)
        return tree

    def _open_tree_from_disk(self, path: str):
        import uproot

        try:
            options: dict[str, Any] = {"array_cache": None}  # memory bounded by the step size, not the file
            if path.startswith(("http://", "https://")):
                # uproot's own HTTP client (standard library): no aiohttp needed; uses Range requests.
                options["handler"] = uproot.source.http.HTTPSource
            handle = uproot.open(path, **options)
        except FileNotFoundError:
            raise DataSourceError(f"file not found: {path!r}") from None
        except Exception as exc:  # uproot raises many types for corrupt input
            raise DataSourceError(f"cannot open {path!r} as a ROOT file: {exc}") from None
        try:
            obj = handle[self.tree]
        except Exception as exc:
            trees = [k.split(";")[0] for k, c in handle.classnames().items()
                     if c in ("TTree", "TNtuple", "TNtupleD", "ROOT::RNTuple")]  # fmt: skip
            if self.tree in trees:  # there, but unreadable: not a "not found"
                raise _unreadable(path, f"tree {self.tree!r}", exc) from None
            raise DataSourceError(
                f"tree {self.tree!r} not found in {path!r}{did_you_mean(self.tree, trees)}"
                + (f" (trees in the file: {', '.join(sorted(set(trees)))})" if trees else " (the file has no TTree)")
            ) from None
        if not hasattr(obj, "arrays") or not hasattr(obj, "num_entries"):
            raise DataSourceError(f"{self.tree!r} in {path!r} is a {type(obj).__name__}, not a TTree or an RNTuple")
        return obj

    @cached_property
    def schema(self) -> dict[str, CType]:
        """Column name to C++ type, from the first file (as RDataFrame does)."""
        tree = self._open_tree(self.files[0])
        if _is_rntuple(tree):
            return self._rntuple_schema(tree)
        out: dict[str, CType] = {}
        for name, branch in tree.iteritems(recursive=True, filter_typename=None):
            if "." in name or "/" in name or name.startswith("__rdf_sizeof_"):  # RDataFrame's size branches
                continue
            try:
                ctype = ctype_of_interpretation(branch.interpretation)
            except Exception:  # noqa: BLE001 - uproot raises for branches it cannot interpret
                ctype = None
            if ctype is None:
                self._unsupported[name] = str(getattr(branch, "typename", "unknown"))
            else:
                out[name] = ctype
        return out

    def _rntuple_schema(self, ntuple) -> dict[str, CType]:
        empty = ntuple.arrays(entry_stop=0, library="ak")
        out: dict[str, CType] = {}
        for name in empty.fields:
            ctype = ctype_of_awkward_type(ak.type(empty[name]).content)
            if ctype is None:
                self._unsupported[name] = str(ak.type(empty[name]).content)
            else:
                out[name] = ctype
        return out

    @cached_property
    def num_entries(self) -> int:
        return sum(self._open_tree(path).num_entries for path in self.files)

    def check_columns(self, columns: Iterable[str]) -> None:
        for name in columns:
            if name in self.schema:
                continue
            if name in self._unsupported:
                raise DataSourceError(
                    f"branch {name!r} of tree {self.tree!r} has type {self._unsupported[name]}, "
                    f"which hepframe cannot read yet"
                )
            raise DataSourceError(f"no branch {name!r} in tree {self.tree!r}{did_you_mean(name, self.schema)}")

    def clusters(self, path: str) -> list[int]:
        """Cluster boundaries (local entry numbers) of one file, from 0 to its number of entries."""
        tree = self._open_tree(path)
        if _is_rntuple(tree):
            edges = [c.num_first_entry for c in tree.cluster_summaries] + [tree.num_entries]
        else:
            edges = [int(e) for e in tree.common_entry_offsets()]
        return sorted(set([0, *edges, tree.num_entries]))

    def partitions(self, target_entries: int | None = None) -> list[Partition]:
        """Split the dataset into runs of whole clusters of about ``target_entries`` entries each."""
        target = target_entries or self.step_size
        out: list[Partition] = []
        offset = 0
        for path in self.files:
            edges = self.clusters(path)
            start = edges[0]
            for hi in edges[1:]:
                if hi - start >= target or hi == edges[-1]:
                    out.append(Partition(path, offset + start, offset + hi))
                    start = hi
            offset += edges[-1]
        if self.entry_range is not None:
            lo, hi = self.entry_range
            out = [Partition(p.file, max(p.start, lo), min(p.stop, hi)) for p in out if p.stop > lo and p.start < hi]
        return out

    def iter_batches(self, columns: Sequence[str], entry_range: tuple[int, int] | None = None) -> Iterator[Batch]:
        """Yield Arrow batches holding only ``columns``, file after file, in entry order."""
        columns = sorted(set(columns))
        if entry_range is None:
            entry_range = self.entry_range
        self.check_columns(columns)
        start_global = 0
        for path in self.files:
            tree = self._open_tree(path)
            n = tree.num_entries
            lo, hi = 0, n
            if entry_range is not None:
                lo = min(max(entry_range[0] - start_global, 0), n)
                hi = min(max(entry_range[1] - start_global, 0), n)
            present = set(tree.keys())
            self._check_types(tree, path, [c for c in columns if c in present])
            missing = [c for c in columns if c not in present]
            required = [c for c in missing if c not in self.optional]
            if required:
                raise DataSourceError(f"branch {required[0]!r} missing from tree {self.tree!r} in {path!r}")
            if hi > lo:
                read = [c for c in columns if c in present]
                for batch in self._read_file(tree, path, read, lo, hi, start_global):
                    table = batch.table
                    for name in missing:  # optional branch absent from this file: null values
                        table = table.append_column(name, pa.nulls(table.num_rows, type=_arrow_type(self.schema[name])))
                    if missing and not read:
                        table = table.drop_columns(["__entry_only__"])
                    yield Batch(batch.entry_start, table.select(columns), batch.file)
            start_global += n

    def _read_file(self, tree, path: str, columns: list[str], lo: int, hi: int, start_global: int) -> Iterator[Batch]:
        if not columns:  # e.g. only Count(): no branch needs reading
            for start in range(lo, hi, self.step_size):
                length = min(self.step_size, hi - start)
                yield Batch(start_global + start, pa.table({"__entry_only__": np.zeros(length, np.int8)}), path)
            return
        if self.cache is not None or _is_rntuple(tree):
            yield from self._read_file_cached(tree, path, columns, lo, hi, start_global)
            return
        steps = self._steps(tree, columns, lo, hi)

        def read(start: int, stop: int) -> Batch:
            try:
                chunk = tree.arrays(columns, entry_start=start, entry_stop=stop, library="ak", how=dict)
            except Exception as exc:  # decompression/deserialization failures on corrupt files
                raise _read_error(self.tree, path, columns, start, stop, exc) from None
            return Batch(start_global + start, pa.table({name: _to_arrow(chunk[name]) for name in columns}), path)

        yield from _in_order(self._executor(), read, steps)

    def _steps(self, tree, columns: list[str], lo: int, hi: int) -> list[tuple[int, int]]:
        """Batch boundaries in [lo, hi): about ``step_size`` entries, cut at cluster edges where possible."""
        step = self.step_size
        if self.step_bytes:  # few or small branches: fewer, larger batches, one per thread at least
            threads = self.threads if self.threads is not None else (os.cpu_count() or 1)
            try:
                fit = int(tree.num_entries_for(self.step_bytes, filter_name=columns, entry_start=lo, entry_stop=hi))
                fit = int(self.step_bytes / (self.step_bytes / max(fit, 1) + 8))  # + rdfentry_, 8 bytes each
            except Exception:  # noqa: BLE001 - no size information: the entry step
                fit = step
            step = max(step, min(fit, -(-(hi - lo) // max(threads, 1)), 4 * step))  # at most 4 steps
        try:
            edges = sorted({int(e) for e in tree.common_entry_offsets(filter_name=columns) if lo < e < hi})
        except Exception:  # noqa: BLE001 - no cluster information: fixed steps
            edges = []
        bounds, prev = [lo], lo
        for e in [*edges, hi]:
            if e - bounds[-1] > step and prev > bounds[-1]:
                bounds.append(prev)  # cut at the last cluster edge that fits in a step
            while e - bounds[-1] > step:
                bounds.append(bounds[-1] + step)  # a cluster larger than a step: split it
            prev = e
        if bounds[-1] != hi:
            bounds.append(hi)
        return list(zip(bounds[:-1], bounds[1:], strict=True))


_READER_POOLS: dict[int, Any] = {}  # by thread count, kept for the process: threads start once
_READER_POOLS_LOCK = threading.Lock()


def _reader_pool(n: int):
    from concurrent.futures import ThreadPoolExecutor

    with _READER_POOLS_LOCK:
        if n not in _READER_POOLS:
            _READER_POOLS[n] = ThreadPoolExecutor(n, thread_name_prefix=f"hepframe-read{n}")
        return _READER_POOLS[n]


def _in_order(executor, fn, steps: list[tuple[int, int]]) -> Iterator:
    """``fn(start, stop)`` for each step, in order, in parallel when there is an executor.

    As many steps run at once as the executor has threads (one thread per batch, at most one batch
    per thread ahead of the consumer: bounded memory). Basket-level parallelism inside a batch is
    not enough: a batch often holds a single basket per branch.
    """
    if executor is None:
        for start, stop in steps:
            yield fn(start, stop)
        return
    from collections import deque

    window: deque = deque()
    todo = iter(steps)
    for start, stop in todo:
        window.append(executor.submit(fn, start, stop))
        if len(window) >= executor._max_workers:
            break
    try:
        while window:
            result = window.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                window.append(executor.submit(fn, *nxt))
            yield result
    finally:
        for future in window:  # the consumer stopped early (an error downstream): drop the rest
            future.cancel()


def _is_rntuple(obj) -> bool:
    return "RNTuple" in type(obj).__name__


def ctype_of_awkward_type(t) -> CType | None:
    """C++ type of an awkward type: numbers, and (nested) lists of numbers as RVecs."""
    depth = 0
    while isinstance(t, (ak.types.ListType, ak.types.RegularType)):
        depth, t = depth + 1, t.content
    if not isinstance(t, ak.types.NumpyType):
        return None
    try:
        return CType.from_dtype(np.dtype(t.primitive), depth)
    except TypeError:
        return None


def _unreadable(path: str, what: str, exc: Exception) -> DataSourceError:
    """The error for ``what`` (a tree, branches) that ``path`` holds but uproot cannot read."""
    if "compression algorithm: b'CS'" in str(exc):  # uproot's ValueError for ROOT's pre-2000 codec
        return DataSourceError(
            f"file {path!r}: {what} uses the obsolete ROOT 'CS' compression, which uproot cannot read "
            f"(rewrite the file with a recent ROOT, e.g. hadd -f new.root {os.path.basename(path)})"
        )
    return DataSourceError(f"cannot read {what} in {path!r}: {type(exc).__name__}: {exc}")


def _read_error(tree_name: str, path: str, columns: list[str], entry: int, hi: int, exc: Exception) -> DataSourceError:
    if "compression algorithm: b'CS'" in str(exc):
        return _unreadable(path, f"tree {tree_name!r} (branches {', '.join(columns)})", exc)
    return DataSourceError(
        f"cannot read entries {entry}-{hi} of tree {tree_name!r} in {path!r} "
        f"(branches {', '.join(columns)}): {type(exc).__name__}: {exc}"
    )


def _arrow_type(ctype: CType) -> pa.DataType:
    out = pa.from_numpy_dtype(ctype.scalar.dtype)
    for _ in range(ctype.depth):
        out = pa.large_list(out)
    return out


def _to_arrow(array: ak.Array) -> pa.Array:
    if array.ndim > 1 and array.layout.purelist_isregular:  # fixed-size arrays become lists
        array = ak.from_regular(array, axis=1)
    return ak.to_arrow(array, extensionarray=False, list_to32=False)
