"""The engine-neutral event loop: one pass over the data computes every pending action.

For each Arrow batch from the connector, the executor walks the analysis graph from the
source: a Filter narrows the frame (and counts pass/all for the cut-flow), a Define is
computed lazily, on the frame where it is first needed (as RDataFrame does), and each action
accumulates its partial result. Partial results merge exactly across batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepframe import graph as g
from hepframe.engines.base import Engine
from hepframe.engines.values import Jagged, Value
from hepframe.errors import EventError
from hepframe.expr import ir
from hepframe.expr.binder import ENTRY_COLUMN
from hepframe.expr.ir import free_columns, rename_columns
from hepframe.histograms import Histo1DAccumulator


@dataclass
class CutFlowEntry:
    name: str
    passed: int
    all: int

    @property
    def efficiency(self) -> float:
        return 100.0 * self.passed / self.all if self.all else 0.0


@dataclass
class CutFlowReport:
    """``Report()`` result: named filters in graph order with pass/all counts."""

    entries: list[CutFlowEntry] = field(default_factory=list)

    def __iter__(self):
        return iter(self.entries)

    def __getitem__(self, name: str) -> CutFlowEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def Print(self) -> None:  # noqa: N802 - ROOT spelling
        print(self)

    def __str__(self) -> str:
        lines = []
        first_all = self.entries[0].all if self.entries else 0
        width = max((len(e.name) for e in self.entries), default=0)
        for e in self.entries:
            cumulative = 100.0 * e.passed / first_all if first_all else 0.0
            lines.append(
                f"{e.name:<{width}}: pass={e.passed:<10} all={e.all:<10} -- eff={e.efficiency:.2f} % "
                f"cumulative eff={cumulative:.2f} %"
            )
        return "\n".join(lines)


class _Accumulators:
    """Mergeable partial results per action."""

    def __init__(self, actions: Iterable[g.Action]):
        self.state: dict[g.Action, Any] = {}
        for a in actions:
            if isinstance(a, g.Histo1D):
                self.state[a] = Histo1DAccumulator(a.model)
            elif isinstance(a, g.Count):
                self.state[a] = 0
            elif isinstance(a, (g.Sum, g.Mean)):
                self.state[a] = [0.0, 0.0, 0]  # sum, Kahan compensation, count
            elif isinstance(a, g.AsNumpy):
                self.state[a] = {c.name: [] for c in a.columns}


def _flatten(value: Value) -> np.ndarray:
    return value.data.values if isinstance(value.data, Jagged) else np.asarray(value.data)


def _fill_weights(values: Value, weights: Value, entries: np.ndarray, name: str) -> np.ndarray:
    v, w = values.data, weights.data
    if isinstance(v, Jagged):
        if isinstance(w, Jagged):
            bad = v.counts != w.counts
            if bad.any():
                i = int(np.argmax(bad))
                raise EventError(
                    f"Histo1D {name!r}: values and weights have different sizes ({v.counts[i]} and {w.counts[i]}) "
                    f"in entry {int(entries[i])}"
                )
            return w.values
        return np.repeat(np.asarray(w), v.counts)
    if isinstance(w, Jagged):
        raise EventError(f"Histo1D {name!r}: an RVec weight needs an RVec of values")
    return np.asarray(w)


def _kahan_add(state: list, values: np.ndarray) -> None:
    # Partial sums per batch are exact-ish (pairwise); batches combine with Kahan compensation,
    # as ROOT's SumHelper does across entries.
    total = float(np.sum(values, dtype=np.float64))
    y = total - state[1]
    t = state[0] + y
    state[1] = (t - state[0]) - y
    state[0] = t
    state[2] += len(values)


class Executor:
    def __init__(self, analysis: g.Analysis, engine: Engine, progress: bool | None = None):
        self.analysis = analysis
        self.engine = engine
        self.progress = progress
        self._scoped: dict[tuple, ir.Expr] = {}

    def plan(self, actions: list[g.Action]) -> tuple[dict[g.Node, list[g.Node]], dict[g.Node, list[g.Action]], set[str]]:
        children: dict[g.Node, list[g.Node]] = defaultdict(list)
        actions_at: dict[g.Node, list[g.Action]] = defaultdict(list)
        needed: set[g.Node] = set()
        for a in actions:
            actions_at[a.node].append(a)
            needed.update(a.node.ancestors())
            if isinstance(a, g.Report):
                scope = self.analysis.nodes if a.node is self.analysis.root else a.node.ancestors()
                for node in scope:
                    if isinstance(node, g.Filter) and node.name:
                        needed.update(node.ancestors())
        # Keep graph (creation) order so that filters and defines run as the user booked them.
        for node in self.analysis.nodes:
            if node in needed and node.parent is not None and not isinstance(node, g.Define):
                children[node.parent].append(node)
        # Defines do not branch the walk: their subtrees attach to the nearest non-Define ancestor.
        walk_children: dict[g.Node, list[g.Node]] = defaultdict(list)
        for parent, kids in children.items():
            anchor = parent
            while isinstance(anchor, g.Define):
                assert anchor.parent is not None
                anchor = anchor.parent
            walk_children[anchor].extend(kids)
        anchored_actions: dict[g.Node, list[g.Action]] = defaultdict(list)
        for node, acts in actions_at.items():
            anchor = node
            while isinstance(anchor, g.Define):
                assert anchor.parent is not None
                anchor = anchor.parent
            anchored_actions[anchor].extend(acts)
        # Branches to read: those that needed expressions use, following Defines transitively.
        source_columns = set(self.analysis.root.source.schema)
        return walk_children, anchored_actions, self._prune(source_columns, actions, needed)

    def _prune(self, candidates: set[str], actions: list[g.Action], needed: set[g.Node]) -> set[str]:
        """Only the branches that needed expressions read, following Defines through their scopes."""
        out: set[str] = set()
        seen: set[tuple[int, str]] = set()
        stack: list[tuple[g.Node, str]] = []
        for n in needed:
            if isinstance(n, g.Filter):
                stack.extend((n, c) for c in free_columns(n.expr))
        for a in actions:
            for e in a.expressions():
                stack.extend((a.node, c) for c in free_columns(e))
        while stack:
            node, name = stack.pop()
            if (id(node), name) in seen:
                continue
            seen.add((id(node), name))
            define = node.defines_in_scope().get(name)
            if define is not None:
                assert define.parent is not None
                stack.extend((define.parent, c) for c in free_columns(define.expr))
            elif name in candidates:
                out.add(name)
        return out

    def internal_name(self, define: g.Define) -> str:
        """Frame column of a Define: unique per node, so same-named Defines on sibling branches never mix."""
        return f"{define.name}@{self.analysis.nodes.index(define)}"

    def scoped(self, expr: ir.Expr, node: g.Node) -> ir.Expr:
        """``expr`` with defined columns renamed to their frame columns, as visible from ``node``."""
        mapping = {name: self.internal_name(d) for name, d in node.defines_in_scope().items()}
        key = (expr, tuple(sorted(mapping.items())))
        if key not in self._scoped:
            self._scoped[key] = rename_columns(expr, mapping)
        return self._scoped[key]

    def run(self, actions: list[g.Action]) -> dict[g.Action, Any]:
        walk_children, actions_at, columns = self.plan(actions)
        acc = _Accumulators(actions)
        counts: dict[g.Filter, list[int]] = defaultdict(lambda: [0, 0])
        source = self.analysis.root.source
        engine = self.engine

        def ensure(frame, node: g.Node, names: Iterable[str]):
            """Compute the Defines that ``names`` need (in ``node``'s scope) and are not in the frame yet."""
            order: list[g.Define] = []

            def visit(scope_node: g.Node, name: str) -> None:
                d = scope_node.defines_in_scope().get(name)
                if d is None or engine.has_column(frame, self.internal_name(d)) or d in order:
                    return
                assert d.parent is not None
                for dep in free_columns(d.expr):
                    visit(d.parent, dep)
                order.append(d)

            for name in names:
                visit(node, name)
            for d in order:
                assert d.parent is not None
                frame = engine.with_columns(frame, [(self.internal_name(d), self.scoped(d.expr, d.parent), d.text)])
            return frame

        def walk(node: g.Node, frame) -> None:
            for action in actions_at.get(node, []):
                frame = self._accumulate(action, frame, acc, ensure)
            for child in walk_children.get(node, []):
                assert isinstance(child, g.Filter)
                frame_c = ensure(frame, child, free_columns(child.expr))
                filtered, n_pass = engine.apply_filter(frame_c, self.scoped(child.expr, child), child.text)
                c = counts[child]
                c[0] += n_pass
                c[1] += engine.num_rows(frame_c)
                walk(child, filtered)

        bar = _progress_bar(source, self.progress)
        try:
            for batch in prefetch(source.iter_batches(sorted(columns))):
                walk(self.analysis.root, engine.make_frame(batch))
                bar.update(batch.table.num_rows)
        finally:
            bar.close()
        self.analysis.passes += 1
        return self._results(actions, acc, counts)

    def _accumulate(self, action: g.Action, frame, acc: _Accumulators, ensure):
        engine = self.engine
        if isinstance(action, g.Count):
            acc.state[action] += engine.num_rows(frame)
            return frame
        if isinstance(action, g.Report):
            return frame
        exprs = action.expressions()
        frame = ensure(frame, action.node, [e.name for e in exprs if isinstance(e, ir.Column)])
        values = engine.evaluate(frame, [(self.scoped(e, action.node), getattr(e, "name", "")) for e in exprs])
        if isinstance(action, g.Histo1D):
            x = values[0]
            flat = _flatten(x)
            weights = None
            if action.weight is not None:
                entries = engine.evaluate(frame, [(_entry_expr(), ENTRY_COLUMN)])[0].data
                weights = _fill_weights(x, values[1], np.asarray(entries), action.model.name)
            acc.state[action].fill(flat, weights)
        elif isinstance(action, (g.Sum, g.Mean)):
            _kahan_add(acc.state[action], _flatten(values[0]).astype(np.float64))
        elif isinstance(action, g.AsNumpy):
            for column, value in zip(action.columns, values, strict=True):
                acc.state[action][column.name].append(_as_numpy(value, column.type.scalar.dtype))
        return frame

    def _results(self, actions, acc: _Accumulators, counts) -> dict[g.Action, Any]:
        out: dict[g.Action, Any] = {}
        for a in actions:
            if isinstance(a, g.Histo1D):
                out[a] = acc.state[a].result()
            elif isinstance(a, g.Count):
                out[a] = int(acc.state[a])
            elif isinstance(a, g.Sum):
                out[a] = acc.state[a][0]
            elif isinstance(a, g.Mean):
                s, _, n = acc.state[a]
                out[a] = s / n if n else 0.0
            elif isinstance(a, g.AsNumpy):
                out[a] = {name: _concat(parts, c.type) for (name, parts), c in zip(acc.state[a].items(), a.columns, strict=True)}
            elif isinstance(a, g.Report):
                scope = self.analysis.nodes if a.node is self.analysis.root else list(reversed(a.node.ancestors()))
                entries = [
                    CutFlowEntry(n.name, *counts[n]) for n in scope if isinstance(n, g.Filter) and n.name
                ]
                out[a] = CutFlowReport(entries)
        return out


def _as_numpy(value: Value, dtype: np.dtype) -> np.ndarray:
    return _jagged_to_numpy(value.data, dtype)


def _jagged_to_numpy(data, dtype: np.dtype) -> np.ndarray:
    if isinstance(data, Jagged):
        # Like ROOT's AsNumpy: an object array holding one array per event (nested for RVec<RVec<T>>).
        inner = _jagged_to_numpy(data.values, dtype)
        out = np.empty(len(data), dtype=object)
        out[:] = np.split(inner, data.offsets[1:-1]) if len(data) else []
        return out
    return np.asarray(data).astype(dtype, copy=False)


def _concat(parts: list[np.ndarray], ctype) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype=object if ctype.is_rvec else ctype.scalar.dtype)
    return np.concatenate(parts)


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


def _entry_expr():
    from hepframe.expr import ir
    from hepframe.expr.types import SIZE_T

    return ir.Column(SIZE_T, ENTRY_COLUMN)


def _progress_bar(source, enabled: bool | None):
    import os
    import sys

    from tqdm.auto import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty() and os.environ.get("HEPFRAME_PROGRESS", "1") != "0"
    total = source.num_entries if enabled else None  # sizing every file costs a metadata read
    return tqdm(total=total, unit="ev", unit_scale=True, desc="hepframe", disable=not enabled, leave=False)
