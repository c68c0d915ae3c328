"""The canonical function table: every callable name in an expression, and how C++ types it.

One entry per canonical function. Aliases map the spellings ROOT users write
(``ROOT::VecOps::Sum``, ``std::abs``, ``TMath::Sqrt``) to the canonical name; engines look
implementations up by canonical name only. A typing rule receives the argument types and
returns the types the arguments are converted to (the binder inserts the casts) and the
result type, or raises :class:`SignatureError` naming the offending types.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from hepframe.expr.types import BOOL, DOUBLE, INT, SIZE_T, UINT, CType, Scalar, common_scalar, integral_promotion


class SignatureError(Exception):
    """Arguments that do not fit a function's signature (turned into ExpressionTypeError)."""


Typing = Callable[[list[CType]], tuple[list[CType], CType]]


@dataclass(frozen=True)
class Function:
    name: str
    category: str
    arity: tuple[int, int]
    typing: Typing
    doc: str
    aliases: tuple[str, ...] = ()


def _arith(t: CType, fname: str) -> None:
    if not t.scalar.is_arithmetic:
        raise SignatureError(f"{fname} needs numeric arguments, got {t.short}")


def _float_of(s: Scalar) -> Scalar:
    """<cmath> overloads: float stays float, double and every integer type compute in double."""
    return Scalar.FLOAT if s is Scalar.FLOAT else Scalar.DOUBLE


def _math_unary(fname: str) -> Typing:
    def rule(args: list[CType]) -> tuple[list[CType], CType]:
        (a,) = args
        _arith(a, fname)
        t = a.with_scalar(_float_of(a.scalar))
        return [t], t

    return rule


def _abs(args: list[CType]) -> tuple[list[CType], CType]:
    (a,) = args
    _arith(a, "abs")
    s = a.scalar if a.scalar.is_float else integral_promotion(a.scalar)
    if a.depth:  # VecOps' abs(RVec<T>) returns RVec<PromoteType<T>>: double for integers
        s = _float_of(a.scalar)
    t = a.with_scalar(s)
    return [t], t


def _math_binary(fname: str) -> Typing:
    def rule(args: list[CType]) -> tuple[list[CType], CType]:
        a, b = args
        _arith(a, fname)
        _arith(b, fname)
        if a.depth and b.depth and a.depth != b.depth:
            raise SignatureError(f"{fname} cannot combine {a.short} and {b.short}")
        s = Scalar.FLOAT if a.scalar is Scalar.FLOAT and b.scalar is Scalar.FLOAT else Scalar.DOUBLE
        return [a.with_scalar(s), b.with_scalar(s)], CType(s, max(a.depth, b.depth))

    return rule


def _rvec_arg(t: CType, fname: str) -> None:
    if t.depth != 1:
        raise SignatureError(f"{fname} needs an RVec argument, got {t.short}")
    _arith(t, fname)


def _sum(args: list[CType]) -> tuple[list[CType], CType]:
    (a,) = args
    _rvec_arg(a, "Sum")
    # ROOT: Sum(RVec<T>) -> T, with an overload Sum(RVec<bool>) -> std::size_t.
    return [a], SIZE_T if a.scalar is Scalar.BOOL else a.element


def _same_element(fname: str) -> Typing:
    def rule(args: list[CType]) -> tuple[list[CType], CType]:
        (a,) = args
        _rvec_arg(a, fname)
        return [a], a.element

    return rule


def _to(result: CType, fname: str) -> Typing:
    def rule(args: list[CType]) -> tuple[list[CType], CType]:
        (a,) = args
        _rvec_arg(a, fname)
        return [a], result

    return rule


def _common_float(args: list[CType], fname: str, want_rvec: bool | None) -> tuple[list[CType], CType]:
    for a in args:
        if not a.scalar.is_float:
            raise SignatureError(f"{fname} must be called with floating-point values, got {a.short}")
        if a.depth > 1:
            raise SignatureError(f"{fname} cannot take {a.short}")
    s = args[0].scalar
    for a in args[1:]:
        s = common_scalar(s, a.scalar)
    depth = max(a.depth for a in args)
    if want_rvec is True and any(a.depth == 0 for a in args[:4]):
        raise SignatureError(f"{fname} needs RVec arguments, got {', '.join(a.short for a in args)}")
    return [a.with_scalar(s) for a in args], CType(s, depth if want_rvec is not False else 0)


def _delta_phi(args: list[CType]) -> tuple[list[CType], CType]:
    return _common_float(args, "DeltaPhi", None)


def _delta_r(args: list[CType]) -> tuple[list[CType], CType]:
    return _common_float(args, "DeltaR", None)


def _invariant_mass(args: list[CType]) -> tuple[list[CType], CType]:
    return _common_float(args, "InvariantMass", False) if all(a.depth == 1 for a in args) else _raise(
        SignatureError(f"InvariantMass needs four RVecs (pt, eta, phi, mass), got {', '.join(a.short for a in args)}")
    )


def _raise(exc: Exception) -> tuple[list[CType], CType]:
    raise exc


def _constant(value: float) -> Typing:
    def rule(args: list[CType]) -> tuple[list[CType], CType]:
        return [], DOUBLE

    rule.value = value  # type: ignore[attr-defined]
    return rule


_MATH_UNARY = {
    "sqrt": "square root", "cbrt": "cube root", "exp": "e**x", "exp2": "2**x", "expm1": "e**x - 1",
    "log": "natural logarithm", "log10": "base-10 logarithm", "log2": "base-2 logarithm",
    "log1p": "log(1 + x)", "sin": "sine", "cos": "cosine", "tan": "tangent", "asin": "arc sine",
    "acos": "arc cosine", "atan": "arc tangent", "sinh": "hyperbolic sine",
    "cosh": "hyperbolic cosine", "tanh": "hyperbolic tangent", "asinh": "inverse hyperbolic sine",
    "acosh": "inverse hyperbolic cosine", "atanh": "inverse hyperbolic tangent",
    "floor": "round down", "ceil": "round up", "round": "round half away from zero",
    "trunc": "round toward zero", "erf": "error function", "erfc": "complementary error function",
}  # fmt: skip
_MATH_BINARY = {"pow": "x**y", "atan2": "arc tangent of y/x", "hypot": "sqrt(x*x + y*y)", "fmod": "C remainder"}
_TMATH = {"sqrt": "Sqrt", "exp": "Exp", "log": "Log", "log10": "Log10", "sin": "Sin", "cos": "Cos", "tan": "Tan",
          "asin": "ASin", "acos": "ACos", "atan": "ATan", "sinh": "SinH", "cosh": "CosH", "tanh": "TanH",
          "floor": "Floor", "ceil": "Ceil", "erf": "Erf", "erfc": "Erfc", "pow": "Power", "atan2": "ATan2",
          "hypot": "Hypot"}  # fmt: skip


def _aliases(name: str, vecops: bool = False) -> tuple[str, ...]:
    out = [f"std::{name}"]
    if vecops:
        out += [f"ROOT::VecOps::{name}", f"VecOps::{name}"]
    if name in _TMATH:
        out.append(f"TMath::{_TMATH[name]}")
    return tuple(out)


FUNCTIONS: dict[str, Function] = {}


def _register(fn: Function) -> None:
    FUNCTIONS[fn.name] = fn


for _name, _doc in _MATH_UNARY.items():
    _register(Function(_name, "cmath", (1, 1), _math_unary(_name), _doc, _aliases(_name, vecops=True)))
for _name, _doc in _MATH_BINARY.items():
    _register(Function(_name, "cmath", (2, 2), _math_binary(_name), _doc, _aliases(_name, vecops=True)))
_register(Function("abs", "cmath", (1, 1), _abs, "absolute value", ("std::abs", "TMath::Abs", "ROOT::VecOps::abs")))
_register(Function("fabs", "cmath", (1, 1), _math_unary("fabs"), "absolute value as floating point",
                   ("std::fabs",)))  # fmt: skip
# Sum(v, init) is lowered by the binder (Binder.bind_sum_with_init): engines only ever see Sum(v).
_register(Function("Sum", "reduction", (1, 2), _sum, "sum of the elements (bool counts as 1)", _aliases("Sum", True)))
_register(Function("Max", "reduction", (1, 1), _same_element("Max"), "largest element", _aliases("Max", True)))
_register(Function("Min", "reduction", (1, 1), _same_element("Min"), "smallest element", _aliases("Min", True)))
_register(Function("Mean", "reduction", (1, 1), _to(DOUBLE, "Mean"), "mean of the elements (0 if empty)",
                   _aliases("Mean", True)))
_register(Function("Any", "reduction", (1, 1), _to(BOOL, "Any"), "true if any element is non-zero",
                   _aliases("Any", True)))
_register(Function("All", "reduction", (1, 1), _to(BOOL, "All"), "true if every element is non-zero",
                   _aliases("All", True)))
_register(Function("size", "member", (1, 1), _to(SIZE_T, "size"), "number of elements (v.size())"))
_register(Function("DeltaPhi", "kinematics", (2, 3), _delta_phi, "signed phi difference in [-c, c] (c = pi)",
                   _aliases("DeltaPhi", True)))
_register(Function("DeltaR", "kinematics", (4, 5), _delta_r, "distance in the eta-phi plane",
                   _aliases("DeltaR", True)))
_register(Function("InvariantMass", "kinematics", (4, 4), _invariant_mass,
                   "invariant mass of all particles of (pt, eta, phi, mass)", _aliases("InvariantMass", True)))

def _rvec(fname: str, t: CType) -> None:
    if t.depth != 1:
        raise SignatureError(f"{fname} needs an RVec argument, got {t.short}")


def _integral_rvec(fname: str, t: CType) -> None:
    if t.depth != 1 or not t.scalar.is_integral:
        raise SignatureError(f"{fname} needs an RVec of indices, got {t.short}")


def _unary_rvec(fname: str, result: Callable[[CType], CType]) -> Typing:
    def rule(args: list[CType]) -> tuple[list[CType], CType]:
        (a,) = args
        _rvec(fname, a)
        _arith(a, fname)
        return [a], result(a)

    return rule


RVEC_SIZE_T = CType(Scalar.ULONG, 1)
RVEC_RVEC_SIZE_T = CType(Scalar.ULONG, 2)


def _take(args: list[CType]) -> tuple[list[CType], CType]:
    v, sel, *default = args
    _rvec("Take", v)
    if sel.depth == 1:
        _integral_rvec("Take", sel)
        sel_t = sel
    elif sel.depth == 0 and sel.scalar.is_integral:
        sel_t = INT_T
    else:
        raise SignatureError(f"Take needs indices (an RVec) or a count (an integer), got {sel.short}")
    if default and default[0].depth:
        raise SignatureError(f"Take's default value must be a scalar, got {default[0].short}")
    return [v, sel_t, *([v.element] if default else [])], v


def _drop(args: list[CType]) -> tuple[list[CType], CType]:
    v, idx = args
    _rvec("Drop", v)
    _integral_rvec("Drop", idx)
    return [v, idx], v


def _where(args: list[CType]) -> tuple[list[CType], CType]:
    cond, a, b = args
    _rvec("Where", cond)
    for x in (a, b):
        _arith(x, "Where")
        if x.depth > 1:
            raise SignatureError(f"Where cannot take {x.short}")
    if a.depth and b.depth:
        s = common_scalar(a.scalar, b.scalar) if a.scalar != b.scalar else a.scalar
    elif a.depth or b.depth:
        s = a.scalar if a.depth else b.scalar  # the scalar converts to the RVec's value_type
    else:
        s = a.scalar if a.scalar == b.scalar else common_scalar(a.scalar, b.scalar)
    return [cond, a.with_scalar(s), b.with_scalar(s)], CType(s, 1)


def _intersect(args: list[CType]) -> tuple[list[CType], CType]:
    v1, v2 = args
    _rvec("Intersect", v1)
    _rvec("Intersect", v2)
    return [v1, v2.with_scalar(v1.scalar)], v1


def _concatenate(args: list[CType]) -> tuple[list[CType], CType]:
    a, b = args
    _rvec("Concatenate", a)
    _rvec("Concatenate", b)
    s = a.scalar if a.scalar == b.scalar else common_scalar(a.scalar, b.scalar)
    return [a.with_scalar(s), b.with_scalar(s)], CType(s, 1)


def _combinations(args: list[CType]) -> tuple[list[CType], CType]:
    v, other = args
    _rvec("Combinations", v)
    if other.depth == 1:
        return [v, other], RVEC_RVEC_SIZE_T
    if other.depth == 0 and other.scalar.is_integral:
        return [v, SIZE_T], RVEC_RVEC_SIZE_T
    raise SignatureError(f"Combinations needs (RVec, k) or (RVec, RVec), got {', '.join(a.short for a in args)}")


def _range(args: list[CType]) -> tuple[list[CType], CType]:
    for a in args:
        if a.depth or not a.scalar.is_integral:
            raise SignatureError(f"Range needs integer arguments, got {a.short}")
    return [SIZE_T for _ in args], RVEC_SIZE_T


def _arange(args: list[CType]) -> tuple[list[CType], CType]:
    for a in args:
        _arith(a, "Arange")
        if a.depth:
            raise SignatureError(f"Arange needs scalar arguments, got {a.short}")
    s = args[0].scalar
    for a in args[1:]:
        s = common_scalar(s, a.scalar) if a.scalar != s else s
    result = s if s.is_float else Scalar.DOUBLE  # Ret_t: T for floating point, else double
    return [CType(s) for _ in args], CType(result, 1)


def _delta_r2(args: list[CType]) -> tuple[list[CType], CType]:
    return _common_float(args, "DeltaR2", True)


def _invariant_masses(args: list[CType]) -> tuple[list[CType], CType]:
    if any(a.depth != 1 for a in args):
        raise SignatureError("InvariantMasses needs eight RVecs (pt, eta, phi, mass of both particles)")
    return _common_float(args, "InvariantMasses", True)


INT_T = CType(Scalar.INT)


def _raise_internal(args: list[CType]) -> tuple[list[CType], CType]:
    raise SignatureError("use DefaultValueFor / FilterAvailable / FilterMissing on the dataframe")


def _raise_constructor(args: list[CType]) -> tuple[list[CType], CType]:
    raise SignatureError("write RVec constructors with their element type, e.g. ROOT::RVec<float>(n, 0.f)")

_VECOPS: list[tuple[str, str, tuple[int, int], Typing, str]] = [
    ("Product", "reduction", (1, 1), _unary_rvec("Product", lambda a: a.element), "product of the elements"),
    ("Var", "reduction", (1, 1), _unary_rvec("Var", lambda a: DOUBLE), "unbiased variance (0 below two elements)"),
    ("StdDev", "reduction", (1, 1), _unary_rvec("StdDev", lambda a: DOUBLE), "sqrt(Var(v))"),
    ("ArgMin", "reduction", (1, 1), _unary_rvec("ArgMin", lambda a: SIZE_T), "index of the first smallest element"),
    ("ArgMax", "reduction", (1, 1), _unary_rvec("ArgMax", lambda a: SIZE_T), "index of the first largest element"),
    ("Sort", "selection", (1, 1), _unary_rvec("Sort", lambda a: a), "elements in ascending order"),
    ("Reverse", "selection", (1, 1), _unary_rvec("Reverse", lambda a: a), "elements in reverse order"),
    ("Argsort", "selection", (1, 1), _unary_rvec("Argsort", lambda a: RVEC_SIZE_T), "indices that sort v"),
    ("StableArgsort", "selection", (1, 1), _unary_rvec("StableArgsort", lambda a: RVEC_SIZE_T),
     "indices that sort v, ties in order"),
    ("Take", "selection", (2, 3), _take, "elements at indices, or the first/last n (with an optional default)"),
    ("Drop", "selection", (2, 2), _drop, "v without the elements at the given indices"),
    ("Where", "selection", (3, 3), _where, "element-wise cond ? a : b"),
    ("Nonzero", "selection", (1, 1), _unary_rvec("Nonzero", lambda a: RVEC_SIZE_T), "indices of non-zero elements"),
    ("Intersect", "selection", (2, 2), _intersect, "elements of v1 that are also in v2"),
    ("Concatenate", "selection", (2, 2), _concatenate, "v1 followed by v2"),
    ("Combinations", "construction", (2, 2), _combinations,
     "index lists of all k-combinations of v, or of all pairs from two RVecs"),
    ("Enumerate", "construction", (1, 1), _unary_rvec("Enumerate", lambda a: RVEC_SIZE_T), "0, 1, ..., size-1"),
    ("Range", "construction", (1, 2), _range, "Range(n) = 0..n-1, Range(b, e) = b..e-1"),
    ("IsAvailable", "dataset", (1, 1), _raise_internal, "whether the branch exists in this event's file (FilterAvailable)"),
    ("DefaultValue", "dataset", (2, 2), _raise_internal, "the branch's value, or a default where its file lacks it (DefaultValueFor)"),
    ("Arange", "construction", (3, 3), _arange, "start, start+step, ... below end (numpy-like)"),
    ("RVec", "construction", (2, 2), _raise_constructor, "ROOT::RVec<T>(n, value): n copies of value"),
    ("RVecOf", "construction", (1, 64), _raise_constructor, "ROOT::RVec<T>{a, b, ...}: an RVec of the listed values"),
    ("DeltaR2", "kinematics", (4, 5), _delta_r2, "squared distance in the eta-phi plane"),
    ("InvariantMasses", "kinematics", (8, 8), _invariant_masses,
     "pairwise invariant masses of (pt, eta, phi, mass) x 2"),
]  # fmt: skip
for _name, _category, _arity, _typing, _doc in _VECOPS:
    _register(Function(_name, _category, _arity, _typing, _doc, _aliases(_name, True)))

CONSTANTS: dict[str, float] = {
    "M_PI": math.pi, "TMath::Pi": math.pi, "M_E": math.e, "TMath::E": math.e, "M_SQRT2": math.sqrt(2.0),
    "TMath::TwoPi": 2 * math.pi, "TMath::PiOver2": math.pi / 2, "M_PI_2": math.pi / 2, "M_PI_4": math.pi / 4,
}  # fmt: skip

_LOOKUP: dict[str, str] = {}
for _fn in FUNCTIONS.values():
    for _alias in (_fn.name, *_fn.aliases):
        _LOOKUP[_alias] = _fn.name


def lookup(name: str) -> Function | None:
    """The canonical function for a spelling such as ``ROOT::VecOps::Sum`` or ``std::abs``."""
    canonical = _LOOKUP.get(name)
    return FUNCTIONS[canonical] if canonical else None


def known_names() -> list[str]:
    return sorted(_LOOKUP)


@dataclass(frozen=True)
class RandomMethod:
    """A method of ROOT's ``TRandom`` (``gRandom->name(args)``), as declared in ROOT 6.40's TRandom.h.

    Calls may omit the trailing ``defaults``; the binder fills them in, so a draw always carries
    ``min_args + len(defaults)`` arguments or more (``Uniform(x1, x2)`` is a separate overload).
    """

    result: CType
    params: tuple[CType, ...]
    min_args: int
    defaults: tuple[float, ...] = ()


#: ``gRandom->method(...)`` draws hepframe supports (the analysis pre-draws them from a TRandom3).
RANDOM_METHODS: dict[str, RandomMethod] = {
    "Rndm": RandomMethod(DOUBLE, (), 0),
    "Uniform": RandomMethod(DOUBLE, (DOUBLE, DOUBLE), 0, (1.0,)),  # Uniform(x1 = 1) and Uniform(x1, x2)
    "Gaus": RandomMethod(DOUBLE, (DOUBLE, DOUBLE), 0, (0.0, 1.0)),
    "Exp": RandomMethod(DOUBLE, (DOUBLE,), 1),
    "Poisson": RandomMethod(SIZE_T, (DOUBLE,), 1),  # ULong64_t in ROOT 6.40 (Int_t in older ROOTs)
    "Integer": RandomMethod(UINT, (UINT,), 1),
    "Landau": RandomMethod(DOUBLE, (DOUBLE, DOUBLE), 0, (0.0, 1.0)),
    "BreitWigner": RandomMethod(DOUBLE, (DOUBLE, DOUBLE), 0, (0.0, 1.0)),
    "Binomial": RandomMethod(INT, (INT, DOUBLE), 2),
}
