"""Histogram models and exact, mergeable filling with ROOT's bin assignment.

Bin indices reproduce ``TAxis::FindFixBin`` of ROOT 6.40: for fixed bins,
``1 + int(nbins * (x - xmin) / (xmax - xmin))`` in double precision, then corrected by one
bin when ``x`` falls outside ``[GetBinLowEdge(bin), GetBinUpEdge(bin))`` (root-project/root
PR #19033); for variable bins, a binary search with lower edges inclusive. Values on edges,
under/overflow and NaN (overflow) land in the same bins as in ROOT. Results are
:class:`hepframe.roothist.RootHist` (``hist.Hist`` with flow bins and ``Weight`` storage, plus TH1's
stored statistics and methods).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hepframe.errors import AnalysisError


@dataclass(frozen=True)
class Axis1D:
    """One histogram axis: regular (nbins, low, high) or variable (edges)."""

    nbins: int
    low: float
    high: float
    edges: tuple[float, ...] | None = None
    name: str = ""
    title: str = ""

    def find_bin(self, x: np.ndarray) -> np.ndarray:
        """ROOT bin numbers (0 underflow, 1..nbins, nbins+1 overflow) for double values ``x``."""
        x = np.asarray(x, dtype=np.float64)
        bins = np.empty(x.shape, dtype=np.int64)
        under = x < self.low
        over = ~(x < self.high)  # also catches NaN, as ROOT does
        inside = ~(under | over)
        if self.edges is None:
            xi = x[inside]
            with np.errstate(all="ignore"):
                # Same operation order as TAxis::FindFixBin, in double precision ...
                b = 1 + (self.nbins * (xi - self.low) / (self.high - self.low)).astype(np.int64)
                # ... and the same correction against the edges GetBinLowEdge/GetBinUpEdge return.
                width = (self.high - self.low) / self.nbins
                low_edge = self.low + (b - 1) * width
                up_edge = self.low + b * width
            bins[inside] = np.where(xi < low_edge, b - 1, np.where(xi >= up_edge, b + 1, b))
        else:
            bins[inside] = np.searchsorted(np.asarray(self.edges), x[inside], side="right")
        bins[under] = 0
        bins[over] = self.nbins + 1
        return bins

    @property
    def automatic(self) -> bool:
        """No range given (``low >= high``): ROOT picks one from the first fills (udfs/autobin.py)."""
        return self.edges is None and not self.low < self.high

    def to_hist_axis(self):
        import hist

        label = self.title or self.name
        if self.edges is None:
            return hist.axis.Regular(self.nbins, self.low, self.high, name=self.name or "x", label=label)
        return hist.axis.Variable(list(self.edges), name=self.name or "x", label=label)


def fill_bins(axes: list[Axis1D], coords: list, weights: np.ndarray | None, sumw: np.ndarray, sumw2: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:  # fmt: skip
    """TH1/TH2/TH3::Fill for each point in order: adds to the bins' sums of weights and of squared weights.

    Returns each fill's global cell, whether it is in range, and the in-range coordinates (ndim x n)
    and weights, which the statistics (``udfs.histogram.stats_continue``) are computed from.
    """
    from hepframe.udfs.histogram import add_to_bins

    bins = [a.find_bin(c) for a, c in zip(axes, coords, strict=True)]
    index = np.ravel_multi_index(tuple(bins), sumw.shape)
    add_to_bins(index, weights, sumw, sumw2)  # one fill at a time, in order, as TH1::Fill
    inside = np.ones(len(index), dtype=np.bool_)
    for a, b in zip(axes, bins, strict=True):
        inside &= (b > 0) & (b <= a.nbins)
    points = np.stack([np.asarray(c, dtype=np.float64)[inside] for c in coords])
    return index, inside, points, None if weights is None else np.asarray(weights, dtype=np.float64)[inside]


@dataclass(frozen=True)
class Histo1DModel:
    name: str
    title: str
    axis: Axis1D


def parse_histo1d_model(model) -> Histo1DModel:
    """Accept ROOT's ``(name, title, nbins, low, high)`` / ``(name, title, nbins, edges)`` or a hist axis."""
    try:
        import hist

        if isinstance(model, (hist.axis.Regular, hist.axis.Variable)) or type(model).__module__.startswith(
            "boost_histogram"
        ):
            edges = np.asarray(model.edges, dtype=np.float64)
            name = getattr(model, "name", "") or ""
            title = getattr(model, "label", "") or name
            if isinstance(model, hist.axis.Regular) and not getattr(model.transform, "forward", None):
                axis = Axis1D(len(edges) - 1, float(edges[0]), float(edges[-1]), None, name, title)
            else:
                axis = Axis1D(len(edges) - 1, float(edges[0]), float(edges[-1]), tuple(map(float, edges)), name, title)
            return Histo1DModel(name, title, axis)
    except ImportError:  # pragma: no cover - hist is a core dependency
        pass
    if hasattr(model, "fName") and hasattr(model, "fNbinsX"):  # ROOT.RDF.TH1DModel
        root_edges = [float(e) for e in model.fBinXEdges]
        axis = Axis1D(int(model.fNbinsX), float(model.fXLow), float(model.fXUp), tuple(root_edges) or None,
                      str(model.fName), str(model.fTitle))  # fmt: skip
        return Histo1DModel(str(model.fName), str(model.fTitle), axis)
    if not isinstance(model, (tuple, list)) or len(model) not in (4, 5):
        raise AnalysisError(
            f"histogram model must be (name, title, nbins, low, high), (name, title, nbins, edges) or a hist axis; "
            f"got {model!r}"
        )
    name, title = str(model[0]), str(model[1])
    nbins = model[2]
    if not isinstance(nbins, (int, np.integer)) or nbins < 1:
        raise AnalysisError(f"histogram {name!r}: nbins must be a positive integer, got {nbins!r}")
    if len(model) == 5:
        low, high = float(model[3]), float(model[4])
        if not (math.isfinite(low) and math.isfinite(high)):
            raise AnalysisError(f"histogram {name!r}: the axis limits must be finite, got {low} and {high}")
        # low >= high: ROOT's automatic range (udfs/autobin.py); Histo1D checks that the action supports it.
        return Histo1DModel(name, title, Axis1D(int(nbins), low, high, None, name, title))
    given = tuple(float(e) for e in model[3])
    if len(given) != nbins + 1 or any(b <= a for a, b in zip(given, given[1:], strict=False)):
        raise AnalysisError(f"histogram {name!r}: need {nbins + 1} strictly increasing edges, got {len(given)}")
    return Histo1DModel(name, title, Axis1D(int(nbins), given[0], given[-1], given, name, title))


def _axis_from_hist(model) -> Axis1D:
    import hist

    edges = np.asarray(model.edges, dtype=np.float64)
    name = getattr(model, "name", "") or ""
    title = getattr(model, "label", "") or name
    if isinstance(model, hist.axis.Regular) and not getattr(model.transform, "forward", None):
        return Axis1D(len(edges) - 1, float(edges[0]), float(edges[-1]), None, name, title)
    return Axis1D(len(edges) - 1, float(edges[0]), float(edges[-1]), tuple(map(float, edges)), name, title)


def _is_hist_axis(obj) -> bool:
    return type(obj).__module__.startswith(("hist", "boost_histogram")) and hasattr(obj, "edges")


def parse_histo_model(model, dim: int) -> tuple[str, str, list[Axis1D]]:
    """``(name, title, [axes])`` from a ROOT-style model tuple of any dimension, or hist axes.

    Tuples follow ROOT's TH1D/TH2D/TH3DModel constructors: after name and title, each axis is
    ``nbins, low, high`` or ``nbins, edges``. HistoND takes ``(name, title, dim, nbins, lows,
    highs)`` with lists. A sequence of ``dim`` hist axes also works.
    """
    if dim == 1 and not isinstance(model, (list, tuple)) or _is_hist_axis(model):
        m = parse_histo1d_model(model)
        return m.name, m.title, [m.axis]
    if isinstance(model, (list, tuple)) and model and all(_is_hist_axis(a) for a in model):
        if len(model) != dim:
            raise AnalysisError(f"a {dim}D histogram needs {dim} axes, got {len(model)}")
        axes = [_axis_from_hist(a) for a in model]
        return axes[0].name or "h", "", axes
    if not isinstance(model, (list, tuple)) or len(model) < 3:
        raise AnalysisError(f"histogram model must be a ROOT-style tuple (name, title, ...) or hist axes; got {model!r}")
    name, title, rest = str(model[0]), str(model[1]), list(model[2:])
    if (len(rest) == 4 and isinstance(rest[0], (int, np.integer))
            and all(isinstance(r, (list, tuple, np.ndarray)) for r in rest[1:])):  # fmt: skip
        # THnDModel: (dim, nbins[], xmin[], xmax[])
        n, nbins, lows, highs = rest
        if n != dim or not len(nbins) == len(lows) == len(highs) == dim:
            raise AnalysisError(f"histogram {name!r}: THnD-style model needs {dim} bins, lows and highs")
        rest = [x for triple in zip(nbins, lows, highs, strict=True) for x in triple]
    axes = []
    for k in range(dim):
        if not rest:
            raise AnalysisError(f"histogram {name!r}: the model has fewer than {dim} axes")
        nbins = rest.pop(0)
        if isinstance(rest[0] if rest else None, (list, tuple, np.ndarray)):
            spec: tuple = (name, title, nbins, rest.pop(0))
        else:
            if len(rest) < 2:
                raise AnalysisError(f"histogram {name!r}: axis {k} needs nbins, low, high")
            spec = (name, title, nbins, rest.pop(0), rest.pop(0))
        axes.append(parse_histo1d_model(spec).axis)
    if rest:
        raise AnalysisError(f"histogram {name!r}: unexpected extra model values {rest!r} for a {dim}D histogram")
    return name, title, axes


class Histo1DAccumulator:
    """Sums of weights and squared weights per ROOT bin, plus TH1's stored statistics.

    ``stats`` continues ``fTsumw, fTsumw2, fTsumwx, fTsumwx2`` fill by fill in entry order. A
    batch filled on its own (``defer_stats``, the parallel ``partial`` path) keeps its in-range
    values instead, and ``merge`` adds them to the running sums in order, so the statistics do
    not depend on how the entries were cut into batches. Accumulators merged without pending
    values (distributed engines) add their sums, as TH1::Merge does.
    """

    def __init__(self, model: Histo1DModel):
        self.model = model
        size = model.axis.nbins + 2
        self.sumw = np.zeros(size, dtype=np.float64)
        self.sumw2 = np.zeros(size, dtype=np.float64)
        self.entries = 0
        self.stats = np.zeros(4, dtype=np.float64)
        self.pending: tuple[np.ndarray, np.ndarray | None] | None = None

    def fill(self, values: np.ndarray, weights: np.ndarray | None = None, defer_stats: bool = False) -> None:
        from hepframe.udfs.histogram import add_to_bins, fill_regular, stats_continue

        axis = self.model.axis
        if axis.edges is None:  # fixed bins: binning, sums and statistics in one compiled pass
            inrange = np.zeros(len(values), dtype=np.bool_) if defer_stats else None
            fill_regular(values, weights, axis.nbins, axis.low, axis.high, self.sumw, self.sumw2, self.stats,
                         inrange)  # fmt: skip
            self.entries += len(values)
            if inrange is not None:
                self._defer(np.asarray(values)[inrange], None if weights is None else np.asarray(weights)[inrange])
            return
        bins = axis.find_bin(values)
        add_to_bins(bins, weights, self.sumw, self.sumw2)  # one fill at a time, in order, as TH1::Fill
        self.entries += len(bins)
        inside = (bins > 0) & (bins <= axis.nbins)
        x = np.asarray(values)[inside]
        w_in = None if weights is None else np.asarray(weights)[inside]
        if defer_stats:
            self._defer(x, w_in)
        else:
            stats_continue(np.asarray(x, dtype=np.float64)[None, :], w_in, self.stats)

    def _defer(self, x: np.ndarray, w: np.ndarray | None) -> None:
        assert self.pending is None, "a deferred-statistics accumulator holds one batch"
        self.pending = (np.asarray(x, dtype=np.float64)[None, :], None if w is None else np.asarray(w, np.float64))

    def merge(self, other: Histo1DAccumulator) -> None:
        from hepframe.udfs.histogram import stats_continue

        self.sumw += other.sumw
        self.sumw2 += other.sumw2
        self.entries += other.entries
        if other.pending is not None:
            stats_continue(other.pending[0], other.pending[1], self.stats)
        else:
            self.stats += other.stats

    def result(self):
        from hepframe.roothist import RootHist

        m = self.model
        return RootHist.from_fill(m.name, m.title, [m.axis], self.sumw, self.sumw2, self.stats, self.entries)
