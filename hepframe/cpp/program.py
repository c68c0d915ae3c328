"""The typed IR of declared C++ functions: statements over :mod:`hepframe.expr.ir` expressions.

The binder (:mod:`hepframe.cpp.binder`) produces it with every C++ conversion explicit, as for
expression strings; the code generator (:mod:`hepframe.cpp.codegen`) reads only this IR. A
variable is an ``ir.Column`` whose name is the variable's internal identifier (``v3``), never
the user's name, so generated code contains no user text.
"""

from __future__ import annotations

from dataclasses import dataclass

from hepframe.expr import ir
from hepframe.expr.types import CType


@dataclass(frozen=True)
class Var:
    id: str  # internal identifier: "v<k>" for locals, "g<k>" for constants
    type: CType
    name: str  # the C++ name, for messages only
    const: bool = False


class Stmt:
    """A statement."""


@dataclass(frozen=True)
class Let(Stmt):
    """Declare ``var``; ``value`` None: zero (numbers, vectors) or empty (RVecs)."""

    var: Var
    value: ir.Expr | None


@dataclass(frozen=True)
class Assign(Stmt):
    var: Var
    value: ir.Expr


@dataclass(frozen=True)
class SetItem(Stmt):
    """``v[i] = value`` or ``m[i][j] = value``: ``target`` is the ir.Index being written."""

    target: ir.Index
    value: ir.Expr


@dataclass(frozen=True)
class Append(Stmt):
    """``v.push_back(value)``; ``target`` is a variable (ir.Column) or a row of one (ir.Index)."""

    target: ir.Expr
    value: ir.Expr


@dataclass(frozen=True)
class Resize(Stmt):
    target: ir.Expr
    size: ir.Expr
    fill: ir.Expr


@dataclass(frozen=True)
class If(Stmt):
    cond: ir.Expr
    then: tuple[Stmt, ...]
    other: tuple[Stmt, ...]


@dataclass(frozen=True)
class Loop(Stmt):
    """``while (cond) { body; step }``: ``continue`` runs ``step`` (a for loop's increment) first."""

    cond: ir.Expr
    body: tuple[Stmt, ...]
    step: tuple[Stmt, ...]


@dataclass(frozen=True)
class ForEach(Stmt):
    """``for (T var : range)``: ``var`` takes each element, converted to its type."""

    var: Var
    range: ir.Expr
    body: tuple[Stmt, ...]


@dataclass(frozen=True)
class Break(Stmt):
    pass


@dataclass(frozen=True)
class Continue(Stmt):
    step: tuple[Stmt, ...]  # the enclosing for loop's increment, run before the next test


@dataclass(frozen=True)
class Return(Stmt):
    value: ir.Expr


@dataclass(frozen=True)
class Function:
    id: str  # internal identifier: "f<k>"
    name: str  # the C++ name (qualified), for messages and registration
    params: tuple[Var, ...]
    returns: CType
    body: tuple[Stmt, ...]
    copied: frozenset[str]  # ids of by-value RVec parameters the body modifies: copied on entry
    calls: frozenset[str]  # ids of the functions it calls
    arity: int | None = None  # a lifted lambda: its own parameters, before those holding its captures


@dataclass(frozen=True)
class Constant:
    var: Var
    value: ir.Expr


def walk_exprs(stmts: tuple[Stmt, ...]):
    """Every expression of a statement list (outermost nodes), statements in order."""
    for s in stmts:
        for name in ("value", "cond", "target", "size", "fill", "range"):
            e = getattr(s, name, None)
            if isinstance(e, ir.Expr):
                yield e
        for name in ("then", "other", "body", "step"):
            yield from walk_exprs(getattr(s, name, ()))


def walk_stmts(stmts: tuple[Stmt, ...]):
    """Every statement of a statement list, nested ones included, in order."""
    for s in stmts:
        yield s
        for name in ("then", "other", "body", "step"):
            yield from walk_stmts(getattr(s, name, ()))
