"""The Spark engine and the ``root`` Spark data source, on a real local Spark (local[2,2]).

The conformance suite (test_conformance.py) also runs every expression on engine="spark";
here: the data source (types, values, pruning, partitions), whole analyses against the
Polars engine, partition independence, task retries, errors and unsupported verbs.
"""

from __future__ import annotations

import awkward as ak
import numpy as np
import pytest
import uproot

import hepframe
from hepframe.datasets import generate_nanoaod
from hepframe.errors import DataSourceError, EventError, UnsupportedOperationError

pytestmark = pytest.mark.usefixtures("spark_session")


@pytest.fixture(scope="module")
def clustered_file(tmp_path_factory) -> str:
    """32 000 events in 64 clusters of 500: room for 64 cluster-aligned partitions."""
    return generate_nanoaod(tmp_path_factory.mktemp("spark") / "clustered.root", n_events=32_000, seed=11,
                            chunk_size=500)  # fmt: skip


def _read(spark, path, **options):
    reader = spark.read.format("root").option("tree", "Events")
    for k, v in options.items():
        reader = reader.option(k, v)
    return reader.load(path)


# -- the data source ------------------------------------------------------------------------


def test_data_source_types_and_values_match_uproot(spark_session, tiny_file: str) -> None:
    frame = _read(spark_session, tiny_file, entry_column="rdfentry_")
    types = {f.name: f.dataType.simpleString() for f in frame.schema.fields}
    assert types["x"] == "float" and types["d"] == "double" and types["i"] == "int"
    assert types["u"] == "bigint"  # UInt_t widened: Spark has no unsigned types; values kept
    assert types["flag"] == "boolean" and types["Obj_v"] == "array<float>" and types["Obj_b"] == "array<boolean>"
    table = frame.toArrow()
    expected = uproot.open(tiny_file)["Events"].arrays(library="ak")
    for name in expected.fields:
        got, want = ak.from_arrow(table.column(name)), expected[name]
        if want.ndim > 1:
            assert ak.num(got).tolist() == ak.num(want).tolist(), name
            got, want = ak.flatten(got), ak.flatten(want)
        np.testing.assert_array_equal(np.asarray(got, np.float64), np.asarray(want, np.float64), err_msg=name)
    assert table.column("u").to_pylist()[6] == 4294967295
    assert table.column("rdfentry_").to_pylist() == list(range(8))


def test_data_source_reads_only_the_requested_branches(tiny_file: str, branch_reads) -> None:
    from hepframe.connectors.spark_source import RootDataSource
    from pyspark.sql.types import StructType

    source = RootDataSource({"tree": "Events", "path": tiny_file, "columns": "x,Obj_v"})
    schema = StructType.fromDDL(source.schema())
    assert schema.fieldNames() == ["x", "Obj_v"]
    reader = source.reader(schema)
    batches = [b for p in reader.partitions() for b in reader.read(p)]
    assert branch_reads == [["Obj_v", "x"]]
    assert sum(b.num_rows for b in batches) == 8
    with pytest.raises(DataSourceError, match="no branch 'y'"):
        RootDataSource({"tree": "Events", "path": tiny_file, "columns": "y"}).schema()


def test_a_user_schema_prunes_columns_too(spark_session, tiny_file: str) -> None:
    frame = spark_session.read.format("root").option("tree", "Events").schema("x float, Obj_i array<int>").load(tiny_file)
    rows = frame.collect()
    assert frame.columns == ["x", "Obj_i"] and len(rows) == 8
    assert rows[0]["Obj_i"] == [1, -2, 3] and rows[0]["x"] == 1.5


def test_data_source_partitions_are_whole_clusters(spark_session, clustered_file: str) -> None:
    from pyspark.sql import functions as F

    frame = _read(spark_session, clustered_file, columns="MET_pt", entry_column="e", partition_entries=2000)
    from hepframe.connectors import RootSource

    edges = set(RootSource.open("Events", clustered_file).clusters(clustered_file))
    ranges = frame.groupBy(F.spark_partition_id().alias("p")).agg(F.min("e").alias("lo"), F.max("e").alias("hi"))
    rows = sorted((r["lo"], r["hi"] + 1) for r in ranges.collect())
    assert len(rows) == frame.rdd.getNumPartitions() == 16
    assert all(lo in edges and hi in edges for lo, hi in rows)
    assert rows[0][0] == 0 and rows[-1][1] == 32_000
    assert all(a[1] == b[0] for a, b in zip(rows, rows[1:], strict=False))  # no gap, no overlap


def test_data_source_multiple_files_and_entry_range(spark_session, small_nanoaod_file: str, clustered_file: str) -> None:
    both = _read(spark_session, [small_nanoaod_file, clustered_file], columns="nJet")
    assert both.count() == 35_000
    part = _read(spark_session, [small_nanoaod_file, clustered_file], columns="nJet", entry_start=2500, entry_stop=4000)
    expected = np.concatenate([uproot.open(p)["Events"]["nJet"].array(library="np")
                               for p in (small_nanoaod_file, clustered_file)])[2500:4000]  # fmt: skip
    assert [r["nJet"] for r in part.collect()] == expected.tolist()


def test_data_source_missing_tree_is_a_clear_error(spark_session, tiny_file: str) -> None:
    with pytest.raises(Exception, match="tree 'Evnts' not found"):
        spark_session.read.format("root").option("tree", "Evnts").load(tiny_file).schema  # noqa: B018


# -- the engine ------------------------------------------------------------------------------


def _spark(npartitions: int | None = None, native: bool = False):
    from hepframe.engines.spark_engine import SparkEngine

    return SparkEngine(npartitions=npartitions, native=native)


def _dimuon(engine, path: str):
    df = hepframe.RDataFrame("Events", path, engine=engine)
    two = df.Filter("nMuon >= 2", "two muons").Define("pt0", "Muon_pt[0]")
    os_ = two.Filter("pt0 > 10 && Muon_charge[0] != Muon_charge[1]", "opposite charge")
    mass = os_.Define("m", "InvariantMass(Take(Muon_pt, 2), Take(Muon_eta, 2), Take(Muon_phi, 2), Take(Muon_mass, 2))")
    jets = df.Define("njets", "Sum(Jet_pt > 30 && abs(Jet_eta) < 2.4)").Define("w", "1.0 + 0.01 * MET_pt")
    return [
        mass.Histo1D(("m", "m", 120, 0, 240), "m"),
        jets.Histo1D(("nj", "nj", 10, 0, 10), "njets", "w"),
        jets.Histo2D(("met_nj", "", 20, 0, 200, 10, 0, 10), "MET_pt", "njets"),
        df.Histo1D(("jet_pt", "", 50, 0, 250), "Jet_pt"),
        os_.Count(),
        df.Report(),
        jets.Sum("w"),
        jets.Mean("MET_pt"),
        jets.Max("MET_pt"),
        jets.Stats("MET_pt", "w"),
        os_.Take("pt0"),
        two.Profile1D(("p", "", 10, 0, 200), "MET_pt", "pt0"),
    ]


def _compare(expected, got, rel: float = 0.0) -> None:
    for e, g in zip(expected, got, strict=True):
        e, g = e.GetValue(), g.GetValue()
        if isinstance(e, np.ndarray):
            np.testing.assert_array_equal(g, e)
        elif hasattr(e, "view"):
            ev, gv = np.asarray(e.view(flow=True)), np.asarray(g.view(flow=True))
            if ev.dtype.names:
                for field in ev.dtype.names:
                    np.testing.assert_allclose(gv[field], ev[field], rtol=rel, atol=0)
            else:
                np.testing.assert_allclose(gv, ev, rtol=rel, atol=0)
        elif isinstance(e, (int, float)):
            assert g == pytest.approx(e, rel=rel, abs=0)
        elif hasattr(e, "GetMean"):
            assert (g.GetN(), g.GetMean(), g.GetRMS()) == pytest.approx((e.GetN(), e.GetMean(), e.GetRMS()), rel=1e-12)
        else:
            assert str(g) == str(e)


@pytest.mark.parametrize("native", [False, True], ids=["read-in-tasks", "native-columns"])
def test_spark_engine_gives_the_polars_results(native: bool, nanoaod_file: str) -> None:
    expected = _dimuon("polars", nanoaod_file)
    got = _dimuon(_spark(3, native), nanoaod_file)
    _compare(expected, got, rel=1e-12)
    # Counts are exact; so is every unweighted histogram.
    assert got[4].GetValue() == expected[4].GetValue()
    assert np.array_equal(got[0].GetValue().view(flow=True), expected[0].GetValue().view(flow=True))


@pytest.mark.parametrize("native", [False, True], ids=["read-in-tasks", "native-columns"])
@pytest.mark.parametrize("npartitions", [1, 2, 7, 64])
def test_results_do_not_depend_on_the_partitioning(npartitions: int, native: bool, clustered_file: str) -> None:
    from hepframe.connectors.spark_source import RootDataSource

    expected = _dimuon("polars", clustered_file)
    engine = _spark(npartitions, native)
    got = _dimuon(engine, clustered_file)
    if not native:
        parts = engine._partitions(hepframe.RDataFrame("Events", clustered_file)._analysis.root.source)
        assert len(parts) == npartitions
    from hepframe.engines.spark_engine import default_session

    frame = default_session().read.format("root").option("tree", "Events")
    n = frame.option("partition_entries", -(-32_000 // npartitions)).option("columns", "nMuon").load(clustered_file)
    assert n.rdd.getNumPartitions() == npartitions  # the clusters allow exactly that many
    assert RootDataSource.name() == "root"
    for e, g in zip(expected[:4], got[:4], strict=True):  # unweighted: identical; weighted: to 1e-12
        ev, gv = e.GetValue().view(flow=True), g.GetValue().view(flow=True)
        np.testing.assert_allclose(gv["value"], ev["value"], rtol=1e-12, atol=0)
    assert np.array_equal(got[0].GetValue().view(flow=True), expected[0].GetValue().view(flow=True))
    assert str(got[5].GetValue()) == str(expected[5].GetValue())
    assert got[4].GetValue() == expected[4].GetValue()
    np.testing.assert_array_equal(got[10].GetValue(), expected[10].GetValue())  # Take keeps entry order


@pytest.mark.parametrize("native", [False, True], ids=["read-in-tasks", "native-columns"])
def test_a_task_that_fails_once_is_retried_with_identical_results(native: bool, clustered_file: str) -> None:
    """The first attempt of partition 1 kills its Python worker (an injected fault); Spark retries it."""
    from hepframe.udf import udf

    @udf(returns="double")
    def flaky_scale(met):
        import os

        from pyspark import TaskContext

        context = TaskContext.get()
        if context is not None and context.partitionId() == 1 and context.attemptNumber() == 0:
            os._exit(3)  # the Python worker dies, as on a lost executor
        return np.asarray(met, dtype=np.float64) * 2.0

    def book(engine):
        df = hepframe.RDataFrame("Events", clustered_file, engine=engine)
        scaled = df.Define("met2", flaky_scale, ["MET_pt"]) if engine != "polars" else df.Define("met2", "MET_pt * 2.0")
        return scaled.Histo1D(("met2", "", 40, 0, 400), "met2"), scaled.Count()

    h_spark, n_spark = book(_spark(4, native))
    h_polars, n_polars = book("polars")
    assert n_spark.GetValue() == n_polars.GetValue() == 32_000
    assert np.array_equal(h_spark.GetValue().view(flow=True), h_polars.GetValue().view(flow=True))


def test_an_undefined_value_names_the_entry_as_on_polars(nanoaod_file: str) -> None:
    messages = []
    for engine in ("polars", _spark(), _spark(native=True)):
        df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine)
        with pytest.raises(EventError, match=r"entry \d+") as info:
            df.Define("third", "Muon_pt[2]").Histo1D(("t", "", 10, 0, 100), "third").GetValue()
        messages.append(str(info.value))
    assert messages[0] == messages[1] == messages[2]


def test_unsupported_verbs_fail_at_booking_with_the_reason(tiny_file: str, tmp_path) -> None:
    df = hepframe.RDataFrame("Events", tiny_file, engine="spark")
    with pytest.raises(UnsupportedOperationError, match="Range is not supported on the spark engine: entries"):
        df.Range(3)
    from hepframe.errors import AnalysisError

    with pytest.raises(AnalysisError, match="writes a Parquet dataset"):
        df.Snapshot("Events", tmp_path / "out.arrow")
    with pytest.raises(AnalysisError, match="lazy Snapshot to a ROOT file"):
        df.Snapshot("Events", tmp_path / "out.root", lazy=True)
    with pytest.raises(AnalysisError, match="options of engine='spark'"):
        hepframe.RDataFrame("Events", tiny_file, npartitions=2)


@pytest.mark.parametrize("native", [False, True], ids=["read-in-tasks", "native-columns"])
def test_variations_and_cached_tables_run_on_spark(native: bool, small_nanoaod_file: str) -> None:
    results = {}
    for name, engine in (("polars", "polars"), ("spark", _spark(None, native))):
        df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine)
        varied = df.Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.9f, MET_pt * 1.1f}", ["down", "up"])
        h = hepframe.VariationsFor(varied.Filter("MET_pt > 20").Histo1D(("met", "", 30, 0, 300), "MET_pt"))
        cached = df.Filter("nJet > 1").Cache(["Jet_pt", "nJet"])
        results[name] = (h, cached.Define("lead", "Jet_pt[0]").Histo1D(("l", "", 20, 0, 200), "lead"))
    for key in ("nominal", "MET_pt:down", "MET_pt:up"):
        assert np.array_equal(results["spark"][0][key].view(flow=True), results["polars"][0][key].view(flow=True))
    assert np.array_equal(results["spark"][1].GetValue().view(flow=True), results["polars"][1].GetValue().view(flow=True))


def test_native_spark_columns_do_the_filtering(nanoaod_file: str) -> None:
    """Native subtrees run in the Spark plan: Python tasks receive only the branches still needed."""
    from hepframe.engines.spark_engine import SparkEngine

    engine = SparkEngine(native=True)
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=engine)
    node = df.Filter("nMuon >= 2 && Sum(Jet_pt > 30) > 1").Define("x", "MET_pt * 2")
    plan = engine.plan(node._analysis, [node.Histo1D(("x", "", 10, 0, 100), "x")._action])
    assert plan.python_branches == []  # nMuon, Jet_pt and MET_pt are all consumed by Spark
    assert len(plan.precomputed) == 2


def test_spark_submit_dimuon_job_writes_the_polars_histograms(tmp_path, small_nanoaod_file: str) -> None:
    """jobs/dimuon.py through pyspark's own spark-submit (local[2]), checked against the Polars engine."""
    import importlib.util
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from hepframe.outputs import read_histograms

    root = Path(__file__).resolve().parents[1]
    submit = shutil.which("spark-submit", path=str(Path(sys.executable).parent))
    assert submit is not None, "pyspark's spark-submit is missing from the environment"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    out = tmp_path / "out"
    run = subprocess.run([submit, "--master", "local[2]", str(root / "jobs" / "dimuon.py"), "--input", small_nanoaod_file,
                          "--output", str(out), "--npartitions", "2"], capture_output=True, text=True, env=env,
                         cwd=root, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["cutflow.json", "cutflow.txt", "histograms.json",
                                                     "histograms.pkl", "histograms.root"]  # fmt: skip

    spec = importlib.util.spec_from_file_location("dimuon_job", root / "jobs" / "dimuon.py")
    sys.path.insert(0, str(root / "jobs"))
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(root / "jobs"))
    expected = module.book(hepframe.RDataFrame("Events", small_nanoaod_file))
    for source in ("histograms.json", "histograms.pkl"):
        written = read_histograms(out / source)
        for name in ("Dimuon_mass", "os_z", "ss_z"):
            assert np.array_equal(written[name].view(flow=True), expected[name].GetValue().view(flow=True)), name
    assert uproot.open(out / "histograms.root")["os_z"].values().tolist() == expected["os_z"].GetValue().values().tolist()
    cutflow = __import__("json").loads((out / "cutflow.json").read_text())
    assert [(c["name"], c["pass"], c["all"]) for c in cutflow] == [
        (e.name, e.passed, e.all) for e in expected["cutflow"].GetValue()
    ]


@pytest.mark.parametrize("native", [False, True], ids=["read-in-tasks", "native-columns"])
def test_snapshot_writes_a_parquet_dataset_atomically(native: bool, tmp_path, clustered_file: str) -> None:
    import pyarrow.parquet as pq

    target = tmp_path / "out" / "selected.parquet"
    columns = ["MET_pt", "Muon_pt", "nMuon"]
    df = hepframe.RDataFrame("Events", clustered_file, engine=_spark(5, native)).Filter("nMuon >= 2")
    back = df.Snapshot("Events", target, columns)
    parts = sorted(p.name for p in target.iterdir())
    assert len(parts) == 5 and all(p.startswith("part-") and p.endswith(".parquet") for p in parts)
    assert [p.name for p in target.parent.iterdir()] == ["selected.parquet"]  # no staging left behind
    expected = hepframe.RDataFrame("Events", clustered_file).Filter("nMuon >= 2").AsArrow(columns).GetValue()
    written = pq.read_table(target)  # parts in name order = entry order
    assert written.column("MET_pt").to_pylist() == expected.column("MET_pt").to_pylist()
    assert written.column("Muon_pt").to_pylist() == expected.column("Muon_pt").to_pylist()
    assert str(written.schema.field("nMuon").type) == "uint32"
    assert back.Count().GetValue() == expected.num_rows


def test_parquet_input_through_sparks_reader(tmp_path, small_nanoaod_file: str) -> None:
    """FromParquet on Spark: Spark's Parquet reader, native columns, entry order kept across files."""
    columns = ["nMuon", "Muon_pt", "Muon_charge", "MET_pt", "Jet_pt"]
    files = []
    for i, (lo, hi) in enumerate([(0, 1200), (1200, 3000)]):
        files.append(tmp_path / f"part{i}.parquet")
        hepframe.RDataFrame("Events", small_nanoaod_file, entries=(lo, hi)).Snapshot("Events", files[-1], columns)

    def book(engine):
        df = hepframe.FromParquet(files, engine=engine)
        sel = df.Filter("nMuon >= 2 && Sum(Jet_pt > 30) > 0", "selected").Define("pt0", "Muon_pt[0] * 2")
        return [sel.Histo1D(("pt0", "", 50, 0, 200), "pt0"), sel.Take("pt0"), sel.AsNumpy(["rdfentry_"], lazy=True), df.Report()]

    expected = [h.GetValue() for h in book("polars")]
    got = [h.GetValue() for h in book(_spark(2, native=True))]
    assert np.array_equal(got[0].view(flow=True), expected[0].view(flow=True))
    np.testing.assert_array_equal(got[1], expected[1])
    np.testing.assert_array_equal(got[2]["rdfentry_"], expected[2]["rdfentry_"])
    assert str(got[3]) == str(expected[3])
    polars_direct = hepframe.RDataFrame("Events", small_nanoaod_file).Filter("nMuon >= 2 && Sum(Jet_pt > 30) > 0")
    assert expected[1].tolist() == (polars_direct.Define("p", "Muon_pt[0] * 2").Take("p").GetValue()).tolist()


def test_dataset_spec_with_per_sample_weights(small_nanoaod_file: str, clustered_file: str) -> None:
    spec = {"samples": {
        "signal": {"trees": ["Events"], "files": [small_nanoaod_file], "metadata": {"xsec": 2.5, "sumw": 3000.0}},
        "background": {"trees": ["Events"], "files": [clustered_file], "metadata": {"xsec": 40.0, "sumw": 32000.0}},
    }}  # fmt: skip

    def book(engine):
        df = hepframe.FromSpec(spec, engine=engine)
        w = df.DefinePerSample("weight", lambda s: s.GetD("xsec") * 10.0 / s.GetD("sumw"))
        sel = w.Filter("nMuon >= 2", "two muons")
        return sel.Histo1D(("met", "", 40, 0, 200), "MET_pt", "weight"), sel.Count(), df.Report(), sel.Take("MET_pt")

    expected = [h.GetValue() for h in book("polars")]
    got = [h.GetValue() for h in book(_spark(5))]
    np.testing.assert_allclose(got[0].view(flow=True)["value"], expected[0].view(flow=True)["value"], rtol=1e-12)
    assert got[1] == expected[1] and str(got[2]) == str(expected[2])
    np.testing.assert_array_equal(got[3], expected[3])


def test_spark_submit_any_analysis_module_on_a_dataset_spec(tmp_path, small_nanoaod_file: str, tiny_file: str) -> None:
    """jobs/analysis.py: a user module (with a Python UDF the executors cannot import) over a spec."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from hepframe.outputs import read_histograms

    module = tmp_path / "user_analysis.py"
    module.write_text(
        "import numpy as np\nimport hepframe\n\n"
        "@hepframe.udf(returns='double')\ndef doubled_met(met):\n    return np.asarray(met, dtype=np.float64) * 2\n\n"
        "def book(df):\n"
        "    w = df.DefinePerSample('weight', lambda s: s.GetD('xsec'))\n"
        "    d = w.Define('met2', doubled_met, ['MET_pt']).Filter('nMuon >= 2', 'two muons')\n"
        "    return {'met2': d.Histo1D(('met2', '', 20, 0, 400), 'met2', 'weight'), 'cutflow': w.Report()}\n"
    )
    spec = {"samples": {"a": {"trees": ["Events"], "files": [small_nanoaod_file], "metadata": {"xsec": 2.0}}}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    root = Path(__file__).resolve().parents[1]
    submit = shutil.which("spark-submit", path=str(Path(sys.executable).parent))
    assert submit is not None
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    run = subprocess.run([submit, "--master", "local[2]", str(root / "jobs" / "analysis.py"), "--analysis", str(module),
                          "--spec", str(tmp_path / "spec.json"), "--output", str(tmp_path / "out")],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    written = read_histograms(tmp_path / "out" / "histograms.json")["met2"]
    df = hepframe.RDataFrame("Events", small_nanoaod_file).Filter("nMuon >= 2").Define("met2", "MET_pt * 2.0")
    expected = df.Define("w", "2.0").Histo1D(("met2", "", 20, 0, 400), "met2", "w").GetValue()
    np.testing.assert_array_equal(written.view(flow=True)["value"], expected.view(flow=True)["value"])


@pytest.mark.parametrize("native", [False, True], ids=["read-in-tasks", "native-columns"])
def test_branches_missing_in_some_files(native: bool, tmp_path) -> None:
    with uproot.recreate(tmp_path / "with.root") as f:
        f.mktree("Events", {"x": np.float32, "y": np.int32}).extend(
            {"x": np.arange(6, dtype=np.float32), "y": np.arange(6, dtype=np.int32) * 3}
        )
    with uproot.recreate(tmp_path / "without.root") as f:
        f.mktree("Events", {"x": np.float32}).extend({"x": np.arange(4, dtype=np.float32) + 10})
    files = [str(tmp_path / "without.root"), str(tmp_path / "with.root")]
    results = {}
    for name, engine in (("polars", "polars"), ("spark", _spark(2, native))):
        df = hepframe.RDataFrame("Events", files, engine=engine)
        results[name] = (df.DefaultValueFor("y", -7).Take("y").GetValue(), df.FilterAvailable("y").Count().GetValue(),
                         df.FilterMissing("y").Count().GetValue())  # fmt: skip
    np.testing.assert_array_equal(results["spark"][0], results["polars"][0])
    assert results["spark"][1:] == results["polars"][1:] == (6, 4)


def test_demo_on_spark_gives_the_polars_fit(tmp_path, capsys) -> None:
    from hepframe import demo

    polars = demo.run(events=40_000, data_dir=str(tmp_path / "data"), outdir=str(tmp_path / "p"), progress=False)
    spark = demo.run(events=40_000, data_dir=str(tmp_path / "data"), outdir=str(tmp_path / "s"), progress=False,
                     engine="spark")  # fmt: skip
    assert "Event loop on spark" in capsys.readouterr().out
    assert spark["n_events"] == polars["n_events"] == 40_000
    assert spark["mu_hat"] == pytest.approx(polars["mu_hat"], rel=1e-9)


def test_explain_shows_what_spark_computes(nanoaod_file: str) -> None:
    df = hepframe.RDataFrame("Events", nanoaod_file, engine=_spark(native=True))
    node = df.Filter("nMuon >= 2 && Sum(Jet_pt > 30) > 1").Define("m", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
    text = node.explain()
    assert text.startswith("engine: spark (native Spark columns")
    filter_part, define_part = text.split("- Define")
    assert "spark SQL: &&, >, >=, Sum, column, literal" in filter_part
    assert "kernels: InvariantMass" in define_part and "spark SQL: nothing" in define_part


def test_snapshot_to_a_root_file_on_spark(small_nanoaod_file: str, tmp_path) -> None:
    """Tasks write Parquet parts; the driver writes one ROOT file from them, in entry order, atomically."""
    import uproot

    df = hepframe.RDataFrame("Events", small_nanoaod_file, engine=_spark(2, False)).Filter("nMuon >= 1")
    written = df.Snapshot("Events", tmp_path / "skim.root", ["MET_pt", "Muon_pt", "event"])
    local = hepframe.RDataFrame("Events", small_nanoaod_file).Filter("nMuon >= 1").AsNumpy(["MET_pt", "event"])
    with uproot.open(tmp_path / "skim.root") as f:
        arrays = f["Events"].arrays(["MET_pt", "event"], library="np")
    assert np.array_equal(arrays["event"], local["event"]) and np.array_equal(arrays["MET_pt"], local["MET_pt"])
    assert written.Count().GetValue() == len(local["event"])
    assert [p.name for p in tmp_path.iterdir()] == ["skim.root"]  # no staging left behind
