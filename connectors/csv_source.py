r"""``ROOT.RDF.FromCSV``: a CSV file read as ROOT 6.40's ``RCsvDS`` reads it, into an Arrow table.

:func:`read_csv` returns the table and hepframe's column types; ``TableSource("", table, schema)``
makes it a data source (``RDataFrame.from_source``).

Identical to ROOT 6.40 (checked against it by tests/test_csv_source.py):

* Lines: the first line decides the line break, ``"\r\n"`` if it ends in ``"\r"``, else ``"\n"``
  (a ``"\r"`` is then data); empty lines are skipped (``skip_blank_lines``), also before the header.
* Fields: split at the delimiter outside quotes; a ``"`` anywhere toggles quoting and ``""`` is one
  literal ``"`` (so a field ``""`` is ``"``); spaces are data. An empty field, ``nan`` and ``NaN``
  are ROOT's "nan". A line ending in the delimiter has one more (empty) field.
* Names: the header's fields ("nan" for an empty one), ``column_names``, or ``Col0, Col1, ...``.
  A repeated name is one column: the first one's values, typed by the first one, though every
  column of that name must convert.
* Types, from the first data line whose field is not "nan" among the first 11 data lines, else
  ``double``: ``[-+]?[0-9]+`` is ``Long64_t``; ``[-+]?[0-9]+\.[0-9]*``, ``[-+]?[0-9]*\.[0-9]+``
  and ``[-+]?[0-9]*\.[0-9]+[eEdDqQ][-+]?[0-9]+`` are ``double``; exactly ``true`` or ``false`` is
  ``bool``; anything else (``1e5``, ``inf``, ``0x10``, ``True``, `` 5``) is ``std::string``.
  ``col_types`` letters: ``O`` bool, ``D`` double, ``L`` Long64_t, ``T`` std::string.
* Values: ``double`` as ``std::stod`` (leading white space, a number prefix of the field, so
  ``1.5d3`` is 1.5, hex, ``inf``, ``nan``), ``Long64_t`` as ``std::stoll`` (``2.7`` is 2),
  ``bool`` as ``istream >> std::boolalpha`` (true only for ``true`` after white space, so
  ``True`` is false). "nan" is NaN in a double, 0 or false in a Long64_t or bool column (with ROOT's
  warning, as :class:`CsvWarning`), and the text ``nan`` in a string column.
* Options (``RCsvDS::ROptions``): left/right trimming of each line (C ``isspace``), a comment
  character (a line starting with it is skipped, else cut there, quotes or not), skipping the first
  and last N physical lines, ``column_names``; ``lines_chunk_size`` only chunks ROOT's reading,
  except that 0 reads no entries.

Differences:

* A value that ``std::stoll``/``std::stod`` rejects or finds out of range (``abc`` in a Long64_t
  column, ``1e400``, ``1e-310``) raises :class:`DataSourceError` naming the file, line and column,
  when the file is read; ROOT throws ``std::invalid_argument``/``std::out_of_range`` from the event
  loop. Other refusals (no header, no data line, unknown ``col_types`` name or letter, wrong
  ``column_names`` count, too many footer lines) are ROOT's, worded as DataSourceErrors.
* A line with another number of fields than the header (or the first line) raises
  :class:`DataSourceError`; ROOT crashes or reads garbage. That includes an empty line when
  ``skip_blank_lines`` is off, and a quoted line break (neither joins the two lines).
* ROOT misses a ``"\r\n"`` that straddles its 128-byte read buffers (a line of 127 bytes, plus
  multiples of 128, in a CRLF file) and merges two lines (and crashes); hepframe splits them.
* Fields must be UTF-8 (Arrow strings); ROOT keeps any bytes. The delimiter and the comment
  character must be ASCII. Only local files are read (ROOT also reads http URLs).
* ``std::stod`` underflow is taken to be any non-zero decimal whose double is subnormal or zero
  (glibc's ERANGE on inexact results); a decimal that is exactly a subnormal double (hundreds of
  digits) would be read by ROOT but is refused here.
* ROOT's warning about "nan" in Long64_t/bool columns comes once, when reading, not per event loop.
* The table's columns are in file order (RDF's ``GetColumnNames`` sorts them). String columns have
  no hepframe type: they are in the table but not in the schema, and are listed in the table's
  metadata (``hepframe.csv.string_columns``; ``hepframe.csv.root_types`` has every column's ROOT
  type name).

Speed: without quotes, options or lone line-break characters, pyarrow's multithreaded CSV reader
splits the fields; otherwise numpy does, on the whole file in chunks of about 8 MB. Types are
inferred from at most 11 lines; values are converted by Arrow compute kernels, with no Python per
row (except for hexadecimal doubles).
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from hepframe.errors import DataSourceError
from hepframe.expr.types import CType, Scalar

__all__ = ["ROOT_TYPES", "CsvWarning", "read_csv"]

#: RCsvDS's type letters and the C++ type of each.
ROOT_TYPES = {"O": "bool", "D": "double", "L": "Long64_t", "T": "std::string"}
_CTYPES = {"O": CType(Scalar.BOOL), "D": CType(Scalar.DOUBLE), "L": CType(Scalar.LONG)}

# RCsvDS::InferType's TRegexps, whole-field.
_INFER = [
    ("L", re.compile(r"[-+]?[0-9]+")),
    ("D", re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|[0-9]*\.[0-9]+(?:[eEdDqQ][-+]?[0-9]+)?)")),
    ("O", re.compile(r"true|false")),
]
#: How many data lines ROOT looks at for a column's first non-"nan" value: the first and 10 more.
INFERENCE_LINES = 11

# C isspace(): what strtoll/strtod/operator>> skip and fLeftTrim/fRightTrim remove.
_SPACE = b" \t\n\v\f\r"
_WS = r"[\t\n\v\f\r ]*"
# The prefixes std::stoll and std::stod (strtod in the C locale) read.
_STOLL = rf"^{_WS}(?P<sign>[-+]?)(?P<digits>[0-9]+)"
_HEX = r"[-+]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][-+]?[0-9]+)?"
_DECIMAL = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_STOD = rf"^{_WS}(?P<num>{_HEX}|{_DECIMAL}|[-+]?(?i:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?))"
_DBL_MIN = 2.2250738585072014e-308
_CHUNK_BYTES = 1 << 23  # the numpy tokenizer works on lines of about 8 MB at a time


class CsvWarning(UserWarning):
    """ROOT's warning: a Long64_t or bool column had empty or NaN cells, read as 0 or false."""


@dataclass(frozen=True)
class _Options:
    headers: bool
    delimiter: int
    chunk: int
    left_trim: bool
    right_trim: bool
    skip_blank: bool
    skip_first: int
    skip_last: int
    comment: int | None

    @property
    def plain(self) -> bool:
        """No option that pyarrow's reader cannot apply."""
        return (self.skip_blank and not (self.left_trim or self.right_trim or self.skip_first or self.skip_last)
                and self.comment is None and self.delimiter not in b'"\r\n')  # fmt: skip


@dataclass
class _Fields:
    """A file's fields: the header's (or None) and each data field by column (null: ROOT's "nan")."""

    header: list[str | None] | None
    first_width: int  # fields of the first line (header or data): ROOT's column count
    columns: list[pa.ChunkedArray]
    numbers: np.ndarray | None  # the file line of each data row; None from pyarrow's reader
    sample: list[pa.ChunkedArray] | None = None  # what types are inferred from, if not the columns


class _Fallback(Exception):
    """pyarrow's reader cannot give ROOT's answer (or the line of an error): use numpy's."""


class _BadValue(Exception):
    def __init__(self, row: int, value: str, problem: str):
        super().__init__(problem)
        self.row, self.value, self.problem = row, value, problem


def read_csv(path: str | os.PathLike, read_headers: bool = True, delimiter: str = ",", lines_chunk_size: int = -1,
             col_types: Mapping[str, str | int] | None = None, *, left_trim: bool = False,
             right_trim: bool = False, skip_blank_lines: bool = True, skip_first_n_lines: int = 0,
             skip_last_n_lines: int = 0, comment: str | None = None,
             column_names: Sequence[str] | None = None) -> tuple[pa.Table, dict[str, CType]]:
    """Read a CSV file as ``ROOT.RDF.FromCSV(path, readHeaders, delimiter, linesChunkSize, colTypes)``.

    The keyword-only options are ``RCsvDS::ROptions`` (ROOT's Python keywords ``leftTrim``,
    ``rightTrim``, ``skipBlankLines``, ``skipFirstNLines``, ``skipLastNLines``, ``comment``,
    ``columnNames``). ``col_types`` maps column names to ``"O"``, ``"D"``, ``"L"`` or ``"T"``
    (or their character codes, which ROOT's Python binding needs).

    Returns the table (columns in file order: int64, float64, bool, string) and the hepframe types
    of its non-string columns.
    """
    path = os.fspath(path)
    options = _options(path, read_headers, delimiter, lines_chunk_size, left_trim, right_trim, skip_blank_lines,
                       skip_first_n_lines, skip_last_n_lines, comment)  # fmt: skip
    letters_given = _letters(path, col_types)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise DataSourceError(f"cannot read the CSV file {path}: {exc.strerror or exc}") from None
    try:
        if options.plain:
            return _read(path, data, options, letters_given, column_names, fast=True)
    except (_Fallback, _BadValue):
        pass  # numpy's tokenizer gives the same answer, or the line of the error
    return _read(path, data, options, letters_given, column_names, fast=False)


def _options(path: str, headers, delimiter, chunk, left_trim, right_trim, skip_blank, skip_first, skip_last,
             comment) -> _Options:
    def char(value: str, what: str) -> int:
        if not isinstance(value, str) or len(value) != 1 or not value.isascii():
            raise DataSourceError(f"the {what} for the CSV file {path} must be one ASCII character, not {value!r}")
        return ord(value)

    return _Options(bool(headers), char(delimiter, "delimiter"), int(chunk), bool(left_trim), bool(right_trim),
                    bool(skip_blank), max(0, int(skip_first)), max(0, int(skip_last)),
                    None if comment in (None, "", "\0") else char(comment, "comment character"))  # fmt: skip


def _letters(path: str, col_types: Mapping[str, str | int] | None) -> dict[str, str]:
    letters = {}
    for name, letter in (col_types or {}).items():
        letters[name] = chr(letter) if isinstance(letter, int) else letter
        if letters[name] not in ROOT_TYPES:
            raise DataSourceError(f"Type alias {letters[name]!r} is not supported (column {name!r} of the CSV file "
                                  f"{path}). Supported type aliases are 'O' for boolean, 'D' for double, 'L' for "
                                  "Long64_t, 'T' for std::string.")  # fmt: skip
    return letters


def _read(path: str, data: bytes, options: _Options, letters_given: dict[str, str],
          column_names: Sequence[str] | None, fast: bool) -> tuple[pa.Table, dict[str, CType]]:
    fields = _fast_fields(path, data, options) if fast else _numpy_fields(path, data, options)
    if column_names:
        if len(column_names) != fields.first_width:
            raise DataSourceError(f"passed {len(column_names)} column names for the CSV file {path}, which has "
                                  f"{fields.first_width} columns")  # fmt: skip
        names = [str(n) for n in column_names]
    elif fields.header is not None:
        names = ["nan" if n is None else n for n in fields.header]
    else:
        names = [f"Col{i}" for i in range(fields.first_width)]
    for name in letters_given:
        if name not in names:
            hint = "" if options.headers or column_names else f"; without headers they are Col0 ... Col{len(names) - 1}"
            raise DataSourceError(f"There is no column with name {name!r} in the CSV file {path}{hint}")

    # A repeated name takes the type of its first column (RCsvDS::InferColTypes).
    letters: dict[str, str] = {}
    for name, column in zip(names, fields.sample or fields.columns, strict=True):
        if name not in letters:
            letters[name] = letters_given.get(name) or _infer(column)
    if options.chunk == 0:  # RCsvDS::GetEntryRanges reads no line
        fields.columns = [c.slice(0, 0) for c in fields.columns]

    arrays: dict[str, pa.ChunkedArray] = {}
    with_nan: set[str] = set()
    for name, column in zip(names, fields.columns, strict=True):
        letter = letters[name]
        try:
            values = _CONVERT[letter](column)
        except _BadValue as bad:
            if fields.numbers is None:
                raise
            line = int(fields.numbers[bad.row])
            raise DataSourceError(f"line {line} of the CSV file {path}: {bad.value!r} in column {name!r} "
                                  f"({ROOT_TYPES[letter]}) {bad.problem}") from None  # fmt: skip
        if letter in "LO" and column.null_count:
            with_nan.add(name)
        arrays.setdefault(name, values)
    if with_nan:
        warnings.warn(_nan_warning(with_nan, letters), CsvWarning, stacklevel=3)

    strings = [n for n in arrays if letters[n] == "T"]
    metadata = {"hepframe.csv.root_types": json.dumps({n: ROOT_TYPES[letters[n]] for n in arrays}),
                "hepframe.csv.string_columns": json.dumps(strings)}  # fmt: skip
    table = pa.table(arrays, metadata=metadata)
    return table, {n: _CTYPES[letters[n]] for n in arrays if letters[n] != "T"}


def _infer(column: pa.ChunkedArray) -> str:
    """RCsvDS::InferType on the first non-"nan" field of the first 11 data lines; double if none."""
    first = next((v for v in column.slice(0, INFERENCE_LINES).to_pylist() if v is not None), None)
    if first is None:
        return "D"
    return next((letter for letter, regex in _INFER if regex.fullmatch(first)), "T")


def _nan_warning(columns: set[str], letters: dict[str, str]) -> str:
    message = ""
    for name in sorted(columns):  # ROOT's std::set
        kind = ROOT_TYPES[letters[name]]
        message += (f'Column "{name}" of type {kind} contains empty cell(s) or NaN(s).\n'
                    f"There is no `nan` equivalent for type {kind}, hence {'`0`' if kind == 'Long64_t' else '`false`'}"
                    " is stored.\n")  # fmt: skip
    return message + "Please manually set the column type to `double` (with `D`) in `FromCSV` to read NaNs instead.\n"


# -- values ------------------------------------------------------------------------------------


def _first_bad(column: pa.ChunkedArray, bad: pa.ChunkedArray, problem: str) -> _BadValue:
    row = int(pc.index(bad, True).as_py())
    return _BadValue(row, column[row].as_py(), problem)


def _strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.fill_null("nan")


def _bools(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # operator>> with std::boolalpha: true after white space, then "true"; anything else is false.
    return pc.match_substring_regex(column, rf"^{_WS}true").fill_null(False)


def _longs(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Plain integers, as most are: Arrow reads [-]digits as std::stoll does (but it also reads 0x10).
    if pc.all(pc.ascii_is_decimal(pc.utf8_ltrim(column, "-"))).as_py() is not False:
        try:
            return pc.cast(column, pa.int64()).fill_null(0)
        except pa.ArrowInvalid:
            pass  # out of range, or "--1": below says which
    found = pc.extract_regex(column, _STOLL)
    bad = pc.and_(column.is_valid(), found.is_null())
    if pc.any(bad).as_py():
        raise _first_bad(column, bad, "is not an integer (std::stoll throws std::invalid_argument in ROOT)")
    sign = pc.struct_field(found, "sign")
    digits = pc.struct_field(found, "digits")
    text = pc.if_else(pc.equal(sign, "-"), pc.binary_join_element_wise("-", digits, ""), digits)
    try:
        values = pc.cast(text, pa.int64())
    except pa.ArrowInvalid:
        limit = {"-": 2**63}
        rows = [i for i, (s, d) in enumerate(zip(sign.to_pylist(), digits.to_pylist(), strict=True))
                if d is not None and int(d) > limit.get(s, 2**63 - 1)]  # fmt: skip
        raise _BadValue(rows[0], column[rows[0]].as_py(),
                        "is out of the range of Long64_t (std::stoll throws std::out_of_range in ROOT)") from None
    return values.fill_null(0)


def _doubles(column: pa.ChunkedArray) -> pa.ChunkedArray:
    # Whole numbers, as most are: Arrow rounds decimals as strtod does; NaN, inf and tiny values need a look.
    try:
        values = pc.cast(column, pa.float64())
    except pa.ArrowInvalid:
        values = None
    if values is not None and not pc.any(pc.or_(pc.is_nan(values), pc.is_inf(values))).as_py():
        tiny = pc.less(pc.abs(values), _DBL_MIN)
        if not pc.any(pc.match_substring_regex(column.filter(tiny), r"^[^eE]*[1-9]")).as_py():
            return values.fill_null(math.nan)
    found = pc.extract_regex(column, _STOD)
    bad = pc.and_(column.is_valid(), found.is_null())
    if pc.any(bad).as_py():
        raise _first_bad(column, bad, "is not a number (std::stod throws std::invalid_argument in ROOT)")
    num = pc.struct_field(found, "num")
    negative = pc.starts_with(num, "-")
    nan = pc.match_substring_regex(num, r"^[-+]?[nN]")
    inf = pc.match_substring_regex(num, r"^[-+]?[iI]")
    hexa = pc.match_substring_regex(num, r"^[-+]?0[xX]")
    decimal = pc.invert(pc.or_(pc.or_(nan, inf), hexa))
    values = pc.cast(pc.if_else(decimal, num, "0"), pa.float64())
    # strtod's ERANGE: a finite decimal that overflows, or a non-zero one that underflows.
    mantissa_nonzero = pc.match_substring_regex(num, r"^[^eE]*[1-9]")
    tiny = pc.and_(pc.less(pc.abs(values), _DBL_MIN), mantissa_nonzero)
    out = pc.and_(decimal, pc.or_(pc.is_inf(values), tiny))
    if pc.any(out).as_py():
        raise _first_bad(column, out, "is out of the range of double (std::stod throws std::out_of_range in ROOT)")
    values = pc.if_else(inf, pc.if_else(negative, -math.inf, math.inf), values)
    values = pc.if_else(nan, pc.if_else(negative, -math.nan, math.nan), values)
    if pc.any(hexa).as_py():
        values = _hex_doubles(column, num, hexa, values)
    return values.fill_null(math.nan)


def _hex_doubles(column: pa.ChunkedArray, num: pa.ChunkedArray, hexa: pa.ChunkedArray,
                 values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Hexadecimal floats, one by one (rare): strtod rounds them, ERANGE if inexact and tiny or huge."""
    out = np.array(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    for row in np.flatnonzero(hexa.fill_null(False).to_numpy(zero_copy_only=False)):
        text = num[int(row)].as_py()
        try:
            value = float.fromhex(text)
        except OverflowError:
            value = math.inf
        if math.isinf(value) or (abs(value) < _DBL_MIN and Fraction(value) != _exact_hex(text)):
            raise _BadValue(int(row), column[int(row)].as_py(),
                            "is out of the range of double (std::stod throws std::out_of_range in ROOT)")
        out[row] = value
    return pa.chunked_array([pa.array(out, mask=column.is_null().to_numpy(zero_copy_only=False))])


def _exact_hex(text: str) -> Fraction:
    mantissa, _, exponent = text.lower().partition("p")
    sign = -1 if mantissa.startswith("-") else 1
    whole, _, fraction = mantissa.lstrip("+-")[2:].partition(".")
    return sign * Fraction(int(whole + fraction or "0", 16)) * Fraction(2) ** (int(exponent or 0) - 4 * len(fraction))


_CONVERT = {"T": _strings, "O": _bools, "L": _longs, "D": _doubles}


# -- fields with pyarrow's reader --------------------------------------------------------------


def _fast_fields(path: str, data: bytes, options: _Options) -> _Fields:
    """ROOT's fields by pyarrow's CSV reader (no quoting), for files without quotes or odd line breaks."""
    lf, cr = data.count(b"\n"), data.count(b"\r")
    crlf = cr > 0
    if b'"' in data or (crlf and not cr == lf == data.count(b"\r\n")):
        raise _Fallback
    delimiter = bytes([options.delimiter])
    start = 0  # the first non-empty line (RCsvDS skips empty lines before the header too)
    while True:
        end = data.find(b"\n", start)
        line = data[start:len(data) if end < 0 else end - crlf]
        if line or end < 0:
            break
        start = end + 1
    if not line:
        raise _Fallback  # numpy's reader words ROOT's error
    try:
        first = [None if f in (b"", b"nan", b"NaN") else f.decode() for f in line.split(delimiter)]
    except UnicodeDecodeError:
        raise _Fallback from None
    body = len(data) if end < 0 else end + 1
    if not options.headers:
        body = start
    if data.startswith(b"\xef\xbb\xbf", body):
        raise _Fallback  # pyarrow would drop a byte-order mark that ROOT keeps
    names = [f"f{i}" for i in range(len(first))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(body)),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter.decode(), quote_char=False, escape_char=False,
                                             ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                                 null_values=["", "nan", "NaN"], strings_can_be_null=True),
        )  # fmt: skip
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _Fallback from None  # ragged lines, bad UTF-8: numpy's reader says where
    if table.num_rows == 0:
        raise _Fallback
    return _Fields(first if options.headers else None, len(first), table.columns, None)


# -- fields with numpy -------------------------------------------------------------------------


def _lines(path: str, data: bytes, options: _Options) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The file's bytes and the lines RCsvDS reads: (bytes, starts, ends, 1-based line numbers)."""
    raw = np.frombuffer(data, np.uint8)
    # RRawFile::Readln: the first line decides between "\n" and "\r\n" line breaks.
    first = data.find(b"\n")
    crlf = (data if first < 0 else data[:first]).endswith(b"\r")
    if crlf:
        breaks = np.flatnonzero((raw[:-1] == 13) & (raw[1:] == 10))
    else:
        breaks = np.flatnonzero(raw == 10)
    starts = np.concatenate(([0], breaks + (1 + crlf)))
    ends = np.concatenate((breaks, [len(data)]))
    if starts[-1] >= len(data):  # no line after the last break
        starts, ends = starts[:-1], ends[:-1]
    count = len(starts)
    if options.skip_last > count:
        raise DataSourceError(f"too many footer lines to skip in the CSV file {path}: skipLastNLines is "
                              f"{options.skip_last}, the file has {count} lines")  # fmt: skip
    numbers = np.arange(1, count + 1)
    lines = slice(min(options.skip_first, count), count - options.skip_last)
    starts, ends, numbers = starts[lines], ends[lines], numbers[lines]

    space = np.zeros(256, bool)
    space[list(_SPACE)] = True
    if options.left_trim:
        starts = starts.copy()
        while (lead := np.flatnonzero((starts < ends) & space[raw[np.minimum(starts, len(raw) - 1)]])).size:
            starts[lead] += 1
    dropped = np.zeros(len(starts), bool)
    if options.comment is not None:
        marks = np.flatnonzero(raw == options.comment)
        at = np.searchsorted(marks, starts)
        mark = np.append(marks, len(raw))[at]
        dropped |= mark == starts  # a comment line is skipped, whatever skipBlankLines says
        ends = np.minimum(ends, mark)
    if options.right_trim:
        ends = ends.copy()
        while (trail := np.flatnonzero((ends > starts) & space[raw[np.maximum(ends - 1, 0)]])).size:
            ends[trail] -= 1
    if options.skip_blank:
        dropped |= starts == ends
    keep = ~dropped
    return raw, starts[keep], ends[keep], numbers[keep]


def _numpy_fields(path: str, data: bytes, options: _Options) -> _Fields:
    raw, starts, ends, numbers = _lines(path, data, options)
    head = 1 if options.headers else 0
    if not len(starts) and options.headers:
        raise DataSourceError(f"Error reading headers of the CSV file {path}: it has no line")
    if len(starts) == head:
        raise DataSourceError(f"Could not infer column types of the CSV file {path}: it has no data line")
    fields, counts = _tokenize(path, raw, starts, ends, numbers, options.delimiter)
    width = int(counts[0])
    header = fields.slice(0, width).to_pylist() if options.headers else None
    ragged = np.flatnonzero(counts[head:] != width)
    if ragged.size:
        line = head + int(ragged[0])
        raise DataSourceError(f"line {numbers[line]} of the CSV file {path} has {counts[line]} fields, line "
                              f"{numbers[0]} has {width}: every record needs one field per column")  # fmt: skip
    first = width * head
    rows = len(starts) - head
    columns = [fields.take(pa.array(np.arange(rows, dtype=np.int64) * width + first + c)) for c in range(width)]
    sample = None
    if not options.headers and data.endswith(b"\r") and b"\n" not in data:
        # One line, ending in "\r": RRawFile::Readln strips it when it detects CRLF breaks, as the types
        # are inferred, but not when RCsvDS reads the line again for its values.
        sample = _numpy_fields(path, data[:-1], options).columns
        sample = sample if len(sample) == width else None
    return _Fields(header, width, columns, numbers[head:], sample)


def _tokenize(path: str, raw: np.ndarray, starts: np.ndarray, ends: np.ndarray, numbers: np.ndarray,
              delimiter: int) -> tuple[pa.ChunkedArray, np.ndarray]:
    """RCsvDS::ParseColumns on every line, lines of about 8 MB at a time: (fields, fields per line)."""
    chunks, counts = [], []
    lo = 0
    while lo < len(starts):
        hi = max(lo + 1, int(np.searchsorted(ends, starts[lo] + _CHUNK_BYTES, "right")))
        array, count = _tokenize_chunk(raw, starts[lo:hi], ends[lo:hi], delimiter)
        try:
            chunks.append(array.cast(pa.string()))
        except pa.ArrowInvalid:
            bad = next(i for i, v in enumerate(array.to_pylist()) if v is not None and not _utf8(v))
            line = numbers[lo + int(np.searchsorted(np.cumsum(count), bad, "right"))]
            raise DataSourceError(f"line {line} of the CSV file {path} is not UTF-8") from None
        counts.append(count)
        lo = hi
    return pa.chunked_array(chunks, pa.string()), np.concatenate(counts)


def _utf8(value: bytes) -> bool:
    try:
        value.decode()
    except UnicodeDecodeError:
        return False
    return True


def _tokenize_chunk(raw: np.ndarray, starts: np.ndarray, ends: np.ndarray, delimiter: int) -> tuple[pa.Array, np.ndarray]:
    # Works on the chunk's bytes (positions relative to its first line) with a few passes over them and
    # the rest on "events" (delimiters, quotes and line ends), in order: no Python loop, no sort.
    first = int(starts[0])
    chunk = raw[first:int(ends[-1])]
    starts, ends = starts - first, ends - first
    size = len(chunk)
    # Bytes between the lines (line breaks, skipped lines, trimmed or commented parts) are no line's.
    gap = starts[1:] - ends[:-1]
    at = np.repeat(ends[:-1] - np.concatenate(([0], np.cumsum(gap)[:-1])), gap) + np.arange(int(gap.sum()))
    inside = np.ones(size, bool)
    inside[at] = False

    event = np.zeros(size + 1, np.int8)  # 1 delimiter, 2 toggling quote, 3 second quote of a pair, 4 line end
    event[:size][inside & (chunk == delimiter)] = 1
    if delimiter != 34:
        # ParseValue: in a run of quotes, each pair is one literal quote and an odd last one toggles quoting.
        quotes = np.flatnonzero(inside & (chunk == 34))
        follows = np.zeros(len(quotes), bool)
        follows[1:] = quotes[1:] == quotes[:-1] + 1  # adjacent bytes inside lines are in one line
        run_start = np.flatnonzero(~follows)
        in_run = np.arange(len(quotes)) - np.repeat(run_start, np.diff(np.append(run_start, len(quotes))))
        paired = np.append(follows[1:], False)
        event[quotes[(in_run % 2 == 0) & ~paired]] = 2
        event[quotes[in_run % 2 == 1]] = 3
    nonempty = starts < ends
    event[ends[nonempty]] = 4
    where = np.flatnonzero(event)
    kind = event[where]

    # A delimiter after an odd number of toggles since its line's start is quoted.
    is_end = kind == 4
    toggles = np.cumsum(kind == 2)
    last_end = np.maximum.accumulate(np.where(is_end, np.arange(len(kind)), -1))
    since_line = toggles - np.where(last_end >= 0, toggles[np.maximum(last_end, 0)], 0)
    ends_field = is_end | ((kind == 1) & (since_line % 2 == 0))
    field_end = where[ends_field]
    line_end = is_end[ends_field]
    # A field starts after the previous one, or at its line's start.
    first_in_line = np.concatenate(([True], line_end[:-1]))
    field_start = np.concatenate(([0], field_end[:-1] + 1))
    field_start[first_in_line] = starts[nonempty]
    dropped = np.cumsum((kind == 2) | (kind == 3))[ends_field]
    width = field_end - field_start - np.diff(np.concatenate(([0], dropped)))

    count = np.zeros(len(starts), np.int64)
    count[nonempty] = np.diff(np.concatenate(([-1], np.flatnonzero(line_end))))
    keep = inside
    keep[where[(kind == 2) | (kind == 3) | ((kind == 1) & ends_field)]] = False
    data = chunk[keep]
    offsets = np.concatenate(([0], np.cumsum(width)))
    # ROOT's "nan": an empty field (nothing between the delimiters, quotes included), nan or NaN.
    nan = field_end == field_start
    three = np.flatnonzero(width == 3)
    a, b, c = (data[offsets[three] + k] for k in range(3))
    nan[three[(b == ord("a")) & (((a == ord("n")) & (c == ord("n"))) | ((a == ord("N")) & (c == ord("N"))))]] = True
    validity = pa.py_buffer(np.packbits(~nan, bitorder="little"))
    return pa.Array.from_buffers(pa.large_binary(), len(width), [validity, pa.py_buffer(offsets), pa.py_buffer(data)]), count
