"""Kernel benchmarks: hepframe (polars engine) against hand-written awkward code and the uproot I/O floor.

Run from the repository root::

    .venv/bin/python -m benchmarks.kernels [--events N] [--repeats R]

Thread counts are fixed before polars is imported (``POLARS_MAX_THREADS``, default 1; the same
count goes to pyarrow, numba and BLAS). uproot decompresses on one thread by default, for both
sides. Every timing starts from the ROOT file. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import os

THREADS = os.environ.setdefault("POLARS_MAX_THREADS", "1")  # read when polars is imported: set it first
# The same number of decompression threads for hepframe and for the uproot baselines.
POOL = __import__("concurrent.futures").futures.ThreadPoolExecutor(int(THREADS)) if int(THREADS) > 1 else None
for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, THREADS)
os.environ.setdefault("HEPFRAME_PROGRESS", "0")

import argparse  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import awkward as ak  # noqa: E402
import hist  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import uproot  # noqa: E402

import hepframe  # noqa: E402

DATA = Path(__file__).resolve().parent / ".data"
TREE = "Events"
MUON_BRANCHES = ["Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass"]
PAIR_MASSES = (  # the expression from the issue, verbatim
    "InvariantMasses(Take(Muon_pt, Combinations(Muon_pt, 2)[0]), Take(Muon_eta, Combinations(Muon_pt, 2)[0]), "
    "Take(Muon_phi, Combinations(Muon_pt, 2)[0]), Take(Muon_mass, Combinations(Muon_pt, 2)[0]), "
    "Take(Muon_pt, Combinations(Muon_pt, 2)[1]), Take(Muon_eta, Combinations(Muon_pt, 2)[1]), "
    "Take(Muon_phi, Combinations(Muon_pt, 2)[1]), Take(Muon_mass, Combinations(Muon_pt, 2)[1]))"
)
MASS_BINS = (100, 0.0, 200.0)
JET_BINS = (100, 0.0, 200.0)
PAIR_TARGET = 3.0  # awkward time / hepframe time must be at least this
JET_TARGET = 1.5  # hepframe time / I/O floor must be at most this


def sample(n_events: int, cluster: int | None = None) -> str:
    """The cached NanoAOD-like sample with ``n_events`` events (generated once, in a child process).

    ``cluster``: events per cluster and basket (default 250,000, or all the events if fewer).
    """
    # Fixed-size clusters (and baskets), as in real NanoAOD files, so that per-event costs and
    # memory compare across sample sizes (the 2M and 20M scale runs of the ADL benchmark).
    chunk = cluster or min(250_000, n_events)
    path = DATA / (f"nanoaod-{n_events}.root" if cluster is None else f"nanoaod-{n_events}-clusters{cluster}.root")
    if not path.exists():  # generate_nanoaod writes atomically: an existing file is complete
        code = "import sys; from hepframe.datasets import generate_nanoaod as g; g(sys.argv[1], int(sys.argv[2]), chunk_size=int(sys.argv[3]))"
        print(f"generating {path} ({n_events:,} events) ...", file=sys.stderr)
        subprocess.run([sys.executable, "-c", code, str(path), str(n_events), str(chunk)], check=True)
    return str(path)


def best_of(fn: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best wall time of ``repeats`` calls after one untimed warm-up call; also the last result."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


# -- a. Combinations + InvariantMasses ------------------------------------------------------


def pairs_hepframe(path: str) -> hist.Hist:
    df = hepframe.RDataFrame(TREE, path, engine="polars", progress=False, threads=int(THREADS), cache=False)
    h = df.Filter("nMuon >= 2").Define("m", PAIR_MASSES).Histo1D(("m", "", *MASS_BINS), "m")
    return h.GetValue()


def pairs_awkward(path: str) -> hist.Hist:
    with uproot.open(path) as f:
        arrays = f[TREE].arrays(MUON_BRANCHES, decompression_executor=POOL)
    muons = ak.zip({"pt": arrays.Muon_pt, "eta": arrays.Muon_eta, "phi": arrays.Muon_phi, "mass": arrays.Muon_mass})
    muons = muons[ak.num(muons) >= 2]
    pairs = ak.combinations(muons, 2, fields=["a", "b"])
    a, b = pairs.a, pairs.b
    px1, py1, pz1 = a.pt * np.cos(a.phi), a.pt * np.sin(a.phi), a.pt * np.sinh(a.eta)
    px2, py2, pz2 = b.pt * np.cos(b.phi), b.pt * np.sin(b.phi), b.pt * np.sinh(b.eta)
    e1 = np.sqrt(px1**2 + py1**2 + pz1**2 + a.mass**2)
    e2 = np.sqrt(px2**2 + py2**2 + pz2**2 + b.mass**2)
    m = np.sqrt((e1 + e2) ** 2 - (px1 + px2) ** 2 - (py1 + py2) ** 2 - (pz1 + pz2) ** 2)
    h = hist.Hist.new.Reg(*MASS_BINS).Double()
    h.fill(ak.to_numpy(ak.flatten(m)))
    return h


def pairs_vector(path: str) -> hist.Hist:
    """The issue's literal baseline: ``ak.combinations`` + the ``vector`` package's Lorentz vectors."""
    import vector

    vector.register_awkward()
    with uproot.open(path) as f:
        arrays = f[TREE].arrays(MUON_BRANCHES, decompression_executor=POOL)
    muons = ak.zip({"pt": arrays.Muon_pt, "eta": arrays.Muon_eta, "phi": arrays.Muon_phi, "mass": arrays.Muon_mass},
                   with_name="Momentum4D")  # fmt: skip
    muons = muons[ak.num(muons) >= 2]
    a, b = ak.unzip(ak.combinations(muons, 2))
    h = hist.Hist.new.Reg(*MASS_BINS).Double()
    h.fill(ak.to_numpy(ak.flatten((a + b).mass)))
    return h


def read_muons(path: str) -> ak.Array:
    """Context for a: the I/O floor of the awkward baseline (its 4 branches, read and nothing else)."""
    with uproot.open(path) as f:
        return f[TREE].arrays(MUON_BRANCHES, decompression_executor=POOL)


# -- b. Jet_pt[abs(Jet_eta) < 1] into a histogram ------------------------------------------


def central_jets_hepframe(path: str) -> hist.Hist:
    df = hepframe.RDataFrame(TREE, path, engine="polars", progress=False, threads=int(THREADS), cache=False)
    return df.Define("cj", "Jet_pt[abs(Jet_eta) < 1]").Histo1D(("cj", "", *JET_BINS), "cj").GetValue()


def read_floor(path: str) -> ak.Array:
    with uproot.open(path) as f:
        return f[TREE].arrays(["Jet_pt", "Jet_eta"], decompression_executor=POOL)


# -- checks and report ---------------------------------------------------------------------


def total(h: hist.Hist) -> float:
    return float(np.sum(h.values(flow=True)))


def max_relative_bin_difference(h1: hist.Hist, h2: hist.Hist) -> float:
    a, b = h1.values(flow=True), h2.values(flow=True)
    scale = np.maximum(np.abs(a), np.abs(b))
    return float(np.max(np.abs(a - b) / np.where(scale > 0, scale, 1)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    pa.set_cpu_count(int(THREADS))
    pa.set_io_thread_count(int(THREADS))
    path = sample(args.events)

    t_hf_pairs, h_hf = best_of(lambda: pairs_hepframe(path), args.repeats)
    t_ak_pairs, h_ak = best_of(lambda: pairs_awkward(path), args.repeats)
    t_vec_pairs, h_vec = best_of(lambda: pairs_vector(path), args.repeats)
    t_muon_floor, _ = best_of(lambda: read_muons(path), args.repeats)
    t_hf_jets, h_jets = best_of(lambda: central_jets_hepframe(path), args.repeats)
    t_floor, jets = best_of(lambda: read_floor(path), args.repeats)

    assert isinstance(h_hf, hist.Hist) and isinstance(h_ak, hist.Hist) and isinstance(h_jets, hist.Hist)
    assert total(h_hf) == total(h_ak) == total(h_vec), f"pair counts differ: {total(h_hf)}, {total(h_ak)}, {total(h_vec)}"
    assert isinstance(jets, ak.Array)
    central = int(ak.sum(abs(jets.Jet_eta) < 1))
    assert total(h_jets) == central, f"central jets: hepframe {total(h_jets)}, awkward {central}"

    pair_ratio = t_vec_pairs / t_hf_pairs  # the baseline: ak.combinations + vector
    jet_ratio = t_hf_jets / t_floor
    pair_ok, jet_ok = pair_ratio >= PAIR_TARGET, jet_ratio <= JET_TARGET
    print(f"\n{args.events:,} events ({path}), best of {args.repeats} after 1 warm-up, "
          f"POLARS_MAX_THREADS={THREADS}, {os.cpu_count()} CPUs")  # fmt: skip
    rows = [
        ("measurement", "hepframe", "baseline", "ratio", "target", ""),
        ("Combinations + InvariantMasses", f"{t_hf_pairs:.3f} s", f"{t_vec_pairs:.3f} s (awkward + vector)",
         f"baseline/hepframe {pair_ratio:.2f}x", f">= {PAIR_TARGET}x", "met" if pair_ok else "MISSED"),
        ("  same, hand-written numpy baseline", f"{t_hf_pairs:.3f} s", f"{t_ak_pairs:.3f} s (awkward + numpy)",
         f"baseline/hepframe {t_ak_pairs / t_hf_pairs:.2f}x", "", ""),
        ("Jet_pt[abs(Jet_eta) < 1] histogram", f"{t_hf_jets:.3f} s", f"{t_floor:.3f} s (uproot read)",
         f"hepframe/floor {jet_ratio:.2f}x", f"<= {JET_TARGET}x", "met" if jet_ok else "MISSED"),
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    print(f"\nmuon pairs: {total(h_hf):,.0f} in both histograms; max relative bin difference "
          f"{max_relative_bin_difference(h_hf, h_ak):.2e}")  # fmt: skip
    print(f"I/O floor of a (uproot reading the 4 muon branches): {t_muon_floor:.3f} s, so no reader of those "
          f"branches can beat awkward by more than {t_ak_pairs / t_muon_floor:.2f}x")  # fmt: skip
    print(f"central jets: {central:,} in the hepframe histogram and in the awkward count")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    return 0 if pair_ok and jet_ok else 1


if __name__ == "__main__":
    sys.exit(main())
