"""Atomic files and output folders: modes, manifests, foreign files, signals, bad paths."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from patrolplan import utils as pp_utils
from patrolplan._errors import PatrolPlanError
from patrolplan.utils import MANIFEST, atomic_dir, atomic_write_text, check_output_dir


def _write(out: Path, files: dict[str, str], **kw) -> None:
    with atomic_dir(out, **kw) as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def umask():
    """Set the umask for one test and restore it."""
    old = os.umask(0o022)
    os.umask(old)

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize(
    ("mask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o027, 0o640, 0o750)]
)
def test_files_and_folder_get_the_umask_modes(tmp_path, umask, mask, file_mode, dir_mode):
    umask(mask)
    out = tmp_path / "plan"
    with atomic_dir(out) as tmp:
        atomic_write_text(tmp / "map.html", "<html></html>")
        (tmp / "schedule.csv").write_text("a\n")
    assert stat.S_IMODE(out.stat().st_mode) == dir_mode
    for p in out.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == file_mode, p.name
    # a single atomic file too, and into an existing folder
    atomic_write_text(tmp_path / "one.txt", "x")
    assert stat.S_IMODE((tmp_path / "one.txt").stat().st_mode) == file_mode
    _write(out, {"map.html": "again"})
    assert stat.S_IMODE((out / "map.html").stat().st_mode) == file_mode


def test_manifest_lists_every_file_with_its_hash(tmp_path):
    out = tmp_path / "plan"
    _write(out, {"map.html": "m", "report.json": "{}"})
    assert _names(out) == [MANIFEST, "map.html", "report.json"]
    manifest = json.loads((out / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["map.html", "report.json"]
    assert all(len(h) == 64 for h in manifest["files"].values())
    assert "pending" not in manifest


def test_own_files_are_replaced_and_stale_ones_removed(tmp_path):
    out = tmp_path / "plan"
    _write(out, {"map.html": "v1", "officer_1.gpx": "1", "officer_4.gpx": "4"})
    (out / "notes.txt").write_text("the user's own file, another name")
    _write(out, {"map.html": "v2", "officer_1.gpx": "1b"})
    assert _names(out) == [MANIFEST, "map.html", "notes.txt", "officer_1.gpx"]
    assert (out / "map.html").read_text() == "v2"
    assert sorted(json.loads((out / MANIFEST).read_text())["files"]) == [
        "map.html",
        "officer_1.gpx",
    ]


@pytest.mark.parametrize("name", ["report.json", "sheets.pdf", "officer_7.gpx"])
def test_a_file_patrolplan_did_not_write_is_never_replaced(tmp_path, name):
    out = tmp_path / "plan"
    out.mkdir()
    (out / name).write_text("the user's own work")
    with pytest.raises(PatrolPlanError, match=rf"already holds {name}, which patrolplan did not"):
        _write(out, {"map.html": "m", name: "plan output"})
    # refused before anything moved: the folder is as it was, no temporary folder left
    assert _names(out) == [name]
    assert (out / name).read_text() == "the user's own work"
    assert _names(tmp_path) == ["plan"]
    # the up-front check says the same before any work
    with pytest.raises(PatrolPlanError, match=name):
        check_output_dir(out, names=["map.html", name])


def test_a_file_changed_since_patrolplan_wrote_it_is_kept(tmp_path, caplog):
    out = tmp_path / "plan"
    _write(out, {"schedule.csv": "plan", "officer_3.gpx": "3"})
    (out / "schedule.csv").write_text("plan, with the supervisor's notes")
    with pytest.raises(PatrolPlanError, match=r"schedule\.csv"):
        _write(out, {"schedule.csv": "new plan"})
    assert (out / "schedule.csv").read_text() == "plan, with the supervisor's notes"
    # a changed file of an earlier plan that the new one does not write stays, untracked
    (out / "officer_3.gpx").write_text("edited")
    (out / "schedule.csv").unlink()
    _write(out, {"schedule.csv": "new plan"})
    assert (out / "officer_3.gpx").read_text() == "edited"
    assert "officer_3.gpx changed since patrolplan wrote it" in caplog.text
    assert list(json.loads((out / MANIFEST).read_text())["files"]) == ["schedule.csv"]


def test_replace_own_false_refuses_any_existing_file(tmp_path):
    out = tmp_path / "plan"
    _write(out, {"map.html": "v1", "a.csv": "a"})
    with pytest.raises(PatrolPlanError, match=r"map\.html, which would be replaced"):
        _write(out, {"map.html": "v2"}, replace_own=False)
    _write(out, {"b.csv": "b"}, replace_own=False)
    assert _names(out) == [MANIFEST, "a.csv", "b.csv", "map.html"]
    assert sorted(json.loads((out / MANIFEST).read_text())["files"]) == [
        "a.csv",
        "b.csv",
        "map.html",
    ]


def test_a_folder_or_symlink_of_the_same_name_is_refused(tmp_path):
    out = tmp_path / "plan"
    (out / "map.html").mkdir(parents=True)
    (out / "map.html" / "keep.txt").write_text("x")
    (tmp_path / "elsewhere.txt").write_text("target")
    (out / "report.json").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(PatrolPlanError, match=r"map.html, report.json"):
        _write(out, {"map.html": "m", "report.json": "{}"})
    assert (out / "map.html" / "keep.txt").is_file()
    assert (tmp_path / "elsewhere.txt").read_text() == "target"


def test_out_naming_an_existing_file_is_one_error(tmp_path):
    target = tmp_path / "plan.txt"
    target.write_text("x")
    with pytest.raises(PatrolPlanError, match="is an existing file, not a folder"):
        check_output_dir(target)
    with pytest.raises(PatrolPlanError, match="is an existing file, not a folder"):
        _write(target, {"map.html": "m"})
    with pytest.raises(PatrolPlanError, match=r"plan\.txt is a file, not a folder"):
        check_output_dir(target / "sub" / "plan")
    assert target.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_is_one_error(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(PatrolPlanError, match="no write permission on"):
            check_output_dir(parent / "plan")
        with pytest.raises(PatrolPlanError, match="no write permission on"):
            _write(parent / "plan", {"map.html": "m"})
    finally:
        parent.chmod(0o755)


def test_read_only_parent_is_detected_from_its_mode(tmp_path, monkeypatch):
    # as root, access() grants everything; fake the answer to check the message path
    parent = tmp_path / "ro"
    parent.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: Path(p) != parent and real(p, m))
    with pytest.raises(PatrolPlanError, match=f"no write permission on {parent}$"):
        check_output_dir(parent / "plan")


def test_a_failing_block_leaves_nothing(tmp_path):
    out = tmp_path / "plan"

    def fail() -> None:
        with atomic_dir(out) as tmp:
            (tmp / "map.html").write_text("m")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail()
    assert _names(tmp_path) == []


# The writer imports patrolplan.utils without the package's heavy __init__, to start fast.
SLOW_WRITER = textwrap.dedent(
    """
    import sys, time, types
    package = types.ModuleType("patrolplan")
    package.__path__ = [sys.argv[2]]
    sys.modules["patrolplan"] = package
    from patrolplan.utils import atomic_dir
    with atomic_dir(sys.argv[1]) as tmp:
        (tmp / "map.html").write_text("m")
        print("writing", flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_writing_leaves_no_part_folder(tmp_path, sig):
    out = tmp_path / "plan"
    with subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(out), str(Path(pp_utils.__file__).parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        assert any(p.name.endswith(".part") for p in tmp_path.iterdir())
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "Traceback" not in err or sig == signal.SIGINT
    assert _names(tmp_path) == []


def test_a_part_folder_of_a_killed_run_is_removed_next_time(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    part = tmp_path / ".plan.abc123.part"
    part.mkdir()
    (part / ".patrolplan-part").write_text(dead.stdout.strip())
    (part / "map.html").write_text("half")
    # a folder that looks alike but that patrolplan did not make is left alone
    other = tmp_path / ".plan.zzz.part"
    other.mkdir()
    _write(tmp_path / "plan", {"map.html": "m"})
    assert _names(tmp_path) == [".plan.zzz.part", "plan"]
