"""spark-submit job: the 8 IRIS-HEP ADL benchmark queries (benchmarks/adl/queries.py) in one pass.

    spark-submit --master local[2] jobs/adl.py --input nanoaod.root --output out/adl [--queries 1,2,5]

The query code, its vectorized UDFs and their numba kernels reach the executors by value
(cloudpickle), so the workers need hepframe installed but not this repository.
"""

from __future__ import annotations

import os
import sys

from common import parse_args, run

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # benchmarks/


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], extra=lambda p: p.add_argument("--queries", default="1,2,3,4,5,6,7,8"))
    from benchmarks.adl import queries

    def book(df) -> dict:
        out = {}
        for q in (int(x) for x in args.queries.split(",")):
            result = getattr(queries, f"q{q}")(df)
            for k, handle in enumerate(result if isinstance(result, tuple) else (result,)):
                out[f"q{q}" + (f"_{k}" if isinstance(result, tuple) else "")] = handle
        return out

    return run("adl", args, book)


if __name__ == "__main__":
    sys.exit(main())
