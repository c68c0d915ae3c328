"""The GPU engine: typed IR evaluated by CUDA kernels on columns kept on the device.

Each batch's branches go to the device once (Arrow layout: flat values plus int64 offsets) and
stay there through Defines and Filters; only what a result needs comes back (``evaluate``). The
evaluator follows the reference evaluator step for step (C++ types, undefined values, short-circuit
``&&``/``||`` and ``?:`` that evaluate an operand only for the events where C++ would), with each
operation a kernel from :mod:`hepframe.engines.gpu_kernels`.

What runs is declared in :data:`RULES`; the support table (and the docs' matrix) is derived from
it. Anything else raises UnsupportedOperationError naming the node when the analysis is compiled:
nothing falls back to the CPU. Math beyond the correctly rounded operations (``+ - * /``, sqrt,
fmod, rounding) is not on the device yet: CUDA's libdevice and glibc differ in the last bits,
and bin-identity with ROOT needs glibc's results (docs/gpu.md).

Without ``NUMBA_ENABLE_CUDASIM=1`` the engine needs an NVIDIA GPU with CUDA and numba-cuda;
with it, the same kernels run in numba's CUDA simulator (slow: tests on small inputs).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from hepframe.connectors import Batch
from hepframe.engines.base import BatchEngine, Support, register_engine
from hepframe.engines.values import Jagged, Value, from_arrow
from hepframe.errors import UNDEFINED_CAUSES, EventError, UnsupportedOperationError
from hepframe.expr import ir
from hepframe.expr.binder import ENTRY_COLUMN
from hepframe.expr.types import Scalar

N, U = Support.NATIVE, Support.UNSUPPORTED


def simulated() -> bool:
    """Whether numba runs CUDA kernels in its simulator (NUMBA_ENABLE_CUDASIM=1)."""
    from numba.core import config

    return bool(config.ENABLE_CUDASIM)  # type: ignore[attr-defined]


def cuda_module() -> Any:
    """Numba's CUDA module, or a clear error that says what to install or which engine to use."""
    try:
        from numba import cuda
    except ImportError as exc:  # pragma: no cover - numba is a core dependency
        raise UnsupportedOperationError(f"engine='gpu' needs numba with CUDA support: {exc}") from None
    if not simulated() and not cuda.is_available():
        raise UnsupportedOperationError(
            "engine='gpu' needs an NVIDIA GPU with a CUDA driver, and none is usable here"
            " (numba.cuda.is_available() is False). Install the GPU extra on a machine with one"
            " (pip install 'hepframe[gpu]'), or use engine='polars' (or 'spark'). To try the GPU"
            " engine without a GPU, set NUMBA_ENABLE_CUDASIM=1 before starting Python (numba's"
            " CUDA simulator: correct, but only for small inputs)."
        )
    return cuda


# -- values on the device --------------------------------------------------------------------------


class DeviceJagged:
    """One RVec per event on the device: ``values[offsets[i]:offsets[i + 1]]`` is event ``i``'s."""

    def __init__(self, offsets: Any, values: Any) -> None:
        self.offsets = offsets
        self.values = values

    def __len__(self) -> int:
        return int(self.offsets.size) - 1

    @cached_property
    def parents(self) -> Any:
        """The event of each element (for broadcasting per-event values to elements)."""
        from hepframe.engines import gpu_kernels as k

        out = _empty(self.values.size, np.int64)
        k.launch(k.parents_of, len(self), self.offsets, out)
        return out

    def with_values(self, values: Any) -> DeviceJagged:
        out = DeviceJagged(self.offsets, values)
        if "parents" in self.__dict__:
            out.__dict__["parents"] = self.parents
        return out


class DeviceRows:
    """``Combinations``' RVec<RVec<size_t>>, read as ``c[m]`` and ``c.size()``.

    ``rows[m]`` is the m-th index list of each event; all rows share one layout, ``offsets``.
    """

    def __init__(self, offsets: Any, rows: Any) -> None:
        self.offsets = offsets
        self.rows = rows  # device array (k, total)

    def __len__(self) -> int:
        return int(self.offsets.size) - 1

    def row(self, m: int) -> DeviceJagged:
        return DeviceJagged(self.offsets, self.rows[m])


#: A constant (numpy scalar), a device array of one value per event, a DeviceJagged or DeviceRows.
DeviceData = Any


@dataclass(frozen=True, eq=False)
class DeviceValue:
    data: DeviceData
    valid: Any = None  # device bool array, one per event; None: every event defined


@dataclass
class GpuFrame:
    columns: dict[str, DeviceValue]
    entries: np.ndarray  # host copy: error messages name entries
    memo: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.entries)


def _cuda() -> Any:
    from numba import cuda

    return cuda


def _empty(n: int, dtype: Any) -> Any:
    return _cuda().device_array(int(n), np.dtype(dtype))


def _full(n: int, value: Any, dtype: Any) -> Any:
    from hepframe.engines import gpu_kernels as k

    out = _empty(n, dtype)
    k.launch(k.fill, n, out, np.dtype(dtype).type(value))
    return out


class _Uploader:
    """Host-to-device copies through pinned host buffers, reused batch after batch, on one stream.

    Copies from pinned memory are asynchronous and run at the bus' full speed; the stream is
    blocking, so kernels on the default stream start after the copies they read. A buffer is
    refilled only once the previous batch's copies are done (``synchronize`` at each batch).
    """

    def __init__(self, cuda: Any) -> None:
        self.cuda = cuda
        self.stream = cuda.stream()
        self.buffers: dict[tuple[str, str], np.ndarray] = {}

    def start_batch(self) -> None:
        self.stream.synchronize()

    def upload(self, key: tuple[str, str], host: np.ndarray) -> Any:
        buffer = self.buffers.get(key)
        if buffer is None or buffer.dtype != host.dtype or buffer.size < host.size:
            buffer = self.cuda.pinned_array(max(int(host.size * 1.25), 1), dtype=host.dtype)  # room to grow
            self.buffers[key] = buffer
        staging = buffer[: host.size]
        staging[...] = host
        return self.cuda.to_device(staging, stream=self.stream)

    def column(self, name: str, data: Any) -> DeviceData:
        if isinstance(data, Jagged):
            if isinstance(data.values, Jagged):
                raise UnsupportedOperationError(f"the gpu engine does not read RVec<RVec<T>> branches yet ({name!r})")
            return DeviceJagged(self.upload((name, "offsets"), data.offsets), self.upload((name, "values"), data.values))
        return self.upload((name, "values"), np.asarray(data))


def _to_host(data: DeviceData, n: int) -> Any:
    if isinstance(data, DeviceRows):  # RVec<RVec>: event i holds its k rows
        offsets, rows = data.offsets.copy_to_host(), data.rows.copy_to_host()
        k, counts = rows.shape[0], np.diff(offsets)
        inner_counts = np.repeat(counts, k)
        event, row = np.repeat(np.arange(n), k), np.tile(np.arange(k), n)
        starts = np.repeat(offsets[:-1][event], inner_counts)
        within = np.arange(int(inner_counts.sum())) - np.repeat(np.cumsum(inner_counts) - inner_counts, inner_counts)
        values = rows[np.repeat(row, inner_counts), starts + within] if k else np.zeros(0, np.uint64)
        return Jagged(np.full(n, k, np.int64), Jagged(inner_counts, values))
    if isinstance(data, DeviceJagged):
        return Jagged.from_offsets(data.offsets.copy_to_host(), data.values.copy_to_host())
    if isinstance(data, np.generic):
        return np.full(n, data)
    return data.copy_to_host()


_BINARY_OPS = ("+", "-", "*", "&", "|", "^", "<", "<=", ">", ">=", "==", "!=", "&&", "||")
_UNARY_OPS = ("-", "~", "!")
_UNARY_MATH = ("sqrt", "fabs", "floor", "ceil", "round", "trunc")
_REDUCTIONS = ("Sum", "Product", "Mean", "Max", "Min", "ArgMax", "ArgMin", "Any", "All", "size", "Var", "StdDev")
#: VecOps that build or reorder RVecs (the catalogue's functions of RVecs, run per event).
_VECOPS = ("Take", "Concatenate", "Drop", "Enumerate", "Reverse", "Sort", "Argsort", "StableArgsort",
           "Nonzero", "Where", "Combinations", "Intersect")  # fmt: skip
#: Functions of per-event values that make RVecs.
_MAKERS = ("Range", "RVec", "RVecOf")


# -- the rules table: what runs on the device; SUPPORT is derived from it ---------------------------


@dataclass(frozen=True)
class Rule:
    scalar: bool = True  # per-event (flat) operands
    rvec: bool = True  # RVec operands (element-wise, or per-event algorithms over RVecs)


RULES: dict[str, Rule] = {
    "column": Rule(), "literal": Rule(), "cast": Rule(),
    **{f"unary{op}": Rule() for op in _UNARY_OPS},
    **{op: Rule() for op in [*_BINARY_OPS, "/", "%", "<<", ">>"]},
    "ternary": Rule(), "index": Rule(scalar=False), "mask": Rule(scalar=False),
    **{fn: Rule() for fn in [*_UNARY_MATH, "abs", "fmod", "DeltaPhi", "DeltaR", "DeltaR2"]},
    **{fn: Rule(scalar=False) for fn in [*_REDUCTIONS, *_VECOPS]},
    **{fn: Rule() for fn in _MAKERS},
    "IsAvailable": Rule(rvec=False), "DefaultValue": Rule(rvec=False),
}  # fmt: skip


def _support_table() -> dict[str, dict[str, Support]]:
    return {key: {"scalar": N if rule.scalar else U, "rvec": N if rule.rvec else U} for key, rule in RULES.items()}


class _Evaluator:
    """Evaluates IR over one frame's device columns (the reference evaluator's structure)."""

    def __init__(self, n: int, entries: np.ndarray) -> None:
        from hepframe.engines import gpu_kernels

        self.k = gpu_kernels
        self.n = n
        self.entries = entries

    # -- plumbing ---------------------------------------------------------------------------
    def valid_and(self, *masks: Any) -> Any:
        present = [m for m in masks if m is not None]
        if not present:
            return None
        out = present[0]
        for m in present[1:]:
            res = _empty(self.n, np.bool_)
            self.k.launch(self.k.binary("&"), self.n, out, m, res)
            out = res
        return out

    def per_event(self, data: DeviceData, dtype: Any = None) -> Any:
        """A device array of one value per event (constants are filled in)."""
        if isinstance(data, np.generic):
            return _full(self.n, data, dtype or data.dtype)
        return data

    def defined(self, valid: Any) -> Any:
        """The validity mask itself (device arrays are never changed in place), or all true for None."""
        return _full(self.n, True, np.bool_) if valid is None else valid

    def check_same_sizes(self, args: list[DeviceData], valid: Any, what: str) -> None:
        jagged = [a for a in args if isinstance(a, DeviceJagged)]
        for other in jagged[1:]:
            if other.offsets is jagged[0].offsets:
                continue
            bad = _empty(self.n, np.bool_)
            self.k.launch(self.k.mismatched, self.n, jagged[0].offsets, other.offsets, self.defined(valid), bad)
            host = bad.copy_to_host()
            if host.any():
                i = int(np.argmax(host))
                a, b = jagged[0].offsets.copy_to_host(), other.offsets.copy_to_host()
                raise EventError(
                    f"{what}: RVecs of different sizes ({a[i + 1] - a[i]} and {b[i + 1] - b[i]}) "
                    f"in entry {int(self.entries[i])}"
                )

    def elementwise(self, kernel: Any, args: list[DeviceData], valid: Any, what: str, dtype: Any) -> DeviceData:
        """``kernel(*operands, out)`` element by element; per-event values broadcast into RVecs."""
        shape = next((a for a in args if isinstance(a, DeviceJagged)), None)
        if shape is None:
            flat = [self.per_event(a) for a in args]
            out = _empty(self.n, dtype)
            self.k.launch(kernel, self.n, *flat, out)
            return out
        self.check_same_sizes(args, valid, what)
        m = shape.values.size
        operands = []
        for a in args:
            if isinstance(a, DeviceJagged):
                operands.append(a.values)
            elif isinstance(a, np.generic):
                operands.append(_full(m, a, a.dtype))
            else:
                spread = _empty(m, a.dtype)
                self.k.launch(self.k.gather, m, a, shape.parents, spread)
                operands.append(spread)
        out = _empty(m, dtype)
        self.k.launch(kernel, m, *operands, out)
        return shape.with_values(out)

    # -- rows ---------------------------------------------------------------------------------
    def rows_where(self, mask: Any) -> tuple[Any, np.ndarray]:
        """Device and host indices of the events where the device bool array ``mask`` holds."""
        offsets, total = self.k.offsets_from_counts(mask)
        rows = _empty(total, np.int64)
        self.k.launch(self.k.positions, self.n, mask, offsets, rows)
        return rows, rows.copy_to_host()

    def take(self, value: DeviceValue, rows: Any) -> DeviceValue:
        return DeviceValue(take_data(self.k, value.data, rows), None if value.valid is None else take_data(self.k, value.valid, rows))

    def scatter(self, value: DeviceValue, rows: Any, dtype: Any) -> DeviceValue:
        """A value computed on ``rows`` placed back among all events (others: empty or zero)."""
        data = value.data
        m = rows.size
        if isinstance(data, DeviceJagged):
            counts = _empty(m, np.int64)
            self.k.launch(self.k.counts_of, m, data.offsets, counts)
            full = _full(self.n, 0, np.int64)
            self.k.launch(self.k.scatter, m, counts, rows, full)
            offsets, _ = self.k.offsets_from_counts(full)
            out: DeviceData = DeviceJagged(offsets, data.values)  # the rows keep their order: same elements
        else:
            out = _full(self.n, 0, dtype)
            self.k.launch(self.k.scatter, m, self.sub_per_event(data, m, dtype), rows, out)
        valid = None
        if value.valid is not None:
            valid = _full(self.n, True, np.bool_)
            self.k.launch(self.k.scatter, m, value.valid, rows, valid)
        return DeviceValue(out, valid)

    def sub_per_event(self, data: DeviceData, m: int, dtype: Any) -> Any:
        return _full(m, data, dtype) if isinstance(data, np.generic) else data

    # -- evaluation ---------------------------------------------------------------------------
    def evaluate(self, expr: ir.Expr, columns: Mapping[str, DeviceValue], memo: dict) -> DeviceValue:
        if expr in memo:
            return memo[expr]
        if isinstance(expr, ir.Column):
            result = columns[expr.name]
        elif isinstance(expr, ir.Literal):
            result = DeviceValue(expr.type.scalar.dtype.type(expr.value))
        elif isinstance(expr, ir.Ternary):
            result = self.ternary(expr, columns, memo)
        elif isinstance(expr, ir.Binary) and expr.op in ("&&", "||") and not expr.type.is_rvec:
            result = self.short_circuit(expr, columns, memo)
        else:
            args = [self.evaluate(c, columns, memo) for c in expr.children()]
            result = self.apply(expr, args)
        memo[expr] = result
        return result

    def truth(self, value: DeviceValue) -> tuple[Any, Any]:
        truth = _empty(self.n, np.bool_)
        self.k.launch(self.k.unary("nonzero"), self.n, self.per_event(value.data), truth)
        return truth, self.defined(value.valid)

    def evaluate_on(self, expr: ir.Expr, columns: Mapping[str, DeviceValue], mask: Any) -> DeviceValue:
        """``expr`` for the events where ``mask`` holds only, as C++ evaluates only the branch it takes."""
        rows, host_rows = self.rows_where(mask)
        sub = {name: self.take(columns[name], rows) for name in ir.free_columns(expr) if name in columns}
        result = _Evaluator(len(host_rows), self.entries[host_rows]).evaluate(expr, sub, {})
        return self.scatter(result, rows, expr.type.scalar.dtype)

    def ternary(self, expr: ir.Ternary, columns: Mapping[str, DeviceValue], memo: dict) -> DeviceValue:
        cond = self.evaluate(expr.cond, columns, memo)
        truth, valid = self.truth(cond)
        take_then, take_other = _empty(self.n, np.bool_), _empty(self.n, np.bool_)
        self.k.launch(self.k.binary("&&"), self.n, truth, valid, take_then)
        self.k.launch(self.k.binary(">"), self.n, valid, truth, take_other)  # defined and false
        then = self.evaluate_on(expr.then, columns, take_then)
        other = self.evaluate_on(expr.other, columns, take_other)
        dtype = expr.type.scalar.dtype
        if expr.type.is_rvec:
            out = self.choose_lists(truth, then.data, other.data, dtype)
        else:
            out = _empty(self.n, dtype)
            self.k.launch(self.k.where, self.n, truth, self.per_event(then.data, dtype), self.per_event(other.data, dtype), out)
        chosen_valid = _empty(self.n, np.bool_)
        self.k.launch(self.k.where, self.n, truth, self.defined(then.valid), self.defined(other.valid), chosen_valid)
        return DeviceValue(out, self.valid_and(valid, chosen_valid))

    def short_circuit(self, expr: ir.Binary, columns: Mapping[str, DeviceValue], memo: dict) -> DeviceValue:
        left = self.evaluate(expr.left, columns, memo)
        truth, valid = self.truth(left)
        needed = _empty(self.n, np.bool_)
        # C++ evaluates the right operand only where the defined left one does not decide
        self.k.launch(self.k.binary("&&" if expr.op == "&&" else ">"), self.n, valid, truth, needed)
        right = self.evaluate_on(expr.right, columns, needed)
        rtruth, rvalid = self.truth(right)
        result, out_valid = _empty(self.n, np.bool_), _empty(self.n, np.bool_)
        self.k.launch(self.k.binary(expr.op), self.n, truth, rtruth, result)
        self.k.launch(self.k.where, self.n, needed, rvalid, valid, out_valid)  # where needed, the right decides
        return DeviceValue(result, out_valid)

    def apply(self, node: ir.Expr, args: list[DeviceValue]) -> DeviceValue:
        valid = self.valid_and(*(a.valid for a in args))
        data = [a.data for a in args]
        dtype = node.type.scalar.dtype
        what = node.op_key
        if isinstance(node, ir.Cast):
            return DeviceValue(self.elementwise(self.k.unary(_conversion(node)), data, valid, what, dtype), valid)
        if isinstance(node, ir.Unary):
            op = "same" if node.op == "+" else node.op
            return DeviceValue(self.elementwise(self.k.unary(op), data, valid, what, dtype), valid)
        if isinstance(node, ir.Binary):
            return self.binary(node, data, valid, dtype)
        if isinstance(node, ir.Index):
            return self.index(node, args[0], args[1])
        if isinstance(node, ir.Mask):
            v, mask = data
            self.check_same_sizes([v, mask], valid, "v[mask]")
            return DeviceValue(self.select(v, mask.values), valid)
        if isinstance(node, ir.Call) and node.func == "IsAvailable":  # defined everywhere: the validity
            return DeviceValue(self.defined(valid))
        if isinstance(node, ir.Call) and node.func == "DefaultValue":
            if args[0].valid is None:
                return DeviceValue(self.as_type(data[0], dtype))
            out = _empty(self.n, dtype)
            value, default = self.per_event(self.as_type(data[0], dtype)), self.per_event(self.as_type(data[1], dtype))
            self.k.launch(self.k.where, self.n, args[0].valid, value, default, out)
            return DeviceValue(out)
        if isinstance(node, ir.Call):
            return self.call(node, data, valid, dtype)
        raise UnsupportedOperationError(f"the gpu engine cannot evaluate {type(node).__name__}")

    def binary(self, node: ir.Binary, data: list[DeviceData], valid: Any, dtype: Any) -> DeviceValue:
        op = node.op
        operand = node.left.type.scalar
        what = f"operator {op}"
        if op in ("/", "%") and operand.is_integral:
            return self.checked_division(node, data, valid, dtype)
        name = f"{op}{operand.dtype.itemsize * 8}" if op in ("<<", ">>") else op  # shifts mask the count
        return DeviceValue(self.elementwise(self.k.binary(name), data, valid, what, dtype), valid)

    def checked_division(self, node: ir.Binary, data: list[DeviceData], valid: Any, dtype: Any) -> DeviceValue:
        """Integer ``/`` and ``%``: a zero divisor makes the event undefined (C++: undefined behaviour)."""
        k = self.k
        out_valid = _empty(self.n, np.bool_)  # a copy: the kernel marks the events divided by zero
        k.launch(k.unary("same"), self.n, self.defined(valid), out_valid)
        shape = next((a for a in data if isinstance(a, DeviceJagged)), None)
        events = shape.parents if shape is not None else _arange(self.n)
        kernel = k.checked_binary(node.op)

        def run(*operands_and_out: Any) -> None:
            *operands, out = operands_and_out
            k.launch(kernel, out.size, *operands, events, out, out_valid)

        out = self.elementwise(_Launcher(run), data, valid, f"operator {node.op}", dtype)
        return DeviceValue(out, out_valid)

    def index(self, node: ir.Index, value: DeviceValue, index: DeviceValue) -> DeviceValue:
        v = value.data
        if isinstance(v, DeviceRows):  # c[m] of Combinations: a constant m (checked at compile time)
            m = int(index.data)
            if 0 <= m < v.rows.shape[0]:
                return DeviceValue(v.row(m), value.valid)
            return DeviceValue(DeviceJagged(_full(self.n + 1, 0, np.int64), _empty(0, np.uint64)), _full(self.n, False, np.bool_))
        if not isinstance(v, DeviceJagged):
            raise UnsupportedOperationError("the gpu engine does not index RVec<RVec<T>> yet")
        out = _empty(self.n, node.type.scalar.dtype)
        ok = _full(self.n, True, np.bool_)
        idx = self.per_event(index.data, np.int64)
        self.k.launch(self.k.element, self.n, v.offsets, v.values, idx, out, ok)
        return DeviceValue(out, self.valid_and(value.valid, index.valid, ok))

    def select(self, v: DeviceJagged, mask: Any) -> DeviceJagged:
        counts = _empty(self.n, np.int64)
        self.k.launch(self.k.count_true, self.n, v.offsets, mask, counts)
        offsets, total = self.k.offsets_from_counts(counts)
        out = _empty(total, v.values.dtype)
        self.k.launch(self.k.select, self.n, v.offsets, v.values, mask, offsets, out)
        return DeviceJagged(offsets, out)

    def call(self, node: ir.Call, data: list[DeviceData], valid: Any, dtype: Any) -> DeviceValue:
        fn = node.func
        if fn in _UNARY_MATH:
            return DeviceValue(self.elementwise(self.k.unary(fn), data, valid, fn, dtype), valid)
        if fn == "abs":
            op = "fabs" if node.type.scalar.is_float else "iabs"
            return DeviceValue(self.elementwise(self.k.unary(op), data, valid, fn, dtype), valid)
        if fn == "fmod":
            return DeviceValue(self.elementwise(self.k.binary("fmod"), data, valid, fn, dtype), valid)
        if fn == "size" and isinstance(data[0], DeviceRows):
            return DeviceValue(_full(self.n, data[0].rows.shape[0], np.uint64), valid)
        if fn in ("DeltaPhi", "DeltaR", "DeltaR2"):
            return DeviceValue(self.delta(fn, data, valid, dtype), valid)
        if fn in _VECOPS or fn in _MAKERS:
            out, ok = self.vecops(node, data, valid, dtype)
            return DeviceValue(out, self.valid_and(valid, ok))
        if fn in _REDUCTIONS:
            v = data[0]
            assert isinstance(v, DeviceJagged)
            out, ok = self.reduce(fn, v, node)
            return DeviceValue(out, self.valid_and(valid, ok))
        raise UnsupportedOperationError(f"the gpu engine has no kernel for {fn!r}")

    def reduce(self, fn: str, v: DeviceJagged, node: ir.Call) -> tuple[Any, Any]:
        k, n = self.k, self.n
        dtype = node.type.scalar.dtype
        if fn == "size":
            out = _empty(n, np.uint64)
            k.launch(k.counts_of, n, v.offsets, out)
            return out, None
        if fn in ("Sum", "Product"):
            values = self.converted(v.values, dtype)
            out = _full(n, 0 if fn == "Sum" else 1, dtype)
            k.launch(k.reduce_sum if fn == "Sum" else k.reduce_product, n, v.offsets, values, out)
            return out, None
        if fn == "Mean":  # double(Sum(v)) / v.size(), the sum in the element type (bool: size_t)
            element = v.values.dtype
            acc = element if element.kind == "f" else np.dtype(np.uint64 if element == np.bool_ else np.int64)
            sums = _full(n, 0, acc)
            k.launch(k.reduce_sum, n, v.offsets, self.converted(v.values, acc), sums)
            counts = _empty(n, np.int64)
            k.launch(k.counts_of, n, v.offsets, counts)
            out = _empty(n, np.float64)
            k.launch(k.binary("mean"), n, sums, counts, out)
            return out, None
        if fn in ("Var", "StdDev"):
            element = v.values.dtype
            acc = element if element.kind == "f" else np.dtype(np.int64)
            out = _empty(n, np.float64)
            k.launch(k.reduce_var, n, v.offsets, self.converted(v.values, acc), acc.type(0), out)
            if fn == "StdDev":
                k.launch(k.unary("sqrt"), n, out, out)
            return out, None
        if fn in ("Any", "All"):
            out = _empty(n, np.bool_)
            k.launch(k.any_all, n, v.offsets, v.values, fn == "All", out)
            return out, None
        out = _full(n, 0, dtype)
        ok = _full(n, True, np.bool_)
        k.launch(k.EXTREMES[fn], n, v.offsets, v.values, out, ok)
        return out, (ok)

    def choose_lists(self, truth: Any, then: DeviceJagged, other: DeviceJagged, dtype: Any) -> DeviceJagged:
        k, n = self.k, self.n
        tc, oc, counts = _empty(n, np.int64), _empty(n, np.int64), _empty(n, np.int64)
        k.launch(k.counts_of, n, then.offsets, tc)
        k.launch(k.counts_of, n, other.offsets, oc)
        k.launch(k.where, n, truth, tc, oc, counts)
        offsets, total = k.offsets_from_counts(counts)
        out = _empty(total, dtype)
        t, o = self.converted(then.values, dtype), self.converted(other.values, dtype)
        k.launch(k.choose_lists, n, truth, then.offsets, t, other.offsets, o, offsets, out)
        return DeviceJagged(offsets, out)

    def as_type(self, data: DeviceData, dtype: Any) -> DeviceData:
        if isinstance(data, np.generic):
            return np.dtype(dtype).type(data)
        if isinstance(data, DeviceJagged):
            return data.with_values(self.converted(data.values, dtype))
        return self.converted(data, dtype)

    def delta(self, fn: str, data: list[DeviceData], valid: Any, dtype: Any) -> DeviceData:
        """DeltaPhi, DeltaR, DeltaR2: exact operations only (fmod, + - * /, sqrt), so ROOT's bits."""
        n_angles = 2 if fn == "DeltaPhi" else 4
        c = data[n_angles] if len(data) > n_angles else np.float64(math.pi)
        if not isinstance(c, np.generic):
            raise UnsupportedOperationError(f"{fn}: the period argument c must be a constant, e.g. M_PI or 180.")
        c_typed = np.dtype(dtype).type(c)
        kernel = self.k.delta_phi(np.dtype(dtype)) if fn == "DeltaPhi" else self.k.delta_r(np.dtype(dtype), fn == "DeltaR2")

        def run(*operands_and_out: Any) -> None:
            *operands, out = operands_and_out
            self.k.launch(kernel, out.size, *operands, c_typed, out)

        args = [self.as_type(d, dtype) for d in data[:n_angles]]
        return self.elementwise(_Launcher(run), args, valid, fn, dtype)

    def vecops(self, node: ir.Call, data: list[DeviceData], valid: Any, dtype: Any) -> tuple[DeviceData, Any]:
        """The VecOps functions that build or reorder RVecs, as ROOT::VecOps defines them."""
        k, n, fn = self.k, self.n, node.func
        if fn in ("Range", "RVec"):
            if fn == "Range":
                begin, end = (np.int64(0), data[0]) if len(data) == 1 else (data[0], data[1])
                first, last = self.per_event(self.as_type(begin, np.int64)), self.per_event(self.as_type(end, np.int64))
                counts, step = _empty(n, np.int64), 1
                k.launch(k.range_counts, n, first, last, counts)
            else:
                counts, first, step = self.per_event(self.as_type(data[0], np.int64)), self.per_event(self.as_type(data[1], dtype)), 0
            offsets, total = k.offsets_from_counts(counts)
            out = _empty(total, dtype)
            k.launch(k.fill_lists, n, offsets, first, step, out)
            return DeviceJagged(offsets, out), None
        if fn == "RVecOf":
            if any(isinstance(d, DeviceJagged | DeviceRows) for d in data):
                raise UnsupportedOperationError("the gpu engine does not build RVec<RVec<T>> from braced lists yet")
            m = len(data)
            out = _empty(n * m, dtype)
            for j, item in enumerate(data):
                k.launch(k.interleave, n, self.per_event(self.as_type(item, dtype)), m, j, out)
            offsets, _ = k.offsets_from_counts(_full(n, m, np.int64))
            return DeviceJagged(offsets, out), None
        if fn == "Where":
            return self.elementwise(k.where, [data[0], self.as_type(data[1], dtype), self.as_type(data[2], dtype)], valid, fn, dtype), None
        v = data[0]
        assert isinstance(v, DeviceJagged)
        if fn == "Combinations":
            return self.combinations(v, data[1])
        if fn == "Take":
            return self.take_elements(v, data[1], data[2] if len(data) > 2 else None, dtype)
        if fn == "Concatenate":
            b = data[1]
            counts = _empty(n, np.int64)
            k.launch(k.sum_counts, n, v.offsets, b.offsets, counts)
            offsets, total = k.offsets_from_counts(counts)
            out = _empty(total, dtype)
            k.launch(k.concatenate, n, v.offsets, self.converted(v.values, dtype), b.offsets, self.converted(b.values, dtype), offsets, out)
            return DeviceJagged(offsets, out), None
        if fn == "Intersect":
            keep = _empty(v.values.size, np.bool_)
            k.launch(k.member, n, v.offsets, v.values, data[1].offsets, self.converted(data[1].values, v.values.dtype), keep)
            return self.select(v, keep), None
        if fn == "Drop":
            removed = _full(v.values.size, False, np.bool_)
            idx = data[1]
            k.launch(k.mark_dropped, n, v.offsets, idx.offsets, self.converted(idx.values, np.int64), removed)
            keep = _empty(v.values.size, np.bool_)
            k.launch(k.unary("!"), v.values.size, removed, keep)
            return self.select(v, keep), None
        if fn in ("Enumerate", "Nonzero"):
            index = _empty(v.values.size, np.uint64)
            k.launch(k.local_index, v.values.size, v.offsets, v.parents, fn == "Enumerate" and v.values.dtype == np.bool_, index)
            if fn == "Enumerate":
                return v.with_values(index), None
            keep = _empty(v.values.size, np.bool_)
            k.launch(k.unary("nonzero"), v.values.size, v.values, keep)
            return self.select(v.with_values(index), keep), None
        if fn == "Reverse":
            out = _empty(v.values.size, v.values.dtype)
            k.launch(k.reverse, v.values.size, v.offsets, v.parents, v.values, out)
            return v.with_values(out), None
        # Sort, Argsort, StableArgsort: a stable sort per event
        values = _empty(v.values.size, v.values.dtype)
        k.launch(k.unary("same"), v.values.size, v.values, values)
        order = _empty(v.values.size, np.int64)
        k.launch(k.sort_lists, n, v.offsets, values, order, fn != "Sort")
        return v.with_values(values if fn == "Sort" else self.converted(order, np.uint64)), None

    def take_elements(self, v: DeviceJagged, what: DeviceData, default: DeviceData | None, dtype: Any) -> tuple[DeviceData, Any]:
        k, n = self.k, self.n
        if default is not None and not isinstance(default, np.generic):
            raise UnsupportedOperationError("Take's default value must be a constant on the gpu engine")
        fill = np.dtype(dtype).type(0 if default is None else default)
        ok = _full(n, True, np.bool_)
        if isinstance(what, DeviceJagged):  # Take(v, indices)
            out = _empty(what.values.size, dtype)
            idx = self.converted(what.values, np.int64)  # indices >= 2**63 turn negative: out of range
            k.launch(k.take_indices, what.values.size, v.offsets, v.values, what.offsets, idx, what.parents, out, ok,
                     fill, default is not None)  # fmt: skip
            return what.with_values(out), (ok)
        count = self.per_event(self.as_type(what, np.int64))  # Take(v, n)
        counts = _empty(n, np.int64)
        k.launch(k.take_n_counts, n, v.offsets, count, counts, ok, default is not None)
        offsets, total = k.offsets_from_counts(counts)
        out = _empty(total, dtype)
        k.launch(k.take_n, n, v.offsets, v.values, count, offsets, out, fill)
        return DeviceJagged(offsets, out), (ok)

    def combinations(self, v: DeviceJagged, second: DeviceData) -> tuple[DeviceData, Any]:
        k, n = self.k, self.n
        counts, ok = _empty(n, np.int64), _full(n, True, np.bool_)
        if isinstance(second, DeviceJagged):  # Combinations(a, b): all pairs
            k.launch(k.product_counts, n, v.offsets, second.offsets, counts)
            offsets, total = k.offsets_from_counts(counts)
            rows = _cuda().device_array((2, total), np.uint64)
            k.launch(k.cartesian, n, second.offsets, offsets, rows)
            return DeviceRows(offsets, rows), None
        if not isinstance(second, np.generic):
            raise UnsupportedOperationError("Combinations(v, k) needs a constant k on the gpu engine")
        size = int(second)
        if size > k.MAX_COMBINATION:
            raise UnsupportedOperationError(f"Combinations(v, {size}): the gpu engine makes combinations of at most {k.MAX_COMBINATION}")
        if size == 0:
            return DeviceRows(_full(n + 1, 0, np.int64), _cuda().device_array((0, 0), np.uint64)), None
        k.launch(k.combination_counts, n, v.offsets, size, counts, ok)
        offsets, total = k.offsets_from_counts(counts)
        rows = _cuda().device_array((size, total), np.uint64)
        k.launch(k.combinations, n, v.offsets, size, offsets, rows)
        return DeviceRows(offsets, rows), (ok)

    def converted(self, values: Any, dtype: Any) -> Any:
        if values.dtype == dtype:
            return values
        out = _empty(values.size, dtype)
        self.k.launch(self.k.unary("same"), values.size, values, out)
        return out


class _Launcher:
    """A kernel stand-in for :meth:`_Evaluator.elementwise` that runs ``run(*operands, out)``."""

    def __init__(self, run: Callable) -> None:
        self.run = run

    def __getitem__(self, _config: Any) -> Callable:
        return self.run


def _arange(n: int) -> Any:
    return _cuda().to_device(np.arange(n, dtype=np.int64))


def _conversion(node: ir.Cast) -> str:
    """The element conversion of a C++ cast (where C++ leaves it undefined, as x86-64 does it)."""
    source, target = node.operand.type.scalar, node.type.scalar
    if target is Scalar.BOOL:
        return "nonzero"
    if source.is_float and target.is_integral:
        if target in (Scalar.ULONG, Scalar.LONG):
            return f"float_to_{target.dtype}"
        return "float_to_int32"  # narrower targets: through int, then truncated by the store
    return "same"


def take_data(k: Any, data: DeviceData, rows: Any) -> DeviceData:
    """The events ``rows`` (device int64 indices) of a device value."""
    m = rows.size
    if isinstance(data, np.generic):
        return data
    if isinstance(data, DeviceRows):
        lists = [take_data(k, data.row(r), rows) for r in range(data.rows.shape[0])]
        if not lists:
            return DeviceRows(_full(m + 1, 0, np.int64), data.rows)
        stacked = _cuda().device_array((len(lists), lists[0].values.size), np.uint64)
        for r, taken in enumerate(lists):
            k.launch(k.unary("same"), taken.values.size, taken.values, stacked[r])
        return DeviceRows(lists[0].offsets, stacked)
    if isinstance(data, DeviceJagged):
        counts = _empty(m, np.int64)
        all_counts = _empty(len(data), np.int64)
        k.launch(k.counts_of, len(data), data.offsets, all_counts)
        k.launch(k.gather, m, all_counts, rows, counts)
        offsets, total = k.offsets_from_counts(counts)
        values = _empty(total, data.values.dtype)
        k.launch(k.gather_lists, m, data.offsets, data.values, rows, offsets, values)
        return DeviceJagged(offsets, values)
    out = _empty(m, data.dtype)
    k.launch(k.gather, m, data, rows, out)
    return out


# -- the engine ------------------------------------------------------------------------------------


@register_engine
class GpuEngine(BatchEngine):
    """Runs the analysis' expressions as CUDA kernels on device-resident columns."""

    name = "gpu"
    SUPPORT = _support_table()
    UDF_SUPPORT = Support.UNSUPPORTED  # Python UDFs and C++ helpers are host code (docs/gpu.md)

    def __init__(self) -> None:
        self.cuda = cuda_module()
        self.uploader = _Uploader(self.cuda)

    def describe_mode(self) -> str:
        name = "numba's CUDA simulator" if simulated() else self.cuda.get_current_device().name
        where = name.decode() if isinstance(name, bytes) else name
        return f"gpu: CUDA kernels on {where}"

    def plan_text(self, expr: ir.Expr) -> str:
        return "CUDA kernels: " + ", ".join(sorted({n.op_key for n in expr.walk()}))

    def make_frame(self, batch: Batch) -> GpuFrame:
        from hepframe.engines import gpu_kernels as k

        self.uploader.start_batch()
        columns = {}
        for name in batch.table.column_names:
            value = from_arrow(batch.table.column(name))
            valid = None if value.valid is None else self.uploader.upload((name, "valid"), value.valid)
            columns[name] = DeviceValue(self.uploader.column(name, value.data), valid)
        n = batch.table.num_rows
        entries = np.arange(batch.entry_start, batch.entry_start + n, dtype=np.uint64)  # kept on the host too
        device_entries = _empty(n, np.uint64)
        k.launch(k.iota, n, np.int64(batch.entry_start), device_entries)
        columns[ENTRY_COLUMN] = DeviceValue(device_entries)
        return GpuFrame(columns, entries)

    def num_rows(self, frame: GpuFrame) -> int:
        return frame.n

    def has_column(self, frame: GpuFrame, name: str) -> bool:
        return name in frame.columns

    def _eval(self, frame: GpuFrame, expr: ir.Expr, text: str, role: str) -> DeviceValue:
        # Validity masks stay on the device through the evaluation (no synchronisation per operation);
        # the result's mask is read here, once.
        with np.errstate(all="ignore"):  # the simulator computes with numpy scalars; CUDA never warns
            value = _Evaluator(frame.n, frame.entries).evaluate(expr, frame.columns, frame.memo)
        if value.valid is not None:
            valid = value.valid.copy_to_host()
            if not valid.all():
                i = int(np.argmin(valid))
                raise EventError(f"{role} {text!r} is undefined in entry {int(frame.entries[i])}: {UNDEFINED_CAUSES}")
        return value

    def with_columns(self, frame: GpuFrame, columns: Sequence[tuple[str, ir.Expr, str]]) -> GpuFrame:
        for name, expr, text in columns:
            value = self._eval(frame, expr, text, "Define")
            data = value.data
            if isinstance(data, np.generic):
                data = _full(frame.n, data, data.dtype)
            frame.columns[name] = DeviceValue(data)
        return frame

    def apply_filter(self, frame: GpuFrame, expr: ir.Expr, text: str) -> tuple[GpuFrame, int]:
        value = self._eval(frame, expr, text, "Filter")
        evaluator = _Evaluator(frame.n, frame.entries)
        truth, _ = evaluator.truth(value)
        return self._take(frame, evaluator, truth)

    def _take(self, frame: GpuFrame, evaluator: _Evaluator, mask: Any) -> tuple[GpuFrame, int]:
        rows, host_rows = evaluator.rows_where(mask)
        columns = {name: evaluator.take(v, rows) for name, v in frame.columns.items()}
        return GpuFrame(columns, frame.entries[host_rows]), len(host_rows)

    def take_rows(self, frame: GpuFrame, mask: np.ndarray) -> GpuFrame:
        evaluator = _Evaluator(frame.n, frame.entries)
        return self._take(frame, evaluator, self.cuda.to_device(np.asarray(mask, dtype=np.bool_)))[0]

    def evaluate(self, frame: GpuFrame, exprs: Sequence[tuple[ir.Expr, str]]) -> list[Value]:
        return [Value(_to_host(self._eval(frame, expr, text, "column").data, frame.n)) for expr, text in exprs]

    def check(self, expr: ir.Expr, text: str = "") -> None:
        super().check(expr, text)
        for node in expr.walk():  # what the table cannot say: RVec<RVec> only as Combinations' result
            if isinstance(node, ir.Call) and node.func in ("Var", "StdDev") and node.args[0].type.scalar is Scalar.BOOL:
                raise UnsupportedOperationError(f"the gpu engine does not support {node.func} of RVec<bool> (in {text!r})")
            nested = [c for c in node.children() if c.type.depth > 1]
            if not nested:
                continue
            constant_index = isinstance(node, ir.Index) and isinstance(node.index, ir.Literal)
            if not (constant_index or (isinstance(node, ir.Call) and node.func == "size")):
                what = "indexing it with a non-constant" if isinstance(node, ir.Index) else repr(node.op_key)
                raise UnsupportedOperationError(
                    f"the gpu engine does not support {what} on RVec<RVec<T>> (from Combinations) yet (in {text!r}):"
                    " it reads c[0], c[1], ... and c.size()"
                )
