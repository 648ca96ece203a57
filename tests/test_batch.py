"""Batch planning on a real local Dask cluster (processes): failures isolated, re-runs skip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from patrolplan import batch, i18n
from patrolplan._errors import InputDataError
from tests._logs import collected

DISTRICTS = Path(__file__).parent / "data" / "districts"
DATE = "2013-02-20"
# 14:00 and 18:00: shifts whose hotspots a street of the clipped extract comes near (the
# 12:00 one lies 111 m beyond the extract's last street and is left out)
SHIFTS = [("14:00", "2h"), ("18:00", "2h")]


@pytest.fixture
def progress_lines():
    with collected() as messages:
        yield messages


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """One batch on a local cluster of 2 processes: 3 district files x 2 shifts."""
    out = tmp_path_factory.mktemp("batch") / "out"
    with collected() as messages:
        result = batch.run(DISTRICTS, date=DATE, shifts=SHIFTS, out=out, workers=2)
    return result, out, messages


def test_failures_are_isolated(first_run):
    result, out, _ = first_run
    status = {(p.district, p.shift): p.status for p in result.plans}
    assert status == {
        ("broken", "14:00/2h"): "failed",
        ("broken", "18:00/2h"): "failed",
        ("west_oakland", "14:00/2h"): "ok",
        ("west_oakland", "18:00/2h"): "ok",
        ("west_oakland_far_post", "14:00/2h"): "failed",
        ("west_oakland_far_post", "18:00/2h"): "failed",
    }
    assert not result.ok
    assert result.workers == 2
    errors = {p.district: p.error for p in result.plans if p.status == "failed"}
    assert "broken.toml: not valid TOML" in errors["broken"]
    assert "is 1,181 m from the nearest street" in errors["west_oakland_far_post"]
    # no folder is left for a failed plan; each ok plan has every file, its log and marker
    assert sorted(p.name for p in out.iterdir()) == ["batch_report.json", "west_oakland"]
    for p in result.plans:
        if p.status == "ok":
            assert p.folder is not None
            assert p.folder.parent == out / "west_oakland"
            names = {f.name for f in p.folder.iterdir()}
            assert {"report.json", "map.html", "routes.geojson", "plan.log", "batch.json"} <= names
            assert "Wrote plan to" in (p.folder / "plan.log").read_text(encoding="utf-8")
            report = json.loads((p.folder / "report.json").read_text(encoding="utf-8"))
            assert (report["params"]["date"], report["params"]["shift_min"]) == (DATE, 120.0)
            assert report["params"]["start"] == p.shift.split("/")[0]
            assert p.worker.startswith("tcp://")
            assert 50 < p.peak_rss_mb < 1500
    assert sorted(f.name for f in (out / "west_oakland").iterdir()) == [
        "2013-02-20_1400_120min",
        "2013-02-20_1800_120min",
    ]


def test_batch_plan_is_the_plain_daily_plan(first_run, tmp_path):
    """Same district, options and seed: the batch writes byte for byte what daily_plan does."""
    from patrolplan import plan as _plan
    from patrolplan.config import load_config
    from patrolplan.options import PlanOptions

    result, _, _ = first_run
    made = next(p for p in result.plans if (p.district, p.shift) == ("west_oakland", "14:00/2h"))
    assert made.folder is not None
    d = load_config(DISTRICTS / "west_oakland.toml")
    opts = PlanOptions.from_mapping({**d.plan, "date": DATE, "start": "14:00", "shift": "2h"})
    plain = _plan.daily_plan(dict(d.incidents), d.osm, list(d.posts), opts, columns=d.columns)
    written = _plan.write_plan(plain, tmp_path / "plain")
    assert {"routes.geojson", "report.json", "schedule.csv"} <= {f.name for f in written}
    for f in written:
        assert f.read_bytes() == (made.folder / f.name).read_bytes(), f.name


def test_summary_table_and_report(first_run):
    result, out, _ = first_run
    table = result.table()
    assert list(table.columns) == ["district", "shift", "status", "seconds", "error", "folder"]
    assert len(table) == 6
    assert (
        table["district"].tolist()
        == ["broken"] * 2 + ["west_oakland"] * 2 + ["west_oakland_far_post"] * 2
    )
    ok = table[table["status"] == "ok"]
    assert ok["folder"].tolist() == [
        "west_oakland/2013-02-20_1400_120min",
        "west_oakland/2013-02-20_1800_120min",
    ]
    assert (table.loc[table["status"] == "failed", "folder"] == "").all()
    assert "6 plans: 2 ok, 4 failed, 0 skipped" in result.summary()
    with i18n.language("ru"):
        russian = result.summary()
    assert russian.splitlines()[0].split()[:3] == ["район", "смена", "статус"]
    assert "с ошибкой" in russian
    assert "планов: 6; готово 2, с ошибкой 4, пропущено 0" in russian
    assert table["status"].tolist().count("failed") == 4  # the table itself keeps its keys

    report = json.loads((out / "batch_report.json").read_text(encoding="utf-8"))
    assert report["counts"] == {"ok": 2, "failed": 4, "skipped": 0}
    assert report["ok"] is False
    assert report["shifts"] == ["14:00/2h", "18:00/2h"]
    assert [p["status"] for p in report["plans"]] == table["status"].tolist()
    # a failed plan's log lines, captured on its worker, are kept in the report
    far = [p for p in report["plans"] if p["district"] == "west_oakland_far_post"]
    assert any("InfeasibleRouteError" in line for line in far[0]["log"])
    # one graph build for the one extract, then the plans
    assert [p["what"].endswith("West-Oakland.osm.bz2") for p in report["prepared"]] == [
        True,
        False,
    ]
    assert all(p["error"] == "" for p in report["prepared"])
    # where the time went: reading the files, the cluster, each plan's start, closing
    assert set(report["timings"]) == {"prepare_s", "cluster_s", "close_s"}
    assert report["timings"]["close_s"] < report["seconds"]
    starts = [p["started_s"] for p in report["plans"]]
    assert starts[:2] == [None, None]  # the broken file never reached a worker
    assert all(0 < s < report["seconds"] for s in starts[2:])


def test_progress_lines_when_not_a_tty(first_run):
    _, _, messages = first_run
    done = [m for m in messages if " done: " in m]
    assert len(done) == 6
    assert done[-1].startswith("6/6 done: ")
    assert any(m.startswith("1/6 done: broken 14:00/2h failed 0.0 s: ") for m in done)


def test_rerun_skips_complete_plans(first_run, tmp_path, progress_lines):
    result, out, _ = first_run
    # the same district files (the infeasible one left out, so no worker is needed)
    again = tmp_path / "districts"
    again.mkdir()
    for name in ("west_oakland.toml", "broken.toml"):
        text = (DISTRICTS / name).read_text(encoding="utf-8").replace("../oakland/", "")
        (again / name).write_text(text, encoding="utf-8")
    for name in ("West-Oakland.osm.bz2", "oakland_crimes_2012-2013.csv"):
        shutil.copy(DISTRICTS.parent / "oakland" / name, again / name)
    before = {
        p.folder: (p.folder / "batch.json").stat().st_mtime_ns
        for p in result.plans
        if p.status == "ok"
    }

    rerun = batch.run(again, date=DATE, shifts=SHIFTS, out=out, progress=True)
    assert [(p.district, p.status) for p in rerun.plans] == [
        ("broken", "failed"),
        ("broken", "failed"),
        ("west_oakland", "skipped"),
        ("west_oakland", "skipped"),
    ]
    assert rerun.workers == 0  # nothing left to plan: no cluster was started
    assert not rerun.ok
    assert {f: (f / "batch.json").stat().st_mtime_ns for f in before} == before
    report = json.loads((out / "batch_report.json").read_text(encoding="utf-8"))
    assert report["counts"] == {"ok": 0, "failed": 2, "skipped": 2}
    assert "4/4 done: west_oakland 18:00/2h skipped 0.0 s" in progress_lines


def test_changed_request_is_not_complete(first_run):
    result, _, _ = first_run
    plan = next(p for p in result.plans if p.status == "ok")
    assert plan.folder is not None
    marker = json.loads((plan.folder / "batch.json").read_text(encoding="utf-8"))
    request = marker["request"]
    assert batch._is_complete(plan.folder, request)
    # other options, other inputs or a missing file: the plan is made again
    changed = {**request, "options": {**request["options"], "iterations": 301}}
    assert not batch._is_complete(plan.folder, changed)
    changed = {**request, "sha256": {**request["sha256"], "crime": "0" * 64}}
    assert not batch._is_complete(plan.folder, changed)


def test_bad_requests_fail_before_any_work(tmp_path):
    with pytest.raises(InputDataError, match="holds no district file"):
        batch.run(tmp_path, date=DATE, out=tmp_path / "out")
    with pytest.raises(InputDataError, match="`date` must be a date YYYY-MM-DD"):
        batch.run(DISTRICTS, date="20.02.2013", out=tmp_path / "out")
    with pytest.raises(InputDataError, match="`shift` must be a duration"):
        batch.run(DISTRICTS, date=DATE, shifts=[("12:00", "soon")], out=tmp_path / "out")
    with pytest.raises(InputDataError, match="`workers` must be at least 1"):
        batch.run(DISTRICTS, date=DATE, out=tmp_path / "out", workers=0)
    with pytest.raises(InputDataError, match="with `scheduler` the cluster decides"):
        batch.run(DISTRICTS, date=DATE, out=tmp_path / "out", workers=2, scheduler="tcp://x:1")
    assert not (tmp_path / "out").exists()


def test_parse_shifts():
    assert batch.parse_shifts("08:00/4h,18:00/4h") == [("08:00", "4h"), ("18:00", "4h")]
    with pytest.raises(InputDataError, match="START/LENGTH"):
        batch.parse_shifts("08:00-4h")
    with pytest.raises(InputDataError, match="same shift twice"):
        batch.parse_shifts("08:00/4h,8:00/240")


def test_progress_bar_on_a_terminal(monkeypatch):
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    bar = batch._Progress(2, enabled=True)
    bar.update(batch.PlanOutcome("a", "08:00/4h", "ok", seconds=1.0))
    bar.update(batch.PlanOutcome("b", "08:00/4h", "failed", error="no hotspot to visit"))
    bar.close()
    text = term.getvalue()
    assert "2/2" in text
    assert "b 08:00/4h failed: no hotspot to visit" in text


def test_local_workers_start_with_the_planning_modules():
    """A local worker has imported the pipeline before its first plan; little housekeeping."""
    import distributed

    def state() -> tuple[bool, bool, bool, str]:
        import sys

        import dask

        return (
            "patrolplan.plan" in sys.modules,
            "patrolplan._top" in sys.modules,
            dask.config.get("distributed.worker.profile.enabled"),
            dask.config.get("distributed.admin.tick.interval"),
        )

    with batch._client(distributed, None, 1) as client:
        assert list(client.run(state).values()) == [(True, True, False, "500ms")]


def test_longest_plans_go_first(tmp_path):
    from patrolplan.request import PlanRequest

    def job(officers: int, shift: str) -> batch._Job:
        plan = PlanRequest.from_file(
            DISTRICTS / "west_oakland.toml", officers=officers, shift=shift, date=DATE
        )
        return batch._Job(plan, "w", shift, tmp_path, {})

    costs = [batch._cost(job(*args)) for args in [(1, "2h"), (2, "2h"), (2, "4h")]]
    assert 0 < costs[0] < costs[1] < costs[2]


def test_date_from_each_district_file(tmp_path):
    """Without `date`, each file's own [plan] date; a file without one fails alone."""
    folder = tmp_path / "districts"
    folder.mkdir()
    text = (DISTRICTS / "west_oakland.toml").read_text(encoding="utf-8")
    text = text.replace("../oakland/", (DISTRICTS.parent / "oakland").as_posix() + "/")
    (folder / "dated.toml").write_text(text.replace("[plan]", f"[plan]\ndate = {DATE}"), "utf-8")
    (folder / "undated.toml").write_text(text, encoding="utf-8")

    result = batch.run(folder, date=None, shifts=[("18:00", "1h")], out=tmp_path / "out", workers=1)
    assert [(p.district, p.status) for p in result.plans] == [
        ("dated", "ok"),
        ("undated", "failed"),
    ]
    dated, undated = result.plans
    assert dated.folder == tmp_path / "out" / "dated" / f"{DATE}_1800_60min"
    assert "undated.toml: no plan date" in undated.error
    report = json.loads((dated.folder / "report.json").read_text(encoding="utf-8"))
    assert (report["params"]["date"], report["params"]["start"]) == (DATE, "18:00")
