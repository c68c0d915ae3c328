"""``hist.Hist`` profiles that also answer ROOT's TProfile/TProfile2D methods with ROOT's numbers.

``Profile1D``/``Profile2D`` return :class:`RootProfile`: a ``hist.Hist`` with ``WeightedMean``
storage (so ``mplhep.histplot`` and hist users work as usual; ``values()`` are the bin means,
ROOT's ``GetBinContent``) that also keeps what a TProfile stores: per cell ``fArray`` (sum of
w*v), ``fSumw2`` (sum of w*v*v), ``fBinEntries`` (sum of w) and ``fBinSumw2`` (sum of w*w,
which ROOT only has after the first weight != 1), ``fEntries`` and the in-range statistics
``GetStats`` returns. :class:`ProfileFill` continues them fill by fill in entry order with the
compiled kernel of udfs/profile.py, so every accessor equals ROOT 6.40's bit for bit. When the
bins change by other means (slicing, writing into the view), the sums are taken from the view
and the statistics from the bin centres, as ROOT's ``GetStats`` does when ``fTsumw == 0``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import hist
import numpy as np

from hepframe.drawing import Drawable
from hepframe.histograms import Axis1D, parse_histo1d_model
from hepframe.roothist import StatsMoments, TAxisView

NSTAT = 13  # TH1::kNstat: GetStats arrays are this long (zeros past the profile's 6 or 9 sums)
_STATS_SIZE = {1: 6, 2: 9}


def _seq_sum(values: np.ndarray) -> float:
    """Sum in order, one double addition at a time (as ROOT's loops; numpy's sum is pairwise)."""
    total = 0.0
    for v in np.asarray(values, dtype=np.float64).ravel().tolist():
        total += v
    return total


def _ieee(op: Any) -> float:
    """``op()`` with C's IEEE results (x/0 is inf or NaN, sqrt(-1) is NaN) instead of exceptions."""
    with np.errstate(all="ignore"):
        return float(op())


class ProfileFill:
    """A TProfile (one axis) or TProfile2D (two) while it is filled: ROOT's stored sums.

    ``sums`` rows are ``fArray``, ``fSumw2``, ``fBinEntries`` and the sum of w*w, one column per
    ROOT global bin (``bx + (nx + 2) * by``, flows included); ``entries`` is ``fEntries``,
    ``active`` whether ``fBinSumw2`` exists, ``stats`` the running ``fTsumw...`` in ``GetStats``
    order. ``fill`` continues them in order; parts of the data merge as ``TProfileHelper::Merge``.
    """

    def __init__(self, axes: Sequence[Axis1D], value_range: tuple[float, float] | None = None) -> None:
        if len(axes) not in (1, 2):
            raise ValueError(f"a profile has 1 or 2 axes, got {len(axes)}")
        self.axes = tuple(axes)
        # (0, 0): no range, ROOT's fYmin == fYmax (TProfile::BuildOptions)
        self.value_range = (0.0, 0.0) if value_range is None else (float(value_range[0]), float(value_range[1]))
        self.sums = np.zeros((4, int(np.prod([a.nbins + 2 for a in self.axes]))))
        self.state = np.zeros(2)  # fEntries, fBinSumw2 exists
        self.stats = np.zeros(_STATS_SIZE[len(self.axes)])

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def entries(self) -> float:
        return float(self.state[0])

    @property
    def active(self) -> bool:
        return bool(self.state[1])

    def fill(self, coords: Sequence[np.ndarray], values: np.ndarray, weights: np.ndarray | None = None) -> None:
        """``Fill(x, v[, w])`` / ``Fill(x, y, v[, w])`` for each value, in order."""
        from hepframe.udfs.profile import fill_profile

        fill_profile(list(coords), values, weights, self.value_range,
                     [(a.nbins, a.low, a.high, a.edges) for a in self.axes], self.sums, self.state, self.stats)  # fmt: skip

    def merge(self, other: ProfileFill) -> None:
        """``TProfileHelper::Merge``: sums and ``GetStats`` added, ``fBinSumw2`` kept only if this one has it."""
        stats = self.get_stats() + other.get_stats()
        # with fBinSumw2, ROOT adds the other's (or its fBinEntries, which an inactive sum of w*w equals)
        self.sums += other.sums
        if not self.active:  # without, nothing is added: keep the sum of w*w equal to fBinEntries
            self.sums[3] = self.sums[2]
        self.state[0] += other.state[0]
        self.stats = stats[: len(self.stats)].copy()

    def get_stats(self) -> np.ndarray:
        """``TProfile::GetStats`` / ``TProfile2D::GetStats`` (NSTAT doubles, no axis range set)."""
        out = np.zeros(NSTAT)
        s = self.stats.tolist()
        sum_wv, sum_wv2, sum_w, sum_w2 = (row.tolist() for row in self.sums)
        views = [TAxisView(a) for a in self.axes]
        nx = self.axes[0].nbins
        if s[0] != 0:
            if self.ndim == 1 and s[4] == 0 and s[5] == 0:
                # "this case may happen when processing TProfiles with version <=3": fTsumwy from the bins
                for b in range(1, nx + 1):
                    s[4] += sum_wv[b]
                    s[5] += sum_wv2[b]
            out[: len(s)] = s
            return out
        # fTsumw == 0: the sums of the in-range bins at their centres
        s = [0.0] * len(s)
        ny = self.axes[1].nbins if self.ndim > 1 else 1
        for by in range(1, ny + 1):
            y = views[1].GetBinCenter(by) if self.ndim > 1 else 0.0
            for bx in range(1, nx + 1):
                b = bx + (nx + 2) * by if self.ndim > 1 else bx
                w = sum_w[b]
                w2 = sum_w2[b] if self.active else w
                x = views[0].GetBinCenter(bx)
                s[0] += w
                s[1] += w2
                s[2] += w * x
                s[3] += w * x * x
                if self.ndim == 1:
                    s[4] += sum_wv[b]
                    s[5] += sum_wv2[b]
                else:
                    s[4] += w * y
                    s[5] += w * y * y
                    s[6] += w * x * y
                    s[7] += sum_wv[b]
                    s[8] += sum_wv2[b]
        out[: len(s)] = s
        return out

    def means(self) -> np.ndarray:
        """``GetBinContent`` of every cell: ``fArray / fBinEntries``, 0 for cells without weight."""
        sum_wv, sum_w = self.sums[0], self.sums[2]
        with np.errstate(all="ignore"):
            return np.where(sum_w == 0, 0.0, sum_wv / np.where(sum_w == 0, 1.0, sum_w))

    def copy(self) -> ProfileFill:
        return copy.deepcopy(self)


class RootProfile(StatsMoments, Drawable, hist.Hist, family=hist):
    """A ``hist.Hist`` (WeightedMean storage) with ROOT's TProfile/TProfile2D accessors (see the module)."""

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_fill(cls, name: str, title: str, axes: Sequence[Axis1D], fill: ProfileFill,
                  error_option: str = "") -> RootProfile:  # fmt: skip
        """The result of a Profile1D/2D: ``title`` follows ROOT's ``"title;x label;y label[;z label]"``."""
        if tuple(axes) != fill.axes:
            raise ValueError("the axes of the profile and of its fill differ")
        parts = title.split(";")
        labels = tuple(parts[i + 1] if len(parts) > i + 1 else "" for i in range(3))
        defaults = ["x", "y"][: len(axes)]
        names = [a.name or d for a, d in zip(axes, defaults, strict=True)]
        if len(set(names)) < len(names):  # hist needs distinct axis names
            names = defaults
        hist_axes: list[Any] = []
        for a, ax_name, label in zip(axes, names, labels, strict=False):
            if a.edges is None:
                hist_axes.append(hist.axis.Regular(a.nbins, a.low, a.high, name=ax_name, label=label or ax_name))
            else:
                hist_axes.append(hist.axis.Variable(list(a.edges), name=ax_name, label=label or ax_name))
        h = cls(*hist_axes, storage=hist.storage.WeightedMean(), name=name, label=parts[0] or name)
        h.metadata = {"entries": int(fill.entries), "title": title}
        h.__dict__["@tp_title"] = parts[0]
        h.__dict__["@tp_labels"] = labels
        h.SetErrorOption(error_option)
        h._tp_store(fill.copy())
        return h

    def _tp_store(self, fill: ProfileFill) -> None:
        """Write ``fill`` into the hist view and keep it, with a copy of that view to notice later changes."""
        view: Any = self.view(flow=True)
        shape = view.shape
        mean = fill.means()
        view["sum_of_weights"] = fill.sums[2].reshape(shape, order="F")
        view["sum_of_weights_squared"] = fill.sums[3].reshape(shape, order="F")
        view["value"] = mean.reshape(shape, order="F")
        # sum of w*(v - mean)^2 = sum(w*v*v) - mean * sum(w*v)
        view["_sum_of_weighted_deltas_squared"] = (fill.sums[1] - mean * fill.sums[0]).reshape(shape, order="F")
        self.__dict__["@tp_fill"] = fill
        self.__dict__["@tp_view"] = np.array(view, copy=True)

    # -- the stored sums, or sums from the view after hist operations ----------------------
    def _tp(self) -> ProfileFill:
        fill = self.__dict__.get("@tp_fill")
        seen = self.__dict__.get("@tp_view")
        view: Any = np.asarray(self.view(flow=True))
        if (
            fill is not None
            and seen is not None
            and seen.shape == view.shape
            and all(np.array_equal(seen[f], view[f], equal_nan=True) for f in view.dtype.names or ())
        ):
            return fill
        return self._tp_from_view(view)

    def _tp_from_view(self, view: Any) -> ProfileFill:
        """The profile the view describes: its bins, statistics from the bin centres (as fTsumw == 0)."""
        out = ProfileFill([parse_histo1d_model(ax).axis for ax in self.axes])
        sum_w = view["sum_of_weights"].ravel(order="F")
        sum_w2 = view["sum_of_weights_squared"].ravel(order="F")
        mean = view["value"].ravel(order="F")
        out.sums[0] = mean * sum_w
        out.sums[1] = view["_sum_of_weighted_deltas_squared"].ravel(order="F") + mean * out.sums[0]
        out.sums[2], out.sums[3] = sum_w, sum_w2
        out.state[:] = (_seq_sum(sum_w), float(not np.array_equal(sum_w, sum_w2, equal_nan=True)))
        return out

    # -- TH1 accessors -------------------------------------------------------------------
    def GetName(self) -> str:  # noqa: N802
        return str(getattr(self, "name", "") or "")

    def GetTitle(self) -> str:  # noqa: N802
        return str(self.__dict__.get("@tp_title", getattr(self, "label", "") or ""))

    def GetDimension(self) -> int:  # noqa: N802
        return self.ndim

    def GetEntries(self) -> float:  # noqa: N802
        return self._tp().entries

    def GetStats(self) -> np.ndarray:  # noqa: N802
        """ROOT's stats array: sumw, sumw2, sumwx, sumwx2, sumwy, sumwy2 (2D: sumwxy, sumwz, sumwz2)."""
        return self._tp().get_stats()

    def GetEffectiveEntries(self) -> float:  # noqa: N802
        s = self.GetStats()
        return float(s[0] * s[0] / s[1]) if s[1] else abs(float(s[0]))


    def _tp_axes(self) -> tuple[Axis1D, ...]:
        return self._tp().axes

    def GetNbinsX(self) -> int:  # noqa: N802
        return self._tp_axes()[0].nbins

    def GetNbinsY(self) -> int:  # noqa: N802
        return self._tp_axes()[1].nbins if self.ndim > 1 else 1

    def GetNbinsZ(self) -> int:  # noqa: N802
        return 1

    def GetNcells(self) -> int:  # noqa: N802
        return int(self._tp().sums.shape[1])

    def _label(self, i: int) -> str:
        return (self.__dict__.get("@tp_labels") or ("", "", ""))[i]

    def GetXaxis(self) -> TAxisView:  # noqa: N802
        return TAxisView(self._tp_axes()[0], self._label(0))

    def GetYaxis(self) -> TAxisView:  # noqa: N802
        axes = self._tp_axes()
        return TAxisView(axes[1] if len(axes) > 1 else Axis1D(1, 0.0, 1.0), self._label(1))

    def GetZaxis(self) -> TAxisView:  # noqa: N802
        return TAxisView(Axis1D(1, 0.0, 1.0), self._label(2))

    def GetBin(self, binx: int, biny: int = 0, binz: int = 0) -> int:  # noqa: N802
        """TH1::GetBin: each bin number clamped to [0, nbins + 1]."""
        axes = self._tp_axes()
        binx = min(max(binx, 0), axes[0].nbins + 1)
        if len(axes) == 1:
            return binx
        biny = min(max(biny, 0), axes[1].nbins + 1)
        return binx + (axes[0].nbins + 2) * biny

    def _global(self, bins: tuple[int, ...]) -> int:
        if len(bins) == 1 or self.ndim == 1:  # TProfile::GetBinContent(bin, y) ignores y
            return int(bins[0])
        return self.GetBin(*bins)

    def GetBinContent(self, *bins: int) -> float:  # noqa: N802
        """``fArray[bin] / fBinEntries[bin]``, 0 where no weight was filled or outside the cells."""
        fill, b = self._tp(), self._global(bins)
        if not 0 <= b < fill.sums.shape[1] or fill.sums[2, b] == 0:
            return 0.0
        return _ieee(lambda: fill.sums[0, b] / fill.sums[2, b])

    def GetBinEntries(self, *bins: int) -> float:  # noqa: N802
        fill, b = self._tp(), self._global(bins)
        return float(fill.sums[2, b]) if 0 <= b < fill.sums.shape[1] else 0.0

    def GetBinEffectiveEntries(self, *bins: int) -> float:  # noqa: N802
        """TProfileHelper::GetBinEffectiveEntries: sum(w)^2 / sum(w^2), or sum(w) without fBinSumw2."""
        fill, b = self._tp(), self._global(bins)
        if not 0 <= b < fill.sums.shape[1]:
            return 0.0
        sum_w = fill.sums[2, b]
        if not fill.active:
            return float(sum_w)
        sum_w2 = fill.sums[3, b]
        return _ieee(lambda: sum_w * sum_w / sum_w2) if sum_w2 > 0 else 0.0

    def SetErrorOption(self, option: str = "") -> None:  # noqa: N802
        """TProfileHelper::SetErrorOption: "s" spread, "i" integer spread, "g" 1/sqrt(sum w), else the mean's error."""
        opt = option.lower()
        mode = next((m for m in ("g", "i", "s") if m in opt), "")
        self.__dict__["@tp_error"] = mode

    def GetErrorOption(self) -> str:  # noqa: N802
        return str(self.__dict__.get("@tp_error", ""))

    def GetBinError(self, *bins: int) -> float:  # noqa: N802
        """TProfileHelper::GetBinError (TProfile::Approximate off, ROOT's default)."""
        fill, b = self._tp(), self._global(bins)
        if not 0 <= b < fill.sums.shape[1]:
            return 0.0
        cont, err2, total = (np.float64(fill.sums[k, b]) for k in range(3))  # fArray, fSumw2, fBinEntries
        neff = np.float64(self.GetBinEffectiveEntries(b))
        if total == 0:
            return 0.0
        mode = self.GetErrorOption()
        if mode == "g":  # the values have errors sigma and w = 1/sigma^2
            return _ieee(lambda: 1.0 / np.sqrt(total))
        with np.errstate(all="ignore"):
            contsum = cont / total
            eprim2 = np.abs(err2 / total - contsum * contsum)
            eprim = np.sqrt(eprim2)
            if mode == "i":
                return float(eprim / np.sqrt(neff) if eprim != 0 else 1 / np.sqrt(12 * neff))
            if mode == "s":
                return float(eprim)
            return float(eprim / np.sqrt(neff))

    def Integral(self, *bin_range: int) -> float:  # noqa: N802
        """TH1::DoIntegral of the bin means (RetrieveBinContent: 0 where sum(w) <= 0), x outermost."""
        fill = self._tp()
        with np.errstate(all="ignore"):
            means = np.where(fill.sums[2] > 0, fill.sums[0] / np.where(fill.sums[2] > 0, fill.sums[2], 1.0), 0.0)
        shape = tuple(a.nbins + 2 for a in fill.axes)
        values = means.reshape(shape, order="F")
        slices = []
        for i, a in enumerate(fill.axes):
            if len(bin_range) >= 2 * (i + 1):
                lo, hi = max(bin_range[2 * i], 0), bin_range[2 * i + 1]
                if hi > a.nbins + 1 or hi < lo:
                    hi = a.nbins + 1
            else:
                lo, hi = 1, a.nbins
            slices.append(slice(lo, hi + 1))
        return _seq_sum(values[tuple(slices)])  # C order: the last axis innermost, as ROOT's loops

    def GetYmin(self) -> float:  # noqa: N802 - TProfile's value range (TProfile2D: GetZmin)
        return self._tp().value_range[0]

    def GetYmax(self) -> float:  # noqa: N802
        return self._tp().value_range[1]

    GetZmin, GetZmax = GetYmin, GetYmax

    def Clone(self, name: str | None = None) -> RootProfile:  # noqa: N802
        out = copy.deepcopy(self)
        if name is not None:
            out.name = name
        return out

    def GetValue(self) -> RootProfile:  # noqa: N802
        return self
