"""Parquet files (e.g. from ``hepframe convert`` or ``Snapshot``) as a data source.

The Polars engine streams them with pyarrow, one row group batch at a time, reading only the
needed columns. The Spark engine reads them with Spark's own Parquet reader (column pruning,
splits), so every native Spark column runs in the JVM. Column types come from the Arrow schema
of the first file: ``list<T>`` columns are RVecs, unsigned integers stay unsigned.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.parquet as pq
from hepframe.connectors.base import DataSource
from hepframe.connectors.root import DEFAULT_STEP_SIZE, Batch, resolve_files

from hepframe.errors import DataSourceError, did_you_mean
from hepframe.expr.types import CType


def ctype_of_arrow(t: pa.DataType) -> CType | None:
    """The C++ column type of an Arrow type: numbers and (nested) lists of numbers, else None."""
    depth = 0
    while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        depth, t = depth + 1, t.value_type
    try:
        return CType.from_dtype(t.to_pandas_dtype(), depth) if depth <= 2 else None
    except (TypeError, NotImplementedError):
        return None


@dataclass
class ParquetSource(DataSource):
    """One or more Parquet files with the same columns, read in entry order."""

    files: list[str]
    step_size: int = DEFAULT_STEP_SIZE
    tree: str = "Events"  # for messages and Snapshot; Parquet has no tree name
    entry_range: tuple[int, int] | None = None
    _unsupported: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, files, step_size: int = DEFAULT_STEP_SIZE) -> ParquetSource:
        source = cls(resolve_files(files), step_size)
        source.schema  # noqa: B018 - errors at construction
        return source

    def _file(self, path: str) -> pq.ParquetFile:
        try:
            return pq.ParquetFile(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for bad input
            raise DataSourceError(f"cannot open {path!r} as a Parquet file: {exc}") from None

    @cached_property
    def schema(self) -> dict[str, CType]:
        out: dict[str, CType] = {}
        for f in self._file(self.files[0]).schema_arrow:
            ctype = ctype_of_arrow(f.type)
            if ctype is None:
                self._unsupported[f.name] = str(f.type)
            else:
                out[f.name] = ctype
        return out

    @cached_property
    def file_entries(self) -> list[int]:
        return [self._file(p).metadata.num_rows for p in self.files]

    @property
    def num_entries(self) -> int:
        return sum(self.file_entries)

    def check_columns(self, columns: Sequence[str]) -> None:
        for name in columns:
            if name in self._unsupported:
                raise DataSourceError(f"column {name!r} has Arrow type {self._unsupported[name]}, which hepframe cannot read")
            if name not in self.schema:
                raise DataSourceError(f"no column {name!r} in {self.files[0]!r}{did_you_mean(name, self.schema)}")

    def iter_batches(self, columns: Sequence[str], entry_range: tuple[int, int] | None = None) -> Iterator[Batch]:
        columns = sorted(set(columns))
        self.check_columns(columns)
        start = 0
        for path, n in zip(self.files, self.file_entries, strict=True):
            if n == 0:
                continue
            f = self._file(path)
            missing = [c for c in columns if c not in f.schema_arrow.names]
            if missing:
                raise DataSourceError(f"column {missing[0]!r} missing from {path!r}")
            entry = start
            for record_batch in f.iter_batches(batch_size=self.step_size, columns=columns):
                table = pa.Table.from_batches([record_batch])
                if not columns:  # e.g. only Count()
                    table = pa.table({"__entry_only__": pa.nulls(record_batch.num_rows, pa.int8())})
                yield Batch(entry, table, os.fspath(path))
                entry += table.num_rows
            start += n
