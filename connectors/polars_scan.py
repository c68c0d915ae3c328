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

from hepframe.engines.polars_engine import polars_dtype
from hepframe.expr.types import CType


def nanoaod_collections(schema: dict[str, CType]) -> dict[str, list[str]]:
    """NanoAOD collections: ``Muon`` -> [Muon_pt, Muon_eta, ...] for every counter ``nMuon``."""
    out: dict[str, list[str]] = {}
    for name, t in schema.items():
        if name.startswith("n") and not t.is_rvec and t.scalar.is_integral:
            members = [c for c, ct in schema.items() if c.startswith(name[1:] + "_") and ct.depth == 1]
            if members:
                out[name[1:]] = members
    return out


def _zip_collection(table, prefix: str, members: list[str]):
    """list<struct<pt, eta, ...>> from jagged branches sharing one counter (zero-copy on the values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    first = table.column(members[0]).combine_chunks()
    fields = [table.column(m).combine_chunks().flatten() for m in members]
    struct = pa.StructArray.from_arrays(fields, names=[m[len(prefix) + 1 :] for m in members])
    offsets = pc.subtract(first.offsets, first.offsets[0]) if len(first) else first.offsets
    return pa.LargeListArray.from_arrays(offsets, struct)


def scan_root(files, tree: str = "Events", step_size: int = DEFAULT_STEP_SIZE,
              collections: bool = False) -> pl.LazyFrame:  # fmt: skip
    """Lazily scan a TTree (files: a path, a glob or a list) as a Polars LazyFrame.

    With ``collections=True``, NanoAOD collections become record lists: the branches
    ``Muon_pt``, ``Muon_eta``, ... (counter ``nMuon``) are one column ``Muon`` of type
    ``list[struct[pt, eta, ...]]``, for users who prefer records to parallel arrays.

    Examples
    --------
    >>> import polars as pl
    >>> from hepframe import scan_root
    >>> lf = scan_root("sample.root")  # doctest: +SKIP
    >>> lf.filter(pl.col("nMuon") == 2).select("MET_pt").collect()  # doctest: +SKIP

    """
    from polars.io.plugins import register_io_source

    source = RootSource.open(tree, files, step_size)
    schema: dict[str, pl.DataType] = {name: polars_dtype(t) for name, t in source.schema.items()}
    groups = nanoaod_collections(source.schema) if collections else {}
    for prefix, members in groups.items():
        for m in members:
            del schema[m]
        schema[prefix] = pl.List(pl.Struct({m[len(prefix) + 1 :]: polars_dtype(source.schema[m].element) for m in members}))

    def io_source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
                  batch_size: int | None) -> Iterator[pl.DataFrame]:  # fmt: skip
        columns = list(with_columns) if with_columns is not None else list(schema)
        needed = set(columns) | (set(predicate.meta.root_names()) if predicate is not None else set())
        read = sorted(needed)
        branches = sorted({m for c in read for m in groups.get(c, [c])})
        remaining = n_rows
        for batch in source.iter_batches(branches):
            table = batch.table
            for prefix in (c for c in read if c in groups):
                table = table.append_column(prefix, _zip_collection(table, prefix, groups[prefix]))
            frame = pl.from_arrow(table.select(read) if read and table.num_columns else table)
            assert isinstance(frame, pl.DataFrame)
            if not read or table.num_columns == 0 or "__entry_only__" in table.column_names:
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
