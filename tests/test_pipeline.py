"""One way through the code: every command reads, weighs and routes through the same stages.

Each test here failed on the code before the request/pipeline redesign, where posts, areas and
the replay had their own copies of the stages and the copies disagreed.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from patrolplan import datasets, evaluate, pipeline
from patrolplan.cli import app
from patrolplan.options import PlanOptions
from patrolplan.request import PlanRequest

runner = CliRunner()
PACKAGE = Path(__file__).resolve().parents[1] / "patrolplan"


def _district(folder: Path, crimes: Path, plan: str = "") -> Path:
    """A district file like the demo's, naming `crimes` and extra [plan] lines."""
    data = datasets.data_dir()
    text = f"""
[district]
osm = "{(data / "baltimore" / "baltimore_walk.osm.bz2").as_posix()}"
posts = [[39.2826, -76.5932], [39.2905, -76.5790]]

[layers.crime]
file = "{crimes.as_posix()}"
preset = "baltimore"

[plan]
officers = 2
start = "18:00"
date = "2016-06-19"
{plan}
"""
    path = folder / f"district_{len(list(folder.glob('*.toml')))}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def utc_crimes(tmp_path_factory) -> Path:
    """The demo crimes with their times written in UTC (``+00:00``), as many exports do."""
    df = pd.read_csv(datasets.baltimore_crimes(), dtype=str)
    local = pd.to_datetime(df["datetime"]).dt.tz_localize("America/New_York")
    df["datetime"] = local.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    path = tmp_path_factory.mktemp("utc") / "crimes_utc.csv"
    df.to_csv(path, index=False)
    return path


def test_posts_honour_the_district_time_zone(tmp_path, utc_crimes):
    # posts once read the incidents without the district's `tz`: UTC times kept as local,
    # four hours off, and the shift's hours weighed the wrong incidents
    local = _district(tmp_path, datasets.baltimore_crimes())
    utc = _district(tmp_path, utc_crimes, 'tz = "America/New_York"')
    tables = []
    for config, out in ((local, tmp_path / "a"), (utc, tmp_path / "b")):
        res = runner.invoke(app, ["posts", "--config", str(config), "--out", str(out), "-q"])
        assert res.exit_code == 0, res.output
        tables.append((out / "coverage.csv").read_text(encoding="utf-8"))
    assert tables[0] == tables[1]


def test_risk_reads_times_in_the_district_zone(tmp_path, utc_crimes):
    req = PlanRequest.from_file(
        _district(tmp_path, utc_crimes), tz="America/New_York", date="2016-06-19"
    )
    plain = PlanRequest.from_file(_district(tmp_path, datasets.baltimore_crimes()))
    got, want = pipeline.risk(req), pipeline.risk(plain)
    assert got.gdf_incidents["datetime"].tolist() == want.gdf_incidents["datetime"].tolist()
    assert got.weights.to_numpy() == pytest.approx(want.weights.to_numpy())


def test_replay_routes_at_the_options_speed(G):
    # the replay's baselines once walked at the default speed whatever the options said
    gdf, _ = pipeline.ingest.read_incidents(
        datasets.baltimore_crimes(), area=pipeline.graph.graph_area(G)
    )
    km = {}
    for speed in (2.0, 6.0):
        per = evaluate.replay(
            gdf,
            G,
            list(datasets.DEMO_POSTS),
            days=["2016-06-17"],
            start="18:00",
            shift_min=120,
            officers=1,
            history_days=14,
            count_days=(7,),
            n_random=0,
            oracle=False,
            zone=False,
            options=PlanOptions(
                officers=1, shift="2h", method="peaks", speed_kmh=speed, iterations=200
            ),
        )
        km[speed] = per.set_index("method")["km"]
    assert km[6.0]["counts_7d"] > 1.5 * km[2.0]["counts_7d"]
    assert km[6.0]["plan"] > 1.5 * km[2.0]["plan"]


def test_help_says_where_a_default_comes_from_the_data():
    res = runner.invoke(app, ["plan", "--help"], env={"COLUMNS": "240"})
    assert res.exit_code == 0
    line = next(x for x in res.output.splitlines() if "--half-life-days" in x)
    assert "from the data" in line
    assert "[30]" not in line


def test_flags_are_the_district_file_keys(tmp_path):
    # `--speed-kmh` is the [plan] key `speed_kmh`; the old `--speed` stays as an alias
    config = datasets.data_dir() / "baltimore.toml"
    for flag, out in (("--speed-kmh", tmp_path / "a"), ("--speed", tmp_path / "b")):
        args = ["plan", "--config", str(config), "--date", "2016-06-19", "--out", str(out)]
        args += [flag, "3.5", "--iterations", "200", "-q"]
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert report["params"]["speed_kmh"] == 3.5
    a = (tmp_path / "a" / "routes.geojson").read_bytes()
    assert a == (tmp_path / "b" / "routes.geojson").read_bytes()


def test_request_is_built_the_same_from_file_and_from_python():
    config = datasets.data_dir() / "baltimore.toml"
    from_file = PlanRequest.from_file(config, date="2016-06-19")
    by_hand = PlanRequest.build(
        None,
        incidents=datasets.baltimore_crimes(),
        osm=datasets.baltimore_osm(),
        posts=list(datasets.DEMO_POSTS),
        preset="baltimore",
        layer_weights={"crime": 1.0},
        officers=3,
        shift="4h",
        start="18:00",
        dwell_min=12,
        date="2016-06-19",
    )
    assert from_file.files == by_hand.files
    assert from_file.options == by_hand.options
    assert from_file.ingest_args() == by_hand.ingest_args()
    assert from_file.layer_weights == by_hand.layer_weights


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize("name", ["pipeline", "posts", "areas", "evaluate", "request"])
def test_stages_do_not_import_the_plan_or_the_cli(name):
    found = _imports(PACKAGE / f"{name}.py")
    assert "patrolplan.plan" not in found
    assert "patrolplan.cli" not in found
