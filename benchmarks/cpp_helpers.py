"""C++ helpers (issue #16): hepframe's ``declare`` against ROOT's JIT, and against hand-written kernels.

1. Compile time. ``benchmarks/adl/queries.py``'s ``CPP_HELPERS`` (the helpers of ADL queries 5-8),
   declared inside ``namespace cpp``, each time in a fresh process started from the repository
   root, as a user's script: ``import``, the first ``declare`` (hepframe: ``hepframe.declare``,
   which loads its compiler and runtime on first use; ROOT: ``ROOT.gInterpreter.Declare``, which
   starts cling on first use), then queries 5-8 calling the ``cpp::`` helpers on a 10k-event
   sample, twice (the first run also pays what is compiled on first use: ROOT jits the query
   strings and emits the helpers' machine code; hepframe compiles its per-event loops, which numba
   does not cache). hepframe runs cold (``HEPFRAME_CACHE_DIR`` and ``NUMBA_CACHE_DIR`` in a new
   temporary directory: a fresh install), warm (a second process on the same directories), and
   with new C++ (a new ``HEPFRAME_CACHE_DIR`` on the cold run's numba cache: the helpers' code
   compiles, hepframe's own kernels load; as after editing a helper). ROOT keeps nothing between
   processes: it runs twice, and the ratios are against its faster process.
2. Speed. Queries 5-8 with the hand-written numba kernels of ``queries.py`` (hepframe UDFs named
   like the helpers) and with the compiled C++ (the same strings, the helper calls prefixed
   ``cpp::``), in one process, on the ``--events`` sample: one warm-up run of each, then
   ``--repeat`` rounds that time both (best of each). Engine and threads as in
   ``benchmarks.adl.run`` (``engine="polars"``, ``cache=False``), with ``POLARS_MAX_THREADS``
   defaulting to 2 here. The two histograms of every query must be equal bin for bin, flow bins
   included (AssertionError otherwise).

Run from the repository root::

    .venv/bin/python -m benchmarks.cpp_helpers --events 200000
    .venv/bin/python -m benchmarks.cpp_helpers --events 500000 --repeat 5 --parts speed
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT_DIR = Path(__file__).resolve().parents[1]
TREE = "Events"
QUERIES = (5, 6, 7, 8)
HELPERS = ("dimuon_masses", "find_trijet", "trijet_pt", "isolated_jets", "additional_lepton_idx")
NAMESPACE = "cpp"
_CALL = re.compile(r"(?<![\w:])(" + "|".join(HELPERS) + r")\(")
COMPILE_EVENTS = 10_000


def namespaced(code: str) -> str:
    return f"namespace {NAMESPACE} {{\n{code}\n}}"


class CppCalls:
    """A dataframe node whose expression strings call ``cpp::<helper>`` where the query calls ``<helper>``."""

    def __init__(self, node, calls: list[int]):
        self._node, self._calls = node, calls

    def _rewrite(self, expr: str) -> str:
        expr, n = _CALL.subn(rf"{NAMESPACE}::\1(", expr)
        self._calls[0] += n
        return expr

    def Filter(self, expr, *rest):
        return CppCalls(self._node.Filter(self._rewrite(expr), *rest), self._calls)

    def Define(self, name, expr):
        return CppCalls(self._node.Define(name, self._rewrite(expr)), self._calls)

    def __getattr__(self, name):  # Histo1D and the rest: the wrapped node's
        return getattr(self._node, name)


def book(q: int, df, cpp: bool) -> tuple:
    """The booked histograms of query ``q`` on ``df``, with the hand-written kernels or the ``cpp::`` helpers."""
    from benchmarks.adl import queries

    # The C++ is declared by this script (in namespace cpp); never let queries._prepare declare it into
    # ROOT (it does so for any dataframe that is not hepframe's, such as CppCalls).
    queries._declared = True
    if not cpp:
        result = queries.QUERIES[q](df)
    else:
        calls = [0]
        result = queries.QUERIES[q](CppCalls(df, calls))
        assert calls[0] > 0, f"query {q} calls none of the helpers {HELPERS}"
    return result if isinstance(result, tuple) else (result,)


def histograms(booked: tuple) -> list:
    """Bin contents, flow bins included, of hepframe's or ROOT's booked histograms."""
    import numpy as np

    out = []
    for r in booked:
        h = r.GetValue()
        if hasattr(h, "values"):  # hepframe
            out.append(np.asarray(h.values(flow=True)))
        else:
            out.append(np.array([h.GetBinContent(i) for i in range(h.GetNbinsX() + 2)]))
    return out


# -- 1. compile time: one fresh process per measurement --------------------------------------------


def _child(system: str, code_path: str, sample_path: str, threads: int) -> dict:
    """Run in the fresh process: import, first declare, then the cpp:: queries on the sample twice."""
    code = namespaced(Path(code_path).read_text())
    t0 = time.perf_counter()
    if system == "hepframe":
        import hepframe

        t1 = time.perf_counter()
        hepframe.declare(code)

        def make():
            return hepframe.RDataFrame(TREE, sample_path, engine="polars", progress=False, cache=False,
                                       threads=threads)  # fmt: skip
    else:
        import ROOT

        t1 = time.perf_counter()
        if not ROOT.gInterpreter.Declare(code):
            raise RuntimeError("ROOT could not declare the helpers")

        def make():
            return ROOT.RDataFrame(TREE, sample_path)

    t2 = time.perf_counter()
    if system == "root" and threads > 1:
        ROOT.EnableImplicitMT(threads)  # as benchmarks.adl.run
    from benchmarks.adl import queries  # noqa: F401 - numba and hepframe: imported before the timed runs

    runs = []
    for _ in range(2):
        start = time.perf_counter()
        for q in QUERIES:
            histograms(book(q, make(), cpp=True))
        runs.append(time.perf_counter() - start)
    out = {"import": t1 - t0, "declare": t2 - t1, "first": runs[0], "second": runs[1], "version": None}
    if system == "root":  # the same code again, cling running: what Declare costs without starting it
        start = time.perf_counter()
        ROOT.gInterpreter.Declare(code.replace(f"namespace {NAMESPACE} ", f"namespace {NAMESPACE}_again ", 1))
        out["redeclare"] = time.perf_counter() - start
        out["version"] = ROOT.gROOT.GetVersion()
    return out


def _spawn(system: str, code_path: str, sample_path: str, threads: int, env: dict) -> dict:
    cmd = [sys.executable, "-W", "ignore", "-m", "benchmarks.cpp_helpers", "--child", system, code_path, sample_path,
           str(threads)]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT_DIR, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{system} child failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "process": wall}


def compile_times(helpers: str, sample_path: str, threads: int) -> list[tuple[str, dict]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="hepframe-cpp-bench-") as tmp:
        code_path = os.path.join(tmp, "helpers.cpp")
        Path(code_path).write_text(helpers)
        base = {k: v for k, v in os.environ.items() if k != "HEPFRAME_CACHE_DIR"}
        numba_dir = os.path.join(tmp, "numba")
        fresh = {**base, "HEPFRAME_CACHE_DIR": os.path.join(tmp, "hf"), "NUMBA_CACHE_DIR": numba_dir}
        # A new kernel cache, so new generated modules (numba caches them by path): their code compiles, while
        # hepframe's own kernels (runtime, GenVector ports, event loops) load from the cold run's numba cache.
        new_code = {**base, "HEPFRAME_CACHE_DIR": os.path.join(tmp, "hf-new"), "NUMBA_CACHE_DIR": numba_dir}
        for label, system, env in (
            ("hepframe cold (empty kernel and numba caches)", "hepframe", fresh),
            ("hepframe warm (2nd process on the cold run's caches)", "hepframe", fresh),
            ("hepframe new C++ (empty kernel cache, hepframe's own numba cache warm)", "hepframe", new_code),
            ("ROOT (process 1)", "root", base),
            ("ROOT (process 2)", "root", base),
        ):
            rows.append((label, _spawn(system, code_path, sample_path, threads, env)))
            print(f"  {label}: {json.dumps(rows[-1][1])}", file=sys.stderr, flush=True)
    return rows


# -- 2. speed: hand-written kernels against the compiled C++, one process ---------------------------


def speed(path: str, qs: list[int], repeat: int, threads: int) -> list[dict]:
    import numpy as np

    import hepframe

    def run(q: int, cpp: bool) -> tuple[float, list]:
        start = time.perf_counter()
        df = hepframe.RDataFrame(TREE, path, engine="polars", progress=False, cache=False, threads=threads)
        hists = histograms(book(q, df, cpp))
        return time.perf_counter() - start, hists

    records = []
    for q in qs:
        warm_k, h_kernel = run(q, False)
        warm_c, h_cpp = run(q, True)
        best_k = best_c = float("inf")
        for _ in range(repeat):  # interleaved, so that both see the same machine state
            best_k = min(best_k, run(q, False)[0])
            best_c = min(best_c, run(q, True)[0])
        same = len(h_kernel) == len(h_cpp) and all(np.array_equal(a, b) for a, b in zip(h_kernel, h_cpp, strict=True))
        records.append({"query": q, "kernel": best_k, "cpp": best_c, "warmup_kernel": warm_k, "warmup_cpp": warm_c,
                        "identical": same, "entries": int(sum(h.sum() for h in h_cpp))})  # fmt: skip
        print(f"  q{q}: kernel {best_k:.3f} s, C++ {best_c:.3f} s, identical {same}", file=sys.stderr, flush=True)
    return records


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        print(json.dumps(_child(argv[1], argv[2], argv[3], int(argv[4]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--repeat", "--repeats", dest="repeat", type=int, default=3)
    parser.add_argument("--queries", default=",".join(map(str, QUERIES)), help="for the speed part")
    parser.add_argument("--parts", default="compile,speed", help="comma-separated: compile, speed")
    parser.add_argument("--json", default=None, help="also write the measurements to this JSON file")
    args = parser.parse_args(argv)
    parts = args.parts.split(",")
    os.environ.setdefault("POLARS_MAX_THREADS", "2")  # read by benchmarks.kernels, which sets every thread count
    # isort: off
    from benchmarks.kernels import THREADS, sample  # first: before numba and polars are imported

    # isort: on
    import pyarrow as pa

    from benchmarks.adl import queries

    threads = int(THREADS)
    pa.set_cpu_count(threads)
    pa.set_io_thread_count(threads)
    out: dict = {"events": args.events, "threads": threads, "cpus": os.cpu_count()}
    if "compile" in parts:
        small = sample(COMPILE_EVENTS)
        print("compile time: fresh processes ...", file=sys.stderr, flush=True)
        rows = compile_times(queries.CPP_HELPERS, small, threads)
        out["compile"] = {label: r for label, r in rows}
    if "speed" in parts:
        import hepframe

        path = sample(args.events)
        start = time.perf_counter()
        hepframe.declare(namespaced(queries.CPP_HELPERS))  # the default kernel cache, as a user's script
        out["declare_in_speed_process"] = time.perf_counter() - start
        took = out["declare_in_speed_process"]
        print(f"declare in this process (default kernel cache): {took:.2f} s", file=sys.stderr)
        print(f"speed ({args.events:,} events) ...", file=sys.stderr, flush=True)
        out["speed"] = speed(path, [int(x) for x in args.queries.split(",")], args.repeat, threads)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)

    if "compile" in out:
        rows = list(out["compile"].items())
        version = next(r["version"] for _, r in rows if r["version"])
        ref = {k: min(r[k] for label, r in rows if label.startswith("ROOT")) for k in ("declare", "first")}
        print(f"\n### Compile time of CPP_HELPERS (namespace {NAMESPACE}), each a fresh process; queries "
              f"{','.join(map(str, QUERIES))} on {COMPILE_EVENTS:,} events, {threads} threads, ROOT "
              f"{version}\n")  # fmt: skip
        header = ("process", "import", "first declare", "declare / ROOT", "1st run q5-8", "2nd run q5-8",
                  "1st run / ROOT", "process wall")  # fmt: skip
        print(_table(header, [(label, f"{r['import']:.2f} s", f"{r['declare']:.2f} s", f"{r['declare'] / ref['declare']:.1f}",
                               f"{r['first']:.2f} s", f"{r['second']:.2f} s", f"{r['first'] / ref['first']:.2f}",
                               f"{r['process']:.1f} s") for label, r in rows]))  # fmt: skip
        again = min(r["redeclare"] for label, r in rows if label.startswith("ROOT"))
        print(f"\nRatios against ROOT's faster process (declare {ref['declare']:.2f} s, 1st run {ref['first']:.2f} s). "
              f"ROOT's first Declare includes starting cling: the same code declared again (another namespace) "
              f"takes {again:.2f} s. hepframe's includes loading its compiler and runtime.")  # fmt: skip
    ok = True
    if "speed" in out:
        records = out["speed"]
        ok = all(r["identical"] for r in records)
        print(f"\n### Speed: hand-written kernels against compiled C++, {args.events:,} events, best of {args.repeat} "
              f"after 1 warm-up, THREADS={threads}, {os.cpu_count()} CPUs\n")  # fmt: skip
        header = ("query", "kernels", "C++", "C++ / kernels", "warm-up kernels / C++", "histograms")
        print(_table(header, [(str(r["query"]), f"{r['kernel']:.3f} s", f"{r['cpp']:.3f} s", f"{r['cpp'] / r['kernel']:.2f}",
                               f"{r['warmup_kernel']:.2f} s / {r['warmup_cpp']:.2f} s",
                               "bin-identical" if r["identical"] else "DIFFERENT") for r in records]))  # fmt: skip
        tk, tc = sum(r["kernel"] for r in records), sum(r["cpp"] for r in records)
        print(f"| sum | {tk:.3f} s | {tc:.3f} s | {tc / tk:.2f} | | |")
        print(f"\nhistograms of the kernel and C++ versions: {'bin-identical (asserted)' if ok else 'DIFFERENT'}")
    if not ok:
        raise AssertionError("the C++ helpers' histograms differ from the hand-written kernels'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
