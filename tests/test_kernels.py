"""The numba kernels in ``hepframe.udfs`` against the plain definitions they shortcut."""

from __future__ import annotations

import numpy as np
import pytest
from hepframe.udfs import jagged, kinematics


def _delta_phi_by_definition(a: np.ndarray, b: np.ndarray, c: float) -> np.ndarray:
    """RVec.hxx: r = std::fmod(v2 - v1, 2.0 * c) in double, folded into [-c, c], in the element type."""
    cd = np.float64(a.dtype.type(c))  # c has the element type, as in C++
    with np.errstate(invalid="ignore"):  # fmod of inf is NaN, as in C
        r = np.fmod((b - a).astype(np.float64), 2.0 * cd)
    r = np.where(r < -cd, r + 2.0 * cd, np.where(r > cd, r - 2.0 * cd, r))
    return r.astype(a.dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_delta_phi_skips_fmod_only_where_fmod_is_the_identity(dtype):
    rng = np.random.default_rng(7)
    a = np.concatenate([rng.uniform(-4, 4, 20000), rng.uniform(-100, 100, 20000),
                        [0.0, -0.0, np.nan, np.inf, -np.inf, np.pi, -np.pi, 2 * np.pi, 1e300]]).astype(dtype)  # fmt: skip
    b = np.concatenate([rng.uniform(-4, 4, 20000), rng.uniform(-100, 100, 20000),
                        [-0.0, 0.0, 1.0, 1.0, 1.0, -np.pi, np.pi, 0.0, -1e300]]).astype(dtype)  # fmt: skip
    for c in (np.pi, 1.0, -2.0):
        got = kinematics.delta_phi(a, b, c)
        want = _delta_phi_by_definition(a, b, c)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))  # bitwise


def test_take_marks_events_with_an_index_out_of_range():
    v_offsets, values = np.array([0, 3, 3, 5]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    idx_offsets = np.array([0, 2, 3, 5])
    idx = np.array([2, 0, 0, 1, 2], dtype=np.uint64)  # event 1 is empty: index 0 is out of range
    taken, ok = jagged.take(v_offsets, values, idx_offsets, idx)
    assert list(ok) == [True, False, False]  # event 2 asks for index 2 of 2 elements
    assert list(taken[:2]) == [3.0, 1.0] and taken[3] == 5.0
    taken, ok = jagged.take(v_offsets, values, idx_offsets, np.array([1, 0, 0, 1, 0], dtype=np.int32))
    assert list(ok) == [True, False, True] and list(taken[3:]) == [5.0, 4.0]
    _, ok = jagged.take(v_offsets, values, idx_offsets, np.array([0, 2**64 - 1, 0, 0, 0], dtype=np.uint64))
    assert not ok[0]
