"""Write docs/support-matrix.md from the engines' rule tables (for developers, after changing a rule).

Usage: .venv/bin/python scripts/support_matrix.py
"""

from pathlib import Path

from hepframe.datasets import atomic_path
from hepframe.support import support_matrix_markdown

if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "support-matrix.md"
    with atomic_path(target) as tmp, open(tmp, "w") as f:
        f.write(support_matrix_markdown())
    print(f"wrote {target}")
