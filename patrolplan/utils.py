"""Logging, atomic files and safe output folders shared by every module.

:func:`atomic_path` and :func:`atomic_write_text` replace one file only when it is complete.
:func:`atomic_dir` does the same for a folder of files, and keeps a manifest
(:data:`MANIFEST`) of the files it wrote there, so that a later run replaces or removes only
files patrolplan wrote itself and left unchanged; :func:`check_output_dir` finds the problems
it would meet before any work is done. Files and folders get the modes the user's umask
gives (``0644``/``0755`` under umask ``022``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType

from patrolplan import settings
from patrolplan._errors import InputDataError, PatrolPlanError
from patrolplan.i18n import _, ngettext

logger = logging.getLogger("patrolplan")
logging.addLevelName(settings.NOTICE, "NOTICE")

#: Name of the manifest :func:`atomic_dir` keeps in each output folder: every file it wrote
#: there, with its SHA-256.
MANIFEST = ".patrolplan-manifest.json"
# Marker inside a temporary folder: the id of the process writing it.
_PART_MARKER = ".patrolplan-part"


def log(msg: str, level: int = logging.INFO) -> None:
    """Log `msg` on the ``patrolplan`` logger.

    Parameters
    ----------
    msg
        The message.
    level
        A :mod:`logging` level.
    """
    logger.log(level, msg)


def _umask() -> int:
    """Return the process umask (reading it means setting it, so set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _chmod_default(path: Path, mask: int) -> None:
    """Give `path` the mode a plain ``open``/``mkdir`` would under `mask` (not mkstemp's)."""
    mode = 0o777 if path.is_dir() else 0o666
    path.chmod(mode & ~mask)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that replaces `path` only if the block succeeds.

    The file gets the mode the umask gives (``0644`` under umask ``022``).

    Parameters
    ----------
    path
        The final file path. Parent folders are created.

    Yields
    ------
    pathlib.Path
        A temporary file in the same folder; write to it inside the block.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp makes 0600 files; give the result the mode any other new file would get
        _chmod_default(tmp_path, _umask())
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)
    log(_("Saved {path}").format(path=final), logging.DEBUG)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` atomically, as UTF-8.

    Parameters
    ----------
    path
        The final file path.
    text
        The content.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a file's bytes, read in blocks.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        Hex digest.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    with Path(path).open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _read_manifest(folder: Path) -> dict[str, set[str]]:
    """Return file name -> SHA-256 digests patrolplan wrote into `folder` (empty if none).

    A manifest left by an interrupted commit lists the old and the new digest of a file;
    either counts as patrolplan's.
    """
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError):
        log(
            _("{path} cannot be read; no file in {folder} counts as patrolplan's").format(
                path=path, folder=folder
            ),
            logging.WARNING,
        )
        return {}
    files: dict[str, set[str]] = {}
    for key in ("files", "pending"):
        entries = data.get(key, {}) if isinstance(data, dict) else {}
        if not isinstance(entries, dict):
            continue
        for name, digest in entries.items():
            if isinstance(name, str) and isinstance(digest, str) and "/" not in name:
                files.setdefault(name, set()).add(digest)
    return files


def _write_manifest(
    folder: Path, files: dict[str, str], pending: dict[str, str] | None = None
) -> None:
    data: dict[str, object] = {"tool": "patrolplan", "files": dict(sorted(files.items()))}
    if pending:
        data["pending"] = dict(sorted(pending.items()))
    atomic_write_text(folder / MANIFEST, json.dumps(data, indent=1) + "\n")


def _is_own(target: Path, manifest: dict[str, set[str]]) -> bool:
    """Whether `target` is a regular file patrolplan wrote and nobody changed since."""
    if target.is_symlink() or not target.is_file():
        return False
    return target.name in manifest and file_sha256(target) in manifest[target.name]


def _foreign(folder: Path, names: Iterable[str], *, replace_own: bool) -> list[str]:
    """Names in `names` that exist in `folder` and may not be replaced."""
    if not folder.is_dir():
        return []
    manifest = _read_manifest(folder)
    clash = []
    for name in sorted(set(names)):
        target = folder / name
        if not (target.exists() or target.is_symlink()):
            continue
        if not replace_own or not _is_own(target, manifest):
            clash.append(name)
    return clash


def _clash_error(folder: Path, clash: list[str], *, replace_own: bool) -> PatrolPlanError:
    shown = ", ".join(clash[:5])
    if len(clash) > 5:
        shown = _("{files} and {n} more").format(files=shown, n=len(clash) - 5)
    if replace_own:
        template = ngettext(
            "output folder {folder} already holds {files}, which patrolplan did not write (or "
            "that changed since it did); move it away or choose another output folder",
            "output folder {folder} already holds {files}, which patrolplan did not write (or "
            "that changed since it did); move them away or choose another output folder",
            len(clash),
        )
    else:
        template = ngettext(
            "output folder {folder} already holds {files}, which would be replaced; move it "
            "away or choose another output folder",
            "output folder {folder} already holds {files}, which would be replaced; move them "
            "away or choose another output folder",
            len(clash),
        )
    return PatrolPlanError(template.format(folder=folder, files=shown))


def _nearest_existing(path: Path) -> Path:
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            return p
    return Path(path.anchor or ".")


def check_output_dir(
    path: str | os.PathLike[str], *, names: Iterable[str] = (), replace_own: bool = True
) -> Path:
    """Check that plan files can be written into the folder `path`, before any work is done.

    :func:`atomic_dir` makes the same checks when it commits; calling this first turns a
    problem into one line before minutes of computation rather than after.

    Parameters
    ----------
    path
        The output folder; it need not exist yet.
    names
        File names that will be written (``map.html``, ``officer_1.gpx``...). Any of them
        already in the folder must be a file patrolplan wrote there, unchanged since (see
        :data:`MANIFEST`).
    replace_own
        As in :func:`atomic_dir`: False refuses any existing file of the same name.

    Returns
    -------
    pathlib.Path
        `path`, absolute.

    Raises
    ------
    PatrolPlanError
        If `path` or one of its parents is a file, if the folder (or the parent it would be
        created in) is not writable, or if it holds a file of one of `names` that patrolplan
        did not write.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as parent:
    ...     folder = Path(parent) / "plan"
    ...     check_output_dir(folder, names=["map.html"]) == folder.absolute()
    True
    """
    final = Path(path).absolute()
    if final.exists() and not final.is_dir():
        msg = _("output folder {path} is an existing file, not a folder").format(path=final)
        raise PatrolPlanError(msg)
    base = _nearest_existing(final.parent)
    if not base.is_dir():
        msg = _("output folder {path} cannot be created: {base} is a file, not a folder").format(
            path=final, base=base
        )
        raise PatrolPlanError(msg)
    for folder in (base, final) if final.is_dir() else (base,):
        if not os.access(folder, os.W_OK | os.X_OK):
            msg = _(
                "output folder {path} cannot be written: no write permission on {folder}"
            ).format(path=final, folder=folder)
            raise PatrolPlanError(msg)
    clash = _foreign(final, names, replace_own=replace_own)
    if clash:
        raise _clash_error(final, clash, replace_own=replace_own)
    return final


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_parts(final: Path) -> None:
    """Remove temporary folders an interrupted run of patrolplan left beside or in `final`."""
    inside = list(final.glob(f".{final.name}.*.part")) if final.is_dir() else []
    for part in [*final.parent.glob(f".{final.name}.*.part"), *inside]:
        marker = part / _PART_MARKER
        if part.is_symlink() or not marker.is_file():
            continue
        try:
            pid = int(marker.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(part, ignore_errors=True)
            log(_("Removed {path}, left by an interrupted run").format(path=part), logging.INFO)


class _Interrupted(SystemExit):
    """Raised inside the block on SIGTERM/SIGHUP so that the temporary folder is removed."""


@contextlib.contextmanager
def _exit_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into an exception while the block runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise _Interrupted(128 + signum)

    sigs = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s]
    old = {s: signal.signal(s, handler) for s in sigs}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str], *, replace_own: bool = True, shared: bool = False
) -> Iterator[Path]:
    """Yield a temporary folder whose files move into `path` only if the block succeeds.

    If the block raises (SIGINT, SIGTERM and SIGHUP included), nothing is left behind: the
    temporary folder is removed and `path` is neither created nor changed; a temporary folder
    that a killed run left is removed by the next run.

    When the block succeeds, its files replace those of the same name in `path`, provided
    patrolplan wrote them there and nobody changed them since: the folder's manifest
    (:data:`MANIFEST`) lists the SHA-256 of every file patrolplan wrote. Any other file of
    the same name (the user's own ``report.json``, an edited ``schedule.csv``) makes the
    commit refuse, naming it, before anything is moved. Files of an earlier plan that this
    one does not write again (``officer_4.gpx`` after a plan with 3 officers) are removed
    when they are unchanged, so no stale file can pass for this plan's. Other files in
    `path` are left alone.

    Parameters
    ----------
    path
        The final output folder. It may already exist.
    replace_own
        Replace and remove files an earlier run wrote (listed in the manifest and unchanged).
        False refuses any existing file of the same name and leaves earlier files in place.
    shared
        `path` is a folder of other files too (where ``evaluate`` writes its two CSV files):
        the files of earlier runs are kept (only those of the same name are replaced, under
        the same rules), and the temporary folder is made inside `path`, so nothing is
        written beside it.

    A symbolic link `path` is followed; when the folder is on another file system than its
    parent (a mount point, a link to another disk), the temporary folder is made inside it,
    so every file moves within one file system.

    Yields
    ------
    pathlib.Path
        A temporary folder beside `path`; write the files into it (no sub-folders).

    Raises
    ------
    PatrolPlanError
        If `path` is a file or cannot be written (see :func:`check_output_dir`), or if it
        holds a file of the same name as a new one that patrolplan did not write.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as parent:
    ...     out = Path(parent) / "plan"
    ...     with atomic_dir(out) as tmp:
    ...         _ = (tmp / "a.txt").write_text("new")
    ...     sorted(p.name for p in out.iterdir())
    ['.patrolplan-manifest.json', 'a.txt']
    """
    final = check_output_dir(path, replace_own=replace_own)
    if final.is_symlink():
        final = final.resolve()
    mask = _umask()
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        if shared:
            final.mkdir(exist_ok=True)
        where = final if shared or _other_device(final) else final.parent
        _remove_stale_parts(final)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=where))
    except OSError as e:
        msg = _("output folder {path} cannot be created: {error}").format(
            path=final, error=e.strerror or e
        )
        raise PatrolPlanError(msg) from None
    try:
        (tmp / _PART_MARKER).write_text(str(os.getpid()), encoding="ascii")
        with _exit_on_signals():
            yield tmp
            (tmp / _PART_MARKER).unlink()
            _commit(tmp, final, mask, replace_own=replace_own, prune=not shared)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _other_device(folder: Path) -> bool:
    """Whether the existing folder `folder` is on another file system than its parent."""
    try:
        return folder.is_dir() and os.stat(folder).st_dev != os.stat(folder.parent).st_dev
    except OSError:
        return False


def _commit(tmp: Path, final: Path, mask: int, *, replace_own: bool, prune: bool = True) -> None:
    """Move the files of `tmp` into `final`, keeping its manifest (see :func:`atomic_dir`)."""
    items = sorted(p for p in tmp.iterdir() if p.name != _PART_MARKER)
    if any(p.name == MANIFEST for p in items):
        msg = _("{name} is patrolplan's own file; write no file of that name").format(name=MANIFEST)
        raise PatrolPlanError(msg)
    if any(p.is_dir() for p in items):
        msg = _("atomic_dir writes files only; {path} holds a folder").format(path=tmp)
        raise PatrolPlanError(msg)
    new = {p.name: file_sha256(p) for p in items}
    for p in items:
        _chmod_default(p, mask)
    if not final.exists() and tmp.parent != final:
        _chmod_default(tmp, mask)
        _write_manifest(tmp, new)
        os.replace(tmp, final)
        return
    clash = _foreign(final, new, replace_own=replace_own)
    if clash:
        raise _clash_error(final, clash, replace_own=replace_own)
    old = _read_manifest(final)
    # files of an earlier plan: still listed (unchanged), or dropped from the record (changed)
    kept: dict[str, str] = {}
    stale: list[Path] = []
    for name in sorted(set(old) - set(new)):
        target = final / name
        if not (target.exists() or target.is_symlink()):
            continue
        if _is_own(target, old):
            if replace_own and prune:
                stale.append(target)
            else:
                kept[name] = file_sha256(target)
        else:
            log(
                _("{path} changed since patrolplan wrote it; left in place").format(path=target),
                logging.WARNING,
            )
    # record the new files first, so an interruption leaves every file accounted for
    current = {name: file_sha256(final / name) for name in old if _is_own(final / name, old)}
    _write_manifest(final, current, pending=new)
    for p in items:
        os.replace(p, final / p.name)
    for target in stale:
        target.unlink(missing_ok=True)
        log(_("Removed {path}, written by an earlier plan").format(path=target), logging.DEBUG)
    _write_manifest(final, {**kept, **new})


#: Longest wait, seconds, for a named pipe (``--config <(...)``) to deliver its text.
PIPE_WAIT_S = 5.0


def check_input_file(path: str | os.PathLike[str], *, what: str, folder: bool = False) -> Path:
    """Check, without opening it, that `path` is a regular file (or a folder when `folder`).

    A named pipe, a device (``/dev/zero``) or a socket would block or never end when read, so
    it is refused here, before any work, with one line naming it.

    Parameters
    ----------
    path
        The path the user gave.
    what
        What the file is, for messages (``areas file``, ``district file``...).
    folder
        Expect a folder instead of a file.

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    InputDataError
        If `path` is missing, or is not a regular file (not a folder when `folder`).

    Examples
    --------
    >>> check_input_file("/dev/zero", what="areas file")
    Traceback (most recent call last):
    ...
    patrolplan._errors.InputDataError: areas file /dev/zero is not a regular file
    """
    p = Path(path)
    try:
        info = os.stat(p)
    except FileNotFoundError:
        msg = _("{what} {path} not found").format(what=what, path=p)
        raise InputDataError(msg) from None
    except OSError as exc:
        msg = _("{what} {path} cannot be read ({error})").format(
            what=what, path=p, error=exc.strerror or exc
        )
        raise InputDataError(msg) from None
    if folder and not stat.S_ISDIR(info.st_mode):
        msg = _("{what} {path} is not a folder").format(what=what, path=p)
        raise InputDataError(msg)
    if not folder and not stat.S_ISREG(info.st_mode):
        msg = _("{what} {path} is not a regular file").format(what=what, path=p)
        raise InputDataError(msg)
    return p


def _read_pipe(fd: int, path: Path, *, limit: int, what: str) -> bytes:
    """Read a named pipe to its end, waiting at most :data:`PIPE_WAIT_S` for each piece."""
    import select

    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    chunks: list[bytes] = []
    size = 0
    while True:
        if not poller.poll(PIPE_WAIT_S * 1000):
            msg = _("{what} {path}: no text arrived in {seconds:g} s").format(
                what=what, path=path, seconds=PIPE_WAIT_S
            )
            raise InputDataError(msg)
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            msg = _("{what} {path} is larger than {limit} bytes").format(
                what=what, path=path, limit=limit
            )
            raise InputDataError(msg)


def read_small_file(path: Path, *, limit: int, what: str) -> str:
    """Return the UTF-8 text of a file of at most `limit` bytes, opened and read once.

    A regular file is read; so is a named pipe (``--config <(printf ...)``), whose writer
    may take up to :data:`PIPE_WAIT_S` seconds to start and to send each piece. Devices,
    sockets and folders are refused at once.

    The file is opened without blocking and checked on the open descriptor, so a named pipe,
    a device (``/dev/zero``) or a folder is refused at once instead of hanging or filling the
    memory, and a file swapped after the check is never read.

    Parameters
    ----------
    path
        The file.
    limit
        Most bytes accepted.

    Returns
    -------
    str
        The text.

    Raises
    ------
    InputDataError
        If the file is missing, a folder or device, larger than `limit`, not UTF-8, or a pipe
        that sends nothing in time.
    """
    try:
        # opened without blocking: a named pipe with no writer must not hang the command
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        msg = _("{what} {path} not found").format(what=what, path=path)
        raise InputDataError(msg) from None
    except OSError as exc:
        msg = _("{what} {path} cannot be read ({error})").format(
            what=what, path=path, error=exc.strerror or exc
        )
        raise InputDataError(msg) from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        os.close(fd)
        msg = _("{what} {path} is not a regular file").format(what=what, path=path)
        raise InputDataError(msg)
    with os.fdopen(fd, "rb") as f:
        if stat.S_ISFIFO(info.st_mode):
            raw = _read_pipe(f.fileno(), path, limit=limit, what=what)
        elif not stat.S_ISREG(info.st_mode):
            msg = _("{what} {path} is not a regular file").format(what=what, path=path)
            raise InputDataError(msg)
        elif info.st_size > limit:
            msg = _("{what} {path} is larger than {limit} bytes").format(
                what=what, path=path, limit=limit
            )
            raise InputDataError(msg)
        else:
            raw = f.read(limit + 1)
            if len(raw) > limit:
                msg = _("{what} {path} is larger than {limit} bytes").format(
                    what=what, path=path, limit=limit
                )
                raise InputDataError(msg)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = _("{what} {path} cannot be read ({error})").format(what=what, path=path, error=exc)
        raise InputDataError(msg) from None
