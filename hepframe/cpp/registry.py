"""Declared C++ functions as per-event UDFs: compiled, registered by name, shipped to Spark tasks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hepframe.cpp import codegen
from hepframe.cpp import program as P
from hepframe.engines.values import Jagged, Value, merge_valid
from hepframe.errors import AnalysisError, EventError
from hepframe.expr.types import CType
from hepframe.udf import PythonUDF, register, register_unusable


@dataclass(frozen=True, eq=False)
class CppUDF(PythonUDF):
    """A declared C++ function, run over each batch by its generated batch function (``b<id>``).

    It pickles as the code that declared it (and the files it included), so a Spark task
    compiles it again, from its own kernel cache, instead of receiving machine code.
    """

    history: tuple[tuple[str, str | None], ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    arity: int = 0
    batch: Any = None  # the compiled batch function

    def __reduce__(self):
        return _rebuild, (self.history, self.files, self.name, self.arity)

    def evaluate(self, inputs: list[Value], n: int, entries: np.ndarray) -> Value:
        valid = merge_valid(*(v.valid for v in inputs))
        try:
            return Value(self._run(inputs, n), valid)
        except (IndexError, ValueError, ZeroDivisionError) as exc:  # raised by the compiled code (bounds checks)
            first, last = (int(entries[0]), int(entries[-1])) if len(entries) else (0, 0)
            raise EventError(f"{self.name} failed in the batch of entries {first}-{last}: {exc} "
                             "(in C++ this is undefined behaviour, or an exception from ROOT)") from None  # fmt: skip

    def _run(self, inputs: list[Value], n: int) -> np.ndarray | Jagged:
        assert self.args is not None
        want = self.returns.scalar.dtype
        if n == 0:
            if self.returns.depth == 2:
                return Jagged.from_offsets(np.zeros(1, np.int64), Jagged(np.zeros(0, np.int64), np.empty(0, want)))
            return Jagged.from_offsets(np.zeros(1, np.int64), np.empty(0, want)) if self.returns.depth else np.empty(0, want)
        args: list[np.ndarray] = []
        for value, t in zip(inputs, self.args, strict=True):
            args.extend(_columns(value.data, t, n))
        if self.returns.depth == 0:
            out = np.empty(n, want)
            self.batch(n, *args, out)
            return out
        if self.returns.depth == 1:
            offsets = np.zeros(n + 1, np.int64)
            values = self.batch(n, *args, offsets, np.empty(max(n, 16), want))
            return Jagged.from_offsets(offsets, values)
        outer = np.zeros(n + 1, np.int64)
        counts, values = self.batch(n, *args, outer, np.empty(max(n, 16), np.int64), np.empty(max(n, 16), want))
        return Jagged.from_offsets(outer, Jagged(counts, values))


def _columns(data, t: CType, n: int) -> list[np.ndarray]:
    """A column as the batch function takes it: contiguous, writable arrays of the parameter's type."""
    def c(a, dtype) -> np.ndarray:
        return np.require(a, dtype, ["C", "W"])

    if t.depth == 2:
        assert isinstance(data, Jagged) and isinstance(data.values, Jagged)
        return [c(data.values.values, t.scalar.dtype), c(data.values.offsets, np.int64), c(data.offsets, np.int64)]
    if t.depth == 1:
        assert isinstance(data, Jagged)
        return [c(data.values, t.scalar.dtype), c(data.offsets, np.int64)]
    return [c(np.broadcast_to(np.asarray(data), (n,)), t.scalar.dtype)]


def _batch_signature(fn: P.Function) -> tuple:
    import numba

    def array(dtype) -> Any:
        return numba.types.Array(numba.from_dtype(np.dtype(dtype)), 1, "C")

    types: list[Any] = [numba.int64]
    for p in fn.params:
        element = array(p.type.scalar.dtype)
        types += {0: [element], 1: [element, array(np.int64)], 2: [element, array(np.int64), array(np.int64)]}[p.type.depth]
    result = array(fn.returns.scalar.dtype)
    types += {0: [result], 1: [array(np.int64), result], 2: [array(np.int64), array(np.int64), result]}[fn.returns.depth]
    return tuple(types)


_REPLAYED: dict[tuple, object] = {}


def _rebuild(history, files, name: str, arity: int) -> CppUDF:
    from hepframe.cpp.interpreter import Interpreter

    key = (history, files)
    interp = _REPLAYED.get(key)
    if interp is None:
        interp = Interpreter()
        interp.scope.files.update(dict(files))
        for code, path in history:
            interp.replay(code, path)
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
    exported = [fn for fn in defined if expression_types_ok(fn) is None]
    for fn in defined:
        reason = expression_types_ok(fn)
        if reason is not None:
            register_unusable(fn.name, reason)
    functions, constants = interp.closure(defined)
    module = codegen.load_module(codegen.module_source(functions, constants, exported))
    history, files = interp.history_snapshot(), tuple(sorted(interp.scope.files.items()))
    pending = []
    for fn in exported:
        batch = getattr(module, f"b{fn.id[1:]}")
        _compile_now(fn, batch)
        for name in (fn.name, f"{fn.name}#{len(fn.params)}"):  # the second: what expressions call (overloads by arity)
            pending.append(CppUDF(name, getattr(module, fn.id), fn.returns, tuple(p.type for p in fn.params), "numba",
                                  history=history, files=files, arity=len(fn.params), batch=batch))  # fmt: skip
    for udf in pending:  # only once everything compiled: a failed declaration registers nothing
        interp.udfs[(udf.name, udf.arity)] = udf
        register(udf)


def _compile_now(fn: P.Function, batch: Any) -> None:
    """Compile for the column types the event loop passes, so errors show at the declaration, not mid-run."""
    try:
        batch.compile(_batch_signature(fn))
    except Exception as exc:  # numba's errors: a gap of the code generator, never the user's C++
        from hepframe.udf import _numba_reason

        raise AnalysisError(f"compiling the C++ function {fn.name} failed in numba: {_numba_reason(exc)}; "
                            "please report this with the code you declared") from None  # fmt: skip
