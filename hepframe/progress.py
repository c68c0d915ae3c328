"""Progress bars of event loops: when one is shown, and how it is drawn (``tqdm.auto``).

Every engine uses the same rule: ``progress=True``/``False`` as asked; by default a bar in
terminals and notebooks only (never in batch logs), unless ``HEPFRAME_PROGRESS=0``. A bar is
drawn once its loop has run for a second (short loops print nothing) and is kept afterwards,
with the totals and the rate, as a record of the loop.
"""

from __future__ import annotations

import os
import sys
from typing import Any

#: tqdm options of every bar; ``file`` (default: stderr when the bar starts) and ``delay`` may be
#: changed, e.g. to capture the bars in a buffer.
TQDM_OPTIONS: dict[str, Any] = {"delay": 1.0}


def progress_enabled(enabled: bool | None) -> bool:
    """Whether an event loop shows a bar, for an RDataFrame's ``progress`` option."""
    if enabled is not None:
        return enabled
    interactive = sys.stderr.isatty() or in_notebook()
    return interactive and os.environ.get("HEPFRAME_PROGRESS", "1") != "0"


def in_notebook() -> bool:
    """Whether this is a Jupyter kernel (tqdm.auto draws a widget there).

    Not merely ``ipykernel`` imported: PySpark imports it on every Spark SQL call where it is
    installed, in scripts and batch jobs too.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


def progress_bar(total: int | None, enabled: bool, **options: Any) -> Any:
    """A ``tqdm.auto`` bar (a disabled one when not ``enabled``: its updates cost nothing)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, leave=True, **(TQDM_OPTIONS | options))


def event_bar(source: Any, enabled: bool | None) -> Any:
    """The bar of one event loop over ``source``: events read, of all its entries, and events/s."""
    enabled = progress_enabled(enabled)
    total = source.num_entries if enabled else None  # sizing every file costs a metadata read
    bar = progress_bar(total, enabled, unit="ev", unit_scale=True, desc="hepframe")
    bar.bytes_read = 0
    return bar


def advance(bar: Any, rows: int, nbytes: int) -> None:
    """Count a batch on an :func:`event_bar`: its events, and its bytes (decompressed, as Arrow holds them)."""
    if bar.disable:
        return
    from tqdm.auto import tqdm

    bar.bytes_read += nbytes
    bar.set_postfix_str(f"{tqdm.format_sizeof(bar.bytes_read, 'B', 1024)} read", refresh=False)
    bar.update(rows)
