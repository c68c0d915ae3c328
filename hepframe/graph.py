"""The analysis-graph IR: transformations (Source, Filter, Define, Range, Vary) and booked actions.

Kept apart from expressions, as ibis keeps relations apart from values. Nodes form a tree
rooted at the Source; each node knows the columns visible at that point (its schema).
Expressions are parsed and typed when the user books them, so mistakes surface at the line
that made them, not in the event loop. Each action builds its own mergeable accumulator
(:mod:`hepframe.actions`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepframe import actions as acc
from hepframe.connectors.base import DataSource
from hepframe.expr import ir
from hepframe.expr.types import CType
from hepframe.histograms import Axis1D


@dataclass(eq=False)
class Node:
    parent: Node | None

    def schema(self) -> dict[str, CType]:
        assert self.parent is not None
        return self.parent.schema()

    def ancestors(self) -> list[Node]:
        """This node and its ancestors, root last."""
        out: list[Node] = []
        node: Node | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out

    def defines_in_scope(self) -> dict[str, Define]:
        out: dict[str, Define] = {}
        for node in reversed(self.ancestors()):
            if isinstance(node, Define):
                out[node.name] = node
        return out

    @property
    def label(self) -> str:
        return type(self).__name__


@dataclass(eq=False)
class Source(Node):
    source: DataSource

    def schema(self) -> dict[str, CType]:
        return dict(self.source.schema)

    @property
    def label(self) -> str:
        return f"Source {self.source.tree!r} ({len(self.source.files)} file(s))"


@dataclass(eq=False)
class Filter(Node):
    expr: ir.Expr
    text: str
    name: str | None = None

    @property
    def label(self) -> str:
        return f"Filter {self.name or ''} [{self.text}]".replace("  ", " ")


@dataclass(eq=False)
class Define(Node):
    """Define, Redefine and Alias: a column computed from an expression, scoped to this branch."""

    name: str
    expr: ir.Expr
    text: str
    kind: str = "Define"

    def schema(self) -> dict[str, CType]:
        out = super().schema()
        out[self.name] = self.expr.type
        return out

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name} = {self.text}"


@dataclass(eq=False)
class Range(Node):
    """Entries ``begin`` to ``end`` (every ``stride``-th) of those reaching this node, in entry order."""

    begin: int
    end: int | None
    stride: int

    @property
    def label(self) -> str:
        return f"Range({self.begin}, {self.end}, {self.stride})"


@dataclass(eq=False)
class Vary(Node):
    """Systematic variations of ``column``: ``expr`` gives one value per variation tag."""

    column: str
    expr: ir.Expr  # RVec of variations (of the column's type)
    text: str
    tags: list[str]
    variation: str

    @property
    def label(self) -> str:
        return f"Vary {self.variation}: {self.column} -> [{', '.join(self.tags)}]"

    @property
    def universes(self) -> set[tuple[str, str]]:
        """The (variation, tag) pairs this node varies."""
        return {(self.variation, t) for t in self.tags}


# -- actions -------------------------------------------------------------------------


@dataclass(eq=False)
class Action:
    node: Node
    universe: str = field(default="nominal", kw_only=True)  # "nominal" or "<variation>:<tag>"

    def expressions(self) -> list[ir.Expr]:
        return []

    def make_accumulator(self) -> acc.Accumulator:
        raise NotImplementedError

    def clone_for(self, universe: str) -> Action:
        import copy

        clone = copy.copy(self)
        clone.universe = universe
        return clone

    @property
    def label(self) -> str:
        return type(self).__name__


@dataclass(eq=False)
class Count(Action):
    def make_accumulator(self) -> acc.Accumulator:
        return acc.CountAcc()


@dataclass(eq=False)
class ColumnAction(Action):
    """Actions of one or more columns (optionally weighted) with a given accumulator kind."""

    columns: list[ir.Column] = field(default_factory=list)
    kind: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def expressions(self) -> list[ir.Expr]:
        return list(self.columns)

    @property
    def label(self) -> str:
        return f"{self.kind}({', '.join(c.name for c in self.columns)})"

    def make_accumulator(self) -> acc.Accumulator:
        k = self.kind
        names = [c.name for c in self.columns]
        if k in ("Sum", "Mean"):
            return acc.SumAcc(mean=k == "Mean")
        if k in ("Min", "Max"):
            return acc.ExtremeAcc(want_max=k == "Max")
        if k == "StdDev":
            return acc.StdDevAcc()
        if k == "Stats":
            return acc.StatsAcc(k, weighted=len(self.columns) > 1)
        if k == "Histo":
            o = self.options
            if len(o["axes"]) == 1 and o["axes"][0].automatic:
                return acc.AutoHistoAcc(o["name"], o["title"], o["axes"][0], o["weighted"])
            return acc.HistoAcc(o["name"], o["title"], o["axes"], o["weighted"])
        if k == "Profile":
            o = self.options
            return acc.ProfileAcc(o["name"], o["title"], o["axes"], o["weighted"], o.get("value_range"))
        if k in ("AsNumpy", "Take"):
            types = {c.name: c.type for c in self.columns}
            single = k == "Take"
            if self.options.get("display") is not None:
                most = int(self.options["display"])
                shown = names[1:]  # the first column is the entry number: ROOT's "Row"

                def display(parts: dict) -> acc.DisplayTable:
                    table = _as_numpy(parts, types, False)
                    return acc.DisplayTable({n: table[n] for n in shown}, most, rows=table[names[0]])

                return acc.CollectAcc(names, display)
            return acc.CollectAcc(names, lambda parts: _as_numpy(parts, types, single))
        if k == "Graph":
            return acc.CollectAcc(names, lambda parts: acc.Graph(*(_concat_flat(parts[n]) for n in names)))
        if k in ("AsArrow", "AsAwkward"):
            return acc.CollectAcc(names, lambda parts: _as_arrow(parts, self.columns, awkward=k == "AsAwkward"))
        if k == "Reduce":
            return acc.ReduceAcc(self.options["batch"], self.options["merge"], self.options["init"])
        if k == "Snapshot":
            return self.options["writer"]()
        raise NotImplementedError(k)


@dataclass(eq=False)
class Report(Action):
    """Cut-flow of the named filters upstream of ``node`` (all of them when booked on the root)."""

    weight: str | None = None  # a column summed at each filter for a weighted cut-flow


def _concat_flat(parts: list) -> np.ndarray:
    return np.concatenate([acc.flatten(p) for p in parts]) if parts else np.zeros(0)


def _jagged_to_numpy(data, dtype: np.dtype) -> np.ndarray:
    from hepframe.engines.values import Jagged

    if isinstance(data, Jagged):
        # Like ROOT's AsNumpy: an object array holding one array per event (nested for RVec<RVec<T>>).
        inner = _jagged_to_numpy(data.values, dtype)
        out = np.empty(len(data), dtype=object)
        out[:] = np.split(inner, data.offsets[1:-1]) if len(data) else []
        return out
    return np.asarray(data).astype(dtype, copy=False)


def _as_numpy(parts: dict[str, list], types: dict[str, CType], single: bool):
    out = {}
    for name, values in parts.items():
        t = types[name]
        arrays = [_jagged_to_numpy(v.data, t.scalar.dtype) for v in values]
        out[name] = np.concatenate(arrays) if arrays else np.empty(0, dtype=object if t.is_rvec else t.scalar.dtype)
    return next(iter(out.values())) if single else out


def _as_arrow(parts: dict[str, list], columns: list[ir.Column], awkward: bool):
    import pyarrow as pa

    from hepframe.engines.values import to_arrow

    arrays = {}
    for c in columns:
        chunks = [to_arrow(v, len(v.data) if hasattr(v.data, "__len__") else 0) for v in parts[c.name]]
        arrays[c.name] = pa.chunked_array(chunks) if chunks else pa.chunked_array([], type=_arrow_type(c.type))
    table = pa.table(arrays)
    return acc.to_awkward(table) if awkward else table


def _arrow_type(t: CType):
    import pyarrow as pa

    base = pa.from_numpy_dtype(t.scalar.dtype)
    for _ in range(t.depth):
        base = pa.large_list(base)
    return base


def histogram_action(node: Node, name: str, title: str, axes: list[Axis1D], columns: list[ir.Column],
                     weight: ir.Column | None, profile: bool = False) -> ColumnAction:  # fmt: skip
    cols = columns + ([weight] if weight is not None else [])
    options = {"name": name, "title": title, "axes": axes, "weighted": weight is not None}
    return ColumnAction(node, columns=cols, kind="Profile" if profile else "Histo", options=options)


@dataclass(eq=False)
class Analysis:
    """Everything booked on one computation graph, and the results of its passes."""

    root: Source
    actions: list[Action] = field(default_factory=list)
    results: dict[Action, Any] = field(default_factory=dict)
    failed: dict[Action, BaseException] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    passes: int = 0  # event loops run so far: each computes every pending action at once
    random_sites: dict[str, Any] = field(default_factory=dict)  # gRandom call sites (hepframe.random_columns)
    default_columns: list[str] = field(default_factory=list)  # RDataFrame(tree, files, defaultColumns)
    progress: bool | None = None  # ROOT.RDF.Experimental.AddProgressBar: a bar for every event loop
    slots: int = 1  # ROOT's processing slots (GetNSlots): the implicit-MT threads of the ROOT facade

    def pending(self) -> list[Action]:
        return [a for a in self.actions if a not in self.results and a not in self.failed]


Callback = Callable[..., Any]
