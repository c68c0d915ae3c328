"""Statement blocks, C++ alternative tokens, binary literals, digit separators, ``Sum(v, init)`` and
``gRandom``: parser and binder units, then every engine against ROOT 6.40, value for value.

ROOT runs once for the module, in a subprocess (ROOT_ORACLE) that defines every expression of
E2E on a small file and prints the values as JSON (floats as repr, so -0.0 and NaN survive).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import warnings

import awkward as ak
import numpy as np
import pytest

import hepframe
from hepframe.errors import (
    ExpressionSyntaxError,
    ExpressionTypeError,
    UnknownColumnError,
    UnknownFunctionError,
    UnsupportedSyntaxError,
)
from hepframe.expr import compile_expression, ir, parse
from hepframe.expr import syntax as S
from hepframe.expr.binder import SumOverloadWarning
from hepframe.expr.parser import MAX_HEIGHT, MAX_TOKENS
from hepframe.expr.types import CType, Scalar
from tests.conftest import CONFORMANCE_ENGINES, engine_for, tiny_branches

F, D, INT, U, B = Scalar.FLOAT, Scalar.DOUBLE, Scalar.INT, Scalar.UINT, Scalar.BOOL
SCHEMA = {
    "x": CType(D), "y": CType(D), "f": CType(F), "i": CType(INT), "n": CType(U), "flag": CType(B),
    "p": CType(D, 1), "v": CType(F, 1), "u": CType(F, 1), "vi": CType(INT, 1), "vb": CType(B, 1),
    "vv": CType(F, 2),
}  # fmt: skip


def typed(text: str) -> ir.Expr:
    return compile_expression(text, SCHEMA)


def error_at(exc_type: type[Exception], text: str, match: str) -> int:
    """The 0-based position of the error ``text`` raises (its message must match ``match``)."""
    with pytest.raises(exc_type, match=match) as info:
        typed(text)
    assert "^" in str(info.value)
    return info.value.position  # type: ignore[attr-defined]


# -- alternative tokens, binary literals, digit separators ---------------------------------------

ALTERNATIVES = [
    ("a and b", "a && b"), ("a or b", "a || b"), ("not a", "!a"), ("a bitand b", "a & b"),
    ("a bitor b", "a | b"), ("a xor b", "a ^ b"), ("compl a", "~a"), ("a not_eq b", "a != b"),
    ("not a and b or c", "!a && b || c"), ("a and\nnot(b)", "a && !(b)"),
]  # fmt: skip


def _without_positions(node: S.Node) -> str:
    return re.sub(r"pos=\d+|positions=\([\d, ]*\)", "", repr(node))


@pytest.mark.parametrize(("text", "same_as"), ALTERNATIVES)
def test_alternative_tokens_are_the_operators(text: str, same_as: str) -> None:
    assert _without_positions(parse(text)) == _without_positions(parse(same_as))


def test_names_that_start_like_alternative_tokens_are_names() -> None:
    assert parse("android") == S.Name(0, "android")
    assert parse("not_a_token") == S.Name(0, "not_a_token")
    with pytest.raises(ExpressionSyntaxError, match="expected an operator"):
        parse("a and_b")


@pytest.mark.parametrize("text", ["x and_eq 1", "x or_eq 1", "x xor_eq 1"])
def test_alternative_compound_assignments_are_assignments(text: str) -> None:
    with pytest.raises(UnsupportedSyntaxError, match="assignment"):
        parse(text)
    assert typed(f"int z = 6; z {text[2:]}; return z;").type == CType(INT)


LITERALS = [
    ("0b1010", 10, INT), ("0B11u", 3, U), ("0b1ul", 1, Scalar.ULONG), ("0b11111111111111111111111111111111", 2**32 - 1, U),
    ("0b" + "1" * 64, 2**64 - 1, Scalar.ULONG), ("1'000'000", 1_000_000, INT), ("0x1'0", 16, INT), ("0'17", 15, INT),
    ("0b1010'1010", 170, INT), ("1'0.2'5", 10.25, D), ("1'5.f", 15.0, F), ("1e1'0", 1e10, D), ("3'000'000'000", 3 * 10**9, Scalar.LONG),
]  # fmt: skip


@pytest.mark.parametrize(("text", "value", "scalar"), LITERALS)
def test_binary_literals_and_digit_separators(text: str, value: float, scalar: Scalar) -> None:
    node = parse(text)
    assert isinstance(node, S.Number) and node.value == value and node.scalar is scalar


@pytest.mark.parametrize("text", ["1''0", "1'", "0b12", "0b", "1'000'", "0b1.5", "0b1f"])
def test_malformed_separators_and_binary_literals(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse(text)


def test_separators_leave_char_literals_alone() -> None:
    assert typed("'a' + 1'0") == typed("97 + 10") == ir.Binary(CType(INT), "+", ir.Literal(CType(INT), 97), ir.Literal(CType(INT), 10))
    assert typed("flag ? 'a' : 'b'").type == CType(Scalar.CHAR)


# -- statements: parsing --------------------------------------------------------------------------


def test_a_lone_return_is_the_expression() -> None:
    assert _without_positions(parse("return x + 1;")) == _without_positions(parse("x + 1"))
    assert isinstance(parse("{ return x; }"), S.Block)


def test_tutorial_body_parses_to_statements() -> None:
    body = parse("double r2 = 0.0; for (auto&& w : p) r2 += w*w; return sqrt(r2);")
    assert isinstance(body, S.Block)
    decl, loop, ret = body.statements
    assert isinstance(decl, S.Declaration) and decl.type == S.TypeSpec("double") and decl.init == "="
    assert isinstance(loop, S.RangeFor) and loop.var == "w" and loop.var_type == S.TypeSpec("auto", reference="&&")
    assert isinstance(loop.body, S.Block) and isinstance(loop.body.statements[0], S.Assign)
    assert isinstance(ret, S.Return)


DECLARATIONS = [
    ("std::array<double, 2> v2{x, y}; return v2;", S.TypeSpec("RVec<double>", array_size=2), "{}"),
    ("ROOT::RVecD w = {x, y}; return w;", S.TypeSpec("RVec<double>"), "={}"),
    ("RVec<float> w{f}; return w;", S.TypeSpec("RVec<float>"), "{}"),
    ("ROOT::VecOps::RVec<int> w(3, 1); return w;", S.TypeSpec("RVec<int>"), "()"),
    ("const float c = x; return c;", S.TypeSpec("float", const=True), "="),
    ("unsigned int k; k = 1; return k;", S.TypeSpec("unsigned int"), ""),
    ("const auto& c = x; return c;", S.TypeSpec("auto", const=True, reference="&"), "="),
    ("double const c{1}; return c;", S.TypeSpec("double", const=True), "{}"),
]


@pytest.mark.parametrize(("text", "spec", "init"), DECLARATIONS)
def test_declarations(text: str, spec: S.TypeSpec, init: str) -> None:
    body = parse(text)
    assert isinstance(body, S.Block)
    decl = body.statements[0]
    assert isinstance(decl, S.Declaration) and decl.type == spec and decl.init == init


def test_several_declarators_and_index_loops() -> None:
    body = parse("int a = 1, b{2}; for (std::size_t j = 0; j < v.size(); j++) a += j; return a + b")
    assert isinstance(body, S.Block)
    a, b, loop, _ = body.statements
    assert (a.name, b.name) == ("a", "b")  # type: ignore[attr-defined]
    assert isinstance(loop, S.IndexFor) and loop.var_type == S.TypeSpec("std::size_t")
    for increment in ("++j", "j++", "j += 1"):
        assert isinstance(parse(f"int a = 0; for (int j = 0; j < 3; {increment}) a += j; return a;").statements[1], S.IndexFor)  # type: ignore[attr-defined]


UNSUPPORTED_STATEMENTS = [
    ("while (x > 0) {} return 1;", 0, "a while loop"),
    ("do {} while (x); return 1;", 0, "a do-while loop"),
    ("int a = 0; for (;;) break; return a;", 11, "this form of for loop"),
    ("int a = 0; for (int j = 0; j <= 3; ++j) a += j; return a;", 11, "this form of for loop"),
    ("int a = 0; for (int j = 0; j < 3; j += 2) a += j; return a;", 11, "this form of for loop"),
    ("int a = 0; for (auto w : v) { break; } return a;", 30, "'break'"),
    ("int a = 0; for (auto w : v) { continue; } return a;", 30, "'continue'"),
    ("auto g = [](float a) { return a; }; return g(x);", 9, "a lambda expression"),
    ("double g(double a) { return a; } return g(x);", 7, "a function declaration or definition"),
    ("static int calls = 0; return x;", 0, "a static local"),
    ("switch (i) { case 1: return 1; } return 0;", 0, "a switch statement"),
    ("goto end; return x;", 0, "'goto'"),
    ("x > 0; return x;", 5, "an expression statement"),
    ("gRandom->Rndm(); return x;", 15, "an expression statement"),
    ("double* q = nullptr; return x;", 6, "a pointer"),
    ("if (int k = i) return k; return 0;", 4, "a declaration in an if condition"),
    ("int a = 0; a = ++a; return a;", 15, "increment"),
]


@pytest.mark.parametrize(("text", "position", "construct"), UNSUPPORTED_STATEMENTS)
def test_unsupported_statements_name_the_construct(text: str, position: int, construct: str) -> None:
    with pytest.raises(UnsupportedSyntaxError, match="Python UDF") as info:
        parse(text)
    assert construct in str(info.value) and info.value.position == position


def test_statement_nesting_and_length_limits() -> None:
    deep = "{" * 300 + "return x;" + "}" * 300
    with pytest.raises(ExpressionSyntaxError, match="nested more than"):
        parse(deep)
    nested_ifs = "if (x > 0) " * 300 + "return 1; return 0;"
    with pytest.raises(ExpressionSyntaxError, match="nested more than"):
        parse(nested_ifs)
    with pytest.raises(UnsupportedSyntaxError, match=f"longer than {MAX_TOKENS} tokens"):
        parse("double a = 0; " + "a += x; " * 3000 + "return a;")


def test_substituted_values_keep_the_height_and_size_limits() -> None:
    """Let-inlining shares subtrees; the limits apply to the tree the engines walk."""
    with pytest.raises(UnsupportedSyntaxError, match=f"operations deep .*limits: {MAX_HEIGHT} deep") as info:
        typed("double a = 0; " + "a += x; " * (MAX_HEIGHT + 5) + "return a;")
    assert info.value.position < len("double a = 0; ") + 8 * (MAX_HEIGHT + 1)
    start = time.perf_counter()
    with pytest.raises(UnsupportedSyntaxError, match="large"):  # 2**60 nodes as a tree: refused at once
        typed("double a = x; " + "a = a * a + a; " * 60 + "return a;")
    assert time.perf_counter() - start < 2
    fits = typed("double a = 0; " + "a += x; " * (MAX_HEIGHT - 10) + "return a;")
    assert fits.type == CType(D)


# -- statements: lowering ---------------------------------------------------------------------------


def test_tutorial_lowers_to_one_expression() -> None:
    schema = {"x": CType(D), "y": CType(D)}
    p = compile_expression("std::array<double, 2> v{x, y}; return v;", schema)
    assert p == ir.Call(CType(D, 1), "RVecOf", (ir.Column(CType(D), "x"), ir.Column(CType(D), "y")))
    r = compile_expression("double r2 = 0.0; for (auto&& w : p) r2 += w*w; return sqrt(r2);", {"p": p.type})
    pv = ir.Column(CType(D, 1), "p")
    assert r == ir.Call(CType(D), "sqrt", (ir.Call(CType(D), "Sum", (ir.Binary(CType(D, 1), "*", pv, pv),)),))


def test_locals_are_substituted_with_cpp_conversions() -> None:
    assert typed("auto s = x * 2; return s / 2;") == typed("x * 2 / 2")
    assert typed("int k = x; return k;") == typed("(int)x")  # an explicit Cast node
    assert typed("float a = x; a += x; return a;") == typed("(float)((float)x + x)")
    assert typed("int m = 7; m /= 2; return m;") == typed("7 / 2")
    assert typed("short s = i; ++s; return s;") == typed("(short)((short)i + 1)")
    assert typed("std::array<float, 3> a{f}; return a;") == typed("ROOT::RVecF{f, 0.f, 0.f}")
    assert typed("ROOT::RVecD w = {x, f}; w *= 2; return w;") == typed("ROOT::RVecD{x, f} * 2")


def test_ifs_become_ternaries() -> None:
    assert typed("if (x > 1) return x; else return y;") == typed("x > 1 ? x : y")
    assert typed("if (x > 1) return x; return y;") == typed("x > 1 ? x : y")
    assert typed("double t = x; if (t < 0) { t = -t; } return t;") == typed("x < 0 ? -x : x")
    assert typed("if (x > 1) return 1; else if (x > 0) return 2; return 3;") == typed("x > 1 ? 1 : x > 0 ? 2 : 3")
    nested_scope = typed("double t = 0; if (flag) { double t = 5; t += 1; } return t;")
    assert nested_scope == ir.Literal(CType(D), 0.0)  # the inner t shadows the outer one


LOOPS = [
    # range-for over an RVec, with the element type the declaration gives
    ("double s = 0.0; for (auto w : p) s += w; return s;", "Sum(p)"),
    ("float s = 0.f; for (const auto &w : v) s += w; return s;", "Sum(v)"),
    ("double s = 0.0; for (auto&& w : v) s += w * w; return s;", "Sum(ROOT::RVecD(v * v))"),
    ("double s = 0.0; for (float w : p) s += w; return s;", "Sum(ROOT::RVecD(ROOT::RVecF(p)))"),
    ("float s = 2.5f; for (auto w : v) s -= w; return s;", "Sum(Concatenate(ROOT::RVecF{2.5f}, -v))"),
    ("int k = 0; for (auto w : v) if (w > 1) ++k; return k;", "Sum(Where(v > 1, 1, 0))"),
    ("int k = 4; for (auto w : vi) k += w; return k;", "4 + Sum(vi)"),
    # index loops: v[j] over j < v.size() is v itself; other RVecs are taken at the indices
    ("double s = 0; for (int j = 0; j < v.size(); ++j) s += v[j]; return s;", "Sum(ROOT::RVecD(v))"),
    ("float s = 0; for (std::size_t j = 0; j < v.size(); j++) s += v[j] * u[j]; return s;",
     "Sum(v * Take(u, ROOT::RVec<unsigned long>(ROOT::RVec<long>(Enumerate(v)))))"),
    ("int k = 0; for (int j = 0; j < v.size(); ++j) k += vi[j + 1]; return k;",
     "Sum(Take(vi, ROOT::RVec<unsigned long>(ROOT::RVec<long>(ROOT::RVecI(Enumerate(v)) + 1))))"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "same_as"), LOOPS)
def test_loops_lower_to_exact_sums(text: str, same_as: str) -> None:
    assert typed(text) == typed(same_as)


def test_a_non_literal_start_keeps_the_sign_of_zero() -> None:
    """(0.0 + init) + ... differs from C++ only for init = -0.0 with every term -0.0: selected explicitly."""
    lowered = typed("double s = x; for (auto w : p) s += w; return s;")
    assert isinstance(lowered, ir.Ternary) and lowered.then == ir.Column(CType(D), "x")
    assert lowered.other == typed("Sum(Concatenate(ROOT::RVecD{x}, p))")


SUM_WITH_INIT = [
    ("Sum(v, 1.5f)", "float", None),
    ("Sum(v, f)", "float", None),
    ("Sum(vi, i)", "int", None),
    ("Sum(vi > 0, 3)", "int", None),
    ("Sum(vb, 3)", "unsigned long", None),
    ("Sum(vb, true)", "bool", None),
    ("Sum(v, 0.)", "unsigned long", SumOverloadWarning),  # RVec<float> -> RVec<bool>: ROOT counts
    ("Sum(vi, 2.5)", "unsigned long", SumOverloadWarning),
    ("ROOT::VecOps::Sum(p, 0)", "unsigned long", SumOverloadWarning),
]


@pytest.mark.parametrize(("text", "type_name", "warning"), SUM_WITH_INIT)
def test_sum_with_an_initial_value_follows_roots_overloads(text: str, type_name: str, warning) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert typed(text).type.short == type_name
    assert [w.category for w in caught] == ([warning] if warning else [])


def test_sum_with_init_lowers_to_one_argument_sums() -> None:
    assert typed("Sum(v, 0.f)") == typed("Sum(v)")
    assert typed("Sum(v, 1.5f)") == typed("Sum(Concatenate(ROOT::RVecF{1.5f}, v))")
    assert typed("Sum(vi, i)") == typed("i + Sum(vi)")
    for node in typed("Sum(p, x)").walk():
        assert not (isinstance(node, ir.Call) and node.func == "Sum" and len(node.args) != 1)


LOWERING_ERRORS = [
    ("double s = 0; for (auto w : v) { s += w; if (s > 3) s -= 1; } return s;", UnsupportedSyntaxError, "loop-carried"),
    ("float s = 0; for (auto w : v) s += w * 2.0; return s;", UnsupportedSyntaxError, "no sum reproduces"),
    ("int k = 0; for (auto w : v) k += w; return k;", UnsupportedSyntaxError, "no sum reproduces"),
    ("double s = 0; for (auto w : v) { s += w; s += 1; } return s;", UnsupportedSyntaxError, "a second update"),
    ("double s = 0; for (auto w : v) s *= w; return s;", UnsupportedSyntaxError, r"'s \*= \.\.\.' in a loop"),
    ("double s = 0; for (auto w : v) s = w; return s;", UnsupportedSyntaxError, "in a loop"),
    ("double s = 0; for (auto w : v) for (auto z : u) s += w * z; return s;", UnsupportedSyntaxError, "a loop inside a loop"),
    ("double s = 0; for (auto w : v) { if (w > 0) return w; } return s;", UnsupportedSyntaxError, "a return inside a loop"),
    ("double s = 0; for (auto w : vv) s += w[0]; return s;", UnsupportedSyntaxError, "range-for loop over RVec<RVec<float>>"),
    ("double s = 0; for (auto w : v) s += Sum(v) * w + Max(ROOT::RVecF{w}); return s;", UnsupportedSyntaxError, "RVec value that changes"),
    ("double s = 0; for (auto w : v) w += 1; return s;", UnsupportedSyntaxError, "assigning the loop variable"),
    ("int k = 0; for (int j = 0; j < k; ++j) k += 1; return k;", UnsupportedSyntaxError, "loop bound that the loop body changes"),
    ("bool b = false; for (auto w : v) b += w; return b;", UnsupportedSyntaxError, "updating the bool"),
    ("int k = 0; for (int j = 0; j < x; ++j) k += 1; return k;", UnsupportedSyntaxError, "loop bound of type double"),
    ("if (x > 1) return 1; return 2.0;", ExpressionTypeError, "an earlier one int"),
    ("if (x > 1) return 1;", ExpressionTypeError, "not every path returns"),
    ("double t = x; if (flag) return t;", ExpressionTypeError, "not every path returns"),
    ("return x; return y;", ExpressionTypeError, "never executed"),
    ("if (flag) return 1; else return 2; x = 1;", ExpressionTypeError, "never executed"),
    ("double x = 1; return x;", ExpressionTypeError, "'x' is a column"),
    ("x = 1; return x;", ExpressionTypeError, "cannot assign to the column 'x'"),
    ("const double c = 1; c += 1; return c;", ExpressionTypeError, "it is const"),
    ("double t; return t + 1;", ExpressionTypeError, "used uninitialized"),
    ("double t; if (flag) t = 1; return t;", ExpressionTypeError, "used uninitialized"),
    ("int a = 1; int a = 2; return a;", ExpressionTypeError, "redefinition of 'a'"),
    ("zz = 1; return 1;", UnknownColumnError, "unknown variable 'zz'"),
    ("auto a = {1, 2}; return 1;", UnsupportedSyntaxError, "initializer_list"),
    ("double a = p; return a;", ExpressionTypeError, "cannot convert RVec<double> to double"),
    ("std::array<double, 2> a{x, y, x}; return a;", ExpressionTypeError, "too many initializers"),
    ("if (p) return 1; return 2;", ExpressionTypeError, "a condition must be"),
    ("double a = 1; double& r = a; r += 1; return a;", UnsupportedSyntaxError, "a reference bound to a local"),
    ("ROOT::RVecD a{x}; const auto& r = a[0]; return r;", UnsupportedSyntaxError, "a reference bound to a local"),
    ("auto& r = x; r += 1; return r;", ExpressionTypeError, "it is const"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "exc_type", "match"), LOWERING_ERRORS)
def test_lowering_errors(text: str, exc_type: type[Exception], match: str) -> None:
    error_at(exc_type, text, match)


def test_unsupported_loops_suggest_a_python_udf() -> None:
    position = error_at(UnsupportedSyntaxError, "double s = 0; for (auto w : v) for (auto z : u) s += z; return s;", "UDF")
    assert position == 31


# -- gRandom --------------------------------------------------------------------------------------

RANDOM = [
    ("gRandom->Rndm()", "Rndm", (), D),
    ("gRandom->Uniform()", "Uniform", (1.0,), D),
    ("gRandom->Uniform(2)", "Uniform", (2.0,), D),
    ("gRandom->Uniform(-1, 1)", "Uniform", (-1.0, 1.0), D),
    ("gRandom->Gaus()", "Gaus", (0.0, 1.0), D),
    ("gRandom->Gaus(10)", "Gaus", (10.0, 1.0), D),
    ("gRandom->Exp(2)", "Exp", (2.0,), D),
    ("gRandom->Poisson(3)", "Poisson", (3.0,), Scalar.ULONG),  # ULong64_t in ROOT 6.40
    ("gRandom->Integer(10)", "Integer", (10,), U),
    ("gRandom->Landau()", "Landau", (0.0, 1.0), D),
    ("gRandom->BreitWigner(91, 2.5)", "BreitWigner", (91.0, 2.5), D),
    ("gRandom->Binomial(10, 0.5)", "Binomial", (10, 0.5), INT),
]


@pytest.mark.parametrize(("text", "method", "args", "result"), RANDOM)
def test_grandom_methods_bind_to_draws(text: str, method: str, args: tuple, result: Scalar) -> None:
    draw = typed(text)
    assert isinstance(draw, ir.RandomDraw) and draw.method == method and draw.pos == 0
    assert draw.type == CType(result)
    assert tuple(a.value for a in draw.args) == args  # type: ignore[attr-defined]
    assert [type(a.value) for a in draw.args] == [type(a) for a in args]  # type: ignore[attr-defined]


def test_grandom_arguments_are_converted_to_the_parameter_types() -> None:
    draw = typed("gRandom->Gaus(f, i)")
    assert draw.args == (ir.Cast(CType(D), ir.Column(CType(F), "f")), ir.Cast(CType(D), ir.Column(CType(INT), "i")))  # type: ignore[attr-defined]
    assert typed("gRandom->Integer(x)").args == (ir.Cast(CType(U), ir.Column(CType(D), "x")),)  # type: ignore[attr-defined]


def test_each_draw_is_its_own_node() -> None:
    expr = typed("gRandom->Gaus() + gRandom->Gaus()")
    draws = [n for n in expr.walk() if isinstance(n, ir.RandomDraw)]
    assert [d.pos for d in draws] == [0, 18] and draws[0] != draws[1]
    ternary = typed("flag ? gRandom->Rndm() : gRandom->Rndm()")
    assert isinstance(ternary, ir.Ternary) and ternary.then != ternary.other  # never folded into one
    stored = typed("double r = gRandom->Rndm(); return r - r;")  # one draw, used twice, as in C++
    assert isinstance(stored, ir.Binary) and stored.left is stored.right


GRANDOM_ERRORS = [
    ("gRandom.Gaus()", ExpressionSyntaxError, "gRandom is a pointer", 7),
    ("gRandom->SetSeed(1)", UnsupportedSyntaxError, r"ROOT.gRandom.SetSeed\(n\)", 9),
    ("gRandom->Gauss(0, 1)", UnknownFunctionError, "did you mean 'Gaus'", 9),
    ("gRandom->Gaus(v)", ExpressionTypeError, "takes numbers, got RVec<float>", 0),
    ("gRandom->Exp()", ExpressionTypeError, "takes 1 to 1 arguments, got 0", 0),
    ("gRandom->Rndm(1)", ExpressionTypeError, "takes no arguments", 0),
    ("gRandom + 1", ExpressionTypeError, "call a method", 0),
    ("double r = gRandom->Rndm(); return x;", UnsupportedSyntaxError, "not used on every path", 11),
    ("double r = gRandom->Rndm(); if (flag) return r; return 0.;", UnsupportedSyntaxError, "not used on every path", 11),
    ("double r = 0; if (flag) r = gRandom->Rndm(); return r;", UnsupportedSyntaxError, "inside an if or for", 28),
    ("double s = 0; for (auto w : v) s += gRandom->Gaus(); return s;", UnsupportedSyntaxError, "inside an if or for", 36),
    ("int k = 0; for (int j = 0; j < gRandom->Integer(5); ++j) k += 1; return k;", UnsupportedSyntaxError, "draw in a loop bound", 31),
]  # fmt: skip


@pytest.mark.parametrize(("text", "exc_type", "match", "position"), GRANDOM_ERRORS)
def test_grandom_errors(text: str, exc_type: type[Exception], match: str, position: int) -> None:
    assert error_at(exc_type, text, match) == position


def test_draws_in_returns_and_conditions_are_allowed() -> None:
    expr = typed("double r = gRandom->Rndm(); if (r < 0.5) return gRandom->Gaus(); return r;")
    assert {n.pos for n in expr.walk() if isinstance(n, ir.RandomDraw)} == {11, 48}


# -- every engine against ROOT ----------------------------------------------------------------------

NAN = float("nan")


def _branches() -> dict:
    out = tiny_branches()
    out["e"] = np.array([2.0, -0.0, 3.5, NAN, 1e308, -4.25, 0.5, 7.0])
    out["dn"] = np.array([-0.0, -0.0, -0.0, -0.0, -0.0, 0.0, 3.5, -0.0])
    out["Neg_v"] = ak.Array([[-0.0, -0.0], [], [-0.0], [1.0, -1.0], [-0.0, 0.0], [0.0], [-0.0, 5.0], [NAN]])
    out["Big_v"] = ak.Array([[1e16, 1.0, -1e16], [1.0, 1e16], [], [-1e16, 1.0, 1e16, 1.0], [0.1, 0.2, 0.3],
                             [1e308, 1e308], [-0.0], [3.0]])  # fmt: skip
    return out


# (name, expression): defined in this order, so that later expressions may use earlier names.
E2E = [
    # the tutorial (x and y are double columns)
    ("p", "std::array<double, 2> v{d, e}; return v;"),
    ("r", "double r2 = 0.0; for (auto&& w : p) r2 += w*w; return sqrt(r2);"),
    # alternative tokens and binary literals
    ("alt1", "x > 1 and i < 5 or not flag"), ("alt2", "(i bitand 6) + (i bitor 1) + (i xor 5)"), ("alt3", "compl i"),
    ("alt4", "i not_eq 7 and nObj > 0 and Obj_v[0] > 1"),
    ("bin1", "0b1010 + i"), ("bin2", "0B11u * u"), ("bin3", "0b11111111111111111111111111111111 + 0"),
    ("bin4", "0b1ul << 40"), ("bin5", "i & 0b0110"),
    # Sum(v, init)
    ("sum1", "Sum(Obj_v, 1.5f)"), ("sum2", "Sum(Obj_v, x)"), ("sum3", "Sum(Obj_i, i)"), ("sum4", "Sum(Obj_b, true)"),
    ("sum5", "Sum(Obj_b, 3)"), ("sum6", "Sum(Obj_v, 0.)"), ("sum7", "Sum(Obj_i, 2.5)"), ("sum8", "Sum(Obj_v > 1, 3)"),
    ("sum9", "Sum(Neg_v, dn)"), ("sum10", "Sum(Neg_v, -0.)"), ("sum11", "Sum(Neg_v, 0.)"), ("sum12", "Sum(Obj_v, -0.f)"),
    ("sum13", "Sum(Big_v, d)"), ("sum14", "Sum(Big_v, 1.0)"), ("sum15", "Sum(Obj_i, 2147483647)"),
    ("sum16", "Sum(Obj_v * 1e30f, x)"), ("sum17", "ROOT::VecOps::Sum(Big_v, e)"),
    # locals, assignments, ifs
    ("loc1", "auto s = x * 2; return s / 2;"),
    ("loc2", "const float a = x; int n = a; return n + i;"),
    ("loc3", "int m = i; m /= 2; m *= 3; m -= 1; m %= 5; m <<= 1; m |= 1; m ^= 2; m &= 255; return m;"),
    ("loc4", "float g = x; g += d; return g;"),
    ("loc5", "unsigned k = u; k -= 10; ++k; return k;"),
    ("loc6", "double t = d; if (t < 0) t = -t; return t;"),
    ("loc7", "if (x > 1) return 1.5; else if (x < -1) return -1.5; return 0.0;"),
    ("loc8", "if (nObj == 0) return -1.f; return Obj_v[0];"),
    ("loc9", "auto w = Obj_v * 2; if (nObj > 1) { w = Reverse(w); } return w;"),
    ("loc10", "ROOT::RVecD w = {x, d}; w += 1; return w;"),
    ("loc11", "ROOT::RVecF w{x, 1.5f, 2}; return w;"),
    ("loc12", "short h = i; h += 30000; return h;"),
    ("loc13", "double t = 0; if (flag) { double t = 5; t += d; } else t = e; return t;"),
    ("loc14", "int a = 1, b{2}; a <<= b; return a > 3 and b < 3;"),
    # loops
    ("for1", "float s = 0.f; for (auto w : Obj_v) s += w; return s;"),
    ("for2", "double s = 0.0; for (auto w : Obj_v) s += w * w; return s;"),
    ("for3", "double s = d; for (const auto &w : Obj_v) s += w; return s;"),
    ("for4", "double s = dn; for (auto w : Neg_v) s += w; return s;"),
    ("for5", "double s = 1.0; for (auto w : Big_v) s -= w; return s;"),
    ("for6", "int k = 0; for (auto w : Obj_v) if (w > 1) ++k; return k;"),
    ("for7", "int k = 0; for (int j = 0; j < Obj_v.size(); ++j) k += Obj_i[j] * j; return k;"),
    ("for8", "float acc = x; for (std::size_t j = 0; j < Obj_v.size(); j++) { if (Obj_b[j]) acc += Obj_v[j]; "
             "else acc -= 0.5f; } return acc;"),
    ("for9", "long t = 0; for (unsigned j = 0; j < nObj; ++j) t += Obj_i[j]; return t;"),
    ("for10", "double s = 0; for (int j = 1; j < nObj; j++) s += Obj_v[j] - Obj_v[j - 1]; return s;"),
    ("for11", "int c = 5; for (auto w : Obj_i) { c -= w; c += 2; } return c;"),
    ("for12", "unsigned n = 0u; for (auto&& b : Obj_b) n += b; return n;"),
    ("for13", "float m = 0.f; for (auto w : Obj_v) m += w > 0 ? w : -w; return m;"),
    ("for14", "double h = 0; for (auto w : Obj_v) h += std::abs(w) + sqrt(fabs(w)); return h;"),
    ("for15", "int a = 0; for (auto w : Obj_i) a += abs(w); return a;"),
    ("for16", "short sh = 0; for (auto w : Obj_i) sh += w * 20000; return sh;"),
    ("for17", "double s = e; for (double w : Obj_v) { double q = w * 0.5; if (q > 0.3 && q < 20) s += q; } return s;"),
    ("for18", "int k = 0; for (int j = 0; j < i % 10; ++j) k += j; return k;"),  # i % 10 < 0: no iteration
    ("for19", "double s = 0; for (auto w : Obj_v) s += x; return s;"),
    ("for20", "double s = 0; for (auto w : Obj_v) s += flag ? w : 1.0; return s;"),
    ("for21", "float s = -0.f; for (auto w : Obj_v) s += w * 0.f; return s;"),
    ("for22", "double s = 0; for (auto k : Argsort(Obj_v)) s += Obj_v[k] * k; return s;"),
    ("for23", "double s = dn; for (auto w : Obj_v) if (w > 100) s += w; return s;"),  # -0.0 + nothing: -0.0
]  # fmt: skip

#: Valid C++ that ROOT's RDataFrame tokenizer refuses ("Failed to tokenize expression"): the oracle
#: checks in cling that each literal equals the one without separators, with the same type.
DIGIT_SEPARATORS = ["1'000'000", "0x1'0", "0b1010'1010", "1'0.2'5", "1'5.f", "1e1'0", "3'000'000'000", "0'17"]

ROOT_ORACLE = r"""
import json, sys
import numpy as np
import ROOT

ROOT.gROOT.SetBatch(True)
path, defines, literals = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
rdf = ROOT.RDataFrame("Events", path)
for name, expression in defines:
    rdf = rdf.Define(name, expression)
names = [name for name, _ in defines]
raw = rdf.AsNumpy(names)


def encode(value):
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value) if isinstance(value, float) else value


out = {}
for name in names:
    kind = str(rdf.GetColumnType(name))
    column = raw[name]
    if column.dtype == object:  # RVec or std::array per entry
        element = {"array<double,2>": "float64"}.get(kind)
        rows = [np.array(list(v), dtype=element) if element else np.asarray(v) for v in column]
        dtype = element or (rows[0].dtype.name if rows else "?")
        out[name] = {"rvec": True, "dtype": dtype, "values": [[encode(x) for x in r] for r in rows]}
    else:
        out[name] = {"rvec": False, "dtype": column.dtype.name, "values": [encode(x) for x in column]}
same = {}
for literal in literals:
    plain = literal.replace("'", "")
    check = f"static_assert({literal} == {plain} && std::is_same<decltype({literal}), decltype({plain})>::value, \"\");"
    same[literal] = bool(ROOT.gInterpreter.Declare(check))
print("ORACLE" + json.dumps({"values": out, "separators": same}))
"""


class RootOracle:
    """ROOT_ORACLE running in the background (ROOT compiles E2E while Spark starts), results on demand."""

    def __init__(self, data_file: str, directory) -> None:
        self.out, self.err = directory / "stdout", directory / "stderr"
        args = [sys.executable, "-c", ROOT_ORACLE, data_file, json.dumps(E2E), json.dumps(DIGIT_SEPARATORS)]
        with open(self.out, "w") as out, open(self.err, "w") as err:  # files: a full pipe would block ROOT
            self.process = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        self._results: dict | None = None

    def results(self) -> dict:
        if self._results is None:
            self.process.wait(timeout=300)
            stdout = self.out.read_text()
            line = next((ln for ln in stdout.splitlines() if ln.startswith("ORACLE")), None)
            assert line is not None, f"ROOT failed:\n{stdout[-3000:]}\n{self.err.read_text()[-6000:]}"
            self._results = json.loads(line[len("ORACLE") :])
        return self._results

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def data_file(tmp_path_factory) -> str:
    from hepframe.datasets import write_tree

    return write_tree(tmp_path_factory.mktemp("statements") / "data.root", _branches())


@pytest.fixture(scope="session")
def root_oracle(data_file: str, tmp_path_factory):
    """Session-scoped, so that it starts before the (session-scoped) Spark session."""
    oracle = RootOracle(data_file, tmp_path_factory.mktemp("root-oracle"))
    yield oracle
    oracle.stop()


def _encode(value) -> object:
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value) if isinstance(value, float) else value


def _hepframe_results(engine: str, path: str) -> dict:
    # Spark: one batch (its per-batch cost is seconds here); the lowering is per event anyway.
    df = hepframe.RDataFrame("Events", path, engine=engine_for(engine), step_size=100 if "spark" in engine else 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SumOverloadWarning)
        for name, expression in E2E:
            df = df.Define(name, expression)
    out = {}
    for name, column in df.AsNumpy([name for name, _ in E2E]).items():
        if column.dtype == object:
            rows = [np.asarray(r) for r in column]
            out[name] = {"rvec": True, "dtype": rows[0].dtype.name, "values": [[_encode(x) for x in r] for r in rows]}
        else:
            out[name] = {"rvec": False, "dtype": column.dtype.name, "values": [_encode(x) for x in column]}
    return out


@pytest.mark.root
# Spark first: its session starts while ROOT compiles (two cores), instead of after.
@pytest.mark.parametrize("engine", sorted(CONFORMANCE_ENGINES, key=lambda e: not e.startswith("spark")))
def test_statements_and_tokens_match_root(root_oracle: RootOracle, engine: str, data_file: str) -> None:
    ours = _hepframe_results(engine, data_file)
    expected = root_oracle.results()["values"]
    wrong = []
    for name, expression in E2E:
        mine, theirs = ours[name], expected[name]
        if (mine["rvec"], mine["dtype"], mine["values"]) != (theirs["rvec"], theirs["dtype"], theirs["values"]):
            wrong.append(f"{name} = {expression!r}:\n  hepframe {mine}\n  ROOT     {theirs}")
    assert not wrong, f"{engine}: {len(wrong)} of {len(E2E)} differ from ROOT:\n" + "\n".join(wrong)


@pytest.mark.root
def test_digit_separators_are_cpp14(root_oracle: RootOracle) -> None:
    assert root_oracle.results()["separators"] == dict.fromkeys(DIGIT_SEPARATORS, True)
    for literal in DIGIT_SEPARATORS:
        assert typed(literal) == typed(literal.replace("'", ""))


@pytest.mark.root
def test_the_tutorial_matches_sequential_double_arithmetic(root_oracle: RootOracle) -> None:
    """The issue's pair of Defines: sqrt((0.0 + x*x) + y*y), as ROOT computes it."""
    values = root_oracle.results()["values"]["r"]["values"]
    with np.errstate(over="ignore"):
        expected = [repr(float(np.sqrt(0.0 + a * a + b * b))) for a, b in zip(_branches()["d"], _branches()["e"], strict=True)]
    assert values == expected


def test_long_bodies_do_not_recurse_per_statement() -> None:
    """Thousands of sequential blocks or early returns: positioned errors or values, never RecursionError."""
    assert typed("double a = 0; " + "{} " * 3000 + "{ a += 1; } return a;") == typed("0.0 + 1")
    with pytest.raises(UnsupportedSyntaxError, match=f"more than {MAX_HEIGHT} nested conditions"):
        typed("".join(f"if (i == {k}) return {k}; " for k in range(900)) + "return -1;")
    fits = typed("".join(f"if (i == {k}) return {k}; " for k in range(100)) + "return -1;")
    assert isinstance(fits, ir.Ternary)


@pytest.mark.parametrize("engine", ["reference", "polars"])
def test_a_block_filters_like_its_expression(engine: str, data_file: str) -> None:
    df = hepframe.RDataFrame("Events", data_file, engine=engine)
    block = df.Filter("if (nObj == 0) return false; float s = 0.f; for (auto w : Obj_v) s += w; return s > 1;")
    expression = df.Filter("nObj != 0 && Sum(Obj_v) > 1")
    assert block.Count().GetValue() == expression.Count().GetValue() == 2  # entries 4 and 6
