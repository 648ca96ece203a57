"""Options of a daily plan: one frozen dataclass shared by the library, the CLI and district files.

:class:`PlanOptions` holds every knob of :func:`patrolplan.plan.daily_plan` with its default and
its help text, so the command line (``patrolplan plan --officers 3``), a district file
(``[plan] officers = 3``) and Python (``PlanOptions(officers=3)``) accept the same names, the
same types and the same defaults. A field that is ``None`` takes its value from
:mod:`patrolplan.settings` when the plan runs. Every value is checked when the options are made,
before any data is read, and a wrong one raises :class:`~patrolplan.InputDataError` naming the
option, what was expected and what came.

The parsers of durations, shift starts, dates and revisit intervals live here too.

Examples
--------
>>> opts = PlanOptions(officers=3, shift="4h", start="18:00", date="2016-06-19")
>>> opts.shifts_min, opts.shift_start()
((240.0,), Timestamp('2016-06-19 18:00:00'))
>>> PlanOptions.from_mapping({"officers": "3"}, source="district.toml")
Traceback (most recent call last):
...
patrolplan._errors.InputDataError: district.toml: `officers` must be a whole number, got '3' (str)
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from patrolplan import settings
from patrolplan._errors import InputDataError
from patrolplan.i18n import LANGS, N_, _
from patrolplan.methods import HOTSPOT_METHODS

if TYPE_CHECKING:
    import pandas as pd

#: Hotspot methods a plan can use: ``auto`` and :data:`patrolplan.methods.HOTSPOT_METHODS`.
METHODS = ("auto", *HOTSPOT_METHODS)

#: Most officers one plan may have: beyond this a request is refused up front (a district
#: splits its force into several plans, one per post group, instead).
MAX_OFFICERS = 500

#: Plan dates are limited to this range (pandas timestamps end in April 2262).
DATE_RANGE = (_dt.date(1900, 1, 1), _dt.date(2199, 12, 31))


def _opt(default: Any, text: str, kind: str) -> Any:
    return field(default=default, metadata={"help": text, "kind": kind})


@dataclass(frozen=True)
class PlanOptions:
    """Every option of a daily plan, checked on creation.

    Attributes
    ----------
    officers
        Officers on foot; assigned to the posts in turn.
    shift
        Shift length (``"4h"``, ``"90m"``, ``"3h30m"``, ``"4:30"``, minutes), or one per
        officer (``"4h,4h,2h"``).
    start
        Shift start, ``HH:MM``.
    date
        Plan date ``YYYY-MM-DD``; incidents from the shift start on are never used. None: today.
    days
        Use only the last `days` days of incidents.
    since
        Use only incidents from this date on, ``YYYY-MM-DD``.
    tz
        Time zone of the district (IANA name such as ``Asia/Almaty``): times with a UTC offset
        are converted to it; times without one are taken as local. None: as written.
    seed
        Seed of every random step; the same inputs and seed give the same files.
    dwell_min
        Minutes at each hotspot.
    speed_kmh
        Walking speed.
    method
        Hotspot method: ``auto`` (a rolling backtest on the district's own history, in the
        shift's hours, picks one), ``dbscan``, ``peaks`` or ``hdbscan``.
    hotspot_size_m
        Largest hotspot, metres across.
    eps_m, min_weight
        Clustering radius and least weight of a cluster core.
    max_hotspots
        Top hotspots offered to the route solver.
    max_segments
        Riskiest streets outside hotspots offered as walk-along tasks; 0 for none.
    half_life_days
        Recency half-life of incident weights.
    iterations
        Route-search iterations (the deterministic budget).
    variants
        Plan this many diverse alternatives (``variants.csv``).
    day
        Rotation day 1-7: plan 7 variants and use this one.
    tolerance
        Largest share of risk a variant may lose against the best plan.
    revisit
        Let a hotspot be visited again this many minutes later (``"60"``, ``"1h"``), or within a
        range (``"60-150"``).
    max_visits
        Most visits per hotspot with `revisit`.
    revisit_value
        Share of a hotspot's risk a revisit is worth.
    lang
        Language of the map, the route sheets, GPX/KML texts and the timetable's label
        columns (``en``, ``ru``, ``kk``); data keys stay English.
    """

    officers: int = _opt(1, "Officers on foot, assigned to the posts in turn.", "int")
    shift: str = _opt(
        "4h", "Shift length: 4h, 90m, 3h30m, 4:30 or minutes; or one per officer: 4h,4h,2h.", "dur"
    )
    start: str = _opt("08:00", "Shift start, HH:MM.", "time")
    date: str | None = _opt(None, "Plan date YYYY-MM-DD (default: today).", "date")
    days: int | None = _opt(None, "Use only the last N days of incidents.", "int")
    since: str | None = _opt(None, "Use only incidents from this date on, YYYY-MM-DD.", "date")
    tz: str | None = _opt(
        None,
        "District time zone, e.g. Asia/Almaty: times with a UTC offset are converted to it.",
        "str",
    )
    seed: int | None = _opt(None, "Seed; the same inputs and seed give the same files.", "int")
    dwell_min: float | None = _opt(None, "Minutes at each hotspot.", "float")
    speed_kmh: float | None = _opt(None, "Walking speed, km/h.", "float")
    method: str = _opt(
        "auto",
        "Hotspot method: auto (the one the district's own history predicted best), "
        + ", ".join(HOTSPOT_METHODS)
        + ".",
        "str",
    )
    hotspot_size_m: float | None = _opt(None, "Largest hotspot, metres across.", "float")
    eps_m: float | None = _opt(None, "Clustering radius, metres.", "float")
    min_weight: float | None = _opt(None, "Least weight of a cluster core.", "float")
    max_hotspots: int | None = _opt(None, "Top hotspots offered to the route solver.", "int")
    max_segments: int | None = _opt(
        None, "Riskiest streets outside hotspots offered as walk-along tasks; 0 for none.", "int"
    )
    half_life_days: float | None = _opt(
        None, "Recency half-life of incident weights, days.", "float"
    )
    iterations: int | None = _opt(None, "Route-search iterations (deterministic budget).", "int")
    variants: int = _opt(1, "Also plan K diverse alternatives (variants.csv/.geojson).", "int")
    day: int | None = _opt(None, "Rotation day 1-7: plan 7 variants and use this one.", "int")
    tolerance: float = _opt(0.05, "Largest share of risk a variant may lose.", "float")
    revisit: str | None = _opt(
        None,
        "Let a hotspot be visited again when the visits start at least this far apart: "
        "60, 1h, or a range 60-150.",
        "revisit",
    )
    max_visits: int = _opt(2, "Most visits per hotspot with --revisit.", "int")
    revisit_value: float | None = _opt(
        None, "Share of a hotspot's risk a revisit is worth.", "float"
    )
    lang: str = _opt("en", "Language of the map and route sheets: " + ", ".join(LANGS) + ".", "str")

    def __post_init__(self) -> None:
        """Check every value; raise one :class:`InputDataError` naming the first wrong one."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            fixed = _check_type(f.name, f.metadata["kind"], value, source=None)
            if fixed is not value:
                object.__setattr__(self, f.name, fixed)
        self._check_ranges()

    def _check_ranges(self) -> None:
        limits: dict[str, tuple[float, float]] = {
            "officers": (1, MAX_OFFICERS),
            "days": (1, 365 * 200),
            "seed": (0, 2**63 - 1),
            "dwell_min": (0, 24 * 60),
            "speed_kmh": (0.5, 30),
            "hotspot_size_m": (10, 5000),
            "eps_m": (1, 5000),
            "min_weight": (0, 1e9),
            "max_hotspots": (1, 5000),
            "max_segments": (0, 5000),
            "half_life_days": (0.1, 365 * 100),
            "iterations": (1, 10_000_000),
            "variants": (1, 50),
            "day": (1, 7),
            "tolerance": (0, 1),
            "max_visits": (1, 10),
            "revisit_value": (1e-9, 1),
        }
        for name, (lo, hi) in limits.items():
            value = getattr(self, name)
            if value is not None and not lo <= value <= hi:
                if math.isinf(hi):
                    template = _("`{name}` must be at least {lo:g}, got {value:g}")
                else:
                    template = _(
                        "`{name}` must be at least {lo:g} and at most {hi:g}, got {value:g}"
                    )
                msg = template.format(name=name, lo=lo, hi=hi, value=_Shown(value))
                raise InputDataError(msg)
        if self.lang not in LANGS:
            msg = _("`lang` must be one of {choices}; got {value!r}").format(
                choices=", ".join(LANGS), value=self.lang
            )
            raise InputDataError(msg)
        if self.method not in METHODS:
            msg = _("`method` must be one of {choices}; got {value!r}").format(
                choices=", ".join(METHODS), value=self.method
            )
            raise InputDataError(msg)
        shifts = self.shifts_min
        if len(shifts) not in (1, self.officers):
            msg = _("`shift` gives {n} lengths for {officers} officers").format(
                n=len(shifts), officers=self.officers
            )
            raise InputDataError(msg)
        if max(shifts) > 24 * 60:
            msg = _("`shift` must be at most 24h, got {value!r}").format(value=self.shift)
            raise InputDataError(msg)
        parse_revisit(self.revisit)
        self.shift_start()
        if self.since is not None:
            parse_date(self.since, what="since")
        if self.tz is not None:
            _check_tz(self.tz)

    @property
    def shifts_min(self) -> tuple[float, ...]:
        """Shift length per officer (one value when all are equal), minutes."""
        return tuple(parse_duration_min(v) for v in str(self.shift).split(","))

    def shift_start(self) -> pd.Timestamp:
        """Date and time the shift starts (today when `date` is None)."""
        import pandas as pd

        day = parse_date(self.date, what="date") if self.date else _dt.date.today()
        h, m = parse_clock(self.start)
        return pd.Timestamp(day) + pd.Timedelta(hours=h, minutes=m)

    def resolved(self) -> dict[str, Any]:
        """Every option with the defaults of :mod:`patrolplan.settings` filled in, for the record.

        Returns
        -------
        dict
            Option name -> value (JSON-ready).
        """
        defaults = {
            "seed": settings.seed,
            "dwell_min": settings.dwell_min,
            "speed_kmh": settings.walk_speed_kmh,
            "eps_m": settings.hotspot_eps_m,
            "min_weight": settings.hotspot_min_weight,
            "max_hotspots": settings.max_hotspots,
            "max_segments": settings.max_segments,
            "half_life_days": settings.half_life_days,
            "iterations": settings.solver_iterations,
            "revisit_value": settings.revisit_value,
            "hotspot_size_m": settings.hotspot_size_m,
        }
        out = dataclasses.asdict(self)
        for key, value in defaults.items():
            if out[key] is None:
                out[key] = value
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str | None = None) -> PlanOptions:
        """Make options from a mapping (a district file's ``[plan]``, or CLI values).

        Unlike the constructor, this accepts TOML's own dates and times (``date = 2016-06-19``,
        ``start = 18:00:00``) and lists for `revisit`, and names `source` in its errors.

        Parameters
        ----------
        data
            Option name -> value.
        source
            Where the values come from, for error messages (a file name).

        Returns
        -------
        PlanOptions
            The checked options.

        Raises
        ------
        InputDataError
            On an unknown name, a wrong type or a value out of range.
        """
        known = {f.name: f for f in dataclasses.fields(cls)}
        where = f"{source}: " if source else ""
        unknown = sorted(set(data) - set(known))
        if unknown:
            msg = where + _("unknown options {unknown}; known: {known}").format(
                unknown=unknown, known=sorted(known)
            )
            raise InputDataError(msg)
        # None means "the default", as when the option is not given
        values: dict[str, Any] = {
            key: _check_type(key, known[key].metadata["kind"], value, source)
            for key, value in data.items()
            if value is not None
        }
        try:
            return cls(**values)
        except InputDataError as exc:
            raise InputDataError(f"{where}{exc}") from None


def option_help(name: str) -> str:
    """Return the help text of option `name` with its default, for the command line.

    Parameters
    ----------
    name
        A :class:`PlanOptions` field.

    Returns
    -------
    str
        Help text ending with ``[default]``.

    Examples
    --------
    >>> option_help("officers")
    'Officers on foot, assigned to the posts in turn. [1]'
    """
    f = {f.name: f for f in dataclasses.fields(PlanOptions)}[name]
    default = f.default
    if default is None:
        default = _SETTING_DEFAULTS.get(name, "off")
    shown = default() if callable(default) else default
    if shown == _FROM_DATA:
        # derived when the plan runs: no number stands for it (rich would read "[...]" as markup)
        return f"{f.metadata['help']} (default: from the data)"
    return f"{f.metadata['help']} [{shown}]"


_FROM_DATA = "from the data"


_SETTING_DEFAULTS: dict[str, Any] = {
    "seed": lambda: settings.seed,
    "dwell_min": lambda: f"{settings.dwell_min:g}",
    "speed_kmh": lambda: f"{settings.walk_speed_kmh:g}",
    "hotspot_size_m": "from the data",
    "eps_m": "from the data",
    "min_weight": "from the data",
    "max_hotspots": "from the data",
    "max_segments": lambda: settings.max_segments,
    "half_life_days": "from the data",
    "iterations": lambda: settings.solver_iterations,
    "revisit_value": lambda: f"{settings.revisit_value:g}",
    "date": "today",
    "days": "all",
    "since": "all",
    "tz": "as written",
}

# what each kind of option must be, translated where the error is made
_EXPECTED = {
    "int": N_("`{name}` must be a whole number, got {value!r} ({type})"),
    "float": N_("`{name}` must be a number, got {value!r} ({type})"),
    "str": N_("`{name}` must be a text, got {value!r} ({type})"),
    "dur": N_("`{name}` must be a duration text such as '4h' or minutes, got {value!r} ({type})"),
    "time": N_("`{name}` must be a time of day 'HH:MM', got {value!r} ({type})"),
    "date": N_("`{name}` must be a date 'YYYY-MM-DD', got {value!r} ({type})"),
    "revisit": N_(
        "`{name}` must be minutes, a duration such as '1h', or a range such as '60-150', "
        "got {value!r} ({type})"
    ),
}


def _check_type(name: str, kind: str, value: Any, source: str | None) -> Any:
    """Return `value` in the field's own type, or raise naming the option and the type."""
    ok: Any = None
    if kind == "int":
        ok = value if isinstance(value, int) and not isinstance(value, bool) else None
    elif kind == "float":
        try:
            ok = (
                float(value)
                if isinstance(value, int | float) and not isinstance(value, bool)
                else None
            )
        except OverflowError:  # an int beyond any float
            ok = None
        if ok is not None and not math.isfinite(ok):
            ok = None
    elif kind == "str":
        ok = value if isinstance(value, str) else None
    elif kind == "dur":
        if isinstance(value, str):
            ok = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ok = f"{value:g}"
    elif kind == "time":
        if isinstance(value, _dt.time):
            ok = f"{value.hour:02d}:{value.minute:02d}"
        elif isinstance(value, str):
            ok = value
    elif kind == "date":
        if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
            ok = value.isoformat()
        elif isinstance(value, str):
            ok = value
    elif kind == "revisit":
        if isinstance(value, str):
            ok = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            ok = f"{value:g}"
        elif (
            isinstance(value, Sequence)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        ):
            ok = f"{value[0]:g}-{value[1]:g}"
    if ok is None:
        where = f"{source}: " if source else ""
        msg = where + _(_EXPECTED[kind]).format(name=name, value=value, type=type(value).__name__)
        raise InputDataError(msg)
    return value if ok == value and type(ok) is type(value) else ok


def parse_duration_min(text: str | float) -> float:
    """Parse a duration such as ``"4h"``, ``"90m"``, ``"3h30m"``, ``"4:30"`` or ``240``.

    Parameters
    ----------
    text
        A duration; a bare number is minutes.

    Returns
    -------
    float
        Minutes.

    Raises
    ------
    InputDataError
        If the text is not a positive duration.

    Examples
    --------
    >>> parse_duration_min("4h"), parse_duration_min("3h30m"), parse_duration_min("1:15")
    (240.0, 210.0, 75.0)
    """
    s = str(text).strip().lower().replace(" ", "")
    m = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?:in)?)?", s)
    if s and m and any(m.groups()):
        minutes = float(m.group(1) or 0) * 60 + float(m.group(2) or 0)
    elif re.fullmatch(r"\d{1,2}:\d{2}", s):
        h, mm = s.split(":")
        minutes = int(h) * 60.0 + int(mm)
    elif re.fullmatch(r"\d+(?:\.\d+)?", s):
        minutes = float(s)
    else:
        msg = _("`shift` must be a duration like 4h, 90m, 3h30m or 4:30; got {value!r}").format(
            value=text
        )
        raise InputDataError(msg)
    if not 0 < minutes < math.inf:
        msg = _("`shift` must be longer than zero, got {value!r}").format(value=text)
        raise InputDataError(msg)
    return minutes


def parse_revisit(text: str | float | Sequence[float] | None) -> tuple[float, float] | None:
    """Parse a revisit interval: ``"60"`` / ``"1h"`` (at least), or ``"60-120"`` (between).

    Parameters
    ----------
    text
        Minutes, a duration, a ``min-max`` range of durations, a ``(min, max)`` pair, or None.

    Returns
    -------
    tuple of float or None
        ``(min, max)`` minutes between the starts of two visits to one hotspot; ``max`` is
        infinite when not given. None when `text` is None.

    Raises
    ------
    InputDataError
        If the text is not a duration or a range with min <= max.

    Examples
    --------
    >>> parse_revisit("60"), parse_revisit("1h-2h30m")
    ((60.0, inf), (60.0, 150.0))
    """
    if text is None:
        return None
    if not isinstance(text, str | int | float):
        lo, hi = (float(v) for v in text)
    else:
        parts = str(text).replace(" ", "").split("-")
        if len(parts) not in (1, 2) or not all(parts):
            msg = _("`revisit` must be minutes or a range like 60-120, got {value!r}").format(
                value=text
            )
            raise InputDataError(msg)
        try:
            lo = parse_duration_min(parts[0])
            hi = parse_duration_min(parts[1]) if len(parts) == 2 else float("inf")
        except InputDataError:
            msg = _("`revisit` must be minutes or a range like 60-120, got {value!r}").format(
                value=text
            )
            raise InputDataError(msg) from None
    if not 0 < lo <= hi:
        msg = _("`revisit` must be positive with min <= max, got {value!r}").format(value=text)
        raise InputDataError(msg)
    return lo, hi


def parse_clock(text: str) -> tuple[int, int]:
    """Parse a time of day ``HH:MM``.

    Parameters
    ----------
    text
        For example ``"18:00"`` or ``"8:30"``.

    Returns
    -------
    tuple of int
        ``(hour, minute)``.

    Raises
    ------
    InputDataError
        If `text` is not a time of day.
    """
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        msg = _("`start` must be a time of day HH:MM, got {value!r}").format(value=text)
        raise InputDataError(msg)
    return int(m.group(1)), int(m.group(2))


def parse_date(text: str, *, what: str = "date") -> _dt.date:
    """Parse a calendar date written exactly ``YYYY-MM-DD``.

    Other spellings (``10.1.2023``, ``1/10/2023``) are refused, since they read differently
    in different countries.

    Parameters
    ----------
    text
        The date.
    what
        Name of the option, for the error message.

    Returns
    -------
    datetime.date
        The date.

    Raises
    ------
    InputDataError
        If `text` is not ``YYYY-MM-DD`` or lies outside :data:`DATE_RANGE`.

    Examples
    --------
    >>> parse_date("2016-06-19")
    datetime.date(2016, 6, 19)
    """
    s = str(text).strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            raise ValueError(s)
        day = _dt.date.fromisoformat(s)
    except ValueError:
        msg = _("`{name}` must be a date YYYY-MM-DD, got {value!r}").format(name=what, value=text)
        raise InputDataError(msg) from None
    lo, hi = DATE_RANGE
    if not lo <= day <= hi:
        msg = _("`{name}` must lie between {lo} and {hi}, got {value!r}").format(
            name=what, lo=lo, hi=hi, value=text
        )
        raise InputDataError(msg)
    return day


class _Shown:
    """A number for a message: ints of any size as written, floats as ``{:g}`` gives them."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if isinstance(self.value, int):
            text = str(self.value)
            return text if len(text) <= 24 else f"{text[:12]}...({len(text)} digits)"
        return format(self.value, spec)


def _check_tz(name: str) -> None:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name such as "America" is a folder of the time-zone database
        msg = _(
            "`tz` must be an IANA time zone such as Asia/Almaty or Europe/London; got {value!r}"
        ).format(value=name)
        raise InputDataError(msg) from None
