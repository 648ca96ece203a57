"""Walking street graph from a local OpenStreetMap extract, cached, with risk on its edges.

OSM XML (``.osm``, ``.osm.bz2``, ``.xml``) and PBF (``.osm.pbf``) are read the same way, with
osmium: only the ways passing :func:`is_walkable` (OSMnx's ``walk`` filter) are kept, and a way
that references nodes missing from the extract (every bounding-box extract clips some) is cut at
them, each run of at least two present nodes kept as a piece. The kept ways and their nodes are
written as OSM XML and read by :func:`osmnx.graph_from_xml`, so both formats give the same
graph. The graph is simplified, reduced to its largest strongly connected component and projected
to the local UTM zone.

The result is cached as two Arrow tables (nodes and edges, edge geometries as WKB) in one file,
keyed by the extract's content, the package and OSMnx versions and :data:`GRAPH_FORMAT`, written
atomically and checked against a digest when read: a damaged cache file is rebuilt, never
trusted. A warm load needs neither OSMnx nor the extract's parser.

Conversions of a graph to arrays and GeoDataFrames (node coordinates, the undirected street
table, its EPSG:4326 copy, spatial indexes) are computed once per graph and reused; edge
attributes that change (``risk``, ``n_incidents``) are read afresh on every call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import json
import logging
import re
import tempfile
import warnings
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from patrolplan import i18n, settings
from patrolplan._errors import GraphBuildError, InfeasibleRouteError, InputDataError
from patrolplan.i18n import _
from patrolplan.utils import atomic_path, file_sha256, log

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import pyarrow as pa
    from shapely.geometry.base import BaseGeometry

#: Version of the way filter, graph preparation and cache layout; bump it to invalidate caches.
#: 5: edges keep the street names in Russian and Kazakh (:data:`NAME_TAGS`).
GRAPH_FORMAT = 5

#: Street names in the languages of the maps and sheets, kept on the edges beside ``name``
#: where the extract has them (see :func:`patrolplan.i18n.street_name`).
NAME_TAGS = ("name:ru", "name:kk")

_XML_SUFFIXES = (".osm", ".osm.bz2", ".xml")
# list-valued edge attributes kept as "a;b" text
_JOINED = ("name", *NAME_TAGS, "highway", "osmid")
_PBF_SUFFIXES = (".pbf",)

# OSMnx's "walk" network filter (osmnx._overpass._get_network_filter), as tag -> regex that
# must NOT match; `highway` must be present.
_WALK_EXCLUDE: dict[str, re.Pattern[str]] = {
    "area": re.compile("yes"),
    "access": re.compile("private"),
    "highway": re.compile(
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed"
        "|raceway|razed|rest_area|services"
    ),
    "foot": re.compile("no"),
    "service": re.compile("private"),
    "sidewalk": re.compile("separate"),
    "sidewalk:both": re.compile("separate"),
    "sidewalk:left": re.compile("separate"),
    "sidewalk:right": re.compile("separate"),
}


def is_walkable(tags: dict[str, str]) -> bool:
    """Tell whether an OSM way with `tags` belongs to the walking network.

    Parameters
    ----------
    tags
        The way's tags.

    Returns
    -------
    bool
        True if the way has a ``highway`` tag and passes OSMnx's ``walk`` filter.

    Examples
    --------
    >>> is_walkable({"highway": "residential"}), is_walkable({"highway": "motorway"})
    (True, False)
    """
    if "highway" not in tags:
        return False
    return not any(
        key in tags and pattern.search(tags[key]) for key, pattern in _WALK_EXCLUDE.items()
    )


def graph_from_file(
    path: str | Path,
    *,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> nx.MultiDiGraph:
    """Build the projected walking graph of a local OSM extract, using the cache if possible.

    Parameters
    ----------
    path
        An OSM XML (``.osm``, ``.osm.bz2``, ``.xml``), PBF (``.osm.pbf``) or GraphML file.
    cache_dir
        Folder of the graph cache; default :data:`patrolplan.settings.cache_dir`.
    use_cache
        Read and write the cache.

    Returns
    -------
    networkx.MultiDiGraph
        Walking graph in a metric UTM CRS (``G.graph["crs"]``), edges with ``length`` in
        metres, nodes with ``x``/``y`` (metres) and ``lon``/``lat``.

    Raises
    ------
    GraphBuildError
        If the file is missing, unreadable or holds no walkable street.
    """
    path = Path(path)
    if not path.is_file():
        msg = _("`osm` file {path} not found").format(path=path)
        raise GraphBuildError(msg)
    name = path.name.lower()
    if name.endswith(".graphml"):
        return _load_graphml(path)
    if not name.endswith(_XML_SUFFIXES + _PBF_SUFFIXES):
        msg = _(
            "`osm` file {path} has an unknown type; expected .osm, .osm.bz2, .osm.pbf or .graphml"
        ).format(path=path)
        raise GraphBuildError(msg)
    cache = Path(cache_dir if cache_dir is not None else settings.cache_dir)
    cached = cache / _cache_name(path)
    if use_cache and cached.is_file():
        G = _read_cache(cached)
        if G is not None:
            log(
                _("Loaded cached graph {path} ({nodes} nodes, {edges} edges)").format(
                    path=cached,
                    nodes=i18n.format_number(len(G)),
                    edges=i18n.format_number(G.number_of_edges()),
                )
            )
            return G
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "walk.osm"
        pieces, names = _walk_extract(path, xml)
        G = _graph_from_walk_xml(xml, pieces, shown=path, names=names)
    if use_cache:
        try:
            _write_cache(G, cached)
        except OSError as exc:
            log(
                _("Could not write graph cache {path}: {error}").format(path=cached, error=exc),
                logging.WARNING,
            )
    return G


def _dist_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "0+unknown"


def _cache_name(path: Path) -> str:
    """Name of the cache file of `path`: its content hash and every version the graph depends on."""
    try:
        digest = file_sha256(path)[:16]
    except OSError as exc:
        msg = _("cannot read OSM extract {path}: {error}").format(
            path=path, error=exc.strerror or exc
        )
        raise GraphBuildError(msg) from None
    pp = _dist_version("patrolplan")
    ox = _dist_version("osmnx")
    return f"walk-{digest}-v{GRAPH_FORMAT}-pp{pp}-ox{ox}.ppgraph"


def _point(what: str) -> str:
    """Return the kind of a point (``post``, ``end point``) in the current language."""
    return _(what) if what in ("post", "end point") else what


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _osm_objects(src: Path, entities: Any, *filters: Any) -> Iterator[Any]:
    """Yield the osmium objects of `src`; a reader error becomes one `GraphBuildError` line."""
    import osmium

    processor = osmium.FileProcessor(str(src), entities)
    for f in filters:
        processor = processor.with_filter(f)
    try:
        # Only errors of the reader land here: the caller's loop body runs outside this frame.
        yield from processor
    except (RuntimeError, OSError) as exc:
        if isinstance(exc, RecursionError | NotImplementedError):
            raise
        msg = _("cannot read OSM extract {path}: {error}").format(path=src, error=_one_line(exc))
        raise GraphBuildError(msg) from None


def _runs(refs: Sequence[int], present: set[int] | dict[int, Any]) -> list[list[int]]:
    """Split a way's node refs at the nodes missing from `present`; keep runs of >= 2 nodes.

    Examples
    --------
    >>> _runs([1, 2, 3, 9, 4, 5, 9, 6], {1, 2, 3, 4, 5, 6})
    [[1, 2, 3], [4, 5]]
    """
    runs: list[list[int]] = []
    run: list[int] = []
    for ref in refs:
        if ref in present:
            run.append(ref)
            continue
        if len(run) >= 2:
            runs.append(run)
        run = []
    if len(run) >= 2:
        runs.append(run)
    return runs


def _walk_extract(src: Path, dst: Path) -> tuple[dict[int, int], dict[int, dict[str, str]]]:
    """Write the walkable ways of `src`, cut at missing nodes, and their nodes as OSM XML.

    Returns
    -------
    tuple
        Way id given to each extra piece of a cut way -> the way's own id (the first piece
        keeps the way's id); and way id -> its ``name`` and :data:`NAME_TAGS`, for the ways
        that have a name in Russian or Kazakh.
    """
    import osmium
    from osmium.osm import mutable

    ways: list[tuple[int, list[int], dict[str, str]]] = []
    max_id = 0
    for way in _osm_objects(src, osmium.osm.WAY, osmium.filter.KeyFilter("highway")):
        max_id = max(max_id, way.id)
        tags = dict(way.tags)
        if is_walkable(tags):
            ways.append((way.id, [n.ref for n in way.nodes], tags))
    if not ways:
        msg = _("OSM extract {path} holds no walkable street").format(path=src)
        raise GraphBuildError(msg)
    wanted = {ref for _id, refs, _tags in ways for ref in refs}
    nodes: dict[int, Any] = {}
    # (osmium's IdFilter would hold a bitmap as large as the highest node id: about 1.5 GB)
    for node in _osm_objects(src, osmium.osm.NODE):
        if node.id in wanted and node.location.valid():
            loc = (node.location.lon, node.location.lat)
            nodes[node.id] = mutable.Node(id=node.id, location=loc, tags=dict(node.tags))
    pieces: list[tuple[int, list[int], dict[str, str]]] = []
    extra: dict[int, int] = {}
    n_cut = n_dropped = 0
    for way_id, refs, tags in ways:
        runs = _runs(refs, nodes)
        if not runs:
            n_dropped += 1
            continue
        if len(runs) > 1 or len(runs[0]) != len(refs):
            n_cut += 1
        pieces.append((way_id, runs[0], tags))
        for run in runs[1:]:
            max_id += 1
            extra[max_id] = way_id
            pieces.append((max_id, run, tags))
    used = {ref for _id, run, _tags in pieces for ref in run}
    n_missing = len(wanted) - len(nodes)
    if not pieces:
        msg = _(
            "OSM extract {path} holds no walkable street: its {ways} walkable ways reference "
            "nodes missing from the extract ({missing} of {wanted})"
        ).format(
            path=src,
            ways=i18n.format_number(len(ways)),
            missing=i18n.format_number(n_missing),
            wanted=i18n.format_number(len(wanted)),
        )
        raise GraphBuildError(msg)
    with osmium.SimpleWriter(str(dst)) as writer:
        for node_id, node in nodes.items():
            if node_id in used:
                writer.add_node(node)
        for way_id, run, tags in pieces:
            writer.add_way(mutable.Way(id=way_id, nodes=run, tags=tags))
    msg = _("Filtered {file}: {ways} walkable ways, {nodes} nodes").format(
        file=src.name, ways=i18n.format_number(len(ways)), nodes=i18n.format_number(len(used))
    )
    if n_missing:
        msg += "; " + _(
            "{missing} referenced nodes are missing from the extract: {cut} ways cut at "
            "them into {pieces} pieces, {dropped} ways dropped"
        ).format(
            missing=i18n.format_number(n_missing),
            cut=i18n.format_number(n_cut),
            pieces=i18n.format_number(n_cut + len(extra)),
            dropped=i18n.format_number(n_dropped),
        )
    log(msg)
    names = {
        way_id: {k: tags[k] for k in ("name", *NAME_TAGS) if k in tags}
        for way_id, refs, tags in ways
        if "name" in tags and any(t in tags for t in NAME_TAGS)
    }
    return extra, names


def _align_local_names(G: nx.MultiDiGraph, names: dict[int, dict[str, str]]) -> None:
    """Write each edge's ``name:ru`` / ``name:kk`` part for part beside its ``name``.

    Simplification joins the ways of an edge and sorts each attribute's values on its own, so
    ``name`` = ``A;B`` may come with ``name:kk`` = ``b;a``; here the local names are taken
    from the edge's own ways again, in the order of ``name``, a name without a translation
    standing for itself.
    """
    for *_ends, data in G.edges(data=True):
        if not any(tag in data for tag in NAME_TAGS):
            continue
        ways = [names[int(i)] for i in str(data.get("osmid", "")).split(";") if int(i) in names]
        parts = [p for p in str(data.get("name", "")).split(";") if p]
        for tag in NAME_TAGS:
            local = {w["name"]: w[tag] for w in ways if tag in w}
            if local and parts:
                data[tag] = ";".join(local.get(p, p) for p in parts)
            else:
                data.pop(tag, None)


def _graph_from_walk_xml(
    xml: Path,
    extra: dict[int, int],
    *,
    shown: Path,
    names: dict[int, dict[str, str]] | None = None,
) -> nx.MultiDiGraph:
    """Read the XML written by :func:`_walk_extract` with OSMnx and prepare the graph."""
    import osmnx as ox

    useful = list(ox.settings.useful_tags_way)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the street names in Russian and Kazakh are kept on the edges, as `name` is
        ox.settings.useful_tags_way = list(dict.fromkeys([*useful, *NAME_TAGS]))
        try:
            # Pedestrians walk one-way streets both ways (osmnx does the same for its "walk"
            # network type; graph_from_xml needs to be told).
            G = ox.graph_from_xml(xml, bidirectional=True, simplify=True, retain_all=True)
        finally:
            ox.settings.useful_tags_way = useful
    if extra:
        # pieces of a cut way carry the way's own id again
        for *_ends, data in G.edges(data=True):
            ids = data["osmid"] if isinstance(data["osmid"], list) else [data["osmid"]]
            ids = list(dict.fromkeys(extra.get(i, i) for i in ids))
            data["osmid"] = ids if len(ids) > 1 else ids[0]
    G = _prepare(G, shown)
    _align_local_names(G, names or {})
    return G


def _prepare(G: nx.MultiDiGraph, shown: Path) -> nx.MultiDiGraph:
    """Keep the largest strongly connected part, project to UTM, keep lon/lat on nodes."""
    import osmnx as ox

    n_all = len(G)
    G = ox.truncate.largest_component(G, strongly=True)
    for _node, data in G.nodes(data=True):
        data["lon"], data["lat"] = data["x"], data["y"]
    G = ox.project_graph(G)
    # Simplification merges the values of joined edges through a set, whose order changes from
    # one process to the next: sort them, so the same extract always gives the same graph.
    # Street names, highway types and OSM ids become readable text (``"a;b"``), OSM ids always
    # text; other merged attributes stay lists, as in OSMnx.
    for *_ends, data in G.edges(data=True):
        for key, value in data.items():
            if isinstance(value, list):
                value = sorted(value, key=str)
                data[key] = ";".join(map(str, value)) if key in _JOINED else value
        if "osmid" in data:
            data["osmid"] = str(data["osmid"])
    log(
        _(
            "Built walking graph from {file}: {nodes} nodes, {edges} edges ({dropped} "
            "nodes outside the largest connected part dropped)"
        ).format(
            file=shown.name,
            nodes=i18n.format_number(len(G)),
            edges=i18n.format_number(G.number_of_edges()),
            dropped=i18n.format_number(n_all - len(G)),
        )
    )
    return G


def _load_graphml(path: Path) -> nx.MultiDiGraph:
    import xml.etree.ElementTree as ET

    import osmnx as ox

    try:
        G = ox.load_graphml(
            path,
            node_dtypes={"lon": float, "lat": float},
            edge_dtypes={"risk": float, "osmid": str, "name": str, "highway": str},
        )
    except (OSError, ET.ParseError, nx.NetworkXError, ValueError) as exc:
        msg = _("cannot read GraphML {path}: {error}").format(path=path, error=_one_line(exc))
        raise GraphBuildError(msg) from None
    if len(G) == 0 or G.number_of_edges() == 0:
        msg = _("GraphML {path} holds no street").format(path=path)
        raise GraphBuildError(msg)
    if "crs" not in G.graph or any("x" not in d or "y" not in d for _n, d in G.nodes(data=True)):
        msg = _(
            "GraphML {path} is not a street graph: it needs a `crs` and x/y on every node"
        ).format(path=path)
        raise GraphBuildError(msg)
    if "lon" not in next(iter(G.nodes.values())):
        G = _prepare(G, path)
    return G


# --- graph cache: nodes and edges as Arrow tables, checked by a digest -----------------------

_CACHE_MAGIC = b"patrolplan-graph\n"
_DIGEST_SIZE = 32


class _DamagedCacheError(Exception):
    """The cache file is truncated, altered or not a graph cache."""


def _kind(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, str):
        return "str"
    return "json"


def _table(records: Sequence[dict[str, Any]], fixed: dict[str, Any]) -> pa.Table:
    """Return the attributes of `records` as typed columns, one per attribute and value type.

    An attribute whose values have several types (a bool or, where simplification merged
    edges, a list) gets one column per type, ``name:kind``; lists and other values are JSON.
    """
    import pyarrow as pa

    types = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "str": pa.string()}
    arrays = dict(fixed)
    fields = [pa.field(k, a.type) for k, a in fixed.items()]
    for key in dict.fromkeys(k for r in records for k in r):
        values = [r.get(key) for r in records]
        kinds = [None if v is None else _kind(v) for v in values]
        for kind in dict.fromkeys(k for k in kinds if k is not None):
            column = [v if k == kind else None for v, k in zip(values, kinds, strict=True)]
            if kind == "json":
                column = [None if v is None else json.dumps(v, default=str) for v in column]
            arrays[f"{key}:{kind}"] = pa.array(column, types.get(kind, pa.string()))
            meta = {"attr": key, "kind": kind}
            fields.append(pa.field(f"{key}:{kind}", types.get(kind, pa.string()), metadata=meta))
    return pa.Table.from_arrays(list(arrays.values()), schema=pa.schema(fields))


def _records(table: pa.Table, skip: int) -> list[dict[str, Any]]:
    """Return the attribute dict of each row of `table`, from column `skip` on, without nulls."""
    merged: dict[str, list[Any]] = {}
    for field in list(table.schema)[skip:]:
        values = table.column(field.name).to_pylist()
        meta = field.metadata or {}
        if meta.get(b"kind") == b"json":
            values = [None if v is None else json.loads(v) for v in values]
        attr = meta[b"attr"].decode()
        if attr not in merged:
            merged[attr] = values
            continue
        base = merged[attr]
        for i, v in enumerate(values):
            if v is not None:
                base[i] = v
    if not merged:
        return [{} for _row in range(table.num_rows)]
    names = list(merged)
    return [
        {k: v for k, v in zip(names, row, strict=True) if v is not None}
        for row in zip(*merged.values(), strict=True)
    ]


def _ipc(table: pa.Table, meta: dict[str, str]) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    table = table.replace_schema_metadata(meta)
    codec = "lz4" if pa.Codec.is_available("lz4") else None
    options = pa.ipc.IpcWriteOptions(compression=codec)
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def _write_cache(G: nx.MultiDiGraph, path: Path) -> None:
    """Write `G` to `path` atomically: magic, digest, nodes table size, nodes, edges."""
    import pyarrow as pa

    node_ids = pa.array(list(G.nodes), pa.int64())
    nodes = _table([d for _, d in G.nodes(data=True)], {"_id": node_ids})
    edge_list = list(G.edges(keys=True, data=True))
    geoms = [d.get("geometry") for *_, d in edge_list]
    wkb = [None if g is None else shapely.to_wkb(g) for g in geoms]
    fixed = {
        "_u": pa.array([e[0] for e in edge_list], pa.int64()),
        "_v": pa.array([e[1] for e in edge_list], pa.int64()),
        "_key": pa.array([e[2] for e in edge_list], pa.int64()),
        "_geometry": pa.array(wkb, pa.binary()),
    }
    attrs = [{k: v for k, v in d.items() if k != "geometry"} for *_, d in edge_list]
    edges = _table(attrs, fixed)
    graph_attrs = {k: v for k, v in G.graph.items() if k != "crs"}
    meta = {"crs": CRS(G.graph["crs"]).srs, "graph": json.dumps(graph_attrs, default=str)}
    first, second = _ipc(nodes, meta), _ipc(edges, {})
    payload = len(first).to_bytes(8, "little") + first + second
    digest = hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest()
    with atomic_path(path) as tmp:
        tmp.write_bytes(_CACHE_MAGIC + digest + payload)
    log(_("Cached graph in {path}").format(path=path), logging.DEBUG)


def _read_cache(path: Path) -> nx.MultiDiGraph | None:
    """Read a graph cache; None (after a warning) if it is damaged or unreadable, then delete it."""
    import pyarrow as pa

    try:
        data = path.read_bytes()
        G = _decode_cache(data)
    except (OSError, _DamagedCacheError, pa.ArrowException) as exc:
        msg = _("Graph cache {path} cannot be used ({error}); rebuilding it").format(
            path=path, error=_one_line(exc)
        )
        log(msg, logging.WARNING)
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        return None
    return G


def _decode_cache(data: bytes) -> nx.MultiDiGraph:
    import pyarrow as pa

    head = len(_CACHE_MAGIC)
    if len(data) < head + _DIGEST_SIZE + 8 or not data.startswith(_CACHE_MAGIC):
        msg = _("not a patrolplan graph cache")
        raise _DamagedCacheError(msg)
    digest, payload = data[head : head + _DIGEST_SIZE], data[head + _DIGEST_SIZE :]
    if hashlib.blake2b(payload, digest_size=_DIGEST_SIZE).digest() != digest:
        msg = _("content does not match its digest")
        raise _DamagedCacheError(msg)
    split = 8 + int.from_bytes(payload[:8], "little")
    nodes = pa.ipc.open_stream(pa.py_buffer(payload[8:split])).read_all()
    edges = pa.ipc.open_stream(pa.py_buffer(payload[split:])).read_all()
    meta = nodes.schema.metadata or {}
    G = nx.MultiDiGraph(**json.loads(meta[b"graph"]))
    G.graph["crs"] = CRS.from_user_input(meta[b"crs"].decode())
    G.add_nodes_from(zip(nodes.column("_id").to_pylist(), _records(nodes, skip=1), strict=True))
    attrs = _records(edges, skip=4)
    geoms = shapely.from_wkb(edges.column("_geometry").to_numpy(zero_copy_only=False))
    for d, g in zip(attrs, geoms, strict=True):
        if g is not None:
            d["geometry"] = g
    G.add_edges_from(
        zip(
            edges.column("_u").to_pylist(),
            edges.column("_v").to_pylist(),
            edges.column("_key").to_pylist(),
            attrs,
            strict=True,
        )
    )
    return G


# --- conversions computed once per graph ------------------------------------------------------


@dataclasses.dataclass(eq=False)
class _Memo:
    """Arrays, tables and indexes derived from one graph (see :func:`_memo`)."""

    nodes: np.ndarray | None = None
    xy: np.ndarray | None = None
    kdtree: cKDTree | None = None
    to_xy: Transformer | None = None
    to_lonlat: Transformer | None = None
    edges: gpd.GeoDataFrame | None = None
    edge_keys: list[tuple[int, int, int]] = dataclasses.field(default_factory=list)
    edges_lonlat: gpd.GeoDataFrame | None = None
    strtree: shapely.STRtree | None = None
    csr: sparse.csr_matrix | None = None
    pos: dict[int, int] = dataclasses.field(default_factory=dict)
    logged: set[tuple[str, float, float, float]] = dataclasses.field(default_factory=set)


_MEMO_KEY = "patrolplan"


def _memo(G: nx.MultiDiGraph) -> _Memo:
    """Return the conversions of `G` computed so far.

    They live in the graph's own cache (``G.__networkx_cache__``), which networkx empties
    whenever the graph changes through its API (nodes, edges or attributes added or removed),
    so a changed graph is converted again. :func:`add_edge_risk` keeps them: they hold no risk.
    """
    cache = getattr(G, "__networkx_cache__", None)
    if cache is None:  # pragma: no cover - networkx < 3.3 keeps no cache: convert every time
        return _Memo()
    memo = cache.get(_MEMO_KEY)
    if not isinstance(memo, _Memo):
        memo = cache[_MEMO_KEY] = _Memo()
    return memo


def _node_xy(G: nx.MultiDiGraph) -> tuple[np.ndarray, np.ndarray]:
    """Node ids and their projected ``(x, y)``, in the graph's node order."""
    memo = _memo(G)
    if memo.nodes is None or memo.xy is None:
        memo.nodes = np.fromiter(G.nodes, dtype=np.int64, count=len(G))
        memo.xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True)], dtype=float).reshape(
            -1, 2
        )
    return memo.nodes, memo.xy


def _transformers(G: nx.MultiDiGraph) -> tuple[Transformer, Transformer]:
    """Return transformers EPSG:4326 -> the graph's CRS and back (lon/lat order)."""
    memo = _memo(G)
    if memo.to_xy is None or memo.to_lonlat is None:
        memo.to_xy = Transformer.from_crs("EPSG:4326", G.graph["crs"], always_xy=True)
        memo.to_lonlat = Transformer.from_crs(G.graph["crs"], "EPSG:4326", always_xy=True)
    return memo.to_xy, memo.to_lonlat


def graph_area(G: nx.MultiDiGraph, *, buffer_m: float | None = None) -> BaseGeometry:
    """Return the area the graph covers, as a polygon in EPSG:4326.

    Parameters
    ----------
    G
        A graph from :func:`graph_from_file`.
    buffer_m
        Margin around the convex hull of the nodes; default
        :data:`patrolplan.settings.area_buffer_m`.

    Returns
    -------
    shapely.Polygon
        The buffered convex hull, in longitude/latitude.
    """
    buffer_m = settings.area_buffer_m if buffer_m is None else buffer_m
    xy = _node_xy(G)[1]
    hull = shapely.convex_hull(shapely.multipoints(xy)).buffer(buffer_m)
    return gpd.GeoSeries([hull], crs=G.graph["crs"]).to_crs("EPSG:4326").iloc[0]


def nearest_nodes(
    G: nx.MultiDiGraph,
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Find the nearest graph node of each point.

    Parameters
    ----------
    G
        A projected graph from :func:`graph_from_file`.
    lon, lat
        Point coordinates in EPSG:4326.

    Returns
    -------
    tuple
        ``(node_ids, dist_m)`` as arrays.
    """
    nodes, xy = _node_xy(G)
    memo = _memo(G)
    if memo.kdtree is None:
        memo.kdtree = cKDTree(xy)
    to_xy = _transformers(G)[0]
    x, y = to_xy.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    dist, idx = memo.kdtree.query(np.column_stack([np.atleast_1d(x), np.atleast_1d(y)]))
    return nodes[idx], dist


#: A hotspot no walkable street passes within this distance of (about a city block) cannot be
#: watched on foot: it lies beyond the edge of a clipped extract, inside a park, a rail yard or
#: a campus the extract has no paths for.
HOTSPOT_REACH_M = 100.0


def unreachable_hotspots(G: nx.MultiDiGraph, gdf_hotspots: gpd.GeoDataFrame) -> pd.Series:
    """Return the hotspots no walkable street passes near, and how far the nearest one is.

    Parameters
    ----------
    G
        A projected graph.
    gdf_hotspots
        Hotspots with ``hotspot_id`` and a polygon geometry with a CRS (or ``lon``/``lat``
        only: then their centres count).

    Returns
    -------
    pandas.Series
        Metres from the hotspot to the nearest street of `G`, indexed by ``hotspot_id``, for
        the hotspots farther than :data:`HOTSPOT_REACH_M`; empty when every hotspot can be
        watched from a street.
    """
    if gdf_hotspots.empty:
        return pd.Series(dtype=float)
    if gdf_hotspots.crs is not None and "geometry" in gdf_hotspots:
        shapes = gdf_hotspots.geometry.to_crs(G.graph["crs"]).to_numpy()
    else:
        x, y = _transformers(G)[0].transform(
            gdf_hotspots["lon"].to_numpy(dtype=float), gdf_hotspots["lat"].to_numpy(dtype=float)
        )
        shapes = shapely.points(x, y)
    streets = _undirected_edges(G).geometry.to_numpy()
    _pairs, dist = shapely.STRtree(streets).query_nearest(
        shapes, return_distance=True, all_matches=False
    )
    dist = np.asarray(dist, dtype=float)
    far = dist > HOTSPOT_REACH_M
    return pd.Series(np.round(dist[far], 0), index=gdf_hotspots["hotspot_id"].to_numpy()[far])


@dataclasses.dataclass(frozen=True)
class Snap:
    """Where a point given as latitude, longitude was placed on the street graph.

    Attributes
    ----------
    lat, lon
        The point as given, in EPSG:4326.
    node
        The nearest graph node, where routes start or end.
    dist_m
        Straight-line distance from the point to `node`, in metres.
    street
        Name of a street at `node` (:func:`node_street`); ``""`` if none is named.
    """

    lat: float
    lon: float
    node: int
    dist_m: float
    street: str


def snap_report(
    G: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    *,
    what: str = "post",
    max_dist_m: float | None = None,
) -> list[Snap]:
    """Snap (lat, lon) points to their nearest graph nodes, saying how far each one moved.

    Each point is logged once per graph, one line with the distance: at INFO when a limit
    applies, at DEBUG when `max_dist_m` is infinite (hotspot centres).

    Parameters
    ----------
    G
        A projected graph.
    points
        ``(lat, lon)`` pairs.
    what
        What the points are (``"post"``, ``"end point"``), for the log and the error.
    max_dist_m
        Largest allowed distance from a point to its node; default
        :data:`patrolplan.settings.max_snap_m`.

    Returns
    -------
    list of Snap
        One per point, in order; ``dataclasses.asdict`` gives a JSON-ready record.

    Raises
    ------
    InputDataError
        If a coordinate is not a finite number.
    InfeasibleRouteError
        If a point lies farther than `max_dist_m` from the nearest node of the graph.
    """
    limit = settings.max_snap_m if max_dist_m is None else float(max_dist_m)
    if len(points) == 0:
        return []
    lat = np.array([p[0] for p in points], dtype=float)
    lon = np.array([p[1] for p in points], dtype=float)
    for i, (la, lo) in enumerate(zip(lat, lon, strict=True), start=1):
        if not (np.isfinite(la) and np.isfinite(lo)):
            msg = _(
                "{what} {i} has coordinates {lat},{lon}: latitude and longitude must be numbers"
            ).format(what=_point(what), i=i, lat=la, lon=lo)
            raise InputDataError(msg)
    nodes, dist = nearest_nodes(G, lon, lat)
    for la, lo, d in zip(lat, lon, dist, strict=True):
        if d > limit:
            msg = _(
                "{what} {lat:.6f},{lon:.6f} is {dist} m from the nearest street of the graph "
                "(at most {most} m allowed): is it inside the OSM extract?"
            ).format(
                what=_point(what),
                lat=la,
                lon=lo,
                dist=i18n.format_number(d),
                most=i18n.format_number(limit),
            )
            raise InfeasibleRouteError(msg)
    snaps = [
        Snap(float(la), float(lo), int(n), float(d), node_street(G, int(n)))
        for la, lo, n, d in zip(lat, lon, nodes, dist, strict=True)
    ]
    level = logging.INFO if np.isfinite(limit) else logging.DEBUG
    logged = _memo(G).logged
    for s in snaps:
        if (what, s.lat, s.lon, limit) not in logged:
            logged.add((what, s.lat, s.lon, limit))
            street = s.street or _("unnamed street")
            log(
                _(
                    "{what} {lat:.6f},{lon:.6f} snapped to node {node} ({street}), {dist} m away"
                ).format(
                    what=_point(what),
                    lat=s.lat,
                    lon=s.lon,
                    node=s.node,
                    street=street,
                    dist=i18n.format_number(s.dist_m),
                ),
                level,
            )
    return snaps


def snap_points(
    G: nx.MultiDiGraph,
    points: Sequence[tuple[float, float]],
    *,
    what: str = "post",
    max_dist_m: float | None = None,
) -> list[int]:
    """Snap (lat, lon) points to graph nodes, refusing points too far from any street.

    The nodes of :func:`snap_report`, which logs each distance and holds them.

    Parameters
    ----------
    G
        A projected graph.
    points
        ``(lat, lon)`` pairs.
    what
        What the points are, for the log and the error message.
    max_dist_m
        Largest allowed snap distance; default :data:`patrolplan.settings.max_snap_m`.

    Returns
    -------
    list of int
        The node of each point.

    Raises
    ------
    InputDataError
        If a coordinate is not a finite number.
    InfeasibleRouteError
        If a point lies farther than `max_dist_m` from the street graph.
    """
    return [s.node for s in snap_report(G, points, what=what, max_dist_m=max_dist_m)]


def _undirected_edges(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """One row per undirected pair of nodes (``u <= v``): the shortest of its edges, in G's CRS.

    Columns ``u``, ``v``, ``name``, ``highway``, ``length``, ``geometry`` (an edge without
    geometry gets the straight line between its nodes), and ``name:ru`` / ``name:kk`` where
    any edge has them. Memoised: do not change the frame.
    """
    memo = _memo(G)
    if memo.edges is not None:
        return memo.edges
    nodes, xy = _node_xy(G)
    rows = list(G.edges(keys=True, data=True))
    u0 = np.array([r[0] for r in rows], dtype=np.int64)
    v0 = np.array([r[1] for r in rows], dtype=np.int64)
    k0 = np.array([r[2] for r in rows], dtype=np.int64)
    length = np.array([float(r[3]["length"]) for r in rows], dtype=float)
    geoms = np.empty(len(rows), dtype=object)
    geoms[:] = [r[3].get("geometry") for r in rows]
    missing = np.flatnonzero(pd.isna(geoms))
    if missing.size:
        index = pd.Index(nodes)
        a, b = index.get_indexer(u0[missing]), index.get_indexer(v0[missing])
        geoms[missing] = shapely.linestrings(np.stack([xy[a], xy[b]], axis=1))
    table = pd.DataFrame(
        {"u": np.minimum(u0, v0), "v": np.maximum(u0, v0), "length": length}
    ).sort_values(["u", "v", "length"], kind="stable")
    keep = table.drop_duplicates(["u", "v"]).index.to_numpy()
    data = [rows[i][3] for i in keep]
    local = {
        tag: [_text(d.get(tag)) for d in data]
        for tag in NAME_TAGS
        if any(tag in d for _u, _v, d in G.edges(data=True))
    }
    memo.edges = gpd.GeoDataFrame(
        {
            "u": table.loc[keep, "u"].to_numpy(),
            "v": table.loc[keep, "v"].to_numpy(),
            "name": [_text(d.get("name")) for d in data],
            "highway": [_text(d.get("highway")) for d in data],
            "length": length[keep],
            **local,
        },
        geometry=geoms[keep],
        crs=G.graph["crs"],
    )
    memo.edge_keys = [(int(u0[i]), int(v0[i]), int(k0[i])) for i in keep]
    return memo.edges


def _text(value: Any) -> str:
    """Return an attribute as text; a missing one (None or NaN) as ``""``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def segment_totals(snapped: pd.DataFrame, values: pd.Series) -> pd.DataFrame:
    """Sum `values` per street segment.

    Parameters
    ----------
    snapped
        From :func:`snap_to_edges`.
    values
        One value per incident (a weight, or 1 to count), same index as `snapped`.

    Returns
    -------
    pandas.DataFrame
        ``sum`` and ``count`` indexed by ``(u, v)``; incidents off the streets are left out.
    """
    ok = snapped["u"] >= 0
    key = pd.MultiIndex.from_arrays([snapped["u"][ok], snapped["v"][ok]], names=["u", "v"])
    return values.reindex(snapped.index)[ok].groupby(key).agg(["sum", "count"])


def snap_to_edges(
    G: nx.MultiDiGraph,
    gdf_incidents: gpd.GeoDataFrame,
    *,
    max_dist_m: float = 60.0,
) -> pd.DataFrame:
    """Find the street segment each incident lies on.

    Parameters
    ----------
    G
        A projected graph.
    gdf_incidents
        Incidents in EPSG:4326.
    max_dist_m
        Incidents farther than this from every edge get no segment (``u = v = -1``).

    Returns
    -------
    pandas.DataFrame
        ``u``, ``v`` (undirected segment, ``u <= v``) and ``dist_m``, same index as
        `gdf_incidents`; ``-1, -1, inf`` for incidents farther than `max_dist_m`.
    """
    if gdf_incidents.empty:
        return pd.DataFrame({"u": [], "v": [], "dist_m": []}, index=gdf_incidents.index)
    # One geometry per street in the graph's metric CRS; the tree search stops at
    # `max_dist_m`, which keeps a million points fast.
    edges = _undirected_edges(G)
    memo = _memo(G)
    if memo.strtree is None:
        memo.strtree = shapely.STRtree(edges.geometry.values)
    tree = memo.strtree
    pts = gdf_incidents.geometry.to_crs(G.graph["crs"]).values
    (i_pt, i_edge), dist = tree.query_nearest(
        pts, max_distance=max_dist_m, return_distance=True, all_matches=False
    )
    u = np.full(len(pts), -1, dtype=np.int64)
    v = np.full(len(pts), -1, dtype=np.int64)
    d = np.full(len(pts), np.inf)
    u[i_pt] = edges["u"].to_numpy()[i_edge]
    v[i_pt] = edges["v"].to_numpy()[i_edge]
    d[i_pt] = dist
    return pd.DataFrame({"u": u, "v": v, "dist_m": d}, index=gdf_incidents.index)


def add_edge_risk(
    G: nx.MultiDiGraph,
    snapped: pd.DataFrame,
    weights: pd.Series,
) -> nx.MultiDiGraph:
    """Sum incident weights per street segment into the edge attribute ``risk``.

    Both directions of a two-way street get the same risk; metrics count a street once.

    Parameters
    ----------
    G
        A projected graph; changed in place.
    snapped
        From :func:`snap_to_edges`.
    weights
        Weight per incident, same index as `snapped`.

    Returns
    -------
    networkx.MultiDiGraph
        `G`, with edge attributes ``risk`` (weight sum) and ``n_incidents``.
    """
    memo = _memo(G)
    nx.set_edge_attributes(G, 0.0, "risk")
    nx.set_edge_attributes(G, 0, "n_incidents")
    # networkx empties the graph's cache on any attribute change; the memo holds no risk
    cache = getattr(G, "__networkx_cache__", None)
    if cache is not None:
        cache[_MEMO_KEY] = memo
    sums = segment_totals(snapped, weights)
    totals = {
        (int(u), int(v)): (float(s), int(c))
        for (u, v), s, c in zip(sums.index, sums["sum"], sums["count"], strict=True)
    }
    for u, v, _key, data in G.edges(keys=True, data=True):
        acc = totals.get((min(u, v), max(u, v)))
        if acc:
            data["risk"], data["n_incidents"] = acc
    n_on = int((snapped["u"] >= 0).sum())
    log(
        _("Snapped {n} of {total} incidents to {segments} segments").format(
            n=i18n.format_number(n_on),
            total=i18n.format_number(len(snapped)),
            segments=i18n.format_number(len(totals)),
        )
    )
    return G


def node_street(G: nx.MultiDiGraph, node: int) -> str:
    """Return the name of a street at `node` (the longest named edge touching it).

    Parameters
    ----------
    G
        A graph.
    node
        A node id.

    Returns
    -------
    str
        A street name, or ``""`` if no edge at the node is named.
    """
    names = [
        (float(d.get("length", 0.0)), str(d["name"]))
        for _, _, d in G.edges(node, data=True)
        if d.get("name") not in (None, "", "nan")
    ]
    return max(names)[1].split(";")[0] if names else ""


def edges_gdf(G: nx.MultiDiGraph) -> gpd.GeoDataFrame:
    """Return one row per undirected street segment, in EPSG:4326.

    Parameters
    ----------
    G
        A projected graph, optionally with ``risk`` from :func:`add_edge_risk`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``u``, ``v``, ``name``, ``highway``, ``length``, ``risk``, ``n_incidents``,
        ``geometry``, and ``name:ru`` / ``name:kk`` where the extract has them (``""`` on
        the other edges). ``risk`` and ``n_incidents`` are 0 where :func:`add_edge_risk` did
        not set them.

    Notes
    -----
    The geometry is converted once per graph and reused; ``risk`` and ``n_incidents`` are
    read from the edges on every call.
    """
    memo = _memo(G)
    if memo.edges_lonlat is None:
        memo.edges_lonlat = _undirected_edges(G).to_crs("EPSG:4326").reset_index(drop=True)
    gdf = memo.edges_lonlat.copy()
    data = [G.adj[u][v][k] for u, v, k in memo.edge_keys]
    gdf.insert(5, "risk", np.array([float(d.get("risk", 0.0)) for d in data], dtype=float))
    gdf.insert(6, "n_incidents", np.array([int(d.get("n_incidents", 0)) for d in data]))
    return gdf


def _length_matrix(G: nx.MultiDiGraph, pos: dict[int, int]) -> sparse.csr_matrix:
    """Node x node CSR matrix of edge lengths, the shortest of parallel edges (at least 1e-6)."""
    rows, cols, lens = [], [], []
    for u, v, length in G.edges(data="length"):
        rows.append(pos[u])
        cols.append(pos[v])
        lens.append(float(length))
    n = len(pos)
    frame = pd.DataFrame({"r": rows, "c": cols, "w": lens}).groupby(["r", "c"])["w"].min()
    r = frame.index.get_level_values(0).to_numpy()
    c = frame.index.get_level_values(1).to_numpy()
    w = np.maximum(frame.to_numpy(), 1e-6)
    return sparse.csr_matrix((w, (r, c)), shape=(n, n))


class ShortestPaths:
    """Many-to-many shortest walking paths on a CSR matrix of the graph.

    Parameters
    ----------
    G
        A projected graph with edge ``length`` in metres.
    sources
        Node ids to search from; paths and distances are available from these only.

    Attributes
    ----------
    dist_m
        ``(len(sources), len(G))`` array of shortest distances in metres.
    """

    def __init__(self, G: nx.MultiDiGraph, sources: Sequence[int]) -> None:
        self.nodes = _node_xy(G)[0]
        memo = _memo(G)
        if memo.csr is None:
            memo.pos = {int(n): i for i, n in enumerate(self.nodes)}
            memo.csr = _length_matrix(G, memo.pos)
        self._pos = memo.pos
        matrix = memo.csr
        self.sources = [int(s) for s in sources]
        src_idx = [self._pos[s] for s in self.sources]
        self.dist_m, self._pred = csgraph.dijkstra(
            matrix, directed=True, indices=src_idx, return_predecessors=True
        )
        self._row = {s: i for i, s in enumerate(self.sources)}

    def distance(self, source: int, targets: Sequence[int]) -> np.ndarray:
        """Return distances in metres from `source` to each of `targets`.

        Parameters
        ----------
        source
            A node among the sources.
        targets
            Node ids.

        Returns
        -------
        numpy.ndarray
            Metres; ``inf`` where unreachable.
        """
        row = self.dist_m[self._row[source]]
        return np.asarray(row[[self._pos[int(t)] for t in targets]], dtype=float)

    def path(self, source: int, target: int) -> list[int]:
        """Return the node ids of the shortest path from `source` to `target`.

        Parameters
        ----------
        source
            A node among the sources.
        target
            Any node.

        Returns
        -------
        list of int
            ``[source, ..., target]``.

        Raises
        ------
        InfeasibleRouteError
            If `target` cannot be reached from `source`.
        """
        pred = self._pred[self._row[source]]
        i, start = self._pos[int(target)], self._pos[int(source)]
        out = [i]
        while i != start:
            i = pred[i]
            if i < 0:
                msg = _("node {target} cannot be reached from node {source} on foot").format(
                    target=target, source=source
                )
                raise InfeasibleRouteError(msg)
            out.append(i)
        return [int(self.nodes[j]) for j in reversed(out)]


def edge_between(G: nx.MultiDiGraph, u: int, v: int) -> dict[str, Any]:
    """Return the attributes of the shortest edge from `u` to `v`.

    Parameters
    ----------
    G
        A graph.
    u, v
        Adjacent nodes.

    Returns
    -------
    dict
        The edge's attribute dict.
    """
    edge: dict[str, Any] = min(G[u][v].values(), key=lambda d: float(d["length"]))
    return edge


def path_geometry(G: nx.MultiDiGraph, nodes: Sequence[int]) -> list[tuple[float, float]]:
    """Return the (lon, lat) vertices of a node path, following each edge's own geometry.

    Parameters
    ----------
    G
        A projected graph with ``lon``/``lat`` on nodes.
    nodes
        A path as node ids.

    Returns
    -------
    list of tuple
        Vertices in EPSG:4326; the first and last are exactly the path's end nodes. A path of
        one node (an officer who never leaves the post) is that point twice: a line of length
        zero, which GeoJSON, GeoPackage, KML and PostGIS all take as a line.
    """
    if len(nodes) == 1:
        point = (G.nodes[nodes[0]]["lon"], G.nodes[nodes[0]]["lat"])
        return [point, point]
    to_lonlat = _transformers(G)[1]
    coords: list[tuple[float, float]] = [(G.nodes[nodes[0]]["lon"], G.nodes[nodes[0]]["lat"])]
    for u, v in itertools.pairwise(nodes):
        geom: Any = edge_between(G, u, v).get("geometry")
        if geom is not None:
            xy = np.asarray(geom.coords)
            start = np.array([G.nodes[u]["x"], G.nodes[u]["y"]])
            if np.hypot(*(xy[0] - start)) > np.hypot(*(xy[-1] - start)):
                xy = xy[::-1]
            if len(xy) > 2:
                lon, lat = to_lonlat.transform(xy[1:-1, 0], xy[1:-1, 1])
                coords.extend(
                    zip(np.atleast_1d(lon).tolist(), np.atleast_1d(lat).tolist(), strict=True)
                )
        coords.append((G.nodes[v]["lon"], G.nodes[v]["lat"]))
    return coords


def segment_risk(
    G: nx.MultiDiGraph,
    snapped: pd.DataFrame,
    weights: pd.Series,
    *,
    smooth: float = 0.5,
) -> gpd.GeoDataFrame:
    """Score every street segment by the incidents on it, smoothed along the network.

    ``smoothed = risk + smooth * mean(risk of the segments that share a node with it)``, so a
    quiet segment between two risky ones is not ignored. Research on crime concentration finds
    about half of crime on 2-6 % of street segments, which makes segments a natural unit.

    Parameters
    ----------
    G
        A projected graph.
    snapped
        From :func:`snap_to_edges`.
    weights
        Weight per incident.
    smooth
        Weight of the neighbours' mean risk.

    Returns
    -------
    geopandas.GeoDataFrame
        :func:`edges_gdf` rows plus ``smoothed`` and ``risk_per_km``.
    """
    gdf = edges_gdf(G).drop(columns=["risk", "n_incidents"])
    totals = segment_totals(snapped, weights).reindex(
        pd.MultiIndex.from_arrays([gdf["u"], gdf["v"]])
    )
    gdf["risk"] = totals["sum"].fillna(0.0).to_numpy()
    gdf["n_incidents"] = totals["count"].fillna(0).astype(int).to_numpy()
    # segments x nodes incidence; neighbours share a node
    nodes = pd.Index(pd.unique(np.concatenate([gdf["u"], gdf["v"]])))
    rows = np.repeat(np.arange(len(gdf)), 2)
    cols = nodes.get_indexer(np.column_stack([gdf["u"], gdf["v"]]).ravel())
    B = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(gdf), len(nodes)))
    A = (B @ B.T).tolil()
    A.setdiag(0)
    A = A.tocsr()
    A.data[:] = 1.0
    r = gdf["risk"].to_numpy()
    deg = np.asarray(A.sum(axis=1)).ravel()
    neigh = np.divide(A @ r, deg, out=np.zeros_like(r), where=deg > 0)
    gdf["smoothed"] = r + smooth * neigh
    gdf["risk_per_km"] = gdf["risk"] / (gdf["length"] / 1000.0)
    return gdf


def node_risk(G: nx.MultiDiGraph, gdf_incidents: gpd.GeoDataFrame, weights: pd.Series) -> pd.Series:
    """Move each incident's weight to the nearer end of its street segment and sum per node.

    Incidents farther than 60 m from every street go to the nearest node.

    Parameters
    ----------
    G
        A projected graph.
    gdf_incidents
        Incidents in EPSG:4326.
    weights
        Weight per incident, same index.

    Returns
    -------
    pandas.Series
        ``risk`` per node id (nodes with positive risk only), sorted by node id.
    """
    if gdf_incidents.empty:
        return pd.Series(dtype=float, name="risk")
    snapped = snap_to_edges(G, gdf_incidents)
    pts = gdf_incidents.geometry.to_crs(G.graph["crs"])
    px, py = pts.x.to_numpy(), pts.y.to_numpy()
    u, v = snapped["u"].to_numpy(), snapped["v"].to_numpy()
    node = np.empty(len(px), dtype=np.int64)
    on = u >= 0
    xy = {int(n): (float(d["x"]), float(d["y"])) for n, d in G.nodes(data=True)}
    for i in np.flatnonzero(on):
        (ux, uy), (vx, vy) = xy[int(u[i])], xy[int(v[i])]
        du = (px[i] - ux) ** 2 + (py[i] - uy) ** 2
        dv = (px[i] - vx) ** 2 + (py[i] - vy) ** 2
        node[i] = u[i] if du <= dv else v[i]
    if (~on).any():
        ids = np.array(list(xy), dtype=np.int64)
        _dist, idx = cKDTree(np.array(list(xy.values()))).query(np.column_stack([px, py])[~on])
        node[~on] = ids[idx]
    w = weights.reindex(gdf_incidents.index).fillna(0.0).to_numpy(float)
    risk = pd.Series(w, index=node).groupby(level=0).sum()
    risk = risk[risk > 0].sort_index().rename("risk")
    risk.index.name = "node"
    return risk
