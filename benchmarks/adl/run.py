"""ADL benchmark: the 8 IRIS-HEP queries on hepframe (polars), ROOT's RDataFrame and plain awkward.

Run from the repository root::

    .venv/bin/python -m benchmarks.adl.run [--events N] [--repeats R] [--queries 1,2,...]

For each query: wall times (best of R after one warm-up, from the file path to the filled
histogram) of hepframe, RDataFrame, the awkward baseline and the I/O floor (uproot reading the
query's branches), the ratios, how far each raised the process's peak RSS, and whether
hepframe's histogram equals ROOT's bin for bin, flow bins included. Threads as in
``benchmarks.kernels`` (``POLARS_MAX_THREADS``, default 1; ``ROOT.EnableImplicitMT`` when above 1).
``--together`` also times all the queries in one ``RunGraphs`` (one read of the union of their
branches) against their sum. Exit status 1 if a histogram differs from ROOT's (or, together,
from the queries run one by one). ROOT is imported only when ``rdf`` is among the
systems, so that a run without it measures hepframe's own peak RSS.

``--strings`` runs the strings-only variant instead (``benchmarks/adl/strings.py``: the queries
written in RDataFrame strings and VecOps only, hepframe against ROOT on the same strings and
against the kernel version, each in a fresh process); the other options are then that module's.
"""

from __future__ import annotations

# isort: off
from benchmarks.kernels import POOL, THREADS, best_of, sample  # first: it fixes the thread counts
# isort: on

import argparse  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import uproot  # noqa: E402

import hepframe  # noqa: E402
from benchmarks.adl import awkward_baseline, queries  # noqa: E402

TREE = "Events"


def _as_tuple(result) -> tuple:
    return result if isinstance(result, tuple) else (result,)


def run_hepframe(q: int, path: str) -> list[np.ndarray]:
    df = hepframe.RDataFrame(TREE, path, engine="polars", progress=False, cache=False, threads=int(THREADS))
    return [h.GetValue().values(flow=True) for h in _as_tuple(queries.QUERIES[q](df))]


def run_hepframe_warm(q: int, path: str) -> list[np.ndarray]:
    """With the column cache (HEPFRAME_CACHE_DIR); the untimed warm-up run fills it."""
    df = hepframe.RDataFrame(TREE, path, engine="polars", progress=False, cache=True, threads=int(THREADS))
    return [h.GetValue().values(flow=True) for h in _as_tuple(queries.QUERIES[q](df))]


def run_root(q: int, path: str) -> list[np.ndarray]:
    import ROOT

    booked = _as_tuple(queries.QUERIES[q](ROOT.RDataFrame(TREE, path)))
    return [np.array([h.GetBinContent(i) for i in range(h.GetNbinsX() + 2)]) for h in (r.GetValue() for r in booked)]


def run_awkward(q: int, path: str) -> list[np.ndarray]:
    return [h.values(flow=True) for h in _as_tuple(awkward_baseline.QUERIES[q](path, POOL))]


def run_floor(q: int, path: str) -> int:
    with uproot.open(path) as f:
        return len(f[TREE].arrays(queries.BRANCHES[q], decompression_executor=POOL))


def run_together(qs: list[int], path: str) -> list[np.ndarray]:
    """All the queries' histograms from one shared read (``RunGraphs``), one dataframe per query."""
    handles = []
    for q in qs:
        df = hepframe.RDataFrame(TREE, path, engine="polars", progress=False, cache=False, threads=int(THREADS))
        handles += _as_tuple(queries.QUERIES[q](df))
    hepframe.RunGraphs(handles)
    return [h.GetValue().values(flow=True) for h in handles]


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith(field + ":")).split()[1]) / 1024


def peak_rss_of(fn: Callable[[], object]) -> tuple[object, float]:
    """``fn()`` and how far (MiB) the RSS rose above its starting value while it ran.

    Linux: the peak (VmHWM) is reset first. Elsewhere: the process's peak RSS so far.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        start = _status_mib("VmRSS")
    except OSError:
        return fn(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = fn()
    return result, max(0.0, _status_mib("VmHWM") - start)


def compare(a: list[np.ndarray], b: list[np.ndarray]) -> tuple[int, float]:
    """Number of differing bins (flow bins included) and the largest difference."""
    n = sum(int(np.count_nonzero(x != y)) for x, y in zip(a, b, strict=True))
    return n, max(float(np.max(np.abs(x - y))) for x, y in zip(a, b, strict=True))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--strings" in argv:
        from benchmarks.adl import strings

        return strings.main([a for a in argv if a != "--strings"])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strings", action="store_true",
                        help="the strings-only variant (python -m benchmarks.adl.strings --help for its options)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--queries", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--systems", default="hf,warm,rdf,awk,floor",
                        help="comma-separated: hf (cold), warm (column cache), rdf, awk, floor")
    parser.add_argument("--json", default=None, help="also write the measurements to this JSON file")
    parser.add_argument("--together", action="store_true",
                        help="also time the queries run together, one read for all (RunGraphs), against their sum")
    args = parser.parse_args(argv)
    systems = args.systems.split(",")
    pa.set_cpu_count(int(THREADS))
    pa.set_io_thread_count(int(THREADS))
    root_version = "not imported"
    if "rdf" in systems:  # otherwise ROOT stays out of the process and of its peak RSS
        import ROOT

        root_version = ROOT.gROOT.GetVersion()
        if int(THREADS) > 1:
            ROOT.EnableImplicitMT(int(THREADS))
    path = sample(args.events)

    runners = {"hf": run_hepframe, "warm": run_hepframe_warm, "rdf": run_root, "awk": run_awkward, "floor": run_floor}
    header = ("query", *systems, "hf/RDF", "hf/awk", "hf/floor", "warm/floor", "hf rate", "peak RSS rise MiB",
              "vs ROOT")  # fmt: skip
    rows, ok, records = [header], True, []
    hf_results: dict[int, list[np.ndarray]] = {}
    sums = dict.fromkeys(systems, 0.0)
    size_mb = os.path.getsize(path) / 1e6
    for q in (int(x) for x in args.queries.split(",")):
        measured = {}
        for name in systems:
            fn = runners[name]
            (t, result), rss = peak_rss_of(lambda fn=fn, q=q: best_of(lambda: fn(q, path), args.repeats))
            measured[name] = (t, result, rss)
            if name == "hf":
                hf_results[q] = result
            sums[name] += t
        t = {k: v[0] for k, v in measured.items()}
        verdict = ""
        if "hf" in measured and "rdf" in measured:
            n_diff, max_diff = compare(measured["hf"][1], measured["rdf"][1])
            ok &= n_diff == 0
            verdict = "identical" if n_diff == 0 else f"{n_diff} bins differ (max {max_diff:g})"

        def ratio(a: str, b: str, t: dict = t) -> str:
            return f"{t[a] / t[b]:.2f}" if a in t and b in t else "-"

        rows.append((str(q), *(f"{t[k]:.3f} s" for k in systems), ratio("hf", "rdf"), ratio("hf", "awk"),
                     ratio("hf", "floor"), ratio("warm", "floor"),
                     f"{args.events / t['hf'] / 1e6:.2f} Mev/s" if "hf" in t else "-",
                     "/".join(f"{measured[k][2]:.0f}" for k in systems), verdict))  # fmt: skip
        records.append({"query": q, "seconds": t, "rss_rise_mib": {k: v[2] for k, v in measured.items()},
                        "identical_to_root": verdict == "identical" if verdict else None})  # fmt: skip
        print(" ".join(rows[-1]), file=sys.stderr, flush=True)
    rows.append(("sum", *(f"{sums[k]:.3f} s" for k in systems),
                 *(f"{sums[a] / sums[b]:.2f}" if a in sums and b in sums else "-"
                   for a, b in (("hf", "rdf"), ("hf", "awk"), ("hf", "floor"), ("warm", "floor"))), "", "", ""))  # fmt: skip
    together = None
    if args.together and "hf" in systems:
        qs = [int(x) for x in args.queries.split(",")]
        t_all, hists = best_of(lambda: run_together(qs, path), args.repeats)
        separate = [h for r in records for h in hf_results[r["query"]]]
        same = all(np.array_equal(a, b) for a, b in zip(hists, separate, strict=True))
        together = {"seconds": t_all, "sum_of_separate": sums["hf"], "identical_to_separate": same}
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump({"events": args.events, "threads": int(THREADS), "file_mb": size_mb, "queries": records,
                       "sums": sums, "together": together, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
                      f, indent=1)  # fmt: skip

    print(f"\n{args.events:,} events ({path}), best of {args.repeats} after 1 warm-up, "
          f"THREADS={THREADS}, {os.cpu_count()} CPUs, ROOT {root_version}")  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    print(f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if together is not None:
        print(f"together (RunGraphs, one read): {together['seconds']:.3f} s against {sums['hf']:.3f} s for the "
              f"queries one by one ({together['seconds'] / sums['hf']:.2f}x), histograms "
              f"{'identical' if together['identical_to_separate'] else 'DIFFERENT'}")  # fmt: skip
        ok &= together["identical_to_separate"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
