"""District configuration files (TOML) and column presets for known data sources.

A district file names the street extract, the posts, the incident layers with their column
mapping, CRS, layer weight and severity table, and the plan defaults, so a supervisor's daily
command shrinks to ``patrolplan plan --config district.toml --date ...``. Paths are relative
to the file. Example::

    [district]
    name = "Baltimore demo"
    osm = "baltimore/baltimore_walk.osm.bz2"
    posts = [[39.2826, -76.5932], [39.2905, -76.5790]]

    [layers.crime]
    file = "baltimore/baltimore_crimes_2016-06.csv"
    preset = "baltimore"          # columns, dates and severity of a known source
    weight = 1.0

    [layers.accident]
    file = "accidents.csv"
    columns = { lat = "Y", lon = "X", datetime = "Дата", category = "Тяжесть" }
    crs = "EPSG:32643"
    weight = 0.5
    severity = { "ПОГИБШИЕ" = 10, "РАНЕНЫЕ" = 3 }

    [plan]
    officers = 3
    shift = "4h"
    start = "18:00"
    dwell_min = 12
    revisit = "60-150"            # a hotspot may be visited again 60 to 150 min later
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from patrolplan import presets as _presets
from patrolplan._errors import InputDataError
from patrolplan._url import is_url
from patrolplan._validate import check_weight
from patrolplan.i18n import _
from patrolplan.ingest import LAYERS
from patrolplan.options import PlanOptions
from patrolplan.utils import read_small_file

#: The named presets a layer may use (:data:`patrolplan.presets.PRESETS`).
PRESETS = _presets.PRESETS

_LAYER_KEYS = {
    "file",
    "preset",
    "columns",
    "crs",
    "weight",
    "severity",
    "datetime_format",
    "dayfirst",
}


@dataclass(frozen=True)
class District:
    """A district file, read and checked.

    Attributes
    ----------
    path
        The file read.
    osm
        The street extract, or None when the file names none.
    posts, ends
        ``(lat, lon)`` of the posts and of the open routes' end points.
    incidents
        Layer -> incident file.
    columns, crs, severity, layer_weights, datetime_format, dayfirst
        Per-layer column mapping, CRS, severity table, weight and date reading, for
        :func:`patrolplan.plan.daily_plan`.
    plan
        The ``[plan]`` values, checked against :class:`~patrolplan.options.PlanOptions`.
    name
        ``[district] name``, or None.
    presets
        Layer -> the preset it names.
    db
        ``[output] db``: a PostgreSQL URL every plan of the district is also stored in.
    """

    path: Path
    osm: Path | None = None
    posts: tuple[tuple[float, float], ...] = ()
    ends: tuple[tuple[float, float], ...] = ()
    incidents: dict[str, Path | str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    crs: dict[str, str] = field(default_factory=dict)
    severity: dict[str, dict[str, float]] = field(default_factory=dict)
    layer_weights: dict[str, float] = field(default_factory=dict)
    datetime_format: dict[str, str] = field(default_factory=dict)
    dayfirst: dict[str, bool] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    name: str | None = None
    presets: dict[str, str] = field(default_factory=dict)
    db: str | None = None


def _points(value: object, where: str) -> tuple[tuple[float, float], ...]:
    ok = isinstance(value, list) and all(
        isinstance(p, list)
        and len(p) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
        for p in value
    )
    if not ok:
        msg = _("{where} must be a list of [lat, lon] pairs of numbers, got {value!r}").format(
            where=where, value=value
        )
        raise InputDataError(msg)
    assert isinstance(value, list)
    return tuple((float(p[0]), float(p[1])) for p in value)


def _need(value: object, kind: type | tuple[type, ...], where: str, expected: str) -> None:
    if not isinstance(value, kind) or isinstance(value, bool):
        msg = _("{where} must be {expected}, got {value!r} ({type})").format(
            where=where, expected=expected, value=value, type=type(value).__name__
        )
        raise InputDataError(msg)


def load_config(path: str | Path) -> District:
    """Read and check a district TOML file.

    Every key is checked before any data is read: an unknown key, or a value of the wrong type,
    raises one error naming the file, the key and the type expected.

    Parameters
    ----------
    path
        The TOML file.

    Returns
    -------
    District
        The extract, posts, layers and ``[plan]`` values; paths are made relative to the file.

    Raises
    ------
    InputDataError
        If the file is missing, is not TOML, or has unknown keys, presets, layers or values of
        the wrong type.

    Examples
    --------
    >>> from patrolplan import datasets
    >>> cfg = load_config(datasets.data_dir() / "baltimore.toml")
    >>> sorted(cfg.incidents), len(cfg.posts), cfg.plan["officers"]
    (['crime'], 2, 3)
    """
    path = Path(path)
    return from_toml(read_toml(path), path)


#: Largest district file read, bytes: a district file is a few kilobytes.
MAX_FILE_BYTES = 1_000_000


#: Deepest nesting (arrays, inline tables, dotted keys) a district file may have.
MAX_NESTING = 64


def _nesting(text: str) -> int:
    """Return the deepest nesting of brackets, braces and dotted-key parts outside strings."""
    depth = deepest = dots = 0
    value = False  # after "=" on a line: dots there are decimals, not key parts
    header = False  # a [table] or [[array]] header: its dots are key parts
    fresh = True  # nothing but blanks since the line began
    quote = ""
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\" and quote in ('"', '"""'):
                i += 1
            elif text.startswith(quote, i):
                i += len(quote) - 1
                quote = ""
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote) - 1
        elif c == "#":
            while i + 1 < len(text) and text[i + 1] != "\n":
                i += 1
        elif c in "[{":
            header = header or (c == "[" and fresh and depth == 0)
            depth += 1
        elif c in "]}":
            depth = max(depth - 1, 0)
        elif c == "." and not value and (depth == 0 or header):
            dots += 1
        elif c == "=":
            dots, value = 0, True
        elif c == "\n":
            dots, value, header = 0, False, False
        fresh = c == "\n" or (fresh and c in " \t")
        deepest = max(deepest, depth + dots)
        i += 1
    return deepest


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a district file once and parse it as TOML, without checking its keys.

    Parameters
    ----------
    path
        The TOML file; it must be a regular file of at most :data:`MAX_FILE_BYTES`.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    InputDataError
        If the file is missing, not a regular file, too large, not UTF-8 or not TOML.
    """
    path = Path(path)
    try:
        if not path.exists():
            raise FileNotFoundError(path)
        text = read_small_file(path, limit=MAX_FILE_BYTES, what=_("config file"))
        depth = _nesting(text)
        if depth > MAX_NESTING:
            # refused before parsing: the parser's time grows fast with the depth
            msg = _("{path}: not valid TOML ({error})").format(
                path=path, error=f"nested {depth} levels deep, at most {MAX_NESTING} allowed"
            )
            raise InputDataError(msg)
        return tomllib.loads(text)
    except FileNotFoundError:
        msg = _("config file {path} not found").format(path=path)
        raise InputDataError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = _("config file {path} cannot be read ({error})").format(path=path, error=exc)
        raise InputDataError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = _("{path}: not valid TOML ({error})").format(path=path, error=exc)
        raise InputDataError(msg) from None
    except RecursionError:
        msg = _("{path}: not valid TOML ({error})").format(path=path, error="nested too deeply")
        raise InputDataError(msg) from None


def from_toml(doc: Mapping[str, Any], path: str | Path) -> District:
    """Check a parsed district file and return it as a :class:`District`.

    Parameters
    ----------
    doc
        The document from :func:`read_toml`.
    path
        Where it was read, for messages and relative paths.

    Returns
    -------
    District
        The extract, posts, layers and ``[plan]`` values.

    Raises
    ------
    InputDataError
        On unknown keys, presets, layers or values of the wrong type.
    """
    path = Path(path)
    base = path.parent
    unknown = set(doc) - {"district", "layers", "plan", "output"}
    if unknown:
        msg = _(
            "{path}: unknown sections {unknown}; expected district, layers, plan, output"
        ).format(path=path, unknown=sorted(unknown))
        raise InputDataError(msg)
    a_table = _("a table")
    a_path = _("a file path text")
    a_number = _("a number")
    district = doc.get("district", {})
    _need(district, dict, f"{path}: [district]", a_table)
    name = district.get("name")
    if name is not None:
        _need(name, str, f"{path}: [district] `name`", _("a text"))
    bad = set(district) - {"name", "osm", "posts", "ends"}
    if bad:
        msg = _(
            "{path}: [district] has unknown keys {unknown}; known: name, osm, posts, ends"
        ).format(path=path, unknown=sorted(bad))
        raise InputDataError(msg)
    osm = None
    if "osm" in district:
        _need(district["osm"], str, f"{path}: [district] `osm`", a_path)
        osm = base / district["osm"]
    posts = _points(district["posts"], f"{path}: [district] `posts`") if "posts" in district else ()
    ends = _points(district["ends"], f"{path}: [district] `ends`") if "ends" in district else ()

    layers = doc.get("layers", {})
    _need(layers, dict, f"{path}: [layers]", _("a table of layers"))
    incidents: dict[str, Path | str] = {}
    columns: dict[str, dict[str, str]] = {}
    crs: dict[str, str] = {}
    severity: dict[str, dict[str, float]] = {}
    weights: dict[str, float] = {}
    formats: dict[str, str] = {}
    dayfirst: dict[str, bool] = {}
    presets: dict[str, str] = {}
    for layer, spec in layers.items():
        where = f"{path}: [layers.{layer}]"
        if layer not in LAYERS:
            msg = _("{path}: unknown layer [layers.{layer}]; expected one of {layers}").format(
                path=path, layer=layer, layers=LAYERS
            )
            raise InputDataError(msg)
        _need(spec, dict, where, a_table)
        bad = set(spec) - _LAYER_KEYS
        if bad:
            msg = _("{where} has unknown keys {unknown}; known: {known}").format(
                where=where, unknown=sorted(bad), known=sorted(_LAYER_KEYS)
            )
            raise InputDataError(msg)
        if "file" not in spec:
            msg = _("{where} needs a `file`").format(where=where)
            raise InputDataError(msg)
        _need(spec["file"], str, f"{where} `file`", a_path)
        if "preset" in spec:
            _need(spec["preset"], str, f"{where} `preset`", _("a preset name"))
            if spec["preset"] not in PRESETS:
                msg = _("{path}: unknown preset {preset!r}; known: {known}").format(
                    path=path, preset=spec["preset"], known=sorted(PRESETS)
                )
                raise InputDataError(msg)
            # the preset is applied when the file is read (its columns, dates, severity)
            presets[layer] = spec["preset"]
        own_cols = spec.get("columns", {})
        _need(
            own_cols,
            dict,
            f"{where} `columns`",
            _("a table such as {example}").format(example='{ lat = "Y", lon = "X" }'),
        )
        for role, col in own_cols.items():
            _need(col, str, f"{where} `columns.{role}`", _("a column name text"))
        # a layer may be a PostgreSQL table (patrolplan.db) instead of a file
        incidents[layer] = spec["file"] if is_url(spec["file"]) else base / spec["file"]
        if own_cols:
            columns[layer] = dict(own_cols)
        layer_crs = spec.get("crs")
        if layer_crs is not None:
            _need(layer_crs, str, f"{where} `crs`", _("a CRS text such as 'EPSG:32642'"))
            crs[layer] = layer_crs
        own_sev = spec.get("severity", {})
        _need(own_sev, dict, f"{where} `severity`", _("a table of category = weight"))
        for cat, w in own_sev.items():
            _need(w, (int, float), f"{where} `severity.{cat}`", a_number)
            check_weight(w, f"{where} `severity.{cat}`")
        if own_sev:
            severity[layer] = dict(own_sev)
        if "weight" in spec:
            _need(spec["weight"], (int, float), f"{where} `weight`", a_number)
            check_weight(spec["weight"], f"{where} `weight`")
            weights[layer] = float(spec["weight"])
        if "datetime_format" in spec:
            _need(
                spec["datetime_format"],
                str,
                f"{where} `datetime_format`",
                _("a text like {example}").format(example="'%d.%m.%Y'"),
            )
            formats[layer] = spec["datetime_format"]
        first = spec.get("dayfirst")
        if first is not None:
            if not isinstance(first, bool):
                msg = _("{where} `dayfirst` must be true or false, got {value!r}").format(
                    where=where, value=first
                )
                raise InputDataError(msg)
            dayfirst[layer] = first
    output = doc.get("output", {})
    _need(output, dict, f"{path}: [output]", a_table)
    bad = set(output) - {"db"}
    if bad:
        msg = _("{path}: [output] has unknown keys {unknown}; known: db").format(
            path=path, unknown=sorted(bad)
        )
        raise InputDataError(msg)
    out_db = output.get("db")
    if out_db is not None:
        _need(out_db, str, f"{path}: [output] `db`", _("a postgresql:// URL"))
        if not is_url(out_db):
            msg = _("{path}: [output] `db` must be a postgresql:// URL").format(path=path)
            raise InputDataError(msg)
    plan = doc.get("plan", {})
    _need(plan, dict, f"{path}: [plan]", a_table)
    # checked now, so a wrong type is reported before any data is read
    PlanOptions.from_mapping(plan, source=f"{path}: [plan]")
    return District(
        path=path,
        osm=osm,
        posts=posts,
        ends=ends,
        incidents=incidents,
        columns=columns,
        crs=crs,
        severity=severity,
        layer_weights=weights,
        datetime_format=formats,
        dayfirst=dayfirst,
        plan=dict(plan),
        name=name,
        presets=presets,
        db=out_db,
    )
