"""Write an analysis' results for later steps: histograms in three formats and the cut-flow.

``write_results(outdir, histograms, cutflow)`` writes, each file atomically:

* ``histograms.pkl``: the ``hist.Hist`` objects (a dict by name), for Python;
* ``histograms.json``: the same in the UHI serialization (``uhi.io.json``), for any language;
* ``histograms.root``: TH1D/TH2D/... through uproot, for ROOT users;
* ``cutflow.json`` and ``cutflow.txt``: the Report, when given.

Used by the spark-submit jobs in ``jobs/`` and usable from any analysis script.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

from hepframe.actions import CutFlowReport
from hepframe.datasets import atomic_path


def write_results(outdir: str | os.PathLike, histograms: dict[str, Any], cutflow: CutFlowReport | None = None,
                  metadata: dict[str, Any] | None = None) -> list[Path]:  # fmt: skip
    """Write ``histograms`` (name -> hist.Hist) and ``cutflow`` under ``outdir``; returns the paths."""
    import uhi.io.json
    import uproot

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with atomic_path(out / "histograms.pkl") as tmp, open(tmp, "wb") as f:
        pickle.dump(histograms, f, protocol=pickle.HIGHEST_PROTOCOL)
    written.append(out / "histograms.pkl")
    with atomic_path(out / "histograms.json") as tmp, open(tmp, "w") as f:
        json.dump({"metadata": metadata or {}, "histograms": histograms}, f, default=uhi.io.json.default)
    written.append(out / "histograms.json")
    with atomic_path(out / "histograms.root") as tmp:
        with uproot.recreate(tmp) as f:
            for name, h in histograms.items():
                f[name] = h
    written.append(out / "histograms.root")
    if cutflow is not None:
        entries = [{"name": e.name, "pass": e.passed, "all": e.all, "efficiency_percent": e.efficiency}
                   for e in cutflow]  # fmt: skip
        with atomic_path(out / "cutflow.json") as tmp, open(tmp, "w") as f:
            json.dump(entries, f, indent=1)
        with atomic_path(out / "cutflow.txt") as tmp, open(tmp, "w") as f:
            f.write(str(cutflow) + "\n")
        written += [out / "cutflow.json", out / "cutflow.txt"]
    return written


def read_histograms(path: str | os.PathLike) -> dict[str, Any]:
    """Histograms written by :func:`write_results`, from ``histograms.json`` (or ``.pkl``)."""
    path = Path(path)
    if path.suffix == ".pkl":
        with open(path, "rb") as f:
            return pickle.load(f)  # noqa: S301 - a file this module wrote
    import hist
    import uhi.io.json

    with open(path) as f:
        data = json.load(f, object_hook=uhi.io.json.object_hook)
    return {name: hist.Hist(h) for name, h in data["histograms"].items()}
