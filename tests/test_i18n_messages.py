"""Errors, warnings and log lines in the user's language, with file, row and column intact."""

# ruff: noqa: RUF001 - Russian and Kazakh messages are Cyrillic

from __future__ import annotations

import logging
import re

import pandas as pd
import pytest

from patrolplan import (
    InfeasibleRouteError,
    InputDataError,
    backtest,
    config,
    datasets,
    evaluate,
    hotspots,
    i18n,
    ingest,
    routing,
    utils,
)
from patrolplan._errors import PatrolPlanError
from patrolplan.options import PlanOptions

from .conftest import DATA

OAKLAND = DATA / "oakland" / "oakland_crimes_2012-2013.csv"
TORONTO = DATA / "toronto" / "toronto_mci_downtown.csv"
KAZAKH_LETTERS = set("әғқңөұүһі")


def _cyrillic(text: str) -> bool:
    return bool(re.search("[а-яА-ЯёЁ]", text))


def _raise_in(lang: str, func, *args, error=InputDataError, **kwargs) -> str:
    with i18n.language(lang), pytest.raises(error) as info:
        func(*args, **kwargs)
    return str(info.value)


def _drop_column(src, dest, column: str):
    """Copy a real CSV without one of its columns."""
    lines = src.read_text(encoding="utf-8").splitlines()[:40]
    header = lines[0].split(",")
    k = header.index(column)
    dest.write_text(
        "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != k) for line in lines)
        + "\n",
        encoding="utf-8",
    )
    return dest


# ----------------------------------------------------------------------------------------------
# ingest


def test_missing_column_error_in_three_languages(tmp_path):
    path = _drop_column(TORONTO, tmp_path / "toronto_no_lat.csv", "lat")
    en = _raise_in("en", ingest.read_incidents, path)
    ru = _raise_in("ru", ingest.read_incidents, path)
    kk = _raise_in("kk", ingest.read_incidents, path)
    assert en == (
        f"{path}: no latitude column; columns are ['datetime', 'category', 'lon']. "
        "Name them with `columns`, e.g. lat=Y,lon=X"
    )
    assert ru == (
        f"{path}: нет столбца широты; столбцы файла: ['datetime', 'category', 'lon']. "
        "Укажите их в `columns`, например lat=Y,lon=X"
    )
    assert kk.startswith(f"{path}: ендік бағаны жоқ; файлдың бағандары: ['datetime',")
    assert "`columns`" in kk
    assert "lat=Y,lon=X" in kk


def test_explicit_column_error_keeps_the_column_and_option(tmp_path):
    ru = _raise_in("ru", ingest.read_incidents, TORONTO, columns={"lat": "Y"})
    assert ru.startswith(f"{TORONTO}: столбца 'Y', указанного для `lat`, нет в файле")
    kk = _raise_in("kk", ingest.read_incidents, TORONTO, columns={"lat": "Y"})
    assert "`lat`" in kk
    assert "'Y'" in kk
    assert KAZAKH_LETTERS & set(kk)


def test_bad_dates_give_a_translated_summary_and_english_reason_codes(tmp_path):
    with i18n.language("ru"):
        _gdf, report = ingest.read_incidents(OAKLAND)
    # the rejected rows stay machine-readable: file, row, column and reason as in English
    assert set(report.rejected["column"]) == {"datetime"}
    assert set(report.rejected["reason"]) == {"unparseable_datetime", "implausible_datetime"}
    summary = report.summary()  # made in the language current when it is called: English here
    assert summary.startswith("oakland_crimes_2012-2013.csv [crime]: 1,000 read, 996 kept")
    with i18n.language("ru"):
        ru = report.summary()
    with i18n.language("kk"):
        kk = report.summary()
    assert ru == (
        "oakland_crimes_2012-2013.csv [crime]: прочитано 1\u00a0000, принято 996, отклонено 4 "
        "(нераспознанная дата 2, неправдоподобная дата 2)"
    )
    assert kk.startswith("oakland_crimes_2012-2013.csv [crime]: оқылды 1\u00a0000, қабылданды 996")
    assert "күні шындыққа жанаспайды 2" in kk


def test_validation_notes_are_written_in_the_language_of_the_read():
    with i18n.language("en"):
        _, en = ingest.read_incidents(TORONTO)
    with i18n.language("ru"):
        _, ru = ingest.read_incidents(TORONTO)
    with i18n.language("kk"):
        _, kk = ingest.read_incidents(TORONTO)
    assert len(en.notes) == len(ru.notes) == len(kk.notes) >= 1
    midnight = [n for n in en.notes if "exactly 00:00" in n]
    assert midnight, en.notes
    assert any("ровно на 00:00" in n for n in ru.notes)
    assert any("дәл 00:00" in n for n in kk.notes)
    # a number for people in the locale's format: decimal comma
    share = re.search(r"(\d+\.\d)%", midnight[0]).group(1)
    assert any(share.replace(".", ",") + "%" in n for n in ru.notes)


def test_all_rows_bad_error_names_file_and_reasons(tmp_path):
    path = tmp_path / "oakland_bad_dates.csv"
    lines = OAKLAND.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    k = header.index("datetime")
    rows = [line.split(",") for line in lines[1:6]]
    for r in rows:
        r[k] = "вчера"
    path.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    en = _raise_in("en", ingest.read_incidents, path)
    kk = _raise_in("kk", ingest.read_incidents, path)
    assert en == f"{path}: no usable incident among 5 rows (unparseable_datetime 5)"
    assert kk == f"{path}: жолдардың (5) ішінде жарамды бірде-бір оқиға жоқ (күні танылмады 5)"


def test_not_found_and_bad_option_values(tmp_path):
    missing = tmp_path / "нет.csv"
    assert _raise_in("ru", ingest.read_incidents, missing) == f"{missing}: файл не найден"
    assert _raise_in("kk", ingest.read_incidents, missing) == f"{missing}: файл табылмады"
    ru = _raise_in("ru", ingest.read_incidents, TORONTO, tz="Almaty")
    assert ru.startswith("`tz` должен быть названием часового пояса IANA")
    assert "'Almaty'" in ru
    assert _raise_in("en", ingest.read_incidents, TORONTO, tz="Almaty").startswith(
        "`tz` must be an IANA time zone name"
    )


def test_severity_warning_is_logged_in_the_language(caplog):
    caplog.set_level(logging.WARNING, logger="patrolplan")
    with i18n.language("kk"):
        ingest.read_incidents(TORONTO, severity={"NOTHING": 3.0})
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(
        line.startswith("toronto_mci_downtown.csv: crime қабатының ауырлық кестесінде")
        for line in lines
    ), lines


# ----------------------------------------------------------------------------------------------
# options and district files


def test_bad_option_in_a_district_file_names_file_section_and_option():
    source = "west_oakland.toml: [plan]"
    data = {"officers": "3"}
    en = _raise_in("en", PlanOptions.from_mapping, data, source=source)
    ru = _raise_in("ru", PlanOptions.from_mapping, data, source=source)
    kk = _raise_in("kk", PlanOptions.from_mapping, data, source=source)
    assert en == "west_oakland.toml: [plan]: `officers` must be a whole number, got '3' (str)"
    assert (
        ru == "west_oakland.toml: [plan]: `officers` должен быть целым числом, получено '3' (str)"
    )
    assert kk == "west_oakland.toml: [plan]: `officers` бүтін сан болуы керек, берілгені '3' (str)"


def test_out_of_range_and_unparseable_options():
    assert _raise_in("ru", PlanOptions, officers=0) == (
        "`officers` должен быть не меньше 1 и не больше 500, получено 0"
    )
    assert _raise_in("en", PlanOptions, officers=0) == (
        "`officers` must be at least 1 and at most 500, got 0"
    )
    kk = _raise_in("kk", PlanOptions, shift="four hours")
    assert (
        kk
        == "`shift` 4h, 90m, 3h30m немесе 4:30 тәрізді ұзақтық болуы керек; берілгені 'four hours'"
    )
    assert _raise_in("ru", PlanOptions, date="19.06.2016") == (
        "`date` должен быть датой YYYY-MM-DD, получено '19.06.2016'"
    )


def test_broken_district_file(tmp_path):
    broken = DATA / "districts" / "broken.toml"
    ru = _raise_in("ru", config.load_config, broken)
    assert ru.startswith(f"{broken}: некорректный TOML (")
    assert _raise_in("en", config.load_config, broken).startswith(f"{broken}: not valid TOML (")
    bad = tmp_path / "district.toml"
    bad.write_text('[layers.crime]\nfile = "crimes.csv"\nweight = "много"\n', encoding="utf-8")
    assert _raise_in("kk", config.load_config, bad) == (
        f"{bad}: [layers.crime] `weight`: сан күтіледі, берілгені 'много' (str)"
    )
    assert _raise_in("en", config.load_config, bad) == (
        f"{bad}: [layers.crime] `weight` must be a number, got 'много' (str)"
    )
    missing = tmp_path / "нет.toml"
    assert _raise_in("kk", config.load_config, missing) == f"{missing} баптау файлы табылмады"


# ----------------------------------------------------------------------------------------------
# routing


def _short_shift(demo_plan):
    posts = list(datasets.DEMO_POSTS)
    options = routing.RouteOptions(shift_min=10)
    return routing.solve(demo_plan.G, demo_plan.gdf_hotspots, posts, options)


def test_too_short_shift_in_three_languages(demo_plan):
    en = _raise_in("en", _short_shift, demo_plan, error=InfeasibleRouteError)
    ru = _raise_in("ru", _short_shift, demo_plan, error=InfeasibleRouteError)
    kk = _raise_in("kk", _short_shift, demo_plan, error=InfeasibleRouteError)
    hot, n, need, walk, dwell, lat, lon = re.fullmatch(
        r"shift of officer 1 is 10 min but the nearest hotspot, (H\d+) \(of (\d+) found for "
        r"this shift\), needs (\d+) min: (\d+) min walk there and back plus (\d+) min dwell, "
        r"from post (-?\d+\.\d{5}),(-?\d+\.\d{5})",
        en,
    ).groups()
    assert ru == (
        f"смена инспектора 1 длится 10 мин, а на ближайшую горячую точку, {hot} (из {n} "
        f"найденных для этой смены), с поста {lat},{lon} нужно {need} мин: {walk} мин дороги "
        f"туда и обратно и {dwell} мин на точке"
    )
    assert kk.startswith(f"инспектор 1 ауысымы 10 мин, ал {lat},{lon} постынан ең жақын")
    assert f"{need} мин" in kk


@pytest.mark.parametrize(
    ("text", "ru"),
    [
        ("39.2", "`post` должен быть задан как 'lat,lon' в градусах"),
        ("91,0", "`post` '91,0' не является парой широта,долгота"),
    ],
)
def test_bad_post(text, ru):
    assert _raise_in("ru", routing.parse_post, text, error=InfeasibleRouteError).startswith(ru)
    kk = _raise_in("kk", routing.parse_post, text, error=InfeasibleRouteError)
    assert kk.startswith("`post` ")
    assert KAZAKH_LETTERS & set(kk)


@pytest.mark.parametrize(
    ("officers", "pattern"),
    [
        (2, r"у инспектора \d нет заданий: заданий \(1\) меньше, чем инспекторов \(2\)"),
        (3, r"у инспекторов \d, \d нет заданий: заданий \(1\) меньше, чем инспекторов \(3\)"),
    ],
)
def test_idle_officers_warning_uses_russian_plural_forms(demo_plan, caplog, officers, pattern):
    caplog.set_level(logging.WARNING, logger="patrolplan")
    hot = demo_plan.gdf_hotspots.sort_values("rank").head(1)
    options = routing.RouteOptions(officers=officers, max_segments=0, iterations=50)
    with i18n.language("ru"):
        routing.solve(demo_plan.G, hot, list(datasets.DEMO_POSTS), options)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [line for line in lines if re.fullmatch(pattern, line)], lines


# ----------------------------------------------------------------------------------------------
# hotspots: what a supervisor is warned of


def _warnings(demo_plan, lang):
    with i18n.language(lang):
        return hotspots.data_warnings(
            demo_plan.gdf_incidents,
            demo_plan.weights,
            demo_plan.gdf_hotspots,
            at="2016-10-01",
            max_size_m=40,
        )


def test_data_warnings_in_three_languages(demo_plan):
    en, ru, kk = (_warnings(demo_plan, lang) for lang in ("en", "ru", "kk"))
    assert len(en) == len(ru) == len(kk) >= 2
    wide = re.fullmatch(
        r"hotspot (H\d{3}) is (\d+) m across: more than one officer can watch \(40 m\)", en[0]
    )
    assert wide, en
    hid, size = wide.groups()
    assert ru[0] == (
        f"горячая точка {hid} в поперечнике {size} м: больше, чем может охватить один "
        "инспектор (40 м)"
    )
    assert kk[0] == (
        f"{hid} қауіпті нүктесінің көлденеңі {size} м: бір инспектор бақылай алатыннан (40 м) үлкен"
    )
    old = [line for line in en if line.startswith("the latest incident is")]
    days = re.search(r"is (\d+) days older", old[0]).group(1)
    assert f"последнее происшествие произошло раньше даты плана на {days} дн." in ru
    assert f"соңғы оқиға жоспар күнінен {days} күн бұрын болған" in kk
    assert all(_cyrillic(line) for line in ru + kk)


# ----------------------------------------------------------------------------------------------
# output folders


def test_output_folder_errors(tmp_path):
    taken = tmp_path / "plan.txt"
    taken.write_text("not a folder", encoding="utf-8")
    error = PatrolPlanError
    assert _raise_in("ru", utils.check_output_dir, taken, error=error) == (
        f"папка результатов {taken} — это существующий файл, а не папка"
    )
    assert _raise_in("kk", utils.check_output_dir, taken, error=error) == (
        f"{taken} нәтижелер қалтасы — қалта емес, бар файл"
    )
    out = tmp_path / "plan"
    out.mkdir()
    for name in ("map.html", "report.json"):
        (out / name).write_text("mine", encoding="utf-8")
    one = _raise_in("ru", utils.check_output_dir, out, names=["map.html"], error=error)
    assert one == (
        f"в папке результатов {out} уже есть map.html: этот файл записан не patrolplan (или "
        "изменён после записи); переместите его или выберите другую папку результатов"
    )
    two = _raise_in(
        "kk", utils.check_output_dir, out, names=["map.html", "report.json"], error=error
    )
    assert two.startswith(f"{out} нәтижелер қалтасында map.html, report.json бар: бұл файлдарды")
    en = _raise_in("en", utils.check_output_dir, out, names=["map.html"], error=error)
    assert en == (
        f"output folder {out} already holds map.html, which patrolplan did not write (or that "
        "changed since it did); move it away or choose another output folder"
    )


# ----------------------------------------------------------------------------------------------
# backtest and replay


def test_method_choice_reason_follows_the_language_even_from_the_cache(tmp_path):
    gdf, _report = ingest.read_incidents(datasets.baltimore_crimes())
    near = gdf[
        gdf.geometry.y.between(39.2586, 39.3065) & gdf.geometry.x.between(-76.6081, -76.5288)
    ]

    def reason(lang):
        with i18n.language(lang):
            return backtest.choose_method(
                near,
                at="2016-06-19 18:00",
                shift_start_hour=18,
                shift_length_h=4,
                cache_dir=tmp_path,
            ).reason

    en = reason("en")
    assert en.startswith("history too short to backtest (")
    assert len(list((tmp_path / "method_choice").glob("*.json"))) == 1
    # the second and third calls read the cache, written in English
    ru, kk = reason("ru"), reason("kk")
    assert ru.startswith("история слишком коротка для ретроспективной проверки (лишь в ")
    assert ru.endswith(f": {backtest.FALLBACK_METHOD} с масштабом самих данных")
    assert kk.startswith("тарих ретроспективті тексеру үшін тым қысқа (")
    # one cache entry serves every language
    assert len(list((tmp_path / "method_choice").glob("*.json"))) == 1
    assert reason("en") == en


def test_replay_day_errors():
    ru = _raise_in("ru", evaluate.replay_days, "2017-03-20", "2017-03-01")
    assert ru == "нет проверочных дней с 2017-03-20 по 2017-03-01 с шагом 1 дн."
    kk = _raise_in("kk", evaluate.replay_days, "1 март", "2017-03-01")
    assert kk == "`from` YYYY-MM-DD түріндегі күн болуы керек, берілгені '1 март'"


def test_missing_demo_data(tmp_path, monkeypatch):
    monkeypatch.setenv("PATROLPLAN_DATA", str(tmp_path))
    ru = _raise_in("ru", datasets.baltimore_crimes, error=FileNotFoundError)
    assert ru.startswith(f"Демонстрационный файл {tmp_path / 'baltimore'}")
    assert "`pip install -e .`" in ru
    assert "PATROLPLAN_DATA" in ru


def test_replay_table_in_russian_keeps_english_unchanged():
    """The evaluate table: heads and method names translated, decimal comma, English as before."""
    from patrolplan import evaluate

    row = {"method": "counts_28d", "captured": 55.0, "incidents": 1440, "km_per_shift": 7.25}
    row["zone_km2"] = 0.5
    for name, value in [
        ("capture_rate", 0.382),
        ("per_officer_hour", 0.0925),
        ("per_km", 0.0301),
        ("vs_random", 11.5),
        ("vs_counts", 1.22),
        ("share_of_oracle", 0.38),
    ]:
        row[name], row[f"{name}_lo"], row[f"{name}_hi"] = value, value * 0.8, value * 1.3
    table = pd.DataFrame([row])
    english = evaluate.format_table(table)
    assert english.splitlines()[0].startswith("| method | captured / incidents | capture rate |")
    assert "| counts_28d | 55 / 1,440 | 38.2% [30.6%, 49.7%] |" in english
    with i18n.language("ru"):
        russian = evaluate.format_table(table)
    assert russian.splitlines()[0].startswith("| метод | охвачено / происшествий |")
    assert "подсчёт за 28 дн." in russian
    assert "1,22 [0,98; 1,59]" in russian
    assert "1\xa0440" in russian
