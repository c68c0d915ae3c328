"""An in-memory Arrow table as a data source (``Cache()``, Parquet/Arrow snapshots, tests)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pyarrow as pa
from hepframe.connectors.base import DataSource
from hepframe.connectors.root import DEFAULT_STEP_SIZE, Batch

from hepframe.errors import DataSourceError, did_you_mean
from hepframe.expr.types import CType


@dataclass
class TableSource(DataSource):
    tree: str
    table: pa.Table
    schema: dict[str, CType]
    step_size: int = DEFAULT_STEP_SIZE
    files: list[str] = field(default_factory=lambda: ["<memory>"])
    label: str = ""  # ROOT's data-source name in Describe(), e.g. "RVecDS" (FromNumpy)

    @property
    def num_entries(self) -> int:
        return self.table.num_rows

    def iter_batches(self, columns: Sequence[str], entry_range: tuple[int, int] | None = None) -> Iterator[Batch]:
        for name in columns:
            if name not in self.schema:
                raise DataSourceError(f"no column {name!r} in the cached table{did_you_mean(name, self.schema)}")
        table = self.table.select(list(columns)) if columns else pa.table({"__entry_only__": pa.nulls(self.num_entries)})
        lo, hi = entry_range if entry_range else (0, self.num_entries)
        for start in range(lo, hi, self.step_size):
            yield Batch(start, table.slice(start, min(self.step_size, hi - start)), "<memory>")
