"""Declared C++ functions as per-event UDFs: compiled, registered by name, shipped to Spark tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hepframe.cpp import codegen
from hepframe.cpp import program as P
from hepframe.errors import AnalysisError
from hepframe.udf import PythonUDF, register, register_unusable


@dataclass(frozen=True, eq=False)
class CppUDF(PythonUDF):
    """A declared C++ function, run per event like a ``Numba.Declare``'d one.

    It pickles as the code that declared it (and the files it included), so a Spark task
    compiles it again, from its own kernel cache, instead of receiving machine code.
    """

    history: tuple[tuple[str, str | None], ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    arity: int = 0

    def __reduce__(self):
        return _rebuild, (self.history, self.files, self.name, self.arity)


_REPLAYED: dict[tuple, object] = {}


def _rebuild(history, files, name: str, arity: int) -> CppUDF:
    from hepframe.cpp.interpreter import Interpreter

    key = (history, files)
    interp = _REPLAYED.get(key)
    if interp is None:
        interp = Interpreter()
        interp.scope.files.update(dict(files))
        for code, path in history:
            interp.declare(code, path)
        _REPLAYED[key] = interp
    return interp.udfs[(name, arity)]  # type: ignore[attr-defined,return-value]


def expression_types_ok(fn: P.Function) -> str | None:
    """Why expression strings cannot call ``fn`` (None if they can): columns are numbers and RVecs of numbers."""
    for t in (*(p.type for p in fn.params), fn.returns):
        if t.scalar.is_vector4:
            return f"it takes or returns {t.short} (Lorentz vectors are not column types: pass their coordinates)"
        if t.depth > 2:
            return f"it takes or returns {t.short} (columns have at most two levels of RVec)"
    return None


def compile_and_register(interp, defined: list[P.Function]) -> None:
    functions, constants = interp.closure(defined)
    source = codegen.module_source(functions, constants)
    module = codegen.load_module(source)
    history = interp.history_snapshot()
    udfs = interp.udfs
    pending = []
    for fn in defined:
        dispatcher = getattr(module, fn.id)
        reason = expression_types_ok(fn)
        if reason is not None:
            interp.unusable[fn.name] = reason
            register_unusable(fn.name, reason)
            continue
        udf = CppUDF(fn.name, dispatcher, fn.returns, tuple(p.type for p in fn.params), "numba", history=history,
                     files=tuple(sorted(interp.scope.files.items())), arity=len(fn.params))  # fmt: skip
        pending.append(udf)
    for udf in pending:
        _compile_now(udf)
    for udf in pending:
        by_arity = CppUDF(f"{udf.name}#{udf.arity}", udf.func, udf.returns, udf.args, "numba", history=udf.history,
                          files=udf.files, arity=udf.arity)  # what expressions call: C++ overloads by arity
        for u in (udf, by_arity):
            udfs[(u.name, u.arity)] = u
            register(u)


def _compile_now(udf: CppUDF) -> None:
    """Compile for the argument types the event loop passes, so errors show at Declare, not mid-run."""
    import numba

    assert udf.args is not None
    types: list[Any] = []
    for t in udf.args:
        scalar = numba.from_dtype(t.scalar.dtype)
        if t.depth == 2:  # what the event loop passes: (rows padded to the longest, row sizes)
            types.append(numba.types.Tuple((numba.types.Array(scalar, 2, "C"), numba.types.Array(numba.int64, 1, "C"))))
        else:
            types.append(numba.types.Array(scalar, 1, "C") if t.depth else scalar)
    dispatcher: Any = udf.func
    try:
        dispatcher.compile(tuple(types))
    except Exception as exc:  # numba's errors: a gap of the code generator, never the user's C++
        from hepframe.udf import _numba_reason

        raise AnalysisError(f"compiling the C++ function {udf.name} failed in numba: {_numba_reason(exc)}; "
                            "please report this with the code you declared") from None  # fmt: skip
