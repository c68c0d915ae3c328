"""A transparent on-disk column cache: decompressed branches as Arrow IPC files.

Each entry holds one branch for one entry range of one file. A re-run reads the IPC file instead of
decompressing baskets again. The cache has a size limit with least-recently-used eviction.

It can never change a result:

* **Keys** name the source's content, not only its path: the ROOT file's UUID, the tree's key
  (position, size, write time) and, for a TTree branch, its basket positions, sizes and entry
  ranges; for an RNTuple its anchor plus the xxhash checksums that ROOT stores in its header,
  footer and page lists (which list every page's position and size). Path, size and modification
  time, the interpretation, the entry range and the uproot version are in the key too. All of it is
  metadata uproot has already read: computing a key reads no data.
* **Entries** end with a trailer holding an xxh3 checksum of all bytes before it. A read checks the
  checksum, that the entry was written for this key, and the Arrow structure (``validate(full=True)``:
  offsets monotonic and in bounds), the type, the length and the absence of nulls. A bad entry is
  deleted and re-read from the file, with a :class:`CacheWarning` naming it.
* **I/O problems** (an unwritable or misplaced directory, a full disk, permissions) turn the cache
  off for the rest of the process with one :class:`CacheWarning`; the analysis goes on uncached.

Processes may share a cache: entries are written to a temporary file then renamed (atomic), and
readers and eviction tolerate entries that another process deletes under them.

Switches: ``HEPFRAME_CACHE=0`` (or ``RDataFrame(..., cache=False)``) turns it off;
``HEPFRAME_CACHE_DIR`` moves it (default ``$XDG_CACHE_HOME/hepframe`` or ``~/.cache/hepframe``);
``HEPFRAME_CACHE_SIZE`` sets the limit in bytes, or as ``500M``, ``5G`` (default 5 GB).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import xxhash

from hepframe.errors import DataSourceError

DEFAULT_LIMIT = 5 * 1024**3
FORMAT = "hepframe-cache-v2"  # in every key: a format change never reads old entries
_TRAILER = struct.Struct("<Q8s")  # xxh3_64 of the bytes before it, then the magic
_MAGIC = b"HFCACHE2"
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation
_STALE_TMP_S = 3600  # a temporary file this old belongs to a writer that died: eviction removes it

#: Cache directories turned off in this process (after one warning), with the reason.
_OFF: dict[str, str] = {}
_OFF_LOCK = threading.Lock()


class CacheWarning(UserWarning):
    """The column cache dropped a bad entry (re-read from the file) or turned itself off."""


class _BadEntry(Exception):
    pass


def cache_enabled(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return os.environ.get("HEPFRAME_CACHE", "1").lower() not in ("0", "false", "off", "no")


def default_directory() -> Path:
    if "HEPFRAME_CACHE_DIR" in os.environ:
        return Path(os.environ["HEPFRAME_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hepframe"


def source_identity(tree, branch: str) -> tuple:
    """What identifies the bytes ``branch`` of ``tree`` (uproot TTree or RNTuple) is read from.

    Only metadata uproot has already read, so it is cheap; see the module docstring.
    """
    key = tree.parent  # the ReadOnlyKey the tree was read from: rewriting the tree moves or re-dates it
    where = tuple(getattr(key, m, None) for m in ("fSeekKey", "fNbytes", "fObjlen", "fDatime", "fCycle"))
    common = (tree.file.hex_uuid, where, tree.num_entries)
    if "RNTuple" in type(tree).__name__:
        anchor = tuple(tree.member(m) for m in ("fSeekHeader", "fNBytesHeader", "fLenHeader", "fSeekFooter",
                                                "fNBytesFooter", "fLenFooter"))  # fmt: skip
        lists = tuple(p.checksum for p in tree.page_list_envelopes)  # they hold every page's locator
        return (*common, anchor, tree.header.checksum, tree.footer.checksum, lists)
    b = tree[branch]
    baskets = hashlib.sha256()
    for member in ("fBasketSeek", "fBasketBytes", "fBasketEntry"):
        baskets.update(np.asarray(b.member(member), dtype=np.int64).tobytes())
    return (*common, b.num_baskets, b.member("fEntries"), b.interpretation.cache_key, baskets.hexdigest())


def _plain(t: pa.DataType) -> pa.DataType:
    """The type without list field names and nullability flags (nulls are checked separately)."""
    if pa.types.is_large_list(t) or pa.types.is_list(t):
        return pa.large_list(_plain(t.value_type))
    return t


def _check_nesting(array: pa.Array) -> None:
    """What uproot's arrays are and Arrow does not require: no nulls, list offsets spanning exactly their values."""
    while True:
        if array.null_count:
            raise _BadEntry("null values")
        if not (pa.types.is_large_list(array.type) or pa.types.is_list(array.type)):
            return
        offsets = array.offsets
        if len(array) and (offsets[0].as_py() != 0 or offsets[-1].as_py() != len(array.values)):
            raise _BadEntry("list offsets do not span the values from 0 to their end")
        array = array.values


def _decode(data: pa.Buffer, key: str, arrow_type: pa.DataType, length: int) -> pa.Array:
    """The array in an entry's bytes, after every check; raises on anything unexpected."""
    if data.size < _TRAILER.size:
        raise _BadEntry(f"truncated ({data.size} bytes)")
    digest, magic = _TRAILER.unpack_from(data, data.size - _TRAILER.size)
    if magic != _MAGIC:
        raise _BadEntry("no hepframe trailer")
    body = data.slice(0, data.size - _TRAILER.size)
    if xxhash.xxh3_64_intdigest(body) != digest:
        raise _BadEntry("checksum mismatch")
    reader = pa.ipc.open_file(body)
    if (reader.schema.metadata or {}).get(b"hepframe.key") != key.encode():
        raise _BadEntry("written for another key")
    table = reader.read_all()
    if table.num_columns != 1:
        raise _BadEntry(f"{table.num_columns} columns")
    column = table.column(0)
    array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()  # zero-copy from the bytes
    if _plain(array.type) != _plain(arrow_type):
        raise _BadEntry(f"type {array.type}, expected {arrow_type}")
    if len(array) != length:
        raise _BadEntry(f"{len(array)} entries, expected {length}")
    array.validate(full=True)  # offsets monotonic and within the values
    _check_nesting(array)
    return array


def _size_from_environment() -> int:
    """``HEPFRAME_CACHE_SIZE`` in bytes, or ``500M``, ``5G``, ``1.5GB`` (powers of 1024); a bad value is a clear error."""
    text = os.environ.get("HEPFRAME_CACHE_SIZE", "").strip()
    if not text:
        return DEFAULT_LIMIT
    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}  # as DEFAULT_LIMIT
    number, unit = text.upper().rstrip("B"), ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        value = float(number) * units[unit]
    except ValueError:
        value = -1.0
    if not value >= 0 or value != value:
        raise DataSourceError(f"HEPFRAME_CACHE_SIZE={text!r} is not a size: give bytes, or e.g. 500M, 5G")
    return int(value)


class ColumnCache:
    def __init__(self, directory: str | os.PathLike | None = None, limit: int | None = None):
        self.directory = Path(directory) if directory is not None else default_directory()
        self.limit = limit if limit is not None else _size_from_environment()
        self.hits = 0
        self.misses = 0
        if self.enabled:
            try:
                os.makedirs(self.directory, exist_ok=True)
            except OSError as exc:
                self._turn_off(exc, "create it")

    @property
    def enabled(self) -> bool:
        return os.path.abspath(self.directory) not in _OFF

    def _turn_off(self, exc: OSError, action: str) -> None:
        directory = os.path.abspath(self.directory)
        with _OFF_LOCK:  # reader threads may fail together: one warning
            if directory in _OFF:
                return
            _OFF[directory] = f"cannot {action}: {exc}"
        warnings.warn(
            f"hepframe's column cache in {directory} is off for the rest of this process (cannot {action}: "
            f"{type(exc).__name__}: {exc}); the analysis goes on without it. Set HEPFRAME_CACHE=0 to turn the cache "
            f"off, or HEPFRAME_CACHE_DIR to a writable directory to move it.",
            CacheWarning,
            stacklevel=3,
        )

    def key(self, tree, path: str, tree_name: str, branch: str, start: int, stop: int) -> str | None:
        """The entry's key, or None to read without the cache (off, or no identity for the source)."""
        if not self.enabled:
            return None
        try:
            st = os.stat(path)
            identity = source_identity(tree, branch)
        except Exception:  # noqa: BLE001 - metadata uproot cannot give (or a vanished file): not cached
            return None
        import uproot

        parts = (FORMAT, uproot.__version__, os.path.abspath(path), st.st_size, st.st_mtime_ns, tree_name, branch,
                 start, stop, identity)  # fmt: skip
        return hashlib.sha256(repr(parts).encode()).hexdigest()

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.arrow"

    def get(self, key: str | None, arrow_type: pa.DataType, length: int, what: str = "") -> pa.Array | None:
        """The cached array of ``length`` entries of ``arrow_type``, or None (then the caller reads and puts)."""
        if key is None or not self.enabled:
            return None
        path = self._file(key)
        try:
            data = _read(path)
        except FileNotFoundError:  # not cached, or evicted just now by another process
            self.misses += 1
            return None
        except OSError as exc:
            self._turn_off(exc, f"read {path}")
            return None
        try:
            array = _decode(data, key, arrow_type, length)
        except Exception as exc:  # noqa: BLE001 - anything wrong with the entry: drop it, read the file
            self.misses += 1
            warnings.warn(
                f"hepframe's column cache entry {path}{f' ({what})' if what else ''} is bad "
                f"({type(exc).__name__}: {exc}): deleted, re-read from the file",
                CacheWarning,
                stacklevel=2,
            )
            self._unlink(path)
            return None
        try:
            os.utime(path)  # recency for LRU eviction
        except OSError:  # vanished, or another user's entry in a shared cache: only the eviction order suffers
            pass
        self.hits += 1
        return array

    def put(self, key: str | None, array: pa.Array) -> None:
        if key is None or not self.enabled:
            return
        table = pa.table({"values": array}).replace_schema_metadata({"hepframe.key": key})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        body = sink.getvalue()
        path = self._file(key)
        tmp = path.parent / f".{key}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            os.makedirs(path.parent, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
            try:
                _write_all(fd, body)
                _write_all(fd, _TRAILER.pack(xxhash.xxh3_64_intdigest(body), _MAGIC))
            finally:
                os.close(fd)
            os.replace(tmp, path)  # atomic: readers never see half an entry (and a torn one fails its checksum)
        except OSError as exc:
            self._turn_off(exc, f"write {path}")
        finally:
            try:
                os.unlink(tmp)
            except OSError:  # renamed (the usual case), or never created
                pass

    def _unlink(self, path: Path) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self._turn_off(exc, f"delete {path}")

    def _entries(self) -> list[tuple[Path, os.stat_result]]:
        """The entries with their stat, skipping those deleted meanwhile; removes stale temporary files."""
        out: list[tuple[Path, os.stat_result]] = []
        now = time.time()
        try:
            with os.scandir(self.directory) as subdirs:
                names = [d.path for d in subdirs if len(d.name) == 2]
        except FileNotFoundError:  # removed by hand: empty (put recreates it)
            return out
        for sub in names:
            try:
                with os.scandir(sub) as files:
                    items = list(files)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for item in items:
                try:
                    st = item.stat()
                except FileNotFoundError:  # evicted by another process
                    continue
                if item.name.endswith(".arrow"):
                    out.append((Path(item.path), st))
                elif item.name.endswith(".tmp") and now - st.st_mtime > _STALE_TMP_S:
                    self._unlink(Path(item.path))
        return out

    def size(self) -> int:
        if not self.enabled:
            return 0
        try:
            return sum(st.st_size for _, st in self._entries())
        except OSError as exc:
            self._turn_off(exc, "list its entries")
            return 0

    def evict(self) -> None:
        """Delete the least recently used entries until the cache is under its limit."""
        if not self.enabled:
            return
        try:
            entries = sorted(self._entries(), key=lambda e: e[1].st_mtime)
        except OSError as exc:
            self._turn_off(exc, "list its entries")
            return
        total = sum(st.st_size for _, st in entries)
        for path, st in entries:
            if total <= self.limit or not self.enabled:
                break
            total -= st.st_size
            self._unlink(path)

    def clear(self) -> None:
        try:
            entries = self._entries()
        except OSError as exc:
            self._turn_off(exc, "list its entries")
            return
        for path, _ in entries:
            self._unlink(path)


def _read(path: Path) -> pa.Buffer:
    """The whole file in Arrow memory: checked once, then immune to changes of the file."""
    with os.fdopen(os.open(path, os.O_RDONLY | _BINARY), "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        data = pa.allocate_buffer(size)
        view = memoryview(data)
        done = 0
        while done < size:
            n = f.readinto(view[done:])
            if not n:  # shorter than fstat said: the checks fail on what was read
                return data.slice(0, done)
            done += n
        return data


def _write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
