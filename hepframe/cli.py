"""The ``hepframe`` command: ``demo``, ``generate``, ``convert``, ``inspect``."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys

from hepframe.errors import HepframeError

BRANCHES_HELP = (
    "columns to write (default: all): a regular expression matched against whole column names, as ROOT's "
    "Snapshot matches it (e.g. 'Muon_.*'), or comma-separated names (e.g. MET_pt,nJet). A shell glob "
    "(e.g. 'Muon_*') still works where it matches nothing as a regular expression. Selecting nothing is an error."
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="hepframe", description="RDataFrame-style analysis on Polars")
    parser.add_argument("--version", action="version", version=f"hepframe {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="run the dimuon demo analysis (generates its sample)", add_help=False)
    gen = sub.add_parser("generate", help="write a NanoAOD-like sample ROOT file (or a dimuon CSV, or the AGC samples)")
    gen.add_argument("output", help="output .root file, or .csv for dimuon pairs in ROOT's df014 layout, or with "
                     "--schema agc a directory")  # fmt: skip
    gen.add_argument("--schema", choices=["nanoaod", "agc"], default="nanoaod",
                     help="nanoaod: one file of dilepton resonances (default); agc: the Analysis Grand Challenge's "
                     "ttbar samples, one file each, and spec.json")  # fmt: skip
    gen.add_argument("--events", type=int, default=100_000, help="events (per sample with --schema agc)")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--signal-strength", type=float, default=1.0,
                     help="--schema agc: the ttbar yield of the pseudo-data, in units of the expected one")  # fmt: skip
    look = sub.add_parser("inspect", help="list the trees, branches, types and sizes of a ROOT file")
    look.add_argument("file", help="a ROOT file (local or http(s)://)")
    look.add_argument("tree", nargs="?", default=None, help="only this tree")
    look.add_argument("--json", action="store_true", help="print one JSON document")
    conv = sub.add_parser(
        "convert",
        help="write branches of a TTree to Parquet or Arrow IPC (or ROOT), atomically",
        description="Write branches of a TTree to Parquet, Arrow IPC or ROOT, as RDataFrame's Snapshot does. "
        "The output appears only when complete (Ctrl-C leaves nothing); it may not be one of the inputs.",
    )
    conv.add_argument("input", nargs="+", help="input ROOT file(s) or globs")
    conv.add_argument("output", help="output file: .parquet, .arrow or .root")
    conv.add_argument("--tree", default="Events", help="TTree or RNTuple name (default: %(default)s)")
    conv.add_argument("--branches", default=None, help=BRANCHES_HELP)
    if argv[:1] == ["demo"]:
        from hepframe import demo

        return _guard(lambda: demo.main(argv[1:]))
    args = parser.parse_args(argv)
    if args.command == "generate":
        from hepframe.datasets import generate_dimuon_csv, generate_nanoaod

        if args.schema == "agc":
            from hepframe.agc_samples import generate_agc

            return _guard(lambda: print(generate_agc(args.output, args.events, args.seed, args.signal_strength,
                                                     progress=True)) or 0)  # fmt: skip
        if args.output.endswith(".csv"):  # dimuon pairs in ROOT's df014 tutorial layout
            return _guard(lambda: print(generate_dimuon_csv(args.output, args.events, args.seed)) or 0, args.output)
        return _guard(lambda: print(generate_nanoaod(args.output, args.events, args.seed, progress=True)) or 0,
                      args.output)  # fmt: skip
    if args.command == "convert":
        return _guard(lambda: convert(args.input, args.output, args.tree, args.branches), args.output)
    if args.command == "inspect":
        from hepframe.inspect_file import main as inspect_main

        return _guard(lambda: inspect_main(args.file, args.tree, args.json))
    return 2


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hepframe")
    except PackageNotFoundError:  # a source checkout that is not installed
        return "unknown (not installed)"


def convert(inputs: list[str], output: str, tree: str, branches: str | None) -> int:
    import hepframe
    from hepframe.connectors.root import resolve_files
    from hepframe.errors import AnalysisError

    files = resolve_files(inputs)
    for path in files:  # the output replaces its target only at the end, but then the input is gone
        if "://" not in path and os.path.exists(output) and os.path.samefile(path, output):
            raise AnalysisError(f"the output {output!r} is also an input ({path!r}); write to another file")
    df = hepframe.RDataFrame(tree, files)
    out = df.Snapshot(tree, output, _selection(df.GetColumnNames(), branches))
    print(f"{output}: {out.Count().GetValue():,} entries, {len(out.GetColumnNames())} columns")
    return 0


def _selection(available: list[str], branches: str | None) -> list[str] | str | None:
    """``--branches``: comma-separated names, else a regular expression (ROOT's), else a shell glob (as before)."""
    from hepframe.errors import AnalysisError
    from hepframe.snapshot import glob_columns, select_columns

    if branches is None:
        return None
    names = [b.strip() for b in branches.split(",")]
    if len(names) > 1 and all(re.fullmatch(r"\w+", n) for n in names):  # a regex like 'x{1,2}' has commas too
        return names
    try:
        return select_columns(sorted(available), branches)
    except AnalysisError:
        globbed = glob_columns(available, branches)
        if not globbed:
            raise
        return globbed


class _Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that the writer's temporary file is removed."""


def _on_sigterm(signum, frame) -> None:
    raise _Terminated


def _guard(fn, output: str | None = None) -> int:
    import threading

    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers only go there
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return fn()
    except HepframeError as exc:
        print(f"hepframe: error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Terminated) as exc:
        signum = signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT
        if output is not None:  # now, not at exit: worker threads may still be finishing their batch
            from hepframe.snapshot import remove_temporaries

            remove_temporaries(os.path.dirname(os.path.abspath(output)), lambda pid: pid == os.getpid())
        what = f"; {output} was not written" if output is not None else ""
        print(f"hepframe: {'terminated' if signum == signal.SIGTERM else 'interrupted'}{what}", file=sys.stderr)
        return 128 + signum
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
