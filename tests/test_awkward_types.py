"""``AsAwkward`` gives uproot's types: no option types where no value is missing, on every engine."""

from __future__ import annotations

import awkward as ak
import numpy as np
import pyarrow as pa
import pytest
import uproot

import hepframe
from hepframe.actions import to_awkward
from tests.conftest import engine_for

ENGINES = ["polars", "spark", "spark-native"]
#: Flat float, unsigned, 64-bit and bool branches; jagged float, int and bool branches.
BRANCHES = ["MET_pt", "nMuon", "event", "run", "HLT_IsoMu24", "Muon_pt", "Muon_charge", "Muon_tightId"]


@pytest.mark.parametrize("engine", ENGINES)
def test_file_columns_have_uproots_types_and_values(engine: str, small_nanoaod_file: str) -> None:
    got = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine_for(engine)).AsAwkward(BRANCHES).GetValue()
    expected = uproot.open(small_nanoaod_file)["Events"].arrays(BRANCHES)
    assert str(got.type) == str(expected.type)
    assert got.type == expected.type
    for name in BRANCHES:
        assert ak.array_equal(got[name], expected[name]), name


@pytest.mark.parametrize("engine", ENGINES)
def test_defined_columns_after_a_filter_have_their_cpp_types(engine: str, small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine_for(engine)).Filter("nMuon >= 1")
    df = df.Define("tight_pt", "Muon_pt[Muon_tightId]").Define("charge2", "Muon_charge * 2")
    df = df.Define("high_met", "MET_pt > 50").Define("pos", "Muon_charge > 0")
    got = df.AsAwkward(["tight_pt", "charge2", "high_met", "pos", "Muon_pt"]).GetValue()

    branches = ["nMuon", "Muon_pt", "Muon_tightId", "Muon_charge", "MET_pt"]
    events = uproot.open(small_nanoaod_file)["Events"].arrays(branches)
    events = events[events.nMuon >= 1]
    expected = ak.zip({"tight_pt": events.Muon_pt[events.Muon_tightId], "charge2": events.Muon_charge * np.int32(2),
                       "high_met": events.MET_pt > 50, "pos": ak.values_astype(events.Muon_charge > 0, np.int32), "Muon_pt": events.Muon_pt},
                      depth_limit=1)  # fmt: skip
    # RVec comparisons give RVec<int> in ROOT; scalar ones bool.
    assert str(got.type) == str(expected.type) == (
        f"{len(events)} * {{tight_pt: var * float32, charge2: var * int32, high_met: bool, pos: var * int32, "
        "Muon_pt: var * float32}"
    )
    assert ak.array_equal(got, expected)


def test_no_events_keep_the_types(small_nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", small_nanoaod_file).Filter("MET_pt < 0")
    got = df.AsAwkward(["MET_pt", "Muon_pt"]).GetValue()
    assert str(got.type) == "0 * {MET_pt: float32, Muon_pt: var * float32}"


def test_missing_values_keep_their_option_type() -> None:
    # Undefined values arrive as nulls: those fields, and only those, stay optional.
    jagged = pa.LargeListArray.from_arrays(pa.array([0, 2, 2, 3], pa.int64()), pa.array([1.0, None, 3.0], pa.float32()))
    table = pa.table({"x": pa.array([1, None, 3], pa.int32()), "v": jagged, "w": pa.array([0.5, 1.5, 2.5])})
    got = to_awkward(table)
    assert str(got.type) == "3 * {x: ?int32, v: var * ?float32, w: float64}"
    assert got.tolist() == [{"x": 1, "v": [1.0, None], "w": 0.5}, {"x": None, "v": [], "w": 1.5},
                            {"x": 3, "v": [3.0], "w": 2.5}]  # fmt: skip


def test_the_conversion_does_not_copy_the_values() -> None:
    values = pa.array(np.arange(6, dtype=np.float32))
    table = pa.table({"v": pa.LargeListArray.from_arrays(pa.array([0, 2, 6], pa.int64()), values)})
    got = to_awkward(table)
    assert np.shares_memory(ak.to_numpy(ak.flatten(got["v"])), np.frombuffer(values.buffers()[1], np.float32))
