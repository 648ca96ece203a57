r"""Languages of what a person reads: English, Russian and Kazakh.

Maps, route sheets and the labels of exported files are written in one of :data:`LANGS`. The
messages come from gettext catalogs kept as ``.po`` sources in ``patrolplan/locale``; they are
read with Babel when first needed and compiled in memory, so no ``.mo`` file is built or
committed. English is the source language and needs no catalog.

The current language is held in a context variable: :func:`language` sets it for a ``with``
block (each thread and task sees its own), :func:`set_language` for the rest of the current
context. :func:`_`, :func:`ngettext` and :func:`pgettext` translate into it, and
:func:`format_number`, :func:`format_percent` and :func:`format_date` write numbers and dates
as the locale does (``19 июня 2016 г.``, a decimal comma in Russian and Kazakh). Clock times
stay ``HH:MM`` in every language, and coordinates keep a decimal point, as GPS devices read
them.

Street names: OSM ways may carry ``name:ru`` and ``name:kk`` beside ``name``;
:func:`street_name` and :func:`street_names` pick the name in the current language where the
data has one. The built-in severity classes (:data:`SEVERITY_LABELS`) and incident layers
(:func:`layer_name`) are named in it too, wherever a person reads them.

Messages: every message a person reads (log lines, warnings, errors, the command line's
summary) is made with ``_("... {field} ...").format(field=...)`` where it is created, so it
comes out in the language current at that moment; the command line sets it for a whole
command, and :func:`patrolplan.plan.daily_plan` runs in its options' ``lang``.

Updating the catalogs after changing a message in the code (from the repository root; the
command line, ``cli.py``, uses the same catalogs)::

    pybabel extract --no-location --sort-output --add-comments=Translators: \\
        --project=patrolplan -o patrolplan/locale/patrolplan.pot patrolplan cli.py
    pybabel update --ignore-obsolete --no-fuzzy-matching --width=100 -D patrolplan \\
        -i patrolplan/locale/patrolplan.pot -d patrolplan/locale

then translate the new entries in ``patrolplan/locale/{ru,kk}/LC_MESSAGES/patrolplan.po``
(and remove any ``fuzzy`` flag); ``tests/test_i18n.py`` fails until every message of the
code has a translation. ``pybabel update`` re-wraps the glossary at the head of each catalog:
put its indentation back before committing.
"""  # noqa: RUF002 - Russian and Kazakh examples are Cyrillic

from __future__ import annotations

import contextlib
import contextvars
import functools
import gettext as _gettext
import io
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import TYPE_CHECKING

from patrolplan._errors import InputDataError

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

#: Languages patrolplan writes in: English (source), Russian, Kazakh.
LANGS = ("en", "ru", "kk")
#: gettext domain: the catalogs are ``locale/<lang>/LC_MESSAGES/patrolplan.po``.
DOMAIN = "patrolplan"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("patrolplan_lang", default="en")


def check_language(lang: str) -> str:
    """Return `lang` as a code of :data:`LANGS`, or raise.

    Parameters
    ----------
    lang
        A language code, in any case (``"RU"`` is ``"ru"``).

    Returns
    -------
    str
        The code.

    Raises
    ------
    InputDataError
        If `lang` is not one of :data:`LANGS`.

    Examples
    --------
    >>> check_language(" RU ")
    'ru'
    """
    code = str(lang).strip().lower()
    if code not in LANGS:
        msg = _("`lang` must be one of {langs}, not {lang!r}").format(
            langs=", ".join(LANGS), lang=lang
        )
        raise InputDataError(msg)
    return code


def get_language() -> str:
    """Return the current language.

    Returns
    -------
    str
        One of :data:`LANGS`; ``"en"`` unless set.
    """
    return _current.get()


def set_language(lang: str) -> None:
    """Make `lang` the current language of this thread or task, until set again.

    Parameters
    ----------
    lang
        One of :data:`LANGS`.

    Raises
    ------
    InputDataError
        If `lang` is not one of :data:`LANGS`.
    """
    _current.set(check_language(lang))


@contextlib.contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Use `lang` inside a ``with`` block, then go back to the language before it.

    Parameters
    ----------
    lang
        One of :data:`LANGS`; None keeps the current language.

    Yields
    ------
    str
        The language in use.

    Raises
    ------
    InputDataError
        If `lang` is not one of :data:`LANGS`.

    Examples
    --------
    >>> with language("ru"):
    ...     _("Officer {officer}").format(officer=2)
    'Инспектор 2'
    >>> _("Officer {officer}").format(officer=2)
    'Officer 2'
    """
    code = get_language() if lang is None else check_language(lang)
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


@functools.cache
def translations(lang: str) -> _gettext.NullTranslations:
    """Return the compiled catalog of `lang`, read from its ``.po`` source once.

    Parameters
    ----------
    lang
        One of :data:`LANGS`.

    Returns
    -------
    gettext.NullTranslations
        The translations; English, the source language, translates nothing.

    Raises
    ------
    InputDataError
        If `lang` is not one of :data:`LANGS`.
    """
    code = check_language(lang)
    if code == "en":
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    po = resources.files("patrolplan").joinpath("locale", code, "LC_MESSAGES", f"{DOMAIN}.po")
    with po.open("rb") as f:
        catalog = read_po(f, locale=code, domain=DOMAIN)
    buf = io.BytesIO()
    # fuzzy (unchecked) translations are left out: the English source is shown instead
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return _gettext.GNUTranslations(buf)


def _(message: str) -> str:
    """Translate `message` into the current language.

    Parameters
    ----------
    message
        English source text (the catalog's msgid).

    Returns
    -------
    str
        The translation, or `message` where the catalog has none.
    """
    return translations(get_language()).gettext(message)


def gettext(message: str) -> str:
    """Translate `message` into the current language (the same as :func:`_`).

    Parameters
    ----------
    message
        English source text.

    Returns
    -------
    str
        The translation.
    """
    return _(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message whose form depends on a count `n`.

    Russian has three forms (1 остановка, 2 остановки, 5 остановок), Kazakh and English two.

    Parameters
    ----------
    singular
        English text for one.
    plural
        English text for several.
    n
        The count.

    Returns
    -------
    str
        The translated form for `n`.

    Examples
    --------
    >>> with language("ru"):
    ...     [ngettext("{n} stop", "{n} stops", k).format(n=k) for k in (1, 3, 5)]
    ['1 остановка', '3 остановки', '5 остановок']
    """
    return translations(get_language()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate `message` in a `context` that tells translators which sense is meant.

    Parameters
    ----------
    context
        A short hint, e.g. ``"marker"`` for a one-letter map marker.
    message
        English source text.

    Returns
    -------
    str
        The translation.
    """
    return translations(get_language()).pgettext(context, message)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate"
    """Mark `message` for the catalogs without translating it (translated later by :func:`_`).

    Parameters
    ----------
    message
        English source text.

    Returns
    -------
    str
        `message` unchanged.
    """
    return message


def _babel_locale() -> str:
    return get_language()


def format_number(value: float, *, decimals: int = 0) -> str:
    r"""Write a number as the current locale does, with a fixed number of decimals.

    Parameters
    ----------
    value
        The number.
    decimals
        Digits after the decimal separator.

    Returns
    -------
    str
        ``1,234.5`` in English, ``1 234,5`` (no-break space) in Russian and Kazakh.

    Examples
    --------
    >>> format_number(1234.54, decimals=1)
    '1,234.5'
    >>> with language("ru"):
    ...     format_number(1234.54, decimals=1)
    '1\xa0234,5'
    """
    from babel.numbers import format_decimal

    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return str(format_decimal(value, format=pattern, locale=_babel_locale()))


def format_percent(share: float, *, decimals: int = 1) -> str:
    """Write a share (0.123) as a percentage in the current locale.

    Parameters
    ----------
    share
        A fraction.
    decimals
        Digits after the decimal separator.

    Returns
    -------
    str
        ``12.3%`` in English, ``12,3%`` in Russian and Kazakh.

    Examples
    --------
    >>> with language("kk"):
    ...     format_percent(0.1234)
    '12,3%'
    """
    from babel.numbers import format_percent as babel_percent

    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "") + "%"
    return str(babel_percent(share, format=pattern, locale=_babel_locale()))


def format_date(day: dt.date | pd.Timestamp) -> str:
    r"""Write a date in full, as the current locale does.

    The locale's data (CLDR) joins the year and its abbreviation with a narrow no-break
    space (U+202F), so that ``г.`` never starts a line.

    Parameters
    ----------
    day
        A date or timestamp.

    Returns
    -------
    str
        ``June 19, 2016``, ``19 июня 2016 г.`` or ``2016 ж. 19 маусым``.

    Examples
    --------
    >>> import datetime
    >>> with language("ru"):
    ...     format_date(datetime.date(2016, 6, 19))
    '19 июня 2016\u202fг.'
    """  # noqa: RUF002 - a Russian date
    import datetime as dt

    from babel.dates import format_date as babel_date

    plain = dt.date(day.year, day.month, day.day)
    return str(babel_date(plain, format="long", locale=_babel_locale()))


def plan_title(shift_start: pd.Timestamp, shift_end: pd.Timestamp) -> str:
    r"""Return the title of a day's plan in the current language.

    Parameters
    ----------
    shift_start
        Start of the shift.
    shift_end
        End of the longest shift.

    Returns
    -------
    str
        E.g. ``План патрулирования на 19 июня 2016 г., смена 18:00-22:00``.

    Examples
    --------
    >>> import pandas as pd
    >>> t0 = pd.Timestamp("2016-06-19 18:00")
    >>> plan_title(t0, t0 + pd.Timedelta(hours=4))
    'Patrol plan for June 19, 2016, shift 18:00-22:00'
    >>> with language("kk"):
    ...     plan_title(t0, t0 + pd.Timedelta(hours=4))
    'Патрульдеу жоспары: 2016\u202fж. 19 маусым, ауысым 18:00-22:00'
    """  # noqa: RUF002 - a Russian example
    return _("Patrol plan for {date}, shift {start}-{end}").format(
        date=format_date(shift_start),
        start=f"{shift_start:%H:%M}",
        end=f"{shift_end:%H:%M}",
    )


def _first_name(value: object) -> str:
    """Return the first name an OSM value holds (osmnx joins several with ``;`` or a list)."""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).split(";")[0].strip()
    return "" if text in ("nan", "None") else text


def _all_names(value: object) -> list[str]:
    """Return every name an OSM value holds (``a;b`` or a list), stripped."""
    if isinstance(value, list | tuple):
        return [_first_name(v) for v in value]
    first = _first_name(value)
    if not first:
        return []
    return [part.strip() for part in str(value).split(";")]


def street_name(tags_or_edge: Mapping[str, object], lang: str | None = None) -> str:
    """Return a street's name in `lang`: OSM ``name:<lang>`` if the data has it, else ``name``.

    Parameters
    ----------
    tags_or_edge
        OSM tags of a way, or the attributes of a graph edge (:mod:`patrolplan.graph` keeps
        ``name:ru`` and ``name:kk`` on the edges where the extract has them).
    lang
        One of :data:`LANGS`; default the current language.

    Returns
    -------
    str
        The name, ``""`` if the street has none.

    Raises
    ------
    InputDataError
        If `lang` is not one of :data:`LANGS`.

    Examples
    --------
    >>> tags = {"name": "Абай даңғылы", "name:ru": "проспект Абая"}
    >>> street_name(tags, "ru"), street_name(tags, "kk"), street_name({"name": ["A", "B"]}, "ru")
    ('проспект Абая', 'Абай даңғылы', 'A')
    """
    code = get_language() if lang is None else check_language(lang)
    return _first_name(tags_or_edge.get(f"name:{code}")) or _first_name(tags_or_edge.get("name"))


def street_names(gdf_edges: pd.DataFrame, lang: str | None = None) -> dict[str, str]:
    """Map each street's ``name`` to its name in `lang`, where the edges have ``name:<lang>``.

    Routes and timetables carry a street's ``name``; this table turns them into the
    language of the map and sheets. An edge that joins several ways holds their names as
    ``A;B`` with the local names in the same order (as :mod:`patrolplan.graph` writes them), and
    each pair counts; where the counts differ only the first names pair. Where one ``name``
    has several ``name:<lang>`` (different ways mapped differently), the most common wins, ties
    going to the first in sorted order.

    Parameters
    ----------
    gdf_edges
        Street segments with a ``name`` column and, optionally, ``name:ru`` / ``name:kk``.
    lang
        One of :data:`LANGS`; default the current language.

    Returns
    -------
    dict
        ``name`` -> localised name, only for names that differ; empty if the edges have no
        ``name:<lang>`` column.

    Raises
    ------
    InputDataError
        If `lang` is not one of :data:`LANGS`.
    """
    code = get_language() if lang is None else check_language(lang)
    col = f"name:{code}"
    if col not in gdf_edges.columns or "name" not in gdf_edges.columns:
        return {}
    votes: dict[str, Counter[str]] = {}
    for base, local in zip(gdf_edges["name"], gdf_edges[col], strict=True):
        names, locals_ = _all_names(base), _all_names(local)
        pairs = (
            zip(names, locals_, strict=False)
            if len(names) == len(locals_)
            else [(_first_name(base), _first_name(local))]
        )
        for a, b in pairs:
            if a and b and a != b:
                votes.setdefault(a, Counter())[b] += 1
    return {a: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for a, c in votes.items()}


def visit_label(hotspot_id: str, visit: int) -> str:
    """Return a stop's id for people, with the visit number of a revisit.

    Parameters
    ----------
    hotspot_id
        Hotspot (``H003``) or risky street (``S001``) id.
    visit
        1 for a first visit, 2 for a revisit, ...

    Returns
    -------
    str
        E.g. ``H003`` or ``H003 (visit 2)``.

    Examples
    --------
    >>> with language("ru"):
    ...     visit_label("H003", 2)
    'H003 (посещение 2)'
    """
    if visit <= 1:
        return hotspot_id
    return _("{id} (visit {visit})").format(id=hotspot_id, visit=visit)


def task_label(task: str, hotspot_id: str = "", visit: int = 1) -> str:
    """Return what a timetable row asks the officer to do, in the current language.

    Parameters
    ----------
    task
        ``hotspot``, ``street``, ``return`` or ``end`` (column ``task`` of a timetable).
    hotspot_id
        The stop's hotspot or street id.
    visit
        Visit number of the stop.

    Returns
    -------
    str
        ``H003``, ``walk S001``, ``return to post`` or ``end of route`` (with a revisit's
        number), translated.
    """
    if task == "return":
        return _("return to post")
    if task == "end":
        return _("end of route")
    label = visit_label(hotspot_id, visit)
    return _("walk {id}").format(id=label) if task == "street" else label


def place_label(task: str, street: object) -> str:
    """Return where a timetable row happens: the street, or the post or end point.

    Parameters
    ----------
    task
        ``hotspot``, ``street``, ``return`` or ``end``.
    street
        The street of the stop (already in the language wanted).

    Returns
    -------
    str
        The street, or ``post`` / ``end point`` translated on the last row.
    """
    if task == "return":
        return _("post")
    if task == "end":
        return _("end point")
    return "" if street is None else str(street)


#: Built-in incident layers, for the catalogs (shown through :func:`layer_name`).
LAYER_NAMES = (N_("crime"), N_("accident"), N_("juvenile"))


def layer_name(layer: object) -> str:
    """Return the name of an incident layer in the current language.

    Parameters
    ----------
    layer
        A layer of the input (``crime``, ``accident``, ``juvenile`` or one of the user's).

    Returns
    -------
    str
        The translated name of a built-in layer; any other layer as it is.
    """
    text = str(layer)
    return _(text) if text in LAYER_NAMES else text


#: Names of the built-in severity classes (:data:`patrolplan.ingest.DEFAULT_SEVERITY`) for
#: people, by the upper-cased category as the data writes it (English, Russian or Kazakh): the
#: four gravity classes of Kazakhstan's Criminal Code and the classes of traffic accidents.
#: Machine-readable outputs keep the category as it came.
SEVERITY_LABELS: dict[str, str] = {
    "MINOR": N_("minor gravity"),
    "НЕБОЛЬШОЙ ТЯЖЕСТИ": N_("minor gravity"),
    "ОНШАЛЫҚТЫ АУЫР ЕМЕС": N_("minor gravity"),
    "MEDIUM": N_("medium gravity"),
    "СРЕДНЕЙ ТЯЖЕСТИ": N_("medium gravity"),
    "ОРТАША АУЫРЛЫҚТАҒЫ": N_("medium gravity"),
    "GRAVE": N_("grave"),
    "ТЯЖКОЕ": N_("grave"),
    "ТЯЖКИЕ": N_("grave"),
    "АУЫР": N_("grave"),
    "ESPECIALLY GRAVE": N_("especially grave"),
    "ОСОБО ТЯЖКОЕ": N_("especially grave"),
    "ОСОБО ТЯЖКИЕ": N_("especially grave"),
    "АСА АУЫР": N_("especially grave"),
    "FATAL": N_("fatal accident"),
    "SERIOUS": N_("accident with serious injuries"),
    "INJURY": N_("accident with injuries"),
    "SLIGHT": N_("accident with slight injuries"),
    "DAMAGE": N_("accident with damage only"),
    "UNKNOWN": N_("no category"),
}


def category_label(category: object) -> str:
    """Return an incident category for people: a built-in class translated, else as it is.

    Parameters
    ----------
    category
        A category as ingest keeps it (upper-cased), e.g. ``GRAVE`` or ``ОСОБО ТЯЖКОЕ``.

    Returns
    -------
    str
        The class's name in the current language (:data:`SEVERITY_LABELS`); any other
        category (a source's own, such as ``LARCENY``) unchanged.

    Examples
    --------
    >>> with language("ru"):
    ...     category_label("ESPECIALLY GRAVE"), category_label("АУЫР"), category_label("LARCENY")
    ('особо тяжкое', 'тяжкое', 'LARCENY')
    """  # noqa: RUF002 - Russian examples
    text = "" if category is None else str(category)
    label = SEVERITY_LABELS.get(text.strip().upper())
    return _(label) if label is not None else text


def top_categories_label(text: object) -> str:
    """Translate the built-in classes in a hotspot's ``top_categories`` (``GRAVE 4, MINOR 2``).

    Parameters
    ----------
    text
        The hotspot's ``top_categories``: categories with their counts, joined by ``", "``.

    Returns
    -------
    str
        The same list with each built-in class in the current language; other categories,
        and any part that is not ``CATEGORY N``, unchanged.

    Examples
    --------
    >>> with language("kk"):
    ...     top_categories_label("GRAVE 4, LARCENY 2")
    'ауыр 4, LARCENY 2'
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    parts = []
    for part in str(text).split(", "):
        name, _sep, count = part.rpartition(" ")
        known = name.strip().upper() in SEVERITY_LABELS and count.isdigit()
        parts.append(f"{category_label(name)} {count}" if known else part)
    return ", ".join(parts)
