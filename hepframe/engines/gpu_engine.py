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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from hepframe.connectors import Batch
from hepframe.engines.base import BatchEngine, Support, register_engine, shape_of
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


#: A constant (numpy scalar), a device array of one value per event, or a DeviceJagged.
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


def _to_device(data: Any) -> DeviceData:
    cuda = _cuda()
    if isinstance(data, Jagged):
        if isinstance(data.values, Jagged):
            raise UnsupportedOperationError("the gpu engine does not read RVec<RVec<T>> branches yet")
        return DeviceJagged(cuda.to_device(np.ascontiguousarray(data.offsets)), cuda.to_device(np.ascontiguousarray(data.values)))
    return cuda.to_device(np.ascontiguousarray(data))


def _to_host(data: DeviceData, n: int) -> Any:
    if isinstance(data, DeviceJagged):
        return Jagged.from_offsets(data.offsets.copy_to_host(), data.values.copy_to_host())
    if isinstance(data, np.generic):
        return np.full(n, data)
    return data.copy_to_host()


_BINARY_OPS = ("+", "-", "*", "&", "|", "^", "<", "<=", ">", ">=", "==", "!=", "&&", "||")
_UNARY_OPS = ("-", "~", "!")
_UNARY_MATH = ("sqrt", "fabs", "floor", "ceil", "round", "trunc")
_REDUCTIONS = ("Sum", "Product", "Mean", "Max", "Min", "ArgMax", "ArgMin", "Any", "All", "size")


# -- the rules table: what runs on the device; SUPPORT is derived from it ---------------------------


@dataclass(frozen=True)
class Rule:
    scalar: bool = True  # per-event (flat) operands
    rvec: bool = True  # RVec operands (element-wise, or per-event algorithms over RVecs)


RULES: dict[str, Rule] = {
    "column": Rule(), "literal": Rule(), "cast": Rule(),
    **{f"unary{op}": Rule() for op in _UNARY_OPS},
    **{op: Rule() for op in [*_BINARY_OPS, "/", "%", "<<", ">>"]},
    "ternary": Rule(rvec=False), "index": Rule(scalar=False), "mask": Rule(scalar=False),
    **{fn: Rule() for fn in [*_UNARY_MATH, "abs", "fmod"]},
    **{fn: Rule(scalar=False) for fn in _REDUCTIONS},
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

    def copy_valid(self, valid: Any) -> Any:
        if valid is None:
            return _full(self.n, True, np.bool_)
        out = _empty(self.n, np.bool_)
        self.k.launch(self.k.unary("same"), self.n, valid, out)
        return out

    def check_same_sizes(self, args: list[DeviceData], valid: Any, what: str) -> None:
        jagged = [a for a in args if isinstance(a, DeviceJagged)]
        for other in jagged[1:]:
            if other.offsets is jagged[0].offsets:
                continue
            bad = _empty(self.n, np.bool_)
            self.k.launch(self.k.mismatched, self.n, jagged[0].offsets, other.offsets, self.copy_valid(valid), bad)
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
        return truth, self.copy_valid(value.valid)

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
        out = _empty(self.n, dtype)
        self.k.launch(self.k.where, self.n, truth, self.per_event(then.data, dtype), self.per_event(other.data, dtype), out)
        chosen_valid = _empty(self.n, np.bool_)
        self.k.launch(self.k.where, self.n, truth, self.copy_valid(then.valid), self.copy_valid(other.valid), chosen_valid)
        return DeviceValue(out, self.valid_and(valid, chosen_valid) if _any_false(valid, chosen_valid) else None)

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
        return DeviceValue(result, out_valid if _any_false(out_valid) else None)

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
        from hepframe.engines import gpu_kernels as k

        out_valid = self.copy_valid(valid)
        shape = next((a for a in data if isinstance(a, DeviceJagged)), None)
        events = shape.parents if shape is not None else _arange(self.n)
        kernel = k.checked_binary(node.op)

        def run(*operands_and_out: Any) -> None:
            *operands, out = operands_and_out
            k.launch(kernel, out.size, *operands, events, out, out_valid)

        out = self.elementwise(_Launcher(run), data, valid, f"operator {node.op}", dtype)
        return DeviceValue(out, out_valid if _any_false(out_valid) else valid)

    def index(self, node: ir.Index, value: DeviceValue, index: DeviceValue) -> DeviceValue:
        v = value.data
        if not isinstance(v, DeviceJagged) or node.value.type.depth > 1:
            raise UnsupportedOperationError("the gpu engine does not index RVec<RVec<T>> yet")
        out = _empty(self.n, node.type.scalar.dtype)
        ok = _full(self.n, True, np.bool_)
        idx = self.per_event(index.data, np.int64)
        self.k.launch(self.k.element, self.n, v.offsets, v.values, idx, out, ok)
        return DeviceValue(out, self.valid_and(value.valid, index.valid, ok if _any_false(ok) else None))

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
        if fn in ("Any", "All"):
            out = _empty(n, np.bool_)
            k.launch(k.any_all, n, v.offsets, v.values, fn == "All", out)
            return out, None
        out = _full(n, 0, dtype)
        ok = _full(n, True, np.bool_)
        k.launch(k.EXTREMES[fn], n, v.offsets, v.values, out, ok)
        return out, (ok if _any_false(ok) else None)

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


def _any_false(*masks: Any) -> bool:
    return any(m is not None and not m.copy_to_host().all() for m in masks)


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

    def describe_mode(self) -> str:
        name = "numba's CUDA simulator" if simulated() else self.cuda.get_current_device().name
        where = name.decode() if isinstance(name, bytes) else name
        return f"gpu: CUDA kernels on {where}"

    def plan_text(self, expr: ir.Expr) -> str:
        return "CUDA kernels: " + ", ".join(sorted({n.op_key for n in expr.walk()}))

    def make_frame(self, batch: Batch) -> GpuFrame:
        columns = {}
        for name in batch.table.column_names:
            value = from_arrow(batch.table.column(name))
            valid = None if value.valid is None else self.cuda.to_device(value.valid)
            columns[name] = DeviceValue(_to_device(value.data), valid)
        entries = np.arange(batch.entry_start, batch.entry_start + batch.table.num_rows, dtype=np.uint64)
        columns[ENTRY_COLUMN] = DeviceValue(self.cuda.to_device(entries))
        return GpuFrame(columns, entries)

    def num_rows(self, frame: GpuFrame) -> int:
        return frame.n

    def has_column(self, frame: GpuFrame, name: str) -> bool:
        return name in frame.columns

    def _eval(self, frame: GpuFrame, expr: ir.Expr, text: str, role: str) -> DeviceValue:
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
        for node in expr.walk():  # what the table cannot say: the element types the kernels take
            if isinstance(node, ir.Index) and node.value.type.depth > 1:
                raise UnsupportedOperationError(f"the gpu engine does not index RVec<RVec<T>> yet (in {text!r})")
            if shape_of(node) == "rvec" and any(c.type.depth > 1 for c in node.children()):
                raise UnsupportedOperationError(
                    f"the gpu engine does not support {node.op_key!r} on RVec<RVec<T>> yet (in {text!r})"
                )
