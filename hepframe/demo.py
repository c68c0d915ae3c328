"""The main job: a dimuon analysis on generated NanoAOD-like data, from ROOT file to pyhf fit.

Run it with ``hepframe demo`` (or ``./scripts/demo.sh`` on a fresh clone). It

1. generates the sample if missing (deterministic),
2. selects opposite-charge muon pairs on Polars and histograms their invariant mass,
3. prints the cut-flow and a histogram summary, and saves the spectrum as a PNG,
4. builds a signal+background model from two histograms and fits the signal strength with pyhf.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

import hepframe
from hepframe.datasets import atomic_path, ensure_sample

RESONANCE_LABELS = [(3.097, r"J/$\psi$"), (3.686, r"$\psi$'"), (9.46, r"$\Upsilon$"), (91.19, "Z")]


def dimuon_analysis(path: str, engine: str = "polars", progress: bool | None = None):
    """Book the dimuon analysis; returns (dataframe, result handles)."""
    df = hepframe.RDataFrame("Events", path, engine=engine, progress=progress)
    two = df.Filter("nMuon == 2", "Two muons")
    pairs = two.Define("Dimuon_mass", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
    os_pairs = pairs.Filter("Muon_charge[0] != Muon_charge[1]", "Opposite charge")
    ss_pairs = pairs.Filter("Muon_charge[0] == Muon_charge[1]", "Same charge")
    results = {
        "spectrum": os_pairs.Histo1D(("Dimuon_mass", "Dimuon mass;m_{#mu#mu} (GeV);N_{Events}", 30000, 0.25, 300),
                                     "Dimuon_mass"),  # fmt: skip
        "os_z": os_pairs.Histo1D(("os_z", "opposite-charge pairs", 10, 70, 110), "Dimuon_mass"),
        "ss_z": ss_pairs.Histo1D(("ss_z", "same-charge pairs", 10, 70, 110), "Dimuon_mass"),
        "report": df.Report(),
        "n_events": df.Count(),
    }
    return df, results


def plot_spectrum(h, out_png: str | os.PathLike) -> None:
    """Save the dimuon spectrum in the style of the CMS open-data plot (log-log), atomically."""
    import hist
    import matplotlib.pyplot as plt

    from hepframe.plotting import plot

    # Rebin the 30000 fine bins in log(mass) for display.
    edges = np.geomspace(0.25, 300, 400)
    coarse: hist.Hist = hist.Hist(hist.axis.Variable(edges))
    coarse.fill(h.axes[0].centers, weight=h.values())
    fig = plot(coarse, style="CMS", text=None, labels="opposite-charge muon pairs", color="k", yerr=False,
               title=";m_{#mu#mu} [GeV];Events / bin")  # fmt: skip
    ax = fig.axes[0]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(0.25, 300)
    counts = coarse.values()
    ax.set_ylim(0.5, max(counts.max(), 1) * 20)
    for mass, label in RESONANCE_LABELS:
        idx = np.searchsorted(edges, mass) - 1
        if 0 <= idx < len(counts) and counts[idx] > 0:
            ax.text(mass, counts[max(idx - 1, 0) : idx + 2].max() * 1.8, label, ha="center", fontsize=14)
    ax.set_title("hepframe: generated NanoAOD-like sample", loc="left", fontsize=16)
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)


def fit_signal_strength(signal: np.ndarray, background: np.ndarray, observed: np.ndarray):
    """Fit mu in ``observed ~ mu * signal + background`` with pyhf.

    The background comes from a control sample (same-charge pairs), so each bin carries its
    Poisson uncertainty; empty control bins get a floor of 0.5 +- 1 events.
    """
    import pyhf

    pyhf.set_backend("numpy")
    bkg = np.maximum(background, 0.5)
    model = pyhf.simplemodels.uncorrelated_background(
        signal=signal.tolist(), bkg=bkg.tolist(), bkg_uncertainty=np.sqrt(np.maximum(background, 1.0)).tolist()
    )
    data = observed.tolist() + model.config.auxdata
    pars = pyhf.infer.mle.fit(data, model)
    mu_hat = float(pars[model.config.poi_index])
    cls_obs = float(pyhf.infer.hypotest(0.0, data, model, test_stat="q0"))  # p-value of background only
    return mu_hat, cls_obs


def run(events: int = 500_000, data_dir: str = "hepframe-data", outdir: str = "demo-output",
        engine: str = "polars", progress: bool | None = None) -> dict:  # fmt: skip
    """Run the demo end to end; returns the numbers it printed."""
    t0 = time.perf_counter()
    data_path = Path(data_dir) / f"nanoaod_{events}.root"
    sim_path = Path(data_dir) / f"nanoaod_sim_{events // 2}.root"
    print(f"[hepframe {hepframe.__version__}] sample: {data_path} ({events:,} events)")
    ensure_sample(data_path, events, seed=42, progress=progress is not False)
    ensure_sample(sim_path, events // 2, seed=7, progress=progress is not False)

    t1 = time.perf_counter()
    df, res = dimuon_analysis(str(data_path), engine, progress)
    spectrum = res["spectrum"].GetValue()  # one event loop computes every booked result
    elapsed = time.perf_counter() - t1
    n_events = res["n_events"].GetValue()
    print(f"\nEvent loop on {engine}: {n_events:,} events in {elapsed:.2f} s ({df.passes} pass over the data)\n")
    print("Cut-flow:")
    print(res["report"].GetValue())

    values = spectrum.values()
    centers = spectrum.axes[0].centers
    total = values.sum()
    mean = float((values * centers).sum() / total) if total else float("nan")
    z = (centers > 60) & (centers < 120)
    jpsi = (centers > 2.9) & (centers < 3.3)
    print(f"\nDimuon mass histogram: {int(total):,} entries in range, "
          f"{int(spectrum.view(flow=True)['value'][0])} underflow, {int(spectrum.view(flow=True)['value'][-1])} overflow, "
          f"mean {mean:.2f} GeV")  # fmt: skip
    print(f"  J/psi window 2.9-3.3 GeV: {int(values[jpsi].sum()):,}   Z window 60-120 GeV: {int(values[z].sum()):,}")

    png = Path(outdir) / "dimuon_spectrum.png"
    plot_spectrum(spectrum, png)
    print(f"  spectrum saved to {png}")

    # Statistical model: signal shape from simulation (opposite minus same charge), background
    # from same-charge pairs in data (combinatorial), observed opposite-charge pairs in data.
    _, sim = dimuon_analysis(str(sim_path), engine, progress)
    sim_signal = np.clip(sim["os_z"].GetValue().values() - sim["ss_z"].GetValue().values(), 0, None)
    signal = sim_signal * (events / (events // 2))
    background = res["ss_z"].GetValue().values()
    observed = res["os_z"].GetValue().values()
    mu_hat, p0 = fit_signal_strength(signal, background, observed)
    print("\npyhf fit (Z window, 10 bins, 70-110 GeV): signal from simulation, background from same-charge pairs")
    print(f"  fitted signal strength mu = {mu_hat:.3f}   (background-only p-value {p0:.2e})")
    print(f"\nDone in {time.perf_counter() - t0:.1f} s.")
    return {"mu_hat": mu_hat, "png": str(png), "n_events": n_events, "report": res["report"].GetValue()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hepframe demo", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000, help="events in the generated sample")
    parser.add_argument("--data-dir", default="hepframe-data", help="where the sample is generated/cached")
    parser.add_argument("--outdir", default="demo-output", help="where the PNG is written")
    parser.add_argument("--engine", default="polars", choices=["polars", "spark", "reference"],
                        help="spark: a local Spark session on every core (needs Java and the spark extra)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    run(args.events, args.data_dir, args.outdir, args.engine, False if args.no_progress else None)
    return 0
