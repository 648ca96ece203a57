"""fetch_layer against a local ArcGIS-like server (127.0.0.1 only) serving real Astana rows."""

from __future__ import annotations

import json
import math
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from patrolplan import fetch, ingest
from patrolplan._errors import InputDataError

ROOT = Path(__file__).resolve().parents[1]
KZ = next(
    (p / "shared" / "data" / "kz" for p in ROOT.parents if (p / "shared" / "data" / "kz").is_dir()),
    ROOT.parent / "shared" / "data" / "kz",
)
RTA = KZ / "astana_rta_kgp_2011-2026.parquet"
N_ROWS = 300
LAYER_PATH = "/arcgis/rest/services/KPSSU/DTP/FeatureServer/0"


def _value(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


@pytest.fixture(scope="module")
def features() -> list[dict[str, Any]]:
    """The first rows of the real export as the server's f=json features, in EPSG:4326."""
    if not RTA.is_file():
        pytest.skip("shared КПСиСУ data not found")
    from pyproj import Transformer

    df = pd.read_parquet(RTA).head(N_ROWS).drop(columns=["geometry"])
    lon, lat = Transformer.from_crs(3857, 4326, always_xy=True).transform(
        df["x"].to_numpy(), df["y"].to_numpy()
    )
    out = []
    for i, rec in enumerate(df.to_dict("records")):
        attrs = {k: _value(v) for k, v in rec.items() if k not in {"x", "y"}}
        out.append({"attributes": attrs, "geometry": {"x": float(lon[i]), "y": float(lat[i])}})
    return out


class Layer(BaseHTTPRequestHandler):
    """A FeatureServer layer: info at the layer URL, paged query below it."""

    features: ClassVar[list[dict[str, Any]]] = []
    max_records: ClassVar[int] = 100
    fail_next: ClassVar[int] = 0  # answer this many requests with HTTP 503 first
    fail_after_pages: ClassVar[int | None] = None  # then 500 forever (an interrupted run)
    cap: ClassVar[int | None] = None  # send at most this many, whatever maxRecordCount says
    ignore_offset: ClassVar[bool] = False  # a server without paging support
    pages_served: ClassVar[int] = 0
    queries: ClassVar[list[dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass

    def _send(self, code: int, doc: Any) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        cls = type(self)
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if cls.fail_next > 0:
            cls.fail_next -= 1
            self._send(503, {"error": "busy"})
            return
        if url.path == LAYER_PATH:
            self._send(
                200,
                {"maxRecordCount": cls.max_records, "objectIdField": "objectid", "name": "DTP"},
            )
            return
        if url.path != LAYER_PATH + "/query":
            self._send(404, {"error": {"code": 404, "message": "not found"}})
            return
        if q.get("returnCountOnly") == "true":
            self._send(200, {"count": len(cls.features)})
            return
        if cls.fail_after_pages is not None and cls.pages_served >= cls.fail_after_pages:
            self._send(500, {"error": "down"})
            return
        cls.queries.append(q)
        offset = 0 if cls.ignore_offset else int(q.get("resultOffset", 0))
        count = min(int(q.get("resultRecordCount", cls.max_records)), cls.max_records)
        count = min(count, cls.cap or count)
        page = cls.features[offset : offset + count]
        cls.pages_served += 1
        self._send(
            200,
            {
                "objectIdFieldName": "objectid",
                "geometryType": "esriGeometryPoint",
                "spatialReference": {"wkid": 4326, "latestWkid": 4326},
                "features": page,
                "exceededTransferLimit": offset + count < len(cls.features),
            },
        )


@pytest.fixture
def server(features):
    Layer.features = features
    Layer.max_records, Layer.fail_next, Layer.fail_after_pages = 100, 0, None
    Layer.pages_served, Layer.queries = 0, []
    Layer.cap, Layer.ignore_offset = None, False
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Layer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}{LAYER_PATH}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def oids(path: Path) -> list[int]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [f["attributes"]["objectid"] for f in doc["features"]]


def test_pages_across_max_record_count(server, features, tmp_path):
    out = tmp_path / "dtp.json"
    report = fetch.fetch_layer(server, out=out, where="area_code='1971'", progress=False)
    assert report.pages == 3
    assert report.features == N_ROWS
    assert report.max_record_count == report.page_size == 100
    assert oids(out) == [f["attributes"]["objectid"] for f in features]
    q = Layer.queries[0]
    assert (q["outSR"], q["outFields"], q["f"], q["where"]) == (
        "4326",
        "*",
        "json",
        "area_code='1971'",
    )
    assert [int(q["resultOffset"]) for q in Layer.queries] == [0, 100, 200]
    assert not (tmp_path / "dtp.json.part").exists()
    # what was fetched reads as the same incidents as the Parquet export
    gdf, rep = ingest.read_incidents(out, layer="accident", preset="kpssu_rta")
    want, _ = ingest.read_incidents(RTA, layer="accident", preset="kpssu_rta")
    want = want.head(N_ROWS)
    assert rep.rows_kept == N_ROWS
    assert list(gdf["incident_id"]) == list(want["incident_id"])
    assert (gdf["datetime"].to_numpy() == want["datetime"].to_numpy()).all()
    assert np.allclose(gdf.geometry.x, want.geometry.x, atol=1e-7)
    assert np.allclose(gdf.geometry.y, want.geometry.y, atol=1e-7)


def test_smaller_pages_than_the_server_allows(server, tmp_path):
    report = fetch.fetch_layer(server, out=tmp_path / "a.json", page_size=64, progress=False)
    assert report.pages == 5
    assert len(set(oids(tmp_path / "a.json"))) == N_ROWS


def test_a_server_sending_less_than_asked_loses_no_feature(server, tmp_path):
    Layer.cap = 64
    report = fetch.fetch_layer(server, out=tmp_path / "a.json", progress=False)
    assert report.features == N_ROWS
    assert [int(q["resultOffset"]) for q in Layer.queries] == [0, 64, 128, 192, 256]
    assert len(set(oids(tmp_path / "a.json"))) == N_ROWS


def test_a_server_that_does_not_page_is_a_clear_error(server, tmp_path):
    Layer.ignore_offset = True
    with pytest.raises(InputDataError, match="does not page"):
        fetch.fetch_layer(server, out=tmp_path / "a.json", progress=False)


def test_retries_a_server_that_fails_twice(server, tmp_path):
    Layer.fail_next = 2
    report = fetch.fetch_layer(server, out=tmp_path / "a.json", backoff_s=0.01, progress=False)
    assert report.retries == 2
    assert report.features == N_ROWS


def test_interrupted_download_resumes_without_duplicates(server, tmp_path):
    out = tmp_path / "dtp.json"
    Layer.fail_after_pages = 2
    with pytest.raises(InputDataError, match="cannot reach the server after 2 tries"):
        fetch.fetch_layer(server, out=out, retries=1, backoff_s=0.01, progress=False)
    part = tmp_path / "dtp.json.part"
    assert sorted(p.name for p in part.glob("query_*.json")) == ["query_0.json", "query_1.json"]
    assert not out.exists()
    Layer.fail_after_pages, Layer.queries = None, []
    report = fetch.fetch_layer(server, out=out, backoff_s=0.01, progress=False)
    assert report.pages_resumed == 2
    assert [int(q["resultOffset"]) for q in Layer.queries] == [200]
    ids = oids(out)
    assert len(ids) == len(set(ids)) == N_ROWS
    assert not part.exists()


def test_a_folder_patrolplan_did_not_make_is_left_alone(server, tmp_path):
    part = tmp_path / "dtp.json.part"
    part.mkdir()
    (part / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputDataError, match="not made by patrolplan"):
        fetch.fetch_layer(server, out=tmp_path / "dtp.json", progress=False)
    assert (part / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_unreachable_server_is_one_clear_line(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}{LAYER_PATH}"
    with pytest.raises(InputDataError) as info:
        fetch.fetch_layer(url, out=tmp_path / "a.json", retries=1, backoff_s=0.01, progress=False)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{url}: cannot reach the server after 2 tries")
    assert not (tmp_path / "a.json.part").exists()


def test_not_a_url_is_refused(tmp_path):
    with pytest.raises(InputDataError, match="http"):
        fetch.fetch_layer("gis.kgp.kz/layer/0", out=tmp_path / "a.json", progress=False)
