"""Unit tests of expression typing (hepframe.expr.binder): C++ conversions, ROOT result types, errors."""

from __future__ import annotations

import numpy as np
import pytest

from hepframe.errors import (
    ExpressionError,
    ExpressionTypeError,
    UnknownColumnError,
    UnknownFunctionError,
)
from hepframe.expr import compile_expression, ir
from hepframe.expr.binder import UnsignedUnderflowWarning
from hepframe.expr.types import CType, Scalar, common_scalar

F, D = Scalar.FLOAT, Scalar.DOUBLE
SCHEMA = {
    "Jet_pt": CType(F, 1),
    "Jet_eta": CType(F, 1),
    "Jet_phi": CType(F, 1),
    "Jet_mass": CType(F, 1),
    "Jet_id": CType(Scalar.BOOL, 1),
    "Muon_charge": CType(Scalar.INT, 1),
    "MET_pt": CType(F),
    "MET_phi": CType(F),
    "weight": CType(D),
    "nMuon": CType(Scalar.UINT),
    "run": CType(Scalar.INT),
    "lumi": CType(Scalar.LONG),
    "event": CType(Scalar.ULONG),
    "flag": CType(Scalar.BOOL),
    "s": CType(Scalar.SHORT),
    "c": CType(Scalar.UCHAR),
}


def typed(text: str) -> ir.Expr:
    return compile_expression(text, SCHEMA)


def type_of(text: str) -> str:
    return typed(text).type.short


# -- usual arithmetic conversions --------------------------------------------------------

ARITHMETIC = [
    ("MET_pt * MET_pt", "float"),
    ("MET_pt * 2.0", "double"),
    ("MET_pt * 2", "float"),
    ("MET_pt * 2.5f", "float"),
    ("MET_pt + weight", "double"),
    ("run / run", "int"),
    ("run * 2", "int"),
    ("nMuon - run", "unsigned int"),
    ("run + 2u", "unsigned int"),
    ("flag + flag", "int"),
    ("s + s", "int"),
    ("c * c", "int"),
    ("s + c", "int"),
    ("event + lumi", "unsigned long"),
    ("lumi + nMuon", "long"),
    ("run + lumi", "long"),
    ("run + 2147483648", "long"),
    ("event * MET_pt", "float"),
    ("run << 2", "int"),
    ("s << lumi", "int"),  # shifts take the promoted type of the left operand
    ("nMuon >> run", "unsigned int"),
    ("run & nMuon", "unsigned int"),
    ("-s", "int"),
    ("-nMuon", "unsigned int"),
    ("~c", "int"),
    ("!MET_pt", "bool"),
    ("+flag", "int"),
    ("Jet_pt * 2", "RVec<float>"),
    ("Jet_pt * 2.0", "RVec<double>"),
    ("Jet_pt * MET_pt", "RVec<float>"),
    ("Muon_charge * Jet_pt", "RVec<float>"),
    ("Muon_charge / 2", "RVec<int>"),
    ("-Jet_pt", "RVec<float>"),
]


@pytest.mark.parametrize(("text", "expected"), ARITHMETIC)
def test_usual_arithmetic_conversions(text: str, expected: str) -> None:
    assert type_of(text) == expected


COMMON = [
    (F, F, F),
    (F, D, D),
    (Scalar.INT, F, F),
    (Scalar.ULONG, F, F),
    (Scalar.LONG, D, D),
    (Scalar.INT, Scalar.INT, Scalar.INT),
    (Scalar.UINT, Scalar.INT, Scalar.UINT),
    (Scalar.BOOL, Scalar.BOOL, Scalar.INT),
    (Scalar.SHORT, Scalar.SHORT, Scalar.INT),
    (Scalar.CHAR, Scalar.UCHAR, Scalar.INT),
    (Scalar.USHORT, Scalar.INT, Scalar.INT),
    (Scalar.ULONG, Scalar.LONG, Scalar.ULONG),  # equal rank: the unsigned type wins
    (Scalar.LONG, Scalar.UINT, Scalar.LONG),  # int64 represents every uint32
    (Scalar.UINT, Scalar.LONG, Scalar.LONG),
    (Scalar.ULONG, Scalar.INT, Scalar.ULONG),
    (Scalar.UINT, Scalar.CHAR, Scalar.UINT),
]


@pytest.mark.parametrize(("a", "b", "expected"), COMMON)
def test_common_scalar(a: Scalar, b: Scalar, expected: Scalar) -> None:
    assert common_scalar(a, b) is expected
    assert common_scalar(b, a) is expected


def test_binary_operands_are_converted_to_the_common_type() -> None:
    expr = typed("run + nMuon")
    assert isinstance(expr, ir.Binary)
    assert expr.left == ir.Cast(CType(Scalar.UINT), ir.Column(CType(Scalar.INT), "run"))
    assert expr.right == ir.Column(CType(Scalar.UINT), "nMuon")


def test_literals_are_converted_at_compile_time() -> None:
    expr = typed("MET_pt * 2")
    assert expr.right == ir.Literal(CType(F), 2.0)
    assert typed("-2u") == ir.Literal(CType(Scalar.UINT), 2**32 - 2)
    assert typed("-2147483648") == ir.Literal(CType(Scalar.LONG), -(2**31))


# -- comparisons, logic, ROOT functions --------------------------------------------------

ROOT_TYPES = [
    ("MET_pt > 40", "bool"),
    ("run == nMuon", "bool"),
    ("flag && run", "bool"),
    ("MET_pt > 40 || flag", "bool"),
    ("Jet_pt > 40", "RVec<int>"),  # ROOT's RVec comparisons return RVec<int>
    ("Jet_pt > MET_pt", "RVec<int>"),
    ("Jet_pt > 40 && Jet_id", "RVec<int>"),
    ("!Jet_id", "RVec<bool>"),
    ("Sum(Jet_pt > 40)", "int"),
    ("Sum(Jet_id)", "unsigned long"),  # ROOT's Sum(RVec<bool>) overload returns std::size_t
    ("Sum(Jet_pt)", "float"),
    ("ROOT::VecOps::Sum(Muon_charge)", "int"),
    ("Max(Jet_pt)", "float"),
    ("Jet_pt[Jet_pt > 40]", "RVec<float>"),
    ("Muon_charge[Jet_id]", "RVec<int>"),
    ("Jet_pt[0]", "float"),
    ("Jet_pt[nMuon]", "float"),
    ("Jet_pt.at(1)", "float"),
    ("Jet_pt.front()", "float"),
    ("Jet_pt.back()", "float"),
    ("Jet_pt.size()", "unsigned long"),
    ("#Jet_pt", "unsigned long"),
    ("Jet_pt.empty()", "bool"),
    ("Mean(Jet_pt)", "double"),
    ("Any(Jet_pt > 1)", "bool"),
    ("sqrt(MET_pt)", "float"),
    ("sqrt(run)", "double"),
    ("sqrt(weight)", "double"),
    ("std::sqrt(Jet_pt)", "RVec<float>"),
    ("TMath::Sqrt(MET_pt)", "float"),
    ("pow(MET_pt, 2)", "double"),
    ("pow(MET_pt, 2.f)", "float"),
    ("abs(run)", "int"),
    ("abs(s)", "int"),
    ("fabs(MET_pt)", "float"),
    ("InvariantMass(Jet_pt, Jet_eta, Jet_phi, Jet_mass)", "float"),
    ("DeltaPhi(MET_pt, MET_phi)", "float"),
    ("DeltaPhi(MET_pt, MET_pt)", "float"),
    ("DeltaPhi(MET_phi, weight)", "double"),
    ("M_PI", "double"),
    ("TMath::Pi()", "double"),
    ("rdfentry_", "unsigned long"),
    ("(float)weight", "float"),
    ("float(run)", "float"),
    ("static_cast<int>(MET_pt)", "int"),
    ("(unsigned int)run", "unsigned int"),
    ("flag ? 1 : 2.5", "double"),
    ("flag ? s : s", "short"),
    ("flag ? true : false", "bool"),
    ("flag ? Jet_pt : Jet_pt * 2", "RVec<float>"),
]


@pytest.mark.parametrize(("text", "expected"), ROOT_TYPES)
def test_root_result_types(text: str, expected: str) -> None:
    assert type_of(text) == expected


def _casts_of_column(expr: ir.Expr, name: str) -> list[ir.Cast]:
    return [n for n in expr.walk() if isinstance(n, ir.Cast) and n.operand == ir.Column(SCHEMA[name], name)]


def test_comparison_with_double_literal_is_made_in_float_with_the_same_answer() -> None:
    """C++ converts the float column to double; the binder compares in float against the largest float <= 0.1
    (hepframe.expr.narrowing), which selects the same values without converting them."""
    expr = typed("Jet_pt > 0.1")
    assert _casts_of_column(expr, "Jet_pt") == []
    below = float(np.nextafter(np.float32(0.1), np.float32(0)))  # float(0.1f) > 0.1: the float below
    assert isinstance(expr, ir.Binary) and expr.right == ir.Literal(CType(Scalar.FLOAT), below)
    assert [c.type for c in _casts_of_column(typed("Jet_pt == 0.1"), "Jet_pt")] == [CType(D, 1)]  # kept


def test_comparison_with_int_literal_converts_the_literal() -> None:
    expr = typed("Jet_pt > 40")
    assert not [n for n in expr.walk() if isinstance(n, ir.Cast)]
    assert isinstance(expr, ir.Binary)
    assert expr.left == ir.Column(CType(F, 1), "Jet_pt")
    assert expr.right == ir.Literal(CType(F), 40.0)
    assert isinstance(expr.right.value, float)


def test_every_arithmetic_binary_has_operands_of_one_scalar_type() -> None:
    expr = typed("(Jet_pt * 2 + run) / nMuon - sqrt(s) > weight && c")
    for node in expr.walk():
        if isinstance(node, ir.Binary):
            assert node.left.type.scalar is node.right.type.scalar, node


def test_free_columns_and_mask_node() -> None:
    expr = typed("Jet_pt[Jet_eta > 2]")
    assert isinstance(expr, ir.Mask)
    assert expr.mask.type == CType(Scalar.BOOL, 1)
    assert ir.free_columns(expr) == {"Jet_pt", "Jet_eta"}


# -- errors ------------------------------------------------------------------------------


def test_unknown_column_lists_close_matches() -> None:
    with pytest.raises(UnknownColumnError, match="unknown column 'Jet_ptt'") as info:
        typed("Jet_ptt > 40")
    assert "'Jet_pt'" in str(info.value)
    assert info.value.position == 0
    assert "line 1, column 1" in str(info.value)


def test_unknown_column_without_close_match() -> None:
    with pytest.raises(UnknownColumnError) as info:
        typed("zzzzzz + 1")
    assert "did you mean" not in str(info.value)


def test_unknown_function_lists_close_matches() -> None:
    with pytest.raises(UnknownFunctionError, match="unknown function 'Summ'") as info:
        typed("Summ(Jet_pt)")
    assert "'Sum'" in str(info.value)


def test_function_name_used_as_a_value() -> None:
    with pytest.raises(ExpressionTypeError, match="must be called"):
        typed("sqrt + 1")


def test_comparing_with_a_string_names_both_types() -> None:
    with pytest.raises(ExpressionTypeError) as info:
        typed('Jet_pt > "a"')
    message = str(info.value)
    assert "RVec<float>" in message and "const char*" in message
    assert info.value.position == 7


def test_float_remainder_suggests_fmod() -> None:
    with pytest.raises(ExpressionTypeError, match="fmod"):
        typed("MET_pt % 2")
    assert type_of("fmod(MET_pt, 2.f)") == "float"
    assert type_of("run % 2") == "int"


@pytest.mark.parametrize("text", ["MET_pt & 1", "run << 1.5", "~MET_pt", "~Jet_pt"])
def test_integer_only_operators_reject_floats(text: str) -> None:
    with pytest.raises(ExpressionTypeError, match="integer"):
        typed(text)


def test_indexing_a_scalar() -> None:
    with pytest.raises(ExpressionTypeError, match="cannot index float"):
        typed("MET_pt[0]")


def test_index_must_be_an_integer() -> None:
    with pytest.raises(ExpressionTypeError, match="integer"):
        typed("Jet_pt[1.5]")


def test_conditional_with_rvec_condition() -> None:
    with pytest.raises(ExpressionTypeError, match="Where") as info:
        typed("Jet_pt > 40 ? 1 : 0")
    assert "RVec<int>" in str(info.value)


def test_conditional_with_incompatible_branches() -> None:
    with pytest.raises(ExpressionTypeError, match="incompatible"):
        typed("flag ? Jet_pt : MET_pt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sqrt(MET_pt, MET_pt)", "sqrt takes 1 arguments, got 2"),
        ("pow(MET_pt)", "pow takes 2 arguments, got 1"),
        ("Mean()", "Mean takes 1 arguments, got 0"),
        ("DeltaR(Jet_eta, Jet_eta)", "DeltaR takes 4 to 5 arguments, got 2"),
        ("Jet_pt.size(1)", "takes 0 arguments, got 1"),
    ],
)
def test_wrong_argument_count(text: str, message: str) -> None:
    with pytest.raises(ExpressionTypeError, match=message):
        typed(text)


@pytest.mark.parametrize(
    "text",
    [
        "Sum(MET_pt)",  # a reduction needs an RVec
        'sqrt("x")',
        "InvariantMass(MET_pt, MET_pt, MET_pt, MET_pt)",
        "(float)Jet_pt",
        "MET_pt.size()",
        "#MET_pt",
        'Jet_pt + Muon_charge[Jet_id] + "s"',
    ],
)
def test_signature_and_type_errors(text: str) -> None:
    with pytest.raises(ExpressionTypeError):
        typed(text)


def test_all_binder_errors_are_expression_errors() -> None:
    for text in ["Jet_ptt", "Summ(Jet_pt)", "MET_pt[0]"]:
        with pytest.raises(ExpressionError):
            typed(text)


# -- unsigned wrap-around warning ------------------------------------------------------


@pytest.mark.parametrize("text", ["nMuon - 3 > 0", "0 < nMuon - 3", "event - 1 >= 0", "Jet_pt.size() - 2 > 0"])
def test_unsigned_subtraction_compared_warns(text: str) -> None:
    with pytest.warns(UnsignedUnderflowWarning, match="wraps around"):
        expr = typed(text)
    assert expr.type.short == "bool"


def test_unsigned_subtraction_without_comparison_does_not_warn(recwarn) -> None:
    assert type_of("nMuon - 3") == "unsigned int"
    assert type_of("run - 3 > 0") == "bool"
    assert not [w for w in recwarn if issubclass(w.category, UnsignedUnderflowWarning)]


def test_underflow_warning_is_an_error_by_default_in_this_suite() -> None:
    # pyproject.toml turns the warning into an error, so accidental wrap-arounds fail loudly.
    with pytest.raises(UnsignedUnderflowWarning):
        typed("nMuon - 3 > 0")


def test_unsigned_subtraction_compared_with_a_double_warns() -> None:
    with pytest.warns(UnsignedUnderflowWarning):
        typed("nMuon - 3 > 0.5")
