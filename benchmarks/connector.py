"""Connector benchmarks: cold read vs uproot, column-cache hits, and memory at 10x the events.

Cold reads are measured on two layouts of the same events: the default sample (baskets of 250k
events) and one with the 10k-event baskets of real NanoAOD files, where the per-basket costs
show. On both, hepframe's basket reader (connectors/baskets.py) is also compared with hepframe
reading every branch through uproot's interpretation (``basket_reader=False``).

Run: ``.venv/bin/python -m benchmarks.connector [--events N] [--repeats R]``. The thread count
(``POLARS_MAX_THREADS``, default 1) is the number of decompression threads for both hepframe
and uproot. Targets (connector issue): cold read >= 0.9x uproot's throughput, a cache-hit read
>= 5x faster than the cold read, peak RSS for 10x the events < 10% higher.
"""

from __future__ import annotations

import os

THREADS = int(os.environ.setdefault("POLARS_MAX_THREADS", "1"))

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import uproot  # noqa: E402
from hepframe.connectors import RootSource  # noqa: E402
from hepframe.connectors.cache import ColumnCache  # noqa: E402

from benchmarks.kernels import best_of, sample  # noqa: E402

# The branches the IRIS-HEP ADL queries read.
ADL_BRANCHES = ["MET_pt", "MET_phi", "nJet", "Jet_pt", "Jet_eta", "Jet_phi", "Jet_mass", "Jet_btag", "nMuon",
                "Muon_pt", "Muon_eta", "Muon_phi", "Muon_mass", "Muon_charge", "nElectron", "Electron_pt",
                "Electron_eta", "Electron_phi", "Electron_mass", "Electron_charge"]  # fmt: skip
POOL = ThreadPoolExecutor(THREADS) if THREADS > 1 else None


def read_uproot(path: str) -> int:
    with uproot.open(path, array_cache=None) as f:
        arrays = f["Events"].arrays(ADL_BRANCHES, decompression_executor=POOL)
    return len(arrays)


def read_hepframe(path: str, cache: ColumnCache | None, basket_reader: bool = True) -> int:
    source = RootSource.open("Events", path, threads=THREADS, cache=False)
    source.cache, source.basket_reader = cache, basket_reader
    return sum(b.table.num_rows for b in source.iter_batches(ADL_BRANCHES))


RSS_CHILD = """
import json, resource, sys, hepframe
df = hepframe.RDataFrame("Events", sys.argv[1], progress=False, cache=False, threads=int(sys.argv[2]))
h = df.Filter("nJet >= 2").Define("ht", "Sum(Jet_pt)").Histo1D(("ht", "", 100, 0, 1000), "ht")
m = df.Filter("nMuon == 2").Define("m", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)").Histo1D(("m", "", 100, 0, 200), "m")
h.GetValue()
print(json.dumps({"rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "passes": df.passes}))
"""


def peak_rss(path: str) -> float:
    out = subprocess.run([sys.executable, "-c", RSS_CHILD, path, str(THREADS)], capture_output=True, text=True,
                         check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])["rss_mib"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = sample(args.events)
    t_uproot, n1 = best_of(lambda: read_uproot(path), args.repeats)
    t_cold, n2 = best_of(lambda: read_hepframe(path, None), args.repeats)
    t_interpreted, _ = best_of(lambda: read_hepframe(path, None, basket_reader=False), args.repeats)
    small_baskets = sample(args.events, cluster=10_000)
    t_uproot_10k, _ = best_of(lambda: read_uproot(small_baskets), args.repeats)
    t_cold_10k, _ = best_of(lambda: read_hepframe(small_baskets, None), args.repeats)
    t_interpreted_10k, _ = best_of(lambda: read_hepframe(small_baskets, None, basket_reader=False), args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        cache = ColumnCache(tmp)
        read_hepframe(path, cache)  # fill
        t_hit, n3 = best_of(lambda: read_hepframe(path, cache), args.repeats)
    assert n1 == n2 == n3 == args.events
    small, big = sample(args.events // 10), path
    rss_small, rss_big = peak_rss(small), peak_rss(big)
    growth = rss_big / rss_small - 1
    rows = [
        ("cold read throughput vs uproot", f"{t_cold:.3f} s", f"{t_uproot:.3f} s (uproot)",
         f"uproot/hepframe {t_uproot / t_cold:.2f}x", ">= 0.9x", t_uproot / t_cold >= 0.9),
        ("  10k-event baskets", f"{t_cold_10k:.3f} s", f"{t_uproot_10k:.3f} s (uproot)",
         f"uproot/hepframe {t_uproot_10k / t_cold_10k:.2f}x", ">= 0.9x", t_uproot_10k / t_cold_10k >= 0.9),
        ("basket reader vs uproot's interp.", f"{t_cold:.3f} s", f"{t_interpreted:.3f} s (interp.)",
         f"{t_interpreted / t_cold:.2f}x faster", "-", True),
        ("  10k-event baskets", f"{t_cold_10k:.3f} s", f"{t_interpreted_10k:.3f} s (interp.)",
         f"{t_interpreted_10k / t_cold_10k:.2f}x faster", ">= 1.0x", t_interpreted_10k / t_cold_10k >= 1.0),
        ("cache-hit read vs cold read", f"{t_hit:.3f} s", f"{t_cold:.3f} s (cold)", f"{t_cold / t_hit:.1f}x faster",
         ">= 5x", t_cold / t_hit >= 5),
        ("peak RSS, 10x the events", f"{rss_big:.0f} MiB", f"{rss_small:.0f} MiB ({args.events // 10:,} ev)",
         f"+{100 * growth:.1f}%", "< +10%", growth < 0.10),
    ]  # fmt: skip
    print(f"{args.events:,} events, {len(ADL_BRANCHES)} ADL branches, best of {args.repeats}, {THREADS} thread(s)")
    print(f"{'measurement':<32} {'hepframe':<10} {'baseline':<26} {'ratio':<22} {'target':<8}")
    for name, ours, base, ratio, target, ok in rows:
        print(f"{name:<32} {ours:<10} {base:<26} {ratio:<22} {target:<8} {'met' if ok else 'MISSED'}")
    return 0 if all(r[-1] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
