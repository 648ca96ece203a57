"""Presets: how to read the incident files of known public sources.

A :class:`Preset` names the columns of one source (with the alternatives the source has used,
e.g. the UPPER-case fields of an old ArcGIS server and the lower-case ones of the current
one), its severity table, CRS and date reading, and an optional ``prepare`` hook that turns the
raw frame of strings into one ingest can read (epoch-millisecond dates into ISO text, severity
classes computed from casualty counts, rows withdrawn by the source rejected with their own
reason). :data:`PRESETS` is the registry; :func:`get` looks a name up.

A caller applies a preset with ``ingest.read_incidents(path, preset="kpssu_rta")`` (or
``read_layers(files, preset={...})``): the preset's values are defaults that explicit arguments
override, and its hook runs on the raw frame before the columns are mapped.

The КПСиСУ presets (Committee on Legal Statistics of the Prosecutor General's Office of
Kazakhstan):

* ``kpssu_crime`` and ``kpssu_juvenile``: ``DAT_SOVER`` is local wall-clock time written as if
  it were UTC (no zone shift); where no time of day is known, ``TIME_PERIOD`` 1/2/3 makes the
  incident an 8-hour span (00-08, 08-16, 16-24; ``time_precision`` ``"period"``);
  ``HARD_CODE`` 1-4 are the four gravity classes, ``TRANSGRESSION`` 6 (misdemeanour) weighs
  less; rows with ``discontinued = 1`` are rejected as ``discontinued``; the category is the
  article and its name, e.g. ``ст.188 Кража``.
* ``kpssu_rta``: ``rta_date`` is local midnight at a fixed UTC+6 (never converted through
  ``Asia/Almaty``, which moved to UTC+5 in 2024) and ``fd1r05p1`` the ``HH:MM`` time; the class
  and weight come from the killed and injured counts, a pedestrian hit weighing more.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from patrolplan._errors import InputDataError
from patrolplan.i18n import _

#: A prepare hook: raw frame of strings -> (transformed frame, rejections). The rejections
#: frame has the columns ``row`` (the frame's index label), ``column``, ``reason``, ``value``.
Prepare = Callable[[pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]

#: Hidden column a prepare hook fills with the length in hours of the span a timestamp starts
#: (an 8-hour band of the day); ingest gives those rows the ``"period"`` precision.
SPAN_HOURS_COLUMN = "__span_hours"

_REJECT_COLUMNS = ["row", "column", "reason", "value"]


#: Known column names, lower-cased, per role. The first alias found in the file wins. A
#: ``time`` column (time of day) is combined with the ``datetime`` column's date.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "lat": ("latitude", "lat", "y", "point_y", "coord_y", "широта", "ендік"),
    "lon": ("longitude", "lon", "lng", "long", "x", "point_x", "coord_x", "долгота", "бойлық"),
    "datetime": (
        "datetime",
        "date_time",
        "occurred",
        "occurred_at",
        "timestamp",
        "crimedatetime",
        "date",
        "crimedate",
        "arrestdate",
        "incident_date",
        "month",
        "year",
        "дата",
        "дата_совершения",
        "дата_время",
        "күні",
        "уақыты_күні",
    ),
    "time": ("time", "crimetime", "arresttime", "incident_time", "время", "уақыт", "уақыты"),
    "category": (
        "category",
        "crime_type",
        "crime type",
        "offense",
        "offence",
        "incidentoffense",
        "type",
        "description",
        "crime",
        "статья",
        "вид",
        "категория",
        "тяжесть",
        "санат",
        "түрі",
    ),
    "id": (
        "incident_id",
        "id",
        "case_number",
        "crime_id",
        "arrest",
        "crime id",
        "objectid",
        "номер",
        "нөмір",
    ),
    # the column looked up in the severity table instead of the category: only when given
    "severity": (),
}


@dataclass(frozen=True)
class Preset:
    """How to read the incident files of one source.

    Attributes
    ----------
    name
        The registry key, e.g. ``"kpssu_rta"``.
    description
        One line for people.
    columns
        Role -> column names to try, first found wins (case-insensitive after an exact
        match); roles are those of :data:`patrolplan.ingest.COLUMN_ALIASES` plus
        ``severity`` (the column looked up in the severity table instead of the category).
    severity
        Severity class -> weight, or None for the layer's default table.
    crs
        CRS of coordinates when the file itself names none, or None.
    dayfirst, datetime_format
        Date reading, see :func:`patrolplan.ingest.read_incidents`; None: decided there.
    prepare
        Hook run on the raw frame of strings before the columns are mapped, or None.
    keep
        Columns (made by the hook or in the file) copied into the incidents as text.
    """

    name: str
    description: str
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, float] | None = None
    crs: str | None = None
    dayfirst: bool | None = None
    datetime_format: str | None = None
    prepare: Prepare | None = None
    keep: tuple[str, ...] = ()

    def resolve_columns(self, names: Iterable[str]) -> dict[str, str]:
        """Pick, per role, the first alternative present among `names`.

        Parameters
        ----------
        names
            The columns of the frame being read.

        Returns
        -------
        dict
            Role -> column, for the roles with an alternative present.

        Examples
        --------
        >>> PRESETS["kpssu_rta"].resolve_columns(["OBJECTID", "RTA_DATE", "__x", "__y"])["id"]
        'OBJECTID'
        """
        present = [str(n) for n in names]
        lower = {n.lower(): n for n in reversed(present)}
        out: dict[str, str] = {}
        for role, options in self.columns.items():
            for option in options:
                if option in present:
                    out[role] = option
                    break
                if option.lower() in lower:
                    out[role] = lower[option.lower()]
                    break
        return out


def get(name: str) -> Preset:
    """Return the preset called `name`.

    Parameters
    ----------
    name
        A key of :data:`PRESETS`.

    Returns
    -------
    Preset
        The preset.

    Raises
    ------
    InputDataError
        If no preset has that name; the message lists the known ones.

    Examples
    --------
    >>> get("kpssu_crime").crs is None
    True
    """
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        msg = _("unknown preset {preset!r}; known: {known}").format(
            preset=name, known=", ".join(sorted(PRESETS))
        )
        raise InputDataError(msg) from None


# ----------------------------------------------------------------------------------------------
# helpers for the hooks


def _col(df: pd.DataFrame, *names: str) -> str | None:
    """Return the first of `names` present in `df` (exact, then case-insensitive)."""
    lower = {str(c).lower(): str(c) for c in reversed(list(df.columns))}
    for name in names:
        if name in df.columns:
            return name
        if name.lower() in lower:
            return lower[name.lower()]
    return None


def _cells(df: pd.DataFrame, column: str | None) -> pd.Series:
    """Return the column's cells as stripped text ("" for missing), or "" everywhere."""
    if column is None:
        return pd.Series("", index=df.index, dtype=object)
    text = df[column].astype(str).str.strip()
    return text.where(~text.isin({"nan", "NaN", "None", "none", "null", "NULL", "<NA>"}), "")


def _count(values: pd.Series) -> pd.Series:
    """Casualty counts written ``"1.0"``, ``"2"`` or empty (empty: none)."""
    text = values.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").fillna(0.0)


def _epoch_ms(values: pd.Series) -> pd.Series:
    """Epoch milliseconds written as digits (``"1581193800000"``, ``"1.5811938E12"``)."""
    numeric = values.str.fullmatch(r"-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")
    ms = pd.to_numeric(values.where(numeric), errors="coerce")
    # dates between 1900 and 2261 only; anything else is not a millisecond timestamp
    ms = ms.where((ms > -2.2e12) & (ms < 9.2e15))
    return pd.to_datetime(ms.round(), unit="ms", errors="coerce")


_TEXT_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def _text_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ``dd.mm.yyyy[ HH:MM[:SS]]`` or ISO text; return stamps and whether a time was given."""
    stamps = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    timed = pd.Series(False, index=values.index)
    todo = values != ""
    for fmt in _TEXT_FORMATS:
        if not todo.any():
            break
        got = pd.to_datetime(values[todo], format=fmt, errors="coerce")
        hit = got.notna()
        stamps.loc[got.index[hit]] = got[hit].astype("datetime64[ns]")
        timed.loc[got.index[hit]] = "%H" in fmt
        todo.loc[got.index[hit]] = False
    if todo.any():
        try:
            iso = pd.to_datetime(values[todo], format="ISO8601", errors="coerce")
        except (ValueError, TypeError, OverflowError):
            # mixed UTC offsets: read one value at a time
            iso = pd.Series(
                [_one_iso(v) for v in values[todo]], index=values[todo].index, dtype=object
            )
            iso = pd.to_datetime(iso, errors="coerce")
        if isinstance(iso.dtype, pd.DatetimeTZDtype):
            iso = iso.dt.tz_localize(None)
        hit = iso.notna()
        stamps.loc[iso.index[hit]] = iso[hit].astype("datetime64[ns]")
        timed.loc[iso.index[hit]] = values[todo][hit].str.contains(r"\d:\d", regex=True)
    return stamps, timed


def _one_iso(value: str) -> pd.Timestamp | None:
    """Parse one ISO value, dropping its UTC offset (the wall clock as written)."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    return None if pd.isna(stamp) else stamp.tz_localize(None)


def _iso(stamps: pd.Series, with_time: pd.Series) -> pd.Series:
    """ISO text of `stamps`: ``yyyy-mm-dd HH:MM:SS`` where `with_time`, else ``yyyy-mm-dd``."""
    full = stamps.dt.strftime("%Y-%m-%d %H:%M:%S")
    day = stamps.dt.strftime("%Y-%m-%d")
    return full.where(with_time, day).fillna("")


def _rejections(parts: list[tuple[pd.Series, str, str, pd.Series]]) -> pd.DataFrame:
    """Stack (mask, column, reason, values) into one rejections frame, first reason per row."""
    frames = []
    taken: pd.Index = pd.Index([])
    for mask, column, reason, values in parts:
        rows = mask[mask].index.difference(taken, sort=False)
        if len(rows):
            frames.append(
                pd.DataFrame(
                    {
                        "row": rows,
                        "column": column,
                        "reason": reason,
                        "value": values.reindex(rows).astype(str).to_numpy(),
                    }
                )
            )
            taken = taken.append(rows)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _REJECT_COLUMNS})
    return pd.concat(frames, ignore_index=True)[_REJECT_COLUMNS]


# ----------------------------------------------------------------------------------------------
# КПСиСУ crime and juvenile layers

#: Titles of the most frequent articles of the Criminal Code of the Republic of Kazakhstan
#: (2014, in force since 2015-01-01), by the layer's ``CRIME_CODE`` (article x 10). Statutory
#: titles, written from the Code; a fuller list can be loaded with :func:`load_code_list`.
CRIME_ARTICLES: dict[str, str] = {
    "0990": "Убийство",
    "1010": "Убийство, совершенное в состоянии аффекта",
    "1040": "Причинение смерти по неосторожности",
    "1050": "Доведение до самоубийства",
    "1060": "Умышленное причинение тяжкого вреда здоровью",
    "1070": "Умышленное причинение средней тяжести вреда здоровью",
    "1080": "Умышленное причинение легкого вреда здоровью",
    "1090": "Побои",
    "1100": "Истязание",
    "1150": "Угроза",
    "1200": "Изнасилование",
    "1210": "Насильственные действия сексуального характера",
    "1250": "Похищение человека",
    "1870": "Мелкое хищение",
    "1880": "Кража",
    "1890": "Присвоение или растрата вверенного чужого имущества",
    "1900": "Мошенничество",
    "1910": "Грабеж",
    "1920": "Разбой",
    "1940": "Вымогательство",
    "2000": "Неправомерное завладение автомобилем или иным транспортным средством без цели хищения",
    "2020": "Умышленное уничтожение или повреждение чужого имущества",
    "2930": "Хулиганство",
    "2940": "Вандализм",
}

#: The day the 2014 Criminal Code came into force; earlier rows use the 1997 Code's numbers.
NEW_CODE_DATE = pd.Timestamp("2015-01-01")

#: Gravity classes of ``HARD_CODE`` (Criminal Code art. 11), as DEFAULT_SEVERITY["crime"]
#: writes them, and the class of a misdemeanour (``TRANSGRESSION`` 6).
HARD_CLASSES = {
    "1": "НЕБОЛЬШОЙ ТЯЖЕСТИ",
    "2": "СРЕДНЕЙ ТЯЖЕСТИ",
    "3": "ТЯЖКИЕ",
    "4": "ОСОБО ТЯЖКИЕ",
}
MISDEMEANOUR = "ПРОСТУПОК"

#: Weights of the crime and juvenile layers' classes.
KPSSU_CRIME_SEVERITY: dict[str, float] = {
    "НЕБОЛЬШОЙ ТЯЖЕСТИ": 1.0,
    "СРЕДНЕЙ ТЯЖЕСТИ": 2.0,
    "ТЯЖКИЕ": 4.0,
    "ОСОБО ТЯЖКИЕ": 8.0,
    MISDEMEANOUR: 0.5,
}

#: ``TIME_PERIOD`` -> first hour of its 8-hour band.
TIME_PERIODS = {"1": 0, "2": 8, "3": 16}


def load_code_list(path: str | Path) -> dict[str, str]:
    """Read article names from a code list CSV (columns ``list``, ``code``, ``name_ru``).

    Parameters
    ----------
    path
        A CSV such as the official client's list of ``CRIME_CODE_2015`` codes.

    Returns
    -------
    dict
        ``CRIME_CODE`` -> article name, for the rows of list ``CRIME_CODE_2015``.

    Raises
    ------
    InputDataError
        If the file cannot be read or lacks the columns.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeError, csv.Error) as exc:
        msg = _("{path}: cannot read the code list ({error})").format(path=path, error=exc)
        raise InputDataError(msg) from None
    if rows and not {"list", "code", "name_ru"} <= set(rows[0]):
        msg = _("{path}: a code list needs the columns `list`, `code`, `name_ru`").format(path=path)
        raise InputDataError(msg)
    return {
        r["code"].strip(): r["name_ru"].strip()
        for r in rows
        if r["list"].strip() == "CRIME_CODE_2015" and r["code"].strip()
    }


def article_label(code: str, stat: str = "", names: Mapping[str, str] | None = None) -> str:
    """Label an incident by its article: ``"1880"`` -> ``"ст.188 Кража"``.

    Parameters
    ----------
    code
        ``CRIME_CODE``: the article x 10, a last digit other than 0 being a sub-article
        (``"1923"`` is art. 192-3).
    stat
        ``STAT`` (``"ст.188 ч.3"``), used when the code is not a number.
    names
        Code -> article name; default :data:`CRIME_ARTICLES`. Give ``{}`` for rows of the 1997
        Code, whose numbers differ.

    Returns
    -------
    str
        ``"ст.N name"``, ``"ст.N"`` when the name is unknown, else `stat`, else `code`.

    Examples
    --------
    >>> article_label("1880"), article_label("1923", names={}), article_label("", "ст.188 ч.3")
    ('ст.188 Кража', 'ст.192-3', 'ст.188 ч.3')
    """
    table = CRIME_ARTICLES if names is None else names
    digits = code.strip()
    if not digits.isdigit():
        return stat.strip() or digits
    digits = digits.zfill(4)
    article = f"ст.{int(digits[:-1])}" + (f"-{digits[-1]}" if digits[-1] != "0" else "")
    name = table.get(digits, "")
    return f"{article} {name}" if name else article


def make_kpssu_crime_prepare(names: Mapping[str, str] | None = None) -> Prepare:
    """Build the prepare hook of the КПСиСУ crime (and juvenile) layers.

    Parameters
    ----------
    names
        ``CRIME_CODE`` -> article name for the 2014 Code; default :data:`CRIME_ARTICLES`
        (see :func:`load_code_list` for a full list).

    Returns
    -------
    callable
        The hook: raw frame -> (frame, rejections).
    """
    table = dict(CRIME_ARTICLES if names is None else names)

    def prepare(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        return _prepare_crime(df, table)

    return prepare


def _prepare_crime(df: pd.DataFrame, names: Mapping[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = df.copy()
    date_col = _col(df, "DAT_SOVER", "DAT_SOVER_STR")
    str_col = _col(df, "DAT_SOVER_STR")
    raw = _cells(df, date_col)
    text = _cells(df, str_col)
    # epoch ms are the wall clock written as UTC: read them as naive times, no zone shift
    stamps = _epoch_ms(raw)
    timed = stamps.notna() & (stamps != stamps.dt.normalize())
    from_text, text_timed = _text_dates(raw.where(stamps.isna(), ""))
    stamps = stamps.fillna(from_text)
    timed |= text_timed
    # DAT_SOVER_STR says whether a midnight value was a time of day or no time at all
    str_stamps, str_timed = _text_dates(text)
    stamps = stamps.fillna(str_stamps)
    timed |= str_timed & (str_stamps.dt.normalize() == stamps.dt.normalize())
    period = _cells(df, _col(df, "TIME_PERIOD")).str.replace(r"\.0$", "", regex=True)
    band = period.map(TIME_PERIODS)
    in_band = ~timed & band.notna() & stamps.notna()
    starts = stamps.where(~in_band, stamps.dt.normalize() + pd.to_timedelta(band, unit="h"))
    # no time and no period: a span of the whole day
    if date_col is not None:
        out[date_col] = _iso(starts, (timed | in_band) & stamps.notna())
    out[SPAN_HOURS_COLUMN] = np.where(in_band, "8", "")

    code = _cells(df, _col(df, "CRIME_CODE"))
    stat = _cells(df, _col(df, "STAT"))
    new_code = stamps.isna() | (stamps >= NEW_CODE_DATE)
    out["category_label"] = [
        article_label(c, s, names if n else {})
        for c, s, n in zip(code, stat, new_code, strict=True)
    ]
    hard = _cells(df, _col(df, "HARD_CODE")).str.replace(r"\.0$", "", regex=True)
    kind = _cells(df, _col(df, "TRANSGRESSION")).str.replace(r"\.0$", "", regex=True)
    severity_class = hard.map(HARD_CLASSES).fillna("")
    out["severity_class"] = severity_class.where(kind != "6", MISDEMEANOUR)
    out["crime_code"] = code
    out["hard_code"] = hard
    out["transgression"] = kind
    out["time_period"] = period

    gone_col = _col(df, "discontinued", "DISCONTINUED")
    gone = _cells(df, gone_col).str.replace(r"\.0$", "", regex=True) == "1"
    bad_date = stamps.isna()
    rejected = _rejections(
        [
            (gone, gone_col or "discontinued", "discontinued", _cells(df, gone_col)),
            (bad_date, date_col or "DAT_SOVER", "unparseable_datetime", raw.where(raw != "", text)),
        ]
    )
    return out, rejected


# ----------------------------------------------------------------------------------------------
# КПСиСУ road accident layer

#: The accident layer's fixed UTC offset: ``rta_date`` is local midnight at UTC+6 on every date.
RTA_UTC_OFFSET = pd.Timedelta(hours=6)

#: Accident classes -> weights. A pedestrian hit weighs more than a crash between vehicles,
#: as a foot patrol can act on the places where people on foot are hurt.
KPSSU_RTA_SEVERITY: dict[str, float] = {
    "НАЕЗД НА ПЕШЕХОДА, ПОГИБШИЕ": 12.0,
    "ДТП, ПОГИБШИЕ": 10.0,
    "НАЕЗД НА ПЕШЕХОДА, РАНЕНЫЕ": 5.0,
    "ДТП, РАНЕНЫЕ": 3.0,
    "НАЕЗД НА ПЕШЕХОДА": 2.0,
    "ДТП БЕЗ ПОСТРАДАВШИХ": 1.0,
}

_HHMM = r"(?P<h>\d{1,2})[:.](?P<m>\d{2})(?::\d{2})?"


def _prepare_rta(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    out = df.copy()
    date_col = _col(df, "rta_date", "RTA_DATE")
    raw = _cells(df, date_col)
    # local midnight at UTC+6 written as epoch ms: shift by the fixed offset, keep the day
    ms = _epoch_ms(raw)
    day = (ms + RTA_UTC_OFFSET).dt.normalize()
    from_text, _timed = _text_dates(raw.where(ms.isna(), ""))
    day = day.fillna(from_text.dt.normalize())
    time_col = _col(df, "fd1r05p1", "FD1R05P1")
    clock = _cells(df, time_col).str.extract("^" + _HHMM + "$")
    hour = pd.to_numeric(clock["h"], errors="coerce")
    minute = pd.to_numeric(clock["m"], errors="coerce")
    timed = hour.between(0, 23) & minute.between(0, 59)
    offset = pd.to_timedelta(hour.where(timed, 0) * 60 + minute.where(timed, 0), unit="min")
    stamps = day + offset
    if date_col is not None:
        out[date_col] = _iso(stamps, timed & day.notna())

    killed = _count(_cells(df, _col(df, "fd1r13p2", "FD1R13P2")))
    injured = _count(_cells(df, _col(df, "fd1r13p1", "FD1R13P1")))
    rta_type = _cells(df, _col(df, "RTA_TYPE", "rta_type")).str.replace(r"\.0$", "", regex=True)
    culprit = _cells(df, _col(df, "fd1r14p1", "FD1R14P1")).str.lower()
    violation = _cells(df, _col(df, "fd1r09p1", "FD1R09P1")).str.lower()
    pedestrian = (
        (rta_type == "1")
        | culprit.str.contains("пешеход", regex=False)
        | violation.str.contains("пешеход", regex=False)
    )
    label = np.select(
        [
            (killed > 0) & pedestrian,
            killed > 0,
            (injured > 0) & pedestrian,
            injured > 0,
            pedestrian,
        ],
        [
            "Наезд на пешехода, погибшие",
            "ДТП, погибшие",
            "Наезд на пешехода, раненые",
            "ДТП, раненые",
            "Наезд на пешехода",
        ],
        default="ДТП без пострадавших",
    )
    out["category_label"] = label
    out["severity_class"] = label
    out["killed"] = killed.astype(int).astype(str)
    out["injured"] = injured.astype(int).astype(str)
    out["pedestrian"] = np.where(pedestrian, "1", "0")
    rejected = _rejections(
        [(day.isna(), date_col or "rta_date", "unparseable_datetime", raw)],
    )
    return out, rejected


# ----------------------------------------------------------------------------------------------
# Baltimore arrests

#: Weights of the demo's BPD Part I categories (part of the crime layer's default table,
#: :data:`patrolplan.ingest.DEFAULT_SEVERITY`).
BPD_SEVERITY: dict[str, float] = {
    "HOMICIDE": 10.0,
    "SHOOTING": 9.0,
    "RAPE": 8.0,
    "ROBBERY": 5.0,
    "ARSON": 4.0,
    "ASSAULT": 4.0,
    "BURGLARY": 3.0,
    "AUTO THEFT": 2.0,
    "LARCENY": 1.0,
}

#: Weights of the classes the arrests' offence codes are read as: the demo's, plus the
#: frequent arrest-only ones.
BPD_ARREST_SEVERITY: dict[str, float] = {
    **BPD_SEVERITY,
    "SEX OFFENSE": 3.0,
    "WEAPON": 3.0,
    "NARCOTICS": 2.0,
    "OTHER": 1.0,
}

#: BPD offence code families 1-9 (the Part I crimes of the demo's categories), by the number
#: the code starts with; ``2A``/``2B`` (rape, attempted rape) are told from other sex offences.
BPD_PART1_CLASSES = {
    1: "HOMICIDE",
    2: "SEX OFFENSE",
    3: "ROBBERY",
    4: "ASSAULT",
    5: "BURGLARY",
    6: "LARCENY",
    7: "AUTO THEFT",
    8: "ARSON",
    9: "SHOOTING",
}

#: Part II codes with a class of their own (54 armed person, 83 discharging a firearm, 87
#: narcotics); the rest: OTHER.
BPD_PART2_CLASSES = {54: "WEAPON", 83: "WEAPON", 87: "NARCOTICS"}


def bpd_offense_class(offense: pd.Series) -> pd.Series:
    """Read BPD offences such as ``4ECOMMON ASSAULT`` as severity classes by their code.

    The code is the leading number and letters (``4E``, ``87``, ``3AO``); its number names
    the family (:data:`BPD_PART1_CLASSES`, :data:`BPD_PART2_CLASSES`, else ``OTHER``). An
    offence without a code (``Unknown Offense``) gets ``""``, which weighs 1.

    Parameters
    ----------
    offense
        Offence texts as published.

    Returns
    -------
    pandas.Series
        Class per row, with the same index.

    Examples
    --------
    >>> offences = ["4ECOMMON ASSAULT", "87NARCOTICS", "3AOROBB HWY-OTHER WPN", "Unknown Offense"]
    >>> list(bpd_offense_class(pd.Series(offences)))
    ['ASSAULT', 'NARCOTICS', 'ROBBERY', '']
    """
    code = offense.astype(str).str.strip().str.upper().str.extract(r"^(\d+)([A-Z]?)")
    number = pd.to_numeric(code[0], errors="coerce")
    classes = number.map(lambda n: BPD_PART1_CLASSES.get(n) or BPD_PART2_CLASSES.get(n, "OTHER"))
    rape = (number == 2) & code[1].isin(["A", "B"])
    classes = classes.where(~rape, "RAPE")
    return classes.where(number.notna(), "").astype(object)


def _prepare_bpd_arrests(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add ``severity_class`` from ``IncidentOffense``; the offence text upper-cased."""
    out = df.copy()
    column = _col(df, "IncidentOffense")
    offense = _cells(df, column).str.upper().str.replace(r"\s+", " ", regex=True)
    if column is not None:
        out[column] = offense
    out["severity_class"] = bpd_offense_class(offense)
    return out, _rejections([])


# ----------------------------------------------------------------------------------------------
# the registry

_GEOMETRY_LAT = ("__y", "y", "latitude", "lat")
_GEOMETRY_LON = ("__x", "x", "longitude", "lon")

_BPD_SEVERITY = None  # Baltimore: the crime layer's default table (BPD categories)

_KPSSU_CRIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "lat": _GEOMETRY_LAT,
    "lon": _GEOMETRY_LON,
    "datetime": ("DAT_SOVER", "DAT_SOVER_STR"),
    "category": ("category_label",),
    "severity": ("severity_class",),
    "id": ("OBJECTID", "FID"),
}

#: The presets, by name.
PRESETS: dict[str, Preset] = {
    "baltimore": Preset(
        name="baltimore",
        description="Baltimore Police Department Part 1 crimes (Open Baltimore), as in the demo",
        columns={
            "lat": ("latitude",),
            "lon": ("longitude",),
            "datetime": ("datetime",),
            "category": ("category",),
            "id": ("incident_id",),
        },
        severity=_BPD_SEVERITY,
    ),
    "oakland": Preset(
        name="oakland",
        description="City of Oakland CrimeWatch export",
        columns={
            "lat": ("latitude",),
            "lon": ("longitude",),
            "datetime": ("datetime",),
            "category": ("description",),
            "id": ("incident_id",),
        },
    ),
    "cardiff_juvenile": Preset(
        name="cardiff_juvenile",
        description="Cardiff juvenile offender residences (local grid, no dates)",
        columns={"lat": ("Y",), "lon": ("X",), "id": ("ID",)},
        crs="local",
    ),
    "baltimore_arrests": Preset(
        name="baltimore_arrests",
        description="Baltimore Police Department arrests (US dates, separate time column)",
        columns={
            "lat": ("Latitude",),
            "lon": ("Longitude",),
            "datetime": ("ArrestDate",),
            "time": ("ArrestTime",),
            "category": ("IncidentOffense",),
            "severity": ("severity_class",),
            "id": ("Arrest",),
        },
        severity=BPD_ARREST_SEVERITY,
        dayfirst=False,
        prepare=_prepare_bpd_arrests,
    ),
    "police_uk": Preset(
        name="police_uk",
        description="data.police.uk street-level crime CSV (month-only dates)",
        columns={
            "lat": ("Latitude",),
            "lon": ("Longitude",),
            "datetime": ("Month",),
            "category": ("Crime type",),
            "id": ("Crime ID",),
        },
    ),
    "kpssu_crime": Preset(
        name="kpssu_crime",
        description="КПСиСУ crime points (stat/MapServer/5, KPSSU/crime/FeatureServer/1)",
        columns=_KPSSU_CRIME_COLUMNS,
        severity=KPSSU_CRIME_SEVERITY,
        prepare=make_kpssu_crime_prepare(),
        keep=("crime_code", "hard_code", "transgression", "time_period"),
    ),
    "kpssu_juvenile": Preset(
        name="kpssu_juvenile",
        description="КПСиСУ offences by minors (stat/MapServer/8), crime-point schema",
        columns=_KPSSU_CRIME_COLUMNS,
        severity=KPSSU_CRIME_SEVERITY,
        prepare=make_kpssu_crime_prepare(),
        keep=("crime_code", "hard_code", "transgression", "time_period"),
    ),
    "kpssu_rta": Preset(
        name="kpssu_rta",
        description="КПСиСУ road accidents (rta/MapServer/0, KPSSU/DTP/FeatureServer/0)",
        columns={
            "lat": _GEOMETRY_LAT,
            "lon": _GEOMETRY_LON,
            "datetime": ("rta_date",),
            "category": ("category_label",),
            "severity": ("severity_class",),
            "id": ("objectid",),
        },
        severity=KPSSU_RTA_SEVERITY,
        # the current server's native x/y (used only when the file names no CRS)
        crs="EPSG:3857",
        prepare=_prepare_rta,
        keep=("killed", "injured", "pedestrian"),
    ),
}
