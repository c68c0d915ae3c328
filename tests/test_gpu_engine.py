"""The GPU engine: the conformance suite, C++ semantics, errors and histograms, in numba's CUDA simulator.

tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1 unless the environment says otherwise, so these
tests run the engine's CUDA kernels (the same code as on a device) on the CPU; on a machine with a
GPU, scripts/gpu-check.sh runs this file with NUMBA_ENABLE_CUDASIM=0. Expressions the engine does
not support are strict xfails that must raise UnsupportedOperationError naming the operation.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytest
from hepframe.udfs import jagged
from hypothesis import HealthCheck, assume, given, settings

import hepframe
from hepframe.datasets import generate_nanoaod, write_tree
from hepframe.engines.gpu_engine import RULES, GpuEngine
from hepframe.errors import EventError, ExpressionTypeError, UnsupportedOperationError
from tests.conftest import assert_same_values, tiny_branches
from tests.test_conformance import CPP_RESULTS, EXPRESSIONS
from tests.test_properties import STEP_SIZE, expressions, trees

pytestmark = [
    pytest.mark.filterwarnings("ignore::hepframe.expr.binder.UnsignedUnderflowWarning"),
    # the simulator computes with numpy scalars in its threads (np.errstate does not reach them)
    pytest.mark.filterwarnings("ignore::RuntimeWarning:hepframe.engines.gpu_kernels"),
]


def _gap(expression: str, schema_path: str) -> str | None:
    """Why the GPU engine cannot run ``expression`` (its own compile-time error), or None."""
    from hepframe.expr.binder import compile_expression

    schema = hepframe.RDataFrame("Events", schema_path, engine="reference")._node.schema()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the binder's warnings are the conformance suite's business
            expr = compile_expression(expression, schema)
        GpuEngine().check(expr, expression)
    except UnsupportedOperationError as exc:
        return str(exc)
    return None


_SCHEMA_FILE = write_tree(os.path.join(tempfile.mkdtemp(prefix="hepframe-gpu-"), "tiny.root"), tiny_branches())


def _cases(expressions: list) -> list:
    """pytest params, each gap a strict xfail that must raise UnsupportedOperationError."""
    out = []
    for case in expressions:
        expression = case[0] if isinstance(case, tuple) else case
        gap = _gap(expression, _SCHEMA_FILE)
        marks = [pytest.mark.xfail(strict=True, raises=UnsupportedOperationError, reason=gap)] if gap else []
        out.append(pytest.param(*(case if isinstance(case, tuple) else (case,)), marks=marks, id=expression))
    return out


def _values(engine: str, path: str, expression: str, step_size: int = 3) -> np.ndarray:
    df = hepframe.RDataFrame("Events", path, engine=engine, step_size=step_size)
    return df.Define("out", expression).AsNumpy(["out"])["out"]


@pytest.mark.parametrize("expression", _cases(EXPRESSIONS))
def test_gpu_matches_reference(expression: str, tiny_file: str) -> None:
    actual = _values("gpu", tiny_file, expression)
    assert_same_values(actual, _values("reference", tiny_file, expression), f"gpu: {expression}")


def test_gpu_runs_most_of_the_conformance_suite() -> None:
    """The share of the suite the device runs (the rest: strict xfails above); it may only grow."""
    supported = [e for e in EXPRESSIONS if _gap(e, _SCHEMA_FILE) is None]
    assert len(supported) >= 236, f"{len(supported)} of {len(EXPRESSIONS)}"


@pytest.mark.parametrize(("expression", "expected"), _cases(CPP_RESULTS))
def test_gpu_cpp_semantics(expression: str, expected: np.ndarray, tiny_file: str) -> None:
    actual = _values("gpu", tiny_file, expression)
    np.testing.assert_array_equal(actual.astype(expected.dtype), expected)
    assert actual.dtype == expected.dtype or expected.dtype == np.uint64


@pytest.mark.parametrize(
    ("expression", "entry"),
    [("Obj_v[0]", 1), ("Obj_v[2]", 1), ("Max(Obj_v)", 1), ("i / (i - i)", 0), ("Obj_v.back()", 1),
     ("Obj_v[0] > 0 && false", 1), ("flag && Obj_v[2] > 0 && false", 2), ("!flag || Obj_v[0] > 0 || true", 5)],
)  # fmt: skip
def test_gpu_undefined_value_names_the_entry(expression: str, entry: int, tiny_file: str) -> None:
    with pytest.raises(EventError, match=rf"undefined in entry {entry}\b"):
        _values("gpu", tiny_file, expression, step_size=100)


def test_gpu_rvec_size_mismatch_is_an_error(tiny_file: str) -> None:
    with pytest.raises(EventError, match=r"different sizes \(3 and 1\) in entry 0"):
        _values("gpu", tiny_file, "Obj_v + Oth_v")


def test_gpu_filters_and_short_circuit(tiny_file: str) -> None:
    df = hepframe.RDataFrame("Events", tiny_file, engine="gpu", step_size=3)
    assert df.Filter("nObj >= 2").Filter("Obj_v[1] > 0").Count().GetValue() == 3
    out = df.Filter("nObj >= 1").Define("first", "Obj_v[0]").AsNumpy(["first", "rdfentry_"])
    np.testing.assert_array_equal(out["rdfentry_"], [0, 2, 3, 4, 6, 7])
    assert_same_values(out["first"], np.array([1.0, np.nan, 0.5, 40.5, 7.0, -1.0], np.float32))


def _analysis(df):
    """A dimuon-style selection using only what the device runs; every result in one event loop."""
    sel = (df.Filter("nMuon >= 2", "two muons")
             .Define("good_jet_pt", "Jet_pt[Jet_pt > 30 && abs(Jet_eta) < 2.4]")
             .Define("ht", "Sum(good_jet_pt)")
             .Define("lead_mu", "Max(Muon_pt)")
             .Define("os", "Muon_charge[0] != Muon_charge[1]")
             .Filter("os", "opposite sign"))  # fmt: skip
    return [
        sel.Histo1D(("ht", "", 40, 0.0, 800.0), "ht"),
        sel.Histo1D(("lead", "", 50, 0.0, 250.0), "lead_mu", "ht"),  # weighted: sums in entry order
        sel.Histo1D(("njet", "", 10, 0.0, 10.0), "good_jet_pt"),  # RVec fill: one entry per element
        sel.Count(),
        sel.Sum("ht"),
    ]


@pytest.fixture(scope="module")
def gpu_nanoaod(tmp_path_factory) -> str:
    """A few hundred events: the simulator runs each CUDA thread in Python."""
    return generate_nanoaod(tmp_path_factory.mktemp("gpu") / "small.root", n_events=400, seed=11)


def test_gpu_histograms_equal_the_polars_engine(gpu_nanoaod: str) -> None:
    gpu = _analysis(hepframe.RDataFrame("Events", gpu_nanoaod, engine="gpu", step_size=150))
    cpu = _analysis(hepframe.RDataFrame("Events", gpu_nanoaod, engine="polars", step_size=150))
    hepframe.RunGraphs(gpu)
    assert gpu[3].GetValue() == cpu[3].GetValue() > 20
    assert gpu[4].GetValue() == cpu[4].GetValue()
    for g, c in zip(gpu[:3], cpu[:3], strict=True):
        hg, hc = g.GetValue(), c.GetValue()
        np.testing.assert_array_equal(hg.values(flow=True), hc.values(flow=True))
        np.testing.assert_array_equal(hg.variances(flow=True), hc.variances(flow=True))


def test_the_core_verbs_run_on_the_gpu_engine(gpu_nanoaod: str, tmp_path) -> None:
    """Vary, 2D histograms, profiles, statistics and Snapshot run on the GPU engine.

    The executor is the same for every engine; only the expressions run on the device.
    """
    booked = {}
    for engine in ("gpu", "polars"):
        df = hepframe.RDataFrame("Events", gpu_nanoaod, engine=engine, step_size=150)
        d = df.Filter("nJet >= 1").Define("ht", "Sum(Jet_pt)").Define("w", "MET_pt / 100.f")
        varied = d.Vary("ht", "ROOT::RVecF{ht * 0.9f, ht * 1.1f}", ["down", "up"]).Histo1D(("ht", "", 20, 0, 500), "ht", "w")
        booked[engine] = {
            "vary": hepframe.VariationsFor(varied),
            "h2": d.Histo2D(("h2", "", 10, 0, 500, 10, 0, 200), "ht", "MET_pt"),
            "profile": d.Profile1D(("p", "", 10, 0, 500), "ht", "MET_pt"),
            "stats": d.Stats("ht"),
        }
    gpu, cpu = booked["gpu"], booked["polars"]
    assert sorted(gpu["vary"].GetKeys()) == ["ht:down", "ht:up", "nominal"]
    for key in gpu["vary"].GetKeys():
        np.testing.assert_array_equal(gpu["vary"][key].values(flow=True), cpu["vary"][key].values(flow=True))
    for key in ("h2", "profile"):
        np.testing.assert_array_equal(gpu[key].GetValue().values(flow=True), cpu[key].GetValue().values(flow=True))
    assert gpu["stats"].GetValue().GetMean() == cpu["stats"].GetValue().GetMean()
    out = tmp_path / "skim.root"
    df = hepframe.RDataFrame("Events", gpu_nanoaod, engine="gpu", step_size=150)
    snap = df.Filter("nMuon > 0").Define("pt0", "Muon_pt[0]").Snapshot("Events", str(out), ["pt0", "Muon_pt"])
    back = hepframe.RDataFrame("Events", str(out)).AsNumpy(["pt0"])["pt0"]
    expected = hepframe.RDataFrame("Events", gpu_nanoaod).Filter("nMuon > 0").Define("pt0", "Muon_pt[0]")
    np.testing.assert_array_equal(back, expected.AsNumpy(["pt0"])["pt0"])
    assert snap.Count().GetValue() == len(back) > 0


_ADL_GAPS = {q: "transcendental math (cos, sin, sinh, InvariantMasses) is not on the device yet" for q in (5, 6, 8)}


@pytest.mark.parametrize(
    "query",
    [pytest.param(q, marks=[pytest.mark.xfail(strict=True, raises=UnsupportedOperationError, reason=_ADL_GAPS[q])]
                  if q in _ADL_GAPS else []) for q in range(1, 9)],
)  # fmt: skip
def test_adl_string_queries_equal_the_polars_engine(query: int, adl_small: str) -> None:
    """The ADL benchmark's queries as users write them (strings only), GPU against Polars."""
    from benchmarks.adl.strings import QUERIES

    results = {}
    for engine in ("gpu", "polars"):
        booked = QUERIES[query](hepframe.RDataFrame("Events", adl_small, engine=engine, step_size=60))
        results[engine] = [h.GetValue() for h in (booked if isinstance(booked, tuple) else (booked,))]
    for g, c in zip(results["gpu"], results["polars"], strict=True):
        np.testing.assert_array_equal(g.values(flow=True), c.values(flow=True))
    assert results["gpu"][0].sum().value > 0


@pytest.fixture(scope="module")
def adl_small(tmp_path_factory) -> str:
    return generate_nanoaod(tmp_path_factory.mktemp("adl") / "adl.root", n_events=120, seed=3)


def test_unsupported_node_is_named_when_the_analysis_is_built(tiny_file: str) -> None:
    df = hepframe.RDataFrame("Events", tiny_file, engine="gpu")
    with pytest.raises(UnsupportedOperationError, match=r"gpu engine does not support 'exp' on scalar operands in 'exp\(x\)'"):
        df.Define("y", "exp(x)")
    with pytest.raises(UnsupportedOperationError, match=r"'InvariantMass' on rvec operands"):
        df.Define("m", "InvariantMass(Obj_v, Obj_v, Obj_v, Obj_v)")
    with pytest.raises(UnsupportedOperationError, match=r"non-constant on RVec<RVec<T>> \(from Combinations\)"):
        df.Define("c", "Combinations(Obj_v, 2)[nObj - 1]")


def test_support_table_is_the_rules_table() -> None:
    assert set(GpuEngine.SUPPORT) == set(RULES)
    assert "exp" not in GpuEngine.SUPPORT and "Sum" in GpuEngine.SUPPORT


def test_without_cuda_the_error_says_what_to_do(tiny_file: str) -> None:
    """Outside the simulator, a machine without a usable GPU gets one clear error."""
    code = (
        "import hepframe\n"
        "from numba import cuda\n"
        "try:\n"
        f"    df = hepframe.RDataFrame('Events', {tiny_file!r}, engine='gpu')\n"
        "    print('DEVICE', cuda.is_available(), df.Count().GetValue())\n"
        "except Exception as exc:\n"
        "    print('ERROR', cuda.is_available(), type(exc).__name__, exc)\n"
    )
    env = {**os.environ, "NUMBA_ENABLE_CUDASIM": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120).stdout
    if out.startswith("ERROR False"):
        assert "UnsupportedOperationError" in out
        assert "pip install 'hepframe[gpu]'" in out and "engine='polars'" in out and "NUMBA_ENABLE_CUDASIM=1" in out
    else:  # a machine with a GPU: the engine runs
        assert out.startswith("DEVICE True 8"), out


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8])
def test_per_event_algorithms_are_the_same_on_cpu_and_device(dtype) -> None:
    """udfs.jagged's per-RVec algorithms, compiled for the CPU and as CUDA kernels, agree bit for bit."""
    from numba import cuda

    from hepframe.engines import gpu_kernels as k

    rng = np.random.default_rng(5)
    counts = rng.integers(0, 6, 300)
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    values = (rng.normal(0, 50, offsets[-1]) if np.dtype(dtype).kind == "f" else rng.integers(0, 100, offsets[-1])).astype(dtype)
    d_off, d_val = cuda.to_device(offsets), cuda.to_device(values)
    acc = np.dtype(np.float64 if np.dtype(dtype).kind == "f" else np.int64)
    for name, cpu in [("sum", lambda: jagged.reduce_sum(offsets, values, acc)),
                      ("product", lambda: jagged.reduce_product(offsets, values, acc))]:  # fmt: skip
        out = cuda.to_device(np.full(len(counts), 0 if name == "sum" else 1, acc))
        k.launch(k.reduce_sum if name == "sum" else k.reduce_product, len(counts), d_off, cuda.to_device(values.astype(acc)), out)
        assert_same_values(out.copy_to_host(), cpu(), name)
    var = cuda.to_device(np.zeros(len(counts)))
    var_acc = values.dtype if values.dtype.kind == "f" else np.dtype(np.int64)  # ROOT sums in the element type
    k.launch(k.reduce_var, len(counts), d_off, cuda.to_device(values.astype(var_acc)), var_acc.type(0), var)
    assert_same_values(var.copy_to_host(), jagged.reduce_var(offsets, values), "var")
    for fn, cpu in [("Max", lambda: jagged.reduce_max(offsets, values)), ("Min", lambda: jagged.reduce_min(offsets, values)),
                    ("ArgMax", lambda: jagged.reduce_argmax(offsets, values, True)),
                    ("ArgMin", lambda: jagged.reduce_argmax(offsets, values, False))]:  # fmt: skip
        expected, expected_ok = cpu()
        out = cuda.to_device(np.zeros(len(counts), expected.dtype))
        ok = cuda.to_device(np.ones(len(counts), np.bool_))
        k.launch(k.EXTREMES[fn], len(counts), d_off, d_val, out, ok)
        np.testing.assert_array_equal(ok.copy_to_host(), expected_ok)
        assert_same_values(out.copy_to_host()[expected_ok], expected[expected_ok], fn)


def test_prefix_sums_span_many_chunks() -> None:
    from numba import cuda

    from hepframe.engines import gpu_kernels as k

    counts = np.random.default_rng(2).integers(0, 4, 3 * k.SCAN_CHUNK + 17)
    offsets, total = k.offsets_from_counts(cuda.to_device(counts))
    np.testing.assert_array_equal(offsets.copy_to_host(), np.concatenate([[0], np.cumsum(counts)]))
    assert total == counts.sum()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])  # fmt: skip
@given(branches=trees(), expression=expressions)
def test_gpu_matches_reference_on_random_expressions(branches: dict, expression: str) -> None:
    """The property test of tests/test_properties.py, on the GPU engine.

    Expressions it refuses are drawn again (the refusal itself is tested above).
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = write_tree(os.path.join(tmp, "events.root"), branches)
        try:
            expected = _values("reference", path, expression)
            df = hepframe.RDataFrame("Events", path, engine="gpu", step_size=STEP_SIZE).Define("out", expression)
        except (ExpressionTypeError, UnsupportedOperationError):
            assume(False)
        actual = df.AsNumpy(["out"])["out"]
    assert_same_values(actual, expected, f"gpu vs reference: {expression}")


@pytest.mark.parametrize("script", ["gpu-check.sh", "gpu-bundle.sh", "gpu-setup.sh"])
def test_gpu_scripts_are_ready(script: str) -> None:
    """The device workflow's scripts parse and are executable (they run where there is a GPU)."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / script
    assert os.access(path, os.X_OK), f"{path} is not executable"
    done = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
