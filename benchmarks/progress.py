"""Progress-bar overhead: ADL queries with the bar on against off (issue #19: under 1% of the loop).

Run from the repository root::

    .venv/bin/python -m benchmarks.progress [--events 2000000] [--repeats 3] [--queries 1,5] [--engine polars]

Per query: the best of R wall times with ``progress=True`` and with ``progress=False``, taking turns
(on/off, then off/on, ...) after one warm-up run each, and the overhead, best on / best off - 1.
The bar is drawn to stderr as a user sees it (once a loop has run for a second). Query 1 (one
histogram of one flat branch) is the worst case: the cheapest loop per batch, the same bar.

The bar costs a fixed few tenths of a millisecond per loop, far below the run-to-run noise of
the end-to-end difference (a few percent either way on query 1's 50 ms loop). So also measured,
for the Polars engine: the bar alone, without the loop (creating it, which asks the files' sizes,
one update (events and bytes) per batch, closing it; best of 5), as a share of the loop's best time. Exit status 1 if
that share is 1% or more for a query. Threads as in ``benchmarks.kernels``.
"""

from __future__ import annotations

# isort: off
from benchmarks.kernels import THREADS, sample  # first: it fixes the thread counts
# isort: on

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import hepframe  # noqa: E402
from benchmarks.adl import queries  # noqa: E402

TREE = "Events"
TARGET = 0.01


def _engine(name: str, spark=None):
    if name == "spark":
        from hepframe.engines.spark_engine import SparkEngine

        return SparkEngine(spark)
    return "polars"


def run(q: int, path: str, engine, progress: bool) -> float:
    """One query from the file path to the filled histograms; its wall time."""
    start = time.perf_counter()
    options = {"threads": int(THREADS), "cache": False} if engine == "polars" else {}
    df = hepframe.RDataFrame(TREE, path, engine=engine, progress=progress, **options)
    for h in queries.QUERIES[q](df) if q == 6 else (queries.QUERIES[q](df),):
        h.GetValue()
    return time.perf_counter() - start


def bar_cost(path: str) -> tuple[float, int]:
    """The Polars bar alone: created over the file (its size asked), one update per batch, closed.

    The source has read its batches first, as in the loop, where the reader opens the file once
    for both (whichever comes first pays the open).
    """
    from hepframe.connectors import RootSource

    from hepframe.progress import advance, event_bar

    source = RootSource.open(TREE, path)
    batches = [(b.table.num_rows, b.table.nbytes) for b in source.iter_batches(["MET_pt"])]
    with open(os.devnull, "w") as devnull:
        saved, sys.stderr = sys.stderr, devnull  # drawn as on a terminal, to nowhere
        try:
            times = []
            for _ in range(5):
                start = time.perf_counter()
                bar = event_bar(source, True)
                for rows, nbytes in batches:
                    advance(bar, rows, nbytes)
                bar.close()
                times.append(time.perf_counter() - start)
            return min(times), len(batches)
        finally:
            sys.stderr = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--queries", default="1,5")
    parser.add_argument("--engine", choices=["polars", "spark"], default="polars")
    parser.add_argument("--master", default="local[2]", help="Spark master (--engine spark)")
    args = parser.parse_args(argv)
    path = sample(args.events)
    spark = None
    if args.engine == "spark":
        from pyspark.sql import SparkSession

        from hepframe.engines.spark_engine import with_task_threads

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        spark = (with_task_threads(SparkSession.builder).master(args.master).appName("hepframe-progress-bench")
                 .config("spark.ui.showConsoleProgress", "false").getOrCreate())  # fmt: skip
        spark.sparkContext.setLogLevel("ERROR")
    engine = _engine(args.engine, spark)
    print(f"# progress bar overhead, {args.engine} engine, {args.events:,} events, threads={THREADS}, "
          f"best of {args.repeats} (alternating on/off)")  # fmt: skip
    print(f"{'query':>5} {'off (s)':>9} {'on (s)':>9} {'overhead':>9} {'median off':>11} {'median on':>10}")
    status = 0
    for q in [int(x) for x in args.queries.split(",")]:
        times: dict[bool, list[float]] = {True: [], False: []}
        for progress in (True, False):
            run(q, path, engine, progress)  # warm-up: numba caches, page cache, JIT of the JVM
        for r in range(args.repeats):
            for progress in (True, False) if r % 2 == 0 else (False, True):
                times[progress].append(run(q, path, engine, progress))
        on, off = min(times[True]), min(times[False])
        overhead = on / off - 1
        med_on, med_off = sorted(times[True])[len(times[True]) // 2], sorted(times[False])[len(times[False]) // 2]
        print(f"{q:>5} {off:>9.3f} {on:>9.3f} {overhead:>+9.2%} {med_off:>11.3f} {med_on:>10.3f}", flush=True)
        if args.engine == "polars":
            cost, n = bar_cost(path)
            status |= cost / off >= TARGET
            print(f"{'':>5} the bar alone: {cost * 1e3:.2f} ms for {n} updates = {cost / off:.3%} of the loop")
    if args.engine == "polars":
        print(f"target: the bar alone < {TARGET:.0%} of the loop: {'met' if not status else 'MISSED'}")
    if spark is not None:
        spark.stop()
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
