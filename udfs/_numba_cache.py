"""A writable directory for numba's on-disk cache of the kernels (``@numba.njit(cache=True)``).

numba raises at decoration, i.e. at ``import hepframe``, when none of its cache directories is
writable (``NUMBA_CACHE_DIR``, the package's ``__pycache__``, ``~/.cache/numba``): e.g. a read-only
install with a read-only HOME. Then the kernels go to ``$HEPFRAME_CACHE_DIR/numba`` if that is
writable, else to a private temporary directory removed at exit (compiled once per process).
Imported by ``hepframe.udfs`` before any kernel module.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from numba.core import config


def _writable(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()  # numba's own test
        return True
    except OSError:
        return False


def _numba_cache_dir() -> str | None:
    """The directory to set as numba's CACHE_DIR, or None where numba finds one itself."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    # CACHE_DIR is set from the environment at run time: mypy does not see it
    candidates = [config.CACHE_DIR, here]  # type: ignore[attr-defined]
    try:
        from numba.misc.appdirs import AppDirs

        candidates.append(AppDirs(appname="numba", appauthor=False).user_cache_dir)
    except ImportError:  # pragma: no cover - moved in another numba version: the other candidates decide
        pass
    if any(c and _writable(c) for c in candidates):
        return None
    if os.environ.get("HEPFRAME_CACHE_DIR") and _writable(os.path.join(os.environ["HEPFRAME_CACHE_DIR"], "numba")):
        return os.path.join(os.environ["HEPFRAME_CACHE_DIR"], "numba")
    try:
        private = tempfile.mkdtemp(prefix="hepframe-numba-")  # mode 0700: nobody else can plant cache files
    except OSError:  # no writable directory at all: numba raises its own error
        return None
    atexit.register(shutil.rmtree, private, ignore_errors=True)
    return private


_directory = _numba_cache_dir()
if _directory is not None:
    # numba re-reads its configuration from the environment before compiling: set both
    config.CACHE_DIR = os.environ["NUMBA_CACHE_DIR"] = _directory  # type: ignore[attr-defined]
