"""The map as a string and as a person sees it in a browser with no network."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from patrolplan import hotspots, render

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_map_is_self_contained(demo_dir):
    page = (demo_dir / "map.html").read_text()
    # no script or stylesheet from the network; only the optional, hidden tile layer is online
    assert not re.search(r'<script[^>]+src="https?://', page)
    assert not re.search(r'<link[^>]+href="https?://', page)
    assert "L.heatLayer" in page
    assert "setText" in page
    assert "OpenStreetMap contributors" in page


def test_map_has_every_layer(demo_dir, demo_plan):
    page = (demo_dir / "map.html").read_text()
    for r in demo_plan.routes:
        assert f"Officer {r.officer}: {len(r.stops)} stops" in page
        for s in r.stops:
            assert f"Officer {r.officer}, stop {s.order}" in page
    assert "Streets (offline base map)" in page
    assert "Heat: crime" in page
    assert f"Hotspots ({len(demo_plan.gdf_hotspots)})" in page
    assert "pp-legend" in page


def _street_labels(page):
    """The street names a map page places: ``[name, metres, walked, places]`` each."""
    found = re.search(r"names = (\[.*?\]), minZoom", page)
    assert found
    return json.loads(found.group(1))


def _first_name(name):
    name = name[0] if isinstance(name, list) else name
    return str(name or "").split(";")[0]


def test_map_names_the_streets_walked_and_at_each_stop(demo_dir, demo_plan):
    import geopandas as gpd
    import shapely

    from patrolplan import graph

    labels = _street_labels((demo_dir / "map.html").read_text())
    G = demo_plan.G
    walked = set()
    for r in demo_plan.routes:
        for a, b in zip(r.nodes, r.nodes[1:], strict=False):
            data = G.get_edge_data(a, b) or G.get_edge_data(b, a)
            walked.add(_first_name(min(data.values(), key=lambda d: d["length"]).get("name")))
    walked.discard("")
    # every street a route walks is named, and only those are marked as walked
    assert {t for t, _m, w, _at in labels if w} == walked
    assert len(walked) >= 30
    # and every named street at a stop or post
    names = {t for t, *_rest in labels}
    for r in demo_plan.routes:
        for node in [s.node for s in r.stops] + [r.post_node]:
            at = {_first_name(d.get("name")) for _u, _v, d in G.edges(node, data=True)} - {""}
            assert at <= names, (r.officer, node, at - names)
    # walked streets first; every place lies on a street of that name, text reading left-right
    flags = [w for _t, _m, w, _at in labels]
    assert flags == sorted(flags, reverse=True)
    edges = graph.edges_gdf(G)
    utm = edges.estimate_utm_crs()
    lines = edges.to_crs(utm).assign(first=edges["name"].map(_first_name))
    by_name = {n: shapely.union_all(g.geometry.to_numpy()) for n, g in lines.groupby("first")}
    for text, metres, _w, places in labels:
        assert metres > 0
        assert len(places) == 9
        pts = gpd.GeoSeries(
            gpd.points_from_xy([p[1] for p in places], [p[0] for p in places]), crs=4326
        ).to_crs(utm)
        assert max(pts.distance(by_name[text])) < 1.0, text
        assert all(-90 < p[2] <= 90 for p in places)


def test_street_names_of_a_tiny_graph_are_inert():
    import geopandas as gpd
    from shapely.geometry import LineString

    from patrolplan.routing import Route

    hostile = "<img src=x onerror=alert(1)>"
    template = "{{7*7}}</script><script>alert(2)</script>"
    edges = gpd.GeoDataFrame(
        {"u": [1, 2], "v": [2, 3], "name": [hostile, template], "length": [200.0, 200.0]},
        geometry=[
            LineString([(-76.6, 39.29), (-76.5977, 39.29)]),
            LineString([(-76.5977, 39.29), (-76.5977, 39.2918)]),
        ],
        crs="EPSG:4326",
    )
    route = Route(
        officer=1, post=(39.29, -76.6), post_node=1, shift_min=60.0, stops=(),
        nodes=(1, 2, 3, 2, 1), length_m=800.0, walk_min=10.0, dwell_min=0.0, return_via=(),
        end_node=1,
    )  # fmt: skip
    labels = render.street_name_labels([route], edges)
    # one label per street, at the middle first: east along the first, north along the second
    assert [(t, w) for t, _m, w, _at in labels] == [(hostile, True), (template, True)]
    assert labels[0][3][0] == (39.29, -76.59885, 0.0)
    assert labels[1][3][0][2] == 90.0
    m = render.base_map(edges)
    m.add_child(render._street_names(labels))
    page = render.to_html(m)
    assert "<img src=x" not in page
    assert "{{7*7}}" not in page
    assert "alert(2)</script>" not in page
    assert [t for t, *_rest in _street_labels(page)] == [hostile, template]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_map_renders_in_headless_chromium_without_errors(demo_dir, tmp_path):
    shot = tmp_path / "map.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--window-size=1400,1000",
        # no network: every host resolves nowhere
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ]
    proc = subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", (demo_dir / "map.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert not [c for c in console if "Uncaught" in c or "Error" in c], console
    assert shot.is_file()
    assert shot.stat().st_size > 20_000
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", (demo_dir / "map.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    ).stdout
    # Leaflet built the layer control and drew the route paths and numbered stops
    assert "leaflet-control-layers" in dom
    assert dom.count("leaflet-interactive") > 100
    assert "Officer 3: " in dom
    # the map opens on the routes, where the names of the streets walked fit and show
    labels = _street_labels((demo_dir / "map.html").read_text())
    spans = re.findall(
        r'<span class="pp-street-name( pp-walked)?" style="([^"]*)">([^<]*)</span>', dom
    )
    assert len(spans) == len(labels)
    shown = [html.unescape(t) for w, style, t in spans if w and "visibility: visible" in style]
    assert len(shown) >= 5
    assert set(shown) <= {t for t, _m, w, _at in labels if w}
    saved = os.environ.get("PATROLPLAN_SCREENSHOT")
    if saved:
        shutil.copy(shot, saved)


def test_hundred_thousand_incidents_make_a_small_map(demo_plan, tmp_path):
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from patrolplan import graph, render

    # 100,000 incidents resampled from the real ones with 30 m of jitter
    rng = np.random.default_rng(0)
    base = demo_plan.gdf_incidents
    pick = rng.integers(0, len(base), 100_000)
    jitter = rng.normal(0, 0.0003, size=(100_000, 2))
    big = gpd.GeoDataFrame(
        {"layer": "crime"},
        geometry=gpd.points_from_xy(
            base.geometry.x.to_numpy()[pick] + jitter[:, 0],
            base.geometry.y.to_numpy()[pick] + jitter[:, 1],
        ),
        crs="EPSG:4326",
        index=pd.RangeIndex(100_000),
    )
    weights = pd.Series(demo_plan.weights.to_numpy()[pick], index=big.index)
    m = render.plan_map(
        gdf_edges=graph.edges_gdf(demo_plan.G),
        gdf_incidents=big,
        weights=weights,
        gdf_hotspots=demo_plan.gdf_hotspots,
        routes=demo_plan.routes,
        route_coords=demo_plan.route_coords,
        schedule=demo_plan.schedule,
    )
    page = render.to_html(m)
    assert len(page.encode()) < 5_000_000
    assert "Heat: crime (100,000 incidents)" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_route_sheets_print_one_a4_page_per_officer(demo_dir, demo_plan, tmp_path):
    from patrolplan import render

    pdf = render.sheets_to_pdf(demo_dir / "sheets.html", tmp_path / "sheets.pdf")
    data = pdf.read_bytes()
    # the overview of all officers, then a page per officer
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1 + len(demo_plan.routes)
    # A4 portrait in PostScript points
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45]\.?\d* 84[12]", data)


# --- hostile text: escaped for HTML, attributes and JavaScript, shown literally -------------

# Put first in <head> of a copy of the page: alert() records instead of showing, and once the
# page has loaded, every popup and tooltip is set as HTML into the document, as Leaflet does
# when one opens, so that markup that got through would run its handlers here.
GUARD = """<script>
window.__pp_xss = [];
window.alert = function (x) { window.__pp_xss.push(String(x)); };
window.addEventListener("load", function () {
  var texts = [], sink = document.createElement("div");
  document.body.appendChild(sink);
  function show(content, layer) {
    if (typeof content === "function") { content = content(layer); }
    if (typeof content === "string") {
      var d = document.createElement("div");
      d.innerHTML = content;
      sink.appendChild(d);
      texts.push(d.textContent);
    } else if (content && content.textContent !== undefined) {
      texts.push(content.textContent);
    }
  }
  if (window.L) {
    Object.keys(window).forEach(function (k) {
      var v = window[k];
      if (v instanceof L.Popup) { show(v.getContent()); }
      if (v instanceof L.Layer && v.getTooltip && v.getTooltip()) {
        var t = v.getTooltip();
        if (v.eachLayer) { v.eachLayer(function (l) { show(t._content, l); }); }
        else { show(t._content, v); }
      }
    });
  }
  setTimeout(function () {
    var pre = document.createElement("pre");
    pre.id = "pp-report";
    var controls = document.querySelector(".leaflet-control-layers");
    var legend = document.getElementById("pp-legend");
    texts.push(controls ? controls.textContent : "", legend ? legend.textContent : "");
    if (!window.L) { texts.push(document.body.textContent); }
    var names = Array.prototype.map.call(
      document.querySelectorAll(".pp-street-name"), function (e) { return e.textContent; });
    pre.textContent = JSON.stringify({xss: window.__pp_xss, texts: texts, names: names});
    document.body.appendChild(pre);
  }, 1000);
});
</script>"""


def _guarded_dom(page, tmp_path):
    """Load a copy of `page` with GUARD in headless Chromium; return (report, console lines)."""
    import html as html_lib
    import json

    guarded = tmp_path / f"guarded-{page.name}"
    text = page.read_text()
    guarded.write_text(text.replace("<head>", "<head>" + GUARD, 1))
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=8000",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--dump-dom",
        guarded.as_uri(),
    ]
    proc = subprocess.run(
        [CHROMIUM, *flags],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    found = re.search(r'<pre id="pp-report">(.*?)</pre>', proc.stdout, re.S)
    assert found, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return json.loads(html_lib.unescape(found.group(1))), console


@pytest.fixture(scope="module")
def hostile_pages(demo_plan, tmp_path_factory):
    """map.html and sheets.html of the demo plan with hostile categories and street names."""
    from patrolplan import graph, render

    from .test_export import hostile_plan

    plan = hostile_plan(demo_plan)
    out = tmp_path_factory.mktemp("hostile-pages")
    edges = graph.edges_gdf(plan.G)
    m = render.plan_map(
        gdf_edges=edges,
        gdf_incidents=plan.gdf_incidents,
        weights=plan.weights,
        gdf_hotspots=plan.gdf_hotspots,
        routes=plan.routes,
        route_coords=plan.route_coords,
        schedule=plan.schedule,
        title="Plan ${7*7} <b>x</b>",
    )
    (out / "map.html").write_text(render.to_html(m))
    sheets = render.route_sheets(
        plan.routes, plan.route_coords, plan.schedule, gdf_edges=edges, title="Plan <i>`x`</i>"
    )
    (out / "sheets.html").write_text(sheets)
    return out


def test_hostile_text_is_escaped_in_the_page_source(hostile_pages):
    from .test_export import HOSTILE_LAYER

    page = (hostile_pages / "map.html").read_text()
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    # no input text closes a script, starts a template substitution or a tag
    assert not any("${7*7}" in s or "${alert" in s for s in scripts)
    assert "<img src=x" not in page
    assert "<script>alert(" not in page
    assert HOSTILE_LAYER not in page
    sheets = (hostile_pages / "sheets.html").read_text()
    assert "<img src=x" not in sheets
    assert "<script" not in sheets


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
@pytest.mark.parametrize("name", ["map.html", "sheets.html"])
def test_hostile_text_runs_no_script_and_shows_literally(hostile_pages, tmp_path, name):
    from .test_export import HOSTILE_LAYER, PAYLOADS

    report, console = _guarded_dom(hostile_pages / name, tmp_path)
    assert report["xss"] == []
    assert not [c for c in console if "Uncaught" in c or "Error" in c], console
    shown = "\n".join(report["texts"])
    for text in PAYLOADS[:10]:
        assert text in shown, text
    if name == "map.html":
        # layer control, legend, popups and tooltips: every place input text reaches
        assert f"Heat: {HOSTILE_LAYER}" in shown
        assert "Plan ${7*7} <b>x</b>" in shown
        # street names on the map, as text (the first of names joined with ";")
        assert "<img src=x onerror=alert('img')>" in report["names"]
        assert set(report["names"]) <= {p.split(";")[0] for p in PAYLOADS}
    else:
        assert "Plan <i>`x`</i>" in shown


def _pdf_pages(path):
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


@pytest.mark.skipif(
    CHROMIUM is None or shutil.which("pdftotext") is None,
    reason="needs chromium and pdftotext (Debian: chromium, poppler-utils)",
)
def test_the_plan_map_prints_on_one_a4_landscape_page_without_its_controls(demo_dir, tmp_path):
    # printed as the sheets are, by headless Chromium
    pdf = render.sheets_to_pdf(demo_dir / "map.html", tmp_path / "map.pdf")
    assert _pdf_pages(pdf) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf.read_bytes())
    assert box
    width, height = float(box[1]), float(box[2])
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # the legend (with the data's attribution) prints; the layer list and zoom buttons do not
    assert "Patrol plan for June 19, 2016" in text
    assert "OpenStreetMap contributors" in text
    assert "tiles (online)" not in text
    assert "Streets (offline base map)" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_long_routes_print_one_page_per_officer(tmp_path):
    import patrolplan as pp
    from patrolplan import datasets, graph, render
    from patrolplan.options import PlanOptions

    # three officers on 8 h: 18-26 stops each; a sheet continues on a second page at most
    plan = pp.plan.daily_plan(
        datasets.baltimore_crimes(),
        datasets.baltimore_osm(),
        list(datasets.DEMO_POSTS),
        PlanOptions(
            officers=3, shift="8h", start="16:00", date="2016-06-19", seed=7, iterations=300
        ),
    )
    assert max(len(r.stops) for r in plan.routes) >= 18
    page = render.route_sheets(
        plan.routes, plan.route_coords, plan.schedule, gdf_edges=graph.edges_gdf(plan.G)
    )
    # every continuation page is announced: "Officer N · page 2/2"
    extra = [int(x) for x in re.findall(r"page (\d+)/\d+</h1>", page) if int(x) > 1]
    assert len(extra) <= 3
    (tmp_path / "sheets.html").write_text(page)
    pdf = render.sheets_to_pdf(tmp_path / "sheets.html", tmp_path / "s.pdf")
    # the overview of all officers, then each officer's sheet and its continuations
    assert _pdf_pages(pdf) == 1 + 3 + len(extra)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian: chromium)")
def test_a_timetable_too_long_for_a_page_continues_with_name_and_page_numbers(demo_plan, tmp_path):
    import pandas as pd

    from patrolplan import graph, render

    # officer 1 given every stop of the plan three times over: about 100 rows
    sched = demo_plan.schedule
    stops = sched[sched["task"] != "return"]
    rows = pd.concat([stops] * 3, ignore_index=True).assign(officer=1)
    rows = pd.concat([rows, sched[sched["task"] == "return"].head(1)], ignore_index=True)
    rows["stop"] = [str(i) for i in range(1, len(rows))] + ["return"]
    routes, coords = demo_plan.routes[:1], demo_plan.route_coords[:1]
    page = render.route_sheets(routes, coords, rows, gdf_edges=graph.edges_gdf(demo_plan.G))
    n = page.count('<section class="sheet">')
    assert n >= 2
    for k in range(1, n + 1):
        assert f"Officer 1 &middot; page {k}/{n}</h1>" in page
    assert f"Timetable continues on page 2/{n}." in page
    assert f"Timetable of officer 1, continued from page 1/{n}." in page
    # every row printed once, the table head repeated on each page
    assert page.count("<tr><td>") == len(rows)
    assert page.count("<thead>") == n
    (tmp_path / "sheets.html").write_text(page)
    # the estimate holds: each sheet is one printed page
    assert _pdf_pages(render.sheets_to_pdf(tmp_path / "sheets.html", tmp_path / "s.pdf")) == n


# ------------------------------------------------------------------ sheets read at a glance

DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


@pytest.fixture(scope="module")
def sheets_page(demo_plan):
    from patrolplan import graph

    return render.route_sheets(
        demo_plan.routes,
        demo_plan.route_coords,
        demo_plan.schedule,
        gdf_edges=graph.edges_gdf(demo_plan.G),
        gdf_hotspots=demo_plan.gdf_hotspots,
        shift_start=demo_plan.shift_start,
    )


def test_the_first_sheet_shows_every_officer(sheets_page, demo_plan):
    from patrolplan import graph

    first = sheets_page.split('<section class="sheet overview">')[1].split("</section>")[0]
    # it comes before every officer's own sheet
    assert sheets_page.index("sheet overview") < sheets_page.index('<section class="sheet">')
    svg = re.search(r"<svg .*?</svg>", first, re.S)[0]
    for r in demo_plan.routes:
        # each route drawn in its officer's colour, its stops as dots
        assert f'stroke="{render.officer_colour(r.officer)}" stroke-width="3.5"' in svg
        dots = svg.count(f'r="3.5" fill="{render.officer_colour(r.officer)}"')
        assert dots == len(r.numbers)
    # one post marker per post, naming its officers (officers 1 and 3 share the first post)
    posts = re.findall(r'font-weight="bold">(P [\d, ]+)</text>', svg)
    by_post: dict[tuple[float, float], list[str]] = {}
    for r in demo_plan.routes:
        by_post.setdefault(r.post, []).append(str(r.officer))
    assert sorted(posts) == sorted("P " + ", ".join(o) for o in by_post.values())
    rows = re.findall(r'<tr class="officer">(.*?)</tr>', first)
    assert len(rows) == len(demo_plan.routes)
    edges = graph.edges_gdf(demo_plan.G)
    street = render._localise({})
    for r, row in zip(demo_plan.routes, rows, strict=True):
        cells = [
            html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", row)
        ]
        mine = demo_plan.schedule[demo_plan.schedule["officer"] == r.officer]
        n_streets = sum(1 for s in r.stops if s.kind == "street" and s.order in r.numbers)
        assert cells[0] == str(r.officer)
        assert cells[1] == render.place_name(r.post_node, edges, street)
        assert cells[2] == f"{len(r.hotspot_ids)}" + (f" + {n_streets}" if n_streets else "")
        assert cells[3] == f"{r.length_m / 1000:.1f}"
        assert cells[4] == mine["arrive"].iloc[-1]
        assert cells[5] == f"{r.duration_min:.0f} of {r.shift_min:.0f} min"


def test_one_officer_has_no_overview_page(demo_plan):
    from patrolplan import graph

    page = render.route_sheets(
        demo_plan.routes[:1],
        demo_plan.route_coords[:1],
        demo_plan.schedule,
        gdf_edges=graph.edges_gdf(demo_plan.G),
    )
    assert "sheet overview" not in page


@pytest.mark.skipif(not DEJAVU_BOLD.is_file(), reason="needs fonts-dejavu-core")
@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_table_heads_fit_their_columns_unbroken(demo_plan, lang):
    from PIL import ImageFont

    from patrolplan import graph

    page = render.route_sheets(
        demo_plan.routes[:1],
        demo_plan.route_coords[:1],
        demo_plan.schedule,
        gdf_edges=graph.edges_gdf(demo_plan.G),
        lang=lang,
    )
    head = re.search(r"<colgroup>(.*?)</colgroup><thead><tr>(.*?)</tr>", page, re.S)
    assert head
    widths = [re.search(r"width:([\d.]+)mm", c) for c in re.findall(r"<col[^>]*>", head[1])]
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", head[2])]
    assert len(widths) == len(heads) == 7
    # 8 pt bold DejaVu Sans, as the sheet prints it, plus the cell's padding and borders
    font = ImageFont.truetype(str(DEJAVU_BOLD), 80)
    for text, width in zip(heads, widths, strict=True):
        if width is None:  # "Walk via" takes the rest of the page
            continue
        words_mm = max(font.getlength(w) for w in text.split()) / 10 / 72 * 25.4
        assert words_mm + 2.3 <= float(width[1]), (lang, text)
    # no rule that breaks a head inside a word
    assert re.search(r"th \{\{?[^}]*overflow-wrap: normal", page)


def test_posts_are_named_by_their_streets(sheets_page, demo_plan):
    metas = re.findall(r'<p class="meta">(.*?)</p>', sheets_page)
    posts = [m.split(" &middot; ")[0] for m in metas if m.startswith("Post")]
    assert len(posts) == len(demo_plan.routes)
    for text in map(html.unescape, posts):
        # a street name (or the named streets an unnamed way leads to) before the coordinates
        assert re.fullmatch(r"Post: (near )?[A-Z][\w .&]+ \(39\.\d{5}, -76\.\d{5}\)", text), text


def test_hotspots_say_why_and_off_hours_stops_are_marked(sheets_page, demo_plan):
    hot = demo_plan.gdf_hotspots.set_index("hotspot_id")
    whys = re.findall(r'<span class="why">(.*?)</span><br>', sheets_page)
    n_hot = sum(len(r.hotspot_ids) for r in demo_plan.routes)
    assert len(whys) == n_hot
    visited = [s.hotspot_id for r in demo_plan.routes for s in r.stops if s.kind == "hotspot"]
    first = hot.loc[visited[0]]
    assert html.escape(str(first["top_categories"]), quote=False) in sheets_page
    # active hours only where enough incidents have a time of day to state them
    stated = [h for h in visited if hot.loc[h, "active_hours"]]
    assert all(hot.loc[h, "n_incidents"] >= hotspots.ACTIVE_MIN_TIMED for h in stated)
    for h in stated:
        row = hot.loc[h]
        assert f"{row['top_categories']} · {row['active_hours']} h" in html.unescape(sheets_page)
    assert "Why here: main incident types (count)" in sheets_page
    # every stop marked off-hours really lies outside its hotspot's active hours, and back
    for r in demo_plan.routes:
        for s in r.stops:
            if s.kind != "hotspot":
                continue
            window = hot.loc[s.hotspot_id, "active_hours"]
            off = render.off_hours(s, window, demo_plan.shift_start)
            if not window:
                assert not off
                continue
            start = demo_plan.shift_start + pd.Timedelta(minutes=s.arrive_min)
            end = demo_plan.shift_start + pd.Timedelta(minutes=s.leave_min)
            a, b = (int(x) for x in window.split("-"))
            active = {(a + k) % 24 for k in range(((b - a) % 24) or 24)}
            hours = set(pd.date_range(start.floor("h"), end, freq="h").hour)
            assert off == (not hours & active), (s, window)
    # (each sheet's key line explains the mark once more)
    marked = sheets_page.count('<span class="why"><span class="off">')
    assert marked == sum(
        render.off_hours(s, hot.loc[s.hotspot_id, "active_hours"], demo_plan.shift_start)
        for r in demo_plan.routes
        for s in r.stops
        if s.kind == "hotspot"
    )


def test_sheet_maps_group_markers_show_arrows_and_street_names(sheets_page, demo_plan):
    # each officer's own map (the overview's first)
    svgs = re.findall(r"<svg .*?</svg>", sheets_page, re.S)[1:]
    assert len(svgs) == len(demo_plan.routes)
    for svg, r in zip(svgs, demo_plan.routes, strict=True):
        stops = re.findall(r'<g class="stop" transform="translate\(([-\d.]+),([-\d.]+)\)">'
                           r".*?<text[^>]*>(.*?)</text>", svg)  # fmt: skip
        numbers = [int(n) for _x, _y, label in stops for n in label.split(", ")]
        # every numbered stop once, no two markers on top of each other
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
        xy = [(float(x), float(y)) for x, y, _label in stops]
        for i, (x0, y0) in enumerate(xy):
            for x1, y1 in xy[i + 1 :]:
                assert abs(x0 - x1) >= 16 or abs(y0 - y1) >= 16
        assert svg.count('<path d="M-5,-4 L4,0 L-5,4 z"') >= 5
        names = re.findall(r'<g class="street-names"[^>]*>(.*?)</g>', svg)[0]
        labels = [html.unescape(t) for t in re.findall(r">([^<]+)</text>", names)]
        assert labels
        walked = {v for s in r.stops for v in s.via} | set(r.return_via)
        assert set(labels) <= walked
    # the demo has stops close enough to share a marker
    assert any(", " in label for svg in svgs for label in re.findall(r">(\d+(?:, \d+)+)<", svg))


def test_streets_walked_in_passing_get_no_stop_number(demo_plan):
    import dataclasses

    from patrolplan import export, graph

    # the first street task of the demo, made a few metres long
    r = next(r for r in demo_plan.routes if r.street_ids)
    s = next(s for s in r.stops if s.kind == "street")
    short = dataclasses.replace(s, leave_min=s.arrive_min + 0.05)
    later = [
        dataclasses.replace(t, arrive_min=t.arrive_min, leave_min=t.leave_min)
        for t in r.stops
        if t.order > s.order
    ]
    route = dataclasses.replace(
        r, stops=tuple([*(t for t in r.stops if t.order < s.order), short, *later])
    )
    route = dataclasses.replace(route, stops=tuple(sorted(route.stops, key=lambda t: t.order)))
    numbers = route.numbers
    assert s.order not in numbers
    assert sorted(numbers.values()) == list(range(1, len(route.stops)))
    sched = export.schedule_frame([route], shift_start=demo_plan.shift_start)
    page = render.route_sheets(
        [route],
        [demo_plan.route_coords[r.officer - 1]],
        sched,
        gdf_edges=graph.edges_gdf(demo_plan.G),
        shift_start=demo_plan.shift_start,
    )
    row = re.search(r'<tr class="passing"><td>·</td><td>walk (S\d+)</td>', page)
    assert row
    assert row[1] == s.hotspot_id
    svg = re.search(r"<svg .*?</svg>", page, re.S)[0]
    labels = re.findall(r'<g class="stop".*?<text[^>]*>(.*?)</text>', svg)
    assert sorted(int(n) for lab in labels for n in lab.split(", ")) == sorted(numbers.values())


def test_every_output_numbers_the_stops_as_the_sheet_does(demo_plan, tmp_path):
    import dataclasses

    from patrolplan import export
    from patrolplan import plan as pp_plan

    # officer r's first street task made a few metres long: walked in passing
    r = next(r for r in demo_plan.routes if r.street_ids)
    s = next(s for s in r.stops if s.kind == "street")
    short = dataclasses.replace(s, leave_min=s.arrive_min + 0.05)
    route = dataclasses.replace(r, stops=tuple(short if t is s else t for t in r.stops))
    routes = tuple(route if x is r else x for x in demo_plan.routes)
    sched = export.schedule_frame(routes, shift_start=demo_plan.shift_start, G=demo_plan.G)
    changed = dataclasses.replace(demo_plan, routes=routes, schedule=sched)
    out = tmp_path / "p"
    pp_plan.write_plan(changed, out)
    n = len(route.numbers)
    assert n == len(route.stops) - 1
    want = [str(k) for k in range(1, n + 1)]
    # the timetable: the passing street listed in its place with no number
    mine = pd.read_csv(out / "schedule.csv", dtype=str, keep_default_na=False)
    mine = mine[mine["officer"] == str(r.officer)]
    assert mine.loc[mine["order"] == str(s.order), "stop"].tolist() == [""]
    assert [x for x in mine["stop"] if x.isdigit()] == want
    # GPX waypoints and KML placemarks: numbered alike, the passing street without a number
    gpx = (out / f"officer_{r.officer}.gpx").read_text(encoding="utf-8")
    names = re.findall(r"<wpt [^>]*>.*?<name>(.*?)</name>", gpx)
    assert [x.split(".")[0] for x in names if re.match(r"\d+\. ", x)] == want
    assert any(s.hotspot_id in x for x in names if not re.match(r"\d+\. ", x))
    kml = (out / "routes.kml").read_text(encoding="utf-8")
    assert '<Data name="stop"><value></value></Data>' in kml
    # stops.geojson: the same number, null for the passing street
    stops = json.loads((out / "stops.geojson").read_text())["features"]
    got = [
        f["properties"]["stop"]
        for f in stops
        if f["properties"]["kind"] == "stop" and f["properties"]["officer"] == r.officer
    ]
    assert got.count(None) == 1
    assert [x for x in got if x is not None] == list(range(1, n + 1))
    # the map: officer r's markers carry exactly the numbers 1..n
    page = (out / "map.html").read_text(encoding="utf-8")
    tips = re.findall(rf"\b{r.officer}\.(\d+) \d\d:\d\d-\d\d:\d\d", page)
    assert sorted(set(int(t) for t in tips)) == list(range(1, n + 1))


def test_officers_sharing_a_post_get_one_post_marker(demo_plan):
    from patrolplan import graph

    m = render.plan_map(
        gdf_edges=graph.edges_gdf(demo_plan.G),
        gdf_incidents=demo_plan.gdf_incidents,
        weights=demo_plan.weights,
        gdf_hotspots=demo_plan.gdf_hotspots,
        routes=demo_plan.routes,
        route_coords=demo_plan.route_coords,
        schedule=demo_plan.schedule,
    )
    page = render.to_html(m, offline=False)
    # officers 1 and 3 share the first post
    assert "Post of officers 1, 3" in page
    assert "Post of officer 2" in page
    assert "Post of officer 1<" not in page
    assert "Post of officer 3" not in page


def test_maps_show_in_a_notebook_with_no_network(demo_plan):
    def make():
        return render.methods_map({"DBSCAN": demo_plan.gdf_hotspots}, value={"DBSCAN": "risk"})

    # (each a new map: folium adds to a map's page every time it is rendered)
    shown = make()._repr_html_()
    assert shown == render.notebook_html(make())
    page = html.unescape(re.fullmatch(r'.*<iframe srcdoc="([^"]*)".*', shown, re.S)[1])
    assert page == render.to_html(make())
    assert "Leaflet 1.9.4" in page
    assert not re.search(r'<script[^>]+src="https?://', page)
    assert not re.search(r'<link[^>]+href="https?://', page)
