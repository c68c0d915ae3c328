"""Property test: random well-typed C++ helper functions give ROOT's results, bit for bit.

A grammar writes helper functions ``f(float x, double d, int n, unsigned int u, const ROOT::RVec<float>& v,
const ROOT::RVec<int>& w)`` from a typed tree:

- statements: locals of type float/double/int/unsigned int/long/bool or ``auto`` (sometimes ``const``, sometimes
  shadowing a local of an enclosing block), assignments to locals, parameters and range-for copies with
  ``=``/``+=``/``-=``/``*=``/``/=``/``%=``/``++``/``--``, if/else, index loops (``std::size_t``/``int``/``unsigned``/
  ``auto`` counters) and range-for loops over ``v``/``w`` nested once at most, guarded ``continue``/``break``, early
  returns, ``push_back``/``emplace_back``;
- expressions: int/unsigned/long/float/double/bool literals (big ones included), variables, ``+ - *``, unary ``-``,
  comparisons, ``&& || !``, ternaries, ``static_cast``/C-style/functional casts, ``std::abs``,
  ``std::sqrt(std::abs(...))``, division and remainder by non-zero literals, ``b != 0 ? a / b : c``, element access
  ``v[i]`` inside loops (and ``i < w.size() ? w[i] : 0`` across them), ``v.size()``, ``out.size()``;
- the function returns a float, double, int, unsigned int, long, bool or an ``RVec<float>`` built with push_back.

The usual arithmetic conversions are exercised on purpose (``int`` with ``unsigned int``, ``std::size_t`` with
``int``, unsigned wrapping, narrowing on assignment). Every program is C++ without undefined behaviour: an interval
analysis of the tree (loops unrolled up to the longest RVec of the data) proves that no signed operation overflows
and that every float-to-integer conversion is in range, and replaces what it cannot prove safe by zeros.

``test_random_helpers_match_root`` declares each function in ROOT's cling and in hepframe (a namespace of its own:
cling cannot redefine a function) and compares the columns they compute on a 64-event file bit for bit.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field, replace

import awkward as ak
import numpy as np
import pytest
import uproot
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import hepframe
from tests.conftest import assert_same_values

pytestmark = [
    pytest.mark.filterwarnings("ignore::hepframe.expr.binder.UnsignedUnderflowWarning"),  # wrapping is on purpose
]

# -- types and values ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class T:
    """A C++ arithmetic type."""

    name: str
    kind: str  # "b" bool, "i" integer, "f" floating point
    bits: int
    signed: bool
    rank: int  # integer conversion rank

    @property
    def limits(self) -> tuple[int, int]:
        if self.kind == "b":
            return (0, 1)
        return (-(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1) if self.signed else (0, (1 << self.bits) - 1)


BOOL = T("bool", "b", 8, False, 0)
INT = T("int", "i", 32, True, 1)
UINT = T("unsigned int", "i", 32, False, 1)
LONG = T("long", "i", 64, True, 2)
SIZE = T("std::size_t", "i", 64, False, 2)
FLOAT = T("float", "f", 32, True, 3)
DOUBLE = T("double", "f", 64, True, 4)
RVEC = T("ROOT::RVec<float>", "v", 0, False, 0)  # the return type of functions that push_back

# Interval: (lo, hi) of Python ints for bool/integers, of floats for floating point; None: any float (inf, NaN).
FLOAT_LIMIT = 1e30  # past this, a floating-point interval becomes "any value"
MAX_SIZE = 5  # the longest RVec of the data: loops are unrolled this many times
PARAMS = {"x": (FLOAT, (-40.0, 40.0)), "d": (DOUBLE, (-400.0, 400.0)), "n": (INT, (-20, 20)), "u": (UINT, (0, 6))}
ELEMENTS = {"v": (FLOAT, (-30.0, 70.0)), "w": (INT, (-3, 4))}
SIGNATURE = "float x, double d, int n, unsigned int u, const ROOT::RVec<float>& v, const ROOT::RVec<int>& w"
CALL = "(x, d, n, u, v, w)"


def promote(t: T) -> T:
    return INT if t is BOOL else t


def common(a: T, b: T) -> T:
    """The usual arithmetic conversions."""
    a, b = promote(a), promote(b)
    if DOUBLE in (a, b):
        return DOUBLE
    if FLOAT in (a, b):
        return FLOAT
    if a is b:
        return a
    if a.signed == b.signed:
        return a if a.rank > b.rank else b
    signed, unsigned = (a, b) if a.signed else (b, a)
    return unsigned if unsigned.rank >= signed.rank else signed


class Unsafe(Exception):
    """The operation may have undefined behaviour."""


def fbound(lo: float, hi: float, t: T):
    """A floating-point interval widened by the rounding of one operation; None past FLOAT_LIMIT (or NaN)."""
    eps = 2.0**-20 if t is FLOAT else 2.0**-49
    lo, hi = lo - abs(lo) * eps - 1e-37, hi + abs(hi) * eps + 1e-37
    return (lo, hi) if -FLOAT_LIMIT <= lo and hi <= FLOAT_LIMIT else None


def wrap(lo: int, hi: int, t: T) -> tuple[int, int]:
    """Integers converted to ``t`` modulo 2**bits (defined for unsigned, two's complement for signed)."""
    tlo, thi = t.limits
    if tlo <= lo and hi <= thi:
        return (lo, hi)
    m = 1 << t.bits
    a, b = (lo - tlo) % m + tlo, (hi - tlo) % m + tlo
    return (a, b) if hi - lo < m and a <= b else (tlo, thi)


def top(t: T):
    return None if t.kind == "f" else t.limits


def convert(iv, src: T, dst: T):
    """The interval of a conversion from ``src`` to ``dst``; raises Unsafe for out-of-range float to integer."""
    if dst is BOOL:
        return (0, 1)
    if dst.kind == "f":
        if iv is None:
            return None
        return fbound(float(iv[0]), float(iv[1]), dst) if (src is not dst or src.kind != "f") else iv
    if src.kind == "f":
        tlo, thi = dst.limits
        if iv is None or not (tlo - 1 < iv[0] and iv[1] < thi + 1):
            raise Unsafe
        return (max(math.trunc(iv[0]), tlo), min(math.trunc(iv[1]), thi))
    return wrap(iv[0], iv[1], dst)


def union(ivs, t: T):
    if t.kind == "f" and any(iv is None for iv in ivs):
        return None
    return (min(iv[0] for iv in ivs), max(iv[1] for iv in ivs))


# -- the typed tree --------------------------------------------------------------------------------------------

PREC = {"||": 30, "&&": 40, "==": 55, "!=": 55, "<": 60, ">": 60, "<=": 60, ">=": 60, "+": 70, "-": 70,
        "*": 80, "/": 80, "%": 80}  # fmt: skip
UNARY, ATOM, TERNARY = 90, 100, 20
COMPARISONS = ("<", ">", "<=", ">=", "==", "!=")


@dataclass(eq=False)
class Expr:
    t: T


@dataclass(eq=False)
class Lit(Expr):
    value: int | float
    text: str


@dataclass(eq=False)
class Var(Expr):
    name: str  # unique: the analysis's key
    shown: str = ""  # the C++ name when it differs (a local that shadows an outer one)


@dataclass(eq=False)
class Size(Expr):
    vec: str


@dataclass(eq=False)
class Index(Expr):
    vec: str
    index: Var


@dataclass(eq=False)
class Unary(Expr):
    op: str
    a: Expr


@dataclass(eq=False)
class Bin(Expr):
    op: str
    a: Expr
    b: Expr


@dataclass(eq=False)
class Cond(Expr):
    c: Expr
    a: Expr
    b: Expr


@dataclass(eq=False)
class Cast(Expr):
    a: Expr
    style: str = "static"  # static_cast<T>(a), (T)a or T(a)


@dataclass(eq=False)
class Call(Expr):
    fn: str  # std::abs, std::sqrt
    a: Expr


@dataclass(eq=False)
class Decl:
    name: str
    t: T
    init: Expr | None  # None: ROOT::RVec<float> out;
    const: bool = False
    auto: bool = False  # spelled auto (t is the initializer's type)
    shown: str = ""


@dataclass(eq=False)
class Assign:
    name: str
    t: T
    op: str  # =, +=, -=, *=, /=, %=, ++, --
    e: Expr | None
    postfix: bool = False
    shown: str = ""


@dataclass(eq=False)
class If:
    c: Expr
    then: list
    other: list
    braces: bool = True


@dataclass(eq=False)
class For:
    var: str
    t: T  # the type of the index or element variable
    vec: str
    body: list
    spelling: str  # index loops: the index type or "auto"; range-for: the element declaration ("const auto&")
    indexed: bool = True  # False: range-for
    step: str = "++i"


@dataclass(eq=False)
class Break:
    pass


@dataclass(eq=False)
class Continue:
    pass


@dataclass(eq=False)
class Return:
    e: Expr | None  # None: return out;


@dataclass(eq=False)
class Push:
    e: Expr
    method: str = "push_back"


@dataclass(repr=False)
class Function:
    returns: T
    body: list

    def __repr__(self) -> str:  # hypothesis shows a falsifying example as its C++
        return source(self)


# -- the interval analysis -------------------------------------------------------------------------------------


@dataclass
class Flow:
    normal: dict | None  # the state after the statement, None when no path falls through
    breaks: list = field(default_factory=list)
    conts: list = field(default_factory=list)


def join(states, keys):
    states = [s for s in states if s is not None]
    if not states:
        return None
    return {k: (states[0][k][0], union([s[k][1] for s in states], states[0][k][0])) for k in keys}


def params_env() -> dict:
    return dict(PARAMS)


class Analysis:
    """Abstract interpretation over intervals; ``bad`` collects the nodes that may have undefined behaviour (or
    take the shape of a hepframe gap that the grammar avoids)."""

    def __init__(self, returns: T):
        self.returns = returns
        self.bad: dict[int, object] = {}

    def flag(self, node, t: T):
        self.bad[id(node)] = node
        return top(t)

    def expr(self, e: Expr, env: dict):  # noqa: C901 - one case per node
        if isinstance(e, Lit):
            return fbound(e.value, e.value, e.t) if e.t.kind == "f" else (int(e.value), int(e.value))
        if isinstance(e, Var):
            return env[e.name][1]
        if isinstance(e, Size):
            return env["out"][1] if e.vec == "out" else (0, MAX_SIZE)
        if isinstance(e, Index):
            self.expr(e.index, env)
            return ELEMENTS[e.vec][1]
        if isinstance(e, Unary):
            a = self.expr(e.a, env)
            if e.op == "!":
                return (0, 1)
            a = convert(a, e.a.t, e.t)
            if e.t.kind == "f":
                return None if a is None else (-a[1], -a[0])
            lo, hi = -a[1], -a[0]
            if e.t.signed and not (e.t.limits[0] <= lo and hi <= e.t.limits[1]):
                return self.flag(e, e.t)
            return wrap(lo, hi, e.t)
        if isinstance(e, Bin):
            a, b = self.expr(e.a, env), self.expr(e.b, env)
            if e.op in ("&&", "||") or e.op in COMPARISONS:
                return (0, 1)
            return self.arith(e, e.op, convert(a, e.a.t, e.t), convert(b, e.b.t, e.t), e.t, isinstance(e.b, Lit))
        if isinstance(e, Cond):
            self.expr(e.c, env)
            a, b = self.expr(e.a, env), self.expr(e.b, env)
            return union([convert(a, e.a.t, e.t), convert(b, e.b.t, e.t)], e.t)
        if isinstance(e, Cast):
            try:
                return convert(self.expr(e.a, env), e.a.t, e.t)
            except Unsafe:
                return self.flag(e, e.t)
        if isinstance(e, Call):
            a = convert(self.expr(e.a, env), e.a.t, e.t)
            if a is None:
                return None
            if e.fn == "std::sqrt":
                return fbound(math.sqrt(max(a[0], 0.0)), math.sqrt(max(a[1], 0.0)), e.t)
            if e.t.kind == "i" and a[0] <= e.t.limits[0]:  # std::abs(INT_MIN)
                return self.flag(e, e.t)
            return a if a[0] >= 0 else (-a[1], -a[0]) if a[1] <= 0 else (type(a[0])(0), max(-a[0], a[1]))
        raise TypeError(e)

    def arith(self, node, op: str, a, b, t: T, literal: bool):
        """``a op b`` computed in ``t`` (operands already converted; ``literal``: b is a literal)."""
        if t.kind == "f":
            if a is None or b is None or (op == "/" and not literal):
                return None
            if op == "+":
                return fbound(a[0] + b[0], a[1] + b[1], t)
            if op == "-":
                return fbound(a[0] - b[1], a[1] - b[0], t)
            corners = [p * q if op == "*" else p / q for p in a for q in b]
            return fbound(min(corners), max(corners), t)
        if op == "+":
            lo, hi = a[0] + b[0], a[1] + b[1]
        elif op == "-":
            lo, hi = a[0] - b[1], a[1] - b[0]
        elif op == "*":
            corners = [p * q for p in a for q in b]
            lo, hi = min(corners), max(corners)
        else:  # / and % by a positive literal
            k = b[0]
            assert k == b[1] and k > 0, "integers are divided by positive literals only"
            if op == "/":
                lo, hi = (-(-a[0] // k) if a[0] < 0 else a[0] // k), (-(-a[1] // k) if a[1] < 0 else a[1] // k)
            else:
                lo, hi = (0 if a[0] >= 0 else -(k - 1)), (0 if a[1] <= 0 else k - 1)
        if t.signed and not (t.limits[0] <= lo and hi <= t.limits[1]):
            return self.flag(node, t)
        return wrap(lo, hi, t)

    def compound(self, s: Assign, env: dict):
        """``a op= e``: ``a = A(a op e)``, computed in the common type."""
        t, value = env[s.name]
        e = s.e if s.e is not None else Lit(INT, 1, "1")
        ev = self.expr(e, env)
        c = common(t, e.t)
        before = len(self.bad)
        op = {"++": "+", "--": "-"}.get(s.op, s.op[:1])
        result = self.arith(s, op, convert(value, t, c), convert(ev, e.t, c), c, isinstance(e, Lit))
        if len(self.bad) > before:
            return top(t)
        try:
            return convert(result, c, t)
        except Unsafe:
            return self.flag(s, t)

    def stmt(self, s, env: dict) -> Flow:  # noqa: C901 - one case per statement
        if isinstance(s, Decl):
            if s.init is None:
                return Flow({**env, "out": (SIZE, (0, 0))})
            try:
                value = convert(self.expr(s.init, env), s.init.t, s.t)
            except Unsafe:
                value = self.flag(s, s.t)
            return Flow({**env, s.name: (s.t, value)})
        if isinstance(s, Assign):
            if s.op == "=":
                try:
                    value = convert(self.expr(s.e, env), s.e.t, s.t)
                except Unsafe:
                    value = self.flag(s, s.t)
            else:
                value = self.compound(s, env)
            return Flow({**env, s.name: (s.t, value)})
        if isinstance(s, If):
            self.expr(s.c, env)
            then, other = self.block(s.then, env), self.block(s.other, env)
            return Flow(join([then.normal, other.normal], env), then.breaks + other.breaks, then.conts + other.conts)
        if isinstance(s, For):
            return self.loop(s, env)
        if isinstance(s, Break):
            return Flow(None, breaks=[env])
        if isinstance(s, Continue):
            return Flow(None, conts=[env])
        if isinstance(s, Return):
            if s.e is not None:
                try:
                    convert(self.expr(s.e, env), s.e.t, self.returns)
                except Unsafe:
                    self.flag(s, self.returns)
            return Flow(None)
        if isinstance(s, Push):
            self.expr(s.e, env)
            lo, hi = env["out"][1]
            return Flow({**env, "out": (SIZE, (lo + 1, hi + 1))})
        raise TypeError(s)

    def block(self, stmts: list, env: dict) -> Flow:
        flow = Flow(env)
        for s in stmts:
            step = self.stmt(s, flow.normal)
            flow = Flow(step.normal, flow.breaks + step.breaks, flow.conts + step.conts)
            if flow.normal is None:
                break
        return flow

    def loop(self, s: For, env: dict) -> Flow:
        """The loop unrolled: it runs 0 to MAX_SIZE times, or stops at a break."""
        exits, state = [], env
        element = None if s.indexed else convert(ELEMENTS[s.vec][1], ELEMENTS[s.vec][0], s.t)
        for k in range(MAX_SIZE + 1):
            exits.append(state)
            if k == MAX_SIZE:
                break
            body = self.block(s.body, {**state, s.var: (s.t, (k, k) if s.indexed else element)})
            exits.extend(body.breaks)
            state = join([body.normal, *body.conts], env)
            if state is None:
                break
        return Flow(join(exits, env))


def zero(t: T) -> Lit:
    return Lit(t, 0.0 if t.kind == "f" else 0, {BOOL: "false", INT: "0", UINT: "0u", LONG: "0L", SIZE: "0ul",
                                                FLOAT: "0.f", DOUBLE: "0.0"}[t])  # fmt: skip


def rebuild(node, bad: dict, memo: dict, returns: T):
    """A copy of ``node`` with the unsafe nodes replaced by zeros (unsafe compound updates dropped)."""
    if isinstance(node, list):
        out = [rebuild(s, bad, memo, returns) for s in node]
        return [s for s in out if s is not None]
    if id(node) in memo:
        return memo[id(node)]
    if id(node) in bad:
        if isinstance(node, Expr):
            new = zero(node.t)
        elif isinstance(node, Decl):
            new = replace(node, init=zero(node.t))
        elif isinstance(node, Assign):
            new = replace(node, op="=", e=zero(node.t)) if node.op == "=" else None
        else:
            new = replace(node, e=zero(returns))
        memo[id(node)] = new
        return new
    if isinstance(node, (Lit, Var, Size, Break, Continue)) or node is None:
        new = node
    else:
        changes = {}
        for name in ("a", "b", "c", "e", "init", "index", "then", "other", "body"):
            if hasattr(node, name):
                changes[name] = rebuild(getattr(node, name), bad, memo, returns)
        new = replace(node, **changes)
    memo[id(node)] = new
    return new


def make_safe(fn: Function) -> Function:
    for _ in range(500):
        analysis = Analysis(fn.returns)
        analysis.block(fn.body, params_env())
        if not analysis.bad:
            return fn
        fn = Function(fn.returns, rebuild(fn.body, analysis.bad, {}, fn.returns))
    raise AssertionError("the repair of unsafe operations does not converge")


# -- printing --------------------------------------------------------------------------------------------------


def prec(e: Expr) -> int:
    if isinstance(e, Bin):
        return PREC[e.op]
    if isinstance(e, Cond):
        return TERNARY
    if isinstance(e, Unary) or (isinstance(e, Cast) and e.style == "c"):
        return UNARY
    return ATOM


def text(e: Expr) -> str:
    def child(c: Expr, minimum: int) -> str:
        s = text(c)
        return f"({s})" if prec(c) < minimum else s

    if isinstance(e, Lit):
        return e.text
    if isinstance(e, Var):
        return e.shown or e.name
    if isinstance(e, Size):
        return f"{e.vec}.size()"
    if isinstance(e, Index):
        return f"{e.vec}[{e.index.name}]"
    if isinstance(e, Unary):
        operand = child(e.a, UNARY)
        return e.op + (" " if operand.startswith("-") else "") + operand
    if isinstance(e, Bin):
        p = PREC[e.op]
        return f"{child(e.a, p)} {e.op} {child(e.b, p + 1)}"
    if isinstance(e, Cond):
        return f"{child(e.c, TERNARY + 1)} ? {child(e.a, TERNARY + 1)} : {child(e.b, TERNARY)}"
    if isinstance(e, Cast):
        if e.style == "c":
            return f"({e.t.name}){child(e.a, UNARY)}"
        if e.style == "functional":
            return f"{e.t.name}({text(e.a)})"
        return f"static_cast<{e.t.name}>({text(e.a)})"
    if isinstance(e, Call):
        return f"{e.fn}({text(e.a)})"
    raise TypeError(e)


def lines(s, indent: str) -> list[str]:  # noqa: C901 - one case per statement
    inner = indent + "    "
    if isinstance(s, Decl):
        if s.init is None:
            return [f"{indent}ROOT::RVec<float> out;"]
        spelled = "auto" if s.auto else s.t.name
        return [f"{indent}{'const ' if s.const else ''}{spelled} {s.shown or s.name} = {text(s.init)};"]
    if isinstance(s, Assign):
        name = s.shown or s.name
        if s.op in ("++", "--"):
            return [f"{indent}{name}{s.op};" if s.postfix else f"{indent}{s.op}{name};"]
        return [f"{indent}{name} {s.op} {text(s.e)};"]
    if isinstance(s, If):
        if not s.braces and len(s.then) == 1 and not s.other and not isinstance(s.then[0], (If, For)):
            return [f"{indent}if ({text(s.c)}) {lines(s.then[0], '')[0]}"]
        out = [f"{indent}if ({text(s.c)}) {{", *block_lines(s.then, inner)]
        if s.other:
            out += [f"{indent}}} else {{", *block_lines(s.other, inner)]
        return [*out, f"{indent}}}"]
    if isinstance(s, For):
        if s.indexed:
            start = f"auto {s.var} = 0u" if s.spelling == "auto" else f"{s.spelling} {s.var} = 0"
            head = f"for ({start}; {s.var} < {s.vec}.size(); {s.step.replace('i', s.var)})"
        else:
            head = f"for ({s.spelling} {s.var} : {s.vec})"
        return [f"{indent}{head} {{", *block_lines(s.body, inner), f"{indent}}}"]
    if isinstance(s, Break):
        return [f"{indent}break;"]
    if isinstance(s, Continue):
        return [f"{indent}continue;"]
    if isinstance(s, Return):
        return [f"{indent}return {'out' if s.e is None else text(s.e)};"]
    if isinstance(s, Push):
        return [f"{indent}out.{s.method}({text(s.e)});"]
    raise TypeError(s)


def block_lines(stmts: list, indent: str) -> list[str]:
    return [line for s in stmts for line in lines(s, indent)]


def source(fn: Function, name: str = "f") -> str:
    return "\n".join([f"{fn.returns.name} {name}({SIGNATURE}) {{", *block_lines(fn.body, "    "), "}"])


# -- the grammar -----------------------------------------------------------------------------------------------

NUMERIC = [INT, FLOAT, DOUBLE, UINT, LONG, SIZE]
LOCAL_TYPES = [INT, FLOAT, DOUBLE, UINT, LONG, BOOL]
RETURN_TYPES = [INT, FLOAT, DOUBLE, UINT, BOOL, LONG, RVEC]
#: Operand types of an arithmetic operator whose common type is the key.
ARITH_PAIRS = {
    INT: [(INT, INT), (INT, BOOL), (BOOL, INT)],
    UINT: [(UINT, UINT), (UINT, INT), (INT, UINT), (BOOL, UINT)],
    LONG: [(LONG, LONG), (LONG, INT), (INT, LONG), (LONG, UINT), (UINT, LONG)],
    SIZE: [(SIZE, SIZE), (SIZE, INT), (INT, SIZE), (UINT, SIZE), (SIZE, LONG)],
    FLOAT: [(FLOAT, FLOAT), (FLOAT, INT), (INT, FLOAT), (FLOAT, UINT), (LONG, FLOAT), (FLOAT, SIZE), (BOOL, FLOAT)],
    DOUBLE: [(DOUBLE, DOUBLE), (DOUBLE, FLOAT), (FLOAT, DOUBLE), (DOUBLE, INT), (UINT, DOUBLE), (DOUBLE, LONG),
             (SIZE, DOUBLE)],
}  # fmt: skip
COMPARE_PAIRS = [(INT, INT), (FLOAT, FLOAT), (DOUBLE, DOUBLE), (FLOAT, DOUBLE), (INT, FLOAT), (UINT, UINT),
                 (INT, UINT), (SIZE, INT), (SIZE, SIZE), (LONG, UINT), (DOUBLE, LONG), (BOOL, BOOL), (BOOL, INT)]  # fmt: skip
FLOAT_TEXTS = ["1.f", "0.5f", "2.5f", "0.1f", "3.75f", "1e-3f", ".25f", "100.f", "1.1f", "0.3f", "7.0f", "12345e-3f"]
DOUBLE_TEXTS = ["1.0", "0.5", "2.5", "0.1", "3.75", "1e-3", ".25", "100.", "1.1", "0.3", "7.0", "1.5e2"]
INT_VALUES = [1, 2, 3, 4, 5, 7, 9, 10, 12, 100, 255, 1000, 65535]
BIG_VALUES = {INT: [2147483647], UINT: [2147483648, 4294967295], LONG: [4294967296, 9223372036854775807], SIZE: []}
RANGE_FOR = {"v": [("auto", FLOAT), ("float", FLOAT), ("const auto&", FLOAT), ("double", DOUBLE),
                   ("const float&", FLOAT), ("int", INT)],
             "w": [("auto", INT), ("int", INT), ("const auto&", INT), ("long", LONG), ("float", FLOAT),
                   ("unsigned int", UINT)]}  # fmt: skip
CAST_STYLES = ["static", "c", "functional"]  # static_cast<T>(e), (T)e, T(e)
INDEX_TYPES = [("std::size_t", SIZE), ("int", INT), ("unsigned int", UINT), ("auto", UINT)]

for _t, _pairs in ARITH_PAIRS.items():
    assert all(common(a, b) is _t for a, b in _pairs), _t


class HypothesisChoices:
    """Choices drawn by hypothesis: each shrinks towards its first option, towards False and towards lo."""

    def __init__(self, draw):
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def choice(self, options: list):
        return self.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 99)) >= 100 - round(100 * p)


class RandomChoices:
    """The same choices from a seeded random generator (the deterministic tests)."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: list):
        return self.rng.choice(options)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


@dataclass
class Scope:
    """What the code at a point may use besides the variables of ``env``."""

    mutable: frozenset = frozenset()  # variables that may be assigned
    indexes: tuple = ()  # (index variable, the RVec it indexes)
    loop_depth: int = 0
    if_depth: int = 0
    hidden: frozenset = frozenset()  # outer locals shadowed by a local of the same C++ name
    declared: frozenset = frozenset()  # the C++ names declared in the current block


class Generator:
    def __init__(self, choices):
        self.c = choices
        self.names = itertools.count()
        self.env: dict = {}
        self.returns = INT
        self.shown: dict[str, str] = {}  # unique name -> C++ name, for locals that shadow an outer one

    def var(self, name: str) -> Var:
        return Var(self.env[name][0], name, self.shown.get(name, ""))

    # -- expressions ---------------------------------------------------------------
    def safe(self, node: Expr) -> bool:
        analysis = Analysis(self.returns)
        analysis.expr(node, self.env)
        return not analysis.bad

    def checked(self, node: Expr, *children: Expr) -> Expr:
        """``node`` if it is safe on the current intervals, else a child of its type or a literal."""
        if self.safe(node):
            return node
        return next((c for c in children if c.t is node.t), None) or self.literal(node.t)

    def literal(self, t: T) -> Lit:
        if t is BOOL:
            value = self.c.choice([True, False])
            return Lit(BOOL, int(value), "true" if value else "false")
        if t.kind == "f":
            s = self.c.choice(FLOAT_TEXTS if t is FLOAT else DOUBLE_TEXTS)
            if self.c.chance(0.2):
                # A random decimal of at most 8 digits. A gap, reported: hepframe rounds float literals through
                # double, so a literal of ~17+ digits next to a float midpoint differs from C++ (16777217.000000001f
                # is 16777218 in ROOT, 16777216 in hepframe); at 8 digits both roundings agree.
                digits = str(self.c.integer(1, 99999999))
                point = self.c.integer(0, len(digits))
                s = f"{digits[:point]}.{digits[point:]}" + ("f" if t is FLOAT else "")
            return Lit(t, float(s.rstrip("f")), s)
        value = self.c.integer(0, 9) if self.c.chance(0.7) else self.c.choice(INT_VALUES + BIG_VALUES[t])
        suffix = {INT: "", UINT: "u", LONG: "L", SIZE: "ul"}[t]
        return Lit(t, value, f"{value}{suffix}")

    def leaf(self, t: T, scope: Scope) -> Expr:
        """A literal, a variable, an element in a loop, a size (or for bools a comparison with a literal)."""
        options: list = [("literal",)]
        loop_variables = {i for i, _ in scope.indexes} | {"e", "g"}
        for name, (vt, _) in self.env.items():
            if vt is t and name != "out" and name not in scope.hidden:
                options += [("var", name)] * (4 if name in loop_variables else 2)
        for i, vec in scope.indexes:
            if t is ELEMENTS[vec][0]:
                options += [("index", i, vec)] * 4
            other = "w" if vec == "v" else "v"
            if t is ELEMENTS[other][0]:
                options.append(("guarded", i, other))
        if t is SIZE:
            options += [("size", "v"), ("size", "w")] + ([("size", "out")] if "out" in self.env else [])
        if t is BOOL:
            options += [("compare",)] * 3
        option = self.c.choice(options)
        if option[0] == "var":
            return self.var(option[1])
        if option[0] == "compare":
            a = self.leaf(self.c.choice(NUMERIC), scope)
            return Bin(BOOL, self.c.choice(list(COMPARISONS)), a, self.literal(a.t))
        if option[0] == "size":
            return Size(SIZE, option[1])
        if option[0] == "index":
            return Index(t, option[2], self.var(option[1]))
        if option[0] == "guarded":  # i < w.size() ? w[i] : 0, inside a loop over v
            i = self.var(option[1])
            return Cond(t, Bin(BOOL, "<", i, Size(SIZE, option[2])), Index(t, option[2], i), zero(t))
        return self.literal(t)

    def expr(self, t: T, depth: int, scope: Scope) -> Expr:  # noqa: C901 - one case per construct
        if depth <= 0 or not self.c.chance(0.65):
            return self.leaf(t, scope)
        if t is BOOL:
            return self.condition(depth, scope)
        kinds = ["arith", "arith", "unary", "cast", "ternary", "divide"]
        if t in (INT, LONG, FLOAT, DOUBLE):
            kinds.append("abs")
        if t.kind == "f":
            kinds += ["sqrt", "guarded"]
        kind = self.c.choice(kinds)
        if kind == "arith":
            ta, tb = self.c.choice(ARITH_PAIRS[t])
            a, b = self.expr(ta, depth - 1, scope), self.expr(tb, depth - 1, scope)
            return self.checked(Bin(t, self.c.choice(["+", "-", "*"]), a, b), a, b)
        if kind == "unary":
            a = self.expr(self.c.choice([t, BOOL]) if t is INT else t, depth - 1, scope)
            return self.checked(Unary(t, "-", a), a)
        if kind == "cast":
            a = self.expr(self.c.choice([s for s in [*NUMERIC, BOOL] if s is not t]), depth - 1, scope)
            styles = CAST_STYLES if " " not in t.name and ":" not in t.name else CAST_STYLES[:2]
            return self.checked(Cast(t, a, self.c.choice(styles)))
        if kind == "ternary":
            ta, tb = self.c.choice([(t, t), *ARITH_PAIRS[t]])
            c = self.condition(depth - 1, scope)
            a, b = self.expr(ta, depth - 1, scope), self.expr(tb, depth - 1, scope)
            return Cond(t, c, a, b)
        if kind == "divide":
            a = self.expr(t, depth - 1, scope)
            if t.kind == "f":
                k = self.literal(t)
                k = k if k.value != 0 else Lit(t, 2.0, "2.f" if t is FLOAT else "2.0")
                return self.checked(Bin(t, "/", a, k), a)
            k = self.literal(INT if t is SIZE else t)
            k = k if k.value != 0 else Lit(k.t, 3, "3" + k.text[1:])
            return self.checked(Bin(t, self.c.choice(["/", "%"]), a, k), a)
        if kind == "abs":
            a = self.expr(t, depth - 1, scope)
            return self.checked(Call(t, "std::abs", a), a)
        if kind == "sqrt":  # std::sqrt(std::abs(e)): float for float, double for double and integers
            ta = FLOAT if t is FLOAT else self.c.choice([DOUBLE, INT, LONG])
            a = self.expr(ta, depth - 1, scope)
            inner = self.checked(Call(ta, "std::abs", a), a)
            return Call(t, "std::sqrt", inner) if inner.t is ta else inner
        # guarded division: (b != 0 ? a / b : c), b a variable or a literal. Never unguarded: besides being undefined
        # in C++, a float division by zero raises in hepframe's helpers (a gap, reported), where ROOT gives inf/NaN.
        ta, tb = self.c.choice([p for p in ARITH_PAIRS[t] if BOOL not in p])
        a, b, other = self.expr(ta, depth - 1, scope), self.leaf(tb, scope), self.expr(t, depth - 1, scope)
        return Cond(t, Bin(BOOL, "!=", b, zero(tb)), Bin(t, "/", a, b), other)

    def condition(self, depth: int, scope: Scope) -> Expr:
        if depth <= 0:
            return self.leaf(BOOL, scope)
        kind = self.c.choice(["compare", "compare", "compare", "logical", "not", "leaf", "cast"])
        if kind == "compare":
            ta, tb = self.c.choice(COMPARE_PAIRS)
            a, b = self.expr(ta, depth - 1, scope), self.expr(tb, depth - 1, scope)
            return Bin(BOOL, self.c.choice(list(COMPARISONS)), a, b)
        if kind == "logical":
            a, b = self.condition(depth - 1, scope), self.condition(depth - 1, scope)
            return Bin(BOOL, self.c.choice(["&&", "||"]), a, b)
        if kind == "not":
            return Unary(BOOL, "!", self.expr(self.c.choice([BOOL, BOOL, INT, FLOAT]), depth - 1, scope))
        if kind == "cast":
            return Cast(BOOL, self.expr(self.c.choice(NUMERIC), depth - 1, scope), self.c.choice(CAST_STYLES))
        return self.leaf(BOOL, scope)

    def any_type(self, preferred: T) -> T:
        return preferred if self.c.chance(0.5) else self.c.choice([*NUMERIC, BOOL])

    # -- statements ------------------------------------------------------------------
    def advance(self, s) -> bool:
        """Update the intervals past ``s``; False when no path falls through it."""
        flow = Analysis(self.returns).stmt(s, self.env)
        if flow.normal is None:
            return False
        self.env = flow.normal
        return True

    def block(self, count: int, scope: Scope) -> list:
        saved_env = self.env
        scope = replace(scope, declared=frozenset())
        out = []
        for _ in range(count):
            s, scope = self.statement(scope)
            out.append(s)
            if not self.advance(s):
                break
        self.env = saved_env
        return out

    def statement(self, scope: Scope):  # noqa: C901 - one case per statement
        kinds = ["assign", "assign", "assign", "decl"]
        if scope.if_depth < 2:
            kinds.append("if")
        if scope.loop_depth < 2:
            kinds += ["loop", "loop"]
        if "out" in self.env:
            kinds += ["push", "push"]
        if scope.loop_depth:
            kinds += ["continue", "break"]
        kinds.append("return")
        kind = self.c.choice(kinds)
        if kind == "assign" and scope.mutable:
            return self.assignment(scope), scope
        if kind == "decl" or kind == "assign":
            return self.declaration(scope)
        if kind == "if":
            c = self.condition(2, scope)
            inner = replace(scope, if_depth=scope.if_depth + 1)
            then = self.block(self.c.integer(1, 3), inner)
            other = self.block(self.c.integer(1, 2), inner) if self.c.chance(0.5) else []
            return If(c, then, other), scope
        if kind == "loop":
            return self.loop(scope), scope
        if kind == "push":
            return Push(self.expr(self.any_type(FLOAT), 3, scope), self.c.choice(["push_back", "emplace_back"])), scope
        if kind in ("continue", "break"):
            c = self.condition(2, scope)
            return If(c, [Continue() if kind == "continue" else Break()], [], braces=self.c.chance(0.5)), scope
        e = None if self.returns is RVEC else self.expr(self.any_type(self.returns), 2, scope)
        s = Return(e)
        if e is not None and not self.fits(e, self.returns):
            s = Return(self.literal(self.returns))
        return If(self.condition(2, scope), [s], [], braces=self.c.chance(0.5)), scope

    def declaration(self, scope: Scope) -> tuple[Decl, Scope]:
        name = f"a{next(self.names)}"
        outer = [a for a in sorted(self.env) if a.startswith("a") and a not in scope.hidden
                 and self.shown.get(a, a) not in scope.declared]  # fmt: skip
        if outer and self.c.chance(0.15):  # shadow a local of an enclosing block
            target = self.c.choice(outer)
            self.shown[name] = self.shown.get(target, target)
            scope = replace(scope, hidden=scope.hidden | {target}, mutable=scope.mutable - {target})
        const, auto = self.c.chance(0.2), self.c.chance(0.2)
        if auto:
            init = self.expr(self.c.choice([*NUMERIC, BOOL]), 3, scope)
            t = init.t
        else:
            t = self.c.choice(LOCAL_TYPES)
            init = self.expr(self.any_type(t), 3, scope)
        s = Decl(name, t, init if self.fits(init, t) else self.literal(t), const, auto, self.shown.get(name, ""))
        declared = scope.declared | {self.shown.get(name, name)}
        return s, replace(scope, mutable=scope.mutable if const else scope.mutable | {name}, declared=declared)

    def fits(self, e: Expr, t: T) -> bool:
        try:
            convert(Analysis(self.returns).expr(e, self.env), e.t, t)
        except Unsafe:
            return False
        return True

    def assignment(self, scope: Scope, prefer: T | None = None) -> Assign:
        """An assignment to a mutable variable; ``prefer``: the type its value preferably has (a loop element's)."""
        name = self.c.choice(sorted(scope.mutable))
        t, shown = self.env[name][0], self.shown.get(name, "")
        ops = ["=", "+=", "-=", "*=", "++", "--", "/="] + (["%="] if t.kind == "i" else [])
        op = "=" if t is BOOL else self.c.choice(ops)
        if op in ("++", "--"):
            e = None
        elif op == "*=" and t.kind == "i":
            e = self.c.choice([Lit(INT, 2, "2"), Lit(INT, 1, "1"), Unary(INT, "-", Lit(INT, 1, "1")), Lit(INT, 0, "0")])
        elif op in ("/=", "%="):  # by a non-zero literal, positive for integers
            e = self.literal(self.c.choice([INT, t]) if t.kind == "i" else self.c.choice([FLOAT, DOUBLE]))
            if e.value == 0:
                e = Lit(e.t, 2.0 if e.t.kind == "f" else 2, "2" + e.text[1:])
        else:
            e = self.expr(prefer if prefer is not None and self.c.chance(0.7) else self.any_type(t), 2, scope)
        s = Assign(name, t, op, e, self.c.chance(0.5), shown)
        analysis = Analysis(self.returns)
        analysis.stmt(s, self.env)
        return s if not analysis.bad else Assign(name, t, "=", self.literal(t), shown=shown)

    def loop(self, scope: Scope) -> For:
        """A loop whose body updates a variable with the elements first (and pushes one, for RVec results)."""
        vec = self.c.choice(["v", "w"])
        inner = replace(scope, loop_depth=scope.loop_depth + 1)
        saved = self.env
        indexed = self.c.chance(0.5)
        if indexed:
            var = "ij"[scope.loop_depth]
            spelling, t = self.c.choice(INDEX_TYPES)
            inner = replace(inner, indexes=(*scope.indexes, (var, vec)))
            self.env = {**saved, var: (t, (0, MAX_SIZE - 1))}
        else:
            var = "eg"[scope.loop_depth]
            spelling, t = self.c.choice(RANGE_FOR[vec])
            if "&" not in spelling:  # a copy: the body may change it
                inner = replace(inner, mutable=inner.mutable | {var})
            self.env = {**saved, var: (t, convert(ELEMENTS[vec][1], ELEMENTS[vec][0], t))}
        body: list = [self.assignment(inner, ELEMENTS[vec][0])]
        self.advance(body[0])
        body += self.block(self.c.integer(0, 2), inner)
        if self.returns is RVEC:
            body.append(Push(self.expr(FLOAT, 2, inner), self.c.choice(["push_back", "emplace_back"])))
        self.env = saved
        step = self.c.choice(["++i", "i++", "i += 1"])
        return For(var, t, vec, body, spelling, indexed, step)

    def function(self) -> Function:
        self.returns = self.c.choice(RETURN_TYPES)
        self.env = params_env()
        scope = Scope(mutable=frozenset(PARAMS))
        body: list = []
        if self.returns is RVEC:
            body.append(Decl("out", RVEC, None))
            self.advance(body[-1])
        for _ in range(self.c.integer(1, 3)):  # declarations first
            s, scope = self.declaration(scope)
            body.append(s)
            self.advance(s)
        body.append(self.loop(scope))  # every function has a loop
        self.advance(body[-1])
        for _ in range(self.c.integer(0, 3)):
            s, scope = self.statement(scope)
            body.append(s)
            self.advance(s)
        if self.returns is RVEC:
            body.append(Return(None))
        else:
            e = self.expr(self.any_type(self.returns), 3, Scope())
            body.append(Return(e if self.fits(e, self.returns) else self.literal(self.returns)))
        return make_safe(Function(self.returns, body))


@st.composite
def functions(draw) -> Function:
    return Generator(HypothesisChoices(draw)).function()


# -- the tests ------------------------------------------------------------------------------------------------

_namespaces = itertools.count()


@pytest.fixture(scope="module")
def property_file(tmp_path_factory) -> str:
    """64 events within the intervals the analysis assumes: zeros, negative values, -0.0, a subnormal, empty RVecs."""
    path = tmp_path_factory.mktemp("cpp_properties") / "events.root"
    rng = np.random.default_rng(16)
    n = 64
    counts = rng.integers(0, MAX_SIZE + 1, n)
    counts[:2] = (0, MAX_SIZE)
    x = rng.uniform(-40, 40, n).astype(np.float32)
    x[:4] = (0.0, -0.0, 1e-40, 2.5)
    d = rng.uniform(-400, 400, n)
    d[:3] = (0.0, -0.0, 0.5)
    v = rng.uniform(-30, 70, counts.sum()).astype(np.float32)
    v[::7] = 0.0
    branches = {
        "x": x, "d": d, "n": rng.integers(-20, 21, n).astype(np.int32), "u": rng.integers(0, 7, n).astype(np.uint32),
        "v": ak.unflatten(v, counts), "w": ak.unflatten(rng.integers(-3, 5, counts.sum()).astype(np.int32), counts),
    }  # fmt: skip
    for name, (_, (lo, hi)) in {**PARAMS, **ELEMENTS}.items():
        values = ak.flatten(branches[name]) if name in ELEMENTS else branches[name]
        assert lo <= ak.min(values) and ak.max(values) <= hi, name
    with uproot.recreate(path) as f:
        f["t"] = branches
    return str(path)


def _as_arrays(values: np.ndarray) -> np.ndarray:
    """ROOT's RVec cells (or hepframe's) as an object array of numpy arrays."""
    if values.dtype != object:
        return values
    out = np.empty(len(values), dtype=object)
    for k, cell in enumerate(values):
        out[k] = np.array(cell)  # a copy, of the cell's dtype
    return out


@pytest.mark.root
@pytest.mark.slow
@settings(max_examples=45, deadline=None, derandomize=True, database=None, print_blob=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(fn=functions(), engine=st.sampled_from(["polars", "reference"]))
def test_random_helpers_match_root(fn: Function, engine: str, property_file: str, ROOT) -> None:  # noqa: N803
    namespace = f"cpp_property_{next(_namespaces)}"
    code = f"namespace {namespace} {{\n{source(fn)}\n}}"
    note(code)
    assert ROOT.gInterpreter.Declare(code), "the generator wrote C++ that ROOT does not compile"
    hepframe.declare(code)
    call = f"{namespace}::f{CALL}"
    ours = hepframe.RDataFrame("t", property_file, engine=engine).Define("out", call).AsNumpy(["out"])["out"]
    theirs = ROOT.RDataFrame("t", property_file).Define("out", call).AsNumpy(["out"])["out"]
    assert_same_values(_as_arrays(ours), _as_arrays(theirs), "f")


def test_generated_helpers_compile_in_hepframe() -> None:
    """The grammar's programs (20 seeds) parse and compile in hepframe alone, and together use all of it."""
    programs = [Generator(RandomChoices(seed)).function() for seed in range(20)]
    code = "\n".join(f"namespace cpp_property_seed_{k} {{\n{source(fn)}\n}}" for k, fn in enumerate(programs))
    assert len(hepframe.declare(code)) == 20
    constructs = ("for (std::size_t", "for (auto", "} else {", " ? ", "continue;", "break;", "static_cast<", "std::abs(",
                  "std::sqrt(std::abs(", "push_back(", "v.size()", "v[i]", " % ", " / ", "+=", "-=", "*=", "/=",
                  "unsigned int a", "long a", "auto a", "ROOT::RVec<float> f(", "bool f(", "return out;")  # fmt: skip
    for construct in constructs:
        assert construct in code, construct
    for fn in programs:
        analysis = Analysis(fn.returns)
        analysis.block(fn.body, params_env())
        assert not analysis.bad  # make_safe left nothing unproven


def test_the_analysis_replaces_what_it_cannot_prove_safe() -> None:
    """Signed overflow in a loop's later iterations and out-of-range float-to-int conversions become zeros (or are
    dropped); INT_MIN / 2 and the negation of a large unsigned constant, defined in C++, are kept."""
    big = Lit(INT, 1_000_000_000, "1000000000")
    overflow = Function(INT, [Decl("a0", INT, big), For("e", FLOAT, "v", [Assign("a0", INT, "+=", big)], "auto", False),
                              Return(Var(INT, "a0"))])  # fmt: skip
    assert "+=" not in source(make_safe(overflow))
    grows = [Decl("a0", FLOAT, Lit(FLOAT, 2.0, "2.f")),
             For("i", SIZE, "v", [Assign("a0", FLOAT, "*=", Lit(FLOAT, 1e6, "1e6f"))], "std::size_t"),
             Return(Cast(INT, Var(FLOAT, "a0")))]  # fmt: skip
    assert source(make_safe(Function(INT, grows))).endswith("return 0;\n}")
    int_min = Bin(INT, "-", Unary(INT, "-", Lit(INT, 2147483647, "2147483647")), Lit(INT, 1, "1"))
    assert "/ 2" in source(make_safe(Function(INT, [Return(Bin(INT, "/", int_min, Lit(INT, 2, "2")))])))
    assert source(make_safe(Function(INT, [Return(int_min)]))).endswith("return -2147483647 - 1;\n}")
    negated = Unary(SIZE, "-", Unary(SIZE, "-", Lit(SIZE, 1000, "1000ul")))
    assert "1000ul" in source(make_safe(Function(DOUBLE, [Return(negated)])))
