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
from dataclasses import dataclass
from typing import Any

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


# -- the rules table ---------------------------------------------------------------------------
# Every native Polars rule is registered in RULES under its op key; SUPPORT (and so the docs'
# support matrix) is derived from it, so the two cannot drift. An op key without a rule runs as a
# vectorized kernel (the reference evaluator through map_batches).

Env = dict  # IR node -> Polars expression standing for it (pl.element() inside a fused list.eval)


@dataclass(frozen=True)
class Rule:
    """How the Polars engine computes one op key natively."""

    #: The scalar form ``(compiler, node, env, as_bool) -> pl.Expr``; for ``fusable`` rules also the
    #: per-element form inside ``list.eval``.
    scalar: Callable[[PolarsCompiler, Any, Env, bool], pl.Expr] | None = None
    #: The form on RVec operands, per event ``(compiler, node) -> pl.Expr``.
    rvec: Callable[[PolarsCompiler, Any], pl.Expr] | None = None
    #: Element-wise: an RVec tree of such nodes over one collection (and constants) is one list.eval.
    fusable: bool = False
    #: Native only when this holds for the node (e.g. integer elements); otherwise a kernel.
    native_if: Callable[[Any], bool] | None = None

    def support(self, shape: str) -> Support:
        if self.native_if is not None:  # depends on the operand types: a kernel in the table
            return K
        if shape == "scalar":
            return N if self.scalar is not None else K
        return N if self.rvec is not None or self.fusable else K


RULES: dict[str, Rule] = {}


def _rule(*keys: str, **how: Any) -> Callable:
    """Register the decorated function as the scalar rule (or, with ``form="rvec"``, the RVec rule) of ``keys``."""
    form = how.pop("form", "scalar")

    def register(fn: Callable) -> Callable:
        for key in keys:
            old = RULES.get(key, Rule())
            RULES[key] = Rule(**{**old.__dict__, form: fn, **how})
        return fn

    return register


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
        rule = RULES.get(node.op_key)
        return rule is not None and rule.fusable and node.type.is_rvec and not self._inexact_in_polars(node)

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
            rvec = RULES[node.op_key].rvec
            return rvec(self, node) if rvec is not None else self._kernel(node)
        return self._scalar_rule(node, {})

    # -- scalar rules (also used inside list.eval with pl.element()) -------------
    def _sub(self, node: ir.Expr, env: dict[ir.Expr, pl.Expr]) -> pl.Expr:
        if node in env:
            return env[node]
        if env:  # inside list.eval: everything is element-wise over the base
            return self._scalar_rule(node, env)
        return self.compile(node)

    def _scalar_rule(self, node: ir.Expr, env: Env, as_bool: bool = False) -> pl.Expr:
        """``node`` as a Polars expression; ``as_bool``: a comparison's 0/1 stay booleans (for Sum)."""
        if node in env:
            return env[node]
        rule = RULES.get(node.op_key)
        if rule is not None and rule.scalar is not None:
            return rule.scalar(self, node, env, as_bool)
        if self.engine.support(node) is K:
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


# -- scalar rules (fusable ones also run per element inside list.eval, with pl.element()) -----------


@_rule("column", form="scalar")
def _column(c: PolarsCompiler, node: ir.Column, env: Env, as_bool: bool) -> pl.Expr:
    return pl.col(node.name)


@_rule("column", form="rvec")
def _column_rvec(c: PolarsCompiler, node: ir.Column) -> pl.Expr:
    return pl.col(node.name)


@_rule("literal")
def _literal(c: PolarsCompiler, node: ir.Literal, env: Env, as_bool: bool) -> pl.Expr:
    return pl.lit(node.value, dtype=polars_dtype(node.type))


@_rule("cast", fusable=True)
def _cast(c: PolarsCompiler, node: ir.Cast, env: Env, as_bool: bool) -> pl.Expr:
    operand = c._sub(node.operand, env)
    if node.type.scalar is Scalar.BOOL:
        return operand != pl.lit(0, dtype=polars_dtype(CType(node.operand.type.scalar)))
    return operand.cast(polars_dtype(CType(node.type.scalar)), wrap_numerical=True)


@_rule("unary-", "unary~", "unary!", fusable=True)
def _unary(c: PolarsCompiler, node: ir.Unary, env: Env, as_bool: bool) -> pl.Expr:
    operand = c._sub(node.operand, env)
    operand_scalar = node.operand.type.scalar
    dtype = polars_dtype(CType(node.type.scalar))
    if node.op == "-":
        if operand_scalar.is_unsigned:  # Polars refuses to negate unsigned integers; C++ wraps
            return pl.lit(0, dtype=dtype) - operand
        return -operand
    if node.op == "~":
        return ~operand
    if operand_scalar is not Scalar.BOOL:  # only on RVec elements: !x converts back to the element type
        return (operand == pl.lit(0, dtype=polars_dtype(CType(operand_scalar)))).cast(dtype)
    return operand.not_()


@_rule("&&", "||")
def _logical(c: PolarsCompiler, node: ir.Binary, env: Env, as_bool: bool) -> pl.Expr:
    return c._short_circuit(node, env)


@_rule("+", "-", "*", "/", "%", "&", "|", "^", *_COMPARISONS, fusable=True)
def _binary(c: PolarsCompiler, node: ir.Binary, env: Env, as_bool: bool) -> pl.Expr:
    t = node.type
    a, b = c._sub(node.left, env), c._sub(node.right, env)
    op = node.op
    if op == "/":
        if t.scalar.is_float:
            return a / b
        return _trunc_div(a, b, t.scalar.is_unsigned)
    if op == "%":
        return a - b * _trunc_div(a, b, t.scalar.is_unsigned)
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


@_rule("ternary", form="scalar")
def _ternary(c: PolarsCompiler, node: ir.Ternary, env: Env, as_bool: bool) -> pl.Expr:
    t = node.type
    constant = _constant_condition(node.cond)
    if constant is not None:  # fold: Polars mis-evaluates when(<constant>) with 0.0 / -0.0 branches
        return pl.lit(None, dtype=polars_dtype(t)) if constant is _UNDEFINED else c._sub(
            node.then if constant else node.other, env)  # fmt: skip
    cond, a, b = (c._sub(x, env) for x in (node.cond, node.then, node.other))
    return pl.when(cond.is_null()).then(pl.lit(None, dtype=polars_dtype(t))).when(cond).then(a).otherwise(b)


@_rule("ternary", form="rvec")
def _ternary_rvec(c: PolarsCompiler, node: ir.Ternary) -> pl.Expr:
    return _ternary(c, node, {}, False)


@_rule(*_NATIVE_MATH, fusable=True)
def _math(c: PolarsCompiler, node: ir.Call, env: Env, as_bool: bool) -> pl.Expr:
    out = _NATIVE_MATH[node.func](c._sub(node.args[0], env))
    return out.cast(polars_dtype(CType(node.type.scalar))) if node.func != "abs" else out


@_rule("IsAvailable")
def _is_available(c: PolarsCompiler, node: ir.Call, env: Env, as_bool: bool) -> pl.Expr:
    return c.compile(node.args[0]).is_not_null()


@_rule("DefaultValue")
def _default_value(c: PolarsCompiler, node: ir.Call, env: Env, as_bool: bool) -> pl.Expr:
    return c.compile(node.args[0]).fill_null(c.compile(node.args[1]))


# -- RVec rules (per event, on list columns) ---------------------------------------------------
# v[mask] stays a kernel: Polars' list.gather(list.eval(arg_true())) is ~5x slower (measured). So does
# Concatenate: pl.concat_list costs ~240 ns per event (ADL query 8 warm: 0.44 s native, 0.29 s with the
# numpy kernel). Floating-point Sum/Max/Min need ROOT's sequential order: kernels.


@_rule("index", form="rvec")
def _index(c: PolarsCompiler, node: ir.Index) -> pl.Expr:
    v, i = c.compile(node.value), c.compile(node.index)
    got = v.list.get(i, null_on_oob=True)
    if isinstance(node.index, ir.Literal) and node.index.value >= 0:
        return got
    return pl.when(i >= 0).then(got)  # C++ has no negative indexing: undefined -> null


@_rule("Range", form="rvec")
def _range(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    start, end = (pl.lit(0, pl.UInt64), c.compile(node.args[0])) if len(node.args) == 1 else (
        c.compile(node.args[0]), c.compile(node.args[1]))  # fmt: skip
    return pl.int_ranges(start, pl.max_horizontal(start, end), dtype=pl.UInt64)


@_rule("Reverse", form="rvec")
def _reverse(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    return c.compile(node.args[0]).list.reverse()


@_rule("Enumerate", form="rvec")
def _enumerate(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    index = pl.int_range(pl.len(), dtype=pl.UInt64)
    if node.args[0].type.scalar is Scalar.BOOL:  # ROOT fills an RVec<bool> with the indices: 0, 1, 1, ...
        index = (index > 0).cast(pl.UInt64)
    return c.compile(node.args[0]).list.eval(index)


@_rule("Nonzero", form="rvec")
def _nonzero(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    nonzero = pl.element() if node.args[0].type.scalar is Scalar.BOOL else pl.element() != 0
    return c.compile(node.args[0]).list.eval(nonzero.arg_true().cast(pl.UInt64))


@_rule("size", form="rvec")
def _size(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    return c.compile(node.args[0]).list.len().cast(pl.UInt64)


@_rule("Any", "All", form="rvec")
def _any_all(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    v = c.compile(node.args[0])
    if node.args[0].type.scalar is not Scalar.BOOL:
        v = v.list.eval(pl.element() != 0)
    return v.list.any() if node.func == "Any" else v.list.all()


def _integer_elements(node: ir.Call) -> bool:
    """One RVec argument of integers (not bool): float order, -0.0 and NaN need the kernels."""
    elem = node.args[0].type.scalar
    return len(node.args) == 1 and elem.is_integral and elem is not Scalar.BOOL


@_rule("Sort", form="rvec", native_if=_integer_elements)
def _sort(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    return c.compile(node.args[0]).list.sort()


@_rule("ArgMax", "ArgMin", form="rvec", native_if=_integer_elements)
def _arg_extremum(c: PolarsCompiler, node: ir.Call) -> pl.Expr:  # first occurrence; null when empty
    v = c.compile(node.args[0])
    return (v.list.arg_max() if node.func == "ArgMax" else v.list.arg_min()).cast(pl.UInt64)


@_rule("Max", "Min", form="rvec", native_if=_integer_elements)
def _extremum(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    v = c.compile(node.args[0])
    return v.list.max() if node.func == "Max" else v.list.min()


@_rule("Sum", form="rvec", native_if=lambda node: len(node.args) == 1 and node.args[0].type.scalar.is_integral)
def _sum(c: PolarsCompiler, node: ir.Call) -> pl.Expr:
    # Sum(v > 40): count the true elements; the RVec<int> of 0 and 1 is never built.
    counted = c._comparison_as_bools(node.args[0])
    summed = (c.compile(node.args[0]) if counted is None else counted).list.sum()
    return summed.cast(polars_dtype(node.type), wrap_numerical=True)


def _support_table() -> dict[str, dict[str, Support]]:
    """Derived from RULES: native where a rule exists for the shape, else a kernel."""
    table: dict[str, dict[str, Support]] = {}
    for key in [*NODE_KEYS, *FUNCTIONS]:
        rule = RULES.get(key)
        table[key] = {shape: rule.support(shape) if rule else K for shape in ("scalar", "rvec")}
    return table


@register_engine
class PolarsEngine(BatchEngine):
    """Runs each batch as eager Polars computations on an Arrow-backed DataFrame."""

    name = "polars"
    SUPPORT = _support_table()
    PARALLEL_BATCHES = True

    def support(self, node: ir.Expr) -> Support:
        rule = RULES.get(node.op_key)
        if rule is not None and rule.native_if is not None and rule.native_if(node):
            return N
        return super().support(node)

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

    LAZY_BRANCHES = True

    def add_branches(self, frame: pl.DataFrame, batch_frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
        # make_frame numbers the batch's events consecutively: an event's row is its entry - the first
        first = batch_frame[ENTRY_COLUMN][0] if batch_frame.height else 0
        rows = pl.Series((frame.get_column(ENTRY_COLUMN).to_numpy() - first).astype(np.int64))
        return frame.hstack(batch_frame.select(pl.col(list(names)).gather(rows)).get_columns())  # one query

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
