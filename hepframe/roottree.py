"""ROOT's file and tree objects for ``from hepframe import ROOT``: TFile, TTree and TChain, on uproot.

* ``TFile(path)`` reads: keys, trees (``Get``, ``f["tree"]``); ``TFile(path, "RECREATE")`` writes
  the trees built in it, atomically, when it is closed (``with`` block, ``Close()`` or exit).
* ``TTree(name, title)`` with ``Branch(name, buffer, "x/I")`` and ``Fill()`` is PyROOT's way to
  write a tree: each ``Fill`` copies the buffers' current values, as ROOT reads the addresses.
  A filled tree can also be the input of ``RDataFrame(tree)``.
* ``TChain`` reads a tree over files (``Add("f.root")``, ``Add("f.root?#tree")`` with a tree
  name per file), with friend trees (``AddFriend``), matched by entry or, after
  ``BuildIndex("branch")``, by the value of that branch (``connectors.root.Friend``).

Iterating a tree from a file (``for event in f["tree"]``) gives one entry at a time with its
branches as attributes, as PyROOT does: a compatibility path for small loops, not a hot path.
"""

from __future__ import annotations

import atexit
import os
import re
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from hepframe.errors import AnalysisError
from hepframe.expr.types import CType

#: ROOT's leaf type codes (TTree::Branch leaf lists) and their numpy types.
LEAF_TYPES = {
    "B": np.int8, "b": np.uint8, "S": np.int16, "s": np.uint16, "I": np.int32, "i": np.uint32,
    "L": np.int64, "l": np.uint64, "G": np.int64, "g": np.uint64, "F": np.float32, "D": np.float64, "O": np.bool_,
}  # fmt: skip
_LEAF = re.compile(r"^(?P<name>[A-Za-z_]\w*)(?:\[(?P<size>\w+)\])?(?:/(?P<code>\w))?$")

_current: TFile | None = None  # gDirectory: the writable file new TTrees belong to
#: Writable files not closed yet, held until Close() (or exit), as ROOT's directory list holds them.
_open_writable: set[TFile] = set()


@atexit.register
def _close_all() -> None:
    """ROOT closes (and so writes) open files at exit."""
    for handle in list(_open_writable):
        handle.Close()



class BranchName(str):
    """A branch in ``GetListOfBranches()``: its name, also as ``GetName()`` (as PyROOT's TBranch)."""

    def GetName(self) -> str:  # noqa: N802
        return str(self)

class TFile:
    """``ROOT.TFile(path[, mode])``: ``"READ"`` (default), or ``"RECREATE"``/``"NEW"``/``"CREATE"`` to write trees."""

    def __init__(self, path: str | os.PathLike, mode: str = "READ", title: str = "", *_: Any) -> None:
        global _current
        self._path, self._mode = os.fspath(path), (str(mode).upper() or "READ")
        self._trees: dict[str, TTree] = {}  # written at Close, in this order
        self._file: Any = None
        if self._mode in ("RECREATE", "NEW", "CREATE"):
            if self._mode != "RECREATE" and os.path.exists(self._path):
                raise AnalysisError(f"TFile({self._path!r}, {mode!r}): the file exists; open it with 'RECREATE' "
                                    "to overwrite it")  # fmt: skip
            _open_writable.add(self)
            _current = self
            return
        if self._mode != "READ":
            raise AnalysisError(f"TFile({self._path!r}, {mode!r}): hepframe opens files to read ('READ') or to write "
                                "new ones ('RECREATE'); to add to a file, write a new one with Snapshot")  # fmt: skip
        import uproot

        try:
            self._file = uproot.open(self._path)
        except FileNotFoundError:
            raise AnalysisError(f"TFile: no file {self._path!r}") from None
        except Exception as exc:
            raise AnalysisError(f"TFile: {self._path!r} is not a readable ROOT file ({exc})") from None

    @classmethod
    def Open(cls, path: str | os.PathLike, mode: str = "READ", *args: Any) -> TFile:  # noqa: N802
        return cls(path, mode, *args)

    def GetName(self) -> str:  # noqa: N802
        return self._path

    def IsOpen(self) -> bool:  # noqa: N802
        return self._file is not None or self in _open_writable

    def IsZombie(self) -> bool:  # noqa: N802
        return False  # a file that cannot be opened raises instead

    def GetListOfKeys(self) -> list[_TKey]:  # noqa: N802
        if self._file is None:
            return [_TKey(name, "TTree") for name in self._trees]
        classes = self._file.classnames(recursive=False)
        return [_TKey(name.split(";")[0], cls) for name, cls in classes.items()]

    def Get(self, name: str) -> Any:  # noqa: N802
        """A tree by name (other objects as uproot reads them; None where there is none, as in ROOT)."""
        if self._file is None:
            return self._trees.get(name)
        try:
            obj = self._file[name]
        except KeyError:
            return None
        return FileTree(name, self._path) if hasattr(obj, "num_entries") else obj

    def __getitem__(self, name: str) -> Any:
        obj = self.Get(name)
        if obj is None:
            raise KeyError(f"no object {name!r} in {self._path!r}")
        return obj

    def cd(self) -> bool:
        global _current
        if self in _open_writable:
            _current = self
        return True

    def _attach(self, tree: TTree) -> None:
        if tree.GetName() in self._trees:
            raise AnalysisError(f"TFile({self._path!r}) already has a tree {tree.GetName()!r}; give each tree its own name")
        self._trees[tree.GetName()] = tree

    def Write(self, *_: Any) -> int:  # noqa: N802
        """Mark every tree of the file to be written (at ``Close``, in one atomic write)."""
        for tree in self._trees.values():
            tree._written = True
        return 0

    def Close(self, *_: Any, discard: bool = False) -> None:  # noqa: N802
        global _current
        if self._file is not None:
            self._file.close()
            self._file = None
        if self in _open_writable:
            if not discard:
                self._write([t for t in self._trees.values() if t._written])  # raises: the file stays open
            _open_writable.discard(self)
            if _current is self:
                _current = None

    def _write(self, trees: list[TTree]) -> None:
        import uproot

        from hepframe.datasets import atomic_path

        with atomic_path(self._path) as tmp, uproot.recreate(tmp) as out:
            for tree in trees:
                arrays = tree._arrays()
                types = {k: np.dtype((v.dtype, v.shape[1:])) if isinstance(v, np.ndarray) else str(v.type.content)
                         for k, v in arrays.items()}  # fmt: skip
                out.mktree(tree.GetName(), types, title=tree.GetTitle(),
                           counter_name=lambda counted: f"__rdf_sizeof_{counted}")  # fmt: skip
                if tree.GetEntries():
                    out[tree.GetName()].extend(arrays)

    def __enter__(self) -> TFile:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        # A block that raised leaves no file: nothing is written half (ROOT would save what it had).
        if kind is not None and self in _open_writable:
            warnings.warn(f"TFile({self._path!r}): not written, the with-block raised", stacklevel=2)
        self.Close(discard=kind is not None)


class _TKey:
    def __init__(self, name: str, class_name: str) -> None:
        self._name, self._class = name, class_name

    def GetName(self) -> str:  # noqa: N802
        return self._name

    def GetClassName(self) -> str:  # noqa: N802
        return self._class


class _Branch:
    """One branch being filled: where its values are read from at each ``Fill``."""

    def __init__(self, tree: TTree, name: str, address: Any, leaflist: str | None) -> None:
        self.name, self.address, self.values = name, address, list[Any]()
        self.size: int | str | None = None  # fixed length, or the name of the counter branch
        element = getattr(type(address), "element_type", None)
        if element is not None:  # std.vector<T>: a variable-length branch
            self.dtype, self.size = np.dtype(element), "vector"
            return
        if leaflist is None:
            raise AnalysisError(f"TTree.Branch({name!r}, ...): give the leaf list, e.g. Branch({name!r}, x, "
                                f"'{name}/F') (types B b S s I i L l F D O)")  # fmt: skip
        if ":" in leaflist:
            raise AnalysisError(f"TTree.Branch({name!r}, ..., {leaflist!r}): one leaf per branch; make a branch per "
                                "variable")  # fmt: skip
        match = _LEAF.match(leaflist.strip())
        if match is None or (match["code"] is not None and match["code"] not in LEAF_TYPES):
            raise AnalysisError(f"TTree.Branch({name!r}, ..., {leaflist!r}): not a leaf list 'name[/T]' or "
                                f"'name[n]/T' with T one of {' '.join(LEAF_TYPES)}")  # fmt: skip
        self.dtype = np.dtype(LEAF_TYPES[match["code"] or "F"])
        size = match["size"]
        if size is not None:
            if size.isdigit():
                self.size = int(size)
            elif size in tree._branches:
                self.size = size
            else:
                raise AnalysisError(f"TTree.Branch({name!r}, ..., {leaflist!r}): the counter branch {size!r} must "
                                    "be created before the array branch")  # fmt: skip
        try:
            length = len(np.asarray(address))
            np.asarray(address)[0]
        except Exception:
            raise AnalysisError(f"TTree.Branch({name!r}, ...): the address must be an array.array or a numpy array "
                                f"(PyROOT reads its first element at each Fill), got {type(address).__name__}") from None
        if isinstance(self.size, int) and length < self.size:
            raise AnalysisError(f"TTree.Branch({name!r}, ..., {leaflist!r}): the buffer holds {length} values, fewer "
                                f"than {self.size}")  # fmt: skip

    def take(self, tree: TTree) -> None:
        if self.size is None:
            self.values.append(self.address[0])
        elif self.size == "vector":
            self.values.append(np.array(self.address, dtype=self.dtype))
        else:
            n = self.size if isinstance(self.size, int) else int(tree._branches[self.size].address[0])
            if not 0 <= n <= len(self.address):
                raise AnalysisError(f"TTree.Fill(), entry {tree._entries}: branch {self.name!r} has {self.size} = {n}, "
                                    f"but its buffer holds {len(self.address)} values")  # fmt: skip
            self.values.append(np.array(self.address[:n], dtype=self.dtype))

    def array(self) -> Any:
        if self.size is None:
            return np.array(self.values, dtype=self.dtype)
        if isinstance(self.size, int):
            return np.array(self.values, dtype=self.dtype).reshape(len(self.values), self.size)
        import awkward as ak

        counts = np.array([len(v) for v in self.values], dtype=np.int64)
        flat = np.concatenate(self.values) if self.values else np.zeros(0, self.dtype)
        return ak.unflatten(flat.astype(self.dtype), counts)

    @property
    def ctype(self) -> CType:
        return CType.from_dtype(self.dtype, 0 if self.size is None else 1)


class TTree:
    """``ROOT.TTree(name, title)``: a tree filled from Python buffers (``Branch`` then ``Fill``)."""

    def __init__(self, name: str, title: str = "", *_: Any) -> None:
        self._name, self._title = name, title or name
        self._branches: dict[str, _Branch] = {}
        self._entries, self._written = 0, False
        if _current is not None:
            _current._attach(self)

    def Branch(self, name: str, address: Any, leaflist: str | None = None, *_: Any) -> _Branch:  # noqa: N802
        if self._entries:
            raise AnalysisError(f"TTree({self._name!r}).Branch({name!r}): add branches before the first Fill")
        if name in self._branches:
            raise AnalysisError(f"TTree({self._name!r}) already has a branch {name!r}")
        self._branches[name] = _Branch(self, name, address, leaflist)
        return self._branches[name]

    def Fill(self) -> int:  # noqa: N802
        for branch in self._branches.values():
            branch.take(self)
        self._entries += 1
        return sum(b.dtype.itemsize for b in self._branches.values())

    def Write(self, *_: Any) -> int:  # noqa: N802
        if self not in (_current._trees.values() if _current else ()) and not any(
                self in f._trees.values() for f in _open_writable):  # fmt: skip
            raise AnalysisError(f"TTree({self._name!r}).Write(): no file is open for writing; create the tree after "
                                "TFile(path, 'RECREATE')")  # fmt: skip
        self._written = True
        return 0

    def GetName(self) -> str:  # noqa: N802
        return self._name

    def GetTitle(self) -> str:  # noqa: N802
        return self._title

    def GetEntries(self) -> int:  # noqa: N802
        return self._entries

    def GetListOfBranches(self) -> list[BranchName]:  # noqa: N802
        return [BranchName(name) for name in self._branches]

    def _arrays(self) -> dict[str, Any]:
        return {name: branch.array() for name, branch in self._branches.items()}

    def schema(self) -> dict[str, CType]:
        return {name: branch.ctype for name, branch in self._branches.items()}

    def to_arrow(self) -> Any:
        """The filled entries as an Arrow table (the input of ``RDataFrame(tree)``)."""
        import awkward as ak
        import pyarrow as pa

        columns = {}
        for name, array in self._arrays().items():
            if isinstance(array, np.ndarray) and array.ndim == 1:
                columns[name] = pa.array(array)
            else:
                layout = ak.from_regular(ak.Array(array), axis=1) if isinstance(array, np.ndarray) else array
                columns[name] = ak.to_arrow(layout, extensionarray=False, list_to32=False)
        if not columns:
            return pa.table({"__entry_only__": pa.nulls(self._entries, pa.int8())})
        return pa.table(columns)


class _Indexed:
    """What trees and chains share: friends and an index, turned into a :class:`RootSource`."""

    _name: str
    _index: str | None = None

    def _init_friends(self) -> None:
        self._friends: list[tuple[str, _Indexed]] = []

    def BuildIndex(self, major: str, minor: str = "0", *_: Any) -> int:  # noqa: N802
        """Match this tree's entries, as a friend, by the value of the branch ``major``."""
        if str(minor) != "0" or not re.fullmatch(r"[A-Za-z_]\w*", str(major)):
            raise AnalysisError(f"BuildIndex({major!r}, {minor!r}): hepframe indexes by one integer branch, e.g. "
                                "BuildIndex('event'); combine run and event into one branch first")  # fmt: skip
        source = self.root_source()
        if major not in source.schema:
            from hepframe.errors import did_you_mean

            raise AnalysisError(f"BuildIndex({major!r}): no branch {major!r} in tree {self._name!r}"
                                f"{did_you_mean(major, source.schema)}")  # fmt: skip
        self._index = major
        return source.num_entries

    def AddFriend(self, friend: Any, alias: str = "", *_: Any) -> Any:  # noqa: N802
        """Add ``friend`` (a TChain, a tree from a file, or ``("tree", "file.root")``) as ``alias.branch`` columns."""
        if isinstance(friend, str):  # AddFriend("tree", "file.root"), AddFriend("alias=tree", ...), AddFriend("tree")
            path, alias = alias, ""
            name = friend
            if "=" in friend:
                alias, name = (part.strip() for part in friend.split("=", 1))
            chain = TChain(name)
            files = [path] if path else [p for p, _ in self._inputs]  # no file: the tree in the main chain's files
            if not files:
                raise AnalysisError(f"AddFriend({friend!r}): give the friend's file; this chain has none yet")
            for each in files:
                chain.Add(each)
            friend = chain
        if not isinstance(friend, _Indexed):
            raise AnalysisError(f"AddFriend takes a TChain, a tree from a TFile or (tree name, file), got "
                                f"{type(friend).__name__}")  # fmt: skip
        if friend._friends:
            raise AnalysisError("AddFriend: a friend with friends of its own is not supported; add them all to the main "
                                "chain")  # fmt: skip
        self._friends.append((alias or friend._name, friend))
        return friend

    def root_source(self, threads: int | None = None) -> Any:
        from hepframe.connectors.root import DEFAULT_STEP_BYTES, DEFAULT_STEP_SIZE, Friend, RootSource

        files = [path for path, _ in self._inputs]
        trees: dict[str, str] = {}
        for path, tree in self._inputs:
            if trees.setdefault(path, tree) != tree:
                raise AnalysisError(f"{path!r} is added with two trees, {trees[path]!r} and {tree!r}: hepframe reads one "
                                    "tree per file in a chain")  # fmt: skip
        first = self._inputs[0][1] if self._inputs else self._name
        file_trees = {path: tree for path, tree in trees.items() if tree != first}
        source = RootSource.open(first, files, DEFAULT_STEP_SIZE, threads, step_bytes=DEFAULT_STEP_BYTES,
                                 file_trees=file_trees)  # fmt: skip
        for alias, friend in self._friends:
            source.add_friend(Friend(alias, friend.root_source(threads), friend._index))
        return source

    @property
    def _inputs(self) -> list[tuple[str, str]]:
        raise NotImplementedError


class FileTree(_Indexed):
    """A tree read from a :class:`TFile`: its entries and branches; ``RDataFrame(tree)`` reads it."""

    def __init__(self, name: str, path: str) -> None:
        self._name, self.files = name, [path]
        self._init_friends()

    @property
    def _inputs(self) -> list[tuple[str, str]]:
        return [(self.files[0], self._name)]

    def _uproot(self) -> Any:
        import uproot

        return uproot.open(self.files[0])[self._name]

    def GetName(self) -> str:  # noqa: N802
        return self._name

    def GetEntries(self) -> int:  # noqa: N802
        return int(self._uproot().num_entries)

    def GetListOfBranches(self) -> list[BranchName]:  # noqa: N802
        names = self._uproot().keys(recursive=False)
        # hepframe's Snapshot writes an RVec's sizes as a counter branch, where ROOT writes a std::vector
        return [BranchName(n) for n in names if not (n.startswith("__rdf_sizeof_") and n[13:] in names)]

    def __iter__(self) -> Iterator[Any]:
        """Entries one by one, branches as attributes (RVec branches as numpy arrays), read batch by batch."""
        from types import SimpleNamespace

        source = self.root_source(threads=1)
        names = list(source.schema)
        for batch in source.iter_batches(names):
            columns = {}
            for name in names:
                column = batch.table[name].combine_chunks()
                if source.schema[name].is_rvec:
                    import awkward as ak

                    columns[name] = [np.asarray(v) for v in ak.from_arrow(column)]
                else:
                    columns[name] = column.to_numpy(zero_copy_only=False)
            for i in range(batch.table.num_rows):
                yield SimpleNamespace(**{name: values[i] for name, values in columns.items()})


class TChain(_Indexed):
    """``ROOT.TChain(tree)`` with ``Add(files)``: ``RDataFrame(chain)`` reads the tree from all of them.

    ``Add("file.root?#tree")`` and ``Add("file.root/tree")`` name the tree of that file (files of a
    chain may hold different tree names, as in ROOT); ``AddFriend`` joins other chains' branches.
    """

    def __init__(self, name: str = "", title: str = "", *_: Any) -> None:
        self._name, self._added = name, list[tuple[str, str | None]]()
        self._init_friends()

    @property
    def files(self) -> list[str]:
        return [path for path, _ in self._added]

    @property
    def _inputs(self) -> list[tuple[str, str]]:
        return [(path, tree or self.GetName()) for path, tree in self._added]

    def Add(self, name: str | os.PathLike, nentries: int = -1) -> int:  # noqa: N802
        path = os.fspath(name)
        tree = None
        if "?#" in path:
            path, tree = path.split("?#", 1)
        elif ".root/" in path:
            path, tree = path.split(".root/", 1)
            path += ".root"
        from hepframe.connectors.root import resolve_files

        added = resolve_files(path)
        if tree is not None and not self._name:
            self._name = tree  # the chain takes its first tree's name, as ROOT's does
        self._added.extend((p, tree) for p in added)
        return len(added)

    def GetName(self) -> str:  # noqa: N802
        if not self._name:
            raise AnalysisError("TChain(): give the tree name, TChain('Events'), or Add('file.root?#Events')")
        return self._name

    def GetEntries(self) -> int:  # noqa: N802
        return self.root_source().num_entries if self._added else 0

    def GetListOfFiles(self) -> list[str]:  # noqa: N802
        return self.files
