"""The Analysis Grand Challenge end to end (jobs/agc.py): generated samples, ROOT's histograms, cabinetry's model.

One generated AGC dataset (20k events per sample, ttbar injected at 1.3 times its expected yield)
is analysed by hepframe on Polars and on Spark, by real ROOT running the same analysis code
(``agc.book`` takes the ROOT module), and modelled by hepframe.stats and by cabinetry.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import uproot

from hepframe import stats
from hepframe.agc_samples import NOMINAL, SAMPLES, generate_agc
from hepframe.errors import AnalysisError

ROOT_DIR = Path(__file__).resolve().parents[1]
INJECTED = 1.3


def _load_job():
    spec = importlib.util.spec_from_file_location("agc_job", ROOT_DIR / "jobs" / "agc.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


agc = _load_job()


@pytest.fixture(scope="module")
def agc_spec(tmp_path_factory) -> str:
    return generate_agc(tmp_path_factory.mktemp("agc"), n_events=20_000, seed=3, signal_strength=INJECTED)


@pytest.fixture(scope="module")
def polars_run(agc_spec: str, tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("agc-polars")
    summary = agc.run(agc_spec, str(out), engine="polars")
    return out, summary


def _histograms(out: Path) -> dict:
    with open(out / "histograms.pkl", "rb") as f:
        return pickle.load(f)


# -- the generator ----------------------------------------------------------------------------------


def test_generator_writes_nanoaod_types_deterministically(tmp_path: Path, ROOT) -> None:  # noqa: N803
    first = generate_agc(tmp_path / "a", n_events=500, seed=9)
    second = generate_agc(tmp_path / "b", n_events=500, seed=9)
    spec = json.loads(Path(first).read_text())
    assert sorted(spec["samples"]) == sorted([*SAMPLES, "data"])
    for name, body in spec["samples"].items():
        (path,) = body["files"]
        assert Path(path).exists() and body["trees"] == ["Events"]
        with uproot.open(path) as f, uproot.open(Path(second).parent / Path(path).name) as g:
            tree = f["Events"]
            assert tree.num_entries == (500 if name != "data" else body["metadata"]["nevents"])
            for branch in ("nJet", "Jet_pt", "Jet_btagCSVV2", "Jet_jetId", "Electron_cutBased", "Muon_tightId",
                           "Muon_pfRelIso04_all", "Electron_sip3d", "GenJet_pt", "MET_pt"):  # fmt: skip
                assert tree[branch].array().to_list() == g["Events"][branch].array().to_list(), branch
            types = {b.name: b.typename for b in tree.branches}
        assert types["nJet"] == "uint32_t" and types["Jet_pt"] == "float[]" and types["Jet_jetId"] == "int32_t[]"
        assert types["Muon_tightId"] == "bool[]" and types["event"] == "uint64_t"
        # real ROOT reads every file (UInt_t counters included)
        assert ROOT.RDataFrame("Events", path).Sum("nJet").GetValue() == pytest.approx(
            float(uproot.open(path)["Events"]["nJet"].array(library="np").sum()))  # fmt: skip
    meta = spec["samples"]["ttbar"]["metadata"]
    assert meta["process"] == "ttbar" and meta["variation"] == "nominal" and meta["nevents"] == 500


def test_generator_refuses_no_events(tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match="at least 1 event"):
        generate_agc(tmp_path, n_events=0)
    run = subprocess.run([sys.executable, "-m", "hepframe.cli", "generate", "--schema", "agc", "--events", "0",
                          str(tmp_path / "x")], capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 1 and "at least 1 event" in run.stderr


def test_trijet_mass_peaks_at_the_top_mass(polars_run) -> None:
    """The generator decays tops into b W -> b q q': the AGC observable sees the top quark."""
    h = _histograms(polars_run[0])["4j2b_ttbar_nominal"]
    centers = h.axes[0].centers
    assert 150 < centers[np.argmax(h.values())] < 200
    w_jets = _histograms(polars_run[0])["4j1b_wjets_nominal"]
    assert w_jets.sum().value > 0.1 * _histograms(polars_run[0])["4j1b_ttbar_nominal"].sum().value


# -- the job against ROOT, Spark and cabinetry ------------------------------------------------------


def test_job_writes_every_output(polars_run) -> None:
    out, summary = polars_run
    assert sorted(p.name for p in out.iterdir()) == sorted([
        "4j1b_postfit.png", "4j1b_prefit.png", "4j2b_postfit.png", "4j2b_prefit.png", "fit.json", "histograms.json",
        "histograms.pkl", "histograms.root", "pulls.png", "workspace.json"])  # fmt: skip
    with uproot.open(out / "histograms.root") as f:
        names = {k.split(";")[0] for k in f.keys()}
        values = f["4j2b_ttbar_nominal"].values()
    histograms = _histograms(out)
    assert names == set(histograms)
    np.testing.assert_array_equal(values, histograms["4j2b_ttbar_nominal"].values())
    variations = ["nominal", "pt_scale_up", "pt_res_up"] + [f"btag_var_{i}_{d}" for i in range(4) for d in ("up", "down")]
    for region in ("4j1b", "4j2b"):
        for process in [SAMPLES[n][0] for n in NOMINAL]:
            extra = ["scale_var_up", "scale_var_down"] if process == "wjets" else []
            assert {f"{region}_{process}_{v}" for v in variations + extra} <= names
        assert {f"{region}_ttbar_{v}" for v in ("ME_var", "PS_var", "scaleup", "scaledown")} <= names
        assert f"{region}_data_nominal" in names
    fit = json.loads((out / "fit.json").read_text())
    assert fit["poi"] == "ttbar_norm" and fit["value"] == summary["value"] and fit["uncertainty"] > 0
    assert "ttbar_norm" in fit["parameters"] and len(fit["parameters"]) > 10
    import pyhf

    workspace = pyhf.Workspace(json.loads((out / "workspace.json").read_text()))  # validated by pyhf's schema
    assert workspace.channels == ["4j1b", "4j2b"]


def test_fit_recovers_the_injected_signal_strength(polars_run) -> None:
    _, summary = polars_run
    assert abs(summary["value"] - INJECTED) < summary["uncertainty"], summary
    assert summary["uncertainty"] < 0.3


def test_histograms_equal_root_rdataframe(agc_spec: str, polars_run, ROOT) -> None:  # noqa: N803
    """The same analysis code and C++ helpers under real ROOT: every histogram, bin by bin."""
    agc.declare_helpers(ROOT)
    booked = []
    for _name, process, variation, files, weight in agc.samples_of(agc_spec):
        booked += agc.book(ROOT, ROOT.RDataFrame("Events", files), process, variation, weight)
    ROOT.RDF.RunGraphs([b.nominal for b in booked])
    theirs = agc.results(booked)
    ours = _histograms(polars_run[0])
    assert set(theirs) == set(ours)
    for key, h in theirs.items():
        n = h.GetNbinsX() + 2
        contents = np.array([h.GetBinContent(i) for i in range(n)])
        variances = np.array([h.GetBinError(i) ** 2 for i in range(n)])
        view = ours[key].view(flow=True)
        np.testing.assert_array_equal(view["value"], contents, err_msg=key)
        np.testing.assert_allclose(view["variance"], variances, rtol=1e-12, atol=0, err_msg=key)
    assert sum(ours[k].sum().value for k in ours if k.endswith("_nominal")) > 1000  # the comparison saw events


def test_spark_gives_identical_histograms_and_fit(agc_spec: str, polars_run, tmp_path: Path, spark_session) -> None:
    summary = agc.run(agc_spec, str(tmp_path), engine="spark", npartitions=2)
    ours, theirs = _histograms(polars_run[0]), _histograms(tmp_path)
    assert set(ours) == set(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key].view(flow=True)["value"], theirs[key].view(flow=True)["value"], key)
        np.testing.assert_array_equal(ours[key].view(flow=True)["variance"], theirs[key].view(flow=True)["variance"], key)
    assert summary["value"] == polars_run[1]["value"] and summary["uncertainty"] == polars_run[1]["uncertainty"]


def _cabinetry_config(out: Path) -> dict:
    def systematic(name, up, down=None, samples=None):
        body = {"Name": name, "Type": "NormPlusShape", "Up": {"VariationPath": up},
                "Down": {"Symmetrize": True} if down is None else {"VariationPath": down}}  # fmt: skip
        return {**body, "Samples": samples} if samples else body

    systematics = [
        systematic("ME_var", "_ME_var", samples="ttbar"), systematic("PS_var", "_PS_var", samples="ttbar"),
        systematic("tt_scale_var", "_scaleup", "_scaledown", samples="ttbar"),
        {"Name": "Lumi", "Type": "Normalization", "Up": {"Normalization": 0.03}, "Down": {"Normalization": -0.03}},
        systematic("Jet_energy_scale", "_pt_scale_up"), systematic("Jet_energy_res", "_pt_res_up"),
        *(systematic(f"b_tag_NP_{i + 1}", f"_btag_var_{i}_up", f"_btag_var_{i}_down") for i in range(4)),
        systematic("W_jets_scale_var", "_scale_var_up", "_scale_var_down", samples="wjets"),
    ]  # fmt: skip
    processes = sorted({SAMPLES[n][0] for n in NOMINAL})
    return {
        "General": {"Measurement": "CMS_ttbar", "POI": "ttbar_norm", "HistogramFolder": str(out / "cabinetry"),
                    "InputPath": str(out / "histograms.root") + ":{RegionPath}_{SamplePath}{VariationPath}",
                    "VariationPath": "_nominal"},  # fmt: skip
        "Regions": [{"Name": r, "RegionPath": r} for r in agc.REGIONS],
        "Samples": [{"Name": "data", "SamplePath": "data", "Data": True}] + [{"Name": p, "SamplePath": p} for p in processes],
        "Systematics": systematics,
        "NormFactors": [{"Name": "ttbar_norm", "Samples": "ttbar", "Nominal": 1.0, "Bounds": [0, 10]}],
    }


def _modifiers(spec: dict) -> dict:
    return {(c["name"], s["name"], m["name"], m["type"]): m["data"] for c in spec["channels"] for s in c["samples"]
            for m in s["modifiers"]}  # fmt: skip


def test_cabinetry_builds_the_same_workspace_and_fit(polars_run) -> None:
    """cabinetry reads the job's histograms.root with the AGC's configuration: same modifiers, same best fit."""
    import cabinetry  # the test extra installs it

    out, summary = polars_run
    config = _cabinetry_config(out)
    cabinetry.configuration.validate(config)
    cabinetry.templates.collect(config)
    cabinetry.templates.postprocess(config)
    theirs = cabinetry.workspace.build(config)
    ours = json.loads((out / "workspace.json").read_text())
    a, b = _modifiers(ours), _modifiers(theirs)
    assert set(a) == set(b) and len(a) > 100
    for key, data in a.items():
        if data is None:
            assert b[key] is None, key
        elif isinstance(data, dict):
            assert data.keys() == b[key].keys(), key
            for field, values in data.items():
                np.testing.assert_allclose(values, b[key][field], rtol=1e-12, atol=0, err_msg=f"{key} {field}")
        else:
            np.testing.assert_allclose(data, b[key], rtol=1e-12, atol=0, err_msg=str(key))
    for channel in ("4j1b", "4j2b"):  # nominal yields and data
        mine = {s["name"]: s["data"] for c in ours["channels"] if c["name"] == channel for s in c["samples"]}
        cab = {s["name"]: s["data"] for c in theirs["channels"] if c["name"] == channel for s in c["samples"]}
        assert mine == cab
    assert {o["name"]: o["data"] for o in ours["observations"]} == {o["name"]: o["data"] for o in theirs["observations"]}
    model, data = cabinetry.model_utils.model_and_data(theirs)
    fit = cabinetry.fit.fit(model, data)
    k = fit.labels.index("ttbar_norm")
    assert fit.bestfit[k] == pytest.approx(summary["value"], rel=1e-6)
    assert fit.uncertainty[k] == pytest.approx(summary["uncertainty"], rel=1e-4)


# -- bad input -------------------------------------------------------------------------------------


def test_model_names_a_missing_variation(polars_run) -> None:
    histograms = dict(_histograms(polars_run[0]))
    del histograms["4j2b_wjets_btag_var_2_down"]
    with pytest.raises(stats.StatsError, match="'4j2b_wjets_btag_var_2_down'"):
        agc.statistical_model(histograms)


def test_model_refuses_empty_and_negative_histograms(polars_run) -> None:
    histograms = dict(_histograms(polars_run[0]))
    empty = histograms["4j1b_wjets_nominal"].copy()
    empty.reset()
    with pytest.raises(stats.StatsError, match="sample 'wjets' of channel '4j1b' is empty"):
        agc.statistical_model({**histograms, "4j1b_wjets_nominal": empty})
    negative = histograms["4j1b_wjets_nominal"].copy()
    negative[3] = (-1.0, 1.0)
    with pytest.raises(stats.StatsError, match=r"negative bins \[3\]"):
        agc.statistical_model({**histograms, "4j1b_wjets_nominal": negative})


def test_negative_mirrored_bins_are_kept_zeroed_or_refused(polars_run) -> None:
    histograms = _histograms(polars_run[0])
    kept = agc.statistical_model(histograms)
    assert kept.negative_bins, "the 20k-event sample has sparse bins whose mirrored templates go negative"
    channel, sample, modifier, bins = kept.negative_bins[0]
    lo = {(c["name"], s["name"], m["name"]): m["data"] for c in kept.spec()["channels"] for s in c["samples"]
          for m in s["modifiers"] if m["type"] == "histosys"}[(channel, sample, modifier)]["lo_data"]  # fmt: skip
    assert all(lo[b] < 0 for b in bins)
    zeroed = agc.statistical_model(histograms, negative="zero")
    lo = {(c["name"], s["name"], m["name"]): m["data"] for c in zeroed.spec()["channels"] for s in c["samples"]
          for m in s["modifiers"] if m["type"] == "histosys"}[(channel, sample, modifier)]["lo_data"]  # fmt: skip
    assert all(lo[b] == 0 for b in bins)
    with pytest.raises(stats.StatsError, match=f"normplusshape {modifier!r} \\(down\\) of sample {sample!r}"):
        agc.statistical_model(histograms, negative="error")


def test_spec_without_pseudo_data_or_metadata_is_refused(agc_spec: str, tmp_path: Path) -> None:
    spec = json.loads(Path(agc_spec).read_text())
    no_data = {"samples": {k: v for k, v in spec["samples"].items() if k != "data"}}
    (tmp_path / "a.json").write_text(json.dumps(no_data))
    with pytest.raises(AnalysisError, match="no sample with process 'data'"):
        agc.samples_of(str(tmp_path / "a.json"))
    del spec["samples"]["wjets"]["metadata"]["xsec"]
    (tmp_path / "b.json").write_text(json.dumps(spec))
    with pytest.raises(AnalysisError, match="sample 'wjets' lacks the metadata 'xsec'"):
        agc.samples_of(str(tmp_path / "b.json"))


def test_a_variation_name_holds_several_vary_calls_but_not_one_tag_twice(ROOT) -> None:  # noqa: N803
    """As in ROOT: Vary("w", ...) twice with other tags adds variations "w:b_up"...; a repeated tag is an error."""
    def book(module, df):
        df = df.Define("w", "1.0").Define("x", "rdfentry_ * 1.0")
        df = df.Vary("w", "ROOT::RVecD{w * 2, w * 0.5}", ["a_up", "a_down"])
        df = df.Vary("w", "ROOT::RVecD{w * 3, w * 0.25}", ["b_up", "b_down"])
        return module.RDF.Experimental.VariationsFor(df.Histo1D(("h", "h", 10, 0.0, 10.0), "x", "w"))

    import hepframe.ROOT as facade

    ours, theirs = book(facade, facade.RDataFrame(10)), book(ROOT, ROOT.RDataFrame(10))
    assert sorted(str(k) for k in ours.GetKeys()) == sorted(str(k) for k in theirs.GetKeys())
    for key in ("w:a_up", "w:b_up", "w:b_down", "nominal"):
        assert ours[key].Integral() == theirs[key].Integral(), key
    with pytest.raises(AnalysisError, match="the variation w:a_up already exists"):
        facade.RDataFrame(5).Define("w", "1.0").Vary("w", "ROOT::RVecD{w, w}", ["a_up", "x"]).Vary(
            "w", "ROOT::RVecD{w, w}", ["a_up", "y"])  # fmt: skip


def test_a_region_without_samples_is_refused(polars_run) -> None:
    histograms = {k: v for k, v in _histograms(polars_run[0]).items() if not k.startswith("4j1b_")}
    with pytest.raises(stats.StatsError, match="'4j1b_"):
        agc.statistical_model(histograms)
    model = stats.Model(poi="ttbar_norm")
    model.channel("4j1b")
    model.channel("4j2b").sample("ttbar", _histograms(polars_run[0])["4j2b_ttbar_nominal"]).normfactor("ttbar_norm")
    with pytest.raises(stats.StatsError, match="channel '4j1b' has no sample"):
        model.workspace(asimov=True)
