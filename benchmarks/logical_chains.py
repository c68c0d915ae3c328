"""Cost of long ``&&``/``||`` filters (issue #21): a 64-term chain against a 32-term one.

The old Polars lowering, ``when(a).then(b).otherwise(a)``, repeated its left operand, so each term
doubled time and memory (16 terms: 12 s and 1.7 GB on 20k events; 26 terms: killed). A linear
lowering costs about twice as much for twice the terms. Run::

    .venv/bin/python -m benchmarks.logical_chains --events 100000

It checks that both chains give the reference evaluator's counts and that the 64-term filter costs
at most 2x the 32-term one (ratio printed; exit status 1 when the target is missed).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import hepframe
from hepframe.datasets import generate_nanoaod

TERMS = ["nMuon >= 1", "MET_pt > 5", "Sum(Jet_pt > 20) >= 0", "Muon_pt.size() < 100", "(nJet < 3 || MET_pt > 30)",
         "(nMuon < 2 || Muon_charge[0] != Muon_charge[1])", "!(MET_pt > 1000 && nJet > 50)"]  # fmt: skip


def chain(n: int, op: str) -> str:
    return f" {op} ".join(TERMS[i % len(TERMS)] for i in range(n))


def timed(path: str, engine: str, n: int, repeats: int) -> tuple[float, tuple[int, int]]:
    best, counts = float("inf"), (0, 0)
    for _ in range(repeats):
        df = hepframe.RDataFrame("Events", path, engine=engine)
        start = time.perf_counter()
        booked = (df.Filter(chain(n, "&&")).Count(), df.Filter(chain(n, "||").replace(">", "<")).Count())
        counts = (booked[0].GetValue(), booked[1].GetValue())
        best = min(best, time.perf_counter() - start)
    return best, counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--engine", default="polars")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = generate_nanoaod(os.path.join(tmp, "chains.root"), n_events=args.events, seed=21)
        timed(path, args.engine, 8, 1)  # warm: imports, numba kernels, the column cache
        t32, c32 = timed(path, args.engine, 32, args.repeats)
        t64, c64 = timed(path, args.engine, 64, args.repeats)
        _, r32 = timed(path, "reference", 32, 1)
        _, r64 = timed(path, "reference", 64, 1)
    ratio = t64 / t32
    print(f"{args.engine}, {args.events} events: 32 terms {t32:.3f} s, 64 terms {t64:.3f} s, ratio {ratio:.2f} "
          f"(target <= 2); counts {c32} {c64}, reference {r32} {r64}")  # fmt: skip
    ok = ratio <= 2.0 and c32 == r32 and c64 == r64
    print("OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
