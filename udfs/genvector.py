"""ROOT::Math Lorentz vectors (GenVector) as numba scalar functions, bit-identical to ROOT.

A vector of ``LorentzVector<S4D<double>>`` is a tuple of 4 float64 holding what the C++ object
stores for its coordinate system:

- ``ptetaphim``: (pt, eta, phi, m), ``ROOT::Math::PtEtaPhiMVector``
- ``ptetaphie``: (pt, eta, phi, e), ``ROOT::Math::PtEtaPhiEVector``
- ``pxpypze``: (px, py, pz, e), ``ROOT::Math::PxPyPzEVector`` (== ``XYZTVector``)
- ``pxpypzm``: (px, py, pz, m), ``ROOT::Math::PxPyPzMVector``

Every function follows ROOT 6.40's headers (``Math/GenVector/LorentzVector.h``, ``PtEtaPhiM4D.h``,
``PtEtaPhiE4D.h``, ``PxPyPzE4D.h``, ``PxPyPzM4D.h``, ``eta.h``, ``VectorUtil.h``) operation by
operation, in double precision and in the C++ evaluation order, calling the same C library
functions (numba's ``math.sin``, ``cosh``, ``atan2``, ``log``, ... on float64 call libm as C++ does),
so results match ROOT bit for bit. GenVector's exceptions are off by default (``GenVector_Throw``
returns): the functions return what C++ returns then.

Per system ``S``: ``S_new(a, b, c, d)`` (the constructor), the accessors ``S_x`` ... ``S_theta``,
``S_from_xyzt`` (``SetPxPyPzE``, what ``+=`` uses), ``S_from_vector`` (the converting constructor
from an ``XYZTVector``), ``S_add``/``S_sub`` (``v + w``/``v - w`` with ``w`` given by its x, y, z, t),
``S_scale`` (``v * a``), ``S_neg`` (``-v``); ``convert_A_to_B`` (``LorentzVector<B>(LorentzVector<A>)``);
``vu_*``: ``ROOT::Math::VectorUtil`` on the vectors' accessor values.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_PI = 3.14159265358979323846  # TMath::Pi() == M_PI
_ETA_MAX = 22756.0  # etaMax<double>()
_BIG_Z_SCALED = 8192.0  # Eta_FromRhoZ: pow(numeric_limits<double>::epsilon(), -0.25) == 2^13

_SYSTEMS = ("ptetaphim", "ptetaphie", "pxpypze", "pxpypzm")
_ACCESSORS = ("x", "y", "z", "t", "pt", "eta", "phi", "m", "e", "p", "m2", "pt2", "mt", "et", "rapidity", "beta",
              "gamma", "theta")  # fmt: skip
_OPERATIONS = ("new", "from_xyzt", "from_vector", "add", "sub", "scale", "neg")

__all__ = [
    *[f"{s}_{f}" for s in _SYSTEMS for f in (*_OPERATIONS, *_ACCESSORS)],
    *[f"convert_{a}_to_{b}" for a in _SYSTEMS for b in _SYSTEMS if a != b],
    "vu_delta_phi",
    "vu_delta_r",
    "vu_delta_r2",
    "vu_invariant_mass",
]

# error_model="numpy": a division by zero gives inf or NaN as in C++ (numba's default raises ZeroDivisionError).
_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
# LorentzVector's + and - (and the SetPxPyPzE they end with) are compiled into each caller (LLVM's
# always-inline): the caller's optimizer then drops the coordinates it never reads, e.g. the eta
# (log), phi (atan2) and mass of ``p1 + p2`` of which only ``.pt()`` is used (3x faster there).
_jit_inline = numba.njit(cache=True, nogil=True, error_model="numpy", forceinline=True)

# -- shared pieces -------------------------------------------------------------------------------


@_jit
def _restrict_phi(phi):  # PtEtaPhiM4D::RestrictPhi, PtEtaPhiE4D::Restrict
    # np.floor keeps a double; numba's math.floor returns an int64 (wrong for |phi| >= 2^63 * 2 pi, inf, NaN)
    if phi <= -_PI or phi > _PI:
        phi = phi - np.floor(phi / (2 * _PI) + 0.5) * 2 * _PI
    return phi


@_jit
def _signed_sqrt(mm):  # the `mm >= 0 ? sqrt(mm) : -sqrt(-mm)` of M() and Mt()
    if mm >= 0:
        return math.sqrt(mm)
    return -math.sqrt(-mm)


@_jit
def _eta_from_rho_z(rho, z):  # Impl::Eta_FromRhoZ (eta.h)
    if rho > 0:
        z_scaled = z / rho
        if abs(z_scaled) < _BIG_Z_SCALED:
            return math.log(z_scaled + math.sqrt(z_scaled * z_scaled + 1.0))
        return math.log(2.0 * z_scaled + 0.5 / z_scaled) if z > 0 else -math.log(-2.0 * z_scaled)
    if z == 0:
        return 0.0
    if z > 0:
        return z + _ETA_MAX
    return z - _ETA_MAX


@_jit
def _cyl_pz(pt, eta):  # PtEtaPhi{M,E}4D::Pz
    if pt > 0:
        return pt * math.sinh(eta)
    if eta == 0:
        return 0.0
    return eta - _ETA_MAX if eta > 0 else eta + _ETA_MAX


@_jit
def _cyl_p(pt, eta):  # PtEtaPhi{M,E}4D::P
    if pt > 0:
        return pt * math.cosh(eta)
    if eta > _ETA_MAX:
        return eta - _ETA_MAX
    if eta < -_ETA_MAX:
        return -eta - _ETA_MAX
    return 0.0


@_jit
def _cyl_theta(pt, eta):  # PtEtaPhi{M,E}4D::Theta
    if pt > 0:
        return 2.0 * math.atan(math.exp(-eta))
    return 0.0 if eta >= 0 else _PI


@_jit
def _cart_phi(x, y):  # PxPyPz{E,M}4D::Phi
    return 0.0 if x == 0.0 and y == 0.0 else math.atan2(y, x)


@_jit
def _cart_theta(x, y, z):  # PxPyPz{E,M}4D::Theta
    return 0.0 if x == 0.0 and y == 0.0 and z == 0.0 else math.atan2(math.sqrt(x * x + y * y), z)


@_jit
def _m2_from_m(m):  # PtEtaPhiM4D::M2, PxPyPzM4D::M2
    return m * m if m >= 0 else -m * m


@_jit
def _lv_rapidity(e, pz):  # LorentzVector::Rapidity
    return 0.5 * math.log((e + pz) / (e - pz))


@_jit
def _lv_beta(e, p):  # LorentzVector::Beta (P2() there is P() * P())
    if e == 0:
        if p * p == 0:
            return 0.0
        return 1.0 / e
    return p / e  # M2() <= 0 only throws (exceptions are off)


@_jit
def _lv_gamma(e, p):  # LorentzVector::Gamma
    v2 = p * p
    t2 = e * e
    if e == 0 and p * p == 0:
        return 1.0
    if t2 < v2:
        return 0.0
    return 1.0 / math.sqrt(1.0 - v2 / t2)


# -- PtEtaPhiMVector: (pt, eta, phi, m) ----------------------------------------------------------


@_jit
def _ptetaphim_e2(pt, eta, m):  # PtEtaPhiM4D::E2
    p = _cyl_p(pt, eta)
    e2 = p * p + _m2_from_m(m)
    return e2 if e2 > 0 else 0.0


@_jit
def ptetaphim_new(a, b, c, d):  # PtEtaPhiM4D(pt, eta, phi, mass): RestrictPhi, RestrictNegMass
    pt, eta, phi, m = np.float64(a), np.float64(b), np.float64(c), np.float64(d)
    phi = _restrict_phi(phi)
    if m < 0:
        p = _cyl_p(pt, eta)
        if p * p - m * m < 0:
            m = -p
    return pt, eta, phi, m


@_jit
def ptetaphim_x(v):  # PtEtaPhiM4D::Px
    return v[0] * math.cos(v[2])


@_jit
def ptetaphim_y(v):  # PtEtaPhiM4D::Py
    return v[0] * math.sin(v[2])


@_jit
def ptetaphim_z(v):  # PtEtaPhiM4D::Pz
    return _cyl_pz(v[0], v[1])


@_jit
def ptetaphim_e(v):  # PtEtaPhiM4D::E
    return math.sqrt(_ptetaphim_e2(v[0], v[1], v[3]))


@_jit
def ptetaphim_t(v):  # LorentzVector::t() == E()
    return ptetaphim_e(v)


@_jit
def ptetaphim_pt(v):  # PtEtaPhiM4D::Pt
    return v[0]


@_jit
def ptetaphim_eta(v):  # PtEtaPhiM4D::Eta
    return v[1]


@_jit
def ptetaphim_phi(v):  # PtEtaPhiM4D::Phi
    return v[2]


@_jit
def ptetaphim_m(v):  # PtEtaPhiM4D::M
    return v[3]


@_jit
def ptetaphim_p(v):  # PtEtaPhiM4D::R == P
    return _cyl_p(v[0], v[1])


@_jit
def ptetaphim_m2(v):  # PtEtaPhiM4D::M2
    return _m2_from_m(v[3])


@_jit
def ptetaphim_pt2(v):  # PtEtaPhiM4D::Perp2
    return v[0] * v[0]


@_jit
def ptetaphim_mt(v):  # PtEtaPhiM4D::Mt (Mt2 = M2() + fPt * fPt)
    return _signed_sqrt(_m2_from_m(v[3]) + v[0] * v[0])


@_jit
def ptetaphim_et(v):  # PtEtaPhiM4D::Et
    return ptetaphim_e(v) / math.cosh(v[1])


@_jit
def ptetaphim_rapidity(v):  # LorentzVector::Rapidity
    return _lv_rapidity(ptetaphim_e(v), _cyl_pz(v[0], v[1]))


@_jit
def ptetaphim_beta(v):  # LorentzVector::Beta
    return _lv_beta(ptetaphim_e(v), _cyl_p(v[0], v[1]))


@_jit
def ptetaphim_gamma(v):  # LorentzVector::Gamma
    return _lv_gamma(ptetaphim_e(v), _cyl_p(v[0], v[1]))


@_jit
def ptetaphim_theta(v):  # PtEtaPhiM4D::Theta
    return _cyl_theta(v[0], v[1])


@_jit_inline
def ptetaphim_from_xyzt(x, y, z, t):  # PtEtaPhiM4D::SetPxPyPzE: operator=(PxPyPzE4D): Pt, Eta, Phi, M (no Restrict)
    v = pxpypze_new(x, y, z, t)
    return pxpypze_pt(v), pxpypze_eta(v), pxpypze_phi(v), pxpypze_m(v)


@_jit
def ptetaphim_from_vector(x, y, z, t):  # PtEtaPhiMVector(XYZTVector(x, y, z, t))
    return convert_pxpypze_to_ptetaphim(pxpypze_new(x, y, z, t))


@_jit_inline
def ptetaphim_add(v, wx, wy, wz, wt):  # LorentzVector::operator+: copy, then += (SetXYZT(x() + q.x(), ...))
    return ptetaphim_from_xyzt(ptetaphim_x(v) + wx, ptetaphim_y(v) + wy, ptetaphim_z(v) + wz, ptetaphim_t(v) + wt)


@_jit_inline
def ptetaphim_sub(v, wx, wy, wz, wt):  # LorentzVector::operator-: copy, then -=
    return ptetaphim_from_xyzt(ptetaphim_x(v) - wx, ptetaphim_y(v) - wy, ptetaphim_z(v) - wz, ptetaphim_t(v) - wt)


@_jit
def ptetaphim_scale(v, a):  # PtEtaPhiM4D::Scale: Negate (phi, eta only) if a < 0; pt and m times |a|
    pt, eta, phi, m = v
    s = np.float64(a)
    if s < 0:
        phi = phi - _PI if phi > 0 else phi + _PI
        eta = -eta
        s = -s
    return pt * s, eta, phi, m * s


@_jit
def ptetaphim_neg(v):  # LorentzVector::operator-(): operator*(-1)
    return ptetaphim_scale(v, -1.0)


# -- PtEtaPhiEVector: (pt, eta, phi, e) ----------------------------------------------------------


@_jit
def ptetaphie_new(a, b, c, d):  # PtEtaPhiE4D(pt, eta, phi, e): Restrict (phi)
    return np.float64(a), np.float64(b), _restrict_phi(np.float64(c)), np.float64(d)


@_jit
def ptetaphie_x(v):  # PtEtaPhiE4D::Px
    return v[0] * math.cos(v[2])


@_jit
def ptetaphie_y(v):  # PtEtaPhiE4D::Py
    return v[0] * math.sin(v[2])


@_jit
def ptetaphie_z(v):  # PtEtaPhiE4D::Pz
    return _cyl_pz(v[0], v[1])


@_jit
def ptetaphie_e(v):  # PtEtaPhiE4D::E
    return v[3]


@_jit
def ptetaphie_t(v):  # LorentzVector::t() == E()
    return v[3]


@_jit
def ptetaphie_pt(v):  # PtEtaPhiE4D::Pt
    return v[0]


@_jit
def ptetaphie_eta(v):  # PtEtaPhiE4D::Eta
    return v[1]


@_jit
def ptetaphie_phi(v):  # PtEtaPhiE4D::Phi
    return v[2]


@_jit
def ptetaphie_m2(v):  # PtEtaPhiE4D::M2
    p = _cyl_p(v[0], v[1])
    return v[3] * v[3] - p * p


@_jit
def ptetaphie_m(v):  # PtEtaPhiE4D::M
    return _signed_sqrt(ptetaphie_m2(v))


@_jit
def ptetaphie_p(v):  # PtEtaPhiE4D::R == P
    return _cyl_p(v[0], v[1])


@_jit
def ptetaphie_pt2(v):  # PtEtaPhiE4D::Perp2
    return v[0] * v[0]


@_jit
def ptetaphie_mt(v):  # PtEtaPhiE4D::Mt (Mt2 = fE * fE - pz * pz)
    pz = _cyl_pz(v[0], v[1])
    return _signed_sqrt(v[3] * v[3] - pz * pz)


@_jit
def ptetaphie_et(v):  # PtEtaPhiE4D::Et
    return v[3] / math.cosh(v[1])


@_jit
def ptetaphie_rapidity(v):  # LorentzVector::Rapidity
    return _lv_rapidity(v[3], _cyl_pz(v[0], v[1]))


@_jit
def ptetaphie_beta(v):  # LorentzVector::Beta
    return _lv_beta(v[3], _cyl_p(v[0], v[1]))


@_jit
def ptetaphie_gamma(v):  # LorentzVector::Gamma
    return _lv_gamma(v[3], _cyl_p(v[0], v[1]))


@_jit
def ptetaphie_theta(v):  # PtEtaPhiE4D::Theta
    return _cyl_theta(v[0], v[1])


@_jit_inline
def ptetaphie_from_xyzt(x, y, z, t):  # PtEtaPhiE4D::SetPxPyPzE: operator=(PxPyPzE4D): Pt, Eta, Phi, E
    v = pxpypze_new(x, y, z, t)
    return pxpypze_pt(v), pxpypze_eta(v), pxpypze_phi(v), v[3]


@_jit
def ptetaphie_from_vector(x, y, z, t):  # PtEtaPhiEVector(XYZTVector(x, y, z, t))
    return convert_pxpypze_to_ptetaphie(pxpypze_new(x, y, z, t))


@_jit_inline
def ptetaphie_add(v, wx, wy, wz, wt):  # LorentzVector::operator+: copy, then +=
    return ptetaphie_from_xyzt(ptetaphie_x(v) + wx, ptetaphie_y(v) + wy, ptetaphie_z(v) + wz, v[3] + wt)


@_jit_inline
def ptetaphie_sub(v, wx, wy, wz, wt):  # LorentzVector::operator-: copy, then -=
    return ptetaphie_from_xyzt(ptetaphie_x(v) - wx, ptetaphie_y(v) - wy, ptetaphie_z(v) - wz, v[3] - wt)


@_jit
def ptetaphie_scale(v, a):  # PtEtaPhiE4D::Scale: Negate (phi, eta, e) if a < 0; pt and e times |a|
    pt, eta, phi, e = v
    s = np.float64(a)
    if s < 0:
        phi = phi - _PI if phi > 0 else phi + _PI
        eta = -eta
        e = -e
        s = -s
    return pt * s, eta, phi, e * s


@_jit
def ptetaphie_neg(v):  # LorentzVector::operator-(): operator*(-1)
    return ptetaphie_scale(v, -1.0)


# -- PxPyPzEVector == XYZTVector: (px, py, pz, e) -------------------------------------------------


@_jit
def pxpypze_new(a, b, c, d):  # PxPyPzE4D(px, py, pz, e)
    return np.float64(a), np.float64(b), np.float64(c), np.float64(d)


@_jit
def pxpypze_x(v):  # PxPyPzE4D::Px
    return v[0]


@_jit
def pxpypze_y(v):  # PxPyPzE4D::Py
    return v[1]


@_jit
def pxpypze_z(v):  # PxPyPzE4D::Pz
    return v[2]


@_jit
def pxpypze_e(v):  # PxPyPzE4D::E
    return v[3]


@_jit
def pxpypze_t(v):  # PxPyPzE4D::E
    return v[3]


@_jit
def pxpypze_pt2(v):  # PxPyPzE4D::Perp2
    return v[0] * v[0] + v[1] * v[1]


@_jit
def pxpypze_pt(v):  # PxPyPzE4D::Pt
    return math.sqrt(v[0] * v[0] + v[1] * v[1])


@_jit
def pxpypze_eta(v):  # PxPyPzE4D::Eta
    return _eta_from_rho_z(pxpypze_pt(v), v[2])


@_jit
def pxpypze_phi(v):  # PxPyPzE4D::Phi
    return _cart_phi(v[0], v[1])


@_jit
def pxpypze_m2(v):  # PxPyPzE4D::M2
    return v[3] * v[3] - v[0] * v[0] - v[1] * v[1] - v[2] * v[2]


@_jit
def pxpypze_m(v):  # PxPyPzE4D::M
    return _signed_sqrt(pxpypze_m2(v))


@_jit
def pxpypze_p(v):  # PxPyPzE4D::R == P
    return math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


@_jit
def pxpypze_mt(v):  # PxPyPzE4D::Mt (Mt2 = fT * fT - fZ * fZ)
    return _signed_sqrt(v[3] * v[3] - v[2] * v[2])


@_jit
def pxpypze_et(v):  # PxPyPzE4D::Et (Et2 = pt2 == 0 ? 0 : fT * fT * pt2 / (pt2 + fZ * fZ))
    pt2 = v[0] * v[0] + v[1] * v[1]
    etet = 0.0 if pt2 == 0 else v[3] * v[3] * pt2 / (pt2 + v[2] * v[2])
    return -math.sqrt(etet) if v[3] < 0.0 else math.sqrt(etet)


@_jit
def pxpypze_rapidity(v):  # LorentzVector::Rapidity
    return _lv_rapidity(v[3], v[2])


@_jit
def pxpypze_beta(v):  # LorentzVector::Beta
    return _lv_beta(v[3], pxpypze_p(v))


@_jit
def pxpypze_gamma(v):  # LorentzVector::Gamma
    return _lv_gamma(v[3], pxpypze_p(v))


@_jit
def pxpypze_theta(v):  # PxPyPzE4D::Theta
    return _cart_theta(v[0], v[1], v[2])


@_jit_inline
def pxpypze_from_xyzt(x, y, z, t):  # PxPyPzE4D::SetPxPyPzE
    return np.float64(x), np.float64(y), np.float64(z), np.float64(t)


@_jit
def pxpypze_from_vector(x, y, z, t):  # XYZTVector(XYZTVector(x, y, z, t)): a copy
    return np.float64(x), np.float64(y), np.float64(z), np.float64(t)


@_jit_inline
def pxpypze_add(v, wx, wy, wz, wt):  # LorentzVector::operator+: copy, then +=
    return v[0] + wx, v[1] + wy, v[2] + wz, v[3] + wt


@_jit_inline
def pxpypze_sub(v, wx, wy, wz, wt):  # LorentzVector::operator-: copy, then -=
    return v[0] - wx, v[1] - wy, v[2] - wz, v[3] - wt


@_jit
def pxpypze_scale(v, a):  # PxPyPzE4D::Scale
    s = np.float64(a)
    return v[0] * s, v[1] * s, v[2] * s, v[3] * s


@_jit
def pxpypze_neg(v):  # LorentzVector::operator-(): operator*(-1)
    return pxpypze_scale(v, -1.0)


# -- PxPyPzMVector: (px, py, pz, m) --------------------------------------------------------------


@_jit
def _pxpypzm_e2(v):  # PxPyPzM4D::E2
    e2 = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]) + _m2_from_m(v[3])
    return e2 if e2 > 0 else 0.0


@_jit
def pxpypzm_new(a, b, c, d):  # PxPyPzM4D(px, py, pz, m): RestrictNegMass
    x, y, z, m = np.float64(a), np.float64(b), np.float64(c), np.float64(d)
    if m < 0:
        p2 = x * x + y * y + z * z  # P2()
        if p2 - m * m < 0:
            m = -np.sqrt(p2)  # -P()
    return x, y, z, m


@_jit
def pxpypzm_x(v):  # PxPyPzM4D::Px
    return v[0]


@_jit
def pxpypzm_y(v):  # PxPyPzM4D::Py
    return v[1]


@_jit
def pxpypzm_z(v):  # PxPyPzM4D::Pz
    return v[2]


@_jit
def pxpypzm_e(v):  # PxPyPzM4D::E
    return math.sqrt(_pxpypzm_e2(v))


@_jit
def pxpypzm_t(v):  # LorentzVector::t() == E()
    return math.sqrt(_pxpypzm_e2(v))


@_jit
def pxpypzm_pt2(v):  # PxPyPzM4D::Perp2
    return v[0] * v[0] + v[1] * v[1]


@_jit
def pxpypzm_pt(v):  # PxPyPzM4D::Pt
    return math.sqrt(v[0] * v[0] + v[1] * v[1])


@_jit
def pxpypzm_eta(v):  # PxPyPzM4D::Eta
    return _eta_from_rho_z(pxpypzm_pt(v), v[2])


@_jit
def pxpypzm_phi(v):  # PxPyPzM4D::Phi
    return _cart_phi(v[0], v[1])


@_jit
def pxpypzm_m(v):  # PxPyPzM4D::M
    return v[3]


@_jit
def pxpypzm_m2(v):  # PxPyPzM4D::M2
    return _m2_from_m(v[3])


@_jit
def pxpypzm_p(v):  # PxPyPzM4D::R == P
    return math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])


@_jit
def pxpypzm_mt(v):  # PxPyPzM4D::Mt (Mt2 = E2() - fZ * fZ)
    return _signed_sqrt(_pxpypzm_e2(v) - v[2] * v[2])


@_jit
def pxpypzm_et(v):  # PxPyPzM4D::Et (Et2 = pt2 == 0 ? 0 : E2() * pt2 / (pt2 + fZ * fZ))
    pt2 = v[0] * v[0] + v[1] * v[1]
    return math.sqrt(0.0 if pt2 == 0 else _pxpypzm_e2(v) * pt2 / (pt2 + v[2] * v[2]))


@_jit
def pxpypzm_rapidity(v):  # LorentzVector::Rapidity
    return _lv_rapidity(pxpypzm_e(v), v[2])


@_jit
def pxpypzm_beta(v):  # LorentzVector::Beta
    return _lv_beta(pxpypzm_e(v), pxpypzm_p(v))


@_jit
def pxpypzm_gamma(v):  # LorentzVector::Gamma
    return _lv_gamma(pxpypzm_e(v), pxpypzm_p(v))


@_jit
def pxpypzm_theta(v):  # PxPyPzM4D::Theta
    return _cart_theta(v[0], v[1], v[2])


@_jit_inline
def pxpypzm_from_xyzt(x, y, z, t):  # PxPyPzM4D::SetPxPyPzE: operator=(PxPyPzE4D): X, Y, Z, M (no RestrictNegMass)
    v = pxpypze_new(x, y, z, t)
    return v[0], v[1], v[2], pxpypze_m(v)


@_jit
def pxpypzm_from_vector(x, y, z, t):  # PxPyPzMVector(XYZTVector(x, y, z, t))
    return convert_pxpypze_to_pxpypzm(pxpypze_new(x, y, z, t))


@_jit_inline
def pxpypzm_add(v, wx, wy, wz, wt):  # LorentzVector::operator+: copy, then +=
    return pxpypzm_from_xyzt(v[0] + wx, v[1] + wy, v[2] + wz, pxpypzm_t(v) + wt)


@_jit_inline
def pxpypzm_sub(v, wx, wy, wz, wt):  # LorentzVector::operator-: copy, then -=
    return pxpypzm_from_xyzt(v[0] - wx, v[1] - wy, v[2] - wz, pxpypzm_t(v) - wt)


@_jit
def pxpypzm_scale(v, a):  # PxPyPzM4D::Scale: all four times a (a < 0 leaves a negative mass)
    s = np.float64(a)
    return v[0] * s, v[1] * s, v[2] * s, v[3] * s


@_jit
def pxpypzm_neg(v):  # LorentzVector::operator-(): operator*(-1)
    return pxpypzm_scale(v, -1.0)


# -- conversions: LorentzVector<B>(const LorentzVector<A>&) -> B4D(const A4D&) --------------------
# PtEtaPhiM4D(c): c.Pt(), c.Eta(), c.Phi(), c.M(), then RestrictPhi (no RestrictNegMass);
# PtEtaPhiE4D(c): c.Pt(), c.Eta(), c.Phi(), c.E(); PxPyPzE4D(v): v.x(), v.y(), v.z(), v.t();
# PxPyPzM4D(v): v.X(), v.Y(), v.Z(), v.M().


@_jit
def convert_ptetaphie_to_ptetaphim(v):  # PtEtaPhiM4D(const PtEtaPhiE4D&)
    return v[0], v[1], _restrict_phi(v[2]), ptetaphie_m(v)


@_jit
def convert_pxpypze_to_ptetaphim(v):  # PtEtaPhiM4D(const PxPyPzE4D&)
    return pxpypze_pt(v), pxpypze_eta(v), _restrict_phi(pxpypze_phi(v)), pxpypze_m(v)


@_jit
def convert_pxpypzm_to_ptetaphim(v):  # PtEtaPhiM4D(const PxPyPzM4D&)
    return pxpypzm_pt(v), pxpypzm_eta(v), _restrict_phi(pxpypzm_phi(v)), v[3]


@_jit
def convert_ptetaphim_to_ptetaphie(v):  # PtEtaPhiE4D(const PtEtaPhiM4D&)
    return v[0], v[1], v[2], ptetaphim_e(v)


@_jit
def convert_pxpypze_to_ptetaphie(v):  # PtEtaPhiE4D(const PxPyPzE4D&)
    return pxpypze_pt(v), pxpypze_eta(v), pxpypze_phi(v), v[3]


@_jit
def convert_pxpypzm_to_ptetaphie(v):  # PtEtaPhiE4D(const PxPyPzM4D&)
    return pxpypzm_pt(v), pxpypzm_eta(v), pxpypzm_phi(v), pxpypzm_e(v)


@_jit
def convert_ptetaphim_to_pxpypze(v):  # PxPyPzE4D(const PtEtaPhiM4D&)
    return ptetaphim_x(v), ptetaphim_y(v), ptetaphim_z(v), ptetaphim_t(v)


@_jit
def convert_ptetaphie_to_pxpypze(v):  # PxPyPzE4D(const PtEtaPhiE4D&)
    return ptetaphie_x(v), ptetaphie_y(v), ptetaphie_z(v), v[3]


@_jit
def convert_pxpypzm_to_pxpypze(v):  # PxPyPzE4D(const PxPyPzM4D&)
    return v[0], v[1], v[2], pxpypzm_t(v)


@_jit
def convert_ptetaphim_to_pxpypzm(v):  # PxPyPzM4D(const PtEtaPhiM4D&)
    return ptetaphim_x(v), ptetaphim_y(v), ptetaphim_z(v), v[3]


@_jit
def convert_ptetaphie_to_pxpypzm(v):  # PxPyPzM4D(const PtEtaPhiE4D&)
    return ptetaphie_x(v), ptetaphie_y(v), ptetaphie_z(v), ptetaphie_m(v)


@_jit
def convert_pxpypze_to_pxpypzm(v):  # PxPyPzM4D(const PxPyPzE4D&)
    return v[0], v[1], v[2], pxpypze_m(v)


# -- ROOT::Math::VectorUtil ----------------------------------------------------------------------


@_jit
def vu_delta_phi(phi1, phi2):
    """VectorUtil::DeltaPhi(v1, v2) from ``v1.Phi()``, ``v2.Phi()``: v2.Phi() - v1.Phi() folded once by 2 pi."""
    dphi = phi2 - phi1
    if dphi > _PI:
        dphi -= 2.0 * _PI
    elif dphi <= -_PI:
        dphi += 2.0 * _PI
    return dphi


@_jit
def vu_delta_r2(eta1, phi1, eta2, phi2):
    """VectorUtil::DeltaR2(v1, v2) from ``v1.Eta()``, ``v1.Phi()``, ``v2.Eta()``, ``v2.Phi()``: dphi² + deta²."""
    dphi = vu_delta_phi(phi1, phi2)
    deta = eta2 - eta1
    return dphi * dphi + deta * deta


@_jit
def vu_delta_r(eta1, phi1, eta2, phi2):
    """VectorUtil::DeltaR(v1, v2) from ``v1.Eta()``, ``v1.Phi()``, ``v2.Eta()``, ``v2.Phi()``: sqrt(DeltaR2)."""
    return math.sqrt(vu_delta_r2(eta1, phi1, eta2, phi2))


@_jit
def vu_invariant_mass(x1, y1, z1, t1, x2, y2, z2, t2):
    """VectorUtil::InvariantMass(v1, v2) from ``X()``, ``Y()``, ``Z()``, ``E()`` (== ``t()``) of each vector.

    It sums the components itself (``ee = v1.E() + v2.E()`` ...) and takes
    ``mm2 < 0 ? -sqrt(-mm2) : sqrt(mm2)`` of ``ee*ee - xx*xx - yy*yy - zz*zz``, whatever the
    vectors' coordinate systems: the result can differ from ``(v1 + v2).M()`` in a PtEtaPhiM system.
    """
    ee = t1 + t2
    xx = x1 + x2
    yy = y1 + y2
    zz = z1 + z2
    mm2 = ee * ee - xx * xx - yy * yy - zz * zz
    return -math.sqrt(-mm2) if mm2 < 0.0 else math.sqrt(mm2)
