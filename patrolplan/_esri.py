"""Read ArcGIS REST query responses saved as files: Esri JSON, GeoJSON, a folder of pages.

An ArcGIS Server answers a layer query with ``f=json``/``f=pjson`` (Esri JSON:
``features[].attributes`` and ``geometry {x, y}``, the CRS in ``spatialReference``) or with
``f=geojson``. The two are told apart by their content, never by the file's extension. A
folder of page files from one query (``query_0.json``, ``query_1.json``, ...) is read as one
layer, pages in natural order; rows repeated across pages are left for ingest's duplicate
check (by ``OBJECTID``), which reports them as rejected rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from patrolplan._errors import InputDataError
from patrolplan.i18n import _

#: Esri's own codes for Web Mercator, all EPSG:3857.
_WEB_MERCATOR = {102100, 102113, 900913, 3857}

#: File endings read from a folder of pages.
PAGE_SUFFIXES = (".json", ".pjson", ".geojson")


def load_json(path: Path) -> Any:
    """Parse a JSON file (UTF-8, BOM allowed).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    object
        The parsed document.

    Raises
    ------
    json.JSONDecodeError
        If the file is not JSON (ingest reports it as a file it cannot read).
    """
    return json.loads(path.read_text(encoding="utf-8-sig"))


def is_esri_json(doc: Any) -> bool:
    """Tell an Esri JSON feature set from GeoJSON by its content.

    Parameters
    ----------
    doc
        A parsed JSON document.

    Returns
    -------
    bool
        True for an object with ``features`` that carry ``attributes`` (or an empty feature
        set with Esri's ``geometryType``/``spatialReference``/``fields`` keys, or an ArcGIS
        ``error`` answer) and no GeoJSON ``type``.

    Examples
    --------
    >>> is_esri_json({"features": [{"attributes": {"OBJECTID": 1}}]})
    True
    >>> is_esri_json({"type": "FeatureCollection", "features": []})
    False
    """
    if not isinstance(doc, dict) or doc.get("type") in {"FeatureCollection", "Feature"}:
        return False
    if isinstance(doc.get("error"), dict):
        return True  # a server's error answer, reported as such by esri_frame
    features = doc.get("features")
    if not isinstance(features, list):
        return False
    if features:
        return isinstance(features[0], dict) and "attributes" in features[0]
    return bool({"geometryType", "spatialReference", "fields"} & set(doc))


def esri_crs(doc: dict[str, Any]) -> str | None:
    """Return the CRS of an Esri feature set (``spatialReference`` latestWkid or wkid).

    Parameters
    ----------
    doc
        An Esri JSON feature set.

    Returns
    -------
    str or None
        ``"EPSG:<code>"`` (Esri's 102100 is EPSG:3857), the WKT when only that is given, or
        None when the document names no CRS.

    Examples
    --------
    >>> esri_crs({"spatialReference": {"wkid": 102100, "latestWkid": 3857}})
    'EPSG:3857'
    """
    ref = doc.get("spatialReference")
    if not isinstance(ref, dict):
        features = doc.get("features") or []
        geom = features[0].get("geometry") if features and isinstance(features[0], dict) else None
        ref = geom.get("spatialReference") if isinstance(geom, dict) else None
    if not isinstance(ref, dict):
        return None
    for key in ("latestWkid", "wkid"):
        code = ref.get(key)
        if isinstance(code, int) and not isinstance(code, bool):
            return "EPSG:3857" if code in _WEB_MERCATOR else f"EPSG:{code}"
    wkt = ref.get("wkt")
    return str(wkt) if isinstance(wkt, str) and wkt else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _geometry(geom: Any) -> tuple[str, str, str]:
    """(x, y, geometry type) of one Esri geometry, as ingest's readers give them."""
    if not isinstance(geom, dict) or not geom:
        return "", "", ""
    if "x" in geom and "y" in geom:
        x, y = geom.get("x"), geom.get("y")
        if x is None or y is None or x == "NaN" or y == "NaN":
            return "", "", "Point"
        return _cell(x), _cell(y), "Point"
    for key, kind in (("points", "MultiPoint"), ("paths", "LineString"), ("rings", "Polygon")):
        if key in geom:
            return "", "", kind
    return "", "", "Unknown"


def esri_frame(doc: dict[str, Any], path: Path) -> tuple[pd.DataFrame, str | None]:
    """Turn an Esri JSON feature set into a frame of strings with ``__x``/``__y``.

    Parameters
    ----------
    doc
        The parsed feature set.
    path
        The file it came from, for messages.

    Returns
    -------
    tuple
        ``(frame, crs)``; the frame has the attributes as text plus ``__x``, ``__y`` and
        ``__geomtype``, indexed from 1.

    Raises
    ------
    InputDataError
        If the document is a server error response.
    """
    error = doc.get("error")
    if isinstance(error, dict):
        msg = _("{path}: the server answered with an error ({code}: {message})").format(
            path=path, code=error.get("code", "?"), message=error.get("message", "")
        )
        raise InputDataError(msg)
    features = [f for f in doc.get("features") or [] if isinstance(f, dict)]
    records = []
    for feature in features:
        attrs = feature.get("attributes")
        row = {str(k): _cell(v) for k, v in (attrs if isinstance(attrs, dict) else {}).items()}
        row["__x"], row["__y"], row["__geomtype"] = _geometry(feature.get("geometry"))
        records.append(row)
    df = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    df = df.fillna("").astype(str) if not df.empty else df
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df, esri_crs(doc)


def read_json(path: Path, read_vector: Any) -> tuple[pd.DataFrame, str | None]:
    """Read Esri JSON or GeoJSON, told apart by content.

    Parameters
    ----------
    path
        The file.
    read_vector
        ``path -> (frame, crs)`` reader of GeoJSON (ingest's vector reader).

    Returns
    -------
    tuple
        ``(frame, crs)``, the frame indexed from 1.
    """
    doc = load_json(path)
    if is_esri_json(doc):
        return esri_frame(doc, path)
    df, crs = read_vector(path)
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df, crs


def _natural_key(path: Path) -> tuple[Any, ...]:
    parts = re.split(r"(\d+)", path.name)
    return tuple(int(p) if p.isdigit() else p for p in parts)


def page_files(folder: Path) -> list[Path]:
    """List the page files of a folder in natural order (``query_2`` before ``query_10``).

    Parameters
    ----------
    folder
        The folder.

    Returns
    -------
    list of Path
        Its ``.json``/``.pjson``/``.geojson`` files, hidden ones (``.name``) left out.
    """
    files = [
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(files, key=_natural_key)


def read_folder(folder: Path, read_one: Any) -> tuple[pd.DataFrame, str | None]:
    """Read every page file of `folder` and stack the pages as one layer.

    Parameters
    ----------
    folder
        A folder of Esri JSON or GeoJSON pages of one query.
    read_one
        ``path -> (frame, crs)`` reader of one file.

    Returns
    -------
    tuple
        ``(frame, crs)``, the frame indexed from 1 over all pages in order.

    Raises
    ------
    InputDataError
        If the folder has no page file or its pages name different CRSs.
    """
    files = page_files(folder)
    if not files:
        msg = _("{path}: folder has no .json page files").format(path=folder)
        raise InputDataError(msg)
    frames, crss = [], set()
    for file in files:
        df, crs = read_one(file)
        frames.append(df)
        if crs is not None:
            crss.add(crs)
    if len(crss) > 1:
        msg = _("{path}: the pages name different CRSs {crs}; fetch them with one `outSR`").format(
            path=folder, crs=sorted(crss)
        )
        raise InputDataError(msg)
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    df = df.where(df.notna(), "").astype(str)
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df, next(iter(crss), None)


def read_xlsx(path: Path) -> pd.DataFrame:
    """Read the first sheet of a workbook (an exported attribute table) as text.

    Parameters
    ----------
    path
        An ``.xlsx`` file.

    Returns
    -------
    pandas.DataFrame
        The cells as text ("" for empty), indexed from 1.

    Raises
    ------
    InputDataError
        If the openpyxl package is missing.
    """
    try:
        # pandas reads workbooks through openpyxl, an optional dependency
        df = pd.read_excel(path, dtype=str, engine="openpyxl").fillna("")
    except ImportError:
        msg = _("{path}: reading .xlsx needs the openpyxl package (pip install openpyxl)").format(
            path=path
        )
        raise InputDataError(msg) from None
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df
