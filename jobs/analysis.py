"""spark-submit job: any analysis module, on files or on a dataset specification.

    spark-submit --master local[2] jobs/analysis.py --analysis my_analysis.py --spec samples.json --output out/

The module defines ``book(df) -> dict[str, result]``: it books histograms, a Report, counts ... on
the RDataFrame it is given and returns the handles by name. Everything booked runs in one Spark job.
Ship the module with the job (``--py-files`` is not needed: it is loaded here and its UDFs reach
the executors by value).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from common import parse_args, run


def load_book(path: str):
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load the analysis module {path!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # cloudpickle ships its functions by value from here
    spec.loader.exec_module(module)
    if not callable(getattr(module, "book", None)):
        raise SystemExit(f"{path!r} defines no book(df) function")
    return module.book


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], extra=lambda p: p.add_argument("--analysis", required=True))
    return run(Path(args.analysis).stem, args, load_book(args.analysis))


if __name__ == "__main__":
    sys.exit(main())
