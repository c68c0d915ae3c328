"""ADL benchmark: the 8 IRIS-HEP queries on hepframe (polars), ROOT's RDataFrame and plain awkward.

Run from the repository root::

    .venv/bin/python -m benchmarks.adl.run [--events N] [--repeats R] [--queries 1,2,...]

For each query: wall times (best of R after one warm-up, from the file path to the filled
histogram) of hepframe, RDataFrame, the awkward baseline and the I/O floor (uproot reading the
query's branches), the ratios, how far each raised the process's peak RSS, and whether
hepframe's histogram equals ROOT's bin for bin, flow bins included. Threads as in
``benchmarks.kernels`` (``POLARS_MAX_THREADS``, default 1; ``ROOT.EnableImplicitMT`` when above 1). Exit status 1 if a
histogram differs from ROOT's.
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


def run_root(q: int, path: str) -> list[np.ndarray]:
    import ROOT

    booked = _as_tuple(queries.QUERIES[q](ROOT.RDataFrame(TREE, path)))
    return [np.array([h.GetBinContent(i) for i in range(h.GetNbinsX() + 2)]) for h in (r.GetValue() for r in booked)]


def run_awkward(q: int, path: str) -> list[np.ndarray]:
    return [h.values(flow=True) for h in _as_tuple(awkward_baseline.QUERIES[q](path, POOL))]


def run_floor(q: int, path: str) -> int:
    with uproot.open(path) as f:
        return len(f[TREE].arrays(queries.BRANCHES[q], decompression_executor=POOL))


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--queries", default="1,2,3,4,5,6,7,8")
    args = parser.parse_args(argv)
    pa.set_cpu_count(int(THREADS))
    pa.set_io_thread_count(int(THREADS))
    import ROOT

    if int(THREADS) > 1:
        ROOT.EnableImplicitMT(int(THREADS))
    path = sample(args.events)

    header = ("query", "hepframe", "RDF", "awkward", "floor", "hf/RDF", "hf/awk", "hf/floor",
              "peak RSS rise MiB hf/RDF/awk", "vs ROOT", "awk vs ROOT")  # fmt: skip
    rows, ok = [header], True
    for q in (int(x) for x in args.queries.split(",")):
        measured = {}
        for name, fn in (("hf", run_hepframe), ("rdf", run_root), ("awk", run_awkward), ("floor", run_floor)):
            (t, result), rss = peak_rss_of(lambda fn=fn, q=q: best_of(lambda: fn(q, path), args.repeats))
            measured[name] = (t, result, rss)
        (t_hf, h_hf, m_hf), (t_rdf, h_rdf, m_rdf), (t_awk, h_awk, m_awk), (t_io, _, _) = measured.values()
        n_diff, max_diff = compare(h_hf, h_rdf)
        ok &= n_diff == 0
        n_awk, _ = compare(h_awk, h_rdf)
        rows.append((str(q), f"{t_hf:.3f} s", f"{t_rdf:.3f} s", f"{t_awk:.3f} s", f"{t_io:.3f} s",
                     f"{t_hf / t_rdf:.2f}", f"{t_hf / t_awk:.2f}", f"{t_hf / t_io:.2f}",
                     f"{m_hf:.0f}/{m_rdf:.0f}/{m_awk:.0f}",
                     "identical" if n_diff == 0 else f"{n_diff} bins differ (max {max_diff:g})",
                     "identical" if n_awk == 0 else f"{n_awk} bins differ"))  # fmt: skip
        print(" ".join(rows[-1]), file=sys.stderr, flush=True)

    print(f"\n{args.events:,} events ({path}), best of {args.repeats} after 1 warm-up, "
          f"THREADS={THREADS}, {os.cpu_count()} CPUs, ROOT {ROOT.gROOT.GetVersion()}")  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
