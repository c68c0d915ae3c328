"""hepframe's basket reader: numeric TTree branches read from their baskets straight into Arrow arrays.

For the layouts of NanoAOD-like files (a number per entry, ``Float_t MET_pt``, or a leaf array
counted by another branch, ``Float_t Jet_pt[nJet]``) uproot's interpretation costs about a
quarter of the reading time on top of decompression: it makes an awkward array per basket, then
concatenates, converts the byte offsets and builds the Arrow array. Here each basket is read with
one ``pread``, decompressed by uproot's own codecs (ZLIB through libdeflate, see
``root._fast_inflate``; LZ4, ZSTD, LZMA), and its values are byte-swapped once, into the batch's
own buffer, with the offsets computed from the basket's entry offsets.

uproot still reads all the metadata (TTree, TBranch, the baskets' positions and entries) and
every other layout, per branch (``plan`` returns None): ``std::vector`` (TBranchElement),
fixed-size leaf arrays, ``Float16_t``/``Double32_t``, strings, objects, baskets kept inside the
TTree (a file not closed cleanly), and files that are not local.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

_KEY = struct.Struct(">ihiIhh")  # TKey: fNbytes, fVersion, fObjlen, fDatime, fKeylen, fCycle
_BASKET = struct.Struct(">Hiiii")  # TBasket: fVersion, fBufferSize, fNevBufSize, fNevBuf, fLast; then a flag byte


class BasketError(ValueError):
    """A basket that is not what its branch's metadata says (a corrupt or truncated file)."""


class NotCovered(Exception):  # noqa: N818 - not an error: the caller reads the branch with uproot
    """A basket laid out in a way this reader does not read (e.g. entry offsets left for the reader to rebuild)."""


@dataclass(frozen=True)
class BranchPlan:
    """Where a supported branch's baskets are, and how to read their values."""

    name: str
    dtype: np.dtype  # on disk (big-endian)
    jagged: bool  # a leaf array counted by another branch: the basket ends with entry offsets
    entries: np.ndarray  # basket i holds entries [entries[i], entries[i + 1])
    seeks: np.ndarray
    sizes: np.ndarray  # bytes on disk, TKey included

    @property
    def arrow_type(self) -> pa.DataType:
        value = pa.from_numpy_dtype(self.dtype.newbyteorder("="))
        return pa.large_list(pa.field("item", value, nullable=False)) if self.jagged else value


def plan(branch) -> BranchPlan | None:
    """The plan for reading ``branch`` (an uproot TBranch) here, or None where uproot reads it."""
    from uproot.interpretation.jagged import AsJagged
    from uproot.interpretation.numerical import AsDtype

    try:
        interpretation = branch.interpretation
        if branch.embedded_baskets:  # baskets inside the TTree's own record: uproot reads those
            return None
        entries = np.asarray(branch.entry_offsets, dtype=np.int64)
    except Exception:  # noqa: BLE001 - whatever uproot cannot describe, it reads itself
        return None
    jagged = type(interpretation) is AsJagged
    content = interpretation.content if jagged else interpretation
    if type(content) is not AsDtype or (jagged and interpretation.header_bytes != 0):
        return None
    dtype = np.dtype(content.from_dtype)
    if dtype.shape != () or dtype.kind not in "biuf" or np.dtype(content.to_dtype) != dtype.newbyteorder("="):
        return None
    n = branch.num_baskets
    if n == 0 or len(entries) != n + 1 or entries[0] != 0 or (np.diff(entries) < 0).any():
        return None
    seeks = np.asarray(branch.member("fBasketSeek")[:n], dtype=np.int64)
    sizes = np.asarray(branch.member("fBasketBytes")[:n], dtype=np.int64)
    if (seeks <= 0).any() or (sizes <= 0).any():
        return None
    return BranchPlan(branch.name, dtype, jagged, entries, seeks, sizes)


def local_path(file) -> str | None:
    """The path of an uproot ReadOnlyFile when it is a local file that ``os.pread`` can read."""
    if not hasattr(os, "pread"):  # e.g. Windows: uproot reads everything
        return None
    path = str(file.file_path)
    if path.startswith("file://"):
        path = path[len("file://"):]
    elif "://" in path:
        return None
    return path if os.path.isfile(path) else None


def read(branch_plan: BranchPlan, fd: int, source, start: int, stop: int) -> pa.Array:
    """Entries ``[start, stop)`` of the branch as one Arrow array (``source``: uproot's, for its codecs)."""
    p = branch_plan
    if not 0 <= start <= stop <= p.entries[-1]:
        raise ValueError(f"entries {start}-{stop} of branch {p.name!r}, which has {p.entries[-1]}")
    first = int(np.searchsorted(p.entries, start, side="right")) - 1
    last = int(np.searchsorted(p.entries, stop, side="left"))  # baskets first..last-1 overlap the range
    if start >= stop:
        first = last = max(first, 0)
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []  # (values in the range, their entries' offsets)
    for i in range(first, last):
        try:
            values, offsets = _basket(p, fd, source, i)
        except (BasketError, NotCovered, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 - a codec's error on a corrupt basket (each codec has its own)
            raise BasketError(f"basket {i} of branch {p.name!r} (entries {p.entries[i]}-{p.entries[i + 1]}): "
                              f"{type(exc).__name__}: {exc}") from exc  # fmt: skip
        lo, hi = max(start, int(p.entries[i])) - int(p.entries[i]), min(stop, int(p.entries[i + 1])) - int(p.entries[i])
        if offsets is None:
            parts.append((values[lo:hi], None))
        else:
            parts.append((values[offsets[lo]:offsets[hi]], offsets[lo:hi + 1] - offsets[lo] if lo else offsets[:hi + 1]))
    native = p.dtype.newbyteorder("=")
    if len(parts) == 1:  # the byte swap is the one copy, into the batch's buffer
        values = parts[0][0].astype(native)
    else:
        values = np.empty(sum(len(v) for v, _ in parts), dtype=native)
        at = 0
        for v, _ in parts:
            values[at:at + len(v)] = v
            at += len(v)
    array = _arrow_array(values)
    if not p.jagged:
        return array
    if len(parts) == 1 and parts[0][1] is not None:
        offsets = parts[0][1]
    else:
        offsets = np.empty(stop - start + 1, dtype=np.int64)
        offsets[0], at, base = 0, 1, 0
        for _, o in parts:
            assert o is not None
            offsets[at:at + len(o) - 1] = o[1:] + base
            at, base = at + len(o) - 1, base + int(o[-1])
    return pa.LargeListArray.from_arrays(_arrow_array(offsets), array, type=p.arrow_type)


def _arrow_array(values: np.ndarray) -> pa.Array:
    """A numpy array as Arrow's, sharing its buffer (booleans are packed into bits: Arrow's layout)."""
    if values.dtype.kind == "b":
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(np.packbits(values, bitorder="little"))])
    return pa.Array.from_buffers(pa.from_numpy_dtype(values.dtype), len(values), [None, pa.py_buffer(values)])


def _basket(p: BranchPlan, fd: int, source, i: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Basket ``i``'s values (big-endian, as on disk) and, for a jagged branch, its entries' value offsets."""
    import uproot.compression
    from uproot.source.chunk import Chunk
    from uproot.source.cursor import Cursor

    size, seek = int(p.sizes[i]), int(p.seeks[i])
    raw = os.pread(fd, size, seek)
    if len(raw) != size:
        raise BasketError(f"basket {i} of branch {p.name!r} at byte {seek}: the file ends after {len(raw)} of its "
                          f"{size} bytes (truncated file?)")  # fmt: skip
    nbytes, _, objlen, _, keylen, _ = _KEY.unpack_from(raw)
    if nbytes != size or not _KEY.size + _BASKET.size < keylen <= size:
        raise BasketError(f"basket {i} of branch {p.name!r} at byte {seek}: its key says {nbytes} bytes and a "
                          f"{keylen}-byte header, the branch {size} bytes")  # fmt: skip
    _, _, entry_size, n_entries, last = _BASKET.unpack_from(raw, keylen - _BASKET.size - 1)
    border = last - keylen  # the values end here; entry offsets follow
    expected = int(p.entries[i + 1] - p.entries[i])
    if n_entries != expected or not 0 <= border <= objlen:
        raise BasketError(f"basket {i} of branch {p.name!r} (entries {p.entries[i]}-{p.entries[i + 1]}) holds "
                          f"{n_entries} entries and {border} bytes of values in {objlen} bytes; the branch "
                          f"expects {expected} entries")  # fmt: skip
    if nbytes - keylen == objlen:  # stored uncompressed
        payload = np.frombuffer(raw, dtype=np.uint8, offset=keylen)
    else:
        payload = uproot.compression.decompress(Chunk.wrap(source, raw), Cursor(keylen), {}, nbytes - keylen,
                                                objlen).raw_data  # fmt: skip
        payload = np.frombuffer(payload, dtype=np.uint8)
    if border % p.dtype.itemsize:
        raise BasketError(f"basket {i} of branch {p.name!r}: {border} bytes of values is not a whole number of "
                          f"{p.dtype.itemsize}-byte values")  # fmt: skip
    values = payload[:border].view(p.dtype)
    if not p.jagged:
        if len(values) != n_entries:
            raise BasketError(f"basket {i} of branch {p.name!r}: {len(values)} values for {n_entries} entries")
        return values, None
    # after the values: the count of entries + 1, then each entry's start as a byte position
    # from the key's start (the last one is not stored: it is the border)
    if objlen - border < 4 * (n_entries + 1):  # ROOT may leave them out (kGenerateOffsetMap)
        raise NotCovered(f"basket {i} of branch {p.name!r} stores no entry offsets")
    offsets = np.empty(n_entries + 1, dtype=np.int64)
    np.subtract(payload[border + 4:border + 4 + 4 * n_entries].view(">i4"), keylen, out=offsets[:-1])
    offsets[-1] = border
    offsets >>= p.dtype.itemsize.bit_length() - 1  # bytes to values (item sizes are powers of two)
    if (n_entries and offsets[0] != 0) or (offsets[1:] < offsets[:-1]).any():
        raise BasketError(f"basket {i} of branch {p.name!r}: its entry offsets are not increasing")
    return values, offsets
