"""Read public incident point data into clean, validated incidents.

Reads CSV, GeoJSON, GeoPackage, Parquet/GeoParquet and (zipped) Shapefile, maps columns by
common names in English, Russian and Kazakh or by an explicit mapping, sets the CRS, and
validates every row in one pass. Valid rows are kept; every rejected row is reported with its
file, row, column and reason in an :class:`IngestReport`. Only a file with no usable row at all
raises :class:`~patrolplan._errors.InputDataError`.

Output incidents are a GeoDataFrame in EPSG:4326 with the columns ``incident_id``, ``layer``,
``category``, ``severity``, ``datetime`` (naive local time), ``time_precision``
(``"datetime"``, ``"date"``, ``"month"``, ``"year"`` or ``"none"``), ``hour``, ``weekday``,
``source_file``, ``source_row`` and ``geometry``.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from patrolplan import _validate
from patrolplan._errors import InputDataError
from patrolplan.utils import log

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

LAYERS = ("crime", "accident", "juvenile")

#: Known column names, lower-cased, per role. The first match in file order wins.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "lat": ("latitude", "lat", "y", "point_y", "coord_y", "широта", "ендік"),
    "lon": ("longitude", "lon", "lng", "long", "x", "point_x", "coord_x", "долгота", "бойлық"),
    "datetime": (
        "datetime",
        "date_time",
        "occurred",
        "occurred_at",
        "timestamp",
        "crimedatetime",
        "date",
        "crimedate",
        "incident_date",
        "month",
        "year",
        "дата",
        "дата_совершения",
        "дата_время",
        "күні",
        "уақыты_күні",
    ),
    "time": ("time", "crimetime", "время", "уақыты"),
    "category": (
        "category",
        "crime_type",
        "crime type",
        "offense",
        "offence",
        "type",
        "description",
        "crime",
        "статья",
        "вид",
        "категория",
        "тяжесть",
        "санат",
        "түрі",
    ),
    "id": (
        "incident_id",
        "id",
        "case_number",
        "crime_id",
        "crime id",
        "objectid",
        "номер",
        "нөмір",
    ),
}

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
        "HOMICIDE": 10.0,
        "SHOOTING": 9.0,
        "RAPE": 8.0,
        "ROBBERY": 5.0,
        "ARSON": 4.0,
        "ASSAULT": 4.0,
        "BURGLARY": 3.0,
        "AUTO THEFT": 2.0,
        "LARCENY": 1.0,
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
)


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
            For example ``crimes.csv [crime]: 2399 read, 446 kept, 1953 rejected (...)``.
        """
        reasons = ", ".join(f"{k} {v}" for k, v in self.reasons().items()) or "none"
        return (
            f"{Path(self.file).name} [{self.layer}]: {self.rows_read} read, {self.rows_kept} "
            f"kept, {self.rows_read - self.rows_kept} rejected ({reasons})"
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
            msg = f"`columns` expects role=column pairs, got {part!r}"
            raise InputDataError(msg)
        if role not in COLUMN_ALIASES:
            msg = f"`columns` role {role!r} is unknown; expected one of {sorted(COLUMN_ALIASES)}"
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
) -> tuple[gpd.GeoDataFrame, IngestReport]:
    """Read one incident file, validate every row and return the valid incidents.

    Parameters
    ----------
    path
        A CSV, GeoJSON, GeoPackage, Parquet/GeoParquet or Shapefile (``.shp`` or ``.zip``).
    layer
        ``"crime"``, ``"accident"`` or ``"juvenile"``.
    columns
        Explicit role -> column mapping; roles not given are found by :data:`COLUMN_ALIASES`.
    crs
        CRS of the coordinates when the file does not say, e.g. ``"EPSG:32643"``. Default:
        the file's own CRS, else EPSG:4326. ``"local"`` keeps coordinates of an unknown local
        grid as they are (no CRS; usable for clustering, not for mapping).
    area
        Polygon in EPSG:4326; points outside it are rejected as ``outside_area``.
    since, until
        Keep incidents with ``since <= datetime < until``; others are reported as
        ``outside_window``.
    severity
        Category -> harm weight for this layer; default :data:`DEFAULT_SEVERITY`. Categories
        not in the table weigh 1.
    tz
        Timezone to convert timezone-aware datetimes to before dropping the zone; default
        keeps the wall-clock time as written.

    Returns
    -------
    tuple
        ``(gdf_incidents, report)``.

    Raises
    ------
    InputDataError
        If the file cannot be read, lacks coordinate columns, or has no valid row.

    Examples
    --------
    >>> from patrolplan import datasets, ingest
    >>> gdf, report = ingest.read_incidents(datasets.baltimore_crimes())
    >>> report.rows_read, report.rows_kept
    (2399, 2384)
    >>> report.reasons()
    {'missing_coordinates': 15}
    """
    path = Path(path)
    if layer not in LAYERS:
        msg = f"`layer` must be one of {LAYERS}, got {layer!r}"
        raise InputDataError(msg)
    df, file_crs, bad_rows = _read_table(path)
    rows_read = len(df) + len(bad_rows)
    if crs is None:
        crs = file_crs or "EPSG:4326"
    roles = _map_columns(df, path, columns or {})
    checker = _validate.RowChecker(path, df.index)
    for row, why in bad_rows:
        checker.reject_extra(row, "", "malformed_row", why)
    notes: list[str] = []

    lon, lat = _coordinates(df, roles, checker, crs, notes)
    when, precision = _datetimes(df, roles, checker, tz, notes)
    category = _text(df, roles.get("category"), "UNKNOWN").str.upper()
    ids = _text(df, roles.get("id"), "")

    gdf = gpd.GeoDataFrame(
        {
            "incident_id": ids.where(ids != "", df.index.astype(str)),
            "layer": layer,
            "category": category,
            "datetime": when,
            "time_precision": precision,
            "source_file": path.name,
            "source_row": df.index.astype(np.int64),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=None if _is_local(crs) else crs,
        index=df.index,
    )
    ok = checker.valid()
    gdf = gdf.loc[ok]
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326") and not _is_local(crs):
        gdf = gdf.to_crs("EPSG:4326")
    if area is not None:
        _check_area(gdf, area, checker, notes)
    _check_window(gdf, since, until, checker)
    _check_duplicates(gdf, roles, checker)

    gdf = gdf.loc[checker.valid().reindex(gdf.index)]
    table = {k.upper(): float(v) for k, v in (severity or DEFAULT_SEVERITY[layer]).items()}
    gdf["severity"] = gdf["category"].map(table).fillna(1.0).astype(float)
    gdf["hour"] = gdf["datetime"].dt.hour.astype("Int64")
    gdf["weekday"] = gdf["datetime"].dt.day_of_week.astype("Int64")
    gdf = gdf.reset_index(drop=True)

    rejected = checker.table()
    report = IngestReport(
        file=str(path),
        layer=layer,
        rows_read=rows_read,
        rows_kept=len(gdf),
        columns=dict(roles),
        crs=str(crs),
        rejected=rejected,
        notes=tuple(notes),
    )
    log(report.summary())
    if gdf.empty:
        reasons = ", ".join(f"{k} {v}" for k, v in report.reasons().items()) or "no rows"
        msg = f"{path}: no usable incident among {rows_read} rows ({reasons})"
        raise InputDataError(msg)
    return gdf, report


def read_layers(
    files: Mapping[str, str | Path | None],
    *,
    columns: Mapping[str, Any] | None = None,
    crs: str | Mapping[str, str] | None = None,
    severity: Mapping[str, Mapping[str, float]] | None = None,
    **kwargs: Any,
) -> tuple[gpd.GeoDataFrame, list[IngestReport]]:
    """Read one file per layer and stack the incidents.

    Parameters
    ----------
    files
        Layer -> path; layers mapped to None are skipped.
    columns
        A role -> column mapping for every file, or layer -> (role -> column).
    crs
        One CRS for every file, or layer -> CRS.
    severity
        Layer -> severity table; layers not given use :data:`DEFAULT_SEVERITY`.
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
        If no file is given.
    """

    def per_layer(value: Any, layer: str) -> Any:
        if isinstance(value, Mapping) and value and set(value) <= set(LAYERS):
            return value.get(layer)
        return value

    frames, reports = [], []
    given = {k: v for k, v in files.items() if v is not None}
    for layer, path in given.items():
        gdf, report = read_incidents(
            path,
            layer=layer,
            columns=per_layer(columns, layer),
            crs=per_layer(crs, layer),
            severity=(severity or {}).get(layer),
            **kwargs,
        )
        if len(given) > 1:
            gdf["incident_id"] = layer + ":" + gdf["incident_id"]
        frames.append(gdf)
        reports.append(report)
    if not frames:
        msg = "`files` names no incident file"
        raise InputDataError(msg)
    local = [r.layer for r, f in zip(reports, frames, strict=True) if f.crs is None]
    if local and len(local) < len(frames):
        msg = (
            f"layer {', '.join(local)} has local grid coordinates (no CRS) and cannot be "
            "combined with georeferenced layers; give its `crs` or read it on its own"
        )
        raise InputDataError(msg)
    gdf_all = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    return gdf_all, reports


def rejected_rows(reports: list[IngestReport]) -> pd.DataFrame:
    """Stack the rejected rows of several reports.

    Parameters
    ----------
    reports
        Reports from :func:`read_incidents`.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``layer``, ``row``, ``column``, ``reason``, ``value``.
    """
    frames = [r.rejected.assign(layer=r.layer) for r in reports]
    cols = ["file", "layer", "row", "column", "reason", "value"]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


# ----------------------------------------------------------------------------------------------
# readers


def _read_table(path: Path) -> tuple[pd.DataFrame, str | None, list[tuple[int, str]]]:
    """Read `path` into a frame of strings indexed by 1-based data row."""
    if not path.is_file():
        msg = f"{path}: file not found"
        raise InputDataError(msg)
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix == ".zip" else path.suffix.lower()
    try:
        if suffix in {".csv", ".txt", ".tsv"}:
            df, bad = _read_csv(path)
            crs = None
        elif suffix in {".parquet", ".geoparquet"}:
            df, crs = _read_parquet(path)
            df.index, bad = pd.RangeIndex(1, len(df) + 1), []
        elif suffix in {".geojson", ".json", ".gpkg", ".shp", ".zip", ".shp.zip", ".fgb"}:
            df, crs = _read_vector(path)
            df.index, bad = pd.RangeIndex(1, len(df) + 1), []
        else:
            msg = (
                f"{path}: unsupported file type {path.suffix!r}; expected .csv, .geojson, "
                ".gpkg, .parquet, .shp or a zipped Shapefile"
            )
            raise InputDataError(msg)
    except InputDataError:
        raise
    except Exception as exc:
        msg = f"{path}: cannot read file ({type(exc).__name__}: {exc})"
        raise InputDataError(msg) from None
    if df.empty and not bad:
        msg = f"{path}: file has no data rows"
        raise InputDataError(msg)
    return df, crs, bad


def _decode(raw: bytes) -> str:
    """Decode CSV bytes as UTF-8 (with or without BOM), else cp1251."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    text = _decode(path.read_bytes())
    if not text.strip():
        msg = f"{path}: file is empty"
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
        return df, []
    except pd.errors.ParserError:
        pass
    # Ragged rows: read with the csv module to keep good rows and name the bad ones.
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    header = next(reader)
    rows, bad, kept_rows = [], [], []
    for i, record in enumerate(reader, start=1):
        if len(record) == len(header):
            rows.append(record)
            kept_rows.append(i)
        elif any(cell.strip() for cell in record):
            bad.append((i, f"{len(record)} fields, expected {len(header)}"))
    # Keep the file's own row numbers for the good rows.
    df = pd.DataFrame(rows, columns=header, dtype=str, index=pd.Index(kept_rows))
    return df, bad


def _read_parquet(path: Path) -> tuple[pd.DataFrame, str | None]:
    try:
        gdf = gpd.read_parquet(path)
    except ValueError:
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
            msg = (
                f"{path}: column {column!r} given for `{role}` is not in the file; "
                f"columns are {list(map(str, df.columns))}"
            )
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
    missing = [r for r in ("lat", "lon") if r not in roles]
    if missing:
        msg = (
            f"{path}: no {' or '.join('latitude' if m == 'lat' else 'longitude' for m in missing)}"
            f" column; columns are {[c for c in map(str, df.columns) if not c.startswith('__')]}."
            " Name them with `columns`, e.g. lat=Y,lon=X"
        )
        raise InputDataError(msg)
    if roles.get("time") and not roles.get("datetime"):
        roles.pop("time")
    return roles


def _text(df: pd.DataFrame, column: str | None, default: str) -> pd.Series:
    if column is None:
        return pd.Series(default, index=df.index, dtype=object)
    return df[column].astype(str).str.strip()


def _to_float(values: pd.Series) -> pd.Series:
    """Parse numbers written with a decimal point or a decimal comma."""
    text = values.astype(str).str.strip().str.replace("\u00a0", "", regex=False)
    text = text.str.replace(" ", "", regex=False).str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def _is_local(crs: str | None) -> bool:
    return bool(crs) and str(crs).lower() in {"local", "engineering", "none"}


def _coordinates(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    checker: _validate.RowChecker,
    crs: str,
    notes: list[str],
) -> tuple[pd.Series, pd.Series]:
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
        ok = lat.notna() & lon.notna()
        swapped = ok & (lat.abs() > 90) & (lon.abs() <= 90)
        if swapped.any() and swapped.sum() >= 0.5 * ok.sum():
            lat, lon = lon.where(ok, lat), lat.where(ok, lon)
            notes.append(
                f"latitude and longitude look swapped in {int(swapped.sum())} of {int(ok.sum())}"
                " rows; read them the other way round"
            )
            warnings.warn(notes[-1], UserWarning, stacklevel=3)
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
            notes.append(f"coordinates look like degrees but `crs` is {crs}")
            warnings.warn(notes[-1], UserWarning, stacklevel=3)
    return lon, lat


def _crs_is_geographic(crs: str) -> bool:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        return bool(CRS.from_user_input(crs).is_geographic)
    except CRSError:
        msg = f"`crs` {crs!r} is not a CRS pyproj understands; give e.g. EPSG:32643"
        raise InputDataError(msg) from None


def _datetimes(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    checker: _validate.RowChecker,
    tz: str | None,
    notes: list[str],
) -> tuple[pd.Series, pd.Series]:
    column = roles.get("datetime")
    if column is None:
        notes.append("no date column: recency and shift weighting treat all rows alike")
        return (
            pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]"),
            pd.Series("none", index=df.index),
        )
    raw = df[column].astype(str).str.strip()
    if roles.get("time"):
        raw = (raw + " " + _clock(df[roles["time"]])).str.strip()
    missing = raw.isin({"", "nan", "NaT", "None", "null"})
    year_only = raw.str.fullmatch(r"\d{4}")
    month_only = raw.str.fullmatch(r"\d{4}-\d{2}")
    date_only = raw.str.fullmatch(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{4}")
    text = raw.where(~year_only, raw + "-01-01").where(~month_only, raw + "-01")
    dayfirst = bool(raw.str.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}.*").any())
    aware = raw.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True) & ~missing
    wall = raw.str.replace(r"(?:Z|[+-]\d{2}:?\d{2})$", "", regex=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Wall-clock time as written, for every row.
        naive = pd.to_datetime(
            text.where(~missing & ~aware, wall.where(~missing)),
            errors="coerce",
            format="mixed",
            dayfirst=dayfirst,
        )
        if tz and aware.any():
            # Rows with an offset are converted to `tz` when one is given.
            utc = pd.to_datetime(raw.where(aware), errors="coerce", format="mixed", utc=True)
            naive = naive.where(~aware, utc.dt.tz_convert(tz).dt.tz_localize(None))
    naive = naive.astype("datetime64[ns]")
    checker.reject(missing, column, "unparseable_datetime", raw)
    checker.reject(naive.isna() & ~missing, column, "unparseable_datetime", raw)
    now = pd.Timestamp.now()
    implausible = (naive > now) | (naive < pd.Timestamp("1900-01-01"))
    checker.reject(implausible, column, "implausible_datetime", raw)
    precision = pd.Series("datetime", index=df.index)
    precision[date_only.fillna(False)] = "date"
    precision[month_only.fillna(False)] = "month"
    precision[year_only.fillna(False)] = "year"
    n_coarse = int((precision != "datetime").sum())
    if n_coarse:
        notes.append(f"{n_coarse} rows have a date, month or year but no time of day")
    return naive, precision


def _clock(values: pd.Series) -> pd.Series:
    """Normalise times written ``HHMM`` or ``HH:MM[:SS]`` to ``HH:MM:SS``."""
    text = values.astype(str).str.strip()
    digits = text.str.fullmatch(r"\d{3,4}")
    padded = text.str.zfill(4)
    return text.where(~digits, padded.str[:2] + ":" + padded.str[2:] + ":00")


def _check_area(
    gdf: gpd.GeoDataFrame,
    area: BaseGeometry,
    checker: _validate.RowChecker,
    notes: list[str],
) -> None:
    inside = shapely.contains_xy(area, gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy())
    if not inside.any():
        swapped = shapely.contains_xy(area, gdf.geometry.y.to_numpy(), gdf.geometry.x.to_numpy())
        if swapped.mean() > 0.5:
            gdf.geometry = gpd.points_from_xy(gdf.geometry.y, gdf.geometry.x, crs=gdf.crs)
            notes.append("latitude and longitude were swapped; read them the other way round")
            warnings.warn(notes[-1], UserWarning, stacklevel=3)
            inside = swapped
    values = gdf.geometry.y.round(6).astype(str) + "," + gdf.geometry.x.round(6).astype(str)
    checker.reject(pd.Series(~inside, index=gdf.index), "geometry", "outside_area", values)


def _check_window(
    gdf: gpd.GeoDataFrame,
    since: str | pd.Timestamp | None,
    until: str | pd.Timestamp | None,
    checker: _validate.RowChecker,
) -> None:
    when = gdf["datetime"]
    out = pd.Series(False, index=gdf.index)
    if since is not None:
        out |= when < pd.Timestamp(since)
    if until is not None:
        out |= when >= pd.Timestamp(until)
    checker.reject(out & when.notna(), "datetime", "outside_window", when.astype(str))


def _check_duplicates(
    gdf: gpd.GeoDataFrame,
    roles: Mapping[str, str],
    checker: _validate.RowChecker,
) -> None:
    valid = checker.valid().reindex(gdf.index)
    sub = gdf.loc[valid]
    if "id" in roles:
        dup = sub["incident_id"].duplicated() & (sub["incident_id"] != "")
        column = roles["id"]
        values = sub["incident_id"]
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
