"""Cost of the ROOT facade (issue #15): ``from hepframe import ROOT`` against hepframe's own API,
and ROOT's own tutorials under ROOT against the same scripts under the facade.

1. The same dimuon analysis (two filters, an invariant mass, a 30,000-bin histogram, a cut-flow)
   booked through ``ROOT.RDataFrame`` (facade) and through ``hepframe.RDataFrame``: target facade
   / own API <= 1.05 (best of ``--repeats`` in one process, after a warm-up run).
2. Every tutorial that tests/test_root_tutorials.py runs (each a fresh process, as a user runs a
   script): total wall time under real ROOT (``import ROOT``) against the facade; target
   hepframe / ROOT < 1. Needs the ``root`` wheel (the ``test`` extra installs it).

Run::

    .venv/bin/python -m benchmarks.facade --events 500000

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import hepframe
from hepframe.datasets import generate_nanoaod

ROOT_DIR = Path(__file__).resolve().parents[1]


def _analysis(df):
    two = df.Filter("nMuon == 2", "two muons").Filter("Muon_charge[0] != Muon_charge[1]", "opposite charge")
    mass = two.Define("m", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
    h = mass.Histo1D(("m", "m;m_{#mu#mu} (GeV);N", 30000, 0.25, 300), "m")
    report = mass.Report()
    return h, report


def _time_api(make, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        h, report = _analysis(make())
        h.GetValue()
        list(report.GetValue())
        best = min(best, time.perf_counter() - start)
    return best


def _tutorials(nanoaod: str, csv: str) -> tuple[float, float, list[str]]:
    sys.path.insert(0, str(ROOT_DIR / "tests"))
    from test_root_tutorials import HARNESS, REMOTE_CSV, REMOTE_NANOAOD, WORKING, _tutorials

    totals = {"root": 0.0, "hepframe": 0.0}
    replace = json.dumps({REMOTE_NANOAOD: nanoaod, REMOTE_CSV: csv})
    env = {**os.environ, "HEPFRAME_PROGRESS": "0", "HEPFRAME_TUTORIAL_REPLACE": replace}
    for name in WORKING:
        for mode in totals:
            with tempfile.TemporaryDirectory() as work:
                for data in [*_tutorials().glob("*.root"), *_tutorials().glob("*.csv")]:
                    shutil.copy(data, work)
                start = time.perf_counter()
                subprocess.run([sys.executable, str(HARNESS), mode, str(_tutorials() / f"{name}.py")], cwd=work,
                               env=env, capture_output=True, check=True)  # fmt: skip
                totals[mode] += time.perf_counter() - start
    return totals["root"], totals["hepframe"], WORKING


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-tutorials", action="store_true")
    args = parser.parse_args(argv)
    from hepframe import ROOT

    with tempfile.TemporaryDirectory() as tmp:
        path = generate_nanoaod(os.path.join(tmp, "facade.root"), n_events=args.events, seed=15)
        _time_api(lambda: hepframe.RDataFrame("Events", path), 1)  # warm: imports, kernels, column cache
        own = facade = float("inf")
        for _ in range(args.repeats):  # interleaved, so that both see the same machine state
            own = min(own, _time_api(lambda: hepframe.RDataFrame("Events", path), 1))
            facade = min(facade, _time_api(lambda: ROOT.RDataFrame("Events", path), 1))
        ratio = facade / own
        print(f"{args.events} events: own API {own:.3f} s, facade {facade:.3f} s, ratio {ratio:.3f} (target <= 1.05)")
        ok = ratio <= 1.05
        if not args.skip_tutorials:
            from hepframe.datasets import generate_dimuon_csv

            csv = generate_dimuon_csv(os.path.join(tmp, "dimuons.csv"), n_events=20_000, seed=14)
            t_root, t_hf, names = _tutorials(path, csv)
            print(f"{len(names)} tutorials, each a fresh process: ROOT {t_root:.1f} s, hepframe {t_hf:.1f} s, "
                  f"ratio {t_hf / t_root:.2f} (target < 1)")  # fmt: skip
            ok = ok and t_hf < t_root
    print("OK" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
