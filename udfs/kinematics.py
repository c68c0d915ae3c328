"""ROOT::VecOps kinematics (DeltaPhi, DeltaR, InvariantMass) as numba kernels.

The arithmetic follows RVec.hxx of ROOT 6.40 operation by operation, including where C++
silently promotes to double (``std::fmod(v2 - v1, 2.0 * c)`` in DeltaPhi), so results are
bit-identical to ROOT for float32 and float64 inputs.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def _delta_phi_one(v1, v2, c):  # pragma: no cover - compiled
    # auto r = std::fmod(v2 - v1, 2.0 * c);  -> double
    r = np.fmod(np.float64(v2 - v1), 2.0 * np.float64(c))
    cd = np.float64(c)
    if r < -cd:
        r += 2.0 * cd
    elif r > cd:
        r -= 2.0 * cd
    return r


@numba.njit(cache=True, nogil=True)
def _delta_phi(a, b, c, out):  # pragma: no cover - compiled
    for i in range(len(out)):
        out[i] = _delta_phi_one(a[i], b[i], c)


@numba.njit(cache=True, nogil=True)
def _invariant_mass(offsets, pt, eta, phi, mass, out):  # pragma: no cover - compiled
    for i in range(len(offsets) - 1):
        zero = out[i] - out[i]
        x_sum = zero
        y_sum = zero
        z_sum = zero
        e_sum = zero
        for j in range(offsets[i], offsets[i + 1]):
            x = pt[j] * math.cos(phi[j])
            x_sum += x
            y = pt[j] * math.sin(phi[j])
            y_sum += y
            z = pt[j] * math.sinh(eta[j])
            z_sum += z
            e = math.sqrt(x * x + y * y + z * z + mass[j] * mass[j])
            e_sum += e
        out[i] = math.sqrt(e_sum * e_sum - x_sum * x_sum - y_sum * y_sum - z_sum * z_sum)


def delta_phi(a: np.ndarray, b: np.ndarray, c: float = math.pi) -> np.ndarray:
    """``ROOT::VecOps::DeltaPhi(a, b, c)`` element-wise, in the common type of ``a`` and ``b``."""
    a, b = np.broadcast_arrays(a, b)
    dtype = np.result_type(a.dtype, b.dtype)
    out = np.empty(a.shape, dtype=dtype)
    _delta_phi(a.astype(dtype, copy=False), b.astype(dtype, copy=False), dtype.type(c), out)
    return out


def delta_r(eta1: np.ndarray, eta2: np.ndarray, phi1: np.ndarray, phi2: np.ndarray, c: float = math.pi) -> np.ndarray:
    """``ROOT::VecOps::DeltaR(eta1, eta2, phi1, phi2, c)`` element-wise."""
    arrays = np.broadcast_arrays(eta1, eta2, phi1, phi2)
    dtype = np.result_type(*arrays)
    eta1, eta2, phi1, phi2 = (x.astype(dtype, copy=False) for x in arrays)
    dphi = delta_phi(phi1, phi2, c)  # returned as the element type, as in C++
    deta = eta1 - eta2
    return np.sqrt(deta * deta + dphi * dphi)


def invariant_mass(offsets: np.ndarray, pt: np.ndarray, eta: np.ndarray, phi: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """``ROOT::VecOps::InvariantMass`` of all particles of each event, accumulated in the element type."""
    dtype = np.result_type(pt, eta, phi, mass)
    out = np.zeros(len(offsets) - 1, dtype=dtype)
    pt, eta, phi, mass = (x.astype(dtype, copy=False) for x in (pt, eta, phi, mass))
    _invariant_mass(offsets, pt, eta, phi, mass, out)
    return out
