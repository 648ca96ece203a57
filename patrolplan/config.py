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
    preset = "baltimore"          # columns and severity from PRESETS
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
from pathlib import Path
from typing import Any

from patrolplan._errors import InputDataError
from patrolplan.ingest import DEFAULT_SEVERITY, LAYERS

#: Column mappings (and CRS or severity where needed) for the public sources patrolplan has
#: been tested on. ``police_uk`` is the street-level crime CSV of data.police.uk.
PRESETS: dict[str, dict[str, Any]] = {
    "baltimore": {
        "columns": {
            "lat": "latitude",
            "lon": "longitude",
            "datetime": "datetime",
            "category": "category",
            "id": "incident_id",
        },
        "severity": DEFAULT_SEVERITY["crime"],
    },
    "oakland": {
        "columns": {
            "lat": "latitude",
            "lon": "longitude",
            "datetime": "datetime",
            "category": "description",
            "id": "incident_id",
        },
    },
    "cardiff_juvenile": {"columns": {"lat": "Y", "lon": "X", "id": "ID"}, "crs": "local"},
    "police_uk": {
        "columns": {
            "lat": "Latitude",
            "lon": "Longitude",
            "datetime": "Month",
            "category": "Crime type",
            "id": "Crime ID",
        },
    },
}

_PLAN_KEYS = {
    "officers",
    "shift",
    "start",
    "date",
    "days",
    "since",
    "seed",
    "dwell_min",
    "speed_kmh",
    "method",
    "eps_m",
    "min_weight",
    "max_hotspots",
    "max_segments",
    "half_life_days",
    "iterations",
    "variants",
    "tolerance",
    "revisit",
    "max_visits",
    "revisit_value",
}
_LAYER_KEYS = {"file", "preset", "columns", "crs", "weight", "severity"}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a district TOML file into keyword arguments of :func:`patrolplan.plan.daily_plan`.

    Parameters
    ----------
    path
        The TOML file.

    Returns
    -------
    dict
        ``incidents``, ``osm``, ``posts``, ``columns``, ``crs``, ``severity``,
        ``layer_weights`` and any ``[plan]`` values.

    Raises
    ------
    InputDataError
        If the file is missing, is not TOML, or has unknown keys, presets or layers.

    Examples
    --------
    >>> from patrolplan import datasets
    >>> cfg = load_config(datasets.data_dir() / "baltimore.toml")
    >>> sorted(cfg["incidents"]), len(cfg["posts"]), cfg["officers"]
    (['crime'], 2, 3)
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"config file {path} not found"
        raise InputDataError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML ({exc})"
        raise InputDataError(msg) from None
    base = path.parent
    unknown = set(doc) - {"district", "layers", "plan"}
    if unknown:
        msg = f"{path}: unknown sections {sorted(unknown)}; expected district, layers, plan"
        raise InputDataError(msg)
    district = doc.get("district", {})
    out: dict[str, Any] = {}
    if "osm" in district:
        out["osm"] = base / district["osm"]
    if "posts" in district:
        try:
            out["posts"] = [(float(la), float(lo)) for la, lo in district["posts"]]
        except (TypeError, ValueError):
            msg = f"{path}: [district] posts must be a list of [lat, lon] pairs"
            raise InputDataError(msg) from None
    if "ends" in district:
        out["ends"] = [(float(la), float(lo)) for la, lo in district["ends"]]

    incidents, columns, crs, severity, weights = {}, {}, {}, {}, {}
    for layer, spec in doc.get("layers", {}).items():
        if layer not in LAYERS:
            msg = f"{path}: unknown layer [layers.{layer}]; expected one of {LAYERS}"
            raise InputDataError(msg)
        bad = set(spec) - _LAYER_KEYS
        if bad:
            msg = f"{path}: [layers.{layer}] has unknown keys {sorted(bad)}"
            raise InputDataError(msg)
        if "file" not in spec:
            msg = f"{path}: [layers.{layer}] needs a `file`"
            raise InputDataError(msg)
        preset: dict[str, Any] = {}
        if "preset" in spec:
            if spec["preset"] not in PRESETS:
                msg = f"{path}: unknown preset {spec['preset']!r}; known: {sorted(PRESETS)}"
                raise InputDataError(msg)
            preset = PRESETS[spec["preset"]]
        incidents[layer] = base / spec["file"]
        merged_cols = {**preset.get("columns", {}), **spec.get("columns", {})}
        if merged_cols:
            columns[layer] = merged_cols
        if spec.get("crs", preset.get("crs")):
            crs[layer] = spec.get("crs", preset.get("crs"))
        if spec.get("severity", preset.get("severity")):
            severity[layer] = {**preset.get("severity", {}), **spec.get("severity", {})}
        if "weight" in spec:
            weights[layer] = float(spec["weight"])
    if incidents:
        out.update(
            incidents=incidents,
            columns=columns or None,
            crs=crs or None,
            severity=severity or None,
            layer_weights=weights or None,
        )
    plan = doc.get("plan", {})
    bad = set(plan) - _PLAN_KEYS
    if bad:
        msg = f"{path}: [plan] has unknown keys {sorted(bad)}; known: {sorted(_PLAN_KEYS)}"
        raise InputDataError(msg)
    out.update(plan)
    return out
