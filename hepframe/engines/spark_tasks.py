"""What runs inside each Spark task: the executor over the partition's batches, and its partial state.

A :class:`PartitionTask` is pickled once per event loop on the driver. Each task unpickles it,
runs the engine-neutral executor over its batches with :class:`PartitionEngine` (the Polars engine,
substituting the columns Spark computed), and returns ``(partition, failed, pickled state)``;
the driver merges the states (see :mod:`hepframe.engines.spark_engine`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from hepframe import graph as g
from hepframe.connectors import Batch
from hepframe.connectors.base import DataSource
from hepframe.engines.polars_engine import PolarsEngine
from hepframe.errors import DataSourceError, HepframeError
from hepframe.expr import ir
from hepframe.expr.types import CType

ENTRY = "__entry__"  # the global entry number column of the Spark plan


class PartitionEngine(PolarsEngine):
    """The Polars engine inside a Spark task: subtrees Spark computed arrive as columns.

    ``precomputed`` maps an expression (as the executor hands it over) to the column holding
    its values. Where such a column holds nulls in the frame at hand (Spark's undefined values:
    an index out of range, RVecs of different sizes, ...), the subtree is computed here instead,
    so errors carry the same precise message on every engine. With ``record`` set, the engine
    notes every expression it is given (the planning walk over an empty batch).
    """

    PARALLEL_BATCHES = False  # a task is one thread of a Spark executor (and recording keeps order)
    LAZY_BRANCHES = False  # Spark's precomputed columns come with the batch: frames keep what they read

    def __init__(self, precomputed: dict[ir.Expr, str] | None = None, record: list | None = None,
                 nullable: set[str] | None = None) -> None:  # fmt: skip
        super().__init__()
        self.precomputed = precomputed or {}
        self.nullable = nullable or set()
        self.record = record

    def _substituted(self, expr: ir.Expr, frame=None, defines: str | None = None) -> ir.Expr:
        if self.record is not None:
            self.record.append((defines, expr))
        if not self.precomputed:
            return expr
        found, nullable = self.precomputed, self.nullable

        def replace(node: ir.Expr) -> ir.Expr | None:
            name = found.get(node)
            if name is None or (frame is not None and name in nullable and frame[name].null_count()):
                return None
            return ir.Column(node.type, name)

        return ir.substitute(expr, replace)

    def with_columns(self, frame, columns):
        return super().with_columns(frame, [(n, self._substituted(e, frame, n), t) for n, e, t in columns])

    def apply_filter(self, frame, expr, text):
        return super().apply_filter(frame, self._substituted(expr, frame), text)

    def select_columns(self, frame, names):
        # The executor names the columns its expressions read; Spark's precomputed columns stand in
        # for some of those expressions, so they stay.
        return super().select_columns(frame, names | set(self.precomputed.values()))

    def evaluate(self, frame, exprs):
        return super().evaluate(frame, [(self._substituted(e, frame), t) for e, t in exprs])


@dataclass
class SchemaSource(DataSource):
    """What a task needs of the driver's source: names and types (it reads nothing itself)."""

    tree: str
    files: list[str]
    schema: dict[str, CType]

    @property
    def num_entries(self) -> int:
        raise DataSourceError("a Spark task reads its partition, not the driver's source")

    def iter_batches(self, columns: Sequence[str], entry_range: tuple[int, int] | None = None) -> Iterator[Batch]:
        raise DataSourceError("a Spark task reads its partition, not the driver's source")


@dataclass
class PartitionTask:
    """Everything a Spark task needs, pickled once per event loop."""

    analysis: g.Analysis
    actions: list[g.Action]
    precomputed: dict[ir.Expr, str]
    nullable: set[str]  # precomputed columns that may hold undefined values (recomputed there)
    branches: dict[str, CType]  # source branches the task receives, with their C++ types
    outputs: dict[str, CType]  # columns Spark computed, with the C++ types of their expressions
    udfs: dict[str, Any]
    #: Reading in the task, by partition id: (source, start, stop, offset). The task reads the
    #: source's entries [start, stop); ``offset`` turns its entry numbers into global ones.
    partitions: list[tuple[Any, int, int, int]] | None = None

    def read(self, partition_id: int) -> Iterator[Batch]:
        """The batches of one cluster-aligned partition, read here with uproot (global entry numbers)."""
        assert self.partitions is not None
        source, start, stop, offset = self.partitions[partition_id]
        for batch in source.iter_batches(sorted(self.branches), entry_range=(start, stop)):
            yield Batch(batch.entry_start + offset, batch.table, batch.file)

    def batches(self, record_batch: pa.RecordBatch) -> Iterator[Batch]:
        """Hepframe batches (faithful types) from a Spark Arrow batch: runs of consecutive entries."""
        from hepframe.connectors.root import _arrow_type
        from hepframe.connectors.spark_source import from_spark_arrow

        if record_batch.num_rows == 0:
            return
        columns = {n: from_spark_arrow(record_batch.column(n), t) for n, t in self.branches.items()}
        columns |= {n: record_batch.column(n).cast(_arrow_type(t)) for n, t in self.outputs.items()}
        table = pa.table(columns) if columns else pa.table({"__entry_only__": np.zeros(record_batch.num_rows, np.int8)})
        entries = record_batch.column(ENTRY).to_numpy()
        breaks = np.flatnonzero(np.diff(entries) != 1) + 1
        for lo, hi in zip([0, *breaks], [*breaks, len(entries)], strict=True):
            yield Batch(int(entries[lo]), table.slice(lo, hi - lo), "<spark>")


def run_task(payload: bytes, batches_of: Callable[[PartitionTask], Iterable[Batch]],
             events: Any = None) -> tuple[int, bool, bytes]:  # fmt: skip
    """One Spark task: an executor pass over its batches; returns (partition, failed, pickled state).

    ``events``: an accumulator of the entries read, for the driver's progress bar (or None).
    """
    import pickle

    from pyspark import TaskContext, cloudpickle

    from hepframe.execution import Executor
    from hepframe.udf import register

    task: PartitionTask = cloudpickle.loads(payload)
    for u in task.udfs.values():
        register(u)
    executor = Executor(task.analysis, PartitionEngine(task.precomputed, nullable=task.nullable), progress=False)
    executor.start(task.actions)
    error: BaseException | None = None
    read = 0
    try:
        for batch in batches_of(task):
            executor.process(batch)
            read += batch.table.num_rows
    except HepframeError as exc:  # a property of the data: reported, not retried
        error = exc
    if events is not None:
        events.add(read)  # one update per task: Spark sends it to the driver as the task ends
    context = TaskContext.get()
    state = cloudpickle.dumps(error if error is not None else executor.export_state(), protocol=pickle.HIGHEST_PROTOCOL)
    return (context.partitionId() if context else 0), error is not None, state


def run_on_rows(payload: bytes, record_batches: Iterator[pa.RecordBatch],
                events: Any = None) -> Iterator[pa.RecordBatch]:  # fmt: skip
    """``mapInArrow`` body: the events (and Spark's columns) arrive as Arrow batches."""
    partition, failed, state = run_task(payload, lambda task: (b for rb in record_batches for b in task.batches(rb)),
                                        events)  # fmt: skip
    yield pa.RecordBatch.from_pydict({"partition": [partition], "failed": [failed], "state": [state]},
                                     schema=_STATE_SCHEMA)  # fmt: skip


def run_on_partition_ids(payload: bytes, ids: Iterable[int], events: Any = None) -> Iterator[tuple[int, bool, bytes]]:
    """``mapPartitions`` body: the task reads its cluster-aligned entry ranges itself."""
    yield run_task(payload, lambda task: (b for pid in ids for b in task.read(pid)), events)


_STATE_SCHEMA = pa.schema([("partition", pa.int32()), ("failed", pa.bool_()), ("state", pa.binary())])
STATE_DDL = "partition int, failed boolean, state binary"
