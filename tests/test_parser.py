"""Unit tests of the Pratt parser for hepframe's C++ expression subset (hepframe.expr.parser)."""

from __future__ import annotations

import builtins

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepframe.errors import ExpressionSyntaxError, UnsupportedSyntaxError
from hepframe.expr import compile_expression, parse
from hepframe.expr import syntax as S
from hepframe.expr.types import CType, Scalar


def render(node: S.Node) -> str:
    """Compact, position-free rendering of a syntax tree; every operator node is parenthesized."""
    if isinstance(node, S.Number):
        return node.text
    if isinstance(node, S.BoolLiteral):
        return "true" if node.value else "false"
    if isinstance(node, S.StringLiteral):
        return f'"{node.value}"'
    if isinstance(node, S.Name):
        return node.name
    if isinstance(node, S.SizeOf):
        return f"#{node.name}"
    if isinstance(node, S.Unary):
        return f"({node.op}{render(node.operand)})"
    if isinstance(node, S.Binary):
        return f"({render(node.left)} {node.op} {render(node.right)})"
    if isinstance(node, S.Chain):
        return "(" + f" {node.op} ".join(render(o) for o in node.operands) + ")"
    if isinstance(node, S.Conditional):
        return f"({render(node.cond)} ? {render(node.then)} : {render(node.other)})"
    if isinstance(node, S.Call):
        template = f"<{node.template}>" if node.template else ""
        return f"{node.callee}{template}({', '.join(render(a) for a in node.args)})"
    if isinstance(node, S.Index):
        return f"{render(node.value)}[{render(node.index)}]"
    if isinstance(node, S.Member):
        return f"{render(node.value)}.{node.name}({', '.join(render(a) for a in node.args)})"
    if isinstance(node, S.Cast):
        return f"cast<{node.type_name}>({render(node.operand)})"
    raise AssertionError(f"unexpected node {node!r}")


def tree(text: str) -> str:
    return render(parse(text))


# -- precedence and associativity --------------------------------------------------------

PRECEDENCE = [
    # logical
    ("a || b && c", "(a || (b && c))"),
    ("a && b || c", "((a && b) || c)"),
    ("a || b || c", "(a || b || c)"),  # one chain: the binder groups it once it knows the types
    ("a && b && c && d", "(a && b && c && d)"),
    # bitwise: | looser than ^ looser than &
    ("a && b | c", "(a && (b | c))"),
    ("a | b ^ c", "(a | (b ^ c))"),
    ("a ^ b & c", "(a ^ (b & c))"),
    ("a & b | c ^ d", "((a & b) | (c ^ d))"),
    # & is looser than == (a classic C++ trap)
    ("a & b == c", "(a & (b == c))"),
    ("a == b & c", "((a == b) & c)"),
    # equality vs relational
    ("a == b < c", "(a == (b < c))"),
    ("a != b >= c", "(a != (b >= c))"),
    ("a == b != c", "((a == b) != c)"),
    ("a < b < c", "((a < b) < c)"),
    # relational vs shifts
    ("a << b < c", "((a << b) < c)"),
    ("a < b >> c", "(a < (b >> c))"),
    ("a << b >> c", "((a << b) >> c)"),
    # shifts vs additive
    ("a << b + c", "(a << (b + c))"),
    ("a - b >> c", "((a - b) >> c)"),
    # additive vs multiplicative
    ("a + b * c", "(a + (b * c))"),
    ("a * b + c", "((a * b) + c)"),
    ("a - b % c", "(a - (b % c))"),
    ("a - b - c", "((a - b) - c)"),
    ("a + b - c", "((a + b) - c)"),
    ("a / b / c", "((a / b) / c)"),
    ("a / b * c", "((a / b) * c)"),
    ("a % b * c", "((a % b) * c)"),
    # parentheses override
    ("(a + b) * c", "((a + b) * c)"),
    ("a - (b - c)", "(a - (b - c))"),
    ("((a))", "a"),
    # unary binds tighter than every binary operator
    ("-a * b", "((-a) * b)"),
    ("a * -b", "(a * (-b))"),
    ("-a + b", "((-a) + b)"),
    ("!a && b", "((!a) && b)"),
    ("~a & b", "((~a) & b)"),
    ("+a - b", "((+a) - b)"),
    ("a - -b", "(a - (-b))"),
    ("- -a", "(-(-a))"),
    ("!!a", "(!(!a))"),
    ("-a[0]", "(-a[0])"),
    ("!v.empty()", "(!v.empty())"),
    ("-f(x) * 2", "((-f(x)) * 2)"),
    # postfix binds tightest
    ("a[0] * b[1]", "(a[0] * b[1])"),
    ("a[i + 1]", "a[(i + 1)]"),
    ("a[0][1]", "a[0][1]"),
    ("a.size() - 1", "(a.size() - 1)"),
    ("a[b > 0].size()", "a[(b > 0)].size()"),
    ("f(x)[0]", "f(x)[0]"),
    ("(a + b)[0]", "(a + b)[0]"),
    ("v.at(i) * 2", "(v.at(i) * 2)"),
    # conditional: loosest, right-associative
    ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
    ("a ? b ? c : d : e", "(a ? (b ? c : d) : e)"),
    ("a || b ? c : d", "((a || b) ? c : d)"),
    ("a ? b : c || d", "(a ? b : (c || d))"),
    ("a > 0 ? a : -a", "((a > 0) ? a : (-a))"),
    ("(a ? b : c) + d", "((a ? b : c) + d)"),
]


@pytest.mark.parametrize(("text", "expected"), PRECEDENCE)
def test_precedence_and_associativity(text: str, expected: str) -> None:
    assert tree(text) == expected


def test_binary_node_records_operator_position() -> None:
    node = parse("a - b * c")
    assert isinstance(node, S.Binary) and node.op == "-" and node.pos == 2
    assert isinstance(node.right, S.Binary) and node.right.pos == 6


def test_whitespace_is_insignificant() -> None:
    assert tree("a+b*c") == tree("  a +\n b\t* c ") == "(a + (b * c))"


# -- literals ----------------------------------------------------------------------------

LITERALS = [
    ("42", 42, Scalar.INT),
    ("0", 0, Scalar.INT),
    ("2u", 2, Scalar.UINT),
    ("2U", 2, Scalar.UINT),
    ("2l", 2, Scalar.LONG),
    ("2ll", 2, Scalar.LONG),
    ("2ul", 2, Scalar.ULONG),
    ("2ull", 2, Scalar.ULONG),
    ("2147483647", 2147483647, Scalar.INT),
    ("2147483648", 2147483648, Scalar.LONG),  # does not fit int: next type in [lex.icon]
    ("4294967296u", 4294967296, Scalar.ULONG),
    ("18446744073709551615u", 2**64 - 1, Scalar.ULONG),
    ("0x1F", 31, Scalar.INT),
    ("0xffu", 255, Scalar.UINT),
    ("0xFFFFFFFF", 2**32 - 1, Scalar.UINT),  # hex literals may become unsigned
    ("0x10l", 16, Scalar.LONG),
    ("20.f", 20.0, Scalar.FLOAT),
    ("1e3f", 1000.0, Scalar.FLOAT),
    ("2.5F", 2.5, Scalar.FLOAT),
    ("2.5", 2.5, Scalar.DOUBLE),
    (".5", 0.5, Scalar.DOUBLE),
    ("1e3", 1000.0, Scalar.DOUBLE),
    ("1.5e-3", 0.0015, Scalar.DOUBLE),
    ("'a'", 97, Scalar.CHAR),
]


@pytest.mark.parametrize(("text", "value", "scalar"), LITERALS)
def test_number_literals(text: str, value: float, scalar: Scalar) -> None:
    node = parse(text)
    assert isinstance(node, S.Number)
    assert node.scalar is scalar
    assert node.value == value
    assert type(node.value) is (float if scalar in (Scalar.FLOAT, Scalar.DOUBLE) else int)


def test_bool_and_string_literals() -> None:
    assert parse("true") == S.BoolLiteral(0, True)
    assert parse("false") == S.BoolLiteral(0, False)
    assert parse('"abc"') == S.StringLiteral(0, "abc")


@pytest.mark.parametrize(
    ("text", "column"),
    [("1 + 99999999999999999999", 5), ("0x1ffffffffffffffff", 1), ("18446744073709551616u", 1)],
)
def test_integer_literal_too_large(text: str, column: int) -> None:
    with pytest.raises(ExpressionSyntaxError, match="too large") as info:
        parse(text)
    assert f"line 1, column {column}" in str(info.value)


@pytest.mark.parametrize("text", ["1.5u", "2ff", "1lul", "1e5u"])
def test_invalid_literal_suffix(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match="invalid"):
        parse(text)


def test_octal_literal() -> None:
    assert parse("010").value == 8


def test_escaped_char_literal() -> None:
    node = parse(r"'\n'")
    assert isinstance(node, S.Number) and node.value == 10 and node.scalar is Scalar.CHAR


def test_huge_decimal_literal_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError):
        parse("1" * 5000)


# -- names, calls, casts, members --------------------------------------------------------

NAMES_AND_CALLS = [
    ("ROOT::VecOps::Sum(x)", "ROOT::VecOps::Sum(x)"),
    ("ROOT :: VecOps :: Sum(x)", "ROOT::VecOps::Sum(x)"),
    ("std::abs(x)", "std::abs(x)"),
    ("TMath::Pi()", "TMath::Pi()"),
    ("M_PI", "M_PI"),
    ("DeltaR(a, b, c, d)", "DeltaR(a, b, c, d)"),
    ("f(g(x), -y)", "f(g(x), (-y))"),
    ("#Jet_pt", "#Jet_pt"),
    ("#Jet_pt > 2", "(#Jet_pt > 2)"),
    ("v.size()", "v.size()"),
    ("v.empty()", "v.empty()"),
    ("v.front()", "v.front()"),
    ("v.back()", "v.back()"),
    ("v.at(i)", "v.at(i)"),
    ("return x;", "x"),
    ("return 1./(v+1)", "(1. / (v + 1))"),  # ROOT's df031_Stats: no ';' after the return expression
    ("return a + b;", "(a + b)"),
    ("a + b;", "(a + b)"),
    ("RVecF(a, b)", "RVec<float>(a, b)"),
    ("ROOT::RVec<int>(a)", "RVec<int>(a)"),
]


@pytest.mark.parametrize(("text", "expected"), NAMES_AND_CALLS)
def test_names_calls_and_members(text: str, expected: str) -> None:
    assert tree(text) == expected


CASTS = [
    ("(float)x", "cast<float>(x)"),
    ("float(x)", "cast<float>(x)"),
    ("static_cast<int>(x)", "cast<int>(x)"),
    ("(unsigned int)x", "cast<unsigned int>(x)"),
    ("(unsigned)x", "cast<unsigned>(x)"),
    ("(long long)x", "cast<long long>(x)"),
    ("static_cast<unsigned long>(x)", "cast<unsigned long>(x)"),
    ("(Float_t)x", "cast<Float_t>(x)"),
    ("(std::size_t)x", "cast<std::size_t>(x)"),
    # a C-style cast applies to a unary expression: tighter than '*', looser than postfix
    ("(float)x * y", "(cast<float>(x) * y)"),
    ("(float)x[0]", "cast<float>(x[0])"),
    ("(int)-x", "cast<int>((-x))"),
    ("(double)(a + b) / 2", "(cast<double>((a + b)) / 2)"),
    ("-(float)x", "(-cast<float>(x))"),
]


@pytest.mark.parametrize(("text", "expected"), CASTS)
def test_casts(text: str, expected: str) -> None:
    assert tree(text) == expected


def test_member_node_fields() -> None:
    node = parse("Jet_pt.at(2)")
    assert isinstance(node, S.Member)
    assert node.name == "at" and node.value == S.Name(0, "Jet_pt") and len(node.args) == 1


# -- errors ------------------------------------------------------------------------------


def assert_error_at(text: str, column: int, exc_type: type[ExpressionSyntaxError] = ExpressionSyntaxError) -> str:
    """``parse(text)`` raises ``exc_type`` pointing at 1-based ``column`` of line 1, with a caret line."""
    with pytest.raises(exc_type) as info:
        parse(text)
    message = str(info.value)
    assert info.value.position == column - 1
    assert f"line 1, column {column}" in message
    line = text.split("\n")[0]
    assert f"\n    {line}\n    {' ' * (column - 1)}^" in message
    return message


SYNTAX_ERRORS = [
    ("a +", 4),  # trailing operator: the caret points at the end
    ("a * ", 5),
    ("a ||", 5),
    ("(a + b", 7),  # unbalanced parentheses
    ("a + b)", 6),
    ("f(a, b", 7),
    ("a[0", 4),
    ("a @ b", 3),  # unexpected characters
    ("$x", 1),
    ("x + é", 5),
    ("x # 1", 3),
    ('"abc', 1),
    ("a b", 3),
    ("a ? b", 6),
    ("a ? b :", 8),
    ("v.size", 7),
    ("v.", 3),
    ("f(,)", 3),
    ("return x y", 10),
]


@pytest.mark.parametrize(("text", "column"), SYNTAX_ERRORS)
def test_syntax_errors_point_at_the_offending_column(text: str, column: int) -> None:
    assert_error_at(text, column)


def test_unexpected_character_message() -> None:
    assert "unexpected character 'é'" in assert_error_at("1 + é", 5)


def test_whitespace_only_is_an_empty_expression() -> None:
    with pytest.raises(ExpressionSyntaxError, match="empty expression") as info:
        parse("   ")
    assert "line 1, column" in str(info.value)


def test_empty_string_error_has_position() -> None:
    assert_error_at("", 1)


UNSUPPORTED = [
    ("for (int i = 0; i < 3; ++i) x", 1),
    ("while (x) y", 1),
    ("if (x) y", 1),
    ("[](float x) { return x * 2; }", 1),
    ("Map(v, [](float x) { return x; })", 8),
    ("float x = 3", 1),
    ("auto x = 3", 1),
    ("int n", 1),
    ("a = b", 3),
    ("x++", 2),
    ("x--", 2),
    ("++x", 1),
    ("a; b", 2),
    ("a > 0; return b;", 6),
    ("Jet_pt.foo()", 8),
    ("Jet_pt.push_back(1)", 8),
    ("p->x", 2),
    ("{1, 2}", 1),
    ("f(x)(y)", 5),
    ("sizeof(x)", 1),
]


@pytest.mark.parametrize(("text", "column"), UNSUPPORTED)
def test_unsupported_constructs_suggest_a_python_udf(text: str, column: int) -> None:
    message = assert_error_at(text, column, UnsupportedSyntaxError)
    assert "Python UDF" in message
    assert "not supported" in message


@pytest.mark.parametrize("text", ["a += 1", "a -= 1", "a *= 2", "a <<= 1"])
def test_compound_assignment_is_unsupported(text: str) -> None:
    with pytest.raises(UnsupportedSyntaxError, match="assignment.*Python UDF"):
        parse(text)


def test_compound_assignment_caret_points_at_the_operator() -> None:
    assert_error_at("a += 1", 3, UnsupportedSyntaxError)


def test_unsupported_is_a_syntax_error() -> None:
    assert issubclass(UnsupportedSyntaxError, ExpressionSyntaxError)


def test_unknown_member_lists_the_rvec_members() -> None:
    message = assert_error_at("v.length()", 3, UnsupportedSyntaxError)
    assert "'length'" in message and "size" in message and "at" in message


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        parse(b"a + b")  # type: ignore[arg-type]


def test_deep_nesting_does_not_crash() -> None:
    text = "(" * 400 + "x" + ")" * 400
    try:
        parse(text)
    except ExpressionSyntaxError:
        pass


# -- safety: nothing is ever evaluated ---------------------------------------------------

MALICIOUS = [
    "__import__('os').system('touch {sentinel}')",
    '__import__("os").system("touch {sentinel}")',
    "exec(\"open('{sentinel}', 'w')\")",
    'eval("1")',
    'exec("1")',
    "open('/etc/passwd').read()",
    'open("{sentinel}", "w").write("x")',
    "().__class__.__bases__[0]",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: __import__('os')",
    "import os",
]


def _forbid_dynamic_code(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile must never be called on an expression")

    for name in ("eval", "exec", "compile", "__import__"):
        monkeypatch.setattr(builtins, name, forbidden)


@pytest.mark.parametrize("template", MALICIOUS)
def test_malicious_strings_are_rejected_and_never_executed(template: str, tmp_path, monkeypatch) -> None:
    sentinel = tmp_path / "pwned"
    text = template.format(sentinel=sentinel)
    schema = {"x": CType(Scalar.FLOAT)}
    _forbid_dynamic_code(monkeypatch)
    with pytest.raises(ExpressionSyntaxError):
        parse(text)
    with pytest.raises(ExpressionSyntaxError):
        compile_expression(text, schema)
    monkeypatch.undo()
    assert not sentinel.exists()


def test_forbidden_builtins_guard_is_effective(monkeypatch) -> None:
    # The guard above must actually trip if code were evaluated.
    _forbid_dynamic_code(monkeypatch)
    with pytest.raises(AssertionError, match="never be called"):
        builtins.eval("1")


# -- property tests ----------------------------------------------------------------------


def _check_parse_total(text: str) -> None:
    try:
        node = parse(text)
    except ExpressionSyntaxError as exc:
        assert isinstance(exc.position, int)
        assert 0 <= exc.position <= len(text)
    else:
        assert isinstance(node, S.Node)


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_parse_random_text_is_a_tree_or_a_positioned_syntax_error(text: str) -> None:
    _check_parse_total(text)


@settings(max_examples=500, deadline=None)
@given(st.binary().map(lambda b: b.decode("latin-1")))
def test_parse_random_bytes_is_a_tree_or_a_positioned_syntax_error(text: str) -> None:
    _check_parse_total(text)


_TOKENS = ["a", "x1", "0", "1", "2.5", "1e3f", "0x1f", "2u", "(", ")", "[", "]", "?", ":", ",", ".", ";", "#",
           "+", "-", "*", "/", "%", "<", ">", "=", "!", "~", "&", "|", "^", "'", '"', " ", "size", "at",
           "float", "unsigned", "int", "static_cast", "RVec", "return", "::"]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS), max_size=15).map("".join))
def test_parse_random_token_soup_is_a_tree_or_a_positioned_syntax_error(text: str) -> None:
    _check_parse_total(text)


# Well-formed expressions, generated together with their expected rendering.
_IDENTS = st.sampled_from(["a", "b", "x", "Jet_pt", "MET_pt", "nMuon", "_tmp", "v2"])
_NUMBERS = st.one_of(
    st.integers(0, 2**31 - 1).map(str),
    st.integers(0, 999).map(lambda n: f"{n}.5"),
    st.integers(0, 99).map(lambda n: f"{n}.f"),
)
_LEAVES = st.one_of(_IDENTS, _NUMBERS).map(lambda s: (s, s))
_BINARY_OPS = st.sampled_from(sorted(["||", "&&", "|", "^", "&", "==", "!=", "<", "<=", ">", ">=", "<<", ">>",
                                      "+", "-", "*", "/", "%"]))  # fmt: skip
_UNARY_OPS = st.sampled_from(["-", "+", "!", "~"])
_FUNCS = st.sampled_from(["sqrt", "Sum", "ROOT::VecOps::Max", "std::abs", "pow", "DeltaR"])


def _extend(children):
    binary = st.tuples(children, _BINARY_OPS, children).map(
        lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})", f"({t[0][1]} {t[1]} {t[2][1]})")
    )
    unary = st.tuples(_UNARY_OPS, children).map(lambda t: (f"{t[0]}({t[1][0]})", f"({t[0]}{t[1][1]})"))
    call = st.tuples(_FUNCS, st.lists(children, max_size=3)).map(
        lambda t: (f"{t[0]}({', '.join(c[0] for c in t[1])})", f"{t[0]}({', '.join(c[1] for c in t[1])})")
    )
    ternary = st.tuples(children, children, children).map(
        lambda t: (f"({t[0][0]} ? {t[1][0]} : {t[2][0]})", f"({t[0][1]} ? {t[1][1]} : {t[2][1]})")
    )
    index = st.tuples(_IDENTS, children).map(lambda t: (f"{t[0]}[{t[1][0]}]", f"{t[0]}[{t[1][1]}]"))
    size = _IDENTS.map(lambda n: (f"{n}.size()", f"{n}.size()"))
    return st.one_of(binary, unary, call, ternary, index, size)


_EXPRESSIONS = st.recursive(_LEAVES, _extend, max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(_EXPRESSIONS)
def test_well_formed_expressions_parse_to_the_expected_tree(case: tuple[str, str]) -> None:
    text, expected = case
    assert tree(text) == expected


@settings(max_examples=300, deadline=None)
@given(_EXPRESSIONS, st.sampled_from(["  ", "\t", "\n", " \r\n "]))
def test_spacing_does_not_change_the_tree(case: tuple[str, str], space: str) -> None:
    text, expected = case
    assert tree(text.replace(" ", space)) == expected
