"""ROOT titles' TLatex as matplotlib mathtext (hepframe.latex), on Draw() and plot()."""

from __future__ import annotations

import matplotlib
import pytest
from hypothesis import given
from hypothesis import strategies as st

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.mathtext import MathTextParser  # noqa: E402

import hepframe.ROOT as ROOT  # noqa: E402
from hepframe.latex import to_mathtext  # noqa: E402


@pytest.mark.parametrize(("tlatex", "mathtext"), [
    ("m_{#mu#mu} (GeV)", r"$m_{\mu\mu}$ (GeV)"),
    ("t#bar{t} #rightarrow l+jets", r"$t\bar{t}$ $\rightarrow$ l+jets"),
    ("p_{T} [GeV]", "$p_{T}$ [GeV]"),
    ("E^{miss}_{T}", r"$E^{\mathrm{miss}}_{T}$"),
    ("#sqrt{s} = 13 TeV", r"$\sqrt{s}$ = 13 TeV"),
    ("H#rightarrowZZ", r"$H\rightarrow \mathrm{ZZ}$"),
    ("#Upsilon(1S)", r"$\Upsilon(1S)$"),
    ("#it{p}_{T}", r"$\mathit{p}_{T}$"),
    ("#font[12]{x} #color[2]{y}", "{x} {y}"),
    ("Events", "Events"),
    ("costs $5", r"costs \$5"),
    ("m_{#mu", "m_{#mu"),  # unbalanced: left as it is, which matplotlib draws as text
    ("Z peak;m_{#mu#mu};Events", r"Z peak;$m_{\mu\mu}$;Events"),
])  # fmt: skip
def test_tlatex_becomes_mathtext(tlatex: str, mathtext: str) -> None:
    assert to_mathtext(tlatex) == mathtext


@given(st.text(alphabet="#_^{}$ abmuxTpi()[]0129", max_size=24))
def test_any_title_gives_text_that_matplotlib_draws(title: str) -> None:
    out = to_mathtext(title)
    for word in out.split(" "):
        if word.startswith("$") and word.endswith("$") and len(word) > 1:
            MathTextParser("path").parse(word)  # raises on invalid mathtext


def test_draw_and_plot_put_roots_titles_on_the_axes() -> None:
    h = ROOT.RDataFrame(100).Define("x", "rdfentry_ * 1.0").Histo1D(
        ("h", "Z peak;m_{#mu#mu} (GeV);Events", 10, 0.0, 100.0), "x").GetValue()  # fmt: skip
    h.Draw()
    ax = plt.gca()
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Z peak", r"$m_{\mu\mu}$ (GeV)", "Events")
    fig, ax = plt.subplots()
    h.plot(ax=ax)
    assert ax.get_xlabel() == r"$m_{\mu\mu}$ (GeV)" and ax.get_title() == "Z peak"
    fig.canvas.draw()  # the mathtext renders
    assert h.GetXaxis().GetTitle() == "m_{#mu#mu} (GeV)"  # ROOT's own title is kept
    plt.close("all")
