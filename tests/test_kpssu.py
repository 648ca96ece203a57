"""КПСиСУ layers: the real Astana accident export, and crime/juvenile files built to SCHEMA.md."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from patrolplan import backtest, hotspots, ingest, presets
from patrolplan._errors import InputDataError

# the shared real data lives next to the repository (../shared/data/kz), never inside it; a
# worktree one level deeper finds it the same way
ROOT = Path(__file__).resolve().parents[1]
KZ = next(
    (p / "shared" / "data" / "kz" for p in ROOT.parents if (p / "shared" / "data" / "kz").is_dir()),
    ROOT.parent / "shared" / "data" / "kz",
)
RTA = KZ / "astana_rta_kgp_2011-2026.parquet"
CODES = KZ / "pravstat_code_lists.csv"

needs_rta = pytest.mark.skipif(not RTA.is_file(), reason="shared КПСиСУ data not found")


@pytest.fixture(scope="module")
def rta_raw() -> pd.DataFrame:
    if not RTA.is_file():
        pytest.skip("shared КПСиСУ data not found")
    return pd.read_parquet(RTA)


@pytest.fixture(scope="module")
def rta(rta_raw):
    return ingest.read_incidents(RTA, layer="accident", preset="kpssu_rta")


def expected_rta_time(ms: int, clock: str) -> dt.datetime:
    """The documented rule, computed on its own: local midnight at UTC+6, plus HH:MM."""
    utc = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=int(ms))
    day = (utc + dt.timedelta(hours=6)).date()
    hh, mm = clock.strip().split(":")
    return dt.datetime(day.year, day.month, day.day, int(hh), int(mm))


@needs_rta
def test_real_astana_accidents_are_read_with_the_documented_times(rta_raw, rta):
    gdf, report = rta
    assert report.rows_read == 13_663
    assert report.rows_kept >= 0.99 * report.rows_read
    assert report.rejected["reason"].ne("").all()
    assert len(report.rejected) == report.rows_read - report.rows_kept
    # every row: the date of rta_date read at UTC+6 and the time of fd1r05p1
    raw = rta_raw.set_index(rta_raw["objectid"].astype(str))
    got = gdf.set_index("incident_id")
    want = [expected_rta_time(raw.at[i, "rta_date"], raw.at[i, "fd1r05p1"]) for i in got.index]
    assert (got["datetime"] == pd.Series(pd.to_datetime(want), index=got.index)).all()
    assert (got["time_precision"] == "datetime").all()
    # the first rows of the file, and yr/period agree with the dates (0 mismatches documented)
    assert list(gdf["datetime"][:2]) == [
        pd.Timestamp("2013-03-06 17:00"),
        pd.Timestamp("2013-03-06 19:40"),
    ]
    assert (got["datetime"].dt.year == raw.loc[got.index, "yr"]).all()
    assert (got["datetime"].dt.month == raw.loc[got.index, "period"]).all()
    # no date after Kazakhstan's 2024 change to UTC+5 falls a day early
    late = got["datetime"] >= "2024-03-01"
    assert late.sum() > 100
    assert (
        got.loc[late, "datetime"].dt.normalize() == got.loc[late, "datetime"].dt.floor("D")
    ).all()


@needs_rta
def test_real_accident_severity_follows_casualties_and_pedestrians(rta_raw, rta):
    gdf, _ = rta
    raw = rta_raw.set_index(rta_raw["objectid"].astype(str)).loc[gdf["incident_id"]]
    killed = raw["fd1r13p2"].fillna(0).to_numpy() > 0
    injured = raw["fd1r13p1"].fillna(0).to_numpy() > 0
    ped = (
        raw["fd1r14p1"].fillna("").str.contains("пешеход")
        | raw["fd1r09p1"].fillna("").str.contains("пешеход")
    ).to_numpy()
    sev = gdf["severity"].to_numpy()
    assert (sev[killed & ped] == 12).all()
    assert (sev[killed & ~ped] == 10).all()
    assert (sev[~killed & injured & ped] == 5).all()
    assert (sev[~killed & injured & ~ped] == 3).all()
    assert killed.sum() == 697
    assert set(gdf.loc[killed & ped, "category"]) == {"Наезд на пешехода, погибшие"}
    assert (gdf["killed"].astype(int).to_numpy() == raw["fd1r13p2"].fillna(0).to_numpy()).all()
    # a foot patrol's weight: a pedestrian hit weighs more than a crash between vehicles
    assert sev[injured & ped & ~killed].mean() > sev[injured & ~ped & ~killed].mean()


@needs_rta
def test_real_accident_coordinates_are_in_astana(rta):
    gdf, report = rta
    assert report.crs == "EPSG:3857"
    x0, y0, x1, y1 = gdf.total_bounds
    assert x0 > 71.0
    assert x1 < 72.0
    assert y0 > 50.7
    assert y1 < 51.5
    centre = gdf.cx[71.40:71.44, 51.16:51.18]
    assert 1_500 < len(centre) < 1_900


@needs_rta
def test_hotspots_on_the_real_accidents_of_the_centre(rta):
    gdf, _ = rta
    centre = gdf.cx[71.40:71.44, 51.16:51.18].reset_index(drop=True)
    # accidents are sparse: a year's half-life (the default suits daily crime)
    w = hotspots.incident_weights(
        centre, at="2026-07-01", half_life_days=365, shift_start_hour=16, shift_length_h=8
    )
    hs, labels = hotspots.find_hotspots(centre, w)
    assert len(hs) >= 10
    assert hs["size_m"].max() <= 150
    assert (labels >= 0).sum() >= 50
    # ranked by risk, and the riskiest one holds more weight than a random hotspot
    assert hs["risk"].is_monotonic_decreasing
    inside = labels == hs.loc[0, "cluster"]
    assert w[inside].sum() > w[labels >= 0].sum() / len(hs)


@needs_rta
def test_backtest_runs_on_the_real_accidents(rta):
    gdf, _ = rta
    centre = gdf.cx[71.38:71.46, 51.14:51.20]
    recent = centre[centre["datetime"] >= "2023-01-01"]
    res = backtest.run(
        recent,
        train_days=365,
        test_days=90,
        cell_m=200,
        methods={k: backtest.AREA_METHODS[k] for k in ("prior_counts",)},
    )
    assert res["window"].nunique() >= 3
    assert res["n_test"].max() > 20
    table = backtest.summary(res).set_index(["unit", "fraction", "method"])
    assert (
        table.loc[("area", 0.1, "prior_counts"), "hit_rate"]
        > table.loc[("area", 0.1, "random"), "hit_rate"]
    )


# ----------------------------------------------------------------------------------------------
# crime and juvenile layers, built to SCHEMA.md §5 (the real Taraz example row first)


def utm42(lon: float, lat: float) -> tuple[float, float]:
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32642, always_xy=True).transform(lon, lat)
    return float(x), float(y)


def ms(text: str) -> int:
    """Epoch ms of a local wall-clock time written as if UTC (the crime layer's rule)."""
    return int(pd.Timestamp(text).value // 1_000_000)


CRIME_ROWS = [
    # OBJECTID, DAT_SOVER, DAT_SOVER_STR, CRIME_CODE, STAT, HARD_CODE, TRANSGRESSION,
    # TIME_PERIOD, discontinued, (x, y) in EPSG:32642
    (
        8900933,
        1581193800000,
        "08.02.2020 20:30",
        "1880",
        "ст.188 ч.3",
        "3",
        "5",
        3,
        0,
        (687592.9564, 4743963.6819),
    ),
    (
        8900934,
        ms("2020-02-09"),
        "09.02.2020",
        "1910",
        "ст.191 ч.1",
        "2",
        "5",
        2,
        0,
        utm42(71.43, 51.17),
    ),
    (
        8900935,
        ms("2020-02-09"),
        "09.02.2020 00:00",
        "0990",
        "ст.99 ч.1",
        "4",
        "5",
        1,
        0,
        utm42(71.42, 51.16),
    ),
    (
        8900936,
        ms("2020-02-10 14:05"),
        "10.02.2020 14:05",
        "1923",
        "ст.192 ч.3",
        "4",
        "5",
        2,
        0,
        utm42(71.41, 51.18),
    ),
    (
        8900937,
        ms("2020-02-10 09:15"),
        "10.02.2020 09:15",
        "2930",
        "ст.293 ч.1",
        "1",
        "6",
        2,
        0,
        utm42(71.44, 51.17),
    ),
    (
        8900938,
        ms("2020-02-11 18:00"),
        "11.02.2020 18:00",
        "1880",
        "ст.188 ч.2",
        "2",
        "5",
        3,
        1,
        utm42(71.42, 51.17),
    ),
    (
        8900939,
        ms("2014-06-01 12:00"),
        "01.06.2014 12:00",
        "1750",
        "ст.175 ч.1",
        "2",
        "5",
        2,
        0,
        utm42(71.43, 51.18),
    ),
]


def crime_attributes(upper: bool) -> list[dict[str, object]]:
    out = []
    for oid, when, text, code, stat, hard, kind, period, gone, _xy in CRIME_ROWS:
        row: dict[str, object] = {
            "OBJECTID": oid,
            "YR": int(text[6:10]),
            "CRIME_CODE": code,
            "TIME_PERIOD": period,
            "HARD_CODE": hard,
            "UD": "203112030001555",
            "DAT_SOVER": when,
            "STAT": stat,
            "DAT_SOVER_STR": text,
            "REG_CODE": "197111",
            "CITY_CODE": "1971",
            "FZ1R18P5": "ВИШНЕВАЯ",
            "TRANSGRESSION": kind,
            "FE1R29P1_ID": "039",
        }
        if upper:
            if gone:
                continue  # the old server has no discontinued field
        else:
            row = {k.lower(): v for k, v in row.items()}
            row["discontinued"] = gone
        out.append(row)
    return out


def write_esri(path: Path, upper: bool) -> Path:
    feats = [
        {"attributes": a, "geometry": {"x": r[-1][0], "y": r[-1][1]}}
        for a, r in zip(
            crime_attributes(upper), [r for r in CRIME_ROWS if not (upper and r[8])], strict=True
        )
    ]
    doc = {
        "displayFieldName": "CRIME_CODE",
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 32642, "latestWkid": 32642},
        "features": feats,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def write_geojson(path: Path) -> Path:
    from pyproj import Transformer

    to4326 = Transformer.from_crs(32642, 4326, always_xy=True)
    feats = []
    for a, r in zip(crime_attributes(False), CRIME_ROWS, strict=True):
        lon, lat = to4326.transform(*r[-1])
        feats.append(
            {
                "type": "Feature",
                "properties": a,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        )
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("layer", ["crime", "juvenile"])
def test_old_server_crime_file_in_esri_json(tmp_path, layer):
    path = write_esri(tmp_path / "stat_5.json", upper=True)
    gdf, report = ingest.read_incidents(path, layer=layer, preset=f"kpssu_{layer}")
    assert report.rows_kept == report.rows_read == 6
    assert report.crs == "EPSG:32642"
    one = gdf.set_index("incident_id")
    # the real Taraz example: wall clock written as UTC, no shift
    taraz = one.loc["8900933"]
    assert taraz["datetime"] == pd.Timestamp("2020-02-08 20:30")
    assert taraz["time_precision"] == "datetime"
    assert taraz["hour"] == 20
    assert taraz["category"] == "ст.188 Кража"
    assert taraz["crime_code"] == "1880"
    assert taraz["severity"] == 4.0  # HARD_CODE 3 тяжкие
    assert abs(taraz.geometry.x - 71.37) < 0.15
    assert abs(taraz.geometry.y - 42.9) < 0.15
    # no time of day, TIME_PERIOD 2: an 8-hour span from 08:00
    band = one.loc["8900934"]
    assert band["time_precision"] == "period"
    assert band["datetime"] == pd.Timestamp("2020-02-09 08:00")
    assert band["span_end"] == pd.Timestamp("2020-02-09 16:00")
    assert pd.isna(band["hour"])
    assert band["weekday"] == 6
    # 00:00 written in DAT_SOVER_STR is a time of day, not a missing one
    assert one.loc["8900935", "time_precision"] == "datetime"
    assert one.loc["8900935", "category"] == "ст.99 Убийство"
    assert one.loc["8900935", "severity"] == 8.0
    assert one.loc["8900936", "category"] == "ст.192-3"
    # a misdemeanour weighs less than the lightest crime
    assert one.loc["8900937", "transgression"] == "6"
    assert one.loc["8900937", "severity"] == 0.5
    # before 2015 the codes are the 1997 Code's: the article without a 2014 name
    assert one.loc["8900939", "category"] == "ст.175"


def test_current_server_geojson_rejects_discontinued_rows(tmp_path):
    path = write_geojson(tmp_path / "crime_1.geojson")
    gdf, report = ingest.read_incidents(path, preset="kpssu_crime")
    assert report.rows_read == 7
    assert report.rows_kept == 6
    rej = report.rejected
    assert list(rej["reason"]) == ["discontinued"]
    assert list(rej["column"]) == ["discontinued"]
    assert list(rej["row"]) == [6]
    assert rej.loc[0, "file"] == "crime_1.geojson"
    # the same incidents as from the old server's Esri JSON
    old, _ = ingest.read_incidents(
        write_esri(tmp_path / "old.json", upper=True), preset="kpssu_crime"
    )
    cols = ["incident_id", "category", "severity", "datetime", "span_end", "time_precision"]
    pd.testing.assert_frame_equal(gdf[cols], old[cols])
    assert np.allclose(gdf.geometry.x, old.geometry.x)
    assert np.allclose(gdf.geometry.y, old.geometry.y)


def test_a_period_span_is_never_used_before_it_ends(tmp_path):
    path = write_esri(tmp_path / "stat_5.json", upper=True)
    _, early = ingest.read_incidents(path, preset="kpssu_crime", until="2020-02-09 12:00")
    assert 2 in set(early.rejected.loc[early.rejected["reason"] == "outside_window", "row"])
    kept, _ = ingest.read_incidents(path, preset="kpssu_crime", until="2020-02-09 16:00")
    assert "8900934" in set(kept["incident_id"])


def test_explicit_arguments_win_over_the_preset(tmp_path):
    path = write_esri(tmp_path / "stat_5.json", upper=True)
    gdf, report = ingest.read_incidents(
        path, preset="kpssu_crime", columns={"category": "STAT"}, severity={"ТЯЖКИЕ": 7}
    )
    assert report.columns["category"] == "STAT"
    assert set(gdf.loc[gdf["incident_id"] == "8900933", "severity"]) == {7.0}
    assert gdf.loc[gdf["incident_id"] == "8900933", "category"].item() == "ст.188 ч.3"


def test_unknown_preset_lists_the_known_ones(tmp_path):
    path = write_esri(tmp_path / "stat_5.json", upper=True)
    with pytest.raises(InputDataError, match="kpssu_crime, kpssu_juvenile, kpssu_rta"):
        ingest.read_incidents(path, preset="kpssu")


def test_read_layers_takes_one_preset_per_layer(tmp_path):
    crime = write_esri(tmp_path / "crime.json", upper=True)
    juvenile = write_geojson(tmp_path / "juvenile.geojson")
    gdf, reports = ingest.read_layers(
        {"crime": crime, "juvenile": juvenile},
        preset={"crime": "kpssu_crime", "juvenile": "kpssu_juvenile"},
    )
    assert [r.layer for r in reports] == ["crime", "juvenile"]
    assert set(gdf["layer"]) == {"crime", "juvenile"}
    assert "juvenile:8900933" in set(gdf["incident_id"])
    assert ingest.rejected_rows(reports)["reason"].tolist() == ["discontinued"]


def test_built_in_article_names_match_the_official_code_list():
    if not CODES.is_file():
        pytest.skip("shared КПСиСУ code list not found")
    official = presets.load_code_list(CODES)
    assert len(official) == 370
    for code, name in presets.CRIME_ARTICLES.items():
        assert official[code] == name[: len(official[code])], code
    # a full list plugs into the hook
    hook = presets.make_kpssu_crime_prepare(official)
    frame = pd.DataFrame({"CRIME_CODE": ["2970"], "DAT_SOVER": ["1581193800000"]}, index=[1])
    out, rejected = hook(frame)
    assert out.loc[1, "category_label"].startswith("ст.297 Незаконные изготовление")
    assert rejected.empty


def test_kazakh_district_example_names_known_presets_and_valid_plan_values():
    import tomllib

    from patrolplan.options import PlanOptions

    doc = tomllib.loads((ROOT / "data" / "kz_district_example.toml").read_text(encoding="utf-8"))
    layers = doc["layers"]
    assert set(layers) == set(ingest.LAYERS)
    assert {k: v["preset"] for k, v in layers.items()} == {
        "crime": "kpssu_crime",
        "accident": "kpssu_rta",
        "juvenile": "kpssu_juvenile",
    }
    for spec in layers.values():
        presets.get(spec["preset"])
    opts = PlanOptions.from_mapping(doc["plan"], source="kz_district_example.toml")
    assert (opts.tz, opts.lang) == ("Asia/Almaty", "ru")
    # the posts are in Astana's old centre
    for lat, lon in doc["district"]["posts"]:
        assert 51.16 <= lat <= 51.18
        assert 71.40 <= lon <= 71.44
