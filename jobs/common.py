"""What every spark-submit job shares: arguments, the Spark engine, and writing the results."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any


def parse_args(description: str, argv: list[str] | None = None, extra: Callable | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", nargs="+", help="ROOT files or globs (local, shared filesystem, https://)")
    source.add_argument("--spec", help="a dataset specification (RDatasetSpec JSON): samples, files, metadata")
    parser.add_argument("--output", required=True, help="directory for histograms.{pkl,json,root} and the cut-flow")
    parser.add_argument("--tree", default="Events")
    parser.add_argument("--npartitions", type=int, default=None, help="about how many partitions (whole clusters)")
    if extra is not None:
        extra(parser)
    return parser.parse_args(argv)


def run(name: str, args: argparse.Namespace, book: Callable[[Any], dict[str, Any]]) -> int:
    """Book ``book(df)``'s results on Spark, run them in one pass, and write them to ``args.output``."""
    from pyspark.sql import SparkSession

    import hepframe
    from hepframe.actions import CutFlowReport
    from hepframe.engines.spark_engine import SparkEngine, with_task_threads
    from hepframe.outputs import write_results

    spark = with_task_threads(SparkSession.builder).appName(f"hepframe-{name}").getOrCreate()
    engine = SparkEngine(spark, args.npartitions)
    start = time.perf_counter()
    if args.spec:
        df = hepframe.FromSpec(args.spec, engine=engine)
    else:
        df = hepframe.RDataFrame(args.tree, args.input, engine=engine, progress=False)
    booked = book(df)
    values = {key: handle.GetValue() for key, handle in booked.items()}  # one Spark job for all
    seconds = time.perf_counter() - start
    cutflows = [v for v in values.values() if isinstance(v, CutFlowReport)]
    histograms = {k: v for k, v in values.items() if hasattr(v, "axes")}
    scalars = {k: v for k, v in values.items() if isinstance(v, (int, float))}
    metadata = {"job": name, "input": args.input or args.spec, "seconds": seconds, "spark_master": spark.sparkContext.master,
                "event_loops": df._analysis.passes, **scalars}  # fmt: skip
    for path in write_results(args.output, histograms, cutflows[0] if cutflows else None, metadata):
        print(f"wrote {path}")
    if cutflows:
        print(cutflows[0])
    print(json.dumps(metadata))
    spark.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("common.py is imported by the jobs, not run")
