"""Cost of the analysis-graph picture (issue #19): ``SaveGraph(df, format="svg")`` of a 100-node graph.

The graph: an in-memory source and a chain of 99 Defines and Filters, with a branch and a Histo1D
booked every tenth node (and varied copies of one), so the layout has both depth and width.
Rendering happens at every notebook display of ``SaveGraph``'s result, so it must stay well
under 0.2 s. Run::

    .venv/bin/python -m benchmarks.display

Prints the best of ``--repeats`` render times; exit status 1 when it is not under the target.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import polars as pl

import hepframe
from hepframe import graphsvg

TARGET_S = 0.2


def build(n_nodes: int = 100) -> hepframe.RDataFrame:
    """A graph of ``n_nodes`` nodes (the source included) with side branches and results."""
    df = hepframe.FromPolars(pl.DataFrame({"x": np.linspace(0.0, 1.0, 1000)}))
    df = df.Vary("x", "ROOT::RVecD{x * 0.9, x * 1.1}", ["down", "up"], "scale")
    node, made, last = df, 2, "x"
    while made < n_nodes:
        if made % 3 == 0:
            node = node.Filter(f"{last} > -1", f"cut {made} <&>")  # names with characters to escape
        else:
            last = f"v{made}"
            node = node.Define(last, f"x * {made} + 1")
        made += 1
        if made % 10 == 0 and made < n_nodes:  # a side branch: one Define and a result on it
            node.Define(f"side{made}", f"{last} * 2").Histo1D((f"h{made}", "", 10, 0, 100), f"side{made}")
            made += 1
    hepframe.VariationsFor(node.Histo1D(("last", "", 10, 0, 100), "x"))
    return node


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    df = build(args.nodes)
    analysis = df._analysis
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        text = graphsvg.svg(df)
        times.append(time.perf_counter() - start)
    best = min(times)
    print(f"graph: {len(analysis.nodes)} nodes, {len(analysis.actions)} results; SVG {len(text):,} characters")
    print(f"render: best {best * 1e3:.2f} ms, median {sorted(times)[len(times) // 2] * 1e3:.2f} ms "
          f"of {args.repeats} (target < {TARGET_S * 1e3:.0f} ms)")  # fmt: skip
    start = time.perf_counter()
    hepframe.SaveGraph(df)  # dot text and its picture, as a notebook cell shows it
    print(f"SaveGraph(df) (dot + picture): {(time.perf_counter() - start) * 1e3:.2f} ms")
    return 0 if best < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
