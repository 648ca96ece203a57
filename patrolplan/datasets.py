"""Names and paths of the bundled Baltimore demo data.

The demo district is the Baltimore extract shipped in the repository's ``data/`` folder:
an OpenStreetMap walk extract (© OpenStreetMap contributors, ODbL 1.0) and the Baltimore
Police Department's Part 1 crime incidents of 1 to 18 June 2016 (Open Baltimore).
Set ``$PATROLPLAN_DATA`` to use a data folder elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Two posts inside the Baltimore extract: Fells Point (Broadway Square) and Patterson Park.
DEMO_POSTS: tuple[tuple[float, float], ...] = ((39.2826, -76.5932), (39.2905, -76.5790))
#: Plan date of the demo: the day after the last incident in the data.
DEMO_DATE = "2016-06-19"
#: Shift of the demo: four hours from 18:00.
DEMO_SHIFT_START = "18:00"
DEMO_SHIFT_HOURS = 4.0
DEMO_OFFICERS = 3
ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0); incidents: Baltimore Police Department"


def data_dir() -> Path:
    """Return the folder that holds the demo data.

    Returns
    -------
    pathlib.Path
        ``$PATROLPLAN_DATA`` if set, else the ``data/`` folder beside the package.
    """
    env = os.environ.get("PATROLPLAN_DATA")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def _path(name: str) -> Path:
    path = data_dir() / "baltimore" / name
    if not path.is_file():
        from patrolplan.i18n import _

        msg = _(
            "Demo file {path} not found: install patrolplan from a clone of its repository "
            "(`pip install -e .`) or set PATROLPLAN_DATA to a folder holding baltimore/."
        ).format(path=path)
        raise FileNotFoundError(msg)
    return path


def baltimore_osm() -> Path:
    """Return the path of the Baltimore OSM walk extract (OSM XML, bz2).

    Returns
    -------
    pathlib.Path
        ``data/baltimore/baltimore_walk.osm.bz2``.
    """
    return _path("baltimore_walk.osm.bz2")


def baltimore_pbf() -> Path:
    """Return the path of the original Baltimore OSM extract (PBF).

    Returns
    -------
    pathlib.Path
        ``data/baltimore/baltimore.osm.pbf``.
    """
    return _path("baltimore.osm.pbf")


def baltimore_crimes() -> Path:
    """Return the path of the Baltimore June 2016 crime incidents (CSV).

    Returns
    -------
    pathlib.Path
        ``data/baltimore/baltimore_crimes_2016-06.csv``.
    """
    return _path("baltimore_crimes_2016-06.csv")
