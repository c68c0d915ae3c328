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


@dataclass(frozen=True)
class RandomCall(Node):
    """``gRandom->method(args)``; ``pos`` is the position of ``gRandom`` (it identifies the draw)."""

    method: str
    args: tuple[Node, ...]
    method_pos: int


# -- statements: the body of a Define or Filter that contains ``return`` (see parser.Parser.body) --


@dataclass(frozen=True)
class TypeSpec:
    """A declared type: ``auto``, an arithmetic type name, ``RVec<...>``, or ``std::array<T, N>``."""

    name: str  # "auto", a key of types.TYPE_NAMES, or "RVec<T>" (nested for RVec<RVec<T>>)
    const: bool = False
    reference: str = ""  # "", "&" or "&&"
    array_size: int | None = None  # N of std::array<T, N> (then name is "RVec<T>")


@dataclass(frozen=True)
class Declaration(Node):
    """``T name;``, ``T name = e;``, ``T name{a, b};``, ``T name = {a, b};`` or ``T name(a, b);``."""

    type: TypeSpec
    name: str
    init: str  # "", "=", "{}" or "()"
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Assign(Node):
    """``name op value;`` with op "=", "+=", ..., or ``++name;``/``name--;`` (op "++"/"--", value None)."""

    target: str
    op: str
    value: Node | None
    op_pos: int


@dataclass(frozen=True)
class Return(Node):
    value: Node


@dataclass(frozen=True)
class If(Node):
    cond: Node
    then: Node
    other: Node | None


@dataclass(frozen=True)
class Block(Node):
    """``{ statements }``, the body of an if or a loop, or the whole text (a scope for declarations)."""

    statements: tuple[Node, ...]


@dataclass(frozen=True)
class RangeFor(Node):
    """``for (T var : range) body``."""

    var_type: TypeSpec
    var: str
    range: Node
    body: Node


@dataclass(frozen=True)
class IndexFor(Node):
    """``for (T var = start; var < bound; ++var) body`` (also ``var++`` and ``var += 1``)."""

    var_type: TypeSpec
    var: str
    start: Node
    bound: Node
    body: Node
