"""The analysis-graph IR: transformations (Source, Filter, Define) and booked actions.

Kept apart from expressions, as ibis keeps relations apart from values. Nodes form a tree
rooted at the Source; each node knows the columns visible at that point (its schema).
Expressions are parsed and typed when the user books them, so mistakes surface at the line
that made them, not in the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hepframe.connectors import RootSource
from hepframe.expr import ir
from hepframe.expr.types import CType
from hepframe.histograms import Histo1DModel


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


@dataclass(eq=False)
class Source(Node):
    source: RootSource

    def schema(self) -> dict[str, CType]:
        return dict(self.source.schema)


@dataclass(eq=False)
class Filter(Node):
    expr: ir.Expr
    text: str
    name: str | None = None


@dataclass(eq=False)
class Define(Node):
    name: str
    expr: ir.Expr
    text: str

    def schema(self) -> dict[str, CType]:
        out = super().schema()
        out[self.name] = self.expr.type
        return out


# -- actions -------------------------------------------------------------------------


@dataclass(eq=False)
class Action:
    node: Node

    def expressions(self) -> list[ir.Expr]:
        return []


@dataclass(eq=False)
class Count(Action):
    pass


@dataclass(eq=False)
class Sum(Action):
    column: ir.Column

    def expressions(self) -> list[ir.Expr]:
        return [self.column]


@dataclass(eq=False)
class Mean(Action):
    column: ir.Column

    def expressions(self) -> list[ir.Expr]:
        return [self.column]


@dataclass(eq=False)
class Histo1D(Action):
    model: Histo1DModel
    column: ir.Column
    weight: ir.Column | None = None

    def expressions(self) -> list[ir.Expr]:
        out: list[ir.Expr] = [self.column]
        return out + ([self.weight] if self.weight is not None else [])


@dataclass(eq=False)
class AsNumpy(Action):
    columns: list[ir.Column]

    def expressions(self) -> list[ir.Expr]:
        return [*self.columns]


@dataclass(eq=False)
class Report(Action):
    """Cut-flow of the named filters upstream of ``node`` (all of them when booked on the root)."""


@dataclass(eq=False)
class Analysis:
    """Everything booked on one computation graph, and the results of its passes."""

    root: Source
    actions: list[Action] = field(default_factory=list)
    results: dict[Action, Any] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    passes: int = 0  # event loops run so far: each computes every pending action at once

    def pending(self) -> list[Action]:
        return [a for a in self.actions if a not in self.results]
