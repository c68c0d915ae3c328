"""``gRandom->Gaus()`` in expressions: ROOT's numbers, drawn in ROOT's per-entry order.

ROOT evaluates an expression entry by entry, so the draws of all ``gRandom`` calls interleave: for
each entry, the booked actions run in booking order; each checks its filters (a filter reads its
columns only if the previous filters passed), then reads its columns; a Define is computed on its
first read in the entry, its input columns first (in reverse order of first appearance: the
arguments of ROOT's compiled call are evaluated right to left), then its own draws, left to right.

hepframe replays that order once per event loop: each call site becomes a column of the source,
filled before the loop by one compiled pass of :class:`~hepframe.trandom3.TRandom3` (the
process-wide ``gRandom``, also ``ROOT.gRandom`` in the facade), so engines see plain columns and
the numbers equal ROOT's single-threaded ones. Supported where that order does not depend on the
data: the draws must be constants-only calls, read for every entry (not only after a Filter), on
an in-memory source (``RDataFrame(n)``, ``FromNumpy``, ...). Anything else is a clear error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from hepframe import graph as g
from hepframe.errors import AnalysisError
from hepframe.expr import ir
from hepframe.trandom3 import gRandom  # the process-wide generator, seeded 4357 as ROOT's

PREFIX = "__gRandom_"


@dataclass(frozen=True)
class Site:
    """One ``gRandom->method(args)`` call in one expression."""

    column: str
    method: str
    args: tuple[float, ...]
    text: str


def _constant(expr: ir.Expr, text: str) -> float:
    """The value of a constant argument (a literal, possibly negated or converted)."""
    if isinstance(expr, ir.Literal):
        return float(expr.value)
    if isinstance(expr, ir.Cast):
        return _constant(expr.operand, text)
    if isinstance(expr, ir.Unary) and expr.op in "-+":
        value = _constant(expr.operand, text)
        return -value if expr.op == "-" else value
    raise AnalysisError(f"in {text!r}: the arguments of gRandom calls must be numbers for now (the draws are "
                        "prepared before the event loop); smear with a Python UDF instead")  # fmt: skip


def bind_draws(expr: ir.Expr, text: str, analysis: g.Analysis) -> ir.Expr:
    """``expr`` with each ``gRandom`` call replaced by a new column of the source, registered in ``analysis``."""
    if not any(isinstance(e, ir.RandomDraw) for e in expr.walk()):
        return expr
    from hepframe.connectors.memory import TableSource

    source = analysis.root.source
    if not isinstance(source, TableSource):
        raise AnalysisError(
            f"in {text!r}: gRandom draws are supported on RDataFrame(n) and in-memory sources (FromNumpy, ...), "
            "where ROOT's order of draws can be reproduced; for files, smear with a Python UDF"
        )

    # One column per call site (its source position): a stored draw used twice (``auto r = gRandom->Rndm();
    # return r - r;``) is one draw. Sites are numbered in source order, the order the body draws them.
    draws = sorted({e.pos: e for e in expr.walk() if isinstance(e, ir.RandomDraw)}.items())
    columns: dict[int, ir.Column] = {}
    for pos, e in draws:
        site = Site(f"{PREFIX}{len(analysis.random_sites)}", e.method, tuple(_constant(a, text) for a in e.args), text)
        analysis.random_sites[site.column] = site
        source.schema[site.column] = e.type
        source.table = source.table.append_column(site.column, pa.array(np.zeros(source.num_entries, e.type.scalar.dtype)))
        columns[pos] = ir.Column(e.type, site.column)
    return ir.substitute(expr, lambda e: columns[e.pos] if isinstance(e, ir.RandomDraw) else None)


def _columns_in_order(expr: ir.Expr) -> list[str]:
    """Column names by first appearance, left to right (as ROOT lists a jitted expression's inputs)."""
    seen: dict[str, None] = {}
    for node in expr.walk():
        if isinstance(node, ir.Column):
            seen.setdefault(node.name, None)
    return list(seen)


def draw_order(analysis: g.Analysis, actions: list[g.Action]) -> list[str]:
    """The random columns in the order ROOT draws them within one entry (see the module docstring)."""
    order: list[str] = []
    computed: set[int] = set()  # ids of Define and Filter nodes already evaluated in this entry

    def read(name: str, scope: g.Node, conditional: bool) -> None:
        if name.startswith(PREFIX):
            if name not in order:
                if conditional:
                    site = analysis.random_sites[name]
                    raise AnalysisError(
                        f"gRandom in {site.text!r} is drawn only for entries that pass a Filter: ROOT's sequence "
                        "would then depend on the data; define the random column before the first Filter"
                    )
                order.append(name)
            return
        define = scope.defines_in_scope().get(name)
        if define is not None and id(define) not in computed:
            computed.add(id(define))
            evaluate(define.expr, define.parent, conditional)

    def evaluate(expr: ir.Expr, scope: g.Node | None, conditional: bool) -> None:
        assert scope is not None
        names = _columns_in_order(expr)
        inputs = [n for n in names if not n.startswith(PREFIX)]
        for name in reversed(inputs):  # the compiled call's arguments, right to left
            read(name, scope, conditional)
        for name in sorted((n for n in names if n.startswith(PREFIX)), key=lambda n: int(n[len(PREFIX):])):
            read(name, scope, conditional)  # then the body's own draws, in source order

    for action in actions:
        conditional = False
        for node in reversed(action.node.ancestors()):
            if isinstance(node, g.Filter):
                if id(node) not in computed:
                    computed.add(id(node))
                    evaluate(node.expr, node.parent, conditional)
                conditional = True
            elif isinstance(node, g.Range):
                conditional = True
        columns = [e for e in action.expressions() if isinstance(e, ir.Column)]
        in_order = isinstance(action, g.ColumnAction) and action.kind in ("Snapshot", "AsNumpy")
        for column in columns if in_order else reversed(columns):
            read(column.name, action.node, conditional)
    return order


def prepare(analysis: g.Analysis, actions: list[g.Action]) -> None:
    """Fill the random columns that this event loop reads, continuing gRandom's sequence."""
    if not analysis.random_sites:
        return
    source = analysis.root.source
    order = draw_order(analysis, actions)
    if not order:
        return
    sites = [analysis.random_sites[name] for name in order]
    from hepframe.connectors.memory import TableSource

    assert isinstance(source, TableSource)  # draws are bound on in-memory sources only (bind_draws)
    arrays = gRandom.draw([(s.method, s.args) for s in sites], source.num_entries)
    table = source.table
    for site, values in zip(sites, arrays, strict=True):
        index = table.schema.get_field_index(site.column)
        dtype = source.schema[site.column].scalar.dtype
        table = table.set_column(index, site.column, pa.array(np.asarray(values, dtype=dtype)))
    source.table = table
