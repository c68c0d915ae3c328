"""Python UDFs: vectorized callables and per-event numba functions, on every engine."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest

import hepframe
from hepframe.errors import AnalysisError, EventError
from tests.conftest import ENGINES, assert_same_values


@hepframe.udf(returns="RVec<float>")
def scaled_pt(pt, met):
    return pt / met


@hepframe.numba_udf(args=["RVec<float>", "float"], returns="int")
def n_above(pt, cut):
    n = 0
    for x in pt:
        if x > cut:
            n += 1
    return n


@hepframe.numba_udf(args=["RVec<float>", "RVec<float>", "RVec<float>", "RVec<float>"], returns="float")
def leading_pair_mass(pt, eta, phi, m):
    if len(pt) < 2:
        return -1.0
    px = pt[0] * np.cos(phi[0]) + pt[1] * np.cos(phi[1])
    py = pt[0] * np.sin(phi[0]) + pt[1] * np.sin(phi[1])
    pz = pt[0] * np.sinh(eta[0]) + pt[1] * np.sinh(eta[1])
    e = np.sqrt((pt[0] * np.cosh(eta[0])) ** 2 + m[0] ** 2) + np.sqrt((pt[1] * np.cosh(eta[1])) ** 2 + m[1] ** 2)
    return np.sqrt(max(e * e - px * px - py * py - pz * pz, 0.0))


def ht(pt) -> float:
    return ak.sum(pt, axis=1)


def _column(df, name):
    return df.AsNumpy([name])[name]


@pytest.mark.parametrize("engine", ENGINES)
def test_vectorized_udf_equals_the_string_expression(engine: str, small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, step_size=700)
    by_udf = _column(df.Define("x", scaled_pt, ["Jet_pt", "MET_pt"]), "x")
    by_string = _column(df.Define("x", "Jet_pt / MET_pt"), "x")
    assert_same_values(by_udf, by_string, "scaled_pt")
    # The same UDF by name inside a string expression, composed with other operations.
    assert_same_values(_column(df.Define("x", "scaled_pt(Jet_pt, MET_pt) * 1.f"), "x"), by_string, "by name")


@pytest.mark.parametrize("engine", ENGINES)
def test_numba_udf_by_name_matches_vecops(engine: str, small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, step_size=700)
    ours = df.Define("a", "n_above(Jet_pt, 40.f)").Define("b", "Sum(Jet_pt > 40)").AsNumpy(["a", "b"])
    np.testing.assert_array_equal(ours["a"], ours["b"])
    assert ours["a"].dtype == np.int32
    # ROOT's spelling for Numba.Declare'd functions works too, and UDFs compose in Filters.
    n = df.Filter("Numba::n_above(Jet_pt, 40.f) > 1 && MET_pt > 0", "two jets").Count().GetValue()
    assert n == df.Filter("Sum(Jet_pt > 40) > 1").Count().GetValue() > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_callables_in_define_and_filter(engine: str, small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine)
    d = df.Define("ht", ht, ["Jet_pt"]).Filter(lambda h: h > 100, ["ht"], "HT > 100")
    expected = df.Filter("Sum(Jet_pt) > 100").Count().GetValue()
    assert d.Count().GetValue() == expected
    assert [e.name for e in df.Report().GetValue()] == ["HT > 100"]
    assert "ht" in d.GetColumnNames() and "ht" not in df.GetColumnNames()
    masses = _column(df.Filter("nMuon >= 2").Define("m", leading_pair_mass, ["Muon_pt", "Muon_eta", "Muon_phi",
                                                                             "Muon_mass"]), "m")  # fmt: skip
    reference = _column(df.Filter("nMuon >= 2").Define("m", "InvariantMass(Take(Muon_pt, 2), Take(Muon_eta, 2), "
                                                            "Take(Muon_phi, 2), Take(Muon_mass, 2))"), "m")  # fmt: skip
    # The UDF computes in double, VecOps in float: light pairs lose digits to cancellation in float.
    np.testing.assert_allclose(masses, reference, rtol=1e-4, atol=2e-3)


def test_udf_errors_are_clear(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    with pytest.raises(AnalysisError, match=r"declare the result type of 'nothing'"):
        df.Define("x", lambda_without_type, ["MET_pt"])
    with pytest.raises(AnalysisError, match=r"needs the list of its input columns"):
        df.Define("x", ht)
    with pytest.raises(AnalysisError, match=r"expects RVec<float> for column 'MET_pt'"):
        df.Define("x", n_above, ["MET_pt", "MET_pt"])
    with pytest.raises(hepframe.UnknownColumnError, match=r"did you mean 'Jet_pt'"):
        df.Define("x", ht, ["Jet_ptt"])
    bad_length = hepframe.udf(returns="float", name="bad_length")(lambda x: np.zeros(3))
    with pytest.raises(AnalysisError, match=r"returned shape \(3,\) for 3000 events"):
        df.Define("x", bad_length, ["MET_pt"]).Sum("x").GetValue()
    exploding = hepframe.udf(returns="float", name="exploding")(lambda x: 1 / 0)
    with pytest.raises(EventError, match=r"Python UDF 'exploding' raised ZeroDivisionError.*entries 0-"):
        hepframe.RDataFrame("Events", small_nanoaod_file).Define("x", exploding, ["MET_pt"]).Sum("x").GetValue()


def lambda_without_type(x):
    return x


lambda_without_type.__name__ = "nothing"


@pytest.mark.parametrize("engine", ENGINES)
def test_udf_list_results_in_any_awkward_layout(engine, small_nanoaod_file):
    """Regular lists, lists viewing a larger buffer and optional lists all come back element for element."""

    def regular(pt):  # two values per event: a RegularArray
        return ak.unflatten(np.repeat(np.asarray(ak.num(pt), np.float32), 2), 2)

    def sliced(pt):  # every list but the first element: a view with offsets not from 0
        return pt[:, 1:]

    def optional(pt):  # an option-type list array (with no missing lists)
        return ak.mask(pt, ak.num(pt) >= 0)

    df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, progress=False)
    out = (df.Define("r", hepframe.udf(returns="RVec<float>")(regular), ["Jet_pt"])
             .Define("s", hepframe.udf(returns="RVec<float>")(sliced), ["Jet_pt"])
             .Define("o", hepframe.udf(returns="RVec<float>")(optional), ["Jet_pt"])
             .AsNumpy(["r", "s", "o", "Jet_pt"]))  # fmt: skip
    for r, s, o, pt in zip(out["r"], out["s"], out["o"], out["Jet_pt"], strict=True):
        assert list(r) == [float(len(pt))] * 2
        assert list(s) == list(pt[1:])
        assert list(o) == list(pt)


@pytest.mark.parametrize("engine", ENGINES)
def test_list_parts_and_list_array_round_trip_without_copies(engine, small_nanoaod_file):
    """A numba-style UDF: offsets and values of its inputs, and a result built on the same offsets."""
    seen = {}

    @hepframe.udf(returns="RVec<float>")
    def doubled(pt):
        offsets, values = hepframe.list_parts(pt, np.float32)
        seen["shares"] = np.shares_memory(values, pt.layout.content.data)  # hepframe's input: no copy
        seen["offsets"] = offsets
        return hepframe.list_array(offsets, values * 2)

    out = (hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine, progress=False)
           .Define("d", doubled, ["Jet_pt"]).AsNumpy(["d", "Jet_pt"]))  # fmt: skip
    assert seen["shares"] and seen["offsets"].dtype == np.int64 and seen["offsets"][0] == 0
    for d, pt in zip(out["d"], out["Jet_pt"], strict=True):
        assert list(d) == list(np.asarray(pt) * np.float32(2))
    # Arrays not in that form (a slice with offsets not from 0) are packed first.
    offsets, values = hepframe.list_parts(ak.Array([[1.0], [2.0, 3.0], []])[1:])
    assert list(offsets) == [0, 2, 2] and list(values) == [2.0, 3.0]
