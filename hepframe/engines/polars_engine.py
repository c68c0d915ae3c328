"""The Polars engine: typed IR compiled to Polars expressions, evaluated batch by batch.

Scalar operations compile to native Polars expressions. Element-wise RVec operations over a
single collection and constants are fused into one native ``list.eval``. Operations Polars
cannot express exactly (sequential float sums, masks from another column, kinematics, ...)
run as vectorized kernels (:func:`hepframe.engines.reference.apply_op`) through
``map_batches`` on a struct of their operands: no per-event Python anywhere.

Undefined values (out-of-range ``v[i]``, ``Max`` of an empty RVec, integer division by zero)
are Polars nulls; ``&&``, ``||`` and ``?:`` discard them where C++ would not evaluate them,
and a null reaching a Define, Filter or result raises EventError naming the entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import polars as pl
import pyarrow as pa

from hepframe.connectors import Batch
from hepframe.engines import reference
from hepframe.engines.base import NODE_KEYS, BatchEngine, Support, register_engine
from hepframe.engines.values import Value, from_arrow, to_arrow
from hepframe.errors import UNDEFINED_CAUSES, EventError, HepframeError, UnsupportedOperationError
from hepframe.expr import ir
from hepframe.expr.binder import ENTRY_COLUMN
from hepframe.expr.functions import FUNCTIONS
from hepframe.expr.ir import free_columns
from hepframe.expr.types import CType, Scalar

N, K, U = Support.NATIVE, Support.KERNEL, Support.UNSUPPORTED

_PL_SCALAR = {
    Scalar.BOOL: pl.Boolean, Scalar.CHAR: pl.Int8, Scalar.UCHAR: pl.UInt8, Scalar.SHORT: pl.Int16,
    Scalar.USHORT: pl.UInt16, Scalar.INT: pl.Int32, Scalar.UINT: pl.UInt32, Scalar.LONG: pl.Int64,
    Scalar.ULONG: pl.UInt64, Scalar.FLOAT: pl.Float32, Scalar.DOUBLE: pl.Float64,
}  # fmt: skip


def polars_dtype(t: CType) -> pl.DataType:
    dtype: pl.DataType = _PL_SCALAR[t.scalar]()
    for _ in range(t.depth):
        dtype = pl.List(dtype)
    return dtype


# Math functions with a native Polars method whose results match C's <cmath> bit for bit
# (checked against ROOT in tests/test_root_differential.py); the rest run as kernels. Polars'
# log, log10 and float32 atanh differ from glibc's in the last bit, so they are kernels.
_NATIVE_MATH: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "sqrt": lambda e: e.sqrt(), "exp": lambda e: e.exp(), "log1p": lambda e: e.log1p(), "sin": lambda e: e.sin(), "cos": lambda e: e.cos(), "tan": lambda e: e.tan(),
    "asin": lambda e: e.arcsin(), "acos": lambda e: e.arccos(), "atan": lambda e: e.arctan(),
    "sinh": lambda e: e.sinh(), "cosh": lambda e: e.cosh(), "tanh": lambda e: e.tanh(),
    "asinh": lambda e: e.arcsinh(), "acosh": lambda e: e.arccosh(),
    "floor": lambda e: e.floor(), "ceil": lambda e: e.ceil(), "abs": lambda e: e.abs(), "fabs": lambda e: e.abs(),
}  # fmt: skip
_SCALAR_BINARY: dict[str, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "&": lambda a, b: a & b, "|": lambda a, b: a | b, "^": lambda a, b: a ^ b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}  # fmt: skip
_COMPARISONS = {"<", "<=", ">", ">=", "==", "!="}
_MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}  # a < b is b > a


def _support_table() -> dict[str, dict[str, Support]]:
    table: dict[str, dict[str, Support]] = {}
    for key in [*NODE_KEYS, *FUNCTIONS]:
        table[key] = {"scalar": K, "rvec": K}
    for key in ["column", "literal", "cast", "unary-", "unary~", "unary!", "+", "-", "*", "/", "%", "&", "|", "^",
                *_COMPARISONS, "ternary", *_NATIVE_MATH]:  # fmt: skip
        table[key] = {"scalar": N, "rvec": N}  # RVec form: fused list.eval over one collection
    table["&&"] = table["||"] = {"scalar": N, "rvec": K}
    table["index"] = {"scalar": N, "rvec": N}
    for key in ("size", "Any", "All", "Reverse", "Enumerate", "Range", "Nonzero", "IsAvailable",
                "DefaultValue"):
        table[key] = {"scalar": N, "rvec": N}
    # Integer Sum/Max/Min are native; floating-point ones need ROOT's sequential order (kernel).
    # v[mask] stays a kernel: Polars' list.gather(list.eval(arg_true())) is ~5x slower (measured).
    # So does Concatenate: pl.concat_list costs ~240 ns per event (ADL query 8 warm: 0.44 s native,
    # 0.29 s with the numpy kernel).
    for key in ("Concatenate", "Sum", "Max", "Min", "Mean", "<<", ">>", "DeltaPhi", "DeltaR", "InvariantMass", "round",
                "trunc", "cbrt", "exp2", "expm1", "log", "log10", "log2", "atanh", "erf", "erfc", "pow", "atan2", "hypot",
                "fmod"):  # fmt: skip
        table[key] = {"scalar": K, "rvec": K}
    return table


_ELEMENTWISE = (ir.Cast, ir.Unary, ir.Binary, ir.Call)


class PolarsCompiler:
    """Compile IR to ``pl.Expr``; results are cached per (hashable) IR node."""

    def __init__(self, engine: PolarsEngine):
        self.engine = engine
        self.cache: dict[ir.Expr, pl.Expr] = {}
        self.kernels: set[ir.Expr] = set()  # nodes compiled to kernels

    def compile(self, expr: ir.Expr) -> pl.Expr:
        if expr not in self.cache:
            self.cache[expr] = self._compile(expr)
        return self.cache[expr]

    # -- fusion of element-wise RVec trees into one list.eval ------------------
    @staticmethod
    def _inexact_in_polars(node: ir.Expr) -> bool:
        """Operations whose native Polars form differs from compiled C++ on x86-64.

        Polars divides by a constant as a multiplication by its reciprocal (not IEEE division),
        and turns out-of-range float-to-integer conversions into nulls where x86 gives INT_MIN.
        """
        if isinstance(node, ir.Cast):
            return node.operand.type.scalar.is_float and node.type.scalar.is_integral and node.type.scalar is not Scalar.BOOL
        if (isinstance(node, ir.Binary) and node.op in ("+", "-") and node.type.scalar.is_float
                and any(isinstance(c, ir.Literal) and c.value == 0 for c in node.children())):  # fmt: skip
            return True  # Polars simplifies x + 0 to x and 0 - x to -x, which loses the sign of zero
        return (
            isinstance(node, ir.Binary)
            and node.op == "/"
            and node.type.scalar.is_float
            and any(isinstance(c, ir.Literal) for c in node.children())
        )

    def _is_native_elementwise(self, node: ir.Expr) -> bool:
        if not isinstance(node, _ELEMENTWISE) or not node.type.is_rvec or self._inexact_in_polars(node):
            return False
        if isinstance(node, ir.Binary) and node.op in ("&&", "||", "<<", ">>"):
            return False
        if isinstance(node, ir.Call) and node.func not in _NATIVE_MATH:
            return False
        return True

    def _fusion_bases(self, node: ir.Expr) -> set[ir.Expr] | None:
        """The RVec leaves of an element-wise tree, or None if it mixes in per-event scalars."""
        if not self._is_native_elementwise(node):
            return {node} if node.type.is_rvec else None
        bases: set[ir.Expr] = set()
        for child in node.children():
            if child.type.is_rvec:
                sub = self._fusion_bases(child)
                if sub is None:
                    return None
                bases |= sub
            elif not isinstance(child, ir.Literal):
                return None
        return bases

    def _compile(self, node: ir.Expr) -> pl.Expr:
        level = self.engine.support(node)
        if level is U:
            raise UnsupportedOperationError(f"the polars engine does not support {node.op_key!r}")
        if self._inexact_in_polars(node):
            return self._kernel(node)
        if self._is_native_elementwise(node) and level is N:
            bases = self._fusion_bases(node)
            if bases is not None and len(bases) == 1:
                (base,) = bases
                element = self._scalar_rule(node, {base: pl.element()})
                return self.compile(base).list.eval(element)
            return self._kernel(node)
        if level is K:
            return self._kernel(node)
        if node.type.is_rvec or any(c.type.is_rvec for c in node.children()):
            return self._rvec_rule(node)
        return self._scalar_rule(node, {})

    # -- scalar rules (also used inside list.eval with pl.element()) -------------
    def _sub(self, node: ir.Expr, env: dict[ir.Expr, pl.Expr]) -> pl.Expr:
        if node in env:
            return env[node]
        if env:  # inside list.eval: everything is element-wise over the base
            return self._scalar_rule(node, env)
        return self.compile(node)

    def _scalar_rule(self, node: ir.Expr, env: dict[ir.Expr, pl.Expr], as_bool: bool = False) -> pl.Expr:
        """``node`` as a Polars expression; ``as_bool``: a comparison's 0/1 stay booleans (for Sum)."""
        if node in env:
            return env[node]
        if isinstance(node, ir.Column):
            return pl.col(node.name)
        if isinstance(node, ir.Literal):
            return pl.lit(node.value, dtype=polars_dtype(node.type))
        t = node.type
        dtype = polars_dtype(CType(t.scalar))
        if isinstance(node, ir.Cast):
            operand = self._sub(node.operand, env)
            if t.scalar is Scalar.BOOL:
                return operand != pl.lit(0, dtype=polars_dtype(CType(node.operand.type.scalar)))
            return operand.cast(dtype, wrap_numerical=True)
        if isinstance(node, ir.Unary):
            operand = self._sub(node.operand, env)
            operand_scalar = node.operand.type.scalar
            if node.op == "-":
                if operand_scalar.is_unsigned:  # Polars refuses to negate unsigned integers; C++ wraps
                    return pl.lit(0, dtype=dtype) - operand
                return -operand
            if node.op == "~":
                return ~operand
            if operand_scalar is not Scalar.BOOL:  # only on RVec elements: !x converts back to the element type
                return (operand == pl.lit(0, dtype=polars_dtype(CType(operand_scalar)))).cast(dtype)
            return operand.not_()
        if isinstance(node, ir.Binary) and node.op in ("&&", "||"):
            return self._short_circuit(node, env)
        if isinstance(node, ir.Binary):
            a, b = self._sub(node.left, env), self._sub(node.right, env)
            op = node.op
            if op == "/":
                if t.scalar.is_float:
                    return a / b
                return _trunc_div(a, b, t.scalar.is_unsigned)
            if op == "%":
                return a - b * _trunc_div(a, b, t.scalar.is_unsigned)
            if op in ("<<", ">>"):
                raise UnsupportedOperationError(f"operator {op} has no native Polars form")
            left, right = node.left, node.right
            if op in _COMPARISONS and not free_columns(left) and not isinstance(right, ir.Literal):
                # Polars 2.1 returns one row for `literal < when(c).then(literal)...`: constant goes right
                op, a, b, left, right = _MIRRORED[op], b, a, right, left
            out = _SCALAR_BINARY[op](a, b)
            if op in _COMPARISONS and left.type.scalar.is_float:
                out = _ieee_comparison(op, out, (a, _may_be_nan(left)), (b, _may_be_nan(right)))
            if op in _COMPARISONS and t.scalar is Scalar.INT and not as_bool:  # inside list.eval: RVec<int> result
                out = out.cast(pl.Int32)
            return out
        if isinstance(node, ir.Ternary):
            constant = _constant_condition(node.cond)
            if constant is not None:  # fold: Polars mis-evaluates when(<constant>) with 0.0 / -0.0 branches
                return pl.lit(None, dtype=polars_dtype(t)) if constant is _UNDEFINED else self._sub(
                    node.then if constant else node.other, env)  # fmt: skip
            c, a, b = (self._sub(x, env) for x in (node.cond, node.then, node.other))
            return pl.when(c.is_null()).then(pl.lit(None, dtype=polars_dtype(t))).when(c).then(a).otherwise(b)
        if isinstance(node, ir.Call) and node.func in _NATIVE_MATH:
            out = _NATIVE_MATH[node.func](self._sub(node.args[0], env))
            return out.cast(dtype) if node.func != "abs" else out
        if isinstance(node, ir.Call) and node.func == "IsAvailable":
            return self.compile(node.args[0]).is_not_null()
        if isinstance(node, ir.Call) and node.func == "DefaultValue":
            return self.compile(node.args[0]).fill_null(self.compile(node.args[1]))
        if isinstance(node, ir.Call) and self.engine.support(node) is K:
            return self._kernel(node)
        raise UnsupportedOperationError(f"no Polars rule for {node.op_key!r}")

    def _short_circuit(self, node: ir.Binary, env: dict[ir.Expr, pl.Expr]) -> pl.Expr:
        """A chain ``t0 && t1 && ...`` (or ``||``) with C++'s left-to-right short-circuit, linear in size.

        Each term is used once, as a key (``ir.short_circuit_keys``) whose minimum over the terms is
        the deciding term's. (Nesting ``when(a).then(b).otherwise(a)`` repeats ``a`` and doubles per term.)
        """
        terms = ir.logical_terms(node)
        compiled = [self._sub(term, env) for term in terms]
        if any(n in self.kernels for term in terms[1:] for n in term.walk()):
            # A kernel may raise (RVecs of different sizes) where C++ never evaluates it: the reference
            # evaluator computes each term only for the events that reach it.
            return self._kernel(node)
        n = len(terms)
        keys = []
        for i, term in enumerate(compiled):
            true_key, false_key, undefined_key = ir.short_circuit_keys(node.op, i, n)
            t = term.cast(pl.Int64)
            keys.append((t * (true_key - false_key) + false_key).fill_null(undefined_key))
        first = pl.min_horizontal(keys)
        # key % 3: 0 true, 1 false, 2 undefined; 1 // (2 - r) is 0, 1 or null (Polars: x // 0 is null).
        code = pl.lit(1, pl.Int64) // (pl.lit(2, pl.Int64) - first % 3)
        return code == 0

    # -- RVec-level rules -------------------------------------------------------
    def _rvec_rule(self, node: ir.Expr) -> pl.Expr:
        if isinstance(node, ir.Column):
            return pl.col(node.name)
        if isinstance(node, ir.Mask):
            # ROOT's v[m]: elements where m is non-zero; RVecs of different sizes make the event undefined.
            v, m = self.compile(node.value), self.compile(node.mask)
            selected = v.list.gather(m.list.eval(pl.element().arg_true()))
            return pl.when(v.list.len() == m.list.len()).then(selected)
        if isinstance(node, ir.Index):
            v, i = self.compile(node.value), self.compile(node.index)
            got = v.list.get(i, null_on_oob=True)
            if isinstance(node.index, ir.Literal) and node.index.value >= 0:
                return got
            return pl.when(i >= 0).then(got)  # C++ has no negative indexing: undefined -> null
        if isinstance(node, ir.Call) and node.func == "Range":
            start, end = (pl.lit(0, pl.UInt64), self.compile(node.args[0])) if len(node.args) == 1 else (
                self.compile(node.args[0]), self.compile(node.args[1]))  # fmt: skip
            return pl.int_ranges(start, pl.max_horizontal(start, end), dtype=pl.UInt64)
        if isinstance(node, ir.Call) and len(node.args) == 1:
            arg = node.args[0]
            elem = arg.type.scalar
            integral = elem.is_integral and elem is not Scalar.BOOL
            if node.func == "Reverse":
                return self.compile(arg).list.reverse()
            if node.func == "Enumerate":
                index = pl.int_range(pl.len(), dtype=pl.UInt64)
                if elem is Scalar.BOOL:  # ROOT fills an RVec<bool> with the indices: 0, 1, 1, ...
                    index = (index > 0).cast(pl.UInt64)
                return self.compile(arg).list.eval(index)
            if node.func == "Nonzero":
                nonzero = pl.element() if elem is Scalar.BOOL else pl.element() != 0
                return self.compile(arg).list.eval(nonzero.arg_true().cast(pl.UInt64))
            if node.func == "Sort" and integral:  # floats: NaN order and -0.0 need the kernel
                return self.compile(arg).list.sort()
            if node.func in ("ArgMax", "ArgMin") and integral:  # first occurrence; null when empty
                v = self.compile(arg)
                return (v.list.arg_max() if node.func == "ArgMax" else v.list.arg_min()).cast(pl.UInt64)
            if node.func == "size":
                return self.compile(arg).list.len().cast(pl.UInt64)
            if node.func in ("Any", "All"):
                v = self.compile(arg)
                if elem is not Scalar.BOOL:
                    v = v.list.eval(pl.element() != 0)
                return v.list.any() if node.func == "Any" else v.list.all()
            if node.func == "Sum" and elem.is_integral:
                # Sum(v > 40): count the true elements; the RVec<int> of 0 and 1 is never built.
                counted = self._comparison_as_bools(arg)
                summed = (self.compile(arg) if counted is None else counted).list.sum()
                return summed.cast(polars_dtype(node.type), wrap_numerical=True)
            if node.func in ("Max", "Min") and elem.is_integral and elem is not Scalar.BOOL:
                v = self.compile(arg)
                return v.list.max() if node.func == "Max" else v.list.min()
        if isinstance(node, ir.Ternary):
            return self._scalar_rule(node, {})
        return self._kernel(node)

    def _comparison_as_bools(self, node: ir.Expr) -> pl.Expr | None:
        """An element-wise RVec comparison fused into one ``list.eval`` with boolean elements, or None."""
        if not (isinstance(node, ir.Binary) and node.op in _COMPARISONS and node.type.is_rvec):
            return None
        if self._inexact_in_polars(node) or not self._is_native_elementwise(node) or self.engine.support(node) is not N:
            return None
        bases = self._fusion_bases(node)
        if bases is None or len(bases) != 1:
            return None
        (base,) = bases
        return self.compile(base).list.eval(self._scalar_rule(node, {base: pl.element()}, as_bool=True))

    # -- kernels ------------------------------------------------------------------
    def _kernel(self, node: ir.Expr) -> pl.Expr:
        """Run the whole subtree of ``node`` as one vectorized kernel in ``map_batches``.

        The reference evaluator computes it from the columns it reads, with its cache of shared
        subexpressions: one ``Combinations`` used by eight ``Take`` calls runs once per batch, and
        the data crosses from Polars to numpy once.
        """
        self.kernels.add(node)
        columns = sorted(free_columns(node))
        fields = [pl.col(c) for c in columns] + [pl.col(ENTRY_COLUMN).alias("__entry__")]
        return_dtype = polars_dtype(node.type)

        def run(batch: pl.Series) -> pl.Series:
            frame = batch.struct.unnest()
            n = frame.height
            entries = frame["__entry__"].to_numpy()
            inputs = {c: from_arrow(frame[c].to_arrow()) for c in columns}
            out = reference.evaluate(node, inputs, reference.Context(n, entries), {})
            series = pl.from_arrow(to_arrow(out, n))
            assert isinstance(series, pl.Series)
            return series.cast(return_dtype)

        return pl.struct(fields).map_batches(run, return_dtype=return_dtype, is_elementwise=True)


_UNDEFINED = object()


def _constant_condition(cond: ir.Expr) -> bool | object | None:
    """The value of a condition that reads no column (``_UNDEFINED`` if C++ leaves it undefined), else None."""
    if free_columns(cond) or any(isinstance(n, ir.Call) and n.func.startswith("udf:") for n in cond.walk()):
        return None
    value = reference.evaluate(cond, {}, reference.Context(1, np.zeros(1, dtype=np.int64)), {})
    if value.valid is not None and not value.valid.all():
        return _UNDEFINED
    return bool(np.asarray(value.data).reshape(-1)[0])


def _may_be_nan(node: ir.Expr) -> bool:
    if isinstance(node, ir.Literal):
        return node.type.scalar.is_float and math.isnan(float(node.value))
    if isinstance(node, ir.Cast) and not node.operand.type.scalar.is_float:
        return False  # an integer converted to floating point
    return node.type.scalar.is_float


def _ieee_comparison(op: str, out: pl.Expr, left: tuple[pl.Expr, bool], right: tuple[pl.Expr, bool]) -> pl.Expr:
    """Polars orders NaN above every number and equal to itself; IEEE (and C++) compare NaN false.

    ``left`` and ``right`` are (operand, may it be NaN). Only the cases where Polars' answer
    differs get a guard: ``x > 40`` needs ``x`` not NaN, ``x < 40`` needs nothing.
    """
    (a, a_nan), (b, b_nan) = left, right
    if op in ("==", "!="):  # only NaN against NaN differs (Polars: equal)
        if not (a_nan and b_nan):
            return out
        return out | (a.is_nan() | b.is_nan()) if op == "!=" else out & (a.is_nan() | b.is_nan()).not_()
    larger_side = (b, b_nan) if op in ("<", "<=") else (a, a_nan)  # a NaN there makes Polars say true
    operand, may_be_nan = larger_side
    return out & operand.is_nan().not_() if may_be_nan else out


def _trunc_div(a: pl.Expr, b: pl.Expr, unsigned: bool) -> pl.Expr:
    """C++ integer division (toward zero); Polars' // floors, and gives null for b == 0."""
    q = a // b
    if unsigned:
        return q
    return pl.when((a % b != 0) & ((a < 0) != (b < 0))).then(q + 1).otherwise(q)


@contextmanager
def _kernel_errors() -> Iterator[None]:
    """A kernel's error as hepframe raised it, without the Polars expression Polars appends to it."""
    try:
        yield
    except HepframeError as exc:
        message = str(exc).split("\n\nThis error occurred in the following expression", 1)[0]
        if message == str(exc):
            raise
        raise type(exc)(message) from None


# Reductions and sorts that are exact natively for integer elements only (float order/NaN need kernels).
_NATIVE_FOR_INTEGERS = {"Sum", "Max", "Min", "Sort", "ArgMax", "ArgMin"}


@register_engine
class PolarsEngine(BatchEngine):
    """Runs each batch as eager Polars computations on an Arrow-backed DataFrame."""

    name = "polars"
    SUPPORT = _support_table()
    PARALLEL_BATCHES = True

    def support(self, node: ir.Expr) -> Support:
        level = super().support(node)
        if isinstance(node, ir.Call) and node.func in _NATIVE_FOR_INTEGERS and len(node.args) == 1:
            elem = node.args[0].type.scalar
            if elem.is_integral and (elem is not Scalar.BOOL or node.func == "Sum"):
                return N
        return level

    def __init__(self) -> None:
        self.compiler = PolarsCompiler(self)

    def plan_text(self, expr: ir.Expr) -> str:
        return str(self.compiler.compile(expr))

    def make_frame(self, batch: Batch) -> pl.DataFrame:
        df = pl.from_arrow(batch.table, rechunk=False)
        assert isinstance(df, pl.DataFrame)
        # Built by Polars (its allocator reuses memory; a fresh numpy array costs page faults per batch).
        start = batch.entry_start
        return df.with_columns(pl.int_range(start, start + df.height, dtype=pl.UInt64).alias(ENTRY_COLUMN))

    def num_rows(self, frame: pl.DataFrame) -> int:
        return frame.height

    def has_column(self, frame: pl.DataFrame, name: str) -> bool:
        return name in frame.columns

    def column_names(self, frame: pl.DataFrame) -> frozenset[str]:
        return frozenset(frame.columns)

    def select_columns(self, frame: pl.DataFrame, names: frozenset[str]) -> pl.DataFrame:
        return frame.select([c for c in frame.columns if c in names])

    def _check_defined(self, frame: pl.DataFrame, series: pl.Series, text: str, role: str) -> None:
        if series.null_count():
            i = int(series.is_null().arg_true()[0])
            entry = int(frame[ENTRY_COLUMN][i])
            raise EventError(
                f"{role} {text!r} is undefined in entry {entry}: {UNDEFINED_CAUSES}"
            )

    def with_columns(self, frame: pl.DataFrame, columns: Sequence[tuple[str, ir.Expr, str]]) -> pl.DataFrame:
        if frame.height == 0:
            return frame.with_columns(pl.Series(name, [], dtype=polars_dtype(e.type)) for name, e, _ in columns)
        with _kernel_errors():
            out = frame.with_columns(self.compiler.compile(e).alias(name) for name, e, _ in columns)
        for name, _, text in columns:
            self._check_defined(out, out[name], text, "Define")
        return out

    def apply_filter(self, frame: pl.DataFrame, expr: ir.Expr, text: str) -> tuple[pl.DataFrame, int]:
        if frame.height == 0:
            return frame, 0
        with _kernel_errors():
            mask = frame.select(self.compiler.compile(expr).alias("__mask__"))["__mask__"]
        self._check_defined(frame, mask, text, "Filter")
        out = frame.filter(mask)
        return out, out.height

    def take_rows(self, frame: pl.DataFrame, mask: np.ndarray) -> pl.DataFrame:
        return frame.filter(pl.Series(np.asarray(mask, dtype=np.bool_)))

    def evaluate(self, frame: pl.DataFrame, exprs: Sequence[tuple[ir.Expr, str]]) -> list[Value]:
        if frame.height == 0:
            return [from_arrow(pa.array([], type=pl.Series([], dtype=polars_dtype(e.type)).to_arrow().type))
                    for e, _ in exprs]  # fmt: skip
        with _kernel_errors():
            result = frame.select(self.compiler.compile(e).alias(f"v{i}") for i, (e, _) in enumerate(exprs))
        values = []
        for i, (_, text) in enumerate(exprs):
            series = result[f"v{i}"]
            self._check_defined(frame, series, text, "column")
            values.append(from_arrow(series.to_arrow()))
        return values
