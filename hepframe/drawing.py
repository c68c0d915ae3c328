"""``h.Draw()`` and ``h.SaveAs(file)`` for histogram and profile results, with matplotlib/mplhep.

ROOT draws into a TCanvas; hepframe has no ROOT graphics, so ``Draw`` plots into matplotlib's
current axes (``mplhep.histplot`` for 1D, ``hist2dplot`` for 2D) and ``SaveAs`` writes an image
(png, pdf, svg, ...) or, for ``.root``, the histogram itself (with uproot), as ROOT's ``SaveAs`` does.
``h.plot(...)`` is :func:`hepframe.plotting.plot` (styles, stacks, data/MC ratios). matplotlib picks
its backend itself (Agg without a display), so a user's choice is never overridden.
"""

from __future__ import annotations

import os
from typing import Any

from hepframe.errors import AnalysisError

_IMAGE_FORMATS = {".png", ".pdf", ".svg", ".eps", ".ps", ".jpg", ".jpeg"}


class Drawable:
    """Mixin of RootHist and RootProfile (both ``hist.Hist`` subclasses)."""

    def Draw(self, option: str = "") -> Any:  # noqa: N802
        """Plot into matplotlib's current axes; ROOT's draw options other than "same" are not interpreted."""
        import matplotlib.pyplot as plt
        import mplhep

        if "same" not in option.lower():
            plt.figure()
        ndim = len(self.axes)  # type: ignore[attr-defined]
        if ndim == 1:
            artists = mplhep.histplot(self, label=self.GetName())  # type: ignore[attr-defined]
        elif ndim == 2:
            artists = mplhep.hist2dplot(self)
        else:
            raise AnalysisError(f"Draw: {ndim}D histograms cannot be drawn; project them first")
        self.label_axes(plt.gca())
        return artists

    def label_axes(self, ax: Any) -> None:
        """ROOT's title and axis titles on ``ax``, their TLatex (``#mu``, ``_{T}``) as mathtext."""
        from hepframe.plotting import label_axes

        label_axes(ax, self)

    def plot(self, *others: Any, **kwargs: Any) -> Any:
        """``hepframe.plot(self, *others, **kwargs)``: mplhep styles, stacks, data/MC ratios; returns the Figure.

        Examples
        --------
        >>> fig = h.plot(style="CMS", lumi=1.2)  # doctest: +SKIP
        >>> fig = mc.plot(data=data)  # with a data/MC ratio panel  # doctest: +SKIP

        """
        from hepframe.plotting import plot

        return plot(self, *others, **kwargs)

    DrawCopy = Draw  # noqa: N815

    def SaveAs(self, filename: str | os.PathLike, option: str = "") -> None:  # noqa: N802
        """Write an image of the histogram, or the histogram into a ``.root`` file (atomically)."""
        from hepframe.datasets import atomic_path

        path = os.fspath(filename)
        suffix = os.path.splitext(path)[1].lower()
        if suffix == ".root":
            import uproot

            with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
                f[self.GetName() or "h"] = self  # type: ignore[attr-defined]
            return
        if suffix not in _IMAGE_FORMATS:
            raise AnalysisError(f"SaveAs({path!r}): write .root or an image ({', '.join(sorted(_IMAGE_FORMATS))})")
        import matplotlib.pyplot as plt

        self.Draw()
        with atomic_path(path) as tmp:
            plt.savefig(tmp, format=suffix[1:].replace("jpg", "jpeg"))
        plt.close()
