"""``hist.Hist`` histograms that also answer ROOT's TH1/TH2/TH3 methods with ROOT's numbers.

``Histo1D``/``Histo2D``/``Histo3D`` return :class:`RootHist`: a ``hist.Hist`` (so ``mplhep``,
slicing and arithmetic work as usual) that also keeps what TH1 stores next to the bins: the
number of entries (every fill, flows included) and the running sums ``fTsumw``, ``fTsumw2``,
``fTsumwx``, ``fTsumwx2`` (TH2/TH3: also the y, z and cross terms) of the in-range fills, added
in fill order as ``TH1::Fill`` does. ``GetMean``/``GetStdDev`` and friends use those sums, so
they equal ROOT's bit for bit. When the bins change by other means (slicing, projections,
writing into the view, ``h / x``), the stored sums no longer describe the bins and the
statistics are recomputed from the bin centres, as ROOT does after ``SetBinContent``.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Literal

import hist
import numpy as np

from hepframe.drawing import Drawable
from hepframe.histograms import Axis1D

FLT_MAX = float(np.finfo(np.float32).max)
NSTAT = 11  # TH3's GetStats layout; TH1 uses 4 and TH2 7 of them
_MEAN_INDEX = {1: 2, 2: 4, 3: 7}


def _seq_sum(values, order: Literal["C", "F"] = "F") -> float:
    """Sum in order, one double addition at a time (as ROOT's loops; numpy's sum is pairwise)."""
    total = 0.0
    for v in np.asarray(values, dtype=np.float64).ravel(order=order).tolist():
        total += v
    return total


def _err2(variance: float) -> float:
    """``GetBinError(bin)`` squared, as ROOT's loops use it (the square root rounds)."""
    e = math.sqrt(variance) if variance >= 0 else math.nan
    return e * e


class _Stats:
    """TH1's stored statistics with a snapshot of the bins they describe."""

    __slots__ = ("entries", "stats", "values", "variances")

    def __init__(self, stats: np.ndarray, entries: float, values: np.ndarray, variances: np.ndarray) -> None:
        self.stats = np.array(stats, dtype=np.float64)
        self.entries = float(entries)
        self.values = np.array(values, dtype=np.float64)
        self.variances = np.array(variances, dtype=np.float64)

    def describes(self, values: np.ndarray, variances: np.ndarray) -> bool:
        return (self.values.shape == values.shape and np.array_equal(self.values, values, equal_nan=True)
                and np.array_equal(self.variances, variances, equal_nan=True))  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Stats):
            return NotImplemented
        return (self.entries == other.entries and np.array_equal(self.stats, other.stats, equal_nan=True)
                and self.describes(other.values, other.variances))  # fmt: skip

    __hash__ = None  # type: ignore[assignment]

    def __getstate__(self):
        return (self.stats, self.entries, self.values, self.variances)

    def __setstate__(self, state) -> None:
        self.stats, self.entries, self.values, self.variances = state


class StatsMoments:
    """TH1::GetMean/GetStdDev and their errors from ``GetStats()`` (TH1, TH2, TH3 and TProfile alike).

    Axes 1-3 are x, y, z; 11-13 are the errors of the mean and standard deviation, as in ROOT.
    Classes using it provide ``GetStats()`` and ``GetEffectiveEntries()``.
    """

    def GetStats(self) -> np.ndarray:  # noqa: N802
        raise NotImplementedError

    def GetEffectiveEntries(self) -> float:  # noqa: N802
        raise NotImplementedError

    def GetMean(self, axis: int = 1) -> float:  # noqa: N802
        if axis < 1 or 3 < axis < 11 or axis > 13:
            return 0.0
        s = self.GetStats()
        if s[0] == 0:
            return 0.0
        if axis < 4:
            return float(s[_MEAN_INDEX[axis]] / s[0])
        stddev = self.GetStdDev(axis - 10)
        neff = self.GetEffectiveEntries()
        return float(stddev / math.sqrt(neff)) if neff > 0 else 0.0

    def GetStdDev(self, axis: int = 1) -> float:  # noqa: N802
        if axis < 1 or 3 < axis < 11 or axis > 13:
            return 0.0
        s = self.GetStats()
        if s[0] == 0:
            return 0.0
        m = _MEAN_INDEX[axis % 10]
        x = s[m] / s[0]
        stddev2 = s[m + 1] / s[0] - x * x
        stddev2 = stddev2 if stddev2 >= 0.0 else 0.0  # TMath::Max(a, 0.): NaN gives 0, as in ROOT
        if axis < 10:
            return math.sqrt(stddev2)
        neff = self.GetEffectiveEntries()
        return math.sqrt(stddev2 / (2 * neff)) if neff > 0 else 0.0

    GetRMS = GetStdDev

    def GetMeanError(self, axis: int = 1) -> float:  # noqa: N802
        return self.GetMean(axis + 10)

    def GetStdDevError(self, axis: int = 1) -> float:  # noqa: N802
        return self.GetStdDev(axis + 10)

    GetRMSError = GetStdDevError


class TAxisView:
    """The TAxis accessors of one histogram axis (bins numbered as ROOT: 0 underflow, n+1 overflow)."""

    def __init__(self, axis: Axis1D, title: str = "") -> None:
        self.axis, self.title = axis, title

    def GetNbins(self) -> int:  # noqa: N802
        return self.axis.nbins

    def GetXmin(self) -> float:  # noqa: N802
        return self.axis.low

    def GetXmax(self) -> float:  # noqa: N802
        return self.axis.high

    def GetTitle(self) -> str:  # noqa: N802
        return self.title

    def GetBinWidth(self, i: int) -> float:  # noqa: N802
        a = self.axis
        if a.edges is None or not 0 < i <= a.nbins:
            return (a.high - a.low) / a.nbins
        return a.edges[i] - a.edges[i - 1]

    def GetBinLowEdge(self, i: int) -> float:  # noqa: N802
        a = self.axis
        if a.edges is not None and 0 < i <= a.nbins + 1:
            return a.edges[i - 1]
        return a.low + (i - 1) * ((a.high - a.low) / a.nbins)

    def GetBinUpEdge(self, i: int) -> float:  # noqa: N802
        a = self.axis
        if a.edges is not None and 0 < i <= a.nbins:
            return a.edges[i]
        return a.low + i * ((a.high - a.low) / a.nbins)

    def GetBinCenter(self, i: int) -> float:  # noqa: N802
        a = self.axis
        if a.edges is None or not 0 < i <= a.nbins:
            return a.low + (i - 0.5) * ((a.high - a.low) / a.nbins)
        return a.edges[i - 1] + 0.5 * (a.edges[i] - a.edges[i - 1])

    def FindBin(self, x: float) -> int:  # noqa: N802
        return int(self.axis.find_bin(np.asarray([x], dtype=np.float64))[0])

    FindFixBin = FindBin


class RootHist(StatsMoments, Drawable, hist.Hist, family=hist):
    """A ``hist.Hist`` with ROOT's TH1/TH2/TH3 accessors and stored statistics (see the module)."""

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_fill(cls, name: str, title: str, axes: list[Axis1D], sumw: np.ndarray, sumw2: np.ndarray,
                  stats: np.ndarray, entries: float) -> RootHist:  # fmt: skip
        """The result of a Histo1D/2D/3D: ``title`` follows ROOT's ``"title;x label;y label;z label"``."""
        parts = title.split(";")
        labels = [parts[i + 1] if len(parts) > i + 1 else "" for i in range(max(3, len(axes)))]
        hist_axes: list[Any] = []
        defaults = ["xyz"[i] if i < 3 else f"x{i}" for i in range(len(axes))]
        names = [a.name or d for a, d in zip(axes, defaults, strict=True)]
        if len(set(names)) < len(names):  # hist needs distinct axis names (e.g. axes named after the histogram)
            names = defaults
        for i, a in enumerate(axes):
            ax_name = names[i]
            label = labels[i] or ax_name
            if a.edges is None:
                hist_axes.append(hist.axis.Regular(a.nbins, a.low, a.high, name=ax_name, label=label))
            else:
                hist_axes.append(hist.axis.Variable(list(a.edges), name=ax_name, label=label))
        h = cls(*hist_axes, storage=hist.storage.Weight(), name=name, label=parts[0] or name)
        view: Any = h.view(flow=True)
        view["value"] = sumw
        view["variance"] = sumw2
        h.metadata = {"entries": int(entries), "title": title}
        h.__dict__["@th_axes"] = tuple(axes)
        h.__dict__["@th_title"] = parts[0]
        h.__dict__["@th_labels"] = tuple(labels)
        h._th_store(stats, entries)
        return h

    # -- stored statistics ---------------------------------------------------------------
    def _th_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        view: Any = self.view(flow=True)
        try:
            return np.asarray(view["value"], dtype=np.float64), np.asarray(view["variance"], dtype=np.float64)
        except (ValueError, IndexError, KeyError):  # another storage (after a conversion): counts only
            values = np.asarray(view, dtype=np.float64)
            return values, values

    def _th_store(self, stats: np.ndarray, entries: float) -> None:
        values, variances = self._th_arrays()
        full = np.zeros(NSTAT)
        full[: len(stats)] = stats
        self.__dict__["@th_stats"] = _Stats(full, entries, values, variances)

    def _th_axis(self, i: int) -> Axis1D:
        stored = self.__dict__.get("@th_axes")
        ax = self.axes[i]
        edges = np.asarray(ax.edges, dtype=np.float64)
        if stored is not None and len(stored) == self.ndim:
            a = stored[i]
            if a.nbins == len(edges) - 1 and np.allclose(edges[[0, -1]], [a.low, a.high], rtol=1e-15, atol=0):
                if a.edges is None or np.array_equal(np.asarray(a.edges), edges):
                    return a
        if isinstance(ax, hist.axis.Regular) and not getattr(ax.transform, "forward", None):
            return Axis1D(len(edges) - 1, float(edges[0]), float(edges[-1]), None, ax.name, ax.label)
        return Axis1D(len(edges) - 1, float(edges[0]), float(edges[-1]), tuple(map(float, edges)), ax.name, ax.label)

    def _th_stats_valid(self) -> _Stats | None:
        st = self.__dict__.get("@th_stats")
        if st is None:
            return None
        values, variances = self._th_arrays()
        return st if st.describes(values, variances) else None

    def _th_stats_from_bins(self) -> np.ndarray:
        """TH1::GetStats without stored sums: in-range bin contents at the bin centres."""
        values, variances = self._th_arrays()
        s = [0.0] * NSTAT
        nd = self.ndim
        if nd > 3:
            return np.zeros(NSTAT)
        axes = [self._th_axis(i) for i in range(nd)]
        views = [TAxisView(a) for a in axes]
        centers = [[v.GetBinCenter(b) for b in range(a.nbins + 2)] for v, a in zip(views, axes, strict=True)]
        vals, var = values.tolist(), variances.tolist()
        ranges = [range(1, a.nbins + 1) for a in axes]
        if nd == 1:
            for bx in ranges[0]:
                x, w = centers[0][bx], vals[bx]
                s[0] += w
                s[1] += _err2(var[bx])
                s[2] += w * x
                s[3] += w * x * x
        elif nd == 2:
            for by in ranges[1]:
                y = centers[1][by]
                for bx in ranges[0]:
                    x, w = centers[0][bx], vals[bx][by]
                    s[0] += w
                    s[1] += _err2(var[bx][by])
                    s[2] += w * x
                    s[3] += w * x * x
                    s[4] += w * y
                    s[5] += w * y * y
                    s[6] += w * x * y
        else:
            for bz in ranges[2]:
                z = centers[2][bz]
                for by in ranges[1]:
                    y = centers[1][by]
                    for bx in ranges[0]:
                        x, w = centers[0][bx], vals[bx][by][bz]
                        s[0] += w
                        s[1] += _err2(var[bx][by][bz])
                        s[2] += w * x
                        s[3] += w * x * x
                        s[4] += w * y
                        s[5] += w * y * y
                        s[6] += w * x * y
                        s[7] += w * z
                        s[8] += w * z * z
                        s[9] += w * x * z
                        s[10] += w * y * z
        return np.asarray(s)

    def GetStats(self) -> np.ndarray:  # noqa: N802
        """ROOT's stats array: sumw, sumw2, sumwx, sumwx2 (then y, xy, z, ... terms for TH2/TH3)."""
        st = self._th_stats_valid()
        if st is not None and not (st.stats[0] == 0 and st.entries > 0):
            return st.stats.copy()
        return self._th_stats_from_bins()

    def _th_effective_all_cells(self) -> float:
        values, variances = self._th_arrays()
        sw, sw2 = _seq_sum(values), _seq_sum(variances)
        return abs(sw * sw / sw2) if sw2 else abs(sw)

    # -- TH1 accessors -------------------------------------------------------------------
    def GetName(self) -> str:  # noqa: N802
        return str(getattr(self, "name", "") or "")

    def GetTitle(self) -> str:  # noqa: N802
        return str(self.__dict__.get("@th_title", getattr(self, "label", "") or ""))

    def GetDimension(self) -> int:  # noqa: N802
        return self.ndim

    def GetEntries(self) -> float:  # noqa: N802
        st = self._th_stats_valid()
        if st is not None:
            return st.entries
        s = self._th_stats_from_bins()
        return abs(s[0] * s[0] / s[1]) if s[1] else abs(s[0])

    def GetEffectiveEntries(self) -> float:  # noqa: N802
        s = self.GetStats()
        return s[0] * s[0] / s[1] if s[1] else abs(s[0])


    def GetNbinsX(self) -> int:  # noqa: N802
        return self._th_axis(0).nbins

    def GetNbinsY(self) -> int:  # noqa: N802
        return self._th_axis(1).nbins if self.ndim > 1 else 1

    def GetNbinsZ(self) -> int:  # noqa: N802
        return self._th_axis(2).nbins if self.ndim > 2 else 1

    def GetNcells(self) -> int:  # noqa: N802
        return int(np.prod([a.nbins + 2 for a in (self._th_axis(i) for i in range(self.ndim))]))

    def _axis_view(self, i: int) -> TAxisView:
        return TAxisView(self._th_axis(i), self._label(i))

    def GetXaxis(self) -> TAxisView:  # noqa: N802
        return self._axis_view(0)

    def GetYaxis(self) -> TAxisView:  # noqa: N802
        return self._axis_view(1) if self.ndim > 1 else TAxisView(Axis1D(1, 0.0, 1.0), self._label(1))

    def GetZaxis(self) -> TAxisView:  # noqa: N802
        return self._axis_view(2) if self.ndim > 2 else TAxisView(Axis1D(1, 0.0, 1.0), self._label(2))

    def _label(self, i: int) -> str:
        labels = self.__dict__.get("@th_labels") or ("", "", "")
        return labels[i] if i < len(labels) else ""

    def GetBin(self, binx: int, biny: int = 0, binz: int = 0) -> int:  # noqa: N802
        shape = [a.nbins + 2 for a in (self._th_axis(i) for i in range(self.ndim))]
        index = [binx, biny, binz][: self.ndim]
        index = [min(max(b, 0), n - 1) for b, n in zip(index, shape, strict=True)]
        return int(np.ravel_multi_index(tuple(index), tuple(shape), order="F"))

    def _cell(self, bins: tuple[int, ...]) -> tuple[int, ...]:
        shape = self.axes.extent
        if len(bins) == 1 and self.ndim > 1:
            return tuple(int(b) for b in np.unravel_index(bins[0], shape, order="F"))
        if len(bins) != self.ndim:
            raise TypeError(f"a {self.ndim}D histogram needs 1 (global) or {self.ndim} bin numbers")
        return tuple(int(b) for b in bins)

    def GetBinContent(self, *bins: int) -> float:  # noqa: N802
        try:
            return float(self._th_arrays()[0][self._cell(bins)])
        except IndexError:
            return 0.0

    def GetBinError(self, *bins: int) -> float:  # noqa: N802
        try:
            return math.sqrt(float(self._th_arrays()[1][self._cell(bins)]))
        except IndexError:
            return 0.0

    def Integral(self, *bin_range: int) -> float:  # noqa: N802
        """Sum of the bin contents: in-range bins, or ``Integral(x1, x2[, y1, y2[, z1, z2]])`` in ROOT's numbering."""
        values = self._th_arrays()[0]
        slices = []
        for i in range(self.ndim):
            n = self._th_axis(i).nbins
            if len(bin_range) >= 2 * (i + 1):
                lo, hi = bin_range[2 * i], bin_range[2 * i + 1]
                lo = max(lo, 0)
                if hi > n + 1 or hi < lo:
                    hi = n + 1
            else:
                lo, hi = 1, n
            slices.append(slice(lo, hi + 1))
        return _seq_sum(values[tuple(slices)], order="C")  # TH1::DoIntegral: x outermost, z innermost

    def _in_range(self) -> np.ndarray:
        values = self._th_arrays()[0]
        return values[tuple(slice(1, -1) for _ in range(self.ndim))]

    def _scan(self, larger: bool) -> tuple[float, int]:
        """TH1::GetMaximum/GetMinimum(Bin): in-range bins in ROOT's loop order, NaN never picked."""
        inner = self._in_range()
        best, where = (-FLT_MAX, 0) if larger else (FLT_MAX, 0)
        for k, v in enumerate(inner.ravel(order="F").tolist()):
            if (v > best and v < FLT_MAX) if larger else (v < best and v > -FLT_MAX):
                best, where = v, k
        local = np.unravel_index(where, inner.shape, order="F")
        return best, self.GetBin(*(int(i) + 1 for i in local))

    def GetMaximum(self) -> float:  # noqa: N802
        return self._scan(True)[0]

    def GetMinimum(self) -> float:  # noqa: N802
        return self._scan(False)[0]

    def GetMaximumBin(self) -> int:  # noqa: N802
        return self._scan(True)[1]

    def GetMinimumBin(self) -> int:  # noqa: N802
        return self._scan(False)[1]

    # -- TH1 operations ------------------------------------------------------------------
    def Scale(self, c: float = 1.0) -> None:  # noqa: N802
        """TH1::Scale(c): contents times c, variances times c*c, stats scaled, entries kept."""
        c = float(c)
        s = self.GetStats()
        entries = self.GetEntries()
        view: Any = self.view(flow=True)
        view["value"] = view["value"] * c
        view["variance"] = view["variance"] * (c * c)
        s = np.array([(c * c) * v if i == 1 else c * v for i, v in enumerate(s)])
        self._th_store(s, entries)

    def Add(self, other: RootHist, c: float = 1.0) -> None:  # noqa: N802
        """TH1::Add(other, c) as ROOT 6.40: stats added (reset from the bins when c < 0)."""
        c = float(c)
        s1, s2 = self.GetStats(), other.GetStats()
        e1 = self.GetEntries()
        e2 = other.GetEntries() if isinstance(other, RootHist) else _seq_sum(other._th_arrays()[0])
        view: Any = self.view(flow=True)
        ov: Any = other.view(flow=True)
        view["value"] = view["value"] + c * np.asarray(ov["value"])
        view["variance"] = view["variance"] + (c * c) * np.asarray(ov["variance"])
        if c < 0:
            s = self._th_stats_from_bins()
            self._th_store(s, self._th_effective_all_cells())
            return
        s = np.array([v + (c * c) * w if i == 1 else v + c * w for i, (v, w) in enumerate(zip(s1, s2, strict=True))])
        entries = abs(e1 + c * e2) if c == 1 else None
        self._th_store(s, 0.0)
        if entries is None:
            entries = self._th_effective_all_cells()
        self.__dict__["@th_stats"].entries = float(entries)

    def Fill(self, *args: Any) -> int:  # noqa: N802
        """TH1::Fill(x[, y[, z]][, w]); with arrays (PyROOT's pythonization), every element in order.

        Returns the bin of a single fill (-1 outside the axes), or the number of fills.
        """
        from hepframe.histograms import fill_bins
        from hepframe.udfs.histogram import stats_continue

        n = self.ndim
        if len(args) not in (n, n + 1):
            raise TypeError(f"{self.GetName()}.Fill takes {n} coordinate(s) and an optional weight, got {len(args)}")
        coords = [np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in args[:n]]
        weights = np.atleast_1d(np.asarray(args[n], dtype=np.float64)) if len(args) > n else None
        length = len(coords[0])
        if any(len(c) != length for c in coords) or (weights is not None and len(weights) not in (1, length)):
            raise ValueError(f"{self.GetName()}.Fill: coordinates and weights must have the same length")
        if weights is not None and len(weights) != length:
            weights = np.full(length, weights[0])
        axes = [self._th_axis(i) for i in range(n)]
        stats, entries = self.GetStats().copy(), self.GetEntries()
        sumw, sumw2 = (a.copy() for a in self._th_arrays())
        index, inside, points, w_in = fill_bins(axes, coords, weights, sumw, sumw2)
        full = np.zeros(NSTAT)
        full[: len(stats)] = stats
        stats_continue(points, w_in, full)
        view: Any = self.view(flow=True)
        view["value"], view["variance"] = sumw, sumw2
        self._th_store(full, entries + length)
        if np.ndim(args[0]) > 0:
            return length
        return int(index[0]) if inside[0] else -1

    def FillN(self, ntimes: int, x: Any, w: Any = None, *_: Any) -> int:  # noqa: N802
        """TH1::FillN(n, x, w): the first ``n`` values, each with its weight (1 without weights)."""
        x = np.asarray(x, dtype=np.float64)[:ntimes]
        return self.Fill(x) if w is None else self.Fill(x, np.asarray(w, dtype=np.float64)[:ntimes])

    def Clone(self, name: str | None = None) -> RootHist:  # noqa: N802
        out = copy.deepcopy(self)
        if name is not None:
            out.name = name
        return out

    def GetValue(self) -> RootHist:  # noqa: N802
        return self

    # -- hist arithmetic keeps the statistics where ROOT's equivalent does ----------------
    def __iadd__(self, other: Any) -> RootHist:  # type: ignore[misc]
        if isinstance(other, RootHist) and other.axes == self.axes:
            s1, s2 = self.GetStats(), other.GetStats()
            entries = abs(self.GetEntries() + other.GetEntries())
            super().__iadd__(other)
            self._th_store(s1 + s2, entries)
            return self
        return super().__iadd__(other)

    def __imul__(self, other: Any) -> RootHist:  # type: ignore[misc]
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            s = self.GetStats()
            entries = self.GetEntries()
            super().__imul__(float(other))
            c = float(other)
            self._th_store(np.array([(c * c) * v if i == 1 else c * v for i, v in enumerate(s)]), entries)
            return self
        return super().__imul__(other)


def book(name: str, title: str, dim: int, *binning: Any) -> RootHist:
    """An empty histogram as ROOT's constructors make it, to fill with :meth:`RootHist.Fill`.

    ``TH1D(name, title, n, low, high)`` or ``(n, edges)``; TH2D/TH3D with one such group per axis.
    """
    from hepframe.errors import AnalysisError
    from hepframe.histograms import parse_histo_model

    _, _, axes = parse_histo_model((name, title, *binning), dim)
    if any(a.automatic for a in axes):
        raise AnalysisError(f"histogram {name!r}: give each axis a range (low < high); ROOT's automatic binning "
                            "is available through RDataFrame's Histo1D")  # fmt: skip
    shape = tuple(a.nbins + 2 for a in axes)
    return RootHist.from_fill(name, title, axes, np.zeros(shape), np.zeros(shape), np.zeros(NSTAT), 0)
