"""Comparisons of float values with double constants done in float (hepframe.expr.narrowing): C++'s answers."""

from __future__ import annotations

import operator

import awkward as ak
import numpy as np
import pytest

import hepframe
from hepframe.expr import ir
from hepframe.expr.binder import compile_expression
from hepframe.expr.narrowing import FLIPPED, float_threshold
from hepframe.expr.types import CType, Scalar

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne}


def _constants(rng: np.random.Generator) -> list[float]:
    floats = rng.standard_normal(300).astype(np.float32) * np.float32(10.0) ** rng.integers(-40, 39, 300)
    around = [float(np.nextafter(f, np.float32(np.inf))) for f in floats[:50]]
    halfway = [(float(f) + float(np.nextafter(f, np.float32(np.inf)))) / 2 for f in floats[:50]]
    nudged = [float(f) * (1 + 1e-12) for f in floats[:50]]
    special = [0.0, -0.0, 0.1, 0.15, 2.4, -2.1, 1e39, -1e39, 1e-50, -1e-50, 3.4028235677973366e38, float("inf"),
               float("-inf"), float("nan"), 2.0**-149, 2.0**-150, 1.5 * 2.0**-149]  # fmt: skip
    return [*map(float, floats), *around, *halfway, *nudged, *special]


def _values(c: float, rng: np.random.Generator) -> np.ndarray:
    with np.errstate(over="ignore"):
        near = np.float32(c)
    around = [near]
    for _ in range(3):
        around += [np.nextafter(around[-1], np.float32(np.inf))]
    around += [np.nextafter(near, np.float32(-np.inf)), np.nextafter(np.nextafter(near, np.float32(-np.inf)), np.float32(-np.inf))]
    special = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-45, -1e-45, 3.4028235e38, -3.4028235e38], np.float32)
    with np.errstate(over="ignore"):
        scaled = rng.standard_normal(20).astype(np.float32) * near
    return np.concatenate([np.array(around, np.float32), special, scaled])


def test_the_float_threshold_gives_the_double_comparison_for_every_value() -> None:
    rng = np.random.default_rng(2026)
    checked = 0
    for c in _constants(rng):
        x = _values(c, rng)
        with np.errstate(invalid="ignore", over="ignore"):
            for op, compare in OPS.items():
                t = float_threshold(op, c)
                if t is None:  # only == and != with a constant that is no float value
                    assert op in ("==", "!=") and float(np.float32(c)) != c
                    continue
                assert t.dtype == np.float32
                np.testing.assert_array_equal(compare(x, t), compare(x.astype(np.float64), c), err_msg=f"x {op} {c!r}")
                checked += 1
    assert checked > 1500


def test_the_binder_narrows_only_float_against_double_constants() -> None:
    schema = {"f": CType(Scalar.FLOAT, 1), "d": CType(Scalar.DOUBLE, 1), "i": CType(Scalar.INT, 1)}
    narrowed = compile_expression("abs(f) < 2.4", schema)
    assert isinstance(narrowed, ir.Binary) and isinstance(narrowed.right, ir.Literal)
    assert narrowed.right.type.scalar is Scalar.FLOAT and narrowed.right.value == float(np.float32(2.4000001))
    assert narrowed.left.type.scalar is Scalar.FLOAT  # no conversion of the values
    flipped = compile_expression("2.4 > f", schema)
    assert isinstance(flipped, ir.Binary) and flipped.op == ">" and flipped.left.type.scalar is Scalar.FLOAT
    assert FLIPPED[">"] == "<"
    for kept in ("d < 2.4", "i < 2.4", "f == 0.1", "f < d"):  # double values, ints, == of a non-float, two columns
        e = compile_expression(kept, schema)
        literals = [n for n in e.walk() if isinstance(n, ir.Literal)]
        assert all(n.type.scalar is Scalar.DOUBLE and n.value in (2.4, 0.1) for n in literals), kept


@pytest.mark.parametrize("engine", ["reference", "polars"])
def test_narrowed_cuts_select_what_doubles_select(engine: str, tmp_path) -> None:
    """Values at the float neighbours of the cut: the selection C++ makes in double."""
    from hepframe.datasets import write_tree

    cut = 2.4
    near = np.float32(cut)
    values = np.array([np.nextafter(near, np.float32(-np.inf)), near, np.nextafter(near, np.float32(np.inf)), np.nan,
                       -np.inf, np.inf, 0.0], np.float32)  # fmt: skip
    lists = ak.values_astype(ak.Array(values.reshape(7, 1).repeat(2, axis=1).tolist()), np.float32)
    path = write_tree(tmp_path / "cut.root", {"x": values, "v": lists})
    df = hepframe.RDataFrame("Events", str(path), engine=engine)
    got = df.Define("a", f"x < {cut}").Define("b", f"{cut} <= x").Define("n", f"Sum(v > {cut})").AsNumpy(["a", "b", "n"])
    wide = values.astype(np.float64)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(got["a"], wide < cut)
        np.testing.assert_array_equal(got["b"], cut <= wide)
        np.testing.assert_array_equal(got["n"], 2 * (wide > cut))
