"""ROOT::VecOps kinematics (DeltaPhi, DeltaR, InvariantMass) as numba kernels.

The arithmetic follows RVec.hxx of ROOT 6.40 operation by operation, including where C++
silently promotes to double (``std::fmod(v2 - v1, 2.0 * c)`` in DeltaPhi), so results are
bit-identical to ROOT for float32 and float64 inputs.
"""

from __future__ import annotations

import math

import numba
import numpy as np


def make_delta_phi(fmod):
    """One DeltaPhi in double, written once for the CPU and the GPU.

    Compiled here with numpy's fmod, and as a CUDA device function with ``math.fmod`` by the GPU
    engine (numba's CPU target has no ``math.fmod``).
    """

    def delta_phi_of(v1, v2, c):  # pragma: no cover - compiled
        # auto r = std::fmod(v2 - v1, 2.0 * c);  -> double. fmod(x, y) is x itself when |x| < |y|
        # (the usual case for angles), so the costly call is only made when it changes something.
        x, two_c = np.float64(v2 - v1), 2.0 * np.float64(c)
        r = x if abs(x) < two_c else fmod(x, two_c)
        cd = np.float64(c)
        if r < -cd:
            r += 2.0 * cd
        elif r > cd:
            r -= 2.0 * cd
        return r

    return delta_phi_of


_delta_phi_one = numba.njit(cache=True, nogil=True, forceinline=True)(make_delta_phi(np.fmod))


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
    scalar = np.ndim(a) == 0 and np.ndim(b) == 0
    a, b = np.broadcast_arrays(np.atleast_1d(a), np.atleast_1d(b))
    dtype = np.result_type(a.dtype, b.dtype)
    out = np.empty(a.shape, dtype=dtype)
    _delta_phi(a.astype(dtype, copy=False), b.astype(dtype, copy=False), dtype.type(c), out)
    return out[0] if scalar else out


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


@numba.njit(cache=True, nogil=True)
def _invariant_masses(pt1, eta1, phi1, m1, pt2, eta2, phi2, m2, one, two, out):  # pragma: no cover - compiled
    # one and two are typed like the elements: numba would make int * float32 a float64.
    for i in range(len(out)):
        x1 = pt1[i] * math.cos(phi1[i])
        y1 = pt1[i] * math.sin(phi1[i])
        z1 = pt1[i] * math.sinh(eta1[i])
        x2 = pt2[i] * math.cos(phi2[i])
        y2 = pt2[i] * math.sin(phi2[i])
        z2 = pt2[i] * math.sinh(eta2[i])
        mass1, mass2 = m1[i], m2[i]
        # InvariantMasses_PxPyPzM of ROOT 6.40, operation by operation.
        p1_sq = x1 * x1 + y1 * y1 + z1 * z1
        p2_sq = x2 * x2 + y2 * y2 + z2 * z2
        if p1_sq <= 0 and p2_sq <= 0:
            out[i] = mass1 + mass2
            continue
        if p1_sq <= 0 or p2_sq <= 0:
            if p1_sq <= 0:
                mm = mass1 + math.sqrt(mass2 * mass2 + p2_sq)
                m2sq = mm * mm - p2_sq
            else:
                mm = mass2 + math.sqrt(mass1 * mass1 + p1_sq)
                m2sq = mm * mm - p1_sq
            out[i] = math.sqrt(m2sq) if m2sq >= 0 else math.sqrt(-m2sq)
            continue
        m1_sq = mass1 * mass1
        m2_sq = mass2 * mass2
        r1 = m1_sq / p1_sq
        r2 = m2_sq / p2_sq
        x = r1 + r2 + r1 * r2
        cx = y1 * z2 - y2 * z1
        cy = x1 * z2 - x2 * z1
        cz = x1 * y2 - x2 * y1
        c = math.sqrt(cx * cx + cy * cy + cz * cz)
        d = x1 * x2 + y1 * y2 + z1 * z2
        a = math.atan2(c, d)
        cos_a = math.cos(a)
        if cos_a >= 0:
            y = (x + math.sin(a) * math.sin(a)) / (math.sqrt(x + one) + cos_a)
        else:
            y = math.sqrt(x + one) - cos_a
        z = two * math.sqrt(p1_sq * p2_sq)
        out[i] = math.sqrt(m1_sq + m2_sq + y * z)


def invariant_masses(pt1, eta1, phi1, m1, pt2, eta2, phi2, m2) -> np.ndarray:
    """``ROOT::VecOps::InvariantMasses`` element-wise over equally long flat arrays."""
    arrays = [np.asarray(a) for a in (pt1, eta1, phi1, m1, pt2, eta2, phi2, m2)]
    dtype = np.result_type(*arrays)
    a = [x.astype(dtype, copy=False) for x in arrays]
    out = np.empty(len(a[0]), dtype=dtype)
    _invariant_masses(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], dtype.type(1), dtype.type(2), out)
    return out
