"""Command-line interface of patrolplan: ``patrolplan plan``, ``demo``, ``backtest``...

Each command is: flags -> one :class:`~patrolplan.request.PlanRequest` -> the library -> print.
The shared opening (:func:`command`) sets up logging, reads the district file once, picks the
language and turns the library's errors into one line on stderr and exit code 1. The heavy
scientific stack is imported only inside a command, so ``--help`` and ``--version`` answer at
once.

Every command takes ``--lang en|ru|kk`` (or ``lang`` in the ``[plan]`` table of a district
file it reads) and runs whole inside :func:`patrolplan.i18n.language`, so the summary it
prints, the log lines, warnings and the error line are made in that language. Help texts stay
English: they are written before the language is known.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from patrolplan import datasets, i18n, settings
from patrolplan._errors import PatrolPlanError
from patrolplan._validate import check_flag_numbers
from patrolplan.i18n import _, ngettext, pgettext
from patrolplan.options import PlanOptions, option_help
from patrolplan.request import FLAG_ALIASES

if TYPE_CHECKING:
    import pandas as pd

    from patrolplan.config import District
    from patrolplan.plan import PatrolPlan
    from patrolplan.request import PlanRequest

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


class _Once(logging.Filter):
    """Let each message through once.

    A replay of 40 shifts says "officer 2 has nothing to do" once, not 40 times.
    """

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.levelno, record.getMessage())
        if key in self.seen:
            return False
        self.seen.add(key)
        return True


def _logging(verbose: int, quiet: bool) -> logging.Handler:
    """Show the notices and warnings (default), every step (``-v``) or the details (``-vv``)."""
    if verbose:
        level = logging.INFO if verbose == 1 else logging.DEBUG
    else:
        level = logging.WARNING if quiet else settings.log_level
    logger = logging.getLogger("patrolplan")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_Once())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    # numpy, pandas and pyproj warnings become one log line each (a user reads them, not code)
    warnings.showwarning = _showwarning
    return handler


def _fail(exc: BaseException) -> typer.Exit:
    typer.echo(_("error: {message}").format(message=exc), err=True)
    return typer.Exit(code=1)


def _known_lang(lang: object) -> str:
    """Return `lang` when it names a catalog, else English (for the first lines of a command)."""
    if isinstance(lang, str) and lang.strip().lower() in i18n.LANGS:
        return lang.strip().lower()
    return "en"


# The district file of the running command, read once by the command's opening.
_DISTRICTS: dict[Path, District] = {}

F = TypeVar("F", bound=Callable[..., None])


def command(fn: F) -> F:
    """Give a command the shared opening: logging, district file, language, errors.

    The district file (``--config``) is read once, here: its ``[plan]`` ``lang`` sets the
    command's language (``--lang`` wins) before its keys are checked, so its errors already
    speak that language; the command gets it from :func:`_request`. A
    :class:`~patrolplan.PatrolPlanError` or an OS error ends the command with one line on
    stderr and exit code 1; anything else shows its traceback.
    """

    @functools.wraps(fn)
    def run(**kwargs: Any) -> None:
        logger = logging.getLogger("patrolplan")
        before = (logger.level, logger.propagate, warnings.showwarning)
        handler = _logging(int(kwargs.get("verbose") or 0), bool(kwargs.get("quiet")))
        # the log goes to this command's stderr only: the logger is left as it was found
        try:
            _open(fn, kwargs)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(before[0])
            logger.propagate = before[1]
            warnings.showwarning = before[2]

    return run  # type: ignore[return-value]


def _open(fn: Callable[..., None], kwargs: dict[str, Any]) -> None:
    """Run a command: district file, language, number flags, errors to one line."""
    lang = kwargs.get("lang")
    config: Path | None = kwargs.get("config")
    doc = None
    if config is not None:
        from patrolplan.config import read_toml

        with i18n.language(_known_lang(lang)):
            try:
                doc = read_toml(config)
            except PatrolPlanError as exc:
                raise _fail(exc) from None
        table = doc.get("plan")
        if lang is None and isinstance(table, dict):
            lang = _known_lang(table.get("lang"))
    with i18n.language(_known_lang(lang)):
        try:
            code = i18n.check_language(lang or "en")
        except PatrolPlanError as exc:
            raise _fail(exc) from None
    with i18n.language(code):
        try:
            # inf, 1e308 or a 400-digit number in any number flag: one line, before any work
            check_flag_numbers(kwargs)
            if doc is not None and config is not None:
                from patrolplan.config import from_toml

                _DISTRICTS[config] = from_toml(doc, config)
            fn(**kwargs)
        except (PatrolPlanError, OSError) as exc:
            raise _fail(exc) from None
        finally:
            if config is not None:
                _DISTRICTS.pop(config, None)


def _request(config: Path | None, **given: Any) -> PlanRequest:
    """Build the command's request: the district file read by :func:`command`, then flags."""
    from patrolplan.request import PlanRequest

    district = _DISTRICTS.get(config) if config is not None else None
    return PlanRequest.build(district, **given)


def _options(values: dict[str, Any]) -> dict[str, Any]:
    """Return the plan options among a command's arguments (same names as PlanOptions)."""
    return {k: v for k, v in values.items() if k in _OPTION_NAMES and v is not None}


_OPTION_NAMES = frozenset(f.name for f in dataclasses.fields(PlanOptions))


def _flag(name: str, text: str | None = None) -> Any:
    """Return the typer option of plan option `name`: ``--name`` and its older alias."""
    names = [f"--{name.replace('_', '-')}"]
    if name in FLAG_ALIASES:
        names.append(FLAG_ALIASES[name])
    return typer.Option(*names, help=text or option_help(name))


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
    """Return a table for the terminal, in the current language.

    Heads are words (the CSV files keep the keys), split over two lines where a head is wider
    than its numbers; shares are percentages and numbers take the locale's decimal separator;
    columns are two spaces apart, numbers right-aligned, so no two heads run together.
    """
    import pandas as pd

    heads = _columns()
    shares = ("share_of_best", "mean_overlap", "max_overlap", "workload", "fraction")
    cols: list[tuple[str, list[str], bool]] = []
    for col in frame.columns:
        values = frame[col]
        numeric = True
        if str(col).endswith("share") or col in shares:
            places = 0 if col == "fraction" else 1
            text = [
                "" if pd.isna(v) else i18n.format_percent(float(v), decimals=places) for v in values
            ]
        elif pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
            text = [i18n.format_number(int(v)) for v in values]
        elif pd.api.types.is_float_dtype(values):
            top = float(values.abs().max()) if values.notna().any() else 0.0
            # small quantities (risk sums below 1) keep three digits, not a row of 0.0
            decimals = 1 if top >= 10 else 2 if top >= 1 else 3
            decimals = 3 if col in ("km", "pai", "pei_star", "hit_rate") else decimals
            decimals = 2 if col == "workload_ratio" else decimals
            text = [
                "" if pd.isna(v) else i18n.format_number(float(v), decimals=decimals)
                for v in values
            ]
        else:
            # the summary's last row totals every officer
            total = pgettext("row", "all")
            text = ["" if v is None else total if v == "all" else str(v) for v in values]
            numeric = all(
                t.replace(".", "", 1).isdigit()
                for t, v in zip(text, values, strict=True)
                if v not in ("all", None)
            )
        cols.append((heads.get(str(col), str(col)), text, numeric))
    return _layout(cols)


def _layout(cols: list[tuple[str, list[str], bool]]) -> str:
    """Lay out ``(head, cells, numeric)`` columns: heads on at most two lines, two spaces apart."""
    tops, bottoms, widths = [], [], []
    for head, cells, _numeric in cols:
        width = max((len(c) for c in cells), default=0)
        top, bottom = "", head
        if len(head) > width and " " in head:
            # split at the space nearest the middle: the two halves as even as the words allow
            cut = min(
                (i for i, ch in enumerate(head) if ch == " "),
                key=lambda i: max(i, len(head) - i - 1),
            )
            top, bottom = head[:cut], head[cut + 1 :]
        tops.append(top)
        bottoms.append(bottom)
        widths.append(max(width, len(top), len(bottom)))

    def line(parts: list[str]) -> str:
        cells = [
            p.rjust(w) if numeric else p.ljust(w)
            for p, w, (_h, _c, numeric) in zip(parts, widths, cols, strict=True)
        ]
        return "  ".join(cells).rstrip()

    lines = [line(tops)] if any(tops) else []
    lines.append(line(bottoms))
    rows = max((len(c) for _h, c, _n in cols), default=0)
    lines.extend(line([c[i] for _h, c, _n in cols]) for i in range(rows))
    return "\n".join(lines)


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
Verbose = Annotated[
    int,
    typer.Option(
        "--verbose", "-v", count=True, help="Log every step; -vv also the details (DEBUG)."
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Log warnings only.")]
Lang = Annotated[str | None, typer.Option(help=option_help("lang"))]
Incidents = Annotated[
    str | None,
    typer.Option(
        help="Crime incidents: CSV, XLSX, GeoJSON, Esri JSON (a file or a folder of pages), "
        "GPKG, Parquet, Shapefile, or a postgresql:// table."
    ),
]
Osm = Annotated[
    Path | None, typer.Option(help="Local OSM extract: .osm, .osm.bz2, .osm.pbf, .graphml.")
]
Config = Annotated[
    Path | None, typer.Option(help="District TOML file; options given here override it.")
]
Posts = Annotated[list[str] | None, typer.Option(help="Post as lat,lon; repeat for several.")]
Preset = Annotated[
    str | None,
    typer.Option(help="Column preset of the incident files given here (see the README)."),
]
Columns = Annotated[
    str | None, typer.Option(help="Column mapping, e.g. lat=Y,lon=X,datetime=Date.")
]
Crs = Annotated[
    str | None,
    typer.Option(help="CRS of the coordinates, e.g. EPSG:32642; 'local' for a local grid."),
]
DatetimeFormat = Annotated[
    str | None,
    typer.Option(help="Date format of the incident files, e.g. %d.%m.%Y %H:%M [decided per file]."),
]
Dayfirst = Annotated[
    bool | None,
    typer.Option(
        "--dayfirst/--monthfirst",
        help="Read a/b/yyyy dates day first (01/03 = 1 March) or month first "
        "[decided per file from the rows].",
    ),
]
# The flags several commands share, each the PlanOptions field of the same name.
Start = Annotated[str | None, _flag("start")]
Shift = Annotated[str | None, _flag("shift")]
Date = Annotated[str | None, _flag("date")]
Days = Annotated[int | None, _flag("days")]
Tz = Annotated[str | None, _flag("tz")]
Accidents = Annotated[str | None, typer.Option(help="Traffic accidents layer.")]
Juvenile = Annotated[str | None, typer.Option(help="Juvenile offences layer.")]
# evaluate and backtest: None follows standard error (a bar on a terminal, else log lines)
ProgressFlag = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress bar with time left: --progress always, --no-progress never; "
        "default a bar on a terminal, else a few log lines.",
    ),
]


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
    """Write a computed plan and print its summary."""
    from patrolplan import plan as _plan

    files = _plan.write_plan(plan, out, pdf=pdf, offline=offline)
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


def _solver_status(status: str) -> str:
    """Return the covering solver's status (``optimal`` or another CBC status) for people."""
    known = {"optimal": pgettext("solver", "optimal"), "feasible": pgettext("solver", "feasible")}
    return known.get(status.lower(), status)


def _posts(values: list[str] | None) -> list[tuple[float, float]] | None:
    if not values:
        return None
    from patrolplan.routing import parse_post

    return [parse_post(v) for v in values]


def _columns_arg(spec: str | None) -> dict[str, str] | None:
    if not spec:
        return None
    from patrolplan.ingest import parse_columns

    return parse_columns(spec)


@app.command()
@command
def plan(
    incidents: Incidents = None,
    osm: Osm = None,
    post: Posts = None,
    config: Config = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("plan"),
    accidents: Accidents = None,
    juvenile: Juvenile = None,
    preset: Preset = None,
    officers: Annotated[int | None, _flag("officers")] = None,
    shift: Shift = None,
    start: Start = None,
    date: Date = None,
    days: Days = None,
    since: Annotated[str | None, _flag("since")] = None,
    tz: Tz = None,
    seed: Annotated[int | None, _flag("seed")] = None,
    dwell_min: Annotated[float | None, _flag("dwell_min")] = None,
    speed_kmh: Annotated[float | None, _flag("speed_kmh")] = None,
    columns: Columns = None,
    crs: Crs = None,
    datetime_format: DatetimeFormat = None,
    dayfirst: Dayfirst = None,
    method: Annotated[str | None, _flag("method")] = None,
    half_life_days: Annotated[float | None, _flag("half_life_days")] = None,
    hotspot_size_m: Annotated[float | None, _flag("hotspot_size_m")] = None,
    max_hotspots: Annotated[int | None, _flag("max_hotspots")] = None,
    max_segments: Annotated[int | None, _flag("max_segments")] = None,
    iterations: Annotated[int | None, _flag("iterations")] = None,
    revisit: Annotated[str | None, _flag("revisit")] = None,
    max_visits: Annotated[int | None, _flag("max_visits")] = None,
    revisit_value: Annotated[float | None, _flag("revisit_value")] = None,
    end: Annotated[
        list[str] | None, typer.Option(help="Open routes: end point lat,lon, repeat like --post.")
    ] = None,
    variants: Annotated[int | None, _flag("variants")] = None,
    day: Annotated[int | None, _flag("day")] = None,
    areas: Annotated[
        Path | None,
        typer.Option(
            help="Patrol areas (from patrolplan areas), one per officer, given by the posts."
        ),
    ] = None,
    to_db: Annotated[
        str | None,
        typer.Option(
            help="Also store the plan in PostGIS: postgresql://USER@HOST:PORT/DB (see the README)."
        ),
    ] = None,
    lang: Lang = None,
    pdf: Pdf = False,
    offline: Offline = True,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Plan foot-patrol routes for one shift and write map, GeoJSON, sheets and timetable."""
    from patrolplan import plan as _plan

    request = _request(
        config,
        incidents=incidents,
        accidents=accidents,
        juvenile=juvenile,
        osm=osm,
        posts=_posts(post),
        ends=_posts(end),
        areas=areas,
        preset=preset,
        columns=_columns_arg(columns),
        crs=crs,
        datetime_format=datetime_format,
        dayfirst=dayfirst,
        **_options(locals()),
    )
    request.require()
    _check_out(out, request.options, pdf=pdf)
    result = _plan.make_plan(request)
    _write(result, out, pdf=pdf, offline=offline)
    district = _DISTRICTS.get(config) if config is not None else None
    to_db = to_db if to_db is not None else district.db if district is not None else None
    if to_db is not None:
        from patrolplan import store
        from patrolplan._url import redact

        plan_id = store.write_plan(result, to_db, district=request.name)
        typer.echo(_("Stored plan {id} in {url}").format(id=plan_id, url=redact(to_db)))


@app.command()
@command
def backtest(
    incidents: Incidents = None,
    osm: Annotated[
        Path | None,
        typer.Option(
            help="OSM extract: also score street segments by length; only incidents in it count."
        ),
    ] = None,
    config: Config = None,
    preset: Preset = None,
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
    shift: Annotated[str | None, typer.Option(help="Shift length with --start [4h].")] = None,
    columns: Columns = None,
    crs: Crs = None,
    tz: Tz = None,
    datetime_format: DatetimeFormat = None,
    dayfirst: Dayfirst = None,
    out: Annotated[Path, typer.Option(help="CSV of every window's results.")] = Path(
        "backtest.csv"
    ),
    seed: Annotated[int, typer.Option(min=0, help="Seed of the random baseline.")] = 0,
    progress: ProgressFlag = None,
    lang: Lang = None,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Backtest hotspot methods on rolling windows: hit rate, PAI and PEI* vs baselines."""
    from patrolplan import backtest as bt
    from patrolplan import export, hotspots, pipeline

    request = _request(
        config,
        incidents=incidents,
        osm=osm,
        preset=preset,
        columns=_columns_arg(columns),
        crs=crs,
        datetime_format=datetime_format,
        dayfirst=dayfirst,
        tz=tz,
        start=start,
        shift=shift,
    )
    request.require(osm=False, posts=False)
    data = pipeline.load(request, posts=False, window=False)
    gdf = data.gdf_incidents
    shift_h: tuple[float | None, float | None] = (None, None)
    if start is not None:
        shift_h = pipeline.shift_hours(request.options, data.t0)
    auto = hotspots.auto_params(gdf)
    # the derived training window leaves room for the test windows asked
    fit = bt.fit_windows(
        gdf,
        test_days=test_days,
        windows=windows,
        train_days=train_days,
        preferred_train_days=auto.train_days,
    )
    train = fit.train_days
    cell_m = cell or auto.cell_m
    results = bt.run(
        gdf,
        G=data.G,
        train_days=train,
        test_days=test_days,
        max_windows=fit.windows,
        cell_m=cell_m,
        half_life_days=auto.half_life_days,
        shift_start_hour=shift_h[0],
        shift_length_h=shift_h[1],
        seed=seed,
        progress=progress,
    )
    if results.empty:
        msg = _(
            "{file}: no backtest window: {train} training days and {test} test days "
            "do not fit in the data's span"
        ).format(
            file=", ".join(str(f) for f in request.files.values()), train=train, test=test_days
        )
        raise PatrolPlanError(msg)
    export.write_csv(out, results)
    for report in data.reports:
        typer.echo(report.summary())
    if fit.note:
        typer.echo(fit.note)
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
@command
def evaluate(
    date_from: Annotated[str, typer.Option("--from", help="First test day, YYYY-MM-DD.")],
    date_to: Annotated[str, typer.Option("--to", help="Last test day, YYYY-MM-DD.")],
    incidents: Incidents = None,
    osm: Osm = None,
    post: Posts = None,
    config: Config = None,
    preset: Preset = None,
    every: Annotated[int, typer.Option(min=1, help="Test every N-th day.")] = 1,
    start: Annotated[
        str | None, typer.Option(help="Shift start(s), HH:MM; 10:00,18:00 for two a day [18:00].")
    ] = None,
    shift: Shift = None,
    officers: Annotated[int | None, _flag("officers")] = None,
    history_days: Annotated[
        int, typer.Option(min=1, help="Days of history each replayed plan may use.")
    ] = 90,
    method: Annotated[str | None, _flag("method")] = None,
    dwell_min: Annotated[float | None, _flag("dwell_min")] = None,
    speed_kmh: Annotated[float | None, _flag("speed_kmh")] = None,
    count_days: Annotated[
        str, typer.Option(help="Last-period count baselines, days, e.g. 7,28.")
    ] = "28",
    random_walks: Annotated[
        int, typer.Option("--random", min=0, help="Random walks per officer and shift.")
    ] = 5,
    columns: Columns = None,
    crs: Crs = None,
    tz: Tz = None,
    datetime_format: DatetimeFormat = None,
    dayfirst: Dayfirst = None,
    seed: Annotated[int | None, _flag("seed")] = None,
    iterations: Annotated[int | None, _flag("iterations")] = None,
    out: Annotated[Path, typer.Option(help="CSV of every shift and method.")] = Path(
        "evaluate.csv"
    ),
    progress: ProgressFlag = None,
    lang: Lang = None,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Replay the plan on past shifts: incidents it would have caught vs simpler plans."""
    from patrolplan import evaluate as ev
    from patrolplan import export
    from patrolplan.options import parse_date
    from patrolplan.utils import atomic_dir, check_output_dir

    values = _options(locals())
    values.pop("start", None)
    counts = _evaluate_args(every, history_days, count_days, random_walks)
    request = _request(
        config,
        incidents=incidents,
        osm=osm,
        posts=_posts(post),
        preset=preset,
        columns=_columns_arg(columns),
        crs=crs,
        datetime_format=datetime_format,
        dayfirst=dayfirst,
        **values,
    )
    request.require()
    parse_date(date_from, what="from")
    parse_date(date_to, what="to")
    # both CSV files follow the output rules of a plan folder: a file patrolplan did not
    # write (the user's own summary) is refused now, before the replay, not overwritten
    summary_name = f"{out.stem}_summary.csv"
    if out.name in ("", ".", "..") or out.is_dir():
        msg = _("`out` {file} is a folder; give a file name such as evaluate.csv").format(file=out)
        raise PatrolPlanError(msg)
    check_output_dir(out.parent, names=[out.name, summary_name])
    district = _DISTRICTS.get(config) if config is not None else None
    if start is None:
        start = (
            request.options.start if district is not None and "start" in district.plan else "18:00"
        )
    result = ev.replay_request(
        request,
        date_from=date_from,
        date_to=date_to,
        every=every,
        start=start,
        history_days=history_days,
        count_days=counts,
        n_random=random_walks,
        progress=progress,
    )
    with atomic_dir(out.parent, shared=True) as tmp:
        export.write_csv(tmp / out.name, result.per_shift)
        export.write_csv(tmp / summary_name, result.table)
    for report in result.reports:
        typer.echo(report.summary())
    typer.echo("")
    typer.echo(ev.format_table(result.table))
    typer.echo("\n" + _("Wrote {file} and {summary}").format(file=out, summary=summary_name))


def _evaluate_args(
    every: int, history_days: int, count_days: str, n_random: int
) -> tuple[int, ...]:
    """Check the evaluate command's own numbers before anything is read; return the counts."""
    from patrolplan import evaluate as ev

    try:
        counts = tuple(int(v) for v in count_days.split(","))
    except ValueError:
        msg = _("`count-days` must be whole days such as 7,28; got {value!r}").format(
            value=count_days
        )
        raise PatrolPlanError(msg) from None
    ev.check_replay_args(every, history_days, counts, n_random)
    return counts


def _risk(request: PlanRequest, out: Path) -> Any:
    """Read a district's incidents and graph, weighted as a plan would, for posts and areas."""
    from patrolplan import pipeline
    from patrolplan.utils import check_output_dir

    request.require(posts=False)
    check_output_dir(out)
    data = pipeline.risk(request)
    for report in data.reports:
        typer.echo(report.summary())
    typer.echo("")
    return data


def _minutes(text: str, what: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        msg = _("`{what}` must be minutes such as 5,10,15; got {value!r}").format(
            what=what, value=text
        )
        raise PatrolPlanError(msg) from None
    return values


@app.command()
@command
def posts(
    incidents: Incidents = None,
    osm: Osm = None,
    post: Annotated[
        list[str] | None, typer.Option(help="Current post as lat,lon; repeat for several.")
    ] = None,
    config: Config = None,
    preset: Preset = None,
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
    tz: Tz = None,
    speed_kmh: Annotated[float | None, _flag("speed_kmh")] = None,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("posts"),
    offline: Offline = True,
    lang: Lang = None,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Evaluate the posts (risk within 5/10/15 minutes' walk) and propose K new sites (MCLP)."""
    from patrolplan import posts as pp_posts
    from patrolplan.utils import check_input_file

    limits = _minutes(minutes, "minutes")
    if candidates is not None:
        # checked now: the sites are read only after the risk, minutes later
        check_input_file(candidates, what=_("candidates file"))
    request = _request(
        config,
        incidents=incidents,
        osm=osm,
        posts=_posts(post),
        preset=preset,
        **_options(locals()),
    )
    data = _risk(request, out)
    current = list(request.posts)
    speed = request.options.speed_kmh
    cov = pp_posts.evaluate_posts(data.G, data.risk, current, walk_min=limits, speed_kmh=speed)
    prop = pp_posts.propose_posts(
        data.G,
        data.risk,
        k=k,
        existing=current,
        walk_min=walk_min,
        speed_kmh=speed,
        candidates=candidates,
        cell_m=cell,
    )
    files_written = pp_posts.write_posts(out, data.G, data.risk, cov, prop, offline=offline)
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
            minutes=i18n.format_number(walk_min, decimals=0 if walk_min == int(walk_min) else 1),
            before=i18n.format_percent(prop.before_share),
            after=i18n.format_percent(prop.after_share),
            status=_solver_status(sol.status),
            gap=i18n.format_percent(sol.gap, decimals=2),
            candidates=i18n.format_number(prop.n_candidates),
        )
    )
    typer.echo(_wrote(files_written, out))


@app.command()
@command
def areas(
    officers: Annotated[int, typer.Option(min=1, help="Patrol areas, one per officer.")],
    incidents: Incidents = None,
    osm: Osm = None,
    config: Config = None,
    preset: Preset = None,
    cell: Annotated[float, typer.Option(min=50, help="Grid cell of the units, metres.")] = 200.0,
    start: Start = None,
    shift: Shift = None,
    date: Date = None,
    days: Days = None,
    tz: Tz = None,
    seed: Annotated[int, typer.Option(min=0, help=option_help("seed"))] = 0,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("areas"),
    offline: Offline = True,
    lang: Lang = None,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Split the district into contiguous patrol areas balanced by workload."""
    from patrolplan import areas as pp_areas

    values = _options(locals())
    # the areas' number and seed are this command's own, not the plan's
    values.pop("officers", None)
    values.pop("seed", None)
    request = _request(config, incidents=incidents, osm=osm, preset=preset, **values)
    data = _risk(request, out)
    parts = pp_areas.partition(data.G, data.risk, officers=officers, cell_m=cell, seed=seed)
    written = pp_areas.write_areas(out, data.G, parts, offline=offline)
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
@command
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
    to_db: Annotated[
        str | None,
        typer.Option(help="Also store every plan in PostGIS [each district file's [output] db]."),
    ] = None,
    lang: Lang = None,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Plan every district file in a folder for every shift, on Dask distributed."""
    try:
        from patrolplan import batch as _batch
    except ImportError as exc:
        raise _fail(exc) from None
    try:
        result = _batch.run(
            districts_dir,
            date=date,
            shifts=_batch.parse_shifts(shifts),
            out=out,
            scheduler=scheduler,
            workers=workers,
            progress=progress,
            to_db=to_db,
        )
    except ImportError as exc:
        raise _fail(exc) from None
    typer.echo(result.summary())
    typer.echo("\n" + _("Wrote {file}").format(file=result.report))
    if not result.ok:
        raise typer.Exit(code=1)


@app.command()
@command
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("plan"),
    officers: Annotated[
        int, typer.Option(min=1, help="Officers on foot.")
    ] = datasets.DEMO_OFFICERS,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = 0,
    lang: Lang = None,
    pdf: Pdf = False,
    offline: Offline = True,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Plan the Baltimore demo shift (19 June 2016, 18:00-22:00, two posts) from data/."""
    from patrolplan import plan as _plan

    request = _request(
        None,
        incidents=datasets.baltimore_crimes(),
        osm=datasets.baltimore_osm(),
        posts=list(datasets.DEMO_POSTS),
        officers=officers,
        shift=f"{datasets.DEMO_SHIFT_HOURS:g}h",
        start=datasets.DEMO_SHIFT_START,
        date=datasets.DEMO_DATE,
        seed=seed,
        lang=i18n.get_language(),
    )
    _check_out(out, request.options, pdf=pdf)
    _write(_plan.make_plan(request), out, pdf=pdf, offline=offline)


@app.command()
@command
def fetch(
    url: Annotated[
        str,
        typer.Argument(
            help="ArcGIS REST layer, e.g. https://gis.kgp.kz/arcgis/rest/services/KPSSU/DTP/"
            "FeatureServer/0"
        ),
    ],
    out: Annotated[Path, typer.Option(help="Output file (Esri JSON, EPSG:4326).")],
    where: Annotated[str, typer.Option(help="SQL filter of the query.")] = "1=1",
    page_size: Annotated[
        int | None, typer.Option(min=1, help="Features per request [the layer's maxRecordCount].")
    ] = None,
    retries: Annotated[int, typer.Option(min=0, help="Retries of a failed request.")] = 5,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Progress bar on a terminal.")
    ] = True,
    lang: Lang = None,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Download one ArcGIS REST layer (the КПСиСУ maps) to a file; it needs the network."""
    from patrolplan import fetch as _fetch

    report = _fetch.fetch_layer(
        url, out=out, where=where, page_size=page_size, retries=retries, progress=progress
    )
    typer.echo(
        _("Fetched {n} features in {pages} pages ({resumed} resumed) to {out}").format(
            n=i18n.format_number(report.features),
            pages=i18n.format_number(report.pages),
            resumed=i18n.format_number(report.pages_resumed),
            out=report.out,
        )
    )


@app.command()
@command
def check(
    incidents: Incidents = None,
    osm: Osm = None,
    post: Posts = None,
    config: Config = None,
    accidents: Accidents = None,
    juvenile: Juvenile = None,
    preset: Preset = None,
    start: Start = None,
    date: Date = None,
    days: Days = None,
    since: Annotated[str | None, _flag("since")] = None,
    tz: Tz = None,
    columns: Columns = None,
    crs: Crs = None,
    datetime_format: DatetimeFormat = None,
    dayfirst: Dayfirst = None,
    end: Annotated[
        list[str] | None, typer.Option(help="Open routes: end point lat,lon, repeat like --post.")
    ] = None,
    lang: Lang = None,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    """Check the inputs of a plan without planning: columns, rows, dates, extract, posts."""
    from patrolplan import check as _check

    request = _request(
        config,
        incidents=incidents,
        accidents=accidents,
        juvenile=juvenile,
        osm=osm,
        posts=_posts(post),
        ends=_posts(end),
        preset=preset,
        columns=_columns_arg(columns),
        crs=crs,
        datetime_format=datetime_format,
        dayfirst=dayfirst,
        **_options(locals()),
    )
    report = _check.check(request)
    for line in report.lines():
        typer.echo(line)
    if not report.ok:
        raise typer.Exit(code=1)


if __name__ == "__main__":  # pragma: no cover
    app()
