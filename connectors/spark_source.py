"""ROOT files as a PySpark data source: ``spark.read.format("root")``.

>>> spark.dataSource.register(RootDataSource)                      # doctest: +SKIP
>>> df = (spark.read.format("root").option("tree", "Events")        # doctest: +SKIP
...       .option("columns", "MET_pt,Muon_pt").load("data/*.root"))

* **Schema** from the first file, with RDataFrame's column types. Spark has no unsigned
  integers: ``UChar_t``/``UShort_t``/``UInt_t`` widen to the next signed type (values kept);
  ``ULong64_t`` becomes ``bigint`` with the same bits (values of 2^63 and above read negative).
  Jagged branches are ``array<T>`` (``array<array<T>>`` for ``vector<vector<T>>``).
* **Partitions** are runs of whole TTree/RNTuple clusters (``RootSource.partitions``), about
  ``partition_entries`` entries each (option; default 100 000): no basket is read by two tasks.
* **Column pruning.** Spark's Python data source API has no pruning hook, so the reader reads
  only the branches of the schema it is given: ``option("columns", "a,b")`` or a user schema
  (``.schema("MET_pt float")``). hepframe's Spark engine sets the option to the branches the
  analysis needs.
* **Reads on the executors** with uproot, one partition per task; nothing goes to the driver.
* ``option("entry_column", "rdfentry_")`` adds the global entry number (``bigint``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
from hepframe.connectors.root import DEFAULT_STEP_SIZE, RootSource, resolve_files

from hepframe.engines.spark_compiler import SPARK_TYPES, spark_type
from hepframe.errors import DataSourceError
from hepframe.expr.types import CType

try:  # pyspark is an optional dependency (hepframe[spark])
    from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
    from pyspark.sql.types import StructType
except ImportError as exc:  # pragma: no cover - exercised only without pyspark
    raise ImportError("the Spark data source needs pyspark: pip install 'hepframe[spark]'") from exc

DEFAULT_PARTITION_ENTRIES = 100_000


def spark_arrow_type(ctype: CType) -> pa.DataType:
    """The Arrow type Spark exchanges for a column of C++ type ``ctype`` (32-bit list offsets)."""
    name = SPARK_TYPES[ctype.scalar.dtype.name][1]
    out = pa.string() if name == "object" else pa.from_numpy_dtype(np.dtype(name))
    for _ in range(ctype.depth):
        out = pa.list_(out)
    return out


def to_spark_arrow(array: pa.ChunkedArray | pa.Array, ctype: CType) -> pa.Array:
    """Cast a column as read by the connector to the Arrow type Spark expects (uint64: same bits)."""
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    if ctype.scalar.dtype.name == "uint64":
        return _map_values(array, lambda values: values.view(pa.int64()), ctype.depth)
    return array.cast(spark_arrow_type(ctype))


def from_spark_arrow(array: pa.ChunkedArray | pa.Array, ctype: CType) -> pa.Array:
    """Inverse of :func:`to_spark_arrow`: the connector's own Arrow type (``large_list``, unsigned)."""
    from hepframe.connectors.root import _arrow_type

    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    inner = array.type
    while pa.types.is_list(inner) or pa.types.is_large_list(inner):
        inner = inner.value_type
    if ctype.scalar.dtype.name == "uint64" and pa.types.is_int64(inner):  # bit-cast by the root source
        array = _map_values(array, lambda values: values.view(pa.uint64()), ctype.depth)
    return array.cast(_arrow_type(ctype))  # e.g. Parquet's uint64 arrives from Spark as decimal(20,0)


def _map_values(array: pa.Array, fn, depth: int) -> pa.Array:
    if depth == 0:
        return fn(array)
    inner = _map_values(array.flatten(), fn, depth - 1)
    offsets = array.offsets
    if isinstance(array, pa.LargeListArray):
        return pa.LargeListArray.from_arrays(pa.compute.subtract(offsets, offsets[0]), inner)
    return pa.ListArray.from_arrays(pa.compute.subtract(offsets, offsets[0]), inner)


class RootPartition(InputPartition):
    """Global entries [start, stop) of one file; ``offset`` is the file's first global entry."""

    def __init__(self, file: str, start: int, stop: int, offset: int) -> None:
        super().__init__((file, start, stop))
        self.file, self.start, self.stop, self.offset = file, start, stop, offset


class RootDataSource(DataSource):
    """``format("root")``: ROOT files (TTree or RNTuple) as a Spark DataFrame.

    Options: ``tree`` (required), ``columns``, ``partition_entries``, ``step_size``,
    ``entry_column``, ``entry_start``/``entry_stop`` (global entries to read), ``optional``
    (branches that may be missing from some files: null there) and ``threads`` (decompression
    threads per task, default 1).
    """

    @classmethod
    def name(cls) -> str:
        return "root"

    def _source(self) -> RootSource:
        options = self.options
        tree = options.get("tree")
        if not tree:
            raise DataSourceError('format("root") needs the tree name: .option("tree", "Events")')
        paths = options.get("paths") or options.get("path")
        if not paths:
            raise DataSourceError('format("root") needs input files: .load("file.root") or .load(["a.root", ...])')
        files = _parse_paths(paths)
        step = int(options.get("step_size", DEFAULT_STEP_SIZE))
        entries = None
        if "entry_start" in options or "entry_stop" in options:
            entries = (int(options.get("entry_start", 0)), int(options.get("entry_stop", 2**62)))
        source = RootSource(tree, resolve_files(files), step, threads=int(options.get("threads", 1)), entry_range=entries)
        source.optional = {c.strip() for c in options.get("optional", "").split(",") if c.strip()}
        return source

    def schema(self) -> str:
        source = self._source()
        schema = dict(source.schema)
        for name in source.optional - set(schema):  # missing from the first file: typed from another
            found = source.find_column(name)
            if found is not None:
                schema[name] = found
        names = _requested_columns(self.options, schema)
        fields = [f"`{n}` {spark_type(schema[n])}{'' if n in source.optional else ' NOT NULL'}" for n in names]
        if self.options.get("entry_column"):
            fields.append(f"`{self.options['entry_column']}` bigint NOT NULL")
        return ", ".join(fields)

    def reader(self, schema: StructType) -> DataSourceReader:
        return RootReader(self._source(), schema, dict(self.options))


class RootReader(DataSourceReader):
    def __init__(self, source: RootSource, schema: StructType, options: dict[str, Any]) -> None:
        self.entry_column = options.get("entry_column")
        self.columns = [f.name for f in schema.fields if f.name != self.entry_column]
        self.optional = source.optional
        source.check_columns([c for c in self.columns if c not in self.optional])
        self.ctypes: dict[str, CType] = {}
        for n in self.columns:
            ctype = source.schema.get(n) or source.find_column(n)
            if ctype is None:
                raise DataSourceError(f"no branch {n!r} in any file of tree {source.tree!r}")
            self.ctypes[n] = ctype
        self.tree, self.files, self.step_size = source.tree, source.files, source.step_size
        self.threads = source.threads
        self.partition_entries = int(options.get("partition_entries", DEFAULT_PARTITION_ENTRIES))
        self._source = source
        from pyspark.sql.pandas.types import to_arrow_schema

        self.arrow_schema = to_arrow_schema(schema)  # Spark checks names and nullability too

    def partitions(self) -> list[RootPartition]:
        offsets, total = {}, 0
        for path in self.files:
            offsets[path] = total
            total += self._source._open_tree(path).num_entries
        return [RootPartition(p.file, p.start, p.stop, offsets[p.file])
                for p in self._source.partitions(self.partition_entries)]  # fmt: skip

    def read(self, partition: InputPartition) -> Iterator[pa.RecordBatch]:
        assert isinstance(partition, RootPartition)
        source = RootSource(self.tree, [partition.file], self.step_size, threads=self.threads)
        source.optional = self.optional
        source.__dict__["schema"] = {**source.schema, **self.ctypes}  # optional branches typed as elsewhere
        local = (partition.start - partition.offset, partition.stop - partition.offset)
        for batch in source.iter_batches(self.columns, entry_range=local):
            arrays = [to_spark_arrow(batch.table.column(n), self.ctypes[n]) for n in self.columns]
            if self.entry_column:
                start = partition.offset + batch.entry_start
                arrays.append(pa.array(np.arange(start, start + batch.table.num_rows, dtype=np.int64)))
            fields = self.arrow_schema
            arrays = [a.cast(f.type) for a, f in zip(arrays, fields, strict=True)]
            yield pa.RecordBatch.from_arrays(arrays, schema=fields)


def _parse_paths(paths: str) -> list[str]:
    # Spark passes load([...]) as a JSON list in the "paths" option, load("x") as "path".
    import json

    if paths.startswith("["):
        return list(json.loads(paths))
    return [paths]


def _requested_columns(options, schema: dict[str, CType]) -> list[str]:
    requested = options.get("columns")
    if requested is None:
        return list(schema)
    names = [c.strip() for c in requested.split(",") if c.strip()]
    from hepframe.errors import did_you_mean

    for n in names:
        if n not in schema:
            raise DataSourceError(f"no branch {n!r} in the ROOT files' tree{did_you_mean(n, schema)}")
    return names
