"""The numpy reference evaluator: the semantics oracle that every engine is tested against.

It evaluates typed IR on :mod:`~hepframe.engines.values` (numpy arrays and jagged
counts+values), vectorized over events, operation by operation as C++/ROOT defines them.
The Polars engine reuses :func:`apply_op` for the operations it has no native form for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hepframe import udfs
from hepframe.engines import vecops
from hepframe.engines.values import Data, Jagged, Value, merge_valid, starts_of
from hepframe.errors import EventError, UnsupportedOperationError
from hepframe.expr import ir
from hepframe.expr.types import CType, Scalar
from hepframe.udfs import cmath

# -- element-wise helpers --------------------------------------------------------------


def _first_jagged(args: list[Data]) -> Jagged | None:
    for a in args:
        if isinstance(a, Jagged):
            return a
    return None


def check_same_counts(args: list[Data], valid: np.ndarray | None, entries: np.ndarray, what: str) -> None:
    """ROOT throws when RVecs of different sizes meet element-wise; so do we, naming the entry."""
    jagged = [a for a in args if isinstance(a, Jagged)]
    for other in jagged[1:]:
        if _same_offsets(jagged[0], other):
            continue
        bad = jagged[0].counts != other.counts
        if valid is not None:
            bad &= valid
        if bad.any():
            i = int(np.argmax(bad))
            raise EventError(
                f"{what}: RVecs of different sizes ({jagged[0].counts[i]} and {other.counts[i]}) "
                f"in entry {int(entries[i])}"
            )


def _same_offsets(a: Jagged, b: Jagged) -> bool:
    """Cheap proof that two RVec columns have equal sizes everywhere: equal offsets, when both are known."""
    oa, ob = a.__dict__.get("offsets"), b.__dict__.get("offsets")
    return oa is not None and ob is not None and (oa is ob or (len(oa) == len(ob) and np.array_equal(oa, ob)))


def elementwise(func: Callable[..., np.ndarray], args: list[Data], valid, entries, what: str) -> Data:
    """Apply ``func`` element by element, broadcasting per-event scalars into RVecs."""
    shape = _first_jagged(args)
    if shape is None:
        return func(*args)
    check_same_counts(args, valid, entries, what)
    flat: list[Any] = []
    for a in args:
        if isinstance(a, Jagged):
            flat.append(a.values)
        elif np.ndim(a) == 0:
            flat.append(a)
        else:
            flat.append(np.repeat(a, shape.counts))
    return shape.with_values(func(*flat))


def _astype(data: Data, dtype: np.dtype) -> Data:
    if isinstance(data, Jagged):
        return data.with_values(_astype(data.values, dtype))
    with np.errstate(all="ignore"):
        source = np.asarray(data)
        if source.dtype == dtype and np.ndim(data):
            return source  # values are never modified in place: no copy
        if dtype == np.bool_:
            return source != 0
        if dtype == np.uint64 and source.dtype.kind == "f":  # x86-64: out of range gives 2**63
            bad = ~((source >= 0) & (source < 2.0**64))
            out = np.where(bad, 0, source).astype(np.uint64)
            out = np.where(bad, np.uint64(2**63), out)
            return out if np.ndim(data) else dtype.type(out)
        return source.astype(dtype) if np.ndim(data) else dtype.type(data)


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C++ integer division truncates toward zero (numpy's // floors)."""
    safe_b = np.where(b == 0, 1, b).astype(np.result_type(b))
    q = np.floor_divide(a, safe_b)
    if np.issubdtype(q.dtype, np.signedinteger):
        q = q + ((np.remainder(a, safe_b) != 0) & ((a < 0) != (safe_b < 0))).astype(q.dtype)
    return q


def _round_half_away(x: np.ndarray) -> np.ndarray:
    t = np.trunc(x)
    frac = x - t  # exact
    return np.where(np.abs(frac) >= 0.5, t + np.sign(x).astype(t.dtype), t)  # keeps -0.0 as C's round does


_UNARY_MATH: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sqrt": np.sqrt, "cbrt": cmath.cbrt, "exp": cmath.exp, "exp2": cmath.exp2, "expm1": cmath.expm1,
    "log": cmath.log, "log10": cmath.log10, "log2": cmath.log2, "log1p": cmath.log1p, "sin": cmath.sin,
    "cos": cmath.cos, "tan": cmath.tan, "asin": cmath.asin, "acos": cmath.acos, "atan": cmath.atan,
    "sinh": cmath.sinh, "cosh": cmath.cosh, "tanh": cmath.tanh, "asinh": cmath.asinh, "acosh": cmath.acosh,
    "atanh": cmath.atanh, "floor": np.floor, "ceil": np.ceil, "round": _round_half_away, "trunc": np.trunc,
    "erf": cmath.erf, "erfc": cmath.erfc, "abs": np.abs, "fabs": np.abs,
}  # fmt: skip
_BINARY_MATH: dict[str, Callable[..., np.ndarray]] = {"pow": cmath.pow, "atan2": cmath.atan2, "hypot": cmath.hypot, "fmod": np.fmod}
def _shift(func):
    """x86 masks the shift count to the operand's width (C++ leaves larger counts undefined)."""

    def shift(a, b):
        bits = np.asarray(a).dtype.itemsize * 8
        return func(a, np.bitwise_and(b, bits - 1).astype(np.asarray(a).dtype))

    return shift


_NUMPY_BINARY = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "<<": _shift(np.left_shift), ">>": _shift(np.right_shift),
    "&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor, "<": np.less, "<=": np.less_equal,
    ">": np.greater, ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal,
}  # fmt: skip


class Context:
    """What an operation needs besides its arguments: event count and entry numbers."""

    def __init__(self, n: int, entries: np.ndarray):
        self.n = n
        self.entries = entries


def apply_op(node: ir.Expr, args: list[Value], ctx: Context) -> Value:
    """Evaluate one IR node on already-evaluated children (in ``node.children()`` order)."""
    valid = merge_valid(*(a.valid for a in args))
    data = [a.data for a in args]
    what = f"{node.op_key}"
    dtype = node.type.scalar.dtype

    if isinstance(node, ir.Cast):
        return Value(_astype(data[0], dtype), valid)
    if isinstance(node, ir.Unary):
        func = {"-": np.negative, "~": np.invert, "!": np.logical_not}[node.op]
        with np.errstate(all="ignore"):
            # RVec<T> unary operators convert back to T (e.g. !RVec<float> holds 0.f and 1.f).
            return Value(_astype(elementwise(func, data, valid, ctx.entries, what), dtype), valid)
    if isinstance(node, ir.Binary):
        return _binary(node, args, data, valid, ctx)
    if isinstance(node, ir.Ternary):
        return _ternary(node, args, ctx)
    if isinstance(node, ir.Index):
        return _index(node, args[0], args[1], ctx)
    if isinstance(node, ir.Mask):
        value, mask = data
        assert isinstance(value, Jagged) and isinstance(mask, Jagged)
        check_same_counts([value, mask], valid, ctx.entries, "v[mask]")
        return Value(vecops.select(value, mask.values), valid)
    if isinstance(node, ir.Call):
        return _call(node, data, valid, ctx)
    raise UnsupportedOperationError(f"the reference evaluator cannot evaluate {type(node).__name__}")


def _binary(node: ir.Binary, args: list[Value], data: list[Data], valid, ctx: Context) -> Value:
    op = node.op
    is_int = node.left.type.scalar.is_integral
    if op in ("&&", "||") and not node.type.is_rvec:
        # Scalar && and || short-circuit.
        (a, b), (va, vb) = data, (args[0].valid, args[1].valid)
        a = np.broadcast_to(np.asarray(a, dtype=np.bool_), (ctx.n,))
        b = np.broadcast_to(np.asarray(b, dtype=np.bool_), (ctx.n,))
        va = np.ones(ctx.n, np.bool_) if va is None else va
        vb = np.ones(ctx.n, np.bool_) if vb is None else vb
        # C++ evaluates left to right: a defined left operand that decides the result makes
        # the right operand irrelevant; an undefined left operand makes the result undefined.
        if op == "&&":
            result = a & b
            out_valid = va & (~a | vb)
        else:
            result = a | b
            out_valid = va & (a | vb)
        return Value(result, None if out_valid.all() else out_valid)
    func: Callable[..., Any]
    if op in ("&&", "||"):
        func = np.logical_and if op == "&&" else np.logical_or
        out = elementwise(func, data, valid, ctx.entries, f"operator {op}")
        return Value(_astype(out, np.dtype(np.int32)), valid)
    if op == "/" and not is_int:
        with np.errstate(all="ignore"):
            return Value(elementwise(np.divide, data, valid, ctx.entries, "operator /"), valid)
    if op in ("/", "%"):
        divisor = data[1]
        zero = elementwise(lambda b: b == 0, [divisor], None, ctx.entries, "")
        if isinstance(zero, Jagged):
            zero_events = np.zeros(ctx.n, np.bool_)
            np.logical_or.at(zero_events, np.repeat(np.arange(ctx.n), zero.counts), zero.values)
        else:
            zero_events = np.broadcast_to(zero, (ctx.n,))
        func = _int_div if op == "/" else (lambda a, b: np.fmod(a, np.where(b == 0, 1, b).astype(np.result_type(b))))
        with np.errstate(all="ignore"):
            out = elementwise(func, data, valid, ctx.entries, f"operator {op}")
        return Value(out, merge_valid(valid, ~zero_events if zero_events.any() else None))
    func = _NUMPY_BINARY[op]
    with np.errstate(all="ignore"):
        out = elementwise(func, data, valid, ctx.entries, f"operator {op}")
    if node.type.is_rvec and node.type.scalar is Scalar.INT and op in ("<", "<=", ">", ">=", "==", "!="):
        out = _astype(out, np.dtype(np.int32))
    return Value(out, valid)


def _ternary(node: ir.Ternary, args: list[Value], ctx: Context) -> Value:
    cond, then, other = args
    c = np.broadcast_to(np.asarray(cond.data, dtype=np.bool_), (ctx.n,))
    vc = np.ones(ctx.n, np.bool_) if cond.valid is None else cond.valid
    vt = np.ones(ctx.n, np.bool_) if then.valid is None else then.valid
    vo = np.ones(ctx.n, np.bool_) if other.valid is None else other.valid
    out_valid = vc & np.where(c, vt, vo)
    valid = None if out_valid.all() else out_valid
    if isinstance(then.data, Jagged) or isinstance(other.data, Jagged):
        t, o = then.data, other.data
        assert isinstance(t, Jagged) and isinstance(o, Jagged)
        counts = np.where(c, t.counts, o.counts)
        take_t = np.repeat(c, t.counts)
        take_o = np.repeat(~c, o.counts)
        # Interleave the chosen elements in event order.
        values = np.empty(int(counts.sum()), dtype=t.values.dtype)
        starts = starts_of(counts)
        dest_t = np.repeat(starts[c], t.counts[c]) + _ranges(t.counts[c])
        dest_o = np.repeat(starts[~c], o.counts[~c]) + _ranges(o.counts[~c])
        values[dest_t] = t.values[take_t]
        values[dest_o] = o.values[take_o]
        return Value(Jagged(counts, values), valid)
    return Value(np.where(c, then.data, other.data).astype(node.type.scalar.dtype), valid)


def _ranges(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each count, concatenated."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = starts_of(counts)
    return np.arange(total) - np.repeat(starts, counts)


def _index(node: ir.Index, value: Value, index: Value, ctx: Context) -> Value:
    v = value.data
    assert isinstance(v, Jagged)
    i = np.broadcast_to(np.asarray(index.data, dtype=np.int64), (ctx.n,))
    ok = (i >= 0) & (i < v.counts)
    pos = v.offsets[:-1] + np.where(ok, i, 0)
    if isinstance(v.values, Jagged):  # RVec<RVec<T>>[i] is the i-th inner RVec
        inner = v.values
        if len(inner.counts):
            rows = np.where(ok, pos, 0)
            picked = inner.take(rows)
            picked = Jagged(np.where(ok, picked.counts, 0), picked.values if ok.all() else inner.take(rows[ok]).values)
        else:
            picked = Jagged(np.zeros(ctx.n, dtype=np.int64), inner.values[:0])
        return Value(picked, merge_valid(value.valid, index.valid, None if ok.all() else ok))
    if v.values.size:
        out = v.values[np.where(ok, pos, 0)]
    else:
        out = np.zeros(ctx.n, dtype=v.values.dtype)
    valid = merge_valid(value.valid, index.valid, None if ok.all() else ok)
    return Value(out, valid)


def _reduce(fn: str, v: Jagged, result: CType) -> tuple[np.ndarray, np.ndarray | None]:
    if fn == "Sum":
        return udfs.reduce_sum(v.offsets, v.values, result.scalar.dtype), None
    if fn == "Mean":
        return udfs.reduce_mean(v.offsets, v.values), None
    if fn in ("Max", "Min"):
        out, ok = (udfs.reduce_max if fn == "Max" else udfs.reduce_min)(v.offsets, v.values)
        return out, (None if ok.all() else ok)
    nonzero = v.values != 0
    if fn == "Any":
        return np.logical_or.reduceat(np.append(nonzero, False), v.offsets[:-1]) & (v.counts > 0), None
    if fn == "All":
        return ~np.logical_or.reduceat(np.append(~nonzero, False), v.offsets[:-1]) | (v.counts == 0), None
    if fn == "size":
        return v.counts.astype(np.uint64), None
    raise UnsupportedOperationError(f"reduction {fn}")


def _call(node: ir.Call, data: list[Data], valid, ctx: Context) -> Value:
    fn = node.func
    if fn.startswith("udf:"):
        from hepframe.udf import lookup_udf

        udf = lookup_udf(fn[4:])
        if udf is None:
            raise UnsupportedOperationError(f"Python UDF {fn[4:]!r} is no longer registered")
        result = udf.evaluate([Value(d) for d in data], ctx.n, ctx.entries)
        return Value(result.data, valid)
    if fn in _UNARY_MATH:
        with np.errstate(all="ignore"):
            out = elementwise(_UNARY_MATH[fn], data, valid, ctx.entries, fn)
        return Value(_astype(out, node.type.scalar.dtype), valid)
    if fn in _BINARY_MATH:
        with np.errstate(all="ignore"):
            out = elementwise(_BINARY_MATH[fn], data, valid, ctx.entries, fn)
        return Value(_astype(out, node.type.scalar.dtype), valid)
    if fn in ("Sum", "Mean", "Max", "Min", "Any", "All", "size"):
        v = data[0]
        assert isinstance(v, Jagged)
        out, ok = _reduce(fn, v, node.type)
        return Value(out, merge_valid(valid, ok))
    if fn in ("DeltaPhi", "DeltaR"):
        n_angles = 2 if fn == "DeltaPhi" else 4
        c = _constant_arg(data[n_angles], fn) if len(data) > n_angles else np.pi
        if fn == "DeltaPhi":
            out = elementwise(lambda a, b: udfs.delta_phi(a, b, c), data[:2], valid, ctx.entries, fn)
        else:
            out = elementwise(lambda e1, e2, p1, p2: udfs.delta_r(e1, e2, p1, p2, c), data[:4], valid, ctx.entries, fn)
        return Value(out, valid)
    if fn == "IsAvailable":  # defined everywhere: the answer is the validity itself
        return Value(np.ones(ctx.n, np.bool_) if valid is None else valid.copy())
    if fn == "DefaultValue":
        if valid is None:
            return Value(_astype(data[0], node.type.scalar.dtype))
        default = np.asarray(data[1])
        return Value(np.where(valid, np.broadcast_to(np.asarray(data[0]), (ctx.n,)), default).astype(node.type.scalar.dtype))
    if fn in _VECOPS_CALLS:
        out, ok = _VECOPS_CALLS[fn](node, data, ctx)
        return Value(out, merge_valid(valid, ok))
    if fn == "InvariantMasses":
        check_same_counts(data, valid, ctx.entries, fn)
        return Value(elementwise(vecops.invariant_masses, data, valid, ctx.entries, fn), valid)
    if fn == "DeltaR2":
        c = _constant_arg(data[4], fn) if len(data) > 4 else np.pi
        out = elementwise(lambda e1, e2, p1, p2: vecops.delta_r2(e1, e2, p1, p2, c), data[:4], valid, ctx.entries, fn)
        return Value(out, valid)
    if fn == "Where":
        out = vecops.where(data[0], data[1], data[2], node.type.scalar.dtype,  # type: ignore[arg-type]
                           lambda f, args: elementwise(f, args, valid, ctx.entries, fn))  # fmt: skip
        return Value(out, valid)
    if fn == "InvariantMass":
        check_same_counts(data, valid, ctx.entries, fn)
        pt, eta, phi, mass = data
        assert isinstance(pt, Jagged)
        return Value(udfs.invariant_mass(pt.offsets, pt.values, eta.values, phi.values, mass.values), valid)  # type: ignore[union-attr]
    raise UnsupportedOperationError(f"the reference evaluator has no implementation of {fn!r}")


def _jag(x: Data) -> Jagged:
    assert isinstance(x, Jagged)
    return x


_VECOPS_CALLS: dict[str, Callable[[ir.Call, list[Data], Context], tuple[Data, np.ndarray | None]]] = {
    "Product": lambda node, d, ctx: vecops.product(_jag(d[0]), node.type.scalar.dtype),
    "Var": lambda node, d, ctx: vecops.var(_jag(d[0])),
    "StdDev": lambda node, d, ctx: vecops.std_dev(_jag(d[0])),
    "ArgMin": lambda node, d, ctx: vecops.arg_extreme(_jag(d[0]), want_max=False),
    "ArgMax": lambda node, d, ctx: vecops.arg_extreme(_jag(d[0]), want_max=True),
    "Sort": lambda node, d, ctx: vecops.sort(_jag(d[0])),
    "Reverse": lambda node, d, ctx: vecops.reverse(_jag(d[0])),
    "Argsort": lambda node, d, ctx: vecops.argsort(_jag(d[0])),
    "StableArgsort": lambda node, d, ctx: vecops.argsort(_jag(d[0])),
    "Take": lambda node, d, ctx: (
        vecops.take_indices(_jag(d[0]), d[1], d[2] if len(d) > 2 else None)
        if isinstance(d[1], Jagged)
        else vecops.take_n(_jag(d[0]), d[1], d[2] if len(d) > 2 else None)
    ),
    "Drop": lambda node, d, ctx: vecops.drop(_jag(d[0]), _jag(d[1])),
    "Nonzero": lambda node, d, ctx: vecops.nonzero(_jag(d[0])),
    "Intersect": lambda node, d, ctx: vecops.intersect(_jag(d[0]), _jag(d[1])),
    "Concatenate": lambda node, d, ctx: vecops.concatenate(_jag(d[0]), _jag(d[1]), node.type.scalar.dtype),
    "Combinations": lambda node, d, ctx: (
        vecops.cartesian(_jag(d[0]), d[1]) if isinstance(d[1], Jagged) else vecops.combinations(_jag(d[0]), d[1])
    ),
    "Enumerate": lambda node, d, ctx: vecops.enumerate_(_jag(d[0])),
    "Range": lambda node, d, ctx: vecops.range_(d[0], d[1] if len(d) > 1 else None, ctx.n),
    "Arange": lambda node, d, ctx: vecops.arange(d[0], d[1], d[2], ctx.n, node.type.scalar.dtype),
    "RVecOf": lambda node, d, ctx: vecops.rvec_of(d, ctx.n, node.type.scalar.dtype),
    "RVec": lambda node, d, ctx: vecops.filled(d[0], d[1], ctx.n, node.type.scalar.dtype),
}


def _constant_arg(data: Data, fn: str) -> float:
    if isinstance(data, Jagged) or np.ndim(data) != 0:
        raise UnsupportedOperationError(f"{fn}: the period argument c must be a constant, e.g. M_PI or 180.")
    return float(data)  # type: ignore[arg-type]


def _literal(node: ir.Literal) -> Data:
    return node.type.scalar.dtype.type(node.value)


def _subset(value: Value, rows: np.ndarray) -> Value:
    data = value.data
    if isinstance(data, Jagged):
        data = data.take(rows)
    elif np.ndim(data):
        data = np.asarray(data)[rows]
    return Value(data, None if value.valid is None else value.valid[rows])


def _scatter(value: Value, rows: np.ndarray, n: int) -> Value:
    """A value computed on ``rows`` placed back among ``n`` events (others: empty/zero, never chosen)."""
    data = value.data
    if isinstance(data, Jagged):
        counts = np.zeros(n, dtype=np.int64)
        counts[rows] = data.counts
        data = Jagged(counts, data.values)
    elif np.ndim(data):
        full = np.zeros(n, dtype=np.asarray(data).dtype)
        full[rows] = data
        data = full
    valid = None
    if value.valid is not None:
        valid = np.ones(n, dtype=np.bool_)
        valid[rows] = value.valid
    return Value(data, valid)


def _evaluate_on(expr: ir.Expr, columns: Mapping[str, Value], ctx: Context, rows: np.ndarray) -> Value:
    """Evaluate ``expr`` only for the events ``rows``, as C++ evaluates only the branch it takes."""
    names = ir.free_columns(expr)
    sub = {name: _subset(columns[name], rows) for name in names if name in columns}
    result = evaluate(expr, sub, Context(int(rows.sum()), ctx.entries[rows]), {})
    return _scatter(result, rows, ctx.n)


def _defined_true(value: Value, n: int) -> tuple[np.ndarray, np.ndarray]:
    truth = np.broadcast_to(np.asarray(value.data, dtype=np.bool_), (n,))
    valid = np.ones(n, np.bool_) if value.valid is None else value.valid
    return truth, valid


def _logical_chain(node: ir.Expr, op: str) -> list[ir.Expr]:
    """The operands of an RVec ``a op b op c`` chain, without the conversions to bool between them."""
    if isinstance(node, ir.Cast) and node.type.scalar is Scalar.BOOL and node.type.is_rvec == node.operand.type.is_rvec:
        node = node.operand
    if isinstance(node, ir.Binary) and node.op == op and node.type.is_rvec:
        return _logical_chain(node.left, op) + _logical_chain(node.right, op)
    return [node]


def evaluate(expr: ir.Expr, columns: Mapping[str, Value], ctx: Context, memo: dict | None = None) -> Value:
    """Evaluate ``expr`` over all events of ``columns``; shared subexpressions are computed once.

    ``?:`` and scalar ``&&``/``||`` evaluate their operands only for the events where C++ would,
    so an error in a branch not taken (e.g. RVecs of different sizes) does not surface.
    """
    memo = {} if memo is None else memo
    if expr in memo:
        return memo[expr]
    if isinstance(expr, ir.Column):
        result = columns[expr.name]
    elif isinstance(expr, ir.Literal):
        result = Value(_literal(expr))
    elif isinstance(expr, ir.Ternary):
        cond = evaluate(expr.cond, columns, ctx, memo)
        truth, valid = _defined_true(cond, ctx.n)
        then = _evaluate_on(expr.then, columns, ctx, truth & valid)
        other = _evaluate_on(expr.other, columns, ctx, ~truth & valid)
        result = apply_op(expr, [cond, then, other], ctx)
    elif isinstance(expr, ir.Binary) and expr.op in ("&&", "||") and expr.type.is_rvec:
        # a && b && c on RVecs: one fold over all operands (nonzero is true), no bool/int round trips.
        operands = [evaluate(o, columns, ctx, memo) for o in _logical_chain(expr, expr.op)]
        chain_valid = merge_valid(*(o.valid for o in operands))
        fold = np.logical_and if expr.op == "&&" else np.logical_or

        def fold_all(*flat):
            acc = fold(flat[0], flat[1])
            for x in flat[2:]:
                fold(acc, x, out=acc)
            return acc.astype(np.int32)  # RVec<int>, as ROOT's logical operators return

        data = elementwise(fold_all, [o.data for o in operands], chain_valid, ctx.entries, f"operator {expr.op}")
        result = Value(data, chain_valid)
    elif isinstance(expr, ir.Binary) and expr.op in ("&&", "||") and not expr.type.is_rvec:
        left = evaluate(expr.left, columns, ctx, memo)
        truth, valid = _defined_true(left, ctx.n)
        needed = valid & (truth if expr.op == "&&" else ~truth)
        right = _evaluate_on(expr.right, columns, ctx, needed)
        result = apply_op(expr, [left, right], ctx)
    else:
        result = apply_op(expr, [evaluate(c, columns, ctx, memo) for c in expr.children()], ctx)
    memo[expr] = result
    return result
