"""Histo1D without an axis range (``Histo1D("x")``, ``(name, title, n, 0, 0)``) against ROOT 6.40.

tests/scripts/autobin_cases.py books 50 such histograms (fewer and more than ROOT's 1000-fill
buffer, axis extension on both sides, NaN and infinity, weights, a huge offset, a constant, a
non-extendable ``low > high`` model) and prints every bin content, error, the axis range, entries,
mean and standard deviation; real ROOT and the hepframe facade must print the same numbers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hepframe.udfs.autobin import fill_auto, good_limits

SCRIPT = Path(__file__).parent / "scripts" / "autobin_cases.py"


def _run(mode: str) -> list[dict]:
    env = {**os.environ, "HEPFRAME_PROGRESS": "0"}
    done = subprocess.run([sys.executable, str(SCRIPT), mode], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.root
def test_default_model_histograms_equal_root() -> None:
    ours, root = _run("hepframe"), _run("root")
    assert len(ours) == len(root) == 50
    for mine, theirs in zip(ours, root, strict=True):
        assert mine.keys() == theirs.keys()
        for key in theirs:
            a, b = mine[key], theirs[key]
            same = a == b or (isinstance(a, float) and np.isnan(a) and np.isnan(b))
            assert same, (theirs["name"], key, a, b)


def test_good_limits_round_outward() -> None:
    lo, hi = good_limits(-2.96, 3.16, 128)
    assert lo < -2.96 and hi > 3.16
    assert lo == round(lo, 1) and hi == round(hi, 1)  # multiples of the "good" width 0.1
    assert good_limits(2.5, 2.5, 128)[0] < 2.5 < good_limits(2.5, 2.5, 128)[1]


def test_extension_keeps_every_fill() -> None:
    x = np.concatenate([np.linspace(0, 1, 1000), [50.0, -30.0]])
    low, high, sumw, _, stats = fill_auto(x, None, 64, extend=True)
    assert low <= -30.0 and high > 50.0
    assert sumw[1:-1].sum() == len(x) == stats[0]
    low2, high2, sumw2, _, _ = fill_auto(x, None, 64, extend=False)
    assert (low2, high2) == good_limits(0.0, 1.0, 64)
    assert sumw2[0] == 1 and sumw2[-1] == 1  # not extendable: the late values go to the flows


def test_empty_histogram_has_a_unit_axis() -> None:
    low, high, sumw, _, _ = fill_auto(np.zeros(0), None, 8, extend=True)
    assert (low, high) == (0.0, 1.0) and not sumw.any()
