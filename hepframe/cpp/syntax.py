"""Syntax of declared C++ helper code: the nodes beyond those of expressions and statement blocks.

Expressions and the statements Define bodies already use (declarations, ``if``, range-``for``,
``return``, blocks) are :mod:`hepframe.expr.syntax` nodes; these add what whole functions need.
"""

from __future__ import annotations

from dataclasses import dataclass

from hepframe.expr.syntax import Block, Node, TypeSpec


@dataclass(frozen=True)
class Param:
    pos: int
    type: TypeSpec
    name: str


@dataclass(frozen=True)
class FunctionDef(Node):
    """``T name(params) { body }``; ``name`` is qualified by its namespaces (``adl::f``)."""

    name: str
    params: tuple[Param, ...]
    returns: TypeSpec
    body: Block
    source: str  # the text the positions index into (a file may be #included)


@dataclass(frozen=True)
class GlobalConst(Node):
    """``const auto z_mass = 91.2;`` (also ``constexpr``, ``static const``) at namespace scope."""

    type: TypeSpec
    name: str
    value: Node
    source: str


@dataclass(frozen=True)
class Lambda(Node):
    """``[captures](params) -> T { body }``: ``default`` is ``&``, ``=`` or empty."""

    default: str
    captures: tuple[str, ...]
    params: tuple[Param, ...]
    returns: TypeSpec | None
    body: Block


@dataclass(frozen=True)
class BraceList(Node):
    """``{a, b, c}`` where a value is expected (``return {i, j};``)."""

    items: tuple[Node, ...]


@dataclass(frozen=True)
class ForLoop(Node):
    """``for (init; cond; step) body``; each part may be empty."""

    init: tuple[Node, ...]
    cond: Node | None
    step: tuple[Node, ...]
    body: Block


@dataclass(frozen=True)
class While(Node):
    cond: Node
    body: Block


@dataclass(frozen=True)
class Break(Node):
    pass


@dataclass(frozen=True)
class Continue(Node):
    pass


@dataclass(frozen=True)
class Store(Node):
    """``target op value;`` for any assignable target (``x``, ``v[i]``, ``m[i][j]``); ``x++`` has value None."""

    target: Node
    op: str
    value: Node | None
    op_pos: int


@dataclass(frozen=True)
class ExprStatement(Node):
    """A call whose value is discarded: ``v.push_back(x);``, ``v.reserve(n);``."""

    expr: Node
