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
from hepframe.expr.binder import ENTRY_COLUMN
from hepframe.expr.ir import free_columns
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
        """Only branches that a needed expression reads, following Defines transitively."""
        defines = {n.name: n for n in self.analysis.nodes if isinstance(n, g.Define)}
        out: set[str] = set()
        seen: set[str] = set()
        stack: list[str] = []
        for n in needed:
            if isinstance(n, g.Filter):
                stack.extend(free_columns(n.expr))
        for a in actions:
            for e in a.expressions():
                stack.extend(free_columns(e))
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in defines:
                stack.extend(free_columns(defines[name].expr))
            elif name in candidates:
                out.add(name)
        return out

    def run(self, actions: list[g.Action]) -> dict[g.Action, Any]:
        walk_children, actions_at, columns = self.plan(actions)
        acc = _Accumulators(actions)
        counts: dict[g.Filter, list[int]] = defaultdict(lambda: [0, 0])
        source = self.analysis.root.source
        engine = self.engine

        def ensure(frame, node: g.Node, names: Iterable[str]):
            scope = node.defines_in_scope()
            order: list[g.Define] = []

            def visit(name: str) -> None:
                d = scope.get(name)
                if d is None or engine.has_column(frame, name) or d in order:
                    return
                for dep in free_columns(d.expr):
                    if dep != name:
                        visit(dep)
                order.append(d)

            for name in names:
                visit(name)
            for d in order:
                frame = engine.with_columns(frame, [(d.name, d.expr, d.text)])
            return frame

        def walk(node: g.Node, frame) -> None:
            for action in actions_at.get(node, []):
                frame = self._accumulate(action, frame, acc, ensure)
            for child in walk_children.get(node, []):
                assert isinstance(child, g.Filter)
                frame_c = ensure(frame, child, free_columns(child.expr))
                filtered, n_pass = engine.apply_filter(frame_c, child.expr, child.text)
                c = counts[child]
                c[0] += n_pass
                c[1] += engine.num_rows(frame_c)
                walk(child, filtered)

        bar = _progress_bar(source.num_entries, self.progress)
        try:
            for batch in source.iter_batches(sorted(columns)):
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
        frame = ensure(frame, action.node, [e.name for e in exprs if hasattr(e, "name")])
        values = engine.evaluate(frame, [(e, getattr(e, "name", "")) for e in exprs])
        if isinstance(action, g.Histo1D):
            x = values[0]
            flat = _flatten(x).astype(np.float64)
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
    data = value.data
    if isinstance(data, Jagged):
        # Like ROOT's AsNumpy: an object array holding one array per event.
        out = np.empty(len(data), dtype=object)
        out[:] = np.split(data.values.astype(dtype, copy=False), data.offsets[1:-1]) if len(data) else []
        return out
    return np.asarray(data).astype(dtype, copy=False)


def _concat(parts: list[np.ndarray], ctype) -> np.ndarray:
    if not parts:
        return np.empty(0, dtype=object if ctype.is_rvec else ctype.scalar.dtype)
    return np.concatenate(parts)


def _entry_expr():
    from hepframe.expr import ir
    from hepframe.expr.types import SIZE_T

    return ir.Column(SIZE_T, ENTRY_COLUMN)


def _progress_bar(total: int, enabled: bool | None):
    import os
    import sys

    from tqdm.auto import tqdm

    if enabled is None:
        enabled = sys.stderr.isatty() and os.environ.get("HEPFRAME_PROGRESS", "1") != "0"
    return tqdm(total=total, unit="ev", unit_scale=True, desc="hepframe", disable=not enabled, leave=False)
