"""hepframe on Spark against ROOT's distributed RDataFrame on Spark: the ADL queries, same file, same master.

Run from the repository root::

    .venv/bin/python -m benchmarks.spark_vs_distrdf [--events N] [--repeats R] [--master 'local[2]']

For each ADL query (benchmarks/adl/queries.py, the same strings and helpers on both sides): the
best and the median wall time of R runs (the two systems take turns) after a warm-up run of every
query on both, from the file path to the filled histogram, on one SparkSession shared by both
systems with the same number of partitions; the ratios hepframe/DistRDF; and whether the
histograms agree bin for bin (flow bins included). DistRDF gets the C++ helpers on every worker
through ``ROOT.RDF.Experimental.Distributed.initialize``.
Exit status 1 if a histogram differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
os.environ.setdefault("HEPFRAME_PROGRESS", "0")

from benchmarks.adl import queries  # noqa: E402
from benchmarks.kernels import sample  # noqa: E402

TREE = "Events"


def _as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def _declare_helpers() -> None:  # runs on each DistRDF worker
    import ROOT

    from benchmarks.adl.queries import CPP_HELPERS

    ROOT.gInterpreter.Declare(f"#ifndef HEPFRAME_ADL_HELPERS\n#define HEPFRAME_ADL_HELPERS\n{CPP_HELPERS}\n#endif")


def run_hepframe(q: int, path: str, engine) -> list[np.ndarray]:
    import hepframe

    df = hepframe.RDataFrame(TREE, path, engine=engine, cache=False)
    return [h.GetValue().values(flow=True) for h in _as_tuple(queries.QUERIES[q](df))]


def run_distrdf(q: int, path: str, spark, npartitions: int) -> list[np.ndarray]:
    import ROOT

    df = ROOT.RDF.Experimental.Distributed.Spark.RDataFrame(TREE, path, sparkcontext=spark.sparkContext,
                                                            npartitions=npartitions)  # fmt: skip
    booked = _as_tuple(queries.QUERIES[q](df))
    return [np.array([h.GetBinContent(i) for i in range(h.GetNbinsX() + 2)]) for h in (r.GetValue() for r in booked)]


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--queries", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--npartitions", type=int, default=2)
    args = parser.parse_args(argv)

    import ROOT
    from pyspark.sql import SparkSession

    from hepframe.engines.spark_engine import SparkEngine, register_data_source, with_task_threads

    path = sample(args.events)
    spark = (with_task_threads(SparkSession.builder).master(args.master).appName("hepframe-vs-distrdf")
             .config("spark.ui.enabled", "false").getOrCreate())  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    register_data_source(spark)
    spark.sparkContext.addPyFile(queries.__file__)  # not needed by hepframe (by value); DistRDF imports by name
    ROOT.RDF.Experimental.Distributed.initialize(_declare_helpers)  # also runs it here, on the driver
    queries._declared = True
    engine = SparkEngine(spark, args.npartitions)

    print(f"# {args.events:,} events, master {args.master}, {args.npartitions} partitions, {args.repeats} interleaved runs each")
    print(f"{'query':>5} {'hepframe s':>11} {'DistRDF s':>10} {'ratio':>6} {'median hf':>9} {'median DR':>9} "
          f"{'ratio':>6}  identical")  # fmt: skip
    failed = 0
    total = [0.0, 0.0]
    selected = [int(x) for x in args.queries.split(",")]
    for q in selected:  # warm-up of every query first: the JVM compiles its hot paths on first use
        run_hepframe(q, path, engine)
        run_distrdf(q, path, spark, args.npartitions)
    for q in selected:
        times_hf, times_root = [], []
        for _ in range(args.repeats):  # interleaved: drifts of the machine hit both systems alike
            t, h_hf = _timed(lambda q=q: run_hepframe(q, path, engine))
            times_hf.append(t)
            t, h_root = _timed(lambda q=q: run_distrdf(q, path, spark, args.npartitions))
            times_root.append(t)
        same = all(np.array_equal(a, b) for a, b in zip(h_hf, h_root, strict=True))
        failed += not same
        t_hf, t_root = min(times_hf), min(times_root)
        m_hf, m_root = float(np.median(times_hf)), float(np.median(times_root))
        total[0] += t_hf
        total[1] += t_root
        print(f"{q:>5} {t_hf:>11.3f} {t_root:>10.3f} {t_hf / t_root:>6.2f} {m_hf:>9.3f} {m_root:>9.3f} "
              f"{m_hf / m_root:>6.2f}  {'yes' if same else 'NO'}")  # fmt: skip
    print(f"{'sum':>5} {total[0]:>11.3f} {total[1]:>10.3f} {total[0] / total[1]:>6.2f}")
    spark.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
