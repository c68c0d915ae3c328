"""``scan_root``: a TTree as a Polars LazyFrame, through Polars' IO-plugin mechanism.

Polars hands the scan the projected columns, a predicate, a row limit and a batch size. The
scan reads only the projected branches (in bounded batches, with uproot), applies the
predicate to each batch and stops early at the row limit. Jagged branches become
``List`` columns with their file dtypes, so the LazyFrame works with Polars' list expressions
and its streaming engine, on Polars 1.4x and 2.x.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
from hepframe.connectors.root import DEFAULT_STEP_SIZE, RootSource

from hepframe.expr.types import CType, Scalar

_POLARS = {
    Scalar.BOOL: pl.Boolean, Scalar.CHAR: pl.Int8, Scalar.UCHAR: pl.UInt8, Scalar.SHORT: pl.Int16,
    Scalar.USHORT: pl.UInt16, Scalar.INT: pl.Int32, Scalar.UINT: pl.UInt32, Scalar.LONG: pl.Int64,
    Scalar.ULONG: pl.UInt64, Scalar.FLOAT: pl.Float32, Scalar.DOUBLE: pl.Float64,
}  # fmt: skip


def _dtype(t: CType) -> pl.DataType:
    out: pl.DataType = _POLARS[t.scalar]()
    for _ in range(t.depth):
        out = pl.List(out)
    return out


def scan_root(files, tree: str = "Events", step_size: int = DEFAULT_STEP_SIZE) -> pl.LazyFrame:
    """Lazily scan a TTree (files: a path, a glob or a list) as a Polars LazyFrame.

    Examples
    --------
    >>> import polars as pl
    >>> from hepframe import scan_root
    >>> lf = scan_root("sample.root")  # doctest: +SKIP
    >>> lf.filter(pl.col("nMuon") == 2).select("MET_pt").collect()  # doctest: +SKIP

    """
    from polars.io.plugins import register_io_source

    source = RootSource.open(tree, files, step_size)
    schema = {name: _dtype(t) for name, t in source.schema.items()}

    def io_source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
                  batch_size: int | None) -> Iterator[pl.DataFrame]:  # fmt: skip
        columns = list(with_columns) if with_columns is not None else list(schema)
        needed = set(columns) | (set(predicate.meta.root_names()) if predicate is not None else set())
        read = sorted(needed)
        remaining = n_rows
        for batch in source.iter_batches(read):
            frame = pl.from_arrow(batch.table)
            assert isinstance(frame, pl.DataFrame)
            if batch.table.num_columns != len(read):  # only Count-like scans: no branch read
                frame = pl.DataFrame({c: pl.Series(c, [], dtype=schema[c]) for c in read})
            frame = frame.cast({c: schema[c] for c in read})
            if predicate is not None:
                frame = frame.filter(predicate)
            frame = frame.select(columns)
            if remaining is not None:
                frame = frame.head(remaining)
                remaining -= frame.height
            yield frame
            if remaining is not None and remaining <= 0:
                return

    return register_io_source(io_source, schema=schema)
