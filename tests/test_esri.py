"""Esri JSON, GeoJSON, folders of pages, CSV and XLSX renderings of the real Astana accidents."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from patrolplan import ingest
from patrolplan._errors import InputDataError

ROOT = Path(__file__).resolve().parents[1]
KZ = next(
    (p / "shared" / "data" / "kz" for p in ROOT.parents if (p / "shared" / "data" / "kz").is_dir()),
    ROOT.parent / "shared" / "data" / "kz",
)
RTA = KZ / "astana_rta_kgp_2011-2026.parquet"
COMPARED = ["incident_id", "datetime", "time_precision", "category", "severity", "killed"]


def _value(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return v.item() if hasattr(v, "item") else v


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    if not RTA.is_file():
        pytest.skip("shared КПСиСУ data not found")
    return pd.read_parquet(RTA).drop(columns=["geometry"])


@pytest.fixture(scope="module")
def want(raw):
    gdf, _ = ingest.read_incidents(RTA, layer="accident", preset="kpssu_rta")
    return gdf


def esri_features(df: pd.DataFrame, *, upper: bool, epsg: int) -> list[dict[str, Any]]:
    from pyproj import Transformer

    x, y = Transformer.from_crs(3857, epsg, always_xy=True).transform(
        df["x"].to_numpy(), df["y"].to_numpy()
    )
    names = {c: (c.upper() if upper else c) for c in df.columns if c not in {"x", "y"}}
    records = df[list(names)].rename(columns=names).to_dict("records")
    return [
        {
            "attributes": {k: _value(v) for k, v in rec.items()},
            "geometry": {"x": float(x[i]), "y": float(y[i])},
        }
        for i, rec in enumerate(records)
    ]


def same_incidents(got, want) -> None:
    got = got.sort_values("incident_id", key=lambda s: s.astype(int)).reset_index(drop=True)
    want = want.sort_values("incident_id", key=lambda s: s.astype(int)).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[COMPARED], want[COMPARED])
    assert np.allclose(got.geometry.x, want.geometry.x, atol=1e-6)
    assert np.allclose(got.geometry.y, want.geometry.y, atol=1e-6)


def test_old_server_pages_in_utm_read_as_one_layer(raw, want, tmp_path):
    # the old server's UPPER field names, EPSG:32642, four pages of one query; the last five
    # features of each page are sent again at the start of the next (a server that shifted)
    feats = esri_features(raw, upper=True, epsg=32642)
    folder = tmp_path / "rta_0"
    folder.mkdir()
    size = math.ceil(len(feats) / 4)
    repeated = 0
    for i in range(4):
        start = i * size - (5 if i else 0)
        repeated += 5 if i else 0
        page = {
            "objectIdFieldName": "OBJECTID",
            "geometryType": "esriGeometryPoint",
            "spatialReference": {"wkid": 32642, "latestWkid": 32642},
            "features": feats[start : (i + 1) * size],
            "exceededTransferLimit": i < 3,
        }
        (folder / f"query_{i}.json").write_text(json.dumps(page), encoding="utf-8")
    gdf, report = ingest.read_incidents(folder, layer="accident", preset="kpssu_rta")
    assert report.crs == "EPSG:32642"
    assert report.columns["datetime"] == "RTA_DATE"
    assert report.rows_read == len(raw) + repeated
    assert report.reasons() == {"duplicate": repeated}
    assert set(report.rejected["column"]) == {"OBJECTID"}
    same_incidents(gdf, want)


def test_geojson_rendering_in_wgs84(raw, want, tmp_path):
    import geopandas as gpd

    # what f=geojson answers: lower-case properties, epoch-ms dates, EPSG:4326
    g = gpd.GeoDataFrame(
        raw.drop(columns=["x", "y"]),
        geometry=gpd.points_from_xy(raw["x"], raw["y"]),
        crs="EPSG:3857",
    ).to_crs(4326)
    path = tmp_path / "dtp.geojson"
    g.to_file(path, driver="GeoJSON")
    gdf, report = ingest.read_incidents(path, layer="accident", preset="kpssu_rta")
    assert report.rows_kept == len(raw)
    same_incidents(gdf, want)


def test_formats_are_told_apart_by_content_not_extension(raw, want, tmp_path):
    head = raw.head(200)
    esri = {
        "spatialReference": {"wkid": 102100, "latestWkid": 3857},
        "features": esri_features(head, upper=False, epsg=3857),
    }
    # Esri JSON saved as .geojson, GeoJSON saved as .json
    (tmp_path / "esri.geojson").write_text(json.dumps(esri), encoding="utf-8")
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": f["attributes"],
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
            for f, lon, lat in zip(
                esri["features"],
                want.head(200).geometry.x,
                want.head(200).geometry.y,
                strict=True,
            )
        ],
    }
    (tmp_path / "geo.json").write_text(json.dumps(geo), encoding="utf-8")
    for name in ("esri.geojson", "geo.json"):
        gdf, report = ingest.read_incidents(tmp_path / name, layer="accident", preset="kpssu_rta")
        assert report.crs.endswith(("3857", "4326")), name
        same_incidents(gdf, want.head(200))


def test_csv_and_xlsx_exports_with_web_mercator_xy(raw, want, tmp_path):
    head = raw.head(500).drop(columns=["load_date"])
    csv = tmp_path / "dtp.csv"
    head.to_csv(csv, index=False)
    gdf, report = ingest.read_incidents(csv, layer="accident", preset="kpssu_rta")
    # the file names no CRS: the preset's (the server's EPSG:3857) is used
    assert report.crs == "EPSG:3857"
    assert (report.columns["lon"], report.columns["lat"]) == ("x", "y")
    same_incidents(gdf, want.head(500))
    pytest.importorskip("openpyxl")
    xlsx = tmp_path / "dtp.xlsx"
    head.to_excel(xlsx, index=False)
    gdf, _ = ingest.read_incidents(xlsx, layer="accident", preset="kpssu_rta")
    same_incidents(gdf, want.head(500))


def test_server_error_saved_as_a_file_is_reported(tmp_path):
    path = tmp_path / "query.json"
    err = {"error": {"code": 400, "message": "Invalid query", "details": []}, "features": []}
    path.write_text(json.dumps(err), encoding="utf-8")
    with pytest.raises(InputDataError, match="400: Invalid query"):
        ingest.read_incidents(path)


def test_non_point_and_missing_geometry_are_rejected(tmp_path):
    doc = {
        "spatialReference": {"wkid": 4326},
        "features": [
            {"attributes": {"OBJECTID": 1, "d": "2020-01-01"}, "geometry": {"x": 71.4, "y": 51.1}},
            {"attributes": {"OBJECTID": 2, "d": "2020-01-01"}, "geometry": {"rings": [[[0, 0]]]}},
            {"attributes": {"OBJECTID": 3, "d": "2020-01-01"}, "geometry": None},
        ],
    }
    path = tmp_path / "q.pjson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    gdf, report = ingest.read_incidents(path, columns={"datetime": "d"})
    assert list(gdf["incident_id"]) == ["1"]
    assert report.reasons() == {"not_a_point": 1, "missing_coordinates": 1}


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputDataError, match=r"no \.json page files"):
        ingest.read_incidents(tmp_path)
