"""Remote files over HTTP, against a Range-capable HTTP server on loopback."""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from pathlib import Path

import pytest

import hepframe
from hepframe.errors import DataSourceError


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves single byte ranges (206); anything else gets the whole file, as many servers do."""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", (self.headers.get("Range") or "").strip())
        with open(path, "rb") as f:
            if match:
                start = int(match.group(1))
                end = int(match.group(2)) if match.group(2) else size - 1
                f.seek(start)
                data = f.read(end - start + 1)
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                data = f.read()
                self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    def do_HEAD(self) -> None:  # noqa: N802
        path = Path(self.translate_path(self.path))
        self.send_response(200 if path.is_file() else 404)
        self.send_header("Content-Length", str(path.stat().st_size if path.is_file() else 0))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # clients may drop a full-file answer early: not an error of the test


@pytest.fixture(scope="module")
def http_url(small_nanoaod_file: str):
    directory, name = os.path.split(small_nanoaod_file)
    server = _QuietServer(("127.0.0.1", 0), functools.partial(_RangeHandler, directory=directory))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{name}"
    server.shutdown()


def test_http_file_gives_the_local_results(http_url: str, small_nanoaod_file: str) -> None:
    remote = hepframe.RDataFrame("Events", http_url, cache=False)
    local = hepframe.RDataFrame("Events", small_nanoaod_file, cache=False)
    h_remote, h_local = (
        df.Filter("nMuon == 2").Define("m", "InvariantMass(Muon_pt, Muon_eta, Muon_phi, Muon_mass)")
        .Histo1D(("m", "", 50, 0, 150), "m").GetValue()
        for df in (remote, local)
    )  # fmt: skip
    assert (h_remote.view(flow=True)["value"] == h_local.view(flow=True)["value"]).all()
    assert h_remote.sum(flow=True).value > 0


def test_http_missing_file_is_a_clear_error(http_url: str) -> None:
    with pytest.raises(DataSourceError, match=r"file not found: 'http://127\.0\.0\.1:\d+/nope\.root'"):
        hepframe.RDataFrame("Events", http_url.rsplit("/", 1)[0] + "/nope.root")
