"""Store plans in PostgreSQL/PostGIS tables, for district systems.

:func:`write_plan` stores a :class:`~patrolplan.plan.PatrolPlan` in five tables (:data:`TABLES`),
created when missing with GIST indexes, under a versioned layout (:data:`SCHEMA_VERSION` in
``patrolplan_schema_version``); writing the same plan again (district, date, shift start)
replaces its rows in one transaction, so a failure leaves the earlier plan as it was. The
connection, the credentials (URL, ``PGPASSWORD``, ``PGSERVICE``, ``~/.pgpass``) and the
messages (the URL shown without its password) are those of :mod:`patrolplan.db`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from patrolplan._errors import InputDataError
from patrolplan.db import _connect, _one, _parse, _Source, _Step, _translated
from patrolplan.i18n import _
from patrolplan.utils import log

if TYPE_CHECKING:
    import psycopg

    from patrolplan.plan import PatrolPlan

#: Version of the table layout :func:`write_plan` writes (kept in ``patrolplan_schema_version``).
SCHEMA_VERSION = 1
#: Tables :func:`write_plan` writes, parent first.
TABLES = (
    "patrolplan_plans",
    "patrolplan_routes",
    "patrolplan_stops",
    "patrolplan_hotspots",
    "patrolplan_streets",
)
VERSION_TABLE = "patrolplan_schema_version"


_DDL = (
    f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
    version integer NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS patrolplan_plans (
    id bigint PRIMARY KEY,
    district text NOT NULL DEFAULT '',
    plan_date date NOT NULL,
    shift_start timestamp NOT NULL,
    shift_min double precision NOT NULL,
    officers integer NOT NULL,
    tz text,
    options jsonb NOT NULL,
    params jsonb NOT NULL,
    inputs jsonb NOT NULL,
    summary jsonb NOT NULL,
    patrolplan_version text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district, plan_date, shift_start))""",
    """CREATE TABLE IF NOT EXISTS patrolplan_routes (
    plan_id bigint NOT NULL REFERENCES patrolplan_plans (id) ON DELETE CASCADE,
    officer integer NOT NULL,
    post_lat double precision NOT NULL,
    post_lon double precision NOT NULL,
    length_m double precision NOT NULL,
    km double precision NOT NULL,
    walk_min double precision NOT NULL,
    dwell_min double precision NOT NULL,
    duration_min double precision NOT NULL,
    shift_min double precision NOT NULL,
    n_stops integer NOT NULL,
    hotspots text[] NOT NULL,
    starts_at timestamp NOT NULL,
    ends_at timestamp NOT NULL,
    geom geometry(LineString, 4326) NOT NULL,
    PRIMARY KEY (plan_id, officer))""",
    """CREATE TABLE IF NOT EXISTS patrolplan_stops (
    plan_id bigint NOT NULL REFERENCES patrolplan_plans (id) ON DELETE CASCADE,
    officer integer NOT NULL,
    seq integer NOT NULL,
    task_id text NOT NULL,
    kind text NOT NULL,
    visit integer NOT NULL,
    arrive_min double precision NOT NULL,
    leave_min double precision NOT NULL,
    arrive_at timestamp NOT NULL,
    leave_at timestamp NOT NULL,
    risk double precision NOT NULL,
    street text NOT NULL,
    via text[] NOT NULL,
    node bigint NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (plan_id, officer, seq))""",
    """CREATE TABLE IF NOT EXISTS patrolplan_hotspots (
    plan_id bigint NOT NULL REFERENCES patrolplan_plans (id) ON DELETE CASCADE,
    hotspot_id text NOT NULL,
    rank integer NOT NULL,
    weight double precision NOT NULL,
    share double precision,
    n_incidents integer,
    top_categories text,
    geom geometry(Geometry, 4326) NOT NULL,
    PRIMARY KEY (plan_id, hotspot_id))""",
    """CREATE TABLE IF NOT EXISTS patrolplan_streets (
    plan_id bigint NOT NULL REFERENCES patrolplan_plans (id) ON DELETE CASCADE,
    officer integer NOT NULL,
    seq integer NOT NULL,
    task_id text NOT NULL,
    street text NOT NULL,
    geom geometry(LineString, 4326) NOT NULL,
    PRIMARY KEY (plan_id, officer, seq))""",
    "CREATE INDEX IF NOT EXISTS patrolplan_routes_geom ON patrolplan_routes USING GIST (geom)",
    "CREATE INDEX IF NOT EXISTS patrolplan_stops_geom ON patrolplan_stops USING GIST (geom)",
    "CREATE INDEX IF NOT EXISTS patrolplan_hotspots_geom ON patrolplan_hotspots USING GIST (geom)",
    "CREATE INDEX IF NOT EXISTS patrolplan_streets_geom ON patrolplan_streets USING GIST (geom)",
)


@dataclass(frozen=True)
class _PlanRows:
    """Every row of one plan, made before the database is touched."""

    plan: dict[str, Any]
    routes: list[dict[str, Any]]
    stops: list[dict[str, Any]]
    hotspots: list[dict[str, Any]]
    streets: list[dict[str, Any]]


def write_plan(plan: PatrolPlan, url: str, *, district: str | None = None) -> int:
    """Store a plan in PostgreSQL/PostGIS; replace an earlier run of the same plan.

    The tables (:data:`TABLES`, see ``docs``) are created when missing, with GIST indexes on
    their geometries, and ``patrolplan_schema_version`` says which layout they have: a version
    other than :data:`SCHEMA_VERSION` is refused. A plan is known by `district`, date and
    shift start: writing it again deletes the old rows (children go with the plan) and writes
    the new ones in one transaction, under the old id, so a failure leaves the database as it
    was. Once the tables exist, the role needs SELECT, INSERT and DELETE on them.

    Parameters
    ----------
    plan
        A plan from :func:`patrolplan.plan.daily_plan`.
    url
        ``postgresql://USER@HOST:PORT/DB`` (libpq parameters allowed; no ``table=``).
    district
        The district's name; plans of different districts never replace each other.

    Returns
    -------
    int
        The plan's id in ``patrolplan_plans``.

    Raises
    ------
    InputDataError
        If the server cannot be reached or refuses the login, PostGIS is missing, the tables
        have another layout version, the role lacks a privilege (the message names it and the
        table), or the database refuses a row; nothing is written then.
    """
    src = _parse(url, reading=False)
    rows = _plan_rows(plan, district or "")
    step = _Step()
    with _connect(src) as conn, _translated(src, step), conn.transaction():
        step.role = str(_one(conn, "SELECT current_user"))
        _ensure_schema(conn, src, step)
        plan_id = _replace(conn, step, rows)
    log(
        _("wrote plan {id} ({routes} routes, {stops} stops) to {url}").format(
            id=plan_id, routes=len(rows.routes), stops=len(rows.stops), url=src.shown
        )
    )
    return plan_id


def _ensure_schema(conn: psycopg.Connection[Any], src: _Source, step: _Step) -> None:
    """Create the tables when one is missing; refuse another layout version."""
    if _one(conn, "SELECT to_regtype('geometry')") is None:
        msg = _(
            "`{url}`: PostGIS is not installed in database {database!r}; "
            "run CREATE EXTENSION postgis"
        ).format(url=src.shown, database=src.database or "")
        raise InputDataError(msg)
    missing = [
        t for t in (VERSION_TABLE, *TABLES) if _one(conn, "SELECT to_regclass(%s)", [t]) is None
    ]
    if missing:
        step.privilege, step.table = (
            "CREATE",
            "SCHEMA " + str(_one(conn, "SELECT current_schema()")),
        )
        for statement in _DDL:
            conn.execute(statement)
        log(_("created tables {tables}").format(tables=", ".join(missing)))
    step.privilege, step.table = "SELECT", VERSION_TABLE
    version = _one(conn, f"SELECT max(version) FROM {VERSION_TABLE}")
    if version is None:
        step.privilege = "INSERT"
        conn.execute(f"INSERT INTO {VERSION_TABLE} (version) VALUES (%s)", [SCHEMA_VERSION])
    elif int(version) != SCHEMA_VERSION:
        msg = _(
            "`{url}`: the patrolplan tables have layout version {found}; this patrolplan "
            "writes version {expected}: upgrade patrolplan or use another database"
        ).format(url=src.shown, found=version, expected=SCHEMA_VERSION)
        raise InputDataError(msg)


def _replace(conn: psycopg.Connection[Any], step: _Step, rows: _PlanRows) -> int:
    """Delete the same plan's old rows and insert the new ones; return the plan's id."""
    key = [rows.plan["district"], rows.plan["plan_date"], rows.plan["shift_start"]]
    # one writer at a time picks the next id (DELETE is enough to take this lock)
    step.privilege, step.table = "DELETE", "patrolplan_plans"
    conn.execute("LOCK TABLE patrolplan_plans IN SHARE ROW EXCLUSIVE MODE")
    old = _one(
        conn,
        "DELETE FROM patrolplan_plans WHERE district = %s AND plan_date = %s "
        "AND shift_start = %s RETURNING id",
        key,
    )
    step.privilege = "SELECT"
    plan_id = (
        int(old)
        if old is not None
        else int(_one(conn, "SELECT coalesce(max(id), 0) + 1 FROM patrolplan_plans"))
    )
    _insert(conn, step, "patrolplan_plans", [{"id": plan_id, **rows.plan}], geom=None)
    _insert(conn, step, "patrolplan_routes", _with_id(rows.routes, plan_id), geom="geom")
    _insert(conn, step, "patrolplan_stops", _with_id(rows.stops, plan_id), geom="geom")
    _insert(conn, step, "patrolplan_hotspots", _with_id(rows.hotspots, plan_id), geom="geom")
    _insert(conn, step, "patrolplan_streets", _with_id(rows.streets, plan_id), geom="geom")
    return plan_id


def _with_id(rows: list[dict[str, Any]], plan_id: int) -> list[dict[str, Any]]:
    return [{"plan_id": plan_id, **r} for r in rows]


def _insert(
    conn: psycopg.Connection[Any],
    step: _Step,
    table: str,
    rows: list[dict[str, Any]],
    *,
    geom: str | None,
) -> None:
    """Insert `rows` into `table`; the `geom` value is WKB in EPSG:4326."""
    from psycopg import sql

    if not rows:
        return
    step.privilege, step.table = "INSERT", table
    columns = list(rows[0])
    values = [
        sql.SQL("ST_GeomFromWKB({}, 4326)").format(sql.Placeholder(c))
        if c == geom
        else sql.SQL("{}::jsonb").format(sql.Placeholder(c))
        if c in {"options", "params", "inputs", "summary"}
        else sql.Placeholder(c)
        for c in columns
    ]
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(values),
    )
    with conn.cursor() as cur:
        cur.executemany(statement, rows)


def _json(value: Any) -> str:
    """Return `value` as JSON text; non-finite numbers become null (jsonb has none)."""

    def clean(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {str(k): clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value), default=str, sort_keys=True, ensure_ascii=False)


def _at(start: pd.Timestamp, minutes: float) -> dt.datetime:
    """Return the wall-clock time `minutes` after `start`, to the microsecond."""
    return _wall(start + pd.Timedelta(minutes=float(minutes)))


def _wall(stamp: pd.Timestamp) -> dt.datetime:
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.round("us").to_pydatetime()  # type: ignore[no-any-return]


def _plan_rows(plan: PatrolPlan, district: str) -> _PlanRows:
    """Turn a plan into rows of the five tables."""
    import shapely
    from shapely.geometry import LineString, Point

    from patrolplan.graph import path_geometry

    start = plan.shift_start
    params = plan.params
    summary = plan.summary.to_dict(orient="records")
    head = {
        "district": district,
        "plan_date": start.date(),
        "shift_start": _wall(start),
        "shift_min": float(params.get("shift_min", plan.routes[0].shift_min if plan.routes else 0)),  # type: ignore[arg-type]
        "officers": len(plan.routes),
        "tz": plan.options.tz,
        "options": _json(plan.options.resolved()),
        "params": _json(params),
        "inputs": _json({k: params.get(k) for k in ("incidents", "osm", "areas")}),
        "summary": _json(summary),
        "patrolplan_version": str(params.get("patrolplan_version", "")),
    }
    routes, stops, streets = [], [], []
    for route, coords in zip(plan.routes, plan.route_coords, strict=True):
        line = coords if len(coords) > 1 else [*coords, *coords]
        routes.append(
            {
                "officer": route.officer,
                "post_lat": float(route.post[0]),
                "post_lon": float(route.post[1]),
                "length_m": float(route.length_m),
                "km": float(route.length_m) / 1000,
                "walk_min": float(route.walk_min),
                "dwell_min": float(route.dwell_min),
                "duration_min": float(route.duration_min),
                "shift_min": float(route.shift_min),
                "n_stops": len(route.stops),
                "hotspots": list(route.hotspot_ids),
                "starts_at": _wall(start),
                "ends_at": _at(start, route.duration_min),
                "geom": shapely.to_wkb(LineString(line)),
            }
        )
        # a street task walks from its stop's node to the next node of the route
        cursor = 0
        for s in route.stops:
            at = route.nodes.index(s.node, cursor)
            stops.append(
                {
                    "officer": route.officer,
                    "seq": s.order,
                    "task_id": s.hotspot_id,
                    "kind": s.kind,
                    "visit": s.visit,
                    "arrive_min": float(s.arrive_min),
                    "leave_min": float(s.leave_min),
                    "arrive_at": _at(start, s.arrive_min),
                    "leave_at": _at(start, s.leave_min),
                    "risk": float(s.risk),
                    "street": s.street,
                    "via": list(s.via),
                    "node": int(s.node),
                    "geom": shapely.to_wkb(Point(s.lon, s.lat)),
                }
            )
            if s.kind == "street":
                exit_node = route.nodes[at + 1]
                streets.append(
                    {
                        "officer": route.officer,
                        "seq": s.order,
                        "task_id": s.hotspot_id,
                        "street": s.street,
                        "geom": shapely.to_wkb(
                            LineString(path_geometry(plan.G, [s.node, exit_node]))
                        ),
                    }
                )
                at += 1
            cursor = at
    gdf = plan.gdf_hotspots
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        gdf = gdf.to_crs("EPSG:4326")
    hotspots = [
        {
            "hotspot_id": str(r["hotspot_id"]),
            "rank": int(r["rank"]),
            "weight": float(r["risk"]),
            "share": float(r["share"]) if "share" in gdf.columns else None,
            "n_incidents": int(r["n_incidents"]) if "n_incidents" in gdf.columns else None,
            "top_categories": str(r["top_categories"]) if "top_categories" in gdf.columns else None,
            "geom": shapely.to_wkb(r[gdf.geometry.name]),
        }
        for _i, r in gdf.iterrows()
        if r[gdf.geometry.name] is not None and not r[gdf.geometry.name].is_empty
    ]
    return _PlanRows(head, routes, stops, hotspots, streets)
