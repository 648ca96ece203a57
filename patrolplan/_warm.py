"""Load the compiled route search into this process once, for processes forked from it.

Imported by the batch's fork server (:data:`patrolplan.batch._PRELOAD`): the workers it forks
then start with the search in memory instead of each loading it from numba's on-disk cache
(a few tenths of a second) before its first plan. When that cache is empty nothing is
compiled here: the batch compiles the search in its build-first stage, and every worker loads
it from the cache on its first plan.
"""

from __future__ import annotations

from patrolplan import _top

if _top._cache_is_warm():
    _top._warm_up()
