"""Shared fixtures: generated NanoAOD-like samples, a tiny edge-case file, engine lists, ROOT."""

from __future__ import annotations

import os
import sys
import tempfile

# The GPU engine's tests run its CUDA kernels in numba's simulator unless a real device is asked
# for (scripts/gpu-check.sh sets NUMBA_ENABLE_CUDASIM=0). Set before numba is first imported.
os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
if "numba.cuda" not in sys.modules:  # a pytest plugin may have imported numba: read the setting again
    from numba.core import config as _numba_config

    _numba_config.reload_config()

import awkward as ak
import numpy as np
import pytest

from hepframe.datasets import generate_nanoaod, write_tree

# The column cache of the test session lives in a temporary directory, never in ~/.cache.
os.environ.setdefault("HEPFRAME_CACHE_DIR", tempfile.mkdtemp(prefix="hepframe-test-cache-"))

#: Engines of the conformance suite (the GPU engine's suite is in tests/test_gpu_engine.py).
ENGINES = ["reference", "polars"]
#: The conformance suite (tests/test_conformance.py) also runs on Spark (local[2] in CI), both
#: ways: "spark" (tasks read the files, Polars inside) and "spark-native" (the root data source
#: and native Spark SQL columns, Polars inside for the rest).
CONFORMANCE_ENGINES = [*ENGINES, "spark", "spark-native"]


def engine_for(name: str):
    """The engine argument of RDataFrame for a conformance engine name."""
    if name == "spark-native":
        from hepframe.engines.spark_engine import SparkEngine

        return SparkEngine(native=True)
    return name


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark for the whole test run: 2 cores, and a retry for each failed task."""
    import sys

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    from hepframe.engines.spark_engine import register_data_source, with_task_threads

    spark = (
        with_task_threads(SparkSession.builder)
        .master("local[2,2]")  # 2 cores; a task may fail once (retried)
        .appName("hepframe-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    register_data_source(spark)
    yield spark
    spark.stop()


@pytest.fixture(autouse=True)
def _spark_for_spark_engine(request):
    """Tests parametrized with engine="spark" run on the shared local session."""
    callspec = getattr(request.node, "callspec", None)
    if callspec is not None and str(callspec.params.get("engine", "")).startswith("spark"):
        request.getfixturevalue("spark_session")


@pytest.fixture(scope="session")
def nanoaod_file(tmp_path_factory) -> str:
    """20k generated events (several batches with a small step size)."""
    return generate_nanoaod(tmp_path_factory.mktemp("data") / "nanoaod.root", n_events=20_000, seed=123)


@pytest.fixture(scope="session")
def small_nanoaod_file(tmp_path_factory) -> str:
    return generate_nanoaod(tmp_path_factory.mktemp("data") / "small.root", n_events=3_000, seed=7)


NAN = float("nan")


def tiny_branches() -> dict:
    """Eight events with empty RVecs, NaN, unsigned, bool and negative values."""
    v = ak.Array([[1.0, 2.5, -3.0], [], [NAN, 4.0], [0.5], [40.5, 41.0, 39.0], [], [7.0], [-1.0, -2.0]])
    return {
        "x": np.array([1.5, -2.5, NAN, 0.0, 3.25, -0.5, 40.0, 1e30], dtype=np.float32),
        "d": np.array([0.1, -7.0, 2.0, 1e-300, -0.0, 3.0, 1e10, NAN], dtype=np.float64),
        "i": np.array([7, -7, 0, 3, -8, 2147483647, -1, 5], dtype=np.int32),
        "u": np.array([0, 1, 2, 3, 4, 5, 4294967295, 7], dtype=np.uint32),
        "l": np.array([-(2**40), 5, 0, 1, -1, 2**62, 3, -3], dtype=np.int64),
        "flag": np.array([True, False, True, False, True, True, False, False]),
        "Obj_v": ak.values_astype(v, np.float32),
        "Obj_i": ak.values_astype(ak.Array([[1, -2, 3], [], [0, 5], [9], [-4, 4, 0], [], [2], [1, 1]]), np.int32),
        "Obj_b": ak.Array([[True, False, True], [], [False, False], [True], [True, True, False], [], [False],
                           [True, False]]),  # fmt: skip
        "Oth_v": ak.values_astype(ak.Array([[2.0], [1.0, 2.0], [], [0.5, 0.25], [], [3.0], [], [1.0]]), np.float32),
    }


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory) -> str:
    return write_tree(tmp_path_factory.mktemp("data") / "tiny.root", tiny_branches())


@pytest.fixture(scope="session")
def ROOT():  # noqa: N802 - the module's name
    """ROOT from the `root` wheel (test extra). Missing ROOT is a failure, never a skip."""
    try:
        import ROOT as root_module  # noqa: N811
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        pytest.fail(f"ROOT is required for the differential tests (pip install -e '.[test]'): {exc}")
    root_module.gROOT.SetBatch(True)
    return root_module


def assert_same_values(actual: np.ndarray, expected: np.ndarray, what: str = "") -> None:
    """Bitwise equality with NaN == NaN, and equal dtypes; for object arrays, element by element."""
    assert len(actual) == len(expected), f"{what}: length {len(actual)} != {len(expected)}"
    if actual.dtype == object or expected.dtype == object:
        for k, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same_values(np.asarray(a), np.asarray(e), f"{what}[{k}]")
        return
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if actual.dtype.kind == "f":
        same = (actual == expected) | (np.isnan(actual) & np.isnan(expected))
        same &= (np.signbit(actual) == np.signbit(expected)) | np.isnan(actual)
    else:
        same = actual == expected
    bad = np.nonzero(~same)[0]
    assert not len(bad), f"{what}: {len(bad)} values differ, first at {bad[0]}: {actual[bad[0]]!r} != {expected[bad[0]]!r}"


def assert_same_hist(h_actual, contents: np.ndarray, variances: np.ndarray | None = None, rtol: float = 0.0) -> None:
    """Compare a hist.Hist (flow bins included) with ROOT-ordered arrays of contents/variances."""
    view = h_actual.view(flow=True)
    if rtol == 0.0:
        np.testing.assert_array_equal(view["value"], contents)
    else:
        np.testing.assert_allclose(view["value"], contents, rtol=rtol, atol=0)
    if variances is not None:
        np.testing.assert_allclose(view["variance"], variances, rtol=max(rtol, 1e-12), atol=0)


def root_hist_arrays(h) -> tuple[np.ndarray, np.ndarray]:
    n = h.GetNbinsX() + 2
    contents = np.array([h.GetBinContent(i) for i in range(n)])
    variances = np.array([h.GetBinError(i) ** 2 for i in range(n)])
    return contents, variances


@pytest.fixture
def branch_reads(monkeypatch) -> list[list[str]]:
    """The branch lists that RootSource reads, one entry per pass over the files."""
    from hepframe.connectors import RootSource

    reads: list[list[str]] = []
    original = RootSource.iter_batches

    def spy(self, columns, entry_range=None):
        reads.append(sorted(columns))
        return original(self, columns, entry_range)

    monkeypatch.setattr(RootSource, "iter_batches", spy)
    return reads


def snapshot_killed_mid_write(path: str, target: str, columns: list[str]) -> str:
    """A Python script that Snapshots ``columns`` (plus ``m``) of ``path`` to ``target`` and SIGKILLs
    itself on the third batch, i.e. while the output is half written."""
    import textwrap

    return textwrap.dedent(f"""
        import os, signal, numpy as np, hepframe
        calls = []
        @hepframe.udf(returns="float")
        def die_on_third_batch(x):
            calls.append(1)
            if len(calls) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return np.asarray(x, dtype=np.float32)
        df = hepframe.RDataFrame("Events", {path!r}, step_size=500)
        df.Define("m", die_on_third_batch, ["MET_pt"]).Snapshot("Events", {target!r}, {["m", *columns]!r})
    """)
