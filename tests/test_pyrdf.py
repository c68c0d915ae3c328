"""PyRDF's API and ROOT's distributed RDataFrame (``Distributed.Spark``), on a real local Spark (local[2,2]).

A PyRDF script and a distributed-RDataFrame script run unchanged but for the import; their
numbers are those of the same analysis on engine="polars". The C++-only entry points raise
CppRequiredError naming the construct and the Python alternative.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hepframe
from hepframe import PyRDF, distributed
from hepframe.datasets import generate_nanoaod
from hepframe.errors import AnalysisError, CppRequiredError, UnsupportedOperationError
from hepframe.udf import Numba

pytestmark = pytest.mark.usefixtures("spark_session")


@Numba.Declare(["RVecF", "RVecF", "float"], "int")  # travels to the Spark tasks with the graph
def pyrdf_n_central(pt, eta, cut):
    n = 0
    for i in range(len(pt)):
        if pt[i] > cut and abs(eta[i]) < 2.4:
            n += 1
    return n


@pytest.fixture(scope="module")
def events(tmp_path_factory) -> str:
    """6000 events in clusters of 1000: room for several cluster-aligned partitions."""
    return generate_nanoaod(tmp_path_factory.mktemp("pyrdf") / "events.root", n_events=6000, seed=5, chunk_size=1000)


@pytest.fixture(scope="module")
def expected(events: str) -> dict:
    """The analysis on engine="polars": the numbers every Spark run must give."""
    return _analysis(hepframe.RDataFrame("Events", events))


@pytest.fixture(autouse=True)
def _local_afterwards():
    """``PyRDF.use`` is global state: each test leaves the local backend behind."""
    yield
    PyRDF.use("local")


def _analysis(df) -> dict:
    """A PyRDF user's analysis: Filters, a Define with a Numba-declared helper, histograms, a cut flow."""
    two = df.Filter("nMuon >= 2", "two muons").Define("pt0", "Muon_pt[0]")
    met = df.Histo1D(("met", "", 20, 0, 200), "MET_pt")
    assert not met.IsReady()  # lazy, as PyRDF's proxies: nothing runs before a value is asked for
    jets = df.Define("njets", "Numba::pyrdf_n_central(Jet_pt, Jet_eta, 30.f)").Filter("njets >= 1", "a jet")
    booked = {
        "count": two.Count(), "njets": jets.Count(), "h": two.Histo1D(("pt0", "", 40, 0, 120), "pt0"),
        "hj": jets.Histo1D(("nj", "", 8, 0, 8), "njets"), "max": two.Max("pt0"), "sum": two.Sum("pt0"),
        "mean": jets.Mean("MET_pt"), "report": df.Report(),
    }  # fmt: skip
    h = booked["h"]
    return {
        "count": booked["count"].GetValue(), "njets": booked["njets"].GetValue(),
        "h": h.GetValue().view(flow=True).copy(), "hj": booked["hj"].GetValue().view(flow=True).copy(),
        "entries": h.GetEntries(), "h_mean": h.GetMean(),  # attribute pass-through to the computed histogram
        "max": booked["max"].GetValue(), "sum": booked["sum"].GetValue(), "mean": booked["mean"].GetValue(),
        "report": [(c.GetName(), c.GetPass(), c.GetAll()) for c in booked["report"].GetValue()],
        "met_ready": met.IsReady(), "met": met.GetValue().view(flow=True).copy(),  # from the same event loop
    }  # fmt: skip


def _assert_same(got: dict, expected: dict) -> None:
    for key in ("count", "njets", "max", "report", "entries", "met_ready"):
        assert got[key] == expected[key], key
    for key in ("h", "hj", "met"):
        np.testing.assert_array_equal(got[key], expected[key], err_msg=key)
    # Sums merge per-partition partial sums (Spark): equal to the last bits, not bit for bit.
    for key in ("sum", "mean", "h_mean"):
        assert got[key] == pytest.approx(expected[key], rel=1e-12, abs=0), key


def test_a_pyrdf_script_on_spark_gives_the_polars_numbers(events: str, expected: dict, spark_session) -> None:
    PyRDF.use("spark", {"npartitions": 2})
    df = PyRDF.RDataFrame("Events", events)
    assert df._engine.name == "spark" and df._engine.npartitions == 2
    assert df._engine.session is spark_session  # the running session
    got = _analysis(df)
    _assert_same(got, expected)
    assert got["count"] > 0 and got["njets"] > 0 and got["met_ready"]


def test_pyrdf_local_backend_and_options(events: str, spark_session) -> None:
    PyRDF.use("local")
    df = PyRDF.RDataFrame("Events", events)
    assert df._engine.name == "polars"
    assert df.Filter("nMuon >= 2").Count().GetValue() == hepframe.RDataFrame("Events", events).Filter(
        "nMuon >= 2").Count().GetValue()  # fmt: skip
    assert PyRDF.RDataFrame(5).Define("x", "rdfentry_ * 2").Sum("x").GetValue() == 20.0

    conf = {"npartitions": 3, "reuse_parallel_collection": True}
    PyRDF.use("spark", conf)
    assert conf == {"npartitions": 3, "reuse_parallel_collection": True}  # the caller's dict is left alone
    assert PyRDF.current_backend.npartitions == 3
    with pytest.warns(UserWarning, match=r"already running; these settings are not applied: \['spark.executor.instances'\]"):
        PyRDF.use("spark", {"spark.executor.instances": 4, "spark.master": spark_session.sparkContext.master})
    with pytest.raises(AnalysisError, match=r"unknown options \['partitions'\]"):
        PyRDF.use("spark", {"partitions": 2})
    with pytest.raises(AnalysisError, match=r"npartitions must be a positive number"):
        PyRDF.use("spark", {"npartitions": 0})
    with pytest.raises(AnalysisError, match=r"local backend takes no options"):
        PyRDF.use("local", {"spark.master": "local[1]"})
    with pytest.raises(UnsupportedOperationError, match=r"Dask is not a hepframe backend; use 'spark'"):
        PyRDF.use("dask")
    with pytest.raises(AnalysisError, match=r"unknown backend 'sprak'"):
        PyRDF.use("sprak")
    PyRDF.use("local")
    with_defaults = PyRDF.RDataFrame("Events", events, ["nMuon"])  # ROOT's default columns
    assert with_defaults.Sum().GetValue() == hepframe.RDataFrame("Events", events).Sum("nMuon").GetValue()


def test_distributed_spark_rdataframe(events: str, expected: dict, spark_session) -> None:
    df = distributed.Spark.RDataFrame("Events", [events], executor=spark_session.sparkContext, npartitions=2)
    assert df._engine.name == "spark" and df._engine.npartitions == 2 and df._engine.session is spark_session
    _assert_same(_analysis(df), expected)
    # The older keyword (sparkcontext=), as ROOT still takes it.
    older = distributed.Spark.RDataFrame("Events", events, sparkcontext=spark_session.sparkContext, npartitions=2)
    assert older._engine.session is spark_session and older.Count().GetValue() == 6000
    # ROOT.RDataFrame(..., executor=sc) dispatches the same way; RDataFrame(n) works on Spark too.
    n = distributed.RDataFrame(100, executor=spark_session.sparkContext, npartitions=2)
    assert n.Define("x", "rdfentry_ * 1.0").Sum("x").GetValue() == 4950.0
    assert n.Count().GetValue() == 100
    spec = {"samples": {"s": {"trees": ["Events"], "files": [events], "metadata": {"xsec": 2.0}}}}
    by_spec = distributed.FromSpec(spec, executor=spark_session.sparkContext, npartitions=2)
    assert by_spec._engine.name == "spark" and by_spec.Filter("nMuon >= 2").Count().GetValue() == expected["count"]
    with pytest.raises(AnalysisError, match=r"npartitions must be a positive number"):
        distributed.Spark.RDataFrame("Events", events, npartitions=-1)
    with pytest.raises(AnalysisError, match=r"give the SparkContext once"):
        distributed.Spark.RDataFrame("Events", events, executor=spark_session.sparkContext,
                                     sparkcontext=spark_session.sparkContext)  # fmt: skip
    with pytest.raises(AnalysisError, match=r"needs a SparkContext \(or a SparkSession\), got str"):
        distributed.Spark.RDataFrame("Events", events, executor="spark://host:7077")
    with pytest.raises(UnsupportedOperationError, match=r"Dask is not a hepframe backend: .*Spark"):
        distributed.Dask.RDataFrame("Events", events, daskclient=object())
    with pytest.raises(AttributeError, match=r"ROOT.RDF.Distributed.LiveVisualize is not provided"):
        distributed.LiveVisualize  # noqa: B018


def test_initialize_runs_once_here(tmp_path) -> None:
    calls = []
    distributed.initialize(calls.append, 1)
    PyRDF.initialize(lambda a, b=0: calls.append(a + b), 2, b=3)
    assert calls == [1, 5]
    with pytest.raises(AnalysisError, match=r"fun must be callable"):
        distributed.initialize("not a function")


def test_sending_files_to_the_spark_workers(tmp_path, spark_session) -> None:
    from pyspark import SparkFiles

    folder = tmp_path / "corrections"
    folder.mkdir()
    (folder / "pyrdf_scale.txt").write_text("1.25")
    PyRDF.send_generic_files(str(folder))  # local backend: nothing to send, as in PyRDF
    PyRDF.use("spark")
    PyRDF.send_generic_files(str(folder))  # a directory: every file in it
    # A task reads the file where Spark put it on its worker.
    read = spark_session.sparkContext.parallelize([0], 1).map(
        lambda _: open(SparkFiles.get("pyrdf_scale.txt")).read()).collect()  # fmt: skip
    assert read == ["1.25"]
    assert distributed.distribute_files(folder / "pyrdf_scale.txt") == ["pyrdf_scale.txt"]
    with pytest.raises(AnalysisError, match=r"no file or directory '.*missing.txt' to send"):
        PyRDF.send_generic_files(str(tmp_path / "missing.txt"))


@pytest.mark.parametrize(("call", "construct"), [
    (lambda: PyRDF.include_shared_libraries(["libhelpers.so"]), "PyRDF.include_shared_libraries loads compiled C++"),
    (lambda: distributed.DistributeSharedLibs(["libhelpers.so"]), "DistributeSharedLibs loads compiled C++"),
])  # fmt: skip
def test_compiled_cpp_entry_points_name_the_construct_and_the_alternative(call, construct: str) -> None:
    with pytest.raises(CppRequiredError) as info:
        call()
    message = str(info.value)
    assert message.startswith(construct) and "hepframe runs no C++" in message
    assert "hepframe.declare" in message and "Numba.Declare" in message and "@hepframe.udf" in message


def test_header_and_code_entry_points_declare_the_functions(tmp_path) -> None:
    import hepframe

    header = tmp_path / "pyrdf_helpers.h"
    header.write_text("int pyrdf_header_twice(int x) { return 2 * x; }\n")
    PyRDF.include_headers(str(header))
    distributed.DistributeCppCode("int pyrdf_code_thrice(int x) { return 3 * x; }")
    got = hepframe.FromPolars(__import__("polars").DataFrame({"x": [1, 2]})).Define(
        "y", "pyrdf_header_twice(x) + pyrdf_code_thrice(x)").Take["int"]("y").GetValue()  # fmt: skip
    assert list(got) == [5, 10]


def test_pyrdf_without_a_running_session_starts_one_with_the_settings(monkeypatch) -> None:
    """No session running: use('spark', {'spark.*': ...}) builds one with those settings (a recording builder here)."""
    from pyspark.sql import SparkSession

    from hepframe.engines import spark_engine

    calls: list[tuple] = []

    class Builder:
        def __getattr__(self, method):
            def record(*args):
                calls.append((method, *args))
                return self

            return record

        def getOrCreate(self):  # noqa: N802
            return "new session"

    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    monkeypatch.setattr(SparkSession, "_instantiatedSession", None)
    monkeypatch.setattr(SparkSession, "builder", Builder())
    monkeypatch.setattr(spark_engine, "register_data_source", lambda session: calls.append(("register", session)))
    monkeypatch.setenv("HEPFRAME_SPARK_MASTER", "local[3]")
    PyRDF.use("spark", {"npartitions": 2, "spark.master": "spark://cluster:7077", "spark.executor.instances": 10})
    assert PyRDF.current_backend == PyRDF.Backend("spark", 2, "new session")
    assert ("master", "local[3]") in calls  # hepframe's default first, then the user's settings
    assert calls.index(("master", "local[3]")) < calls.index(("config", "spark.master", "spark://cluster:7077"))
    assert ("config", "spark.executor.instances", "10") in calls
    assert ("config", "spark.executorEnv.POLARS_MAX_THREADS", "1") in calls  # as hepframe's default session
    assert calls[-1] == ("register", "new session")  # format("root") is available on it


def test_no_warning_when_the_running_session_has_the_settings(spark_session) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PyRDF.use("spark", {"spark.master": spark_session.sparkContext.master})
