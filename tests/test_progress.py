"""Progress of long loops (`patrolplan._progress`) and of evaluate and backtest on the demo."""

from __future__ import annotations

import io
import logging
import os
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from patrolplan import _progress, backtest, datasets, graph, i18n, ingest
from patrolplan.cli import app
from tests._logs import collected

# the bar's own characters: carriage returns, block fill and the rate
BAR_MARKS = ("\r", "█", "it/s", "s/test window", "test window/s")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    """A clock that moves only when told: time left is computed, never measured."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def lines():
    with collected() as messages:
        yield messages


@pytest.fixture
def own_logger():
    """The command line sets the logger's handlers to its own stderr: put them back after."""
    logger = logging.getLogger("patrolplan")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], level, logger.propagate = saved
    logger.setLevel(level)


def test_counts_and_time_left_in_about_ten_log_lines(lines):
    clock = Clock()
    pipe = io.StringIO()
    with _progress.Progress(
        20, what="Replay", unit="window", units="windows", stream=pipe, clock=clock
    ) as bar:
        assert bar.mode == "log"
        assert bar.left_s is None  # nothing done yet: no pace to go by
        for k in range(1, 21):
            clock.now += 3.0
            bar.update()
            assert bar.done == k
            if k == 8:
                # 24 s for 8 windows: 3 s each, 12 left
                assert bar.left_s == pytest.approx(36.0)
    assert bar.left_s == 0.0
    assert len(lines) == 10  # one per tenth of the work, not one per window
    assert lines[0] == "Replay: 2/20 windows, 54 s left"
    assert "Replay: 8/20 windows, 36 s left" in lines
    assert lines[-1] == "Replay: 20/20 windows in 1 min 0 s"
    assert pipe.getvalue() == ""


def test_a_few_units_log_each_and_none_when_off(lines):
    clock = Clock()
    pipe = io.StringIO()
    with _progress.Progress(
        3, what="Backtest", unit="w", units="windows", stream=pipe, clock=clock
    ) as bar:
        for _ in range(3):
            clock.now += 50.0
            bar.update()
    assert lines == [
        "Backtest: 1/3 windows, 1 min 40 s left",
        "Backtest: 2/3 windows, 50 s left",
        "Backtest: 3/3 windows in 2 min 30 s",
    ]
    lines.clear()
    off = io.StringIO()
    with _progress.Progress(3, what="x", unit="w", units="w", show=False, stream=off) as bar:
        for _ in range(3):
            bar.update()
    assert (bar.done, lines, off.getvalue()) == (3, [], "")


def test_modes_follow_the_terminal_unless_asked():
    assert _progress.choose_mode(None, Terminal()) == "bar"
    assert _progress.choose_mode(None, io.StringIO()) == "log"
    assert _progress.choose_mode(True, io.StringIO()) == "bar"
    assert _progress.choose_mode(False, Terminal()) == "off"


def test_durations_read_in_the_language():
    assert [_progress.format_duration(s) for s in (-3, 0.4, 59.6, 72, 3600, 3900)] == [
        "0 s",
        "0 s",
        "1 min 0 s",
        "1 min 12 s",
        "1 h 0 min",
        "1 h 5 min",
    ]
    with i18n.language("ru"):
        assert _progress.format_duration(72) == "1 мин 12 с"
    with i18n.language("kk"):
        assert _progress.format_duration(3900) == "1 сағ 5 мин"


def test_bar_on_a_terminal_keeps_log_lines_above_it():
    logger = logging.getLogger("patrolplan")
    term = Terminal()
    handler = logging.StreamHandler(term)
    saved, level = logger.handlers[:], logger.level
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    try:
        with _progress.Progress(
            4, what="Replay", unit="window", units="windows", stream=term
        ) as bar:
            assert bar.mode == "bar"
            bar.update(note="2016-06-16 10:00")
            logger.info("Replay 2016-06-16 18:00: 3 incidents")
            bar.update(3)
        # the log lines go back to their own handler when the bar closes
        assert logger.handlers == [handler]
    finally:
        logger.handlers[:] = saved
        logger.setLevel(level)
    text = term.getvalue()
    assert "4/4" in text
    assert "2016-06-16 10:00" in text
    # the log line is a line of its own, not glued to the bar's text
    assert "\nReplay 2016-06-16 18:00: 3 incidents\n" in text.replace("\r", "\n")


def test_bar_on_a_real_terminal_of_unknown_size():
    # a pseudo-terminal as some CI runners give: a terminal, but 0 columns and 0 rows
    main, side = os.openpty()
    try:
        with open(side, "w", encoding="utf-8", closefd=False) as term:
            with _progress.Progress(
                3, what="Replay", unit="window", units="windows", stream=term
            ) as bar:
                assert bar.mode == "bar"
                for _ in range(3):
                    bar.update()
            term.flush()
        text = os.read(main, 65536).decode("utf-8", errors="replace")
    finally:
        os.close(main)
        os.close(side)
    assert "3/3" in text
    assert "Replay: 100%" in text


def _evaluate(tmp_path, *flags: str):
    out = tmp_path / "ev.csv"
    config = datasets.data_dir() / "baltimore.toml"
    args = ["evaluate", "--config", config, "--from", "2016-06-17", "--to", "2016-06-17"]
    args += ["--start", "10:00,18:00", "--history-days", "7", "--count-days", "7"]
    args += ["--random", "0", "--iterations", "50", "--out", out, *flags]
    res = CliRunner().invoke(app, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res, out.read_bytes(), (tmp_path / "ev_summary.csv").read_bytes()


def test_evaluate_bar_when_asked_and_log_lines_otherwise(tmp_path, own_logger):
    bar, *bar_files = _evaluate(tmp_path / "bar", "--progress", "-v")
    # forced on: a bar on standard error although the runner's is not a terminal
    assert re.search(r"Replay: 100%\|.+\| 2/2 \[", bar.stderr)
    # each window's own log line is written on a cleared line, above the bar
    assert re.search(r"\rReplay 2016-06-17 18:00: \d+ incidents, captured plan", bar.stderr)
    assert "Replay: 2/2 test windows" not in bar.stderr
    assert "2/2" not in bar.stdout
    # automatic on a pipe: no bar at all, a few log lines with the count instead, shown
    # without -v (a long replay says it is alive)
    auto, *auto_files = _evaluate(tmp_path / "auto")
    assert not any(mark in auto.stderr for mark in BAR_MARKS)
    assert "Replay: 1/2 test windows, " in auto.stderr
    assert "Replay: 2/2 test windows in " in auto.stderr
    # the results are the same byte for byte
    assert bar_files == auto_files
    assert bar.stdout.split("\nWrote ")[0] == auto.stdout.split("\nWrote ")[0]


def test_backtest_reports_each_window_and_keeps_its_rows(G, capsys):
    gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=graph.graph_area(G))
    args = {"train_days": 7, "test_days": 2, "max_windows": 3, "methods": {}}
    plain = backtest.run(gdf, progress=False, **args)
    assert capsys.readouterr().err == ""
    shown = backtest.run(gdf, progress=True, **args)
    err = capsys.readouterr().err
    assert re.search(r"Backtest: 100%\|.+\| 3/3 \[", err)
    pd.testing.assert_frame_equal(plain, shown)
    assert plain["window"].max() == 3
