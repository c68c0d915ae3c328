"""A transparent on-disk column cache: decompressed branches as Arrow IPC files.

Each entry holds one branch for one entry range of one file, keyed by the file's identity
(absolute path, size and modification time), the tree, the branch and the range. A re-run reads
the memory-mapped IPC file instead of decompressing baskets again; a changed file gets new keys
(the old entries age out). The cache has a size limit with least-recently-used eviction.

Switches: ``HEPFRAME_CACHE=0`` (or ``RDataFrame(..., cache=False)``) turns it off;
``HEPFRAME_CACHE_DIR`` moves it (default ``$XDG_CACHE_HOME/hepframe`` or ``~/.cache/hepframe``);
``HEPFRAME_CACHE_SIZE`` sets the limit in bytes (default 5 GB).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pyarrow as pa

DEFAULT_LIMIT = 5 * 1024**3


def cache_enabled(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return os.environ.get("HEPFRAME_CACHE", "1").lower() not in ("0", "false", "off", "no")


def default_directory() -> Path:
    if "HEPFRAME_CACHE_DIR" in os.environ:
        return Path(os.environ["HEPFRAME_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hepframe"


class ColumnCache:
    def __init__(self, directory: str | os.PathLike | None = None, limit: int | None = None):
        self.directory = Path(directory) if directory is not None else default_directory()
        self.limit = limit if limit is not None else int(os.environ.get("HEPFRAME_CACHE_SIZE", DEFAULT_LIMIT))
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(path: str, tree: str, branch: str, start: int, stop: int) -> str:
        st = os.stat(path)
        identity = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}|{tree}|{branch}|{start}|{stop}|v1"
        return hashlib.sha256(identity.encode()).hexdigest()[:40]

    def _file(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.arrow"

    def get(self, key: str) -> pa.Array | None:
        path = self._file(key)
        try:
            with pa.memory_map(str(path)) as source:
                table = pa.ipc.open_file(source).read_all()
        except (FileNotFoundError, pa.ArrowInvalid, OSError):
            self.misses += 1
            return None
        os.utime(path)  # recency for LRU eviction
        self.hits += 1
        column = table.column(0)
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()  # zero-copy from the map

    def put(self, key: str, array: pa.Array) -> None:
        path = self._file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            table = pa.table({"values": array})
            with pa.OSFile(tmp, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            os.replace(tmp, path)  # atomic: readers never see half an entry
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.directory.glob("*/*.arrow"))

    def evict(self) -> None:
        """Delete the least recently used entries until the cache is under its limit."""
        entries = sorted(self.directory.glob("*/*.arrow"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in entries)
        for p in entries:
            if total <= self.limit:
                break
            total -= p.stat().st_size
            p.unlink(missing_ok=True)

    def clear(self) -> None:
        for p in self.directory.glob("*/*.arrow"):
            p.unlink(missing_ok=True)
