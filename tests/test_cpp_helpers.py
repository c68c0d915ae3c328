"""Declared C++ helper functions (hepframe.cpp): ROOT's numbers on every engine, clear errors, safe code.

Each helper is declared in both ROOT (``gInterpreter.Declare``) and hepframe, in a namespace of
its own (ROOT's interpreter cannot redefine a function), and the columns it computes are compared
bit for bit.
"""

from __future__ import annotations

import re

import awkward as ak
import numpy as np
import pytest
import uproot

import hepframe
from hepframe.cpp import INTERPRETER
from hepframe.errors import ExpressionSyntaxError, ExpressionTypeError, UnsupportedSyntaxError
from tests.conftest import ENGINES, assert_same_values

# -- the ADL reference helpers, as published (root-project/opendata-benchmarks, tasks/N/rdataframe_jitted.C) --

ADL_ALIASES = "template <typename T> using Vec = const ROOT::RVec<T>&;\nusing FourVector = ROOT::Math::PtEtaPhiMVector;\n"
ADL = {
    5: ("""
auto compute_dimuon_masses(Vec<float> pt, Vec<float> eta, Vec<float> phi, Vec<float> mass, Vec<int> charge)
{
    ROOT::RVec<float> masses;
    const auto c = ROOT::VecOps::Combinations(pt, 2);
    for (auto i = 0u; i < c[0].size(); i++) {
        const auto i1 = c[0][i];
        const auto i2 = c[1][i];
        if (charge[i1] == charge[i2]) continue;
        const FourVector p1(pt[i1], eta[i1], phi[i1], mass[i1]);
        const FourVector p2(pt[i2], eta[i2], phi[i2], mass[i2]);
        masses.push_back((p1 + p2).mass());
    }
    return masses;
};""", "compute_dimuon_masses(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge)"),
    6: ("""
using ROOT::Math::XYZTVector;
ROOT::RVec<std::size_t> find_trijet(Vec<XYZTVector> jets) {
  const auto c = ROOT::VecOps::Combinations(jets, 3);

  float distance = 1e9;
  const auto top_mass = 172.5;
  std::size_t idx = 0;
  for (auto i = 0u; i < c[0].size(); i++) {
    auto p1 = jets[c[0][i]];
    auto p2 = jets[c[1][i]];
    auto p3 = jets[c[2][i]];
    const auto tmp_mass = (p1 + p2 + p3).mass();
    const auto tmp_distance = std::abs(tmp_mass - top_mass);
    if (tmp_distance < distance) {
      distance = tmp_distance;
      idx = i;
    }
  }

  return {c[0][idx], c[1][idx], c[2][idx]};
}

float trijet_pt(Vec<float> pt, Vec<float> eta, Vec<float> phi, Vec<float> mass, Vec<std::size_t> idx)
{
    auto p1 = ROOT::Math::PtEtaPhiMVector(pt[idx[0]], eta[idx[0]], phi[idx[0]], mass[idx[0]]);
    auto p2 = ROOT::Math::PtEtaPhiMVector(pt[idx[1]], eta[idx[1]], phi[idx[1]], mass[idx[1]]);
    auto p3 = ROOT::Math::PtEtaPhiMVector(pt[idx[2]], eta[idx[2]], phi[idx[2]], mass[idx[2]]);
    return (p1 + p2 + p3).pt();
}

// the published query defines the XYZTVector column with a C++ lambda in Define: here a helper does it
ROOT::RVec<std::size_t> find_trijet_of(Vec<float> pt, Vec<float> eta, Vec<float> phi, Vec<float> m) {
    using ROOT::VecOps::Construct;
    return find_trijet(Construct<XYZTVector>(Construct<ROOT::Math::PtEtaPhiMVector>(pt, eta, phi, m)));
}""", "trijet_pt(Jet_pt, Jet_eta, Jet_phi, Jet_mass, find_trijet_of(Jet_pt, Jet_eta, Jet_phi, Jet_mass))"),
    7: ("""
ROOT::RVec<int> good_jets(Vec<float> eta1, Vec<float> phi1, Vec<float> pt2, Vec<float> eta2, Vec<float> phi2)
{
    ROOT::RVec<int> mask(eta1.size(), 1);
    if (eta2.size() == 0) {
        return mask;
    }

    const auto eta3 = eta2[pt2 > 10];
    const auto phi3 = phi2[pt2 > 10];
    if (eta3.size() == 0) {
        return mask;
    }

    const auto c = ROOT::VecOps::Combinations(eta1, eta3);
    for (auto i = 0; i < c[0].size(); i++) {
        const auto i1 = c[0][i];
        const auto i2 = c[1][i];
        const auto dr = ROOT::VecOps::DeltaR(eta1[i1], phi1[i1], eta2[i2], phi2[i2]);
        if (dr < 0.4) mask[i1] = 0;
    }
    return mask;
}""", "good_jets(Jet_eta, Jet_phi, Muon_pt, Muon_eta, Muon_phi)"),
    8: ("""
unsigned int additional_lepton_idx(Vec<float> pt, Vec<float> eta, Vec<float> phi, Vec<float> mass, Vec<int> charge, Vec<int> flavour)
{
    const auto c = Combinations(pt, 2);
    float best_mass = 99999;
    unsigned int best_i1 = 99999;
    unsigned int best_i2 = 99999;
    const auto z_mass = 91.2;
    const auto make_p4 = [&](std::size_t idx) {
        return ROOT::Math::PtEtaPhiMVector(pt[idx], eta[idx], phi[idx], mass[idx]);
    };

    for (auto i = 0u; i < c[0].size(); i++) {
        const auto i1 = c[0][i];
        const auto i2 = c[1][i];
        if (charge[i1] == charge[i2]) continue;
        if (flavour[i1] != flavour[i2]) continue;
        const auto tmp_mass = (make_p4(i1) + make_p4(i2)).mass();
        if (std::abs(tmp_mass - z_mass) < std::abs(best_mass - z_mass)) {
            best_mass = tmp_mass;
            best_i1 = i1;
            best_i2 = i2;
        }
    }

    if (best_i1 == 99999) return 99999;

    float max_pt = -999;
    unsigned int lep_idx = 99999;
    for (auto i = 0u; i < pt.size(); i++) {
        if (i != best_i1 && i != best_i2 && pt[i] > max_pt) {
            max_pt = pt[i];
            lep_idx = i;
        }
    }

    return lep_idx;
}""", "additional_lepton_idx(Concatenate(Muon_pt, Electron_pt), Concatenate(Muon_eta, Electron_eta), "
      "Concatenate(Muon_phi, Electron_phi), Concatenate(Muon_mass, Electron_mass), "
      "Concatenate(Muon_charge, Electron_charge), Concatenate(ROOT::RVec<int>(nMuon, 0), ROOT::RVec<int>(nElectron, 1)))"),
}  # fmt: skip


def _declare_both(ROOT, code: str) -> None:  # noqa: N803
    assert ROOT.gInterpreter.Declare(code), "ROOT could not compile the test's C++"
    hepframe.declare(code)


def _as_arrays(values: np.ndarray) -> np.ndarray:
    """ROOT's AsNumpy RVecs as numpy arrays (one object per event, even when all have the same length)."""
    if values.dtype != object:
        return values
    out = np.empty(len(values), dtype=object)
    for i, x in enumerate(values):
        out[i] = np.asarray(x)
    return out


def _column_both(ROOT, path: str, expression: str, engine: str = "polars", tree: str = "Events",  # noqa: N803
                 filter_: str = "true"):  # fmt: skip
    ours = hepframe.RDataFrame(tree, path, engine=engine).Filter(filter_).Define("out", expression)
    theirs = ROOT.RDataFrame(tree, path).Filter(filter_).Define("out", expression)
    return ours.AsNumpy(["out"])["out"], _as_arrays(theirs.AsNumpy(["out"])["out"])


@pytest.mark.parametrize("query", sorted(ADL))
def test_published_adl_helpers_match_root(query: int, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    code, expression = ADL[query]
    namespace = f"adl_published_{query}"
    _declare_both(ROOT, f"namespace {namespace} {{\n{ADL_ALIASES}{code}\n}}")
    qualified = re.sub(r"\b(compute_dimuon_masses|trijet_pt|find_trijet_of|good_jets|additional_lepton_idx)\(",
                       rf"{namespace}::\1(", expression)  # fmt: skip
    selection = {6: "nJet >= 3", 7: "nJet > 0", 8: "nElectron + nMuon > 2"}.get(query, "nMuon >= 2")
    ours, theirs = _column_both(ROOT, small_nanoaod_file, qualified, filter_=selection)
    assert len(ours) > 100
    assert_same_values(ours, theirs, f"ADL query {query}")


def test_adl_helpers_equal_the_hand_written_kernels(small_nanoaod_file: str) -> None:
    """benchmarks/adl's C++ helpers, compiled, equal its numba kernels (which match ROOT) bit for bit."""
    from benchmarks.adl import queries

    hepframe.declare("namespace adl_kernels_check {\n" + queries.CPP_HELPERS + "\n}")
    df = hepframe.RDataFrame("Events", small_nanoaod_file).Filter("nJet >= 3 && nMuon >= 2")
    calls = {"m": "dimuon_masses(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge)",
             "t": "find_trijet(Jet_pt, Jet_eta, Jet_phi, Jet_mass)",
             "i": "isolated_jets(Jet_eta, Jet_phi, Muon_pt, Muon_eta, Muon_phi)"}  # fmt: skip
    for key, call in calls.items():
        df = df.Define(f"kernel_{key}", call).Define(f"cpp_{key}", f"adl_kernels_check::{call}")
    calls["p"] = "trijet_pt(Jet_pt, Jet_eta, Jet_phi, Jet_mass, kernel_t)"
    df = df.Define("kernel_p", calls["p"]).Define("cpp_p", f"adl_kernels_check::{calls['p']}")
    calls["l"] = "additional_lepton_idx(Muon_pt, Muon_eta, Muon_phi, Muon_mass, Muon_charge, Muon_charge * 0)"
    df = df.Define("kernel_l", calls["l"]).Define("cpp_l", f"adl_kernels_check::{calls['l']}")
    out = df.AsNumpy([f"{side}_{key}" for side in ("kernel", "cpp") for key in calls])
    for key in calls:
        assert_same_values(out[f"cpp_{key}"], out[f"kernel_{key}"], key)


# -- the language subset, against ROOT's cling -------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("cpp") / "tiny.root"
    rng = np.random.default_rng(5)
    n = 64
    counts = rng.integers(0, 6, n)
    with uproot.recreate(path) as f:
        f["t"] = {
            "x": rng.normal(0, 10, n).astype(np.float32), "d": rng.normal(0, 100, n),
            "n": rng.integers(-20, 20, n).astype(np.int32), "u": rng.integers(0, 5, n).astype(np.uint32),
            "v": ak.unflatten(rng.normal(20, 15, counts.sum()).astype(np.float32), counts),
            "w": ak.unflatten(rng.integers(-3, 4, counts.sum()).astype(np.int32), counts),
        }  # fmt: skip
    return str(path)


LANGUAGE = {
    "loops": ("""
int f(const ROOT::RVec<float>& v, int n) {
    int count = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] < 0) continue;
        if (count > 3) break;
        count += 1;
    }
    int k = 0;
    while (k < n && k < 5) { k++; }
    for (auto x : v) count += x > 10 ? 1 : 0;
    return count * 100 + k;
}""", "f(v, n)"),
    "arithmetic": ("""
unsigned int g(unsigned int u, int n) { return u - 3 + n / 7 + n % 5; }
double f(float x, double d, int n, unsigned int u) {
    float y = x * 3.5f;
    y /= 1.7f;
    double z = d - y;
    z *= n;
    int q = n / 3 - n % 3 + (n << 2);
    return z + q + g(u, n) + (x > 0 ? std::sqrt(x) : -std::pow(-x, 1.5f)) + std::abs(n) + std::floor(d);
}""", "f(x, d, n, u)"),
    "overloads_constants": ("""
constexpr double scale = 2.5;
static const int offset = 7;
float h(float x) { return x * scale; }
float h(float x, int n) { return h(x) + n + offset; }
float f(float x, int n) { return h(x) - h(x, n); }""", "f(x, n) + h(x, 2)"),
    "rvecs": ("""
using RVecF = ROOT::RVecF;
ROOT::RVec<float> f(const RVecF& v, const ROOT::RVec<int>& w) {
    ROOT::RVec<float> out;
    out.reserve(v.size());
    for (std::size_t i = 0; i < v.size(); i++) {
        if (w[i] > 0) out.push_back(v[i] * w[i]);
        else out.emplace_back(-v[i]);
    }
    ROOT::RVec<float> copy = out;
    copy.resize(copy.size() + 2, 0.5f);
    RVecF sorted = Reverse(Sort(v));
    const auto big = v[v > 15];
    if (!big.empty()) copy.push_back(Sum(big) + Max(big) + big.front());
    copy.push_back(sorted.size() > 0 ? sorted[0] : -1.f);
    return copy;
}""", "f(v, w)"),
    "lambdas": ("""
double f(const ROOT::RVec<float>& v, double d) {
    const double shift = d / 100;
    auto add = [&](float x) { return x + shift; };
    auto twice = [=](double y) -> double { return 2 * y; };
    auto clamp = [](float x, float lo) { if (x < lo) return lo; return x; };
    double total = 0;
    for (auto x : v) total += twice(add(clamp(x, 5.f)));
    return total;
}""", "f(v, d)"),
    "higher_order": ("""
ROOT::RVec<float> f(const ROOT::RVec<float>& v, const ROOT::RVec<int>& w, float k) {
    using namespace ROOT::VecOps;
    auto scaled = Map(v, [&](float x) { return k * x; });
    auto both = Map(v, w, [](float x, int y) { return x * y; });
    auto big = Filter(scaled, [](float x) { return x > 10; });
    auto desc = Sort(both, [](float a, float b) { return a > b; });
    return Concatenate(big, desc);
}""", "f(v, w, x)"),
    "copies": ("""
ROOT::RVec<float> f(const ROOT::RVec<float>& v, float x) {
    auto a = v * 2.f;
    auto b = v * 2.f;                   // the same value: computed once, stored twice
    auto c = x > 0 ? v * 2.f : v;       // a copy either way
    const auto m1 = v[v > 10];
    const auto m2 = a[v > 10];          // the shared mask
    if (!a.empty()) { a[0] = 7; c[0] = -1; }
    return Concatenate(Concatenate(a, b), Concatenate(c, Concatenate(m1, m2)));
}""", "f(v, x)"),
    "vectors": ("""
double f(const ROOT::RVec<float>& v, float x) {
    if (v.size() < 2) return -1;
    ROOT::Math::PtEtaPhiMVector a(v[0], x / 10, x, 0.105);
    ROOT::Math::PxPyPzEVector b(v[1], x, 3.0, 400.0);
    auto c = a + b;
    ROOT::Math::XYZTVector d(c);
    auto e = b - a * 2.0;
    return c.M() + c.Pt() * c.Eta() - c.Phi() + d.E() + e.Px() + e.Py() + e.Pz() + e.M() + d.Rapidity()
        + ROOT::Math::VectorUtil::DeltaR(a, b) + ROOT::Math::VectorUtil::InvariantMass(a, b);
}""", "f(v, x)"),
    # the code generator's allocation-free paths (hepframe/cpp/codegen.py): Combinations read element by
    # element, results and selections in the batch's scratch buffers, each also past the buffer's size
    "combinations_by_element": ("""
double f(const ROOT::RVec<float>& v, const ROOT::RVec<int>& w) {
    ROOT::RVec<float> many(40 + v.size(), 0.5f);
    const auto big = ROOT::VecOps::Combinations(many, 2);    // beyond the index table: unranked
    double total = 0;
    for (std::size_t i = 0; i < big[0].size(); i += 7) total += big[0][i] * 100 + big[1][i];
    const auto pairs = ROOT::VecOps::Combinations(v, w);     // all (i, j) pairs
    for (std::size_t i = 0; i < pairs[0].size(); i++) total += v[pairs[0][i]] * w[pairs[1][i]];
    if (v.size() >= 3) {                                     // ROOT throws below 3
        const auto triples = ROOT::VecOps::Combinations(v, 3);
        for (std::size_t i = 0; i < triples[0].size(); i++) total += v[triples[0][i]] - v[triples[2][i]];
    }
    if (v.size() < 2) return total + big.size();
    const auto rows = ROOT::VecOps::Combinations(v, 2);      // a row read whole: the index arrays
    return total + Sum(rows[1]) + rows.size() + big.size();
}""", "f(v, w)"),
    "result_pushed_in_scratch": ("""
ROOT::RVec<float> f(const ROOT::RVec<float>& v, float x) {
    ROOT::RVec<float> out;
    for (int k = 0; k < 30; k++)
        for (auto a : v) out.push_back(a * k + x);           // up to 150 values: past the buffer
    return out;
}""", "f(v, x)"),
    "result_filled_in_scratch": ("""
ROOT::RVec<int> f(const ROOT::RVec<float>& v, int n) {
    ROOT::RVec<int> m(v.size() * 20, n);                      // up to 100 values
    if (!m.empty()) m[0] = 3;
    if (n > 10) return m;
    m.push_back(n);
    return m;
}""", "f(v, n)"),
    "result_braced_in_scratch": ("""
ROOT::RVec<double> f(const ROOT::RVec<float>& v, double d) {
    if (v.empty()) return {d, -d};
    return {v[0] * d, d, v[v.size() - 1]};
}""", "f(v, d)"),
    "selections_in_scratch": ("""
ROOT::RVec<float> f(const ROOT::RVec<float>& v, const ROOT::RVec<int>& w, float x) {
    const auto sel = v[v > 15 && w != 0];
    const auto neg = v[-v > x];
    const auto all = v[v == v];
    ROOT::RVec<float> big(100, 1.f);
    const auto many = big[big > 0.5f];                        // past the buffer
    ROOT::RVec<float> out = sel;
    out.push_back(Sum(neg));
    out.push_back(Sum(many));
    out.push_back(all.size());
    return Concatenate(out, sel);
}""", "f(v, w, x)"),
    "vectors_in_scratch": ("""
double f(const ROOT::RVec<float>& v, float x) {
    using namespace ROOT::VecOps;
    const auto p4 = Construct<ROOT::Math::PxPyPzMVector>(Construct<ROOT::Math::PtEtaPhiMVector>(v, v / 10, v / 20, v / 30));
    ROOT::RVec<float> big(100, 5.f);
    const auto many = Construct<ROOT::Math::PtEtaPhiMVector>(big, big / 100, big * x, big / 1000);  // past the buffer
    double total = many[99].Pt() + many[0].Phi() + many.size();
    for (std::size_t i = 0; i < p4.size(); i++) total += (p4[i] + p4[0]).M() + p4[i].Pt();
    return total;
}""", "f(v, x)"),
}  # fmt: skip


_DECLARED: set[str] = set()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(LANGUAGE))
def test_language_subset_matches_root(case: str, engine: str, tiny_file: str, ROOT) -> None:  # noqa: N803
    code, call = LANGUAGE[case]
    namespace = f"lang_{case}"
    if namespace not in _DECLARED:  # once for both engines: compiling is what costs
        _declare_both(ROOT, f"namespace {namespace} {{\n{code}\n}}")
        _DECLARED.add(namespace)
    qualified = re.sub(r"\b(f|h)\(", rf"{namespace}::\1(", call)
    ours, theirs = _column_both(ROOT, tiny_file, qualified, engine=engine, tree="t")
    assert_same_values(ours, theirs, case)


# -- errors: positioned, naming the construct; a failed declaration changes nothing ---------------------------


@pytest.mark.parametrize(("code", "error", "message"), [
    ("class A { int x; };", UnsupportedSyntaxError, "a class definition"),
    ("int f(int* p) { return *p; }", UnsupportedSyntaxError, "a pointer"),
    ("int f(int x) { throw 1; }", UnsupportedSyntaxError, "exception handling"),
    ("int f(int x) { static int calls = 0; return x; }", UnsupportedSyntaxError, "a static local variable"),
    ("int counter = 0;", UnsupportedSyntaxError, "global mutable state"),
    ("int f(int x) { std::cout << x; return x; }", UnsupportedSyntaxError, "I/O"),
    ("template <typename T> T f(T x) { return x; }", UnsupportedSyntaxError, "a function or class template"),
    ("void f(float x) { }", UnsupportedSyntaxError, "void"),
    ("int f(int& x) { x = 1; return x; }", UnsupportedSyntaxError, "non-const reference"),
    ("int f(int x) { return x + ; }", ExpressionSyntaxError, "expected a value"),
    ("int f(int x) { return y; }", Exception, "unknown name 'y'"),
    ("int f(int x) { if (x > 0) return 1; }", ExpressionTypeError, "without returning"),
    ("int f(const ROOT::RVec<int>& v) { v[0] = 1; return 0; }", ExpressionTypeError, "const"),
    ("float f(float x) { return g(x); }", Exception, "unknown function 'g'"),
    ("int f(int x) { break; return x; }", ExpressionTypeError, "'break' outside a loop"),
    ('#include "no_such_header.h"\nint f(int x) { return x; }', ExpressionSyntaxError, "no such file"),
])  # fmt: skip
def test_errors_are_positioned_and_name_the_construct(code: str, error: type, message: str) -> None:
    before = (dict(INTERPRETER.functions), len(INTERPRETER.history))
    with pytest.raises(error) as info:
        hepframe.declare(code)
    assert message in str(info.value)
    assert "line 1" in str(info.value) or "line 2" in str(info.value)  # where, with a caret
    assert (dict(INTERPRETER.functions), len(INTERPRETER.history)) == before  # nothing half-declared


def test_a_failed_declaration_registers_nothing() -> None:
    with pytest.raises(hepframe.UnknownColumnError):
        hepframe.declare("int cpp_half_ok(int x) { return x; }\nint cpp_half_bad(int x) { return nope; }")
    df = hepframe.FromPolars(__import__("polars").DataFrame({"x": [1, 2]}))
    with pytest.raises(hepframe.UnknownFunctionError, match="cpp_half_ok"):
        df.Define("y", "cpp_half_ok(x)")
    hepframe.declare("int cpp_half_ok(int x) { return x + 1; }")  # the same name, declared again, works
    assert list(df.Define("y", "cpp_half_ok(x)").Take["int"]("y").GetValue()) == [2, 3]


def test_functions_of_vectors_are_callable_from_helpers_not_from_expressions() -> None:
    hepframe.declare("ROOT::Math::PtEtaPhiMVector cpp_p4(float pt) { return ROOT::Math::PtEtaPhiMVector(pt, 0, 0, 1); }\n"
                     "double cpp_p4_mass(float pt) { return cpp_p4(pt).M(); }")  # fmt: skip
    df = hepframe.FromPolars(__import__("polars").DataFrame({"x": np.array([3.0, 4.0], np.float32)}))
    assert list(df.Define("m", "cpp_p4_mass(x)").Take["double"]("m").GetValue()) == [1.0, 1.0]
    with pytest.raises(UnsupportedSyntaxError, match="Lorentz vectors are not column types"):
        df.Define("p", "cpp_p4(x)")


def test_include_reads_local_headers(tmp_path) -> None:
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "inner.h").write_text("constexpr int cpp_inc_k = 3;\nint cpp_inc_times(int x) { return cpp_inc_k * x; }\n")
    main = tmp_path / "main.h"
    main.write_text('#include "ROOT/RVec.hxx"\n#include <cmath>\n#include "inc/inner.h"\n'
                    "int cpp_inc_plus(int x) { return cpp_inc_times(x) + 1; }\n")  # fmt: skip
    from hepframe.distributed import declare_headers

    declare_headers(str(main))
    df = hepframe.FromPolars(__import__("polars").DataFrame({"x": np.array([1, 2], np.int32)}))
    assert list(df.Define("y", "cpp_inc_plus(x)").Take["int"]("y").GetValue()) == [4, 7]


# -- generated code: internal names only, compiled once --------------------------------------------------------


def test_generated_code_contains_no_user_text() -> None:
    import hepframe.cpp.codegen as codegen

    code = """
namespace evil_ns { constexpr double evil_constant = 1.5; }
double evil_function(double subprocess, const ROOT::RVec<float>& open) {
    double os_system = 0; // a comment: ; import os
    for (auto getattr : open) os_system += getattr * evil_ns::evil_constant;
    return os_system + subprocess;
}
ROOT::RVec<float> evil_select(const ROOT::RVec<float>& open, float posix) {
    const auto spawn = open[open > posix && -open < posix];
    ROOT::RVec<float> compile;
    for (auto x : spawn) compile.push_back(x);
    const auto pairs = ROOT::VecOps::Combinations(spawn, 2);
    for (std::size_t i = 0; i < pairs[0].size(); i++) compile.push_back(spawn[pairs[1][i]]);
    return compile;
}"""
    hepframe.declare(code)
    fns = [INTERPRETER.functions[name][2].function for name in ("evil_function", "evil_select")]
    functions, constants = INTERPRETER.closure(fns)
    source = codegen.module_source(functions, constants, fns)  # with the batch functions and their entries
    assert "def e" in source and "scratch1" in source and "rt.comb(" in source  # every generated path
    for word in ("evil", "subprocess", "open", "getattr", "os_system", "comment", "spawn", "posix", "compile"):
        assert word not in source
    assert re.match(r"# Generated by hepframe.cpp .*\n# runtime [0-9a-f]{16}\n", source)
    identifiers = set(re.findall(r"\b[A-Za-z_][A-Za-z_0-9]*\b", source.split("\n", 2)[2]))
    allowed = {"import", "math", "numba", "np", "from", "hepframe", "cpp", "runtime", "as", "rt", "def", "return",
               "for", "in", "if", "else", "while", "not", "and", "or", "True", "False", "pass", "break", "continue",
               "njit", "cache", "nogil", "boundscheck", "error_model", "len", "range", "abs", "copy", "astype", "dtype", "array",
               "Generated", "by", "the", "typed", "IR", "of", "declared", "C", "functions", "Do", "edit",
               "forceinline", "raise", "ValueError", "IndexError", "RVec", "offsets", "outside", "their", "column",
               "mask", "values", "have", "different", "sizes", "scratch", "out", "pos", "grown", "max",
               "n", "i", "k", "m", "r", "rows"}  # fmt: skip
    internal = re.compile(r"^(f|v|g|k|b|e|h|p|a|scratch)\d+(_in|_n|_off)?$|^(float|int|uint)\d+$|^bool_$")
    unexpected = {i for i in identifiers - allowed if not internal.match(i)}
    import math

    import hepframe.cpp.runtime as rt

    unexpected -= {n for n in unexpected if hasattr(np, n) or hasattr(math, n) or hasattr(rt, n)} | {"numpy"}
    assert not unexpected, unexpected


def test_combinations_read_by_element_are_in_roots_order() -> None:
    """The allocation-free Combinations (runtime.comb): itertools' lexicographic order, from the table and unranked."""
    import itertools

    import hepframe.cpp.runtime as rt

    for k, sizes in {1: (1, 64, 65, 70), 2: (2, 5, 32, 33, 40), 3: (3, 7, 24, 25, 30), 4: (4, 16, 17, 20),
                     5: (5, 12)}.items():  # fmt: skip
        for n in sizes:
            expected = list(itertools.combinations(range(n), k))
            c = rt.comb(n, k)
            assert c[2] == len(expected)
            assert [tuple(int(rt.comb_item(c, r, i)) for r in range(k)) for i in range(len(expected))] == expected
    pairs = rt.comb2(3, 4)
    assert [(rt.comb_item(pairs, 0, i), rt.comb_item(pairs, 1, i)) for i in range(12)] == list(
        itertools.product(range(3), range(4)))
    for r, i in ((2, 0), (-1, 0), (0, 6), (0, -1)):
        with pytest.raises(IndexError):
            rt.comb_item(rt.comb(4, 2), r, i)
    for make in (rt.comb, rt.combinations):  # ROOT: "Cannot make unique combinations of size 3 from vector of size 2."
        with pytest.raises(ValueError, match="size k from an RVec of size n < k"):
            make(2, 3)


@pytest.mark.parametrize("query", [6, 8])
def test_declared_helpers_run_on_spark(query: int, small_nanoaod_file: str, spark_session) -> None:
    code, expression = ADL[query]
    namespace = f"adl_spark_{query}"
    hepframe.declare(f"namespace {namespace} {{\n{ADL_ALIASES}{code}\n}}")
    call = re.sub(r"\b(trijet_pt|find_trijet_of|additional_lepton_idx)\(", rf"{namespace}::\1(", expression)
    selection = "nJet >= 3" if query == 6 else "nElectron + nMuon > 2"
    results = [hepframe.RDataFrame("Events", small_nanoaod_file, engine=engine).Filter(selection)
               .Define("idx", call).AsNumpy(["idx"])["idx"] for engine in ("polars", "spark")]  # fmt: skip
    assert len(results[0]) > 100
    assert_same_values(results[1], results[0], "spark")


# -- ROOT's tutorials: df103's header and the helpers of df104-df107 ----------------------------------------------


def _tutorial(name: str) -> str:
    import os

    import ROOT as root_module  # noqa: N811 - only for its install path

    return os.path.join(os.path.dirname(root_module.__file__), "tutorials", "analysis", "dataframe", name)


def test_df103_header_matches_root(small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    """The header of df103 (shipped in the ROOT wheel), #included as the tutorial does, on events with its leptons."""
    _declare_both(ROOT, f'#include "{_tutorial("df103_NanoAODHiggsAnalysis_python.h")}"')
    mu = "Muon_pt, Muon_eta, Muon_phi, Muon_mass"
    el = "Electron_pt, Electron_eta, Electron_phi, Electron_mass"
    columns = {
        "z4": ("nMuon >= 4", f"compute_z_masses_4l(reco_zz_to_4l({mu}, Muon_charge), {mu})"),
        "h4": ("nMuon >= 4", f"compute_higgs_mass_4l(reco_zz_to_4l({mu}, Muon_charge), {mu})"),
        "dr4": ("nMuon >= 4", "filter_z_dr(reco_zz_to_4l(" + mu + ", Muon_charge), Muon_eta, Muon_phi)"),
        "z22": ("nMuon >= 2 && nElectron >= 2", f"compute_z_masses_2el2mu({el}, {mu})"),
        "h22": ("nMuon >= 2 && nElectron >= 2", f"compute_higgs_mass_2el2mu({el}, {mu})"),
        "pt": ("nMuon >= 2 && nElectron >= 2", "pt_cuts(Muon_pt, Electron_pt)"),
        "dr": ("nMuon >= 2 && nElectron >= 2", "dr_cuts(Muon_eta, Muon_phi, Electron_eta, Electron_phi)"),
    }
    for key, (selection, expression) in columns.items():
        ours, theirs = _column_both(ROOT, small_nanoaod_file, expression, filter_=selection)
        assert len(ours) > 5, key
        assert_same_values(ours, theirs, key)


TUTORIAL_HELPERS = {
    "df104": ("""
using namespace ROOT;
float ComputeInvariantMass(RVecF pt, RVecF eta, RVecF phi, RVecF e) {
    ROOT::Math::PtEtaPhiEVector p1(pt[0], eta[0], phi[0], e[0]);
    ROOT::Math::PtEtaPhiEVector p2(pt[1], eta[1], phi[1], e[1]);
    return (p1 + p2).mass() / 1000.0;
}""", "nJet >= 2", "ComputeInvariantMass(Jet_pt * 1000, Jet_eta, Jet_phi, Jet_pt * 2000)"),
    "df105": ("""
bool GoodElectronOrMuon(int type, float pt, float eta, float phi, float e, float trackd0pv, float tracksigd0pv, float z0)
{
    ROOT::Math::PtEtaPhiEVector p(pt / 1000.0, eta, phi, e / 1000.0);
    if (abs(z0 * sin(p.theta())) > 0.5) return false;
    if (type == 11 && abs(eta) < 2.46 && (abs(eta) < 1.37 || abs(eta) > 1.52)) {
        if (abs(trackd0pv / tracksigd0pv) > 5) return false;
        return true;
    }
    if (type == 13 && abs(eta) < 2.5) {
        if (abs(trackd0pv / tracksigd0pv) > 3) return false;
        return true;
    }
    return false;
}

float ComputeTransverseMass(float met_et, float met_phi, float lep_pt, float lep_eta, float lep_phi, float lep_e)
{
    ROOT::Math::PtEtaPhiEVector met(met_et, 0, met_phi, met_et);
    ROOT::Math::PtEtaPhiEVector lep(lep_pt, lep_eta, lep_phi, lep_e);
    return (met + lep).Mt() / 1000.0;
}""", "nMuon >= 1", "ComputeTransverseMass(MET_pt * 1000, MET_phi, Muon_pt[0] * 1000, Muon_eta[0], Muon_phi[0], "
                    "Muon_pt[0] * 1500) + GoodElectronOrMuon(Muon_charge[0] > 0 ? 11 : 13, Muon_pt[0] * 1000, "
                    "Muon_eta[0], Muon_phi[0], Muon_pt[0] * 1500, Muon_eta[0], Muon_phi[0] + 4, Muon_mass[0] - 0.1)"),
    "df106": ("""
using ROOT::RVecF;
using ROOT::RVecI;
bool GoodElectronsAndMuons(const RVecI &type, const RVecF &pt, const RVecF &eta, const RVecF &phi, const RVecF &e, const RVecF &trackd0pv, const RVecF &tracksigd0pv, const RVecF &z0)
{
    for (size_t i = 0; i < type.size(); i++) {
        ROOT::Math::PtEtaPhiEVector p(0.001*pt[i], eta[i], phi[i], 0.001*e[i]);
        if (type[i] == 11) {
            if (pt[i] < 7000 || abs(eta[i]) > 2.47 || abs(trackd0pv[i] / tracksigd0pv[i]) > 5 || abs(z0[i] * sin(p.Theta())) > 0.5) return false;
        } else {
            if (abs(trackd0pv[i] / tracksigd0pv[i]) > 5 || abs(z0[i] * sin(p.Theta())) > 0.5) return false;
        }
    }
    return true;
}
double weights(float scaleFactor_1, float scaleFactor_2, float scaleFactor_3, float scaleFactor_4, float scale, float mcWeight, double xsecs, double sumws, double lumi)
{
    return scaleFactor_1 * scaleFactor_2 * scaleFactor_3 * scaleFactor_4 * scale * mcWeight * xsecs / sumws * lumi;
}
float ComputeInvariantMass(RVecF pt, RVecF eta, RVecF phi, RVecF e)
{
    ROOT::Math::PtEtaPhiEVector p1{pt[0], eta[0], phi[0], e[0]};
    ROOT::Math::PtEtaPhiEVector p2{pt[1], eta[1], phi[1], e[1]};
    ROOT::Math::PtEtaPhiEVector p3{pt[2], eta[2], phi[2], e[2]};
    ROOT::Math::PtEtaPhiEVector p4{pt[3], eta[3], phi[3], e[3]};
    return 0.001 * (p1 + p2 + p3 + p4).M();
}""", "nJet >= 4", "ComputeInvariantMass(Jet_pt * 1000, Jet_eta, Jet_phi, Jet_pt * 3000) + weights(Jet_pt[0], Jet_pt[1], "
                   "Jet_eta[0], Jet_eta[1], MET_pt, MET_phi, 0.5, 3.0, 10.0) + GoodElectronsAndMuons(Muon_charge * 2 + 13, "
                   "Muon_pt * 1000, Muon_eta, Muon_phi, Muon_pt * 1100, Muon_eta, Muon_phi + 4, Muon_mass - 0.1)"),
    "df107": ("""
using cRVecF = const ROOT::RVecF &;
using cRVecI = const ROOT::RVecI &;
int FindGoodLepton(cRVecI goodlep, cRVecI type, cRVecF lep_pt, cRVecF lep_eta, cRVecF lep_phi, cRVecF lep_e, cRVecF trackd0pv, cRVecF tracksigd0pv, cRVecF z0)
{
    int idx = -1; // Return -1 if no good lepton is found.
    for(auto i = 0; i < type.size(); i++) {
        if(!goodlep[i]) continue;
        if (type[i] == 11 && abs(lep_eta[i]) < 2.47 && (abs(lep_eta[i]) < 1.37 || abs(lep_eta[i]) > 1.52) && abs(trackd0pv[i] / tracksigd0pv[i]) < 5) {
            const ROOT::Math::PtEtaPhiEVector p(lep_pt[i], lep_eta[i], lep_phi[i], lep_e[i]);
            if (abs(z0[i] * sin(p.Theta())) < 0.5) {
                if (idx == -1) idx = i;
                else return -1; // Accept only events with exactly one good lepton
            }
        }
        if (type[i] == 13 && abs(lep_eta[i]) < 2.5 && abs(trackd0pv[i] / tracksigd0pv[i]) < 3) {
            const ROOT::Math::PtEtaPhiEVector p(lep_pt[i], lep_eta[i], lep_phi[i], lep_e[i]);
            if (abs(z0[i] * sin(p.Theta())) < 0.5) {
                if (idx == -1) idx = i;
                else return -1; // Accept only events with exactly one good lepton
            }
        }
    }
    return idx;
}

float ComputeTopMass(float lep_pt, float lep_eta, float lep_phi, float lep_e, float jet_pt, float jet_eta, float jet_phi, float jet_e, float met_et, float met_phi)
{
    const ROOT::Math::PtEtaPhiEVector lep(lep_pt / 1000.0, lep_eta, lep_phi, lep_e / 1000.0);
    const ROOT::Math::PtEtaPhiEVector met(met_et / 1000.0, 0, met_phi, met_et / 1000.0);
    const ROOT::Math::PtEtaPhiEVector bjet(jet_pt / 1000.0, jet_eta, jet_phi, jet_e / 1000.0);
    // Please note that we treat here the missing transverse energy as the neutrino, even though the z component is missing!
    return (lep + met + bjet).M();
}""", "nMuon >= 1 && nJet >= 1", "FindGoodLepton(Muon_pt > 10, Muon_charge * 2 + 13, Muon_pt, Muon_eta, Muon_phi, "
                                "Muon_pt * 1.2f, Muon_eta, Muon_phi + 4, Muon_mass - 0.1) + ComputeTopMass(Muon_pt[0] * 1000, "
                                "Muon_eta[0], Muon_phi[0], Muon_pt[0] * 1500, Jet_pt[0] * 1000, Jet_eta[0], Jet_phi[0], "
                                "Jet_pt[0] * 1300, MET_pt * 1000, MET_phi)"),
}  # fmt: skip


@pytest.mark.parametrize("tutorial", sorted(TUTORIAL_HELPERS))
def test_tutorial_helpers_match_root(tutorial: str, small_nanoaod_file: str, ROOT) -> None:  # noqa: N803
    """The C++ that df104-df107 declare, verbatim, on generated NanoAOD columns standing in for their branches."""
    code, selection, expression = TUTORIAL_HELPERS[tutorial]
    namespace = f"tutorial_{tutorial}"
    _declare_both(ROOT, f"namespace {namespace} {{\n{code}\n}}")
    qualified = re.sub(r"\b(ComputeInvariantMass|GoodElectronOrMuon|ComputeTransverseMass|GoodElectronsAndMuons|"
                       r"weights|FindGoodLepton|ComputeTopMass)\(", rf"{namespace}::\1(", expression)  # fmt: skip
    ours, theirs = _column_both(ROOT, small_nanoaod_file, qualified, filter_=selection)
    assert len(ours) > 100
    assert_same_values(ours, theirs, tutorial)


def test_an_index_out_of_range_is_an_error_naming_the_function_and_entries() -> None:
    hepframe.declare("float cpp_third(const ROOT::RVec<float>& v) { return v[2]; }")
    df = hepframe.FromPolars(__import__("polars").DataFrame({"v": [[1.0, 2.0, 3.0], [1.0]]},
                                                            schema={"v": __import__("polars").List(__import__("polars").Float32)}))  # fmt: skip
    with pytest.raises(hepframe.EventError, match=r"cpp_third.*entries 0-1.*undefined behaviour"):
        df.Define("t", "cpp_third(v)").Sum("t").GetValue()
    # ROOT throws "Cannot make unique combinations of size 3 from vector of size 1."
    hepframe.declare("""std::size_t cpp_triplets(const ROOT::RVec<float>& v) {
        const auto c = ROOT::VecOps::Combinations(v, 3);
        return c[0].size();
    }""")
    with pytest.raises(hepframe.EventError, match=r"cpp_triplets.*entries 0-1.*combinations of size k"):
        df.Define("t", "cpp_triplets(v)").Sum("t").GetValue()


DEFINE_STRINGS = [
    "return ROOT::VecOps::Map(v, [](float x) { return 2 * x + 1; });",
    "int k = 0; while (k < n && k < 7) k += 2; return k",
    "auto f = [&](float y) { return y * x; }; double s = 0; for (auto e : v) s += f(e); return s;",
    "ROOT::RVec<int> out; for (std::size_t i = 0; i < w.size(); ++i) { if (w[i] < 0) break; out.push_back(w[i] * n); } return out;",
    "return ROOT::VecOps::Filter(v, [](float e) { return e > 20; }).size() + rdfentry_ % 3;",
]  # fmt: skip


@pytest.mark.parametrize("text", DEFINE_STRINGS)
def test_define_strings_beyond_expressions_compile_as_cpp_functions(text: str, tiny_file: str, ROOT) -> None:  # noqa: N803
    """What the expression compiler does not lower (lambdas, while, break, push_back) compiles as ROOT compiles it."""
    ours, theirs = _column_both(ROOT, tiny_file, text, tree="t")
    assert_same_values(ours, theirs, text)


EDGE_CASES = {  # found by tests/test_cpp_properties.py's probes; each against ROOT
    "int_min_division": ("int f(int n) { int a = -2147483647 - 1; a /= 2; return a + (n - n); }", "f(n)"),
    "int_min_remainder": ("int f(int n) { int a = -2147483647 - 1; return a % 7 + (n - n); }", "f(n)"),
    "long_min_remainder": ("long f(int n) { long a = -9223372036854775807L - 1; return a % 10 + n; }", "f(n)"),
    "negative_division": ("int f(int n) { return n / 3 + n % 3 + (-n) / 4 + (-n) % 4; }", "f(n)"),
    "negated_unsigned_constant": ("unsigned long f(int n) { return - -1000ul + -static_cast<std::size_t>(-1) + n * 0; }",
                                  "f(n)"),
    "float_division_by_zero": ("float f(float x, double d) { return x / (d - d) + x / 0.f; }", "f(x, d)"),
    "float_literal_rounding": ("float f(float x) { return 16777217.000000001f + 1.00000017881393432617187499f * x; }", "f(x)"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_arithmetic_edge_cases_match_root(case: str, tiny_file: str, ROOT) -> None:  # noqa: N803
    code, call = EDGE_CASES[case]
    namespace = f"edge_{case}"
    _declare_both(ROOT, f"namespace {namespace} {{\n{code}\n}}")
    ours, theirs = _column_both(ROOT, tiny_file, call.replace("f(", f"{namespace}::f("), tree="t")
    assert_same_values(ours, theirs, case)


@pytest.mark.parametrize("text", ["- -1000ul + n", "16777217.000000001f + x", "1.00000017881393432617187499f * x"])
def test_the_same_edge_cases_in_expression_strings(text: str, tiny_file: str, ROOT) -> None:  # noqa: N803
    ours, theirs = _column_both(ROOT, tiny_file, text, tree="t")
    assert_same_values(ours, theirs, text)


@pytest.mark.parametrize("text", ["std::min(x, 0.f)", "std::max(n, 2)", "std::max(0.f, x) + std::min(d, 1e-3)",
                                  "TMath::Max(x, 0.f) + TMath::Min(d, 0.5)", "std::min(u, 2u) + TMath::Max(n, -3)",
                                  "std::max(x / (x - x), 1.f) + TMath::Min(x / (x - x), 1.f)"])  # fmt: skip
def test_min_and_max_match_root(text: str, tiny_file: str, ROOT) -> None:  # noqa: N803
    """std::min/max and TMath::Min/Max, NaN and signed zeros included, in expressions (and so in helpers)."""
    ours, theirs = _column_both(ROOT, tiny_file, text, tree="t")
    assert_same_values(ours, theirs, text)


def test_min_and_max_in_a_helper_match_root(tiny_file: str, ROOT) -> None:  # noqa: N803
    _declare_both(ROOT, "namespace minmax_helper { float f(float x, int n) { float lo = std::min(x, 2.5f); "
                        "return std::max(lo, static_cast<float>(n)) + TMath::Max(lo, 0.f); } }")  # fmt: skip
    ours, theirs = _column_both(ROOT, tiny_file, "minmax_helper::f(x, n)", tree="t")
    assert_same_values(ours, theirs, "helper")
    with pytest.raises(ExpressionTypeError, match="does not compile in C"):
        hepframe.declare("float minmax_bad(float x) { return std::min(x, 1.0); }")
