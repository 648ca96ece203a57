"""Errors raised by patrolplan for problems the user can fix."""

from __future__ import annotations


class PatrolPlanError(Exception):
    """Base class of every error patrolplan raises on purpose."""


class InputDataError(PatrolPlanError, ValueError):
    """Input data is missing, malformed or has no usable rows."""


class GraphBuildError(PatrolPlanError, ValueError):
    """The street graph cannot be read or built from the given extract."""


class InfeasibleRouteError(PatrolPlanError, ValueError):
    """No route can satisfy the request (post off the graph, shift too short...)."""
