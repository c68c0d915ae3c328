"""Snapshot and ``hepframe convert``: ROOT's column selection, interrupted and killed writers, unreadable inputs."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import hepframe
from hepframe import cli
from hepframe.errors import AnalysisError, DataSourceError, UnknownColumnError
from hepframe.snapshot import _HOST, remove_temporaries, select_columns
from tests.conftest import snapshot_killed_mid_write

TUTORIALS = Path(os.path.dirname(__import__("ROOT").__file__)) / "tutorials"
#: The ROOT tutorial files still compressed with ROOT's pre-2000 'CS' codec, and one tree of each.
CS_FILES = [("math/quadp/stock.root", "GE"), ("legacy/mlp/mlpHiggs.root", "sig_filtered")]
#: Subprocesses run without the column cache: it is not what these tests are about.
ENV = dict(os.environ, HEPFRAME_CACHE="0", HEPFRAME_PROGRESS="0")


def _frame(path: str):
    return hepframe.RDataFrame("Events", path).Define("MET_x", "MET_pt * 2").Define("xMET_y", "1")


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if ".hepframe-" in p.name)


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return int(proc.stdout)


# -- column selection: ROOT's regular expressions ------------------------------------------------


@pytest.mark.root
def test_regex_selection_is_roots(ROOT) -> None:  # noqa: N803
    names = ["MET_pt", "MET_ptfoo", "MET_x", "Jet_pt", "fooJet_pt", "xMET_y", "MET", "nJet"]
    candidates = ROOT.std.vector("string")()
    for n in names:
        candidates.push_back(n)
    convert = ROOT.ROOT.Internal.RDF.ConvertRegexToColumns  # what Snapshot, Cache and Display call
    # Anchored by adding ^ and $ to the text, so 'a|b' is '^a' or 'b$' (MET_ptfoo, fooJet_pt), as in ROOT.
    patterns = ["MET_.*", "MET", "^MET_pt$", "MET_pt$", "^MET", "MET_pt|Jet_pt", "(MET_pt|Jet_pt)", "MET_p.", ".*pt",
                "n?Jet.*", "[A-Z]+_.*", ""]  # fmt: skip
    for pattern in patterns:
        want = [str(c) for c in convert(candidates, pattern, "Snapshot")]  # in the candidates' order, as ROOT
        assert select_columns(names, pattern) == want, pattern
    for pattern in ["ET_p", "nothing", "Muon_*"]:
        with pytest.raises(Exception, match="did not match any column"):
            convert(candidates, pattern, "Snapshot")
        with pytest.raises(AnalysisError, match=re.escape(f"no column matches the regular expression '{pattern}'")):
            select_columns(names, pattern)


@pytest.mark.root
def test_snapshot_regex_writes_the_columns_root_writes(small_nanoaod_file: str, tmp_path, ROOT) -> None:  # noqa: N803
    out = _frame(small_nanoaod_file).Snapshot("Events", tmp_path / "met.parquet", "MET_.*")
    theirs = (ROOT.RDataFrame("Events", small_nanoaod_file).Define("MET_x", "MET_pt * 2").Define("xMET_y", "1")
              .Snapshot("Events", str(tmp_path / "met.root"), "MET_.*"))  # fmt: skip
    want = sorted(str(c) for c in theirs.GetColumnNames())
    assert len(want) == 8 and "MET_x" in want and "xMET_y" not in want  # Defines count, the match is anchored
    assert out.GetColumnNames() == want
    assert pq.read_table(tmp_path / "met.parquet").num_rows == out.Count().GetValue() == theirs.Count().GetValue()
    everything = _frame(small_nanoaod_file).Snapshot("Events", tmp_path / "all.parquet", "")
    assert everything.GetColumnNames() == _frame(small_nanoaod_file).GetColumnNames()


def test_snapshot_selection_errors(small_nanoaod_file: str, tmp_path) -> None:
    df = _frame(small_nanoaod_file)
    cases = [
        ("MET", AnalysisError, r"no column matches the regular expression 'MET'"),
        ("MET_ptt", AnalysisError, r"'MET_ptt'; did you mean 'MET_pt'"),
        ("MET_*", AnalysisError, r"regular expressions, as in ROOT: for the shell glob, write 'MET_\.\*'"),
        ("MET_[", AnalysisError, r"invalid column regular expression 'MET_\['"),
        (["MET_pt", "MET_ptt"], UnknownColumnError, r"unknown column 'MET_ptt'; did you mean 'MET_pt'"),
        (["MET_pt", "MET_pt"], AnalysisError, r"column 'MET_pt' is selected twice"),
        ([], AnalysisError, r"no column selected"),
    ]
    for columns, error, message in cases:
        with pytest.raises(error, match=message):
            df.Snapshot("Events", tmp_path / "out.parquet", columns)
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left
    assert df.Snapshot("Events", tmp_path / "out.parquet", ["nJet", "MET_x"]).GetColumnNames() == ["MET_x", "nJet"]


# -- hepframe convert ---------------------------------------------------------------------------


def test_convert_selection(small_nanoaod_file: str, tmp_path, capsys) -> None:
    def convert(*args: str) -> tuple[int, str, str]:
        rc = cli.main(["convert", small_nanoaod_file, *args])
        out, err = capsys.readouterr()
        return rc, out, err

    rc, out, _ = convert(str(tmp_path / "met.parquet"), "--branches", "MET_.*")
    met = pq.read_table(tmp_path / "met.parquet")
    assert rc == 0 and "3,000 entries, 7 columns" in out and met.num_rows == 3000
    assert sorted(met.column_names) == ["MET_CovXX", "MET_CovXY", "MET_CovYY", "MET_phi", "MET_pt", "MET_significance",
                                        "MET_sumet"]  # fmt: skip
    rc, _, _ = convert(str(tmp_path / "two.parquet"), "--branches", "MET_pt,nJet")
    assert rc == 0 and sorted(pq.read_table(tmp_path / "two.parquet").column_names) == ["MET_pt", "nJet"]
    rc, _, _ = convert(str(tmp_path / "glob.parquet"), "--branches", "Muon_p*")  # a glob, as documented before
    assert rc == 0 and sorted(pq.read_table(tmp_path / "glob.parquet").column_names) == [
        "Muon_pfRelIso03_all", "Muon_pfRelIso04_all", "Muon_phi", "Muon_pt"]  # fmt: skip
    rc, out, err = convert(str(tmp_path / "typo.parquet"), "--branches", "MET_ptt")
    assert (rc, out) == (1, "") and "'MET_ptt'; did you mean 'MET_pt'" in err
    rc, _, err = convert(str(tmp_path / "typo.parquet"), "--branches", "MET_pt,MET_ptt")
    assert rc == 1 and "unknown column 'MET_ptt'" in err
    assert not (tmp_path / "typo.parquet").exists() and _temporaries(tmp_path) == []


def test_convert_refuses_to_overwrite_its_input(small_nanoaod_file: str, tmp_path, capsys) -> None:
    data = tmp_path / "data.root"
    shutil.copyfile(small_nanoaod_file, data)
    (tmp_path / "link.root").symlink_to(data)
    os.link(data, tmp_path / "hard.root")
    (tmp_path / "sub").mkdir()
    before = data.read_bytes()
    for inputs, output in [([data], data), ([tmp_path / "d*.root"], tmp_path / "link.root"),
                           ([small_nanoaod_file, data], tmp_path / "hard.root"),
                           ([data], tmp_path / "sub" / ".." / "data.root")]:  # fmt: skip
        rc = cli.main(["convert", *map(str, inputs), str(output), "--branches", "MET_pt"])
        err = capsys.readouterr().err
        assert rc == 1 and f"the output {str(output)!r} is also an input ({str(data)!r})" in err, err
    assert data.read_bytes() == before and (tmp_path / "link.root").is_symlink() and os.stat(data).st_nlink == 2
    assert _temporaries(tmp_path) == []


# -- interrupted and killed writers -------------------------------------------------------------

SLOW_CONVERT = """
import sys, time
import hepframe.snapshot
from hepframe import cli
update = hepframe.snapshot.SnapshotWriter.update
def slow(self, *args):  # a long conversion: the signal comes while a batch is written
    update(self, *args)
    time.sleep(120)
hepframe.snapshot.SnapshotWriter.update = slow
sys.exit(cli.main(sys.argv[1:]))
"""


def _start_and_signal(argv: list[str], directory: Path, signum: int) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, "-c", SLOW_CONVERT, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)  # fmt: skip
    deadline = time.monotonic() + 60
    while not _temporaries(directory):  # the writer is writing
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    time.sleep(0.3)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code", "word"), [(signal.SIGINT, 130, "interrupted"),
                                                      (signal.SIGTERM, 143, "terminated")])  # fmt: skip
def test_convert_interrupted_prints_one_line(small_nanoaod_file: str, tmp_path, signum: int, code: int,
                                            word: str) -> None:  # fmt: skip
    target = tmp_path / "out.parquet"
    t0 = time.monotonic()
    done = _start_and_signal(["convert", small_nanoaod_file, str(target)], tmp_path, signum)
    assert time.monotonic() - t0 < 60  # the signal ended it, not the 120 s sleep
    assert done.returncode == code, done.stderr
    assert done.stderr == f"hepframe: {word}; {target} was not written\n" and done.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_killed_writer_orphan_is_removed_by_next_write(small_nanoaod_file: str, tmp_path) -> None:
    script = snapshot_killed_mid_write(small_nanoaod_file, str(tmp_path / "skim.parquet"), [])
    killed = subprocess.Popen([sys.executable, "-c", script], env=ENV, stderr=subprocess.PIPE, text=True)
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL, err
    orphans = _temporaries(tmp_path)
    assert len(orphans) == 1 and orphans[0].startswith(f".skim.parquet.hepframe-{_HOST}-{killed.pid}-")
    assert orphans[0].endswith(".tmp")

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        others = [f".a.root.hepframe-{_HOST}-{live.pid}-abcd1234.tmp",  # a live writer's
                  f".b.root.hepframe-otherhost-{_dead_pid()}-abcd1234.tmp",  # another host's: its PID means nothing
                  ".c.root.x1y2z3.tmp", "d.hepframe-1-x.tmp"]  # not hepframe's pattern  # fmt: skip
        for name in others:
            (tmp_path / name).write_bytes(b"x")
        dead_staging = tmp_path / f".e.parquet.hepframe-{_HOST}-{_dead_pid()}-abcd1234.staging"
        dead_staging.mkdir()
        (dead_staging / ".part-0.parquet.tmp").write_bytes(b"x")

        out = hepframe.RDataFrame("Events", small_nanoaod_file).Snapshot("Events", tmp_path / "other.arrow", "MET_pt")
        assert out.Count().GetValue() == 3000
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*others, "other.arrow"])
    finally:
        live.kill()
        live.wait()
    assert remove_temporaries(tmp_path) == [tmp_path / others[0]]  # now that its writer is gone


def test_every_atomic_writer_removes_orphans(tmp_path) -> None:
    from hepframe.datasets import generate_nanoaod

    orphan = tmp_path / f".old.root.hepframe-{_HOST}-{_dead_pid()}-abcd1234.tmp"
    orphan.write_bytes(b"x" * 1000)
    generate_nanoaod(tmp_path / "sample.root", n_events=10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample.root"]


# -- inputs uproot cannot read ------------------------------------------------------------------


@pytest.mark.root
@pytest.mark.parametrize(("name", "tree"), CS_FILES)
def test_obsolete_cs_compression_is_named(name: str, tree: str, tmp_path, ROOT, capsys) -> None:  # noqa: N803
    copy = tmp_path / os.path.basename(name)
    shutil.copyfile(TUTORIALS / name, copy)
    assert ROOT.RDataFrame(tree, str(copy)).Count().GetValue() > 0  # a valid file: ROOT reads it
    message = (rf"file '{copy}': tree '{tree}' uses the obsolete ROOT 'CS' compression, which uproot cannot read "
               rf"\(rewrite the file with a recent ROOT, e\.g\. hadd -f new\.root {copy.name}\)")  # fmt: skip
    with pytest.raises(DataSourceError, match=message):
        hepframe.RDataFrame(tree, str(copy)).Count().GetValue()
    assert cli.main(["convert", str(copy), str(tmp_path / "out.parquet"), "--tree", tree]) == 1
    err = capsys.readouterr().err
    assert "obsolete ROOT 'CS' compression" in err and "not found" not in err
    assert not (tmp_path / "out.parquet").exists()
