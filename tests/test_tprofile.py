"""RootProfile filled by udfs/profile.py equals ROOT 6.40's TProfile / TProfile2D bit for bit.

ROOT's numbers come from one subprocess (``import ROOT`` is slow and process-wide): RDataFrame
profiles of Defines of ``rdfentry_``, every accessor printed as JSON (``repr`` floats, exact).
The same columns are computed here with the C library's ``sin``/``cos`` (``math``, as the jitted
C++ calls them) and checked against ROOT's ``AsNumpy``; every comparison is ``==`` (NaN == NaN).
"""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys

import numpy as np
import pytest

from hepframe.histograms import Axis1D
from hepframe.rootprofile import ProfileFill, RootProfile

N = 4800  # 2400 pairs: 30 cycles of "xp", so that the +-1.5 weights of "wc" cancel exactly in range
NAN = "std::numeric_limits<double>::quiet_NaN()"
DEFINES = {
    "x": "4.5 * sin(0.37 * rdfentry_)",  # [-4.5, 4.5]: flows on both sides of [-4, 4)
    "xe": "(rdfentry_ % 80) * 0.125 - 5.0",  # every bin edge of (64, -4, 4), -4 and 4 included
    "xn": f"rdfentry_ % 101 == 0 ? {NAN} : x",  # NaN x: overflow
    "xf": "(float)x",
    "xp": "((rdfentry_ / 2) % 80) * 0.125 - 5.0 + (rdfentry_ % 2) * 0.25",  # pairs in different bins
    "xq": "((rdfentry_ / 2) % 80) * 0.125 - 5.0",  # pairs in the same bin
    "c": "1.6 * cos(0.23 * rdfentry_)",  # second axis (-1.5, 1.5): flows
    "cp": "1.6 * cos(0.23 * (rdfentry_ / 2))",
    "y": "12.0 * cos(0.11 * rdfentry_) + 8.0",  # [-4, 20]: some outside the value range (0, 20)
    "yq": "(rdfentry_ % 23) - 1.0",  # -1 .. 21: exactly on the range's ends 0 and 20
    "yn": f"rdfentry_ % 97 == 0 ? {NAN} : y",
    "w": "0.5 + 0.25 * cos(1.3 * rdfentry_)",
    "w1": "1.0",  # weights, all 1: fBinSumw2 never starts
    "wl": "rdfentry_ < 1000 ? 1.0 : 2.0",  # fBinSumw2 starts at entry 1000
    "wc": "rdfentry_ % 2 == 0 ? 1.5 : -1.5",  # pairs of entries cancel: fTsumw == 0, GetStats from the bins
}


def _columns() -> dict[str, np.ndarray]:
    e = list(range(N))
    nan = math.nan
    x = [4.5 * math.sin(0.37 * i) for i in e]
    y = [12.0 * math.cos(0.11 * i) + 8.0 for i in e]
    cols = {
        "x": x,
        "xe": [(i % 80) * 0.125 - 5.0 for i in e],
        "xn": [nan if i % 101 == 0 else x[i] for i in e],
        "xf": np.asarray(x, dtype=np.float32),
        "xp": [((i // 2) % 80) * 0.125 - 5.0 + (i % 2) * 0.25 for i in e],
        "xq": [((i // 2) % 80) * 0.125 - 5.0 for i in e],
        "c": [1.6 * math.cos(0.23 * i) for i in e],
        "cp": [1.6 * math.cos(0.23 * (i // 2)) for i in e],
        "y": y,
        "yq": [(i % 23) - 1.0 for i in e],
        "yn": [nan if i % 97 == 0 else y[i] for i in e],
        "w": [0.5 + 0.25 * math.cos(1.3 * i) for i in e],
        "w1": [1.0] * N,
        "wl": [1.0 if i < 1000 else 2.0 for i in e],
        "wc": [1.5 if i % 2 == 0 else -1.5 for i in e],
    }
    return {k: np.asarray(v) if k == "xf" else np.asarray(v, dtype=np.float64) for k, v in cols.items()}


EDGES = [-4.0, -1.0, 0.0, 0.5, 2.0, 4.0]
# (model as ROOT's TProfile1DModel / TProfile2DModel arguments, columns: coordinates, value[, weight])
CASES: list[tuple[list, list[str]]] = [
    (["pu", "mean y;x [cm];y [GeV]", 64, -4.0, 4.0], ["x", "y"]),
    (["pr", "", 64, -4.0, 4.0, 0.0, 20.0], ["x", "y"]),
    (["pe", "", 64, -4.0, 4.0, 0.0, 20.0], ["xe", "yq"]),
    (["pn", "", 64, -4.0, 4.0], ["xn", "yn"]),
    (["pnr", "", 64, -4.0, 4.0, 0.0, 20.0], ["xn", "yn"]),
    (["pf", "", 64, -4.0, 4.0], ["xf", "y"]),
    (["pw", "", 64, -4.0, 4.0], ["x", "y", "w"]),
    (["pwr", "", 64, -4.0, 4.0, 0.0, 20.0], ["xe", "yq", "w"]),
    (["pw1", "", 64, -4.0, 4.0], ["x", "y", "w1"]),
    (["pwl", "", 64, -4.0, 4.0, 0.0, 20.0], ["x", "y", "wl"]),
    (["pc", "", 64, -4.0, 4.0], ["xp", "y", "wc"]),
    (["pv", "", 5, EDGES], ["xe", "y", "w"]),
    (["pvr", "", 5, EDGES, 0.0, 20.0], ["xe", "yq"]),
    (["q", "q;x;y;z", 16, -4.0, 4.0, 10, -1.5, 1.5], ["x", "c", "y"]),
    (["qr", "", 16, -4.0, 4.0, 10, -1.5, 1.5, 0.0, 20.0], ["xe", "c", "yq", "w"]),
    (["qw1", "", 16, -4.0, 4.0, 10, -1.5, 1.5], ["x", "c", "y", "w1"]),
    (["qn", "", 16, -4.0, 4.0, 10, -1.5, 1.5], ["xn", "c", "yn", "wl"]),
    (["qc", "", 16, -4.0, 4.0, 10, -1.5, 1.5], ["xp", "cp", "y", "wc"]),
    (["qz", "", 16, -4.0, 4.0, 10, -1.5, 1.5], ["xq", "cp", "y", "wc"]),
]
ERROR_OPTIONS = ["", "s", "i", "g"]

ROOT_SCRIPT = r"""
import json, sys
import numpy as np
import ROOT

spec = json.load(sys.stdin)
df = ROOT.RDataFrame(spec["n"])
for name, expr in spec["defines"].items():
    df = df.Define(name, expr)
booked = []
for model, columns, dim in spec["cases"]:
    model = tuple(np.array(m, dtype=np.float64) if isinstance(m, list) else m for m in model)
    booked.append((df.Profile1D if dim == 1 else df.Profile2D)(model, *columns))
columns = {k: v.astype(np.float64).tolist() for k, v in df.AsNumpy(list(spec["defines"])).items()}
out = []
for result in booked:
    p = result.GetValue()
    dim = p.GetDimension()
    ncells = p.GetNcells()
    stats = np.zeros(13)
    p.GetStats(stats)
    r = {"dim": dim, "ncells": ncells, "stats": stats.tolist(), "entries": p.GetEntries(),
         "effective": p.GetEffectiveEntries(), "title": p.GetTitle(),
         "axis_titles": [p.GetXaxis().GetTitle(), p.GetYaxis().GetTitle(), p.GetZaxis().GetTitle()],
         "nbins": [p.GetNbinsX(), p.GetNbinsY()]}
    for name in ("GetMean", "GetStdDev", "GetMeanError", "GetStdDevError"):
        r[name] = [getattr(p, name)(a) for a in (1, 2, 3)]
    r["content"] = [p.GetBinContent(b) for b in range(ncells)]
    r["bin_entries"] = [p.GetBinEntries(b) for b in range(ncells)]
    r["effective_entries"] = [p.GetBinEffectiveEntries(b) for b in range(ncells)]
    for opt in spec["error_options"]:
        p.SetErrorOption(opt)
        r["error_" + opt] = [p.GetBinError(b) for b in range(ncells)]
    p.SetErrorOption("")
    nx, ny = p.GetNbinsX(), p.GetNbinsY()
    if dim == 1:
        r["integral"] = [p.Integral(), p.Integral(0, nx + 1), p.Integral(3, 9)]
        r["bins2"] = [p.GetBinContent(3, 7), p.GetBinError(nx + 5)]
    else:
        r["integral"] = [p.Integral(), p.Integral(0, nx + 1, 0, ny + 1), p.Integral(3, 9, 2, 4)]
        r["bins2"] = [p.GetBinContent(3, 7), p.GetBinError(nx + 5, -2), p.GetBin(4, 11)]
    out.append(r)
print(json.dumps({"columns": columns, "profiles": out}))
"""


@pytest.fixture(scope="module")
def root_profiles() -> dict:
    cases = [(model, columns, len(_axes(model)[0])) for model, columns in CASES]
    spec = {"n": N, "defines": DEFINES, "cases": cases, "error_options": ERROR_OPTIONS}
    proc = subprocess.run([sys.executable, "-c", ROOT_SCRIPT], input=json.dumps(spec), capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, f"ROOT subprocess failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _axes(model: list) -> tuple[list[Axis1D], tuple[float, float] | None]:
    """Axes and value range from ROOT's model arguments (after name and title)."""
    rest, axes = list(model[2:]), []
    while rest and isinstance(rest[0], int):
        nbins = rest.pop(0)
        if isinstance(rest[0], list):
            edges = tuple(rest.pop(0))
            axes.append(Axis1D(nbins, edges[0], edges[-1], edges))
        else:
            axes.append(Axis1D(nbins, rest.pop(0), rest.pop(0)))
    return axes, (tuple(rest) if rest else None)  # type: ignore[return-value]


def _profile(model: list, columns: list[str], data: dict[str, np.ndarray], batch: int | None = None) -> RootProfile:
    axes, value_range = _axes(model)
    ndim = len(axes)
    coords = [data[c] for c in columns[:ndim]]
    values = data[columns[ndim]]
    weights = data[columns[ndim + 1]] if len(columns) > ndim + 1 else None
    fill = ProfileFill(axes, value_range)
    step = batch or len(values)
    for start in range(0, len(values), step):  # batches in entry order continue the same state
        part = slice(start, start + step)
        fill.fill([c[part] for c in coords], values[part], None if weights is None else weights[part])
    return RootProfile.from_fill(model[0], model[1], axes, fill)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_like_tprofile(ours: RootProfile, theirs: dict, what: str) -> None:
    assert ours.GetDimension() == theirs["dim"] and ours.GetNcells() == theirs["ncells"], what
    assert [ours.GetNbinsX(), ours.GetNbinsY()] == theirs["nbins"], what
    assert ours.GetTitle() == theirs["title"], what
    assert [ours.GetXaxis().GetTitle(), ours.GetYaxis().GetTitle(), ours.GetZaxis().GetTitle()] == theirs["axis_titles"]
    stats = ours.GetStats().tolist()
    assert all(map(_same, stats, theirs["stats"])), f"{what} GetStats: {stats} != {theirs['stats']}"
    for name in ("entries", "effective"):
        got = ours.GetEntries() if name == "entries" else ours.GetEffectiveEntries()
        assert _same(got, theirs[name]), f"{what} {name}: {got!r} != {theirs[name]!r}"
    for name in ("GetMean", "GetStdDev", "GetMeanError", "GetStdDevError"):
        got = [getattr(ours, name)(a) for a in (1, 2, 3)]
        assert all(map(_same, got, theirs[name])), f"{what} {name}: {got} != {theirs[name]}"
    cells = range(theirs["ncells"])
    for key, method in (("content", ours.GetBinContent), ("bin_entries", ours.GetBinEntries),
                        ("effective_entries", ours.GetBinEffectiveEntries)):  # fmt: skip
        got = [method(b) for b in cells]
        bad = [b for b in cells if not _same(got[b], theirs[key][b])]
        assert not bad, f"{what} {key} bin {bad[0]}: {got[bad[0]]!r} != {theirs[key][bad[0]]!r}"
    for opt in ERROR_OPTIONS:
        ours.SetErrorOption(opt)
        got = [ours.GetBinError(b) for b in cells]
        bad = [b for b in cells if not _same(got[b], theirs["error_" + opt][b])]
        assert not bad, f"{what} error {opt!r} bin {bad[0]}: {got[bad[0]]!r} != {theirs['error_' + opt][bad[0]]!r}"
    ours.SetErrorOption("")
    nx, ny = ours.GetNbinsX(), ours.GetNbinsY()
    if ours.GetDimension() == 1:
        integrals = [ours.Integral(), ours.Integral(0, nx + 1), ours.Integral(3, 9)]
        bins2 = [ours.GetBinContent(3, 7), ours.GetBinError(nx + 5)]
    else:
        integrals = [ours.Integral(), ours.Integral(0, nx + 1, 0, ny + 1), ours.Integral(3, 9, 2, 4)]
        bins2 = [ours.GetBinContent(3, 7), ours.GetBinError(nx + 5, -2), ours.GetBin(4, 11)]
    assert all(map(_same, integrals, theirs["integral"])), f"{what} Integral: {integrals} != {theirs['integral']}"
    assert all(map(_same, bins2, theirs["bins2"])), f"{what}: {bins2} != {theirs['bins2']}"
    # the hist side: bin means as ROOT's GetBinContent, sums of weights as GetBinEntries (ROOT's cell order)
    view = ours.view(flow=True)
    assert np.array_equal(view["value"].ravel(order="F"), theirs["content"], equal_nan=True), what
    assert np.array_equal(view["sum_of_weights"].ravel(order="F"), theirs["bin_entries"], equal_nan=True), what


@pytest.mark.root
def test_inputs_are_roots(root_profiles: dict) -> None:
    data = _columns()
    for name, values in root_profiles["columns"].items():
        assert np.array_equal(np.asarray(values), data[name].astype(np.float64), equal_nan=True), name


@pytest.mark.root
@pytest.mark.parametrize("batch", [None, 333])
def test_profiles_match_root(root_profiles: dict, batch: int | None) -> None:
    data = _columns()
    for (model, columns), theirs in zip(CASES, root_profiles["profiles"], strict=True):
        assert_like_tprofile(_profile(model, columns, data, batch), theirs, f"{model[0]} {columns}")


def test_pickle_copy_and_hist_interop() -> None:
    data = _columns()
    model, columns = CASES[9]  # weights 1 then 2, value range
    p = _profile(model, columns, data)
    errors = [p.GetBinError(b) for b in range(p.GetNcells())]
    for other in (pickle.loads(pickle.dumps(p)), p.copy(), p.Clone("c")):
        assert isinstance(other, RootProfile)
        assert [other.GetBinError(b) for b in range(other.GetNcells())] == errors
        assert other.GetMean(2) == p.GetMean(2) and other.GetEntries() == p.GetEntries()
    assert p.Clone("c").GetName() == "c" and p.GetName() == "pwl"
    assert np.array_equal(p.values(), [p.GetBinContent(b) for b in range(1, 65)])
    # writing into the view: the sums come from the view, statistics from the bin centres
    changed = p.copy()
    changed.view(flow=True)["value"][5] += 1.0
    assert changed.GetBinContent(5) == pytest.approx(p.GetBinContent(5) + 1.0)
    assert changed.GetEntries() == pytest.approx(float(np.sum(p.view(flow=True)["sum_of_weights"])))
    part = p[10:20]
    assert part.GetNbinsX() == 10 and part.GetBinContent(1) == pytest.approx(p.GetBinContent(11))
    assert part.GetBinError(1) == pytest.approx(p.GetBinError(11))


def test_merge_adds_parts_as_tprofile_merge() -> None:
    data = _columns()
    axes = [Axis1D(8, -4.0, 4.0)]
    whole, first, second = ProfileFill(axes), ProfileFill(axes), ProfileFill(axes)
    whole.fill([data["x"]], data["y"], data["wl"])
    first.fill([data["x"][:1000]], data["y"][:1000], data["wl"][:1000])  # weights 1: no fBinSumw2
    second.fill([data["x"][1000:]], data["y"][1000:], data["wl"][1000:])
    assert not first.active and second.active
    first.merge(second)
    assert not first.active  # TProfileHelper::Merge does not create fBinSumw2
    np.testing.assert_allclose(first.sums[:3], whole.sums[:3], rtol=1e-12)
    assert first.entries == whole.entries
    np.testing.assert_allclose(first.stats, whole.stats, rtol=1e-12)


def test_mplhep_histplot() -> None:
    mplhep = pytest.importorskip("mplhep")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = _profile(*CASES[6], _columns())
    fig, ax = plt.subplots()
    mplhep.histplot(p, ax=ax)
    plt.close(fig)
