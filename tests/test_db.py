"""PostgreSQL/PostGIS: incidents read back as the CSV reads, plans written and replaced whole.

Every test runs against a real throwaway PostGIS cluster (tests/_pg.py). Without PostgreSQL
or PostGIS the tests skip with the reason, except under CI (``CI`` set), where they fail.
"""

from __future__ import annotations

import logging
import urllib.parse
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from patrolplan import datasets, db, ingest, store
from patrolplan._errors import InputDataError
from patrolplan.options import PlanOptions
from patrolplan.plan import daily_plan
from tests import _pg

if _pg.in_ci():
    import psycopg
else:
    psycopg = pytest.importorskip("psycopg")

ADMIN_PW = _pg.SUPERUSER_PASSWORD
READER_PW = "r3ader-pw"
WRITER_PW = "wr1ter-pw"
PASSWORDS = (ADMIN_PW, READER_PW, WRITER_PW, "not-the-password")
# the demo extract's walk-graph box (lon/lat): a quarter of the city's incidents
BBOX = (-76.612803, 39.252587, -76.517578, 39.314284)
SINCE, UNTIL = pd.Timestamp("2016-06-05"), pd.Timestamp("2016-06-12 18:00")


@pytest.fixture(scope="session")
def pg():
    _pg.require()
    cluster = _pg.start()
    try:
        _load_demo(cluster)
        yield cluster
    finally:
        cluster.stop()


@pytest.mark.parametrize("ci", ["", "false", "true", "1"])
def test_missing_postgis_skips_or_fails_under_ci(monkeypatch, ci):
    monkeypatch.setattr(_pg, "PG_BIN_DIRS", [])
    monkeypatch.setattr(_pg.shutil, "which", lambda name: None)
    assert _pg.missing() == "PostgreSQL server binaries (initdb, pg_ctl) not found"
    monkeypatch.setenv("CI", ci)
    outcome = pytest.fail.Exception if ci in {"true", "1"} else pytest.skip.Exception
    with pytest.raises(outcome, match="initdb, pg_ctl"):
        _pg.require()


def _load_demo(cluster: _pg.Cluster) -> None:
    """Load the demo incidents three ways: points in EPSG:4326, in EPSG:2248, plain lat/lon.

    As ogr2ogr loads a CSV, the primary key ``fid`` numbers the rows in file order.
    """
    csv = pd.read_csv(datasets.baltimore_crimes(), dtype=str, keep_default_na=False)
    csv.insert(0, "fid", [str(i) for i in range(1, len(csv) + 1)])
    text_cols = [
        c
        for c in csv.columns
        if c not in {"fid", "incident_id", "datetime", "latitude", "longitude"}
    ]
    cols = ", ".join(f"{c} text" for c in text_cols)
    cluster.psql(
        f"CREATE TABLE inc_plain (fid integer PRIMARY KEY, incident_id integer, "
        f"datetime timestamp, {cols}, "
        "latitude double precision, longitude double precision)"
    )
    with psycopg.connect(cluster.url()) as conn, conn.cursor() as cur:
        names = ["fid", "incident_id", "datetime", *text_cols, "latitude", "longitude"]
        with cur.copy(f"COPY inc_plain ({', '.join(names)}) FROM STDIN") as copy:
            for row in csv[names].itertuples(index=False):
                copy.write_row([v if v != "" else None for v in row])
    keep = ", ".join(["fid", "incident_id", "datetime", *text_cols])
    point = "ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)"
    cluster.psql(
        f"CREATE TABLE inc_4326 AS SELECT {keep}, {point}::geometry(Point, 4326) AS geom "
        "FROM inc_plain ORDER BY fid;"
        "ALTER TABLE inc_4326 ADD PRIMARY KEY (fid);"
        "CREATE INDEX ON inc_4326 USING GIST (geom);"
        f"CREATE TABLE inc_2248 AS SELECT {keep}, "
        f"ST_Transform({point}, 2248)::geometry(Point, 2248) AS the_geom "
        "FROM inc_plain ORDER BY fid;"
        "ALTER TABLE inc_2248 ADD PRIMARY KEY (fid);"
        "CREATE TABLE srid0 AS SELECT incident_id, ST_SetSRID(geom, 0) AS geom FROM inc_4326;"
        "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, proj4text, srtext) VALUES "
        "(910001, 'local', 1, '+proj=longlat +datum=WGS84 +no_defs', '');"
        "CREATE TABLE srid_local AS SELECT incident_id, ST_SetSRID(geom, 910001) AS geom "
        "FROM inc_4326;"
        "CREATE SEQUENCE some_seq;"
        f"CREATE ROLE reader LOGIN PASSWORD '{READER_PW}';"
        "GRANT SELECT ON inc_plain, inc_4326, inc_2248 TO reader;"
        "GRANT USAGE ON SEQUENCE some_seq TO reader;"
        f"CREATE ROLE writer LOGIN PASSWORD '{WRITER_PW}';"
        f"CREATE ROLE stranger LOGIN PASSWORD '{WRITER_PW}';"
    )


def _url(cluster: _pg.Cluster, query: str, user: str = "reader", password: str | None = READER_PW):
    """Return a URL of `cluster`; a ``query=`` is percent-encoded, as a URL needs."""
    if query.startswith("query="):
        query = "query=" + urllib.parse.quote(query.removeprefix("query="), safe="")
    return cluster.url(user=user, password=password, query=query)


def _no_password(text: str) -> None:
    for pw in PASSWORDS:
        assert pw not in text


def _via_db(monkeypatch, url: str, **kwargs):
    """Read incidents with ingest, the table coming from `url` instead of a file."""
    monkeypatch.setattr(ingest, "_read_table", lambda path, notes: db.read_table(url, **kwargs))
    return ingest.read_incidents(Path("incidents.db"))


COMPARED = ["incident_id", "category", "datetime", "span_end", "time_precision", "severity"]


@pytest.mark.parametrize(
    ("query", "tol"),
    [("table=public.inc_4326", 1e-12), ("table=inc_2248", 1e-7), ("table=inc_plain", 0.0)],
)
def test_round_trip_same_rows_as_the_csv(pg, monkeypatch, query, tol):
    csv_gdf, csv_report = ingest.read_incidents(datasets.baltimore_crimes())
    gdf, report = _via_db(monkeypatch, _url(pg, query))
    assert (report.rows_read, report.rows_kept) == (csv_report.rows_read, csv_report.rows_kept)
    assert report.reasons() == csv_report.reasons() == {"missing_coordinates": 15}
    assert list(gdf["source_row"]) == list(csv_gdf["source_row"])
    pd.testing.assert_frame_equal(
        pd.DataFrame(gdf[COMPARED]), pd.DataFrame(csv_gdf[COMPARED]), check_dtype=False
    )
    assert gdf.crs.equals("EPSG:4326")
    dist = shapely.distance(gdf.geometry.values, csv_gdf.geometry.values)
    assert float(np.max(dist)) <= tol


def test_crs_is_the_geometry_srid(pg):
    df, crs, bad = db.read_table(_url(pg, "table=inc_2248"))
    assert (crs, bad, len(df)) == ("EPSG:2248", [], 2399)
    assert df.index[0] == 1
    assert {"__x", "__y", "__geomtype"} <= set(df.columns)
    assert "the_geom" not in df.columns
    assert float(df.loc[1, "__x"]) > 1e6  # US survey feet, not degrees
    df, crs, _bad = db.read_table(_url(pg, "table=inc_plain"))
    assert crs is None
    assert df.loc[1, "latitude"] == "39.3679"


def _expected_ids(bbox=None, since=None, until=None) -> set[int]:
    csv = pd.read_csv(datasets.baltimore_crimes())
    keep = pd.Series(True, index=csv.index)
    if bbox is not None:
        inside = csv["longitude"].between(bbox[0], bbox[2]) & csv["latitude"].between(
            bbox[1], bbox[3]
        )
        keep &= inside | csv["latitude"].isna()
    if since is not None:
        stamp = pd.to_datetime(csv["datetime"])
        keep &= stamp.between(since, until)
    return set(csv.loc[keep, "incident_id"])


@pytest.mark.parametrize("table", ["inc_4326", "inc_2248", "inc_plain"])
def test_bbox_and_window_filter_in_sql(pg, table):
    full = _expected_ids()
    want = _expected_ids(BBOX, SINCE, UNTIL)
    df, _crs, _bad = db.read_table(_url(pg, f"table={table}"), bbox=BBOX, since=SINCE, until=UNTIL)
    got = {int(v) for v in df["incident_id"]}
    assert 100 < len(want) < len(full) / 4
    if table == "inc_2248":
        # the box is projected: a point right on its edge may come along
        assert got >= want
        csv = pd.read_csv(datasets.baltimore_crimes()).set_index("incident_id")
        extra = csv.loc[sorted(got - want)]
        near = extra["longitude"].between(BBOX[0] - 0.01, BBOX[2] + 0.01) & extra[
            "latitude"
        ].between(BBOX[1] - 0.01, BBOX[3] + 0.01)
        assert len(extra) < 20
        assert near.all()
    else:
        assert got == want
    # the same through a query, the filters wrapped around it
    q = f"query=SELECT * FROM {table} WHERE category = 'ASSAULT' ORDER BY fid DESC"
    df, _crs, _bad = db.read_table(_url(pg, q), bbox=BBOX, since=SINCE, until=UNTIL)
    assert set(df["category"]) == {"ASSAULT"}
    fids = [int(v) for v in df["fid"]]
    assert fids == sorted(fids, reverse=True)
    assert {int(v) for v in df["incident_id"]} <= got


@pytest.mark.parametrize("table", ["inc_4326", "inc_2248", "inc_plain"])
def test_sql_filters_then_ingest_keep_what_the_csv_keeps(pg, monkeypatch, table):
    """Box and window in SQL are a pre-selection: ingest then keeps the CSV's incidents."""
    window = {"since": SINCE, "until": UNTIL}
    area = shapely.box(*BBOX)
    csv_gdf, _ = ingest.read_incidents(datasets.baltimore_crimes(), area=area, **window)
    monkeypatch.setattr(
        ingest,
        "_read_table",
        lambda path, notes: db.read_table(_url(pg, f"table={table}"), bbox=BBOX, **window),
    )
    gdf, report = ingest.read_incidents(Path("incidents.db"), area=area, **window)
    assert 100 < len(gdf) == len(csv_gdf)
    assert list(gdf["incident_id"]) == list(csv_gdf["incident_id"])
    # far fewer rows were fetched than the CSV holds
    assert report.rows_read < 2399 / 4


def test_credentials_from_environment_and_pgpass(pg, monkeypatch, tmp_path):
    url = _url(pg, "table=inc_4326", password=None)
    monkeypatch.setenv("PGPASSWORD", READER_PW)
    assert len(db.read_table(url)[0]) == 2399
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{pg.host}:{pg.port}:{_pg.DATABASE}:reader:{READER_PW}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    assert len(db.read_table(url)[0]) == 2399
    services = tmp_path / "services"
    services.write_text(
        f"[city]\nhost={pg.host}\nport={pg.port}\ndbname={_pg.DATABASE}\nuser=reader\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    monkeypatch.setenv("PGSERVICE", "city")
    assert len(db.read_table("postgresql:///?table=inc_4326")[0]) == 2399


def test_password_with_url_characters(pg, caplog):
    odd = "p@ss/w:rd%?#"
    pg.psql(f"CREATE ROLE odd LOGIN PASSWORD '{odd}'; GRANT SELECT ON inc_4326 TO odd")
    url = pg.url("odd", urllib.parse.quote(odd, safe=""), query="table=inc_4326")
    with caplog.at_level(logging.DEBUG, logger="patrolplan"):
        assert len(db.read_table(url)[0]) == 2399
    assert "odd:***@127.0.0.1" in db.redact(url)
    assert urllib.parse.quote(odd, safe="") not in db.redact(url) + caplog.text


def test_redact():
    assert db.redact("postgresql://u:p%40ss@h:5/d?table=t") == "postgresql://u:***@h:5/d?table=t"
    assert db.redact("postgresql://u@h/d") == "postgresql://u@h/d"
    assert db.redact("postgres://u:pw@h/d?password=x&sslmode=require") == (
        "postgres://u:***@h/d?password=***&sslmode=require"
    )
    assert db.redact("host=h password=secret dbname=d") == "host=h password=*** dbname=d"


def _refused(url: str, match: str, caplog, **kwargs) -> str:
    with (
        caplog.at_level(logging.DEBUG, logger="patrolplan"),
        pytest.raises(InputDataError, match=match) as info,
    ):
        db.read_table(url, **kwargs)
    text = str(info.value)
    assert "\n" not in text
    _no_password(text)
    _no_password(caplog.text)
    assert db.redact(url) in text
    return text


def test_unreachable_server(pg, caplog):
    url = f"postgresql://reader:{READER_PW}@127.0.0.1:{_pg._free_port()}/x?table=t"
    _refused(url, "cannot connect to the server", caplog)


def test_wrong_password(pg, caplog):
    _refused(_url(pg, "table=inc_4326", password="not-the-password"), "refused the login", caplog)


def test_missing_database(pg, caplog):
    url = pg.url("reader", READER_PW, database="nowhere", query="table=inc_4326")
    _refused(url, "database 'nowhere' does not exist", caplog)


def test_missing_table_and_columns(pg, caplog):
    _refused(_url(pg, "table=public.nope"), "table public.nope not found", caplog)
    _refused(_url(pg, "table=inc_4326&geom=shape"), "column 'shape' given as `geom`", caplog)
    _refused(_url(pg, "query=SELECT shape FROM inc_4326"), "column not found", caplog)
    _refused(_url(pg, "table=inc_4326&date=category"), "not a date", caplog, since=SINCE)


def test_no_or_unknown_srid(pg, caplog):
    admin = pg.url(query="table=srid0")
    _refused(admin, r"has no SRID \(0\)", caplog)
    _refused(pg.url(query="table=srid_local"), "SRID 910001, which is not an EPSG code", caplog)


def test_empty_result(pg, caplog):
    _refused(_url(pg, "query=SELECT * FROM inc_4326 WHERE false"), "no rows", caplog)
    _refused(
        _url(pg, "table=inc_4326"),
        "no rows in the bounding box",
        caplog,
        bbox=BBOX,
        since=pd.Timestamp("2020-01-01"),
        until=pd.Timestamp("2020-02-01"),
    )


@pytest.mark.parametrize(
    ("query", "match"),
    [
        ("DELETE FROM inc_4326", "starts with 'DELETE'"),
        ("SELECT 1; DROP TABLE inc_4326", "several statements"),
        ("WITH d AS (DELETE FROM inc_4326 RETURNING *) SELECT * FROM d", "uses DELETE"),
        ("SELECT * INTO copy_of FROM inc_4326", "uses INTO"),
        ("SELECT 1 /* unterminated", "unterminated comment"),
    ],
)
def test_query_must_be_one_select(pg, caplog, query, match):
    _refused(_url(pg, f"query={query}", user=_pg.SUPERUSER, password=ADMIN_PW), match, caplog)
    assert pg.psql("SELECT count(*) FROM inc_4326").strip() == "2399"


def test_read_only_transaction_stops_a_writing_function(pg, caplog):
    url = _url(pg, "query=SELECT nextval('some_seq') AS n, geom FROM inc_4326")
    _refused(url, "tries to write", caplog)


def test_table_name_carrying_sql(pg, caplog):
    _refused(_url(pg, "table=inc_4326;DROP TABLE inc_plain"), "`table` must be", caplog)
    _refused(_url(pg, "table=a.b.c"), "`table` must be", caplog)
    _refused(_url(pg, 'table="inc_4326"'), "`table` must be", caplog)
    assert pg.psql("SELECT count(*) FROM inc_plain").strip() == "2399"


def test_role_without_select(pg, caplog):
    url = pg.url("stranger", WRITER_PW, query="table=inc_4326")
    _refused(url, "role stranger lacks SELECT on public.inc_4326; grant it with: GRANT", caplog)
    url = _url(pg, "query=SELECT * FROM srid0", user="stranger", password=WRITER_PW)
    _refused(url, "role stranger lacks SELECT on srid0", caplog)
    pg.psql(
        "CREATE SCHEMA closed; CREATE TABLE closed.t (x int); GRANT SELECT ON closed.t TO stranger"
    )
    url = pg.url("stranger", WRITER_PW, query="table=closed.t")
    _refused(url, "role stranger lacks USAGE on SCHEMA closed", caplog)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        (f"mysql://u:{READER_PW}@h/d?table=t", "not a PostgreSQL URL"),
        (f"postgresql://u:{READER_PW}@h:port/d?table=t", "malformed URL"),
        (f"postgresql://u:{READER_PW}@h/d?table=t&table=u", "parameter `table` is given twice"),
        (f"postgresql://u:{READER_PW}@h/d", "give exactly one of"),
        (f"postgresql://u:{READER_PW}@h/d?table=t&query=SELECT%201", "give exactly one of"),
        (f"postgresql://u:{READER_PW}@h/d?table=t&geom=a%20b", "`geom` must be a column name"),
        (f"postgresql://u@h/d?table=t&password={READER_PW}", "no rows|cannot connect"),
    ],
)
def test_bad_urls_are_refused_without_their_password(url, match, caplog):
    if "password=" in url:
        # a password as a parameter goes to libpq, and is hidden like the other
        url = url.replace("@h/", "@127.0.0.1:1/")
    _refused(url, match, caplog)


def test_bad_bbox_is_refused(pg, caplog):
    _refused(_url(pg, "table=inc_4326"), "`bbox` must be", caplog, bbox=(10, 50, 5, 60))


def test_strings_in_queries_are_not_words(pg):
    q = "query=SELECT * FROM inc_4326 WHERE category <> 'DROP; DELETE' "
    q += "AND address_block LIKE '%AVE' -- a comment; DELETE"
    df, _crs, _bad = db.read_table(_url(pg, q))
    assert len(df) == 856
    assert df["address_block"].str.endswith("AVE").all()


# ----------------------------------------------------------------------------------------------
# writing plans


@pytest.fixture(scope="module")
def plan():
    return daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        # DBSCAN hotspots and a short search keep the fixture cheap; the plan still walks streets
        PlanOptions(
            officers=2,
            shift="2h",
            start="18:00",
            date="2016-06-19",
            method="dbscan",
            iterations=100,
        ),
    )


def _rows(pg, table: str, plan_id: int, order: str = "officer") -> list[tuple]:
    with psycopg.connect(pg.url()) as conn:
        cur = conn.execute(
            f"SELECT *, ST_AsBinary(geom) AS wkb FROM {table} WHERE plan_id = %s ORDER BY {order}",
            [plan_id],
        )
        names = [d.name for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _write_refused(plan, url: str, match: str, **kwargs) -> None:
    with pytest.raises(InputDataError, match=match) as info:
        store.write_plan(plan, url, **kwargs)
    assert "\n" not in str(info.value)
    _no_password(str(info.value))


def _counts(pg) -> dict[str, str]:
    return {t: pg.psql(f"SELECT count(*) FROM {t}").strip() for t in store.TABLES}


def test_write_plan_reads_back_equal(pg, plan, caplog):
    with caplog.at_level(logging.INFO, logger="patrolplan"):
        plan_id = store.write_plan(plan, pg.url(), district="Baltimore demo")
    _no_password(caplog.text)
    routes = _rows(pg, "patrolplan_routes", plan_id)
    assert [r["officer"] for r in routes] == [r.officer for r in plan.routes]
    for row, route, coords in zip(routes, plan.routes, plan.route_coords, strict=True):
        line = shapely.from_wkb(bytes(row["wkb"]))
        assert np.allclose(np.asarray(line.coords), np.asarray(coords), atol=1e-9, rtol=0)
        assert row["km"] == pytest.approx(route.length_m / 1000)
        assert row["hotspots"] == list(route.hotspot_ids)
    stops = _rows(pg, "patrolplan_stops", plan_id, order="officer, seq")
    want = [
        (r.officer, s.order, s.hotspot_id, s.kind, s.visit, s.arrive_min, s.leave_min)
        for r in plan.routes
        for s in r.stops
    ]
    got = [
        (
            s["officer"],
            s["seq"],
            s["task_id"],
            s["kind"],
            s["visit"],
            s["arrive_min"],
            s["leave_min"],
        )
        for s in stops
    ]
    assert got == want
    t0 = plan.shift_start
    for row, (_o, _q, _t, _k, _v, arrive, leave) in zip(stops, want, strict=True):
        assert pd.Timestamp(row["arrive_at"]) == (t0 + pd.Timedelta(minutes=arrive)).round("us")
        assert pd.Timestamp(row["leave_at"]) == (t0 + pd.Timedelta(minutes=leave)).round("us")
    points = shapely.from_wkb([bytes(s["wkb"]) for s in stops])
    lonlat = [(s.lon, s.lat) for r in plan.routes for s in r.stops]
    assert np.allclose(shapely.get_coordinates(points), lonlat, atol=1e-9, rtol=0)
    streets = _rows(pg, "patrolplan_streets", plan_id, order="officer, seq")
    assert len(streets) >= 2
    assert [s["task_id"] for s in streets] == [t for r in plan.routes for t in r.street_ids]
    start_of = {(s["officer"], s["seq"]): s for s in stops}
    for street in streets:
        line = shapely.from_wkb(bytes(street["wkb"]))
        assert line.length > 0
        # the street is walked from its stop
        stop = shapely.from_wkb(bytes(start_of[street["officer"], street["seq"]]["wkb"]))
        assert shapely.Point(line.coords[0]).distance(stop) < 1e-9
    hotspots = _rows(pg, "patrolplan_hotspots", plan_id, order="rank")
    assert [h["hotspot_id"] for h in hotspots] == list(plan.gdf_hotspots["hotspot_id"])
    shapes = shapely.from_wkb([bytes(h["wkb"]) for h in hotspots])
    assert shapely.equals_exact(shapes, plan.gdf_hotspots.geometry.values, tolerance=1e-9).all()
    head = pg.psql(
        "SELECT district, plan_date, shift_start, officers, patrolplan_version, "
        f"inputs->'incidents'->'crime'->>'sha256' FROM patrolplan_plans WHERE id = {plan_id}"
    ).strip()
    assert head == "|".join(
        [
            "Baltimore demo",
            "2016-06-19",
            "2016-06-19 18:00:00",
            "2",
            str(plan.params["patrolplan_version"]),
            str(plan.params["incidents"]["crime"]["sha256"]),  # type: ignore[index]
        ]
    )
    assert pg.psql("SELECT version FROM patrolplan_schema_version").strip() == "1"


def test_rerun_replaces_and_districts_stay_apart(pg, plan):
    first = store.write_plan(plan, pg.url(), district="Rerun")
    before = _counts(pg)
    assert store.write_plan(plan, pg.url(), district="Rerun") == first
    assert _counts(pg) == before
    other = store.write_plan(plan, pg.url(), district="Other")
    assert other != first
    assert int(_counts(pg)["patrolplan_plans"]) == int(before["patrolplan_plans"]) + 1


def test_failure_midway_leaves_nothing_changed(pg, plan):
    plan_id = store.write_plan(plan, pg.url(), district="Failing")
    before = _counts(pg), pg.psql(f"SELECT created_at FROM patrolplan_plans WHERE id = {plan_id}")
    # the hotspots go in after the plan, its routes and stops: make that insert fail
    pg.psql(
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$;"
        "CREATE TRIGGER boom BEFORE INSERT ON patrolplan_hotspots "
        "FOR EACH ROW EXECUTE FUNCTION boom();"
    )
    try:
        with pytest.raises(
            InputDataError, match=r"database error \(disk full \(simulated\)\)"
        ) as info:
            store.write_plan(plan, pg.url(), district="Failing")
        _no_password(str(info.value))
        with pytest.raises(InputDataError, match="disk full"):
            store.write_plan(plan, pg.url(), district="Brand new")
    finally:
        pg.psql("DROP TRIGGER boom ON patrolplan_hotspots; DROP FUNCTION boom();")
    after = _counts(pg), pg.psql(f"SELECT created_at FROM patrolplan_plans WHERE id = {plan_id}")
    assert after == before


def test_writer_needs_only_select_insert_delete(pg, plan, caplog):
    store.write_plan(plan, pg.url(), district="Setup")  # the tables exist from here on
    tables = ", ".join(store.TABLES)
    pg.psql(f"GRANT SELECT, INSERT ON {tables}, patrolplan_schema_version TO writer")
    url = pg.url("writer", WRITER_PW)
    with (
        caplog.at_level(logging.DEBUG, logger="patrolplan"),
        pytest.raises(
            InputDataError, match="role writer lacks DELETE on patrolplan_plans; grant it with"
        ) as info,
    ):
        store.write_plan(plan, url, district="By writer")
    _no_password(str(info.value) + caplog.text)
    pg.psql(f"GRANT DELETE ON {tables} TO writer")
    first = store.write_plan(plan, url, district="By writer")
    assert store.write_plan(plan, url, district="By writer") == first
    pg.psql("REVOKE INSERT ON patrolplan_stops FROM writer")
    _write_refused(plan, url, "role writer lacks INSERT on patrolplan_stops", district="By writer")
    # the reader may not create the tables in a fresh database
    pg.psql("CREATE DATABASE fresh", database="postgres")
    pg.psql(
        "CREATE EXTENSION postgis; REVOKE CREATE ON SCHEMA public FROM PUBLIC", database="fresh"
    )
    fresh = pg.url("reader", READER_PW, database="fresh")
    _write_refused(plan, fresh, "role reader lacks CREATE on SCHEMA public")


def test_newer_schema_version_is_refused(pg, plan):
    store.write_plan(plan, pg.url(), district="Versioned")
    before = _counts(pg)
    pg.psql("UPDATE patrolplan_schema_version SET version = 2")
    try:
        match = "layout version 2; this patrolplan writes version 1"
        _write_refused(plan, pg.url(), match, district="Versioned later")
    finally:
        pg.psql("UPDATE patrolplan_schema_version SET version = 1")
    assert _counts(pg) == before


def test_write_without_postgis_or_with_a_table(pg, plan):
    pg.psql("CREATE DATABASE plain", database="postgres")
    _write_refused(plan, pg.url(database="plain"), "PostGIS is not installed in database 'plain'")
    _write_refused(plan, pg.url(query="table=inc_4326"), "leave out `table`")
