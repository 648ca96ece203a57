"""Command-line interface of patrolplan: ``patrolplan plan``, ``patrolplan demo``."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

import patrolplan
from patrolplan import datasets, routing
from patrolplan import plan as _plan
from patrolplan.config import load_config
from patrolplan.ingest import parse_columns

app = typer.Typer(
    help="Turn public crime maps into foot-patrol routes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"patrolplan {patrolplan.__version__}")
        raise typer.Exit


def _logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logger = logging.getLogger("patrolplan")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """Turn public crime maps into foot-patrol routes."""


Pdf = Annotated[
    bool, typer.Option("--pdf", help="Also print the route sheets to sheets.pdf (needs Chromium).")
]
Offline = Annotated[
    bool,
    typer.Option(
        "--offline/--online",
        help="Inline Leaflet in map.html "
        "(default), or link it from its CDN (smaller, needs "
        "internet).",
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every step (DEBUG).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")]


def _run(out: Path, pdf: bool = False, offline: bool = True, **kwargs: object) -> None:
    """Compute and write a plan, print its summary; user errors exit 1 with one line."""
    try:
        result = _plan.daily_plan(**kwargs)  # type: ignore[arg-type]
        files = _plan.write_plan(result, out, pdf=pdf, offline=offline)
    except (patrolplan.PatrolPlanError, FileNotFoundError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    for report in result.reports:
        typer.echo(report.summary())
    typer.echo("")
    typer.echo(result.summary.to_string(index=False))
    if result.variant_table is not None:
        typer.echo("\nVariants (share of the best plan's risk, street overlap with the others):")
        typer.echo(result.variant_table.to_string(index=False))
    typer.echo(f"\nWrote {', '.join(p.name for p in files)} to {out}")


def _posts(values: list[str]) -> list[tuple[float, float]]:
    return [routing.parse_post(v) for v in values]


@app.command()
def plan(
    incidents: Annotated[
        Path | None, typer.Option(help="Crime incidents (CSV, GeoJSON, GPKG, Parquet, Shapefile).")
    ] = None,
    osm: Annotated[
        Path | None, typer.Option(help="Local OSM extract: .osm, .osm.bz2, .osm.pbf.")
    ] = None,
    post: Annotated[
        list[str] | None, typer.Option(help="Post as lat,lon; repeat for several.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="District TOML file; options given here override it.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("plan"),
    accidents: Annotated[Path | None, typer.Option(help="Traffic accidents layer.")] = None,
    juvenile: Annotated[Path | None, typer.Option(help="Juvenile offences layer.")] = None,
    officers: Annotated[int | None, typer.Option(min=1, help="Officers on foot [1].")] = None,
    shift: Annotated[
        str | None,
        typer.Option(help="Shift length: 4h, 90m, 3h30m [4h]; or one per officer: 4h,4h,2h."),
    ] = None,
    start: Annotated[str | None, typer.Option(help="Shift start, HH:MM [08:00].")] = None,
    date: Annotated[str | None, typer.Option(help="Plan date YYYY-MM-DD [today].")] = None,
    days: Annotated[int | None, typer.Option(help="Use only the last N days of data.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Use only data from this date, YYYY-MM-DD.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed; same inputs and seed, same plan [0].")
    ] = None,
    dwell: Annotated[float | None, typer.Option(help="Minutes at each hotspot [12].")] = None,
    speed: Annotated[float | None, typer.Option(help="Walking speed km/h [4.5].")] = None,
    columns: Annotated[
        str | None, typer.Option(help="Column mapping, e.g. lat=Y,lon=X,datetime=Date.")
    ] = None,
    crs: Annotated[
        str | None, typer.Option(help="CRS of the coordinates, e.g. EPSG:32642.")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help="Hotspot clustering: dbscan or hdbscan [dbscan].")
    ] = None,
    segments: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Riskiest streets outside hotspots offered as walk-along tasks [10]; 0 for none.",
        ),
    ] = None,
    revisit: Annotated[
        str | None,
        typer.Option(
            help="Let a hotspot be visited again when the "
            "visits start at least this far apart: "
            "60, 1h, or a range 60-120 [off]."
        ),
    ] = None,
    visits: Annotated[
        int | None, typer.Option(min=1, help="Most visits per hotspot with --revisit [2].")
    ] = None,
    revisit_value: Annotated[
        float | None, typer.Option(help="Share of a hotspot's risk a revisit is worth [0.5].")
    ] = None,
    end: Annotated[
        list[str] | None, typer.Option(help="Open routes: end point lat,lon, repeat like --post.")
    ] = None,
    variants: Annotated[
        int | None,
        typer.Option(min=1, help="Also plan K diverse variants (variants.csv/.geojson)."),
    ] = None,
    day: Annotated[
        int | None, typer.Option(min=1, max=7, help="Rotation day 1-7: use that one of 7 variants.")
    ] = None,
    pdf: Pdf = False,
    offline: Offline = True,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Plan foot-patrol routes for one shift and write map, GeoJSON, sheets and timetable."""
    _logging(verbose, quiet)
    try:
        kwargs = load_config(config) if config else {}
        layers = {"crime": incidents, "accident": accidents, "juvenile": juvenile}
        if any(layers.values()):
            kwargs["incidents"] = {
                **kwargs.get("incidents", {}),
                **{k: v for k, v in layers.items() if v},
            }
        given = {
            "osm": osm,
            "posts": _posts(post) if post else None,
            "ends": _posts(end) if end else None,
            "officers": officers,
            "shift": shift,
            "start": start,
            "date": date,
            "days": days,
            "since": since,
            "seed": seed,
            "dwell_min": dwell,
            "speed_kmh": speed,
            "columns": parse_columns(columns) if columns else None,
            "crs": crs,
            "method": method,
            "variants": variants,
            "day": day,
            "max_segments": segments,
            "revisit": revisit,
            "max_visits": visits,
            "revisit_value": revisit_value,
        }
        kwargs.update({k: v for k, v in given.items() if v is not None})
        missing = [
            name
            for name, key in (("--incidents", "incidents"), ("--osm", "osm"), ("--post", "posts"))
            if not kwargs.get(key)
        ]
        if missing:
            msg = f"missing {', '.join(missing)} (give them as options or in --config)"
            raise patrolplan.PatrolPlanError(msg)
    except patrolplan.PatrolPlanError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    _run(out, pdf=pdf, offline=offline, **kwargs)


@app.command()
def backtest(
    incidents: Annotated[Path, typer.Option(help="Incident file (any supported format).")],
    osm: Annotated[
        Path | None,
        typer.Option(
            help="OSM extract: also score street segments by length; only incidents in it count."
        ),
    ] = None,
    train_days: Annotated[int, typer.Option(min=1, help="Training window in days.")] = 90,
    test_days: Annotated[int, typer.Option(min=1, help="Test window in days.")] = 7,
    cell: Annotated[float, typer.Option(help="Grid cell size in metres.")] = 100.0,
    columns: Annotated[str | None, typer.Option(help="Column mapping, e.g. lat=Y,lon=X.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the coordinates.")] = None,
    out: Annotated[Path, typer.Option(help="CSV of every window's results.")] = Path(
        "backtest.csv"
    ),
    seed: Annotated[int, typer.Option(help="Seed of the random baseline.")] = 0,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Backtest hotspot methods on rolling windows: hit rate, PAI and PEI* vs baselines."""
    _logging(verbose, quiet)
    from patrolplan import backtest as bt
    from patrolplan import export, graph, ingest

    try:
        G = graph.graph_from_file(osm) if osm else None
        area = graph.graph_area(G) if G is not None else None
        gdf, report = ingest.read_incidents(
            incidents, columns=parse_columns(columns), crs=crs, area=area
        )
        results = bt.run(
            gdf, G=G, train_days=train_days, test_days=test_days, cell_m=cell, seed=seed
        )
    except patrolplan.PatrolPlanError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    export.write_csv(out, results)
    typer.echo(report.summary())
    typer.echo(
        f"{results['window'].max()} windows of {train_days} + {test_days} days; "
        "means over windows:\n"
    )
    typer.echo(bt.summary(results).to_string(index=False))
    typer.echo(f"\nWrote {out}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("plan"),
    officers: Annotated[
        int, typer.Option(min=1, help="Officers on foot.")
    ] = datasets.DEMO_OFFICERS,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    pdf: Pdf = False,
    offline: Offline = True,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Plan the Baltimore demo shift (19 June 2016, 18:00-22:00, two posts) from data/."""
    _logging(verbose, quiet)
    try:
        files = {"crime": datasets.baltimore_crimes()}
        osm = datasets.baltimore_osm()
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    _run(
        out,
        pdf=pdf,
        offline=offline,
        incidents=files,
        osm=osm,
        posts=list(datasets.DEMO_POSTS),
        officers=officers,
        shift=f"{datasets.DEMO_SHIFT_HOURS:g}h",
        start=datasets.DEMO_SHIFT_START,
        date=datasets.DEMO_DATE,
        seed=seed,
    )


if __name__ == "__main__":  # pragma: no cover
    app()
