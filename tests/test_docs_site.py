"""The documentation site (mkdocs.yml) builds with --strict: no broken link or anchor, every page in the nav."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from mkdocs.utils import yaml_load

ROOT = Path(__file__).resolve().parents[1]


def _nav_files(nav: list) -> list[str]:
    files = []
    for entry in nav:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            files += _nav_files(value) if isinstance(value, list) else [value]
    return files


def _built_page(site: Path, source: str) -> Path:
    """Where mkdocs writes the page of ``source`` (use_directory_urls: false; README.md is an index)."""
    path = Path(source)
    return site / path.parent / ("index.html" if path.stem in ("index", "README") else path.stem + ".html")


def _broken_links(site: Path) -> list[tuple[str, str]]:
    """Relative links and images of the built pages whose target is missing (404.html's are absolute)."""
    broken = []
    for page in site.rglob("*.html"):
        for href in re.findall(r'(?:href|src)="([^"#?]+)', page.read_text()):
            target = page.parent / href
            if page.name != "404.html" and not re.match(r"[a-z]+:|//", href) and not target.exists():
                broken.append((page.relative_to(site).as_posix(), href))
    return broken


@pytest.mark.slow
def test_the_site_builds_strict_with_every_page_and_the_api_reference(tmp_path: Path) -> None:
    # Not --quiet: it hides the warnings, and then --strict lets them pass.
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "HEPFRAME_DOCS_EXECUTE": "false"})  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]

    nav = _nav_files(yaml_load((ROOT / "mkdocs.yml").read_text())["nav"])
    notebooks = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs" / "notebooks").glob("*.ipynb"))
    assert notebooks and set(notebooks) <= set(nav), "list every notebook in mkdocs.yml's nav"
    built = [_built_page(tmp_path, page) for page in nav]
    assert [page for page, path in zip(nav, built, strict=True) if not path.is_file()] == []
    assert len(set(built)) == len(nav)  # no two pages at one URL

    assert _broken_links(tmp_path) == []  # also those mkdocs does not check: in notebooks, and the theme's

    api = _built_page(tmp_path, "reference/hepframe.md").read_text()
    histo1d = api.split('id="hepframe.RDataFrame.Histo1D"', 1)[1].split('id="hepframe.RDataFrame.', 1)[0]
    assert "<p>" in histo1d  # its docstring, rendered
    pages = "".join(_built_page(tmp_path, page).read_text() for page in nav if page.startswith("reference/"))
    assert not re.search(r":(class|func|meth|mod):<code>", pages)  # Sphinx roles become plain code
