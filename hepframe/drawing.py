"""``h.Draw()`` and ``h.SaveAs(file)`` for histogram and profile results, with matplotlib/mplhep.

ROOT draws into a TCanvas; hepframe has no ROOT graphics, so ``Draw`` plots into matplotlib's
current axes (``mplhep.histplot`` for 1D, ``hist2dplot`` for 2D) and ``SaveAs`` writes an image
(png, pdf, svg, ...) or, for ``.root``, the histogram itself (with uproot), as ROOT's ``SaveAs`` does.
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
        import matplotlib

        if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
            matplotlib.use("Agg")  # batch mode, as ROOT.gROOT.SetBatch
        import matplotlib.pyplot as plt
        import mplhep

        if "same" not in option.lower():
            plt.figure()
        ndim = len(self.axes)  # type: ignore[attr-defined]
        if ndim == 1:
            return mplhep.histplot(self, label=self.GetName())  # type: ignore[attr-defined]
        if ndim == 2:
            return mplhep.hist2dplot(self)
        raise AnalysisError(f"Draw: {ndim}D histograms cannot be drawn; project them first")

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
