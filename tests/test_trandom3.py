"""hepframe.trandom3.TRandom3 gives ROOT 6.40's TRandom3 numbers bit for bit, scalar calls and draw() alike.

ROOT's numbers come from one subprocess (``import ROOT`` is slow and process-wide) that replays the
same calls and prints them as JSON (``repr`` floats, exact); every comparison is ``==`` with equal
dtypes (tests.conftest.assert_same_values).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from hepframe.trandom3 import TRandom3, gRandom
from tests.conftest import assert_same_values

# Replays spec["cases"]: each case seeds a generator ("gRandom": the process's untouched gRandom,
# "default": TRandom3()) and runs its programs; a program calls, for entry i = 0..n-1, each item's
# method with its arguments (a list argument gives one value per entry).
ROOT_SCRIPT = r"""
import json, sys
import ROOT
spec = json.load(sys.stdin)
out = {"gRandom": [ROOT.gRandom.ClassName(), ROOT.gRandom.GetSeed()], "cases": [], "set_seed": []}
for case in spec["cases"]:
    seed = case["seed"]
    r = ROOT.gRandom if seed == "gRandom" else ROOT.TRandom3() if seed == "default" else ROOT.TRandom3(seed)
    result = {"seed": r.GetSeed(), "programs": []}
    for program in case["programs"]:
        items = [(getattr(r, name), args) for name, args in program["items"]]
        values = [[] for _ in items]
        for i in range(program["n"]):
            for (method, args), vals in zip(items, values):
                vals.append(method(*[a[i] if isinstance(a, list) else a for a in args]))
        result["programs"].append({"values": values, "seed": r.GetSeed()})
    out["cases"].append(result)
for how, seed in spec["set_seed"]:
    r = ROOT.TRandom3(seed) if how == "ctor" else ROOT.TRandom3()
    if how == "SetSeed":
        r.Rndm()
        r.SetSeed(seed)
    first = r.GetSeed()
    values = [r.Rndm() for _ in range(700)]  # past the first refill of the 624 words
    out["set_seed"].append([first, values, r.GetSeed()])
print(json.dumps(out))
"""

N_ENTRIES = 1500  # entries of the interleaved program


def _single(name: str, args: tuple, n: int) -> dict:
    return {"items": [(name, list(args))], "n": n}


def _sequences() -> list[dict]:
    """Every method and form, a few thousand numbers each; Poisson's means cover its three branches."""
    return [
        _single("Rndm", (), 2000),
        _single("Uniform", (-1.0, 1.0), 2000),
        _single("Uniform", (5.0,), 2000),
        _single("Uniform", (), 500),
        _single("Gaus", (), 4000),
        _single("Gaus", (3.0, 2.0), 2000),
        _single("Exp", (2.5,), 2000),
        *(_single("Poisson", (mean,), 1000) for mean in (0.5, 5.0, 30.0, 100.0, 5000.0, 3.0e9)),
        _single("Integer", (10,), 2000),
        _single("Landau", (), 3000),
        _single("Landau", (1.5, 2.0), 1000),
        _single("BreitWigner", (1.0, 3.0), 1000),
        _single("Binomial", (7, 0.3), 300),
    ]


def _interleaved() -> tuple[dict, list[tuple[str, tuple]]]:
    """A program with per-entry parameters (float32 pt, as a ROOT column), as JSON and for draw()."""
    rng = np.random.default_rng(7)
    n = N_ENTRIES
    pt = rng.exponential(30.0, n).astype(np.float32)
    sigma = 0.1 * pt.astype(np.float64)
    mu = rng.choice([0.5, 5.0, 30.0, 100.0, 5000.0], n)
    imax = rng.integers(1, 1000, n, dtype=np.int32)
    ntot = rng.integers(0, 12, n, dtype=np.int64)
    prob = rng.uniform(0.0, 1.0, n)
    tau = rng.uniform(0.5, 3.0, n)
    draw_items = [
        ("Gaus", (pt, sigma)),
        ("Uniform", (-1.0, 1.0)),
        ("Poisson", (mu,)),
        ("Integer", (imax,)),
        ("Rndm", ()),
        ("Landau", (pt, 2.0)),
        ("Exp", (tau,)),
        ("Binomial", (ntot, prob)),
        ("BreitWigner", (0.0, pt)),
        ("Uniform", (pt,)),
        ("Gaus", ()),
    ]
    as_json = [(name, [a.tolist() if isinstance(a, np.ndarray) else a for a in args]) for name, args in draw_items]
    return {"items": as_json, "n": n}, draw_items


def _edge_cases() -> dict:
    """Parameters at the branch boundaries and outside the domains (no number drawn, NaN, overflow)."""
    means = [float("nan"), float("inf"), float("-inf"), 0.0, -1.0, 1e-300, 24.999999999, 25.0, 999999999.9, 1e9,
             1e19, 1.9e19, 5e18]  # fmt: skip
    rows = [
        ("Poisson", means),
        ("Landau", [1.0] * len(means), [1.0, 0.0, -1.0, 2.0, 1e-3, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
        ("Binomial", [5, 0, -3, 5, 5, 1, 3, 5, 5, 5, 5, 5, 5],
         [0.5, 0.5, 0.5, -0.1, 1.5, float("nan"), 0.0, 1.0, 0.0, 0.5, 0.5, 0.5, 0.5]),
        ("Integer", [0, 1, 2**32 - 1, 2, 3, 10, 10, 10, 10, 10, 10, 10, 10]),
        ("Gaus", [0.0] * len(means), [0.0, -1.0, 1e300, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
        ("Exp", [0.0, -1.0, 1e300, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
    ]  # fmt: skip
    return {"items": [(name, list(args)) for name, *args in rows], "n": len(means)}


SEEDS = ["gRandom", "default", 1, 12345, 2**31 + 7]
SET_SEED = [("SetSeed", s) for s in (1, 4357, 2**31 + 7, 2**32 - 1, 2**32, 2**32 + 5, 2**64 - 1)] + [
    ("ctor", s) for s in (2**32 + 1, 2**64 - 1, 12345)
]


@pytest.fixture(scope="module")
def root_numbers() -> tuple[dict, dict]:
    interleaved, _ = _interleaved()
    programs = [*_sequences(), interleaved, _single("Gaus", (), 10)]
    spec = {"cases": [{"seed": seed, "programs": programs} for seed in SEEDS], "set_seed": SET_SEED}
    spec["cases"].append({"seed": 99, "programs": [_edge_cases(), _single("Rndm", (), 5)]})
    proc = subprocess.run([sys.executable, "-c", ROOT_SCRIPT], input=json.dumps(spec), capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, f"ROOT subprocess failed:\n{proc.stderr[-3000:]}"
    return spec, json.loads(proc.stdout.strip().splitlines()[-1])


def _generator(seed) -> TRandom3:
    return TRandom3() if seed in ("gRandom", "default") else TRandom3(seed)


def _as_arrays(items: list) -> list[tuple[str, tuple]]:
    return [(name, tuple(np.asarray(a) if isinstance(a, list) else a for a in args)) for name, args in items]


def _scalar_calls(r: TRandom3, program: dict) -> list[list]:
    """The program as one call after the other, with Python scalars."""
    values: list[list] = [[] for _ in program["items"]]
    for i in range(program["n"]):
        for (name, args), vals in zip(program["items"], values, strict=True):
            vals.append(getattr(r, name)(*[a[i] if isinstance(a, list) else a for a in args]))
    return values


@pytest.mark.root
@pytest.mark.parametrize("way", ["scalar", "draw", "alternating"])
def test_sequences_match_root(root_numbers, way: str) -> None:
    """Each seed's programs, run by scalar calls, by draw(), or alternating the two, give ROOT's numbers."""
    spec, ref = root_numbers
    dtypes = {"Poisson": np.uint64, "Integer": np.uint32, "Binomial": np.int32}
    for case, theirs in zip(spec["cases"], ref["cases"], strict=True):
        r = _generator(case["seed"])
        assert r.GetSeed() == theirs["seed"]
        for k, (program, result) in enumerate(zip(case["programs"], theirs["programs"], strict=True)):
            by_draw = way == "draw" or (way == "alternating" and k % 2 == 0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # Poisson's overflow, tested below
                ours = r.draw(_as_arrays(program["items"]), program["n"]) if by_draw else _scalar_calls(r, program)
            for (name, _), mine, values in zip(program["items"], ours, result["values"], strict=True):
                dtype = dtypes.get(name, np.float64)
                if by_draw:
                    assert mine.dtype == dtype, name
                else:  # Python floats and ints, as PyROOT returns
                    assert {type(v) for v in mine} == {int if name in dtypes else float}, name
                    mine = np.array(mine, dtype=dtype)
                what = f"seed {case['seed']} program {k} {name} ({way})"
                assert_same_values(mine, np.array(values, dtype=dtype), what)
            assert r.GetSeed() == result["seed"], f"seed {case['seed']} program {k}: GetSeed"


@pytest.mark.root
def test_grandom_of_a_fresh_root_is_trandom3_4357(root_numbers) -> None:
    spec, ref = root_numbers
    assert ref["gRandom"] == ["TRandom3", 4357]
    first = ref["cases"][0]["programs"][0]["values"][0][0]  # gRandom's first Rndm()
    assert first == TRandom3(4357).Rndm() == 0.999741748906672
    assert isinstance(gRandom, TRandom3)


@pytest.mark.root
def test_set_seed_and_get_seed_match_root(root_numbers) -> None:
    """GetSeed is the state word at the index; seeds are 64-bit in SetSeed, 32-bit in the constructor."""
    _, ref = root_numbers
    for (how, seed), (first, values, last) in zip(SET_SEED, ref["set_seed"], strict=True):
        r = TRandom3(seed) if how == "ctor" else TRandom3()
        if how == "SetSeed":
            r.Rndm()
            r.SetSeed(seed)
        assert r.GetSeed() == first, (how, seed)
        assert [r.Rndm() for _ in range(700)] == values, (how, seed)
        assert r.GetSeed() == last, (how, seed)


def test_poisson_overflow_warns_as_root_errors() -> None:
    r = TRandom3(5)
    with pytest.warns(RuntimeWarning, match="Overflow in return value"):
        assert r.Poisson(1e20) == 2**64 - 1
    with pytest.warns(RuntimeWarning, match="Overflow in return value"):
        out = r.draw([("Poisson", (np.array([5.0, 1e20]),))], 2)[0]
    assert out.dtype == np.uint64 and out[1] == 2**64 - 1


def test_draw_equals_sequential_calls_on_a_million_entries() -> None:
    n = 1_000_000
    rng = np.random.default_rng(3)
    pt = rng.exponential(30.0, n)
    mu = rng.choice([0.5, 30.0, 5000.0], n)
    a, b = TRandom3(2024), TRandom3(2024)
    a.Rndm()  # draw() starts mid-block
    b.Rndm()
    gaus, poisson = a.draw([("Gaus", (pt, 0.1 * pt)), ("Poisson", (mu,))], n)
    seq_gaus = np.empty(n)
    seq_poisson = np.empty(n, dtype=np.uint64)
    for i in range(n):
        seq_gaus[i] = b.Gaus(pt[i], 0.1 * pt[i])
        seq_poisson[i] = b.Poisson(mu[i])
    assert a._pos == b._pos and np.array_equal(a._mt, b._mt)
    for sl in (slice(0, 1000), slice(n - 1000, n)):
        assert_same_values(gaus[sl], seq_gaus[sl], "Gaus")
        assert_same_values(poisson[sl], seq_poisson[sl], "Poisson")
    assert a.Gaus() == b.Gaus()


def test_integer_parameters_convert_as_cpp() -> None:
    """Integer's UInt_t and Binomial's Int_t from int and float columns: C++'s implicit conversions."""
    a, b = TRandom3(8), TRandom3(8)
    imax = np.array([-1, 7, 2**31], dtype=np.int64)
    ints = a.draw([("Integer", (imax,)), ("Integer", (np.array([9.9, 3.2, 1e3]),))], 3)
    expected = [[b.Integer(2**32 - 1), b.Integer(9)], [b.Integer(7), b.Integer(3)], [b.Integer(2**31), b.Integer(1000)]]
    assert np.array_equal(np.array(ints).T, expected)
    assert ints[0].dtype == np.uint32
    (counts,) = a.draw([("Binomial", (np.array([4.7, -2.0, 3.0]), 0.5))], 3)
    assert counts.tolist() == [b.Binomial(4, 0.5), b.Binomial(-2, 0.5), b.Binomial(3, 0.5)] and counts.dtype == np.int32
    assert a.GetSeed() == b.GetSeed()


def test_set_seed_zero_is_random() -> None:
    a, b = TRandom3(0), TRandom3(0)
    assert [a.Rndm() for _ in range(5)] != [b.Rndm() for _ in range(5)]
    assert a._pos == 15  # ROOT's 10 warm-up draws, then ours
    a.SetSeed()
    assert a._pos == 10 and 0.0 < a.Rndm() < 1.0


def test_arguments_are_checked_as_pyroot_does() -> None:
    r = TRandom3(1)
    for call, error in [
        (lambda: r.SetSeed(-1), ValueError),
        (lambda: r.SetSeed(2**64), ValueError),
        (lambda: r.SetSeed(2.5), TypeError),
        (lambda: TRandom3(-1), ValueError),
        (lambda: r.Integer(-1), ValueError),
        (lambda: r.Integer(2.5), TypeError),
        (lambda: r.Binomial(2**31, 0.5), ValueError),
        (lambda: r.draw([("Rannor", ())], 3), ValueError),
        (lambda: r.draw([("Exp", ())], 3), TypeError),
        (lambda: r.draw([("Gaus", (1.0, 2.0, 3.0))], 3), TypeError),
        (lambda: r.draw([("Gaus", (np.zeros(2),))], 3), ValueError),
        (lambda: r.draw([("Integer", (2.5,))], 3), TypeError),
        (lambda: r.draw([("Rndm", ())], -1), ValueError),
    ]:
        with pytest.raises(error):
            call()
    assert [x.shape for x in r.draw([("Rndm", ()), ("Poisson", (3.0,))], 0)] == [(0,), (0,)]
    assert r.draw([], 5) == []
    assert r.GetSeed() == 1  # nothing drawn
    assert r.Integer(2**32 + 3) == TRandom3(1).Integer(3)  # PyROOT truncates an unsigned to 32 bits
