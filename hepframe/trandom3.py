"""ROOT's ``TRandom3`` (the Mersenne Twister behind ``gRandom``), bit for bit as ROOT 6.40.

Every number equals ROOT's: the same state update, the same floating-point operations in the
same order, and the same C library (``exp``, ``log``, ``tan`` are glibc's, as in ROOT; no fused
multiply-add, as ROOT's x86-64 build has none). The algorithms are those of ROOT's
math/mathcore/src/TRandom3.cxx (the generator, ``SetSeed``) and TRandom.cxx (the distributions),
checked against ROOT's compiled libMathCore; tests/test_trandom3.py compares thousands of numbers
of each method with ROOT's, with ``==``.

The state is a ``uint32`` array of 624 words plus an index (``fMt``, ``fCount624``), shared by the
scalar methods and :meth:`TRandom3.draw`, which runs a program of calls over many entries in one
compiled numba loop (``gRandom->Gaus(pt, 0.1*pt)`` in an RDataFrame expression): scalar calls and
``draw`` interleave as if every call were made one by one.

Bit-identical with ROOT 6.40: the constructor, ``SetSeed(seed > 0)``, ``GetSeed``, ``Rndm``,
``Uniform``, ``Gaus``, ``Exp``, ``Poisson`` (all branches; ``ULong64_t`` as in 6.40, including the
saturation at ``2**64 - 1`` above which ROOT prints "Overflow in return value"), ``Integer``,
``Landau``, ``BreitWigner`` and ``Binomial``. A fresh ROOT 6.40 process's ``gRandom`` is a
``TRandom3`` seeded 4357, i.e. ``TRandom3()`` (its ``GetSeed()`` is 4357 and its first ``Rndm()``
is 0.999741748906672, that of ``TRandom3(4357)``); :data:`gRandom` here is the same.

Not matched: ``SetSeed(0)`` (and ``TRandom3(0)``) seeds from a ``TUUID`` in ROOT; here the 624
words come from ``os.urandom``, with ROOT's 10 warm-up draws, so the numbers are as unpredictable
and as unrepeatable, but cannot equal ROOT's. Not implemented: ``Rannor``, ``Circle``, ``Sphere``,
``PoissonD``, ``RndmArray``, ``ReadRandom``/``WriteRandom``.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from hepframe.udfs import _numba_cache  # noqa: F401 - first: a writable numba cache before any @njit(cache=True)

__all__ = ["TRandom3", "gRandom"]

_N, _M = 624, 397  # TRandom3.cxx: kN, kM
_MATRIX_A, _UPPER, _LOWER = 0x9908B0DF, 0x80000000, 0x7FFFFFFF
_U64_MAX = 2**64 - 1

# The kernels take the index (fCount624) and return it with their value: an index in a register
# rather than in an array, and the small kernels inlined, make draw() 2-4x faster.


@numba.njit(cache=True, nogil=True)
def _twist(mt):  # pragma: no cover - compiled
    """The next 624 words, in place: the three loops of TRandom3::Rndm (TRandom3.cxx)."""
    for i in range(_N - _M):
        y = (np.int64(mt[i]) & _UPPER) | (np.int64(mt[i + 1]) & _LOWER)
        mt[i] = np.int64(mt[i + _M]) ^ (y >> 1) ^ (_MATRIX_A if y & 1 else 0)
    for i in range(_N - _M, _N - 1):
        y = (np.int64(mt[i]) & _UPPER) | (np.int64(mt[i + 1]) & _LOWER)
        mt[i] = np.int64(mt[i + _M - _N]) ^ (y >> 1) ^ (_MATRIX_A if y & 1 else 0)
    y = (np.int64(mt[_N - 1]) & _UPPER) | (np.int64(mt[0]) & _LOWER)
    mt[_N - 1] = np.int64(mt[_M - 1]) ^ (y >> 1) ^ (_MATRIX_A if y & 1 else 0)


@numba.njit(cache=True, nogil=True, inline="always")
def _rndm(mt, pos):  # pragma: no cover - compiled
    """TRandom3::Rndm: a tempered word times 2**-32, in ]0, 1[ (a zero word is skipped); and the new index."""
    while True:
        if pos >= _N:
            _twist(mt)
            pos = 0
        y = np.int64(mt[pos])
        pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        if y != 0:
            return y * 2.3283064365386963e-10, pos


@numba.njit(cache=True, nogil=True, inline="always")
def _uniform1(mt, pos, x1):  # pragma: no cover - compiled
    r, pos = _rndm(mt, pos)
    return x1 * r, pos  # TRandom::Uniform(x1)


@numba.njit(cache=True, nogil=True, inline="always")
def _uniform2(mt, pos, x1, x2):  # pragma: no cover - compiled
    r, pos = _rndm(mt, pos)
    return x1 + (x2 - x1) * r, pos  # TRandom::Uniform(x1, x2)


@numba.njit(cache=True, nogil=True)
def _gaus(mt, pos, mean, sigma):  # pragma: no cover - compiled
    """TRandom::Gaus: the acceptance-complement ratio method (Hoermann & Derflinger), as in TRandom.cxx."""
    c1, c2, c3 = 1.448242853, 3.307147487, 1.46754004
    d1, d2, d3 = 1.036467755, 5.295844968, 3.631288474
    hm, zm, hp, zp = 0.483941449, 0.107981933, 4.132731354, 18.52161694
    phln, hm1, hp1, hzm, hzmp = 0.4515827053, 0.516058551, 3.132731354, 0.375959516, 0.591923442
    a_s, b_s, c_s, b = 0.8853395638, 0.2452635696, 0.2770276848, 0.5029324303
    x0, ym, s, t = 0.4571828819, 0.187308492, 0.7270572718, 0.03895759111

    y, pos = _rndm(mt, pos)
    if y > hm1:
        return mean + sigma * (hp * y - hp1), pos
    if y < zm:
        rn = zp * y - 1
        return mean + sigma * ((1 + rn) if rn > 0 else (-1 + rn)), pos
    if y < hm:
        rn, pos = _rndm(mt, pos)
        rn = rn - 1 + rn
        z = 2 - rn if rn > 0 else -2 - rn
        if (c1 - y) * (c3 + abs(z)) < c2:
            return mean + sigma * z, pos
        x = rn * rn
        if (y + d1) * (d3 + x) < d2:
            return mean + sigma * rn, pos
        if hzmp - y < math.exp(-(z * z + phln) / 2):
            return mean + sigma * z, pos
        if y + hzm < math.exp(-(x + phln) / 2):
            return mean + sigma * rn, pos
    while True:  # the tail, and the rejections above
        x, pos = _rndm(mt, pos)
        y, pos = _rndm(mt, pos)
        y = ym * y
        z = x0 - s * x - y
        if z > 0:
            rn = 2 + y / x
        else:
            x = 1 - x
            y = ym - y
            rn = -(2 + y / x)
        if (y - a_s + x) * (c_s + x) + b_s < 0:
            return mean + sigma * rn, pos
        if y < x + t and rn * rn < 4 * (b - math.log(x)):
            return mean + sigma * rn, pos


@numba.njit(cache=True, nogil=True, inline="always")
def _exp(mt, pos, tau):  # pragma: no cover - compiled
    r, pos = _rndm(mt, pos)
    return -tau * math.log(r), pos  # TRandom::Exp


# ROOT::Math::Cephes::lgam (math/mathcore/src/SpecFuncCephes.cxx): Stirling's series, and a rational
# function on [2, 3].
_LGAM_A = (8.11614167470508450300e-4, -5.95061904284301438324e-4, 7.93650340457716943945e-4,
           -2.77777777730099687205e-3, 8.33333333333331927722e-2)  # fmt: skip
_LGAM_B = (-1.37825152569120859100e3, -3.88016315134637840924e4, -3.31612992738871184744e5,
           -1.16237097492762307383e6, -1.72173700820839662146e6, -8.53555664245765465627e5)  # fmt: skip
_LGAM_C = (-3.51815701436523470549e2, -1.70642106651881159223e4, -2.20528590553854454839e5,
           -1.13933444367982507207e6, -2.53252307177582951285e6, -2.01889141433532773231e6)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _lgam(x):  # pragma: no cover - compiled
    """TMath::LnGamma = ROOT::Math::lgamma = Cephes lgam, for x >= 1 (Poisson's arguments)."""
    if x >= math.inf:
        return math.inf
    if x < 13.0:
        z, p, u = 1.0, 0.0, x
        while u >= 3.0:
            p -= 1.0
            u = x + p
            z *= u
        while u < 2.0:
            z /= u
            p += 1.0
            u = x + p
        if u == 2.0:
            return math.log(z)
        p -= 2.0
        x = x + p
        num = _LGAM_B[0]  # ROOT: Polynomial(x, B, 5)
        for k in range(1, 6):
            num = num * x + _LGAM_B[k]
        den = x + _LGAM_C[0]  # ROOT: Polynomial1(x, C, 6), leading coefficient 1
        for k in range(1, 6):
            den = den * x + _LGAM_C[k]
        return math.log(z) + x * num / den
    if x > 2.556348e305:  # kMAXLGM
        return math.inf
    q = (x - 0.5) * math.log(x) - x + 0.91893853320467274178  # log(sqrt(2 pi))
    if x > 1.0e8:
        return q
    p = 1.0 / (x * x)
    if x >= 1000.0:
        return q + ((7.9365079365079365079365e-4 * p - 2.7777777777777777777778e-3) * p
                    + 0.0833333333333333333333) / x  # fmt: skip
    a = _LGAM_A[0]  # ROOT: Polynomial(p, A, 4)
    for k in range(1, 5):
        a = a * p + _LGAM_A[k]
    return q + a / x


@numba.njit(cache=True, nogil=True)
def _poisson(mt, pos, mean):  # pragma: no cover - compiled
    """TRandom::Poisson (ROOT 6.40, ULong64_t): three methods by mean, as in TRandom.cxx."""
    if mean <= 0:
        return np.uint64(0), pos
    if mean < 25:  # multiply uniforms until the product falls below exp(-mean)
        expmean = math.exp(-mean)
        pir = 1.0
        n = -1
        while True:
            n += 1
            r, pos = _rndm(mt, pos)
            pir *= r
            if pir <= expmean:
                return np.uint64(n), pos
    if mean < 1e9:  # rejection from a Lorentzian (Numerical Recipes' poidev)
        sq = math.sqrt(2.0 * mean)
        alxm = math.log(mean)
        g = mean * alxm - _lgam(mean + 1.0)
        while True:
            while True:
                r, pos = _rndm(mt, pos)
                y = math.tan(math.pi * r)
                em = sq * y + mean
                if not em < 0.0:
                    break
            em = math.floor(em)
            t = 0.9 * (1.0 + y * y) * math.exp(em * alxm - _lgam(em + 1.0) - g)
            r, pos = _rndm(mt, pos)
            if not r > t:
                return np.uint64(np.int64(em)), pos
    # Gaussian approximation. Above 2**64 - 1 ROOT returns 2**64 - 1 and prints an error; below, the
    # double -> ULong64_t conversion is that of ROOT's x86-64 code (cvttsd2si): exactly 2**64 gives 0,
    # NaN 2**63.
    g, pos = _gaus(mt, pos, 0.0, 1.0)
    x = g * math.sqrt(mean) + mean + 0.5
    if x > 18446744073709551615.0:
        return np.uint64(_U64_MAX), pos
    if x >= 18446744073709551616.0:
        return np.uint64(0), pos
    if x >= 9223372036854775808.0:
        return np.uint64(np.int64(x - 9223372036854775808.0)) + np.uint64(9223372036854775808), pos
    if x != x or x < -9223372036854775808.0:
        return np.uint64(9223372036854775808), pos
    return np.uint64(np.int64(x)), pos


@numba.njit(cache=True, nogil=True, inline="always")
def _integer(mt, pos, imax):  # pragma: no cover - compiled
    r, pos = _rndm(mt, pos)
    return np.uint32(imax * r), pos  # TRandom::Integer: (UInt_t)(imax*Rndm())


@numba.njit(cache=True, nogil=True)
def _binomial(mt, pos, ntot, prob):  # pragma: no cover - compiled
    """TRandom::Binomial: count the ntot uniforms <= prob."""
    n = 0
    if prob < 0 or prob > 1:
        return n, pos
    for _ in range(ntot):
        r, pos = _rndm(mt, pos)
        if not r > prob:  # ROOT: if (Rndm() > prob) continue; n++ (a NaN prob counts every trial)
            n += 1
    return n, pos


@numba.njit(cache=True, nogil=True, inline="always")
def _breit_wigner(mt, pos, mean, gamma):  # pragma: no cover - compiled
    r, pos = _rndm(mt, pos)
    rval = 2 * r - 1  # TRandom::BreitWigner
    return mean + 0.5 * gamma * math.tan(rval * (math.pi / 2)), pos


# ROOT::Math::landau_quantile's table f[982] (math/mathcore/src/QuantFuncMathCore.cxx, from CERNLIB
# RANLAN G110), as read from ROOT 6.40's libMathCore.
_LANDAU_F = np.array([
    0.0, 0.0, 0.0, 0.0, 0.0, -2.244733, -2.204365, -2.168163, -2.135219, -2.104898, -2.07674, -2.050397, -2.025605,
    -2.00215, -1.979866, -1.958612, -1.938275, -1.91876, -1.899984, -1.881879, -1.864385, -1.847451, -1.83103,
    -1.815083, -1.799574, -1.784473, -1.769751, -1.755383, -1.741346, -1.72762, -1.714187, -1.701029, -1.68813,
    -1.675477, -1.663057, -1.650858, -1.638868, -1.627078, -1.615477, -1.604058, -1.592811, -1.581729, -1.570806,
    -1.560034, -1.549407, -1.538919, -1.528565, -1.518339, -1.508237, -1.498254, -1.488386, -1.478628, -1.468976,
    -1.459428, -1.449979, -1.440626, -1.431365, -1.422195, -1.413111, -1.404112, -1.395194, -1.386356, -1.377594,
    -1.368906, -1.360291, -1.351746, -1.343269, -1.334859, -1.326512, -1.318229, -1.310006, -1.301843, -1.293737,
    -1.285688, -1.277693, -1.269752, -1.261863, -1.254024, -1.246235, -1.238494, -1.2308, -1.223153, -1.21555,
    -1.20799, -1.200474, -1.192999, -1.185566, -1.178172, -1.170817, -1.1635, -1.15622, -1.148977, -1.14177,
    -1.134598, -1.127459, -1.120354, -1.113282, -1.106242, -1.099233, -1.092255, -1.085306, -1.078388, -1.071498,
    -1.064636, -1.057802, -1.050996, -1.044215, -1.037461, -1.030733, -1.024029, -1.01735, -1.010695, -1.004064,
    -0.997456, -0.990871, -0.984308, -0.977767, -0.971247, -0.964749, -0.958271, -0.951813, -0.945375, -0.938957,
    -0.932558, -0.926178, -0.919816, -0.913472, -0.907146, -0.900838, -0.894547, -0.888272, -0.882014, -0.875773,
    -0.869547, -0.863337, -0.857142, -0.850963, -0.844798, -0.838648, -0.832512, -0.82639, -0.820282, -0.814187,
    -0.808106, -0.802038, -0.795982, -0.78994, -0.783909, -0.777891, -0.771884, -0.765889, -0.759906, -0.753934,
    -0.747973, -0.742023, -0.736084, -0.730155, -0.724237, -0.718328, -0.712429, -0.706541, -0.700661, -0.694791,
    -0.688931, -0.683079, -0.677236, -0.671402, -0.665576, -0.659759, -0.65395, -0.648149, -0.642356, -0.63657,
    -0.630793, -0.625022, -0.619259, -0.613503, -0.607754, -0.602012, -0.596276, -0.590548, -0.584825, -0.579109,
    -0.573399, -0.567695, -0.561997, -0.556305, -0.550618, -0.544937, -0.539262, -0.533592, -0.527926, -0.522266,
    -0.516611, -0.510961, -0.505315, -0.499674, -0.494037, -0.488405, -0.482777, -0.477153, -0.471533, -0.465917,
    -0.460305, -0.454697, -0.449092, -0.443491, -0.437893, -0.432299, -0.426707, -0.421119, -0.415534, -0.409951,
    -0.404372, -0.398795, -0.393221, -0.387649, -0.38208, -0.376513, -0.370949, -0.365387, -0.359826, -0.354268,
    -0.348712, -0.343157, -0.337604, -0.332053, -0.326503, -0.320955, -0.315408, -0.309863, -0.304318, -0.298775,
    -0.293233, -0.287692, -0.282152, -0.276613, -0.271074, -0.265536, -0.259999, -0.254462, -0.248926, -0.243389,
    -0.237854, -0.232318, -0.226783, -0.221247, -0.215712, -0.210176, -0.204641, -0.199105, -0.193568, -0.188032,
    -0.182495, -0.176957, -0.171419, -0.16588, -0.160341, -0.1548, -0.149259, -0.143717, -0.138173, -0.132629,
    -0.127083, -0.121537, -0.115989, -0.110439, -0.104889, -0.099336, -0.093782, -0.088227, -0.08267, -0.077111,
    -0.07155, -0.065987, -0.060423, -0.054856, -0.049288, -0.043717, -0.038144, -0.032569, -0.026991, -0.021411,
    -0.015828, -0.010243, -0.004656, 0.000934, 0.006527, 0.012123, 0.017722, 0.023323, 0.028928, 0.034535, 0.040146,
    0.045759, 0.051376, 0.056997, 0.06262, 0.068247, 0.073877, 0.079511, 0.085149, 0.09079, 0.096435, 0.102083,
    0.107736, 0.113392, 0.119052, 0.124716, 0.130385, 0.136057, 0.141734, 0.147414, 0.1531, 0.158789, 0.164483,
    0.170181, 0.175884, 0.181592, 0.187304, 0.193021, 0.198743, 0.204469, 0.210201, 0.215937, 0.221678, 0.227425,
    0.233177, 0.238933, 0.244696, 0.250463, 0.256236, 0.262014, 0.267798, 0.273587, 0.279382, 0.285183, 0.290989,
    0.296801, 0.302619, 0.308443, 0.314273, 0.320109, 0.325951, 0.331799, 0.337654, 0.343515, 0.349382, 0.355255,
    0.361135, 0.367022, 0.372915, 0.378815, 0.384721, 0.390634, 0.396554, 0.402481, 0.408415, 0.414356, 0.420304,
    0.42626, 0.432222, 0.438192, 0.444169, 0.450153, 0.456145, 0.462144, 0.468151, 0.474166, 0.480188, 0.486218,
    0.492256, 0.498302, 0.504356, 0.510418, 0.516488, 0.522566, 0.528653, 0.534747, 0.54085, 0.546962, 0.553082,
    0.55921, 0.565347, 0.571493, 0.577648, 0.583811, 0.589983, 0.596164, 0.602355, 0.608554, 0.614762, 0.62098,
    0.627207, 0.633444, 0.639689, 0.645945, 0.65221, 0.658484, 0.664768, 0.671062, 0.677366, 0.68368, 0.690004,
    0.696338, 0.702682, 0.709036, 0.7154, 0.721775, 0.72816, 0.734556, 0.740963, 0.747379, 0.753807, 0.760246,
    0.766695, 0.773155, 0.779627, 0.786109, 0.792603, 0.799107, 0.805624, 0.812151, 0.81869, 0.825241, 0.831803,
    0.838377, 0.844962, 0.85156, 0.85817, 0.864791, 0.871425, 0.878071, 0.884729, 0.891399, 0.898082, 0.904778,
    0.911486, 0.918206, 0.92494, 0.931686, 0.938446, 0.945218, 0.952003, 0.958802, 0.965614, 0.972439, 0.979278,
    0.98613, 0.992996, 0.999875, 1.006769, 1.013676, 1.020597, 1.027533, 1.034482, 1.041446, 1.048424, 1.055417,
    1.062424, 1.069446, 1.076482, 1.083534, 1.0906, 1.097681, 1.104778, 1.111889, 1.119016, 1.126159, 1.133316,
    1.14049, 1.147679, 1.154884, 1.162105, 1.169342, 1.176595, 1.183864, 1.191149, 1.198451, 1.20577, 1.213105,
    1.220457, 1.227826, 1.235211, 1.242614, 1.250034, 1.257471, 1.264926, 1.272398, 1.279888, 1.287395, 1.294921,
    1.302464, 1.310026, 1.317605, 1.325203, 1.332819, 1.340454, 1.348108, 1.35578, 1.363472, 1.371182, 1.378912,
    1.38666, 1.394429, 1.402216, 1.410024, 1.417851, 1.425698, 1.433565, 1.441453, 1.44936, 1.457288, 1.465237,
    1.473206, 1.481196, 1.489208, 1.49724, 1.505293, 1.513368, 1.521465, 1.529583, 1.537723, 1.545885, 1.554068,
    1.562275, 1.570503, 1.578754, 1.587028, 1.595325, 1.603644, 1.611987, 1.620353, 1.628743, 1.637156, 1.645593,
    1.654053, 1.662538, 1.671047, 1.679581, 1.688139, 1.696721, 1.705329, 1.713961, 1.722619, 1.731303, 1.740011,
    1.748746, 1.757506, 1.766293, 1.775106, 1.783945, 1.79281, 1.801703, 1.810623, 1.819569, 1.828543, 1.837545,
    1.846574, 1.855631, 1.864717, 1.87383, 1.882972, 1.892143, 1.901343, 1.910572, 1.91983, 1.929117, 1.938434,
    1.947781, 1.957158, 1.966566, 1.976004, 1.985473, 1.994972, 2.004503, 2.014065, 2.023659, 2.033285, 2.042943,
    2.052633, 2.062355, 2.07211, 2.081899, 2.09172, 2.101575, 2.111464, 2.121386, 2.131343, 2.141334, 2.15136,
    2.161421, 2.171517, 2.181648, 2.191815, 2.202018, 2.212257, 2.222533, 2.232845, 2.243195, 2.253582, 2.264006,
    2.274468, 2.284968, 2.295507, 2.306084, 2.316701, 2.327356, 2.338051, 2.348786, 2.359562, 2.370377, 2.381234,
    2.392131, 2.40307, 2.414051, 2.425073, 2.436138, 2.447246, 2.458397, 2.469591, 2.480828, 2.49211, 2.503436,
    2.514807, 2.526222, 2.537684, 2.54919, 2.560743, 2.572343, 2.583989, 2.595682, 2.607423, 2.619212, 2.63105,
    2.642936, 2.654871, 2.666855, 2.67889, 2.690975, 2.70311, 2.715297, 2.727535, 2.739825, 2.752168, 2.764563,
    2.777012, 2.789514, 2.80207, 2.814681, 2.827347, 2.840069, 2.852846, 2.86568, 2.87857, 2.891518, 2.904524,
    2.917588, 2.930712, 2.943894, 2.957136, 2.970439, 2.983802, 2.997227, 3.010714, 3.024263, 3.037875, 3.051551,
    3.06529, 3.079095, 3.092965, 3.1069, 3.120902, 3.134971, 3.149107, 3.163312, 3.177585, 3.191928, 3.20634,
    3.220824, 3.235378, 3.250005, 3.264704, 3.279477, 3.294323, 3.309244, 3.32424, 3.339312, 3.354461, 3.369687,
    3.384992, 3.400375, 3.415838, 3.431381, 3.447005, 3.462711, 3.4785, 3.494372, 3.510328, 3.52637, 3.542497,
    3.558711, 3.575012, 3.591402, 3.607881, 3.62445, 3.641111, 3.657863, 3.674708, 3.691646, 3.70868, 3.725809,
    3.743034, 3.760357, 3.777779, 3.7953, 3.812921, 3.830645, 3.84847, 3.8664, 3.884434, 3.902574, 3.920821, 3.939176,
    3.95764, 3.976215, 3.994901, 4.013699, 4.032612, 4.051639, 4.070783, 4.090045, 4.109425, 4.128925, 4.148547,
    4.168292, 4.18816, 4.208154, 4.228275, 4.248524, 4.268903, 4.289413, 4.310056, 4.330832, 4.351745, 4.372794,
    4.393982, 4.41531, 4.436781, 4.458395, 4.480154, 4.50206, 4.524114, 4.546319, 4.568676, 4.591187, 4.613854,
    4.636678, 4.659662, 4.682807, 4.706116, 4.72959, 4.753231, 4.777041, 4.801024, 4.825179, 4.849511, 4.87402,
    4.89871, 4.923582, 4.948639, 4.973883, 4.999316, 5.024942, 5.050761, 5.076778, 5.102993, 5.129411, 5.156034,
    5.182864, 5.209903, 5.237156, 5.264625, 5.292312, 5.32022, 5.348354, 5.376714, 5.405306, 5.434131, 5.463193,
    5.492496, 5.522042, 5.551836, 5.58188, 5.612178, 5.642734, 5.673552, 5.704634, 5.735986, 5.76761, 5.799512,
    5.831694, 5.864161, 5.896918, 5.929968, 5.963316, 5.996967, 6.030925, 6.065194, 6.09978, 6.134687, 6.169921,
    6.205486, 6.241387, 6.27763, 6.31422, 6.351163, 6.388465, 6.42613, 6.464166, 6.502578, 6.541371, 6.580553,
    6.62013, 6.660109, 6.700495, 6.741297, 6.78252, 6.824173, 6.866262, 6.908795, 6.95178, 6.995225, 7.039137,
    7.083525, 7.128398, 7.173764, 7.219632, 7.266011, 7.31291, 7.360339, 7.408308, 7.456827, 7.505905, 7.555554,
    7.605785, 7.656608, 7.708035, 7.760077, 7.812747, 7.866057, 7.920019, 7.974647, 8.029953, 8.085952, 8.142657,
    8.200083, 8.258245, 8.317158, 8.376837, 8.4373, 8.498562, 8.560641, 8.623554, 8.687319, 8.751955, 8.817481,
    8.883916, 8.951282, 9.0196, 9.088889, 9.159174, 9.230477, 9.302822, 9.376233, 9.450735, 9.526355, 9.603118,
    9.681054, 9.760191, 9.840558, 9.922186, 10.005107, 10.089353, 10.174959, 10.261958, 10.350389, 10.440287,
    10.531693, 10.624646, 10.719188, 10.815362, 10.913214, 11.012789, 11.114137, 11.217307, 11.322352, 11.429325,
    11.538283, 11.649285, 11.76239, 11.877664, 11.99517, 12.114979, 12.237161, 12.361791, 12.488946, 12.618708,
    12.751161, 12.886394, 13.024498, 13.16557, 13.309711, 13.457026, 13.607625, 13.761625, 13.919145, 14.080314,
    14.245263, 14.414134, 14.587072, 14.764233, 14.945778, 15.131877, 15.322712, 15.51847, 15.719353, 15.92557,
    16.137345, 16.354912, 16.57852, 16.808433, 17.044929, 17.288305, 17.538873, 17.796967, 18.062943, 18.337176,
    18.620068, 18.912049, 19.213574, 19.525133, 19.847249, 20.18048, 20.525429, 20.882738, 21.253102, 21.637266,
    22.036036, 22.450278, 22.880933, 23.329017, 23.795634, 24.281981, 24.789364, 25.319207, 25.873062, 26.452634,
    27.059789, 27.696581, 28.365274, 29.06837, 29.808638, 30.589157, 31.413354, 32.28506, 33.208568, 34.188705,
    35.23092, 36.341388, 37.527131, 38.796172, 40.157721, 41.622399, 43.202525, 44.912465, 46.769077, 48.792279,
    51.005773, 53.437996, 56.123356, 59.103894,
])  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _landau(mt, pos, mean, sigma):  # pragma: no cover - compiled
    """TRandom::Landau: mean + landau_quantile(Rndm(), sigma) (QuantFuncMathCore.cxx)."""
    if sigma <= 0:
        return 0.0, pos
    z, pos = _rndm(mt, pos)  # in ]0, 1[: landau_quantile's z <= 0 and z >= 1 cases cannot occur
    f = _LANDAU_F
    u = 1000 * z
    i = int(u)
    u -= i
    if 70 <= i < 800:
        ranlan = f[i - 1] + u * (f[i] - f[i - 1])
    elif 7 <= i <= 980:
        ranlan = f[i - 1] + u * (f[i] - f[i - 1] - 0.25 * (1 - u) * (f[i + 1] - f[i] - f[i - 1] + f[i - 2]))
    elif i < 7:
        v = math.log(z)
        u = 1 / v
        ranlan = (((0.99858950 + (3.45213058e1 + 1.70854528e1 * u) * u) / (1 + (3.41760202e1 + 4.01244582 * u) * u))
                  * (-math.log(-0.91893853 - v) - 1))  # fmt: skip
    else:
        u = 1 - z
        v = u * u
        if z <= 0.999:
            num, den = 1.00060006 + 2.63991156e2 * u + 4.37320068e3 * v, 1 + 2.57368075e2 * u + 3.41448018e3 * v
        else:
            num, den = 1.00001538 + 6.07514119e3 * u + 7.34266409e5 * v, 1 + 6.06511919e3 * u + 6.94021044e5 * v
        ranlan = num / (den * u)
    return mean + sigma * ranlan, pos


# draw(): one opcode per method form; integer results go to a uint64 matrix (Poisson's 2**64 - 1 is
# not a float64), the others to a float64 one.
_RNDM, _UNIFORM1, _UNIFORM2, _GAUS, _EXP, _POISSON, _INTEGER, _LANDAU, _BREIT_WIGNER, _BINOMIAL = range(10)
_INTEGER_OPS = {_POISSON: np.uint64, _INTEGER: np.uint32, _BINOMIAL: np.int32}
_REQUIRED = object()
# name -> (opcode, defaults of the parameters): ROOT's signatures in TRandom.h
_METHODS: dict[str, tuple[int, tuple]] = {
    "Rndm": (_RNDM, ()),
    "Uniform": (_UNIFORM1, (1.0, None)),
    "Gaus": (_GAUS, (0.0, 1.0)),
    "Exp": (_EXP, (_REQUIRED,)),
    "Poisson": (_POISSON, (_REQUIRED,)),
    "Integer": (_INTEGER, (_REQUIRED,)),
    "Landau": (_LANDAU, (0.0, 1.0)),
    "BreitWigner": (_BREIT_WIGNER, (0.0, 1.0)),
    "Binomial": (_BINOMIAL, (_REQUIRED, _REQUIRED)),
}


@numba.njit(cache=True, nogil=True)
def _draw(mt, pos, n, ops, rows, src, consts, columns, fout, iout):  # pragma: no cover - compiled
    """Entry by entry, item by item: ``ops[j]`` with parameters ``consts[j]`` or ``columns[src[j]][i]``."""
    for i in range(n):
        for j in range(ops.shape[0]):
            a = consts[j, 0] if src[j, 0] < 0 else columns[src[j, 0], i]
            b = consts[j, 1] if src[j, 1] < 0 else columns[src[j, 1], i]
            op, r = ops[j], rows[j]
            if op == _RNDM:
                fout[r, i], pos = _rndm(mt, pos)
            elif op == _UNIFORM1:
                fout[r, i], pos = _uniform1(mt, pos, a)
            elif op == _UNIFORM2:
                fout[r, i], pos = _uniform2(mt, pos, a, b)
            elif op == _GAUS:
                fout[r, i], pos = _gaus(mt, pos, a, b)
            elif op == _EXP:
                fout[r, i], pos = _exp(mt, pos, a)
            elif op == _POISSON:
                iout[r, i], pos = _poisson(mt, pos, a)
            elif op == _INTEGER:
                iout[r, i], pos = _integer(mt, pos, a)
            elif op == _LANDAU:
                fout[r, i], pos = _landau(mt, pos, a, b)
            elif op == _BREIT_WIGNER:
                fout[r, i], pos = _breit_wigner(mt, pos, a, b)
            else:
                iout[r, i], pos = _binomial(mt, pos, np.int64(a), b)
    return pos


def _unsigned(value: Any, bits: int, what: str) -> int:
    """A Python int passed to a C++ unsigned parameter as PyROOT converts it: in [0, 2**64), truncated to ``bits``."""
    if not isinstance(value, int | np.integer):
        raise TypeError(f"{what}: expected an integer, got {type(value).__name__}")
    if not 0 <= value < 2**64:
        raise ValueError(f"{what}: {value} is out of range for unsigned long")
    return int(value) & (2**bits - 1)


def _int32(value: Any, what: str) -> int:
    if not isinstance(value, int | np.integer):
        raise TypeError(f"{what}: expected an integer, got {type(value).__name__}")
    if not -(2**31) <= value < 2**31:
        raise ValueError(f"{what}: {value} is out of range for int")
    return int(value)


def _warn_overflow() -> None:
    warnings.warn("TRandom3::Poisson: Overflow in return value. Use PoissonD instead.", RuntimeWarning, stacklevel=3)


class TRandom3:
    """ROOT's ``TRandom3``: the same numbers as ROOT 6.40 for the same seed and the same calls.

    Like ROOT's, an instance is not thread-safe: one generator per thread.

    Examples
    --------
    >>> r = TRandom3(1)
    >>> r.Rndm()
    0.4170219984371215
    >>> pt = np.array([10.0, 20.0, 40.0])
    >>> smeared, n = r.draw([("Gaus", (pt, 0.1 * pt)), ("Poisson", (3.0,))], 3)

    """

    def __init__(self, seed: int = 4357) -> None:
        self._mt = np.zeros(_N, dtype=np.uint32)  # fMt
        self._pos = _N  # fCount624
        self.SetSeed(_unsigned(seed, 32, "TRandom3(seed)"))  # the constructor's parameter is a UInt_t

    def SetSeed(self, seed: int = 0) -> None:
        """TRandom3::SetSeed: Knuth's initialization of the 624 words from ``seed``; 0 for a random state.

        As in ROOT the seed is stored as a 32-bit ``fSeed``, but ``seed > 0`` is tested on the 64-bit
        value: ``SetSeed(2**32)`` initializes from 0. For ``seed == 0`` ROOT draws the 624 words from
        a TRandom2 seeded by a TUUID; here they come from ``os.urandom`` (ROOT's values cannot be
        reproduced), followed by ROOT's 10 warm-up draws.
        """
        seed = _unsigned(seed, 64, "SetSeed(seed)")
        self._pos = _N
        if seed > 0:
            word = seed & 0xFFFFFFFF
            words = [word]
            for i in range(1, _N):
                word = (1812433253 * (word ^ (word >> 30)) + i) & 0xFFFFFFFF
                words.append(word)
            self._mt[:] = words
        else:
            self._mt[:] = np.frombuffer(os.urandom(4 * _N), dtype=np.uint32)
            for _ in range(10):
                self.Rndm()

    def GetSeed(self) -> int:
        """The state word at the current index (not the seed given to SetSeed), as ROOT's TRandom3::GetSeed."""
        return int(self._mt[self._pos % _N])

    def Rndm(self) -> float:
        """A uniform number in ]0, 1[ with 32 random bits."""
        value, self._pos = _rndm(self._mt, self._pos)
        return value

    def Uniform(self, x1: float = 1.0, x2: float | None = None) -> float:
        """``Uniform(x1)``: in ]0, x1[; ``Uniform(x1, x2)``: in ]x1, x2[."""
        if x2 is None:
            value, self._pos = _uniform1(self._mt, self._pos, float(x1))
        else:
            value, self._pos = _uniform2(self._mt, self._pos, float(x1), float(x2))
        return value

    def Gaus(self, mean: float = 0.0, sigma: float = 1.0) -> float:
        value, self._pos = _gaus(self._mt, self._pos, float(mean), float(sigma))
        return value

    def Exp(self, tau: float) -> float:
        value, self._pos = _exp(self._mt, self._pos, float(tau))
        return value

    def Poisson(self, mean: float) -> int:
        """A Poisson number (ROOT 6.40 returns ``ULong64_t``; draw() gives ``uint64``)."""
        value, self._pos = _poisson(self._mt, self._pos, float(mean))
        if value == _U64_MAX:
            _warn_overflow()
        return int(value)

    def Integer(self, imax: int) -> int:
        """A uniform integer in [0, imax - 1] (``imax`` is a ``UInt_t``; draw() gives ``uint32``)."""
        value, self._pos = _integer(self._mt, self._pos, float(_unsigned(imax, 32, "Integer(imax)")))
        return int(value)

    def Landau(self, mean: float = 0.0, sigma: float = 1.0) -> float:
        """A Landau number with location ``mean`` (not the most probable value) and scale ``sigma``."""
        value, self._pos = _landau(self._mt, self._pos, float(mean), float(sigma))
        return value

    def BreitWigner(self, mean: float = 0.0, gamma: float = 1.0) -> float:
        value, self._pos = _breit_wigner(self._mt, self._pos, float(mean), float(gamma))
        return value

    def Binomial(self, ntot: int, prob: float) -> int:
        """The number of successes in ``ntot`` trials (``Int_t``; draw() gives ``int32``)."""
        value, self._pos = _binomial(self._mt, self._pos, _int32(ntot, "Binomial(ntot)"), float(prob))
        return int(value)

    def draw(self, program: Sequence[tuple[str, tuple]], n: int) -> list[np.ndarray]:
        """For entry i = 0..n-1, call each ``(method, params)`` of ``program`` in order; one array per item.

        A parameter is a number (the same for every entry) or an array of length ``n`` (one value per
        entry, e.g. ``("Gaus", (pt, 0.1 * pt))``). The numbers, and the state afterwards, are those
        of the ``n * len(program)`` calls made one by one. Arrays are float64, except ``Poisson``
        (uint64), ``Integer`` (uint32) and ``Binomial`` (int32). Array parameters of ``Integer`` and
        ``Binomial`` are converted as C++ converts them to ``UInt_t``/``Int_t`` (truncation, then
        modulo 2**32).
        """
        n = int(n)
        if n < 0:
            raise ValueError(f"draw: n must be >= 0, got {n}")
        ops: list[int] = []
        rows: list[int] = []
        src: list[list[int]] = []
        consts: list[list[float]] = []
        columns: list[np.ndarray] = []
        n_float = n_int = 0
        for item in program:
            name, params = item[0], tuple(item[1])
            if name not in _METHODS:
                raise ValueError(f"draw: unknown TRandom3 method {name!r} (known: {', '.join(_METHODS)})")
            op, defaults = _METHODS[name]
            if len(params) > len(defaults) or any(d is _REQUIRED for d in defaults[len(params) :]):
                raise TypeError(f"draw: {name} takes {len(defaults)} parameters, got {len(params)}")
            if name == "Uniform" and len(params) == 2:
                op = _UNIFORM2
            params = (params + defaults[len(params) :] + (0.0, 0.0))[:2]
            item_src, item_consts = [-1, -1], [0.0, 0.0]
            for k, value in enumerate(params):
                if value is None:
                    continue
                if np.ndim(value) == 0:
                    item_consts[k] = self._scalar(op, k, value, name)
                    continue
                column = np.asarray(value)
                if column.shape != (n,):
                    raise ValueError(f"draw: {name} parameter {k}: an array of length {n}, got shape {column.shape}")
                item_src[k] = len(columns)
                columns.append(self._column(op, k, column))
            ops.append(op)
            src.append(item_src)
            consts.append(item_consts)
            if op in _INTEGER_OPS:
                rows.append(n_int)
                n_int += 1
            else:
                rows.append(n_float)
                n_float += 1
        fout = np.empty((n_float, n), dtype=np.float64)
        iout = np.empty((n_int, n), dtype=np.uint64)
        matrix = np.empty((len(columns), n), dtype=np.float64)
        for k, column in enumerate(columns):
            matrix[k] = column
        self._pos = _draw(
            self._mt, self._pos, n, np.array(ops, dtype=np.int64), np.array(rows, dtype=np.int64),
            np.array(src, dtype=np.int64).reshape(-1, 2), np.array(consts, dtype=np.float64).reshape(-1, 2),
            matrix, fout, iout,
        )  # fmt: skip
        out = []
        for op, row in zip(ops, rows, strict=True):
            if op not in _INTEGER_OPS:
                out.append(fout[row])
                continue
            values = iout[row].astype(_INTEGER_OPS[op], copy=False)
            if op == _POISSON and n and values.max() == _U64_MAX:
                _warn_overflow()
            out.append(values)
        return out

    @staticmethod
    def _scalar(op: int, k: int, value: Any, name: str) -> float:
        """A constant parameter of draw(), checked as the scalar method checks it."""
        if op == _INTEGER and k == 0:
            return float(_unsigned(value, 32, f"{name}(imax)"))
        if op == _BINOMIAL and k == 0:
            return float(_int32(value, f"{name}(ntot)"))
        return float(value)

    @staticmethod
    def _column(op: int, k: int, column: np.ndarray) -> np.ndarray:
        """A per-entry parameter of draw() as float64, integer parameters converted as C++ does."""
        integer = {_INTEGER: np.uint32, _BINOMIAL: np.int32}.get(op) if k == 0 else None
        if integer is None:
            return column.astype(np.float64, copy=False)
        with np.errstate(invalid="ignore"):
            if column.dtype.kind == "f":
                column = column.astype(np.int64)  # double -> integer truncates toward zero
            return column.astype(integer).astype(np.float64)


#: ROOT's ``gRandom`` of a fresh process: a ``TRandom3`` seeded 4357.
gRandom = TRandom3()
