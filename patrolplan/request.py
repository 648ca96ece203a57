"""A plan request: the district's inputs and the plan's options, built and checked in one place.

Every entry point ends in one :class:`PlanRequest`: a district file
(:meth:`PlanRequest.from_file`), command-line flags (:meth:`PlanRequest.build`, which the CLI
calls with the flags it was given) and Python (either of the two, or the constructor). The
request is frozen and checked when it is made, before any data is read; the pipeline
(:mod:`patrolplan.pipeline`) takes it whole, so no command unpacks a district file or derives
route options on its own.

Names are the same everywhere: a district file's ``[plan]`` key, the field of
:class:`~patrolplan.options.PlanOptions` and the command-line flag are one word (``speed_kmh``,
``--speed-kmh``); the older short flags (``--speed``, ``--dwell``...) remain as aliases
(:data:`FLAG_ALIASES`).

Examples
--------
>>> from patrolplan import datasets
>>> req = PlanRequest.from_file(datasets.data_dir() / "baltimore.toml", date="2016-06-19")
>>> req.files["crime"].name, len(req.posts), req.options.officers, req.options.date
('baltimore_crimes_2016-06.csv', 2, 3, '2016-06-19')
>>> req.with_options(officers=2).options.officers
2
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from patrolplan._errors import InputDataError
from patrolplan.i18n import _
from patrolplan.options import PlanOptions

if TYPE_CHECKING:
    from patrolplan.config import District

__all__ = ["FLAG_ALIASES", "LAYERS", "LayerSource", "PlanRequest", "Point"]

#: Incident layers a request may name (the same as :data:`patrolplan.ingest.LAYERS`).
LAYERS = ("crime", "accident", "juvenile")

#: Older command-line flags that remain as aliases of an option's own name.
FLAG_ALIASES: dict[str, str] = {
    "dwell_min": "--dwell",
    "speed_kmh": "--speed",
    "half_life_days": "--half-life",
    "hotspot_size_m": "--hotspot-size",
    "max_segments": "--segments",
    "max_visits": "--visits",
}

Point = tuple[float, float]


@dataclass(frozen=True)
class LayerSource:
    """One incident layer of a request: where its rows come from and how to read them.

    Attributes
    ----------
    layer
        ``crime``, ``accident`` or ``juvenile``.
    file
        The incident file, or a PostgreSQL URL (:mod:`patrolplan.db`).
    preset
        A named preset (:data:`patrolplan.presets.PRESETS`) applied when the file is read, or
        None.
    columns
        Role -> column mapping (wins over the preset's).
    crs
        CRS of the coordinates when the file does not say.
    severity
        Category -> harm weight.
    weight
        Weight of the layer in the combined risk; None: the default
        (:data:`patrolplan.hotspots.DEFAULT_LAYER_WEIGHTS`).
    datetime_format, dayfirst
        How to read its dates; None: decided from the rows.
    """

    layer: str
    file: Path | str
    preset: str | None = None
    columns: Mapping[str, str] | None = None
    crs: str | None = None
    severity: Mapping[str, float] | None = None
    weight: float | None = None
    datetime_format: str | None = None
    dayfirst: bool | None = None

    def __post_init__(self) -> None:
        """Check the layer name."""
        if self.layer not in LAYERS:
            msg = _("`incidents` layers must be among {layers}, got {unknown}").format(
                layers=LAYERS, unknown=[self.layer]
            )
            raise InputDataError(msg)
        from patrolplan._url import is_url
        from patrolplan._validate import check_weight, check_weights

        if not is_url(self.file):
            object.__setattr__(self, "file", Path(self.file))
        # weights given from Python are checked as a district file's are
        if self.weight is not None:
            check_weight(self.weight, f"[layers.{self.layer}] `weight`")
        check_weights(self.severity, f"[layers.{self.layer}] `severity`")


@dataclass(frozen=True)
class PlanRequest:
    """Everything a plan, a posts or areas proposal, a replay or a backtest is asked to use.

    Attributes
    ----------
    layers
        The incident layers, at most one per layer name.
    osm
        Local OSM extract or GraphML; None when the command needs no streets.
    posts
        ``(lat, lon)`` of each post.
    ends
        ``(lat, lon)`` where open routes end; empty: back at the post.
    areas
        Patrol-area file (from ``patrolplan areas``), or None.
    options
        The plan's options.
    name
        District name (``[district] name``, else the file's stem).
    source
        The district file the request was read from, or None.
    cache_dir
        Graph cache folder; None: :data:`patrolplan.settings.cache_dir`.
    """

    layers: tuple[LayerSource, ...] = ()
    osm: Path | None = None
    posts: tuple[Point, ...] = ()
    ends: tuple[Point, ...] = ()
    areas: Path | None = None
    options: PlanOptions = field(default_factory=PlanOptions)
    name: str | None = None
    source: Path | None = None
    cache_dir: Path | None = None

    def __post_init__(self) -> None:
        """Check positions and layers, so a typo costs no time."""
        seen = [s.layer for s in self.layers]
        if len(seen) != len(set(seen)):
            msg = _("`incidents` names a layer twice: {layers}").format(layers=seen)
            raise InputDataError(msg)
        for label, points in (("post", self.posts), ("end point", self.ends)):
            for lat, lon in points:
                if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                    msg = _("`{what}` {lat},{lon} is not a latitude,longitude pair").format(
                        what=label, lat=f"{lat:g}", lon=f"{lon:g}"
                    )
                    raise InputDataError(msg)
        for name in ("osm", "areas", "source", "cache_dir"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, Path):
                object.__setattr__(self, name, Path(value))

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> PlanRequest:
        """Read a district file into a request; `overrides` win over the file's values.

        Parameters
        ----------
        path
            District TOML file (see :mod:`patrolplan.config`).
        **overrides
            Any argument of :meth:`build` (``incidents``, ``osm``, ``posts``...) or option
            of :class:`~patrolplan.options.PlanOptions` (``officers``, ``date``...); None
            values are ignored.

        Returns
        -------
        PlanRequest
            The checked request.

        Raises
        ------
        InputDataError
            If the file or a value is wrong (naming the file and key).
        """
        from patrolplan.config import load_config

        return cls.build(load_config(path), **overrides)

    @classmethod
    def build(
        cls,
        district: District | None = None,
        *,
        incidents: str | Path | Mapping[str, str | Path | None] | None = None,
        accidents: str | Path | None = None,
        juvenile: str | Path | None = None,
        osm: str | Path | None = None,
        posts: Sequence[Point] | None = None,
        ends: Sequence[Point] | None = None,
        areas: str | Path | None = None,
        preset: str | None = None,
        columns: Mapping[str, Any] | None = None,
        crs: str | Mapping[str, str] | None = None,
        severity: Mapping[str, Mapping[str, float]] | None = None,
        layer_weights: Mapping[str, float] | None = None,
        datetime_format: str | Mapping[str, str] | None = None,
        dayfirst: bool | Mapping[str, bool] | None = None,
        cache_dir: str | Path | None = None,
        options: PlanOptions | Mapping[str, Any] | None = None,
        **option_values: Any,
    ) -> PlanRequest:
        """Merge a district file (if any) with values given here; the given values win.

        Parameters
        ----------
        district
            A district file read by :func:`patrolplan.config.load_config`, or None.
        incidents
            The crime layer's file, or layer -> file.
        accidents, juvenile
            The accident and juvenile layers' files.
        osm, posts, ends, areas
            As the attributes of :class:`PlanRequest`.
        preset
            A preset for the layers given here (:data:`patrolplan.presets.PRESETS`).
        columns, crs, datetime_format, dayfirst
            One value for every layer, or layer -> value; they replace the district's.
        severity, layer_weights
            Layer -> severity table, layer -> weight.
        cache_dir
            Graph cache folder.
        options
            Plan options (an object or a mapping of option values).
        **option_values
            Single options (``officers=3``); None values are ignored.

        Returns
        -------
        PlanRequest
            The checked request.

        Raises
        ------
        InputDataError
            On an unknown layer, preset or option, or a value out of range.
        """
        from patrolplan.presets import PRESETS

        source = district.path if district is not None else None
        where = str(source) if source is not None else None
        # the options: the file's [plan], then the options object or mapping, then the flags
        base: dict[str, Any] = dict(district.plan) if district is not None else {}
        if isinstance(options, PlanOptions):
            base.update(
                {
                    f.name: getattr(options, f.name)
                    for f in dataclasses.fields(options)
                    if getattr(options, f.name) != f.default
                }
            )
        elif options is not None:
            base.update(options)
        base.update({k: v for k, v in option_values.items() if v is not None})
        opts = PlanOptions.from_mapping(
            {k: v for k, v in base.items() if v is not None},
            source=f"{where}: [plan]" if where and district and district.plan else None,
        )

        layers: dict[str, LayerSource] = {}
        if district is not None:
            for layer, file in district.incidents.items():
                layers[layer] = LayerSource(
                    layer,
                    file,
                    preset=district.presets.get(layer),
                    columns=district.columns.get(layer),
                    crs=district.crs.get(layer),
                    severity=district.severity.get(layer),
                    weight=district.layer_weights.get(layer),
                    datetime_format=district.datetime_format.get(layer),
                    dayfirst=district.dayfirst.get(layer),
                )
        given: dict[str, str | Path | None] = {}
        if isinstance(incidents, Mapping):
            given.update(incidents)
        elif incidents is not None:
            given["crime"] = incidents
        given.update({k: v for k, v in (("accident", accidents), ("juvenile", juvenile)) if v})
        if preset is not None and preset not in PRESETS:
            msg = _("unknown preset {preset!r}; known: {known}").format(
                preset=preset, known=sorted(PRESETS)
            )
            raise InputDataError(msg)
        for layer, named in given.items():
            if named is None:
                layers.pop(layer, None)
                continue
            old = layers.get(layer)
            spec: LayerSource = old if old is not None else LayerSource(layer, named)
            spec = dataclasses.replace(spec, file=named)
            if preset is not None:
                spec = dataclasses.replace(spec, preset=preset)
            layers[layer] = spec
        values: tuple[tuple[str, Any], ...] = (
            ("columns", columns),
            ("crs", crs),
            ("datetime_format", datetime_format),
            ("dayfirst", dayfirst),
            ("severity", severity),
            ("weight", layer_weights),
        )
        for key, value in values:
            if value is None or (isinstance(value, Mapping) and not value):
                continue
            by_layer = key in ("severity", "weight") or (
                isinstance(value, Mapping) and set(value) <= set(LAYERS)
            )
            for layer, spec in list(layers.items()):
                if by_layer:
                    assert isinstance(value, Mapping)
                    if layer not in value:
                        continue
                    layers[layer] = dataclasses.replace(spec, **{key: value[layer]})
                else:
                    layers[layer] = dataclasses.replace(spec, **{key: value})
        if district is not None:
            osm = osm if osm is not None else district.osm
            posts = posts if posts else district.posts
            ends = ends if ends else district.ends
        name: str | None = None
        if district is not None:
            name = district.name or (source.stem if source is not None else None)
        return cls(
            layers=tuple(layers[k] for k in LAYERS if k in layers),
            osm=Path(osm) if osm is not None else None,
            posts=tuple((float(a), float(b)) for a, b in (posts or ())),
            ends=tuple((float(a), float(b)) for a, b in (ends or ())),
            areas=Path(areas) if areas is not None else None,
            options=opts,
            name=name,
            source=source,
            cache_dir=Path(cache_dir) if cache_dir is not None else None,
        )

    def with_options(self, **values: Any) -> PlanRequest:
        """Return the request with some options changed (checked again).

        Parameters
        ----------
        **values
            Option name -> value; None values are ignored.

        Returns
        -------
        PlanRequest
            A new request.
        """
        given = {k: v for k, v in values.items() if v is not None}
        return dataclasses.replace(self, options=dataclasses.replace(self.options, **given))

    def require(self, *, incidents: bool = True, osm: bool = True, posts: bool = True) -> None:
        """Raise one error naming every input a command needs that the request lacks.

        Parameters
        ----------
        incidents, osm, posts
            Whether the command needs incident files, a street extract, posts.

        Raises
        ------
        InputDataError
            Naming the missing inputs as options (and district-file keys).
        """
        wanted = [
            ("--incidents", incidents and not self.layers),
            ("--osm", osm and self.osm is None),
            ("--post", posts and not self.posts),
        ]
        missing = [name for name, lacking in wanted if lacking]
        if missing:
            msg = _("missing {options} (give them as options or in --config)").format(
                options=", ".join(missing)
            )
            raise InputDataError(msg)

    # -- what the stages read -----------------------------------------------------------

    @property
    def files(self) -> dict[str, Path | str]:
        """Layer -> incident file (or PostgreSQL URL)."""
        return {s.layer: s.file for s in self.layers}

    @property
    def layer_weights(self) -> dict[str, float]:
        """Layer -> weight, for the layers that set one."""
        return {s.layer: float(s.weight) for s in self.layers if s.weight is not None}

    def ingest_args(self) -> dict[str, Any]:
        """Return the per-layer reading arguments of :func:`patrolplan.ingest.read_layers`.

        Returns
        -------
        dict
            ``preset``, ``columns``, ``crs``, ``severity``, ``datetime_format``, ``dayfirst``
            (each layer -> value, or None when no layer sets it) and ``tz``.
        """

        def by_layer(attr: str) -> dict[str, Any] | None:
            values = {s.layer: getattr(s, attr) for s in self.layers}
            values = {k: v for k, v in values.items() if v is not None}
            return values or None

        return {
            "preset": by_layer("preset"),
            "columns": by_layer("columns"),
            "crs": by_layer("crs"),
            "severity": by_layer("severity"),
            "datetime_format": by_layer("datetime_format"),
            "dayfirst": by_layer("dayfirst"),
            "tz": self.options.tz,
        }

    def record(self) -> dict[str, Any]:
        """Return the request's inputs as JSON-ready values (no file contents).

        Returns
        -------
        dict
            Layers with their reading arguments, posts, ends and options.
        """
        return {
            "district": self.name,
            "layers": {
                s.layer: {
                    "file": Path(s.file).name if isinstance(s.file, Path) else _redact(s.file),
                    "preset": s.preset,
                    "columns": dict(s.columns) if s.columns else None,
                    "crs": s.crs,
                    "severity": dict(s.severity) if s.severity else None,
                    "weight": s.weight,
                    "datetime_format": s.datetime_format,
                    "dayfirst": s.dayfirst,
                }
                for s in self.layers
            },
            "posts": [list(p) for p in self.posts],
            "ends": [list(p) for p in self.ends],
            "options": self.options.resolved(),
        }


def _redact(url: str) -> str:
    from patrolplan._url import redact

    return redact(url)
