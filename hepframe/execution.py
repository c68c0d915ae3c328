"""The engine-neutral event loop: one pass over the data computes every pending action.

For each Arrow batch from the connector, the executor walks the analysis graph from the
source: a Filter narrows the frame (and counts pass/all for the cut-flow), a Range keeps the
requested entries, a Define is computed lazily, on the frame where it is first needed (as
RDataFrame does), and each action feeds its batch to a mergeable accumulator.

Systematic variations are *universes*: "nominal" and one per ``<variation>:<tag>``. In a
universe, the varied column is replaced (from its Vary node down) by that tag's value, and the
walk recomputes only what the universe's actions need; the batch is read once for all of them.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from hepframe import graph as g
from hepframe.actions import CutFlowEntry, CutFlowReport
from hepframe.connectors.root import RootSource
from hepframe.engines.base import BatchEngine, DistributedEngine, Engine
from hepframe.expr import ir
from hepframe.expr.binder import ENTRY_COLUMN
from hepframe.expr.ir import free_columns, rename_columns
from hepframe.expr.types import LONG, SIZE_T
from hepframe.progress import advance, event_bar

NOMINAL = "nominal"


@dataclass(frozen=True)
class ScopedColumn:
    """A computed column as seen from some node: a Define, or a varied column in a universe."""

    name: str  # the user's name
    internal: str  # the frame column
    expr: ir.Expr
    scope: g.Node  # where the expression's own names resolve
    text: str
    varied: bool = False  # depends on a varied column: its frame column is the universe's own


def universe_of(variation: str, tag: str) -> str:
    return f"{variation}:{tag}"


class Executor:
    """Runs the pending actions of one analysis (``run``), or takes part in a shared loop (``RunGraphs``)."""

    def __init__(self, analysis: g.Analysis, engine: BatchEngine, progress: bool | None = None):
        self.analysis = analysis
        self.engine = engine
        self.progress = progress
        self._scoped: dict[tuple, ir.Expr] = {}
        self._scopes: dict[tuple[int, str], dict[str, ScopedColumn]] = {}
        self._used: dict[tuple, frozenset[str]] = {}  # _used_from, per filter and frame layout
        self.deferred: list[tuple] | None = None  # set on the worker threads' executors
        self._batch_frame: Any = None  # the frame of the batch being walked (its branches, for LAZY_BRANCHES)
        self.shared_accumulators: dict | None = None  # the loop thread's, on the worker threads' executors

    # -- scoping -------------------------------------------------------------------------
    def columns_in_scope(self, node: g.Node, universe: str) -> dict[str, ScopedColumn]:
        key = (id(node), universe)
        if key not in self._scopes:
            out: dict[str, ScopedColumn] = {}
            aliases: dict[str, str] = {}
            index = {id(n): i for i, n in enumerate(self.analysis.nodes)}
            for n in reversed(node.ancestors()):
                if isinstance(n, g.Define) and n.kind == "Alias":
                    assert isinstance(n.expr, ir.Column)
                    aliases[n.name] = n.expr.name
                    out.pop(n.name, None)
                elif isinstance(n, g.Define):
                    assert n.parent is not None
                    # Universes share a batch's frame: a column computed from a varied one is the universe's own.
                    varied = any(out[c].varied for c in free_columns(n.expr) if c in out)
                    internal = f"{n.name}@{index[id(n)]}" + (f"|{universe}" if varied else "")
                    out[n.name] = ScopedColumn(n.name, internal, n.expr, n.parent, n.text, varied)
                elif isinstance(n, g.Vary) and universe.partition(":")[::2] in n.universes:
                    assert n.parent is not None
                    k = n.tags.index(universe.split(":", 1)[1])
                    internal = f"{n.column}@{index[id(n)]}:{k}"
                    if isinstance(n.expr, ir.Call) and n.expr.func == "RVecOf" and len(n.expr.args) == len(n.tags):
                        # RVecF{a, b}: the universe's value is its own item (no list of all the variations)
                        out[n.column] = ScopedColumn(n.column, internal, n.expr.args[k], n.parent, n.text, True)
                        continue
                    # All the node's variations are one column (computed once for its universes); each takes its own.
                    every = f"\0vary{index[id(n)]}"
                    out[every] = ScopedColumn(every, f"{n.column}@{index[id(n)]}:*", n.expr, n.parent, n.text, True)
                    element = ir.Index(n.expr.type.element, ir.Column(n.expr.type, every), ir.Literal(LONG, k))
                    out[n.column] = ScopedColumn(n.column, internal, element, n, f"{n.text}[{k}]", True)
            # An alias means its column as seen where it is used (below a Vary, the varied one).
            for alias, target in aliases.items():
                resolved = out.get(target)
                if resolved is not None:
                    out[alias] = ScopedColumn(alias, resolved.internal, resolved.expr, resolved.scope, resolved.text,
                                              resolved.varied)  # fmt: skip
                else:  # a source column, or rdfentry_ (not in any schema)
                    t = SIZE_T if target == ENTRY_COLUMN else self.analysis.root.schema()[target]
                    out[alias] = ScopedColumn(alias, target, ir.Column(t, target), self.analysis.root, target)
            self._scopes[key] = out
        return self._scopes[key]

    def scoped(self, expr: ir.Expr, node: g.Node, universe: str) -> ir.Expr:
        """``expr`` with computed columns renamed to their frame columns, as visible from ``node``."""
        mapping = {name: c.internal for name, c in self.columns_in_scope(node, universe).items()}
        key = (expr, tuple(sorted(mapping.items())))
        if key not in self._scoped:
            self._scoped[key] = rename_columns(expr, mapping)
        return self._scoped[key]

    # -- planning ------------------------------------------------------------------------
    def plan(self, actions: list[g.Action]) -> dict[str, tuple[dict, dict]]:
        """Per universe: (children to walk per node, actions per node)."""
        by_universe: dict[str, list[g.Action]] = defaultdict(list)
        for a in actions:
            by_universe[a.universe].append(a)
        plans = {}
        for universe, acts in by_universe.items():
            needed: set[g.Node] = set()
            actions_at: dict[g.Node, list[g.Action]] = defaultdict(list)
            for a in acts:
                actions_at[_anchor(a.node)].append(a)
                needed.update(a.node.ancestors())
                if isinstance(a, g.Report):
                    for reported in self._report_scope(a):
                        needed.update(reported.ancestors())
            children: dict[g.Node, list[g.Node]] = defaultdict(list)
            for node in self.analysis.nodes:  # creation order = the order the user booked
                if node in needed and node.parent is not None and isinstance(node, (g.Filter, g.Range)):
                    children[_anchor(node.parent)].append(node)
            plans[universe] = (children, actions_at)
        return plans

    def _report_scope(self, report: g.Report) -> list[g.Filter]:
        scope = self.analysis.nodes if report.node is self.analysis.root else list(reversed(report.node.ancestors()))
        return [n for n in scope if isinstance(n, g.Filter) and n.name]

    def branches(self, actions: list[g.Action]) -> set[str]:
        """The source branches that the actions need, following computed columns through their scopes."""
        candidates = set(self.analysis.root.source.schema)
        out: set[str] = set()
        seen: set[tuple[int, str, str]] = set()
        stack: list[tuple[g.Node, str, str]] = []
        for a in actions:
            for e in a.expressions():
                stack.extend((a.node, c, a.universe) for c in free_columns(e))
            for node in a.node.ancestors() + (self._report_scope(a) if isinstance(a, g.Report) else []):
                if isinstance(node, g.Filter):
                    stack.extend((node, c, a.universe) for c in free_columns(node.expr))
                    if isinstance(a, g.Report) and a.weight:
                        stack.append((node, a.weight, a.universe))
        while stack:
            node, name, universe = stack.pop()
            if (id(node), name, universe) in seen:
                continue
            seen.add((id(node), name, universe))
            column = self.columns_in_scope(node, universe).get(name)
            if column is not None:
                stack.extend((column.scope, c, universe) for c in free_columns(column.expr))
            elif name in candidates:
                out.add(name)
        return out

    # -- the loop ------------------------------------------------------------------------
    def start(self, actions: list[g.Action]) -> None:
        self.actions = actions
        self.plans = self.plan(actions)
        self.order = {n: k for k, n in enumerate(self.analysis.nodes)}
        self.accumulators = {a: a.make_accumulator() for a in actions if not isinstance(a, g.Report)}
        self.counts: dict[tuple[g.Filter, str], list[int]] = defaultdict(lambda: [0, 0])
        self.range_seen: dict[tuple[g.Range, str], int] = defaultdict(int)
        self.report_weights: dict[tuple[g.Filter, str], set[str]] = defaultdict(set)
        self.weighted_counts: dict[tuple[g.Filter, str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
        for a in actions:
            if isinstance(a, g.Report) and a.weight:
                for f in self._report_scope(a):
                    self.report_weights[(f, a.universe)].add(a.weight)

    def process(self, batch) -> None:
        self._batch_frame = self.engine.make_frame(batch)
        try:
            self._walk(self.analysis.root, self._batch_frame, tuple(self.plans))
        finally:
            self._batch_frame = None  # the batch is freed with the walk

    # Results of a batch (cut-flow counts, accumulator updates) go through ``_apply``: at once,
    # or, for a batch computed on a worker thread, recorded and applied later in batch order.
    def _apply(self, op: tuple) -> None:
        if self.deferred is not None:
            self.deferred.append(op)
        elif op[0] == "update":  # ("update", action, values, entries, n_rows)
            self.accumulators[op[1]].update(*op[2:])
        elif op[0] == "merge":  # ("merge", action, the batch's own accumulator)
            self.accumulators[op[1]].merge(op[2])
        elif op[0] == "raise":  # ("raise", the error a worker met while walking the batch)
            raise op[1]
        else:  # ("counts" | "weighted", key, passed, total)
            c = (self.counts if op[0] == "counts" else self.weighted_counts)[op[1]]
            c[0] += op[2]
            c[1] += op[3]

    def finish(self) -> dict[g.Action, Any]:
        self.analysis.passes += 1
        out: dict[g.Action, Any] = {}
        for a in self.actions:
            if isinstance(a, g.Report):
                entries = []
                for f in self._report_scope(a):
                    passed, total = self.counts[(f, a.universe)]
                    weighted = self.weighted_counts[(f, a.universe, a.weight)] if a.weight else [None, None]
                    entries.append(CutFlowEntry(f.name or "", passed, total, weighted[0], weighted[1]))
                out[a] = CutFlowReport(entries)
            else:
                out[a] = self.accumulators[a].result()
        return out

    # -- distributed engines: each task runs start/process on its part, the driver merges ---
    def export_state(self) -> dict:
        """This part's partial results, keyed by position (the task's graph is a copy of the driver's)."""
        index = {id(n): i for i, n in enumerate(self.analysis.nodes)}
        return {
            "accumulators": [self.accumulators.get(a) for a in self.actions],
            "counts": {(index[id(f)], u): c for (f, u), c in self.counts.items()},
            "weighted": {(index[id(f)], u, w): c for (f, u, w), c in self.weighted_counts.items()},
        }

    def merge_state(self, state: dict) -> None:
        """Add a part's partial results; parts must come in entry order (Take, AsNumpy keep it)."""
        for action, other in zip(self.actions, state["accumulators"], strict=True):
            if other is not None:
                self.accumulators[action].merge(other)
        nodes = self.analysis.nodes
        for (i, universe), (passed, total) in state["counts"].items():
            c = self.counts[(nodes[i], universe)]
            c[0] += passed
            c[1] += total
        for (i, universe, weight), (passed_w, total_w) in state["weighted"].items():
            wc = self.weighted_counts[(nodes[i], universe, weight)]
            wc[0] += passed_w
            wc[1] += total_w

    def run(self, actions: list[g.Action]) -> dict[g.Action, Any]:
        self.start(actions)
        source = self.analysis.root.source
        event_loop([self], source, source.iter_batches(sorted(self.branches(actions))), self.progress)
        return self.finish()

    def _compute_threads(self, source) -> int:
        """Threads computing batches: the source's ``threads`` (default: all CPUs), where allowed.

        A Range counts the entries reaching it in order while the walk goes on: it needs one thread.
        """
        if not self.engine.PARALLEL_BATCHES or any(isinstance(n, g.Range) for n in self.analysis.nodes):
            return 1
        if threading.current_thread().name.startswith(_COMPUTE_THREAD):
            return 1  # an event loop started from inside a batch (e.g. by a UDF): the pools are busy
        threads = source.threads
        return max(1, threads if threads is not None else (os.cpu_count() or 1))

    def _part(self) -> Executor:
        """An executor for a worker thread: this one's plans, its own scope caches, deferred results."""
        part = Executor(self.analysis, self.engine, progress=False)
        part.plans, part.report_weights, part.deferred = self.plans, self.report_weights, []
        part.order = self.order
        part.shared_accumulators = self.accumulators  # read only there: for Accumulator.partial
        return part

    def process_deferred(self, batch) -> list[tuple]:
        """``process`` on a worker thread: the batch's results, to apply in order.

        An error ends the list (a "raise" op), after the results recorded before it: applied in
        order, an earlier result's own error still comes first, as with one thread.
        """
        self.deferred = []
        try:
            self.process(batch)
        except Exception as exc:  # noqa: BLE001 - re-raised by _apply on the loop thread
            self.deferred.append(("raise", exc))
        return self.deferred

    def apply_all(self, ops: list[tuple]) -> None:
        """Apply a batch's results recorded by a worker's ``process_deferred``."""
        for op in ops:
            self._apply(op)

    def _branches(self, frame, exprs: Iterable[ir.Expr], names: Iterable[str] = ()):
        """The frame with the source branches that ``exprs`` (scoped) and ``names`` read (see LAZY_BRANCHES)."""
        if self._batch_frame is None or not self.engine.LAZY_BRANCHES:
            return frame
        engine, batch_frame = self.engine, self._batch_frame
        wanted = set(names).union(*(free_columns(e) for e in exprs))
        missing = sorted(c for c in wanted if not engine.has_column(frame, c) and engine.has_column(batch_frame, c))
        return engine.add_branches(frame, batch_frame, missing) if missing else frame

    def _ensure(self, frame, node: g.Node, names: Iterable[str], universe: str):
        """Compute the columns ``names`` need (as seen from ``node``) that the frame lacks."""
        engine = self.engine
        order: list[ScopedColumn] = []
        names = list(names)
        self._missing_columns(frame, node, names, universe, order)
        frame = self._branches(frame, [self.scoped(c.expr, c.scope, universe) for c in order], names)
        # Columns that do not use each other are computed in one engine call (Polars runs them in
        # parallel, and per-call costs are paid once); the order, and so the first error, is kept.
        group: list[tuple[str, ir.Expr, str]] = []
        for column in order:
            if engine.has_column(frame, column.internal) or any(c[0] == column.internal for c in group):
                continue  # e.g. an alias of a column already there
            expr = self.scoped(column.expr, column.scope, universe)
            if group and free_columns(expr) & {c[0] for c in group}:
                frame, group = engine.with_columns(frame, group), []
            group.append((column.internal, expr, f"{column.name} = {column.text}"))
        return engine.with_columns(frame, group) if group else frame

    def _missing_columns(self, frame, node: g.Node, names: Iterable[str], universe: str,
                         order: list[ScopedColumn]) -> None:
        """Append to ``order`` the columns ``names`` need that the frame lacks, dependencies first.

        A method, not a recursive closure: a closure that calls itself is a reference cycle, and
        its cells would keep the batch's frame alive until the garbage collector runs.
        """
        for name in names:
            column = self.columns_in_scope(node, universe).get(name)
            if column is None or self.engine.has_column(frame, column.internal) or column in order:
                continue
            self._missing_columns(frame, column.scope, free_columns(column.expr), universe, order)
            order.append(column)

    def _walk(self, node: g.Node, frame, universes: tuple[str, ...]) -> None:
        """Walk the universes' graphs below ``node`` on one frame, sharing what they compute alike.

        Universes whose scoped filter is the same expression (a variation that does not reach the
        filter) filter once and walk on together; their actions are evaluated in one engine call.
        """
        engine = self.engine
        booked = [(a, u) for u in universes for a in self.plans[u][1].get(node, ())]
        if booked:
            frame = self._accumulate(booked, frame)
        walked: dict[g.Node, list[str]] = {}
        for u in universes:
            for child in self.plans[u][0].get(node, ()):
                walked.setdefault(child, []).append(u)
        for child in sorted(walked, key=self.order.__getitem__):  # the order the user booked
            members = walked[child]
            if isinstance(child, g.Range):
                for u in members:  # each universe counts its own entries
                    self._walk(child, self._apply_range(child, frame, u), (u,))
                continue
            assert isinstance(child, g.Filter)
            groups: dict[ir.Expr, list[str]] = {}
            for u in members:
                groups.setdefault(self.scoped(child.expr, child, u), []).append(u)
            for expr, group in groups.items():
                frame = self._ensure(frame, child, free_columns(child.expr), group[0])
                present = engine.column_names(frame)
                # the filter reads its own branches; those that only later steps read are taken when needed
                kept = frame if present is None else engine.select_columns(frame, frozenset().union(
                    *(self._used_from(child, u, *self.plans[u], present) for u in group), free_columns(expr)))  # fmt: skip
                narrowed, n_pass = engine.apply_filter(kept, expr, child.text)
                total = engine.num_rows(frame)
                for u in group:
                    self._apply(("counts", (child, u), n_pass, total))
                    for weight in self.report_weights.get((child, u), ()):
                        frame = self._ensure(frame, child, [weight], u)
                        narrowed = self._ensure(narrowed, child, [weight], u)
                        self._apply(("weighted", (child, u, weight), self._weight_sum(narrowed, child, weight, u),
                                     self._weight_sum(frame, child, weight, u)))  # fmt: skip
                self._walk(child, narrowed, tuple(group))

    def walk_columns(self, wanted: Iterable[tuple[g.Node, str]], universe: str,
                     stop: Callable[[ScopedColumn], bool]) -> Iterator[tuple[str, ScopedColumn | None]]:  # fmt: skip
        """Each ``(name, column)`` reached from the ``(scope, name)`` pairs ``wanted``, once.

        Computed columns lead on to the names their expressions use, except where ``stop(column)``.
        ``column`` is None for a name that is no computed column here (a branch, ``rdfentry_``).
        """
        stack, seen = list(wanted), set()
        while stack:
            scope, name = stack.pop()
            if (id(scope), name) in seen:
                continue
            seen.add((id(scope), name))
            column = self.columns_in_scope(scope, universe).get(name)
            yield name, column
            if column is not None and not stop(column):
                stack += [(column.scope, c) for c in free_columns(column.expr)]

    def _used_from(self, node: g.Node, universe: str, children: dict, actions_at: dict,
                   present: frozenset[str]) -> frozenset[str]:  # fmt: skip
        """The frame columns that ``node`` (a Filter) and everything below it read.

        A filter copies the surviving rows of every column it is given, so the executor first
        drops the columns that nothing below uses. A computed column already in the frame is kept
        as it is (its inputs are not needed again); one still to compute needs its inputs.
        """
        key = (node, universe, present)
        if key in self._used:
            return self._used[key]
        wanted: list[tuple[g.Node, str]] = []
        stack = [node]
        while stack:
            n = stack.pop()
            for action in actions_at.get(n, []):
                wanted += [(action.node, c) for e in action.expressions() for c in free_columns(e)]
            if isinstance(n, g.Filter):
                wanted += [(n, c) for c in free_columns(n.expr)]
                wanted += [(n, w) for w in self.report_weights.get((n, universe), ())]
            stack += children.get(n, [])
        keep = {ENTRY_COLUMN}
        lazy = self.engine.LAZY_BRANCHES  # branches are taken from the batch where they are read
        for name, column in self.walk_columns(wanted, universe, stop=lambda c: c.internal in present):
            if column is None and not lazy:
                keep.add(name)  # a branch
            elif column is not None and column.internal in present:
                keep.add(column.internal)  # already computed
        self._used[key] = result = frozenset(keep & present)
        return result

    def _weight_sum(self, frame, node: g.Node, weight: str, universe: str) -> float:
        from hepframe.actions import flatten

        column = ir.Column(node.schema()[weight], weight)
        (value,) = self.engine.evaluate(frame, [(self.scoped(column, node, universe), weight)])
        return float(np.sum(flatten(value), dtype=np.float64))

    def _apply_range(self, node: g.Range, frame, universe: str):
        n = self.engine.num_rows(frame)
        seen = self.range_seen[(node, universe)]
        self.range_seen[(node, universe)] = seen + n
        position = seen + np.arange(n)
        keep = position >= node.begin
        if node.end is not None:
            keep &= position < node.end
        keep &= (position - node.begin) % node.stride == 0
        return self.engine.take_rows(frame, keep)

    def _accumulate(self, booked: list[tuple[g.Action, str]], frame):
        """Evaluate the (action, universe) pairs' expressions in one engine call and feed their accumulators."""
        engine = self.engine
        requests: list[tuple[ir.Expr, str]] = []
        slot: dict[ir.Expr, int] = {}  # an expression that several universes see alike is evaluated once
        wanted: list[tuple[g.Action, list[int]]] = []
        for action, universe in booked:
            if isinstance(action, g.Report):
                continue
            exprs = action.expressions()
            if exprs:
                frame = self._ensure(frame, action.node, [e.name for e in exprs if isinstance(e, ir.Column)], universe)
            slots = []
            for e in exprs:
                scoped = self.scoped(e, action.node, universe)
                if scoped not in slot:
                    slot[scoped] = len(requests)
                    requests.append((scoped, getattr(e, "name", "")))
                slots.append(slot[scoped])
            wanted.append((action, slots))
        frame = self._branches(frame, [e for e, _ in requests])
        values = engine.evaluate(frame, requests) if requests else []
        n_rows = engine.num_rows(frame)
        entries = _LazyEntries(engine, frame, n_rows)
        for action, slots in wanted:
            mine = [values[k] for k in slots]
            # On a worker thread, an accumulator that can (unweighted histograms) fills this batch's own
            # copy here, in parallel; the loop thread then only adds it, still in entry order.
            partial = None if self.shared_accumulators is None else self.shared_accumulators[action].partial(
                mine, entries, n_rows)  # fmt: skip
            self._apply(("update", action, mine, entries, n_rows) if partial is None else ("merge", action, partial))
        return frame


class _LazyEntries:
    """A batch's entry numbers, read from the frame only when an accumulator asks for them.

    They name an entry in an error, or order collected parts; most fills never need them.
    """

    def __init__(self, engine: BatchEngine, frame: Any, n_rows: int) -> None:
        self._engine, self._frame, self._n = engine, frame, n_rows
        self._array: np.ndarray | None = None

    @property
    def array(self) -> np.ndarray:
        if self._array is None:
            (value,) = self._engine.evaluate(self._frame, [(ir.Column(SIZE_T, ENTRY_COLUMN), ENTRY_COLUMN)])
            self._array, self._frame = np.asarray(value.data), None
        return self._array

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index):
        return self.array[index]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        return np.asarray(self.array, dtype=dtype)


_COMPUTE_THREAD = "hepframe-compute"
_POOLS: list = []  # one single-thread pool per worker, kept for the process: threads start once
_POOLS_LOCK = threading.Lock()


def _compute_pools(n: int) -> list:
    """``n`` single-thread pools (batch ``i`` always runs on pool ``i % n``, with that part's executor)."""
    from concurrent.futures import ThreadPoolExecutor

    with _POOLS_LOCK:
        while len(_POOLS) < n:
            _POOLS.append(ThreadPoolExecutor(1, thread_name_prefix=f"{_COMPUTE_THREAD}-{len(_POOLS)}"))
        return _POOLS[:n]


def _anchor(node: g.Node) -> g.Node:
    """The nearest ancestor (or self) that narrows the frame: Defines and Varies do not branch the walk."""
    while isinstance(node, (g.Define, g.Vary)):
        assert node.parent is not None
        node = node.parent
    return node


def event_loop(executors: list[Executor], source, batches: Iterable, progress: bool | None, bar=None) -> None:
    """Feed every batch to every (started) executor: on the compute threads where all allow it.

    ``RunGraphs`` passes several executors sharing one read of each batch; ``Executor.run`` one.
    ``bar``: a progress bar shared with other loops (not closed here).
    """
    own = bar is None
    bar = event_bar(source, progress) if own else bar
    try:
        workers = min(ex._compute_threads(ex.analysis.root.source) for ex in executors)  # each graph's own
        if workers > 1:
            _run_parallel(executors, batches, workers, bar)
        else:
            for batch in prefetch(batches):
                for ex in executors:
                    ex.process(batch)
                advance(bar, batch.table.num_rows, batch.table.nbytes)
    finally:
        if own:
            bar.close()


def _run_parallel(executors: list[Executor], batches: Iterable, n: int, bar) -> None:
    """Compute up to ``n`` batches at once on threads; apply their results here, in batch order.

    Each thread walks the graphs for its batch (the engines and the kernels release the GIL in
    their heavy work) and records its counts and accumulator updates instead of applying
    them. This thread applies them batch after batch, so every result (weighted sums, Min/Max
    folds with NaN, Take order, Snapshot files) is bit-identical to a one-thread run.
    """
    from collections import deque
    from concurrent.futures import wait

    parts = [[ex._part() for ex in executors] for _ in range(n)]  # per thread: one part per executor
    pools = _compute_pools(n)
    window: deque = deque()

    def apply_oldest() -> None:
        future, rows, nbytes = window.popleft()
        for ex, ops in zip(executors, future.result(), strict=False):  # shorter after an error
            ex.apply_all(ops)  # a batch's error is raised here, where one thread would raise it
        advance(bar, rows, nbytes)

    try:
        for i, batch in enumerate(batches):
            window.append((pools[i % n].submit(_process_deferred, parts[i % n], batch), batch.table.num_rows,
                           batch.table.nbytes))  # fmt: skip
            del batch  # only the pending task holds it now: freed as soon as it is computed
            while len(window) > n or (window and window[0][0].done()):
                apply_oldest()
        while window:
            apply_oldest()
    finally:  # after an error: drop the batches not started, let the running ones end
        for future, *_ in window:
            future.cancel()
        wait([future for future, *_ in window])


def _process_deferred(parts: list[Executor], batch) -> list[list[tuple]]:
    out = []
    for part in parts:
        out.append(part.process_deferred(batch))
        if out[-1] and out[-1][-1][0] == "raise":
            break  # one thread would not process the next graphs either
    return out


def run_graphs(jobs: list[tuple[g.Analysis, Engine, list[g.Action], bool | None]]) -> None:
    """Run several analyses (analysis, engine, actions, progress); those on the same files share one read."""
    groups: dict[tuple, list[tuple[Executor, list[g.Action]]]] = defaultdict(list)
    for analysis, engine, acts, progress in jobs:
        if isinstance(engine, DistributedEngine):  # one job per graph on a distributed engine
            analysis.results.update(engine.run_actions(analysis, acts, progress))
            continue
        assert isinstance(engine, BatchEngine)
        ex = Executor(analysis, engine, progress)
        src = ex.analysis.root.source
        # ROOT files read the same way can share a read; any other source only with itself.
        key: tuple = ("object", id(src))
        if isinstance(src, RootSource) and not src.optional and src.single_tree:
            key = ("root", src.tree, tuple(src.files), src.step_size)
        groups[key].append((ex, acts))
    loops = []
    for members in groups.values():
        columns: set[str] = set()
        for ex, acts in members:
            ex.start(acts)
            columns |= ex.branches(acts)
        loops.append(([ex for ex, _ in members], sorted(columns)))
    threads = min((min(ex._compute_threads(ex.analysis.root.source) for ex in exs) for exs, _ in loops), default=1)
    if len(loops) >= max(threads, 2) and threads > 1:
        _concurrent_loops(loops, threads)  # e.g. one graph per sample: a sample per thread
    else:
        for executors, branches in loops:
            source = executors[0].analysis.root.source
            event_loop(executors, source, source.iter_batches(branches), executors[0].progress)
    for executors, _ in loops:
        for ex in executors:
            ex.analysis.results.update(ex.finish())


def _concurrent_loops(loops: list[tuple[list[Executor], list[str]]], threads: int) -> None:
    """Run the event loops of several datasets at once, each on one compute thread, with one progress bar.

    Each loop reads and computes its batches in order on its thread, so every result is the one
    a sequential run gives; what differs is only which dataset waits.
    """
    from concurrent.futures import ThreadPoolExecutor

    class _Total:  # the progress bar counts every dataset's entries
        num_entries = property(lambda self: sum(exs[0].analysis.root.source.num_entries for exs, _ in loops))

    bar = event_bar(_Total(), loops[0][0][0].progress)
    try:
        with ThreadPoolExecutor(threads, thread_name_prefix=f"{_COMPUTE_THREAD}-graphs") as pool:
            futures = [pool.submit(_one_loop, executors, columns, bar) for executors, columns in loops]
            try:
                for future in futures:
                    future.result()  # the first dataset's error first, as a sequential run raises it
            finally:
                for future in futures:  # after an error: the loops not started do not start
                    future.cancel()
    finally:
        bar.close()


def _one_loop(executors: list[Executor], columns: list[str], bar) -> None:
    source = executors[0].analysis.root.source
    event_loop(executors, source, source.iter_batches(columns), False, bar)


def prefetch(batches: Iterable, depth: int = 1):
    """Read the next batch in a background thread while the current one is processed.

    Decompression (zlib/lz4 in uproot) and the engines' kernels release the GIL, so reading
    and computing overlap on two cores. Exceptions from the reader surface in the caller.
    """
    import queue
    import threading

    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in batches:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            q.put(exc)

    thread = threading.Thread(target=produce, name="hepframe-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)

