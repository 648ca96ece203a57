"""Run the command-line interface: ``python -m patrolplan``."""

from cli import app

app(prog_name="patrolplan")
