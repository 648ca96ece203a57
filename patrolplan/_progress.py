"""Progress of a long loop: a bar on a terminal, a few log lines anywhere else.

:class:`Progress` counts the finished units of a loop (a replayed shift, a backtested window,
a batch plan). Where standard error is a terminal it draws a tqdm bar there (k/N, elapsed,
time left) and, while the bar is open, sends the ``patrolplan`` log lines above it instead of
through it. Anywhere else (a pipe, a CI log, a notebook) it draws nothing and logs a line at
INFO about every tenth of the work, ``Replay: 40/170 test windows, 1 min 12 s left``, and
one at the end. Counting reads the clock only: the work's results never depend on it.

Examples
--------
>>> with Progress(3, what="Replay", unit="window", units="windows", show=False) as bar:
...     for _ in range(3):
...         bar.update()
>>> (bar.done, bar.total)
(3, 3)
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, Literal, TextIO

from patrolplan import settings
from patrolplan.i18n import _, format_number
from patrolplan.utils import log

#: Log lines without a bar: one each time another tenth of the work is done.
LOG_STEPS = 10

Mode = Literal["bar", "log", "off"]


def choose_mode(show: bool | None, stream: TextIO) -> Mode:
    """Decide how progress is shown on `stream`.

    Parameters
    ----------
    show
        True: a bar, wherever `stream` goes; False: nothing; None: a bar when `stream` is a
        terminal, else log lines.
    stream
        Where a bar would be drawn (standard error).

    Returns
    -------
    str
        ``"bar"``, ``"log"`` or ``"off"``.
    """
    if show is None:
        try:
            tty = bool(stream.isatty())
        except (AttributeError, ValueError):  # no isatty, or a closed stream
            tty = False
        return "bar" if tty else "log"
    return "bar" if show else "off"


def _fixed_size(stream: TextIO) -> tuple[int, int] | None:
    """Columns and rows for a bar on a terminal that reports no size; None: follow it."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a terminal: tqdm decides alone
        return None
    # a pseudo-terminal of 0 x 0 (some CI runners) would get an empty, hidden bar
    return None if size.columns > 0 and size.lines > 0 else (80, 24)


def format_duration(seconds: float) -> str:
    """Write a duration for a person: ``1 h 5 min``, ``1 min 12 s``, ``45 s``.

    Parameters
    ----------
    seconds
        The duration; rounded to whole seconds, negative counts as 0.

    Returns
    -------
    str
        The duration in the current language.

    Examples
    --------
    >>> [format_duration(s) for s in (4.6, 72, 3900)]
    ['5 s', '1 min 12 s', '1 h 5 min']
    """
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("{h} h {m} min").format(h=hours, m=minutes)
    if minutes:
        return _("{m} min {s} s").format(m=minutes, s=secs)
    return _("{s} s").format(s=secs)


class _AboveBar(logging.Handler):
    """Write a console handler's lines above a bar instead of through it."""

    def __init__(self, handler: logging.StreamHandler[Any], bar: Any) -> None:
        super().__init__(handler.level)
        self.setFormatter(handler.formatter)
        self.filters = list(handler.filters)
        self.stream = handler.stream
        self.bar = bar

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bar.write(self.format(record), file=self.stream)
        except Exception:  # logging reports its own failures
            self.handleError(record)


@contextlib.contextmanager
def _above_bar(bar: Any, stream: TextIO) -> Iterator[None]:
    """While open, the handlers writing to `stream` write above `bar` (others untouched).

    Only the ``patrolplan`` logger's and the root logger's handlers are swapped, and only
    those writing where the bar is drawn: a log file keeps its own handler, and no handler
    is added where there was none.
    """
    loggers = [logging.getLogger("patrolplan"), logging.getLogger()]
    saved = [logger.handlers for logger in loggers]
    try:
        for logger in loggers:
            logger.handlers = [
                _AboveBar(h, bar) if type(h) is logging.StreamHandler and h.stream is stream else h
                for h in logger.handlers
            ]
        yield
    finally:
        for logger, handlers in zip(loggers, saved, strict=True):
            logger.handlers = handlers


class Progress:
    """Count the finished units of a loop and show how far it is and how long is left.

    Use it as a context manager, so that the bar is closed and the log lines go back to
    their handlers even when the loop fails.

    Parameters
    ----------
    total
        Units the loop will finish.
    what
        What runs, translated (``Replay``); the bar's label and the log lines' start.
    unit
        One unit, translated (``window``), for the bar's rate.
    units
        The units in the form that goes with `total` (``windows``), for the log lines.
    show
        True: a bar on `stream` even when it is not a terminal; False: nothing; None: a bar
        on a terminal, else a log line about every tenth of the work (:func:`choose_mode`).
    stream
        Where the bar goes; default standard error.
    clock
        Seconds from a fixed point; default :func:`time.monotonic`.
    """

    def __init__(
        self,
        total: int,
        *,
        what: str,
        unit: str,
        units: str,
        show: bool | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(0, int(total))
        self.done = 0
        self.what = what
        self.units = units
        self.stream = sys.stderr if stream is None else stream
        self.mode: Mode = choose_mode(show, self.stream)
        self._clock = clock
        self._t0 = clock()
        self._step = 0
        self._exit = contextlib.ExitStack()
        self.bar: Any = None
        if self.mode == "bar":
            from tqdm import tqdm

            size = _fixed_size(self.stream)
            ncols, nrows = size if size is not None else (None, None)
            self.bar = tqdm(
                total=self.total,
                desc=what,
                unit=unit,
                file=self.stream,
                ncols=ncols,
                nrows=nrows,
                dynamic_ncols=size is None,
            )
            # log lines are written above the bar, not through it
            self._exit.enter_context(_above_bar(self.bar, self.stream))

    @property
    def elapsed_s(self) -> float:
        """Seconds since the loop started."""
        return self._clock() - self._t0

    @property
    def left_s(self) -> float | None:
        """Seconds left at the mean pace so far; None before the first unit is done."""
        if self.done <= 0:
            return None
        return self.elapsed_s / self.done * max(0, self.total - self.done)

    def update(self, n: int = 1, *, note: str = "", line: str | None = None) -> None:
        """Count `n` more finished units.

        Parameters
        ----------
        n
            Units just finished.
        note
            Shown after the bar (the unit just done).
        line
            Without a bar, log this line for these units instead of the line about every
            tenth of the work.
        """
        self.done += n
        if self.mode == "bar":
            if note:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update(n)
        elif self.mode == "log":
            if line is not None:
                log(line, settings.NOTICE)
            else:
                self._log_step()

    def _log_step(self) -> None:
        step = LOG_STEPS if self.total <= 0 else self.done * LOG_STEPS // self.total
        if step <= self._step:
            return
        self._step = step
        done, total = format_number(self.done), format_number(self.total)
        left = self.left_s
        if self.done >= self.total or left is None:
            text = _("{what}: {done}/{total} {units} in {elapsed}").format(
                what=self.what,
                done=done,
                total=total,
                units=self.units,
                elapsed=format_duration(self.elapsed_s),
            )
        else:
            text = _("{what}: {done}/{total} {units}, {left} left").format(
                what=self.what,
                done=done,
                total=total,
                units=self.units,
                left=format_duration(left),
            )
        log(text, settings.NOTICE)

    def write(self, text: str) -> None:
        """Write a line above the bar; without one, log it.

        Parameters
        ----------
        text
            The line.
        """
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        elif self.mode == "log":
            log(text)

    def close(self) -> None:
        """Close the bar and give the log lines back to their handlers (again: no effect)."""
        if self.bar is not None:
            self.bar.close()
        self._exit.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
