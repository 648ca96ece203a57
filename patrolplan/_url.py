"""PostgreSQL URLs: tell one from a file path, and hide its password in every message.

A base module with no dependencies, so that ingest, district files and plans can recognise a
database source without importing the database code (:mod:`patrolplan.db`).
"""

from __future__ import annotations

import re

#: URL schemes read as PostgreSQL.
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_url(source: object) -> bool:
    """Tell whether `source` is a PostgreSQL URL rather than a file path.

    Parameters
    ----------
    source
        A path or a URL.

    Returns
    -------
    bool
        True for ``postgresql://``, ``postgres://`` and ``postgresql+psycopg://`` URLs.

    Examples
    --------
    >>> is_url("postgresql://reader@db.local/city?table=crime.incidents")
    True
    >>> is_url("data/baltimore/baltimore_crimes_2016-06.csv")
    False
    """
    text = str(source)
    return any(text.lower().startswith(f"{s}://") for s in SCHEMES)


def redact(url: str) -> str:
    """Return `url` with its password (in the user part or a ``password=`` parameter) hidden.

    Parameters
    ----------
    url
        A database URL, or any text that may hold one.

    Returns
    -------
    str
        The same text with every password replaced by ``***``.

    Examples
    --------
    >>> redact("postgresql://planner:s3cret@db.local:5432/city?table=incidents")
    'postgresql://planner:***@db.local:5432/city?table=incidents'
    >>> redact("postgresql://db.local/city?password=s3cret&sslmode=require")
    'postgresql://db.local/city?password=***&sslmode=require'
    """
    text = str(url)
    # the user part of a URL: everything up to the last "@" before the host
    text = re.sub(
        r"(?P<head>[A-Za-z][\w+.-]*://)(?P<user>[^:/?#@\s]*):(?P<pw>[^\s/?#]*)@"
        r"(?P<host>[^@/?#\s]*(?=[/?#\s]|$))",
        lambda m: f"{m['head']}{m['user']}:***@{m['host']}",
        text,
    )
    # password=... as a URL parameter or a libpq keyword
    return re.sub(r"(?i)(\bpassword\s*=\s*)('[^']*'|[^&\s]*)", r"\1***", text)
