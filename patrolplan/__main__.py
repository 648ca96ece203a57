"""Run the command-line interface: ``python -m patrolplan``."""

from patrolplan.cli import app

app(prog_name="patrolplan")
