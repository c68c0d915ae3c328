"""The ``hepframe`` command: ``demo``, ``generate`` and ``support-matrix``."""

from __future__ import annotations

import argparse
import sys

from hepframe.errors import HepframeError


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hepframe", description="RDataFrame-style analysis on Polars")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the dimuon demo analysis (generates its sample)", add_help=False)
    gen = sub.add_parser("generate", help="write a NanoAOD-like sample ROOT file")
    gen.add_argument("output", help="output .root file")
    gen.add_argument("--events", type=int, default=100_000)
    gen.add_argument("--seed", type=int, default=42)
    sub.add_parser("support-matrix", help="print the per-engine support matrix (Markdown)")
    conv = sub.add_parser("convert", help="write branches of a TTree to Parquet or Arrow IPC (or ROOT), atomically")
    conv.add_argument("input", nargs="+", help="input ROOT file(s) or globs")
    conv.add_argument("output", help="output file: .parquet, .arrow or .root")
    conv.add_argument("--tree", default="Events")
    conv.add_argument("--branches", default=None, help="comma-separated branch names or one glob (default: all)")
    if argv[:1] == ["demo"]:
        from hepframe import demo

        return _guard(lambda: demo.main(argv[1:]))
    args = parser.parse_args(argv)
    if args.command == "generate":
        from hepframe.datasets import generate_nanoaod

        return _guard(lambda: print(generate_nanoaod(args.output, args.events, args.seed, progress=True)) or 0)
    if args.command == "convert":
        import hepframe

        def convert() -> int:
            df = hepframe.RDataFrame(args.tree, args.input)
            branches = args.branches.split(",") if args.branches and "," in args.branches else args.branches
            out = df.Snapshot(args.tree, args.output, branches)
            print(f"{args.output}: {out.Count().GetValue():,} entries, {len(out.GetColumnNames())} columns")
            return 0

        return _guard(convert)
    if args.command == "support-matrix":
        from hepframe.support import support_matrix_markdown

        sys.stdout.write(support_matrix_markdown())
        return 0
    return 2


def _guard(fn) -> int:
    try:
        return fn()
    except HepframeError as exc:
        print(f"hepframe: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
