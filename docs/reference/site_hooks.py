"""Extensions of the documentation site (mkdocs.yml): a griffe extension and an mkdocs hook.

The griffe extension of the API pages: hepframe's docstrings use Sphinx cross-reference roles
(``:class:``, ``:mod:``, ``:meth:``, ...), which mkdocstrings would print as they are: each becomes
inline code of its target (a target with a leading ``~`` keeps only its last name, as Sphinx
shows it). Parameters named with a leading underscore (``RDataFrame(..., _node=...)``, internal)
are left out of the signatures, as private members are left out of the pages.

The hook: a notebook links another as ``[text](other.ipynb)``, which works in Jupyter and on
GitHub; on the site, the link goes to that notebook's page.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|attr|exc|data|obj|const):`(~?)([^`]+)`")
NOTEBOOK_LINK = re.compile(r'href="([\w.-]+\.ipynb)(#[^"]*)?"')


def plain(text: str) -> str:
    return ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", text)


class HepframeDocs(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain(obj.docstring.value)
        if isinstance(obj, griffe.Function):
            for name in [p.name for p in obj.parameters if p.name.startswith("_")]:
                del obj.parameters[name]


def on_page_content(html: str, page: Any, files: Any, **kwargs: Any) -> str:
    if not page.file.src_uri.endswith(".ipynb"):
        return html

    def link(m: re.Match) -> str:
        target = files.get_file_from_path(posixpath.join(posixpath.dirname(page.file.src_uri), m.group(1)))
        if target is None:
            return m.group(0)
        return f'href="{target.url_relative_to(page.file)}{m.group(2) or ""}"'

    return NOTEBOOK_LINK.sub(link, html)
