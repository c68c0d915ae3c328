"""``ROOT.Numba.Declare``: the same declarations and analysis on real ROOT 6.40 and on hepframe, same values.

ROOT runs in one subprocess (importing it into pytest is slow) and prints its results as JSON;
hepframe runs the same function body in this process. The declared functions are df038's
(``pypow``, ``pypowarray``), df101's cuts, and ones that cover every type ROOT accepts, more
than four arguments, an inferred result type, a result numba computes in another type, and RVec
results of numbers and of bools.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import awkward as ak
import numpy as np
import pytest

import hepframe
import hepframe.ROOT
from hepframe.datasets import write_tree
from hepframe.errors import AnalysisError, ExpressionTypeError
from hepframe.udf import Numba
from tests.conftest import assert_same_values

REPO = Path(__file__).resolve().parent.parent

#: Columns the analysis returns (AsNumpy), in this order.
COLUMNS = ["p", "p3", "pa", "nine", "halved", "scaled", "above", "vl"]


def analysis(R: Any, path: str) -> dict:  # noqa: N803 - the ROOT module, as a user names it
    """A ROOT user's script with Numba-declared helpers, against the ``ROOT`` namespace ``R``."""

    @R.Numba.Declare(["float", "int"], "float")  # df038
    def pypow(x, y):
        return x**y

    @R.Numba.Declare(["RVecF", "int"], "RVecF")  # df038
    def pypowarray(x, y):
        return x**y

    @R.Numba.Declare(["int", "int", "RVecI"], "bool")  # df101
    def ik_ipi_nhitrp_cut(ik, ipi, nhitrp):
        return nhitrp[ik - 1] * nhitrp[ipi - 1] > 1

    @R.Numba.Declare(["int", "RVecF", "RVecF"], "bool")  # df101
    def ik_rstart_rend_cut(ik, rstart, rend):
        return rend[ik - 1] - rstart[ik - 1] > 22

    # Every scalar type and every RVec alias ROOT accepts, in nine arguments.
    @R.Numba.Declare(["double", "unsigned int", "long", "unsigned long", "bool", "ROOT::RVec<double>", "RVecU",
                      "RVecL", "RVecB"], "double")  # fmt: skip
    def nine(d, u, lo, ul, flag, vd, vu, vl, vb):
        total = d + u * 0.5 + lo - ul * 0.25 + (1.0 if flag else -1.0)
        for i in range(len(vd)):
            total += vd[i] * vu[i % len(vu)] if len(vu) else vd[i]
        for i in range(len(vl)):
            total -= vl[i] if vb[i % len(vb)] else 0
        return total

    @R.Numba.Declare(["RVecF"])  # no result type: numba's (float32 array -> RVec<float>)
    def halved(v):
        return v / np.float32(2)

    @R.Numba.Declare(["RVecF"], "RVecF")  # numba computes float64: converted to float, as ROOT's wrapper does
    def scaled(v):
        return v * 2.5

    @R.Numba.Declare(["RVecF", "float"], "RVecB")
    def above(v, cut):
        return v > cut

    df = R.RDataFrame("Events", path)
    d = (df.Define("p", "Numba::pypow(x, k)").Define("p3", "Numba::pypow(x, 3)")
           .Define("pa", "Numba::pypowarray(rstart, 2)")
           .Define("vl", "ROOT::RVecL{l, 2 * l, -l}")
           .Define("nine", "Numba::nine(d, u, l, ul, flag, vd, vu, vl, vb)")
           .Define("halved", "Numba::halved(rend)").Define("scaled", "Numba::scaled(rend)")
           .Define("above", "Numba::above(rend, 30.f)"))  # fmt: skip
    cut = d.Filter("Numba::ik_ipi_nhitrp_cut(ik, ipi, nhitrp)", "nhitrp").Filter(
        "Numba::ik_rstart_rend_cut(ik, rstart, rend)", "rstart/rend")
    count, total = cut.Count(), cut.Sum("p")
    columns = d.AsNumpy(COLUMNS)
    return {
        "columns": {name: _plain(columns[name]) for name in COLUMNS},
        "count": int(count.GetValue()),
        "sum": float(total.GetValue()),
        # The decorator gives back the Python function; the compiled one is Numba.<name> (C++ in ROOT).
        "python_call": pypow(2.0, 3), "compiled_call": float(R.Numba.pypow(2.5, 3)),
        "has_numba_func": hasattr(pypow, "numba_func"),
    }  # fmt: skip


def _plain(array: np.ndarray) -> dict:
    """JSON-ready values with their dtype (RVec columns: lists, with the element dtype)."""
    if array.dtype == object:
        items = [np.asarray(a) for a in array]
        dtype = str(items[0].dtype) if items else "float64"
        return {"dtype": dtype, "rvec": True, "values": [a.tolist() for a in items]}
    return {"dtype": str(array.dtype), "rvec": False, "values": array.tolist()}


def _arrays(column: dict) -> list[np.ndarray]:
    dtype = np.dtype(column["dtype"])
    if column["rvec"]:
        return [np.asarray(v, dtype=dtype) for v in column["values"]]
    return [np.asarray(column["values"], dtype=dtype)]


def import_root_with_numba():
    """ROOT, with a stand-in for cffi where it is missing.

    ROOT's Numba.Declare imports cffi only for ``malloc``, called inside its compiled wrapper to
    copy RVec results. cffi is not a dependency here: an LLVM intrinsic calling the C library's
    malloc takes its place. The values come from the same numba-compiled function either way.
    """
    try:
        import cffi  # noqa: F401
    except ImportError:
        import types

        import numba.core.typing.cffi_utils  # noqa: F401 - first, so that numba sees no cffi
        from llvmlite import ir
        from numba.core import cgutils
        from numba.core import types as nbtypes
        from numba.extending import intrinsic

        @intrinsic
        def malloc(typingctx, size):
            def codegen(context, builder, signature, args):
                fnty = ir.FunctionType(cgutils.voidptr_t, [ir.IntType(64)])
                fn = cgutils.get_or_insert_function(builder.module, fnty, "malloc")
                return builder.call(fn, [context.cast(builder, args[0], signature.args[0], nbtypes.int64)])

            return nbtypes.voidptr(size), codegen

        class FFI:
            def cdef(self, text: str) -> None:
                pass

            def dlopen(self, name: Any) -> Any:
                return SimpleNamespace(malloc=malloc)

        sys.modules["cffi"] = types.SimpleNamespace(FFI=FFI)  # type: ignore[assignment]
    import ROOT

    ROOT.gROOT.SetBatch(True)
    return ROOT


ORACLE = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("numba_declare_oracle", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print("RESULT " + json.dumps(module.analysis(module.import_root_with_numba(), sys.argv[2])))
"""


@pytest.fixture(scope="module")
def declare_file(tmp_path_factory) -> str:
    rng = np.random.default_rng(38)
    n = 600

    def jagged(dtype, low, high, min_len=0):
        counts = rng.integers(min_len, 6, n)
        flat = rng.uniform(low, high, counts.sum()) if np.dtype(dtype).kind == "f" else rng.integers(low, high, counts.sum())
        return ak.unflatten(np.asarray(flat, dtype=dtype), counts)

    return write_tree(tmp_path_factory.mktemp("numba") / "declare.root", {
        "x": rng.uniform(-3, 3, n).astype(np.float32), "k": rng.integers(0, 5, n).astype(np.int32),
        "d": rng.normal(0, 100, n), "u": rng.integers(0, 2**32, n, dtype=np.uint32),
        "l": rng.integers(-(2**40), 2**40, n, dtype=np.int64), "ul": rng.integers(0, 2**50, n, dtype=np.uint64),
        "flag": rng.random(n) < 0.5, "ik": rng.integers(1, 4, n).astype(np.int32),
        "ipi": rng.integers(1, 4, n).astype(np.int32), "nhitrp": jagged(np.int32, -1, 4, 3),
        "rstart": jagged(np.float32, 0, 40, 3), "rend": jagged(np.float32, 0, 80, 3), "vd": jagged(np.float64, -5, 5),
        "vu": jagged(np.uint32, 0, 1000), "vb": ak.values_astype(jagged(np.int32, 0, 2, 1), bool),
    })  # fmt: skip


def _hepframe_root() -> Any:
    """``from hepframe import ROOT`` (with ``Numba`` until the facade carries it)."""
    if getattr(hepframe.ROOT, "Numba", None) is not None:
        return hepframe.ROOT
    return SimpleNamespace(Numba=Numba, RDataFrame=hepframe.ROOT.RDataFrame)


@pytest.mark.root
def test_numba_declare_gives_roots_values(declare_file: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", ORACLE, __file__, declare_file], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300, check=False)  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    theirs = json.loads(lines[-1].removeprefix("RESULT "))
    ours = json.loads(json.dumps(analysis(_hepframe_root(), declare_file)))  # the same JSON round trip
    for name in COLUMNS:
        got, want = ours["columns"][name], theirs["columns"][name]
        assert got["dtype"] == want["dtype"] and got["rvec"] == want["rvec"], (name, got["dtype"], want["dtype"])
        for k, (a, b) in enumerate(zip(_arrays(got), _arrays(want), strict=True)):
            assert_same_values(a, b, f"{name}[{k}]")
    assert ours["count"] == theirs["count"] > 0
    assert ours["sum"] == theirs["sum"]
    assert ours["python_call"] == theirs["python_call"] == 8.0
    assert ours["compiled_call"] == theirs["compiled_call"] == 15.625
    assert ours["has_numba_func"] and theirs["has_numba_func"]


def test_declared_function_is_a_udf_by_name_and_as_a_callable(declare_file: str) -> None:
    @Numba.Declare(["float", "int"], "float")
    def nd_pow(x, y):
        return x**y

    df = hepframe.RDataFrame("Events", declare_file)
    by_name = df.Define("p", "Numba::nd_pow(x, k)").AsNumpy(["p"])["p"]
    as_callable = df.Define("p", nd_pow, ["x", "k"]).AsNumpy(["p"])["p"]
    plain = df.Define("p", "nd_pow(x, k)").AsNumpy(["p"])["p"]  # hepframe also finds it without Numba::
    assert_same_values(as_callable, by_name, "callable")
    assert_same_values(plain, by_name, "plain name")
    assert by_name.dtype == np.float32
    assert "nd_pow" in dir(Numba) and Numba.nd_pow.func is nd_pow.numba_func


def test_rvec_results_over_several_batches_and_threads(declare_file: str) -> None:
    """The RVec loop grows its buffer: results of every batch, on any number of threads, are the same."""

    @Numba.Declare(["RVecF", "int"], "RVecF")
    def nd_repeat(v, times):
        out = np.empty(len(v) * times, np.float32)
        for i in range(len(out)):
            out[i] = v[i % len(v)] if len(v) else 0
        return out

    expected = None
    for threads, step in ((1, 600), (3, 37)):
        df = hepframe.RDataFrame("Events", declare_file, threads=threads, step_size=step)
        got = df.Define("r", "Numba::nd_repeat(rend, k)").AsNumpy(["r", "rend", "k"])
        for r, v, k in zip(got["r"], got["rend"], got["k"], strict=True):
            assert list(r) == list(np.tile(v, k))
        if expected is None:
            expected = got["r"]
        assert_same_values(got["r"], expected, f"threads={threads}")


def test_declare_errors_name_the_function_and_the_type(declare_file: str) -> None:
    def two(x, y):
        return x + y

    for bad in ("Float_t", "char", "RVecC", "std::array<float, 3>", "const RVecF&", "RVec<RVec<float>>"):
        with pytest.raises(AnalysisError, match=rf"Numba.Declare for 'two': unsupported type '{bad}'"):
            Numba.Declare([bad, "int"], "float")(two)
    with pytest.raises(AnalysisError, match=r"unsupported type 'string'"):
        Numba.Declare(["float", "int"], "string")(two)
    with pytest.raises(AnalysisError, match=r"argtypes must be a list"):
        Numba.Declare("float", "float")
    with pytest.raises(AnalysisError, match=r"'two' cannot take the 3 declared arguments float two\(float, int, int\)"):
        Numba.Declare(["float", "int", "int"], "float")(two)

    def uses_python_objects(x):
        return json.dumps(x)

    with pytest.raises(AnalysisError, match=r"numba cannot compile float uses_python_objects\(float\): Unknown attribute 'dumps'"):
        Numba.Declare(["float"], "float")(uses_python_objects)

    def gives_array(v):
        return v * 2

    with pytest.raises(AnalysisError, match=r"'gives_array' returns array\(float\d+.*declares float"):
        Numba.Declare(["RVecF"], "float")(gives_array)

    Numba.Declare(["float", "int"], "float")(two)
    df = hepframe.RDataFrame("Events", declare_file)
    with pytest.raises(ExpressionTypeError, match=r"float two\(float, int\) takes 2 arguments, got 1"):
        df.Define("y", "Numba::two(x)")
    with pytest.raises(ExpressionTypeError, match=r"float two\(float, int\): argument 1 must be float, got RVec<float>"):
        df.Define("y", "Numba::two(rend, k)")
    with pytest.raises(AnalysisError, match=r"float two\(float, int\) takes 2 arguments, got 1"):
        Numba.two(1.0)
    with pytest.raises(AttributeError, match=r"ROOT.Numba.tow: no function .* did you mean 'two'"):
        Numba.tow  # noqa: B018


def test_numba_udf_takes_any_number_of_arguments_and_returns_rvecs(declare_file: str) -> None:
    """hepframe's own decorator shares the machinery: five arguments, an RVec result."""

    @hepframe.numba_udf(args=["RVec<float>", "float", "int", "int", "bool"], returns="RVec<double>")
    def shifted(v, a, b, c, flip):
        out = np.empty(len(v))
        for i in range(len(v)):
            out[i] = (v[i] + a) * (b + c) * (-1.0 if flip else 1.0)
        return out

    got = (hepframe.RDataFrame("Events", declare_file).Define("s", "shifted(rend, x, k, ik, flag)")
           .AsNumpy(["s", "rend", "x", "k", "ik", "flag"]))  # fmt: skip
    for s, v, a, b, c, f in zip(*(got[n] for n in ("s", "rend", "x", "k", "ik", "flag")), strict=True):
        expected = (v + np.float32(a)).astype(np.float64) * float(b + c) * (-1.0 if f else 1.0)  # float + float: float
        np.testing.assert_array_equal(s, expected)
        assert s.dtype == np.float64
