"""Snapshot: stream the selected events' columns to ROOT, Parquet or Arrow IPC, atomically.

The writer is an accumulator: it writes each batch as the event loop produces it (memory does
not grow with the output), into a hidden temporary file next to the target, which is renamed
into place only when the loop completes. A failed or killed job leaves no partial output.

Temporaries are named ``.{target}.hepframe-{host}-{pid}-{random}.tmp`` (``.staging`` for the
directories of distributed writers). A writer killed by SIGKILL or SIGTERM cannot remove its own;
the next write into the same directory removes those whose process is gone (never a live one's).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from hepframe.actions import Accumulator
from hepframe.engines.values import Value, to_arrow
from hepframe.errors import AnalysisError, did_you_mean
from hepframe.expr import ir


def _pid_namespace() -> str:
    """This process's PID namespace: containers sharing a host name (and a directory) see other PIDs."""
    try:
        return os.readlink("/proc/self/ns/pid").split("[")[-1].rstrip("]")
    except OSError:
        return ""


# The host and PID namespace are part of a temporary's name: on a shared filesystem, or between
# containers sharing a host name, a PID says nothing about other writers (PIDs are probed only here).
_HOST = (re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "localhost") + "." + _pid_namespace()
_TEMPORARY = re.compile(r"^\..+\.hepframe-(?P<host>[A-Za-z0-9._]*)-(?P<pid>\d+)-[a-z0-9_]+\.(?:tmp|staging)$")


def temporary_prefix(target: Path) -> str:
    """The name prefix of this process' temporaries for ``target`` (mkstemp/mkdtemp add the random part)."""
    return f".{target.name}.hepframe-{_HOST}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):  # EPERM: another user's process; or not a PID: keep the file
        return True
    return True


def remove_temporaries(directory: str | os.PathLike, owner: Callable[[int], bool] | None = None) -> list[Path]:
    """Remove hepframe's temporaries in ``directory`` written on this host by the processes ``owner`` selects.

    By default, those of dead processes (orphans of killed writers); the files of live writers stay.
    """
    if os.name != "posix":  # os.kill(pid, 0) is not a liveness probe elsewhere
        return []
    owner = owner or (lambda pid: pid > 0 and pid != os.getpid() and not _alive(pid))
    removed: list[Path] = []
    try:
        entries = list(os.scandir(os.fspath(directory)))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.match(entry.name)
        if match is None or match["host"] != _HOST or not owner(int(match["pid"])):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:  # removed meanwhile by another cleaner, or not ours to remove
            continue
        removed.append(Path(entry.path))
    return removed


@dataclass
class RSnapshotOptions:
    """ROOT's ``RSnapshotOptions`` for ``Snapshot(tree, file, columns, options)``.

    ``fLazy`` books the Snapshot instead of running it; ``fMode`` must be ``"RECREATE"`` (hepframe
    writes whole files, atomically); the compression and basket settings are accepted and
    hepframe's own used (the values written are the same).
    """

    fMode: str = "RECREATE"  # noqa: N815 - ROOT's field names
    fCompressionAlgorithm: Any = None  # noqa: N815
    fCompressionLevel: int = 1  # noqa: N815
    fAutoFlush: int = 0  # noqa: N815
    fSplitLevel: int = 99  # noqa: N815
    fLazy: bool = False  # noqa: N815
    fOverwriteIfExists: bool = False  # noqa: N815
    fVector2RVec: bool = True  # noqa: N815
    fBasketSize: int = -1  # noqa: N815


def select_columns(available: Iterable[str], columns: str | Iterable[str] | None) -> list[str]:
    """The columns ``columns`` selects, as ROOT's Snapshot, Cache and Display select them.

    ``None`` or ``""``: all. A string: a regular expression, anchored as ROOT anchors it (``^``
    prepended and ``$`` appended unless already there, then searched), so ``"MET_.*"`` selects
    the columns starting with ``MET_`` and ``"MET"`` only a column named ``MET``. Anything else:
    exactly those names (checked later, with close matches for unknown ones). Selecting nothing is
    an error, as in ROOT. Columns keep the order of ``available``.
    """
    names = list(available)
    if columns is None or columns == "":
        return names
    if isinstance(columns, str):
        regex = columns if columns.startswith("^") else "^" + columns
        regex = regex if columns.endswith("$") else regex + "$"
        try:
            compiled = re.compile(regex)
        except re.error as exc:
            raise AnalysisError(f"invalid column regular expression {columns!r}: {exc}") from None
        selected = [n for n in names if compiled.search(n)]
        if not selected:
            hint = _selection_hint(columns, names)
            raise AnalysisError(f"no column matches the regular expression {columns!r}{hint}")
        return selected
    selected = list(columns)
    if not selected:
        raise AnalysisError("no column selected (an empty list)")
    for i, name in enumerate(selected):
        if name in selected[:i]:
            raise AnalysisError(f"column {name!r} is selected twice")
    return selected


def _selection_hint(pattern: str, names: list[str]) -> str:
    import fnmatch

    if re.fullmatch(r"\w+", pattern):
        return did_you_mean(pattern, names)
    if any(fnmatch.fnmatchcase(n, pattern) for n in names):  # earlier versions took shell globs here
        regex = "".join(".*" if c == "*" else "." if c == "?" else c for c in pattern)
        return f" (column selections are regular expressions, as in ROOT: for the shell glob, write {regex!r})"
    return ""


def glob_columns(available: Iterable[str], pattern: str) -> list[str]:
    """The columns a shell glob selects (``hepframe convert --branches`` still takes one)."""
    import fnmatch

    return sorted(n for n in available if fnmatch.fnmatchcase(n, pattern))


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


class SnapshotWriter(Accumulator):
    def __init__(self, tree: str, path: Path, columns: list[ir.Column], fmt: str):
        self.tree, self.path, self.columns, self.fmt = tree, path, columns, fmt
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=temporary_prefix(path), suffix=".tmp", dir=path.parent)
        os.close(fd)
        self._cleanup = weakref.finalize(self, _remove, self.tmp)  # no stray temporaries on failure
        self.writer: Any = None
        self.entries = 0

    def _table(self, values: list[Value]) -> pa.Table:
        n = len(values[0].data) if values and hasattr(values[0].data, "__len__") else 0
        return pa.table({c.name: to_arrow(v, n) for c, v in zip(self.columns, values, strict=True)})

    def update(self, values, entries, n_rows):
        if self.fmt == "root":
            self._write_root(values)
            return
        table = self._table(values)
        self.entries += table.num_rows
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            if self.writer is None:
                self.writer = pq.ParquetWriter(self.tmp, table.schema)
            self.writer.write_table(table)
        elif self.fmt == "arrow":
            if self.writer is None:
                self.writer = pa.ipc.new_file(self.tmp, table.schema)
            self.writer.write_table(table)

    def _write_root(self, values: list[Value]) -> None:
        import awkward as ak
        import numpy as np
        import uproot

        from hepframe.engines.values import Jagged

        arrays: dict[str, Any] = {}
        n = 0
        for column, value in zip(self.columns, values, strict=True):
            data = value.data
            dtype = column.type.scalar.dtype
            if isinstance(data, Jagged):
                arrays[column.name] = ak.unflatten(np.asarray(data.values, dtype=dtype), data.counts)
                n = len(data)
            else:
                arrays[column.name] = np.asarray(data, dtype=dtype)
                n = len(arrays[column.name])
        self.entries += n
        if self.writer is None:
            self.writer = uproot.recreate(self.tmp)
            types = {k: (v.dtype if not isinstance(v, ak.Array) else f"var * {ak.type(v).content.content}")
                     for k, v in arrays.items()}  # fmt: skip
            # Size branches named as ROOT's Snapshot names them; readers hide them from the columns.
            self.writer.mktree(self.tree, types, counter_name=lambda counted: f"__rdf_sizeof_{counted}")
        if n:
            self.writer[self.tree].extend(arrays)

    def result(self):
        import hepframe

        if self.writer is None:  # no batch at all: write an empty file of the right schema
            self.update([_empty(c) for c in self.columns], None, 0)
        self.writer.close()
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.chmod(self.tmp, 0o666 & ~umask)
            os.replace(self.tmp, self.path)
        except OSError as exc:  # e.g. the temporary removed by someone else meanwhile: nothing was written
            raise AnalysisError(f"Snapshot could not move {self.tmp} to {self.path}: {exc}; {self.path} was not written") from None
        self._cleanup.detach()
        if self.fmt == "root":
            return hepframe.RDataFrame(self.tree, str(self.path))
        from hepframe.connectors.memory import TableSource

        table = _read_table(self.path, self.fmt)
        return hepframe.RDataFrame.from_source(TableSource(self.tree, table, {c.name: c.type for c in self.columns}))


def _read_table(path: Path, fmt: str) -> pa.Table:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path)
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _empty(column: ir.Column) -> Value:
    import numpy as np

    from hepframe.engines.values import Jagged

    dtype = column.type.scalar.dtype
    if column.type.is_rvec:
        return Value(Jagged(np.zeros(0, np.int64), np.zeros(0, dtype)))
    return Value(np.zeros(0, dtype))


def snapshot_writer(tree: str, path: str | os.PathLike, columns: list[ir.Column]):
    target = Path(path)
    try:  # fail at booking, not in the event loop, if the output cannot be written
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_temporaries(target.parent)
        probe = tempfile.NamedTemporaryFile(prefix=temporary_prefix(target), suffix=".tmp", dir=target.parent)
        probe.close()
    except OSError as exc:
        raise AnalysisError(f"Snapshot: cannot write to {str(target)!r}: {exc.strerror or exc}") from None
    suffix = target.suffix.lower()
    fmt = {".root": "root", ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow",
           ".ipc": "arrow"}.get(suffix)  # fmt: skip
    if fmt is None:
        raise AnalysisError(f"Snapshot: unknown format {suffix!r}; use .root, .parquet or .arrow")
    if fmt == "root" and any(c.type.depth > 1 for c in columns):
        raise AnalysisError("Snapshot to ROOT cannot write RVec<RVec<T>> columns yet; use Parquet or Arrow")
    return lambda: SnapshotWriter(tree, target, columns, fmt)


class PartitionedParquetWriter(Accumulator):
    """Snapshot on a distributed engine: a Parquet dataset directory, one part file per task.

    Each task writes its events to a hidden temporary part inside a staging directory next to
    the target (on the shared filesystem), and completes the part when its partial result
    leaves the task. The driver keeps the parts of the successful attempts (a retried task's
    failed attempt leaves an orphan, deleted here), then renames the staging directory into
    place: the dataset appears complete or not at all. Part names start with the task's first
    entry number, so reading the directory in name order gives the entry order.
    """

    def __init__(self, tree: str, path: Path, staging: Path, columns: list[ir.Column]):
        self.tree, self.path, self.staging, self.columns = tree, path, staging, columns
        self.parts: list[str] = []
        self.entries = 0
        self.writer: Any = None
        self.name = ""

    def update(self, values, entries, n_rows):
        import uuid

        import pyarrow.parquet as pq

        n = len(values[0].data) if values else 0
        if n == 0:
            return
        table = pa.table({c.name: to_arrow(v, n) for c, v in zip(self.columns, values, strict=True)})
        if self.writer is None:
            first = int(entries[0]) if len(entries) else 0
            self.name = f"part-{first:015d}-{uuid.uuid4().hex[:8]}.parquet"
            self.writer = pq.ParquetWriter(self.staging / f".{self.name}.tmp", table.schema)
        self.writer.write_table(table)
        self.entries += table.num_rows

    def __getstate__(self) -> dict:
        if self.writer is not None:  # the task is done with this part: complete it
            self.writer.close()
            os.replace(self.staging / f".{self.name}.tmp", self.staging / self.name)
            self.parts.append(self.name)
            self.writer = None
        return dict(self.__dict__)

    def merge(self, other: PartitionedParquetWriter) -> None:
        self.parts += other.parts
        self.entries += other.entries

    def result(self):
        import pyarrow.parquet as pq

        import hepframe
        from hepframe.connectors.memory import TableSource

        for f in self.staging.iterdir():  # leftovers of failed task attempts
            if f.name not in self.parts:
                f.unlink()
        if not self.parts:  # no event selected: one empty part with the schema
            empty = pa.table({c.name: to_arrow(_empty(c), 0) for c in self.columns})
            pq.write_table(empty, self.staging / "part-000000000000000-empty.parquet")
        if self.path.exists():  # replace an older output, as ROOT's Snapshot does
            old = self.path.with_name(f".{self.path.name}.old")
            os.replace(self.path, old)
            os.replace(self.staging, self.path)
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        else:
            os.replace(self.staging, self.path)
        table = pq.read_table(self.path)
        return hepframe.RDataFrame.from_source(TableSource(self.tree, table, {c.name: c.type for c in self.columns}))


def partitioned_parquet_writer(tree: str, path: str | os.PathLike, columns: list[ir.Column]):
    """The Snapshot writer factory of distributed engines (booked on the driver)."""
    target = Path(path)
    if target.suffix.lower() not in (".parquet", ".pq"):
        raise AnalysisError(f"Snapshot on a distributed engine writes a Parquet dataset (a directory): "
                            f"name it '*.parquet', not {target.name!r}")  # fmt: skip
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_temporaries(target.parent)
        staging = Path(tempfile.mkdtemp(prefix=temporary_prefix(target), suffix=".staging", dir=target.parent))
    except OSError as exc:
        raise AnalysisError(f"Snapshot: cannot write to {str(target)!r}: {exc.strerror or exc}") from None

    def make() -> PartitionedParquetWriter:  # in each task, and on the driver (which merges and finishes)
        return PartitionedParquetWriter(tree, target, staging, columns)

    weakref.finalize(make, shutil.rmtree, str(staging), True)  # no stray staging directory on failure
    return make
