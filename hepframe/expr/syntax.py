"""Untyped syntax tree produced by the parser; positions index into the source text."""

from __future__ import annotations

from dataclasses import dataclass

from hepframe.expr.types import Scalar


@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Number(Node):
    text: str
    value: int | float
    scalar: Scalar


@dataclass(frozen=True)
class BoolLiteral(Node):
    value: bool


@dataclass(frozen=True)
class StringLiteral(Node):
    value: str


@dataclass(frozen=True)
class Name(Node):
    name: str  # possibly qualified, e.g. "ROOT::VecOps::Sum"


@dataclass(frozen=True)
class SizeOf(Node):
    """RDataFrame's ``#coll`` shorthand for the size of a collection column."""

    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Chain(Node):
    """``a && b && c ...`` (or ``||``) as written, left to right; the binder groups it (see bind_Chain)."""

    op: str
    operands: tuple[Node, ...]
    positions: tuple[int, ...]  # of the operators: positions[k] sits between operands k and k + 1


@dataclass(frozen=True)
class Conditional(Node):
    cond: Node
    then: Node
    other: Node


@dataclass(frozen=True)
class Call(Node):
    callee: str
    args: tuple[Node, ...]
    template: str | None = None  # e.g. "int" in static_cast<int>(x) or RVec<int>(...)


@dataclass(frozen=True)
class Index(Node):
    value: Node
    index: Node


@dataclass(frozen=True)
class Member(Node):
    value: Node
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Cast(Node):
    type_name: str
    operand: Node
