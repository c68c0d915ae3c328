"""hepframe.udfs.genvector is bit-identical to ROOT 6.40's GenVector Lorentz vectors.

ROOT runs in a subprocess (ROOT and numba in one process are fragile): a C++ function, compiled
by cling, builds every vector of the inputs in each coordinate system and writes its stored
coordinates, its accessors, the results of ``SetXYZT``, the converting constructors, ``+``, ``-``,
``* a``, unary ``-`` and ``VectorUtil``'s ``DeltaPhi``/``DeltaR``/``DeltaR2``/``InvariantMass``
to a ``.npy`` file; the numba functions compute the same table, compared bit for bit (NaN equal
to NaN whatever its sign or payload).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hepframe.udfs import genvector as gv

SYSTEMS = ["ptetaphim", "ptetaphie", "pxpypze", "pxpypzm"]
CPP_TYPES = {"ptetaphim": "PtEtaPhiMVector", "ptetaphie": "PtEtaPhiEVector", "pxpypze": "PxPyPzEVector",
             "pxpypzm": "PxPyPzMVector"}  # fmt: skip
ACCESSORS = {"x": "x()", "y": "y()", "z": "z()", "t": "t()", "pt": "Pt()", "eta": "Eta()", "phi": "Phi()", "m": "M()",
             "e": "E()", "p": "P()", "m2": "M2()", "pt2": "Perp2()", "mt": "Mt()", "et": "Et()",
             "rapidity": "Rapidity()", "beta": "Beta()", "gamma": "Gamma()", "theta": "Theta()"}  # fmt: skip
VU = ["delta_phi", "delta_r", "delta_r2", "invariant_mass"]


def _columns() -> list[str]:
    """Names of the table's columns, in the order both sides write them."""
    four = lambda what: [f"{what}[{k}]" for k in range(4)]
    cols = [*four("new"), *ACCESSORS, *four("from_xyzt"), *four("from_vector")]
    for op in ("add", "sub", "add_xyzt", "sub_xyzt", "scale", "neg"):
        cols += four(op)
    for target in SYSTEMS:
        cols += four(f"to_{target}")
    return cols + [f"vu_{f}" for f in VU] + [f"vu_{f}_cross" for f in VU]


COLUMNS = _columns()

# -- inputs ----------------------------------------------------------------------------------------

PI = 3.141592653589793
SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, PI, -PI, 2 * PI, -2 * PI, 3 * PI, -5 * PI, np.nextafter(PI, 4),
                    np.nextafter(-PI, -4), 1e3, -1e3, 22756.0, -22756.0, 22757.5, -22760.0, 710.0, -710.0, 1e-300,
                    5e-324, 1e300, -1e300, np.inf, -np.inf, np.nan, 8192.0, -8192.0])  # fmt: skip


def _inputs(seed: int = 20240) -> dict[str, np.ndarray]:
    """Quadruples (a, b, c, d) for the constructors, second vectors, XYZT vectors and scale factors."""
    rng = np.random.default_rng(seed)
    n_random, n_special = 1200, 1200
    pt = rng.exponential(30.0, n_random) * (rng.random(n_random) < 0.97)  # some pt == 0
    eta = np.concatenate([rng.uniform(-5, 5, n_random // 2), rng.normal(0, 30, n_random // 2)])
    phi = rng.uniform(-8, 8, n_random)  # outside [-pi, pi] too
    m = rng.uniform(-40, 120, n_random)  # negative masses, some below -p
    random = np.stack([pt, eta, phi, m], axis=1)
    cart = rng.normal(0, 40, (n_random, 4))  # as (px, py, pz, e): e < p and e < 0 too
    cart[::7, 3] = np.abs(cart[::7, 3]) + np.sqrt(np.sum(cart[::7, :3] ** 2, axis=1))  # timelike ones
    cart[::11, :2] = 0.0  # on the z axis
    cart[::13, 2] = cart[::13, 0] * 8192.0  # |z| / rho around Eta_FromRhoZ's switch
    cart[::17, 2] = cart[::17, 0] * 1e9
    cart[::19] = cart[::19] * np.array([1.0, 1.0, 1.0, 0.0])  # e == 0
    specials = np.where(rng.random((n_special, 4)) < 0.5, rng.choice(SPECIAL, (n_special, 4)),
                        rng.normal(0, 50, (n_special, 4)))  # fmt: skip
    q = np.concatenate([random, cart, specials])
    q2 = np.concatenate([q[1:], q[:1]])[rng.permutation(len(q))]
    # (v, v2) pairs: zero vectors and sums, pt == 0 beyond etaMax, DeltaPhi of exactly +-pi, phi == +-pi from
    # atan2 with y == +-0, negative pt, v - v, |z| / rho == 8192 (Eta_FromRhoZ's switch)
    pairs = np.array([[[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0, -1.0], [0.0, 0.0, 0.0, 0.0]],
                      [[0.0, 30000.0, 1.0, -5.0], [0.0, -30000.0, 1.0, 0.0]], [[10.0, 0.0, PI, 0.0], [10.0, 0.0, 0.0, 0.0]],
                      [[10.0, 0.0, 0.0, 0.0], [10.0, 0.0, PI, 0.0]], [[10.0, 0.0, -PI, -10.0], [10.0, 0.0, 0.0, 1.0]],
                      [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, -PI, 0.0]], [[-1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]],
                      [[-1.0, -0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]], [[1.0, 0.0, 0.0, 1.0], [-1.0, -0.0, 0.0, 1.0]],
                      [[10.0, 2.0, 0.5, -100.0], [3.0, 4.0, 0.0, 5.0]], [[-5.0, 1.0, 1.0, 2.0], [5.0, -1.0, 1.0, 2.0]],
                      [[3.0, 4.0, 0.0, 5.0], [3.0, 4.0, 12.0, 13.0]], [[3.0, 4.0, 12.0, 13.0], [-3.0, -4.0, -12.0, -13.0]],
                      [[1.0, -0.0, -1.0, 2.0], [-1.0, -0.0, 0.0, 1.0]], [[10.0, 1.5, 0.3, 5.0], [10.0, 1.5, 0.3, 5.0]],
                      [[0.0, 1.0, 8192.0, 0.0], [1.0, 0.0, -8192.0, 5.0]],
                      [[3.0, 4.0, 5 * 8192.0, 1.0], [3.0, 4.0, -5 * 8192.0, 1.0]]])  # fmt: skip
    q, q2 = np.concatenate([q, pairs[:, 0]]), np.concatenate([q2, pairs[:, 1]])
    with np.errstate(over="ignore"):  # 1e300 -> inf
        q, q2 = (np.concatenate([x, x.astype(np.float32).astype(np.float64)]) for x in (q, q2))  # float32 values too
    n = len(q)
    w = np.where(rng.random((n, 4)) < 0.1, rng.choice(SPECIAL, (n, 4)), rng.normal(0, 30, (n, 4)))
    a = np.where(rng.random(n) < 0.3, rng.choice([0.0, -0.0, 1.0, -1.0, 2.5, -0.5, 1e300, -1e-300, np.inf, np.nan], n),
                 rng.normal(0, 3, n))  # fmt: skip
    return {"q": q, "q2": q2, "w": w, "a": a}


# -- ROOT side -------------------------------------------------------------------------------------

CPP = r"""
#include "Math/Vector4D.h"
#include "Math/VectorUtil.h"
namespace hf_genvector {
using namespace ROOT::Math;
template <class V> void put(const V &v, double *&o) {
   double c[4];
   v.GetCoordinates(c);
   for (int k = 0; k < 4; ++k) *o++ = c[k];
}
template <class V, class U>
void table(const double *q, const double *q2, const double *w, const double *a, long n, long width, double *out) {
   for (long i = 0; i < n; ++i) {
      double *o = out + i * width;
      const double *p = q + 4 * i, *p2 = q2 + 4 * i, *pw = w + 4 * i;
      const V v(p[0], p[1], p[2], p[3]);
      const V v2(p2[0], p2[1], p2[2], p2[3]);
      const U u(p2[0], p2[1], p2[2], p2[3]);
      const XYZTVector wv(pw[0], pw[1], pw[2], pw[3]);
      put(v, o);
      ACCESSORS
      V s;
      s.SetXYZT(p[0], p[1], p[2], p[3]);
      put(s, o);
      put(V(XYZTVector(p[0], p[1], p[2], p[3])), o);
      put(v + v2, o);
      put(v - v2, o);
      put(v + wv, o);
      put(v - wv, o);
      put(v * a[i], o);
      put(-v, o);
      put(PtEtaPhiMVector(v), o);
      put(PtEtaPhiEVector(v), o);
      put(PxPyPzEVector(v), o);
      put(PxPyPzMVector(v), o);
      *o++ = VectorUtil::DeltaPhi(v, v2);
      *o++ = VectorUtil::DeltaR(v, v2);
      *o++ = VectorUtil::DeltaR2(v, v2);
      *o++ = VectorUtil::InvariantMass(v, v2);
      *o++ = VectorUtil::DeltaPhi(v, u);
      *o++ = VectorUtil::DeltaR(v, u);
      *o++ = VectorUtil::DeltaR2(v, u);
      *o++ = VectorUtil::InvariantMass(v, u);
      if (o != out + (i + 1) * width) throw std::runtime_error("width");
   }
}
WRAPPERS
}
"""

ROOT_SCRIPT = """
import sys
import numpy as np
import ROOT
ROOT.gROOT.SetBatch(True)
inputs, cpp, out_path, width, n_systems = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if not ROOT.gInterpreter.Declare(open(cpp).read()):
    raise SystemExit("declaring the C++ failed")
data = np.load(inputs)
q, q2, w, a = (np.ascontiguousarray(data[k]) for k in ("q", "q2", "w", "a"))
tables = {}
for k in range(n_systems):
    out = np.full((len(q), width), -1.0)
    getattr(ROOT.hf_genvector, f"table_{k}")(q, q2, w, a, len(q), width, out)
    tables[str(k)] = out
np.savez(out_path, **tables)
"""


@pytest.fixture(scope="module")
def inputs() -> dict[str, np.ndarray]:
    return _inputs()


@pytest.fixture(scope="module")
def root_tables(inputs, tmp_path_factory) -> dict[str, np.ndarray]:
    """{system: table} computed by ROOT in a subprocess. A failure there fails the tests (never a skip)."""
    where: Path = tmp_path_factory.mktemp("genvector")
    np.savez(where / "inputs.npz", **inputs)
    types = list(CPP_TYPES.values())
    wrappers = [f"void table_{k}(const double *q, const double *q2, const double *w, const double *a, long n, long width, "
                f"double *out) {{ table<{v}, {u}>(q, q2, w, a, n, width, out); }}"
                for k, (v, u) in enumerate(zip(types, types[1:] + types[:1], strict=True))]  # fmt: skip
    accessors = "\n      ".join(f"*o++ = v.{c};" for c in ACCESSORS.values())
    (where / "table.cpp").write_text(CPP.replace("ACCESSORS", accessors).replace("WRAPPERS", "\n".join(wrappers)))
    (where / "root_side.py").write_text(textwrap.dedent(ROOT_SCRIPT))
    proc = subprocess.run([sys.executable, str(where / "root_side.py"), str(where / "inputs.npz"), str(where / "table.cpp"),
                           str(where / "root.npz"), str(len(COLUMNS)), str(len(types))],
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert proc.returncode == 0, f"ROOT subprocess failed:\n{proc.stderr[-3000:]}"
    with np.load(where / "root.npz") as data:
        return {s: data[str(k)] for k, s in enumerate(SYSTEMS)}


# -- hepframe side ---------------------------------------------------------------------------------


def _our_table(system: str, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The table of the C++ function, with hepframe.udfs.genvector (the scalar functions called from Python)."""
    f = lambda name, s=system: getattr(gv, f"{s}_{name}")
    other = SYSTEMS[(SYSTEMS.index(system) + 1) % 4]
    new, accessors = f("new"), [f(name) for name in ACCESSORS]
    xyzt = [f(c) for c in "xyzt"]
    eta, phi = f("eta"), f("phi")
    o_new, o_eta, o_phi = (getattr(gv, f"{other}_{n}") for n in ("new", "eta", "phi"))
    o_xyzt = [getattr(gv, f"{other}_{c}") for c in "xyzt"]
    from_xyzt, from_vector, add, sub, scale, neg = map(f, ("from_xyzt", "from_vector", "add", "sub", "scale", "neg"))
    conversions = [(lambda v: v) if t == system else getattr(gv, f"convert_{system}_to_{t}") for t in SYSTEMS]
    out = np.empty((len(inputs["q"]), len(COLUMNS)))
    for i, (p, p2, pw, a) in enumerate(zip(inputs["q"].tolist(), inputs["q2"].tolist(), inputs["w"].tolist(),
                                           inputs["a"].tolist(), strict=True)):  # fmt: skip
        v, v2, u = new(*p), new(*p2), o_new(*p2)
        vx, v2x = [g(v) for g in xyzt], [g(v2) for g in xyzt]
        ux = [g(u) for g in o_xyzt]
        row = [*v, *(g(v) for g in accessors), *from_xyzt(*p), *from_vector(*p), *add(v, *v2x), *sub(v, *v2x),
               *add(v, *pw), *sub(v, *pw), *scale(v, a), *neg(v)]  # fmt: skip
        for convert in conversions:
            row += convert(v)
        for phi2, eta2, x2 in ((phi(v2), eta(v2), v2x), (o_phi(u), o_eta(u), ux)):
            row += [gv.vu_delta_phi(phi(v), phi2), gv.vu_delta_r(eta(v), phi(v), eta2, phi2),
                    gv.vu_delta_r2(eta(v), phi(v), eta2, phi2), gv.vu_invariant_mass(*vx, *x2)]  # fmt: skip
        out[i] = row
    return out


def _differences(ours: np.ndarray, theirs: np.ndarray, q: np.ndarray) -> list[str]:
    """One line per column with values that are not the same bits (any NaN equals any NaN)."""
    same = (ours.view(np.uint64) == theirs.view(np.uint64)) | (np.isnan(ours) & np.isnan(theirs))
    lines = []
    for k in np.nonzero(~same.all(axis=0))[0]:
        bad = np.nonzero(~same[:, k])[0]
        i = bad[0]
        lines.append(f"{COLUMNS[k]}: {len(bad)} rows differ, first for input {q[i].tolist()}: "
                     f"{float(ours[i, k]).hex()} != ROOT's {float(theirs[i, k]).hex()}")  # fmt: skip
    return lines


@pytest.mark.root
@pytest.mark.parametrize("system", SYSTEMS)
def test_bit_identical_to_root(system: str, inputs, root_tables) -> None:
    theirs = root_tables[system]
    assert theirs.shape == (len(inputs["q"]), len(COLUMNS))
    ours = _our_table(system, inputs)
    differences = _differences(ours, theirs, inputs["q"])
    assert not differences, f"{system}: {len(differences)} columns differ from ROOT:\n" + "\n".join(differences)


@pytest.mark.root
def test_inputs_reach_the_edge_cases(inputs, root_tables) -> None:
    """The table is not vacuous: branches that the edge cases are there for are taken."""
    t = root_tables
    col = COLUMNS.index
    m = t["ptetaphim"]
    q = inputs["q"]
    assert np.sum((q[:, 3] < 0) & (m[:, col("new[3]")] != q[:, 3])) > 10  # RestrictNegMass
    assert np.sum(m[:, col("new[2]")] != q[:, 2]) > 100  # RestrictPhi
    assert np.sum(np.isnan(m[:, col("m")])) < len(q) // 10  # NaN is not what everything compares
    e = t["pxpypze"]
    assert np.sum(e[:, col("m2")] < 0) > 100 and np.sum(e[:, col("m2")] > 0) > 100  # spacelike and timelike
    rho, z = np.hypot(q[:, 0], q[:, 1]), q[:, 2]
    with np.errstate(all="ignore"):
        assert np.sum(np.abs(z / rho) >= 8192.0) > 20  # Eta_FromRhoZ's large-z branch
    assert np.sum((rho == 0) & (z != 0)) > 20  # eta +- etaMax
    assert np.sum(inputs["a"] < 0) > 100  # Negate


def test_exports_every_function() -> None:
    names = [f"{s}_{f}" for s in SYSTEMS for f in ("new", "from_xyzt", "from_vector", "add", "sub", "scale", "neg",
                                                    *ACCESSORS)]  # fmt: skip
    names += [f"convert_{a}_to_{b}" for a in SYSTEMS for b in SYSTEMS if a != b]
    names += [f"vu_{f}" for f in VU]
    assert sorted(gv.__all__) == sorted(names)
    assert all(callable(getattr(gv, n)) for n in names)


@pytest.mark.parametrize("system", SYSTEMS)
def test_float32_arguments_are_converted_to_double(system: str) -> None:
    """C++ converts float arguments to double at the call: S_new of float32 values is S_new of their doubles."""
    new = getattr(gv, f"{system}_new")
    args = [np.float32(7.25), np.float32(-1.5), np.float32(4.0), np.float32(-30.5)]
    ours = new(*args)
    assert ours == new(*(float(a) for a in args))
    assert all(isinstance(c, float) for c in ours)
