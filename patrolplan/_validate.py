"""Checks that collect every problem in one pass before anything is reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


class RowChecker:
    """Collect rejected rows of one input file, first reason per row wins.

    Parameters
    ----------
    path
        The file being checked; named in every rejected row.
    index
        The 1-based data row numbers of the file.
    """

    def __init__(self, path: Path, index: pd.Index) -> None:
        self.path = str(path)
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
