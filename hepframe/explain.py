"""``df.explain()``: how each expression upstream of a node runs on the engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hepframe.engines.base import Support
from hepframe.expr.ir import free_columns

if TYPE_CHECKING:
    from hepframe.dataframe import RDataFrame


def explain(df: RDataFrame) -> str:
    engine = df._engine
    lines = [f"engine: {engine.describe_mode()}"]
    ancestors = list(reversed(df._node.ancestors()))
    source = df._analysis.root.source
    read = set().union(*(free_columns(e) for n in ancestors if (e := getattr(n, "expr", None)) is not None))
    lines += [f"reads {line}" for line in source.read_plan(read)]  # the branches the steps below read
    for node in ancestors:
        lines.append(f"- {node.label}")
        expr = getattr(node, "expr", None)
        if expr is None:
            continue
        kernels = sorted({n.op_key for n in expr.walk() if engine.support(n) is Support.KERNEL})
        if kernels:
            lines.append(f"    kernels: {', '.join(kernels)}")
        lines += [f"    {line}" for line in engine.explain_lines(expr)]
        lines.append(f"    plan: {engine.plan_text(expr)}")
    return "\n".join(lines)
