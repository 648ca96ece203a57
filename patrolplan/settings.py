"""Typed module-level defaults used when a function is called with ``None``.

Change them at run time, for example ``patrolplan.settings.walk_speed_kmh = 5.0``.

Attributes
----------
walk_speed_kmh : float
    Walking speed of an officer on foot. Default ``4.5``.
dwell_min : float
    Minutes spent at each hotspot. Hot-spot policing research (Koper 1995; Telep et al. 2014)
    puts the useful visit at about 10 to 15 minutes. Default ``12.0``.
max_snap_m : float
    How far a post or end point may lie from the nearest street node before it is refused.
    Default ``150.0``.
area_buffer_m : float
    Incidents farther than this outside the street graph's convex hull are rejected as
    "outside area". Default ``100.0``.
cache_dir : pathlib.Path
    Where parsed street graphs (Arrow tables; damaged files are rebuilt) and hotspot-method
    choices are cached. Default ``~/.cache/patrolplan``, or ``$PATROLPLAN_CACHE`` when that
    variable is set. When it names something that is not a folder (a file, a device), a
    warning says so and this run caches in a temporary folder removed at exit.
seed : int
    Seed for every random step when none is given. Default ``0``.
half_life_days : float
    Half-life of the recency decay of incident weights. Default ``30.0``.
hotspot_eps_m : float
    DBSCAN neighbourhood radius for hotspot clustering, in metres. Default ``120.0``.
hotspot_size_m : float
    Largest hotspot, metres across: an officer on a 10-15 minute dwell can watch a place about
    this big. Default ``150.0``.
hotspot_min_weight : float
    Least total incident weight within ``hotspot_eps_m`` of a DBSCAN core incident (rounded
    up). Default ``6.0``.
max_hotspots : int
    How many top-ranked hotspots are offered to the route solver. Default ``40``.
max_segments : int
    How many of the riskiest street segments (outside hotspots) are offered to the route solver
    as "walk this street" tasks. Default ``10``.
revisit_value : float
    When revisits are allowed (``revisit_min``), a second visit to a hotspot collects this
    share of the hotspot's risk, a third this share of the second's, and so on: a planning
    assumption (a repeat look deters less than the first, so fresh hotspots come first), not a
    measured effect. Default ``0.5``.
solver_iterations : int
    Iterations of the route metaheuristic (deterministic budget). Default ``3000``; with more
    than 100 tasks the default shrinks in proportion (at least 500).
log_level : int
    Level of the ``patrolplan`` logger when the CLI sets it up without ``-v`` or ``-q``.
    Default :data:`NOTICE` (25): the lines a user should read (each layer's rejected rows,
    the plan in one line, a slow first run) and warnings; ``-v`` adds every step (INFO),
    ``-vv`` the details (DEBUG).
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

walk_speed_kmh: float = 4.5
dwell_min: float = 12.0
max_snap_m: float = 150.0
area_buffer_m: float = 100.0


def _not_a_folder(path: Path) -> bool:
    """Whether `path`, or the nearest part of it that exists, is something other than a folder."""
    for p in (path, *path.parents):
        try:
            return not stat.S_ISDIR(os.stat(p).st_mode)
        except FileNotFoundError:
            continue
        except OSError:
            return True
    return False


def _cache_from_environment() -> Path:
    """``$PATROLPLAN_CACHE`` or the default; a temporary folder when the variable is unusable."""
    given = os.environ.get("PATROLPLAN_CACHE")
    if not given:
        return Path.home() / ".cache" / "patrolplan"
    path = Path(given)
    if not _not_a_folder(path):
        return path
    from patrolplan.i18n import _

    tmp = Path(tempfile.mkdtemp(prefix="patrolplan-cache-"))
    owner = os.getpid()

    # worker processes inherit the folder; only this process removes it
    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(remove)
    os.environ["PATROLPLAN_CACHE"] = str(tmp)
    logging.getLogger("patrolplan").warning(
        _(
            "PATROLPLAN_CACHE {path} is not a folder: this run caches nothing for later "
            "(it uses {tmp}, removed at exit)"
        ).format(path=path, tmp=tmp)
    )
    return tmp


cache_dir: Path = _cache_from_environment()
seed: int = 0
half_life_days: float = 30.0
hotspot_eps_m: float = 120.0
hotspot_min_weight: float = 6.0
hotspot_size_m: float = 150.0
max_hotspots: int = 40
max_segments: int = 10
revisit_value: float = 0.5
solver_iterations: int = 3000
#: Between INFO and WARNING: what the CLI shows by default besides warnings.
NOTICE: int = 25
log_level: int = NOTICE
