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
from hepframe.connectors import baskets
from hepframe.connectors.base import DataSource

from hepframe.errors import DataSourceError, did_you_mean
from hepframe.expr.types import CType, root_type_name

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


@dataclass(frozen=True, eq=False)  # compared and hashed by identity
class Friend:
    """A friend tree (``TTree::AddFriend``): its branches are the main tree's columns ``alias.branch``.

    Without an index, entry ``i`` of the main tree reads entry ``i`` of the friend (which must have
    as many entries). With ``index`` (``TTree::BuildIndex(index)``), it reads the friend entry whose
    ``index`` equals the main tree's ``index``, and the friend's columns are missing where none
    does, as in ROOT (``DefaultValueFor``/``FilterAvailable``/``FilterMissing`` act on them).
    """

    alias: str
    source: RootSource
    index: str | None = None
    #: The sorted index and the branches read, by set of branch names (filled on first use).
    matched: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray, pa.Table]] = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "matched": {}}  # a copy (e.g. in a Spark task) reads its own


@dataclass
class RootSource(DataSource):
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
    #: The tree name of each file whose tree is not ``tree`` (``TChain.Add("f.root?#name")``).
    file_trees: dict[str, str] = field(default_factory=dict)
    friends: list[Friend] = field(default_factory=list)
    #: Each branch's type as ROOT names it (``Float16_t``, ``RVec<Float_t>`` for leaf arrays, ``RVec<float>``
    #: for ``std::vector<float>``), for GetColumnType and Describe.
    root_types: dict[str, str] = field(default_factory=dict, repr=False)
    #: Read the numeric branches of local files with hepframe's basket reader (connectors/baskets.py);
    #: False: every branch through uproot.
    basket_reader: bool = True
    _plans: dict[str, dict[str, baskets.BranchPlan | None]] = field(default_factory=dict, repr=False)

    def tree_in(self, path: str) -> str:
        """The name of the tree read from ``path``."""
        return self.file_trees.get(path, self.tree)

    @property
    def single_tree(self) -> bool:
        """One tree name in every file and no friends: what Spark's ``format("root")`` reads natively."""
        return not self.file_trees and not self.friends

    def add_friend(self, friend: Friend) -> None:
        """Join a friend tree's branches as columns ``alias.branch`` (before the schema is first used)."""
        if friend.alias in {f.alias for f in self.friends}:
            raise DataSourceError(f"a friend tree named {friend.alias!r} is already attached to tree {self.tree!r}")
        if friend.index is not None:
            if friend.index not in friend.source.schema:
                raise DataSourceError(f"BuildIndex({friend.index!r}): no branch {friend.index!r} in friend tree "
                                      f"{friend.source.tree!r}{did_you_mean(friend.index, friend.source.schema)}")  # fmt: skip
            if friend.index not in self.own_schema:
                raise DataSourceError(f"friend tree {friend.alias!r} is matched by {friend.index!r}, which tree "
                                      f"{self.tree!r} lacks: the main tree needs the index branch too")  # fmt: skip
            for name in (friend.index,):
                for ctype in (friend.source.schema[name], self.own_schema[name]):
                    if ctype.is_rvec or ctype.scalar.is_float:
                        raise DataSourceError(f"BuildIndex({name!r}): the index must be an integer branch, "
                                              f"not {ctype.short}")  # fmt: skip
        self.friends.append(friend)
        self.root_types.update({f"{friend.alias}.{n}": t for n, t in friend.source.root_types.items()})
        self.__dict__.pop("schema", None)

    def _read_file_cached(self, tree, path: str, columns: list[str], lo: int, hi: int, start_global: int):
        """Batches at fixed step boundaries, each branch from the cache or decompressed (then cached)."""
        cache = self.cache

        def read(start: int, stop: int) -> tuple[Batch, bool]:
            keys = {b: cache.key(tree, path, self.tree_in(path), b, start, stop) for b in columns} if cache else {}
            # Each entry is checked against what uproot gives: the branch's type and stop - start entries.
            arrays = {b: cache.get(keys[b], _arrow_type(self.schema[b]), stop - start,
                                   f"branch {b!r}, entries {start}-{stop} of {path!r}") if cache else None
                      for b in columns}  # fmt: skip
            missing = [b for b, a in arrays.items() if a is None]
            if missing:
                arrays.update(self._read_arrays(tree, path, missing, start, stop))
                for b in missing:
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
                    f"branch {name!r} of tree {self.tree_in(path)!r} is {found} in {path!r} but {self.schema[name].short} "
                    f"in {self.files[0]!r}: files of one dataset must have the same schema"
                )

    def __getstate__(self) -> dict:
        # Open files, thread pools and basket plans stay in their process; a copy (e.g. in a Spark task)
        # reopens and plans again (cheap: from metadata uproot reads anyway).
        return {k: v for k, v in self.__dict__.items() if k not in ("_trees", "_plans")} | {"_trees": {}, "_plans": {}}

    def _executor(self):
        n = self.threads if self.threads is not None else (os.cpu_count() or 1)
        if n <= 1:
            return None  # uproot decompresses serially
        return _reader_pool(n)

    def allow_missing(self, name: str) -> None:
        self.optional.add(name)
        for friend in self.friends:  # a friend's branch may be missing from some of the friend's files too
            if name.startswith(f"{friend.alias}."):
                friend.source.allow_missing(name[len(friend.alias) + 1:])

    def optional_columns(self) -> set[str]:
        return self.optional

    def find_column(self, name: str) -> CType | None:
        """The type of ``name`` in the first file that has it (for branches missing in some files)."""
        if name in self.schema:
            return self.schema[name]
        for path in self.files[1:]:
            branch = self._open_tree(path).get(name) if name in self._open_tree(path).keys() else None
            if branch is not None:
                ctype = ctype_of_interpretation(branch.interpretation)
                if ctype is not None:
                    self.own_schema[name] = self.schema[name] = ctype
                    return ctype
        return None

    @classmethod
    def open(cls, tree: str, files, step_size: int = DEFAULT_STEP_SIZE, threads: int | None = None,
             cache: bool | None = None, entries: tuple[int, int] | None = None,
             step_bytes: int | None = None, file_trees: dict[str, str] | None = None) -> RootSource:  # fmt: skip
        from hepframe.connectors.cache import ColumnCache, cache_enabled

        files = resolve_files(files)
        use_cache = cache_enabled(cache) and all("://" not in f for f in files)
        if entries is not None and (len(entries) != 2 or not 0 <= entries[0] <= entries[1]):
            raise DataSourceError(f"entries must be (start, stop) with 0 <= start <= stop, got {entries!r}")
        column_cache = ColumnCache() if use_cache else None  # a broken cache directory warns and is off
        source = cls(tree, files, step_size, threads, column_cache if column_cache and column_cache.enabled else None,
                     None if entries is None else (int(entries[0]), int(entries[1])), step_bytes,
                     file_trees={os.fspath(k): v for k, v in (file_trees or {}).items() if v != tree})  # fmt: skip
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
                key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, self.tree_in(path))
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

        _fast_inflate()
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
        name = self.tree_in(path)
        try:
            obj = handle[name]
        except Exception as exc:
            trees = [k.split(";")[0] for k, c in handle.classnames().items()
                     if c in ("TTree", "TNtuple", "TNtupleD", "ROOT::RNTuple")]  # fmt: skip
            if name in trees:  # there, but unreadable: not a "not found"
                raise _unreadable(path, f"tree {name!r}", exc) from None
            raise DataSourceError(
                f"tree {name!r} not found in {path!r}{did_you_mean(name, trees)}"
                + (f" (trees in the file: {', '.join(sorted(set(trees)))})" if trees else " (the file has no TTree)")
            ) from None
        if not hasattr(obj, "arrays") or not hasattr(obj, "num_entries"):
            raise DataSourceError(f"{name!r} in {path!r} is a {type(obj).__name__}, not a TTree or an RNTuple")
        return obj

    @cached_property
    def schema(self) -> dict[str, CType]:
        """Column name to C++ type, from the first file (as RDataFrame does); friends' as ``alias.branch``."""
        out = dict(self.own_schema)
        for friend in self.friends:
            out.update({f"{friend.alias}.{name}": ctype for name, ctype in friend.source.schema.items()})
        return out

    @cached_property
    def own_schema(self) -> dict[str, CType]:
        """The main tree's branches and their C++ types, from its first file."""
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
                self.root_types[name] = _root_type(branch, ctype)
        return out

    def _friend_columns(self, columns: Iterable[str]) -> dict[Friend, list[str]]:
        """The requested columns of each friend, by their names in the friend tree."""
        out: dict[Friend, list[str]] = {}
        for name in columns:
            if name in self.own_schema:
                continue
            for friend in self.friends:
                prefix = f"{friend.alias}."
                if name.startswith(prefix) and name[len(prefix):] in friend.source.schema:
                    out.setdefault(friend, []).append(name[len(prefix):])
                    break
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
                self.root_types[name] = _rntuple_type(ctype)
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
        wanted = self._friend_columns(columns)
        if not wanted:
            yield from self._iter_own(columns, entry_range)
            return
        own = sorted({c for c in columns if c in self.own_schema} | {f.index for f in wanted if f.index})
        joins = {friend: _FriendJoin(self, friend, names) for friend, names in wanted.items()}
        for batch in self._iter_own(own, entry_range):
            table = batch.table
            for join in joins.values():
                for name, array in join.columns(batch.entry_start, table).items():
                    table = table.append_column(name, array)
            yield Batch(batch.entry_start, table.select(columns), batch.file)

    def _iter_own(self, columns: list[str], entry_range: tuple[int, int] | None) -> Iterator[Batch]:
        """The main tree's batches (no friend columns)."""
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
                raise DataSourceError(f"branch {required[0]!r} missing from tree {self.tree_in(path)!r} in {path!r}")
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
            arrays = self._read_arrays(tree, path, columns, start, stop)
            return Batch(start_global + start, pa.table({name: arrays[name] for name in columns}), path)

        yield from _in_order(self._executor(), read, steps)

    def _read_arrays(self, tree, path: str, columns: list[str], start: int, stop: int) -> dict[str, pa.Array]:
        """Entries ``[start, stop)`` of ``columns``: hepframe's basket reader where it can, uproot otherwise."""
        plans = self.basket_plans(tree, path, columns)
        out: dict[str, pa.Array] = {}
        try:
            if plans:
                fd = os.open(str(baskets.local_path(tree.file)), os.O_RDONLY)
                try:
                    for name, plan in plans.items():
                        try:
                            out[name] = baskets.read(plan, fd, tree.file.source, start, stop)
                        except baskets.NotCovered:
                            self._plans[path][name] = None  # this file's branch goes through uproot from now on
                finally:
                    os.close(fd)
            rest = [c for c in columns if c not in out]
            if rest:
                chunk = tree.arrays(rest, entry_start=start, entry_stop=stop, library="ak", how=dict)
                out.update({name: _to_arrow(chunk[name]) for name in rest})
        except Exception as exc:  # decompression/deserialization failures on corrupt files
            raise _read_error(self.tree_in(path), path, columns, start, stop, exc) from None
        return out

    def basket_plans(self, tree, path: str, columns: Iterable[str]) -> dict[str, baskets.BranchPlan]:
        """The ``columns`` of ``path`` that hepframe's basket reader reads (uproot reads the others)."""
        if not self.basket_reader or _is_rntuple(tree) or baskets.local_path(tree.file) is None:
            return {}
        known = self._plans.setdefault(path, {})  # threads may both plan a branch: the first one stays
        for name in columns:
            if name not in known:
                known.setdefault(name, baskets.plan(tree[name]))
        return {name: plan for name in columns if (plan := known[name]) is not None}

    def read_plan(self, columns: Iterable[str]) -> list[str]:
        """Which reader reads each of ``columns`` in the first file (for ``explain()``); other files may differ."""
        columns = sorted(c for c in set(columns) if c in self.own_schema)
        if not columns or not self.files:
            return []
        path = self.files[0]
        fast = set(self.basket_plans(self._open_tree(path), path, columns))
        return [f"with {reader} (first file): {', '.join(names)}" for reader, names in
                (("hepframe's basket reader", [c for c in columns if c in fast]),
                 ("uproot", [c for c in columns if c not in fast])) if names]  # fmt: skip

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


class _FriendJoin:
    """The columns of one friend tree for the main tree's batches, in one pass of the main tree.

    An indexed friend is read once per process and set of branches (its index and the requested
    branches, kept on the Friend: Spark tasks and repeated loops reuse it) and matched by value
    with a sorted search; a positional friend is streamed alongside the main tree, one pass over
    its baskets, sliced to the main tree's batches.
    """

    def __init__(self, main: RootSource, friend: Friend, names: list[str]) -> None:
        self.main, self.friend, self.names = main, friend, names
        self.stream: Iterator[Batch] | None = None
        self.pending: pa.Table | None = None
        self.next_entry = -1

    def columns(self, entry_start: int, table: pa.Table) -> dict[str, pa.Array]:
        rows = self._rows(entry_start, table)
        data = self._friend_table(entry_start, table.num_rows)
        out = {}
        for name in self.names:
            column = data[name].combine_chunks() if rows is None else data[name].take(rows).combine_chunks()
            qualified = f"{self.friend.alias}.{name}"
            if column.null_count and qualified not in self.main.optional:
                entry = entry_start + int(np.flatnonzero(~column.is_valid().to_numpy(zero_copy_only=False))[0])
                if self.friend.index is not None and rows is not None and not rows[entry - entry_start].is_valid:
                    key = table[self.friend.index][entry - entry_start].as_py()
                    why = f"no entry of friend tree {self.friend.source.tree!r} has {self.friend.index} == {key}"
                else:
                    why = f"friend tree {self.friend.source.tree!r} has no branch {name!r} in that entry's file"
                raise DataSourceError(f"column {qualified!r} has no value for entry {entry}: {why}; use "
                                      f"DefaultValueFor({qualified!r}, value) or FilterAvailable/FilterMissing")  # fmt: skip
            out[qualified] = column
        return out

    def _rows(self, entry_start: int, table: pa.Table) -> pa.Array | None:
        """The friend rows of the batch's entries (null where none matches); None: positional."""
        index = self.friend.index
        if index is None:
            return None
        keys, order, _ = self._indexed()
        wanted = table[index].to_numpy().astype(np.int64)
        pos = np.searchsorted(keys, wanted).clip(0, max(len(keys) - 1, 0))
        found = keys[pos] == wanted if len(keys) else np.zeros(len(wanted), bool)
        return pa.array(order[pos] if len(keys) else np.zeros(len(wanted), np.int64), mask=~found)

    def _indexed(self) -> tuple[np.ndarray, np.ndarray, pa.Table]:
        key = tuple(sorted(self.names))
        if key not in self.friend.matched:
            index = self.friend.index
            assert index is not None
            names = sorted({*self.names, index})
            batches = [b.table for b in self.friend.source.iter_batches(names)]
            data = pa.concat_tables(batches) if batches else pa.table({n: pa.array([], _arrow_type(
                self.friend.source.schema[n])) for n in names})  # fmt: skip
            keys = data[index].to_numpy().astype(np.int64)
            order = np.argsort(keys, kind="stable")
            keys = keys[order]
            dup = np.flatnonzero(keys[1:] == keys[:-1])
            if len(dup):
                raise DataSourceError(f"BuildIndex({index!r}) of friend tree {self.friend.source.tree!r}: "
                                      f"the key {keys[dup[0]]} appears more than once (an index needs unique keys)")  # fmt: skip
            self.friend.matched[key] = keys, order, data
        return self.friend.matched[key]

    def _friend_table(self, entry_start: int, n: int) -> pa.Table:
        if self.friend.index is not None:
            return self._indexed()[2]
        friend = self.friend.source
        if entry_start + n > friend.num_entries:
            raise DataSourceError(
                f"cannot read entry {max(entry_start, friend.num_entries)} of friend tree {friend.tree!r}: it has "
                f"{friend.num_entries} entries, fewer than the main tree {self.main.tree!r} "
                f"(friends without an index need as many entries as the main tree)"
            )  # fmt: skip
        if self.stream is None or entry_start != self.next_entry:  # a new pass, or a jump (entry ranges)
            self.stream = friend.iter_batches(self.names, entry_range=(entry_start, friend.num_entries))
            self.pending = None
        pieces, need = [], n
        while need:
            if self.pending is None or self.pending.num_rows == 0:
                batch = next(self.stream, None)
                if batch is None:  # cannot happen with the entry count checked above
                    raise DataSourceError(f"friend tree {friend.tree!r} ended before entry {entry_start + n}")
                self.pending = batch.table
            take = min(need, self.pending.num_rows)
            pieces.append(self.pending.slice(0, take))
            self.pending, need = self.pending.slice(take), need - take
        self.next_entry = entry_start + n
        return pa.concat_tables(pieces) if pieces else pa.table({name: pa.array([], _arrow_type(friend.schema[name]))
                                                                 for name in self.names})  # fmt: skip


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


def _root_type(branch, ctype: CType) -> str:
    """The type RDataFrame gives a TTree branch: leaf typedefs, or C++ names inside std::vector."""
    import uproot

    numerical, interpretation = uproot.interpretation.numerical, branch.interpretation
    if str(getattr(branch, "typename", "")).startswith("std::vector"):
        inner = ctype.scalar.cpp if ctype.depth == 1 else f"vector<{ctype.scalar.cpp}>"
        return f"ROOT::VecOps::RVec<{inner}>" if ctype.depth <= 2 else root_type_name(ctype)
    name = root_type_name(ctype, dataset=True)
    for codec, typedef in ((numerical.AsFloat16, "Float16_t"), (numerical.AsDouble32, "Double32_t")):
        content = getattr(interpretation, "content", interpretation)
        if isinstance(content, codec):
            name = name.replace("Float_t" if typedef == "Float16_t" else "Double_t", typedef)
    return name


def _rntuple_type(ctype: CType) -> str:
    """RNTuple fields have standard C++ types (``std::int32_t``), not leaf typedefs."""
    dtype = np.dtype(ctype.scalar.dtype)
    name = f"std::{dtype.name}_t" if dtype.kind in "iu" else ctype.scalar.cpp
    for _ in range(ctype.depth):
        name = f"ROOT::VecOps::RVec<{name}>"
    return name


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


def _fast_inflate() -> None:
    """Inflate ZLIB baskets with libdeflate (the ``deflate`` package): zlib's bytes, about twice as fast.

    Inflating is most of the time of reading a ZLIB-compressed NanoAOD file. A ROOT basket
    records its uncompressed size, which is what libdeflate needs to inflate in one call
    (releasing the GIL, as zlib does). uproot takes its ZLIB decompressor from a module global
    at each call: it is replaced here, once; LZMA, LZ4 and ZSTD baskets are not affected.
    """
    import uproot.compression as compression

    base = getattr(compression, "_DecompressZLIB", None)
    if base is None or type(getattr(compression, "_decompress_ZLIB", None)) is not base:
        return  # already replaced, or an uproot that is laid out otherwise
    try:
        import deflate
    except ImportError:  # pragma: no cover - a dependency; without it, zlib
        return

    class Libdeflate(base):  # type: ignore[misc, valid-type]
        def decompress(self, data: bytes, uncompressed_bytes: int | None = None) -> bytes:
            if uncompressed_bytes is None:  # as uproot's own (ROOT baskets always record it)
                return super().decompress(data, uncompressed_bytes)
            # a bytearray, which uproot reads with numpy.frombuffer as it reads bytes
            return deflate.zlib_decompress(data, uncompressed_bytes)  # type: ignore[return-value]

    compression._decompress_ZLIB = Libdeflate()


def _arrow_type(ctype: CType) -> pa.DataType:
    out = pa.from_numpy_dtype(ctype.scalar.dtype)
    for _ in range(ctype.depth):
        out = pa.large_list(out)
    return out


def _to_arrow(array: ak.Array) -> pa.Array:
    if array.ndim > 1 and array.layout.purelist_isregular:  # fixed-size arrays become lists
        array = ak.from_regular(array, axis=1)
    return ak.to_arrow(array, extensionarray=False, list_to32=False)
