"""Download one ArcGIS REST layer (MapServer or FeatureServer) to a local Esri JSON file.

The only step of patrolplan that needs the network. :func:`fetch_layer` reads the layer's
``maxRecordCount``, pages through the query with ``resultOffset``/``resultRecordCount`` (ordered
by the object id, so pages do not overlap) until the server no longer says
``exceededTransferLimit``, and asks for every field (``outFields=*``) in EPSG:4326
(``outSR=4326``). Each page is saved in a ``<out>.part/`` folder as it arrives, so a rerun after
an interruption skips the pages already there; on success the pages are joined into `out`
atomically and the part folder is removed. Connection errors and server errors (HTTP 5xx) are
retried with exponential back-off.

The file written is an Esri JSON feature set that :func:`patrolplan.ingest.read_incidents`
reads, e.g. with ``preset="kpssu_rta"``.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patrolplan._errors import InputDataError
from patrolplan.i18n import _
from patrolplan.utils import atomic_write_text, log

#: The file that marks a part folder as made by :func:`fetch_layer` (and for which query).
MARKER = ".patrolplan-fetch.json"

#: ``maxRecordCount`` assumed when the layer does not say (ArcGIS Server's default).
DEFAULT_MAX_RECORDS = 1000


@dataclass(frozen=True)
class FetchReport:
    """What :func:`fetch_layer` downloaded.

    Attributes
    ----------
    url
        The layer URL.
    out
        The file written.
    features
        Features written (after dropping object ids repeated across pages).
    pages
        Pages in the query.
    pages_resumed
        Pages found already downloaded in the part folder and not fetched again.
    page_size
        Features asked per page.
    max_record_count
        The layer's ``maxRecordCount``.
    retries
        Requests that had to be repeated.
    duplicates
        Features dropped because their object id was already on an earlier page.
    """

    url: str
    out: Path
    features: int
    pages: int
    pages_resumed: int
    page_size: int
    max_record_count: int
    retries: int
    duplicates: int


class _Server:
    """GET JSON from one layer with retries; counts the retries made."""

    def __init__(self, url: str, retries: int, backoff_s: float, timeout_s: float) -> None:
        self.url = url
        self.retries = retries
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self.retried = 0

    def get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        full = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.retried += 1
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(full, timeout=self.timeout_s) as answer:
                    body = answer.read()
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code} {exc.reason}"
                if exc.code >= 500:
                    continue
                msg = _("{url}: the server refused the request ({error})").format(
                    url=self.url, error=last
                )
                raise InputDataError(msg) from None
            except (TimeoutError, urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                last = " ".join(str(reason).split())
                continue
            try:
                doc = json.loads(body.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                msg = _("{url}: the server did not answer with JSON").format(url=self.url)
                raise InputDataError(msg) from None
            if not isinstance(doc, dict):
                msg = _("{url}: the server did not answer with JSON").format(url=self.url)
                raise InputDataError(msg)
            error = doc.get("error")
            if isinstance(error, dict):
                code = error.get("code")
                last = f"{code}: {error.get('message', '')}"
                if isinstance(code, int) and code >= 500:
                    continue
                msg = _("{url}: the server answered with an error ({error})").format(
                    url=self.url, error=last
                )
                raise InputDataError(msg)
            return doc
        msg = _("{url}: cannot reach the server after {n} tries ({error})").format(
            url=self.url, n=self.retries + 1, error=last
        )
        raise InputDataError(msg)


def _layer_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        msg = _("`url` must be an http(s) ArcGIS layer URL such as {example}, got {url!r}").format(
            example="https://host/arcgis/rest/services/KPSSU/DTP/FeatureServer/0", url=url
        )
        raise InputDataError(msg)
    path = parts.path.rstrip("/")
    if path.endswith("/query"):
        path = path[: -len("/query")]
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _object_id_field(info: dict[str, Any]) -> str | None:
    name = info.get("objectIdField")
    if isinstance(name, str) and name:
        return name
    for spec in info.get("fields") or []:
        if isinstance(spec, dict) and spec.get("type") == "esriFieldTypeOID":
            return str(spec.get("name"))
    return None


def _oid(feature: Any, field: str | None) -> Any:
    attrs = feature.get("attributes") if isinstance(feature, dict) else None
    if not isinstance(attrs, dict):
        return None
    if field is not None and field in attrs:
        return attrs[field]
    for key in ("OBJECTID", "objectid", "FID"):
        if key in attrs:
            return attrs[key]
    return None


def _open_part(part: Path, query: dict[str, Any]) -> None:
    """Create the part folder, or check that an existing one holds pages of this query."""
    marker = part / MARKER
    if part.exists():
        try:
            mine = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            msg = _(
                "{path} exists and was not made by patrolplan; move it away or choose another `out`"
            ).format(path=part)
            raise InputDataError(msg) from None
        if mine != query:
            msg = _(
                "{path} holds the pages of another query ({other}); delete it to start again"
            ).format(path=part, other=mine)
            raise InputDataError(msg)
        return
    part.mkdir(parents=True)
    atomic_write_text(marker, json.dumps(query, sort_keys=True))


def fetch_layer(
    url: str,
    *,
    out: str | Path,
    where: str = "1=1",
    page_size: int | None = None,
    retries: int = 5,
    backoff_s: float = 1.0,
    progress: bool = True,
    timeout_s: float = 60.0,
) -> FetchReport:
    """Download the features of one ArcGIS REST layer that match `where` into `out`.

    Parameters
    ----------
    url
        The layer, e.g. ``https://gis.kgp.kz/arcgis/rest/services/KPSSU/DTP/FeatureServer/0``
        (a trailing ``/query`` is dropped).
    out
        The Esri JSON file to write (atomically). Pages are kept in ``<out>.part/`` until the
        download is complete.
    where
        The SQL filter, e.g. ``"area_code='1971'"``.
    page_size
        Features per page; default and upper bound: the layer's ``maxRecordCount``.
    retries
        How many times a request is repeated after a connection error or HTTP 5xx.
    backoff_s
        Wait before the first retry; doubled for each further one.
    progress
        Show a progress bar (tqdm, on standard error).
    timeout_s
        Timeout of each request.

    Returns
    -------
    FetchReport
        Features, pages, pages resumed and retries.

    Raises
    ------
    InputDataError
        If the URL is not http(s), the server cannot be reached after the retries, refuses
        the query or does not answer with JSON, or ``<out>.part`` exists and was not made by
        patrolplan for this query.
    """
    if page_size is not None and page_size < 1:
        msg = _("`page_size` must be 1 or more, got {value}").format(value=page_size)
        raise InputDataError(msg)
    layer = _layer_url(url)
    out = Path(out)
    server = _Server(layer, max(0, retries), backoff_s, timeout_s)
    info = server.get("", {"f": "json"})
    raw_max = info.get("maxRecordCount")
    max_records = raw_max if isinstance(raw_max, int) and raw_max > 0 else DEFAULT_MAX_RECORDS
    size = min(page_size or max_records, max_records)
    oid_field = _object_id_field(info)
    query = {"url": layer, "where": where, "page_size": size}
    part = out.with_name(out.name + ".part")
    _open_part(part, query)

    params = {"where": where, "outFields": "*", "outSR": "4326", "f": "json"}
    if oid_field:
        params["orderByFields"] = oid_field
    total: int | None = None
    try:
        counted = server.get("/query", {"where": where, "returnCountOnly": "true", "f": "json"})
        total = int(counted["count"]) if isinstance(counted.get("count"), int) else None
    except InputDataError:
        total = None

    from tqdm import tqdm

    pages: list[dict[str, Any]] = []
    resumed = received = 0
    seen: set[Any] = set()
    with tqdm(total=total, disable=not progress, unit=" features", desc=out.name) as bar:
        while True:
            page_file = part / f"query_{len(pages)}.json"
            doc: dict[str, Any] | None = None
            if page_file.is_file():
                try:
                    loaded = json.loads(page_file.read_text(encoding="utf-8"))
                    doc = loaded if isinstance(loaded, dict) else None
                except (OSError, ValueError):
                    doc = None
                resumed += doc is not None
            if doc is None:
                # the next offset is what has arrived so far: a server may send fewer
                # features than asked and still say there are more
                doc = server.get(
                    "/query",
                    {**params, "resultOffset": str(received), "resultRecordCount": str(size)},
                )
                atomic_write_text(page_file, json.dumps(doc, ensure_ascii=False))
            features = doc.get("features") or []
            ids = {_oid(f, oid_field) for f in features} - {None}
            if features and ids and ids <= seen and doc.get("exceededTransferLimit"):
                # the server ignores resultOffset and sends the first page again
                msg = _(
                    "{url}: the layer does not page (the same features came back for offset "
                    "{offset}); narrow `where` to fewer than {n} features per query"
                ).format(url=layer, offset=received, n=size)
                raise InputDataError(msg)
            seen |= ids
            received += len(features)
            pages.append(doc)
            bar.update(len(features))
            if not doc.get("exceededTransferLimit") or not features:
                break

    joined, duplicates = _join(pages, oid_field)
    atomic_write_text(out, json.dumps(joined, ensure_ascii=False))
    shutil.rmtree(part)
    report = FetchReport(
        url=layer,
        out=out,
        features=len(joined["features"]),
        pages=len(pages),
        pages_resumed=resumed,
        page_size=size,
        max_record_count=max_records,
        retries=server.retried,
        duplicates=duplicates,
    )
    log(
        _("{url}: {n} features in {pages} pages written to {out}").format(
            url=layer, n=report.features, pages=report.pages, out=out
        )
    )
    return report


def _join(pages: list[dict[str, Any]], oid_field: str | None) -> tuple[dict[str, Any], int]:
    """Join pages into one feature set, dropping object ids already seen."""
    joined: dict[str, Any] = {k: v for k, v in pages[0].items() if k != "features"}
    joined.pop("exceededTransferLimit", None)
    seen: set[Any] = set()
    features: list[Any] = []
    duplicates = 0
    for page in pages:
        for feature in page.get("features") or []:
            oid = _oid(feature, oid_field)
            if oid is not None and oid in seen:
                duplicates += 1
                continue
            if oid is not None:
                seen.add(oid)
            features.append(feature)
    joined["features"] = features
    return joined, duplicates
