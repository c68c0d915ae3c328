"""Accumulators for every action: partial results per batch that merge exactly, and result types.

An accumulator receives, for each batch, the values of its action's expressions on the events
that reached the action (numpy arrays, or ``Jagged`` for RVec columns) and keeps a partial
result; ``result()`` turns it into what ``GetValue()`` returns. Histograms reproduce ROOT's
binning (see :mod:`hepframe.histograms`); moments combine across batches with the parallel
(Chan et al.) formulas, so results do not depend on the batch size beyond rounding.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hepframe.engines.values import Jagged, Value
from hepframe.errors import EventError
from hepframe.histograms import Axis1D, Histo1DAccumulator, Histo1DModel, fill_bins


def flatten(value: Value) -> np.ndarray:
    """All elements (RVec columns) or values (scalar columns) of one batch."""
    data = value.data
    return data.values if isinstance(data, Jagged) else np.asarray(data)


def broadcast_fill(values: list[Value], entries: np.ndarray, what: str) -> list[np.ndarray]:
    """Flatten fill arguments ROOT-style: RVecs element by element (equal sizes), scalars repeated."""
    counts = None
    for v in values:
        if isinstance(v.data, Jagged):
            if counts is None:
                counts = v.data.counts
            elif not np.array_equal(counts, v.data.counts):
                bad = np.nonzero(counts != v.data.counts)[0][0]
                raise EventError(f"{what}: RVec arguments of different sizes in entry {int(entries[bad])}")
    out = []
    for v in values:
        if counts is None or isinstance(v.data, Jagged):
            out.append(flatten(v))
        else:
            out.append(np.repeat(np.asarray(v.data), counts))
    return out


# -- results ------------------------------------------------------------------------------


@dataclass
class CutFlowEntry:
    name: str
    passed: int
    all: int
    weighted_passed: float | None = None
    weighted_all: float | None = None

    @property
    def efficiency(self) -> float:
        """TCutInfo::GetEff: ``100.f * (pass / float(all))``, in single precision as ROOT computes it."""
        if not self.all:
            return float("nan") if not self.passed else float("inf")  # 0/0 and x/0 in float, as in ROOT
        return float(np.float32(100) * (np.float32(self.passed) / np.float32(self.all)))

    # ROOT's TCutInfo spelling
    def GetName(self) -> str:  # noqa: N802
        return self.name

    def GetPass(self) -> int:  # noqa: N802
        return self.passed

    def GetAll(self) -> int:  # noqa: N802
        return self.all

    def GetEff(self) -> float:  # noqa: N802
        return self.efficiency


@dataclass
class CutFlowReport:
    """``Report()`` result: named filters in graph order with pass/all counts."""

    entries: list[CutFlowEntry] = field(default_factory=list)

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, name: str) -> CutFlowEntry:
        for e in self.entries:
            if e.name == name:
                return e
        raise KeyError(name)

    def Print(self) -> None:  # noqa: N802 - ROOT spelling
        print(self)

    def __repr__(self) -> str:
        return str(self) if self.entries else "CutFlowReport(no named filter)"

    def _repr_html_(self) -> str:
        from hepframe.display import table

        first_all = self.entries[0].all if self.entries else 0
        rows = [[e.name, e.passed, e.all, round(e.efficiency, 2), round(100.0 * e.passed / first_all if first_all else 0.0, 2)]
                for e in self.entries]  # fmt: skip
        return table(["filter", "pass", "all", "eff %", "cumulative eff %"], rows, "cut flow")

    def __str__(self) -> str:
        lines = []
        first_all = self.entries[0].all if self.entries else 0
        for e in self.entries:
            cumulative = 100.0 * e.passed / first_all if first_all else 0.0  # in double (ROOT 6.40; eff is float)
            line = (f"{e.name:<20}: pass={e.passed:<10} all={e.all:<10} -- eff={e.efficiency:.2f} % "
                    f"cumulative eff={cumulative:.2f} %")  # fmt: skip
            if e.weighted_passed is not None and e.weighted_all is not None:
                weff = 100.0 * e.weighted_passed / e.weighted_all if e.weighted_all else 0.0
                line += f" | weighted: pass={e.weighted_passed:.6g} all={e.weighted_all:.6g} eff={weff:.2f} %"
            lines.append(line)
        return "\n".join(lines)


_DBL_MAX = float(np.finfo(np.float64).max)


@dataclass
class Statistic:
    """``Stats()`` result: ROOT's ``TStatistic``, filled value by value as ROOT fills it.

    ``m`` is ROOT's ``fM`` (the sum of w*x) and ``m2`` its ``fM2``; ``fill`` continues them in entry
    order (udfs/summation.py), so every accessor returns ROOT's number.
    """

    n: int = 0
    w: float = 0.0
    w2: float = 0.0
    m: float = 0.0
    m2: float = 0.0
    min: float = _DBL_MAX
    max: float = -_DBL_MAX

    def fill(self, x: np.ndarray, w: np.ndarray | None = None) -> None:
        from hepframe.udfs.summation import tstatistic_continue

        state = np.array([self.n, self.w, self.w2, self.m, self.m2, self.min, self.max], dtype=np.float64)
        tstatistic_continue(x, w, state)
        self.n, self.w, self.w2, self.m, self.m2, self.min, self.max = int(state[0]), *map(float, state[1:])

    def merge(self, other: Statistic) -> None:
        """Combine two parts (distributed engines), as TStatistic::Merge adds the moments."""
        if other.n == 0 or other.w == 0:
            return
        if self.n == 0 or self.w == 0:
            self.__dict__.update(other.__dict__)
            return
        delta = other.m / other.w - self.m / self.w
        self.m2 += other.m2 + delta * delta * self.w * other.w / (self.w + other.w)
        self.n += other.n
        self.w += other.w
        self.w2 += other.w2
        self.m += other.m
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    @classmethod
    def of(cls, x: np.ndarray, w: np.ndarray | None = None) -> Statistic:
        out = cls()
        out.fill(np.asarray(x), None if w is None else np.asarray(w))
        return out

    def GetN(self) -> int:  # noqa: N802
        return self.n

    def GetW(self) -> float:  # noqa: N802
        return self.w

    def GetW2(self) -> float:  # noqa: N802
        return self.w2

    def GetM2(self) -> float:  # noqa: N802
        return self.m2

    def GetMean(self) -> float:  # noqa: N802
        return self.m / self.w if self.w > 0 else 0.0

    def GetVar(self) -> float:  # noqa: N802
        if not self.w > 0:
            return -1.0
        return (self.m2 / self.w) * (self.n / (self.n - 1.0)) if self.n > 1 else 0.0

    def GetRMS(self) -> float:  # noqa: N802
        var = self.GetVar()
        return math.sqrt(var) if var > 0 else -1.0

    def GetNeff(self) -> int:  # noqa: N802
        return int(self.w * self.w / self.w2) if self.w2 else 0  # TStatistic returns Long64_t

    def GetMeanErr(self) -> float:  # noqa: N802
        if not self.w > 0:
            return 0.0
        neff = self.GetNeff()
        return math.sqrt(self.GetVar() / neff) if neff else math.inf

    def GetMin(self) -> float:  # noqa: N802
        return self.min

    def GetMax(self) -> float:  # noqa: N802
        return self.max

    def __str__(self) -> str:
        return (f" OBJ: TStatistic\t  \t Mean = {self.GetMean():.5g} +- {self.GetMeanErr():.4g} \t RMS = "
                f"{self.GetRMS():.5g} \t Count = {self.n} \t Min = {self.min:.5g} \t Max = {self.max:.5g}")  # fmt: skip

    def Print(self) -> None:  # noqa: N802
        print(self)


@dataclass
class Graph:
    """``Graph(x, y)`` result: the points in event order, with TGraph's accessors."""

    x: np.ndarray
    y: np.ndarray

    def GetN(self) -> int:  # noqa: N802
        return len(self.x)

    def GetX(self) -> np.ndarray:  # noqa: N802
        return self.x

    def GetY(self) -> np.ndarray:  # noqa: N802
        return self.y

    def GetPointX(self, i: int) -> float:  # noqa: N802
        return float(self.x[i])

    def GetPointY(self, i: int) -> float:  # noqa: N802
        return float(self.y[i])

    def Sort(self, ascending: bool = True) -> None:  # noqa: N802
        """TGraph::Sort(): the points ordered by x (equal x keep their order here; ROOT's sort is unstable)."""
        order = np.argsort(self.x if ascending else -self.x, kind="stable")
        self.x, self.y = self.x[order], self.y[order]

    def GetMean(self, axis: int = 1) -> float:  # noqa: N802
        """TGraph::GetMean: the plain mean of the x (axis 1) or y (axis 2) values."""
        values = self.x if axis == 1 else self.y
        return float(values.sum() / len(values)) if len(values) else 0.0


@dataclass
class DisplayTable:
    """``Display()`` result, printed with ROOT 6.40's RDisplay layout.

    A ``Row`` column (each event's entry number, ``rdfentry_``), then the columns in the order asked; numbers as C++'s ``std::to_string``
    (``%f`` for float and double, ``char`` as its number), ``bool`` as ``true``/``false``; an RVec
    takes one line per element, at most ``max_elements`` then ``...``; a line of dashes after each
    row, and every cell is followed by one space (also the last).
    """

    columns: dict[str, np.ndarray]
    max_elements: int = 10
    rows: np.ndarray | None = None  # entry numbers; None: 0, 1, 2, ...

    @staticmethod
    def _cell(value) -> str:
        if isinstance(value, (bool, np.bool_)):
            return "true" if value else "false"
        if isinstance(value, (float, np.floating)):
            return f"{float(value):f}"
        return str(int(value)) if isinstance(value, (int, np.integer)) else str(value)

    def _row_numbers(self):
        return range(len(next(iter(self.columns.values()), []))) if self.rows is None else self.rows

    def _lines(self, value) -> list[str]:
        if isinstance(value, np.ndarray):
            lines = [self._cell(v) for v in value[: self.max_elements]]
            return lines + ["..."] if len(value) > self.max_elements else lines or [""]
        return [self._cell(value)]

    def __str__(self) -> str:
        names = ["Row", *self.columns]
        rows = [[[str(int(i))], *(self._lines(v) for v in values)]
                for i, values in zip(self._row_numbers(), zip(*self.columns.values(), strict=True), strict=True)]  # fmt: skip
        widths = [max([len(n)] + [len(line) for r in rows for line in r[k]]) for k, n in enumerate(names)]
        rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out = [rule, "".join(f"| {n.ljust(w)} " for n, w in zip(names, widths, strict=True)) + "| ", rule]
        for r in rows:
            for k in range(max(len(cell) for cell in r)):
                out.append("".join(f"| {(cell[k] if k < len(cell) else '').ljust(w)} "
                                   for cell, w in zip(r, widths, strict=True)) + "| ")  # fmt: skip
            out.append(rule)
        return "\n".join(out) + "\n"

    def Print(self) -> None:  # noqa: N802
        print(self, end="")

    def AsString(self) -> str:  # noqa: N802
        return str(self)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from hepframe.display import table

        rows = [[int(i), *(", ".join(self._lines(v)) for v in values)]
                for i, values in zip(self._row_numbers(), zip(*self.columns.values(), strict=True), strict=True)]  # fmt: skip
        return table(["Row", *self.columns], rows)


# -- accumulators -------------------------------------------------------------------------


class Accumulator:
    def update(self, values: list[Value], entries: np.ndarray, n_rows: int) -> None:
        raise NotImplementedError

    def partial(self, values: list[Value], entries: np.ndarray, n_rows: int) -> Accumulator | None:
        """This batch alone as a new accumulator, or None.

        A worker thread calls it (so it must not touch ``self``); merging the result later must give
        exactly what ``update`` would.
        """
        return None

    def result(self) -> Any:
        raise NotImplementedError

    def merge(self, other: Any) -> None:
        """Add the partial result of a later part of the data (distributed engines, in entry order)."""
        raise NotImplementedError(f"{type(self).__name__} cannot merge partial results")


class CountAcc(Accumulator):
    def __init__(self) -> None:
        self.n = 0

    def update(self, values, entries, n_rows):
        self.n += n_rows

    def merge(self, other: CountAcc) -> None:
        self.n += other.n

    def result(self) -> int:
        return self.n


class SumAcc(Accumulator):
    """RDataFrame's Sum (double) and Mean: Kahan-compensated, one value at a time, as ROOT's helpers.

    The running (sum, compensation) continues across batches in entry order, so the result does
    not depend on batch sizes, the cache or threads. Distributed partial results are ROOT's slots:
    their sums are combined as ``SumHelper::Finalize`` combines the slots of a multi-threaded run.
    """

    def __init__(self, mean: bool = False) -> None:
        self.total, self.compensation, self.n, self.mean = 0.0, 0.0, 0, mean
        self.updated = False
        self.other_slots: list[float] = []  # sums of merged partitions, in entry order

    def update(self, values, entries, n_rows):
        from hepframe.udfs.summation import kahan_continue

        x = flatten(values[0])
        self.total, self.compensation = kahan_continue(x, self.total, self.compensation)
        self.n += len(x)
        self.updated = True

    def slots(self) -> list[float]:
        return ([self.total] if self.updated else []) + self.other_slots

    def merge(self, other: SumAcc) -> None:
        self.other_slots.extend(other.slots())
        self.n += other.n

    def result(self) -> float:
        from hepframe.udfs.summation import kahan_of_slots

        slots = self.slots()
        total = slots[0] if len(slots) == 1 else kahan_of_slots(slots)
        if self.mean:  # MeanHelper::Finalize: sum / (count > 0 ? count : 1)
            return total / (self.n if self.n > 0 else 1)
        return total


class StdDevAcc(Accumulator):
    """RDataFrame's StdDev: Welford's update per value in entry order, then ``StdDevHelper::Finalize``."""

    def __init__(self) -> None:
        self.state: tuple[int, float, float] = (0, 0.0, 0.0)  # count, mean, squared distance from the mean
        self.updated = False
        self.other_slots: list[tuple[int, float, float]] = []

    def update(self, values, entries, n_rows):
        from hepframe.udfs.summation import welford_continue

        self.state = welford_continue(flatten(values[0]), *self.state)
        self.updated = True

    def slots(self) -> list[tuple[int, float, float]]:
        return ([self.state] if self.updated else []) + self.other_slots

    def merge(self, other: StdDevAcc) -> None:
        self.other_slots.extend(other.slots())

    def result(self) -> float:
        from hepframe.udfs.summation import std_dev_of_slots

        return std_dev_of_slots(self.slots())


class ExtremeAcc(Accumulator):
    """RDataFrame's Max/Min: a fold in entry order from numeric_limits<double>::lowest()/max()."""

    def __init__(self, want_max: bool) -> None:
        self.want_max = want_max
        self.value: float = float(-np.finfo(np.float64).max if want_max else np.finfo(np.float64).max)

    def update(self, values, entries, n_rows):
        from hepframe.udfs.jagged import fold_extreme

        self.value = fold_extreme(flatten(values[0]), self.value, self.want_max)

    def merge(self, other: ExtremeAcc) -> None:
        from hepframe.udfs.jagged import fold_extreme

        self.value = fold_extreme(np.array([other.value]), self.value, self.want_max)

    def result(self) -> float:
        return float(self.value)


class StatsAcc(Accumulator):
    """``Stats()``: the values are kept in entry order and filled one by one, as ROOT's StatsHelper does."""

    def __init__(self, kind: str, weighted: bool = False) -> None:
        self.kind, self.weighted = kind, weighted
        self.parts: list[tuple[int, np.ndarray, np.ndarray | None]] = []

    def update(self, values, entries, n_rows):
        if self.weighted:
            x, w = broadcast_fill(values, entries, "Stats")
        else:
            x, w = flatten(values[0]), None
        self.parts.append((int(entries[0]) if len(entries) else -1, np.asarray(x), w))

    def merge(self, other: StatsAcc) -> None:
        self.parts += other.parts

    def result(self) -> Any:
        stat = Statistic()
        for _, x, w in sorted(self.parts, key=lambda p: p[0]):
            stat.fill(x, w)
        return stat


class HistoAcc(Accumulator):
    """N-dimensional histogram with TH1/TH2/TH3's stored statistics (see :mod:`hepframe.roothist`).

    1D goes through the compiled fill of Histo1DAccumulator. The statistics are running sums in
    entry order; ``partial`` (unweighted only) bins a batch on a worker thread and keeps the
    batch's in-range values so that ``merge``, called in entry order, continues the sums exactly.
    """

    def __init__(self, name: str, title: str, axes: list[Axis1D], weighted: bool) -> None:
        self.name, self.title, self.axes, self.weighted = name, title, axes, weighted
        self.one_d = Histo1DAccumulator(Histo1DModel(name, title, axes[0])) if len(axes) == 1 else None
        shape = tuple(a.nbins + 2 for a in axes)
        self.sumw = np.zeros(shape)
        self.sumw2 = np.zeros(shape)
        self.entries = 0
        self.stats = np.zeros(11)
        self.pending: tuple[np.ndarray, np.ndarray | None] | None = None

    def update(self, values, entries, n_rows, defer_stats: bool = False):
        from hepframe.udfs.histogram import stats_continue

        columns = broadcast_fill(values, entries, f"Histogram {self.name!r}")
        weights = columns.pop() if self.weighted else None
        if self.one_d is not None:
            self.one_d.fill(columns[0], weights, defer_stats)
            return
        index, _, coords, w_in = fill_bins(self.axes, columns, weights, self.sumw, self.sumw2)
        self.entries += len(index)
        if defer_stats:
            self.pending = (coords, w_in)
        else:
            stats_continue(coords, w_in, self.stats)

    def partial(self, values, entries, n_rows) -> HistoAcc | None:
        if self.weighted:
            return None  # sums of weights depend on the order of the additions
        out = HistoAcc(self.name, self.title, self.axes, False)  # counts: whole numbers, added exactly
        out.update(values, entries, n_rows, defer_stats=True)
        return out

    def merge(self, other: HistoAcc) -> None:
        from hepframe.udfs.histogram import stats_continue

        if self.one_d is not None:
            assert other.one_d is not None
            self.one_d.merge(other.one_d)
            return
        self.sumw += other.sumw
        self.sumw2 += other.sumw2
        self.entries += other.entries
        if other.pending is not None:
            stats_continue(other.pending[0], other.pending[1], self.stats)
        else:
            self.stats += other.stats

    def result(self):
        from hepframe.roothist import RootHist

        if self.one_d is not None:
            return self.one_d.result()
        return RootHist.from_fill(self.name, self.title, self.axes, self.sumw, self.sumw2, self.stats, self.entries)


class AutoHistoAcc(Accumulator):
    """Histo1D without a range: the values are kept in entry order, then binned as ROOT does (udfs/autobin.py)."""

    def __init__(self, name: str, title: str, axis: Axis1D, weighted: bool) -> None:
        self.name, self.title, self.axis, self.weighted = name, title, axis, weighted
        self.parts: list[tuple[int, np.ndarray, np.ndarray | None]] = []  # (first entry, values, weights)

    def update(self, values, entries, n_rows):
        columns = broadcast_fill(values, entries, f"Histogram {self.name!r}")
        weights = np.asarray(columns.pop(), dtype=np.float64) if self.weighted else None
        self.parts.append((int(entries[0]) if len(entries) else -1, np.asarray(columns[0], dtype=np.float64), weights))

    def merge(self, other: AutoHistoAcc) -> None:
        self.parts += other.parts

    def result(self):
        from hepframe.roothist import RootHist
        from hepframe.udfs.autobin import fill_auto

        parts = sorted(self.parts, key=lambda p: p[0])  # stable: ROOT fills in entry order
        x = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0)
        w = np.concatenate([p[2] for p in parts if p[2] is not None]) if self.weighted and parts else None
        low, high, sumw, sumw2, stats = fill_auto(x, w, self.axis.nbins, extend=self.axis.low == self.axis.high)
        axis = dataclasses.replace(self.axis, low=low, high=high)
        return RootHist.from_fill(self.name, self.title, [axis], sumw, sumw2, stats, len(x))


class ProfileAcc(Accumulator):
    """TProfile / TProfile2D: ROOT's sums and statistics, one Fill at a time in entry order (hepframe.rootprofile)."""

    def __init__(self, name: str, title: str, axes: list[Axis1D], weighted: bool,
                 value_range: tuple[float, float] | None = None) -> None:  # fmt: skip
        from hepframe.rootprofile import ProfileFill

        self.name, self.title, self.axes, self.weighted = name, title, axes, weighted
        self.value_range = value_range  # TProfile's (ylow, yup): other values are not filled
        self.fill = ProfileFill(axes, value_range)

    def update(self, values, entries, n_rows):
        columns = broadcast_fill(values, entries, f"Profile {self.name!r}")
        weights = columns.pop() if self.weighted else None
        y = columns.pop()
        self.fill.fill(columns, y, weights)  # TProfile::Fill value by value; the state carries over between batches

    def merge(self, other: ProfileAcc) -> None:
        self.fill.merge(other.fill)  # TProfileHelper::Merge

    def result(self):
        from hepframe.rootprofile import RootProfile

        return RootProfile.from_fill(self.name, self.title, self.axes, self.fill)


class CollectAcc(Accumulator):
    """Keep the values (AsNumpy, Take, Graph, AsArrow, AsAwkward)."""

    def __init__(self, names: list[str], finish: Callable[[dict[str, list[Value]]], Any]) -> None:
        self.names = names
        self.parts: list[list[Value]] = [[] for _ in names]  # by position: a column may appear twice
        self.starts: list[int] = []  # first entry of each part: merged parts are put in entry order
        self.finish = finish

    def update(self, values, entries, n_rows):
        self.starts.append(int(entries[0]) if len(entries) else -1)
        for part, v in zip(self.parts, values, strict=True):
            part.append(v)

    def merge(self, other: CollectAcc) -> None:
        self.starts += other.starts
        for part, theirs in zip(self.parts, other.parts, strict=True):
            part.extend(theirs)

    def __getstate__(self) -> dict:
        return {"names": self.names, "parts": self.parts, "starts": self.starts}  # finish stays on the driver

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, finish=None)

    def result(self) -> Any:
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)  # stable
        parts = [[part[i] for i in order] for part in self.parts]
        return self.finish(dict(zip(self.names, parts, strict=True)))


def to_awkward(table: Any) -> Any:
    """An Arrow table as an awkward array of records with uproot's types (``AsAwkward``).

    Arrow fields are nullable by default and ``ak.from_arrow`` makes every nullable field an
    option type (``option[var * ?float32]`` where uproot gives ``var * float32``). Fields without
    nulls are marked non-nullable first, a cast of the type only (the buffers are not copied);
    undefined values (nulls) keep their option type.
    """
    import awkward as ak
    import pyarrow as pa

    fields, columns = [], []
    for name, column in zip(table.column_names, table.columns, strict=True):
        required = _required_type(column.type, column.chunks)
        fields.append(pa.field(name, required, nullable=column.null_count > 0))
        columns.append(column if required.equals(column.type) else column.cast(required))
    return ak.from_arrow(pa.table(columns, schema=pa.schema(fields)))


def _required_type(arrow_type: Any, chunks: list) -> Any:
    """``arrow_type`` with its list items non-nullable at every depth where ``chunks`` hold no nulls."""
    import pyarrow as pa

    if not (pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type)):
        return arrow_type
    items = [chunk.flatten() for chunk in chunks]  # the elements of the (non-null) lists
    item_type = _required_type(arrow_type.value_type, items)
    make = pa.large_list if pa.types.is_large_list(arrow_type) else pa.list_
    return make(pa.field(arrow_type.value_field.name, item_type, nullable=any(i.null_count for i in items)))


class ReduceAcc(Accumulator):
    """``Reduce(ufunc, col)`` and ``Aggregate(aggregator, merger, col, init)``."""

    def __init__(self, batch_fn: Callable[[Any], Any], merge: Callable[[Any, Any], Any], init: Any):
        self.batch_fn, self.merge_fn, self.value, self.started = batch_fn, merge, init, False

    def update(self, values, entries, n_rows):
        if len(flatten(values[0])) == 0:
            return  # nothing reached the action in this batch
        partial = self.batch_fn(values[0])
        self.value = partial if not self.started and self.value is None else self.merge_fn(self.value, partial)
        self.started = True

    def merge(self, other: ReduceAcc) -> None:
        if other.started:
            self.value = other.value if not self.started and self.value is None else self.merge_fn(self.value, other.value)
            self.started = True

    def result(self) -> Any:
        return self.value
