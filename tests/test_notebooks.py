"""The analyst notebooks run top to bottom on the embedded data."""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
#: Maps each notebook shows inline.
MAPS = {"02_hotspots": 1, "03_plan_routes": 1}


def test_the_notebooks_are_stored_without_outputs():
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore_incidents.ipynb",
        "02_hotspots.ipynb",
        "03_plan_routes.ipynb",
        "04_posts_and_areas.ipynb",
    ]
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path, monkeypatch):
    import patrolplan

    monkeypatch.setenv("PATROLPLAN_CACHE", str(patrolplan.settings.cache_dir))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    # the last cell of each notebook produced something to look at (a table, figure or list)
    assert nb.cells[-1].outputs
    # maps show with no network: Leaflet inlined, no script or stylesheet from a CDN
    shown = [
        html.unescape(o["data"]["text/html"])
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/html" in o.get("data", {})
    ]
    maps = [s for s in shown if "<iframe srcdoc=" in s]
    assert len(maps) == MAPS.get(path.stem, 0)
    assert all("Leaflet 1.9.4" in s for s in maps)
    for s in shown:
        assert not re.search(r'<script[^>]+src="https?://', s)
        assert not re.search(r'<link[^>]+href="https?://', s)
        assert not re.search(r"https?://[^\s\"']*leaflet[^\s\"']*\.(js|css)", s)


def test_the_backtest_table_is_explained():
    nb = nbformat.read(NOTEBOOKS[1], as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "pp.backtest.summary" in c.source)
    text = nb.cells[at + 1].source
    assert nb.cells[at + 1].cell_type == "markdown"
    for word in ("`hit_rate`", "`pai`", "`pei_star`", "`random`", "`prior_counts`", "In-sample"):
        assert word in text
