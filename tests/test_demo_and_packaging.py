"""The main job end to end, and the package layout (hepframe.connectors, hepframe.udfs)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from hepframe import demo


def test_demo_runs_end_to_end(tmp_path, capsys) -> None:
    result = demo.run(events=40_000, data_dir=str(tmp_path / "data"), outdir=str(tmp_path / "out"), progress=False)
    out = capsys.readouterr().out
    assert "Two muons" in out and "Opposite charge" in out and "fitted signal strength mu" in out
    png = tmp_path / "out" / "dimuon_spectrum.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert abs(result["mu_hat"] - 1.0) < 0.3  # the Z signal in data is the simulated one
    assert result["n_events"] == 40_000


def test_cli_generate_and_errors(tmp_path) -> None:
    out = tmp_path / "gen.root"
    proc = subprocess.run([sys.executable, "-m", "hepframe.cli", "generate", str(out), "--events", "100"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


@pytest.mark.slow
def test_wheel_installs_connectors_and_udfs_under_hepframe(tmp_path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True)  # fmt: skip
    (wheel,) = tmp_path.glob("hepframe-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "hepframe/connectors/root.py" in names
    assert "hepframe/udfs/kinematics.py" in names
    assert "hepframe/py.typed" in names
    # every package of the source tree is in the wheel (a subpackage missing from pyproject's list is not)
    source = Path(__file__).resolve().parents[1] / "hepframe"
    for init in source.rglob("__init__.py"):
        assert f"hepframe/{init.relative_to(source).as_posix()}" in names
    assert not any(n.startswith(("connectors/", "udfs/", "tests/", "jobs/")) for n in names)


def test_support_matrix_doc_is_generated_from_the_declarations() -> None:
    from pathlib import Path

    from hepframe.support import support_matrix_markdown

    doc = Path(__file__).resolve().parent.parent / "docs" / "support-matrix.md"
    assert doc.read_text() == support_matrix_markdown(), "regenerate with: python scripts/support_matrix.py"


def test_support_matrix_is_not_a_user_command(capsys) -> None:
    from hepframe.cli import main

    with pytest.raises(SystemExit):
        main(["support-matrix"])
    assert "invalid choice" in capsys.readouterr().err


def test_cli_convert_to_parquet(small_nanoaod_file: str, tmp_path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "muons.parquet"
    proc = subprocess.run([sys.executable, "-m", "hepframe.cli", "convert", small_nanoaod_file, str(out),
                           "--branches", "Muon_*"], capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out)
    assert table.num_rows == 3000 and "Muon_pt" in table.column_names and "MET_pt" not in table.column_names
    missing = subprocess.run([sys.executable, "-m", "hepframe.cli", "convert", str(tmp_path / "nope.root"),
                              str(tmp_path / "x.parquet")], capture_output=True, text=True, check=False)  # fmt: skip
    assert missing.returncode == 1 and "file not found" in missing.stderr and not (tmp_path / "x.parquet").exists()


def test_package_path_holds_only_the_package() -> None:
    """The editable install (and a checkout import) maps connectors/ and udfs/, not the repository root."""
    import pkgutil

    import hepframe

    assert all(p.rstrip("/").endswith("hepframe") for p in hepframe.__path__)
    with pytest.raises(ModuleNotFoundError):
        __import__("hepframe.hepframe")
    names = [m.name for m in pkgutil.walk_packages(hepframe.__path__, "hepframe.")]
    assert "hepframe.dataframe" in names and not any(n.startswith(("hepframe.tests", "hepframe.hepframe")) for n in names)


def test_a_source_checkout_imports_without_installation() -> None:
    """As Spark's Python workers do (cwd = the repository root, no install): the two subpackages are found."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in str(f).lower()]\n"
        f"sys.path.insert(0, {str(root)!r})\n"
        "import hepframe, hepframe.connectors.root, hepframe.udfs.histogram\n"
        "assert hepframe.connectors.root.__file__.endswith('connectors/root.py')\n"
        "assert any(type(f).__name__ == '_SubpackageFinder' for f in sys.meta_path)\n"
        "try:\n    import hepframe.hepframe\nexcept ModuleNotFoundError:\n    print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd="/")
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_cli_version_and_inspect_every_tutorial_file() -> None:
    """``hepframe inspect`` on ROOT's own files: uproot's trees, branches and entries, or a one-line error."""
    import json
    from pathlib import Path

    import uproot

    from hepframe import cli

    done = subprocess.run([sys.executable, "-m", "hepframe.cli", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("hepframe ")
    import importlib.util

    spec = importlib.util.find_spec("ROOT")
    assert spec is not None and spec.origin
    files = sorted(Path(spec.origin).parent.joinpath("tutorials").rglob("*.root"))
    assert len(files) >= 10
    for path in files:
        info = __import__("hepframe.inspect_file", fromlist=["inspect"]).inspect(str(path))
        handle = uproot.open(path)
        trees = {k.split(";")[0] for k, c in handle.classnames(recursive=True).items()
                 if c in ("TTree", "TNtuple", "TNtupleD", "ROOT::RNTuple")}  # fmt: skip
        assert set(info["trees"]) == trees, path
        for name, tree in info["trees"].items():
            if "error" in tree:  # e.g. ROOT's pre-2000 'CS' compression: named, on one line
                assert "\n" not in tree["error"] and tree["error"], path
                continue
            assert tree["entries"] == handle[name].num_entries
            assert list(tree["branches"]) == list(handle[name].keys()), path
    assert cli.main(["inspect", str(files[0]), "--json"]) == 0
    assert cli.main(["inspect", str(files[0]), "no-such-tree"]) == 1
    assert json.loads(json.dumps(info)) == info


def test_cli_inspect_names_unreadable_files(tmp_path, capsys) -> None:
    from hepframe import cli

    bad = tmp_path / "bad.root"
    bad.write_bytes(b"not a root file at all" * 10)
    assert cli.main(["inspect", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "cannot open" in err and "bad.root" in err and err.count("\n") == 1


def test_the_readme_first_snippet_runs_as_written(tmp_path) -> None:
    import os
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    snippet = re.search(r"```python\n(.*?)```", readme, re.S)
    assert snippet is not None
    env = {**os.environ, "MPLBACKEND": "Agg", "HEPFRAME_PROGRESS": "0"}
    done = subprocess.run([sys.executable, "-c", snippet.group(1)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Two muons" in done.stdout and (tmp_path / "nanoaod.root").exists()
