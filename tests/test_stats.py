"""hepframe.stats: pyhf workspaces from booked results, fits, tests and limits (issue #18, part 1)."""

from __future__ import annotations

import doctest
import json

import numpy as np
import pyhf
import pytest

import hepframe
from hepframe import stats
from hepframe.stats import StatsError

BINS = ("met", "", 8, 0, 160)


@pytest.fixture(scope="module")
def booked(small_nanoaod_file: str) -> dict:
    """Signal and background MET histograms from a generated file, with a MET scale variation."""
    df = hepframe.RDataFrame("Events", small_nanoaod_file)
    varied = df.Vary("MET_pt", "ROOT::RVecF{MET_pt * 0.9f, MET_pt * 1.1f}", ["down", "up"], "met_scale")
    signal = varied.Filter("nMuon >= 2").Histo1D(BINS, "MET_pt")
    background = varied.Filter("nMuon < 2").Histo1D(BINS, "MET_pt")
    return {"signal": signal, "background": background, "variations": hepframe.VariationsFor(background)}


def _model(booked: dict, data) -> stats.Model:
    model = stats.Model(poi="mu")
    model.luminosity(1.0, 0.02)
    region = model.channel("SR")
    region.sample("signal", booked["signal"]).normfactor("mu").lumi()
    (region.sample("background", booked["background"]).normsys("bkg_xsec", 0.9, 1.1).lumi()
     .variations(booked["variations"], "met_scale").staterror())  # fmt: skip
    region.data(data)
    return model


def test_module_example_runs() -> None:
    failures, tests = doctest.testmod(stats)
    assert tests > 0 and failures == 0


def test_workspace_is_the_one_written_by_hand(booked: dict) -> None:
    s = booked["signal"].GetValue()
    b = booked["background"].GetValue()
    up, down = booked["variations"]["met_scale:up"], booked["variations"]["met_scale:down"]
    data = (s.values() + b.values()).round()
    spec = _model(booked, data).workspace()
    by_hand = {
        "channels": [{"name": "SR", "samples": [
            {"name": "signal", "data": s.values().tolist(), "modifiers": [
                {"name": "mu", "type": "normfactor", "data": None}, {"name": "lumi", "type": "lumi", "data": None}]},
            {"name": "background", "data": b.values().tolist(), "modifiers": [
                {"name": "bkg_xsec", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                {"name": "lumi", "type": "lumi", "data": None},
                {"name": "met_scale", "type": "histosys",
                 "data": {"hi_data": up.values().tolist(), "lo_data": down.values().tolist()}},
                {"name": "staterror_SR", "type": "staterror", "data": np.sqrt(b.variances()).tolist()}]}]}],
        "observations": [{"name": "SR", "data": data.tolist()}],
        "measurements": [{"name": "measurement", "config": {"poi": "mu", "parameters": [
            {"name": "lumi", "auxdata": [1.0], "sigmas": [0.02], "bounds": [[0.9, 1.1]], "inits": [1.0]}]}}],
        "version": "1.0.0",
    }  # fmt: skip
    assert json.loads(json.dumps(dict(spec))) == json.loads(json.dumps(dict(pyhf.Workspace(by_hand))))
    assert up.values().tolist() != b.values().tolist()  # the variation really moved events


def test_fit_recovers_the_injected_signal_strength(booked: dict) -> None:
    s, b = booked["signal"].GetValue().values(), booked["background"].GetValue().values()
    asimov = stats.fit(_model(booked, 1.5 * s + b).workspace())
    assert asimov.value("mu") == pytest.approx(1.5, abs=2e-3)
    assert 0 < asimov.error("mu") < 1 and asimov.correlations.shape == (len(asimov.labels),) * 2
    pseudo = np.random.default_rng(18).poisson(1.5 * s + b).astype(float)
    result = stats.fit(_model(booked, pseudo).workspace())
    assert abs(result.value("mu") - 1.5) < 2 * result.error("mu")
    assert set(result.to_dict()["parameters"]) == set(result.labels)


def test_hypotest_and_upper_limit(booked: dict) -> None:
    b = booked["background"].GetValue().values()
    workspace = _model(booked, b.round()).workspace()  # background only: no signal in the data
    small_mu, _ = stats.hypotest(workspace, 0.05)
    large_mu, expected = stats.hypotest(workspace, 8.0)
    assert 0 <= large_mu < 0.05 < small_mu <= 1 and len(expected) == 5
    observed, band = stats.upper_limit(workspace, scan=np.linspace(0, 10, 21))
    assert 0 < observed < 10 and band[0] < band[2] < band[4]


def test_hypotest_of_a_signal_only_model_says_why_it_fails(booked: dict) -> None:
    s = booked["signal"].GetValue().values()
    model = stats.Model(poi="mu")
    model.channel("SR").sample("signal", booked["signal"]).normfactor("mu")
    model.channel("SR").data(s.round() + 1)  # data in every bin; at mu = 0 nothing is expected
    with pytest.raises(StatsError, match="add the background samples"):
        stats.hypotest(model.workspace(), 1.0)


def test_to_json_round_trips(booked: dict, tmp_path) -> None:
    s, b = booked["signal"].GetValue().values(), booked["background"].GetValue().values()
    model = _model(booked, (s + b).round())
    model.to_json(tmp_path / "workspace.json")
    assert [p.name for p in tmp_path.iterdir()] == ["workspace.json"]
    assert pyhf.Workspace(json.loads((tmp_path / "workspace.json").read_text())) == model.workspace()


def test_bad_models_name_what_is_wrong(booked: dict) -> None:
    h = booked["signal"]
    with pytest.raises(StatsError, match="no channel"):
        stats.Model().spec()
    empty = stats.Model()
    empty.channel("CR")
    with pytest.raises(StatsError, match="channel 'CR' has no sample"):
        empty.spec()
    model = stats.Model()
    region = model.channel("SR")
    region.sample("signal", h).normfactor("mu")
    with pytest.raises(StatsError, match="channel 'SR' has no data.*asimov=True"):
        model.spec()
    assert model.spec(asimov=True)["observations"][0]["data"] == h.GetValue().values().tolist()
    with pytest.raises(StatsError, match="already has a sample 'signal'"):
        region.sample("signal", h)
    with pytest.raises(StatsError, match=r"sample 'other' .* no 'met_scale:up' \(available: nominal, met_scale:down\)"):
        region.sample("other", h).variations({"nominal": h, "met_scale:down": h}, "met_scale")
    with pytest.raises(StatsError, match="empty"):
        region.sample("nothing", np.zeros(8))
    with pytest.raises(StatsError, match=r"negative bins \[1\]"):
        region.sample("negative", np.array([1.0, -2.0, 1, 1, 1, 1, 1, 1]))
    with pytest.raises(StatsError, match="3 bins, but the channel 'SR' has 8"):
        region.sample("coarse", np.ones(3))
    with pytest.raises(StatsError, match="give down=, or symmetrize=True"):
        region.samples["signal"].histosys("shape", np.ones(8))
    region.samples["signal"].histosys("shape", h.GetValue().values() * 1.1, symmetrize=True)
    assert region.samples["signal"].modifiers[-1]["data"]["lo_data"] == pytest.approx(h.GetValue().values() * 0.9)
    with pytest.raises(StatsError, match="normsys 'x' .* positive"):
        region.samples["signal"].normsys("x", 0.0, 1.2)
    no_poi = stats.Model(poi="mu")
    no_poi.channel("SR").sample("b", h)
    with pytest.raises(StatsError, match="parameter of interest 'mu'"):
        no_poi.spec(asimov=True)
    region.samples["signal"].lumi()
    with pytest.raises(StatsError, match=r"model.luminosity"):
        model.spec(asimov=True)
    with pytest.raises(StatsError, match="relative uncertainty"):
        model.luminosity(1.0, 0.0)


def test_ranking_pulls_and_yield_plots(booked: dict, tmp_path) -> None:
    s, b = booked["signal"].GetValue().values(), booked["background"].GetValue().values()
    model = _model(booked, s + b)  # Asimov data at mu = 1: every pull is zero
    workspace = model.workspace()
    result = stats.fit(workspace)
    impacts = stats.ranking(workspace, result)
    names = [i.parameter for i in impacts]
    assert {"lumi", "bkg_xsec", "met_scale"} <= set(names) and "mu" not in names
    assert len([n for n in names if n.startswith("staterror_SR[")]) == len(s)
    sizes = [max(abs(i.up), abs(i.down)) for i in impacts]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 0
    by_name = {i.parameter: i for i in impacts}
    assert by_name["bkg_xsec"].up * by_name["bkg_xsec"].down < 0  # more background, less signal, and back
    assert all(abs(i.pull) < 1e-2 for i in impacts)
    stats.plot_pulls(result, workspace, tmp_path / "pulls.png")
    stats.plot_yields(model, "SR", tmp_path / "prefit.png")
    stats.plot_yields(model, "SR", tmp_path / "postfit.pdf", result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["postfit.pdf", "prefit.png", "pulls.png"]
    assert (tmp_path / "pulls.png").read_bytes()[:4] == b"\x89PNG" and (tmp_path / "postfit.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(StatsError, match="no channel 'CR'; the model has SR"):
        stats.plot_yields(model, "CR", tmp_path / "x.png")


def test_review_cases_luminosity_bounds_variances_categories() -> None:
    """Found in review: each gave a wrong workspace silently or a raw pyhf error."""
    import hist

    def unit(values):
        out = hist.Hist(hist.axis.Regular(2, 0, 2), storage=hist.storage.Weight())
        out[...] = np.stack([values, values], axis=-1)
        return out

    # lumi != 1 multiplies the samples: the Asimov data is the model's expectation, not the raw templates
    model = stats.Model()
    model.luminosity(139.0, 0.02)
    model.channel("SR").sample("s", unit([0.1, 0.2])).normfactor("mu").lumi()
    pdf = model.workspace(asimov=True).model()
    assert model.workspace(asimov=True).data(pdf, include_auxdata=False) == pytest.approx([13.9, 27.8])
    with pytest.raises(StatsError, match="must be positive"):
        model.luminosity(0.0, 0.02)
    # POI bounds: settable, and a scan outside them is a StatsError saying how to widen them
    small = stats.Model()
    region = small.channel("SR")
    region.sample("s", unit([0.3, 0.2])).normfactor("mu")
    region.sample("b", unit([50.0, 50.0]))
    region.data(np.array([50.0, 50.0]))
    with pytest.raises(StatsError, match=r"outside the bounds \(0, 10\).*bounds=\(0, 100\)"):
        stats.hypotest(small.workspace(), mu=15.0)
    with pytest.raises(StatsError, match=r"bounded to \(0, 10\).*bounds=\(0, 100\)"):
        stats.upper_limit(small.workspace())
    wide = stats.Model()
    region = wide.channel("SR")
    region.sample("s", unit([0.3, 0.2])).normfactor("mu", bounds=(0, 200))
    region.sample("b", unit([50.0, 50.0]))
    region.data(np.array([50.0, 50.0]))
    assert 0 <= stats.hypotest(wide.workspace(), mu=15.0)[0] <= 1
    # a name used for two kinds of parameter: refused when the modifier is added
    clash = stats.Model().channel("SR").sample("s", unit([1.0, 2.0])).normfactor("mu")
    with pytest.raises(StatsError, match="'mu' is already a normfactor"):
        clash.normsys("mu", 0.9, 1.1)
    # no variances (plain counts, or a histogram without weight storage): no silent sqrt(contents)
    counts = hist.Hist(hist.axis.Regular(2, 0, 2))
    counts.fill([0.5, 1.5, 1.5], weight=[2.0, 2.0, 2.0])
    sample = stats.Model().channel("SR").sample("w", counts)
    with pytest.raises(StatsError, match=r"needs the histogram's variances"):
        sample.staterror()
    sample.shapesys("explicit", [0.1, 0.2])
    # category axes are compared by their labels
    cats = stats.Model().channel("SR")
    ab = hist.Hist(hist.axis.StrCategory(["a", "b"]), storage=hist.storage.Weight())
    ab.fill(["a", "b", "b"])
    ba = hist.Hist(hist.axis.StrCategory(["b", "a"]), storage=hist.storage.Weight())
    ba.fill(["a", "b", "b"])
    cats.sample("ab", ab)
    with pytest.raises(StatsError, match="category labels"):
        cats.data(ba)
