"""Ingest on the real public files and on a corpus of malformed files."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from patrolplan import InputDataError, datasets, ingest

from .conftest import DATA, write

BALTIMORE_BOX = box(-76.6128, 39.2526, -76.5176, 39.3143)  # walk-graph node bbox


def test_baltimore_counts_and_reasons():
    gdf, report = ingest.read_incidents(datasets.baltimore_crimes())
    assert report.rows_read == 2399
    assert report.rows_kept == len(gdf) == 2384
    assert report.reasons() == {"missing_coordinates": 15}
    assert set(report.rejected["column"]) == {"latitude/longitude"}
    assert report.columns["category"] == "category"
    assert gdf.crs.to_epsg() == 4326
    assert gdf["severity"].max() == 10.0  # homicide
    assert gdf["hour"].between(0, 23).all()


def test_baltimore_area_rejects_the_outlier_and_the_rest_of_the_city():
    _gdf, report = ingest.read_incidents(datasets.baltimore_crimes(), area=BALTIMORE_BOX)
    reasons = report.reasons()
    assert reasons["missing_coordinates"] == 15
    assert report.rows_kept == 597  # the data README's overlap with the graph bbox
    rejected = report.rejected.set_index("row")
    assert rejected.loc[49, "reason"] == "outside_area"  # the point at latitude 41.5
    assert "41.52861" in rejected.loc[49, "value"]
    assert report.rows_kept + len(report.rejected) == report.rows_read


def test_oakland_bad_dates_are_rejected_with_row_and_column():
    gdf, report = ingest.read_incidents(DATA / "oakland" / "oakland_crimes_2012-2013.csv")
    assert report.reasons() == {"unparseable_datetime": 2, "implausible_datetime": 1}
    bad = report.rejected
    assert (bad["column"] == "datetime").all()
    assert "2053-01-03T13:53:00" in set(bad["value"])
    assert report.columns["category"] == "description"
    assert len(gdf) == 997


def test_window_filter_reports_rows_outside_it():
    _, report = ingest.read_incidents(
        DATA / "oakland" / "oakland_crimes_2012-2013.csv",
        since="2013-01-01",
        until="2013-02-01",
    )
    assert report.reasons()["outside_window"] > 0
    assert report.rows_kept + len(report.rejected) == report.rows_read


def test_cardiff_local_grid_is_kept_as_is():
    gdf, report = ingest.read_incidents(
        DATA / "cardiff" / "cardiff_juvenile_offender_residences.csv",
        layer="juvenile",
        crs="local",
    )
    assert report.rows_kept == 168
    assert gdf.crs is None
    assert gdf.geometry.x.between(2, 94).all()
    assert report.notes  # no date column is said
    assert (gdf["layer"] == "juvenile").all()


# ------------------------------------------------------------------------- malformed corpus

HEADER = "id,lat,lon,date,type\n"


@pytest.mark.parametrize(
    ("name", "text", "match"),
    [
        ("empty.csv", "", "empty"),
        ("header_only.csv", HEADER, "no data rows"),
        ("no_coords.csv", "id,date,type\n1,2020-01-01,THEFT\n", "no latitude or longitude"),
        ("no_lon.csv", "id,lat,date\n1,43.2,2020-01-01\n", "no longitude"),
        (
            "all_missing.csv",
            HEADER + "1,,,2020-01-01,X\n2,,,2020-01-01,X\n",
            "missing_coordinates 2",
        ),
        ("all_text.csv", HEADER + "1,abc,def,2020-01-01,X\n", "invalid_coordinates"),
        ("all_bad_dates.csv", HEADER + "1,43.2,76.9,yesterday,X\n", "unparseable_datetime"),
        ("binary.csv", "\x00\x01\x02", "no data rows"),
    ],
)
def test_unusable_files_raise_a_clear_error(tmp_path, name, text, match):
    path = write(tmp_path / name, text)
    with pytest.raises(InputDataError, match=match) as info:
        ingest.read_incidents(path)
    assert str(path.name) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputDataError, match="file not found"):
        ingest.read_incidents(tmp_path / "nope.csv")


def test_unknown_extension(tmp_path):
    with pytest.raises(InputDataError, match="unsupported file type"):
        ingest.read_incidents(write(tmp_path / "x.xlsx", "a"))


def test_explicit_column_not_in_file(tmp_path):
    path = write(tmp_path / "x.csv", HEADER + "1,43.2,76.9,2020-01-01,X\n")
    with pytest.raises(InputDataError, match="'Y' given for `lat` is not in the file"):
        ingest.read_incidents(path, columns={"lat": "Y"})


def test_bad_columns_spec():
    with pytest.raises(InputDataError, match="role=column"):
        ingest.parse_columns("lat")
    with pytest.raises(InputDataError, match="unknown"):
        ingest.parse_columns("height=z")
    assert ingest.parse_columns("lat=Y, lon=X") == {"lat": "Y", "lon": "X"}


def test_mixed_rows_keep_the_good_and_name_the_bad(tmp_path):
    path = write(
        tmp_path / "mixed.csv",
        HEADER
        + "\n".join(
            [
                "1,43.25,76.95,2020-01-01 10:00,THEFT",
                "2,,76.95,2020-01-01 10:00,THEFT",
                "3,95.0,76.95,2020-01-01 10:00,THEFT",
                "4,43.25,76.95,not a date,THEFT",
                "5,43.25,abc,2020-01-01 10:00,THEFT",
                "1,43.26,76.96,2020-01-02 10:00,THEFT",
            ]
        )
        + "\n",
    )
    gdf, report = ingest.read_incidents(path)
    assert list(gdf["incident_id"]) == ["1"]
    table = report.rejected.set_index("row")
    assert table.loc[2, "reason"] == "missing_coordinates"
    assert table.loc[3, "reason"] == "out_of_range"
    assert table.loc[3, "column"] == "lat"
    assert table.loc[4, "reason"] == "unparseable_datetime"
    assert table.loc[5, "reason"] == "invalid_coordinates"
    assert table.loc[5, "column"] == "lon"
    assert table.loc[6, "reason"] == "duplicate"
    assert (table["file"] == str(path)).all()


def test_ragged_rows_are_rejected_as_malformed(tmp_path):
    path = write(
        tmp_path / "ragged.csv",
        HEADER + "1,43.2,76.9,2020-01-01,X\n"
        "2,43.2,76.9,2020-01-01,X,EXTRA,MORE\n3,43.3,76.8,2020-01-02,Y\n",
    )
    gdf, report = ingest.read_incidents(path)
    assert list(gdf["incident_id"]) == ["1", "3"]
    assert report.rejected.loc[0, "row"] == 2
    assert report.rejected.loc[0, "reason"] == "malformed_row"


def test_duplicates_without_id_by_point_time_category(tmp_path):
    path = write(
        tmp_path / "dup.csv",
        "lat,lon,date,type\n43.2,76.9,2020-01-01,X\n"
        "43.2,76.9,2020-01-01,X\n43.2,76.9,2020-01-01,Y\n",
    )
    gdf, report = ingest.read_incidents(path)
    assert len(gdf) == 2
    assert report.reasons() == {"duplicate": 1}


def test_russian_cp1251_semicolons_and_decimal_commas(tmp_path):
    text = "Номер;Широта;Долгота;Дата;Статья\n1;43,2380;76,9450;01.03.2024 22:15;ТЯЖКОЕ\n"
    path = write(tmp_path / "ru.csv", text, encoding="cp1251")
    gdf, report = ingest.read_incidents(path)
    assert report.columns == {
        "lat": "Широта",
        "lon": "Долгота",
        "datetime": "Дата",
        "category": "Статья",
        "id": "Номер",
    }
    assert gdf.geometry.y.iloc[0] == pytest.approx(43.238)
    assert gdf["datetime"].iloc[0] == pd.Timestamp("2024-03-01 22:15")  # day first
    assert gdf["severity"].iloc[0] == 4.0  # grave


def test_kazakh_headers_utf8_bom(tmp_path):
    text = "ендік,бойлық,күні,санат\n51.128,71.430,2024-05-02,АСА АУЫР\n"
    path = write(tmp_path / "kz.csv", text, encoding="utf-8-sig")
    gdf, report = ingest.read_incidents(path)
    assert report.columns["lat"] == "ендік"
    assert gdf["severity"].iloc[0] == 8.0
    assert gdf["time_precision"].iloc[0] == "date"


def test_year_only_and_timezone_aware_dates(tmp_path):
    path = write(
        tmp_path / "t.csv",
        "lat,lon,date\n43.2,76.9,2021\n43.3,76.9,"
        "2021-06-01T10:00:00+06:00\n43.4,76.9,2021-06-01T04:00:00Z\n",
    )
    gdf, _ = ingest.read_incidents(path, tz="Asia/Almaty")
    assert list(gdf["time_precision"]) == ["year", "datetime", "datetime"]
    assert gdf["datetime"].iloc[0] == pd.Timestamp("2021-01-01")
    # Almaty is UTC+5 since 2024 in the tz database but was +6 in 2021
    assert gdf["datetime"].iloc[2] == gdf["datetime"].iloc[1]


def test_swapped_lat_lon_is_detected(tmp_path):
    path = write(tmp_path / "sw.csv", "lat,lon\n-76.60,39.29\n-76.59,39.28\n")
    with pytest.warns(UserWarning, match="swapped"):
        gdf, report = ingest.read_incidents(path, area=BALTIMORE_BOX)
    assert report.rows_kept == 2
    assert gdf.geometry.y.iloc[0] == pytest.approx(39.29)


def test_projected_crs_is_converted(tmp_path):
    path = write(tmp_path / "utm.csv", "x,y\n361000,4350000\n")
    gdf, _ = ingest.read_incidents(path, crs="EPSG:32618")
    assert gdf.crs.to_epsg() == 4326
    assert gdf.geometry.y.iloc[0] == pytest.approx(39.29, abs=0.01)


def test_bad_crs(tmp_path):
    path = write(tmp_path / "x.csv", "x,y\n1,2\n")
    with pytest.raises(InputDataError, match="not a CRS"):
        ingest.read_incidents(path, crs="EPSG:nope")


def _points(n: int = 3) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "incident_id": [str(i) for i in range(n)],
            "category": ["ROBBERY"] * n,
            "datetime": ["2016-06-01 20:00"] * n,
        },
        geometry=[Point(-76.59 + i * 1e-3, 39.29) for i in range(n)],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize("ext", ["geojson", "gpkg", "parquet"])
def test_vector_formats(tmp_path, ext):
    path = tmp_path / f"pts.{ext}"
    gdf = _points()
    if ext == "parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path)
    out, report = ingest.read_incidents(path)
    assert report.rows_kept == 3
    assert out["severity"].tolist() == [5.0] * 3


def test_projected_vector_file_is_reprojected(tmp_path):
    path = tmp_path / "utm.gpkg"
    _points().to_crs("EPSG:32618").to_file(path)
    out, _ = ingest.read_incidents(path)
    assert out.geometry.x.iloc[0] == pytest.approx(-76.59)


def test_zipped_shapefile(tmp_path):
    shp_dir = tmp_path / "shp"
    shp_dir.mkdir()
    # Shapefile names are at most 10 characters
    _points().rename(columns={"incident_id": "id", "datetime": "date"}).to_file(shp_dir / "pts.shp")
    zpath = tmp_path / "pts.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f.name)
    _out, report = ingest.read_incidents(zpath)
    assert report.rows_kept == 3


def test_plain_parquet_with_columns(tmp_path):
    path = tmp_path / "p.parquet"
    pd.DataFrame({"Y": [39.29], "X": [-76.59], "when": ["2016-06-01"]}).to_parquet(path)
    _out, report = ingest.read_incidents(path, columns={"lat": "Y", "lon": "X", "datetime": "when"})
    assert report.rows_kept == 1


def test_polygon_features_are_rejected_points_kept(tmp_path):
    gdf = _points(2)
    gdf.loc[1, "geometry"] = box(-76.6, 39.2, -76.5, 39.3)
    path = tmp_path / "mixed.geojson"
    gdf.to_file(path)
    out, report = ingest.read_incidents(path)
    assert len(out) == 1
    assert report.reasons() == {"not_a_point": 1}


def test_broken_geojson(tmp_path):
    with pytest.raises(InputDataError, match="cannot read file"):
        ingest.read_incidents(write(tmp_path / "b.geojson", '{"type": "FeatureColl'))


def test_read_layers_prefixes_ids_and_rejected_rows_stack(tmp_path):
    acc = write(
        tmp_path / "acc.csv",
        "lat,lon,date,type\n39.29,-76.59,2016-06-02,FATAL\n,,2016-06-02,SLIGHT\n",
    )
    gdf, reports = ingest.read_layers(
        {"crime": datasets.baltimore_crimes(), "accident": acc, "juvenile": None}
    )
    assert set(gdf["layer"]) == {"crime", "accident"}
    assert gdf.loc[gdf["layer"] == "accident", "severity"].tolist() == [10.0]
    assert gdf["incident_id"].str.startswith(("crime:", "accident:")).all()
    rejected = ingest.rejected_rows(reports)
    assert len(rejected) == 16
    assert set(rejected["layer"]) == {"crime", "accident"}
