"""Histogram filling in one compiled pass: ROOT 6.40's TAxis::FindFixBin plus the bin sums."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _fill_regular(x, w, weighted, nbins, lo, hi, sumw, sumw2):  # pragma: no cover - compiled
    width = (hi - lo) / nbins
    for i in range(len(x)):
        v = np.float64(x[i])  # TH1::Fill(double)
        if v < lo:
            b = 0
        elif not (v < hi):  # overflow, NaN included
            b = nbins + 1
        else:
            b = 1 + int(nbins * (v - lo) / (hi - lo))
            # TAxis::FindFixBin's correction against GetBinLowEdge / GetBinUpEdge (ROOT >= 6.36)
            if v < lo + (b - 1) * width:
                b -= 1
            elif not (v < lo + b * width):
                b += 1
        wi = np.float64(w[i]) if weighted else 1.0
        sumw[b] += wi
        sumw2[b] += wi * wi


def fill_regular(x: np.ndarray, weights: np.ndarray | None, nbins: int, lo: float, hi: float,
                 sumw: np.ndarray, sumw2: np.ndarray) -> None:  # fmt: skip
    """Add ``x`` (optionally weighted) to ROOT-ordered ``sumw``/``sumw2`` arrays of ``nbins + 2`` bins."""
    w = np.zeros(1) if weights is None else weights
    _fill_regular(np.ascontiguousarray(x), np.ascontiguousarray(w), weights is not None, int(nbins),
                  float(lo), float(hi), sumw, sumw2)  # fmt: skip
