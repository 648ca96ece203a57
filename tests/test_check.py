"""``patrolplan check``: what a plan would read, on the demo district and on broken copies."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from patrolplan import datasets
from patrolplan.check import check
from patrolplan.cli import app
from patrolplan.request import PlanRequest

DATA = datasets.data_dir()


def district(tmp_path: Path, *, posts: str, crimes: Path | None = None) -> Path:
    """A copy of the demo district file with absolute paths and the given posts."""
    text = (DATA / "baltimore.toml").read_text(encoding="utf-8")
    osm = (DATA / "baltimore" / "baltimore_walk.osm.bz2").as_posix()
    crime = (crimes or DATA / "baltimore" / "baltimore_crimes_2016-06.csv").as_posix()
    text = text.replace('"baltimore/baltimore_walk.osm.bz2"', f'"{osm}"')
    text = text.replace('"baltimore/baltimore_crimes_2016-06.csv"', f'"{crime}"')
    text = text.replace("posts = [[39.2826, -76.5932], [39.2905, -76.5790]]", f"posts = {posts}")
    path = tmp_path / "district.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(app, ["check", *args, "--date", "2016-06-19"])


def test_check_reports_the_demo_district_and_passes():
    result = run("--config", str(DATA / "baltimore.toml"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "baltimore_crimes_2016-06.csv [crime]: 2,399 rows read, 538 kept" in out
    assert "lat = latitude, lon = longitude, datetime = datetime" in out
    assert "CRS EPSG:4326" in out
    # the README's pitfalls: rows outside the extract and without coordinates
    assert "rejected: outside_area 1,846, missing_coordinates 15" in out
    assert "dates 2016-06-01T00:07:00 to 2016-06-18T21:35:00" in out
    assert "time precision: datetime 538" in out
    assert "named streets, 7,923 segments" in out
    assert "post 1 39.2826,-76.5932: 3 m from" in out
    assert "post 2 39.2905,-76.579: 19 m from" in out
    assert out.rstrip().endswith("Ready to plan.")


def test_check_suggests_swapped_coordinates_and_fails(tmp_path):
    path = district(tmp_path, posts="[[-76.5932, 39.2826], [39.2905, -76.5790]]")
    result = run("--config", str(path))
    assert result.exit_code == 1
    out = result.output
    assert "post 1 -76.5932,39.2826:" in out
    assert "did you mean 39.2826,-76.5932? (3 m from a street)" in out
    assert "The plan would fail:" in out
    assert "post -76.5932,39.2826 is " in out
    # the other post is fine and says so, with no hint
    line = next(x for x in out.splitlines() if x.startswith("post 2 "))
    assert "did you mean" not in line


def test_check_reports_a_broken_incident_file_and_still_the_extract(tmp_path):
    bad = tmp_path / "crimes.csv"
    bad.write_text("when,what\n2016-06-01 10:00,THEFT\n", encoding="utf-8")
    path = district(tmp_path, posts="[[39.2826, -76.5932]]", crimes=bad)
    result = run("--config", str(path))
    assert result.exit_code == 1
    assert "crimes.csv" in result.output
    assert "The plan would fail:" in result.output
    # the extract and the post are still checked
    assert "7,923 segments" in result.output
    assert "post 1 39.2826,-76.5932: 3 m" in result.output


def test_check_in_python_matches_the_plan_s_reading():
    report = check(PlanRequest.from_file(DATA / "baltimore.toml", date="2016-06-19"))
    assert report.ok
    (layer,) = report.layers
    assert layer.rows_kept == 538
    assert layer.rows_read - sum(layer.rejected.values()) == layer.rows_kept
    assert report.extract is not None
    assert report.extract.area_km2 == pytest.approx(43.1, abs=0.5)
    assert [p.swapped_dist_m for p in report.points] == [None, None]


def test_check_names_missing_inputs(tmp_path):
    result = CliRunner().invoke(
        app, ["check", "--osm", str(DATA / "baltimore" / "baltimore_walk.osm.bz2")]
    )
    assert result.exit_code == 1
    assert "missing --incidents, --post" in result.output


def test_a_note_is_printed_once():
    # Oakland's categories match no crime severity table: a note, once, not also a log line
    oakland = Path(__file__).parent / "data" / "oakland"
    result = CliRunner().invoke(
        app,
        [
            "check",
            "--incidents",
            str(oakland / "oakland_crimes_2012-2013.csv"),
            "--osm",
            str(oakland / "West-Oakland.osm.bz2"),
        ],
    )
    note = "no category matches the crime severity table, so every incident weighs 1"
    assert result.output.count(note) == 1, result.output
    assert f"  note: {note}" in result.output
