"""ROOT 6.40's TAxis::FindFixBin, reproduced exactly (edges, under/overflow, NaN, infinities)."""

from __future__ import annotations

import numpy as np
import pytest

from hepframe.histograms import Axis1D, parse_histo1d_model


def _tricky_values(lo: float, hi: float, n: int) -> np.ndarray:
    # Edges as TAxis::GetBinLowEdge computes them, as a user would compute them, and their neighbours.
    root_edges = lo + np.arange(n + 1) * ((hi - lo) / n)
    user_edges = lo + np.arange(n + 1) / n * (hi - lo)
    edges = np.concatenate([root_edges, user_edges])
    rng = np.random.default_rng(5)
    return np.concatenate([
        edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf), rng.uniform(lo - 1, hi + 1, 2000),
        [np.nan, np.inf, -np.inf, -0.0, 0.0, lo, hi],
    ])  # fmt: skip


@pytest.mark.root
@pytest.mark.parametrize(("n", "lo", "hi"), [(30000, 0.25, 300.0), (100, 0.0, 200.0), (7, -1.3, 2.9), (3, 0.1, 0.7)])
def test_fixed_bins_match_root(n: int, lo: float, hi: float, ROOT) -> None:  # noqa: N803
    axis = ROOT.TAxis(n, lo, hi)
    values = _tricky_values(lo, hi, n)
    expected = np.array([axis.FindFixBin(float(v)) for v in values])
    ours = Axis1D(n, lo, hi).find_bin(values)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.root
def test_variable_bins_match_root(ROOT) -> None:  # noqa: N803
    edges = np.array([0.0, 0.1, 0.7, 1.0, 5.0, 50.0])
    axis = ROOT.TAxis(len(edges) - 1, edges)
    values = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf), [np.nan, 100.0, -1.0]])
    expected = np.array([axis.FindFixBin(float(v)) for v in values])
    ours = parse_histo1d_model(("h", "", 5, edges)).axis.find_bin(values)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.root
@pytest.mark.parametrize(("n", "lo", "hi"), [(30000, 0.25, 300.0), (100, 0.0, 1.0), (7, -1.3, 2.9)])
def test_compiled_fill_matches_root(n: int, lo: float, hi: float, ROOT) -> None:  # noqa: N803
    from hepframe.histograms import Histo1DAccumulator

    values = _tricky_values(lo, hi, n)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(values))
    acc = Histo1DAccumulator(parse_histo1d_model(("h", "", n, lo, hi)))
    acc.fill(values.astype(np.float32))  # float32 columns fill as double, like TH1::Fill
    acc.fill(values, weights)
    ROOT.TH1.AddDirectory(False)
    h = ROOT.TH1D(f"h_fill_{n}", "", n, lo, hi)
    h.Sumw2()
    for v in values.astype(np.float32):
        h.Fill(float(v))
    for v, w in zip(values, weights, strict=True):
        h.Fill(float(v), float(w))
    expected = np.array([h.GetBinContent(i) for i in range(n + 2)])
    np.testing.assert_allclose(acc.sumw, expected, rtol=1e-12, atol=0)
    assert acc.entries == 2 * len(values)
