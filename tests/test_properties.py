"""Property-based differential test: random typed expressions over random jagged data.

Hypothesis generates small trees (1-12 events: scalar columns of every common type and one
collection ``A`` with float, int and bool fields, empty lists and IEEE edge values included)
and well-typed C++ expression strings (depth <= 3). The Polars engine must give exactly the
reference evaluator's values: same dtype, bit for bit, NaN == NaN.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass

import awkward as ak
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import hepframe
from hepframe.datasets import write_tree
from hepframe.errors import ExpressionTypeError
from tests.conftest import assert_same_values

pytestmark = [
    pytest.mark.filterwarnings("ignore::hepframe.expr.binder.UnsignedUnderflowWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]

STEP_SIZE = 5  # up to 12 events: up to three batches per run
MAX_DEPTH = 3
NAN, INF = math.nan, math.inf

# -- data ----------------------------------------------------------------------------------

F32_SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -1.5, 2.5, 3.0, 1e30, -1e-30, 3.4028234663852886e38, 1e-45]
F64_SPECIAL = [NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e300, -1e-300, 1.7976931348623157e308, 5e-324]
I32_SPECIAL = [0, 1, -1, 2, -2, 3, 7, -8, 65536, -65536, 2**31 - 1, -(2**31)]
U32_SPECIAL = [0, 1, 2, 3, 7, 2**16, 2**31 - 1, 2**31, 2**32 - 1]

f32_values = st.one_of(st.sampled_from(F32_SPECIAL), st.floats(width=32))
f64_values = st.one_of(st.sampled_from(F64_SPECIAL), st.floats())
i32_values = st.one_of(st.sampled_from(I32_SPECIAL), st.integers(-(2**31), 2**31 - 1))
u32_values = st.one_of(st.sampled_from(U32_SPECIAL), st.integers(0, 2**32 - 1))


@st.composite
def trees(draw) -> dict:
    """Branches for write_tree: scalars f, d, i, u, b and the collection A (counter nA)."""
    n = draw(st.integers(1, 12))
    counts = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)), dtype=np.int64)
    total = int(counts.sum())

    def column(values, dtype, size):
        return np.array(draw(st.lists(values, min_size=size, max_size=size)), dtype=dtype)

    def jagged(values, dtype):
        return ak.unflatten(column(values, dtype, total), counts)  # typed even when every list is empty

    return {
        "f": column(f32_values, np.float32, n),
        "d": column(f64_values, np.float64, n),
        "i": column(i32_values, np.int32, n),
        "u": column(u32_values, np.uint32, n),
        "b": column(st.booleans(), np.bool_, n),
        "A_f": jagged(f32_values, np.float32),
        "A_i": jagged(i32_values, np.int32),
        "A_b": jagged(st.booleans(), np.bool_),
    }


# -- expressions ---------------------------------------------------------------------------

# RVec lengths: "A" is the collection's own length; a mask gives ("mask", base tag, condition);
# a ?: between RVecs of different lengths gives ("fresh", text), which only that text has.
# Element-wise operations only combine RVecs with equal tags (ROOT throws on size mismatches).
Tag = object


@dataclass(frozen=True)
class Typed:
    text: str
    rvec: bool
    is_bool: bool  # the scalar (or element) type is bool
    tag: Tag = None


SCALAR_COLUMNS = [Typed("f", False, False), Typed("d", False, False), Typed("i", False, False),
                  Typed("u", False, False), Typed("b", False, True), Typed("nA", False, False)]  # fmt: skip
RVEC_COLUMNS = [Typed("A_f", True, False, "A"), Typed("A_i", True, False, "A"), Typed("A_b", True, True, "A")]
LITERALS = [Typed(t, False, False) for t in ("0", "3", "(-2)", "2u", "7", "2147483647", "1.5", "2.5f", "(-0.5)",
                                             "0.0", "(-0.f)", "1e30f", "1e-3")]  # fmt: skip
LITERALS += [Typed("true", False, True), Typed("false", False, True)]

ARITHMETIC = ["+", "-", "*"]
COMPARISONS = ["<", "<=", ">", ">=", "==", "!="]
LOGICAL = ["&&", "||"]
MATH1 = ["sqrt", "abs", "exp", "sin", "cos", "floor"]
MATH2 = ["pow", "atan2", "hypot"]
REDUCTIONS = ["Sum", "Any", "All", "Mean", "size"]


def _size(x: Typed) -> str:
    return f"{x.text}.size()"


@st.composite
def scalars(draw, depth: int) -> Typed:
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(SCALAR_COLUMNS + LITERALS))
    kind = draw(
        st.sampled_from(["binary", "binary", "unary", "ternary", "math1", "math2", "reduce", "reduce", "index"])
    )
    sub = depth - 1
    if kind == "binary":
        op = draw(st.sampled_from(ARITHMETIC + COMPARISONS + LOGICAL))
        a, b = draw(scalars(sub)), draw(scalars(sub))
        return Typed(f"({a.text} {op} {b.text})", False, op not in ARITHMETIC)
    if kind == "unary":
        op = draw(st.sampled_from(["-", "!"]))
        a = draw(scalars(sub))
        return Typed(f"({op} {a.text})", False, op == "!")
    if kind == "ternary":
        c, a, b = draw(scalars(sub)), draw(scalars(sub)), draw(scalars(sub))
        return Typed(f"({c.text} ? {a.text} : {b.text})", False, a.is_bool and b.is_bool)
    if kind == "math1":
        fn, a = draw(st.sampled_from(MATH1)), draw(scalars(sub))
        return Typed(f"{fn}({a.text})", False, False)
    if kind == "math2":
        fn, a, b = draw(st.sampled_from(MATH2)), draw(scalars(sub)), draw(scalars(sub))
        return Typed(f"{fn}({a.text}, {b.text})", False, False)
    if kind == "reduce":
        fn, v = draw(st.sampled_from(REDUCTIONS)), draw(rvecs(sub))
        if fn == "size":
            return Typed(_size(v), False, False)
        return Typed(f"{fn}({v.text})", False, fn in ("Any", "All"))
    # Guarded indexing: ?:, && and || evaluate their right side only when C++ would, so v[k]
    # is never out of range where it matters (the engines compute it anyway, as undefined).
    v = draw(rvecs(sub))
    guard, element = draw(guarded_element(v))
    then = draw(uses_of(element, sub))
    form = draw(st.sampled_from(["?:", "?:", "&&", "||"]))
    if form == "&&":
        return Typed(f"({guard} && {then})", False, True)
    if form == "||":
        return Typed(f"(!({guard}) || {then})", False, True)
    default = draw(st.one_of(scalars(sub), st.sampled_from([Typed(t, False, False) for t in ("0", "0.f", "(-1)")])))
    return Typed(f"({guard} ? {then} : {default.text})", False, False)


@st.composite
def guarded_element(draw, v: Typed) -> tuple[str, str]:
    """A condition that holds exactly when ``v[k]`` is in range, and ``v[k]``."""
    index = draw(st.sampled_from(["0", "1", "2", "i", "u"]))
    if index == "i":
        guard = f"i >= 0 && i < {_size(v)}"
    elif index == "u":
        guard = f"u < {_size(v)}"
    elif v.tag == "A" and draw(st.booleans()):
        guard = f"nA > {index}"
    else:
        guard = f"{_size(v)} > {index}"
    return guard, f"{v.text}[{index}]"


@st.composite
def uses_of(draw, element: str, depth: int) -> str:
    """``element`` itself, or a scalar computation on it (undefined values flow through it)."""
    use = draw(st.sampled_from(["plain", "plain", "math1", "binary", "math2"]))
    if use == "plain":
        return element
    if use == "math1":
        return f"{draw(st.sampled_from(MATH1))}({element})"
    other = draw(scalars(depth)).text
    if draw(st.booleans()):
        element, other = other, element
    if use == "math2":
        return f"{draw(st.sampled_from(MATH2))}({element}, {other})"
    return f"({element} {draw(st.sampled_from(ARITHMETIC + COMPARISONS + LOGICAL))} {other})"


def _reachable(tag: Tag) -> bool:
    """Whether rvecs() can build an RVec of this length from scratch (not only by reuse)."""
    return tag is None or tag == "A" or (isinstance(tag, tuple) and tag[0] == "mask" and tag[1] == "A")


@st.composite
def rvecs(draw, depth: int, tag: Tag = None, sibling: Typed | None = None) -> Typed:
    """An RVec expression; with ``tag``, one of that length (``sibling`` has it, for reuse)."""
    if tag is not None and not _reachable(tag) or (sibling is not None and draw(st.integers(0, 4)) == 0):
        assert sibling is not None
        return sibling
    leaf_ok = tag in (None, "A")
    if depth == 0 or (leaf_ok and draw(st.integers(0, 3)) == 0):
        if leaf_ok:
            return draw(st.sampled_from(RVEC_COLUMNS))
        assert isinstance(tag, tuple)
        return Typed(f"A_f[{tag[2]}]", True, False, tag)  # a mask of the collection, minimal depth
    sub = depth - 1
    kinds = ["binary", "binary", "unary", "ternary", "math1", "math2"]
    if tag is None or (isinstance(tag, tuple) and tag[0] == "mask"):
        kinds += ["mask", "mask"]
    if tag is None:
        kinds += ["indexed"]
    kind = draw(st.sampled_from(kinds))
    if kind == "indexed":  # an RVec combined with a guarded element of another one
        guard, element = draw(guarded_element(draw(rvecs(sub))))
        a = draw(rvecs(sub))
        op = draw(st.sampled_from(ARITHMETIC + COMPARISONS + LOGICAL))
        b = a if draw(st.booleans()) else draw(rvecs(sub))
        text = f"({guard} ? ({a.text} {op} {element}) : {b.text})"
        return Typed(text, True, False, ("fresh", text))
    if kind in ("binary", "math2"):
        a = draw(rvecs(sub, tag, sibling))
        b = draw(st.one_of(rvecs(sub, a.tag, a), scalars(sub)))
        if draw(st.booleans()):
            a, b = b, a
        if kind == "math2":
            return Typed(f"{draw(st.sampled_from(MATH2))}({a.text}, {b.text})", True, False, a.tag or b.tag)
        op = draw(st.sampled_from(ARITHMETIC + COMPARISONS + LOGICAL))
        return Typed(f"({a.text} {op} {b.text})", True, False, a.tag or b.tag)
    if kind == "unary":
        a = draw(rvecs(sub, tag, sibling))
        # -RVec<bool> and ~RVec<bool> are rejected by design: use ! on bool RVecs.
        op = "!" if a.is_bool else draw(st.sampled_from(["-", "!"]))
        return Typed(f"({op} {a.text})", True, a.is_bool, a.tag)
    if kind == "math1":
        a = draw(rvecs(sub, tag, sibling))
        return Typed(f"{draw(st.sampled_from(MATH1))}({a.text})", True, False, a.tag)
    if kind == "ternary":
        c = draw(scalars(sub))
        a = draw(rvecs(sub, tag, sibling))
        b = draw(rvecs(sub, tag, sibling) if tag is not None else rvecs(sub))
        text = f"({c.text} ? {a.text} : {b.text})"
        return Typed(text, True, a.is_bool and b.is_bool, a.tag if a.tag == b.tag else ("fresh", text))
    # mask
    if tag is None:
        value = draw(rvecs(sub))
        cond = draw(rvecs(sub, value.tag, value)).text
    else:
        assert isinstance(tag, tuple)
        value, cond = draw(rvecs(sub, tag[1])), tag[2]
    return Typed(f"{value.text}[{cond}]", True, value.is_bool, ("mask", value.tag, cond))


expressions = st.one_of(scalars(MAX_DEPTH), rvecs(MAX_DEPTH)).map(lambda e: e.text)


# -- the property --------------------------------------------------------------------------


def _values(engine: str, path: str, expression: str, step_size: int = STEP_SIZE) -> np.ndarray:
    df = hepframe.RDataFrame("Events", path, engine=engine, step_size=step_size)
    return df.Define("out", expression).AsNumpy(["out"])["out"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(branches=trees(), expression=expressions)
def test_polars_matches_reference_on_random_expressions(branches: dict, expression: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_tree(os.path.join(tmp, "events.root"), branches)
        try:
            expected = _values("reference", path, expression)
        except ExpressionTypeError:
            assume(False)  # a type combination C++ rejects too
        actual = _values("polars", path, expression)
    assert_same_values(actual, expected, f"polars vs reference: {expression}")


# -- regressions found by the property ------------------------------------------------------
#
# hepframe.udfs.cmath.pow returns NaN when ``x < 0 and y != math.floor(y)``. In numba,
# math.floor returns an int64, which overflows for |y| >= 2**63 (every such float is an even
# integer), so the result depends on how LLVM compiled the comparison: NaN in the SIMD lanes
# of a vectorized float64 loop, +0 in its scalar remainder, NaN for float32. C++ gives +0
# (``pow(-0.5, 1e30) == 0``). Before the Polars kernels evaluated whole subtrees (865df32),
# the Polars engine broadcast literal arguments to arrays while the reference evaluator kept
# them 0-d, so the two engines disagreed: the property found
# ``(A_f && (f ? pow((-0.5), 1e30f) : f))`` with f = NaN in four events (reference
# RVec<int>{0, 0, 0, 0}, polars {1, 1, 1, 1}), which shrinks to the case below.


def _tree(tmp_path, **branches) -> str:
    return write_tree(tmp_path / "events.root", branches)


def test_pow_of_literals_same_on_both_engines(tmp_path) -> None:
    path = _tree(tmp_path, f=np.full(4, NAN, np.float32))  # four events: one SIMD vector of doubles
    expected = np.zeros(4)  # C++: pow(-0.5, 1e30) == +0 (1e30 is an even integer)
    for engine in ("reference", "polars"):
        assert_same_values(_values(engine, path, "pow(-0.5, 1e30)"), expected, engine)


# Regression: pow used to test y != math.floor(y) with an int64 floor that overflowed in numba.
@pytest.mark.parametrize("engine", ["reference", "polars"])
@pytest.mark.parametrize(
    ("expression", "dtype"), [("pow(f, 1e30f)", np.float32), ("pow(f * 1.0, d)", np.float64)], ids=["float", "double"]
)
def test_pow_of_negative_base_and_huge_exponent(tmp_path, engine: str, expression: str, dtype) -> None:
    n = 64  # one batch, many SIMD vectors whatever the vector width
    path = _tree(tmp_path, f=np.full(n, -0.5, np.float32), d=np.full(n, 1e30))
    assert_same_values(_values(engine, path, expression, step_size=n), np.zeros(n, dtype), f"{engine}: {expression}")
