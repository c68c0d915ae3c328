"""The Analysis Grand Challenge's CMS ttbar analysis, written as an RDataFrame user writes it.

    hepframe generate --schema agc --events 100000 agc-data
    python jobs/agc.py --input agc-data --out agc-output [--engine polars|spark]
    spark-submit --master local[2] jobs/agc.py --input agc-data/spec.json --out agc-output --engine spark

The analysis code (``book``) takes the ROOT module as an argument: hepframe's ``hepframe.ROOT``
here, real ROOT in the tests that compare the two, with the same C++ helpers and strings. It books
every histogram of every sample (regions x samples x variations), runs them together
(``RunGraphs``), writes ``histograms.root`` (``{region}_{sample}_{variation}``), builds the
statistical model with ``hepframe.stats`` (the AGC's cabinetry configuration: ttbar normalisation,
modelling, jet energy scale and resolution, b-tagging, W+jets scale, luminosity and the MC
statistics), fits the pseudo-data and writes ``workspace.json``, ``fit.json`` and the plots, each
atomically.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LUMI_UNCERTAINTY = 0.03
REGIONS = {"4j1b": "HT", "4j2b": "Trijet_mass"}
BINNING = (25, 50.0, 550.0)

# The AGC's C++ helpers, as a ROOT user declares them. Jet energy resolution is deterministic here
# (the scaling method, from the matched GenJet) so that hepframe and ROOT can be compared bin by bin;
# the AGC smears with random numbers instead.
HELPERS = r"""
float pt_scale_up() { return 1.03; }

ROOT::RVecF jet_pt_resolution_up(const ROOT::RVecF &pt, const ROOT::RVecI &gen_idx, const ROOT::RVecF &gen_pt)
{
   // the reco-gen difference grows by 10%; jets without a GenJet keep their pt
   ROOT::RVecF res(pt.size());
   for (std::size_t i = 0; i < pt.size(); ++i) {
      const int g = gen_idx[i];
      if (g >= 0 && g < (int)gen_pt.size())
         res[i] = std::max(0.f, gen_pt[g] + 1.1f * (pt[i] - gen_pt[g]));
      else
         res[i] = pt[i];
   }
   return res;
}

ROOT::RVecF btag_weight_variation(const ROOT::RVecF &jet_pt)
{
   // weight variation depending on i-th jet pT (7.5% as default value, multiplied by i-th jet pT / 50 GeV)
   ROOT::RVecF res;
   for (const float &pt : ROOT::VecOps::Take(jet_pt, 4)) {
      res.push_back(1 + .075 * pt / 50);
      res.push_back(1 - .075 * pt / 50);
   }
   return res;
}

double trijet_mass(const ROOT::RVecF &pt, const ROOT::RVecF &eta, const ROOT::RVecF &phi, const ROOT::RVecF &mass,
                   const ROOT::RVecF &btag)
{
   // the mass of the highest-pT combination of three jets with at least one b tag (in Cartesian
   // coordinates, as the AGC's reference implementation: sums of PxPyPzM vectors are cheap)
   const auto p4 = ROOT::VecOps::Construct<ROOT::Math::PxPyPzMVector>(
      ROOT::VecOps::Construct<ROOT::Math::PtEtaPhiMVector>(pt, eta, phi, mass));
   const auto trijet = ROOT::VecOps::Combinations(pt, 3);
   double best_pt = -1, best_mass = 0;
   for (std::size_t i = 0; i < trijet[0].size(); ++i) {
      const auto j1 = trijet[0][i];
      const auto j2 = trijet[1][i];
      const auto j3 = trijet[2][i];
      if (btag[j1] < 0.5 && btag[j2] < 0.5 && btag[j3] < 0.5)
         continue;
      const auto p = p4[j1] + p4[j2] + p4[j3];
      if (p.Pt() > best_pt) {
         best_pt = p.Pt();
         best_mass = p.M();
      }
   }
   return best_mass;
}

ROOT::RVecF flat_variation()
{
   // 2.5% weight variations
   return 1 + ROOT::RVecF({.025, -.025});
}
"""

_DECLARED: set[str] = set()  # the interpreters (hepframe's, ROOT's) that have the helpers: C++ cannot redefine them


def declare_helpers(ROOT: Any) -> None:  # noqa: N803
    """``gInterpreter.Declare`` the helpers once per process."""
    if ROOT.__name__ not in _DECLARED:
        if not ROOT.gInterpreter.Declare(HELPERS):
            raise RuntimeError(f"{ROOT.__name__} could not compile the AGC's C++ helpers")
        _DECLARED.add(ROOT.__name__)


BTAG_VARIATIONS = [f"btag_var_{i}_{d}" for i in range(4) for d in ("up", "down")]


@dataclass
class Booked:
    """One region's histogram of one sample: its nominal result and, for nominal samples, the variations."""

    region: str
    process: str
    variation: str
    nominal: Any
    varied: Any = None


def book(ROOT: Any, df: Any, process: str, variation: str, weight: float) -> list[Booked]:  # noqa: N803
    """Book the AGC's histograms of one sample on ``df``; ``ROOT`` is hepframe.ROOT or real ROOT."""
    df = df.Define("Weights", repr(weight))
    nominal = variation == "nominal" and process != "data"
    if nominal:
        df = df.Vary("Jet_pt", "ROOT::RVec<ROOT::RVecF>{Jet_pt*pt_scale_up(), "
                     "jet_pt_resolution_up(Jet_pt, Jet_genJetIdx, GenJet_pt)}", ["pt_scale_up", "pt_res_up"])  # fmt: skip
        if process == "wjets":
            df = df.Vary("Weights", "Weights*flat_variation()", ["scale_var_up", "scale_var_down"])
    df = (
        df.Define("Electron_mask", "Electron_pt > 30 && abs(Electron_eta) < 2.1 && Electron_cutBased == 4 && "
                  "Electron_sip3d < 4")  # fmt: skip
        .Define("Muon_mask", "Muon_pt > 30 && abs(Muon_eta) < 2.1 && Muon_tightId && Muon_sip3d < 4 && "
                "Muon_pfRelIso04_all < 0.15")  # fmt: skip
        .Define("Jet_mask", "Jet_pt > 30 && abs(Jet_eta) < 2.4 && Jet_jetId == 6")
        .Filter("Sum(Electron_mask) + Sum(Muon_mask) == 1", "exactly one tight lepton")
        .Filter("Sum(Jet_mask) >= 4", "at least four jets")
        .Define("Jet_nbtag", "Sum(Jet_btagCSVV2[Jet_mask] >= 0.5)")
        .Filter("Jet_nbtag >= 1", "at least one b tag")
    )
    if nominal:
        df = df.Vary("Weights", "ROOT::RVecD{Weights*btag_weight_variation(Jet_pt[Jet_mask])}", BTAG_VARIATIONS)
    regions = {
        "4j1b": df.Filter("Jet_nbtag == 1", "4j1b").Define("HT", "Sum(Jet_pt[Jet_mask])"),
        "4j2b": df.Filter("Jet_nbtag >= 2", "4j2b").Define(
            "Trijet_mass", "trijet_mass(Jet_pt[Jet_mask], Jet_eta[Jet_mask], Jet_phi[Jet_mask], Jet_mass[Jet_mask], "
            "Jet_btagCSVV2[Jet_mask])"),
    }
    out = []
    for region, frame in regions.items():
        model = ROOT.RDF.TH1DModel(f"{region}_{process}_{variation}", process, *BINNING)
        histogram = frame.Histo1D(model, REGIONS[region], "Weights")
        varied = ROOT.RDF.Experimental.VariationsFor(histogram) if nominal else None
        out.append(Booked(region, process, variation, histogram, varied))
    return out


def results(booked: list[Booked]) -> dict[str, Any]:
    """``{region}_{sample}_{variation}``: every histogram, after the event loops (nominal and variations)."""
    out = {}
    for b in booked:
        out[f"{b.region}_{b.process}_{b.variation}"] = b.nominal.GetValue()
        if b.varied is not None:
            for key in b.varied.GetKeys():
                if key != "nominal":  # "Jet_pt:pt_scale_up": the varied column, then the variation
                    out[f"{b.region}_{b.process}_{str(key).split(':')[-1]}"] = b.varied[key]
    return out


def samples_of(spec_path: str) -> list[tuple[str, str, str, list[str], float]]:
    """(name, process, variation, files, MC weight) of each sample of an AGC dataset spec."""
    from hepframe.errors import AnalysisError

    with open(spec_path) as f:
        spec = json.load(f)
    out = []
    for name, body in spec.get("samples", {}).items():
        meta = body.get("metadata", {})
        try:
            process, variation = meta["process"], meta["variation"]
            weight = 1.0 if process == "data" else meta["xsec"] * meta["lumi"] / meta["nevents"]
        except KeyError as exc:
            raise AnalysisError(f"{spec_path}: sample {name!r} lacks the metadata {exc.args[0]!r} (AGC specs have "
                                "process, variation, xsec, lumi, nevents)") from None  # fmt: skip
        out.append((name, process, variation, list(body["files"]), weight))
    if not any(s[1] == "data" for s in out):
        raise AnalysisError(f"{spec_path}: no sample with process 'data' (the pseudo-data to fit)")
    return out


def statistical_model(histograms: Mapping[str, Any], negative: str = "keep") -> Any:
    """The AGC's model (its cabinetry configuration) from the ``{region}_{sample}_{variation}`` histograms.

    Mirrored one-sided variations can go negative in bins where a small sample is sparse: kept by
    default, as cabinetry keeps them (listed in ``model.negative_bins``); ``negative="zero"`` sets
    them to zero, ``"error"`` refuses them.
    """
    from hepframe import stats

    class Histograms(dict):
        def __missing__(self, key: str) -> Any:
            raise stats.StatsError(f"the AGC model needs the histogram {key!r} ({{region}}_{{sample}}_{{variation}}), "
                                   f"which the results lack; they have {len(self)} histograms")  # fmt: skip

    histograms = Histograms(histograms)
    model = stats.Model(poi="ttbar_norm", measurement="CMS_ttbar")
    processes = sorted({k.split("_", 1)[1].rsplit("_nominal", 1)[0] for k in histograms
                        if k.endswith("_nominal") and "_data_" not in k})  # fmt: skip
    for region in REGIONS:
        channel = model.channel(region)
        for process in processes:
            name = f"{region}_{process}"
            sample = channel.sample(process, histograms[f"{name}_nominal"]).staterror(f"staterror_{region}")
            if process == "ttbar":
                sample.normfactor("ttbar_norm", bounds=(0.0, 10.0))
                for systematic in ("ME_var", "PS_var"):
                    sample.normplusshape(systematic, histograms[f"{name}_{systematic}"], symmetrize=True, negative=negative)
                sample.normplusshape("tt_scale_var", histograms[f"{name}_scaleup"], histograms[f"{name}_scaledown"])
            sample.normsys("Lumi", 1 - LUMI_UNCERTAINTY, 1 + LUMI_UNCERTAINTY)
            sample.normplusshape("Jet_energy_scale", histograms[f"{name}_pt_scale_up"], symmetrize=True,
                                 negative=negative)
            sample.normplusshape("Jet_energy_res", histograms[f"{name}_pt_res_up"], symmetrize=True,
                                 negative=negative)
            for i in range(4):
                sample.normplusshape(f"b_tag_NP_{i + 1}", histograms[f"{name}_btag_var_{i}_up"],
                                     histograms[f"{name}_btag_var_{i}_down"])  # fmt: skip
            if process == "wjets":
                sample.normplusshape("W_jets_scale_var", histograms[f"{name}_scale_var_up"],
                                     histograms[f"{name}_scale_var_down"])  # fmt: skip
        channel.data(histograms[f"{region}_data_nominal"])
    return model


def run(spec_path: str, out_dir: str, engine: str = "polars", npartitions: int | None = None) -> dict[str, Any]:
    """The whole AGC: histograms, workspace, fit and plots in ``out_dir``; returns the fit summary."""
    import hepframe.ROOT as ROOT  # noqa: N811 - the import swap
    from hepframe import stats
    from hepframe.outputs import write_results

    start = time.perf_counter()
    declare_helpers(ROOT)
    booked: list[Booked] = []
    for _name, process, variation, files, weight in samples_of(spec_path):
        if engine == "spark":
            df = ROOT.RDF.Experimental.Distributed.Spark.RDataFrame("Events", files, npartitions=npartitions)
        else:
            df = ROOT.RDataFrame("Events", files)
        booked += book(ROOT, df, process, variation, weight)
    ROOT.RDF.RunGraphs([b.nominal for b in booked])
    histograms = results(booked)
    seconds = time.perf_counter() - start
    model = statistical_model(histograms)
    workspace = model.workspace()
    fit = stats.fit(workspace)
    summary = {"poi": "ttbar_norm", "value": fit.value("ttbar_norm"), "uncertainty": fit.error("ttbar_norm"),
               "engine": engine, "event_loop_seconds": seconds, **fit.to_dict()}  # fmt: skip
    os.makedirs(out_dir, exist_ok=True)
    write_results(out_dir, histograms, None, {"job": "agc", "input": spec_path, "seconds": seconds})
    model.to_json(os.path.join(out_dir, "workspace.json"))
    _write_json(os.path.join(out_dir, "fit.json"), summary)
    for region in REGIONS:
        stats.plot_yields(model, region, os.path.join(out_dir, f"{region}_prefit.png"))
        stats.plot_yields(model, region, os.path.join(out_dir, f"{region}_postfit.png"), fit)
    stats.plot_pulls(fit, workspace, os.path.join(out_dir, "pulls.png"))
    return summary


def _write_json(path: str, obj: Any) -> None:
    from hepframe.datasets import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", required=True, help="the generated AGC directory, or its spec.json")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--engine", choices=["polars", "spark"], default="polars")
    parser.add_argument("--npartitions", type=int, default=None, help="Spark partitions (default: Spark's)")
    args = parser.parse_args(argv)
    spec = os.path.join(args.input, "spec.json") if os.path.isdir(args.input) else args.input
    summary = run(spec, args.out, args.engine, args.npartitions)
    print(f"ttbar_norm = {summary['value']:.4f} +- {summary['uncertainty']:.4f} "
          f"(event loops {summary['event_loop_seconds']:.1f} s, {args.engine}); outputs in {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
