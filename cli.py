"""Command-line interface of patrolplan: ``patrolplan plan``, ``demo``, ``backtest``.

The commands read options, call the library and turn its errors into one line on stderr and
exit code 1. The heavy scientific stack is imported only inside a command, so ``--help`` and
``--version`` answer at once.

Every command takes ``--lang en|ru|kk`` (or ``lang`` in the ``[plan]`` table of a district
file it reads) and runs whole inside :func:`patrolplan.i18n.language`, so the summary it
prints, the log lines, warnings and the error line are made in that language. Help texts stay
English: they are written before the language is known.
"""

from __future__ import annotations

import logging
import sys
import tomllib
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from patrolplan import datasets, i18n, settings
from patrolplan._errors import PatrolPlanError
from patrolplan.i18n import _, ngettext, pgettext
from patrolplan.options import PlanOptions, option_help

if TYPE_CHECKING:
    import pandas as pd

    from patrolplan.plan import PatrolPlan

app = typer.Typer(
    help="Turn public crime maps into foot-patrol routes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            v = version("patrolplan")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            v = "0+unknown"
        typer.echo(f"patrolplan {v}")
        raise typer.Exit


def _showwarning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Send a library warning to the log as one line, without source paths."""
    text = " ".join(str(message).split())
    logging.getLogger("patrolplan").warning(_("warning: {message}").format(message=text))


def _logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else settings.log_level
    logger = logging.getLogger("patrolplan")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # numpy, pandas and pyproj warnings become one log line each (a user reads them, not code)
    warnings.showwarning = _showwarning


def _fail(exc: BaseException) -> typer.Exit:
    typer.echo(_("error: {message}").format(message=exc), err=True)
    return typer.Exit(code=1)


def _lang(lang: str | None, config: Path | None = None) -> str:
    """Return the language of a command: `lang`, else the district file's, else English.

    The district file is only peeked at here (its ``[plan]`` table's ``lang``), so that the
    checks of the file itself already speak its language; a file that cannot be read is
    reported later, by the command.
    """
    if lang is None and config is not None:
        try:
            with Path(config).open("rb") as f:
                table = tomllib.load(f).get("plan", {})
            value = table.get("lang") if isinstance(table, dict) else None
        except (OSError, tomllib.TOMLDecodeError):
            value = None
        lang = value if isinstance(value, str) and value.strip().lower() in i18n.LANGS else None
    try:
        return i18n.check_language(lang or "en")
    except PatrolPlanError as exc:
        raise _fail(exc) from None


def _columns() -> dict[str, str]:
    """Column heads of the printed tables, in the current language (the CSV keep the keys)."""
    return {
        "officer": pgettext("column", "officer"),
        "post": pgettext("column", "post"),
        "km": pgettext("column", "km"),
        "walk_min": pgettext("column", "walk min"),
        "dwell_min": pgettext("column", "dwell min"),
        "total_min": pgettext("column", "total min"),
        "shift_min": pgettext("column", "shift min"),
        "hotspots": pgettext("column", "hotspots"),
        "revisits": pgettext("column", "revisits"),
        "streets": pgettext("column", "streets"),
        "hotspot_risk_share": pgettext("column", "hotspot risk"),
        "risk_covered_share": pgettext("column", "risk covered"),
        "incidents_covered": pgettext("column", "incidents covered"),
        "variant": pgettext("column", "variant"),
        "risk": pgettext("column", "risk"),
        "share_of_best": pgettext("column", "of best"),
        "mean_overlap": pgettext("column", "mean overlap"),
        "max_overlap": pgettext("column", "max overlap"),
        "walk_m": pgettext("column", "walk m"),
        "covered": pgettext("column", "covered"),
        "covered_share": pgettext("column", "covered share"),
        "overlap": pgettext("column", "overlap"),
        "overlap_share": pgettext("column", "overlap share"),
        "unreached": pgettext("column", "unreached"),
        "unreached_share": pgettext("column", "unreached share"),
        "total_risk": pgettext("column", "total risk"),
        "area": pgettext("column", "area"),
        "n_units": pgettext("column", "units"),
        "risk_share": pgettext("column", "risk share"),
        "street_km": pgettext("column", "street km"),
        "area_km2": pgettext("column", "area km²"),
        "workload": pgettext("column", "workload"),
        "workload_ratio": pgettext("column", "x mean"),
        "unit": pgettext("column", "unit"),
        "fraction": pgettext("column", "fraction"),
        "method": pgettext("column", "method"),
        "hit_rate": pgettext("column", "hit rate"),
        "pai": pgettext("column", "PAI"),
        "pei_star": pgettext("column", "PEI*"),
    }


def _table(frame: pd.DataFrame) -> str:
    """Return a table for the terminal: the keys in English, else heads and numbers localised.

    In English the table is printed as pandas writes it, with the column keys of the CSV
    files; in Russian and Kazakh the heads are translated, shares become percentages and
    numbers take the locale's decimal comma.
    """
    import pandas as pd

    if i18n.get_language() == "en":
        return str(frame.to_string(index=False))
    heads = _columns()
    shown = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col]
        shares = ("share_of_best", "mean_overlap", "max_overlap", "workload", "fraction")
        if str(col).endswith("share") or col in shares:
            places = 0 if col == "fraction" else 1
            text = [
                "" if pd.isna(v) else i18n.format_percent(float(v), decimals=places) for v in values
            ]
        elif pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
            text = [i18n.format_number(int(v)) for v in values]
        elif pd.api.types.is_float_dtype(values):
            decimals = 3 if col in ("km", "pai", "pei_star", "hit_rate") else 1
            decimals = 2 if col == "workload_ratio" else decimals
            text = [
                "" if pd.isna(v) else i18n.format_number(float(v), decimals=decimals)
                for v in values
            ]
        else:
            # the summary's last row totals every officer
            total = pgettext("row", "all")
            text = ["" if v is None else total if v == "all" else str(v) for v in values]
        shown[heads.get(str(col), str(col))] = text
    return str(shown.to_string(index=False))


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
        help="Inline Leaflet in map.html (default), or link it from its CDN (smaller, needs "
        "internet).",
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Log every step (DEBUG).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")]
Lang = Annotated[str | None, typer.Option(help=option_help("lang"))]


def _check_out(out: Path, options: PlanOptions, *, pdf: bool) -> None:
    """Refuse an output folder the plan cannot be written into, before any work is done."""
    from patrolplan.plan import output_names
    from patrolplan.utils import check_output_dir

    names = output_names(
        pdf=pdf,
        officers=options.officers,
        variants=options.variants > 1 or options.day is not None,
    )
    check_output_dir(out, names=names)


def _write(plan: PatrolPlan, out: Path, *, pdf: bool, offline: bool) -> None:
    """Write a computed plan and print its summary; user errors exit 1 with one line."""
    from patrolplan import plan as _plan

    try:
        files = _plan.write_plan(plan, out, pdf=pdf, offline=offline)
    except (PatrolPlanError, OSError) as exc:
        raise _fail(exc) from None
    for report in plan.reports:
        typer.echo(report.summary())
    typer.echo("")
    typer.echo(_table(plan.summary))
    if plan.warnings:
        typer.echo("\n" + _("Before you use this plan:"))
        for line in plan.warnings:
            typer.echo(f"  - {line}")
    if plan.variant_table is not None:
        typer.echo(
            "\n" + _("Variants (share of the best plan's risk, street overlap with the others):")
        )
        typer.echo(_table(plan.variant_table))
    typer.echo("\n" + _wrote(files, out))


def _wrote(files: list[Path], out: Path) -> str:
    """Return the closing line of a command that wrote files into a folder."""
    return _("Wrote {files} to {out}").format(files=", ".join(p.name for p in files), out=out)


def _missing(names: list[str]) -> str:
    """Return the error of required options that were given neither here nor in a file."""
    return _("missing {options} (give them as options or in --config)").format(
        options=", ".join(names)
    )


def _solver_status(status: str) -> str:
    """Return the covering solver's status (``optimal`` or another CBC status) for people."""
    known = {"optimal": pgettext("solver", "optimal"), "feasible": pgettext("solver", "feasible")}
    return known.get(status.lower(), status)


def _posts(values: list[str]) -> list[tuple[float, float]]:
    from patrolplan.routing import parse_post

    return [parse_post(v) for v in values]


@app.command()
def plan(
    incidents: Annotated[
        Path | None, typer.Option(help="Crime incidents (CSV, GeoJSON, GPKG, Parquet, Shapefile).")
    ] = None,
    osm: Annotated[
        Path | None, typer.Option(help="Local OSM extract: .osm, .osm.bz2, .osm.pbf, .graphml.")
    ] = None,
    post: Annotated[list[str] | None, typer.Option(help="Post as lat,lon; repeat for several.")] = (
        None
    ),
    config: Annotated[
        Path | None, typer.Option(help="District TOML file; options given here override it.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("plan"),
    accidents: Annotated[Path | None, typer.Option(help="Traffic accidents layer.")] = None,
    juvenile: Annotated[Path | None, typer.Option(help="Juvenile offences layer.")] = None,
    officers: Annotated[int | None, typer.Option(help=option_help("officers"))] = None,
    shift: Annotated[str | None, typer.Option(help=option_help("shift"))] = None,
    start: Annotated[str | None, typer.Option(help=option_help("start"))] = None,
    date: Annotated[str | None, typer.Option(help=option_help("date"))] = None,
    days: Annotated[int | None, typer.Option(help=option_help("days"))] = None,
    since: Annotated[str | None, typer.Option(help=option_help("since"))] = None,
    tz: Annotated[str | None, typer.Option(help=option_help("tz"))] = None,
    seed: Annotated[int | None, typer.Option(help=option_help("seed"))] = None,
    dwell: Annotated[float | None, typer.Option(help=option_help("dwell_min"))] = None,
    speed: Annotated[float | None, typer.Option(help=option_help("speed_kmh"))] = None,
    columns: Annotated[
        str | None, typer.Option(help="Column mapping, e.g. lat=Y,lon=X,datetime=Date.")
    ] = None,
    crs: Annotated[
        str | None,
        typer.Option(help="CRS of the coordinates, e.g. EPSG:32642; 'local' for a local grid."),
    ] = None,
    datetime_format: Annotated[
        str | None,
        typer.Option(
            help="Date format of the incident files, e.g. %d.%m.%Y %H:%M [decided per file]."
        ),
    ] = None,
    dayfirst: Annotated[
        bool | None,
        typer.Option(
            "--dayfirst/--monthfirst",
            help="Read a/b/yyyy dates day first (01/03 = 1 March) or month first "
            "[decided per file from the rows].",
        ),
    ] = None,
    method: Annotated[str | None, typer.Option(help=option_help("method"))] = None,
    half_life: Annotated[float | None, typer.Option(help=option_help("half_life_days"))] = None,
    hotspot_size: Annotated[float | None, typer.Option(help=option_help("hotspot_size_m"))] = None,
    max_hotspots: Annotated[int | None, typer.Option(help=option_help("max_hotspots"))] = None,
    segments: Annotated[int | None, typer.Option(help=option_help("max_segments"))] = None,
    revisit: Annotated[str | None, typer.Option(help=option_help("revisit"))] = None,
    visits: Annotated[int | None, typer.Option(help=option_help("max_visits"))] = None,
    revisit_value: Annotated[float | None, typer.Option(help=option_help("revisit_value"))] = None,
    end: Annotated[
        list[str] | None, typer.Option(help="Open routes: end point lat,lon, repeat like --post.")
    ] = None,
    variants: Annotated[int | None, typer.Option(help=option_help("variants"))] = None,
    day: Annotated[int | None, typer.Option(help=option_help("day"))] = None,
    areas: Annotated[
        Path | None,
        typer.Option(help="Patrol areas (from patrolplan areas): officer k stays in area k."),
    ] = None,
    lang: Lang = None,
    pdf: Pdf = False,
    offline: Offline = True,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Plan foot-patrol routes for one shift and write map, GeoJSON, sheets and timetable."""
    _logging(verbose, quiet)
    with i18n.language(_lang(lang, config)):
        _plan_command(
            incidents=incidents,
            osm=osm,
            post=post,
            config=config,
            out=out,
            accidents=accidents,
            juvenile=juvenile,
            given={
                "officers": officers,
                "shift": shift,
                "start": start,
                "date": date,
                "days": days,
                "since": since,
                "tz": tz,
                "seed": seed,
                "dwell_min": dwell,
                "speed_kmh": speed,
                "method": method,
                "half_life_days": half_life,
                "hotspot_size_m": hotspot_size,
                "max_hotspots": max_hotspots,
                "max_segments": segments,
                "revisit": revisit,
                "max_visits": visits,
                "revisit_value": revisit_value,
                "variants": variants,
                "day": day,
                "lang": lang,
            },
            columns=columns,
            crs=crs,
            datetime_format=datetime_format,
            dayfirst=dayfirst,
            end=end,
            areas=areas,
            pdf=pdf,
            offline=offline,
        )


def _plan_command(
    *,
    incidents: Path | None,
    osm: Path | None,
    post: list[str] | None,
    config: Path | None,
    out: Path,
    accidents: Path | None,
    juvenile: Path | None,
    given: dict[str, Any],
    columns: str | None,
    crs: str | None,
    datetime_format: str | None,
    dayfirst: bool | None,
    end: list[str] | None,
    areas: Path | None,
    pdf: bool,
    offline: bool,
) -> None:
    """Run ``patrolplan plan`` in the current language."""
    from patrolplan import plan as _plan
    from patrolplan.config import District, load_config
    from patrolplan.ingest import parse_columns

    try:
        district = load_config(config) if config else District(path=Path("."))
        options = PlanOptions.from_mapping(
            {**district.plan, **{k: v for k, v in given.items() if v is not None}}
        )
        files: dict[str, str | Path | None] = dict(district.incidents)
        files.update(
            {
                k: v
                for k, v in {
                    "crime": incidents,
                    "accident": accidents,
                    "juvenile": juvenile,
                }.items()
                if v
            }
        )
        posts = _posts(post) if post else list(district.posts)
        ends = _posts(end) if end else list(district.ends)
        extract = osm or district.osm
        missing = [
            name
            for name, value in (("--incidents", files), ("--osm", extract), ("--post", posts))
            if not value
        ]
        if missing:
            raise PatrolPlanError(_missing(missing))
        assert extract is not None
        _check_out(out, options, pdf=pdf)
        result = _plan.daily_plan(
            files,
            extract,
            posts,
            options,
            ends=ends or None,
            columns=parse_columns(columns) if columns else district.columns or None,
            crs=crs or district.crs or None,
            severity=district.severity or None,
            layer_weights=district.layer_weights or None,
            datetime_format=datetime_format or district.datetime_format or None,
            dayfirst=dayfirst if dayfirst is not None else district.dayfirst or None,
            areas=areas,
        )
    except PatrolPlanError as exc:
        raise _fail(exc) from None
    _write(result, out, pdf=pdf, offline=offline)


@app.command()
def backtest(
    incidents: Annotated[Path, typer.Option(help="Incident file (any supported format).")],
    osm: Annotated[
        Path | None,
        typer.Option(
            help="OSM extract: also score street segments by length; only incidents in it count."
        ),
    ] = None,
    train_days: Annotated[
        int | None, typer.Option(min=1, help="Training window in days [from the data's span].")
    ] = None,
    test_days: Annotated[int, typer.Option(min=1, help="Test window in days.")] = 7,
    windows: Annotated[
        int, typer.Option(min=1, help="Score the latest N windows (rolling by --test-days).")
    ] = 12,
    cell: Annotated[
        float | None, typer.Option(min=1, help="Grid cell in metres [from the data's density].")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Shift start HH:MM: train on the shift's hours, score its incidents."),
    ] = None,
    shift: Annotated[str, typer.Option(help="Shift length with --start.")] = "4h",
    columns: Annotated[str | None, typer.Option(help="Column mapping, e.g. lat=Y,lon=X.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the coordinates.")] = None,
    tz: Annotated[str | None, typer.Option(help=option_help("tz"))] = None,
    datetime_format: Annotated[
        str | None, typer.Option(help="Date format, e.g. %d.%m.%Y [decided from the rows].")
    ] = None,
    dayfirst: Annotated[
        bool | None,
        typer.Option("--dayfirst/--monthfirst", help="Read a/b/yyyy dates day or month first."),
    ] = None,
    out: Annotated[Path, typer.Option(help="CSV of every window's results.")] = Path(
        "backtest.csv"
    ),
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random baseline.")] = 0,
    lang: Lang = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Backtest hotspot methods on rolling windows: hit rate, PAI and PEI* vs baselines."""
    _logging(verbose, quiet)
    with i18n.language(_lang(lang)):
        from patrolplan import backtest as bt
        from patrolplan import export, graph, ingest

        try:
            G = graph.graph_from_file(osm) if osm else None
            area = graph.graph_area(G) if G is not None else None
            if tz is not None:
                PlanOptions(tz=tz)  # checks the zone name
            gdf, report = ingest.read_incidents(
                incidents,
                columns=ingest.parse_columns(columns),
                crs=crs,
                area=area,
                tz=tz,
                datetime_format=datetime_format,
                dayfirst=dayfirst,
            )
            from patrolplan import hotspots
            from patrolplan.options import parse_clock, parse_duration_min

            shift_h: tuple[float | None, float | None] = (None, None)
            if start is not None:
                h, m = parse_clock(start)
                shift_h = (h + m / 60.0, parse_duration_min(shift) / 60.0)
            auto = hotspots.auto_params(gdf)
            train = train_days or auto.train_days
            cell_m = cell or auto.cell_m
            results = bt.run(
                gdf,
                G=G,
                train_days=train,
                test_days=test_days,
                max_windows=windows,
                cell_m=cell_m,
                half_life_days=auto.half_life_days,
                shift_start_hour=shift_h[0],
                shift_length_h=shift_h[1],
                seed=seed,
            )
            if results.empty:
                msg = _(
                    "{file}: no backtest window: {train} training days and {test} test days "
                    "do not fit in the data's span"
                ).format(file=incidents, train=train, test=test_days)
                raise PatrolPlanError(msg)
            export.write_csv(out, results)
        except (PatrolPlanError, OSError) as exc:
            raise _fail(exc) from None
        typer.echo(report.summary())
        n = int(results["window"].max())
        typer.echo(
            ngettext(
                "{n} window of {train} + {test} days, {cell} m cells; means over windows:",
                "{n} windows of {train} + {test} days, {cell} m cells; means over windows:",
                n,
            ).format(
                n=i18n.format_number(n),
                train=i18n.format_number(train),
                test=i18n.format_number(test_days),
                cell=i18n.format_number(cell_m),
            )
            + "\n"
        )
        typer.echo(_table(bt.summary(results)))
        typer.echo("\n" + _("Wrote {file}").format(file=out))


@app.command()
def evaluate(
    incidents: Annotated[Path, typer.Option(help="Incident file (any supported format).")],
    osm: Annotated[Path, typer.Option(help="Local OSM extract of the district.")],
    post: Annotated[list[str], typer.Option(help="Post as lat,lon; repeat for several.")],
    date_from: Annotated[str, typer.Option("--from", help="First test day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last test day, YYYY-MM-DD.")],
    every: Annotated[int, typer.Option(min=1, help="Test every N-th day.")] = 1,
    start: Annotated[
        str, typer.Option(help="Shift start(s), HH:MM; 10:00,18:00 for two a day.")
    ] = "18:00",
    shift: Annotated[str, typer.Option(help=option_help("shift"))] = "4h",
    officers: Annotated[int, typer.Option(min=1, help=option_help("officers"))] = 1,
    history_days: Annotated[
        int, typer.Option(min=1, help="Days of history each replayed plan may use.")
    ] = 90,
    method: Annotated[str, typer.Option(help=option_help("method"))] = "auto",
    count_days: Annotated[
        str, typer.Option(help="Last-period count baselines, days, e.g. 7,28.")
    ] = "28",
    random_walks: Annotated[
        int, typer.Option("--random", min=0, help="Random walks per officer and shift.")
    ] = 5,
    columns: Annotated[str | None, typer.Option(help="Column mapping, e.g. lat=Y,lon=X.")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS of the coordinates.")] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the solver and the baselines.")] = 0,
    iterations: Annotated[int | None, typer.Option(min=1, help=option_help("iterations"))] = None,
    out: Annotated[Path, typer.Option(help="CSV of every shift and method.")] = Path(
        "evaluate.csv"
    ),
    lang: Lang = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Replay the plan on past shifts: incidents it would have caught vs simpler plans."""
    _logging(verbose, quiet)
    with i18n.language(_lang(lang)):
        from patrolplan import evaluate as ev
        from patrolplan import export
        from patrolplan.ingest import parse_columns
        from patrolplan.options import parse_date

        try:
            PlanOptions(officers=officers, shift=shift, method=method, iterations=iterations)
            parse_date(date_from, what="from")
            parse_date(date_to, what="to")
            try:
                counts = tuple(int(v) for v in count_days.split(","))
            except ValueError:
                msg = _("`count-days` must be whole days such as 7,28; got {value!r}").format(
                    value=count_days
                )
                raise PatrolPlanError(msg) from None
            result = ev.run(
                incidents,
                osm,
                _posts(post),
                date_from=date_from,
                date_to=date_to,
                every=every,
                start=start,
                shift=shift,
                officers=officers,
                history_days=history_days,
                columns=parse_columns(columns) if columns else None,
                crs=crs,
                method=method,
                count_days=counts,
                n_random=random_walks,
                seed=seed,
                iterations=iterations,
            )
            export.write_csv(out, result.per_shift)
            export.write_csv(out.with_name(out.stem + "_summary.csv"), result.table)
        except (PatrolPlanError, OSError) as exc:
            raise _fail(exc) from None
        typer.echo(ev.format_table(result.table))
        typer.echo(
            "\n"
            + _("Wrote {file} and {summary}").format(file=out, summary=f"{out.stem}_summary.csv")
        )


def _district(
    config: Path | None,
    incidents: Path | None,
    osm: Path | None,
    post: list[str] | None,
    given: dict[str, Any],
    *,
    need_posts: bool = True,
) -> tuple[dict[str, str | Path | None], Path, list[tuple[float, float]], PlanOptions, Any]:
    """Merge a district file with command-line values; check them before any work."""
    from patrolplan.config import District, load_config

    district = load_config(config) if config else District(path=Path("."))
    options = PlanOptions.from_mapping(
        {**district.plan, **{k: v for k, v in given.items() if v is not None}}
    )
    files: dict[str, str | Path | None] = dict(district.incidents)
    if incidents:
        files["crime"] = incidents
    posts = _posts(post) if post else list(district.posts)
    extract = osm or district.osm
    wanted: list[tuple[str, object]] = [("--incidents", files), ("--osm", extract)]
    wanted += [("--post", posts)] if need_posts else []
    missing = [name for name, value in wanted if not value]
    if missing or extract is None:
        raise PatrolPlanError(_missing(missing))
    return files, extract, posts, options, district


def _risk(
    config: Path | None,
    incidents: Path | None,
    osm: Path | None,
    post: list[str] | None,
    given: dict[str, Any],
    out: Path,
) -> tuple[Any, list[tuple[float, float]], PlanOptions]:
    """Read a district's incidents and graph, weighted as a plan would, for posts and areas."""
    from patrolplan import posts as pp_posts
    from patrolplan.utils import check_output_dir

    files, extract, current, options, district = _district(
        config, incidents, osm, post, given, need_posts=False
    )
    check_output_dir(out)
    data = pp_posts.load_risk(
        files,
        extract,
        options,
        columns=district.columns or None,
        crs=district.crs or None,
        severity=district.severity or None,
        layer_weights=district.layer_weights or None,
    )
    return data, current, options


def _minutes(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        msg = _("`{what}` must be minutes such as 5,10,15; got {value!r}").format(
            what=what, value=text
        )
        raise PatrolPlanError(msg) from None
    return values


Incidents = Annotated[
    Path | None, typer.Option(help="Incident file (any supported format), the crime layer.")
]
Osm = Annotated[Path | None, typer.Option(help="Local OSM extract of the district.")]
Config = Annotated[Path | None, typer.Option(help="District TOML file; options override it.")]
Start = Annotated[str | None, typer.Option(help=option_help("start"))]
Shift = Annotated[str | None, typer.Option(help=option_help("shift"))]
Date = Annotated[str | None, typer.Option(help=option_help("date"))]
Days = Annotated[int | None, typer.Option(help=option_help("days"))]
Speed = Annotated[float | None, typer.Option(help=option_help("speed_kmh"))]


@app.command()
def posts(
    incidents: Incidents = None,
    osm: Osm = None,
    post: Annotated[
        list[str] | None, typer.Option(help="Current post as lat,lon; repeat for several.")
    ] = None,
    config: Config = None,
    k: Annotated[int, typer.Option("--k", min=1, help="New sites to propose.")] = 2,
    walk_min: Annotated[
        float, typer.Option(min=1, help="Walk limit of the proposal, minutes.")
    ] = 10.0,
    minutes: Annotated[
        str, typer.Option(help="Walk limits at which current posts are evaluated.")
    ] = "5,10,15",
    candidates: Annotated[
        Path | None,
        typer.Option(help="GeoJSON/GPKG/CSV of feasible sites [thinned street nodes]."),
    ] = None,
    cell: Annotated[
        float, typer.Option(min=10, help="Thinning of street-node candidates, metres.")
    ] = 50.0,
    start: Start = None,
    shift: Shift = None,
    date: Date = None,
    days: Days = None,
    speed: Speed = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("posts"),
    offline: Offline = True,
    lang: Lang = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Evaluate the posts (risk within 5/10/15 minutes' walk) and propose K new sites (MCLP)."""
    _logging(verbose, quiet)
    with i18n.language(_lang(lang, config)):
        from patrolplan import posts as pp_posts

        try:
            given = {
                "start": start,
                "shift": shift,
                "date": date,
                "days": days,
                "speed_kmh": speed,
                "lang": lang,
            }
            limits = _minutes(minutes, "minutes")
            data, current, options = _risk(config, incidents, osm, post, given, out)
            cov = pp_posts.evaluate_posts(
                data.G, data.risk, current, walk_min=limits, speed_kmh=options.speed_kmh
            )
            prop = pp_posts.propose_posts(
                data.G,
                data.risk,
                k=k,
                existing=current,
                walk_min=walk_min,
                speed_kmh=options.speed_kmh,
                candidates=candidates,
                cell_m=cell,
            )
            files_written = pp_posts.write_posts(out, data.G, data.risk, cov, prop, offline=offline)
        except (PatrolPlanError, OSError) as exc:
            raise _fail(exc) from None
        typer.echo(_table(cov.summary))
        sol = prop.solution
        typer.echo(
            "\n"
            + ngettext(
                "{k} new site: risk within {minutes} min of a post {before} -> {after} "
                "({status}, gap {gap}, {candidates} candidates)",
                "{k} new sites: risk within {minutes} min of a post {before} -> {after} "
                "({status}, gap {gap}, {candidates} candidates)",
                k,
            ).format(
                k=i18n.format_number(k),
                minutes=i18n.format_number(
                    walk_min, decimals=0 if walk_min == int(walk_min) else 1
                ),
                before=i18n.format_percent(prop.before_share),
                after=i18n.format_percent(prop.after_share),
                status=_solver_status(sol.status),
                gap=i18n.format_percent(sol.gap, decimals=2),
                candidates=i18n.format_number(prop.n_candidates),
            )
        )
        typer.echo(_wrote(files_written, out))


@app.command()
def areas(
    officers: Annotated[int, typer.Option(min=1, help="Patrol areas, one per officer.")],
    incidents: Incidents = None,
    osm: Osm = None,
    config: Config = None,
    cell: Annotated[float, typer.Option(min=50, help="Grid cell of the units, metres.")] = 200.0,
    start: Start = None,
    shift: Shift = None,
    date: Date = None,
    days: Days = None,
    seed: Annotated[int, typer.Option(min=0, help=option_help("seed"))] = 0,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("areas"),
    offline: Offline = True,
    lang: Lang = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Split the district into contiguous patrol areas balanced by workload."""
    _logging(verbose, quiet)
    with i18n.language(_lang(lang, config)):
        from patrolplan import areas as pp_areas

        try:
            given = {"start": start, "shift": shift, "date": date, "days": days, "lang": lang}
            data = _risk(config, incidents, osm, None, given, out)[0]
            parts = pp_areas.partition(data.G, data.risk, officers=officers, cell_m=cell, seed=seed)
            written = pp_areas.write_areas(out, data.G, parts, offline=offline)
        except (PatrolPlanError, OSError) as exc:
            raise _fail(exc) from None
        table = parts.areas.drop(columns="geometry")
        typer.echo(_table(table))
        typer.echo(
            "\n"
            + _("Workload max/min {balance} ({seconds} s)").format(
                balance=i18n.format_number(parts.balance, decimals=2),
                seconds=i18n.format_number(parts.seconds, decimals=1),
            )
        )
        typer.echo(_wrote(written, out))


@app.command()
def batch(
    districts_dir: Annotated[
        Path, typer.Argument(exists=True, file_okay=False, help="Folder of district TOML files.")
    ],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    date: Annotated[
        str | None,
        typer.Option(
            help="Plan date YYYY-MM-DD for every plan [each district file's own [plan] date]."
        ),
    ] = None,
    shifts: Annotated[
        str, typer.Option(help="Shifts START/LENGTH, comma-separated.")
    ] = "08:00/4h,18:00/4h",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Workers of the local cluster [one per core]."),
    ] = None,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on a terminal.")
    ] = True,
    lang: Lang = None,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Plan every district file in a folder for every shift, on Dask distributed."""
    _logging(verbose, quiet)
    with i18n.language(_lang(lang)):
        try:
            from patrolplan import batch as _batch

            result = _batch.run(
                districts_dir,
                date=date,
                shifts=_batch.parse_shifts(shifts),
                out=out,
                scheduler=scheduler,
                workers=workers,
                progress=progress,
            )
        except (PatrolPlanError, ImportError, OSError) as exc:
            raise _fail(exc) from None
        typer.echo(result.summary())
        typer.echo("\n" + _("Wrote {file}").format(file=result.report))
        if not result.ok:
            raise typer.Exit(code=1)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("plan"),
    officers: Annotated[
        int, typer.Option(min=1, help="Officers on foot.")
    ] = datasets.DEMO_OFFICERS,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = 0,
    lang: Lang = None,
    pdf: Pdf = False,
    offline: Offline = True,
    verbose: Verbose = False,
    quiet: Quiet = False,
) -> None:
    """Plan the Baltimore demo shift (19 June 2016, 18:00-22:00, two posts) from data/."""
    _logging(verbose, quiet)
    with i18n.language(_lang(lang)):
        from patrolplan import plan as _plan

        try:
            options = PlanOptions(
                officers=officers,
                shift=f"{datasets.DEMO_SHIFT_HOURS:g}h",
                start=datasets.DEMO_SHIFT_START,
                date=datasets.DEMO_DATE,
                seed=seed,
                lang=i18n.get_language(),
            )
            _check_out(out, options, pdf=pdf)
            result = _plan.daily_plan(
                {"crime": datasets.baltimore_crimes()},
                datasets.baltimore_osm(),
                list(datasets.DEMO_POSTS),
                options,
            )
        except (PatrolPlanError, FileNotFoundError) as exc:
            raise _fail(exc) from None
        _write(result, out, pdf=pdf, offline=offline)


if __name__ == "__main__":  # pragma: no cover
    app()
