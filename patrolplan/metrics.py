"""How much risk each route, and the whole plan, covers.

An incident counts as covered by a route when the route dwells at the incident's hotspot or
walks along the street segment the incident lies on. Plan totals count every incident once,
however many officers cover it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from patrolplan.routing import walked_segments

if TYPE_CHECKING:
    from collections.abc import Sequence

    import geopandas as gpd

    from patrolplan.routing import Route


def covered(
    route: Route,
    gdf_hotspots: gpd.GeoDataFrame,
    labels: pd.Series,
    snapped: pd.DataFrame,
) -> pd.Series:
    """Tell which incidents a route covers.

    Parameters
    ----------
    route
        A route from :func:`patrolplan.routing.solve`.
    gdf_hotspots
        The hotspots the route was planned on (``hotspot_id``, ``cluster``).
    labels
        Cluster label per incident, from :func:`patrolplan.hotspots.find_hotspots`.
    snapped
        Segment per incident, from :func:`patrolplan.graph.snap_to_edges`.

    Returns
    -------
    pandas.Series
        Boolean per incident, same index as `labels`.
    """
    visited = set(route.hotspot_ids)
    clusters = set(gdf_hotspots.loc[gdf_hotspots["hotspot_id"].isin(visited), "cluster"])
    at_hotspot = labels.isin(clusters) & (labels >= 0)
    segs = walked_segments([route])
    keys = pd.Series(list(zip(snapped["u"], snapped["v"], strict=True)), index=snapped.index)
    on_street = keys.map(lambda k: k in segs).astype(bool)
    return (at_hotspot | on_street.reindex(labels.index, fill_value=False)).rename("covered")


def summary(
    routes: Sequence[Route],
    gdf_hotspots: gpd.GeoDataFrame,
    labels: pd.Series,
    snapped: pd.DataFrame,
    weights: pd.Series,
) -> pd.DataFrame:
    """Summarise every route and the plan as a whole.

    Parameters
    ----------
    routes
        Routes of the plan.
    gdf_hotspots
        The hotspots offered to the solver.
    labels
        Cluster label per incident.
    snapped
        Segment per incident.
    weights
        Weight per incident.

    Returns
    -------
    pandas.DataFrame
        One row per officer and a last row ``officer = "all"``: ``km``, ``walk_min``,
        ``dwell_min``, ``total_min``, ``shift_min``, ``hotspots`` (distinct hotspots visited),
        ``revisits`` (further visits to a hotspot already visited in the plan, by the same or
        another officer), ``streets`` (risky streets walked as tasks), ``hotspot_risk_share``
        (share of the risk of all hotspots visited), ``risk_covered_share`` (share of all
        weighted incidents at visited hotspots or on walked streets), ``incidents_covered``.
    """
    total_w = float(weights.sum()) or 1.0
    total_hot = float(gdf_hotspots["risk"].sum()) or 1.0
    risk_of = dict(zip(gdf_hotspots["hotspot_id"], gdf_hotspots["risk"], strict=True))
    rows = []
    union = pd.Series(False, index=labels.index)
    for r in routes:
        cov = covered(r, gdf_hotspots, labels, snapped)
        union |= cov
        rows.append(
            {
                "officer": str(r.officer),
                "post": f"{r.post[0]:.5f},{r.post[1]:.5f}",
                "km": round(r.length_m / 1000.0, 3),
                "walk_min": round(r.walk_min, 1),
                "dwell_min": round(r.dwell_min, 1),
                "total_min": round(r.duration_min, 1),
                "shift_min": round(r.shift_min, 1),
                "hotspots": len(set(r.hotspot_ids)),
                "revisits": sum(s.visit > 1 for s in r.stops if s.kind == "hotspot"),
                "streets": len(r.street_ids),
                "hotspot_risk_share": round(
                    sum(risk_of[h] for h in set(r.hotspot_ids)) / total_hot, 4
                ),
                "risk_covered_share": round(float(weights[cov].sum()) / total_w, 4),
                "incidents_covered": int(cov.sum()),
            }
        )
    visited = {h for r in routes for h in r.hotspot_ids}
    rows.append(
        {
            "officer": "all",
            "post": "",
            "km": round(sum(r.length_m for r in routes) / 1000.0, 3),
            "walk_min": round(sum(r.walk_min for r in routes), 1),
            "dwell_min": round(sum(r.dwell_min for r in routes), 1),
            "total_min": round(sum(r.duration_min for r in routes), 1),
            "shift_min": round(sum(r.shift_min for r in routes), 1),
            "hotspots": len(visited),
            "revisits": sum(s.visit > 1 for r in routes for s in r.stops if s.kind == "hotspot"),
            "streets": len({s for r in routes for s in r.street_ids}),
            "hotspot_risk_share": round(sum(risk_of[h] for h in visited) / total_hot, 4),
            "risk_covered_share": round(float(weights[union].sum()) / total_w, 4),
            "incidents_covered": int(union.sum()),
        }
    )
    return pd.DataFrame(rows)
