"""Python UDFs: vectorized callables, and per-event numba functions (like ROOT's ``Numba.Declare``).

A *vectorized* UDF receives one array per argument for a whole batch of events (awkward arrays
by default: scalars as 1-D arrays, RVecs as jagged arrays) and returns one value per event. A
*numba* UDF is written per event, like a C++ helper: RVec arguments arrive as 1-D numpy arrays,
scalars as numbers; hepframe compiles it with numba and runs it over the batch's list offsets,
so no Python runs per event. Both declare their C++ output type, and both are usable by name in
string expressions once defined.

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

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import awkward as ak
import numpy as np

from hepframe.engines.values import Jagged, Value, merge_valid
from hepframe.errors import AnalysisError, EventError
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

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)

    @property
    def op_key(self) -> str:
        return f"udf:{self.name}"

    def evaluate(self, inputs: list[Value], n: int, entries: np.ndarray) -> Value:
        valid = merge_valid(*(v.valid for v in inputs))
        if self.kind == "numba":
            return Value(_run_numba(self, inputs, n), valid)
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

_DRIVERS: dict = {}


def _numba_getters():
    import numba

    @numba.njit(cache=False)
    def get_scalar(values, offsets, i):  # pragma: no cover - compiled
        return values[i]

    @numba.njit(cache=False)
    def get_rvec(values, offsets, i):  # pragma: no cover - compiled
        return values[offsets[i] : offsets[i + 1]]

    return get_scalar, get_rvec


def _make_driver(fn, kinds: tuple[bool, ...]):
    """A compiled loop over events calling ``fn`` with each argument's per-event value."""
    import numba

    get_scalar, get_rvec = _numba_getters()
    g = [get_rvec if is_rvec else get_scalar for is_rvec in kinds] + [get_scalar] * (4 - len(kinds))
    g0, g1, g2, g3 = g
    if len(kinds) == 1:

        def drive(n, v0, o0, v1, o1, v2, o2, v3, o3, out):  # pragma: no cover - compiled
            for i in range(n):
                out[i] = fn(g0(v0, o0, i))
    elif len(kinds) == 2:

        def drive(n, v0, o0, v1, o1, v2, o2, v3, o3, out):  # pragma: no cover - compiled
            for i in range(n):
                out[i] = fn(g0(v0, o0, i), g1(v1, o1, i))
    elif len(kinds) == 3:

        def drive(n, v0, o0, v1, o1, v2, o2, v3, o3, out):  # pragma: no cover - compiled
            for i in range(n):
                out[i] = fn(g0(v0, o0, i), g1(v1, o1, i), g2(v2, o2, i))
    else:

        def drive(n, v0, o0, v1, o1, v2, o2, v3, o3, out):  # pragma: no cover - compiled
            for i in range(n):
                out[i] = fn(g0(v0, o0, i), g1(v1, o1, i), g2(v2, o2, i), g3(v3, o3, i))

    return numba.njit(drive)


def _run_numba(udf: PythonUDF, inputs: list[Value], n: int) -> np.ndarray:
    assert udf.args is not None
    kinds = tuple(t.is_rvec for t in udf.args)
    key = (id(udf), kinds)
    if key not in _DRIVERS:
        _DRIVERS[key] = _make_driver(udf.func, kinds)
    flat: list[np.ndarray] = []
    for value, t in zip(inputs, udf.args, strict=True):
        data = value.data
        if t.is_rvec:
            assert isinstance(data, Jagged)
            flat += [np.ascontiguousarray(data.values, dtype=t.scalar.dtype), data.offsets]
        else:
            flat += [np.ascontiguousarray(np.broadcast_to(np.asarray(data), (n,)), dtype=t.scalar.dtype),
                     np.zeros(1, np.int64)]  # fmt: skip
    while len(flat) < 8:
        flat += [np.zeros(1, np.float64), np.zeros(1, np.int64)]
    out = np.zeros(n, dtype=udf.returns.scalar.dtype)
    _DRIVERS[key](n, *flat, out)
    return out


# -- registry and decorators ------------------------------------------------------------------

_REGISTRY: dict[str, PythonUDF] = {}


def register(u: PythonUDF) -> PythonUDF:
    _REGISTRY[u.name] = u
    return u


def lookup_udf(name: str) -> PythonUDF | None:
    """The UDF registered under ``name`` (``Numba::name`` also works, as in ROOT)."""
    return _REGISTRY.get(name.removeprefix("Numba::"))


def registered_names() -> list[str]:
    return sorted(_REGISTRY)


def udf(returns: str | type | CType, *, name: str | None = None, library: str = "awkward"):
    """Declare a vectorized UDF with C++ result type ``returns`` and register it by name."""
    if library not in ("awkward", "numpy"):
        raise AnalysisError("library must be 'awkward' or 'numpy'")

    def decorate(func: Callable) -> PythonUDF:
        return register(PythonUDF(name or func.__name__, func, parse_type(returns), None, "vectorized", library))

    return decorate


def numba_udf(args: Sequence[str | type | CType], returns: str | type | CType, *, name: str | None = None):
    """Declare a per-event function, compiled with numba, with C++ argument and result types."""
    import numba

    arg_types = tuple(parse_type(a) for a in args)
    result = parse_type(returns)
    if result.is_rvec:
        raise AnalysisError("numba UDFs return one scalar per event for now; use @hepframe.udf for RVec results")
    if not 1 <= len(arg_types) <= 4:
        raise AnalysisError("numba UDFs take 1 to 4 arguments")

    def decorate(func: Callable) -> PythonUDF:
        compiled = numba.njit(cache=False)(func)
        return register(PythonUDF(name or func.__name__, compiled, result, arg_types, "numba"))

    return decorate


def as_udf(func: Callable | PythonUDF, returns: str | type | CType | None = None) -> PythonUDF:
    """Wrap a callable passed to Define/Filter; its type comes from ``returns``, a decorator or an annotation."""
    if isinstance(func, PythonUDF):
        return func
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
