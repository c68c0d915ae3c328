"""Turn a syntax tree into typed IR against a column schema, applying C++ conversion rules."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from hepframe.errors import (
    ExpressionTypeError,
    UnknownColumnError,
    UnknownFunctionError,
    UnsupportedSyntaxError,
    did_you_mean,
)
from hepframe.expr import ir
from hepframe.expr import syntax as S
from hepframe.expr.functions import CONSTANTS, RANDOM_METHODS, SignatureError, known_names, lookup
from hepframe.expr.narrowing import FLIPPED, float_threshold
from hepframe.expr.parser import UDF_HINT, parse
from hepframe.expr.types import (
    BOOL,
    DOUBLE,
    INT,
    LONG,
    SIZE_T,
    STRING,
    TYPE_NAMES,
    UINT,
    CType,
    Scalar,
    common_scalar,
    integral_promotion,
)

if TYPE_CHECKING:
    from hepframe.expr.statements import StatementLowering

ENTRY_COLUMN = "rdfentry_"
SLOT_COLUMN = "rdfslot_"

_ARITHMETIC = {"+", "-", "*", "/"}
_INTEGER_ONLY = {"%", "&", "|", "^"}
_SHIFTS = {"<<", ">>"}
_COMPARISONS = {"<", "<=", ">", ">=", "==", "!="}
_LOGICAL = {"&&", "||"}
_MIN_MAX = {"std::min": "min", "std::max": "max", "TMath::Min": "min", "TMath::Max": "max"}
#: RVec logical chains nest one level per operand (see bind_Chain).
MAX_RVEC_CHAIN = 32


class UnsignedUnderflowWarning(UserWarning):
    """An unsigned subtraction compared with a number: it wraps around in C++ (and in hepframe)."""


class SumOverloadWarning(UserWarning):
    """``Sum(v, init)`` with ``init`` not of v's element type: ROOT counts the non-zero elements.

    ROOT 6.40 declares ``T Sum(const RVec<T>&, const T zero)``: for ``Sum(RVecF, 0.)`` the two
    deductions of T disagree, and C++ picks ``std::size_t Sum(const RVec<bool>&, std::size_t)``
    through RVec's conversion operator. hepframe computes the same (and warns).
    """


def convert_literal(value: int | float | bool, scalar: Scalar) -> int | float | bool:
    """Convert a literal value as a C++ conversion to ``scalar`` would."""
    if scalar is Scalar.BOOL:
        return bool(value)
    if not isinstance(value, float) and scalar.is_integral:  # integer to integer: modulo 2^bits, as C++ (from C++20)
        bits = scalar.dtype.itemsize * 8
        wrapped = int(value) % (1 << bits)
        return wrapped - (1 << bits) if not scalar.is_unsigned and wrapped >= 1 << (bits - 1) else wrapped
    source = np.array(value, dtype=np.float64 if isinstance(value, float) else (np.uint64 if value > 2**63 - 1 else np.int64))
    with np.errstate(all="ignore"):
        converted = source.astype(scalar.dtype)
    return converted.item()


class Binder:
    """Resolve names, check types and insert C++ conversions for one expression."""

    def __init__(self, schema: Mapping[str, CType], text: str):
        self.schema = schema
        self.text = text
        self.statements: StatementLowering | None = None  # the locals of a statement block (bind_Block)

    # -- errors ----------------------------------------------------------
    def type_error(self, message: str, node: S.Node) -> ExpressionTypeError:
        return ExpressionTypeError(message, self.text, node.pos)

    def unsupported_statement(self, construct: str, node: S.Node) -> UnsupportedSyntaxError:
        return UnsupportedSyntaxError(f"{construct} is not supported{UDF_HINT}", self.text, node.pos)

    # -- helpers ---------------------------------------------------------
    @staticmethod
    def cast(expr: ir.Expr, target: CType) -> ir.Expr:
        if expr.type == target:
            return expr
        if isinstance(expr, ir.Literal) and target.depth == 0:
            return ir.Literal(target, convert_literal(expr.value, target.scalar))
        return ir.Cast(target, expr)

    def require_arithmetic(self, expr: ir.Expr, node: S.Node, what: str) -> None:
        if not expr.type.scalar.is_arithmetic:
            raise self.type_error(f"{what} needs numeric operands, got {expr.type.short}", node)

    def broadcast_depth(self, a: ir.Expr, b: ir.Expr, node: S.Node, what: str) -> int:
        if a.type.depth and b.type.depth and a.type.depth != b.type.depth:
            raise self.type_error(f"{what} cannot combine {a.type.short} with {b.type.short}", node)
        return max(a.type.depth, b.type.depth)

    # -- dispatch --------------------------------------------------------
    def bind(self, node: S.Node) -> ir.Expr:
        method = getattr(self, f"bind_{type(node).__name__}")
        return method(node)

    def bind_Number(self, node: S.Number) -> ir.Expr:
        return ir.Literal(CType(node.scalar), node.value)

    def bind_BoolLiteral(self, node: S.BoolLiteral) -> ir.Expr:
        return ir.Literal(BOOL, node.value)

    def bind_StringLiteral(self, node: S.StringLiteral) -> ir.Expr:
        return ir.Literal(STRING, node.value)  # type: ignore[arg-type]

    def bind_Name(self, node: S.Name) -> ir.Expr:
        name = node.name
        if self.statements is not None:
            scope = self.statements.scope_of(name)
            if scope is not None:
                return self.statements.read_local(name, scope[name], node)
        if name in self.schema:
            return ir.Column(self.schema[name], name)
        if name == ENTRY_COLUMN:
            return ir.Column(SIZE_T, ENTRY_COLUMN)
        if name == SLOT_COLUMN:
            return ir.Literal(UINT, 0)
        if name in CONSTANTS:
            return ir.Literal(DOUBLE, CONSTANTS[name])
        if lookup(name) is not None:
            raise self.type_error(f"function {name!r} must be called, e.g. {name}(...)", node)
        if name == "gRandom":
            raise self.type_error("gRandom is ROOT's random generator: call a method, e.g. gRandom->Gaus(0, 1)", node)
        raise UnknownColumnError(
            f"unknown column {name!r}{did_you_mean(name, self.schema)}", self.text, node.pos, len(name)
        )

    def bind_SizeOf(self, node: S.SizeOf) -> ir.Expr:
        value = self.bind_Name(S.Name(node.pos, node.name))
        if not value.type.is_rvec:
            raise self.type_error(f"#{node.name} needs a collection column, but {node.name!r} is {value.type.short}", node)
        return ir.Call(SIZE_T, "size", (value,))

    def bind_Unary(self, node: S.Unary) -> ir.Expr:
        return self.unary_op(node.op, self.bind(node.operand), node)

    def unary_op(self, op: str, operand: ir.Expr, node: S.Node) -> ir.Expr:
        """``op operand`` with C++'s promotions (``node`` locates errors)."""
        self.require_arithmetic(operand, node, f"operator {op}")
        t = operand.type
        if t.depth:
            # ROOT's RVec unary operators return RVec<T> with the element type unchanged.
            if op == "~" and not t.scalar.is_integral:
                raise self.type_error(f"operator ~ needs an integer operand, got {t.short}", node)
            if t.scalar is Scalar.BOOL and op in ("-", "~"):
                # In C++, -b and ~b on a bool element convert back to bool: -b == b, ~b == true.
                raise self.type_error(f"operator {op} on {t.short} is almost certainly a mistake; use ! for logical not", node)
            return operand if op == "+" else ir.Unary(t, op, operand)
        if op == "!":
            return ir.Unary(BOOL, "!", self.cast(operand, BOOL))
        if op == "~" and not t.scalar.is_integral:
            raise self.type_error(f"operator ~ needs an integer operand, got {t.short}", node)
        promoted = t.with_scalar(integral_promotion(t.scalar))
        operand = self.cast(operand, promoted)
        if op == "+":
            return operand
        if isinstance(operand, ir.Literal) and op == "-":
            return ir.Literal(promoted, convert_literal(-operand.value, promoted.scalar))
        return ir.Unary(promoted, op, operand)

    def bind_Chain(self, node: S.Chain) -> ir.Expr:
        """A chain of one logical operator, grouped as C++ evaluates it.

        Scalar ``&&``/``||`` short-circuit and are associative, so a chain of any length becomes a
        balanced tree (log2 N deep). An RVec operand makes the operator element-wise without
        short-circuit, where grouping matters: such chains keep C++'s left-to-right grouping.
        """
        operands = [self.bind(o) for o in node.operands]

        def balanced(lo: int, hi: int) -> S.Node:
            if hi - lo == 1:
                return node.operands[lo]
            mid = (lo + hi) // 2
            return S.Binary(node.positions[mid - 1], node.op, balanced(lo, mid), balanced(mid, hi))

        if not any(o.type.is_rvec for o in operands):
            return self.bind(balanced(0, len(operands)))
        if len(operands) > MAX_RVEC_CHAIN:
            raise self.type_error(
                f"a chain of {len(operands)} {node.op} operands involving RVecs (at most {MAX_RVEC_CHAIN}); "
                "split it into several Defines", node)  # fmt: skip
        tree = node.operands[0]
        for position, operand in zip(node.positions, node.operands[1:], strict=True):
            tree = S.Binary(position, node.op, tree, operand)
        return self.bind(tree)

    def bind_Binary(self, node: S.Binary) -> ir.Expr:
        return self.binary_op(node.op, self.bind(node.left), self.bind(node.right), node)

    def binary_op(self, op: str, left: ir.Expr, right: ir.Expr, node: S.Node) -> ir.Expr:
        """``left op right`` with C++'s usual arithmetic conversions (``node`` locates errors)."""
        for side in (left, right):
            if not side.type.scalar.is_arithmetic:
                verb = "compare" if op in _COMPARISONS else f"apply {op!r} to"
                raise self.type_error(f"cannot {verb} {left.type.short} and {right.type.short}", node)
        depth = self.broadcast_depth(left, right, node, f"operator {op}")
        if depth > 1:
            raise self.type_error(f"operator {op} on {left.type.short} is not supported", node)
        if op in _LOGICAL:
            left = self.cast(left, left.type.with_scalar(Scalar.BOOL))
            right = self.cast(right, right.type.with_scalar(Scalar.BOOL))
            return ir.Binary(BOOL if depth == 0 else CType(Scalar.INT, depth), op, left, right)
        if op in _SHIFTS:
            for side in (left, right):
                if not side.type.scalar.is_integral:
                    raise self.type_error(f"operator {op} needs integer operands, got {side.type.short}", node)
            s = integral_promotion(left.type.scalar)
        else:
            s = common_scalar(left.type.scalar, right.type.scalar)
            if op in _INTEGER_ONLY and not s.is_integral:
                hint = " (use fmod for floating-point remainders)" if op == "%" else ""
                raise self.type_error(
                    f"operator {op} needs integer operands, got {left.type.short} and {right.type.short}{hint}", node
                )
        left = self.cast(left, left.type.with_scalar(s))
        right = self.cast(right, right.type.with_scalar(s))
        if op in _COMPARISONS:
            self.warn_unsigned_underflow(left, right, node)
            # ROOT's RVec comparisons return RVec<int> (not RVec<bool>).
            return narrow_comparison(ir.Binary(BOOL if depth == 0 else CType(Scalar.INT, depth), op, left, right))
        return ir.Binary(CType(s, depth), op, left, right)

    def warn_unsigned_underflow(self, left: ir.Expr, right: ir.Expr, node: S.Node) -> None:
        for side in (left, right):
            if isinstance(side, ir.Cast):  # 'n - 3 > 0.5': the wrapped result is converted afterwards
                side = side.operand
            if isinstance(side, ir.Binary) and side.op == "-" and side.type.scalar.is_unsigned:
                warnings.warn(
                    f"unsigned subtraction in {self.text!r} wraps around below zero (C++ semantics, "
                    f"as in ROOT); compare before subtracting, e.g. 'n > 3' instead of 'n - 3 > 0'",
                    UnsignedUnderflowWarning,
                    stacklevel=6,
                )

    def bind_Conditional(self, node: S.Conditional) -> ir.Expr:
        cond = self.bind(node.cond)
        then, other = self.bind(node.then), self.bind(node.other)
        if cond.type.is_rvec:
            raise self.type_error(
                f"the condition of ?: must be a scalar, got {cond.type.short} (use Where(cond, a, b) for RVecs)",
                node,
            )
        self.require_arithmetic(cond, node, "?:")
        cond = self.cast(cond, BOOL)
        for side in (then, other):
            self.require_arithmetic(side, node, "?:")
        if then.type.depth != other.type.depth:
            raise self.type_error(f"?: branches have incompatible types {then.type.short} and {other.type.short}", node)
        s = common_scalar(then.type.scalar, other.type.scalar)
        if then.type.scalar == other.type.scalar:
            s = then.type.scalar
        t = CType(s, then.type.depth)
        return ir.Ternary(t, cond, self.cast(then, t), self.cast(other, t))

    def bind_Call(self, node: S.Call) -> ir.Expr:
        if node.callee == "RVec":
            return self.bind_rvec_constructor(node)
        if node.callee == "RVecOf":
            return self.bind_rvec_list(node)
        if node.callee in CONSTANTS and not node.args:
            return ir.Literal(DOUBLE, CONSTANTS[node.callee])
        if node.callee in _MIN_MAX:
            return self.bind_min_max(node)
        fn = lookup(node.callee)
        if fn is None:
            from hepframe.udf import lookup_udf, registered_names, unusable_reason

            udf = lookup_udf(f"{node.callee}#{len(node.args)}") or lookup_udf(node.callee)  # C++ overloads by arity
            if udf is not None:
                return self.bind_udf_call(udf, node)
            reason = unusable_reason(node.callee)
            if reason is not None:
                raise UnsupportedSyntaxError(f"the declared function {node.callee!r} cannot be called in an expression: "
                                             f"{reason}", self.text, node.pos)  # fmt: skip
            raise UnknownFunctionError(
                f"unknown function {node.callee!r}{did_you_mean(node.callee, known_names() + registered_names())}",
                self.text, node.pos, len(node.callee),
            )  # fmt: skip
        lo, hi = fn.arity
        if not lo <= len(node.args) <= hi:
            expected = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.type_error(f"{fn.name} takes {expected} arguments, got {len(node.args)}", node)
        args = [self.bind(a) for a in node.args]
        if fn.name == "Sum" and len(args) == 2:
            return self.bind_sum_with_init(args[0], args[1], node)
        try:
            arg_types, result = fn.typing([a.type for a in args])
        except SignatureError as exc:
            raise self.type_error(str(exc), node) from None
        cast_args = tuple(self.cast(a, t) for a, t in zip(args, arg_types, strict=True))
        return ir.Call(result, fn.name, cast_args)

    def bind_min_max(self, node: S.Call) -> ir.Expr:
        """``std::min``/``std::max`` and ``TMath::Min``/``TMath::Max`` of two numbers, as their headers compute them.

        <algorithm>: ``min(a, b)`` is ``(b < a) ? b : a``, ``max(a, b)`` is ``(a < b) ? b : a``, and one T
        is deduced from both arguments (``std::min(x, 1.0)`` with a float ``x`` does not compile).
        TMath.h: ``Min(a, b)`` is ``a <= b ? a : b``, ``Max(a, b)`` is ``a >= b ? a : b`` (NaN picks
        the other argument), overloaded for each type: mixed types are ambiguous there.
        """
        name = node.callee
        if len(node.args) != 2:
            raise self.type_error(f"{name} takes 2 arguments here, got {len(node.args)}", node)
        a, b = (self.bind(x) for x in node.args)
        for x in (a, b):
            if x.type.depth or not x.type.scalar.is_arithmetic:
                raise self.type_error(f"{name} takes two numbers, got {a.type.short} and {b.type.short}", node)
        t = a.type
        if a.type != b.type:
            raise self.type_error(f"{name}({a.type.short}, {b.type.short}) does not compile in C++ (one type is "
                                  f"deduced, or the overload is ambiguous); convert one, e.g. {name}(x, 1.f)", node)  # fmt: skip
        if name.startswith("std::"):
            test = ir.Binary(BOOL, "<", b, a) if _MIN_MAX[name] == "min" else ir.Binary(BOOL, "<", a, b)
            return ir.Ternary(t, test, b, a)
        return ir.Ternary(t, ir.Binary(BOOL, "<=" if _MIN_MAX[name] == "min" else ">=", a, b), a, b)

    def bind_rvec_constructor(self, node: S.Call) -> ir.Expr:
        """``ROOT::RVec<T>()``, ``RVec<T>(n)``, ``RVec<T>(n, value)`` and ``RVec<T>(other_rvec)``."""
        assert node.template is not None
        element = template_ctype(node.template)
        if element.depth:
            raise UnsupportedSyntaxError("RVec<RVec<T>>(...) constructors are not supported; use RVec<RVec<T>>{...}",
                                         self.text, node.pos)  # fmt: skip
        target = CType(element.scalar, 1)
        args = [self.bind(a) for a in node.args]
        if len(args) == 1 and args[0].type.is_rvec:
            if args[0].type.depth != 1 or not args[0].type.scalar.is_arithmetic:
                raise self.type_error(f"cannot construct {target.short} from {args[0].type.short}", node)
            return self.cast(args[0], target)
        if len(args) > 2:
            raise UnsupportedSyntaxError(
                f"{target.short} takes (), (n) or (n, value); initializer lists are not supported", self.text, node.pos
            )
        for a in args:
            if a.type.is_rvec or not a.type.scalar.is_arithmetic:
                raise self.type_error(f"{target.short}(n, value) needs scalars, got {a.type.short}", node)
        if args and not args[0].type.scalar.is_integral:
            raise self.type_error(f"the size of {target.short}(n, ...) must be an integer, got {args[0].type.short}", node)
        size = self.cast(args[0], SIZE_T) if args else ir.Literal(SIZE_T, 0)
        fill = self.cast(args[1], element) if len(args) > 1 else ir.Literal(element, convert_literal(0, element.scalar))
        return ir.Call(target, "RVec", (size, fill))

    def bind_rvec_list(self, node: S.Call) -> ir.Expr:
        """``ROOT::RVecF{a, b, c}``: an RVec of scalars, or an RVec of RVecs (e.g. for Vary)."""
        assert node.template is not None
        element = template_ctype(node.template)
        args = [self.bind(a) for a in node.args]
        same = CType(element.scalar, element.depth + 1)
        if len(args) == 1 and args[0].type == same:  # RVecD{v} of an RVecD v is a copy (C++'s copy constructor)
            return args[0]
        if any(a.type.depth != element.depth for a in args):
            raise self.type_error(
                f"the items of RVec<{node.template}>{{...}} must be {CType(element.scalar, element.depth).short}", node
            )
        if not args:
            return ir.Call(CType(element.scalar, 1), "RVec", (ir.Literal(SIZE_T, 0), ir.Literal(element, 0)))
        depths = {a.type.depth for a in args}
        if len(depths) != 1 or depths.pop() > 1 or any(not a.type.scalar.is_arithmetic for a in args):
            raise self.type_error("the items of an RVec{...} list must all be scalars or all be RVecs", node)
        depth = args[0].type.depth
        cast = tuple(self.cast(a, CType(element.scalar, depth)) for a in args)
        return ir.Call(CType(element.scalar, depth + 1), "RVecOf", cast)

    def bind_udf_call(self, udf, node: S.Call) -> ir.Expr:
        args = [self.bind(a) for a in node.args]
        if udf.args is not None:
            signature = f"{udf.returns.short} {udf.name}({', '.join(t.short for t in udf.args)})"  # as declared
            if len(args) != len(udf.args):
                raise self.type_error(f"{signature} takes {len(udf.args)} arguments, got {len(args)}", node)
            for i, (a, t) in enumerate(zip(args, udf.args, strict=True)):
                if a.type.depth != t.depth or not a.type.scalar.is_arithmetic:
                    raise self.type_error(f"{signature}: argument {i + 1} must be {t.short}, got {a.type.short}", node)
            args = [self.cast(a, t) for a, t in zip(args, udf.args, strict=True)]
        return ir.Call(udf.returns, udf.op_key, tuple(args))

    def bind_Index(self, node: S.Index) -> ir.Expr:
        value, index = self.bind(node.value), self.bind(node.index)
        if not value.type.is_rvec:
            raise self.type_error(f"cannot index {value.type.short}: only RVec columns can be indexed", node)
        if not index.type.scalar.is_arithmetic:
            raise self.type_error(f"cannot index {value.type.short} with {index.type.short}", node)
        if index.type.is_rvec:
            if index.type.depth != value.type.depth:
                raise self.type_error(f"cannot mask {value.type.short} with {index.type.short}", node)
            return ir.Mask(value.type, value, self.cast(index, index.type.with_scalar(Scalar.BOOL)))
        if not index.type.scalar.is_integral:
            raise self.type_error(f"an index must be an integer, got {index.type.short}", node)
        return ir.Index(value.type.element, value, self.cast(index, LONG))

    def bind_Member(self, node: S.Member) -> ir.Expr:
        value = self.bind(node.value)
        if not value.type.is_rvec:
            raise self.type_error(f".{node.name}() needs an RVec, got {value.type.short}", node)
        expected = 1 if node.name == "at" else 0
        if len(node.args) != expected:
            raise self.type_error(f".{node.name}() takes {expected} arguments, got {len(node.args)}", node)
        size = ir.Call(SIZE_T, "size", (value,))
        if node.name == "size":
            return size
        if node.name == "empty":
            return ir.Binary(BOOL, "==", size, ir.Literal(SIZE_T, 0))
        if node.name == "front":
            return ir.Index(value.type.element, value, ir.Literal(LONG, 0))
        if node.name == "back":
            last = ir.Binary(LONG, "-", ir.Cast(LONG, size), ir.Literal(LONG, 1))
            return ir.Index(value.type.element, value, last)
        return self.bind_Index(S.Index(node.pos, node.value, node.args[0]))

    def bind_Cast(self, node: S.Cast) -> ir.Expr:
        operand = self.bind(node.operand)
        if node.type_name not in TYPE_NAMES:
            raise self.type_error(f"cannot cast to {node.type_name}; construct RVecs with ROOT::RVec<T>(...)", node)
        target = CType(TYPE_NAMES[node.type_name])
        if operand.type.is_rvec:
            raise self.type_error(f"cannot cast {operand.type.short} to {node.type_name}", node)
        self.require_arithmetic(operand, node, "a cast")
        return self.cast(operand, target)


    # -- Sum(v, init) and gRandom ---------------------------------------------
    def bind_sum_with_init(self, v: ir.Expr, init: ir.Expr, node: S.Node) -> ir.Expr:
        """ROOT 6.40's ``T Sum(const RVec<T>&, const T zero)`` and ``size_t Sum(const RVec<bool>&, size_t zero)``.

        ``std::accumulate`` from ``init``, left to right. The template needs ``init`` to have the element
        type exactly; otherwise C++ picks the RVec<bool> overload (see SumOverloadWarning).
        """
        if v.type.depth != 1 or not v.type.scalar.is_arithmetic:
            raise self.type_error(f"Sum needs an RVec argument, got {v.type.short}", node)
        if init.type.depth or not init.type.scalar.is_arithmetic:
            raise self.type_error(f"the initial value of Sum must be a number, got {init.type.short}", node)
        if v.type.scalar is Scalar.BOOL and init.type.scalar is Scalar.BOOL:  # template, T = bool
            return ir.Binary(BOOL, "||", init, ir.Call(BOOL, "Any", (v,)))  # bool(b + e) for each e
        if v.type.scalar is not init.type.scalar and v.type.scalar is not Scalar.BOOL:
            warnings.warn(
                f"Sum({v.type.short}, {init.type.short}) in {self.text!r} counts the non-zero elements, as in "
                f"ROOT: C++ calls Sum(const RVec<bool>&, std::size_t); write an initial value of type "
                f"{v.type.element.short} to sum",
                SumOverloadWarning,
                stacklevel=5,
            )
            v = self.cast(v, CType(Scalar.BOOL, 1))
        if v.type.scalar is Scalar.BOOL:
            return self.binary_op("+", self.cast(init, SIZE_T), ir.Call(SIZE_T, "Sum", (v,)), node)
        return self.fold_sum(init, v, node)

    def fold_sum(self, init: ir.Expr, terms: ir.Expr, node: S.Node) -> ir.Expr:
        """``((init + t[0]) + t[1]) + ...``, bit for bit as C++'s loop (``terms``: an RVec of init's type).

        Integer sums wrap, so any order gives the same bits: ``init + Sum(terms)``. The engines'
        floating-point Sum adds sequentially from +0.0, so ``Sum({init} ++ terms)`` computes
        ``(0.0 + init) + t[0] + ...``: the same, except that 0.0 + -0.0 is +0.0. From init = -0.0,
        C++ ends at -0.0 only when every term is -0.0 too, and that case is selected explicitly.
        """
        r = init.type
        total = ir.Call(r, "Sum", (terms,))
        if r.scalar.is_integral:
            if isinstance(init, ir.Literal) and init.value == 0:
                return total
            return self.cast(self.binary_op("+", init, total, node), r)
        negative_zero = isinstance(init, ir.Literal) and init.value == 0 and math.copysign(1.0, init.value) < 0
        if isinstance(init, ir.Literal) and init.value == 0 and not negative_zero:
            return total
        seeded = ir.Call(r, "Sum", (ir.Call(terms.type, "Concatenate", (ir.Call(terms.type, "RVecOf", (init,)), terms)),))
        if isinstance(init, ir.Literal) and not negative_zero:
            return seeded
        keeps_negative_zero: ir.Expr = ir.Call(BOOL, "All", (self.is_negative_zero(terms, node),))
        if not negative_zero:
            keeps_negative_zero = self.binary_op("&&", self.is_negative_zero(init, node), keeps_negative_zero, node)
        return ir.Ternary(r, keeps_negative_zero, init, seeded)

    def is_negative_zero(self, x: ir.Expr, node: S.Node) -> ir.Expr:
        """``x == 0 && 1 / x < 0`` (IEEE: 1 / -0.0 is -inf), element-wise for an RVec."""
        zero, one = ir.Literal(CType(x.type.scalar), 0.0), ir.Literal(CType(x.type.scalar), 1.0)
        is_zero = self.binary_op("==", x, zero, node)
        negative = self.binary_op("<", self.binary_op("/", one, x, node), zero, node)
        return self.binary_op("&&", is_zero, negative, node)

    def bind_RandomCall(self, node: S.RandomCall) -> ir.Expr:
        """``gRandom->Method(args)``: a RandomDraw at the position of ``gRandom`` (never folded or merged)."""
        width = len(node.method)
        if node.method == "SetSeed":
            raise UnsupportedSyntaxError("gRandom->SetSeed(...) inside an expression is not supported: set the seed "
                                         "from Python: ROOT.gRandom.SetSeed(n)", self.text, node.method_pos, width)  # fmt: skip
        method = RANDOM_METHODS.get(node.method)
        if method is None:
            raise UnknownFunctionError(
                f"gRandom->{node.method} is not supported{did_you_mean(node.method, RANDOM_METHODS)} (hepframe draws "
                f"{', '.join(RANDOM_METHODS)})", self.text, node.method_pos, width)  # fmt: skip
        if not method.min_args <= len(node.args) <= len(method.params):
            expected = f"{method.min_args} to {len(method.params)}" if method.params else "no"
            raise self.type_error(f"gRandom->{node.method} takes {expected} arguments, got {len(node.args)}", node)
        if self.statements is not None:
            self.statements.check_draw(node)
        args: list[ir.Expr] = []
        for arg, param in zip(node.args, method.params, strict=False):
            value = self.bind(arg)
            if value.type.depth or not value.type.scalar.is_arithmetic:
                raise self.type_error(f"gRandom->{node.method} takes numbers, got {value.type.short} (TRandom draws "
                                      "one number per call)", node)  # fmt: skip
            args.append(self.cast(value, param))
        for k in range(len(args), method.min_args + len(method.defaults)):  # C++ default arguments
            args.append(ir.Literal(method.params[k], method.defaults[k - method.min_args]))
        if self.statements is not None:
            self.statements.record_draw(node)
        return ir.RandomDraw(method.result, node.method, tuple(args), node.pos)

    # -- statement blocks ------------------------------------------------------------------
    def bind_Block(self, node: S.Block) -> ir.Expr:
        """A body with statements, lowered to one expression (see :mod:`hepframe.expr.statements`)."""
        if self.statements is None:
            from hepframe.expr.statements import StatementLowering  # it imports this module

            self.statements = StatementLowering(self)
        return self.statements.lower(node)


def template_ctype(spec: str) -> CType:
    """The C++ type named by a parsed template argument, e.g. ``float`` or ``RVec<RVec<float>>``."""
    depth = 0
    while spec.startswith("RVec<") and spec.endswith(">"):
        spec, depth = spec[5:-1], depth + 1
    return CType(TYPE_NAMES[spec], depth)


def bind(tree: S.Node, schema: Mapping[str, CType], text: str = "") -> ir.Expr:
    binder = Binder(schema, text)
    expr = binder.bind(tree)
    if expr.type.scalar is Scalar.STRING:  # string literals only name things inside calls
        raise binder.type_error(
            "a string is not a column value: hepframe columns hold numbers, booleans and RVecs of them", tree
        )
    return expr


def narrow_comparison(node: ir.Binary) -> ir.Binary:
    """``(double)x op c`` with ``float x`` and a double constant ``c``, as ``x op t`` with a float ``t``.

    The same answer for every value (see ``hepframe.expr.narrowing``), without converting the
    values to double: ``abs(Jet_eta) < 2.4`` compares floats with 2.4000001f.
    """
    left, right, op = node.left, node.right, node.op
    constant_left = isinstance(left, ir.Literal)
    value, constant = (right, left) if constant_left else (left, right)
    if not (isinstance(constant, ir.Literal) and constant.type.scalar is Scalar.DOUBLE and isinstance(value, ir.Cast)
            and value.operand.type.scalar is Scalar.FLOAT and value.type.scalar is Scalar.DOUBLE):  # fmt: skip
        return node
    threshold = float_threshold(FLIPPED[op] if constant_left else op, float(constant.value))
    if threshold is None:
        return node
    narrowed = ir.Literal(CType(Scalar.FLOAT), float(threshold))
    operands = (narrowed, value.operand) if constant_left else (value.operand, narrowed)
    return ir.Binary(node.type, op, *operands)


def compile_expression(text: str, schema: Mapping[str, CType]) -> ir.Expr:
    """Parse and type ``text`` against ``schema`` (column name to C++ type).

    Examples
    --------
    >>> from hepframe.expr import compile_expression
    >>> from hepframe.expr.types import CType, Scalar
    >>> e = compile_expression("Sum(Jet_pt > 40) > 1", {"Jet_pt": CType(Scalar.FLOAT, 1)})
    >>> e.type.short
    'bool'

    """
    return bind(parse(text), schema, text)


__all__ = ["ENTRY_COLUMN", "Binder", "SumOverloadWarning", "UnsignedUnderflowWarning", "bind", "compile_expression", "INT"]
