"""The Spark engine: the same analysis graph, run as one Spark job per event loop.

Two ways to feed the tasks (``SparkEngine(native=...)``):

* **Read in the tasks** (default for ROOT files): each task reads its cluster-aligned entry
  range with uproot and runs the executor on it (an RDD ``mapPartitions``). Event data never
  enters the JVM, which is the fastest path for ROOT input.
* **Native Spark columns** (``native=True``; always for in-memory tables), in four steps:

  1. *Plan on the driver.* The engine-neutral executor walks the graph once over an empty
     batch, recording every expression it would hand an engine (Defines as seen from each
     scope and universe, Filters, the actions' columns).
  2. *Native Spark columns.* Every maximal subtree that Spark computes exactly as C++
     (:mod:`hepframe.engines.spark_compiler`) becomes a column of the Spark plan, computed by
     the JVM next to the ``root`` data source; Defines are inlined into their users.
  3. *One pass per partition.* ``mapInArrow`` runs the same executor in each task over the
     partition's Arrow batches, with the Polars engine and the ``hepframe.udfs`` kernels for the
     rest; the subtrees Spark computed arrive as columns and are substituted, not recomputed.
  4. *Merge* (both ways): each task returns its partial results (histogram sums, counts,
     cut-flow); the driver merges them in entry order. Only these small states are collected,
     never event data (except what an action asks for, such as ``Take``).

Results equal the Polars engine's: counts exactly, floating-point sums up to the order of the
per-partition additions.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from hepframe import graph as g
from hepframe.connectors import Batch
from hepframe.engines.base import NODE_KEYS, BatchEngine, DistributedEngine, Support, register_engine, shape_of
from hepframe.engines.polars_engine import PolarsEngine
from hepframe.engines.spark_compiler import NATIVE_KEYS, SparkCompiler, native
from hepframe.engines.spark_tasks import (
    ENTRY,
    STATE_DDL,
    PartitionEngine,
    PartitionTask,
    SchemaSource,
    run_on_partition_ids,
    run_on_rows,
)
from hepframe.errors import HepframeError, UnsupportedOperationError
from hepframe.expr import ir
from hepframe.expr.functions import FUNCTIONS


def _support_table() -> dict[str, dict[str, Support]]:
    polars = PolarsEngine.SUPPORT
    out: dict[str, dict[str, Support]] = {}
    for key in [*NODE_KEYS, *FUNCTIONS]:
        out[key] = {}
        for shape in ("scalar", "rvec"):
            if shape in NATIVE_KEYS.get(key, ()):
                out[key][shape] = Support.NATIVE
            elif polars.get(key, {}).get(shape, Support.UNSUPPORTED) is not Support.UNSUPPORTED:
                out[key][shape] = Support.KERNEL  # in the task's Python worker (Polars, udfs kernels)
            else:
                out[key][shape] = Support.UNSUPPORTED
    return out


@dataclass
class SparkPlan:
    branches: list[str]  # source branches the actions need
    precomputed: dict[ir.Expr, str]  # native subtrees -> their Spark columns
    nullable: set[str]
    spark_columns: dict[str, Any]  # column name -> pyspark Column
    python_branches: list[str]  # branches the Python tasks still receive


def with_task_threads(builder, cpus: int = 1):
    """``builder`` with Polars in each Python task using ``cpus`` threads (match ``spark.task.cpus``).

    Polars would otherwise start a thread per core in every task: on ``local[N]`` with N tasks at
    once that is N times more threads than cores, and each task slows down (ADL query 8 on
    local[2]: median 0.79 s with Polars on every core in each task, 0.66 s with one thread).
    """
    return builder.config("spark.executorEnv.POLARS_MAX_THREADS", str(cpus))


def default_session(config: dict[str, str] | None = None):
    """The active Spark session, or a new local one using every core (and this Python for workers).

    ``config`` (Spark settings, e.g. from ``PyRDF.use``) applies to a new session only.
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers must see hepframe's environment
    session = SparkSession.getActiveSession() or SparkSession._instantiatedSession
    if session is None:
        builder = (
            with_task_threads(SparkSession.builder)
            .master(os.environ.get("HEPFRAME_SPARK_MASTER", f"local[{os.cpu_count() or 1}]"))
            .appName("hepframe")
            # hepframe draws its own bar of the tasks (_TaskProgress); Spark's would write over it.
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "100000")
        )
        for key, value in (config or {}).items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    register_data_source(session)
    return session


_REGISTERED: set[int] = set()


def register_data_source(session) -> None:
    """Make ``format("root")`` available in ``session`` (once per session: it costs a JVM round trip)."""
    from hepframe.connectors.spark_source import RootDataSource

    if id(session) not in _REGISTERED:
        session.dataSource.register(RootDataSource)
        _REGISTERED.add(id(session))


@register_engine
class SparkEngine(DistributedEngine):
    """Runs event loops as Spark jobs; inside the tasks, batches run on the Polars engine."""

    name = "spark"
    SUPPORT = _support_table()
    UDF_SUPPORT = Support.KERNEL
    #: Verbs that need a global entry order or a local side effect, with the reason (support matrix).
    UNSUPPORTED_VERBS = {
        "Range": "entries are numbered per partition on a cluster; as in ROOT's distributed RDataFrame",
    }

    def __init__(self, spark: Any = None, npartitions: int | None = None, native: bool | None = None) -> None:
        self._tasks = PolarsEngine()  # what the tasks run, and what the driver plans with
        self.spark = spark
        self.npartitions = npartitions
        #: Whether ROOT files go through the ``root`` data source and native Spark columns (True),
        #: or are read by the tasks themselves (False). Default: read in the tasks, which is
        #: faster: uproot's Arrow batches would otherwise cross into the JVM as rows and back.
        self.native = native

    def support(self, node: ir.Expr) -> Support:
        if node.op_key.startswith("udf:"):
            return self.UDF_SUPPORT
        if native(node) and shape_of(node) in NATIVE_KEYS.get(node.op_key, ()):
            return Support.NATIVE
        return Support.KERNEL if self._tasks.support(node) is not Support.UNSUPPORTED else Support.UNSUPPORTED

    def batch_engine(self) -> BatchEngine:
        return self._tasks

    def describe_mode(self) -> str:
        how = "native Spark columns, Polars in the tasks for the rest" if self.native else (
            "ROOT files read in the tasks (Polars plan below); Parquet and tables with native Spark columns")
        return f"spark ({how})"

    def explain_lines(self, expr: ir.Expr) -> list[str]:
        """The subtrees that become Spark SQL columns when Spark holds the data (native mode, Parquet)."""
        subtrees: list[ir.Expr] = []

        def visit(node: ir.Expr) -> None:
            if not isinstance(node, (ir.Column, ir.Literal)) and not _trivial(node) and all(
                    native(n) for n in node.walk()):  # fmt: skip
                subtrees.append(node)
                return
            for child in node.children():
                visit(child)

        visit(expr)
        if not subtrees:
            return ["spark SQL: nothing (runs in the tasks)"]
        return [f"spark SQL: {', '.join(sorted({n.op_key for n in t.walk()}))}" for t in subtrees]

    def describe(self) -> str:
        return f"spark ({self.session.sparkContext.master})"

    @property
    def session(self):
        if self.spark is None:
            self.spark = default_session()
        else:
            register_data_source(self.spark)
        return self.spark

    # -- one event loop -------------------------------------------------------------------
    def run_actions(self, analysis: g.Analysis, actions: list[g.Action],
                    progress: bool | None = None) -> dict[g.Action, Any]:  # fmt: skip
        """One Spark job; ``progress``: the RDataFrame's option (None: the graph's, then the default rule)."""
        from pyspark import cloudpickle

        from hepframe.connectors.root import RootSource
        from hepframe.connectors.spec import DatasetSource
        from hepframe.execution import Executor

        source = analysis.root.source
        # Spark's format("root") reads one tree name without friends; chains of other shapes are read in tasks.
        read_in_tasks = (isinstance(source, RootSource) and (not self.native or not source.single_tree)
                         or isinstance(source, DatasetSource))  # fmt: skip
        if read_in_tasks:
            branches = sorted(Executor(analysis, self._tasks).branches(actions))
            plan = SparkPlan(branches, {}, set(), {}, branches)
            parts = self._task_partitions(source)
        else:
            plan = self.plan(analysis, actions)
            frame = self._source_frame(source, plan.branches)
            selected = [frame[f"`{n}`"] for n in plan.python_branches] + [frame[ENTRY]]
            selected += [column.alias(name) for name, column in plan.spark_columns.items()]
            frame = frame.select(*selected)

        task = PartitionTask(
            g.Analysis(analysis.root, actions=list(actions), nodes=list(analysis.nodes)), list(actions),
            plan.precomputed, plan.nullable, {n: source.schema[n] for n in plan.python_branches},
            {name: expr.type for expr, name in plan.precomputed.items()}, _udfs(analysis),
        )  # fmt: skip
        if read_in_tasks:
            task.partitions = parts
        # User code (UDFs, Reduce functions) travels by value: executors need hepframe, not the
        # user's scripts. hepframe itself is imported there by reference.
        for module in {getattr(u.func, "__module__", None) for u in task.udfs.values()}:
            if module and module in sys.modules and not module.startswith("hepframe"):
                cloudpickle.register_pickle_by_value(sys.modules[module])
        original = analysis.root.source
        analysis.root.source = SchemaSource(original.tree, list(original.files), dict(original.schema))
        try:
            payload = cloudpickle.dumps(task)
        finally:
            analysis.root.source = original

        bar = _TaskProgress.start(self.session, progress if progress is not None else analysis.progress,
                                  len(parts) if read_in_tasks else None)  # fmt: skip
        events = bar.events if bar is not None else None
        succeeded = False
        try:
            if read_in_tasks:  # plain RDD tasks: less per-job overhead than a SQL plan
                ids = self.session.sparkContext.parallelize(range(len(parts)), max(1, len(parts)))
                job = ids.mapPartitions(lambda it: run_on_partition_ids(payload, it, events))
            else:
                job = frame.mapInArrow(lambda batches: run_on_rows(payload, batches, events), STATE_DDL)
            rows = [tuple(r) for r in _collect_states(job)]
            succeeded = True
        finally:
            if bar is not None:
                bar.close(succeeded)
        executor = Executor(analysis, self._tasks)
        executor.start(actions)
        for _, failed, blob in sorted(rows, key=lambda r: r[0]):
            state = cloudpickle.loads(blob)
            if failed:
                raise state
            executor.merge_state(state)
        return executor.finish()

    def plan(self, analysis: g.Analysis, actions: list[g.Action]) -> SparkPlan:
        """What Spark computes natively, and what the Python tasks receive, for these actions."""
        from hepframe.execution import Executor

        self.session  # noqa: B018 - Spark columns need a running session
        branches = sorted(Executor(analysis, self._tasks).branches(actions))
        recorded = self._record(analysis, actions, branches, analysis.root.source)
        optional = set(analysis.root.source.optional_columns())
        return SparkPlan(branches, *self._plan(recorded, branches, optional))

    def _record(self, analysis, actions, branches, source) -> list[tuple[str | None, ir.Expr]]:
        """The expressions the executor hands the engine, from a walk over an empty batch."""
        from hepframe.connectors.root import _arrow_type
        from hepframe.execution import Executor

        recorded: list[tuple[str | None, ir.Expr]] = []
        walker = Executor(analysis, PartitionEngine(record=recorded))
        walker.start(actions)
        empty = pa.table({n: pa.array([], type=_arrow_type(source.schema[n])) for n in branches}
                         or {"__entry_only__": pa.array([], pa.int8())})  # fmt: skip
        walker.process(Batch(0, empty, "<plan>"))
        return recorded

    def _plan(self, recorded, branches: list[str], optional: set[str]):
        """Spark columns for the maximal native subtrees, and the branches Python still needs."""
        from pyspark.sql import functions as F

        from hepframe.engines.spark_compiler import may_be_undefined

        definitions = {name: expr for name, expr in recorded if name is not None}

        def expand(expr: ir.Expr, defs: dict[str, ir.Expr], depth: int = 0) -> ir.Expr:
            """``expr`` over source branches only (the Defines ``defs`` inlined)."""
            return ir.substitute(expr, lambda n: expand(defs[n.name], defs, depth + 1)
                                 if isinstance(n, ir.Column) and n.name in defs and depth < 64 else None)  # fmt: skip

        resolving: set[str] = set()
        cache: dict[str, Any] = {}

        def resolve(name: str):
            if name in optional:
                return None  # nulls where a file lacks it: handled by the tasks, as on Polars
            if name in branches:
                return F.col(f"`{name}`")
            if name in cache:
                return cache[name]
            if name not in definitions or name in resolving:
                return None
            resolving.add(name)
            cache[name] = compiler.try_compile(definitions[name])
            resolving.discard(name)
            return cache[name]

        compiler = SparkCompiler(resolve)
        precomputed: dict[ir.Expr, str] = {}
        columns: dict[str, Any] = {}

        def visit(node: ir.Expr) -> None:
            if node in precomputed:
                return
            if not isinstance(node, (ir.Column, ir.Literal)) and not _trivial(node):
                compiled = compiler.try_compile(node)
                if compiled is not None:
                    name = f"__spark{len(precomputed)}__"
                    precomputed[node] = name
                    columns[name] = compiled
                    return
            for child in node.children():
                visit(child)

        for _, expr in recorded:
            visit(expr)
        # Branches still read in Python: those used outside Spark's subtrees, and those of the
        # subtrees that may have to be recomputed there (where Spark found undefined values).
        nullable: set[str] = set()
        used: set[str] = set()
        for node, name in precomputed.items():
            expanded = expand(node, definitions)
            if any(may_be_undefined(n) for n in expanded.walk()):
                nullable.add(name)
                used |= ir.free_columns(expanded)
        task_engine = PartitionEngine(precomputed)
        substituted = {name: task_engine._substituted(expr) for name, expr in definitions.items()}
        for _, expr in recorded:
            used |= ir.free_columns(expand(task_engine._substituted(expr), substituted))
        return precomputed, nullable, columns, [b for b in branches if b in used]

    def _partitions(self, source) -> list[tuple[str, int, int, int]]:
        """(file, first, stop, file's first global entry) of each cluster-aligned partition."""
        total = source.num_entries if source.entry_range is None else source.entry_range[1] - source.entry_range[0]
        target = self._target_entries(total)
        offsets, start = {}, 0
        for path in source.files:
            offsets[path] = start
            start += source._open_tree(path).num_entries
        return [(p.file, p.start, p.stop, offsets[p.file]) for p in source.partitions(target)]

    def _task_partitions(self, source) -> list[tuple[Any, int, int, int]]:
        """What each task reads: (source, start, stop, offset to global entries).

        ROOT files: a one-file copy of the source per file (the interpreted schema travels with
        it), read on one thread, in batches of the source's step size (batches of four steps were
        slower: ADL query 7 on local[2], 1.33 s against 0.97 s). Dataset specs: the spec itself,
        with global entry ranges that are runs of whole clusters of one sample.
        """
        import copy

        from hepframe.connectors.root import RootSource

        if not isinstance(source, RootSource):
            target = self._target_entries(source.num_entries)
            out, offset = [], 0
            for sample in source.sources:
                out += [(source, offset + p.start, offset + p.stop, 0) for p in sample.partitions(target)]
                offset += sample.num_entries
            return out
        parts = self._partitions(source)
        if source.friends:  # friends are matched by global entry: the whole chain, read by global ranges
            whole = copy.copy(source)
            whole.threads, whole.entry_range = 1, None
            return [(whole, start, stop, 0) for _, start, stop, _ in parts]
        one_file: dict[str, RootSource] = {}
        for file, *_ in parts:
            if file not in one_file:
                one = copy.copy(source)  # no open files (RootSource.__getstate__)
                one.__dict__.pop("num_entries", None)
                one.files, one.threads, one.entry_range = [file], 1, None
                one_file[file] = one
        return [(one_file[f], start - offset, stop - offset, offset) for f, start, stop, offset in parts]

    def _target_entries(self, total: int) -> int:
        from hepframe.connectors.spark_source import DEFAULT_PARTITION_ENTRIES

        return max(1, math.ceil(total / self.npartitions)) if self.npartitions else DEFAULT_PARTITION_ENTRIES

    def _source_frame(self, source, branches: list[str]):
        from hepframe.connectors.memory import TableSource
        from hepframe.connectors.root import RootSource

        spark = self.session
        if isinstance(source, RootSource):
            reader = (spark.read.format("root").option("tree", source.tree).option("columns", ",".join(branches))
                      .option("entry_column", ENTRY).option("step_size", source.step_size)
                      .option("optional", ",".join(sorted(source.optional_columns() & set(branches)))))  # fmt: skip
            if source.entry_range is not None:
                reader = reader.option("entry_start", source.entry_range[0]).option("entry_stop", source.entry_range[1])
            if self.npartitions:
                total = source.num_entries if source.entry_range is None else source.entry_range[1] - source.entry_range[0]
                reader = reader.option("partition_entries", max(1, math.ceil(total / self.npartitions)))
            return reader.load(source.files)
        from hepframe.connectors.parquet import ParquetSource

        if isinstance(source, ParquetSource):  # Spark's own reader: splits, pruning, JVM decoding
            from pyspark.sql import functions as F

            frame = spark.read.parquet(*[os.path.abspath(f) for f in source.files])
            offsets, start = [], 0
            for path, n in zip(source.files, source.file_entries, strict=True):
                offsets += [F.lit(path if "://" in path else os.path.abspath(path)), F.lit(start)]
                start += n
            # Spark reports local files as file:/a/b (URL-encoded): back to the plain path.
            where = F.url_decode(F.regexp_replace(F.col("_metadata.file_path"), "^file:/+", "/"))
            entry = F.create_map(*offsets)[where] + F.col("_metadata.row_index")
            frame = frame.select(*[F.col(f"`{b}`") for b in branches], entry.cast("bigint").alias(ENTRY))
            return _fewer_partitions(frame, self.npartitions)
        if isinstance(source, TableSource):
            from hepframe.connectors.spark_source import to_spark_arrow

            table = pa.table({n: to_spark_arrow(source.table.column(n), source.schema[n]) for n in branches}
                             | {ENTRY: pa.array(np.arange(source.num_entries, dtype=np.int64))})  # fmt: skip
            frame = spark.createDataFrame(table)
            return _fewer_partitions(frame, self.npartitions)
        raise UnsupportedOperationError(f"the spark engine cannot read a {type(source).__name__} yet")


class _TaskProgress:
    """Per-task progress of one Spark job, drawn on the driver: tasks done of all, and events read.

    The job carries a tag of its own; a driver thread polls Spark's status tracker for the tasks
    of the tagged jobs (all their stages, retries included) while the driver waits on the job.
    Each task adds the entries it read to an accumulator, which Spark merges on the driver as
    the task ends. Nothing of this exists when the bar is off.
    """

    POLL_SECONDS = 0.5  # a poll is a few JVM calls (1-3 ms): under 1% of one driver core

    def __init__(self, context, tasks: int | None) -> None:
        import threading
        import uuid

        from hepframe.progress import progress_bar

        self.context = context
        self.tag = f"hepframe-progress-{uuid.uuid4().hex}"
        self.events = context.accumulator(0)
        self.bar = progress_bar(tasks, True, unit="task", desc="hepframe [spark]")
        self._stages: dict[int, list[tuple[int, int]]] = {}  # job -> (stage, number of tasks): fixed once seen
        self._stop = threading.Event()
        context.addJobTag(self.tag)  # this thread's jobs only, next to any tag or job group of the user's
        self._thread = threading.Thread(target=self._watch, name="hepframe-spark-progress", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, session, enabled: bool | None, tasks: int | None = None) -> _TaskProgress | None:
        """The progress of the next job started on this thread, if shown; ``tasks``: its number, if known."""
        from hepframe.progress import progress_enabled

        if not progress_enabled(enabled):
            return None
        try:
            context = session.sparkContext
        except Exception:  # Spark Connect: no SparkContext on this side, so no task counts
            return None
        return cls(context, tasks)

    def _watch(self) -> None:
        wait = self.bar.delay  # nothing is drawn before: a job shorter than that is never polled
        while not self._stop.wait(wait):
            try:
                self._poll()
            except Exception:  # the bar never fails the job (e.g. the context stopping under it)
                return
            wait = self.POLL_SECONDS

    def _poll(self, finished: bool = False) -> int:
        """Update the bar from the tracker and the accumulator; the tasks of the job seen so far.

        ``finished``: the job has succeeded, so all its tasks are done (the tracker's status store
        is fed by an asynchronous listener and may not have counted the last ones yet).
        """
        from tqdm import tqdm

        # Python's StatusTracker has no getJobIdsForTag: the JVM's (Spark 3.5+).
        tracker, java_tracker = self.context._jsc.sc().statusTracker(), self.context._jsc.statusTracker()
        done = total = 0
        for job_id in tracker.getJobIdsForTag(self.tag):
            stages = self._stages.get(job_id)
            if stages is None:
                job = java_tracker.getJobInfo(job_id)
                infos = [(i, java_tracker.getStageInfo(i)) for i in (job.stageIds() if job is not None else ())]
                stages = [(i, info.numTasks()) for i, info in infos if info is not None]
                if job is not None and len(stages) == len(infos):
                    self._stages[job_id] = stages
            for stage_id, tasks in stages:
                stage = java_tracker.getStageInfo(stage_id)
                total, done = total + tasks, done + (stage.numCompletedTasks() if stage is not None else 0)
        bar, events = self.bar, self.events.value  # every task's update is in once the job has returned
        total = total or bar.total or 0
        done = total if finished else done
        rate = events / max(bar.format_dict["elapsed"], 1e-9)
        bar.set_postfix_str(f"{tqdm.format_sizeof(events)} ev, {tqdm.format_sizeof(rate)} ev/s", refresh=False)
        if total and total != bar.total:
            bar.total = total
        if done > bar.n:
            bar.update(done - bar.n)  # tqdm draws once the job has run for its delay
        elif bar.format_dict["elapsed"] >= bar.delay:
            bar.refresh()  # the elapsed time and the rates move on between tasks
        return total

    def close(self, succeeded: bool) -> None:
        import contextlib
        import time

        self._stop.set()
        self._thread.join()
        # The bar never fails the job, nor hides its error (e.g. a context stopped under it).
        with contextlib.suppress(Exception):
            # A bar still hidden (a job shorter than the delay) is never drawn: no last poll. Else
            # the final counts; a job so short that the tracker has not seen it yet waits for it.
            deadline = time.monotonic() + 2.0
            while (self.bar.format_dict["elapsed"] >= self.bar.delay and not self._poll(succeeded) and succeeded
                   and time.monotonic() < deadline):  # fmt: skip
                time.sleep(0.02)
        self.bar.close()
        with contextlib.suppress(Exception):
            self.context.removeJobTag(self.tag)


def _fewer_partitions(frame, n: int | None):
    """At most ``n`` partitions, merging neighbours (no shuffle: entries stay in runs)."""
    if n and frame.rdd.getNumPartitions() > n:
        return frame.coalesce(n)
    return frame


def _trivial(node: ir.Expr) -> bool:
    """Casts of columns or constants: cheaper to redo in the task than to ship as another column."""
    return isinstance(node, ir.Cast) and isinstance(node.operand, (ir.Column, ir.Literal))


def _udfs(analysis: g.Analysis) -> dict[str, Any]:
    from hepframe.udf import lookup_udf

    out = {}
    for node in analysis.nodes:
        expr = getattr(node, "expr", None)
        if isinstance(expr, ir.Expr):
            for sub in expr.walk():
                if isinstance(sub, ir.Call) and sub.func.startswith("udf:"):
                    out[sub.func[4:]] = lookup_udf(sub.func[4:])
    return out


def _collect_states(frame) -> list:
    """Run the job; a failure in a task (after Spark's retries) becomes a hepframe error."""
    try:
        return frame.collect()
    except Exception as exc:
        if isinstance(exc, HepframeError):
            raise
        from hepframe.errors import AnalysisError

        message = str(exc).strip().splitlines()
        raise AnalysisError(f"the Spark job failed: {message[-1] if message else type(exc).__name__}") from exc
