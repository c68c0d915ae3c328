"""``hepframe inspect FILE [TREE]``: what a ROOT file holds, as ``rootls -t`` and uproot-browser show it.

Trees (TTree, TNtuple, RNTuple) with their entries, clusters and compression, and for each branch
its ROOT type, the type hepframe reads it as (C++ and Arrow), and its compressed and uncompressed
sizes. Other objects are listed with their class. ``--json`` gives the same as one JSON document.
"""

from __future__ import annotations

import json
from typing import Any

from hepframe.errors import DataSourceError

_TREES = ("TTree", "TNtuple", "TNtupleD", "ROOT::RNTuple")


def inspect(path: str, tree: str | None = None) -> dict[str, Any]:
    """A description of the file (or of one of its trees)."""
    import uproot


    try:
        handle = uproot.open(path)
        classes = {k.split(";")[0]: c for k, c in handle.classnames(recursive=True).items()}
    except FileNotFoundError:
        raise DataSourceError(f"file not found: {path!r}") from None
    except Exception as exc:  # uproot raises many types for files it cannot read
        reason = " ".join(str(exc).split())  # uproot's messages span lines: one line here
        raise DataSourceError(f"cannot open {path!r} as a ROOT file: {type(exc).__name__}: {reason}") from None
    names = [n for n, c in classes.items() if c in _TREES]
    if tree is not None and tree not in names:
        from hepframe.errors import did_you_mean

        raise DataSourceError(f"no tree {tree!r} in {path!r}{did_you_mean(tree, names)} (trees: {', '.join(names) or 'none'})")
    try:
        compression = str(handle.file.compression)
    except Exception:  # noqa: BLE001 - a code uproot does not know (e.g. written by an old ROOT)
        compression = f"unknown (code {handle.file._fCompress})"
    out: dict[str, Any] = {"file": path, "compression": compression, "trees": {},
                           "objects": {n: c for n, c in classes.items() if c not in _TREES}}  # fmt: skip
    for name in [tree] if tree is not None else names:
        try:
            out["trees"][name] = _describe_tree(path, name, classes[name])
        except Exception as exc:  # noqa: BLE001 - one unreadable tree: say so, describe the others
            out["trees"][name] = {"class": classes[name], "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    return out


def _describe_tree(path: str, name: str, class_name: str) -> dict[str, Any]:
    from hepframe.connectors.root import RootSource, _arrow_type

    source = RootSource(name, [path], threads=1)
    obj = source._open_tree(path)
    schema = source.schema
    branches = {}
    rntuple = "RNTuple" in type(obj).__name__
    for branch_name in obj.keys() if not rntuple else schema:
        entry: dict[str, Any] = {}
        if branch_name in schema:
            entry["root_type"] = source.root_types.get(branch_name, str(schema[branch_name]))
            entry["hepframe_type"] = str(schema[branch_name])
            entry["arrow_type"] = str(_arrow_type(schema[branch_name]))
        else:
            entry["unsupported"] = source._unsupported.get(branch_name, "not read by hepframe")
        if not rntuple:
            branch = obj[branch_name]
            entry["compressed_bytes"] = int(branch.compressed_bytes)
            entry["uncompressed_bytes"] = int(branch.uncompressed_bytes)
        branches[branch_name] = entry
    return {"class": class_name, "entries": int(obj.num_entries), "clusters": len(source.clusters(path)) - 1,
            "branches": branches}  # fmt: skip


def _size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return str(n)


def render(info: dict[str, Any]) -> str:
    """The description as text."""
    lines = [f"{info['file']}  (compression: {info['compression']})"]
    for name, tree in info["trees"].items():
        if "error" in tree:
            lines.append(f"{tree['class']} {name!r}: cannot read it: {tree['error']}")
            continue
        lines.append(f"{tree['class']} {name!r}: {tree['entries']:,} entries, {tree['clusters']} cluster(s)")
        width = max([len(b) for b in tree["branches"]] + [6])
        for branch, entry in tree["branches"].items():
            kind = entry.get("root_type", f"(not read: {entry.get('unsupported')})")
            sizes = ""
            if "compressed_bytes" in entry:
                sizes = f"  {_size(entry['compressed_bytes'])} / {_size(entry['uncompressed_bytes'])}"
            lines.append(f"  {branch:<{width}}  {kind:<36}{entry.get('arrow_type', ''):<24}{sizes}")
    for name, cls in info["objects"].items():
        lines.append(f"{cls} {name!r}")
    return "\n".join(lines)


def main(path: str, tree: str | None, as_json: bool) -> int:
    info = inspect(path, tree)
    print(json.dumps(info, indent=1) if as_json else render(info))
    return 0
