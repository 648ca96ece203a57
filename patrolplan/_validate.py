"""Checks that collect every problem in one pass before anything is reported."""

from __future__ import annotations

import contextlib
import logging
import math
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from patrolplan._errors import InputDataError
from patrolplan.i18n import _

_logger = logging.getLogger("patrolplan")

#: Largest severity or layer weight accepted: weights are relative (the presets use 1 to 10),
#: and far larger ones overflow the risk sums.
MAX_WEIGHT = 1e6


def check_number(value: object, where: str, *, lo: float, hi: float, whole: bool = False) -> float:
    """Return `value` as a float if it is a finite number from `lo` to `hi`, else raise.

    Parameters
    ----------
    value
        The value given (from a file, a flag or Python).
    where
        What it is, for the message: the option or key in backticks, with its file.
    lo, hi
        Least and largest value accepted.
    whole
        Accept whole numbers only.

    Returns
    -------
    float
        The value.

    Raises
    ------
    InputDataError
        If `value` is not a number (booleans are not), is NaN or infinite, overflows a float,
        is not whole when `whole`, or lies outside `lo`..`hi`; the message names `where`.

    Examples
    --------
    >>> check_number(float("nan"), "`count_days`", lo=1, hi=3650)
    Traceback (most recent call last):
    ...
    patrolplan._errors.InputDataError: `count_days` must be a number from 1 to 3650, got nan
    """
    number: float | None = None
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float
            number = None
    ok = number is not None and math.isfinite(number) and lo <= number <= hi
    if ok and whole and number is not None and number != int(number):
        ok = False
    if not ok or number is None:
        shown = str(value)
        shown = shown if len(shown) <= 24 else f"{shown[:12]}...({len(shown)} characters)"
        template = (
            _("{where} must be a whole number from {lo:g} to {hi:g}, got {value}")
            if whole
            else _("{where} must be a number from {lo:g} to {hi:g}, got {value}")
        )
        raise InputDataError(template.format(where=where, lo=lo, hi=hi, value=shown))
    return number


#: Largest magnitude :func:`check_flag_numbers` lets through.
MAX_FLAG = 1e9


def check_flag_numbers(values: Mapping[str, object], *, most: float = MAX_FLAG) -> None:
    """Refuse a command's number flags that are NaN, infinite or absurdly large.

    A command's own ranges (a least value, say) are checked by the command line parser; this
    catches what it lets through (``inf``, ``1e308``, a 400-digit whole number), naming the
    flag, before any work.

    Parameters
    ----------
    values
        Flag name (Python spelling, ``walk_min``) -> value given; only numbers are checked.
    most
        Largest magnitude accepted.

    Raises
    ------
    InputDataError
        Naming the first flag (``--walk-min``) whose value is not finite or beyond `most`.

    Examples
    --------
    >>> check_flag_numbers({"walk_min": float("inf"), "out": "plan"})
    Traceback (most recent call last):
    ...
    patrolplan._errors.InputDataError: `--walk-min` must be a number from -1e+09 to 1e+09, got inf
    """
    for name, value in values.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            flag = "`--" + name.replace("_", "-") + "`"
            check_number(value, flag, lo=-most, hi=most, whole=isinstance(value, int))


def check_weight(value: object, where: str) -> float:
    """Return a severity or layer weight checked: a finite number from 0 to :data:`MAX_WEIGHT`.

    Parameters
    ----------
    value
        The weight.
    where
        The key, for the message.

    Returns
    -------
    float
        The weight.

    Raises
    ------
    InputDataError
        If the weight is not a number in range.
    """
    return check_number(value, where, lo=0, hi=MAX_WEIGHT)


def check_weights(severity: Mapping[str, object] | None, where: str) -> None:
    """Check every weight of a category -> weight table (see :func:`check_weight`).

    Parameters
    ----------
    severity
        The table, or None.
    where
        What it is (``[layers.crime] `severity```), for the message.

    Raises
    ------
    InputDataError
        Naming the first category whose weight is wrong.
    """
    for cat, w in (severity or {}).items():
        check_weight(w, f"{where}.{cat}")


class RowChecker:
    """Collect rejected rows of one input file, first reason per row wins.

    Parameters
    ----------
    path
        The file being checked; its name (not the whole path) is written in every rejected
        row, the report's header holds the full path once.
    index
        The 1-based data row numbers of the file.
    """

    def __init__(self, path: Path, index: pd.Index) -> None:
        self.path = Path(path).name
        self._ok = pd.Series(True, index=index)
        self._rows: list[pd.DataFrame] = []

    def reject(self, mask: pd.Series, column: str, reason: str, values: pd.Series) -> None:
        """Reject the still-valid rows where `mask` is true.

        Parameters
        ----------
        mask
            Boolean series over (a subset of) the file's rows.
        column
            The column that holds the problem.
        reason
            A short machine-readable reason such as ``missing_coordinates``.
        values
            The offending values, aligned with `mask`.
        """
        mask = mask.reindex(self._ok.index, fill_value=False).fillna(False).astype(bool)
        hit = mask & self._ok
        if not hit.any():
            return
        rows = hit[hit].index
        self._rows.append(
            pd.DataFrame(
                {
                    "file": self.path,
                    "row": rows.astype("int64"),
                    "column": column,
                    "reason": reason,
                    "value": values.reindex(rows).astype(str).str.slice(0, 200).to_numpy(),
                }
            )
        )
        self._ok &= ~hit

    def reject_extra(self, row: int, column: str, reason: str, value: str) -> None:
        """Record a row that never made it into the frame (e.g. a ragged CSV line).

        Parameters
        ----------
        row
            1-based data row number.
        column
            The column concerned, or ``""``.
        reason
            A short reason.
        value
            What was found.
        """
        self._rows.append(
            pd.DataFrame(
                {
                    "file": [self.path],
                    "row": [row],
                    "column": [column],
                    "reason": [reason],
                    "value": [value],
                }
            )
        )

    def valid(self) -> pd.Series:
        """Return a boolean series: True for rows not rejected so far.

        Returns
        -------
        pandas.Series
            Indexed by data row number.
        """
        return self._ok.copy()

    def table(self) -> pd.DataFrame:
        """Return every rejected row, sorted by row number.

        Returns
        -------
        pandas.DataFrame
            Columns ``file``, ``row``, ``column``, ``reason``, ``value``.
        """
        cols = ["file", "row", "column", "reason", "value"]
        if not self._rows:
            return pd.DataFrame(
                {c: pd.Series(dtype="int64" if c == "row" else object) for c in cols}
            )
        return (
            pd.concat(self._rows, ignore_index=True)
            .sort_values("row", kind="stable")[cols]
            .reset_index(drop=True)
        )


def outlying_times(
    when: pd.Series,
    *,
    tail: float = 0.005,
    k: float = 1.0,
    floor_days: float = 365.0,
    min_rows: int = 20,
) -> pd.Series:
    """Flag times far outside the bulk of a file's own span.

    The bulk is the span between the `tail` and ``1 - tail`` quantiles, so a few stray rows
    cannot stretch it; a time is flagged when it lies more than ``k`` times that span (and at
    least `floor_days`) before or after it.

    Parameters
    ----------
    when
        Datetimes; NaT is never flagged.
    tail
        Share of rows at each end that may be outliers without moving the bulk.
    k
        Margin around the bulk, in multiples of its length.
    floor_days
        Smallest margin, so short files keep a year on either side.
    min_rows
        Files with fewer dated rows are not checked.

    Returns
    -------
    pandas.Series
        Boolean, aligned with `when`.
    """
    flagged = pd.Series(False, index=when.index)
    valid = when.dropna()
    if len(valid) < min_rows:
        return flagged
    days = (valid - pd.Timestamp("1970-01-01")).dt.total_seconds().to_numpy() / 86400.0
    lo, hi = np.quantile(days, [tail, 1.0 - tail])
    margin = max(k * (hi - lo), floor_days)
    out = (days < lo - margin) | (days > hi + margin)
    flagged.loc[valid.index[out]] = True
    return flagged


@contextlib.contextmanager
def warnings_to_log(source: str) -> Iterator[None]:
    """Log runtime and user warnings raised by the readers as one line each.

    numpy's RuntimeWarnings and pyproj's or pandas' UserWarnings carry source paths and
    several lines; inside this block they are caught and logged once each on the
    ``patrolplan`` logger, prefixed by `source`. Other warnings (deprecations) are re-raised.

    Parameters
    ----------
    source
        What the block reads, e.g. the file name.

    Yields
    ------
    None
        Run the reading code inside the block.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, RuntimeWarning | UserWarning):
            first = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
            line = f"{source}: {w.category.__name__}: {first}"
            if line not in seen:
                seen.add(line)
                _logger.warning(line)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
