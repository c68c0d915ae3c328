"""Histogram filling in one compiled pass: ROOT 6.40's TAxis::FindFixBin plus the bin sums.

The kernels also keep TH1's stored statistics (``fTsumw``, ``fTsumw2``, ``fTsumwx``,
``fTsumwx2`` and, for TH2/TH3, the y/z/cross terms) exactly as ``TH1::Fill``/``TH2::Fill``/
``TH3::Fill`` do: one in-range fill at a time, in fill order, in double precision, so the sums
carry over from batch to batch bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def fix_bin(v, nbins, lo, hi):  # pragma: no cover - compiled
    """TAxis::FindFixBin of ROOT 6.40 for fixed bins: 0 underflow, nbins + 1 overflow (NaN included)."""
    if v < lo:
        return 0
    if not (v < hi):
        return nbins + 1
    width = (hi - lo) / nbins
    b = 1 + int(nbins * (v - lo) / (hi - lo))
    # the correction against GetBinLowEdge / GetBinUpEdge (ROOT >= 6.36)
    if v < lo + (b - 1) * width:
        b -= 1
    elif not (v < lo + b * width):
        b += 1
    return b


@numba.njit(cache=True, nogil=True)
def _fill_regular(x, w, weighted, nbins, lo, hi, sumw, sumw2, stats, inrange):  # pragma: no cover - compiled
    keep = len(inrange) > 0
    s0, s1, s2, s3 = stats[0], stats[1], stats[2], stats[3]
    for i in range(len(x)):
        v = np.float64(x[i])  # TH1::Fill(double)
        b = fix_bin(v, nbins, lo, hi)
        wi = np.float64(w[i]) if weighted else 1.0
        sumw[b] += wi
        sumw2[b] += wi * wi
        if 0 < b <= nbins:  # TH1::Fill: flows do not enter the statistics
            s0 += wi
            s1 += wi * wi
            s2 += wi * v
            s3 += wi * v * v
            if keep:
                inrange[i] = True
    stats[0], stats[1], stats[2], stats[3] = s0, s1, s2, s3


def fill_regular(x: np.ndarray, weights: np.ndarray | None, nbins: int, lo: float, hi: float,
                 sumw: np.ndarray, sumw2: np.ndarray, stats: np.ndarray | None = None,
                 inrange: np.ndarray | None = None) -> None:  # fmt: skip
    """Add ``x`` (optionally weighted) to ROOT-ordered ``sumw``/``sumw2`` arrays of ``nbins + 2`` bins.

    ``stats`` (at least 4 doubles) continues TH1's ``fTsumw, fTsumw2, fTsumwx, fTsumwx2``;
    ``inrange`` (booleans, zero-initialised, as long as ``x``) marks the fills inside the axis.
    """
    w = np.zeros(1) if weights is None else weights
    st = np.zeros(4) if stats is None else stats
    _fill_regular(np.ascontiguousarray(x), np.ascontiguousarray(w), weights is not None, int(nbins),
                  float(lo), float(hi), sumw, sumw2, st, np.zeros(0, np.bool_) if inrange is None else inrange)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _stats(coords, w, weighted, stats):  # pragma: no cover - compiled
    ndim = coords.shape[0]
    for i in range(coords.shape[1]):
        z = np.float64(w[i]) if weighted else 1.0
        x = coords[0, i]
        stats[0] += z
        stats[1] += z * z
        stats[2] += z * x
        stats[3] += z * x * x
        if ndim > 1:
            y = coords[1, i]
            stats[4] += z * y
            stats[5] += z * y * y
            stats[6] += z * x * y
            if ndim > 2:
                t = coords[2, i]
                stats[7] += z * t
                stats[8] += z * t * t
                stats[9] += z * x * t
                stats[10] += z * y * t


def stats_continue(coords: np.ndarray, weights: np.ndarray | None, stats: np.ndarray) -> None:
    """TH1/TH2/TH3::Fill's statistics for in-range fills ``coords`` (ndim x n doubles), in order.

    ``stats`` is ROOT's ``GetStats`` layout: sumw, sumw2, sumwx, sumwx2, sumwy, sumwy2, sumwxy,
    sumwz, sumwz2, sumwxz, sumwyz.
    """
    w = np.zeros(1) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    _stats(np.ascontiguousarray(coords, dtype=np.float64), w, weights is not None, stats)


@numba.njit(cache=True, nogil=True)
def _add_to_bins(index, w, weighted, sumw, sumw2):  # pragma: no cover - compiled
    for i in range(len(index)):
        wi = np.float64(w[i]) if weighted else 1.0
        sumw[index[i]] += wi
        sumw2[index[i]] += wi * wi


def add_to_bins(index: np.ndarray, weights: np.ndarray | None, sumw: np.ndarray, sumw2: np.ndarray) -> None:
    """``AddBinContent`` and ``fSumw2[bin] += w*w`` for each fill in order (flat, C-contiguous arrays)."""
    w = np.zeros(1) if weights is None else np.ascontiguousarray(weights)
    _add_to_bins(np.ascontiguousarray(index, dtype=np.int64), w, weights is not None, sumw.reshape(-1),
                 sumw2.reshape(-1))  # fmt: skip
