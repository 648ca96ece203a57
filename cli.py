"""Run patrolplan's command line from a clone: ``python cli.py plan ...``.

The command line lives in :mod:`patrolplan.cli` (installed as the ``patrolplan`` command and
``python -m patrolplan``); this file only calls it.
"""

from patrolplan.cli import app

if __name__ == "__main__":
    app()
