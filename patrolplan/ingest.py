"""Read public incident point data into clean, validated incidents.

Reads CSV (UTF-8, UTF-16 with BOM, cp1251, or UTF-8 and cp1251 mixed line by line), XLSX,
GeoJSON, Esri JSON (an ArcGIS REST query response, or a folder of its pages), GeoPackage,
Parquet/GeoParquet and (zipped) Shapefile, maps columns by common names in English, Russian
and Kazakh, by a source's preset (:mod:`patrolplan.presets`) or by an explicit mapping, sets
the CRS, and validates every row in one pass. Valid rows are kept; every rejected row is
reported with its file, row, column, reason and raw value in an :class:`IngestReport`. Only a
file with no usable row at all raises :class:`~patrolplan._errors.InputDataError`.

Output incidents are a GeoDataFrame in EPSG:4326 with the columns ``incident_id``, ``layer``,
``category``, ``severity``, ``datetime`` (naive local wall-clock time; for a value known only
to the day, month or year, the start of that span), ``span_end`` (the end of the span the
incident may lie in, exclusive; equal to ``datetime`` for values with a time of day),
``time_precision`` (``"datetime"``, ``"period"`` (a band of hours of one day, such as the
КПСиСУ layers' 8-hour ``TIME_PERIOD``), ``"date"``, ``"month"``, ``"year"`` or ``"none"``),
``hour`` (empty unless the time of day is known), ``weekday`` (empty for month- and
year-only values), ``source_file``, ``source_row`` and ``geometry``; a preset may add columns
of its own (e.g. ``crime_code``).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import warnings
import zipfile
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import ShapelyError

from patrolplan import _esri, _url, _validate, presets
from patrolplan._errors import InputDataError
from patrolplan.i18n import _, format_number, format_percent, pgettext
from patrolplan.utils import file_sha256, log

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

LAYERS = ("crime", "accident", "juvenile")

#: Known column names per role (:data:`patrolplan.presets.COLUMN_ALIASES`).
COLUMN_ALIASES = presets.COLUMN_ALIASES

#: Harm weights per category and layer. Keys are upper-cased categories.
#: ``crime`` holds Kazakhstan's four statutory gravity classes (Criminal Code art. 11) in
#: English, Russian and Kazakh, and the Baltimore demo's BPD categories.
DEFAULT_SEVERITY: dict[str, dict[str, float]] = {
    "crime": {
        "MINOR": 1.0,
        "НЕБОЛЬШОЙ ТЯЖЕСТИ": 1.0,
        "ОНШАЛЫҚТЫ АУЫР ЕМЕС": 1.0,
        "MEDIUM": 2.0,
        "СРЕДНЕЙ ТЯЖЕСТИ": 2.0,
        "ОРТАША АУЫРЛЫҚТАҒЫ": 2.0,
        "GRAVE": 4.0,
        "ТЯЖКОЕ": 4.0,
        "ТЯЖКИЕ": 4.0,
        "АУЫР": 4.0,
        "ESPECIALLY GRAVE": 8.0,
        "ОСОБО ТЯЖКОЕ": 8.0,
        "ОСОБО ТЯЖКИЕ": 8.0,
        "АСА АУЫР": 8.0,
        **presets.BPD_SEVERITY,
    },
    "accident": {"FATAL": 10.0, "SERIOUS": 5.0, "INJURY": 3.0, "SLIGHT": 1.0, "DAMAGE": 0.5},
    "juvenile": {},
}

_REASONS = (
    "missing_coordinates",
    "invalid_coordinates",
    "out_of_range",
    "not_a_point",
    "outside_area",
    "unparseable_datetime",
    "implausible_datetime",
    "outside_window",
    "duplicate",
    "malformed_row",
    "discontinued",
)


def reason_label(reason: str) -> str:
    """Return a rejection reason for people: the code in English, words in Russian and Kazakh.

    Parameters
    ----------
    reason
        A code of ``IngestReport.rejected`` (``outside_area``, ``malformed_row``, ...).

    Returns
    -------
    str
        The reason in the current language; an unknown code as it is. ``rejected.csv`` and
        ``report.json`` keep the codes.

    Examples
    --------
    >>> from patrolplan.i18n import language
    >>> with language("ru"):
    ...     reason_label("outside_area")
    'вне района'
    >>> reason_label("outside_area")
    'outside_area'
    """
    # the English catalog is the code itself, so English output reads as rejected.csv does
    labels = {
        "missing_coordinates": pgettext("rejection reason", "missing_coordinates"),
        "invalid_coordinates": pgettext("rejection reason", "invalid_coordinates"),
        "out_of_range": pgettext("rejection reason", "out_of_range"),
        "not_a_point": pgettext("rejection reason", "not_a_point"),
        "outside_area": pgettext("rejection reason", "outside_area"),
        "unparseable_datetime": pgettext("rejection reason", "unparseable_datetime"),
        "implausible_datetime": pgettext("rejection reason", "implausible_datetime"),
        "outside_window": pgettext("rejection reason", "outside_window"),
        "duplicate": pgettext("rejection reason", "duplicate"),
        "malformed_row": pgettext("rejection reason", "malformed_row"),
        "discontinued": pgettext("rejection reason", "discontinued"),
    }
    return labels.get(reason, reason)


def reasons_text(counts: Mapping[str, int]) -> str:
    """Write rejection counts as one phrase: ``outside_area 1,846, missing_coordinates 15``.

    Parameters
    ----------
    counts
        Reason code -> rows.

    Returns
    -------
    str
        Reasons (:func:`reason_label`) and counts in the current language, in the given order.
    """
    return ", ".join(f"{reason_label(k)} {format_number(v)}" for k, v in counts.items())


#: Fields of the category or id columns longer than this reject their row as malformed.
MAX_FIELD_CHARS = 10_000

# Datetimes outside these years are rejected (and cannot be held as nanoseconds anyway).
_MIN_YEAR, _MAX_YEAR = 1900, 2261
_MISSING = frozenset({"", "nan", "NaN", "NaT", "nat", "None", "none", "null", "NULL", "<NA>"})
# A UTC offset or zone written after a time of day: Z, UTC, GMT, +03, +0300, -04:00.
_TZ_TAIL = r"(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
_TZ_SPLIT = (
    r"^(?P<body>.*?\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?)\s*"
    r"(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
)
_CLOCK = (
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?$"
)
# d/m/yyyy, m/d/yyyy, d.m.yyyy, d-m-yyyy; and yyyy/m/d, yyyy.m.d
_DMY = r"^(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4})" + _CLOCK
_YMD = r"^(?P<y>\d{4})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<a>\d{1,2})" + _CLOCK


@dataclass(frozen=True, eq=False)
class IngestReport:
    """What ingest read, kept and rejected from one file.

    Attributes
    ----------
    file
        The file read.
    layer
        The layer its rows belong to.
    rows_read
        Data rows found in the file.
    rows_kept
        Rows returned as incidents.
    columns
        Role -> source column used (``lat``, ``lon``, ``datetime``, ``category``, ``id``).
    crs
        CRS of the coordinates as read.
    rejected
        One row per rejected input row: ``file``, ``row`` (1-based data row), ``column``,
        ``reason``, ``value``.
    notes
        Warnings about suspicious but usable data (swapped axes, date-only values...).
    """

    file: str
    layer: str
    rows_read: int
    rows_kept: int
    columns: dict[str, str]
    crs: str
    rejected: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    def reasons(self) -> dict[str, int]:
        """Count rejected rows per reason.

        Returns
        -------
        dict
            Reason -> number of rows, most frequent first.
        """
        counts = self.rejected["reason"].value_counts()
        return {str(k): int(v) for k, v in counts.items()}

    def summary(self) -> str:
        """Describe the report in one line.

        Returns
        -------
        str
            For example ``crimes.csv [crime]: 2,399 read, 446 kept, 1,953 rejected (...)``.
        """
        reasons = reasons_text(self.reasons()) or _("none")
        return _(
            "{file} [{layer}]: {read} read, {kept} kept, {rejected} rejected ({reasons})"
        ).format(
            file=Path(self.file).name,
            layer=self.layer,
            read=format_number(self.rows_read),
            kept=format_number(self.rows_kept),
            rejected=format_number(self.rows_read - self.rows_kept),
            reasons=reasons,
        )


def parse_columns(spec: str | None) -> dict[str, str]:
    """Parse a ``role=column`` list such as ``"lat=Y,lon=X,datetime=Дата"``.

    Parameters
    ----------
    spec
        Comma-separated ``role=column`` pairs, or None.

    Returns
    -------
    dict
        Role -> column name.

    Raises
    ------
    InputDataError
        If a pair has no ``=`` or names an unknown role.
    """
    if not spec:
        return {}
    mapping: dict[str, str] = {}
    for part in spec.split(","):
        role, sep, column = part.partition("=")
        role = role.strip().lower()
        if not sep or not column.strip():
            msg = _("`columns` expects role=column pairs, got {part!r}").format(part=part)
            raise InputDataError(msg)
        if role not in COLUMN_ALIASES:
            msg = _("`columns` role {role!r} is unknown; expected one of {roles}").format(
                role=role, roles=sorted(COLUMN_ALIASES)
            )
            raise InputDataError(msg)
        mapping[role] = column.strip()
    return mapping


def read_incidents(
    path: str | Path,
    *,
    layer: str = "crime",
    columns: Mapping[str, str] | None = None,
    crs: str | None = None,
    area: BaseGeometry | None = None,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
    severity: Mapping[str, float] | None = None,
    tz: str | None = None,
    datetime_format: str | None = None,
    dayfirst: bool | None = None,
    preset: str | None = None,
) -> tuple[gpd.GeoDataFrame, IngestReport]:
    """Read one incident file, validate every row and return the valid incidents.

    Parameters
    ----------
    path
        A CSV, XLSX, GeoJSON, Esri JSON, GeoPackage, Parquet/GeoParquet or Shapefile (``.shp``
        or ``.zip``) file, or a folder of JSON page files of one ArcGIS query (read as one
        layer; rows repeated across pages are rejected as ``duplicate``).
    layer
        ``"crime"``, ``"accident"`` or ``"juvenile"``.
    columns
        Explicit role -> column mapping (roles ``lat``, ``lon``, ``datetime``, ``time``,
        ``category``, ``id``); roles not given are found by :data:`COLUMN_ALIASES`. A
        ``time`` column (``HH:MM``, ``HH:MM:SS`` or ``HHMM``) is combined with the date of
        the ``datetime`` column.
    crs
        CRS of the coordinates when the file does not say, e.g. ``"EPSG:32643"``. Default:
        the file's own CRS, else EPSG:4326. ``"local"`` keeps coordinates of an unknown local
        grid as they are (no CRS; usable for clustering, not for mapping).
    area
        Polygon in EPSG:4326; points outside it are rejected as ``outside_area``.
    since, until
        The time window. An incident is kept when its span (``datetime`` to ``span_end``)
        ends at or before `until` (an instant: lies before `until`) and overlaps
        ``[since, until)``; others are reported as ``outside_window``. So a year-only value
        is never used for a plan that starts inside that year.
    severity
        Category -> harm weight for this layer; default :data:`DEFAULT_SEVERITY`. Categories
        not in the table weigh 1; a table that matches no category is logged as a warning.
    tz
        The district's IANA time zone, e.g. ``"America/New_York"`` or ``"Asia/Almaty"``.
        Values with a UTC offset or ``Z`` are converted to it; values without are taken as
        local time already. Without `tz`, values with offsets keep their wall-clock time when
        they all share one offset, else they are converted to the most common one.
    datetime_format
        An explicit :func:`~datetime.datetime.strptime` format of the date (and time) without
        a UTC offset, e.g. ``"%m/%d/%Y %H:%M"``; rows that do not match it are rejected.
        Default: recognised per pattern (ISO ``yyyy-mm-dd`` is never day-first,
        ``dd.mm.yyyy`` is day-first, ``a/b/yyyy`` is decided from rows with a field above 12).
    dayfirst
        Read ``a/b/yyyy``, ``a-b-yyyy`` and ``a.b.yyyy`` dates day-first (True) or month-first
        (False); default: decided from the data as above.
    preset
        A source's preset from :data:`patrolplan.presets.PRESETS`, e.g. ``"kpssu_rta"``: its
        columns, severity table, date reading and CRS (used only when the file names none)
        are defaults that the arguments above override, and its ``prepare`` hook runs on
        the raw rows first (the rows it rejects are reported like any other).

    Returns
    -------
    tuple
        ``(gdf_incidents, report)``.

    Raises
    ------
    InputDataError
        If the file cannot be read, lacks coordinate columns, or has no valid row; if `tz`
        is not a time zone name, `datetime_format` is not a format or `preset` is unknown.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, report = ingest.read_incidents(datasets.baltimore_crimes())
    >>> report.rows_read, report.rows_kept
    (2399, 2384)
    >>> report.reasons()
    {'missing_coordinates': 15}
    """
    # a PostgreSQL URL is read through patrolplan.db; it is named without its password
    url = str(path) if _url.is_url(path) else None
    path = Path(_url.redact(url)) if url is not None else Path(path)
    if layer not in LAYERS:
        msg = _("`layer` must be one of {layers}, got {layer!r}").format(layers=LAYERS, layer=layer)
        raise InputDataError(msg)
    _check_tz(tz)
    spec = presets.get(preset) if preset is not None else None
    with _validate.warnings_to_log(path.name):
        gdf, report, alerts = _read_incidents(
            path,
            url=url,
            layer=layer,
            columns=columns or {},
            crs=crs,
            area=area,
            since=since,
            until=until,
            severity=severity,
            tz=tz,
            datetime_format=datetime_format,
            dayfirst=dayfirst,
            preset=spec,
        )
    for alert in alerts:
        warnings.warn(alert, UserWarning, stacklevel=2)
    log(report.summary())
    if gdf.empty:
        reasons = reasons_text(report.reasons()) or _("no rows")
        msg = _("{path}: no usable incident among {n} rows ({reasons})").format(
            path=path, n=format_number(report.rows_read), reasons=reasons
        )
        raise InputDataError(msg)
    return gdf, report


def _read_incidents(
    path: Path,
    *,
    url: str | None = None,
    layer: str,
    columns: Mapping[str, str],
    crs: str | None,
    area: BaseGeometry | None,
    since: str | pd.Timestamp | None,
    until: str | pd.Timestamp | None,
    severity: Mapping[str, float] | None,
    tz: str | None,
    datetime_format: str | None,
    dayfirst: bool | None,
    preset: presets.Preset | None = None,
) -> tuple[gpd.GeoDataFrame, IngestReport, list[str]]:
    """Do the work of :func:`read_incidents`; also return the warnings to raise."""
    notes: list[str] = []
    alerts: list[str] = []
    if url is not None:
        from patrolplan import db

        # the box and the window are applied in SQL, so a city-wide table is not pulled whole
        bbox = tuple(area.bounds) if area is not None else None
        df, file_crs, bad_rows = db.read_table(url, bbox=bbox, since=since, until=until)
    else:
        df, file_crs, bad_rows = _read_table(path, notes)
    rows_read = len(df) + len(bad_rows)
    prepared = pd.DataFrame(columns=["row", "column", "reason", "value"])
    if preset is not None:
        # the preset's values are defaults: explicit arguments win
        if preset.prepare is not None:
            df, prepared = preset.prepare(df)
        columns = {**preset.resolve_columns(df.columns), **columns}
        severity = preset.severity if severity is None else severity
        datetime_format = datetime_format or preset.datetime_format
        dayfirst = preset.dayfirst if dayfirst is None else dayfirst
        file_crs = file_crs or preset.crs
    if crs is None:
        crs = file_crs or "EPSG:4326"
    roles = _map_columns(df, path, columns)
    checker = _validate.RowChecker(path, df.index)
    for row, why in bad_rows:
        checker.reject_extra(row, "", "malformed_row", why)
    for (column, reason), group in prepared.groupby(["column", "reason"], sort=False):
        mask = pd.Series(True, index=pd.Index(group["row"]))
        checker.reject(mask, str(column), str(reason), group.set_index("row")["value"])
    _check_field_sizes(df, roles, checker)

    coords = _coordinates(df, roles, checker, crs, area, notes, alerts)
    times = _datetimes(
        df, roles, checker, tz=tz, datetime_format=datetime_format, dayfirst=dayfirst, notes=notes
    )
    category = _text(df, roles.get("category"), "UNKNOWN")
    if "severity" in roles:
        # weighed by its own column: the category keeps its case, e.g. "ст.188 Кража"
        sev_key = _text(df, roles["severity"], "").str.upper()
        sev_key = sev_key.where(sev_key != "", "UNKNOWN")
    else:
        category = sev_key = category.str.upper()
    ids = _text(df, roles.get("id"), "")

    gdf = gpd.GeoDataFrame(
        {
            "incident_id": ids.where(ids != "", df.index.astype(str)),
            "layer": layer,
            "category": category,
            "datetime": times.start,
            "span_end": times.end,
            "time_precision": times.precision,
            "source_file": path.name,
            "source_row": df.index.astype(np.int64),
        },
        geometry=gpd.points_from_xy(coords.lon, coords.lat),
        crs=None if _is_local(crs) else crs,
        index=df.index,
    )
    for column in preset.keep if preset is not None else ():
        if column in df.columns and column not in gdf.columns:
            gdf[column] = _text(df, column, "")
    gdf = gdf.loc[checker.valid()]
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") and not _is_local(crs):
        gdf = gdf.to_crs("EPSG:4326")
    if area is not None:
        _check_area(gdf, area, checker, coords)
    _check_window(gdf, since, until, checker, times)
    _check_duplicates(gdf, roles, checker, df)

    gdf = gdf.loc[checker.valid().reindex(gdf.index)]
    gdf["severity"] = _severity(sev_key.loc[gdf.index], layer, severity, path, notes)
    timed = gdf["time_precision"] == "datetime"
    dated = timed | gdf["time_precision"].isin(["date", "period"])
    gdf["hour"] = gdf["datetime"].dt.hour.where(timed).astype("Int64")
    gdf["weekday"] = gdf["datetime"].dt.day_of_week.where(dated).astype("Int64")
    gdf = gdf.reset_index(drop=True)

    report = IngestReport(
        file=str(path),
        layer=layer,
        rows_read=rows_read,
        rows_kept=len(gdf),
        columns=dict(roles),
        crs=str(crs),
        rejected=checker.table(),
        notes=tuple(notes),
    )
    return gdf, report, alerts


def layer_files(
    incidents: str | Path | Mapping[str, str | Path | None],
) -> dict[str, str | Path | None]:
    """Return the incident file of each layer: one path is the ``crime`` layer.

    Parameters
    ----------
    incidents
        One file, or layer -> file (None: no file for that layer).

    Returns
    -------
    dict
        Layer -> file.

    Raises
    ------
    InputDataError
        If a layer is not one of :data:`LAYERS`.

    Examples
    --------
    >>> layer_files("crimes.csv")
    {'crime': 'crimes.csv'}
    """
    files: dict[str, str | Path | None] = (
        {"crime": incidents} if isinstance(incidents, str | Path) else dict(incidents)
    )
    unknown = set(files) - set(LAYERS)
    if unknown:
        msg = _("`incidents` layers must be among {layers}, got {unknown}").format(
            layers=LAYERS, unknown=sorted(unknown)
        )
        raise InputDataError(msg)
    return files


def read_layers(
    files: Mapping[str, str | Path | None],
    *,
    columns: Mapping[str, Any] | None = None,
    crs: str | Mapping[str, str] | None = None,
    severity: Mapping[str, Mapping[str, float]] | None = None,
    datetime_format: str | Mapping[str, str] | None = None,
    dayfirst: bool | Mapping[str, bool] | None = None,
    tz: str | None = None,
    preset: str | Mapping[str, str] | None = None,
    **kwargs: Any,
) -> tuple[gpd.GeoDataFrame, list[IngestReport]]:
    """Read one file per layer and stack the incidents.

    Parameters
    ----------
    files
        Layer -> path; layers mapped to None are skipped. One file may not serve two layers
        (its incidents would be counted twice).
    columns
        A role -> column mapping for every file, or layer -> (role -> column).
    crs
        One CRS for every file, or layer -> CRS.
    severity
        Layer -> severity table; layers not given use :data:`DEFAULT_SEVERITY`.
    datetime_format, dayfirst
        One value for every file, or layer -> value; see :func:`read_incidents`.
    tz
        The district's time zone, see :func:`read_incidents`.
    preset
        One preset for every file, or layer -> preset; see :func:`read_incidents`.
    **kwargs
        Passed to :func:`read_incidents` for every file.

    Returns
    -------
    tuple
        ``(gdf_incidents, reports)`` with the incidents of all layers, ``incident_id``
        prefixed by the layer when more than one layer is read.

    Raises
    ------
    InputDataError
        If no file is given, or one file is given for two layers.
    """

    def per_layer(value: Any, layer: str) -> Any:
        if isinstance(value, Mapping) and value and set(value) <= set(LAYERS):
            return value.get(layer)
        return value

    given: dict[str, str | Path] = {
        k: str(v) if _url.is_url(v) else Path(v) for k, v in files.items() if v is not None
    }
    _check_distinct_files({k: v for k, v in given.items() if isinstance(v, Path)})
    frames, reports = [], []
    for layer, path in given.items():
        gdf, report = read_incidents(
            path,
            layer=layer,
            columns=per_layer(columns, layer),
            crs=per_layer(crs, layer),
            severity=(severity or {}).get(layer),
            datetime_format=per_layer(datetime_format, layer),
            dayfirst=per_layer(dayfirst, layer),
            tz=tz,
            preset=per_layer(preset, layer),
            **kwargs,
        )
        if len(given) > 1:
            gdf["incident_id"] = layer + ":" + gdf["incident_id"]
        frames.append(gdf)
        reports.append(report)
    if not frames:
        msg = _("`files` names no incident file")
        raise InputDataError(msg)
    local = [r.layer for r, f in zip(reports, frames, strict=True) if f.crs is None]
    if local and len(local) < len(frames):
        msg = _(
            "layer {layers} has local grid coordinates (no CRS) and cannot be combined with "
            "georeferenced layers; give its `crs` or read it on its own"
        ).format(layers=", ".join(local))
        raise InputDataError(msg)
    gdf_all = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    return gdf_all, reports


def _check_distinct_files(given: Mapping[str, Path]) -> None:
    """Refuse one file (same path, link or same content) given for two layers."""
    sizes: dict[int, list[str]] = {}
    for layer, path in given.items():
        if path.is_file():
            sizes.setdefault(path.stat().st_size, []).append(layer)
    # only files of equal size can be the same; hash just those
    seen: dict[str, str] = {}
    for layers in (v for v in sizes.values() if len(v) > 1):
        for layer in layers:
            key = file_sha256(given[layer])
            if key in seen:
                msg = _(
                    "{path}: the same file (or identical content) is given for layers {first} "
                    "and {second}; its incidents would be counted twice"
                ).format(path=given[layer], first=seen[key], second=layer)
                raise InputDataError(msg)
            seen[key] = layer


def _check_tz(tz: str | None) -> None:
    if tz is None:
        return
    try:
        zoneinfo.ZoneInfo(str(tz))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        msg = _(
            "`tz` must be an IANA time zone name such as 'America/New_York', got {tz!r}"
        ).format(tz=tz)
        raise InputDataError(msg) from None


def rejected_rows(reports: list[IngestReport]) -> pd.DataFrame:
    """Stack the rejected rows of several reports.

    Parameters
    ----------
    reports
        Reports from :func:`read_incidents`.

    Returns
    -------
    pandas.DataFrame
        Columns ``file`` (the file's name), ``layer``, ``row``, ``column``, ``reason``,
        ``value`` (the offending cell as written).
    """
    frames = [r.rejected.assign(layer=r.layer) for r in reports]
    cols = ["file", "layer", "row", "column", "reason", "value"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


# ----------------------------------------------------------------------------------------------
# readers

# What the readers raise on a broken file. Anything else is a bug and shows its traceback.
_READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    UnicodeError,
    ValueError,
    csv.Error,
    zipfile.BadZipFile,
    ShapelyError,
)


def _read_errors() -> tuple[type[BaseException], ...]:
    # pyogrio's errors are imported when a read fails, not with the module (CSV plans skip it)
    from pyogrio.errors import DataLayerError, DataSourceError

    errors = (*_READ_ERRORS, DataSourceError, DataLayerError)
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the parquet reader
        return errors
    return (*errors, pa.ArrowException)


def _read_table(
    path: Path, notes: list[str]
) -> tuple[pd.DataFrame, str | None, list[tuple[int, str]]]:
    """Read `path` into a frame of strings indexed by 1-based data row."""
    if not path.is_file() and not path.is_dir():
        msg = _("{path}: file not found").format(path=path)
        raise InputDataError(msg)
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".zip" else path.suffix.lower()
    bad: list[tuple[int, str]] = []
    crs: str | None = None
    try:
        if path.is_dir():
            df, crs = _esri.read_folder(path, lambda p: _esri.read_json(p, _read_vector))
        elif suffix in {".json", ".pjson", ".geojson"}:
            df, crs = _esri.read_json(path, _read_vector)
        elif suffix in {".xlsx", ".xlsm"}:
            df = _esri.read_xlsx(path)
        elif suffix in {".csv", ".txt", ".tsv"}:
            df, bad = _read_csv(path, notes)
        elif suffix in {".parquet", ".geoparquet"}:
            df, crs = _read_parquet(path)
            df.index = pd.RangeIndex(1, len(df) + 1)
        elif suffix in {".gpkg", ".shp", ".zip", ".shp.zip", ".fgb"}:
            df, crs = _read_vector(path)
            df.index = pd.RangeIndex(1, len(df) + 1)
        else:
            msg = _(
                "{path}: unsupported file type {suffix!r}; expected .csv, .geojson, .gpkg, "
                ".parquet, .shp or a zipped Shapefile"
            ).format(path=path, suffix=path.suffix)
            raise InputDataError(msg)
    except InputDataError:
        raise
    except _read_errors() as exc:
        detail = " ".join(str(exc).split())[:300]
        msg = _("{path}: cannot read file ({error}: {detail})").format(
            path=path, error=type(exc).__name__, detail=detail
        )
        raise InputDataError(msg) from None
    if df.empty and not bad:
        msg = _("{path}: file has no data rows").format(path=path)
        raise InputDataError(msg)
    return df, crs, bad


def _decode(raw: bytes, path: Path, notes: list[str]) -> str:
    """Decode CSV bytes: UTF-16 with a BOM, UTF-8 (BOM or not), else per line UTF-8 or cp1251."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            msg = _("{path}: UTF-16 file with an invalid byte at offset {offset}").format(
                path=path, offset=exc.start
            )
            raise InputDataError(msg) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    nul = raw.find(b"\x00")
    if nul >= 0:
        msg = _("{path}: binary file, not text (NUL byte at offset {offset})").format(
            path=path, offset=nul
        )
        raise InputDataError(msg)
    # Not UTF-8 as a whole: decide per line, so a UTF-8 file with a few cp1251 lines (or the
    # reverse) keeps every line readable.
    lines = raw.split(b"\n")
    out: list[str] = []
    n_utf8 = n_cp1251 = 0
    for line in lines:
        try:
            text = line.decode("utf-8")
            n_utf8 += not text.isascii()
        except UnicodeDecodeError:
            text = line.decode("cp1251", errors="replace")
            n_cp1251 += 1
        out.append(text)
    if n_utf8:
        notes.append(
            _(
                "encoding: {n_cp1251} lines read as cp1251 and {n_utf8} non-ASCII lines as "
                "UTF-8 (the file mixes encodings)"
            ).format(n_cp1251=n_cp1251, n_utf8=n_utf8)
        )
    else:
        notes.append(_("encoding: read as cp1251"))
    text = "\n".join(out)
    return text[1:] if text.startswith("\ufeff") else text


def _read_csv(path: Path, notes: list[str]) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    text = _decode(path.read_bytes(), path, notes)
    if not text.strip():
        msg = _("{path}: file is empty").format(path=path)
        raise InputDataError(msg)
    if "\x00" in text:
        msg = _("{path}: binary file, not text (NUL character at {offset})").format(
            path=path, offset=text.index(chr(0))
        )
        raise InputDataError(msg)
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
        )
        df.index = pd.RangeIndex(1, len(df) + 1)
        # a short row reads as empty trailing fields: only counting its fields tells it apart
        if len(df.columns) > 1 and df.iloc[:, -1].eq("").any():
            short = _short_rows(text, delimiter, len(df.columns), len(df))
            if short is not None:
                return df.drop(index=[i for i, _why in short]), short
        else:
            return df, []
    except pd.errors.ParserError:
        pass
    # Ragged rows: read with the csv module to keep good rows and name the bad ones. Its
    # field size limit (128 KiB) is lifted for this file so one huge field rejects one row.
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
        header = next(reader)
        rows, bad, kept_rows = [], [], []
        for i, record in enumerate(reader, start=1):
            if len(record) == len(header):
                rows.append(record)
                kept_rows.append(i)
            elif any(cell.strip() for cell in record):
                longest = max(len(cell) for cell in record)
                extra = f", a field of {longest} characters" if longest > MAX_FIELD_CHARS else ""
                bad.append((i, f"{len(record)} fields, expected {len(header)}{extra}"))
    finally:
        csv.field_size_limit(limit)
    # Keep the file's own row numbers for the good rows.
    df = pd.DataFrame(rows, columns=header, dtype=str, index=pd.Index(kept_rows))
    return df, bad


def _short_rows(
    text: str, delimiter: str, n_fields: int, n_rows: int
) -> list[tuple[int, str]] | None:
    """Find the data rows with fewer fields than the header, numbered as pandas numbers them.

    Returns None when the records cannot be matched to the frame's rows one to one.
    """
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, len(text) + 1))
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
        next(reader)
        # pandas skips blank lines, so they take no row number
        records = [len(r) if any(c.strip() for c in r) else -1 for r in reader if r]
    finally:
        csv.field_size_limit(limit)
    if len(records) != n_rows:
        return None
    return [
        (i, f"{n} fields, expected {n_fields}")
        for i, n in enumerate(records, start=1)
        if 0 < n < n_fields
    ]


def _read_parquet(path: Path) -> tuple[pd.DataFrame, str | None]:
    try:
        gdf = gpd.read_parquet(path)
    except ValueError as exc:
        # a plain (non-geo) Parquet file: read its columns as text
        if "geo" not in str(exc).lower():
            raise
        return pd.read_parquet(path).astype(str), None
    return _vector_to_frame(gdf)


def _read_vector(path: Path) -> tuple[pd.DataFrame, str | None]:
    target = f"zip://{path}" if path.suffix.lower() == ".zip" else path
    gdf = gpd.read_file(target)
    return _vector_to_frame(gdf)


def _vector_to_frame(gdf: gpd.GeoDataFrame) -> tuple[pd.DataFrame, str | None]:
    """Turn point features into string columns ``__x``/``__y`` plus attributes."""
    crs = gdf.crs.to_string() if gdf.crs is not None else None
    geom = gdf.geometry
    is_point = geom.notna() & (geom.geom_type == "Point") & ~geom.is_empty
    x = np.where(is_point, shapely.get_x(geom.values), np.nan)
    y = np.where(is_point, shapely.get_y(geom.values), np.nan)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    df = df.where(df.notna(), "").astype(str)
    df["__x"] = pd.Series(x, dtype=float).map(lambda v: "" if np.isnan(v) else repr(v)).values
    df["__y"] = pd.Series(y, dtype=float).map(lambda v: "" if np.isnan(v) else repr(v)).values
    df["__geomtype"] = geom.geom_type.fillna("").astype(str).values
    return df, crs


# ----------------------------------------------------------------------------------------------
# column mapping and per-row checks


def _map_columns(df: pd.DataFrame, path: Path, explicit: Mapping[str, str]) -> dict[str, str]:
    names = {str(c).strip().lower(): str(c) for c in df.columns}
    roles: dict[str, str] = {}
    for role, column in explicit.items():
        if column not in df.columns:
            msg = _(
                "{path}: column {column!r} given for `{role}` is not in the file; "
                "columns are {columns}"
            ).format(path=path, column=column, role=role, columns=list(map(str, df.columns)))
            raise InputDataError(msg)
        roles[role] = column
    if "__x" in df.columns:
        roles.setdefault("lon", "__x")
        roles.setdefault("lat", "__y")
    for role, aliases in COLUMN_ALIASES.items():
        if role in roles:
            continue
        for alias in aliases:
            if alias in names and names[alias] not in roles.values():
                roles[role] = names[alias]
                break
    missing = tuple(r for r in ("lat", "lon") if r not in roles)
    if missing:
        template = {
            ("lat",): _(
                "{path}: no latitude column; columns are {columns}. "
                "Name them with `columns`, e.g. lat=Y,lon=X"
            ),
            ("lon",): _(
                "{path}: no longitude column; columns are {columns}. "
                "Name them with `columns`, e.g. lat=Y,lon=X"
            ),
            ("lat", "lon"): _(
                "{path}: no latitude or longitude column; columns are {columns}. "
                "Name them with `columns`, e.g. lat=Y,lon=X"
            ),
        }[missing]
        msg = template.format(
            path=path, columns=[c for c in map(str, df.columns) if not c.startswith("__")]
        )
        raise InputDataError(msg)
    if roles.get("time") and not roles.get("datetime"):
        roles.pop("time")
    return roles


def _text(df: pd.DataFrame, column: str | None, default: str) -> pd.Series:
    if column is None:
        return pd.Series(default, index=df.index, dtype=object)
    return df[column].astype(str).str.strip()


def _check_field_sizes(
    df: pd.DataFrame, roles: Mapping[str, str], checker: _validate.RowChecker
) -> None:
    """Reject rows whose category or id is absurdly long (a broken or hostile row)."""
    for role in ("category", "id"):
        column = roles.get(role)
        if column is None:
            continue
        length = df[column].astype(str).str.len()
        long = length > MAX_FIELD_CHARS
        if long.any():
            values = length[long].map(lambda n: f"a field of {n} characters")
            checker.reject(long, column, "malformed_row", values)


def _to_float(values: pd.Series) -> pd.Series:
    """Parse numbers written with a decimal point or a decimal comma."""
    text = values.astype(str).str.strip().str.replace("\u00a0", "", regex=False)
    text = text.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def _is_local(crs: str | None) -> bool:
    return bool(crs) and str(crs).lower() in {"local", "engineering", "none"}


class _Coords(NamedTuple):
    lon: pd.Series
    lat: pd.Series
    raw: pd.Series  # the cells as written, "lat,lon"
    column: str


def _coordinates(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    checker: _validate.RowChecker,
    crs: str,
    area: BaseGeometry | None,
    notes: list[str],
    alerts: list[str],
) -> _Coords:
    lat_col, lon_col = roles["lat"], roles["lon"]
    lat_raw, lon_raw = df[lat_col].astype(str).str.strip(), df[lon_col].astype(str).str.strip()
    lat, lon = _to_float(lat_raw), _to_float(lon_raw)
    shown_lat = "geometry" if lat_col == "__y" else lat_col
    shown_lon = "geometry" if lon_col == "__x" else lon_col
    if "__geomtype" in df.columns:
        bad_geom = (df["__geomtype"] != "Point") & (df["__geomtype"] != "")
        checker.reject(bad_geom, "geometry", "not_a_point", df["__geomtype"])
    empty = (lat_raw == "") | (lon_raw == "") | lat_raw.str.lower().isin({"nan", "none", "null"})
    empty |= lon_raw.str.lower().isin({"nan", "none", "null"})
    checker.reject(empty, f"{shown_lat}/{shown_lon}", "missing_coordinates", lat_raw)
    checker.reject(lat.isna() & ~empty, shown_lat, "invalid_coordinates", lat_raw)
    checker.reject(lon.isna() & ~empty, shown_lon, "invalid_coordinates", lon_raw)
    geographic = not _is_local(crs) and _crs_is_geographic(crs)
    if geographic:
        if _looks_swapped(lat, lon, area):
            ok = lat.notna() & lon.notna()
            lat, lon = lon.where(ok, lat), lat.where(ok, lon)
            notes.append(
                _(
                    "latitude and longitude look swapped in most of {n} rows; "
                    "read them the other way round"
                ).format(n=int(ok.sum()))
            )
            alerts.append(notes[-1])
        bad = (lat.abs() > 90) | (lon.abs() > 180)
        checker.reject(bad & lat.abs().gt(90), shown_lat, "out_of_range", lat_raw)
        checker.reject(bad & ~lat.abs().gt(90), shown_lon, "out_of_range", lon_raw)
    else:
        # A projected CRS with values that fit in degrees is almost certainly a wrong `crs`.
        ok = lat.notna() & lon.notna()
        if (
            ok.any()
            and not _is_local(crs)
            and (lat[ok].abs() <= 90).all()
            and (lon[ok].abs() <= 180).all()
            and lat[ok].abs().max() > 1
        ):
            notes.append(_("coordinates look like degrees but `crs` is {crs}").format(crs=crs))
            alerts.append(notes[-1])
    raw = lat_raw + "," + lon_raw
    return _Coords(lon, lat, raw, f"{shown_lat}/{shown_lon}")


def _looks_swapped(lat: pd.Series, lon: pd.Series, area: BaseGeometry | None) -> bool:
    """Tell whether most coordinates only make sense as (lon, lat) instead of (lat, lon).

    Without an area: most rows have a latitude beyond 90 degrees that fits as a longitude.
    With one: most rows lie near the area's centre only when read the other way round. The
    test is on the coordinates' own plausibility, so a city-wide file of which only a small
    share falls inside the extract is still recognised.
    """
    ok = lat.notna() & lon.notna()
    n = int(ok.sum())
    if n == 0:
        return False
    if int((ok & (lat.abs() > 90) & (lon.abs() <= 90)).sum()) >= 0.5 * n:
        return True
    if area is None or area.is_empty:
        return False
    cx, cy = area.centroid.x, area.centroid.y
    minx, miny, maxx, maxy = area.bounds
    reach = max(1.0, 2.0 * float(np.hypot(maxx - minx, maxy - miny)))
    near_read = int((ok & (np.hypot(lon - cx, lat - cy) <= reach)).sum())
    near_swapped = int((ok & (np.hypot(lat - cx, lon - cy) <= reach)).sum())
    return near_swapped > near_read and near_swapped >= 0.5 * n


def _crs_is_geographic(crs: str) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return bool(CRS.from_user_input(crs).is_geographic)
    except CRSError:
        msg = _("`crs` {crs!r} is not a CRS pyproj understands; give e.g. EPSG:32643").format(
            crs=crs
        )
        raise InputDataError(msg) from None


# ----------------------------------------------------------------------------------------------
# dates and times


class _Times(NamedTuple):
    start: pd.Series  # datetime64[ns], naive local wall-clock
    end: pd.Series  # exclusive end of the span; = start for values with a time of day
    precision: pd.Series
    raw: pd.Series  # the cells as written
    column: str


def _datetimes(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    checker: _validate.RowChecker,
    *,
    tz: str | None,
    datetime_format: str | None,
    dayfirst: bool | None,
    notes: list[str],
) -> _Times:
    index = df.index
    column = roles.get("datetime")
    if column is None:
        notes.append(_("no date column: recency and shift weighting treat all rows alike"))
        nat = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
        none = pd.Series("none", index=index, dtype=object)
        return _Times(nat, nat.copy(), none, pd.Series("", index=index), "datetime")
    date_raw = df[column].astype(str).str.strip()
    missing = date_raw.isin(_MISSING)
    raw, shown = date_raw, column
    if roles.get("time"):
        # a separate time-of-day column completes the date (a midnight time in the date
        # column, as spreadsheets write dates, is dropped first)
        clock = _clock(df[roles["time"]])
        has_clock = ~clock.isin(_MISSING)
        day = date_raw.str.replace(r"[ T]00:00(?::00(?:\.0+)?)?$", "", regex=True)
        raw = date_raw.where(~has_clock, day + " " + clock)
        shown = f"{column}+{roles['time']}"
    body, offset = _split_offset(raw.where(~missing, ""), missing)

    wall = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    precision = pd.Series("datetime", index=index, dtype=object)
    out_of_range = pd.Series(False, index=index)
    formats: dict[str, int] = {}

    def put(stamps: pd.Series, label: str) -> None:
        """Store parsed `stamps`, setting aside years that cannot be right."""
        year = stamps.dt.year
        bad = stamps.notna() & ((year < _MIN_YEAR) | (year > _MAX_YEAR))
        out_of_range.loc[stamps.index[bad]] = True
        good = stamps.notna() & ~bad
        wall.loc[stamps.index[good]] = stamps[good].astype("datetime64[ns]")
        if good.any():
            formats[label] = formats.get(label, 0) + int(good.sum())

    todo = ~missing
    if datetime_format:
        stamps = _strptime(body[todo], datetime_format)
        put(stamps, datetime_format)
        precision[:] = _format_precision(datetime_format)
    else:
        iso = _iso(body[todo])
        put(iso, "yyyy-mm-dd")
        got = iso.notna().reindex(index, fill_value=False)
        n = body.str.len()
        precision[got & (n <= 10)] = "date"
        precision[got & n.between(5, 7)] = "month"
        precision[got & (n == 4)] = "year"
        rest = todo & ~got
        if rest.any():
            # rows of a known pattern are not guessed at again below
            rest.loc[_parse_dmy(body[rest], dayfirst, put, precision, notes)] = False
        rest &= wall.isna() & ~out_of_range
        # anything else with a four-digit year: let pandas try (month names, ...)
        loose = rest & body.str.contains(r"\d{4}", regex=True)
        if loose.any():
            stamps, off = _loose(body[loose], dayfirst=bool(dayfirst))
            put(stamps, "other")
            offset.loc[off.index] = offset.loc[off.index].where(off.isna(), off)
            precision[loose & ~body.str.contains(r"\d:\d", regex=True)] = "date"
    if len(formats) > 1:
        counts = ", ".join(
            _("{format} {n} rows").format(format=k, n=v) for k, v in sorted(formats.items())
        )
        notes.append(_("date formats: {counts}").format(counts=counts))
    wall = _to_local(wall, offset, tz, notes)

    checker.reject(missing, shown, "unparseable_datetime", raw)
    checker.reject(out_of_range, shown, "implausible_datetime", raw)
    checker.reject(wall.isna() & ~missing, shown, "unparseable_datetime", raw)
    future = wall > pd.Timestamp.now()
    checker.reject(future, shown, "implausible_datetime", raw)
    stray = _validate.outlying_times(wall.where(~future & checker.valid()))
    if stray.any():
        kept = wall[~stray & ~future & wall.notna()]
        notes.append(
            _(
                "{n} dates lie far outside the file's own span ({first} to {last}): "
                "rejected as implausible_datetime"
            ).format(
                n=int(stray.sum()), first=f"{kept.min():%Y-%m-%d}", last=f"{kept.max():%Y-%m-%d}"
            )
        )
    checker.reject(stray, shown, "implausible_datetime", raw)
    end = _span_end(wall, precision)
    if presets.SPAN_HOURS_COLUMN in df.columns:
        # a band of hours of the day (a preset's coarse time of day): a span like a date's
        hours = pd.to_numeric(df[presets.SPAN_HOURS_COLUMN], errors="coerce")
        band = wall.notna() & (hours > 0)
        precision[band] = "period"
        end.loc[band] = (wall[band] + pd.to_timedelta(hours[band], unit="h")).astype(
            "datetime64[ns]"
        )
    _precision_notes(wall, precision, notes)
    return _Times(wall, end, precision, raw, shown)


def _split_offset(values: pd.Series, missing: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split a trailing UTC offset (``Z``, ``UTC``, ``+03``, ``-04:00``) from each value.

    Returns the values without it and the offset in minutes (NaN where none was written).
    """
    offset = pd.Series(np.nan, index=values.index)
    cand = ~missing & values.str.contains(_TZ_TAIL, regex=True)
    if not cand.any():
        return values, offset
    parts = values[cand].str.extract(_TZ_SPLIT)
    hit = parts["body"].notna()
    if not hit.any():
        return values, offset
    rows = parts.index[hit]
    body = values.copy()
    body.loc[rows] = parts.loc[rows, "body"].astype(str)
    offset.loc[rows] = parts.loc[rows, "tz"].map(_offset_min).astype(float)
    return body, offset


def _offset_min(text: str) -> float:
    if text in {"Z", "UTC", "GMT"}:
        return 0.0
    sign = -1.0 if text[0] == "-" else 1.0
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0))


def _iso(values: pd.Series) -> pd.Series:
    """Parse ISO 8601 values (``yyyy``, ``yyyy-mm``, ``yyyy-mm-dd[ HH:MM[:SS]]``); else NaT."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(values, format="ISO8601", errors="coerce")
        except (ValueError, OverflowError):
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")


def _strptime(values: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pd.to_datetime(values, format=fmt, errors="coerce")
        except ValueError as exc:
            msg = _("`datetime_format` {fmt!r} is not a strptime format ({error})").format(
                fmt=fmt, error=exc
            )
            raise InputDataError(msg) from None


def _format_precision(fmt: str) -> str:
    if any(d in fmt for d in ("%H", "%I", "%M", "%X", "%T", "%c", "%R")):
        return "datetime"
    if any(d in fmt for d in ("%d", "%j", "%x", "%F", "%D")):
        return "date"
    if any(d in fmt for d in ("%m", "%b", "%B")):
        return "month"
    return "year"


def _parse_dmy(
    values: pd.Series,
    dayfirst: bool | None,
    put: Any,
    precision: pd.Series,
    notes: list[str],
) -> pd.Index:
    """Parse ``a/b/yyyy``, ``a.b.yyyy``, ``a-b-yyyy`` and ``yyyy/m/d`` dates, with a time.

    Returns the rows that have one of these patterns (parsed or not).
    """
    dmy = values.str.extract(_DMY)
    ok = dmy["y"].notna()
    matched = dmy.index[ok]
    if ok.any():
        parts = dmy[ok]
        a, b = parts["a"].astype(int), parts["b"].astype(int)
        dots = parts["sep"] == "."
        # dd.mm.yyyy is day first; a/b/yyyy and a-b-yyyy are decided from the data
        first = pd.Series(True if dayfirst is None else dayfirst, index=parts.index)
        first[~dots] = _decide_dayfirst(a[~dots], b[~dots], dayfirst, notes)
        day, month = a.where(first, b), b.where(first, a)
        stamps = _assemble(parts["y"], month, day, parts)
        put(stamps[dots], "dd.mm.yyyy")
        put(stamps[~dots & first], "dd/mm/yyyy")
        put(stamps[~dots & ~first], "mm/dd/yyyy")
        precision[parts.index[parts["H"].isna()]] = "date"
    rest = values[~ok]
    ymd = rest.str.extract(_YMD)
    ok = ymd["y"].notna()
    if ok.any():
        parts = ymd[ok]
        stamps = _assemble(parts["y"], parts["b"].astype(int), parts["a"].astype(int), parts)
        put(stamps, "yyyy/mm/dd")
        precision[parts.index[parts["H"].isna()]] = "date"
    return matched.append(ymd.index[ok])


def _decide_dayfirst(a: pd.Series, b: pd.Series, dayfirst: bool | None, notes: list[str]) -> bool:
    """Read ``a/b/yyyy`` day first when rows with a first field above 12 say so."""
    if dayfirst is not None or a.empty:
        return bool(dayfirst)
    n_day, n_month = int((a > 12).sum()), int((b > 12).sum())
    if n_day and n_month:
        choice = n_day > n_month
        notes.append(
            _(
                "conflicting date formats: {n_day} rows fit only dd/mm/yyyy and {n_month} only "
                "mm/dd/yyyy; read as {chosen}, the others are rejected as unparseable_datetime; "
                "give `dayfirst` or `datetime_format`"
            ).format(n_day=n_day, n_month=n_month, chosen="dd/mm/yyyy" if choice else "mm/dd/yyyy")
        )
        return choice
    if n_day or n_month:
        return bool(n_day)
    notes.append(
        _(
            "{n} dates like 03/04/2024 have no field above 12; read as mm/dd/yyyy (month "
            "first); give `dayfirst` if they are day first"
        ).format(n=len(a))
    )
    return False


def _assemble(year: pd.Series, month: pd.Series, day: pd.Series, parts: pd.DataFrame) -> pd.Series:
    """Build timestamps from parts; impossible dates and times become NaT."""
    hour = pd.to_numeric(parts["H"], errors="coerce").fillna(0)
    ampm = parts["ampm"].fillna("").str.lower().str.replace(".", "", regex=False)
    pm, am = ampm == "pm", ampm == "am"
    bad_clock = (pm | am) & ((hour > 12) | (hour == 0))
    hour = hour.where(~(pm | am), hour % 12 + np.where(pm, 12, 0))
    years = year.astype(int)
    in_range = years.between(_MIN_YEAR, _MAX_YEAR)
    frame = pd.DataFrame(
        {
            # a year outside the range is built as 2000, then marked (see below)
            "year": years.where(in_range, 2000),
            "month": month,
            "day": day,
            "hour": hour,
            "minute": pd.to_numeric(parts["M"], errors="coerce").fillna(0),
            "second": pd.to_numeric(parts["S"], errors="coerce").fillna(0),
        }
    )
    stamps = pd.to_datetime(frame, errors="coerce")
    stamps[bad_clock] = pd.NaT
    # a valid date in an impossible year: a stand-in year that put() rejects as implausible
    stamps[~in_range & stamps.notna()] = pd.Timestamp(f"{_MIN_YEAR - 1}-01-01")
    return stamps


def _loose(values: pd.Series, *, dayfirst: bool) -> tuple[pd.Series, pd.Series]:
    """Parse whatever pandas understands; return wall-clock times and offsets in minutes."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            stamps = pd.to_datetime(values, format="mixed", errors="coerce", dayfirst=dayfirst)
        except (ValueError, TypeError, OverflowError):
            stamps = pd.Series([_one(v, dayfirst) for v in values], index=values.index)
    offset = pd.Series(np.nan, index=values.index)
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        local = stamps.dt.tz_localize(None)
        utc = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        offset = (local - utc).dt.total_seconds() / 60.0
        stamps = local
    elif stamps.dtype == object:
        # per-value results: some may carry a zone
        offs = [
            np.nan if pd.isna(s) or s.tzinfo is None else s.utcoffset().total_seconds() / 60.0
            for s in stamps
        ]
        offset = pd.Series(offs, index=values.index, dtype=float)
        naive = [pd.NaT if pd.isna(s) else s.tz_localize(None) for s in stamps]
        stamps = pd.Series(pd.to_datetime(naive, errors="coerce"), index=values.index)
    return stamps, offset


def _one(value: str, dayfirst: bool) -> Any:
    try:
        return pd.Timestamp(pd.to_datetime(value, errors="coerce", dayfirst=dayfirst))
    except (ValueError, TypeError, OverflowError):
        return pd.NaT


def _to_local(wall: pd.Series, offset: pd.Series, tz: str | None, notes: list[str]) -> pd.Series:
    """Bring values written with a UTC offset to the district's local wall-clock time."""
    aware = offset.notna() & wall.notna()
    if not aware.any():
        return wall
    offs = offset[aware]
    utc = wall[aware] - pd.to_timedelta(offs, unit="min")
    wall = wall.copy()
    if tz is not None:
        local = utc.dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
        wall.loc[local.index] = local.astype("datetime64[ns]")
        notes.append(_("{n} times with a UTC offset converted to {tz}").format(n=len(offs), tz=tz))
        return wall
    distinct = offs.unique()
    if len(distinct) == 1:
        notes.append(
            _(
                "{n} times carry UTC offset {offset}; kept as written "
                "(give `tz`, the district's time zone, to convert them)"
            ).format(n=len(offs), offset=_fmt_offset(distinct[0]))
        )
        return wall
    # several offsets: the same instant must get the same hour, so bring them to one
    counts = offs.value_counts(sort=False)
    ref = float(counts.index[int(np.argmax(counts.to_numpy()))])
    wall.loc[utc.index] = (utc + pd.Timedelta(minutes=ref)).astype("datetime64[ns]")
    notes.append(
        _(
            "{n} times carry {k} different UTC offsets; converted to the most common, "
            "{offset} (give `tz`, the district's time zone)"
        ).format(n=len(offs), k=len(distinct), offset=_fmt_offset(ref))
    )
    return wall


def _fmt_offset(minutes: float) -> str:
    sign = "-" if minutes < 0 else "+"
    m = int(abs(minutes))
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _span_end(start: pd.Series, precision: pd.Series) -> pd.Series:
    """Exclusive end of the span each value may lie in (the start itself for a time)."""
    end = start.copy()
    for label, step in (
        ("date", pd.offsets.Day(1)),
        ("month", pd.offsets.MonthBegin(1)),
        ("year", pd.offsets.YearBegin(1)),
    ):
        rows = (precision == label) & start.notna()
        if rows.any():
            end.loc[rows] = (start[rows] + step).astype("datetime64[ns]")
    return end


def _precision_notes(wall: pd.Series, precision: pd.Series, notes: list[str]) -> None:
    ok = wall.notna()
    counts = precision[ok].value_counts()
    n_period = int(counts.get("period", 0))
    if n_period:
        notes.append(
            _(
                "time precision: {n} values known only to a period of the day (hour left "
                "empty; each is a span of those hours for the time window)"
            ).format(n=n_period)
        )
    only = {
        "date": _("{n} date-only"),
        "month": _("{n} month-only"),
        "year": _("{n} year-only"),
    }
    coarse = [only[p].format(n=int(counts[p])) for p in ("date", "month", "year") if p in counts]
    if coarse:
        notes.append(
            _(
                "time precision: {counts} values without a time of day (hour left "
                "empty; each is a span of a day, month or year for the time window)"
            ).format(counts=", ".join(coarse))
        )
    timed = wall[ok & (precision == "datetime")]
    if len(timed) >= 20:
        share = float((timed == timed.dt.normalize()).mean())
        if share >= 0.05:
            notes.append(
                _(
                    "{share} of the timed values are at exactly 00:00, which often means the "
                    "time is unknown; kept as 00:00"
                ).format(share=format_percent(share, decimals=1))
            )


def _clock(values: pd.Series) -> pd.Series:
    """Normalise times written ``HHMM`` or ``HH:MM[:SS]`` to ``HH:MM:SS``."""
    text = values.astype(str).str.strip()
    digits = text.str.fullmatch(r"\d{3,4}")
    padded = text.str.zfill(4)
    return text.where(~digits, padded.str[:2] + ":" + padded.str[2:] + ":00")


# ----------------------------------------------------------------------------------------------
# checks on the assembled incidents


def _check_area(
    gdf: gpd.GeoDataFrame,
    area: BaseGeometry,
    checker: _validate.RowChecker,
    coords: _Coords,
) -> None:
    inside = shapely.contains_xy(area, gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
    checker.reject(pd.Series(~inside, index=gdf.index), coords.column, "outside_area", coords.raw)


def _check_window(
    gdf: gpd.GeoDataFrame,
    since: str | pd.Timestamp | None,
    until: str | pd.Timestamp | None,
    checker: _validate.RowChecker,
    times: _Times,
) -> None:
    """Keep incidents whose span ends by `until` and overlaps ``[since, until)``."""
    start, end = gdf["datetime"], gdf["span_end"]
    out = pd.Series(False, index=gdf.index)
    if until is not None:
        # an incident that may lie after the shift start is never used
        out |= (start >= pd.Timestamp(until)) | (end > pd.Timestamp(until))
    if since is not None:
        s = pd.Timestamp(since)
        out |= ~((end > s) | (start >= s))
    checker.reject(out & start.notna(), times.column, "outside_window", times.raw)


def _check_duplicates(
    gdf: gpd.GeoDataFrame,
    roles: Mapping[str, str],
    checker: _validate.RowChecker,
    df: pd.DataFrame,
) -> None:
    valid = checker.valid().reindex(gdf.index)
    sub = gdf.loc[valid]
    if "id" in roles:
        dup = sub["incident_id"].duplicated() & (sub["incident_id"] != "")
        column = roles["id"]
        values = df[column]
    else:
        key = pd.DataFrame(
            {
                "x": sub.geometry.x.round(7),
                "y": sub.geometry.y.round(7),
                "t": sub["datetime"],
                "c": sub["category"],
            }
        )
        dup = key.duplicated()
        column = "geometry+datetime+category"
        values = pd.Series("same point, time and category as an earlier row", index=sub.index)
    checker.reject(dup, column, "duplicate", values)


def _severity(
    category: pd.Series,
    layer: str,
    severity: Mapping[str, float] | None,
    path: Path,
    notes: list[str],
) -> pd.Series:
    """Map categories to harm weights; say so when the table matches none of them."""
    table = {str(k).upper(): float(v) for k, v in (severity or DEFAULT_SEVERITY[layer]).items()}
    weights = category.map(table).fillna(1.0).astype(float)
    seen = category[category != "UNKNOWN"]
    if table and len(seen) and not seen.isin(list(table)).any():
        top = [repr(str(c)[:40]) for c in seen.value_counts().index[:5]]
        notes.append(
            _(
                "no category matches the {layer} severity table, so every incident weighs 1; "
                "categories seen: {categories}"
            ).format(layer=layer, categories=", ".join(top))
        )
        log(f"{path.name}: {notes[-1]}", logging.WARNING)
    return weights
