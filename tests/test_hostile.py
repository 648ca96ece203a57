"""Hostile inputs (issue 26): every class of broken input ends in one clear line or a right result.

Each test covers a class of inputs, generated, not one example: any file the user names that
is not a regular file, any number out of range, areas that do not fit the officers, outputs
beside the user's own files. The batch's classes are in ``test_hostile_batch.py``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
import subprocess
import sys
import threading
import time
import zoneinfo
from collections.abc import Callable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
import typer
from typer.testing import CliRunner

from patrolplan import areas, config, datasets, evaluate, posts, utils
from patrolplan._errors import InputDataError, PatrolPlanError
from patrolplan._validate import check_flag_numbers
from patrolplan.cli import app
from patrolplan.options import MAX_OFFICERS, PlanOptions

ROOT = Path(__file__).parent.parent
BALTIMORE_TOML = datasets.data_dir() / "baltimore.toml"
runner = CliRunner()


def _one_line(exc: BaseException | str) -> str:
    text = str(exc)
    assert "\n" not in text.strip(), text
    assert "Traceback" not in text
    return text


# -- 1. files that are not regular files ---------------------------------------------------


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe.toml"
    os.mkfifo(path)
    return path


def _socket(tmp: Path) -> Path:
    path = tmp / "s.toml"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()
    return path


def _folder(tmp: Path) -> Path:
    path = tmp / "folder.toml"
    path.mkdir()
    return path


NOT_FILES: dict[str, Callable[[Path], Path]] = {
    "fifo without writer": _fifo,
    "device": lambda _tmp: Path("/dev/zero"),
    "socket": _socket,
    "folder": _folder,
    "missing": lambda tmp: tmp / "missing.toml",
}

READERS: dict[str, Callable[[Path], object]] = {
    "district file": config.read_toml,
    "areas": areas.read_areas,
    "candidates": posts.read_sites,
    "check_input_file": lambda p: utils.check_input_file(p, what="input"),
}


@pytest.mark.parametrize("kind", sorted(NOT_FILES))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_file_that_is_not_a_regular_file_is_refused_in_one_line(
    kind: str, reader: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a pipe with no writer is waited for a moment only (the default is seconds)
    monkeypatch.setattr(utils, "PIPE_WAIT_S", 0.2)
    path = NOT_FILES[kind](tmp_path)
    with pytest.raises(InputDataError) as err:
        READERS[reader](path)
    assert str(path) in _one_line(err.value)


def _writer(path: Path, text: str, delay: float = 0.3) -> threading.Thread:
    def write() -> None:
        time.sleep(delay)
        with path.open("w", encoding="utf-8") as f:  # blocks until the reader opens it
            f.write(text)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("delay", [0.0, 0.5])
def test_a_named_pipe_with_a_writer_gives_its_district_file_once(tmp_path: Path, delay: float):
    path = _fifo(tmp_path)
    thread = _writer(path, "[plan]\nofficers = 2\nshift = '3h'\n", delay)
    assert config.read_toml(path) == {"plan": {"officers": 2, "shift": "3h"}}
    thread.join(5)
    assert not thread.is_alive()


def test_config_from_a_named_pipe_on_the_command_line_is_read_once(tmp_path: Path):
    # `--config <(printf ...)`: the options arrive, and are checked (officers = 0 is wrong);
    # reading the pipe a second time would wait for a writer that never comes
    path = _fifo(tmp_path)
    _writer(path, "[plan]\nofficers = 0\n")
    t0 = time.monotonic()
    res = runner.invoke(app, ["plan", "--config", str(path), "--out", str(tmp_path / "p")])
    assert res.exit_code == 1
    assert "`officers` must be at least 1" in _one_line(res.output)
    assert time.monotonic() - t0 < utils.PIPE_WAIT_S


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_config_naming_a_device_is_refused_at_once(path: str, tmp_path: Path):
    res = runner.invoke(app, ["plan", "--config", path, "--out", str(tmp_path / "p")])
    assert res.exit_code == 1
    assert "is not a regular file" in _one_line(res.output)


def _nested(kind: str, depth: int) -> str:
    if kind == "arrays":
        return "a = " + "[" * depth + "]" * depth + "\n"
    if kind == "inline tables":
        return "a = " + "{b = " * depth + "1" + "}" * depth + "\n"
    return "a" + ".b" * depth + " = 1\n"  # dotted keys


@pytest.mark.parametrize("kind", ["arrays", "inline tables", "dotted keys"])
@pytest.mark.parametrize("depth", [5_000, 40_000])
def test_deeply_nested_toml_is_one_line_not_a_recursion_error(
    kind: str, depth: int, tmp_path: Path
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(_nested(kind, depth), encoding="utf-8")
    # refused when read, or when checked (a parsed document has unknown keys): one line
    with pytest.raises(InputDataError) as err:
        config.from_toml(config.read_toml(path), path)
    assert str(path) in _one_line(err.value)


# -- 2. numbers: range and finiteness, with the key named ------------------------------------

BAD_NUMBERS = [math.nan, math.inf, -math.inf, -1, -0.5, 1e308, 10**400]
NUMERIC_OPTIONS = [
    f.name for f in dataclasses.fields(PlanOptions) if f.metadata["kind"] in ("int", "float")
]


@pytest.mark.parametrize("name", NUMERIC_OPTIONS)
@pytest.mark.parametrize("value", BAD_NUMBERS, ids=repr)
def test_every_numeric_option_rejects_nan_inf_negative_and_overflow(name: str, value: float):
    with pytest.raises(InputDataError) as err:
        PlanOptions(**{name: value})
    assert f"`{name}`" in _one_line(err.value)
    with pytest.raises(InputDataError) as err:
        PlanOptions.from_mapping({name: value}, source="district.toml: [plan]")
    assert f"district.toml: [plan]: `{name}`" in _one_line(err.value)


def _commands() -> Iterator[tuple[str, str, str, type]]:
    """(command, parameter, flag, int or float) of every number flag of every command."""
    group = typer.main.get_command(app)
    for cmd_name, cmd in group.commands.items():  # type: ignore[attr-defined]
        for p in cmd.params:
            ann = getattr(getattr(p, "type_descriptor", None), "annotation", None)
            kind = next((t for t in (int, float) if ann in (t, t | None)), None)
            if kind is not None:
                yield cmd_name, p.name, p.opts[0], kind


NUMBER_FLAGS = sorted(_commands())
# flags that share a plan option's name but are the command's own (checked by it)
OWN_FLAGS = {("areas", "officers"), ("areas", "seed"), ("backtest", "seed")}
OPTION_FLAGS = [f for f in NUMBER_FLAGS if f[1] in NUMERIC_OPTIONS and f[:2] not in OWN_FLAGS]


def test_the_commands_have_number_flags():
    assert len(NUMBER_FLAGS) > 30
    assert ("evaluate", "history_days", "--history-days", int) in NUMBER_FLAGS
    assert ("posts", "walk_min", "--walk-min", float) in NUMBER_FLAGS


@pytest.mark.parametrize(("command", "name", "flag", "kind"), OPTION_FLAGS)
@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "-1", "1e308", "9" * 400])
def test_every_plan_option_flag_of_every_command_rejects_bad_numbers(
    command: str, name: str, flag: str, kind: type, text: str, tmp_path: Path
) -> None:
    # no input is given: the flag must be refused before anything is missed or read
    args = {
        "evaluate": ["--from", "2016-06-20", "--to", "2016-06-21"],
        "batch": [str(tmp_path)],
        "areas": ["--officers", "2"],
    }
    extra = ["--out", str(tmp_path / "out")] if command == "batch" else []
    res = runner.invoke(app, [command, *args.get(command, []), *extra, flag, text])
    assert res.exit_code in (1, 2)  # 2: the parser's own refusal of a non-number
    assert f"`{name}`" in res.output or flag in res.output, res.output


EVALUATE_BAD = {
    "--every": ["0", "-3", "36501", "9" * 400],
    "--history-days": ["0", "-1", "36501", "9" * 400],
    "--random": ["-1", "1001", "9" * 400],
    "--count-days": ["0", "-7", "7,0", "99999999999", "", "7,x"],
}


@pytest.mark.parametrize(
    ("flag", "text"), [(f, t) for f, texts in EVALUATE_BAD.items() for t in texts]
)
def test_evaluate_refuses_its_own_numbers_before_reading_anything(flag: str, text: str):
    res = runner.invoke(app, ["evaluate", "--from", "2016-06-20", "--to", "2016-06-21", flag, text])
    assert res.exit_code in (1, 2)
    words = (flag.strip("-"), flag.strip("-").replace("-", "_"))
    assert any(w in res.output for w in words), res.output
    assert "missing" not in res.output  # refused before the inputs are even looked at


@pytest.mark.parametrize(("command", "name", "flag", "kind"), NUMBER_FLAGS)
@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 1e308, 10**400], ids=repr)
def test_check_flag_numbers_names_every_number_flag(
    command: str, name: str, flag: str, kind: type, value: float
) -> None:
    with pytest.raises(InputDataError) as err:
        check_flag_numbers({name: value, "out": "plan"})
    # named as the command's parameter is (`--random-walks` for the flag --random)
    assert "`--" + name.replace("_", "-") + "`" in _one_line(err.value)


def test_check_flag_numbers_lets_ordinary_values_through():
    check_flag_numbers({"walk_min": 10.0, "k": 2, "cell": 50.0, "pdf": True, "out": "x"})


def _district(tmp_path: Path, layer_lines: str) -> Path:
    text = BALTIMORE_TOML.read_text(encoding="utf-8").replace("weight = 1.0", layer_lines)
    return _write(tmp_path / "d.toml", text)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


TOML_BAD = ["nan", "inf", "-inf", "-1", "-0.5", "1e308", "1e7", "9" * 30]


@pytest.mark.parametrize("value", TOML_BAD)
@pytest.mark.parametrize("key", ["weight", 'severity."HOMICIDE"', 'severity."NEW CATEGORY"'])
def test_district_weights_and_severities_are_finite_and_in_range(
    key: str, value: str, tmp_path: Path
) -> None:
    line = f"weight = {value}" if key == "weight" else f"{key} = {value}"
    path = _district(tmp_path, line)
    with pytest.raises(InputDataError) as err:
        config.load_config(path)
    shown = "`weight`" if key == "weight" else "`severity." + key.split('"')[1] + "`"
    assert shown in _one_line(err.value)
    assert str(path) in str(err.value)


def test_district_weights_in_range_are_kept(tmp_path: Path):
    path = _district(tmp_path, 'weight = 0.5\nseverity = { "HOMICIDE" = 0, "NEW" = 1e6 }')
    district = config.load_config(path)
    assert district.layer_weights == {"crime": 0.5}
    assert district.severity["crime"]["HOMICIDE"] == 0
    assert district.severity["crime"]["NEW"] == 1e6


TZ_FOLDERS = sorted({name.split("/")[0] for name in zoneinfo.available_timezones() if "/" in name})


@pytest.mark.parametrize("name", TZ_FOLDERS)
def test_a_time_zone_that_names_a_folder_is_refused(name: str):
    assert len(TZ_FOLDERS) >= 8
    with pytest.raises(InputDataError) as err:
        PlanOptions(tz=name)
    assert "`tz`" in _one_line(err.value)


# data of the demo: 1 to 18 June 2016
SPAN = (pd.Timestamp("2016-06-01 00:10"), pd.Timestamp("2016-06-18 23:40"))


@pytest.mark.parametrize(
    ("first", "last", "every", "expected"),
    [
        ("1966-06-20", "2066-06-21", 1, 17),  # 100 years on 18 days: only the days with data
        ("2016-05-01", "2016-06-10", 1, 9),
        ("2016-06-10", "2016-12-31", 2, 5),
        ("2016-06-02", "2016-06-18", 1, 17),
    ],
)
def test_replay_days_keep_only_days_with_history_and_data(
    first: str, last: str, every: int, expected: int
) -> None:
    days = evaluate.replay_days(first, last, every=every, data_span=SPAN)
    assert len(days) == expected
    assert all(SPAN[0] < d <= SPAN[1] for d in days)


@pytest.mark.parametrize(
    ("first", "last"), [("1970-01-01", "2016-05-31"), ("2016-06-19", "2199-12-31")]
)
def test_replay_days_refuse_a_range_without_data(first: str, last: str):
    with pytest.raises(InputDataError, match="the data run from 2016-06-01 to 2016-06-18"):
        evaluate.replay_days(first, last, data_span=SPAN)


@pytest.mark.parametrize(
    ("first", "last"),
    [("1800-01-01", "2016-06-10"), ("2016-06-01", "9999-01-01"), ("2016-13-01", "2016-06-10")],
)
def test_replay_days_refuse_dates_beyond_the_calendar(first: str, last: str):
    with pytest.raises(InputDataError):
        evaluate.replay_days(first, last)


@pytest.mark.parametrize(
    ("every", "history", "counts", "walks"),
    [
        (0, 90, (28,), 5),
        (1, 0, (28,), 5),
        (1, 10**9, (28,), 5),
        (1, 90, (0,), 5),
        (1, 90, (7, -7), 5),
        (1, 90, (10**12,), 5),
        (1, 90, (28,), -1),
        (1.5, 90, (28,), 5),
        (1, math.nan, (28,), 5),
    ],
)
def test_replay_arguments_are_checked_with_their_name(every, history, counts, walks):
    with pytest.raises(InputDataError) as err:
        evaluate.check_replay_args(every, history, counts, walks)
    assert "`" in _one_line(err.value)


# -- 3. areas that do not fit the officers --------------------------------------------------


def _strips(n: int, *, overlap: float = 0.0) -> gpd.GeoDataFrame:
    """`n` side-by-side strips over the demo district (EPSG:4326), optionally overlapping."""
    lat0, lon0, lat1, lon1 = 39.276, -76.600, 39.296, -76.570
    step = (lon1 - lon0) / n
    boxes = [
        shapely.box(lon0 + i * step - overlap * step, lat0, lon0 + (i + 1) * step, lat1)
        for i in range(n)
    ]
    return gpd.GeoDataFrame({"area": range(1, n + 1)}, geometry=boxes, crs="EPSG:4326")


@pytest.mark.parametrize(("n_areas", "officers"), [(1, 3), (2, 3), (4, 3), (40, 3), (3, 1)])
def test_areas_must_be_one_per_officer(n_areas: int, officers: int):
    with pytest.raises(InputDataError) as err:
        areas.check_areas(_strips(n_areas), officers=officers)
    text = _one_line(err.value)
    assert f"{n_areas} patrol areas for {officers} officers" in text


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_areas_that_fit_pass(n: int):
    areas.check_areas(_strips(n), officers=n)
    # touching edges are no overlap; a sliver below OVERLAP_SHARE is drawing slack
    areas.check_areas(_strips(n, overlap=areas.OVERLAP_SHARE / 2), officers=n)


@pytest.mark.parametrize("share", [0.05, 0.5, 1.0])
@pytest.mark.parametrize("n", [2, 5])
def test_overlapping_areas_are_refused(share: float, n: int):
    with pytest.raises(InputDataError, match="overlap") as err:
        areas.check_areas(_strips(n, overlap=share), officers=n)
    _one_line(err.value)


def test_end_points_with_areas_are_refused():
    with pytest.raises(InputDataError, match="`end`"):
        areas.check_areas(_strips(2), officers=2, ends=[(39.28, -76.59)])


@pytest.mark.parametrize("extra", [1, 100])
def test_an_areas_file_with_more_areas_than_any_plan_is_refused(extra: int, tmp_path: Path):
    path = tmp_path / "areas.geojson"
    _strips(MAX_OFFICERS + extra).to_file(path, driver="GeoJSON")
    with pytest.raises(InputDataError) as err:
        areas.read_areas(path)
    assert f"{MAX_OFFICERS + extra} areas" in _one_line(err.value)


# -- 5. outputs never touch what patrolplan did not write ------------------------------------


@pytest.mark.parametrize("own", ["evaluate_summary.csv", "evaluate.csv"])
def test_evaluate_refuses_to_overwrite_the_users_csv(own: str, tmp_path: Path):
    mine = _write(tmp_path / own, "the user's own table\n")
    res = runner.invoke(
        app,
        [
            "evaluate",
            "--config",
            str(BALTIMORE_TOML),
            "--from",
            "2016-06-10",
            "--to",
            "2016-06-11",
            "--out",
            str(tmp_path / "evaluate.csv"),
        ],
    )
    assert res.exit_code == 1
    assert own in _one_line(res.output)
    assert mine.read_text(encoding="utf-8") == "the user's own table\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [own]


def test_a_shared_folder_keeps_other_files_and_replaces_only_its_own(tmp_path: Path):
    _write(tmp_path / "notes.txt", "user\n")
    for run in range(2):
        with utils.atomic_dir(tmp_path, shared=True) as tmp:
            assert tmp.parent == tmp_path
            _write(tmp / f"run{run}.csv", "a\n")
            _write(tmp / "same.csv", f"{run}\n")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [utils.MANIFEST, "notes.txt", "run0.csv", "run1.csv", "same.csv"]
    assert (tmp_path / "same.csv").read_text() == "1\n"
    _write(tmp_path / "same.csv", "edited by the user\n")
    with (
        pytest.raises(PatrolPlanError, match=r"same\.csv"),
        utils.atomic_dir(tmp_path, shared=True) as tmp,
    ):
        _write(tmp / "same.csv", "2\n")
    assert (tmp_path / "same.csv").read_text() == "edited by the user\n"
    assert not list(tmp_path.glob("*.part"))


def _other_device(tmp_path: Path) -> Path:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system to write to")
    return shm


@pytest.mark.parametrize("exists", [True, False])
def test_out_as_a_link_to_another_file_system_is_written_there(exists: bool, tmp_path: Path):
    shm = _other_device(tmp_path)
    target = shm / f"patrolplan-test-{os.getpid()}-{exists}"
    if exists:
        target.mkdir()
    link = tmp_path / "out"
    link.symlink_to(target)
    try:
        with utils.atomic_dir(link) as tmp:
            _write(tmp / "a.txt", "x\n")
        assert (target / "a.txt").read_text() == "x\n"
        assert (target / utils.MANIFEST).is_file()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
        assert not list(shm.glob(f".{target.name}.*.part"))
    finally:
        subprocess.run(["rm", "-rf", str(target)], check=True)


def test_a_mount_point_output_folder_gets_its_files_on_its_own_file_system(tmp_path: Path):
    # /dev/shm is a folder on another file system than its parent: the temporary folder goes
    # inside it, so no file crosses file systems
    shm = _other_device(tmp_path)
    with utils.atomic_dir(shm, shared=True) as tmp:
        assert tmp.parent == shm
        _write(tmp / f"patrolplan-test-{os.getpid()}.txt", "x\n")
    (shm / f"patrolplan-test-{os.getpid()}.txt").unlink()


@pytest.mark.parametrize("kind", ["file", "under a file", "device"])
def test_patrolplan_cache_that_is_not_a_folder_warns_and_caches_in_a_temporary_folder(
    kind: str, tmp_path: Path
) -> None:
    file = _write(tmp_path / "cache", "not a folder\n")
    given = {"file": file, "under a file": file / "sub", "device": Path("/dev/null")}[kind]
    code = (
        "import patrolplan.settings as s, pathlib\n"
        "p = s.cache_dir\n"
        "assert p.is_dir(), p\n"
        "(p / 'x').write_text('y')\n"
        "print(p)\n"
    )
    env = {**os.environ, "PATROLPLAN_CACHE": str(given), "PYTHONPATH": str(ROOT)}
    res = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert "is not a folder" in res.stderr
    assert str(given) in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not Path(res.stdout.strip()).exists()  # removed at exit
    assert file.read_text() == "not a folder\n"
