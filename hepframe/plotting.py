r"""HEP plots of histogram results with mplhep: overlays, stacked samples with data and a ratio panel, 2D maps.

:func:`plot` (also ``hepframe.plot`` and ``h.plot()`` on every histogram result) draws 1D results,
``hist.Hist`` objects or a ``{"sample": histogram}`` mapping; ``stack=True`` stacks them; ``data=``
adds data points with a data/MC ratio panel underneath; a 2D histogram gets a colour bar. Axis
titles follow ROOT's ``"title;x;y;z"`` convention, their TLatex (``#mu``, ``_{T}``) translated to
matplotlib mathtext. ``style="CMS"``, ``"ATLAS"`` or ``"ROOT"`` applies mplhep's style for this plot
only (matplotlib's global settings are left as they were) and draws the experiment's label.

matplotlib and mplhep are imported on the first plot, never by ``import hepframe``; the backend
is matplotlib's choice (Agg where there is no display).

>>> import hist, numpy as np
>>> import hepframe
>>> def sample(mean):
...     h = hist.Hist(hist.axis.Regular(20, 60, 120), storage=hist.storage.Weight())
...     return h.fill(np.random.default_rng(1).normal(mean, 10, 1000))
>>> fig = hepframe.plot({"Z": sample(91), "top": sample(80)}, data=sample(88), stack=True,
...                     title=";m_{#mu#mu} (GeV);Events", style="CMS", lumi=1.2)
>>> [ax.get_xlabel() for ax in fig.axes]
['', '$m_{\\mu\\mu}$ (GeV)']
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from hepframe.errors import HepframeError, did_you_mean

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: The styles ``style=`` accepts (mplhep's); CMS and ATLAS also draw the experiment's label.
STYLES = ("CMS", "ATLAS", "ROOT")


class PlotError(HepframeError, ValueError):
    """Histograms or options that cannot be drawn together (binning, dimensions, style)."""


def plot(*hists: Any, stack: bool = False, data: Any = None, labels: str | Sequence[str] | None = None,
         style: str | None = None, ratio: bool | None = None, ax: Any = None, title: str | None = None,
         density: bool = False, text: str | None = "", lumi: float | str | None = None, **kwargs: Any) -> Figure:
    r"""Plot histograms with mplhep; returns the matplotlib Figure.

    Parameters
    ----------
    *hists
        1D or 2D histograms: results (``ResultPtr`` or their values), ``hist.Hist`` objects, or a
        mapping ``{"label": histogram}`` of samples. One 2D histogram is drawn alone, with a colour bar.
    stack
        Stack the histograms (filled) instead of overlaying them (lines); they need the same binning.
    data
        A 1D histogram drawn as black points with ``sqrt(sumw2)`` errors (``sqrt(N)`` unweighted).
    labels
        Legend labels, one per histogram; default the mapping's keys or the histograms' names.
    style
        ``"CMS"``, ``"ATLAS"``, ``"ROOT"`` (mplhep's styles, for this plot only) or None (matplotlib's).
    ratio
        A data/MC panel underneath, with the MC statistical uncertainty as a hatched band; default
        True when ``data`` is given (and ``ax`` is not a single Axes). MC is the sum of the histograms.
    ax
        An Axes to draw into, or a pair ``(main, ratio)``; default a new figure.
    title
        ROOT's ``"title;x title;y title;z title"`` (TLatex); non-empty parts replace the first histogram's.
    density
        Scale to unit area (the stack as a whole; data on its own), to compare shapes.
    text, lumi
        The experiment label's text after "CMS"/"ATLAS" (e.g. ``"Preliminary"``; ``None``: no label)
        and luminosity in fb$^{-1}$; "Simulation" is added when no ``data`` is given (mplhep's rule).
        With a label, the plot title is not drawn (the label takes its place).
    **kwargs
        Passed to ``mplhep.histplot`` (1D, e.g. ``histtype``, ``color``) or ``mplhep.hist2dplot`` (2D).

    Returns
    -------
    matplotlib.figure.Figure
        ``fig.axes[0]`` is the main panel; then the ratio panel or the colour bar, when drawn.
        In a notebook, end the line with ``;`` (or assign it) so that the figure is shown once.

    Raises
    ------
    PlotError
        For an unknown style, mixed 1D and 2D histograms, or binning that differs between stacked
        samples and data (a ``ValueError`` too).

    """
    import matplotlib.pyplot as plt

    if "label" in kwargs:  # hist's and mplhep's spelling for one histogram
        labels = kwargs.pop("label")
    samples = _samples(hists, labels)
    if data is not None:
        data = _value(data, "data")
    _check_dimensions(samples, data, stack)
    style_rc, experiment = _style(style)
    two_axes = isinstance(ax, Sequence | np.ndarray)  # (main, ratio), also as plt.subplots(2) gives them
    if ratio is None:
        ratio = data is not None and bool(samples) and (ax is None or two_axes)
    if ratio:
        _check_ratio(samples, data, stack, ax, two_axes)
    if stack or ratio:
        _check_binning(samples, data)
    if density:
        samples, data = _unit_area(samples, stack), (None if data is None else _unit_area([("data", data)], True)[0][1])

    with plt.style.context(style_rc) if style_rc else contextlib.nullcontext():
        if two_axes:
            main, lower = ax
        elif ax is not None:
            main, lower = ax, None
        elif ratio:
            width, height = plt.rcParams["figure.figsize"]
            # sharex hides the main panel's tick labels with tick_params (a shared formatter would hide both)
            figure, (main, lower) = plt.subplots(2, 1, sharex=True, height_ratios=(3, 1),
                                                 figsize=(width, 1.25 * height), gridspec_kw={"hspace": 0.08})  # fmt: skip
        else:
            figure, main = plt.subplots()
            lower = None
        if ax is None and style_rc:
            figure.draw = _StyledDraw(figure, style_rc)  # type: ignore[method-assign]
        first = samples[0][1] if samples else data
        if first.ndim == 2:
            colorbar = _draw_2d(main, first, kwargs)
        else:
            colorbar = None
            labelled = labels is not None or any(isinstance(h, Mapping) for h in hists)
            _draw_1d(main, lower if ratio else None, samples, data, stack, labelled, kwargs)
        label_axes(main, first, title, bottom=lower if ratio else main, colorbar=colorbar,
                   with_title=experiment is None or text is None)  # fmt: skip
        if experiment is not None and text is not None:
            experiment.label(text=text, data=data is not None, lumi=lumi, ax=main)
    return main.get_figure()


class _StyledDraw:
    """``Figure.draw`` under the plot's style, for a figure :func:`plot` made.

    matplotlib looks fonts up (``font.sans-serif``, mathtext's) when it draws, not when text is
    added: without this, a figure saved after the style's context has ended loses its fonts.
    """

    def __init__(self, figure: Any, rc: dict) -> None:
        self.figure, self.rc = figure, rc

    def __call__(self, renderer: Any) -> None:
        import matplotlib

        with matplotlib.rc_context(self.rc):
            type(self.figure).draw(self.figure, renderer)


def label_axes(ax: Axes, h: Any, title: str | None = None, *, bottom: Axes | None = None,
               colorbar: Any = None, with_title: bool = True) -> None:  # fmt: skip
    """Put ``h``'s title and axis titles on ``ax`` (x title on ``bottom``, z title on the ``colorbar``).

    ROOT results' titles are TLatex (translated to mathtext); a plain ``hist.Hist`` gives its axis
    labels as they are. Non-empty parts of ``title`` (ROOT's ``"title;x;y;z"``) replace them.
    """
    from hepframe.latex import to_mathtext

    parts = _titles(h)
    for i, part in enumerate((title or "").split(";")[:4]):
        if part:
            parts[i] = to_mathtext(part)
    if with_title:
        ax.set_title(parts[0])
    if bottom is not None and bottom is not ax:
        ax.set_xlabel("")  # the x title goes under the lower panel only
    if parts[1]:
        (bottom or ax).set_xlabel(parts[1])
    if parts[2]:
        ax.set_ylabel(parts[2])
    if parts[3] and colorbar is not None:
        colorbar.set_label(parts[3])


def _titles(h: Any) -> list[str]:
    """Title, x, y and z titles of ``h`` as matplotlib text ("" where it has none)."""
    from hepframe.latex import to_mathtext

    out = ["", *(getattr(a, "label", "") or "" for a in h.axes), "", "", ""][:4]
    if hasattr(h, "GetXaxis"):  # a ROOT-style result: TLatex titles, the axis label where a title is empty
        root = [h.GetTitle(), h.GetXaxis().GetTitle(), h.GetYaxis().GetTitle(), h.GetZaxis().GetTitle()]
        out = [to_mathtext(t) if t else o for t, o in zip(root, out, strict=True)]
    return out


def _value(h: Any, what: str) -> Any:
    """The histogram of ``h`` (a ResultPtr's value); a TypeError naming ``what`` for anything else."""
    from hepframe.dataframe import ResultPtr

    if isinstance(h, ResultPtr):
        h = h.GetValue()
    if not (hasattr(h, "axes") and hasattr(h, "values") and hasattr(h, "kind")):
        raise TypeError(f"plot: {what} is a {type(h).__name__}, not a histogram (a result of Histo1D/2D or a hist.Hist)")
    return h


def _samples(hists: Sequence[Any], labels: str | Sequence[str] | None) -> list[tuple[str | None, Any]]:
    """(label, histogram) for each histogram, a mapping giving its keys as labels."""
    out: list[tuple[str | None, Any]] = []
    for i, h in enumerate(hists):
        if isinstance(h, Mapping):
            out += [(str(k), _value(v, f"sample {k!r}")) for k, v in h.items()]
        elif isinstance(h, list | tuple):  # mplhep's spelling of several histograms
            out += _samples(h, None)
        else:
            h = _value(h, f"histogram {i + 1}")
            out.append((getattr(h, "name", None) or None, h))
    if labels is not None:
        names = [labels] if isinstance(labels, str) else list(labels)
        if len(names) != len(out):
            raise PlotError(f"plot: {len(names)} labels for {len(out)} histograms")
        out = [(n, h) for n, (_, h) in zip(names, out, strict=True)]
    return [(_legend_text(n), h) for n, h in out]


def _legend_text(label: str | None) -> str | None:
    """A legend label in TLatex (``"t#bar{t}"``, ``"p_{T} > 20"``) as mathtext; others as they are.

    Only ``#`` or a braced ``_{``/``^{`` mark TLatex: a sample named ``ttbar_semilep`` keeps its
    underscore, and a label with ``$`` is mathtext already.
    """
    from hepframe.latex import to_mathtext

    if label and "$" not in label and ("#" in label or "_{" in label or "^{" in label):
        return to_mathtext(label)
    return label


def _check_dimensions(samples: list[tuple[str | None, Any]], data: Any, stack: bool) -> None:
    hists = [h for _, h in samples] + ([data] if data is not None else [])
    if not hists:
        raise PlotError("plot: nothing to draw; give histograms or data=")
    dims = {h.ndim for h in hists}
    if not dims <= {1, 2}:
        raise PlotError(f"plot: {max(dims)}D histograms cannot be drawn; project them to 1D or 2D first")
    if dims == {1, 2}:
        raise PlotError("plot: cannot mix 1D and 2D histograms in one plot")
    if 2 in dims and (len(hists) > 1 or stack):
        raise PlotError("plot: a 2D histogram is drawn alone (no stack, overlay or data)")
    if data is not None and data.kind != "COUNT":
        raise PlotError("plot: data= must be a counting histogram, not a profile")
    if stack and any(h.kind != "COUNT" for _, h in samples):
        raise PlotError("plot: profiles cannot be stacked")


def _check_ratio(samples: list, data: Any, stack: bool, ax: Any, two_axes: bool) -> None:
    if data is None or not samples:
        raise PlotError("plot: ratio=True needs data= and at least one MC histogram")
    if len(samples) > 1 and not stack:
        raise PlotError("plot: the ratio is data over one MC prediction: stack=True, or give one histogram")
    if ax is not None and not two_axes:
        raise PlotError("plot: a ratio panel needs two axes: ax=(main, ratio), or ratio=False")


def _check_binning(samples: list[tuple[str | None, Any]], data: Any) -> None:
    """Stacked samples and data share their edges; a PlotError names the first pair that differs."""
    named = [(repr(name) if name else f"histogram {i + 1}", np.asarray(h.axes[0].edges))
             for i, (name, h) in enumerate(samples)]  # fmt: skip
    if data is not None:
        named.append(("data", np.asarray(data.axes[0].edges)))
    ref_name, ref = named[0]
    for name, edges in named[1:]:
        if edges.shape != ref.shape or not np.allclose(edges, ref, rtol=1e-9, atol=0):
            raise PlotError(f"plot: {_binning(name, edges)} but {_binning(ref_name, ref)}; stacked samples "
                            "and data need the same binning (rebin with h[::hist.rebin(n)])")  # fmt: skip


def _binning(name: str, edges: np.ndarray) -> str:
    return f"{name} has {len(edges) - 1} bins on [{edges[0]:g}, {edges[-1]:g}]"


def _unit_area(samples: list[tuple[str | None, Any]], together: bool) -> list[tuple[str | None, Any]]:
    """The histograms scaled to unit area: all by one factor (a stack) when ``together``, else each."""

    def area(h: Any) -> float:
        volumes = functools.reduce(np.multiply, np.ix_(*(np.diff(a.edges) for a in h.axes)))
        return float(np.sum(h.values() * volumes))

    areas = [area(h) for _, h in samples]
    if together:
        areas = [sum(areas)] * len(areas)
    return [(n, h * (1 / a) if a else h) for (n, h), a in zip(samples, areas, strict=True)]


def _style(name: str | None) -> tuple[dict | None, Any]:
    """The rc settings of mplhep's style ``name`` and its experiment module (for the label), or Nones."""
    if name is None:
        return None, None
    known = {s.lower(): s for s in STYLES}
    if not isinstance(name, str) or name.lower() not in known:
        raise PlotError(f"plot: unknown style {name!r}; use one of {', '.join(STYLES)} or None"
                        + did_you_mean(str(name), STYLES))  # fmt: skip
    import mplhep

    canonical = known[name.lower()]
    experiment = None if canonical == "ROOT" else getattr(mplhep, canonical.lower())  # mplhep.cms, mplhep.atlas
    return getattr(mplhep.style, canonical), experiment


def _errors(h: Any) -> np.ndarray:
    """sqrt(sumw2) per bin (sqrt(N) for unweighted fills)."""
    variances = h.variances()
    return np.sqrt(h.values() if variances is None else variances)


def _draw_1d(main: Axes, lower: Axes | None, samples: list, data: Any, stack: bool, labelled: bool,
             kwargs: dict) -> None:  # fmt: skip
    """Overlaid or stacked histograms, data, the ratio panel; a legend for several entries, or given labels."""
    import mplhep

    names = [n for n, _ in samples]
    hists = [h for _, h in samples]
    if stack and hists:
        kwargs.setdefault("histtype", "fill")
        mplhep.histplot(hists, stack=True, label=names, ax=main, **kwargs)
    else:
        for name, h in samples:  # one call each: overlays may have different binnings
            mplhep.histplot(h, label=name, ax=main, **kwargs)
    if data is not None:
        mplhep.histplot(data, histtype="errorbar", yerr=_errors(data), color="black", label="Data", ax=main)
    if lower is not None:
        total = functools.reduce(operator.add, hists)
        if stack and np.any(_errors(total) > 0):
            mplhep.histplot(total, histtype="band", label="MC stat. unc.", ax=main)
        # data / MC with data's errors, MC's relative errors as a hatched band around 1
        mplhep.comp.comparison(data, total, ax=lower, comparison="split_ratio", h1_label="Data", h2_label="MC",
                               h1_w2method="sqrt")  # fmt: skip
        lower.set_ylabel("Data / MC")
    if sum(1 for n in names if n) + (data is not None) > (0 if labelled else 1):
        main.legend()


def _draw_2d(main: Axes, h: Any, kwargs: dict) -> Any:
    """hist2dplot with a colour bar; returns the colour bar (None with ``cbar=False``)."""
    import mplhep

    return mplhep.hist2dplot(h, ax=main, **kwargs).cbar
