"""C++ helper functions without ROOT: ``declare`` compiles the analysis subset of C++ to native code.

The code is parsed and typed with the expression front end (:mod:`hepframe.cpp.parser`,
:mod:`hepframe.cpp.binder`), turned into Python source for numba from the typed IR only
(:mod:`hepframe.cpp.codegen`), compiled once and cached on disk. Each function is then callable
by name in every expression string, on every engine. docs/cpp-helpers.md lists the subset.

Examples
--------
>>> import hepframe
>>> hepframe.declare('''
... float scaled(float x, int n) {
...     float total = 0;
...     for (int i = 0; i < n; ++i) total += x;
...     return total;
... }''')  # doctest: +SKIP
>>> df.Define("y", "scaled(x, 3)")  # doctest: +SKIP

"""

from __future__ import annotations

from collections.abc import Mapping

from hepframe.cpp.interpreter import Interpreter
from hepframe.expr import ir
from hepframe.expr.types import CType

INTERPRETER = Interpreter()


def declare(code: str, *, path: str | None = None) -> list[str]:
    """Compile C++ helper code; returns the names of the functions it defines.

    ``#include "file.h"`` reads files relative to ``path``'s directory (default: the working
    directory). Later declarations see the functions, aliases and constants of earlier ones, as
    in ROOT's interpreter. A declaration with an error raises it and changes nothing.
    """
    return [fn.name for fn in INTERPRETER.declare(code, path)]


def compile_define(text: str, schema: Mapping[str, CType]) -> ir.Expr:
    """A Define/Filter string the expression compiler refuses, compiled as a C++ function of its columns.

    ROOT compiles every expression this way; hepframe only falls back to it for what its
    expression compiler does not lower (lambdas, ``while`` loops, ...). The columns are the
    identifiers of the text that name columns, in order of appearance, as ROOT finds them.
    """
    from hepframe.expr.binder import ENTRY_COLUMN, SLOT_COLUMN
    from hepframe.expr.parser import _normalize_name, tokenize
    from hepframe.expr.types import SIZE_T, UINT

    columns: dict[str, ir.Expr] = {}
    for tok in tokenize(text):
        name = _normalize_name(tok.text) if tok.kind == "name" else ""
        if name in schema and name not in columns:
            columns[name] = ir.Column(schema[name], name)
        elif name == ENTRY_COLUMN:
            columns[name] = ir.Column(SIZE_T, ENTRY_COLUMN)
        elif name == SLOT_COLUMN:
            columns[name] = ir.Literal(UINT, 0)
    fn = INTERPRETER.declare_define(text, [(name, c.type.short) for name, c in columns.items()])
    from hepframe.udf import lookup_udf

    udf = lookup_udf(f"{fn.name}#{len(fn.params)}")
    if udf is None:  # e.g. a result expressions cannot hold (a Lorentz vector)
        from hepframe.errors import ExpressionTypeError

        raise ExpressionTypeError(f"the expression's value is {fn.returns.short}, which is not a column type", text, 0)
    return ir.Call(fn.returns, udf.op_key, tuple(columns.values()))


__all__ = ["INTERPRETER", "compile_define", "declare"]
