"""TProfile / TProfile2D filling in one compiled pass, value by value as ROOT 6.40 fills them.

``TProfile::Fill(x, y, w)`` and ``TProfile2D::Fill(x, y, z, w)`` (hist/hist/src/TProfile.cxx,
TProfile2D.cxx) do, for each call in order:

1. when the profile has a value range (``fYmin != fYmax``, ``fZmin != fZmax`` for 2D), return
   for a value outside ``[min, max]`` or NaN, before anything is counted;
2. ``fEntries++``; the bin from ``TAxis::FindBin`` (here as ``FindFixBin``: the axes of an
   RDataFrame profile cannot extend), flows included;
3. ``fArray[bin] += w*v``, ``fSumw2[bin] += w*v*v``, then ``Sumw2()`` at the first weight
   ``!= 1`` (it copies ``fBinEntries`` into a new ``fBinSumw2``), ``fBinSumw2[bin] += w*w``
   once it exists, and ``fBinEntries[bin] += w``;
4. for an in-range bin only (x, and y for 2D), the statistics ``fTsumw``, ``fTsumw2``,
   ``fTsumwx``, ``fTsumwx2``, ``fTsumwy``, ``fTsumwy2`` (2D: also ``fTsumwxy``, ``fTsumwz``,
   ``fTsumwz2``), in ``GetStats`` order.

The unweighted ``Fill(x, y)`` is the same with ``w = 1``: ``1*v == v`` and ``1*x*x == x*x``
exactly, and ``fBinSumw2`` never starts. ``w*w`` is summed per bin from the first fill on: all
weights before the first ``w != 1`` are exactly 1, so the sum equals the ``fBinEntries`` that
``Sumw2()`` copies, and ``active`` says whether ROOT would have ``fBinSumw2`` (it changes
``GetBinEffectiveEntries`` and ``GetStats``). Every sum is one double addition at a time in fill
order, so a state continued batch by batch in entry order gives ROOT's numbers bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np
from hepframe.udfs import _numba_cache  # noqa: F401 - the numba cache directory (hepframe.udfs sets it first too)
from hepframe.udfs.histogram import fix_bin

# state: [fEntries, fBinSumw2 exists (0 or 1)]
STATE_SIZE = 2
# GetStats layout: TProfile sumw, sumw2, sumwx, sumwx2, sumwy, sumwy2; TProfile2D adds sumwxy, sumwz, sumwz2
STATS_SIZE = {1: 6, 2: 9}


@numba.njit(cache=True, nogil=True)
def _find_bin(v, nbins, lo, hi, edges, variable):  # pragma: no cover - compiled
    """TAxis::FindFixBin of ROOT 6.40, fixed (udfs/histogram.py) or variable bins."""
    if v < lo:
        return 0
    if not (v < hi):  # overflow, NaN included
        return nbins + 1
    if variable:  # 1 + TMath::BinarySearch: lower edges inclusive
        return np.searchsorted(edges[: nbins + 1], v, side="right")
    return fix_bin(v, nbins, lo, hi)


@numba.njit(cache=True, nogil=True)
def _fill(coords, values, w, weighted, vrange, nbins, limits, edges, variable, sums, state, stats):  # pragma: no cover
    ndim = coords.shape[0]
    vmin, vmax = vrange[0], vrange[1]
    check = vmin != vmax  # fYmin != fYmax: ROOT's test for "a value range was given"
    sum_wv, sum_wv2, sum_w, sum_w2 = sums[0], sums[1], sums[2], sums[3]
    entries = state[0]
    active = state[1] != 0.0
    nx = nbins[0]
    ny = nbins[1] if ndim > 1 else 0
    for i in range(len(values)):
        v = values[i]
        if check and (v < vmin or v > vmax or np.isnan(v)):
            continue  # before fEntries++
        u = w[i] if weighted else 1.0
        entries += 1.0
        x = coords[0, i]
        bx = _find_bin(x, nx, limits[0, 0], limits[0, 1], edges[0], variable[0])
        inside = 0 < bx <= nx
        b = bx
        y = 0.0
        if ndim > 1:
            y = coords[1, i]
            by = _find_bin(y, ny, limits[1, 0], limits[1, 1], edges[1], variable[1])
            inside = inside and 0 < by <= ny
            b = by * (nx + 2) + bx  # TH1::GetBin
        sum_wv[b] += u * v  # AddBinContent(bin, u*y)
        sum_wv2[b] += u * v * v
        if u != 1.0:
            active = True  # Sumw2(): fBinSumw2 starts as fBinEntries, which sum_w2 equals so far
        sum_w2[b] += u * u
        sum_w[b] += u
        if not inside:
            continue  # flows do not enter the statistics (GetStatOverflowsBehaviour() is false)
        stats[0] += u
        stats[1] += u * u
        stats[2] += u * x
        stats[3] += u * x * x
        if ndim == 1:
            stats[4] += u * v
            stats[5] += u * v * v
        else:
            stats[4] += u * y
            stats[5] += u * y * y
            stats[6] += u * x * y
            stats[7] += u * v
            stats[8] += u * v * v
    state[0] = entries
    state[1] = 1.0 if active else 0.0


def fill_profile(coords: list[np.ndarray], values: np.ndarray, weights: np.ndarray | None,
                 value_range: tuple[float, float], axes: list[tuple[int, float, float, tuple[float, ...] | None]],
                 sums: np.ndarray, state: np.ndarray, stats: np.ndarray) -> None:  # fmt: skip
    """Continue a TProfile (one coordinate) or TProfile2D (two) with the fills given, in order.

    ``axes`` holds ``(nbins, low, high, edges or None)`` per coordinate. ``sums`` (4 x cells,
    C-contiguous doubles) holds ROOT's ``fArray`` (sum of w*v), ``fSumw2`` (w*v*v),
    ``fBinEntries`` (w) and the sum of w*w (``fBinSumw2``), one column per global bin
    ``bx + (nx + 2) * by``, flows included. ``state`` is ``[fEntries, fBinSumw2 exists]`` and
    ``stats`` the ``GetStats`` array (at least 6 or 9 doubles). Values are converted to double
    first, as the call ``Fill(Double_t, ...)`` converts them.
    """
    ndim = len(coords)
    if ndim not in (1, 2) or len(axes) != ndim or len(stats) < STATS_SIZE[ndim]:
        raise ValueError(f"a profile has 1 or 2 coordinates with their axes, got {ndim} and {len(axes)} axes")
    xy = np.empty((ndim, len(values)), dtype=np.float64)
    for k, c in enumerate(coords):
        xy[k] = np.asarray(c, dtype=np.float64)
    edges = np.zeros((ndim, max(a[0] for a in axes) + 1))
    for k, (nb, _, _, e) in enumerate(axes):
        if e is not None:
            edges[k, : nb + 1] = e
    w = np.zeros(1) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    _fill(xy, np.ascontiguousarray(values, dtype=np.float64), w, weights is not None,
          np.array(value_range, dtype=np.float64), np.array([a[0] for a in axes], dtype=np.int64),
          np.array([(a[1], a[2]) for a in axes], dtype=np.float64), edges, np.array([a[3] is not None for a in axes]),
          sums, state, stats)  # fmt: skip
