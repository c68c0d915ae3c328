"""Python UDFs: vectorized callables, and per-event numba functions (like ROOT's ``Numba.Declare``).

A *vectorized* UDF receives one array per argument for a whole batch of events (awkward arrays
by default: scalars as 1-D arrays, RVecs as jagged arrays) and returns one value per event. A
*numba* UDF is written per event, like a C++ helper: RVec arguments arrive as 1-D numpy arrays,
scalars as numbers, any number of them; it returns a number or an RVec (a 1-D array). hepframe
compiles it with numba and runs it over the batch's list offsets, so no Python runs per event.
Both declare their C++ types, and both are usable by name in string expressions once defined.
``Numba.Declare`` is ROOT's spelling of the numba kind (``ROOT.Numba.Declare``, with ROOT's type
names and compiled as ROOT compiles it, so its values are ROOT's).

Examples
--------
>>> import awkward as ak, numpy as np
>>> import hepframe
>>> @hepframe.udf(returns="RVec<float>")
... def pt_over_met(pt, met):
...     return pt / met
>>> @hepframe.numba_udf(args=["RVec<float>", "float"], returns="int")
... def n_above(pt, cut):
...     n = 0
...     for x in pt:
...         if x > cut:
...             n += 1
...     return n

"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import awkward as ak
import numpy as np

from hepframe.engines.values import Jagged, Value, merge_valid
from hepframe.errors import AnalysisError, EventError, did_you_mean
from hepframe.expr.types import TYPE_NAMES, CType, Scalar

_RVEC_ALIASES = {"RVecF": "float", "RVecD": "double", "RVecI": "int", "RVecU": "unsigned int", "RVecL": "long",
                 "RVecUL": "unsigned long", "RVecB": "bool", "RVecC": "char"}  # fmt: skip
_PYTHON_TYPES = {float: Scalar.DOUBLE, int: Scalar.LONG, bool: Scalar.BOOL}


def parse_type(spec: str | type | np.dtype | CType) -> CType:
    """A C++ type from ``"float"``, ``"RVec<float>"``, ``"ROOT::RVecF"``, a numpy dtype or ``float``/``int``/``bool``."""
    if isinstance(spec, CType):
        return spec
    if isinstance(spec, type) and spec in _PYTHON_TYPES:
        return CType(_PYTHON_TYPES[spec])
    if isinstance(spec, (np.dtype, type)):
        return CType.from_dtype(np.dtype(spec))
    text = " ".join(str(spec).replace("ROOT::VecOps::", "").replace("ROOT::", "").split())
    if text in _RVEC_ALIASES:
        return CType(TYPE_NAMES[_RVEC_ALIASES[text]], 1)
    for prefix in ("RVec<", "std::vector<", "vector<"):
        if text.startswith(prefix) and text.endswith(">"):
            inner = parse_type(text[len(prefix) : -1])
            return CType(inner.scalar, inner.depth + 1)
    if text in TYPE_NAMES:
        return CType(TYPE_NAMES[text])
    raise AnalysisError(f"unknown type {spec!r}; use e.g. 'float', 'double', 'int', 'bool' or 'RVec<float>'")


@dataclass(frozen=True, eq=False)
class PythonUDF:
    """A registered Python function with a declared C++ result type."""

    name: str
    func: Callable
    returns: CType
    args: tuple[CType, ...] | None = None  # None: any argument types (vectorized UDFs)
    kind: str = "vectorized"  # or "numba"
    library: str = "awkward"  # vectorized UDFs: "awkward" or "numpy" for scalar arguments

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.args is not None and len(args) + len(kwargs) != len(self.args):
            raise AnalysisError(f"{_signature_text(self.name, self.args, self.returns)} takes {len(self.args)} "
                                f"arguments, got {len(args) + len(kwargs)}")  # fmt: skip
        return self.func(*args, **kwargs)

    @property
    def op_key(self) -> str:
        return f"udf:{self.name}"

    def evaluate(self, inputs: list[Value], n: int, entries: np.ndarray) -> Value:
        valid = merge_valid(*(v.valid for v in inputs))
        if self.kind == "numba":
            try:
                return Value(_run_numba(self, inputs, n), valid)
            except (IndexError, ValueError, ZeroDivisionError) as exc:  # raised inside the compiled function
                first, last = (int(entries[0]), int(entries[-1])) if len(entries) else (0, 0)
                raise EventError(f"numba function {self.name!r} raised {type(exc).__name__}: {exc} "
                                 f"(batch of entries {first}-{last})") from None  # fmt: skip
        args = [_to_library(v.data, n, self.library) for v in inputs]
        try:
            result = self.func(*args)
        except Exception as exc:  # the user's code failed: say which UDF and which entries
            first, last = (int(entries[0]), int(entries[-1])) if len(entries) else (0, 0)
            raise EventError(f"Python UDF {self.name!r} raised {type(exc).__name__}: {exc} "
                             f"(batch of entries {first}-{last})") from exc  # fmt: skip
        return Value(_from_result(result, self, n), valid)


def _to_library(data, n: int, library: str):
    if isinstance(data, Jagged):  # zero-copy: the offsets and values become an awkward layout
        return ak.Array(_layout(data))
    arr = np.broadcast_to(np.asarray(data), (n,))
    return arr if library == "numpy" else ak.Array(arr)


def _layout(data: Jagged) -> ak.contents.Content:
    inner = _layout(data.values) if isinstance(data.values, Jagged) else ak.contents.NumpyArray(data.values)
    return ak.contents.ListOffsetArray(ak.index.Index64(data.offsets), inner)


def _is_packed_list(layout: ak.contents.Content) -> bool:
    """A list layout whose offsets start at 0 and whose content holds exactly the listed numbers."""
    if not isinstance(layout, ak.contents.ListOffsetArray) or not isinstance(layout.content, ak.contents.NumpyArray):
        return False
    offsets = layout.offsets.data
    return layout.content.data.ndim == 1 and len(offsets) > 0 and offsets[0] == 0 and offsets[-1] == len(layout.content)


def list_parts(array: ak.Array, dtype=None) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, values)`` of a jagged awkward array: int64 offsets from 0 and the flat values.

    For numba kernels inside vectorized UDFs. The arrays hepframe passes in are already in this
    form, so they come out without a copy.
    """
    if _is_packed_list(array.layout):
        return np.asarray(array.layout.offsets.data, dtype=np.int64), np.asarray(array.layout.content.data, dtype=dtype)
    layout = ak.to_packed(array).layout.to_ListOffsetArray64(True)  # offsets from 0, contiguous values
    return np.asarray(layout.offsets.data, dtype=np.int64), np.asarray(ak.to_numpy(ak.Array(layout.content)), dtype=dtype)


def list_array(offsets: np.ndarray, values: np.ndarray) -> ak.Array:
    """The jagged awkward array with these int64 ``offsets`` (from 0) and flat ``values``, without a copy."""
    return ak.Array(ak.contents.ListOffsetArray(ak.index.Index64(offsets), ak.contents.NumpyArray(values)))


def _from_result(result, udf: PythonUDF, n: int):
    want = udf.returns
    if isinstance(result, ak.Array) and result.ndim > 1:
        if want.depth != result.ndim - 1:
            raise AnalysisError(f"Python UDF {udf.name!r} returned {result.ndim - 1}-level lists but declares {want.short}")
        if len(result) != n:
            raise AnalysisError(f"Python UDF {udf.name!r} returned {len(result)} values for {n} events")
        if want.depth != 1:
            raise AnalysisError(f"Python UDF {udf.name!r}: nested results are not supported yet")
        if isinstance(result.layout, (ak.contents.ListOffsetArray, ak.contents.ListArray, ak.contents.RegularArray)):
            return Jagged.from_offsets(*list_parts(result, want.scalar.dtype))  # in place where already packed
        # e.g. optional lists
        counts, flat = np.asarray(ak.num(result, axis=1)), ak.to_numpy(ak.flatten(result, axis=1))
        return Jagged(counts.astype(np.int64, copy=False), flat.astype(want.scalar.dtype, copy=False))
    arr = np.asarray(result.to_numpy() if isinstance(result, ak.Array) else result)
    if want.depth:
        raise AnalysisError(f"Python UDF {udf.name!r} returned one value per event but declares {want.short}")
    if arr.ndim == 0:
        arr = np.broadcast_to(arr, (n,))
    if arr.shape != (n,):
        raise AnalysisError(f"Python UDF {udf.name!r} returned shape {arr.shape} for {n} events")
    return arr.astype(want.scalar.dtype)


# -- per-event numba UDFs -----------------------------------------------------------------
#
# One compiled loop per result shape runs a numba function over a batch: ``fn`` arrives as an
# argument (numba specializes the loop on it), and the per-event arguments are gathered from a
# tuple of columns by a type-level recursion, so any number of arguments works without
# generating code from text. Scalar columns are 1-D arrays; RVec columns are (values, offsets).

#: The argument and result types of ROOT's ``Numba.Declare`` (ROOT 6.40, _numbadeclare.py).
_DECLARE_SCALARS = ("float", "double", "int", "unsigned int", "long", "unsigned long", "bool")
_DECLARE_ALIASES = {"F": "float", "D": "double", "I": "int", "U": "unsigned int", "L": "long", "UL": "unsigned long",
                    "B": "bool"}  # fmt: skip
_DECLARE_CONTAINERS = ("ROOT::VecOps::RVec<", "ROOT::RVec<", "RVec<", "std::vector<", "vector<")


@functools.cache
def _drivers() -> tuple[Callable, Callable]:
    """``(scalar_loop, rvec_loop)``: compiled once per process, on first use (numba imports slowly)."""
    import numba
    from numba.extending import overload

    def event_value(col, i):  # pragma: no cover - replaced by the overload below
        raise NotImplementedError

    @overload(event_value)
    def _event_value(col, i):
        if isinstance(col, numba.types.Array):
            return lambda col, i: col[i]
        return lambda col, i: col[0][col[1][i] : col[1][i + 1]]

    def event_args(cols, i):  # pragma: no cover - replaced by the overload below
        raise NotImplementedError

    @overload(event_args)
    def _event_args(cols, i):
        # Types decide the recursion: each tuple length is its own (compile-time) implementation.
        if len(cols) == 0:
            return lambda cols, i: ()
        return lambda cols, i: (event_value(cols[0], i),) + event_args(cols[1:], i)

    @numba.njit(nogil=True)
    def scalar_loop(fn, cols, out):  # pragma: no cover - compiled
        for i in range(len(out)):
            out[i] = fn(*event_args(cols, i))  # numba casts to the declared type, as ROOT's wrapper

    @numba.njit(nogil=True)
    def rvec_loop(fn, cols, offsets, values):  # pragma: no cover - compiled
        # One call per event: results are appended to a buffer that doubles when full. Element
        # loops, not slice assignments: those take seconds more to compile.
        pos = 0
        for i in range(len(offsets) - 1):
            r = fn(*event_args(cols, i))
            m = len(r)
            if pos + m > len(values):
                grown = np.empty(max(2 * len(values), pos + m), values.dtype)
                for k in range(pos):
                    grown[k] = values[k]
                values = grown
            for k in range(m):
                values[pos + k] = r[k]  # numba converts to the declared type, as ROOT's wrapper
            pos += m
            offsets[i + 1] = pos
        return values[:pos]

    return scalar_loop, rvec_loop


def _run_numba(udf: PythonUDF, inputs: list[Value], n: int) -> np.ndarray | Jagged:
    assert udf.args is not None
    want = udf.returns.scalar.dtype
    if n == 0:  # nothing to compile for (e.g. Spark's planning pass)
        return Jagged.from_offsets(np.zeros(1, np.int64), np.empty(0, want)) if udf.returns.is_rvec else np.empty(0, want)
    cols: list = []
    for value, t in zip(inputs, udf.args, strict=True):
        data = value.data
        # Writable, contiguous arrays of the declared type: the compiled signature takes exactly
        # these (numba cannot pass a read-only Arrow view where a mutable array is declared).
        if t.is_rvec:
            assert isinstance(data, Jagged)
            cols.append((np.require(data.values, t.scalar.dtype, ["C", "W"]),
                         np.require(data.offsets, np.int64, ["C", "W"])))  # fmt: skip
        else:
            cols.append(np.require(np.broadcast_to(np.asarray(data), (n,)), t.scalar.dtype, ["C", "W"]))
    from numba.core.errors import NumbaError

    scalar_loop, rvec_loop = _drivers()
    try:
        if not udf.returns.is_rvec:
            out = np.empty(n, dtype=want)
            scalar_loop(udf.func, tuple(cols), out)
            return out
        offsets = np.zeros(n + 1, dtype=np.int64)
        values = rvec_loop(udf.func, tuple(cols), offsets, np.empty(max(n, 16), dtype=want))
        return Jagged.from_offsets(offsets, values)
    except NumbaError as exc:  # e.g. a function numba compiled lazily that fails for these types
        raise AnalysisError(f"numba cannot run {_signature_text(udf.name, udf.args, udf.returns)}: {_numba_reason(exc)}") from None


def _numba_type(t: CType):
    """The numba type of a declared C++ type: ``float`` -> float32, ``RVecF`` -> float32[:] (as ROOT)."""
    import numba

    scalar = numba.from_dtype(t.scalar.dtype)
    return scalar[:] if t.depth else scalar


def _ctype_of_numba(nbtype) -> CType | None:
    """ROOT's mapping of an inferred numba result type to C++ (int8/16/32 -> int, uint8/16/32 -> unsigned int)."""
    import numba
    from numba.core.errors import NumbaError
    from numba.np.numpy_support import as_dtype

    rvec = isinstance(nbtype, numba.types.Array) and nbtype.ndim == 1
    try:
        dtype = as_dtype(nbtype.dtype if rvec else nbtype)
    except NumbaError:  # tuples, lists, strings, ...
        return None
    wide = dtype.itemsize == 8
    name = {"b": "bool", "i": "long" if wide else "int", "u": "unsigned long" if wide else "unsigned int",
            "f": "double" if wide else "float"}.get(dtype.kind)  # fmt: skip
    return None if name is None else CType(TYPE_NAMES[name], 1 if rvec else 0)


def _numba_reason(exc: Exception) -> str:
    """The line of a numba error that says what is wrong (not its pipeline stage, nor where)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(exc).splitlines()]
    skip = ("Failed in ", "During:", "File ", "<source", "This error may", "^")
    return next((line for line in lines if line and not line.startswith(skip)), type(exc).__name__)


def _signature_text(name: str, args: Sequence[CType], returns: CType | None) -> str:
    return f"{returns.short if returns else 'auto'} {name}({', '.join(t.short for t in args)})"


def _compile_numba(func: Callable, name: str, args: tuple[CType, ...], returns: CType | None):
    """``(dispatcher, result type)`` for a per-event function, compiled as ROOT's ``Numba.Declare`` does.

    First with the explicit signature (numba converts the result to the declared type). Where
    numba cannot type that (e.g. a float64 array declared ``RVecF``), ROOT compiles for the
    argument types alone and its wrapper converts the result: so does hepframe's event loop.
    """
    import numba

    for t in (*args, *([returns] if returns else [])):
        if t.depth > 1 or not t.scalar.is_arithmetic:
            raise AnalysisError(f"numba function {name!r}: {t.short} is not supported; numba functions take and "
                                "return numbers and RVecs of numbers")  # fmt: skip
    try:
        inspect.signature(func).bind(*args)
    except TypeError:
        raise AnalysisError(f"numba function {name!r} cannot take the {len(args)} declared arguments "
                            f"{_signature_text(name, args, returns)}") from None  # fmt: skip
    except ValueError:  # no introspectable signature: numba will tell
        pass
    nb_args = tuple(_numba_type(t) for t in args)
    if returns is not None:
        try:
            return numba.njit(_numba_type(returns)(*nb_args))(func), returns
        except Exception:  # numba raises many kinds; the next try reports the reason
            pass
    dispatcher = numba.njit(func)
    try:
        dispatcher.compile(nb_args)
    except Exception as exc:
        raise AnalysisError(f"numba cannot compile {_signature_text(name, args, returns)}: {_numba_reason(exc)}") from None
    dispatcher.disable_compile()  # later calls convert to these argument types, as with a signature
    result = dispatcher.nopython_signatures[-1].return_type
    inferred = _ctype_of_numba(result)
    if inferred is None or (returns is not None and inferred.depth != returns.depth):
        raise AnalysisError(f"numba function {name!r} returns {result}, but {_signature_text(name, args, returns)} "
                            "declares " + (returns.short if returns else "a number or an RVec"))  # fmt: skip
    return dispatcher, returns or inferred


def _declare_type(spec: str, name: str) -> CType:
    """A type name as ROOT's ``Numba.Declare`` accepts it: see ``_DECLARE_SCALARS`` and RVec/std::vector of them."""
    text = " ".join(str(spec).split()) if isinstance(spec, str) else ""
    inner = text
    for prefix in ("ROOT::VecOps::", "ROOT::"):
        inner = inner.removeprefix(prefix)
    if inner.startswith("RVec") and inner[4:] in _DECLARE_ALIASES:
        return CType(TYPE_NAMES[_DECLARE_ALIASES[inner[4:]]], 1)
    container = next((c for c in _DECLARE_CONTAINERS if text.startswith(c) and text.endswith(">")), None)
    element = text[len(container) : -1].strip() if container else text
    if element in _DECLARE_SCALARS:
        return CType(TYPE_NAMES[element], 1 if container else 0)
    raise AnalysisError(
        f"Numba.Declare for {name!r}: unsupported type {spec!r}; use one of {', '.join(_DECLARE_SCALARS)}, "
        "RVecF/RVecD/RVecI/RVecU/RVecL/RVecUL/RVecB or ROOT::RVec<T>/std::vector<T> of those"
    )


# -- registry and decorators ------------------------------------------------------------------

_REGISTRY: dict[str, PythonUDF] = {}


def register(u: PythonUDF) -> PythonUDF:
    _REGISTRY[u.name] = u
    return u


def lookup_udf(name: str) -> PythonUDF | None:
    """The UDF registered under ``name`` (``Numba::name`` also works, as in ROOT)."""
    return _REGISTRY.get(name.removeprefix("Numba::"))


def registered_names() -> list[str]:
    return sorted(n for n in _REGISTRY if "#" not in n)


_UNUSABLE: dict[str, str] = {}


def register_unusable(name: str, reason: str) -> None:
    """A declared function that expression strings cannot call, and why (e.g. it returns Lorentz vectors)."""
    _UNUSABLE[name] = reason


def unusable_reason(name: str) -> str | None:
    return _UNUSABLE.get(name)


def udf(returns: str | type | CType, *, name: str | None = None, library: str = "awkward"
        ) -> Callable[[Callable[..., Any]], PythonUDF]:  # fmt: skip
    """Declare a vectorized UDF with C++ result type ``returns`` and register it by name."""
    if library not in ("awkward", "numpy"):
        raise AnalysisError("library must be 'awkward' or 'numpy'")

    def decorate(func: Callable) -> PythonUDF:
        return register(PythonUDF(name or func.__name__, func, parse_type(returns), None, "vectorized", library))

    return decorate


def numba_udf(args: Sequence[str | type | CType], returns: str | type | CType, *, name: str | None = None
              ) -> Callable[[Callable[..., Any]], PythonUDF]:  # fmt: skip
    """Declare a per-event function, compiled with numba, with C++ argument and result types.

    Any number of arguments, numbers or RVecs of numbers; the result is a number or an RVec.
    Returns the registered :class:`PythonUDF` (calling it runs the compiled function).
    """
    arg_types = tuple(parse_type(a) for a in args)
    result = parse_type(returns)

    def decorate(func: Callable) -> PythonUDF:
        udf_name = name or func.__name__
        compiled, returned = _compile_numba(func, udf_name, arg_types, result)
        return register(PythonUDF(udf_name, compiled, returned, arg_types, "numba"))

    return decorate


def numba_declare(argtypes: Sequence[str], rettype: str | None = None, name: str | None = None):
    """ROOT's ``ROOT.Numba.Declare(argtypes, rettype)``: the function becomes ``Numba::name`` in expressions.

    Types are ROOT's: ``float``, ``double``, ``int``, ``unsigned int``, ``long``, ``unsigned
    long``, ``bool``, the RVec aliases (``RVecF``, ``RVecI``, ...) and ``ROOT::RVec<T>`` or
    ``std::vector<T>`` of those; without ``rettype`` the result type is numba's (as in ROOT).
    Compiled with numba at declaration, as ROOT does, with the same signature; like ROOT, the
    decorator returns the Python function itself, with the compiled one as ``numba_func``.

    Examples
    --------
    >>> @numba_declare(["float", "int"], "float")  # doctest: +SKIP
    ... def pypow(x, y):
    ...     return x**y
    >>> df.Define("x_pow3", "Numba::pypow(x, 3)")  # doctest: +SKIP

    """
    if isinstance(argtypes, str) or not isinstance(argtypes, Sequence):
        raise AnalysisError(f"Numba.Declare(argtypes, rettype): argtypes must be a list of type names, got {argtypes!r}")

    def decorate(func: Callable) -> Callable:
        udf_name = name or func.__name__
        arg_types = tuple(_declare_type(a, udf_name) for a in argtypes)
        result = None if rettype is None else _declare_type(rettype, udf_name)
        compiled, returned = _compile_numba(func, udf_name, arg_types, result)
        declared = register(PythonUDF(udf_name, compiled, returned, arg_types, "numba"))
        func.numba_func = compiled  # type: ignore[attr-defined] # ROOT's attribute
        func.__hepframe_udf__ = declared  # type: ignore[attr-defined] # Define("x", func, cols) finds it
        return func

    return decorate


class NumbaNamespace:
    """``ROOT.Numba``: ``Declare``, and each declared function by name (its compiled form, as ROOT's C++ one)."""

    Declare = staticmethod(numba_declare)

    def __getattr__(self, name: str) -> PythonUDF:
        if name.startswith("__"):
            raise AttributeError(name)
        found = _REGISTRY.get(name)
        if found is None or found.kind != "numba":
            declared = [n for n, u in _REGISTRY.items() if u.kind == "numba"]
            raise AttributeError(f"ROOT.Numba.{name}: no function of that name was declared with Numba.Declare"
                                 f"{did_you_mean(name, declared)}")  # fmt: skip
        return found

    def __dir__(self) -> list[str]:
        return ["Declare", *sorted(n for n, u in _REGISTRY.items() if u.kind == "numba")]


Numba = NumbaNamespace()


def as_udf(func: Callable | PythonUDF, returns: str | type | CType | None = None) -> PythonUDF:
    """Wrap a callable passed to Define/Filter; its type comes from ``returns``, a decorator or an annotation."""
    if isinstance(func, PythonUDF):
        return func
    declared = getattr(func, "__hepframe_udf__", None)  # a function decorated with Numba.Declare
    if isinstance(declared, PythonUDF):
        return declared
    if returns is None:
        annotation = inspect.signature(func).return_annotation
        if annotation is inspect.Signature.empty:
            raise AnalysisError(
                f"declare the result type of {getattr(func, '__name__', func)!r}: decorate it with "
                f"@hepframe.udf(returns='float'), pass returns='float', or annotate '-> float'"
            )
        returns = annotation
    name = getattr(func, "__name__", "udf")
    if name == "<lambda>":
        name = f"lambda_{id(func):x}"
    return register(PythonUDF(name, func, parse_type(returns), None, "vectorized"))
