"""The map as a string and as a person sees it in a browser with no network."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

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
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == len(demo_plan.routes)
    # A4 portrait in PostScript points
    assert re.search(rb"/MediaBox\s*\[\s*0 0 59[45]\.?\d* 84[12]", data)
