"""hepframe.connectors.csv_source.read_csv reads CSV files as ROOT 6.40's ``RDF::FromCSV`` does.

ROOT reads every case file in one subprocess (``import ROOT`` is slow) and prints column names,
types and ``AsNumpy`` values as JSON (doubles as ``float.hex``, exact); each case compares them
with ``==``. Cases where ROOT crashes (ragged lines and the like) are only checked for hepframe's
error.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings

import numpy as np
import pyarrow as pa
import pytest
from hepframe.connectors import TableSource
from hepframe.connectors.csv_source import CsvWarning, read_csv

import hepframe
from hepframe.errors import DataSourceError
from hepframe.expr.types import CType, Scalar

ROOT_SCRIPT = r"""
import json, sys
import ROOT
ROOT.gROOT.SetBatch(True)
ROOT.gErrorIgnoreLevel = ROOT.kError  # RCsvDS's NaN warnings
KEYWORDS = {"left_trim": "leftTrim", "right_trim": "rightTrim", "skip_blank_lines": "skipBlankLines",
            "skip_first_n_lines": "skipFirstNLines", "skip_last_n_lines": "skipLastNLines", "comment": "comment",
            "column_names": "columnNames"}

def plain(value):
    if isinstance(value, float):
        return value.hex()
    return value if isinstance(value, (bool, int)) else str(value)

def read(path, kwargs):
    kwargs = dict(kwargs)
    args = [kwargs.pop(k, d) for k, d in (("read_headers", True), ("delimiter", ","), ("lines_chunk_size", -1))]
    col_types = {k: ord(v) for k, v in kwargs.pop("col_types", {}).items()}  # PyROOT wants char codes
    df = ROOT.RDF.FromCSV(path, *args, colTypes=col_types, **{KEYWORDS[k]: v for k, v in kwargs.items()})
    names = [str(n) for n in df.GetColumnNames()]
    types = {n: str(df.GetColumnType(n)) for n in names}
    arrays = df.AsNumpy(names)
    return df, {"names": names, "types": types, "values": {n: [plain(v.item() if hasattr(v, "item") else v)
                                                               for v in arrays[n]] for n in names}}

spec = json.load(sys.stdin)
out = {}
for name, case in spec["cases"].items():
    try:
        out[name] = read(case["path"], case["kwargs"])[1]
    except Exception as exc:
        out[name] = {"error": f"{type(exc).__name__}: {exc}"}
df = ROOT.RDF.FromCSV(spec["actions"])
h = df.Histo1D(("h", "", 20, -3.0, 3.0), "x")
out["actions"] = {"count": df.Count().GetValue(), "sum_x": df.Sum("x").GetValue().hex(),
                  "sum_n": df.Sum("n").GetValue(), "mean": df.Mean("x").GetValue().hex(),
                  "bins": [h.GetBinContent(i) for i in range(22)], "entries": h.GetEntries(),
                  "hist_mean": h.GetMean().hex(), "std": h.GetStdDev().hex()}
print(json.dumps(out))
"""

# Values whose first-line look decides a column's type (one column each).
INFERENCE = ["1.0", "1", "True", "TRUE", "true", "false", "1e5", "1.e5", ".5e3", "1.5d3", "1.5q3", "1.5D+3", "0x10",
             "+5", "-0", "-0.0", "nan", "NaN", "NAN", "inf", "-inf", " 5", "5 ", "5.", ".5", ".", "+.5", "-.5e-3",
             "1.5E+3", '"5"', '"1,5"', "1_0", "", "1e", "truex", "Nan", "+", "-"]  # fmt: skip
# Later values of a column of each type: what std::stoll, std::stod and operator>> make of them.
LONGS = ["1", "2.7", "-3.9", " 4", "+5x", "\v+3", "007", "+0", "-0", "-9223372036854775808", "9223372036854775807",
         "", "nan", "NaN", '"6"', "1e5"]  # fmt: skip
DOUBLES = ["1.5", "1e5", "inf", "-Infinity", "0x10", "0x1p3", "0x", "0xg", "0x.8P-2", "1e", "1e+", "nan(12)",
           "-nan", "INFINITY", "infinit", "\t-2", "\v3", "+.5e-1x", "-9223372036854775809", "NAN", "nan", "NaN", "",
           "-0", "1.5d3", "0x1p-1074", "0e-500", "-0x1p-1022", "2.2250738585072014e-308", "1.7976931348623157e308",
           "0.1", "123456789012345678901234567890", ".000000000000000000000000000000001", "3abc"]  # fmt: skip
BOOLS = ["true", "True", "1", "false", " true", "truex", "falsey", "t", "", "nan", "NaN", "0", "yes", "\ttrue",
         "\vtrue", "\rtrue", "fals", "TRUE", '"true"']  # fmt: skip
STRINGS = ["x", "", "nan", "NaN", '""', '" q "', "NAN", '"a,b"', '"y ""q"" z"', '1"2"3', ' "Ford" ', '"""x"""',
           "a b", "\\", "'s'", "é", '"open']  # fmt: skip


def _column(values: list[str]) -> str:
    return "v\n" + "".join(f"{v}\n" for v in values)


def _decimals() -> str:
    """Doubles in every printed form, for correct rounding."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(300) * 10.0 ** rng.integers(-300, 300, 300)
    texts = ["0.5"] + [f"{v:.17g}" if i % 3 else f"{v:.6e}" if i % 2 else f"{v:.3f}" for i, v in enumerate(x)]
    return _column([t if "." in t else t + ".0" for t in texts][:1] + texts[1:])


def _numbers(quote: bool) -> str:
    """A few thousand rows of numbers (pyarrow's reader), or with one quoted field (numpy's)."""
    rng = np.random.default_rng(3)
    lines = ["x,n,b"] + [f"{float(x)!r},{n},{'true' if b else 'false'}" for x, n, b in
                         zip(rng.standard_normal(3000), rng.integers(-10**12, 10**12, 3000), rng.random(3000) < 0.3,
                             strict=True)]  # fmt: skip
    if quote:
        lines[-1] = '"' + lines[-1].replace(",", '",', 1)
    return "\n".join(lines) + "\n"


# name: (file text, read_csv keyword arguments), every one read by ROOT too.
CASES: dict[str, tuple[str, dict]] = {
    "inference": (",".join(f"c{i}" for i in range(len(INFERENCE))) + "\n" + ",".join(INFERENCE) + "\n", {}),
    "longs": (_column(LONGS), {}),
    "doubles": (_column(DOUBLES), {}),
    "bools": (_column(BOOLS), {}),
    "strings": (_column(STRINGS), {}),
    "decimals": (_decimals(), {}),
    "numbers_fast": (_numbers(False), {}),
    "numbers_quoted": (_numbers(True), {}),
    "empty_cells": ("a,b,c,d\n,1,,x\n,2,true,\n3,,,\n", {}),
    "lookahead_11": ("a,b\n" + ",0\n" * 10 + "4,1\n", {}),
    "lookahead_12": ("a,b\n" + ",0\n" * 11 + "4,1\n", {}),
    "lookahead_blank_lines": ("a,b\n,1\n\n\n\n\n\n\n\n\n\n\n\n\n4,11\n", {}),
    "lookahead_nan_texts": ("a,b\nnan,1\nNaN,2\ntrue,3\n", {}),
    "all_nan": ("a,b\n,1\nnan,2\n", {}),
    "crlf": ("a,b,s\r\n1,2.5,x\r\n\r\n3,4,y\r\n", {}),
    "crlf_no_final_break": ("a,b\r\n1,x\r\n2,y", {}),
    "cr_is_data_after_lf": ("a,b\n1,2.5\r\n3,x\r\r\n", {}),
    "no_final_break": ("a,b\n1,2", {}),
    "single_line_cr": ("5,x,nan,true\r", {"read_headers": False}),  # typed without the "\r", read with it
    "blank_lines_before_header": ("\n\na,b\n1,2\n\n3,4\n", {}),
    "trailing_delimiter": ("a,b,\n1,2,\n3,4,\n", {}),
    "header_quirks": (',b,,NaN,"x,y", s p ,"q""q"\n1,2,3,4,5,6,7\n', {}),
    "repeated_name": ("a,a,b,b\nx,1,2,2.5\n", {}),
    "bom": ("\ufeffa,b\n1,2\n", {}),
    "bom_no_headers": ("\ufeff1,2\n", {"read_headers": False}),
    "no_headers": ("1,x,true\n2,y,false\n", {"read_headers": False}),
    "semicolon": ("1;2.5;x,y\n3;4;z\n", {"read_headers": False, "delimiter": ";"}),
    "tab": ("a\tb\n1\t2.5\n\t\n", {"delimiter": "\t"}),
    "space": ("a b c\n1  2\n", {"delimiter": " "}),
    "quote_delimiter": ('a"b\n1"2\n', {"delimiter": '"'}),
    "chunked": ("a,b\n1,2\n3,4\n5,6\n", {"lines_chunk_size": 2}),
    "chunk_zero": ("a,b\n1,x\n3,4\n", {"lines_chunk_size": 0}),
    "col_types": ("a,b,c,d,e\n4,3,1,2.5,\n5,x,true,-1,7\n",
                  {"col_types": {"a": "D", "b": "T", "c": "O", "d": "L", "e": "L"}}),
    "col_types_no_headers": ("1,2\n", {"read_headers": False, "col_types": {"Col1": "D"}}),
    "left_trim": ("  a,b\n  1,  2\n\t3,4\n   \n", {"left_trim": True}),
    "right_trim": ("a,b\n1  ,x  \n3,y\t\r\n", {"right_trim": True}),
    "both_trims": ("  a , b  \r\n  1 ,2  \r\n", {"left_trim": True, "right_trim": True}),
    "comment": ('# top\na,b # hdr\n1,2 # c\n# full\n3,"4#x"\n  # kept as spaces?\n', {"comment": "#", "right_trim": True}),
    "comment_left_trim": ("a\n  #x\n1\n", {"comment": "#", "left_trim": True}),
    "comment_lookahead": ("a,b\n" + ",0\n" * 10 + "#c\n#d\n4,11\n", {"comment": "#"}),
    "skip_first": ("junk\n\nh\n1\n", {"skip_first_n_lines": 2}),
    "skip_first_counts_blank": ("\n\njunk\nh\n1\n", {"skip_first_n_lines": 1}),
    "skip_first_counts_comments": ("#c\nx\nh\n1\n", {"skip_first_n_lines": 1, "comment": "#"}),
    "skip_last": ("h\n1\n2\nfooter\n", {"skip_last_n_lines": 1}),
    "skip_last_blank": ("h\n1\n2\nf\n\n", {"skip_last_n_lines": 2}),
    "skip_last_lookahead": ("a,b\n,1\nx,2\n", {"skip_last_n_lines": 1}),
    "skip_both": ("h\n1\n2\n3\n", {"skip_first_n_lines": 1, "skip_last_n_lines": 1, "read_headers": False}),
    "column_names": ("a,b\n1,2\n", {"column_names": ["x", "y"], "col_types": {"y": "D"}}),
    "keep_blank_lines": ("a\n1\n", {"skip_blank_lines": False}),  # ROOT crashes on a blank line then
    "column_names_no_headers": ("1,2\n3,4\n", {"column_names": ["x", "x"], "read_headers": False}),
    # ROOT refuses these, when reading or in the event loop; hepframe raises DataSourceError.
    "err_not_a_long": ("i\n1\nabc\n", {}),
    "err_not_a_double": ("d\n1.5\nxyz\n", {}),
    "err_long_overflow": ("i\n1\n9223372036854775808\n", {}),
    "err_long_overflow_first": ("i\n99999999999999999999\n", {}),
    "err_double_overflow": ("d\n1.5\n1e400\n", {}),
    "err_double_underflow": ("d\n1.5\n1e-400\n", {}),
    "err_double_subnormal": ("d\n1.5\n4.9e-324\n", {}),
    "err_double_subnormal_2": ("d\n1.5\n2.2250738585072011e-308\n", {}),
    "err_hex_overflow": ("d\n1.5\n0x1p1024\n", {}),
    "err_repeated_name_converts": ("a,a\n1,x\n", {}),
    "err_header_only": ("a,b\n", {}),
    "err_empty": ("", {}),
    "err_blank": ("\n\n", {"read_headers": False}),
    "err_footer": ("h\n1\n2\n", {"skip_last_n_lines": 4}),
    "err_footer_all": ("h\n1\n2\n", {"skip_last_n_lines": 3}),
    "err_skip_first_all": ("h\n1\n", {"skip_first_n_lines": 5}),
    "err_unknown_col_type_name": ("a,b\n1,2\n", {"col_types": {"zz": "D"}}),
    "err_unknown_col_type_name_no_headers": ("1,2\n", {"read_headers": False, "col_types": {"zz": "D"}}),
    "err_bad_letter": ("a,b\n1,2\n", {"col_types": {"a": "X"}}),
    "err_column_names_count": ("a,b\n1,2\n", {"column_names": ["x"]}),
    "err_col_types_old_names": ("a,b\n1,2\n", {"column_names": ["x", "y"], "col_types": {"a": "D"}}),
    "err_short_line": ("a,b,c\n1,2\n", {}),
    "err_single_line_cr": ("5,\r", {"read_headers": False}),
    "err_comment_leaves_spaces": ("a\n1\n  # x\n", {"comment": "#"}),
}
ACTIONS = _numbers(False)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("csv")
    paths = {}
    for name, (text, _) in [*CASES.items(), ("actions", (ACTIONS, {}))]:
        paths[name] = str(where / f"{name}.csv")
        with open(paths[name], "wb") as f:
            f.write(text.encode())
    return paths


@pytest.fixture(scope="module")
def root_results(files) -> dict:
    spec = {"cases": {n: {"path": files[n], "kwargs": kw} for n, (_, kw) in CASES.items()},
            "actions": files["actions"]}  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", ROOT_SCRIPT], input=json.dumps(spec), capture_output=True,
                          text=True, timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, f"ROOT subprocess failed:\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _plain(value):
    return value.hex() if isinstance(value, float) else value


def _as_root(table: pa.Table, schema: dict[str, CType]) -> dict:
    """read_csv's answer in the ROOT script's terms: names sorted as RDF lists them."""
    types = json.loads(table.schema.metadata[b"hepframe.csv.root_types"])
    names = sorted(table.column_names)
    return {"names": names, "types": {n: types[n] for n in names},
            "values": {n: [_plain(v) for v in table.column(n).to_pylist()] for n in names}}  # fmt: skip


@pytest.mark.root
@pytest.mark.parametrize("case", [n for n in CASES if not n.startswith("err_")])
def test_names_types_and_values_match_root(case: str, files, root_results) -> None:
    expected = root_results[case]
    assert "error" not in expected, expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CsvWarning)
        table, schema = read_csv(files[case], **CASES[case][1])
    ours = _as_root(table, schema)
    assert ours["names"] == expected["names"]
    assert ours["types"] == expected["types"]
    for name in expected["names"]:
        assert ours["values"][name] == expected["values"][name], name
    wanted = {"Long64_t": CType(Scalar.LONG), "double": CType(Scalar.DOUBLE), "bool": CType(Scalar.BOOL)}
    assert schema == {n: wanted[t] for n, t in ours["types"].items() if t != "std::string"}
    strings = json.loads(table.schema.metadata[b"hepframe.csv.string_columns"])
    assert sorted(strings) == [n for n, t in ours["types"].items() if t == "std::string"]


@pytest.mark.root
@pytest.mark.parametrize("case", [n for n in CASES if n.startswith("err_")])
def test_what_root_refuses_is_a_data_source_error(case: str, files, root_results) -> None:
    assert "error" in root_results[case], root_results[case]
    with pytest.raises(DataSourceError, match=r"CSV file .*" + case):
        read_csv(files[case], **CASES[case][1])


@pytest.mark.root
@pytest.mark.parametrize("engine", ["reference", "polars"])
def test_count_sum_and_histo1d_match_root(engine: str, files, root_results) -> None:
    table, schema = read_csv(files["actions"])
    df = hepframe.RDataFrame.from_source(TableSource("", table, schema), engine=engine)
    count, sum_x, sum_n, mean = df.Count(), df.Sum("x"), df.Sum("n"), df.Mean("x")
    h = df.Histo1D(("h", "", 20, -3.0, 3.0), "x").GetValue()
    expected = root_results["actions"]
    assert count.GetValue() == expected["count"] == 3000
    assert sum_x.GetValue().hex() == expected["sum_x"]
    assert sum_n.GetValue() == expected["sum_n"]
    assert mean.GetValue().hex() == expected["mean"]
    assert [h.GetBinContent(i) for i in range(22)] == expected["bins"]
    assert h.GetEntries() == expected["entries"]
    assert (h.GetMean().hex(), h.GetStdDev().hex()) == (expected["hist_mean"], expected["std"])


def test_file_order_repeated_names_and_string_columns(tmp_path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("z,a,z,s\n1,2.5,3,hello\n")
    table, schema = read_csv(path, col_types={"z": ord("L")})  # ROOT's Python binding takes char codes
    assert table.column_names == ["z", "a", "s"]  # file order; RDF's GetColumnNames sorts
    assert table.column("s").type == pa.string() and "s" not in schema
    assert table.to_pydict() == {"z": [1], "a": [2.5], "s": ["hello"]}
    assert hepframe.RDataFrame.from_source(TableSource("", table, schema)).Sum("a").GetValue() == 2.5


def test_nan_in_long_and_bool_columns_warns_as_root(tmp_path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("b,i,d\ntrue,1,\n,NaN,2.5\n")
    with pytest.warns(CsvWarning) as record:
        read_csv(path)
    assert str(record[0].message) == (
        'Column "b" of type bool contains empty cell(s) or NaN(s).\n'
        "There is no `nan` equivalent for type bool, hence `false` is stored.\n"
        'Column "i" of type Long64_t contains empty cell(s) or NaN(s).\n'
        "There is no `nan` equivalent for type Long64_t, hence `0` is stored.\n"
        "Please manually set the column type to `double` (with `D`) in `FromCSV` to read NaNs instead.\n")


# hepframe's errors name the file and line. ROOT 6.40 crashes on (or misreads) ragged lines (checked by hand,
# not here: a crash would end the ROOT subprocess) and throws from the event loop on the values.
REFUSED = {
    "a,b\n1,2\n3,4,5\n": "line 3 .* has 3 fields, line 1 has 2",
    "a,b\n1,2\n3\n": "line 3 .* has 1 fields",
    "a,b\n1,2,\n": "line 2 .* has 3 fields",
    "a,b\n1,\"x\ny\"\n": "line 3 .* has 1 fields",  # ROOT does not join quoted line breaks either
    "a,b\r\n1,2\n3,4\r\n": "line 2 .* has 3 fields",  # after a CRLF first line, a lone LF is data
    "a,b\n1,2\n   \n": "line 3 .* has 1 fields",
    "i\n1\n2\n3\nxyz\n": "line 5 of the CSV file .*: 'xyz' in column 'i' \\(Long64_t\\) is not an integer",
    "d\n1.5\n\n1e999\n": "line 4 of the CSV file .*: '1e999' in column 'd' \\(double\\) is out of the range",
    "s\nok\n\xff\n": "line 3 of the CSV file .* is not UTF-8",
}


@pytest.mark.parametrize("text", list(REFUSED))
def test_bad_lines_name_file_and_line(text: str, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataSourceError, match=REFUSED[text]):
        read_csv(path)


def test_blank_lines_kept_are_ragged_and_quoted_or_commented_files_name_lines(tmp_path) -> None:
    path = tmp_path / "f.csv"
    path.write_text('a,b\n"1",2\n\n3,4\n')
    with pytest.raises(DataSourceError, match="line 3 .* has 0 fields"):
        read_csv(path, skip_blank_lines=False)
    path.write_text("a,b# c\n1,2\n#\n3,x\n")
    with pytest.raises(DataSourceError, match="line 4 .* 'x' in column 'b' \\(Long64_t\\)"):
        read_csv(path, comment="#")


def test_crlf_line_of_127_bytes_is_split(tmp_path) -> None:
    # ROOT 6.40 misses the "\r\n" across its 128-byte read buffers and crashes on the merged line.
    path = tmp_path / "f.csv"
    path.write_bytes(b"a,s\r\n1," + b"x" * 125 + b"\r\n2,y\r\n")
    assert read_csv(path)[0].to_pydict() == {"a": [1, 2], "s": ["x" * 125, "y"]}


def test_missing_file_and_bad_arguments(tmp_path) -> None:
    missing = tmp_path / "missing.csv"
    with pytest.raises(DataSourceError, match=re.escape(f"cannot read the CSV file {missing}: No such file")):
        read_csv(missing)
    (tmp_path / "f.csv").write_text("a\n1\n")
    with pytest.raises(DataSourceError, match="delimiter .* one ASCII character"):
        read_csv(tmp_path / "f.csv", delimiter=";;")
