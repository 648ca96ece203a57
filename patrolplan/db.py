"""Read incidents from PostgreSQL/PostGIS (plans are written by :mod:`patrolplan.store`).

:func:`read_table` reads a table, a view or one ``SELECT`` into the same frame of strings the
file readers of :mod:`patrolplan.ingest` make, so ingest's column mapping and row checks
apply unchanged; the bounding box and the time window are applied in SQL, so a city table of
millions of rows is not pulled whole. :func:`write_plan` stores a
:class:`~patrolplan.plan.PatrolPlan` in five tables (:data:`TABLES`), created when missing,
replacing an earlier run of the same plan in one transaction. :func:`redact` hides the
password of a URL; every message of this module names the database through it.

A source is a URL::

    postgresql://USER@HOST:PORT/DB?table=SCHEMA.TABLE
    postgresql://USER@HOST:PORT/DB?query=SELECT ...

with optional hints ``geom=`` (the geometry column, when there are several), ``date=`` (the
column the time window filters on; default: the date or timestamp column with a name ingest
knows, or the only one) and ``lat=``/``lon=`` (plain coordinate columns, for the bounding box
of a table without geometry). Other parameters (``sslmode``, ``service``, ``connect_timeout``,
``options``...) go to libpq unchanged. The password may be in the URL, in ``PGPASSWORD``, a
``PGSERVICE`` entry or ``~/.pgpass``: libpq reads those itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from patrolplan._errors import InputDataError
from patrolplan._url import SCHEMES, is_url, redact
from patrolplan.i18n import _
from patrolplan.utils import log

__all__ = ["SCHEMES", "check_select", "is_url", "read_table", "redact"]

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import psycopg


# URL parameters patrolplan reads itself; every other one goes to libpq
_OWN_PARAMS = ("table", "query", "geom", "date", "lat", "lon")
# Seconds to wait for a server that does not answer, unless the URL says otherwise
_CONNECT_TIMEOUT_S = 10
# A table or column name: letters (any script), digits and underscores, not starting with a digit
_NAME = re.compile(r"[^\W\d]\w*")
# Words that make a query more than one read: data-changing statements (also inside WITH),
# SELECT INTO (creates a table), row locks (FOR UPDATE), and commands that are not queries
_FORBIDDEN = frozenset(
    {
        "INSERT",
        "UPDATE",
        "DELETE",
        "MERGE",
        "INTO",
        "TRUNCATE",
        "DROP",
        "ALTER",
        "CREATE",
        "GRANT",
        "REVOKE",
        "COPY",
        "CALL",
        "DO",
        "EXECUTE",
        "LOCK",
    }
)
_DATE_TYPES = frozenset({"date", "timestamp", "timestamptz"})
_NUMBER_TYPES = frozenset({"int2", "int4", "int8", "float4", "float8", "numeric"})
_GEOM_TYPES = frozenset({"geometry", "geography"})


@dataclass(frozen=True)
class _Source:
    """A parsed URL."""

    shown: str  # the URL for messages, password hidden
    password: str | None
    user: str | None
    database: str | None
    host: str | None
    port: int | None
    libpq: dict[str, str]
    table: tuple[str, ...] = ()
    query: str | None = None
    hints: dict[str, str] = field(default_factory=dict)


def _parse(url: str, *, reading: bool) -> _Source:
    """Split `url` into connection settings and patrolplan's own parameters."""
    shown = redact(url)
    if not is_url(url):
        msg = _(
            "`{url}`: not a PostgreSQL URL; expected postgresql://USER@HOST:PORT/DB?table=TABLE"
        ).format(url=shown)
        raise InputDataError(msg)
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        msg = _("`{url}`: malformed URL ({detail})").format(
            url=shown, detail=_scrub(str(exc), None)
        )
        raise InputDataError(msg) from None
    params: dict[str, str] = {}
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if key in params:
            msg = _("`{url}`: parameter `{key}` is given twice").format(url=shown, key=key)
            raise InputDataError(msg)
        params[key] = value
    own = {k: params.pop(k) for k in _OWN_PARAMS if k in params}
    database = urllib.parse.unquote(parts.path.lstrip("/")) or None
    src = _Source(
        shown=shown,
        password=urllib.parse.unquote(parts.password) if parts.password is not None else None,
        user=urllib.parse.unquote(parts.username) if parts.username else None,
        database=database,
        host=urllib.parse.unquote(parts.hostname) if parts.hostname else None,
        port=port,
        libpq=params,
        table=_table_name(own["table"], shown) if "table" in own else (),
        query=own.get("query"),
        hints={k: v for k, v in own.items() if k in {"geom", "date", "lat", "lon"}},
    )
    for key, value in src.hints.items():
        if not _NAME.fullmatch(value):
            msg = _(
                "`{url}`: `{key}` must be a column name (letters, digits, _), got {value!r}"
            ).format(url=shown, key=key, value=value)
            raise InputDataError(msg)
    if reading and bool(src.table) == (src.query is not None):
        msg = _("`{url}`: give exactly one of `table=SCHEMA.TABLE` or `query=SELECT ...`").format(
            url=shown
        )
        raise InputDataError(msg)
    if not reading and (src.table or src.query is not None or src.hints):
        msg = _(
            "`{url}`: a plan is written to the patrolplan_* tables; leave out `table`, "
            "`query`, `geom`, `date`, `lat` and `lon`"
        ).format(url=shown)
        raise InputDataError(msg)
    return src


def _table_name(text: str, shown: str) -> tuple[str, ...]:
    """Split ``SCHEMA.TABLE`` or ``TABLE`` into checked names."""
    parts = tuple(text.split("."))
    if len(parts) > 2 or not all(_NAME.fullmatch(p) for p in parts):
        msg = _(
            "`{url}`: `table` must be TABLE or SCHEMA.TABLE (letters, digits, _), got {value!r}"
        ).format(url=shown, value=text)
        raise InputDataError(msg)
    return parts


def _scrub(text: str, password: str | None) -> str:
    """Return the first line of a server message, without the password, at most 300 chars."""
    line = redact(" ".join(str(text).strip().splitlines()[:1]))
    if password:
        line = line.replace(password, "***")
    return line[:300]


# ----------------------------------------------------------------------------------------------
# connections and errors


def _modules() -> tuple[Any, Any]:
    """Import SQLAlchemy and psycopg, or say which packages to install."""
    try:
        import psycopg
        import sqlalchemy
    except ImportError:
        msg = _(
            "PostgreSQL support needs SQLAlchemy and psycopg: "
            "pip install 'sqlalchemy>=2' 'psycopg[binary]>=3.2'"
        )
        raise ImportError(msg) from None
    return sqlalchemy, psycopg


@contextlib.contextmanager
def _connect(src: _Source) -> Iterator[psycopg.Connection[Any]]:
    """Yield the psycopg connection of a SQLAlchemy connection; translate connection errors."""
    sqlalchemy, psycopg = _modules()
    query = dict(src.libpq)
    query.setdefault("connect_timeout", str(_CONNECT_TIMEOUT_S))
    # only what the URL says: libpq finds the rest (PGPASSWORD, PGSERVICE, ~/.pgpass...)
    url = sqlalchemy.engine.URL.create(
        "postgresql+psycopg",
        username=src.user,
        password=src.password,
        host=src.host,
        port=src.port,
        database=src.database,
        query=query,
    )
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        try:
            conn = engine.connect()
        except (sqlalchemy.exc.DBAPIError, psycopg.Error) as exc:
            raise _connect_error(src, getattr(exc, "orig", exc)) from None
        with conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            # start from no transaction, whatever SQLAlchemy ran on connecting
            raw.rollback()
            yield raw
    finally:
        engine.dispose()


def _connect_error(src: _Source, exc: BaseException) -> InputDataError:
    """Say in one line why the server refused or could not be reached."""
    detail = _scrub(str(exc), src.password)
    state = getattr(exc, "sqlstate", None) or ""
    low = detail.lower()
    if state in {"28P01", "28000"} or "authentication failed" in low or "password" in low:
        msg = _(
            "`{url}`: the server refused the login ({detail}); check the user and the password "
            "(in the URL, PGPASSWORD, PGSERVICE or ~/.pgpass)"
        ).format(url=src.shown, detail=detail)
    elif state == "3D000" or ("database" in low and "does not exist" in low):
        msg = _("`{url}`: database {database!r} does not exist on the server ({detail})").format(
            url=src.shown, database=src.database or "", detail=detail
        )
    else:
        msg = _("`{url}`: cannot connect to the server ({detail})").format(
            url=src.shown, detail=detail
        )
    return InputDataError(msg)


@dataclass
class _Step:
    """What the current statement does, to name a missing privilege."""

    privilege: str = "SELECT"
    table: str = ""
    role: str = ""


@contextlib.contextmanager
def _translated(src: _Source, step: _Step) -> Iterator[None]:
    """Turn a database error into one InputDataError line that names the URL and the cause."""
    _sqlalchemy, psycopg = _modules()
    try:
        yield
    except psycopg.Error as exc:
        raise _db_error(src, step, exc) from None


def _db_error(src: _Source, step: _Step, exc: Any) -> InputDataError:
    detail = _scrub(exc.diag.message_primary or str(exc), src.password)
    state = exc.sqlstate or ""
    if state == "42501":
        # the server names the object it refused ("permission denied for table x")
        denied = re.search(r"permission denied for (\w+) (\S+)", detail)
        what, privilege = step.table or detail, step.privilege
        if denied and denied[1] == "schema":
            what = f"SCHEMA {denied[2]}"
            privilege = "USAGE" if privilege == "SELECT" else privilege
        elif denied and not step.table:
            what = denied[2]
        msg = _(
            "`{url}`: role {role} lacks {privilege} on {table}; "
            "grant it with: GRANT {privilege} ON {table} TO {role}"
        ).format(url=src.shown, role=step.role or "?", privilege=privilege, table=what)
    elif state == "42P01":
        msg = _("`{url}`: table or view not found ({detail})").format(url=src.shown, detail=detail)
    elif state == "42703":
        msg = _("`{url}`: column not found ({detail})").format(url=src.shown, detail=detail)
    elif state == "25006":
        msg = _("`{url}`: the query tries to write ({detail}); only one SELECT is read").format(
            url=src.shown, detail=detail
        )
    elif state.startswith("42"):
        msg = _("`{url}`: the query is not valid SQL ({detail})").format(
            url=src.shown, detail=detail
        )
    else:
        msg = _("`{url}`: database error ({detail})").format(url=src.shown, detail=detail)
    return InputDataError(msg)


# ----------------------------------------------------------------------------------------------
# reading


def check_select(query: str) -> None:
    """Refuse a query that is not one plain ``SELECT`` (or ``WITH ... SELECT``).

    Strings, quoted names and comments are skipped; a query is refused when it holds more
    than one statement, does not start with ``SELECT``/``WITH``, or uses a word that writes or
    locks (``INSERT``, ``UPDATE``, ``DELETE``, ``INTO``, ``DROP``...). A column named like
    one of those words must be written in double quotes. The query then runs in a READ ONLY
    transaction, which stops what this check cannot see (a function that writes).

    Parameters
    ----------
    query
        The SQL text.

    Raises
    ------
    InputDataError
        If the query is refused; the message says why.

    Examples
    --------
    >>> check_select("SELECT * FROM incidents WHERE category = 'DELETE'")
    >>> check_select("SELECT 1; DROP TABLE incidents")
    Traceback (most recent call last):
    ...
    patrolplan._errors.InputDataError: `query` must be one SELECT: it holds several statements
    """
    tokens = _tokens(query)
    while tokens and tokens[-1] == ";":
        tokens.pop()
    if ";" in tokens:
        msg = _("`query` must be one SELECT: it holds several statements")
        raise InputDataError(msg)
    first = next((t for t in tokens if t != "("), "")
    if first not in {"SELECT", "WITH"}:
        msg = _("`query` must be one SELECT: it starts with {word!r}").format(word=first or "")
        raise InputDataError(msg)
    bad = sorted({t for t in tokens if t in _FORBIDDEN})
    if bad:
        msg = _("`query` must be one SELECT: it uses {words} (quote a column of that name)").format(
            words=", ".join(bad)
        )
        raise InputDataError(msg)


def _tokens(query: str) -> list[str]:
    """Return the bare words (upper case), ``;`` and ``(`` of `query` outside strings/comments."""
    out: list[str] = []
    i, n = 0, len(query)
    word = re.compile(r"[^\W\d]\w*|\$\d+|\d[\w.]*")
    dollar = re.compile(r"\$([^\W\d]\w*)?\$")
    while i < n:
        c = query[i]
        if query.startswith("--", i):
            end = query.find("\n", i)
            i = n if end < 0 else end + 1
        elif query.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if query.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif query.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
            if depth:
                raise InputDataError(_("`query` has an unterminated comment"))
        elif c in "'\"":
            # a string or a quoted name; E'...' strings also escape with a backslash
            backslash = c == "'" and bool(out) and out[-1] == "E" and query[i - 1] in "eE"
            if backslash:
                out.pop()
            j = i + 1
            while True:
                if j >= n:
                    raise InputDataError(_("`query` has an unterminated quote"))
                # a backslash escape, or a doubled quote inside the string
                if (backslash and query[j] == "\\") or query[j + 1 : j + 2] == c == query[j]:
                    j += 2
                elif query[j] == c:
                    break
                else:
                    j += 1
            i = j + 1
        elif (m := dollar.match(query, i)) is not None:
            end = query.find(m.group(0), m.end())
            if end < 0:
                raise InputDataError(_("`query` has an unterminated quote"))
            i = end + len(m.group(0))
        elif (m := word.match(query, i)) is not None:
            out.append(m.group(0).upper())
            i = m.end()
        else:
            if c in ";(":
                out.append(c)
            i += 1
    return out


def _check_bbox(bbox: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in bbox)
    except (TypeError, ValueError):
        xmin = ymin = xmax = ymax = math.nan
    ok = all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax))
    if not ok or not (-180 <= xmin < xmax <= 180 and -90 <= ymin < ymax <= 90):
        msg = _(
            "`bbox` must be (west, south, east, north) in degrees (EPSG:4326), got {bbox!r}"
        ).format(bbox=bbox)
        raise InputDataError(msg)
    return xmin, ymin, xmax, ymax


def read_table(
    url: str,
    *,
    bbox: Sequence[float] | None = None,
    since: str | pd.Timestamp | None = None,
    until: str | pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, str | None, list[tuple[int, str]]]:
    """Read a table, view or SELECT into a frame of strings, as ingest reads a file.

    Every column comes as text (``NULL`` as ``""``); a geometry column becomes ``__x``,
    ``__y`` (of points; empty for other shapes) and ``__geomtype``, with the CRS
    ``EPSG:<srid>``, exactly as ingest turns a vector file into rows. Rows are numbered from
    1 in the table's primary-key order (else in storage order; a query keeps its own
    ``ORDER BY``). Rows with no geometry or no date are kept, so ingest reports them.

    Parameters
    ----------
    url
        ``postgresql://USER@HOST:PORT/DB?table=SCHEMA.TABLE`` or ``...?query=SELECT ...``,
        with optional ``geom=``, ``date=``, ``lat=``, ``lon=`` (see the module docstring).
    bbox
        ``(west, south, east, north)`` in EPSG:4326: only rows whose geometry's bounding box
        meets it are read (``&&`` against the box transformed to the column's SRID, so a
        GIST index serves it); for plain numeric lat/lon columns, rows inside it (either way
        round, since ingest mends swapped columns).
    since, until
        The time window: only rows whose date column is in ``[since, until]`` are read. The
        filter is a coarse pre-selection (a day wider for ``timestamptz`` and ``date``
        columns); ingest applies the exact window.

    Returns
    -------
    tuple
        ``(frame, crs, malformed_rows)`` as ingest's file readers return them: ``crs`` is
        ``EPSG:<srid>`` with a geometry column, else None; ``malformed_rows`` is always empty.

    Raises
    ------
    InputDataError
        If the URL is malformed, the server cannot be reached or refuses the login, the
        database, table or a named column does not exist, the query is not one SELECT, the
        geometry has no or an unknown SRID, or no row is left.
    """
    src = _parse(url, reading=True)
    if src.query is not None:
        try:
            check_select(src.query)
        except InputDataError as exc:
            msg = _("`{url}`: {error}").format(url=src.shown, error=exc)
            raise InputDataError(msg) from None
    try:
        box = _check_bbox(bbox) if bbox is not None else None
    except InputDataError as exc:
        msg = _("`{url}`: {error}").format(url=src.shown, error=exc)
        raise InputDataError(msg) from None
    start = pd.Timestamp(since) if since is not None else None
    end = pd.Timestamp(until) if until is not None else None
    step = _Step()
    with _connect(src) as conn, _translated(src, step), conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        step.role = str(_one(conn, "SELECT current_user"))
        frame, crs = _read(conn, src, step, box, start, end)
    log(
        _("read {n} rows from {url}{crs}").format(
            n=len(frame), url=src.shown, crs=f" ({crs})" if crs else ""
        )
    )
    return frame, crs, []


def _one(conn: psycopg.Connection[Any], query: Any, params: Any = None) -> Any:
    row = conn.execute(query, params).fetchone()
    return None if row is None else row[0]


def _read(
    conn: psycopg.Connection[Any],
    src: _Source,
    step: _Step,
    box: tuple[float, float, float, float] | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> tuple[pd.DataFrame, str | None]:
    """Do the work of :func:`read_table` inside its read-only transaction."""
    from psycopg import sql

    relation: tuple[int, str, str, str] | None = None
    if src.table:
        # the name as the server would quote it: SCHEMA.TABLE, or TABLE on the search path
        name = sql.SQL(" || '.' || ").join([sql.SQL("quote_ident(%s)")] * len(src.table))
        row = conn.execute(
            sql.SQL(
                "SELECT c.oid::int, n.nspname, c.relname, c.relkind::text FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass({})"
            ).format(name),
            list(src.table),
        ).fetchone()
        if row is None:
            msg = _("`{url}`: table {table} not found in database {database!r}").format(
                url=src.shown, table=".".join(src.table), database=src.database or ""
            )
            raise InputDataError(msg)
        relation = (int(row[0]), str(row[1]), str(row[2]), str(row[3]))
        step.table = f"{relation[1]}.{relation[2]}"
        source: sql.Composable = sql.SQL("{} AS src").format(sql.Identifier(row[1], row[2]))
    else:
        assert src.query is not None
        # the query is sent with parameters, so its own % signs are doubled
        body = src.query.strip().rstrip(";").replace("%", "%%")
        # on lines of its own, so a trailing -- comment ends before the parenthesis
        source = sql.SQL("(\n{}\n) AS src").format(sql.SQL(body))
    # column names and types, without reading a row
    cur = conn.execute(sql.SQL("SELECT * FROM {} LIMIT 0").format(source), {})
    names = [d.name for d in cur.description or []]
    oids = [int(d.type_code) for d in cur.description or []]
    dupes = sorted({c for c in names if names.count(c) > 1})
    if dupes:
        msg = _("`{url}`: the query returns columns {columns} more than once").format(
            url=src.shown, columns=dupes
        )
        raise InputDataError(msg)
    typname = dict(
        conn.execute("SELECT oid::int, typname::text FROM pg_type WHERE oid = ANY(%s)", [oids])
    )
    types = {c: str(typname.get(o, "")) for c, o in zip(names, oids, strict=True)}
    for key, column in src.hints.items():
        if column not in types:
            msg = _(
                "`{url}`: column {column!r} given as `{key}` not found; columns are {columns}"
            ).format(url=src.shown, column=column, key=key, columns=names)
            raise InputDataError(msg)
    geom = _geometry_column(src, types)
    srid = _srid(conn, src, relation, source, geom, types) if geom else None

    where: list[sql.Composable] = []
    params: dict[str, Any] = {}
    if box is not None:
        where.append(_bbox_filter(src, types, geom, srid, box, params))
    if start is not None or end is not None:
        where.append(_date_filter(src, types, start, end, params))
    select: list[sql.Composable] = [
        sql.SQL("{}::text AS {}").format(sql.Identifier("src", c), sql.Identifier(c))
        for c in names
        if c != geom
    ]
    if geom:
        g = sql.Identifier("src", geom)
        if types[geom] == "geography":
            g = sql.SQL("{}::geometry").format(g)  # type: ignore[assignment]
        point = sql.SQL("ST_GeometryType({g}) = 'ST_Point' AND NOT ST_IsEmpty({g})").format(g=g)
        select += [
            sql.SQL("CASE WHEN {p} THEN ST_X({g}) END AS __x").format(p=point, g=g),
            sql.SQL("CASE WHEN {p} THEN ST_Y({g}) END AS __y").format(p=point, g=g),
            sql.SQL("substr(ST_GeometryType({g}), 4) AS __geomtype").format(g=g),
            sql.SQL("ST_SRID({g}) AS __srid").format(g=g),
        ]
    conditions = [w for w in where if w is not None]
    query = sql.SQL("SELECT {} FROM {}{}{}").format(
        sql.SQL(", ").join(select) if select else sql.SQL("1"),
        source,
        sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL(""),
        _order(conn, relation),
    )
    cur = conn.execute(query, params)
    out_names = [d.name for d in cur.description or []]
    rows = cur.fetchall()
    if not rows:
        if conditions:
            msg = _("`{url}`: no rows in the bounding box and time window").format(url=src.shown)
        else:
            msg = _("`{url}`: no rows").format(url=src.shown)
        raise InputDataError(msg)
    df = pd.DataFrame(rows, columns=out_names, dtype=object)
    if geom:
        found = sorted({int(s) for s in df.pop("__srid") if s is not None})
        if len(found) > 1:
            msg = _(
                "`{url}`: column {column!r} mixes SRIDs {srids}; transform them to one with "
                "ST_Transform"
            ).format(url=src.shown, column=geom, srids=found)
            raise InputDataError(msg)
        for c in ("__x", "__y"):
            df[c] = [repr(float(v)) if v is not None else "" for v in df[c]]
    df = df.where(df.notna(), "").astype(str)
    df.index = pd.RangeIndex(1, len(df) + 1)
    return df, f"EPSG:{srid}" if geom else None


def _geometry_column(src: _Source, types: Mapping[str, str]) -> str | None:
    """Return the geometry column: the one named by ``geom=``, else the only one."""
    if "geom" in src.hints:
        column = src.hints["geom"]
        if types[column] not in _GEOM_TYPES:
            msg = _("`{url}`: column {column!r} is {type}, not a geometry").format(
                url=src.shown, column=column, type=types[column]
            )
            raise InputDataError(msg)
        return column
    found = [c for c, t in types.items() if t in _GEOM_TYPES]
    if len(found) > 1:
        msg = _("`{url}`: several geometry columns {columns}; choose one with geom=").format(
            url=src.shown, columns=found
        )
        raise InputDataError(msg)
    return found[0] if found else None


def _srid(
    conn: psycopg.Connection[Any],
    src: _Source,
    relation: tuple[int, str, str, str] | None,
    source: Any,
    geom: str,
    types: Mapping[str, str],
) -> int:
    """Return the SRID of `geom` (from the catalog, else from the rows); refuse 0 or unknown."""
    from psycopg import sql
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    srid = None
    if relation is not None:
        catalog = "geometry_columns" if types[geom] == "geometry" else "geography_columns"
        column = "f_geometry_column" if types[geom] == "geometry" else "f_geography_column"
        srid = _one(
            conn,
            sql.SQL(
                "SELECT srid FROM {} WHERE f_table_schema = %s AND f_table_name = %s AND {} = %s"
            ).format(sql.Identifier(catalog), sql.Identifier(column)),
            [relation[1], relation[2], geom],
        )
    if not srid:
        # an unconstrained column or a query: the SRIDs of the rows themselves
        g = sql.Identifier("src", geom)
        found = [
            r[0]
            for r in conn.execute(
                sql.SQL(
                    "SELECT DISTINCT ST_SRID({g}::geometry) FROM {s} WHERE {g} IS NOT NULL LIMIT 2"
                ).format(g=g, s=source),
                {},
            )
        ]
        if len(found) > 1:
            msg = _(
                "`{url}`: column {column!r} mixes SRIDs {srids}; transform them to one with "
                "ST_Transform"
            ).format(url=src.shown, column=geom, srids=sorted(found))
            raise InputDataError(msg)
        srid = found[0] if found else None
        if srid is None:
            # no geometry at all: every row is reported as missing coordinates
            return 4326
    if int(srid) <= 0:
        msg = _(
            "`{url}`: column {column!r} has no SRID (0); set it with ST_SetSRID or "
            "UpdateGeometrySRID"
        ).format(url=src.shown, column=geom)
        raise InputDataError(msg)
    try:
        CRS.from_user_input(f"EPSG:{int(srid)}")
    except CRSError:
        msg = _("`{url}`: column {column!r} has SRID {srid}, which is not an EPSG code").format(
            url=src.shown, column=geom, srid=srid
        )
        raise InputDataError(msg) from None
    return int(srid)


def _bbox_filter(
    src: _Source,
    types: Mapping[str, str],
    geom: str | None,
    srid: int | None,
    box: tuple[float, float, float, float],
    params: dict[str, Any],
) -> Any:
    """Return the bounding-box condition (None when the coordinates cannot be filtered)."""
    from psycopg import sql

    from patrolplan.presets import COLUMN_ALIASES

    xmin, ymin, xmax, ymax = box
    params.update(xmin=xmin, ymin=ymin, xmax=xmax, ymax=ymax)
    if geom is not None:
        g = sql.Identifier("src", geom)
        env = sql.SQL("ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 4326)")
        if types[geom] == "geography":
            env = sql.SQL("{}::geography").format(env)  # type: ignore[assignment]
        elif srid != 4326:
            # densified first, so the box's edges stay inside it once projected
            params["step"] = max(xmax - xmin, ymax - ymin) / 32
            params["srid"] = srid
            env = sql.SQL("ST_Transform(ST_Segmentize({}, %(step)s), %(srid)s)").format(env)  # type: ignore[assignment]
        return sql.SQL("({g} IS NULL OR {g} && {env})").format(g=g, env=env)

    def pick(role: str) -> str | None:
        if role in src.hints:
            return src.hints[role]
        by_name = {c.lower(): c for c in types}
        return next((by_name[a] for a in COLUMN_ALIASES[role] if a in by_name), None)

    lat, lon = pick("lat"), pick("lon")
    if lat is None or lon is None or not {types[lat], types[lon]} <= _NUMBER_TYPES:
        log(
            _("{url}: no numeric lat/lon columns, the bounding box is left to ingest").format(
                url=src.shown
            )
        )
        return None
    y, x = sql.Identifier("src", lat), sql.Identifier("src", lon)
    return sql.SQL(
        "({y} IS NULL OR {x} IS NULL "
        "OR ({x} BETWEEN %(xmin)s AND %(xmax)s AND {y} BETWEEN %(ymin)s AND %(ymax)s) "
        "OR ({y} BETWEEN %(xmin)s AND %(xmax)s AND {x} BETWEEN %(ymin)s AND %(ymax)s))"
    ).format(x=x, y=y)


def _date_filter(
    src: _Source,
    types: Mapping[str, str],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    params: dict[str, Any],
) -> Any:
    """Return the time-window condition on the date column (None when there is none)."""
    from psycopg import sql

    from patrolplan.presets import COLUMN_ALIASES

    if "date" in src.hints:
        column: str | None = src.hints["date"]
        assert column is not None
        if types[column] not in _DATE_TYPES:
            msg = _(
                "`{url}`: column {column!r} given as `date` is {type}, not a date or timestamp"
            ).format(url=src.shown, column=column, type=types[column])
            raise InputDataError(msg)
    else:
        dated = [c for c, t in types.items() if t in _DATE_TYPES]
        by_name = {c.lower(): c for c in dated}
        column = next((by_name[a] for a in COLUMN_ALIASES["datetime"] if a in by_name), None)
        if column is None and len(dated) == 1:
            column = dated[0]
    if column is None:
        log(
            _("{url}: no date or timestamp column, the time window is left to ingest").format(
                url=src.shown
            )
        )
        return None
    # a day of slack where the column's clock or day may differ from the window's
    slack = pd.Timedelta(0) if types[column] == "timestamp" else pd.Timedelta(days=1)
    d = sql.Identifier("src", column)
    parts: list[sql.Composable] = []
    if start is not None:
        params["since"] = _naive(start - slack)
        parts.append(sql.SQL("{} >= %(since)s").format(d))
    if end is not None:
        params["until"] = _naive(end + slack)
        parts.append(sql.SQL("{} <= %(until)s").format(d))
    return sql.SQL("({} IS NULL OR ({}))").format(d, sql.SQL(" AND ").join(parts))


def _naive(stamp: pd.Timestamp) -> dt.datetime:
    """Return a wall-clock datetime (UTC for a zoned one), to the microsecond."""
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.round("us").to_pydatetime()  # type: ignore[no-any-return]


def _order(conn: psycopg.Connection[Any], relation: tuple[int, str, str, str] | None) -> Any:
    """Order a table by its primary key, else by storage; a query keeps its own order."""
    from psycopg import sql

    if relation is None:
        return sql.SQL("")
    keys = [
        r[0]
        for r in conn.execute(
            "SELECT a.attname::text FROM pg_index i JOIN pg_attribute a "
            "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
            "WHERE i.indrelid = %s AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
            [relation[0]],
        )
    ]
    if keys:
        return sql.SQL(" ORDER BY ") + sql.SQL(", ").join(sql.Identifier("src", k) for k in keys)
    if relation[3] in {"r", "m"}:
        return sql.SQL(" ORDER BY src.ctid")
    return sql.SQL("")


# ----------------------------------------------------------------------------------------------
# writing

# The tables of :func:`write_plan`, created in this order; every child row goes with its plan.
