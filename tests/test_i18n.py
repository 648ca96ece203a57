"""Russian and Kazakh: catalogs complete and in sync, maps, sheets and labels translated."""

from __future__ import annotations

import ast
import datetime
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from patrolplan import export, graph, i18n, render
from patrolplan._errors import InputDataError

PACKAGE = Path(i18n.__file__).parent
LOCALE = PACKAGE / "locale"
# the command line (a top-level module beside the package) speaks the same catalogs
CLI = PACKAGE.parent / "cli.py"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PDFTOTEXT = shutil.which("pdftotext")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}
KAZAKH_LETTERS = "әғқңөұүһі"
# English words of the interface that must not be left on a Russian or Kazakh page
ENGLISH_UI = [
    "Officer",
    "officer",
    "Hotspots",
    "hotspot visited",
    "Streets (offline",
    "Heat:",
    "stops",
    "risk ",
    "visited by",
    "not visited",
    "numbered",
    "direction of walking",
    "contributors",
    "Patrol plan",
    "Timetable",
    "Notes:",
    "return to post",
    "end of route",
    "Walk via",
    "Arrive",
    "Leave",
    "km on foot",
    "dwell",
    " min",
    " km",
    "incidents",
    "crime",
    "juvenile",
    "active hours",
]


def _code_messages() -> set[tuple[str | None, str | tuple[str, ...]]]:
    """(context, msgid) of every translatable string in the package and cli.py, as Babel sees."""
    found = set()
    for _file, _line, msg, _comments, context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add((context, msg if isinstance(msg, str) else tuple(msg)))
    for _line, msg, _comments, context in extract_from_file("python", str(CLI), KEYWORDS):
        found.add((context, msg if isinstance(msg, str) else tuple(msg)))
    return found


def _catalog(path: Path, lang: str | None = None):
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _entries(catalog) -> set[tuple[str | None, str | tuple[str, ...]]]:
    return {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)) for m in catalog if m.id}


def test_code_has_messages_to_translate():
    messages = _code_messages()
    assert len(messages) > 60
    assert ("timetable", "Walk via") in messages
    assert (None, ("{n} stop", "{n} stops")) in messages
    # the command line's own lines are extracted too
    assert (None, "error: {message}") in messages
    assert ("column", "risk covered") in messages


def test_no_message_hides_in_an_f_string():
    # Babel (on Python 3.11) does not look inside f-strings: a call there is never extracted
    hidden = []
    for path in [*PACKAGE.rglob("*.py"), CLI]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.JoinedStr):
                for sub in ast.walk(node):
                    func = getattr(sub, "func", None)
                    name = getattr(func, "id", None) or getattr(func, "attr", None)
                    if isinstance(sub, ast.Call) and name in KEYWORDS:
                        hidden.append(f"{path.name}:{sub.lineno}")
    assert hidden == []


def test_template_is_in_sync_with_the_code():
    pot = _catalog(LOCALE / "patrolplan.pot")
    assert _entries(pot) == _code_messages()


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_catalog_translates_every_message_of_the_code(lang):
    catalog = _catalog(LOCALE / lang / "LC_MESSAGES" / "patrolplan.po", lang)
    assert str(catalog.locale) == lang
    by_key = {
        (m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m for m in catalog if m.id
    }
    missing = [k for k in _code_messages() if k not in by_key]
    assert missing == []
    bad = []
    for key, m in by_key.items():
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        forms = catalog.num_plurals if m.pluralizable else 1
        if m.fuzzy or not all(strings) or len(strings) != forms:
            bad.append(key)
        # placeholders kept: a translation that drops or renames one breaks .format()
        source = m.id if isinstance(m.id, str) else m.id[0]
        for s in strings:
            assert set(re.findall(r"{(\w+)}", s)) == set(re.findall(r"{(\w+)}", source)), s
    assert bad == []


def test_glossary_heads_each_catalog():
    for lang, words in {
        "ru": ["патрульная полиция", "смена", "горячая точка", "остановка", "улица"],
        "kk": ["патрульдік полиция", "ауысым", "қауіпті нүкте", "аялдама", "көше"],
    }.items():
        head = (LOCALE / lang / "LC_MESSAGES" / "patrolplan.po").read_text().split("msgid")[0]
        for w in words:
            assert w in head, (lang, w)


def test_a_fuzzy_translation_is_not_used(tmp_path, monkeypatch):
    # a catalog whose only entry is fuzzy translates nothing
    po = tmp_path / "patrolplan" / "locale" / "ru" / "LC_MESSAGES" / "patrolplan.po"
    po.parent.mkdir(parents=True)
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, fuzzy\nmsgid "Post"\nmsgstr "Пост"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n.resources, "files", lambda _pkg: tmp_path / "patrolplan")
    i18n.translations.cache_clear()
    try:
        assert i18n.translations("ru").gettext("Post") == "Post"
    finally:
        i18n.translations.cache_clear()


def test_language_is_checked_and_scoped():
    with pytest.raises(InputDataError, match=r"`lang` must be one of en, ru, kk, not 'de'"):
        i18n.check_language("de")
    with pytest.raises(InputDataError, match="en, ru, kk"):
        i18n.set_language("fr")
    assert i18n.get_language() == "en"
    with i18n.language("KK"):
        assert i18n.get_language() == "kk"
        assert i18n._("Post") == "Пост"
        with i18n.language("ru"):
            assert i18n._("Patrol plan") == "План патрулирования"
        assert i18n._("Patrol plan") == "Патрульдеу жоспары"
    assert i18n._("Patrol plan") == "Patrol plan"


def test_set_language_stays_in_its_own_context():
    import contextvars

    def inside() -> str:
        i18n.set_language("ru")
        return i18n._("Post")

    assert contextvars.copy_context().run(inside) == "Пост"
    assert i18n.get_language() == "en"


def test_dates_numbers_and_plurals_in_the_locale():
    day = datetime.date(2016, 6, 19)
    with i18n.language("ru"):
        # CLDR: a narrow no-break space keeps the year and its abbreviation on one line
        assert i18n.format_date(day) == "19 июня 2016\u202fг."  # noqa: RUF001
        day_time = pd.Timestamp("2016-06-19 18:00")
        assert i18n.format_date(day_time).replace("\u202f", " ") == "19 июня 2016 г."  # noqa: RUF001
        assert i18n.format_number(6.23, decimals=1) == "6,2"
        assert i18n.format_number(100_000) == "100\xa0000"
        assert i18n.format_percent(0.1234) == "12,3%"
        forms = [i18n.ngettext("{n} stop", "{n} stops", n).format(n=n) for n in (1, 2, 5, 21)]
        assert forms == ["1 остановка", "2 остановки", "5 остановок", "21 остановка"]
    with i18n.language("kk"):
        assert i18n.format_date(day) == "2016\u202fж. 19 маусым"
        assert i18n.format_number(6.23, decimals=1) == "6,2"
        assert i18n.ngettext("{n} stop", "{n} stops", 5).format(n=5) == "5 аялдама"
    assert i18n.format_date(day) == "June 19, 2016"
    assert i18n.format_number(6.23, decimals=1) == "6.2"


def test_street_name_prefers_the_language_then_name():
    tags = {"name": "Абай даңғылы", "name:ru": "проспект Абая", "name:kk": float("nan")}
    assert i18n.street_name(tags, "ru") == "проспект Абая"
    assert i18n.street_name(tags, "kk") == "Абай даңғылы"
    assert i18n.street_name({"name": "Main St;Oak St"}, "en") == "Main St"
    assert i18n.street_name({"name:kk": ["Сейфуллин көшесі", "X"]}, "kk") == "Сейфуллин көшесі"
    assert i18n.street_name({}, "ru") == ""
    with i18n.language("ru"):
        assert i18n.street_name(tags) == "проспект Абая"
    with pytest.raises(InputDataError):
        i18n.street_name(tags, "xx")
    edges = pd.DataFrame(
        {
            "name": ["Abay Ave", "Abay Ave", "Abay Ave", "Dostyk", ""],
            "name:ru": ["проспект Абая", "проспект Абая", "пр. Абая", None, "x"],
        }
    )
    assert i18n.street_names(edges, "ru") == {"Abay Ave": "проспект Абая"}
    assert i18n.street_names(edges, "kk") == {}


# --- the demo plan in Russian and Kazakh -----------------------------------------------------


def _title(plan, lang):
    end = plan.shift_start + pd.Timedelta(minutes=max(plan.options.shifts_min))
    with i18n.language(lang):
        return i18n.plan_title(plan.shift_start, end)


@pytest.fixture(scope="module")
def pages(demo_plan, tmp_path_factory):
    """map.html, sheets.html, GPX, KML and schedule of the demo plan in en, ru and kk."""
    out = tmp_path_factory.mktemp("i18n")
    edges = graph.edges_gdf(demo_plan.G)
    # a street with a Russian and a Kazakh name, as Kazakh OSM extracts have
    first = demo_plan.routes[0].stops[0].street
    edges["name:ru"] = edges["name"].where(edges["name"] != first, "улица Первая")
    edges["name:kk"] = edges["name"].where(edges["name"] != first, "Бірінші көше")
    for lang in ("en", "ru", "kk"):
        title = _title(demo_plan, lang)
        m = render.plan_map(
            gdf_edges=edges,
            gdf_incidents=demo_plan.gdf_incidents,
            weights=demo_plan.weights,
            gdf_hotspots=demo_plan.gdf_hotspots,
            routes=demo_plan.routes,
            route_coords=demo_plan.route_coords,
            schedule=demo_plan.schedule,
            title=title,
            lang=lang,
        )
        (out / f"map_{lang}.html").write_text(render.to_html(m), encoding="utf-8")
        sheets = render.route_sheets(
            demo_plan.routes,
            demo_plan.route_coords,
            demo_plan.schedule,
            gdf_edges=edges,
            title=title,
            lang=lang,
        )
        (out / f"sheets_{lang}.html").write_text(sheets, encoding="utf-8")
        names = i18n.street_names(edges, lang)
        r, coords = demo_plan.routes[0], demo_plan.route_coords[0]
        export.gpx(
            out / f"o1_{lang}.gpx",
            r,
            coords,
            shift_start=demo_plan.shift_start,
            lang=lang,
            streets=names,
        )
        export.kml(
            out / f"r_{lang}.kml",
            demo_plan.routes,
            demo_plan.route_coords,
            shift_start=demo_plan.shift_start,
            colours=[render.officer_colour(x.officer) for x in demo_plan.routes],
            lang=lang,
            streets=names,
        )
        export.write_csv(
            out / f"schedule_{lang}.csv",
            export.schedule_labels(demo_plan.schedule, lang=lang, streets=names),
        )
    return out


def _visible_text(page: str) -> str:
    """Text a person reads in a page: no scripts, styles, tags or street names of the data."""
    import html

    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page)).replace("\u202f", " ")


def _ui_text(map_page: str) -> str:
    """Interface text of a map page: layer names, legend, popups and tooltips."""
    import html
    import json

    control = re.search(r"layer_control_\w+_layers = \{(.*?)\};", map_page, re.S)
    assert control
    parts = [json.loads(n) for n in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', control.group(1))]
    parts += re.findall(r'<div id="pp-legend".*?</div>\s*</div>', map_page, re.S)
    parts += re.findall(r'html_[0-9a-f]{8}" style="[^"]*">(.*?)</div>`', map_page, re.S)
    parts += re.findall(r"bindTooltip\(\s*`<div>(.*?)</div>`", map_page, re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", "\n".join(parts)))
    return text.replace("\u202f", " ")


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_map_is_translated(pages, demo_plan, lang):
    page = (pages / f"map_{lang}.html").read_text(encoding="utf-8")
    ui = _ui_text(page)
    assert len(ui) > 5000
    # streets walked come from the data (Baltimore): leave them out before looking for English
    streets = {s.street for r in demo_plan.routes for s in r.stops} | {"Leaflet"}
    cleaned = ui
    for s in sorted(streets, key=len, reverse=True):
        cleaned = cleaned.replace(s, "")
    for cat in demo_plan.gdf_hotspots["top_categories"]:
        cleaned = cleaned.replace(str(cat), "")
    left = [w for w in ENGLISH_UI if w in cleaned]
    assert left == [], left
    words = {
        "ru": [
            "План патрулирования на 19 июня 2016 г., смена 18:00-22:00",  # noqa: RUF001
            "Инспектор 1: ",
            "Горячие точки (",
            "Тепловая карта: преступления (538 происшествий)",
            "Улицы (офлайн-подложка)",
            "горячая точка посещается",
            "© участники OpenStreetMap (ODbL)",
            "Инспектор 1, остановка 1",
            "прибытие 18:",
            "риск ",
            " км",
            "улица Первая",
        ],
        "kk": [
            "Патрульдеу жоспары: 2016 ж. 19 маусым, ауысым 18:00-22:00",
            "Инспектор 1: ",
            "Қауіпті нүктелер (",
            "Жылу картасы: қылмыс (538 оқиға)",
            "Көшелер (офлайн негізгі карта)",
            "қауіпті нүктеге барылады",
            "© OpenStreetMap қатысушылары (ODbL)",
            "Инспектор 1, 1-аялдама",
            "келу 18:",
            "тәуекел ",
            " км",
            "Бірінші көше",
        ],
    }[lang]
    for w in words:
        assert w in ui, w
    # decimal comma in the legend's distances
    assert re.search(r"\d+,\d км", ui)
    assert "DejaVu Sans" in page


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_sheets_are_translated(pages, demo_plan, lang):
    page = (pages / f"sheets_{lang}.html").read_text(encoding="utf-8")
    assert f'<html lang="{lang}">' in page
    assert "font: 9pt/1.3 DejaVu Sans" in page
    text = _visible_text(page)
    for r in demo_plan.routes:
        for s in r.stops:
            text = text.replace(s.street, "")
            for v in s.via:
                text = text.replace(v, "")
        for v in r.return_via:
            text = text.replace(v, "")
    left = [w for w in ENGLISH_UI if w in text]
    assert left == [], left
    words = {
        "ru": [
            "План патрулирования на 19 июня 2016 г.",  # noqa: RUF001
            "Инспектор 3",
            "остановок по 12 мин",
            "км пешком",
            "Примечания:",
            "возврат на пост",
            "Путь по улицам",
            "улица Первая",
        ],
        "kk": [
            "Патрульдеу жоспары: 2016 ж. 19 маусым",
            "Инспектор 3",
            "минуттан",
            "жаяу ",
            "Ескертпелер:",
            "постқа оралу",
            "Жүру жолы",
            "Бірінші көше",
        ],
    }[lang]
    for w in words:
        assert w in text, w


def test_english_stays_as_it_was(pages, demo_plan):
    page = (pages / "map_en.html").read_text(encoding="utf-8")
    for r in demo_plan.routes:
        assert f"Officer {r.officer}: {len(r.stops)} stops" in page
    assert "Streets (offline base map)" in page
    assert "© OpenStreetMap contributors (ODbL)" in page
    sheets = (pages / "sheets_en.html").read_text(encoding="utf-8")
    assert "Patrol plan for June 19, 2016, shift 18:00-22:00 &middot; Officer 1" in sheets
    assert "<th>Walk via</th>" in sheets


def test_exported_labels_are_translated_and_keys_stay_english(pages, demo_plan):
    gpx = (pages / "o1_ru.gpx").read_text(encoding="utf-8")
    assert "<name>Инспектор 1, 19 июня 2016\u202fг. 18:00</name>" in gpx  # noqa: RUF001
    assert "<name>Пост</name>" in gpx
    assert "прибытие 18:" in gpx
    assert "улица Первая" in gpx
    assert "<type>post</type>" in gpx
    assert "<type>stop</type>" in gpx
    kml = (pages / "r_kk.kml").read_text(encoding="utf-8")
    assert "<name>Патрульдеу жоспары: 2016\u202fж. 19 маусым, 18:00</name>" in kml
    assert "<name>Инспектор 1: маршрут</name>" in kml
    assert "Officer" not in kml
    ru = pd.read_csv(pages / "schedule_ru.csv", dtype={"stop": str})
    en = pd.read_csv(pages / "schedule_en.csv", dtype={"stop": str})
    # stable English columns and values, translated labels beside them
    stable = [c for c in demo_plan.schedule.columns if c not in export.LABEL_COLUMNS]
    assert list(ru.columns) == [*stable, "task_label", "street_label"]
    assert (ru["task"] == en["task"]).all()
    assert set(ru.loc[ru["task"] == "return", "task_label"]) == {"возврат на пост"}
    assert set(ru.loc[ru["task"] == "return", "street_label"]) == {"пост"}
    assert ru.loc[ru["task"] == "street", "task_label"].str.startswith("обход S").all()
    assert set(en.loc[en["task"] == "return", "task_label"]) == {"return to post"}
    assert "улица Первая" in set(ru["street_label"])


def test_schedule_frame_takes_a_language(demo_plan):
    sched = export.schedule_frame(
        demo_plan.routes, shift_start=demo_plan.shift_start, G=demo_plan.G, lang="kk"
    )
    assert list(sched.columns[-2:]) == ["task_label", "street_label"]
    assert set(sched.loc[sched["task"] == "return", "task_label"]) == {"постқа оралу"}
    with pytest.raises(InputDataError, match="`lang`"):
        export.schedule_frame(demo_plan.routes, shift_start=demo_plan.shift_start, lang="de")


def test_bad_language_is_refused_by_every_writer(demo_plan, tmp_path):
    edges = graph.edges_gdf(demo_plan.G)
    with pytest.raises(InputDataError, match="en, ru, kk"):
        render.route_sheets(
            demo_plan.routes, demo_plan.route_coords, demo_plan.schedule, gdf_edges=edges, lang="e"
        )
    with pytest.raises(InputDataError, match="en, ru, kk"):
        export.gpx(
            tmp_path / "x.gpx",
            demo_plan.routes[0],
            demo_plan.route_coords[0],
            shift_start=demo_plan.shift_start,
            lang="русский",
        )
    assert not (tmp_path / "x.gpx").exists()


def _chromium(args, tmp_path):
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--window-size=1400,1000",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]
    return subprocess.run(
        [CHROMIUM, *flags, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
        check=False,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_kazakh_map_renders_its_letters_in_chromium(pages, tmp_path):
    dom = _chromium(["--dump-dom", (pages / "map_kk.html").as_uri()], tmp_path).stdout
    controls = re.search(r'class="leaflet-control-layers-list".*?</section>', dom, re.S)
    assert controls
    assert "Қауіпті нүктелер" in controls.group(0)
    assert "Инспектор 3" in controls.group(0)
    shot = tmp_path / "map_kk.png"
    _chromium([f"--screenshot={shot}", (pages / "map_kk.html").as_uri()], tmp_path)
    assert shot.stat().st_size > 20_000
    saved = os.environ.get("PATROLPLAN_SCREENSHOT_DIR")
    if saved:
        shutil.copy(shot, Path(saved) / "map_kk.png")


@pytest.mark.skipif(
    CHROMIUM is None or PDFTOTEXT is None, reason="needs chromium and pdftotext (poppler-utils)"
)
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_pdf_sheets_keep_cyrillic_and_kazakh_letters(pages, demo_plan, tmp_path, lang):
    pdf = render.sheets_to_pdf(pages / f"sheets_{lang}.html", tmp_path / f"sheets_{lang}.pdf")
    # one A4 page per officer, as in English
    # the overview of all officers, then a page per officer
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == 1 + len(demo_plan.routes)
    text = subprocess.run(
        [PDFTOTEXT, "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    text = " ".join(text.replace("\u202f", " ").split())
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=False, timeout=60
    ).stdout
    assert "DejaVuSans" in fonts
    if lang == "ru":
        assert "План патрулирования на 19 июня 2016 г." in text  # noqa: RUF001
        assert "Примечания:" in text
        assert "возврат" in text
    else:
        assert "Патрульдеу жоспары: 2016 ж. 19 маусым" in text
        assert "Ескертпелер:" in text
        assert "постқа" in text
        # every letter Kazakh adds to Cyrillic comes out of the PDF as itself
        sample = render.escape_text(KAZAKH_LETTERS.upper() + " " + KAZAKH_LETTERS)
        html = (pages / "sheets_kk.html").read_text(encoding="utf-8")
        probe = tmp_path / "letters.html"
        probe.write_text(html.replace("</h1>", f" {sample}</h1>", 1), encoding="utf-8")
        letters = subprocess.run(
            [PDFTOTEXT, "-enc", "UTF-8", str(render.sheets_to_pdf(probe, tmp_path / "l.pdf")), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        assert KAZAKH_LETTERS.upper() + " " + KAZAKH_LETTERS in letters


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_a_long_timetable_in_russian_or_kazakh_prints_one_page_per_sheet(demo_plan, tmp_path, lang):
    # officer 1 given every stop of the plan twice over, under a long localised title
    sched = demo_plan.schedule
    stops = sched[sched["task"] != "return"]
    rows = pd.concat([stops] * 2, ignore_index=True).assign(officer=1)
    rows = pd.concat([rows, sched[sched["task"] == "return"].head(1)], ignore_index=True)
    rows["stop"] = [str(i) for i in range(1, len(rows))] + ["return"]
    page = render.route_sheets(
        demo_plan.routes[:1],
        demo_plan.route_coords[:1],
        rows,
        gdf_edges=graph.edges_gdf(demo_plan.G),
        title=_title(demo_plan, lang),
        lang=lang,
    )
    n = page.count('<section class="sheet">')
    assert n >= 2
    assert page.count("<tr><td>") == len(rows)
    (tmp_path / "sheets.html").write_text(page, encoding="utf-8")
    pdf = render.sheets_to_pdf(tmp_path / "sheets.html", tmp_path / "s.pdf")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == n


def test_daily_plan_speaks_the_language_of_its_options():
    from patrolplan import datasets
    from patrolplan.options import PlanOptions
    from patrolplan.plan import daily_plan

    # a library user or a batch worker gets the district's language without setting it
    with pytest.raises(InputDataError, match=r"^`post` 95,10 — не пара широта,долгота$"):
        daily_plan(datasets.baltimore_crimes(), datasets.baltimore_osm(), [(95, 10)],
                   PlanOptions(lang="ru"))  # fmt: skip
    assert i18n.get_language() == "en"
    with pytest.raises(InputDataError, match=r"^`incidents` layers must be among"):
        daily_plan({"x": "a.csv"}, datasets.baltimore_osm(), [(39.28, -76.59)])


def test_severity_classes_are_named_in_the_language():
    with i18n.language("ru"):
        assert i18n.category_label("MINOR") == "небольшой тяжести"
        assert i18n.category_label("ОСОБО ТЯЖКИЕ") == "особо тяжкое"  # noqa: RUF001
        assert i18n.category_label("FATAL") == "ДТП с погибшими"
        assert i18n.top_categories_label("GRAVE 4, COMMON ASSAULT 2, UNKNOWN 1") == (
            "тяжкое 4, COMMON ASSAULT 2, без категории 1"
        )
    with i18n.language("kk"):
        assert i18n.category_label("СРЕДНЕЙ ТЯЖЕСТИ") == "ауырлығы орташа"
        assert i18n.category_label("ESPECIALLY GRAVE") == "аса ауыр"
        assert i18n.layer_name("accident") == "ЖКО"
    # every built-in class of ingest has a name, and categories of the data stay as they are
    from patrolplan.ingest import DEFAULT_SEVERITY

    statutory = [c for c in DEFAULT_SEVERITY["crime"] if c.split()[0] not in ("HOMICIDE",)]
    classes = [c for c in statutory if c in i18n.SEVERITY_LABELS]
    assert len(classes) == 14
    assert set(DEFAULT_SEVERITY["accident"]) <= set(i18n.SEVERITY_LABELS)
    assert i18n.category_label("LARCENY") == "LARCENY"
    assert i18n.top_categories_label("A, B 2, C") == "A, B 2, C"


def test_hotspot_popups_name_the_severity_classes_in_the_language(demo_plan):
    edges = graph.edges_gdf(demo_plan.G)
    hot = demo_plan.gdf_hotspots.head(3).assign(top_categories="ESPECIALLY GRAVE 3, LARCENY 1")
    m = render.plan_map(
        gdf_edges=edges,
        gdf_incidents=demo_plan.gdf_incidents,
        weights=demo_plan.weights,
        gdf_hotspots=hot,
        routes=demo_plan.routes,
        route_coords=demo_plan.route_coords,
        schedule=demo_plan.schedule,
        lang="kk",
    )
    ui = _ui_text(render.to_html(m, offline=False))
    assert "аса ауыр 3, LARCENY 1" in ui
    assert "ESPECIALLY GRAVE" not in ui


@pytest.mark.parametrize(
    "path",
    [
        LOCALE / "patrolplan.pot",
        *(LOCALE / lang / "LC_MESSAGES" / "patrolplan.po" for lang in ("ru", "kk")),
    ],
    ids=["pot", "ru", "kk"],
)
def test_catalogs_hold_each_message_once_and_only_the_codes(path):
    # gettext's own tools (msgfmt, Poedit) refuse a catalog that defines a message twice;
    # Babel reads it silently, keeping one of the two
    keys = []
    for block in re.split(r"\n\n+", path.read_text(encoding="utf-8")):
        msgid = re.search(r'^msgid ((?:"(?:[^"\\]|\\.)*"\s*)+)', block, re.M)
        if msgid is None:
            continue
        text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', msgid[1]))
        ctx = re.search(r'^msgctxt "(.*)"$', block, re.M)
        if text:
            keys.append((ctx[1] if ctx else None, text))
    assert len(keys) == len(set(keys))
    # and no message the code no longer has
    entries = _entries(_catalog(path))
    assert entries <= _code_messages()
