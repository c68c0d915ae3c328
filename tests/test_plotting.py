"""hepframe.plot / h.plot(): stacks, data with a data/MC ratio, 2D with a colour bar, styles, TLatex titles."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import hist
import matplotlib
import numpy as np
import polars as pl
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import mplhep  # noqa: E402

import hepframe  # noqa: E402
from hepframe import stats  # noqa: E402
from hepframe.plotting import PlotError, plot  # noqa: E402

MODEL = ("m", "Z peak;m_{#mu#mu} (GeV);Events", 12, 60.0, 120.0)


def _frame(seed: int, n: int, mean: float) -> hepframe.RDataFrame:
    rng = np.random.default_rng(seed)
    return hepframe.FromPolars(pl.DataFrame({"m": rng.normal(mean, 12.0, n), "w": rng.uniform(0.2, 0.6, n),
                                             "y": rng.normal(0.0, 1.0, n)}))  # fmt: skip


@pytest.fixture(scope="module")
def results() -> dict:
    """Weighted MC samples and unweighted data, as hepframe results, plus a 2D histogram."""
    z, top, data = _frame(1, 4000, 91.0), _frame(2, 3000, 85.0), _frame(3, 1500, 89.0)
    return {
        "Z": z.Histo1D(MODEL, "m", "w").GetValue(),
        "top": top.Histo1D(MODEL, "m", "w").GetValue(),
        "data": data.Histo1D(MODEL, "m").GetValue(),
        "data_weighted": data.Histo1D(MODEL, "m", "w").GetValue(),
        "h2": z.Histo2D(("h2", "map;m_{#mu#mu};y_{1};N_{ev}", 12, 60.0, 120.0, 8, -2.0, 2.0), "m", "y").GetValue(),
    }


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _errorbar(ax):
    """(y values, symmetric y errors) of the first errorbar container on ``ax``."""
    container = ax.containers[0]
    line, _, bars = container.lines
    y = np.asarray(line.get_ydata(), dtype=float)
    segments = bars[-1].get_segments()  # the y error bars: [(x, y - e), (x, y + e)] per point
    return y, np.array([(s[1][1] - s[0][1]) / 2 for s in segments])


def _patch(ax, label: str):
    return next(p for p in ax.patches if p.get_label() == label)


@pytest.mark.parametrize("weighted", [False, True])
def test_stack_with_data_has_ratio_of_data_over_the_sum_of_mc(results: dict, weighted: bool) -> None:
    z, top = results["Z"], results["top"]
    data = results["data_weighted" if weighted else "data"]
    fig = plot({"Z": z, "top": top}, data=data, stack=True)
    main, ratio = fig.axes
    mc = z.values() + top.values()
    # the stack's top is the sum of the samples, its bottom the first sample
    top_patch = _patch(main, "top").get_data()
    np.testing.assert_allclose(top_patch.values, mc)
    np.testing.assert_allclose(top_patch.baseline, z.values())
    # data points: sqrt(N) unweighted, sqrt(sum of w^2) weighted
    y, err = _errorbar(main)
    np.testing.assert_allclose(y, data.values())
    np.testing.assert_allclose(err, np.sqrt(data.variances()))
    if not weighted:
        np.testing.assert_allclose(err, np.sqrt(data.values()))
    # ratio panel: data / MC bin by bin, data's errors scaled by MC
    y, err = _errorbar(ratio)
    np.testing.assert_allclose(y, data.values() / mc)
    np.testing.assert_allclose(err, np.sqrt(data.variances()) / mc)
    # MC statistical band around 1: relative error of the sum
    band = next(c for c in ratio.containers if isinstance(c, matplotlib.container.BarContainer))
    heights = np.array([r.get_height() for r in band])
    np.testing.assert_allclose(heights, 2 * np.sqrt(z.variances() + top.variances()) / mc)
    assert ratio.get_ylabel() == "Data / MC"
    assert [t.get_text() for t in main.get_legend().get_texts()][-1] == "Data"


def test_stack_without_data_is_one_panel_and_labels_come_from_the_names(results: dict) -> None:
    fig = hepframe.plot(results["Z"], results["top"], stack=True, labels=["Z", "t#bar{t}"])
    (main,) = fig.axes
    np.testing.assert_allclose(_patch(main, r"$t\bar{t}$").get_data().values, results["Z"].values() + results["top"].values())
    assert {t.get_text() for t in main.get_legend().get_texts()} == {"Z", r"$t\bar{t}$"}  # TLatex as mathtext
    fig = hepframe.plot({"tt_semilep": results["Z"], "$\\mu$": results["top"]}, stack=True)
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {"tt_semilep", "$\\mu$"}  # as they are


def test_overlays_may_have_different_binnings_and_density_gives_unit_area(results: dict) -> None:
    coarse = results["Z"][:: hist.rebin(3)]
    fig = plot(results["Z"], coarse, labels=["fine", "coarse"], density=True)
    fine, rebinned = (p.get_data() for p in fig.axes[0].patches)  # step lines, in order
    assert (len(fine.values), len(rebinned.values)) == (12, 4)
    for stairs in (fine, rebinned):
        assert np.sum(stairs.values * np.diff(stairs.edges)) == pytest.approx(1.0)
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {"fine", "coarse"}


def test_roots_tlatex_titles_become_mathtext(results: dict) -> None:
    fig = results["Z"].plot(data=results["data"])
    main, ratio = fig.axes
    assert ratio.get_xlabel() == r"$m_{\mu\mu}$ (GeV)" and main.get_xlabel() == ""  # under the lower panel only
    assert main.get_ylabel() == "Events" and main.get_title() == "Z peak"
    fig = plot(results["Z"], title="Dimuons;p_{T}^{#mu} (GeV)")  # non-empty parts replace the histogram's
    assert fig.axes[0].get_xlabel() == "$p_{T}^{\\mu}$ (GeV)" and fig.axes[0].get_title() == "Dimuons"
    assert fig.axes[0].get_ylabel() == "Events"
    fig.canvas.draw()  # the mathtext renders


@pytest.mark.parametrize("style", ["CMS", "ATLAS", "ROOT", "cms"])
def test_styles_apply_to_the_plot_only(results: dict, style: str) -> None:
    before = dict(matplotlib.rcParams)
    fig = plot({"Z": results["Z"]}, data=results["data"], style=style, lumi=1.5)
    assert dict(matplotlib.rcParams) == before  # nothing leaks into the global settings
    # but the figure draws with the style's fonts (matplotlib looks them up when it draws), even saved later
    seen = []
    probe = matplotlib.artist.Artist()
    probe.draw = lambda renderer: seen.append(matplotlib.rcParams["font.sans-serif"][0])
    fig.add_artist(probe)
    fig.savefig(io.BytesIO(), format="png")
    assert seen == [getattr(mplhep.style, style.upper())["font.sans-serif"][0]]
    assert dict(matplotlib.rcParams) == before
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    if style.upper() in ("CMS", "ATLAS"):
        assert style.upper() in texts and "1.5" in texts and "Simulation" not in texts
    else:
        assert "CMS" not in texts and "ATLAS" not in texts


def test_experiment_label_says_simulation_without_data_and_none_with_text_none(results: dict) -> None:
    fig = plot(results["Z"], style="CMS", text="Preliminary")
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "CMS" in texts and "Simulation" in texts and "Preliminary" in texts
    assert fig.axes[0].get_title() == ""  # the experiment label replaces the title
    fig = plot(results["Z"], style="CMS", text=None)
    assert not fig.axes[0].texts and fig.axes[0].get_title() == "Z peak"


def test_2d_histogram_has_a_colour_bar_with_the_z_title(results: dict) -> None:
    h2 = results["h2"]
    fig = h2.plot()
    assert len(fig.axes) == 2  # the map and its colour bar
    main, colorbar = fig.axes
    np.testing.assert_allclose(np.asarray(main.collections[0].get_array()).reshape(8, 12), h2.values().T)
    assert colorbar.get_ylabel() == r"$N_{\mathrm{ev}}$"
    assert (main.get_xlabel(), main.get_ylabel()) == (r"$m_{\mu\mu}$", "$y_{1}$")


def test_draws_into_given_axes(results: dict) -> None:
    fig, axes = plt.subplots(2, 1)  # a numpy array of (main, ratio)
    assert plot(results["Z"], data=results["data"], ax=axes) is fig
    assert axes[0].patches and axes[1].containers and axes[1].get_ylabel() == "Data / MC"
    fig, ax = plt.subplots()
    assert plot(results["Z"], data=results["data"], ax=ax) is fig and len(fig.axes) == 1  # no room: no ratio
    with pytest.raises(PlotError, match=r"ax=\(main, ratio\)"):
        plot(results["Z"], data=results["data"], ax=ax, ratio=True)


def test_errors_name_the_problem(results: dict) -> None:
    z, data = results["Z"], results["data"]
    coarse = data[:: hist.rebin(2)]
    unnamed = hist.Hist(hist.axis.Regular(6, 60.0, 120.0)).fill([70.0, 90.0])
    with pytest.raises(PlotError, match="histogram 2 has 6 bins on \\[60, 120\\] but 'Z' has 12 bins"):
        plot({"Z": z}, unnamed, stack=True)
    with pytest.raises(ValueError, match="data has 6 bins.*same binning"):
        plot({"Z": z}, data=coarse)
    with pytest.raises(PlotError, match="unknown style 'CSM'; use one of CMS, ATLAS, ROOT.*did you mean 'CMS'"):
        plot(z, style="CSM")
    with pytest.raises(PlotError, match="cannot mix 1D and 2D"):
        plot(z, results["h2"])
    with pytest.raises(PlotError, match="ratio=True needs data="):
        plot(z, ratio=True)
    with pytest.raises(PlotError, match="one MC prediction"):
        plot(z, results["top"], data=data)
    with pytest.raises(TypeError, match="histogram 1 is a ndarray, not a histogram"):
        plot(np.zeros(3))
    with pytest.raises(PlotError, match="1 labels for 2 histograms"):
        plot(z, data, labels=["a"])


def test_yield_plot_stacks_the_model_with_data_and_ratio(monkeypatch, tmp_path) -> None:
    figures = []
    monkeypatch.setattr(stats, "_save", lambda figure, path: figures.append(figure))
    model = stats.Model(poi="mu")
    region = model.channel("SR")
    region.sample("signal", np.array([5.0, 10.0, 5.0])).normfactor("mu")
    region.sample("background", np.array([50.0, 40.0, 30.0]))
    region.data(np.array([60.0, 45.0, 35.0]))
    stats.plot_yields(model, "SR", tmp_path / "prefit.png")
    main, ratio = figures[0].axes
    np.testing.assert_allclose(_patch(main, "background").get_data().values, [55.0, 50.0, 35.0])
    np.testing.assert_allclose(_errorbar(ratio)[0], np.array([60.0, 45.0, 35.0]) / [55.0, 50.0, 35.0])
    assert main.get_title() == "SR: pre-fit"


def test_import_hepframe_does_not_import_matplotlib() -> None:
    code = "import sys, hepframe; hepframe.plot; print(sorted(m for m in sys.modules if m.startswith(('matplotlib', 'mplhep'))))"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"
