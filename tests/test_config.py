"""District TOML files and presets."""

from __future__ import annotations

import re

import pytest

from patrolplan import InputDataError, config, datasets, ingest

from .conftest import DATA, write


def test_demo_config_drives_a_plan(tmp_path):
    from typer.testing import CliRunner

    from patrolplan.cli import app

    result = CliRunner().invoke(
        app,
        [
            "plan",
            "--config",
            str(datasets.data_dir() / "baltimore.toml"),
            "--date",
            "2016-06-19",
            "--officers",
            "2",
            "--out",
            str(tmp_path / "p"),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = (tmp_path / "p" / "summary.csv").read_text().splitlines()
    assert len(summary) == 4  # two officers from the option, not three from the file


def test_layers_presets_and_overrides(tmp_path):
    cfg_path = write(
        tmp_path / "d.toml",
        f"""
[district]
osm = "{DATA / "oakland" / "West-Oakland.osm.bz2"}"
posts = [[37.8076, -122.3003]]

[layers.crime]
file = "{DATA / "oakland" / "oakland_crimes_2012-2013.csv"}"
preset = "oakland"
severity = {{ "ROBBERY-FIREARM" = 9 }}

[layers.juvenile]
file = "{DATA / "cardiff" / "cardiff_juvenile_offender_residences.csv"}"
preset = "cardiff_juvenile"
weight = 0.5

[plan]
officers = 2
revisit = "1h-2h"
max_visits = 3
""",
    )
    cfg = config.load_config(cfg_path)
    # presets are named per layer and applied by ingest; the file's own values are kept apart
    assert cfg.presets == {"crime": "oakland", "juvenile": "cardiff_juvenile"}
    assert cfg.columns == {}
    assert cfg.crs == {}
    assert cfg.severity["crime"] == {"ROBBERY-FIREARM": 9}
    assert cfg.layer_weights == {"juvenile": 0.5}
    assert cfg.plan["officers"] == 2
    assert (cfg.plan["revisit"], cfg.plan["max_visits"]) == ("1h-2h", 3)
    # the per-layer settings reach ingest
    with pytest.raises(InputDataError, match="juvenile has local grid coordinates"):
        ingest.read_layers(cfg.incidents, preset=cfg.presets, severity=cfg.severity)
    _, (juv,) = ingest.read_layers(
        {"juvenile": cfg.incidents["juvenile"]}, preset=cfg.presets, severity=cfg.severity
    )
    assert juv.rows_kept == 168
    crime, _ = ingest.read_layers(
        {"crime": cfg.incidents["crime"]}, preset=cfg.presets, severity=cfg.severity
    )
    assert set(crime.loc[crime["category"] == "ROBBERY-FIREARM", "severity"]) == {9.0}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[district\n", "not valid TOML"),
        ("[weather]\n", "unknown sections"),
        ("[layers.drones]\nfile = 'x.csv'\n", "unknown layer"),
        ("[layers.crime]\npreset = 'baltimore'\n", "needs a `file`"),
        ("[layers.crime]\nfile = 'x.csv'\npreset = 'atlantis'\n", "unknown preset"),
        ("[layers.crime]\nfile = 'x.csv'\ncolour = 'red'\n", "unknown keys"),
        ("[plan]\nofficer = 3\n", "unknown options"),
        ("[district]\nposts = [1, 2]\n", "pairs"),
        ("[district]\nosm = 5\n", "`osm` must be a file path text, got 5"),
        ('[plan]\nofficers = "3"\n', "`officers` must be a whole number, got '3'"),
        ("[plan]\nofficers = 0\n", "`officers` must be at least 1"),
        ("[plan]\nspeed_kmh = -4.5\n", "`speed_kmh` must be at least 0.5"),
        ("[plan]\ndwell_min = -3\n", "`dwell_min` must be at least 0"),
        ("[plan]\nstart = 18:00:00\nshift = 1\n", None),
        ("[plan]\ndate = 2016-06-19\n", None),
        ("[plan]\nstart = 1979-05-27T07:32:00\n", "`start` must be a time of day"),
        ("[layers.crime]\nfile = 'x.csv'\nweight = \"heavy\"\n", "`weight` must be a number"),
        ("[layers.crime]\nfile = 'x.csv'\ncolumns = \"lat=Y\"\n", "`columns` must be a table"),
    ],
)
def test_bad_config(tmp_path, text, match):
    path = write(tmp_path / "bad.toml", text)
    if match is None:  # TOML's own dates and times are accepted
        assert config.load_config(path).plan
        return
    with pytest.raises(InputDataError, match=re.escape(match) if "`" in match else match):
        config.load_config(path)
    with pytest.raises(InputDataError, match="not found"):
        config.load_config(tmp_path / "missing.toml")


def test_police_uk_month_precision(tmp_path):
    path = write(
        tmp_path / "uk.csv",
        "Crime ID,Month,Reported by,Longitude,Latitude,Crime type\n"
        "abc,2023-01,Met,-0.1276,51.5072,Burglary\n,2023-02,Met,-0.128,51.508,Robbery\n",
    )
    gdf, report = ingest.read_incidents(path, preset="police_uk")
    assert report.rows_kept == 2
    assert list(gdf["time_precision"]) == ["month", "month"]
    assert str(gdf["datetime"].iloc[1].date()) == "2023-02-01"


def test_baltimore_arrests_preset_reads_us_dates_and_a_time_column(tmp_path):
    head = DATA / "baltimore" / "baltimore_arrests_2017_head300.csv"
    cfg_path = write(
        tmp_path / "arrests.toml",
        f'[layers.crime]\nfile = "{head}"\npreset = "baltimore_arrests"\n'
        '[plan]\ntz = "America/New_York"\n',
    )
    cfg = config.load_config(cfg_path)
    # the preset (month-first dates, the ArrestTime column) is applied when the file is read
    assert cfg.presets == {"crime": "baltimore_arrests"}
    gdf, (report,) = ingest.read_layers(cfg.incidents, preset=cfg.presets, tz=cfg.plan["tz"])
    assert report.rows_kept > 100
    # US month-first dates (the file's head is late December 2017) and times of day from the
    # separate column
    assert (gdf["datetime"].dt.month == 12).all()
    assert (gdf["datetime"].dt.year == 2017).all()
    assert gdf["hour"].notna().all()
    assert gdf["hour"].nunique() > 10


def test_dayfirst_must_be_a_boolean(tmp_path):
    path = write(tmp_path / "d.toml", "[layers.crime]\nfile = 'x.csv'\ndayfirst = 'yes'\n")
    with pytest.raises(InputDataError, match="`dayfirst` must be true or false"):
        config.load_config(path)
