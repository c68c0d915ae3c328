"""ROOT's automatic axis range for ``Histo1D`` without limits (``Histo1D("x")``, ``(name, title, 128, 0, 0)``).

A single-threaded RDataFrame fills a ``TH1D`` whose axis has ``xlow >= xup``: ROOT 6.40 keeps the
first 1000 fills in the histogram's buffer (``TH1::BufferFill``), then picks "good" limits from
their finite minimum and maximum (``TH1::BufferEmpty`` -> ``THLimitsFinder::FindGoodLimits``:
10% margins, rounded to 1, 2 or 5 times a power of ten, plus 1% of the range), fills them, and
fills every later value directly. When ``xlow == xup`` RDataFrame also lets the axis extend: a
value outside doubles the range on that side until it fits (``TH1::FindNewAxisLimits``) and the
old bins are re-added at their centres (``TH1::ExtendAxis``; flow bins are dropped, as ROOT
warns). This module reproduces that sequence value by value, in entry order, so bin contents,
errors and the stored sums equal ROOT's. (ROOT's multi-threaded ``BufferedFillHelper`` picks the
raw minimum and maximum of all values instead; hepframe always gives the single-threaded result.)
"""

from __future__ import annotations

import math

import numba
import numpy as np
from hepframe.udfs.histogram import fix_bin

#: TH1::fgBufferSize: fills kept before the axis limits are chosen.
BUFFER_SIZE = 1000
_FLT_MAX = 3.4028234663852886e38


def _optimize(a1: float, a2: float, nold: int) -> tuple[float, float, float]:
    """THLimitsFinder::Optimize without its time-axis branches: (BinLow, BinHigh, BinWidth)."""
    al, ah = min(a1, a2), max(a1, a2)
    if al == ah:
        ah = al + 1
    ntemp = max(nold, 2)
    binlow = binhigh = binwidth = 0.0
    nbins = nold
    while True:  # ROOT's "L20": retried with one more division when 2 * nbins == nold
        awidth = (ah - al) / float(ntemp)
        if awidth >= _FLT_MAX or awidth <= 0:
            break
        jlog = int(math.log10(awidth))  # Int_t(): truncation toward zero
        if jlog < -200 or jlog > 200:
            return 0.0, 1.0, 0.01
        if awidth <= 1:
            jlog -= 1
        sigfig = awidth * math.pow(10, -jlog) - 1e-10  # ROOT subtracts 1e-10 against rounding
        if sigfig <= 1:
            siground = 1.0
        elif sigfig <= 2:
            siground = 2.0
        elif sigfig <= 5:
            siground = 5.0
        else:
            siground, jlog = 1.0, jlog + 1
        binwidth = siground * math.pow(10, jlog)
        alb = al / binwidth
        if abs(alb) > 1e9:
            return al, ah, binwidth
        lwid = int(alb) - (1 if alb < 0 else 0)
        binlow = binwidth * float(lwid)
        alb = ah / binwidth + 1.00001
        kwid = int(alb) - (1 if alb < 0 else 0)
        binhigh = binwidth * float(kwid)
        nbins = kwid - lwid
        if nold <= 5:  # one requested bin is the difficult case
            if not (nold > 1 or nbins == 1):
                binwidth *= 2
                nbins = 1
            break
        if 2 * nbins == nold:
            ntemp += 1
            continue
        break
    old = (binlow, binhigh)
    atest = binwidth * 0.0001
    if al - binlow >= atest:
        binlow += binwidth
    if binhigh - ah >= atest:
        binhigh -= binwidth
    if binlow >= binhigh:  # may happen for nbins <= 5
        binlow, binhigh = old
    return binlow, binhigh, binwidth


def good_limits(xmin: float, xmax: float, nbins: int) -> tuple[float, float]:
    """THLimitsFinder::FindGoodLimits (then OptimizeLimits) for data in [xmin, xmax]: the new axis range."""
    if xmin >= xmax:
        xmin, xmax = xmin - 1, xmax + 1
    dx = 0.1 * (xmax - xmin)
    umin, umax = xmin - dx, xmax + dx
    if umin < 0 and xmin >= 0:
        umin = 0.0
    if umax > 0 and xmax <= 0:
        umax = 0.0
    binlow, binhigh, binwidth = _optimize(umin, umax, nbins)
    if binwidth <= 0 or binwidth > 1e39:
        return -1.0, 1.0
    delta = 0.01 * (xmax - xmin)
    return min(binlow, xmin - delta), max(binhigh, xmax + delta)


@numba.njit(cache=True, nogil=True)
def _extend(v, nbins, lims, sumw, sumw2):  # pragma: no cover - compiled
    """TH1::ExtendAxis: double the range toward ``v``, re-add the old bins at their centres."""
    lo, hi = lims[0], lims[1]
    if lo >= hi:
        return
    new_lo, new_hi, span = lo, hi, hi - lo
    ntimes = 0
    while v < new_lo:  # TH1::FindNewAxisLimits
        if ntimes > 64:
            return
        ntimes += 1
        new_lo -= span
        span *= 2
    while v >= new_hi:
        if ntimes > 64:
            return
        ntimes += 1
        new_hi += span
        span *= 2
    old_w = sumw.copy()
    old_w2 = sumw2.copy()
    sumw[:] = 0.0
    sumw2[:] = 0.0
    width = (hi - lo) / nbins
    for b in range(1, nbins + 1):  # flow bins are lost, as ROOT warns
        if old_w[b] == 0:
            continue
        centre = lo + (b - 1) * width + 0.5 * width  # TAxis::GetBinCenter
        nb = fix_bin(centre, nbins, new_lo, new_hi)
        sumw[nb] += old_w[b]
        sumw2[nb] += old_w2[b]
    lims[0], lims[1] = new_lo, new_hi


@numba.njit(cache=True, nogil=True)
def _fill(x, w, weighted, nbins, lims, extend, sumw, sumw2, stats):  # pragma: no cover - compiled
    can_extend = extend
    for i in range(len(x)):
        v = np.float64(x[i])
        if can_extend and (v < lims[0] or not (v < lims[1])):  # TAxis::FindBin on an extendable axis
            if np.isnan(v):
                can_extend = False  # TH1::ExtendAxis: a NaN switches extension off
            else:
                _extend(v, nbins, lims, sumw, sumw2)
        b = fix_bin(v, nbins, lims[0], lims[1])
        wi = np.float64(w[i]) if weighted else 1.0
        sumw[b] += wi
        sumw2[b] += wi * wi
        if 0 < b <= nbins:  # TH1::Fill: flows do not enter the statistics
            stats[0] += wi
            stats[1] += wi * wi
            stats[2] += wi * v
            stats[3] += wi * v * v


def fill_auto(x: np.ndarray, weights: np.ndarray | None, nbins: int, extend: bool
              ) -> tuple[float, float, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Fill all values in entry order as ROOT does: ``(low, high, sumw, sumw2, stats)``.

    ``x`` holds every fill in order (RVec elements flattened); ``extend`` is RDataFrame's
    ``SetCanExtendAllAxes`` (set when the model's ``xlow == xup``). With no fill at all the axis
    stays ROOT's empty ``[0, 0)``; it is reported as ``[0, 1)`` because a hist axis needs a width.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    sumw = np.zeros(nbins + 2)
    sumw2 = np.zeros(nbins + 2)
    stats = np.zeros(4)
    if len(x) == 0:
        return 0.0, 1.0, sumw, sumw2, stats
    first = x[:BUFFER_SIZE]
    finite = first[np.isfinite(first)]
    lo, hi = good_limits(float(finite.min()), float(finite.max()), nbins) if len(finite) else (-1.0, 1.0)
    lims = np.array([lo, hi])
    w = np.zeros(1) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    _fill(x, w, weights is not None, nbins, lims, extend, sumw, sumw2, stats)
    return float(lims[0]), float(lims[1]), sumw, sumw2, stats
