"""Hostile inputs of issue #21: logical chains, deep and long expressions, lexical rules, filters
that are not bool, string values, and ROOT's Sum/Mean/StdDev bit for bit.

The cache and Snapshot/convert cases live in test_cache.py and test_snapshot_convert.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import uproot

import hepframe
from hepframe.engines.polars_engine import PolarsEngine
from hepframe.errors import (
    AnalysisError,
    EventError,
    ExpressionSyntaxError,
    ExpressionTypeError,
    HepframeError,
    UnsupportedSyntaxError,
)
from hepframe.expr import compile_expression
from hepframe.expr.parser import MAX_HEIGHT, MAX_TOKENS, parse
from hepframe.expr.types import CType, Scalar
from tests.conftest import ENGINES

SCHEMA = {"x": CType(Scalar.FLOAT), "n": CType(Scalar.UINT), "v": CType(Scalar.FLOAT, 1)}


def _chain(n: int, op: str = "&&") -> str:
    terms = ["x > 1", "n != 3u", "Sum(v > 2) >= 0", "(x < 100 || n > 5u)", "!(x == 7)"]
    return f" {op} ".join(terms[i % len(terms)] for i in range(n))


@pytest.mark.parametrize("op", ["&&", "||"])
def test_logical_chains_compile_to_linear_polars_expressions(op: str) -> None:
    """The old lowering, when(a).then(b).otherwise(a), doubled the expression per term (2**64 at 64)."""
    sizes = {}
    for n in (16, 32, 64):
        compiler = PolarsEngine().compiler
        sizes[n] = len(str(compiler.compile(compile_expression(_chain(n, op), SCHEMA))))
    assert sizes[64] <= 2.2 * sizes[32] and sizes[32] <= 2.2 * sizes[16], sizes


@pytest.mark.parametrize("engine", ENGINES)
def test_long_chains_equal_the_reference(engine: str, nanoaod_file: str) -> None:
    terms = ["nMuon >= 1", "MET_pt > 5", "Sum(Jet_pt > 20) >= 0", "Muon_pt.size() < 100", "(nJet < 3 || MET_pt > 30)"]
    chain = " && ".join(terms[i % len(terms)] for i in range(64))
    either = " || ".join(t.replace(">", "<") for t in (terms * 13)[:64])
    out = {}
    for name in ("reference", engine):
        df = hepframe.RDataFrame("Events", nanoaod_file, engine=name)
        out[name] = (df.Filter(chain).Count(), df.Filter(either).Count())
    assert [r.GetValue() for r in out[engine]] == [r.GetValue() for r in out["reference"]]
    assert 0 < out[engine][0].GetValue() < 20_000


def test_ten_thousand_terms_raise_a_positioned_error() -> None:
    text = " && ".join(["MET_pt > 1"] * 10_000)
    with pytest.raises(UnsupportedSyntaxError, match=f"longer than {MAX_TOKENS} tokens") as info:
        parse(text)
    assert "column 35001" in str(info.value) and "^" in str(info.value)
    assert len(str(info.value)) < 400  # a window of the line, not 50,000 characters


def test_a_thousand_term_chain_runs(nanoaod_file: str) -> None:
    """Balanced: 1000 terms nest 10 deep, well inside the height limit."""
    df = hepframe.RDataFrame("Events", nanoaod_file)
    assert df.Filter(" || ".join(f"nMuon == {k}u" for k in range(1000))).Count().GetValue() == 20_000


def test_deep_arithmetic_has_a_documented_limit(nanoaod_file: str) -> None:
    fits = " + ".join(["MET_pt"] * (MAX_HEIGHT - 2)) + " > 0"
    for engine in ENGINES:
        assert hepframe.RDataFrame("Events", nanoaod_file, engine=engine).Filter(fits).Count().GetValue() > 0
    with pytest.raises(UnsupportedSyntaxError, match=f"more than {MAX_HEIGHT} operations deep"):
        parse(" + ".join(["MET_pt"] * 2_000))  # was a bare RecursionError


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("x > 1 // a cut", "x > 1"),
        ("x /* pt */ > /* cut */ 1", "x > 1"),
        ("x > 1 /* multi\nline */ && n > 0u // end", "x > 1 && n > 0u"),
        ("x / 2 > 1", "x / 2 > 1"),  # one slash is still division
    ],
)
def test_cpp_comments(text: str, same_as: str) -> None:
    assert compile_expression(text, SCHEMA) == compile_expression(same_as, SCHEMA)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x\u00a0> 1", "non-ASCII space"),  # NBSP
        ("x > \uff11", "ASCII"),  # full-width digit one
        ("\uff58 > 1", "ASCII"),  # full-width x
        ("x > 1 /* open", "unterminated comment"),
    ],
)
def test_non_cpp_characters_are_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match=message):
        parse(text)


@pytest.mark.parametrize("expression", ["MET_pt", "nMuon", "1.5", "Sum(Jet_pt > 40)", "Muon_pt > 3"])
def test_filters_must_be_bool_as_in_root(expression: str, nanoaod_file: str) -> None:
    """ROOT 6.40: 'Filter: the following expression does not evaluate to bool' for each of these."""
    df = hepframe.RDataFrame("Events", nanoaod_file)
    with pytest.raises(AnalysisError, match="not bool|not a condition"):
        df.Filter(expression)


def test_string_values_are_refused_at_define(nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file)
    with pytest.raises(ExpressionTypeError, match="a string is not a column value") as info:
        df.Define("s", '"abc"')
    assert "^" in str(info.value)


# A fuzz corpus of hostile expression text: every entry gets a hepframe error, never a Python one.
FUZZ = [
    "", " ", "(", ")", "((x)", "x[", "x]", "x ? 1", "x ? : 1", ": 1", "x..size()", "x.", "1e", "1e+", "0x", "09",
    "1.2.3", "'ab'", "'", '"', '"abc', "x +", "+", "&& x", "x && || x", "x = 1", "x == = 1", "x++", "--x", "x->y",
    "@", "$x", "`x`", "\\", "#", "#1", "x;y", "return", "return x", "{x}", "[](){}", "new int", "sizeof(x)",
    "__import__('os')", "eval('1')", "x(1)", "v(0)", "Sum()", "Sum(x)", "Sum(v, v, v, v)", "v[v]", "x[0]",
    "static_cast<>(x)", "static_cast<int(x)", "RVec<", "ROOT::RVec<float>{1, 2", "/* */", "//", "/*/", "x /* */ */",
    "(" * 200 + "x" + ")" * 200, "-" * 300 + "x", "!" * 300 + "x", "x" + "[0]" * 200,
    " + ".join(["x"] * 500), " ? ".join(["x"] * 300), "\u00a0", "\u2028x", "x\x00", "\ufeffx", "\u0661",
    "99999999999999999999999999999999999999999999999", "1e99999", "0x" + "f" * 40, '"' + "a" * 10_000 + '"',
]


@pytest.mark.parametrize("text", FUZZ, ids=range(len(FUZZ)))
def test_fuzz_corpus_gets_positioned_errors(text: str) -> None:
    try:
        compile_expression(text, SCHEMA)
    except HepframeError as exc:
        assert str(exc)
    # a few entries are valid C++ (e.g. "1e99999" is inf, "/*/" is not): then they must type-check


# -- RDataFrame's Sum, Mean and StdDev, bit for bit ------------------------------------------------


@pytest.fixture(scope="module")
def hostile_sums_file(tmp_path_factory) -> str:
    """Values that expose summation order: huge cancellations, NaN and infinities in odd places."""
    rng = np.random.default_rng(5)
    n = 3000
    columns = {
        "big": rng.normal(0, 1e8, n) * 10.0 ** rng.integers(-8, 8, n),
        "with_inf": np.where(rng.random(n) < 0.002, np.inf, rng.exponential(3, n)),
        "with_nan": np.where(rng.random(n) < 0.002, np.nan, rng.normal(10, 1e-3, n)),
        "single": rng.normal(0, 1, n).astype(np.float32),
        "last_inf": np.concatenate([rng.normal(0, 1, n - 1), [np.inf]]),
        "ints": rng.integers(-(2**31), 2**31 - 1, n).astype(np.int32),
    }
    path = str(tmp_path_factory.mktemp("sums") / "sums.root")
    with uproot.recreate(path) as f:
        f["t"] = columns
    return path


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or np.float64(a).tobytes() == np.float64(b).tobytes()


@pytest.mark.root
def test_sum_mean_stddev_are_roots_bit_for_bit(ROOT, hostile_sums_file: str, nanoaod_file: str) -> None:  # noqa: N803
    cases = [("t", hostile_sums_file, ["big", "with_inf", "with_nan", "single", "last_inf", "ints"]),
             ("Events", nanoaod_file, ["MET_pt", "Muon_pt", "Jet_eta", "nJet"])]  # fmt: skip
    for tree, path, columns in cases:
        rdf = ROOT.RDataFrame(tree, path)
        booked = {c: (rdf.Sum(c), rdf.Mean(c), rdf.StdDev(c)) for c in columns}
        expected = {c: [r.GetValue() for r in rs] for c, rs in booked.items()}
        for engine in ENGINES:
            for step, threads, cache in [(None, 1, False), (7, 2, False), (1000, 2, True), (1000, 1, True)]:
                kwargs = {} if step is None else {"step_size": step}
                df = hepframe.RDataFrame(tree, path, engine=engine, threads=threads, cache=cache, **kwargs)
                ours = {c: (df.Sum(c), df.Mean(c), df.StdDev(c)) for c in columns}
                for c, results in ours.items():
                    got = [r.GetValue() for r in results]
                    assert all(_same(g, e) for g, e in zip(got, expected[c], strict=True)), (
                        f"{engine} step={step} threads={threads} cache={cache} {c}: {got} != {expected[c]}"
                    )


def test_sum_with_an_infinity_is_nan_as_in_root() -> None:
    """Kahan per value: after an inf the compensation is inf - inf = NaN, and so is every later sum."""
    from hepframe.udfs.summation import kahan_continue

    assert math.isnan(kahan_continue(np.array([1.0, np.inf, 2.0]), 0.0, 0.0)[0])
    assert kahan_continue(np.array([1.0, 2.0, np.inf]), 0.0, 0.0)[0] == np.inf
    # one pass or any split into batches: the same state
    values = np.random.default_rng(1).normal(0, 1e10, 1001)
    whole = kahan_continue(values, 0.0, 0.0)
    state = (0.0, 0.0)
    for part in np.array_split(values, 13):
        state = kahan_continue(part, *state)
    assert state == whole and whole[0] != float(np.sum(values))


@pytest.mark.parametrize("engine", ENGINES)
def test_size_mismatch_error_shows_no_engine_internals(engine: str, nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine)
    for booked in (df.Define("y", "Muon_pt + Jet_pt").Sum("y"), df.Filter("Sum(Muon_pt * Jet_eta) > 0").Count()):
        with pytest.raises(EventError, match=r"RVecs of different sizes \(\d+ and \d+\) in entry \d+") as info:
            booked.GetValue()
        assert "\n" not in str(info.value) and "python_udf" not in str(info.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_rvec_logical_chains_keep_cpp_grouping(engine: str, tiny_file: str) -> None:
    """With an RVec operand && is element-wise and evaluates both sides: grouping matters.

    ``flag && Obj_v[0] > 0 && Obj_v > 0`` is ``(flag && Obj_v[0] > 0) && Obj_v > 0`` in C++: the
    index is guarded by the short-circuit, so entries with no element are not undefined.
    """
    df = hepframe.RDataFrame("Events", tiny_file, engine=engine)
    guarded = df.Define("y", "Sum(nObj > 0 && Obj_v[0] > 0 && Obj_v > 0)").AsNumpy(["y"])["y"]
    explicit = df.Define("y", "Sum((nObj > 0 && Obj_v[0] > 0) && Obj_v > 0)").AsNumpy(["y"])["y"]
    np.testing.assert_array_equal(guarded, explicit)
    with pytest.raises(ExpressionTypeError, match="at most 32"):
        compile_expression(" && ".join(["v > 1"] * 40), SCHEMA)
