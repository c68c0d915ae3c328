"""The GPU engine against the Polars engine, in one process, on the same file: time and identity.

The ADL queries the GPU engine runs today, written as strings (1-4: MET, jet pT, selected jet pT,
a counting filter; 7: jets away from leptons, through Concatenate, Combinations, Take, DeltaR and
Drop) and a selection with a weighted histogram, each booked on both engines; best of ``--repeats``
after one warm-up (kernel compilation). Histograms must be identical, bin for bin.

    python -m benchmarks.gpu --events 2000000 [--json out.json]

On a machine without a GPU run it with NUMBA_ENABLE_CUDASIM=1 and a few hundred events: it then
checks identity only (the simulator is not a speed measurement). scripts/gpu-check.sh runs it on a
device and writes the numbers that docs/performance.md quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import hepframe
from benchmarks.adl.common import q1, q2, q3, q4
from benchmarks.adl.strings import q7
from hepframe.datasets import generate_nanoaod
from hepframe.engines import get_engine


def selection(df):
    sel = (df.Filter("nMuon >= 2", "two muons")
             .Define("good_jet_pt", "Jet_pt[Jet_pt > 30 && abs(Jet_eta) < 2.4]")
             .Define("ht", "Sum(good_jet_pt)")
             .Filter("Muon_charge[0] != Muon_charge[1]", "opposite sign"))  # fmt: skip
    return sel.Histo1D(("lead", "", 50, 0.0, 250.0), "ht", "MET_pt")


QUERIES = {"q1": q1, "q2": q2, "q3": q3, "q4": q4, "q7": q7, "selection": selection}


def run(path: str, engine: str, query, threads: int) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    df = hepframe.RDataFrame("Events", path, engine=engine, threads=threads)
    h = query(df).GetValue()
    return time.perf_counter() - start, np.concatenate([h.values(flow=True), h.variances(flow=True)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", default="benchmarks/.data", help="where the generated file is kept")
    parser.add_argument("--json", default=None, help="also write the measurements to this JSON file")
    args = parser.parse_args(argv)
    path = Path(args.data) / f"nanoaod-{args.events}.root"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        generate_nanoaod(path, n_events=args.events, seed=1)
    threads = os.cpu_count() or 1
    device = get_engine("gpu").describe_mode()
    print(f"{args.events} events; {device}; Polars with {threads} threads")
    rows = []
    for name, query in QUERIES.items():
        best = {}
        for system in ("gpu", "polars"):
            times = []
            for _ in range(args.repeats + 1):  # the first run compiles kernels: not counted
                elapsed, result = run(str(path), system, query, threads)
                times.append(elapsed)
            best[system] = (min(times[1:]) if args.repeats else times[0], result)
        identical = bool(np.array_equal(best["gpu"][1], best["polars"][1]))
        ratio = best["polars"][0] / best["gpu"][0]
        rows.append({"query": name, "gpu_s": best["gpu"][0], "polars_s": best["polars"][0], "speedup": ratio,
                     "identical": identical})  # fmt: skip
        print(f"{name:10s} gpu {best['gpu'][0]:8.3f} s  polars {best['polars'][0]:8.3f} s  "
              f"speed-up {ratio:6.2f}x  identical: {identical}")  # fmt: skip
    total_gpu, total_cpu = sum(r["gpu_s"] for r in rows), sum(r["polars_s"] for r in rows)
    print(f"{'suite':10s} gpu {total_gpu:8.3f} s  polars {total_cpu:8.3f} s  speed-up {total_cpu / total_gpu:6.2f}x")
    if args.json:
        tmp = Path(args.json + ".tmp")
        tmp.write_text(json.dumps({"device": device, "events": args.events, "polars_threads": threads, "rows": rows}, indent=1))
        tmp.replace(args.json)
    return 0 if all(r["identical"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
