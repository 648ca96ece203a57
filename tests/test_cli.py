"""The command line, as a supervisor runs it."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import patrolplan
from patrolplan import datasets
from patrolplan.cli import app

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def plan_args(out, **over):
    args = {
        "--incidents": datasets.baltimore_crimes(),
        "--osm": datasets.baltimore_osm(),
        "--post": "39.2826,-76.5932",
        "--officers": 2,
        "--shift": "3h",
        "--start": "18:00",
        "--date": "2016-06-19",
        "--out": out,
    }
    args.update(over)
    return [x for kv in args.items() for x in kv]


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert patrolplan.__version__ in result.output


def test_demo_writes_the_plan_and_prints_the_summary(tmp_path):
    result = run("demo", "--out", tmp_path / "plan")
    assert result.exit_code == 0, result.output
    # by default: each layer's rows, the plan in one line, the table, the warnings, the files
    assert result.stdout.startswith("baltimore_crimes_2016-06.csv [crime]: 2,399 read, 538 kept")
    assert re.search(r"^Plan June 19, 2016 18:00: 3 officers, \d+ hotspots", result.stderr, re.M)
    lines = result.stdout.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("officer"))
    heads = lines[at - 1 : at + 1]
    assert heads[1].split()[:3] == ["officer", "post", "km"]
    assert "risk" in heads[0]
    assert "covered" in heads[1]
    assert "risk_covered_share" not in result.stdout
    # shares as percentages, one decimal, in English too
    assert re.search(r"\s\d+\.\d%\s", result.stdout)
    assert "Before you use this plan:" in result.stdout
    assert re.search(r"^Wrote map\.html, .* to ", result.stdout, re.M)
    # the steps are not shown without -v
    assert "auto:" not in result.output
    assert "Snapped" not in result.output
    assert len(result.output.strip().splitlines()) < 20
    assert (tmp_path / "plan" / "map.html").stat().st_size > 100_000


def test_verbose_shows_each_step_once_and_vv_the_details(tmp_path):
    result = run("demo", "--out", tmp_path / "a", "-v")
    assert result.exit_code == 0, result.output
    steps = [x for x in result.stderr.splitlines() if x.startswith("auto: ")]
    # the data's own parameters: time precision, half-life, window, scale, weight, size
    assert len(steps) == 6
    assert len(set(steps)) == len(steps)
    assert result.stderr.count("2,399 read") == 1
    assert "Hotspot method: peaks" in result.stderr
    # each clustering trial is a detail
    assert not re.search(r"^peaks: \d+ incidents in", result.stderr, re.M)
    detail = run("demo", "--out", tmp_path / "b", "-vv")
    assert detail.exit_code == 0, detail.output
    assert re.search(r"^peaks: \d+ incidents in \d+ cells", detail.stderr, re.M)
    assert len(detail.stderr.splitlines()) > len(result.stderr.splitlines())


def test_plan_command(tmp_path):
    result = run("plan", *plan_args(tmp_path / "p"), "-q")
    assert result.exit_code == 0, result.output
    for name in patrolplan.plan.OUTPUT_FILES:
        assert (tmp_path / "p" / name).is_file()


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"--incidents": "missing.csv"}, "missing.csv: file not found"),
        ({"--osm": "missing.osm"}, "`osm` file missing.osm not found"),
        ({"--post": "39.40,-76.60"}, "post 39.400000,-76.600000 is"),
        ({"--post": "here"}, "`post` must be 'lat,lon'"),
        ({"--shift": "10m"}, "shift of officer 1 is 10 min but the nearest hotspot, H"),
        ({"--shift": "soon"}, "`shift` must be a duration"),
        ({"--start": "25:00"}, "`start` must be a time of day"),
        ({"--columns": "lat"}, "role=column"),
        ({"--revisit": "2h-1h"}, "`revisit` must be positive with min <= max"),
        ({"--revisit": "often"}, "`revisit` must be minutes or a range like 60-120"),
        ({"--date": "10.1.2023"}, "`date` must be a date YYYY-MM-DD, got '10.1.2023'"),
        ({"--date": "2200-01-01"}, "`date` must lie between 1900-01-01 and 2199-12-31"),
        ({"--date": "2262-04-11", "--start": "23:59"}, "`date` must lie between"),
        ({"--since": "June"}, "`since` must be a date YYYY-MM-DD"),
        ({"--seed": "-1"}, "`seed` must be at least 0"),
        ({"--speed": "0"}, "`speed_kmh` must be at least 0.5"),
        ({"--speed": "-4.5"}, "`speed_kmh` must be at least 0.5"),
        ({"--dwell": "-3"}, "`dwell_min` must be at least 0"),
        ({"--officers": "10000"}, "`officers` must be at least 1 and at most 500"),
        ({"--method": "magic"}, "`method` must be one of"),
        ({"--tz": "Mars/Olympus"}, "`tz` must be an IANA time zone"),
    ],
)
def test_bad_input_exits_1_with_one_line_and_no_output(tmp_path, over, message):
    out = tmp_path / "p"
    result = run("plan", *plan_args(out, **over), "-q")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_file_without_coordinates(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,date\n1,2016-06-01\n")
    out = tmp_path / "p"
    result = run("plan", *plan_args(out, **{"--incidents": bad}), "-q")
    assert result.exit_code == 1
    assert "no latitude or longitude column" in result.stderr
    assert not out.exists()


def test_revisits_are_numbered_in_every_output(tmp_path):
    import json
    import re

    import pandas as pd

    out = tmp_path / "p"
    # one officer and few places on offer, so a second look is worth the walk
    result = run(
        "plan",
        *plan_args(out, **{"--shift": "4h", "--officers": 1}),
        "--revisit",
        "60-150",
        "--max-hotspots",
        "6",
        "--segments",
        "0",
        "-q",
    )
    assert result.exit_code == 0, result.output
    schedule = pd.read_csv(out / "schedule.csv")
    stops = schedule[schedule["task"] == "hotspot"]
    again = stops[stops["visit"] == 2]
    assert len(again) > 0
    for h in again["hotspot_id"]:
        times = sorted(
            pd.to_datetime(stops.loc[stops["hotspot_id"] == h, "arrive"], format="%H:%M")
        )
        gap = (times[1] - times[0]).total_seconds() / 60
        assert 59 <= gap <= 151  # HH:MM rounding
    summary = pd.read_csv(out / "summary.csv")
    assert summary.iloc[-1]["revisits"] == len(again)
    features = json.loads((out / "stops.geojson").read_text())["features"]
    assert sum(f["properties"].get("visit") == 2 for f in features) == len(again)
    assert json.loads((out / "report.json").read_text())["params"]["revisit_min"] == [60, 150]
    assert "(visit 2)" in (out / "officer_1.gpx").read_text()
    assert "(visit 2)" in (out / "sheets.html").read_text()
    # on the map and the sheets, an officer's visits to one hotspot share a marker "3/10"
    page = (out / "map.html").read_text()
    assert "one hotspot, visited at stops 3 and 10" in page
    by_same_officer = sum(
        ((stops["officer"] == r.officer) & (stops["hotspot_id"] == r.hotspot_id)).sum() == 2
        for r in again.itertuples()
    )
    assert by_same_officer > 0
    assert len(re.findall(r"u003e\d+/\d+\\u003c/div", page)) == by_same_officer
    assert re.search(r'font-weight="bold">\d+(, \d+)+</text>', (out / "sheets.html").read_text())


def test_day_rotation_writes_variants(tmp_path):
    out = tmp_path / "p"
    result = run("plan", *plan_args(out), "--day", 2, "-q")
    assert result.exit_code == 0, result.output
    assert "Variants (share of the best plan's risk" in result.stdout
    assert re.search(r"^variant  ", result.stdout, re.M)
    table = (out / "variants.csv").read_text().splitlines()
    assert len(table) == 8  # header + 7 days
    other = tmp_path / "q"
    assert run("plan", *plan_args(other), "--day", 3, "-q").exit_code == 0
    assert (out / "routes.geojson").read_bytes() != (other / "routes.geojson").read_bytes()


def test_backtest_command(tmp_path):
    out = tmp_path / "bt.csv"
    result = run(
        "backtest",
        "--incidents",
        datasets.baltimore_crimes(),
        "--train-days",
        7,
        "--test-days",
        2,
        "--cell",
        150,
        "--out",
        out,
        "-q",
    )
    assert result.exit_code == 0, result.output
    assert "5 windows of 7 + 2 days" in result.stdout
    assert "gi_star" in result.stdout
    assert "random" in result.stdout
    assert out.read_text().startswith("window,train_start,test_start")
    bad = run(
        "backtest", "--incidents", datasets.baltimore_crimes(), "--train-days", 14, "--out", out
    )
    assert bad.exit_code == 1
    assert "shorter than one window of 14 training and 7 test days" in bad.stderr


def test_online_map_links_the_cdn_offline_inlines(tmp_path):
    on, off = tmp_path / "on", tmp_path / "off"
    assert run("plan", *plan_args(on), "--online", "-q").exit_code == 0
    assert run("plan", *plan_args(off), "--offline", "-q").exit_code == 0
    online, offline = (on / "map.html").read_text(), (off / "map.html").read_text()
    assert '<script src="https://' in online
    assert '<script src="https://' not in offline
    assert len(offline) > len(online)


def test_out_that_is_a_file_is_refused_before_any_work(tmp_path):
    target = tmp_path / "report.json"
    target.write_text("the user's own file")
    for out in (target, target / "plan"):
        result = run("plan", *plan_args(out), "-q")
        assert result.exit_code == 1
        (line,) = [x for x in result.stderr.splitlines() if x.strip()]
        assert "is a file" in line or "existing file" in line
    assert target.read_text() == "the user's own file"


def test_a_district_file_with_a_wrong_type_exits_1_naming_the_key(tmp_path):
    cfg = tmp_path / "d.toml"
    cfg.write_text('[plan]\nofficers = "3"\n')
    result = run("plan", "--config", cfg, "--out", tmp_path / "p", "-q")
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]
    assert "`officers` must be a whole number, got '3' (str)" in line


def test_help_lists_defaults_from_one_place():
    result = run("plan", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert f"[{pp_settings().dwell_min:g}]" in text
    assert "[08:00]" in text


def pp_settings():
    from patrolplan import settings

    return settings


def test_evaluate_refuses_a_bad_date_with_one_line(tmp_path):
    result = run(
        "evaluate",
        "--incidents", datasets.baltimore_crimes(),
        "--osm", datasets.baltimore_osm(),
        "--post", "39.2826,-76.5932",
        "--from", "2016-13-01",
        "--to", "2016-06-18",
        "--out", tmp_path / "e.csv",
        "-q",
    )  # fmt: skip
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]
    assert "`from` must be a date YYYY-MM-DD" in line
    assert not (tmp_path / "e.csv").exists()


def test_posts_and_areas_commands(tmp_path):
    cfg = datasets.data_dir() / "baltimore.toml"
    result = run("posts", "--config", cfg, "--date", "2016-06-19", "--k", 1,
                 "--out", tmp_path / "posts", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 new site:" in result.stdout
    assert "optimal, gap 0.00%" in result.stdout
    assert (tmp_path / "posts" / "posts.geojson").is_file()
    result = run("areas", "--officers", 3, "--config", cfg, "--date", "2016-06-19",
                 "--out", tmp_path / "areas", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    ratio = float(result.stdout.split("Workload max/min ")[1].split()[0])
    assert ratio <= 1.2
    result = run("areas", "--officers", 5000, "--config", cfg, "--date", "2016-06-19",
                 "--out", tmp_path / "many", "-q")  # fmt: skip
    assert result.exit_code == 1
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]
    assert "more than the" in line
    assert not (tmp_path / "many").exists()


COMMANDS = ["plan", "demo", "evaluate", "backtest", "posts", "areas", "batch"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_lang(command):
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "--lang" in result.stdout


def test_a_russian_run_prints_a_russian_summary(tmp_path):
    result = run("demo", "--out", tmp_path / "plan", "--officers", 1, "--lang", "ru", "-q")
    assert result.exit_code == 0, result.output
    out = result.stdout
    # translated column heads and the total row; shares as percentages with a decimal comma
    lines = out.splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("инспектор"))
    lines = lines[at - 1 :]
    # heads wider than their numbers take two lines; no two heads run together
    assert lines[0].split("  ")[0].strip() == ""
    assert "пешком," in lines[0]
    assert "охват" in lines[0]
    assert lines[1].split()[:3] == ["инспектор", "пост", "км"]
    assert "риска" in lines[1].split()
    for words in ("всего", "Записаны map.html"):
        assert words in out, words
    assert "risk_covered_share" not in out
    assert re.search(r"\d+,\d%", out)
    page = (tmp_path / "plan" / "map.html").read_text(encoding="utf-8")
    assert (
        "\\u0418\\u043d\\u0441\\u043f\\u0435\\u043a\\u0442\\u043e\\u0440 1" in page
    )  # Инспектор 1


@pytest.mark.parametrize(
    ("lang", "over", "line"),
    [
        ("ru", {"--osm": "missing.osm"}, "ошибка: файл `osm` missing.osm не найден"),
        ("kk", {"--osm": "missing.osm"}, "қате: `osm` файлы missing.osm табылмады"),
    ],
)
def test_a_bad_input_gives_one_error_line_in_the_language(tmp_path, lang, over, line):
    result = run("plan", *plan_args(tmp_path / "p", **over), "--lang", lang, "-q")
    assert result.exit_code == 1
    (got,) = [x for x in result.stderr.splitlines() if x.strip()]
    assert got == line
    assert not (tmp_path / "p").exists()


def test_lang_of_the_district_file_and_its_override(tmp_path):
    district = tmp_path / "district.toml"
    district.write_text('[plan]\nlang = "kk"\n', encoding="utf-8")
    result = run("posts", "--config", district, "--minutes", "x", "--out", tmp_path / "o", "-q")
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "қате: `minutes` минут болуы керек, мысалы 5,10,15; берілгені 'x'"
    )
    result = run("areas", "--officers", 2, "--config", district, "--lang", "ru", "-q")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "ошибка: не указаны --incidents, --osm (задайте их параметрами или в --config)"
    )
    days = ["--from", "2016-06-01", "--to", "2016-06-02", "--count-days", "7,x"]
    bad = run("evaluate", "--incidents", "x.csv", "--osm", "x.osm", "--post", "39.28,-76.59",
              *days, "--lang", "ru")  # fmt: skip
    assert bad.exit_code == 1
    assert bad.stderr.startswith("ошибка: `count-days` должно быть целым числом дней")
    unknown = run("demo", "--lang", "de", "--out", tmp_path / "d")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == "error: `lang` must be one of en, ru, kk, not 'de'"


def test_a_repeated_log_line_is_shown_once(capsys):
    import logging

    from patrolplan import cli as pp_cli

    logger = logging.getLogger("patrolplan")
    before = (list(logger.handlers), logger.level, logger.propagate)
    handler = pp_cli._logging(0, False)
    try:
        for _k in range(3):
            logger.warning("officer 2 has nothing to do")
        logger.warning("officer 3 has nothing to do")
        logger.info("a step")
    finally:
        logger.removeHandler(handler)
        logger.handlers[:] = before[0]
        logger.setLevel(before[1])
        logger.propagate = before[2]
    err = capsys.readouterr().err.splitlines()
    assert err == ["officer 2 has nothing to do", "officer 3 has nothing to do"]
