"""Ingest on the real public files and on a corpus of malformed files."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from patrolplan import InputDataError, datasets, i18n, ingest

from .conftest import DATA, copy_data, write

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
    # 2053 is after the machine clock; 2020 lies years after the file's 2012-2013 span
    assert report.reasons() == {"unparseable_datetime": 2, "implausible_datetime": 2}
    bad = report.rejected
    assert (bad["column"] == "datetime").all()
    implausible = bad.loc[bad["reason"] == "implausible_datetime", "value"]
    assert sorted(v[:10] for v in implausible) == ["2020-01-08", "2053-01-03"]
    assert report.columns["category"] == "description"
    assert len(gdf) == 996
    assert gdf["datetime"].between("2012-10-24", "2013-02-21").all()


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
        ("binary.csv", "\x00\x01\x02", "binary file"),
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
        ingest.read_incidents(write(tmp_path / "x.xyz", "a"))


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
    assert (table["file"] == path.name).all()  # the name only; the header holds the path


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


def test_a_short_row_of_the_crimes_file_is_malformed_not_missing_coordinates(tmp_path):
    # row 10 of the real crimes file cut to its first 5 fields, as a truncated export leaves it
    lines = datasets.baltimore_crimes().read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = ",".join(lines[10].split(",")[:5]) + "\n"
    path = write(tmp_path / "crimes_short_row.csv", "".join(lines))
    gdf, report = ingest.read_incidents(path)
    assert report.reasons() == {"missing_coordinates": 15, "malformed_row": 1}
    bad = report.rejected[report.rejected["reason"] == "malformed_row"].iloc[0]
    assert (bad["row"], bad["value"]) == (10, "5 fields, expected 12")
    assert report.rows_read == 2399
    assert report.rows_kept == len(gdf) == 2383
    # the rows after it keep the file's own numbers
    assert 229 in set(report.rejected["row"])
    assert "10" not in set(gdf["incident_id"])


def test_layer_line_formats_its_numbers_and_words_its_reasons():
    _gdf, report = ingest.read_incidents(datasets.baltimore_crimes(), area=BALTIMORE_BOX)
    assert report.summary() == (
        "baltimore_crimes_2016-06.csv [crime]: 2,399 read, 597 kept, 1,802 rejected "
        "(outside_area 1,787, missing_coordinates 15)"
    )
    with i18n.language("ru"):
        ru = report.summary()
    with i18n.language("kk"):
        kk = report.summary()
    assert ru == (
        "baltimore_crimes_2016-06.csv [crime]: прочитано 2\u00a0399, принято 597, отклонено "
        "1\u00a0802 (вне района 1\u00a0787, нет координат 15)"
    )
    assert kk == (
        "baltimore_crimes_2016-06.csv [crime]: оқылды 2\u00a0399, қабылданды 597, "
        "қабылданбады 1\u00a0802 (аумақтан тыс 1\u00a0787, координаттары жоқ 15)"
    )
    # the machine-readable table keeps the codes in every language
    assert set(report.rejected["reason"]) == {"outside_area", "missing_coordinates"}


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


# ------------------------------------------------------------------------- dates and times

ARRESTS = DATA / "baltimore" / "baltimore_arrests_2017_head300.csv"


def _one_layer(tmp_path, rows, name="t.csv", **kwargs):
    path = write(tmp_path / name, HEADER + "\n".join(rows) + "\n")
    return ingest.read_incidents(path, **kwargs)


def test_utc_offsets_are_converted_to_the_district_zone(tmp_path):
    rows = [
        "1,43.2,76.9,2016-06-18T22:30:00Z,X",
        "2,43.3,76.9,2016-06-18T18:30:00-04:00,X",  # the same instant
        "3,43.4,76.9,2016-06-18 10:00,X",  # naive: already local
    ]
    gdf, report = _one_layer(tmp_path, rows, tz="America/New_York")
    assert gdf["hour"].tolist() == [18, 18, 10]
    assert gdf["datetime"].dt.tz is None
    assert any("converted to America/New_York" in n for n in report.notes)
    # without a zone, one instant still gets one hour
    gdf, _ = _one_layer(tmp_path, rows)
    assert gdf["hour"].iloc[0] == gdf["hour"].iloc[1]


def test_offset_rows_among_naive_rows_do_not_stop_the_run(tmp_path):
    rows = [
        "1,43.2,76.9,2021-06-01 10:00,X",
        "2,43.3,76.9,2021-06-01 10:00 +03,X",
        "3,43.4,76.9,2021-06-01 10:00 UTC,X",
        "4,43.5,76.9,2021-06-01 10:00:00+0500,X",
    ]
    gdf, _ = _one_layer(tmp_path, rows, tz="Asia/Almaty")  # UTC+6 in 2021
    assert gdf["datetime"].dt.strftime("%H:%M").tolist() == ["10:00", "13:00", "16:00", "11:00"]


def test_unknown_time_zone_is_refused(tmp_path):
    with pytest.raises(InputDataError, match="`tz` must be an IANA time zone"):
        _one_layer(tmp_path, ["1,43.2,76.9,2021-06-01,X"], tz="Mars/Olympus")


def test_one_day_first_row_does_not_flip_iso_dates(tmp_path):
    rows = ["1,43.2,76.9,2024-03-05,X", "2,43.3,76.9,01.03.2024,X"]
    gdf, report = _one_layer(tmp_path, rows)
    assert gdf["datetime"].tolist() == [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-03-01")]
    assert any("dd.mm.yyyy 1" in n and "yyyy-mm-dd 1" in n for n in report.notes)


def test_slashed_dates_are_decided_from_the_rows_and_conflicts_reported(tmp_path):
    us = ["1,43.2,76.9,04/05/2024,X", "2,43.3,76.9,03/25/2024 10:00 PM,X"]
    gdf, _ = _one_layer(tmp_path, us)
    assert gdf["datetime"].tolist() == [
        pd.Timestamp("2024-04-05"),
        pd.Timestamp("2024-03-25 22:00"),
    ]
    eu = ["1,43.2,76.9,04/05/2024,X", "2,43.3,76.9,25/03/2024,X", "3,43.4,76.9,26/03/2024,X"]
    gdf, _ = _one_layer(tmp_path, eu)
    assert gdf["datetime"].iloc[0] == pd.Timestamp("2024-05-04")
    gdf, report = _one_layer(tmp_path, [*eu, "4,43.5,76.9,03/27/2024,X"])
    assert report.reasons() == {"unparseable_datetime": 1}
    assert any("conflicting date formats" in n for n in report.notes)


def test_explicit_dayfirst_and_format(tmp_path):
    rows = ["1,43.2,76.9,04/05/2024,X", "2,43.3,76.9,03/25/2024,X"]
    gdf, report = _one_layer(tmp_path, rows, dayfirst=True)
    assert gdf["datetime"].tolist() == [pd.Timestamp("2024-05-04")]
    assert report.reasons() == {"unparseable_datetime": 1}  # no month 25, no guessing
    gdf, report = _one_layer(tmp_path, rows, datetime_format="%m/%d/%Y")
    assert gdf["datetime"].tolist() == [pd.Timestamp("2024-04-05"), pd.Timestamp("2024-03-25")]
    assert gdf["time_precision"].tolist() == ["date", "date"]
    with pytest.raises(InputDataError, match="no usable incident"):
        _one_layer(tmp_path, rows, datetime_format="%Y-%m-%d")


def test_baltimore_arrests_us_dates_with_a_time_column():
    gdf, report = ingest.read_incidents(ARRESTS)
    assert report.columns["datetime"] == "ArrestDate"
    assert report.columns["time"] == "ArrestTime"
    assert report.columns["id"] == "Arrest"
    assert report.columns["category"] == "IncidentOffense"
    first = gdf.set_index("incident_id").loc["17201066"]
    assert first["datetime"] == pd.Timestamp("2017-12-23 23:24")
    assert first["hour"] == 23
    assert (gdf["time_precision"] == "datetime").all()
    assert report.reasons()["missing_coordinates"] == 152
    # explicit mapping with the `time` role gives the same
    gdf2, _ = ingest.read_incidents(
        ARRESTS, columns=ingest.parse_columns("datetime=ArrestDate,time=ArrestTime")
    )
    assert gdf2["datetime"].equals(gdf["datetime"])


@pytest.mark.parametrize(
    "value", ["9999-12-31", "2262-04-12", "1066-10-14", "0001-01-01", "31.12.9999"]
)
def test_out_of_range_dates_reject_one_row(tmp_path, value):
    rows = ["1,43.2,76.9,2020-01-01,X", f"2,43.3,76.9,{value},X"]
    gdf, report = _one_layer(tmp_path, rows)
    assert len(gdf) == 1
    assert report.rejected.to_dict("records") == [
        {
            "file": "t.csv",
            "row": 2,
            "column": "date",
            "reason": "implausible_datetime",
            "value": value,
        }
    ]


def test_year_only_values_are_spans_for_the_window(tmp_path):
    rows = [
        "1,43.2,76.9,2019,X",
        "2,43.3,76.9,2020,X",
        "3,43.4,76.9,2021,X",
        "4,43.5,76.9,2021-05,X",
        "5,43.6,76.9,2021-06-01,X",
        "6,43.7,76.9,2021-05-31 10:00,X",
    ]
    gdf, report = _one_layer(tmp_path, rows, since="2020-06-01", until="2021-06-01 18:00")
    # 2019 ends before `since`; 2021 and the plan day may lie after the shift start
    assert gdf["incident_id"].tolist() == ["2", "4", "6"]
    assert report.reasons() == {"outside_window": 3}
    assert gdf["span_end"].tolist() == [
        pd.Timestamp("2021-01-01"),
        pd.Timestamp("2021-06-01"),
        pd.Timestamp("2021-05-31 10:00"),
    ]
    assert gdf["hour"].isna().tolist() == [True, True, False]
    assert gdf["weekday"].isna().tolist() == [True, True, False]
    # a year of history before a plan date keeps year-only rows of earlier years
    gdf, _ = _one_layer(tmp_path, rows[:3], since="2021-01-01", until="2022-06-01")
    assert gdf["incident_id"].tolist() == ["3"]


def test_date_only_rows_have_no_hour(tmp_path):
    gdf, _ = _one_layer(tmp_path, ["1,43.2,76.9,2021-05-31,X", "2,43.3,76.9,2021-05-31 00:00,X"])
    assert gdf["hour"].isna().tolist() == [True, False]
    assert gdf["weekday"].tolist() == [0, 0]


def test_midnight_share_is_noted(tmp_path):
    rows = [f"{i},43.2,76.{i:03d},2021-05-{1 + i % 28:02d} 00:00:00,X" for i in range(30)]
    _, report = _one_layer(tmp_path, rows)
    assert any("exactly 00:00" in n for n in report.notes)


# ------------------------------------------------------------------------- encodings, sizes


def test_mixed_utf8_and_cp1251_lines(tmp_path):
    path = tmp_path / "mix.csv"
    path.write_bytes(
        "lat;lon;date;статья\n".encode()
        + "43,2;76,9;01.03.2024 22:15;ТЯЖКОЕ\n".encode("cp1251")
        + "43,3;76,9;02.03.2024 22:15;ТЯЖКОЕ\n".encode()
    )
    gdf, report = ingest.read_incidents(path)
    assert gdf["category"].tolist() == ["ТЯЖКОЕ", "ТЯЖКОЕ"]
    assert gdf["severity"].tolist() == [4.0, 4.0]
    assert any("mixes encodings" in n for n in report.notes)


def test_utf16_excel_unicode_text(tmp_path):
    path = tmp_path / "excel.txt"
    rows = [["Широта", "Долгота", "Дата", "Статья"], ["43,2", "76,9", "01.03.2024 10:00", "ТЯЖКОЕ"]]
    text = "".join("\t".join(r) + "\r\n" for r in rows)
    path.write_bytes(text.encode("utf-16"))  # with BOM, as Excel writes it
    gdf, report = ingest.read_incidents(path)
    assert report.columns["lat"] == "Широта"
    assert gdf["severity"].tolist() == [4.0]
    assert gdf["datetime"].iloc[0] == pd.Timestamp("2024-03-01 10:00")


def test_huge_field_on_a_ragged_row_rejects_that_row(tmp_path):
    path = write(
        tmp_path / "huge.csv",
        HEADER + "1,43.2,76.9,2020-01-01,X\n"
        f"2,43.2,76.9,2020-01-01,{'A' * 1_000_000},EXTRA\n3,43.3,76.8,2020-01-02,Y\n",
    )
    gdf, report = ingest.read_incidents(path)
    assert gdf["incident_id"].tolist() == ["1", "3"]
    assert report.reasons() == {"malformed_row": 1}
    assert "1000000 characters" in report.rejected["value"].iloc[0]


# ------------------------------------------------------------------------- reports, warnings


def test_rejected_rows_name_the_file_and_keep_the_raw_cell(tmp_path):
    path = write(tmp_path / "far.csv", HEADER + "1,39.29,-76.59,2016-06-01,X\n2,39.2,-76.9,x,X\n")
    path2 = write(
        tmp_path / "far2.csv", HEADER + "1,39.29,-76.59,2016-06-01,X\n2,39.20,-76.90,2016-06-01,X\n"
    )
    _, report = ingest.read_incidents(path2, area=BALTIMORE_BOX)
    row = report.rejected.iloc[0]
    assert (row["file"], row["column"], row["reason"]) == ("far2.csv", "lat/lon", "outside_area")
    assert row["value"] == "39.20,-76.90"  # as written, not converted
    assert report.file == str(path2)
    _, report = ingest.read_incidents(path)
    assert report.rejected["value"].tolist() == ["x"]


def test_same_file_for_two_layers_is_refused(tmp_path):
    copy = copy_data("oakland/oakland_crimes_2012-2013.csv", tmp_path)
    with pytest.raises(InputDataError, match="given for layers crime and accident"):
        ingest.read_layers({"crime": copy, "accident": DATA / "oakland" / copy.name})


def test_severity_table_matching_nothing_is_logged(tmp_path, caplog):
    path = write(tmp_path / "s.csv", HEADER + "1,43.2,76.9,2020-01-01,Theft\n")
    with caplog.at_level("WARNING", logger="patrolplan"):
        _, report = ingest.read_incidents(path, severity={"ТЯЖКОЕ": 4})
    assert "no category matches the crime severity table" in caplog.text
    assert "'THEFT'" in caplog.text
    assert any("categories seen" in n for n in report.notes)


def test_swapped_lat_lon_on_a_city_wide_file(tmp_path):
    # the Baltimore crimes with their axes swapped: a quarter of the points lie in the box
    raw = pd.read_csv(datasets.baltimore_crimes(), dtype=str)
    path = tmp_path / "swapped.csv"
    raw.rename(columns={"latitude": "longitude", "longitude": "latitude"}).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="swapped"):
        _, report = ingest.read_incidents(path, area=BALTIMORE_BOX)
    assert report.rows_kept == 597


def test_reader_warnings_are_logged_in_one_line(caplog):
    import warnings

    from patrolplan import _validate

    with caplog.at_level("WARNING", logger="patrolplan"), _validate.warnings_to_log("f.csv"):
        warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=1)
        warnings.warn("invalid value encountered in divide", RuntimeWarning, stacklevel=1)
    assert caplog.text.count("f.csv: RuntimeWarning: invalid value encountered") == 1
    with pytest.raises(DeprecationWarning), _validate.warnings_to_log("f.csv"):
        warnings.warn("old", DeprecationWarning, stacklevel=1)


def test_a_bug_in_a_reader_is_not_turned_into_bad_input(tmp_path, monkeypatch):
    path = write(tmp_path / "x.csv", HEADER + "1,43.2,76.9,2020-01-01,X\n")

    def broken(*_args, **_kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(ingest, "_read_csv", broken)
    with pytest.raises(KeyError):
        ingest.read_incidents(path)


# ------------------------------------------------------------------------- broken-file corpus


def _broken(tmp_path, kind):
    """Build one broken file of `kind` in tmp_path and return its path."""
    if kind == "empty":
        return write(tmp_path / "empty.csv", "")
    if kind == "blank":
        return write(tmp_path / "blank.csv", " \n\n \n")
    if kind == "bom_only":
        return write(tmp_path / "bom.csv", "", encoding="utf-8-sig")
    if kind == "binary":
        path = tmp_path / "image.csv"
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
        return path
    if kind == "gzip":
        path = tmp_path / "packed.csv"
        path.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(1, 200)))
        return path
    if kind == "utf16_header_only":
        path = tmp_path / "u16.txt"
        path.write_bytes("lat\tlon\tdate\r\n".encode("utf-16"))
        return path
    if kind == "utf16_odd_bytes":
        path = tmp_path / "u16odd.csv"
        path.write_bytes("lat,lon\n43.2,76.9\n".encode("utf-16") + b"\x00")
        return path
    if kind == "huge_field_only":
        return write(tmp_path / "huge.csv", HEADER + f"1,43.2,76.9,2020-01-01,{'A' * 10**6},X\n")
    if kind == "polygons":
        path = tmp_path / "poly.geojson"
        gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)], crs="EPSG:4326").to_file(path)
        return path
    if kind == "invalid_json":
        return write(tmp_path / "bad.geojson", '{"type": "FeatureCollection", "features": [')
    if kind == "not_json":
        return write(tmp_path / "text.geojson", "lat,lon\n1,2\n")
    if kind == "truncated_zip":
        shp_dir = tmp_path / "shp"
        shp_dir.mkdir()
        _points().rename(columns={"incident_id": "id", "datetime": "date"}).to_file(
            shp_dir / "pts.shp"
        )
        zpath = tmp_path / "pts.zip"
        with zipfile.ZipFile(zpath, "w") as zf:
            for f in shp_dir.iterdir():
                zf.write(f, f.name)
        zpath.write_bytes(zpath.read_bytes()[:300])
        return zpath
    if kind == "truncated_parquet":
        path = tmp_path / "p.parquet"
        _points().to_parquet(path)
        path.write_bytes(path.read_bytes()[:200])
        return path
    if kind == "truncated_gpkg":
        path = tmp_path / "p.gpkg"
        _points().to_file(path)
        path.write_bytes(path.read_bytes()[:5000])
        return path
    if kind == "empty_parquet":
        path = tmp_path / "e.parquet"
        path.write_bytes(b"")
        return path
    if kind == "folder":
        path = tmp_path / "folder.csv"
        path.mkdir()
        return path
    msg = kind
    raise AssertionError(msg)


@pytest.mark.parametrize(
    "kind",
    [
        "empty",
        "blank",
        "bom_only",
        "binary",
        "gzip",
        "utf16_header_only",
        "utf16_odd_bytes",
        "huge_field_only",
        "polygons",
        "invalid_json",
        "not_json",
        "truncated_zip",
        "truncated_parquet",
        "truncated_gpkg",
        "empty_parquet",
        "folder",
    ],
)
def test_broken_files_end_in_one_clear_line(tmp_path, kind):
    path = _broken(tmp_path, kind)
    with pytest.raises(InputDataError) as info:
        ingest.read_incidents(path)
    message = str(info.value)
    assert path.name in message
    assert "\n" not in message
    assert "Traceback" not in message


def test_baltimore_arrests_preset_weighs_the_bpd_offence_codes(caplog):
    # 2,649 real arrests: 'Unknown Offense' and BPD codes written before the offence's name
    path = DATA / "baltimore" / "baltimore_arrests_2017_extract.csv"
    gdf, report = ingest.read_incidents(path, preset="baltimore_arrests")
    assert report.notes == ()
    assert "no category matches" not in caplog.text
    coded = gdf[gdf["category"] != "UNKNOWN OFFENSE"]
    weights = coded.drop_duplicates("category").set_index("category")["severity"]
    assert weights["4ECOMMON ASSAULT"] == weights["4AAGG. ASSLT.- GUN"] == 4.0
    assert weights["87NARCOTICS"] == 2.0
    assert weights["54ARMED PERSON"] == 3.0
    assert weights["6CLARCENY- SHOPLIFTING"] == 1.0
    assert weights["1AMURDER"] == 10.0
    # most coded arrests fall in a named class, not OTHER (weight 1 like an unknown offence)
    classes = ingest.presets.bpd_offense_class(coded["category"])
    assert (classes != "OTHER").mean() > 0.8
    assert (classes != "").all()
    assert (gdf.loc[gdf["category"] == "UNKNOWN OFFENSE", "severity"] == 1.0).all()
