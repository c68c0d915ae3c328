"""The typed expression IR: immutable, hashable nodes, each carrying its C++ type.

The binder (:mod:`hepframe.expr.binder`) makes every C++ implicit conversion explicit with
:class:`Cast` nodes, so engines never rely on their own promotion rules: both operands of an
arithmetic :class:`Binary` node always have the same scalar type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, replace

from hepframe.expr.types import CType


@dataclass(frozen=True)
class Expr:
    type: CType

    def children(self) -> tuple[Expr, ...]:
        cached = self.__dict__.get("_children")  # nodes are immutable: computed once (the executor asks often)
        if cached is not None:
            return cached
        out: list[Expr] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Expr):
                out.append(value)
            elif isinstance(value, tuple):
                out.extend(v for v in value if isinstance(v, Expr))
        object.__setattr__(self, "_children", tuple(out))
        return self.__dict__["_children"]

    def walk(self) -> Iterator[Expr]:
        """This node and all its descendants, parents first."""
        yield self
        for child in self.children():
            yield from child.walk()

    @property
    def op_key(self) -> str:
        """The key under which engines declare support for this node (see engines/base.py)."""
        return type(self).__name__.lower()


@dataclass(frozen=True)
class Column(Expr):
    name: str


@dataclass(frozen=True)
class Literal(Expr):
    value: int | float | bool

    # 0.0 and -0.0 (and NaN with itself) must be different/equal keys of the engines' caches.
    def _key(self) -> tuple:
        return (self.type, type(self.value), repr(self.value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Literal) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


@dataclass(frozen=True)
class Cast(Expr):
    """Conversion of the element type; the RVec depth never changes."""

    operand: Expr


@dataclass(frozen=True)
class Unary(Expr):
    op: str  # "-", "+", "!", "~"
    operand: Expr

    @property
    def op_key(self) -> str:
        return f"unary{self.op}"


@dataclass(frozen=True)
class Binary(Expr):
    """Arithmetic, bitwise, comparison or logical operator; RVec operands are element-wise."""

    op: str
    left: Expr
    right: Expr

    @property
    def op_key(self) -> str:
        return self.op


@dataclass(frozen=True)
class Ternary(Expr):
    cond: Expr
    then: Expr
    other: Expr


@dataclass(frozen=True)
class Call(Expr):
    """A call of a function from the canonical table (hepframe.expr.functions)."""

    func: str
    args: tuple[Expr, ...]

    @property
    def op_key(self) -> str:
        return self.func


@dataclass(frozen=True)
class Index(Expr):
    """``v[i]``: element ``i`` of each event's RVec; undefined (an error if used) when out of range."""

    value: Expr
    index: Expr


@dataclass(frozen=True)
class Mask(Expr):
    """``v[m]``: the elements of ``v`` where the equally long RVec ``m`` is non-zero (ROOT semantics)."""

    value: Expr
    mask: Expr


@dataclass(frozen=True)
class RandomDraw(Expr):
    """``gRandom->Method(args)`` at source position ``pos``: a draw from the facade's TRandom3.

    Draws are stateful: the analysis replaces each one by a column of pre-drawn numbers, one per
    evaluation in ROOT's per-entry order (hepframe.random_columns), so engines never see this node.
    """

    method: str  # "Rndm", "Uniform", "Gaus", "Exp", "Poisson", "Integer", ...
    args: tuple[Expr, ...]
    pos: int


def rename_columns(expr: Expr, mapping: dict[str, str]) -> Expr:
    """A copy of ``expr`` with columns renamed by ``mapping`` (others unchanged)."""
    return substitute(expr, lambda e: Column(e.type, mapping.get(e.name, e.name)) if isinstance(e, Column) else None)


def substitute(expr: Expr, replacement: Callable[[Expr], Expr | None]) -> Expr:
    """A copy of ``expr`` where each outermost node for which ``replacement`` gives an Expr is replaced."""
    new = replacement(expr)
    if new is not None:
        return new
    changes: dict[str, object] = {}
    for f in fields(expr):
        value = getattr(expr, f.name)
        if isinstance(value, Expr):
            changes[f.name] = substitute(value, replacement)
        elif isinstance(value, tuple) and any(isinstance(v, Expr) for v in value):
            changes[f.name] = tuple(substitute(v, replacement) if isinstance(v, Expr) else v for v in value)
    return replace(expr, **changes) if changes else expr  # type: ignore[arg-type]


def free_columns(expr: Expr) -> frozenset[str]:
    """Names of the columns an expression reads (computed once per node: nodes are immutable)."""
    cached = expr.__dict__.get("_free_columns")
    if cached is None:
        cached = frozenset(node.name for node in expr.walk() if isinstance(node, Column))
        object.__setattr__(expr, "_free_columns", cached)
    return cached


def logical_terms(node: Binary) -> list[Expr]:
    """The operands of a chain of one logical operator, left to right (``&&`` and ``||`` associate)."""
    terms: list[Expr] = []
    stack: list[Expr] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Binary) and item.op == node.op and not item.type.is_rvec:
            stack.extend((item.right, item.left))
        else:
            terms.append(item)
    return terms


def short_circuit_keys(op: str, i: int, n: int) -> tuple[int, int, int]:
    """Keys (true, false, undefined) of term ``i`` of an ``n``-term ``op`` chain, for a linear lowering.

    C++ decides at the first term that does not pass (true passes ``&&``, false passes ``||``); an
    undefined term there makes the result undefined. Term ``i`` gets ``3*i + 1`` (false),
    ``3*i + 2`` (undefined) or ``3*i + 3`` (true), and a passing term a key above all of them, so the
    minimum key over the terms is the deciding term's, and ``key % 3`` its value: 0 true, 1 false,
    2 undefined. Engines compute each term once, then one minimum.
    """
    if op == "&&":
        return 3 * n + 3, 3 * i + 1, 3 * i + 2
    return 3 * i + 3, 3 * n + 4, 3 * i + 2
