"""Hostile inputs to ``patrolplan batch`` (issue 26): signals, odd file names, unreadable files.

A batch runs on a real local Dask cluster of processes; a signal is sent to the whole process
group, as a terminal's Ctrl-C is, while the plans run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from patrolplan import batch

ROOT = Path(__file__).parent.parent
DISTRICTS = Path(__file__).parent / "data" / "districts"
DATE = "2013-02-20"


def _district_text(**plan: object) -> str:
    """West Oakland's district file with absolute paths and `plan` values changed."""
    text = (DISTRICTS / "west_oakland.toml").read_text(encoding="utf-8")
    text = text.replace("../oakland/", (DISTRICTS.parent / "oakland").as_posix() + "/")
    for key, value in plan.items():
        lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} =")]
        text = "\n".join(lines).replace("[plan]", f"[plan]\n{key} = {value}") + "\n"
    return text


def _fifo(folder: Path, name: str) -> None:
    os.mkfifo(folder / name)


BROKEN: dict[str, Callable[[Path], None]] = {
    # a stem of "..": its plans would land outside --out
    "...toml": lambda d: (d / "...toml").write_text(_district_text(), encoding="utf-8"),
    # a stem starting with a dot: hidden, and "." itself would be --out
    "..hidden.toml": lambda d: (d / "..hidden.toml").write_text(_district_text(), "utf-8"),
    "pipe.toml": lambda d: _fifo(d, "pipe.toml"),
    "folder.toml": lambda d: (d / "folder.toml").mkdir(),
    "not_toml.toml": lambda d: (d / "not_toml.toml").write_bytes(b"\xff\xfe[[["),
    "zero_osm.toml": lambda d: (d / "zero_osm.toml").write_text(
        _district_text().replace(
            'osm = "' + (DISTRICTS.parent / "oakland").as_posix() + '/West-Oakland.osm.bz2"',
            'osm = "/dev/zero"',
        ),
        encoding="utf-8",
    ),
    "zero_layer.toml": lambda d: (d / "zero_layer.toml").write_text(
        _district_text().replace(
            'file = "'
            + (DISTRICTS.parent / "oakland").as_posix()
            + '/oakland_crimes_2012-2013.csv"',
            'file = "/dev/zero"',
        ),
        encoding="utf-8",
    ),
}


def test_each_broken_district_file_fails_on_its_own(tmp_path: Path):
    folder = tmp_path / "districts"
    folder.mkdir()
    for make in BROKEN.values():
        make(folder)
    # the victim a "..toml" district would have overwritten, beside --out
    victim = tmp_path / f"{DATE}_1800_60min"
    victim.mkdir()
    (victim / batch.MARKER).write_text("mine\n", encoding="utf-8")
    out = tmp_path / "out"
    result = batch.run(folder, date=DATE, shifts=[("18:00", "1h")], out=out, workers=1)
    names = {Path(n).name.removesuffix(".toml") for n in BROKEN}
    assert {p.district for p in result.plans} == names
    assert all(p.status == "failed" for p in result.plans)
    for p in result.plans:
        assert p.error
        assert "\n" not in p.error
        assert "Traceback" not in p.error
    errors = {p.district: p.error for p in result.plans}
    assert "cannot name an output folder" in errors[".."]
    assert "cannot name an output folder" in errors["..hidden"]
    assert "is not a regular file" in errors["pipe"]
    assert "is not a regular file" in errors["folder"]
    assert "`osm` /dev/zero is not a regular file" in errors["zero_osm"]
    assert "`crime` /dev/zero is not a regular file" in errors["zero_layer"]
    # nothing written outside --out, nothing removed there; the report lists every file
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["districts", victim.name, "out"])
    assert sorted(p.name for p in victim.iterdir()) == [batch.MARKER]
    assert (victim / batch.MARKER).read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in out.iterdir()) == ["batch_report.json"]
    report = json.loads((out / "batch_report.json").read_text(encoding="utf-8"))
    assert len(report["plans"]) == len(BROKEN)


def _start_batch(
    folder: Path, out: Path
) -> tuple[subprocess.Popen[str], list[str], threading.Thread]:
    """Start ``patrolplan batch`` in its own process group; collect its stderr lines."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "patrolplan",
            "batch",
            str(folder),
            "--out",
            str(out),
            "--date",
            DATE,
            "--shifts",
            "14:00/2h,16:00/2h,18:00/2h",
            "--workers",
            "2",
            "--no-progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    lines: list[str] = []
    assert proc.stderr is not None
    stderr = proc.stderr

    def read() -> None:
        for line in stderr:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return proc, lines, reader


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_batch_cleanly(sig: signal.Signals, code: int, tmp_path: Path):
    folder = tmp_path / "districts"
    folder.mkdir()
    # long plans (a large iteration budget), so the signal finds them running
    for name in ("east", "west"):
        (folder / f"{name}.toml").write_text(_district_text(iterations=400_000), "utf-8")
    out = tmp_path / "out"
    proc, lines, reader = _start_batch(folder, out)
    try:
        # wait (bounded) until the cluster runs the plans, then give them a moment
        for _ in range(1200):
            if any("plans to make" in ln for ln in lines) or proc.poll() is not None:
                break
            threading.Event().wait(0.1)
        assert any("plans to make" in ln for ln in lines), lines
        threading.Event().wait(3)
        assert proc.poll() is None, "the batch ended before the signal"
        os.killpg(proc.pid, sig)
        proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        reader.join(10)
        # closed even when an assertion above fails: an open pipe fails a later test instead
        assert proc.stderr is not None
        proc.stderr.close()
    err = "".join(lines)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert "interrupted" in err
    # the report is written, each plan not made is marked so, nothing temporary is left
    report = json.loads((out / "batch_report.json").read_text(encoding="utf-8"))
    assert len(report["plans"]) == 6
    assert any(p["error"] == "interrupted" for p in report["plans"])
    assert all(p["status"] in ("ok", "failed") for p in report["plans"])
    left = [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]
    assert left == []
    # a plan folder exists only for a finished plan, with its marker
    for plan_dir in out.glob("*/*"):
        assert (plan_dir / batch.MARKER).is_file(), plan_dir
