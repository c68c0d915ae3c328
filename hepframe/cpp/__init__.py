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

from hepframe.cpp.interpreter import Interpreter

INTERPRETER = Interpreter()


def declare(code: str, *, path: str | None = None) -> list[str]:
    """Compile C++ helper code; returns the names of the functions it defines.

    ``#include "file.h"`` reads files relative to ``path``'s directory (default: the working
    directory). Later declarations see the functions, aliases and constants of earlier ones, as
    in ROOT's interpreter. A declaration with an error raises it and changes nothing.
    """
    return [fn.name for fn in INTERPRETER.declare(code, path)]


def unusable_reason(name: str) -> str | None:
    """Why a declared function cannot be called from an expression string, if that is the case."""
    return INTERPRETER.unusable.get(name)


__all__ = ["INTERPRETER", "declare", "unusable_reason"]
