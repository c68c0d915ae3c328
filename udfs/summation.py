"""RDataFrame's ``Sum``, ``Mean`` and ``StdDev`` actions, value by value as ROOT computes them.

ROOT adds one value at a time with Kahan compensation (``SumHelper::Exec``) and updates
Welford's running mean (``StdDevHelper::Exec``), per processing slot; ``Finalize`` then
combines the slots. Each kernel here continues the running state of one slot over a batch, so
the result does not depend on how the entries were cut into batches, and NaN and infinities
propagate as in ROOT (an ``inf`` followed by any value makes the compensation, then the sum, NaN).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _kahan(values, total, compensation):  # pragma: no cover - compiled
    for x in values:
        y = x - compensation
        t = total + y
        compensation = (t - total) - y
        total = t
    return total, compensation


def kahan_continue(values: np.ndarray, total: float, compensation: float) -> tuple[float, float]:
    """``SumHelper::Exec`` for each of ``values`` (converted to double) in order, from the state given."""
    total, compensation = _kahan(np.asarray(values, dtype=np.float64), total, compensation)
    return float(total), float(compensation)


def kahan_of_slots(sums: list[float]) -> float:
    """``SumHelper::Finalize``/``MeanHelper::Finalize``: the slots' sums added with a fresh compensation."""
    total, _ = _kahan(np.asarray(sums, dtype=np.float64), 0.0, 0.0)
    return float(total)


@numba.njit(cache=True, nogil=True)
def _welford(values, count, mean, distance):  # pragma: no cover - compiled
    for v in values:
        count += 1
        delta = v - mean
        mean = mean + delta / count
        delta2 = v - mean
        distance = distance + delta * delta2
    return count, mean, distance


def welford_continue(values: np.ndarray, count: int, mean: float, distance: float) -> tuple[int, float, float]:
    """``StdDevHelper::Exec`` for each of ``values`` in order, from the slot state given."""
    c, m, d = _welford(np.asarray(values, dtype=np.float64), np.uint64(count), mean, distance)
    return int(c), float(m), float(d)


def std_dev_of_slots(slots: list[tuple[int, float, float]]) -> float:
    """``StdDevHelper::Finalize`` over the slots' (count, mean, squared distance from the mean)."""
    total = 0.0
    for count, _, _ in slots:
        total += float(count)
    if total == 0 or total == 1:
        return 0.0
    overall = 0.0
    for count, mean, _ in slots:
        overall += float(count) * mean
    overall = overall / total
    variance = 0.0
    for count, mean, distance in slots:
        if count == 0:
            continue
        set_variance = distance / float(count)
        deviation = mean - overall
        variance += float(count) * (set_variance + deviation * deviation)
    variance = variance / (total - 1)
    return float(np.sqrt(variance))


@numba.njit(cache=True, nogil=True)
def _tstatistic(x, w, weighted, state):  # pragma: no cover - compiled
    n, sw, sw2, sm, sm2, lo, hi = state[0], state[1], state[2], state[3], state[4], state[5], state[6]
    for i in range(len(x)):
        val = np.float64(x[i])
        wi = np.float64(w[i]) if weighted else 1.0
        if wi == 0:
            continue
        n += 1
        tw = sw + wi
        sm += wi * val
        lo = val if val < lo else lo
        hi = val if val > hi else hi
        if tw == 0:  # ROOT warns "Sum of weights is zero" and drops the count (not the sum)
            n -= 1
            continue
        if sw != 0:
            rr = tw * val - sm
            sm2 += wi * rr * rr / (tw * sw)
        sw = tw
        sw2 += wi * wi
    state[0], state[1], state[2], state[3], state[4], state[5], state[6] = n, sw, sw2, sm, sm2, lo, hi


def tstatistic_continue(x: np.ndarray, weights: np.ndarray | None, state: np.ndarray) -> None:
    """``TStatistic::Fill(val, w)`` for each value in order, continuing ``state``.

    ``state`` holds ROOT's ``fN, fW, fW2, fM`` (the sum of w*x), ``fM2, fMin, fMax`` as doubles.
    """
    w = np.zeros(1) if weights is None else np.ascontiguousarray(weights, dtype=np.float64)
    _tstatistic(np.ascontiguousarray(x, dtype=np.float64), w, weights is not None, state)
