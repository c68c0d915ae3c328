"""Typed IR to Spark SQL Column expressions, for the operations Spark computes exactly as C++ does.

The Spark engine compiles every maximal subtree of an analysis that this module accepts into
a column of the Spark plan (JVM code generation, no Python); the rest runs in the partition's
Python task through the Polars engine and the kernels of ``hepframe.udfs``.

Spark SQL differs from C++ in ways that decide what is native here:

* no unsigned integers: unsigned arithmetic (which wraps in C++) and conversions to unsigned
  are not native; unsigned values themselves are (the data source widens them losslessly),
  except ``ULong64_t`` branches, which Spark sees bit-cast;
* ``/`` on doubles gives null for a zero divisor, not ±inf/NaN: float division is native only
  by a non-zero literal;
* NaN compares equal to itself and above every number: comparisons of floating operands get
  an explicit NaN guard (IEEE: every comparison with NaN is false, ``!=`` true);
* Java's transcendental functions are not glibc's: only sqrt (correctly rounded in both),
  abs, and arithmetic are native; exp, log, sin, ... run as kernels;
* out-of-range indices, mismatched RVec lengths and integer division by zero become null,
  never an exception: the Python side reports them as hepframe does on every engine (an
  EventError naming the entry), and only where C++ would evaluate them (``&&``, ``||`` and
  ``?:`` discard nulls the way C++ short-circuits).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hepframe.expr import ir
from hepframe.expr.types import CType, Scalar

#: numpy dtype name -> (Spark SQL type, numpy dtype of the values Spark holds).
SPARK_TYPES: dict[str, tuple[str, str]] = {
    "bool": ("boolean", "bool"), "int8": ("tinyint", "int8"), "int16": ("smallint", "int16"),
    "int32": ("int", "int32"), "int64": ("bigint", "int64"), "uint8": ("smallint", "int16"),
    "uint16": ("int", "int32"), "uint32": ("bigint", "int64"), "uint64": ("bigint", "int64"),
    "float32": ("float", "float32"), "float64": ("double", "float64"), "object": ("string", "object"),
}  # fmt: skip


def spark_type(ctype: CType) -> str:
    """The Spark SQL type holding a column of C++ type ``ctype``."""
    out = SPARK_TYPES[ctype.scalar.dtype.name][0]
    for _ in range(ctype.depth):
        out = f"array<{out}>"
    return out


_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def _unsigned(t: CType) -> bool:
    return t.scalar.is_integral and t.scalar is not Scalar.BOOL and t.scalar.dtype.kind == "u"


def _floating(t: CType) -> bool:
    return t.scalar.dtype.kind == "f"


def may_be_undefined(node: ir.Expr) -> bool:
    """Whether the node's Spark column can hold null (an undefined value: see the module doc)."""
    if isinstance(node, (ir.Index, ir.Mask)):
        return True
    if isinstance(node, ir.Binary):
        both_rvecs = node.left.type.depth == 1 and node.right.type.depth == 1
        return both_rvecs or (node.op in ("/", "%") and not _floating(node.type))
    return False


def native(node: ir.Expr) -> bool:
    """Whether Spark computes ``node`` (given its operands) exactly as C++: see the module doc."""
    if node.type.depth > 1 or any(c.type.depth > 1 for c in node.children()):
        return False
    rule = SPARK_RULES.get(node.op_key)
    return rule is not None and rule.exact(node)


# -- the rules table ---------------------------------------------------------------------------
# Every native Spark rule is registered in SPARK_RULES under its op key, with the shapes it covers
# and the type condition under which Spark's result is C++'s; the support matrix (NATIVE_KEYS) is
# derived from it. Anything else runs in the Python task (Polars and the kernels).


@dataclass(frozen=True)
class SparkRule:
    shapes: tuple[str, ...]  # "scalar" and/or "rvec" operands
    exact: Callable[[Any], bool]  # Spark computes this node exactly as C++ does
    build: Callable[[SparkCompiler, Any, list], Any]  # (compiler, node, compiled operands) -> Column
    own_operands: bool = False  # build compiles the operands itself (columns, && and ||)


SPARK_RULES: dict[str, SparkRule] = {}
_BOTH, _SCALAR, _RVEC = ("scalar", "rvec"), ("scalar",), ("rvec",)


def _spark_rule(*keys: str, shapes: tuple[str, ...], exact: Callable[[Any], bool], own_operands: bool = False):
    def register(build: Callable) -> Callable:
        for key in keys:
            SPARK_RULES[key] = SparkRule(shapes, exact, build, own_operands)
        return build

    return register


def _literal_exact(node: ir.Literal) -> bool:
    t = node.type
    if _floating(t) and node.value == 0 and math.copysign(1.0, node.value) < 0:
        return False  # Spark's optimizer treats -0.0 and 0.0 as the same literal
    return not _unsigned(t) or node.value >= 0


@_spark_rule("literal", shapes=_BOTH, exact=_literal_exact)
def _literal(c: SparkCompiler, node: ir.Literal, ops: list) -> Any:
    return c.F.lit(node.value).cast(spark_type(node.type))


@_spark_rule("column", shapes=_BOTH, exact=lambda node: node.type.scalar is not Scalar.ULONG, own_operands=True)
def _column(c: SparkCompiler, node: ir.Column, ops: list) -> Any:
    return c.resolve(node.name)


def _cast_exact(node: ir.Cast) -> bool:
    t, src = node.type, node.operand.type
    if t.scalar is Scalar.BOOL or src.scalar is Scalar.BOOL:
        return True
    if _unsigned(t):  # value-preserving only from a narrower unsigned type
        return _unsigned(src) and src.scalar.dtype.itemsize <= t.scalar.dtype.itemsize
    if _floating(src) and not _floating(t):
        return False  # out-of-range float -> int: the kernels reproduce what ROOT does
    if not _floating(t) and not _floating(src):
        return t.scalar.dtype.itemsize >= src.scalar.dtype.itemsize  # widening only
    return True


@_spark_rule("cast", shapes=_BOTH, exact=_cast_exact)
def _cast(c: SparkCompiler, node: ir.Cast, ops: list) -> Any:
    return c._elementwise([node.operand.type], ops, lambda x: c._cast(x, node.operand.type, node.type))


@_spark_rule("unary!", shapes=_SCALAR, exact=lambda node: node.operand.type == CType(Scalar.BOOL))
def _not(c: SparkCompiler, node: ir.Unary, ops: list) -> Any:
    return ~ops[0]


def _negate_exact(node: ir.Unary) -> bool:
    t = node.type
    return not _unsigned(t) and (_floating(t) or t.scalar.dtype.itemsize <= 4)


@_spark_rule("unary-", shapes=_BOTH, exact=_negate_exact)
def _negate(c: SparkCompiler, node: ir.Unary, ops: list) -> Any:
    if _floating(node.type):
        return c._elementwise([node.operand.type], ops, lambda x: -x)
    return c._elementwise([node.operand.type], ops, lambda x: c._wrap(-x.cast("bigint"), node.type))


@_spark_rule("&&", "||", shapes=_SCALAR, exact=lambda node: node.left.type == node.right.type == CType(Scalar.BOOL),
             own_operands=True)  # fmt: skip
def _logical(c: SparkCompiler, node: ir.Binary, ops: list) -> Any:
    terms = [c.try_compile(term) for term in ir.logical_terms(node)]
    if any(t is None for t in terms):
        return None
    return c._measured(c._short_circuit(node.op, terms), 1 + sum(c._cost(t) for t in terms))


@_spark_rule(*_COMPARISONS, shapes=_BOTH, exact=lambda node: True)
def _comparison(c: SparkCompiler, node: ir.Binary, ops: list) -> Any:
    return c._binary(node, ops)


def _arithmetic_exact(node: ir.Binary) -> bool:
    t = node.type
    if _unsigned(t):
        return False
    if node.op == "/" and _floating(t):
        r = node.right
        return isinstance(r, ir.Literal) and r.value != 0
    return _floating(t) or t.scalar.dtype.itemsize <= 4  # 32-bit: exact in bigint, then wrapped


@_spark_rule("+", "-", "*", "/", "%", shapes=_BOTH, exact=_arithmetic_exact)
def _arithmetic(c: SparkCompiler, node: ir.Binary, ops: list) -> Any:
    return c._binary(node, ops)


@_spark_rule("ternary", shapes=_SCALAR,
             exact=lambda node: node.type.depth == 0 and node.cond.type == CType(Scalar.BOOL))  # fmt: skip
def _ternary(c: SparkCompiler, node: ir.Ternary, ops: list) -> Any:
    return c.F.when(ops[0], ops[1]).otherwise(ops[2])


@_spark_rule("index", shapes=_RVEC, exact=lambda node: node.value.type.depth == 1 and node.index.type.depth == 0)
def _index(c: SparkCompiler, node: ir.Index, ops: list) -> Any:
    return c.F.get(ops[0], ops[1].cast("int"))  # null when out of range, negative included


@_spark_rule("mask", shapes=_RVEC, exact=lambda node: node.mask.type == CType(Scalar.BOOL, 1))
def _mask(c: SparkCompiler, node: ir.Mask, ops: list) -> Any:
    F = c.F
    v, m = ops
    kept = F.filter(v, lambda _, j: F.get(m, j))
    return F.when(F.size(v) == F.size(m), kept)


@_spark_rule("abs", "fabs", shapes=_BOTH, exact=_negate_exact)  # the same condition as negation
def _abs(c: SparkCompiler, node: ir.Call, ops: list) -> Any:
    F, t, arg_type = c.F, node.type, node.args[0].type
    if _floating(t):
        return c._elementwise([arg_type], ops, lambda x: F.abs(x).cast(spark_type(t.element)))
    return c._elementwise([arg_type], ops, lambda x: c._wrap(F.abs(x.cast("bigint")), t))


@_spark_rule("sqrt", shapes=_BOTH, exact=lambda node: _floating(node.type))
def _sqrt(c: SparkCompiler, node: ir.Call, ops: list) -> Any:  # double sqrt rounded to float is correctly rounded
    t = node.type
    return c._elementwise([node.args[0].type], ops, lambda x: c.F.sqrt(x.cast("double")).cast(spark_type(t.element)))


@_spark_rule("size", shapes=_RVEC, exact=lambda node: len(node.args) == 1)
def _size(c: SparkCompiler, node: ir.Call, ops: list) -> Any:
    return c.F.size(ops[0]).cast(spark_type(node.type))


def _sum_exact(node: ir.Call) -> bool:
    t = node.type
    return len(node.args) == 1 and not _unsigned(t) and (_floating(t) or t.scalar.dtype.itemsize <= 4)


@_spark_rule("Sum", shapes=_RVEC, exact=_sum_exact)
def _sum(c: SparkCompiler, node: ir.Call, ops: list) -> Any:
    F, t = c.F, node.type
    if _floating(t):  # sequential, in the result type: ROOT's std::accumulate
        zero = F.lit(0).cast(spark_type(t))
        return F.aggregate(ops[0], zero, lambda acc, x: (acc + x.cast(spark_type(t))).cast(spark_type(t)))
    zero = F.lit(0).cast("bigint")
    return c._wrap(F.aggregate(ops[0], zero, lambda acc, x: acc + x.cast("bigint")), t)


@_spark_rule("Any", "All", shapes=_RVEC, exact=lambda node: len(node.args) == 1)
def _any_all(c: SparkCompiler, node: ir.Call, ops: list) -> Any:
    zero = c.F.lit(0).cast(spark_type(node.args[0].type.element))
    if node.func == "Any":
        return c.F.exists(ops[0], lambda x: x != zero)
    return c.F.forall(ops[0], lambda x: x != zero)


#: Op keys with native rules, per shape (the support matrix's Spark column).
NATIVE_KEYS: dict[str, tuple[str, ...]] = {key: rule.shapes for key, rule in SPARK_RULES.items()}


Resolve = Callable[[str], Any]

#: Largest native column, in expression-tree nodes with repeated operands counted each time.
MAX_NATIVE_SIZE = 2000


def _references(node: ir.Expr) -> int:
    """How many times the Spark rule of ``node`` uses each operand's tree (at most)."""
    if isinstance(node, ir.Mask) or (isinstance(node, ir.Binary) and node.left.type.depth == node.right.type.depth == 1):
        return 2  # sizes compared, then zipped
    if isinstance(node, ir.Binary) and node.op in _COMPARISONS and _floating(node.left.type):
        return 2  # NaN guard
    if isinstance(node, ir.Binary) and node.op in ("/", "%") and not _floating(node.type):
        return 3  # zero test and truncation
    return 1


class SparkCompiler:
    """Compiles native IR subtrees to ``pyspark.sql.Column``; ``resolve`` gives a column by name."""

    def __init__(self, resolve: Resolve) -> None:
        from pyspark.sql import functions

        self.F = functions
        self.resolve = resolve
        self._costs: dict[int, tuple[Any, int]] = {}

    def try_compile(self, node: ir.Expr) -> Any | None:
        """The Spark column for ``node``, or None if any part of it is not native (or too large)."""
        if not native(node):
            return None
        rule = SPARK_RULES[node.op_key]
        if rule.own_operands:
            return rule.build(self, node, [])
        operands = []
        for child in node.children():
            compiled = self.try_compile(child)
            if compiled is None:
                return None
            operands.append(compiled)
        cost = 1 + _references(node) * sum(self._cost(o) for o in operands)
        return self._measured(rule.build(self, node, operands), cost)

    def _cost(self, column: Any) -> int:
        return self._costs.get(id(column), (None, 1))[1]

    def _measured(self, column: Any, cost: int) -> Any | None:
        """``column`` if its expression tree stays small, else None (the subtree runs in the Python task).

        Rules that use an operand twice (sizes of two RVecs, NaN guards, Define columns used twice)
        copy its whole tree; nested, they grow exponentially in Spark's plan.
        """
        if cost > MAX_NATIVE_SIZE:
            return None
        self._costs[id(column)] = (column, cost)  # the column is kept alive: its id stays unique
        return column

    def _short_circuit(self, op: str, terms: list) -> Any:
        """C++'s left-to-right ``&&``/``||`` with each term used once (see PolarsCompiler._short_circuit).

        The first term that does not pass decides; if it is null (undefined) so is the result, where
        SQL's three-valued ``null AND false`` would say false.
        """
        F, n = self.F, len(terms)
        keys = []
        for i, term in enumerate(terms):
            true_key, false_key, undefined_key = ir.short_circuit_keys(op, i, n)
            keyed = term.cast("bigint") * F.lit(true_key - false_key) + F.lit(false_key)
            keys.append(F.coalesce(keyed, F.lit(undefined_key).cast("bigint")))
        first = keys[0] if n == 1 else F.least(*keys)
        # key % 3: 0 true, 1 false, 2 undefined; 1 / (2 - r) is 0.5, 1 or null (try_divide: ANSI-safe).
        return F.try_divide(F.lit(1.0), (F.lit(2) - first % 3).cast("double")) < F.lit(1.0)

    # -- helpers of the rules -----------------------------------------------------------------
    def _cast(self, x, src: CType, dst: CType):
        if dst.scalar is Scalar.BOOL:
            return x != self.F.lit(0).cast(spark_type(src.element)) if src.scalar is not Scalar.BOOL else x
        return x.cast(spark_type(dst.element))

    def _elementwise(self, types: list[CType], ops: list, fn: Callable) -> Any:
        """Apply ``fn`` to scalars, or element-wise over the RVec operands (scalars broadcast)."""
        F = self.F
        rvecs = [i for i, t in enumerate(types) if t.depth == 1]
        if not rvecs:
            return fn(*ops)
        if len(rvecs) == 1:
            i = rvecs[0]
            return F.transform(ops[i], lambda x: fn(*[x if k == i else o for k, o in enumerate(ops)]))
        a, b = ops
        zipped = F.zip_with(a, b, fn)
        return F.when(F.size(a) == F.size(b), zipped)  # ROOT throws on a length mismatch: null here

    def _binary(self, node: ir.Binary, ops: list) -> Any:
        F, t, op = self.F, node.type, node.op
        a, b = ops
        floating = _floating(node.left.type)
        out_type = spark_type(t.element)

        def compare(x, y):
            result = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y, "==": x == y, "!=": x != y}[op]
            if floating:  # Spark orders NaN above all numbers; C++ compares it false
                nan = F.isnan(x) | F.isnan(y)
                result = (result | nan) if op == "!=" else (result & ~nan)
            return result.cast(out_type) if t.depth else result

        def arithmetic(x, y):
            if _floating(t):
                return {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[op].cast(out_type)
            # 32-bit integers: computed exactly in bigint, then wrapped as ROOT's int arithmetic
            # does in practice (no overflow error, whatever spark.sql.ansi.enabled says).
            x, y = x.cast("bigint"), y.cast("bigint")
            if op == "/":  # C++ truncates toward zero
                return F.when(y != 0, self._wrap(((x - x % y) / y).cast("bigint"), t))
            if op == "%":  # Java's remainder truncates, as C++'s does
                return F.when(y != 0, self._wrap(x % y, t))
            return self._wrap({"+": x + y, "-": x - y, "*": x * y}[op], t)

        fn = compare if op in _COMPARISONS else arithmetic
        return self._elementwise([node.left.type, node.right.type], ops, fn)

    def _wrap(self, wide, t: CType):
        """A bigint holding an exact 32-bit (or narrower) result, wrapped into ``t`` (two's complement)."""
        bits = 8 * t.scalar.dtype.itemsize
        half = self.F.lit(1 << (bits - 1)).cast("bigint")
        return (self.F.pmod(wide + half, self.F.lit(1 << bits).cast("bigint")) - half).cast(spark_type(t.element))
