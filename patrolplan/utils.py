"""Logging, atomic writes and small time helpers shared by every module."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger("patrolplan")


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


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that replaces `path` only if the block succeeds.

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
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)
    log(f"Saved {final}", logging.DEBUG)


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


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder whose files move into `path` only if the block succeeds.

    If the block raises, nothing is left behind: the temporary folder is removed and `path`
    is neither created nor changed.

    Parameters
    ----------
    path
        The final output folder. It may already exist; files of the same name are replaced.

    Yields
    ------
    pathlib.Path
        A temporary folder beside `path`.
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=final.parent))
    try:
        yield tmp
        if not final.exists():
            os.replace(tmp, final)
        else:
            for item in sorted(tmp.iterdir()):
                target = final / item.name
                if target.is_dir() and not item.is_dir():
                    shutil.rmtree(target)
                os.replace(item, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """Check that `path` can become an output folder, before any work is done.

    Parameters
    ----------
    path
        The output folder; it may exist.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    PatrolPlanError
        If `path` is an existing file, or its nearest existing parent is not writable.
    """
    from patrolplan._errors import PatrolPlanError

    out = Path(path)
    if out.exists() and not out.is_dir():
        msg = f"`out` {out} is an existing file, not a folder"
        raise PatrolPlanError(msg)
    parent = out if out.exists() else out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        msg = f"`out` {out}: {parent} is a file, not a folder"
        raise PatrolPlanError(msg)
    if not os.access(parent, os.W_OK | os.X_OK):
        msg = f"`out` {out}: folder {parent} is not writable"
        raise PatrolPlanError(msg)
    return out
